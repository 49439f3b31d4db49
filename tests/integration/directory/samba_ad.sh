#!/usr/bin/env bash
# samba_ad.sh BINARY -- the directory source against a real Active
# Directory: a throwaway Samba AD DC (LDAP + KDC) in a private network
# namespace, where Windows' built-in IPsec policies exist natively. A
# computer account hosta$ (SPN host/hosta.<dns>, AES, keytab exported from
# the directory) binds with GSSAPI; "Secure Server (Require Security)" is
# assigned through the Default Domain Policy (IPSEC object under its
# Machine part, as the MMC snap-in does); tests/unit/test_ldap_windows.c
# must fetch, decode and compile it. Then ipsec-agentd, given only the
# domain's DNS name (directory_domain), must find the DC through Samba's
# DNS (SRV _ldap._tcp.dc._msdcs.<dns>) and apply that policy; with no
# DNS answer the poll is unreachable and the policy stays.
# Skips (77) without root, network namespaces or Samba's AD DC.
set -euo pipefail
BIN=${1:?usage: $0 TEST_LDAP_WINDOWS}
DDP='{31B2F340-016D-11D2-945F-00C04FB984F9}'	# Default Domain Policy
. "$(cd "$(dirname "$0")" && pwd)/../../lib/samba.sh"

samba_need ldapsearch jq
agentd_dir=$(cd "$(dirname "$BIN")/../service" && pwd)
cmd=$agentd_dir/ipseccmd
[ -x "$cmd" ] && [ -x "$agentd_dir/ipsec-agentd" ] ||
    die "no ipseccmd/ipsec-agentd in $agentd_dir"
t_tmpdir dir-ad
mkdir -m 700 "$tmp/state"
t0=$(date +%s%N)
# LDAP, the KDC and DNS (for the discovery by SRV).
samba_provision AD.EXAMPLE.TEST ad.example.test "ldap kdc dns"
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
# The provision leaves dc1 without a DNS node (no address on loopback is
# registered): its A record, so that the SRV target dc1.<dns> resolves.
from samba.provision import sambadns
sambadns.add_host_record(db, "DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s"
                         % (db.domain_dns_name(), base), "DC=dc1",
                         "127.0.0.1", None)
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

# Discovery by DNS SRV. `ip netns exec` bind-mounts
# /etc/netns/NS/resolv.conf over /etc/resolv.conf: the resolver then asks
# Samba's DNS on 127.0.0.1, which holds _ldap._tcp.dc._msdcs.<dns> ->
# dc1.<dns>:389 and dc1's address (127.0.0.1) since the provision.
netns_etc=/etc/netns/$samba_ns
mkdir -p "$netns_etc" || die "mkdir $netns_etc"
t_at_exit rm -rf "$netns_etc"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' \
    >"$netns_etc/resolv.conf"
cat >"$tmp/agentd.conf" <<EOC
policy_source = directory
directory_domain = $samba_dns
directory_base = DC=ad,DC=example,DC=test
directory_computer = HOSTA\$
directory_bind = gssapi
directory_keytab = $tmp/keytabs/hosta.keytab
directory_principal = hosta\$@$samba_realm
directory_starttls = no
directory_cache = $tmp/state/srv.cache
directory_timeout = 5
directory_min_poll = 1
directory_backoff_unit = 1
store = $tmp/no-local-store.xml
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
EOC
C=(ip netns exec "$samba_ns" env KRB5_CONFIG="$tmp/krb5.conf"
    KRB5CCNAME="FILE:$tmp/none" "$cmd" -c "$tmp/agentd.conf")
stop_agent() {
	[ ! -S "$tmp/ctl.sock" ] || "${C[@]}" --timeout 5000 service stop
}
t_at_exit stop_agent
"${C[@]}" service start >"$tmp/agentd-start.log" 2>&1 ||
    { cat "$tmp/agentd-start.log"; die "ipsec-agentd did not start"; }
# Samba's DNS may answer a moment after its LDAP: poll again (reload)
# until the policy is applied, for at most SAMBA_TIMEOUT seconds.
deadline=$(($(date +%s) + ${SAMBA_TIMEOUT:-60}))
while :; do
	st=$("${C[@]}" --json service status)
	[ "$(jq -r .directory.last_poll <<<"$st")" != applied ] || break
	[ "$(date +%s)" -lt "$deadline" ] ||
	    die "no policy by DNS SRV: $st"
	"${C[@]}" reload >/dev/null || die "reload"
done
[ "$(jq -r .policy <<<"$st")" = "Secure Server (Require Security)" ] ||
    die "policy by DNS SRV: $st"
[ "$(jq -r .directory.uri <<<"$st")" = "ldap://dc1.$samba_dns:389" ] ||
    die "server by DNS SRV: $st"
echo "ok - ipsec-agentd found dc1.$samba_dns by DNS SRV and applied the policy"

# A resolver that gets no answer (nothing on 127.0.0.2:53; the file is
# rewritten in place, under the bind mount): the poll is unreachable, the
# policy stays, and 616 names the SRV name.
printf 'nameserver 127.0.0.2\noptions timeout:1 attempts:1\n' \
    >"$netns_etc/resolv.conf"
"${C[@]}" reload >/dev/null || die "reload"
deadline=$(($(date +%s) + 30))
while :; do
	st=$("${C[@]}" --json service status)
	[ "$(jq -r .directory.last_poll <<<"$st")" != unreachable ] || break
	[ "$(date +%s)" -lt "$deadline" ] || die "no unreachable poll: $st"
done
[ "$(jq -r .policy <<<"$st")" = "Secure Server (Require Security)" ] ||
    die "policy lost with DNS down: $st"
jq -s -e --arg n "DNS SRV _ldap._tcp.dc._msdcs.$samba_dns: " \
    'map(select(.id == 616 and (.fields.Reason | contains($n)))) |
    length >= 1' "$tmp/audit.jsonl" >/dev/null ||
    die "no 616 naming the SRV name: $(tail -n 3 "$tmp/audit.jsonl")"
echo "ok - DNS without an answer: unreachable, policy kept, 616 names" \
    "the SRV name"

# Change notification (issue 19) against Samba's AD DC: what its root DSE
# advertises, the mechanism the agent chose, and an assignment changed by
# the administrator over LDAP (no reload): applied through AD's
# LDAP_SERVER_NOTIFICATION_OID when Samba offers it, else at a poll.
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' \
    >"$netns_etc/resolv.conf"
ctl=$(ip netns exec "$samba_ns" ldapsearch -x -H ldap://127.0.0.1 -b "" \
    -s base -LLL supportedControl | sed -n 's/^supportedControl: //p')
grep -qx 1.2.840.113556.1.4.528 <<<"$ctl" && adn=yes || adn=no
echo "samba AD: root DSE lists LDAP_SERVER_NOTIFICATION_OID: $adn"
# DNS answers again: the watch (re)connects and a full poll follows it.
deadline=$(($(date +%s) + 60))
while :; do
	st=$("${C[@]}" --json service status)
	n=$(jq -r .directory.notify <<<"$st")
	case $n in
	ad-notify|syncrepl)
		[ "$(jq -r .directory.poll_cause <<<"$st")" = connect ] &&
		    [ "$(jq -r .directory.last_poll <<<"$st")" = unchanged ] &&
		    break ;;
	unsupported) break ;;
	esac
	[ "$(date +%s)" -lt "$deadline" ] || die "notification state: $st"
	sleep 0.1
done
echo "samba AD: the agent's change notification: $n"
if [ $adn = yes ]; then
	[ "$n" = ad-notify ] || die "Samba offers AD notification, agent: $st"
else
	[ "$n" = unsupported ] || die "Samba offers no notification, agent: $st"
fi
[ "$(jq .directory.next_poll_sec <<<"$st")" -ge 10800 ] ||
    die "the next scheduled poll is not hours away: $st"
samba_assign "Default Domain Policy" "Client (Respond Only)"
if [ "$n" = ad-notify ]; then
	deadline=$(($(date +%s) + 60))
	while :; do
		st=$("${C[@]}" --json service status)
		[ "$(jq -r .policy <<<"$st")" != "Client (Respond Only)" ] || break
		[ "$(date +%s)" -lt "$deadline" ] ||
		    die "the reassignment was not notified: $st"
		sleep 0.1
	done
	jq -s -e 'map(select(.id == 615 and (.fields.Detail |
	    startswith("directory policy Client")))) | length == 1' \
	    "$tmp/audit.jsonl" >/dev/null || die "615 of the reassignment"
	[ "$(jq -r .directory.poll_cause <<<"$st")" = notify ] ||
	    die "the reassignment was not applied by a notified poll: $st"
	echo "ok - Samba: a reassignment is applied through AD change notification, without a reload"
else
	# Polling only: the change waits for a poll (a reload here).
	sleep 3
	st=$("${C[@]}" --json service status)
	[ "$(jq -r .policy <<<"$st")" = "Secure Server (Require Security)" ] ||
	    die "applied without notification: $st"
	"${C[@]}" reload >/dev/null || die "reload"
	deadline=$(($(date +%s) + 60))
	while :; do
		st=$("${C[@]}" --json service status)
		[ "$(jq -r .policy <<<"$st")" != "Client (Respond Only)" ] || break
		[ "$(date +%s)" -lt "$deadline" ] || die "reload: $st"
		sleep 0.1
	done
	echo "ok - Samba offers no change notification: the agent polls (state unsupported), a reassignment applies at the next poll"
fi
