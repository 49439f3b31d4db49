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
PROV=/usr/share/samba/setup/provision.ldif
. "$HERE/../../lib/directory.sh"
[ -r "$PROV" ] || skip "$PROV missing (apt-get install samba-ad-provision)"
t_tmpdir dir-win

# The IP Security objects of the provision data; AD-only attributes out.
awk 'BEGIN{RS=""; ORS="\n\n"} /^dn: CN=ipsec[^\n]*,CN=IP Security,CN=System,\$\{DOMAINDN\}/' "$PROV" |
	grep -v '^isCriticalSystemObject:' | sed 's/\${DOMAINDN}/@SUFFIX@/g' >"$tmp/windows.ldif"
[ "$(grep -c '^dn: ' "$tmp/windows.ldif")" -ge 20 ] || die "no IPsec objects in $PROV"
G='{6AC1786C-016F-11D2-945F-00C04FB984F9}'
cat >"$tmp/gpo.ldif" <<LDIF
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

dir_start --ldif "$HERE/tree.ldif" --ldif "$tmp/windows.ldif" \
    --ldif "$tmp/gpo.ldif"
mkdir -m 700 "$tmp/state"
LDAP_URI=$LDAP_URI STATE_DIR=$tmp/state KRB5_CONFIG=$KRB5_CONFIG \
    HOST_KEYTAB="$HOST_KEYTAB" KRB5CCNAME="FILE:$tmp/none" "$BIN"
