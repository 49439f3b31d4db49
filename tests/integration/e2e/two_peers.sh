#!/usr/bin/env bash
# two_peers.sh [DRIVER] -- one filter, many peers: A's policy secures its
# whole subnet (one filter, as Windows' "All IP Traffic"), so the driver
# sees one PROTECT filter for every peer. A first sends to C, an address
# with nobody behind it (its negotiation never completes), and at once to
# B, a real peer: B's traffic must not wait behind C's negotiation. Found
# in mission_domain with directory change notification on: a member
# under Secure Server reaching for the DC (no IPsec) held its TCP to the
# other member for 20 s, the uesp driver raising one acquire per filter
# every 5 s and releasing a filter's held packets only when the first of
# them had its SAs. Checked: ping and a TCP transfer A -> B complete while
# C's negotiation is still under way (the ping's 4 s are inside the old
# 5 s acquire hold-off), B's held ping is answered, and the link carries
# no clear text between A and B. Needs root, netns, TUN; skips otherwise.
set -euo pipefail
DRIVER=${1:-uesp}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents tcpdump
t_tmpdir e2e-two-peers
id=$$
na=tpa$id nb=tpb$id
t_netns $na $nb
t_veth $na tpa$id 10.202.0.1/24 $nb tpb$id 10.202.0.2/24
t_psk_policy a me subnet:10.202.0.0/24
t_psk_policy b me host:10.202.0.1
for s in a b; do
	t_agent_conf $s "ike = on" "natt_port = off"
	sed -i "s/^driver = uesp$/driver = $DRIVER/" "$tmp/$s.conf"
done
t_agent_start a $na
t_agent_start b $nb
A=("$cmd" -c "$tmp/a.conf")

ip netns exec $na tcpdump -i tpa$id -nn -U -w "$tmp/cap.pcap" \
    >/dev/null 2>"$tmp/tcpdump.err" &
td=$!
t_at_exit kill $td
for _ in $(seq 1 100); do
	grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null && break
	sleep 0.05
done
# C: nobody there; its negotiation stays under way (MM #1 retransmitted).
ip netns exec $na ping -c 1 -W 1 10.202.0.9 >/dev/null 2>&1 &&
    fail "10.202.0.9 answered: nobody should be there"
"${A[@]}" --json show mmsas | jq -e '[.mmsas[] | select(.peer ==
    "10.202.0.9")] | length == 1' >/dev/null ||
    fail "no negotiation under way with 10.202.0.9: $("${A[@]}" --json show mmsas)"
ip netns exec $na ping -c 1 -W 4 10.202.0.2 >/dev/null ||
    fail "A -> B: no answer within 4 s while C's negotiation is under way"
"${A[@]}" --json show mmsas | jq -e '[.mmsas[] | select(.peer ==
    "10.202.0.9")] | length == 1' >/dev/null ||
    fail "C's negotiation ended before B's traffic went: the check proves nothing"
t_payload 2000000
t_tcp_xfer $na 10.202.0.1 $nb 10.202.0.2 5001
pass "A -> B (ping, 2 MB TCP) while A's negotiation with nobody at 10.202.0.9 is under way, both in one filter"
sleep 0.5
kill $td 2>/dev/null; wait $td 2>/dev/null || true
n=$(tcpdump -r "$tmp/cap.pcap" -nn 'host 10.202.0.2 and (tcp or icmp)' \
    2>/dev/null | wc -l)
[ "$n" = 0 ] || fail "$n packets in clear between A and B"
e=$(tcpdump -r "$tmp/cap.pcap" -nn 'esp and host 10.202.0.2' 2>/dev/null |
    wc -l)
[ "$e" -gt 1000 ] || fail "only $e ESP packets between A and B"
pass "the link between A and B carried ESP only ($e packets)"
t_finish "one filter, two peers"
