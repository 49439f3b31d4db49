#!/usr/bin/env bash
# Soft associations through the daemon: ipsec-agentd (uesp) with a rule
# "negotiate ESP with the peer, allow unsecured communication with
# non-IPsec-aware computers" (soft="yes"), the peer runs no agent. The
# first packets are held while IKE waits; after 3 s the flow passes in
# clear (driver permit filters), counted ("Soft Associations") and
# audited; after soft_sa_lifetime the permit filters go (audited), and
# clear text from the peer is dropped again until the next soft
# association. The packet held meanwhile is sent, not lost. Needs root,
# netns, TUN, nft; skips (77) otherwise.
set -uo pipefail

bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
agentd=$bin/ipsec-agentd
cmd=$bin/ipseccmd

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in jq ip nft ping; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

id=$$
na=e2e-sa$id nb=e2e-sb$id
tmp=$(mktemp -d /tmp/e2e-soft.XXXXXX)
ip netns add $na 2>/dev/null || skip "cannot create network namespaces"
cleanup() {
	local rc=$?
	[ -S "$tmp/ctl.sock" ] && "$cmd" -c "$tmp/a.conf" --timeout 5000 \
	    service stop >/dev/null 2>&1
	ip netns del $na 2>/dev/null
	ip netns del $nb 2>/dev/null
	if [ "${PA_TEST_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
ip netns add $nb
ip link add e2esa$id type veth peer name e2esb$id
ip link set e2esa$id netns $na
ip link set e2esb$id netns $nb
ip -n $na addr add 10.79.0.1/24 dev e2esa$id
ip -n $nb addr add 10.79.0.2/24 dev e2esb$id
for n in $na $nb; do ip -n $n link set lo up; done
ip -n $na link set e2esa$id up
ip -n $nb link set e2esb$id up

n=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$tmp/store.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1">
  <filterList id="{e2e50000-0000-4000-8000-0000000000c1}" name="Peer">
    <filter id="{e2e50000-0000-4000-8000-0000000000c2}" mirrored="yes">
      <source kind="me"/>
      <destination kind="host" address="10.79.0.2"/>
    </filter>
  </filterList>
  <filterAction id="{e2e50000-0000-4000-8000-0000000000c3}" name="Request"
      action="negotiate" inpass="no" soft="yes">
    <offer esp="AES128" espIntegrity="SHA1" lifeSeconds="3600"
        lifeKilobytes="100000"/>
  </filterAction>
  <policy id="{e2e50000-0000-4000-8000-0000000000c4}" name="Request Security"
      assigned="yes">
    <isakmp id="{e2e50000-0000-4000-8000-0000000000c5}">
      <method cipher="AES128" hash="SHA1" group="14"/>
    </isakmp>
    <rule id="{e2e50000-0000-4000-8000-0000000000c6}" name="Request"
        filterList="{e2e50000-0000-4000-8000-0000000000c1}"
        filterAction="{e2e50000-0000-4000-8000-0000000000c3}">
      <auth kind="psk" secret="k"/>
    </rule>
  </policy>
</ipsecStore>
EOX
cat > "$tmp/secrets.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="k">736f66742d73612d74657374</psk>
</ipsecSecrets>
EOX
chmod 600 "$tmp/secrets.xml"
cat > "$tmp/a.conf" <<EOC
store = $tmp/store.xml
secrets = $tmp/secrets.xml
driver = uesp
natt_port = off
soft_sa_lifetime = 3
audit_sink = none
audit_file = $tmp/audit.jsonl
oakley_log = on
oakley_log_path = $tmp/oakley.log
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
EOC
A=("$cmd" -c "$tmp/a.conf")
ip netns exec $na "$agentd" -c "$tmp/a.conf" || fail "start"

soft_count() {
	"${A[@]}" --json show stats | jq '.oakley["Soft Associations"]'
}
# One echo request, waited for up to 8 s: the driver holds it while IKE
# waits for a peer that never answers, and once the soft association is
# in, that very packet goes out in clear (it is not dropped).
t0=$(date +%s%N)
ip netns exec $na ping -c 1 -W 8 10.79.0.2 >/dev/null ||
    fail "the held packet was not released in clear by the soft association: $(tail -3 "$tmp/oakley.log")"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -ge 2500 ] || fail "traffic passed after $ms ms, before the 3 s soft association"
[ "$(soft_count)" = 1 ] || fail "Soft Associations = $(soft_count), want 1"
jq -s -e '[.[] | select(.fields.Text // "" |
    test("^Soft association with 10.79.0.2: peer did not answer"))] |
    length == 1' "$tmp/audit.jsonl" >/dev/null || fail "no audit of the soft association"
ip netns exec $nb ping -c 2 -i 0.2 -W 1 10.79.0.1 >/dev/null ||
    fail "the peer's clear text is not let in during the soft association"
pass "peer silent: after $ms ms the held packet and the flow pass in clear both ways, counted (1) and audited"

# The soft association ends after soft_sa_lifetime (3 s): audited, and the
# peer's clear text is dropped again (counted by the driver).
for i in $(seq 1 400); do
	grep -q "Soft association with 10.79.0.2 ended (lifetime over)" \
	    "$tmp/oakley.log" && break
	sleep 0.02
done
grep -q "ended (lifetime over)" "$tmp/oakley.log" || fail "the soft association did not end"
jq -s -e '[.[] | select(.fields.Text // "" | test("ended \\(lifetime over\\)"))] |
    length == 1' "$tmp/audit.jsonl" >/dev/null || fail "its end is not audited"
ip netns exec $nb ping -c 1 -W 1 10.79.0.1 >/dev/null &&
    fail "clear text from the peer got in after the soft association ended"
pass "the soft association ends after its lifetime (audited); clear text is refused again"
"${A[@]}" service stop >/dev/null || fail "stop"
echo "all $n soft association tests passed"
