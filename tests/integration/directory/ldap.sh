#!/usr/bin/env bash
# ldap.sh BINARY -- run the ldap/ client tests (tests/unit/test_ldap.c)
# against a real slapd with TLS and SASL/GSSAPI and a real MIT KDC, both
# started here on free loopback ports and stopped on exit. Skips (77) when
# slapd or the KDC are not installed.
set -euo pipefail
BIN=$1
. "$(cd "$(dirname "$0")" && pwd)/../../lib/directory.sh"
t_tmpdir dir-ldap
dir_start --tls

N=1234
{
	printf 'dn: cn=hosta,cn=Computers,@SUFFIX@\nobjectClass: device\nobjectClass: extensibleObject\ncn: hosta\nsAMAccountName: HOSTA$\ndNSHostName: hosta.example.test\n\n'
	printf 'dn: cn=Paged,@SUFFIX@\nobjectClass: container\ncn: Paged\n\n'
	for i in $(seq 1 $N); do
		printf 'dn: cn=c%d,cn=Paged,@SUFFIX@\nobjectClass: container\ncn: c%d\ndescription: entry %d\n\n' "$i" "$i" "$i"
	done
} >"$tmp/fixture.ldif"
"$t_lib/slapd.sh" load "$tmp/ldap" "$tmp/fixture.ldif"

export LDAP_URI LDAPS_URI LDAP_BASE LDAP_ADMIN_DN LDAP_ADMIN_PW LDAP_CA
export KRB5_CONFIG PAGED_COUNT=$N
export HOST_KEYTAB
export HOST_PRINCIPAL="host/hosta.example.test@$KRB5_REALM"
# No ticket cache anywhere: the bind must get its ticket from the keytab.
export KRB5CCNAME="FILE:$tmp/no-such-ccache"
unset KRB5_CLIENT_KTNAME
"$BIN"
[ ! -e "$tmp/no-such-ccache" ] || { echo "a ccache file was written" >&2; exit 1; }
