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

. "$(cd "$(dirname "$0")" && pwd)/../../lib/agent.sh"

t_need_agents

id=$$
na=e2e-sa$id nb=e2e-sb$id
t_tmpdir e2e-soft
t_netns $na $nb
t_veth $na e2esa$id 10.79.0.1/24 $nb e2esb$id 10.79.0.2/24

t_psk_policy a me host:10.79.0.2 soft=yes psk=soft-sa-test
t_agent_conf a "natt_port = off" "soft_sa_lifetime = 3"
A=("$cmd" -c "$tmp/a.conf")
t_agent_start a $na

soft_count() {
	"${A[@]}" --json show stats | jq '.oakley.soft_associations'
}
# One echo request, waited for up to 8 s: the driver holds it while IKE
# waits for a peer that never answers, and once the soft association is
# in, that very packet goes out in clear (it is not dropped).
t0=$(date +%s%N)
ip netns exec $na ping -c 1 -W 8 10.79.0.2 >/dev/null ||
    fail "the held packet was not released in clear by the soft association: $(tail -3 "$tmp/a/oakley.log")"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -ge 2500 ] || fail "traffic passed after $ms ms, before the 3 s soft association"
[ "$(soft_count)" = 1 ] || fail "Soft Associations = $(soft_count), want 1"
jq -s -e '[.[] | select(.fields.Text // "" |
    test("^Soft association with 10.79.0.2: peer did not answer"))] |
    length == 1' "$tmp/a/audit.jsonl" >/dev/null || fail "no audit of the soft association"
ip netns exec $nb ping -c 2 -i 0.2 -W 1 10.79.0.1 >/dev/null ||
    fail "the peer's clear text is not let in during the soft association"
pass "peer silent: after $ms ms the held packet and the flow pass in clear both ways, counted (1) and audited"

# The soft association ends after soft_sa_lifetime (3 s): audited, and the
# peer's clear text is dropped again (counted by the driver).
for i in $(seq 1 400); do
	grep -q "Soft association with 10.79.0.2 ended (lifetime over)" \
	    "$tmp/a/oakley.log" && break
	sleep 0.02
done
grep -q "ended (lifetime over)" "$tmp/a/oakley.log" || fail "the soft association did not end"
jq -s -e '[.[] | select(.fields.Text // "" | test("ended \\(lifetime over\\)"))] |
    length == 1' "$tmp/a/audit.jsonl" >/dev/null || fail "its end is not audited"
ip netns exec $nb ping -c 1 -W 1 10.79.0.1 >/dev/null &&
    fail "clear text from the peer got in after the soft association ended"
pass "the soft association ends after its lifetime (audited); clear text is refused again"
t_agent_stop a || fail "stop"
t_finish "soft association"
