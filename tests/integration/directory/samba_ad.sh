#!/usr/bin/env bash
# samba_ad.sh BINARY -- the directory source against a real Active
# Directory: a throwaway Samba AD DC (LDAP + KDC) in a private network
# namespace, where Windows' built-in IPsec policies exist natively. A
# computer account hosta$ (SPN host/hosta.<dns>, AES, keytab exported from
# the directory) binds with GSSAPI; "Secure Server (Require Security)" is
# assigned through the Default Domain Policy (IPSEC object under its
# Machine part, as the MMC snap-in does); tests/unit/test_ldap_windows.c
# must fetch, decode and compile it.
# Skips (77) without root, network namespaces or Samba's AD DC.
set -euo pipefail
BIN=${1:?usage: $0 TEST_LDAP_WINDOWS}
DDP='{31B2F340-016D-11D2-945F-00C04FB984F9}'	# Default Domain Policy
. "$(cd "$(dirname "$0")" && pwd)/../../lib/samba.sh"

samba_need ldapsearch
t_tmpdir dir-ad
mkdir -m 700 "$tmp/state"
t0=$(date +%s%N)
# LDAP and the KDC are all this test needs.
samba_provision AD.EXAMPLE.TEST ad.example.test "ldap kdc"
samba_computers hosta
# Offline, as the system: the DC's SPN for the address the client uses,
# read access for computers to the IPsec objects, and the assignment in
# the Default Domain Policy.
/usr/bin/python3 - "$samba_smb" "$DDP" >"$tmp/setup.log" 2>&1 <<'PY' || samba_fail setup.log
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

smb, ddp = sys.argv[1:3]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
# ldap://127.0.0.1 asks for ldap/127.0.0.1 (no canonicalisation).
res = db.search(base=base, scope=ldb.SCOPE_SUBTREE,
                expression="(sAMAccountName=DC1$)", attrs=["dn"])
m = ldb.Message(res[0].dn)
m["servicePrincipalName"] = ldb.MessageElement(
    "ldap/127.0.0.1", ldb.FLAG_MOD_ADD, "servicePrincipalName")
db.modify(m)
# The AD schema gives the IPsec classes an empty default security
# descriptor: let Domain Computers read the container's objects.
ipsec = "CN=IP Security,CN=System," + base
sd = db.get_sd(ipsec) if hasattr(db, "get_sd") else None
res = db.search(base=ipsec, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"],
                controls=["sd_flags:1:4"])
from samba.ndr import ndr_unpack
from samba.dcerpc import security
desc = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0])
sddl = desc.as_sddl()
dc = security.dom_sid(str(db.get_domain_sid()) + "-515")	# Domain Computers
new = sddl + "(A;CI;RPLCLORC;;;%s)" % dc
m = ldb.Message(ldb.Dn(db, ipsec))
m["nTSecurityDescriptor"] = ldb.MessageElement(
    [security.descriptor.from_sddl(new, security.dom_sid(str(db.get_domain_sid()))).__ndr_pack__()],
    ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
db.modify(m, controls=["sd_flags:1:4"])
# The assignment: CN=IPSEC under the GPO's Machine part.
gpo = "CN=%s,CN=Policies,CN=System,%s" % (ddp, base)
parent = "CN=Machine," + gpo
for cn in ("Microsoft", "Windows"):
    parent = "CN=%s,%s" % (cn, parent)
    try:
        db.add({"dn": parent, "objectClass": "container"})
    except ldb.LdbError:
        pass
db.add({"dn": "CN=IPSEC," + parent, "objectClass": "ipsecPolicy",
        "ipsecName": "Secure Server (Require Security)",
        "ipsecOwnersReference": "CN=ipsecPolicy{7238523C-70FA-11D1-864C-14A300000000},CN=IP Security,CN=System," + base})
print("ok")
PY
t1=$(date +%s%N)

samba_krb5_conf
export KRB5_CONFIG="$tmp/krb5.conf"
dc_up() {
	ip netns exec "$samba_ns" ldapsearch -x -H ldap://127.0.0.1 -b "" \
	    -s base -LLL defaultNamingContext >/dev/null 2>&1 &&
	    ip netns exec "$samba_ns" env KRB5CCNAME=MEMORY:probe kinit -k \
	    -t "$tmp/keytabs/hosta.keytab" "hosta\$@$samba_realm" \
	    >/dev/null 2>&1
}
samba_start dir dc_up
t2=$(date +%s%N)
echo "samba AD: provision + setup $(((t1 - t0) / 1000000)) ms, DC up $(((t2 - t1) / 1000000)) ms"

ip netns exec "$samba_ns" env LDAP_URI=ldap://127.0.0.1 \
    LDAP_BASE="DC=ad,DC=example,DC=test" STATE_DIR="$tmp/state" \
    HOST_KEYTAB="$tmp/keytabs/hosta.keytab" \
    HOST_PRINCIPAL="hosta\$@$samba_realm" KRB5_CONFIG="$tmp/krb5.conf" \
    KRB5CCNAME="FILE:$tmp/none" "$BIN"
