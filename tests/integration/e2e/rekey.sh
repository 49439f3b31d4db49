#!/usr/bin/env bash
# Rekey through the daemons under a running transfer: two ipsec-agentd
# (uesp, PSK, transport ESP) whose Quick Mode SAs live only 20,000 KB, and
# a 64 MiB TCP transfer that has to cross several rekeys (soft expiry by
# bytes -> a new Quick Mode while traffic flows -> the old SAs expire).
# The bytes arrive intact, and neither driver dropped a packet for want of
# an SA (bad SPI), replay, ICV, or a full hold queue. Needs root, netns,
# TUN, nft, jq, python3; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
agentd=$bin/ipsec-agentd
cmd=$bin/ipseccmd

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in jq ip nft ping python3; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

id=$$
na=e2e-ra$id nb=e2e-rb$id
tmp=$(mktemp -d /tmp/e2e-rekey.XXXXXX)
ip netns add $na 2>/dev/null || skip "cannot create network namespaces"
cleanup() {
	local rc=$?
	for s in a b; do
		[ -S "$tmp/$s/ctl.sock" ] && "$cmd" -c "$tmp/$s.conf" \
		    --timeout 5000 service stop >/dev/null 2>&1
	done
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
ip link add e2era$id type veth peer name e2erb$id
ip link set e2era$id netns $na
ip link set e2erb$id netns $nb
ip -n $na addr add 10.80.0.1/24 dev e2era$id
ip -n $nb addr add 10.80.0.2/24 dev e2erb$id
for n in $na $nb; do ip -n $n link set lo up; done
ip -n $na link set e2era$id up
ip -n $nb link set e2erb$id up

n=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

mkside() {
	local s=$1 peer=$2
	mkdir -p "$tmp/$s"
	cat > "$tmp/$s/store.xml" <<EOX
<?xml version="1.0" encoding="UTF-8"?>
<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1">
  <filterList id="{e2e60000-0000-4000-8000-0000000000d1}" name="Peer">
    <filter id="{e2e60000-0000-4000-8000-0000000000d2}" mirrored="yes">
      <source kind="me"/>
      <destination kind="host" address="$peer"/>
    </filter>
  </filterList>
  <filterAction id="{e2e60000-0000-4000-8000-0000000000d3}" name="Short"
      action="negotiate" inpass="no" soft="no">
    <offer esp="AES128" espIntegrity="SHA1" lifeSeconds="3600"
        lifeKilobytes="20000"/>
  </filterAction>
  <policy id="{e2e60000-0000-4000-8000-0000000000d4}" name="Rekey"
      assigned="yes">
    <isakmp id="{e2e60000-0000-4000-8000-0000000000d5}">
      <method cipher="AES128" hash="SHA1" group="14"/>
    </isakmp>
    <rule id="{e2e60000-0000-4000-8000-0000000000d6}" name="Peer"
        filterList="{e2e60000-0000-4000-8000-0000000000d1}"
        filterAction="{e2e60000-0000-4000-8000-0000000000d3}">
      <auth kind="psk" secret="k"/>
    </rule>
  </policy>
</ipsecStore>
EOX
	cat > "$tmp/$s/secrets.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="k">72656b65792d74657374</psk>
</ipsecSecrets>
EOX
	chmod 600 "$tmp/$s/secrets.xml"
	cat > "$tmp/$s.conf" <<EOC
store = $tmp/$s/store.xml
secrets = $tmp/$s/secrets.xml
driver = uesp
audit_sink = none
audit_file = $tmp/$s/audit.jsonl
oakley_log = on
oakley_log_path = $tmp/$s/oakley.log
control_socket = $tmp/$s/ctl.sock
state_dir = $tmp/$s/state
EOC
}
mkside a 10.80.0.2
mkside b 10.80.0.1
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
ip netns exec $na "$agentd" -c "$tmp/a.conf" || fail "start a"
ip netns exec $nb "$agentd" -c "$tmp/b.conf" || fail "start b"
ip netns exec $na ping -c 1 -W 5 10.80.0.2 >/dev/null || fail "first ping"

head -c 67108864 /dev/urandom > "$tmp/payload"
want="$(stat -c %s "$tmp/payload") $(sha256sum "$tmp/payload" | cut -d' ' -f1)"
qm0=$("${A[@]}" --json show stats | jq '.oakley["Quick Modes"]')
ip netns exec $nb python3 "$here/tcp_xfer.py" serve 10.80.0.2 5003 \
    "$tmp/ready" "$tmp/result" &
srv=$!
for i in $(seq 1 250); do [ -f "$tmp/ready" ] && break; sleep 0.02; done
ip netns exec $na python3 "$here/tcp_xfer.py" send 10.80.0.1 10.80.0.2 5003 \
    "$tmp/payload" || fail "sender failed"
wait $srv || fail "receiver failed"
[ "$(cat "$tmp/result")" = "$want" ] ||
    fail "transfer corrupted: got '$(cat "$tmp/result")', want '$want'"
qm1=$("${A[@]}" --json show stats | jq '.oakley["Quick Modes"]')
[ $((qm1 - qm0)) -ge 2 ] ||
    fail "only $((qm1 - qm0)) rekeys during 64 MiB with 20,000 KB SAs"
for s in A B; do
	eval "c=(\"\${$s[@]}\")"
	st=$("${c[@]}" --json show stats | jq -c .ipsec)
	jq -e '.["Bad SPI Packets"] == 0 and .["Packets Not Decrypted"] == 0 and
	    .["Packets Not Authenticated"] == 0 and
	    .["Packets With Replay Detection"] == 0 and
	    .["Held Packets Dropped"] == 0' <<<"$st" >/dev/null ||
	    fail "side $s dropped packets across the rekeys: $st"
done
pass "64 MiB over TCP intact across $((qm1 - qm0)) rekeys, no packet dropped by either driver"
for s in a b; do "$cmd" -c "$tmp/$s.conf" service stop >/dev/null; done
echo "all $n rekey tests passed"
