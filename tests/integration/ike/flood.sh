#!/usr/bin/env bash
# IKE under a spoofed flood, default configuration: ipsec-agentd (A,
# responder) and a legitimate initiator (B, ike_bench: fresh Main Mode +
# Quick Mode each time) share a switch with an attacker (X, ike_flood)
# that sends RATE pps (default 20,000) of MM #1 from random spoofed
# sources (198.18.0.0/15, routed back to X) and from B's own address,
# plus malformed ISAKMP. Checks: B completes 10 of 10 negotiations during
# the flood, each in under GIVEUP ms (a functional bound: a lost exchange
# is retried by ike_bench after 2 s; the speed target is reported by
# tests/bench/ike/flood_bench.sh); the agent's RSS stays bounded; every
# refused request is counted; the audit does not flood. Needs root, netns,
# TUN; skips (77) otherwise.
#
# usage: flood.sh BUILD_DIR [RATE] [SECONDS] [sanitizer]
# (sanitizer: an ASan build, whose RSS is ASan's quarantine: not checked)
set -uo pipefail

export PA_BINARY_DIR=${1:?usage: flood.sh BUILD_DIR [RATE] [SECONDS] [sanitizer]}
rate=${2:-20000}
secs=${3:-30}
sanitizer=${4:-}
giveup=${FLOOD_GIVEUP_MS:-4000}
. "$(cd "$(dirname "$0")" && pwd)/../../lib/agent.sh"

t_need_agents
bench=$PA_BINARY_DIR/tests/ike_bench
flood=$PA_BINARY_DIR/tests/ike_flood
[ -x "$bench" ] && [ -x "$flood" ] || skip "ike_bench/ike_flood not built"

id=$$
na=fl-a$id nb=fl-b$id nx=fl-x$id ns=fl-s$id
t_tmpdir ike-flood
t_netns $na $nb $nx $ns
ip -n $ns link add br0 type bridge && ip -n $ns link set br0 up ||
    die "bridge"
t_veth $na fla$id 10.81.0.1/24 $ns flsa$id 0.0.0.0/32
t_veth $nb flb$id 10.81.0.2/24 $ns flsb$id 0.0.0.0/32
t_veth $nx flx$id 10.81.0.9/24 $ns flsx$id 0.0.0.0/32
for i in flsa$id flsb$id flsx$id; do
	ip -n $ns addr flush dev $i
	ip -n $ns link set $i master br0 || die "bridge port $i"
done
# The spoofed sources are routed back to the attacker: A's answers to them
# cost A what they would on a real network, without ARP for each.
ip -n $na route add 198.18.0.0/15 via 10.81.0.9 || die "route"
ip netns exec $nx sysctl -qw net.ipv4.ip_forward=0

t_psk_policy a me host:10.81.0.2 psk=flood-test-key
t_agent_conf a "natt_port = off"
A=("$cmd" -c "$tmp/a.conf")
t_agent_start a $na
pid=$("${A[@]}" --json service status | jq .pid)
[ "$pid" -gt 0 ] 2>/dev/null || die "no agent pid"

negotiate() {	# COUNT -> one line of ike_bench --latency
	ip netns exec $nb "$bench" --local 10.81.0.2 --remote 10.81.0.1 \
	    --psk flood-test-key --ike aes128-sha1-modp2048 --esp aes128-sha1 \
	    --transport --latency --count "$1" --timeout-ms "$giveup"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

out=$(negotiate 3) || fail "no negotiation without a flood: $out"
pass "without a flood: $out"
rss0=$(rss_kb)
s0=$("${A[@]}" --json show stats)

ip netns exec $nx "$flood" --dst 10.81.0.1 --rate "$rate" \
    --seconds "$secs" --spoof 198.18.0.0/15 --claim 10.81.0.2 \
    --claim-pct 50 --malformed-pct 10 > "$tmp/flood.out" 2>&1 &
fpid=$!
t_at_exit kill $fpid
sleep 3		# the flood is on: the half-open table is full by now
out=$(negotiate 10)
brc=$?
rss1=$(rss_kb)
wait $fpid || fail "the flood generator failed: $(cat "$tmp/flood.out")"
s1=$("${A[@]}" --json show stats)
echo "# flood: $(cat "$tmp/flood.out")"
echo "# legitimate: $out"
echo "# agent RSS: ${rss0} kB before, ${rss1} kB during"
for k in dos_cookies_sent half_open_negotiations_refused \
    invalid_packets_received invalid_cookies_received \
    receive_failures datagrams_dropped_receive_buffer; do
	echo "# $k: $(jq -r --arg k "$k" '.oakley[$k] // "n/a"' <<<"$s0") -> $(jq -r --arg k "$k" '.oakley[$k] // "n/a"' <<<"$s1")"
done
[ $brc = 0 ] || fail "legitimate negotiations failed under $rate pps: $out"
pass "under $rate pps of spoofed MM #1 and malformed ISAKMP, B completed 10 of 10 Main + Quick Modes ($out)"

if [ -z "$sanitizer" ]; then
	[ $((rss1 - rss0)) -lt 65536 ] ||
	    fail "the agent's RSS grew by $(( (rss1 - rss0) / 1024 )) MiB under the flood"
	pass "the agent's RSS stayed bounded (${rss0} kB -> ${rss1} kB)"
fi

sent=$(jq '.oakley.dos_cookies_sent' <<<"$s1")
[ "${sent:-0}" -gt $(( rate / 20 )) ] || fail "the flood was not answered with cookies ($sent)"
bad=$(( $(jq '.oakley.invalid_packets_received' <<<"$s1") -
    $(jq '.oakley.invalid_packets_received' <<<"$s0") ))
[ $bad -gt 100 ] || fail "malformed packets not counted ($bad)"
pass "refused requests counted: $sent cookie answers, $bad invalid packets"

# Summaries at most every 10 s per kind (DoS mode, invalid input, ...).
n550=$(jq -s '[.[] | select(.id == 550)] | length' "$tmp/a/audit.jsonl")
nall=$(wc -l < "$tmp/a/audit.jsonl")
[ "$n550" -le $(( 3 * (secs / 10 + 2) )) ] && [ "$nall" -le 200 ] ||
    fail "the audit flooded: $n550 records of 550, $nall in all, in $secs s"
pass "the audit summarised the flood ($n550 records of 550, $nall in all)"
t_finish ike_flood
