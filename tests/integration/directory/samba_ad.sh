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
export PATH="$PATH:/usr/sbin:/sbin"
BIN=${1:?usage: $0 TEST_LDAP_WINDOWS}
REALM=AD.EXAMPLE.TEST
DNS=ad.example.test
BASE="DC=ad,DC=example,DC=test"
DDP='{31B2F340-016D-11D2-945F-00C04FB984F9}'	# Default Domain Policy
TIMEOUT=${SAMBA_TIMEOUT:-60}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, samba)"
for b in samba samba-tool ip kinit ldapsearch; do
	command -v "$b" >/dev/null 2>&1 || skip "$b not installed"
done
/usr/bin/python3 -c 'import samba.samdb' 2>/dev/null || skip "python3-samba not installed"

T=$(mktemp -d /tmp/dir-ad.XXXXXX)
NS="dir$(basename "$T" | tr -dc 'a-zA-Z0-9' | tail -c 8)"
PID=""
cleanup() {
	local p
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
	fi
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns delete "$NS" 2>/dev/null || true
	fi
	[ "${PA_TEST_KEEP:-0}" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT

AD="$T/ad"
SMB="$AD/etc/smb.conf"
mkdir -p "$AD/run" "$AD/log" "$T/state"
chmod 700 "$T/state"
t0=$(date +%s%N)
samba-tool domain provision --targetdir="$AD" --realm="$REALM" --domain=AD \
	--server-role=dc --dns-backend=NONE \
	--adminpass="Pa-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')9x" \
	--host-name=dc1 --host-ip=127.0.0.1 \
	--option="interfaces = lo" --option="bind interfaces only = yes" \
	--option="pid directory = $AD/run" --option="ncalrpc dir = $AD/run/ncalrpc" \
	--option="ntp signd socket directory = $AD/run/ntp_signd" \
	--option="winbindd socket directory = $AD/run/winbindd" \
	--option="log file = $AD/log/log.%m" >"$T/provision.log" 2>&1 ||
	{ tail -n 20 "$T/provision.log"; exit 1; }
# LDAP and the KDC are all this test needs.
sed -i 's/^\([[:space:]]*server services[[:space:]]*=\).*/\1 ldap kdc/' "$SMB"

# Offline, as the system: the computer account, the DC's SPN for the
# address the client uses, read access for computers to the IPsec objects,
# and the assignment in the Default Domain Policy.
/usr/bin/python3 - "$SMB" "$DNS" "$DDP" >"$T/setup.log" 2>&1 <<'PY' || { cat "$T/setup.log"; exit 1; }
import secrets, sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

smb, dns, ddp = sys.argv[1:4]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
fqdn = "hosta." + dns
db.newcomputer("hosta", service_principal_name_list=["host/" + fqdn, "HOST/HOSTA"])
db.setpassword("(sAMAccountName=hosta$)", secrets.token_urlsafe(48))
res = db.search(base=base, scope=ldb.SCOPE_SUBTREE,
                expression="(sAMAccountName=hosta$)", attrs=["dn"])
m = ldb.Message(res[0].dn)
m["dNSHostName"] = ldb.MessageElement(fqdn, ldb.FLAG_MOD_REPLACE, "dNSHostName")
m["msDS-SupportedEncryptionTypes"] = ldb.MessageElement(
    "24", ldb.FLAG_MOD_REPLACE, "msDS-SupportedEncryptionTypes")
db.modify(m)
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
samba-tool domain exportkeytab "$T/hosta.keytab" --principal="hosta\$@$REALM" -s "$SMB" >>"$T/setup.log" 2>&1
samba-tool domain exportkeytab "$T/hosta.keytab" --principal="host/hosta.$DNS@$REALM" -s "$SMB" >>"$T/setup.log" 2>&1
t1=$(date +%s%N)

cat >"$T/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	qualify_shortname = ""
	kdc_timeout = 2s
[realms]
	$REALM = {
		kdc = 127.0.0.1:88
	}
[domain_realm]
	.$DNS = $REALM
	$DNS = $REALM
EOF

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" samba -F --no-process-group -s "$SMB" </dev/null >"$T/samba.log" 2>&1 &
PID=$!
export KRB5_CONFIG="$T/krb5.conf"
deadline=$(($(date +%s) + TIMEOUT))
until ip netns exec "$NS" ldapsearch -x -H ldap://127.0.0.1 -b "" -s base -LLL \
	defaultNamingContext >/dev/null 2>&1 &&
	ip netns exec "$NS" env KRB5CCNAME=MEMORY:probe kinit -k -t "$T/hosta.keytab" \
	"hosta\$@$REALM" >/dev/null 2>&1; do
	kill -0 "$PID" 2>/dev/null || { tail -n 30 "$T/samba.log"; echo "samba exited"; exit 1; }
	[ "$(date +%s)" -lt "$deadline" ] || { tail -n 30 "$T/samba.log"; echo "DC not up in ${TIMEOUT}s"; exit 1; }
	sleep 0.1
done
t2=$(date +%s%N)
echo "samba AD: provision + setup $(((t1 - t0) / 1000000)) ms, DC up $(((t2 - t1) / 1000000)) ms"

ip netns exec "$NS" env LDAP_URI=ldap://127.0.0.1 LDAP_BASE="$BASE" \
	STATE_DIR="$T/state" HOST_KEYTAB="$T/hosta.keytab" \
	HOST_PRINCIPAL="hosta\$@$REALM" KRB5_CONFIG="$T/krb5.conf" \
	KRB5CCNAME="FILE:$T/none" "$BIN"
