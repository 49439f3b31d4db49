#!/usr/bin/env bash
# Kerberos IKE authentication against an Active Directory KDC: a throwaway
# Samba AD domain (KDC service only) in a private network namespace, with
# machine accounts as a Windows join makes them (NAME$, SPN host/<fqdn>,
# AES only, random password, keytab exported from the directory). Then
# test_gss_kdc --ad runs inside the namespace: machine account to machine
# account, to the SPN, to a host-based name, a stale keytab after a
# password change, an unknown SPN, a principal the rule refuses.
#
# Usage: samba_ad.sh TEST_GSS_KDC_BINARY
# Exit 77 (skip) without root, network namespaces or Samba's AD DC
# (apt-get install samba samba-ad-dc python3-samba).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

BIN=${1:?usage: $0 TEST_GSS_KDC_BINARY}
REALM=AD.EXAMPLE.TEST
DNS=ad.example.test
TIMEOUT=${SAMBA_TIMEOUT:-60}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, samba)"
for b in samba samba-tool ip kinit; do
	command -v "$b" >/dev/null 2>&1 || skip "$b not installed"
done
/usr/bin/python3 -c 'import samba.samdb' 2>/dev/null || skip "python3-samba not installed"

T=$(mktemp -d /tmp/pa-krbad-XXXXXX)
NS="krbF$(basename "$T" | tr -dc 'a-zA-Z0-9' | tail -c 8)"
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
	if [ "${PA_TEST_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

AD="$T/ad"
SMB="$AD/etc/smb.conf"
mkdir -p "$AD/run" "$AD/log" "$T/keytabs"
t0=$(date +%s%N)
samba-tool domain provision --targetdir="$AD" --realm="$REALM" --domain=AD \
	--server-role=dc --dns-backend=NONE --adminpass="Pa-$(head -c 12 /dev/urandom | base64)" \
	--host-name=dc1 --host-ip=127.0.0.1 \
	--option="interfaces = lo" --option="bind interfaces only = yes" \
	--option="pid directory = $AD/run" --option="ncalrpc dir = $AD/run/ncalrpc" \
	--option="ntp signd socket directory = $AD/run/ntp_signd" \
	--option="winbindd socket directory = $AD/run/winbindd" \
	--option="log file = $AD/log/log.%m" >"$T/provision.log" 2>&1 \
	|| { tail -n 20 "$T/provision.log"; exit 1; }
# Only the KDC: nothing else of the DC is needed here.
sed -i 's/^\([[:space:]]*server services[[:space:]]*=\).*/\1 kdc/' "$SMB"

# Machine accounts as a modern Windows join leaves them.
/usr/bin/python3 - "$SMB" "$DNS" hosta hostb hostc >"$T/accounts.log" 2>&1 <<'PY' || { cat "$T/accounts.log"; exit 1; }
import secrets, sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

smb, dns, names = sys.argv[1], sys.argv[2], sys.argv[3:]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
for n in names:
    fqdn = "%s.%s" % (n, dns)
    db.newcomputer(n, service_principal_name_list=["host/" + fqdn,
                                                   "HOST/" + n.upper()])
    db.setpassword("(sAMAccountName=%s$)" % n, secrets.token_urlsafe(48))
    res = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                    expression="(sAMAccountName=%s$)" % n, attrs=["dn"])
    m = ldb.Message(res[0].dn)
    m["dNSHostName"] = ldb.MessageElement(fqdn, ldb.FLAG_MOD_REPLACE,
                                          "dNSHostName")
    # 0x18: AES128 + AES256, as Windows 7 and later joins set it.
    m["msDS-SupportedEncryptionTypes"] = ldb.MessageElement(
        "24", ldb.FLAG_MOD_REPLACE, "msDS-SupportedEncryptionTypes")
    db.modify(m)
    print("created %s$ (%s)" % (n, fqdn))
PY
for n in hosta hostb hostc; do
	kt="$T/keytabs/$n.keytab"
	samba-tool domain exportkeytab "$kt" --principal="$n\$@$REALM" -s "$SMB" \
		>>"$T/accounts.log" 2>&1
	samba-tool domain exportkeytab "$kt" --principal="host/$n.$DNS@$REALM" -s "$SMB" \
		>>"$T/accounts.log" 2>&1
	klist -k "$kt" | grep -q "host/$n.$DNS@$REALM" \
		|| { cat "$T/accounts.log"; klist -k -e "$kt"; echo "no SPN key in $kt"; exit 1; }
done
# hostc's machine password changes after its keytab was written.
samba-tool user setpassword 'hostc$' --newpassword="$(head -c 30 /dev/urandom | base64)" \
	-s "$SMB" >/dev/null
t1=$(date +%s%N)

cat > "$T/krb5.conf" <<EOF
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
export KRB5_CONFIG="$T/krb5.conf" KRB5CCNAME="MEMORY:samba-ad-probe"
deadline=$(( $(date +%s) + TIMEOUT ))
until ip netns exec "$NS" kinit -k -t "$T/keytabs/hosta.keytab" "hosta\$@$REALM" >/dev/null 2>&1; do
	kill -0 "$PID" 2>/dev/null || { tail -n 30 "$T/samba.log"; echo "samba exited"; exit 1; }
	[ "$(date +%s)" -lt "$deadline" ] || { tail -n 30 "$T/samba.log"; echo "KDC not up in ${TIMEOUT}s"; exit 1; }
	sleep 0.1
done
t2=$(date +%s%N)
echo "samba AD: provision + accounts $(( (t1 - t0) / 1000000 )) ms, KDC up $(( (t2 - t1) / 1000000 )) ms"

ip netns exec "$NS" env PA_AD_REALM="$REALM" PA_AD_DNS="$DNS" PA_AD_KEYTABS="$T/keytabs" \
	KRB5_CONFIG="$T/krb5.conf" "$BIN" --ad
