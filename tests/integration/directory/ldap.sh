#!/usr/bin/env bash
# ldap.sh BINARY -- run the ldap/ client tests (tests/unit/test_ldap.c)
# against a real slapd with TLS and SASL/GSSAPI and a real MIT KDC, both
# started here on free loopback ports and stopped on exit. Skips (77) when
# slapd or the KDC are not installed.
set -euo pipefail
BIN=$1
LIB=$(cd "$(dirname "$0")/../../lib" && pwd)
T=$(mktemp -d /tmp/dir-ldap.XXXXXX)
cleanup() {
	"$LIB/slapd.sh" stop "$T/ldap" || true
	"$LIB/kdc.sh" stop "$T/kdc" >/dev/null 2>&1 || true
	[ "${PA_TEST_KEEP:-0}" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT

set +e
"$LIB/kdc.sh" start "$T/kdc" host/hosta.example.test ldap/127.0.0.1 >"$T/kdc.env"
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: MIT KDC not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/kdc.env"
set +e
"$LIB/slapd.sh" start "$T/ldap" --tls --sasl-host 127.0.0.1 \
	--keytab "$KRB5_KEYTAB_DIR/ldap_127.0.0.1.keytab" \
	--krb5-config "$KRB5_CONFIG" >/dev/null
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: slapd not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/ldap/env"

N=1234
{
	printf 'dn: cn=hosta,cn=Computers,@SUFFIX@\nobjectClass: device\nobjectClass: extensibleObject\ncn: hosta\nsAMAccountName: HOSTA$\ndNSHostName: hosta.example.test\n\n'
	printf 'dn: cn=Paged,@SUFFIX@\nobjectClass: container\ncn: Paged\n\n'
	for i in $(seq 1 $N); do
		printf 'dn: cn=c%d,cn=Paged,@SUFFIX@\nobjectClass: container\ncn: c%d\ndescription: entry %d\n\n' "$i" "$i" "$i"
	done
} >"$T/fixture.ldif"
"$LIB/slapd.sh" load "$T/ldap" "$T/fixture.ldif"

export LDAP_URI LDAPS_URI LDAP_BASE LDAP_ADMIN_DN LDAP_ADMIN_PW LDAP_CA
export KRB5_CONFIG PAGED_COUNT=$N
export HOST_KEYTAB="$KRB5_KEYTAB_DIR/host_hosta.example.test.keytab"
export HOST_PRINCIPAL="host/hosta.example.test@$KRB5_REALM"
# No ticket cache anywhere: the bind must get its ticket from the keytab.
export KRB5CCNAME="FILE:$T/no-such-ccache"
unset KRB5_CLIENT_KTNAME
"$BIN"
[ ! -e "$T/no-such-ccache" ] || { echo "a ccache file was written" >&2; exit 1; }
