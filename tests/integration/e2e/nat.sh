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
. "$here/../../lib/agent.sh"

t_need_agents python3

id=$$
nsA=natJa$id nsR=natJr$id nsB=natJb$id
t_tmpdir natJ
t_netns $nsA $nsR $nsB
# A (10.88.1.2) -- (10.88.1.1) R (10.88.2.1) -- B (10.88.2.2)
t_veth $nsA natJa$id 10.88.1.2/24 $nsR natJra$id 10.88.1.1/24
t_veth $nsB natJb$id 10.88.2.2/24 $nsR natJrb$id 10.88.2.1/24
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

t_keep_going=1

# mkside S LOCALNET PEERNET TUNNEL: a tunnel-mode rule, PSK, NAT-T on;
# mkside S "" PEER "": a transport-mode rule, this host <-> PEER.
mkside() {
	if [ -n "$4" ]; then
		t_psk_policy $1 subnet:$2/24 subnet:$3/24 tunnel=$4 \
		    psk=nat-test-psk
	else
		t_psk_policy $1 me host:$3 psk=nat-test-psk
	fi
	t_agent_conf $1 "ike = on" "natt_port = 4500" "natt_keepalive = 1"
}
# B sees A as the NAT's outside address.
mkside a 10.88.11.0 10.88.22.0 10.88.2.2
mkside b 10.88.22.0 10.88.11.0 10.88.2.1
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
t_payload 4194304

start_both() {
	t_agent_start a $nsA
	t_agent_start b $nsB
}
start_both

# 1. The first packet triggers the negotiation through the NAT.
ip netns exec $nsA ping -c 1 -W "${t_first_wait:-5}" -I 10.88.11.1 10.88.22.1 >/dev/null ||
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
[ $t_failed = 0 ] && pass "NAT-D: both sides see the NAT in front of A; one tunnel SA pair, SPIs crosswise"

# 2. Traffic, all of it ESP-in-UDP to 4500.
f0=$t_failed
t_traffic tunnel $nsA 10.88.11.1 $nsB 10.88.22.1
[ "$(cnt esp_a)" = 0 ] && [ "$(cnt esp_b)" = 0 ] ||
    fail "raw ESP crossed the NAT: $(cnt esp_a) out, $(cnt esp_b) in"
# (bytes, not packets: uesp sends ESP-in-UDP with UDP GSO.)
[ "$(cnt ike4500 bytes)" -gt 4194304 ] ||
    fail "too little UDP 4500 through the NAT: $(cnt ike4500 bytes) bytes"
[ "$(cnt ike500)" -ge 1 ] && [ "$(cnt ike500)" -le 6 ] ||
    fail "IKE did not float to 4500: $(cnt ike500) packets to 500"
"${A[@]}" --json show stats | jq -e '.ipsec.confidential_sent_bytes
    > 4000000 and .ipsec.confidential_received_bytes > 4000000' \
    >/dev/null || fail "a's byte counters did not grow"
[ $t_failed = $f0 ] && pass "IKE floats to 4500; ping and 2 x 4 MiB TCP intact, all ESP-in-UDP through the NAT"

# 3. Keepalives (1 s here): A sends them, B (not behind a NAT) does not.
f0=$t_failed
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
[ $t_failed = $f0 ] && pass "the side behind the NAT sends keepalives (0xff to 4500), the other does not"

# 4. Transport mode through the NAT (RFC 3947 5.2, RFC 3948 3.1.2): A's
# policy names B (10.88.2.2), B's names the NAT's address (10.88.2.1), A's
# Quick Mode IDs its own private address. NAT-OA goes both ways, B maps
# A's host ID to the address it sees, and the uesp driver recomputes the
# TCP/UDP checksums the NAT made stale (a TCP transfer checks them: a
# wrong checksum drops every segment).
f0=$t_failed
for s in a b; do
	t_agent_stop $s 2>/dev/null || die "stop $s"
done
mkside a "" 10.88.2.2 ""
mkside b "" 10.88.2.1 ""
start_both
ip netns exec $nsA ping -c 1 -W "${t_first_wait:-5}" 10.88.2.2 >/dev/null ||
    fail "transport: the first ping was lost: $(tail -5 "$tmp/a/oakley.log")"
for s in A B; do
	declare -n who=$s
	q=$("${who[@]}" --json show qmsas | jq -c '.qmsas')
	# One pair; a second one (both sides negotiating at once) was seen
	# once in CI in the guest: tolerated, with what led to it printed.
	case $(jq length <<<"$q") in
	1) ;;
	2)
		echo "note: transport: $s has 2 QM SAs: $q"
		grep -H "acquire\|QM " "$tmp/a/oakley.log" "$tmp/b/oakley.log"
		;;
	*)
		die "transport: $s has $(jq length <<<"$q") QM SAs: $q" ;;
	esac
	jq -e 'all(.[]; .tunnel == false)' <<<"$q" >/dev/null ||
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
t_tcp_xfer $nsA 10.88.1.2 $nsB 10.88.2.2 5003
t_tcp_xfer $nsB 10.88.2.2 $nsA 10.88.2.1 5004 10.88.1.2
[ "$(cnt esp_a)" = "$e0" ] || fail "transport: raw ESP crossed the NAT"
[ $t_failed = $f0 ] && pass "transport mode through the NAT: NAT-OA both ways, ping and 2 x 4 MiB TCP intact (checksums fixed)"

t_finish NAT
