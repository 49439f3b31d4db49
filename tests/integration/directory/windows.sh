#!/usr/bin/env bash
# windows.sh BINARY -- the directory source on policies Windows wrote: the
# default domain IPsec objects of Samba's provision.ldif (samba-ad-provision),
# converted at run time (never copied into the tree), loaded into slapd, and
# "Secure Server (Require Security)" assigned through a GPO. The agent binds
# with GSSAPI through a real MIT KDC and must apply it. Skips (77) without
# slapd, the KDC or the package.
set -euo pipefail
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$(cd "$HERE/../../lib" && pwd)
PROV=/usr/share/samba/setup/provision.ldif
[ -r "$PROV" ] || { echo "SKIP: $PROV missing (apt-get install samba-ad-provision)"; exit 77; }
T=$(mktemp -d /tmp/dir-win.XXXXXX)
cleanup() {
	"$LIB/slapd.sh" stop "$T/ldap" || true
	"$LIB/kdc.sh" stop "$T/kdc" >/dev/null 2>&1 || true
	[ "${PA_TEST_KEEP:-0}" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT

# The IP Security objects of the provision data; AD-only attributes out.
awk 'BEGIN{RS=""; ORS="\n\n"} /^dn: CN=ipsec[^\n]*,CN=IP Security,CN=System,\$\{DOMAINDN\}/' "$PROV" |
	grep -v '^isCriticalSystemObject:' | sed 's/\${DOMAINDN}/@SUFFIX@/g' >"$T/windows.ldif"
[ "$(grep -c '^dn: ' "$T/windows.ldif")" -ge 20 ] || { echo "no IPsec objects in $PROV"; exit 1; }
G='{6AC1786C-016F-11D2-945F-00C04FB984F9}'
cat >"$T/gpo.ldif" <<LDIF
dn: cn=$G,cn=Policies,cn=System,@SUFFIX@
objectClass: top
objectClass: container
objectClass: groupPolicyContainer
cn: $G
displayName: Windows defaults GPO
flags: 0

dn: cn=Machine,cn=$G,cn=Policies,cn=System,@SUFFIX@
objectClass: container
cn: Machine

dn: cn=Microsoft,cn=Machine,cn=$G,cn=Policies,cn=System,@SUFFIX@
objectClass: container
cn: Microsoft

dn: cn=Windows,cn=Microsoft,cn=Machine,cn=$G,cn=Policies,cn=System,@SUFFIX@
objectClass: container
cn: Windows

dn: cn=IPSEC,cn=Windows,cn=Microsoft,cn=Machine,cn=$G,cn=Policies,cn=System,@SUFFIX@
objectClass: top
objectClass: ipsecPolicy
cn: IPSEC
ipsecName: Secure Server (Require Security)
ipsecOwnersReference: CN=ipsecPolicy{7238523C-70FA-11D1-864C-14A300000000},CN=IP Security,CN=System,@SUFFIX@

dn: @SUFFIX@
changetype: modify
replace: gPLink
gPLink: [LDAP://cn=$G,cn=Policies,cn=System,@SUFFIX@;0]
-
LDIF

set +e
"$LIB/kdc.sh" start "$T/kdc" host/hosta.example.test ldap/127.0.0.1 >"$T/kdc.env"
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: MIT KDC not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/kdc.env"
set +e
"$LIB/slapd.sh" start "$T/ldap" --sasl-host 127.0.0.1 \
	--keytab "$KRB5_KEYTAB_DIR/ldap_127.0.0.1.keytab" \
	--krb5-config "$KRB5_CONFIG" --ldif "$HERE/tree.ldif" \
	--ldif "$T/windows.ldif" --ldif "$T/gpo.ldif" >/dev/null
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: slapd not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/ldap/env"
mkdir -m 700 "$T/state"
LDAP_URI=$LDAP_URI STATE_DIR=$T/state KRB5_CONFIG=$KRB5_CONFIG \
	HOST_KEYTAB="$KRB5_KEYTAB_DIR/host_hosta.example.test.keytab" \
	KRB5CCNAME="FILE:$T/none" "$BIN"
