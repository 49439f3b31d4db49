#!/usr/bin/env bash
# Two ipsec-agentd (uesp driver, NAT-T on) through a REAL NAT: host A sits
# behind a router namespace doing nftables masquerade, host B is outside.
# A initiates a tunnel-mode SA pair (10.88.11.0/24 <-> 10.88.22.0/24, PSK)
# to B. Checked: NAT-D finds the NAT (A: "we are behind a NAT"), IKE
# floats to 4500, no raw ESP crosses the router (UDP-encapsulated only),
# ping and a 4 MiB TCP transfer each way arrive byte for byte, and A (and
# only A) sends NAT-T keepalives (counted by the router's nft counters,
# with natt_keepalive = 1 s so the test does not wait 20 s). Then the same
# in transport mode: NAT-OA both ways, checksums fixed after decapsulation.
# Needs root, netns, TUN, nft, jq, python3; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
agentd=$bin/ipsec-agentd
cmd=$bin/ipseccmd
xfer=$here/tcp_xfer.py

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in jq ip nft ping python3; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

id=$$
nsA=natJa$id nsR=natJr$id nsB=natJb$id
tmp=$(mktemp -d /tmp/natJ.XXXXXX)
ip netns add $nsA 2>/dev/null || skip "cannot create network namespaces"
cleanup() {
	local rc=$? s
	for s in a b; do
		[ -S "$tmp/$s/ctl.sock" ] && "$cmd" -c "$tmp/$s.conf" \
		    --timeout 5000 service stop >/dev/null 2>&1
	done
	for s in $nsA $nsR $nsB; do ip netns del $s 2>/dev/null; done
	if [ "${PA_TEST_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
ip netns add $nsR || exit 1
ip netns add $nsB || exit 1
# A (10.88.1.2) -- (10.88.1.1) R (10.88.2.1) -- B (10.88.2.2)
ip link add natJa$id type veth peer name natJra$id
ip link add natJb$id type veth peer name natJrb$id
ip link set natJa$id netns $nsA
ip link set natJra$id netns $nsR
ip link set natJrb$id netns $nsR
ip link set natJb$id netns $nsB
ip -n $nsA addr add 10.88.1.2/24 dev natJa$id
ip -n $nsR addr add 10.88.1.1/24 dev natJra$id
ip -n $nsR addr add 10.88.2.1/24 dev natJrb$id
ip -n $nsB addr add 10.88.2.2/24 dev natJb$id
for n in $nsA $nsR $nsB; do ip -n $n link set lo up; done
ip -n $nsA link set natJa$id up
ip -n $nsR link set natJra$id up
ip -n $nsR link set natJrb$id up
ip -n $nsB link set natJb$id up
ip -n $nsA route add default via 10.88.1.1
ip netns exec $nsR sysctl -qw net.ipv4.ip_forward=1
# The protected subnets, one address each, routed towards the peer.
ip -n $nsA addr add 10.88.11.1/32 dev lo
ip -n $nsB addr add 10.88.22.1/32 dev lo
ip -n $nsA route add 10.88.22.0/24 via 10.88.1.1 src 10.88.11.1
ip -n $nsB route add 10.88.11.0/24 via 10.88.2.1 src 10.88.22.1
# The NAT: masquerade what leaves towards B; count what crosses it.
ip netns exec $nsR nft -f - <<EON || skip "nft masquerade not available"
table ip natj {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "natJrb$id" masquerade
	}
	chain count {
		type filter hook forward priority filter; policy accept;
		iifname "natJra$id" udp dport 500 counter comment "ike500"
		iifname "natJra$id" udp dport 4500 counter comment "ike4500"
		iifname "natJra$id" meta l4proto esp counter comment "esp_a"
		iifname "natJrb$id" meta l4proto esp counter comment "esp_b"
		iifname "natJra$id" udp dport 4500 udp length 9 @th,64,8 0xff counter comment "ka_a"
		iifname "natJrb$id" udp sport 4500 udp length 9 @th,64,8 0xff counter comment "ka_b"
	}
}
EON
# cnt NAME [bytes]: packets (bytes) counted by the router's rule NAME.
cnt() {
	ip netns exec $nsR nft -j list chain ip natj count | jq --arg c "$1" \
	    --arg f "${2:-packets}" '[.nftables[] | select(.rule.comment == $c) |
	    .rule.expr[] | select(.counter) | .counter[$f]][0]'
}

n=0 fails=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }

# mkside S LOCALNET PEERNET TUNNEL: a tunnel-mode rule, PSK, NAT-T on;
# mkside S "" PEER "": a transport-mode rule, this host <-> PEER.
mkside() {
	local s=$1 lnet=$2 pnet=$3 tun=$4 src dst tattr
	if [ -n "$tun" ]; then
		src="<source kind=\"subnet\" address=\"$lnet\" prefix=\"24\"/>"
		dst="<destination kind=\"subnet\" address=\"$pnet\" prefix=\"24\"/>"
		tattr="tunnel=\"$tun\""
	else
		src='<source kind="me"/>'
		dst="<destination kind=\"host\" address=\"$pnet\"/>"
		tattr=""
	fi
	mkdir -p "$tmp/$s"
	cat > "$tmp/$s/store.xml" <<EOX
<?xml version="1.0" encoding="UTF-8"?>
<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1">
  <filterList id="{4a700000-0000-4000-8000-0000000000a1}" name="Subnets">
    <filter id="{4a700000-0000-4000-8000-0000000000a2}" mirrored="yes">
      $src
      $dst
    </filter>
  </filterList>
  <filterAction id="{4a700000-0000-4000-8000-0000000000a3}" name="Tunnel"
      action="negotiate" inpass="no" soft="no">
    <offer esp="AES128" espIntegrity="SHA1" lifeSeconds="3600"
        lifeKilobytes="100000"/>
  </filterAction>
  <policy id="{4a700000-0000-4000-8000-0000000000a4}" name="Across the NAT"
      assigned="yes">
    <isakmp id="{4a700000-0000-4000-8000-0000000000a5}">
      <method cipher="AES128" hash="SHA1" group="14"/>
    </isakmp>
    <rule id="{4a700000-0000-4000-8000-0000000000a6}" name="SiteToSite"
        filterList="{4a700000-0000-4000-8000-0000000000a1}"
        filterAction="{4a700000-0000-4000-8000-0000000000a3}"
        $tattr>
      <auth kind="psk" secret="natkey"/>
    </rule>
  </policy>
</ipsecStore>
EOX
	cat > "$tmp/$s/secrets.xml" <<EOX
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="natkey">$(printf %s "nat-test-psk" | od -An -tx1 | tr -d ' \n')</psk>
</ipsecSecrets>
EOX
	chmod 600 "$tmp/$s/secrets.xml"
	cat > "$tmp/$s.conf" <<EOC
store = $tmp/$s/store.xml
secrets = $tmp/$s/secrets.xml
driver = uesp
ike = on
natt_port = 4500
natt_keepalive = 1
audit_sink = none
audit_file = $tmp/$s/audit.jsonl
oakley_log = on
oakley_log_path = $tmp/$s/oakley.log
control_socket = $tmp/$s/ctl.sock
state_dir = $tmp/$s/state
EOC
}
# B sees A as the NAT's outside address.
mkside a 10.88.11.0 10.88.22.0 10.88.2.2
mkside b 10.88.22.0 10.88.11.0 10.88.2.1
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
head -c 4194304 /dev/urandom > "$tmp/payload"
want="$(stat -c %s "$tmp/payload") $(sha256sum "$tmp/payload" | cut -d' ' -f1)"

start_both() {
	ip netns exec $nsA "$agentd" -c "$tmp/a.conf" || die "a did not start"
	ip netns exec $nsB "$agentd" -c "$tmp/b.conf" || die "b did not start"
}
start_both

# 1. The first packet triggers the negotiation through the NAT.
ip netns exec $nsA ping -c 1 -W 5 -I 10.88.11.1 10.88.22.1 >/dev/null ||
    fail "the first ping was lost: $(tail -5 "$tmp/a/oakley.log")"
for s in A B; do
	declare -n who=$s
	q=$("${who[@]}" --json show qmsas | jq -c '.qmsas')
	[ "$(jq length <<<"$q")" = 1 ] || die "$s has $(jq length <<<"$q") QM SAs"
	jq -e '.[0].tunnel == true' <<<"$q" >/dev/null ||
	    fail "$s: not a tunnel SA: $q"
done
qa=$("${A[@]}" --json show qmsas | jq -c '.qmsas[0]')
qb=$("${B[@]}" --json show qmsas | jq -c '.qmsas[0]')
[ "$(jq .spi_in <<<"$qa")" = "$(jq .spi_out <<<"$qb")" ] &&
    [ "$(jq .spi_out <<<"$qa")" = "$(jq .spi_in <<<"$qb")" ] ||
    fail "SPIs are not crosswise: a $qa, b $qb"
grep -q "NAT-D: we are behind a NAT" "$tmp/a/oakley.log" ||
    fail "a did not detect the NAT in front of it"
grep -q "NAT-D: .*the peer is behind a NAT" "$tmp/b/oakley.log" ||
    fail "b did not detect the NAT in front of its peer: $(grep NAT-D "$tmp/b/oakley.log")"
[ $fails = 0 ] && pass "NAT-D: both sides see the NAT in front of A; one tunnel SA pair, SPIs crosswise"

# 2. Traffic, all of it ESP-in-UDP to 4500.
f0=$fails
ip netns exec $nsA ping -c 3 -i 0.2 -W 2 -I 10.88.11.1 10.88.22.1 \
    >/dev/null || fail "ping a -> b"
ip netns exec $nsB ping -c 3 -i 0.2 -W 2 -I 10.88.22.1 10.88.11.1 \
    >/dev/null || fail "ping b -> a"
# xferx FROMNS SRC TONS DST PORT [LISTEN]: 4 MiB over TCP, checked.
xferx() {
	local rf="$tmp/xfer.$5" i got
	rm -f "$rf.ready" "$rf.result"
	ip netns exec $3 python3 "$xfer" serve ${6:-$4} $5 "$rf.ready" \
	    "$rf.result" &
	local srv=$!
	for i in $(seq 1 250); do [ -f "$rf.ready" ] && break; sleep 0.02; done
	ip netns exec $1 python3 "$xfer" send $2 $4 $5 "$tmp/payload" ||
	    fail "TCP $2 -> $4: the sender failed"
	wait $srv || fail "TCP $2 -> $4: the receiver failed"
	got=$(cat "$rf.result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "TCP $2 -> $4: got '$got', want '$want'"
}
xferx $nsA 10.88.11.1 $nsB 10.88.22.1 5001
xferx $nsB 10.88.22.1 $nsA 10.88.11.1 5002
[ "$(cnt esp_a)" = 0 ] && [ "$(cnt esp_b)" = 0 ] ||
    fail "raw ESP crossed the NAT: $(cnt esp_a) out, $(cnt esp_b) in"
# (bytes, not packets: uesp sends ESP-in-UDP with UDP GSO.)
[ "$(cnt ike4500 bytes)" -gt 4194304 ] ||
    fail "too little UDP 4500 through the NAT: $(cnt ike4500 bytes) bytes"
[ "$(cnt ike500)" -ge 1 ] && [ "$(cnt ike500)" -le 6 ] ||
    fail "IKE did not float to 4500: $(cnt ike500) packets to 500"
"${A[@]}" --json show stats | jq -e '.ipsec["Confidential Bytes Sent"]
    > 4000000 and .ipsec["Confidential Bytes Received"] > 4000000' \
    >/dev/null || fail "a's byte counters did not grow"
[ $fails = $f0 ] && pass "IKE floats to 4500; ping and 2 x 4 MiB TCP intact, all ESP-in-UDP through the NAT"

# 3. Keepalives (1 s here): A sends them, B (not behind a NAT) does not.
f0=$fails
k0=$(cnt ka_a)
for i in $(seq 1 200); do
	[ "$(cnt ka_a)" -ge $((k0 + 2)) ] && break
	sleep 0.02
done
[ "$(cnt ka_a)" -ge $((k0 + 2)) ] ||
    fail "a sent no NAT-T keepalives through the NAT ($(cnt ka_a))"
[ "$(cnt ka_b)" = 0 ] || fail "b sent $(cnt ka_b) keepalives, it is not behind a NAT"
ip netns exec $nsA ping -c 1 -W 2 -I 10.88.11.1 10.88.22.1 >/dev/null ||
    fail "traffic after the keepalives"
[ $fails = $f0 ] && pass "the side behind the NAT sends keepalives (0xff to 4500), the other does not"

# 4. Transport mode through the NAT (RFC 3947 5.2, RFC 3948 3.1.2): A's
# policy names B (10.88.2.2), B's names the NAT's address (10.88.2.1), A's
# Quick Mode IDs its own private address. NAT-OA goes both ways, B maps
# A's host ID to the address it sees, and the uesp driver recomputes the
# TCP/UDP checksums the NAT made stale (a TCP transfer checks them: a
# wrong checksum drops every segment).
f0=$fails
for s in a b; do
	"$cmd" -c "$tmp/$s.conf" --timeout 5000 service stop >/dev/null 2>&1 ||
	    die "stop $s"
done
mkside a "" 10.88.2.2 ""
mkside b "" 10.88.2.1 ""
start_both
ip netns exec $nsA ping -c 1 -W 5 10.88.2.2 >/dev/null ||
    fail "transport: the first ping was lost: $(tail -5 "$tmp/a/oakley.log")"
for s in A B; do
	declare -n who=$s
	q=$("${who[@]}" --json show qmsas | jq -c '.qmsas')
	[ "$(jq length <<<"$q")" = 1 ] ||
	    die "transport: $s has $(jq length <<<"$q") QM SAs"
	jq -e '.[0].tunnel == false' <<<"$q" >/dev/null ||
	    fail "transport: $s: not a transport SA: $q"
done
grep -q "QM #1: NAT-OA 10.88.1.2, 10.88.2.2" "$tmp/b/oakley.log" ||
    fail "transport: b did not get A's NAT-OA: $(grep NAT-OA "$tmp/b/oakley.log")"
grep -q "QM #2: NAT-OA 10.88.2.1, 10.88.2.2" "$tmp/a/oakley.log" ||
    fail "transport: a did not get B's NAT-OA: $(grep NAT-OA "$tmp/a/oakley.log")"
e0=$(cnt esp_a)
ip netns exec $nsA ping -c 3 -i 0.2 -W 2 10.88.2.2 >/dev/null ||
    fail "transport: ping a -> b"
ip netns exec $nsB ping -c 3 -i 0.2 -W 2 10.88.2.1 >/dev/null ||
    fail "transport: ping b -> a"
xferx $nsA 10.88.1.2 $nsB 10.88.2.2 5003
xferx $nsB 10.88.2.2 $nsA 10.88.2.1 5004 10.88.1.2
[ "$(cnt esp_a)" = "$e0" ] || fail "transport: raw ESP crossed the NAT"
[ $fails = $f0 ] && pass "transport mode through the NAT: NAT-OA both ways, ping and 2 x 4 MiB TCP intact (checksums fixed)"

[ $fails = 0 ] || die "$fails check(s) failed (logs in $tmp)"
echo "all $n NAT tests passed"
