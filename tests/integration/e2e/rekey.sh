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
. "$here/../../lib/agent.sh"

t_need_agents python3

id=$$
na=e2e-ra$id nb=e2e-rb$id
t_tmpdir e2e-rekey
t_netns $na $nb
t_veth $na e2era$id 10.80.0.1/24 $nb e2erb$id 10.80.0.2/24

mkside() {
	t_psk_policy $1 me host:$2 kb=20000 psk=rekey-test
	t_agent_conf $1
}
mkside a 10.80.0.2
mkside b 10.80.0.1
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
t_agent_start a $na
t_agent_start b $nb
ip netns exec $na ping -c 1 -W "${t_first_wait:-5}" 10.80.0.2 >/dev/null ||
    fail "first ping"

t_payload 67108864
qm0=$("${A[@]}" --json show stats | jq '.oakley.quick_modes')
t_tcp_xfer $na 10.80.0.1 $nb 10.80.0.2 5003
qm1=$("${A[@]}" --json show stats | jq '.oakley.quick_modes')
[ $((qm1 - qm0)) -ge 2 ] ||
    fail "only $((qm1 - qm0)) rekeys during 64 MiB with 20,000 KB SAs"
for s in A B; do
	declare -n c=$s
	st=$("${c[@]}" --json show stats | jq -c .ipsec)
	jq -e '.bad_spi_packets == 0 and .packets_not_decrypted == 0 and
	    .packets_not_authenticated == 0 and
	    .packets_with_replay_detection == 0 and
	    .held_packets_dropped == 0' <<<"$st" >/dev/null ||
	    fail "side $s dropped packets across the rekeys: $st"
done
pass "64 MiB over TCP intact across $((qm1 - qm0)) rekeys, no packet dropped by either driver"
for s in a b; do t_agent_stop $s || fail "stop $s"; done
t_finish rekey
