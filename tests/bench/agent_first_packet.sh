#!/usr/bin/env bash
# agent_first_packet.sh RUNS: two ipsec-agentd (uesp driver, PSK, one
# host-to-host rule, transport ESP AES128/SHA1, Main Mode group 14) in two
# namespaces, started afresh RUNS times (default 5). Each time: the RSS of
# both agents idle (the small policy loaded, no SA), the first ping (it
# starts IKE; the agent holds it during the negotiation) and its round
# trip as ping reports it, then the RSS with the one SA pair. Prints one
# "RESULT agent ..." line per run for tests/bench/run-all.sh.
# BENCH_PIN=1 pins agent A to CPU 0 and agent B to CPU 1.
# Needs root, netns, TUN, nft, jq; skips (77) otherwise.
set -uo pipefail
runs=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/agent.sh"
t_need_agents
id=$$
na=bench-fa$id nb=bench-fb$id
t_tmpdir bench-first
t_netns $na $nb
t_veth $na bfpa$id 10.79.0.1/24 $nb bfpb$id 10.79.0.2/24
t_agent_conf a
t_agent_conf b
# no per-negotiation log file: the daemon as an operator runs it
sed -i 's/^oakley_log = on/oakley_log = off/' "$tmp/a.conf" "$tmp/b.conf"
t_psk_policy a me host:10.79.0.2
t_psk_policy b me host:10.79.0.1

agent_pid() {	# the daemon of side S (its own config file names it)
	pgrep -f -- "-c $tmp/$1.conf" | head -1
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

for r in $(seq 1 "$runs"); do
	t_agent_start a $na
	t_agent_start b $nb
	pa=$(agent_pid a) pb=$(agent_pid b)
	[ -n "$pa" ] && [ -n "$pb" ] || die "no agent pid"
	if [ "${BENCH_PIN:-0}" = 1 ]; then
		taskset -a -p -c 0 "$pa" >/dev/null
		taskset -a -p -c 1 "$pb" >/dev/null
	fi
	sleep 0.5
	ia=$(rss "$pa") ib=$(rss "$pb")
	t0=$(date +%s%N)
	out=$(ip netns exec $na ping -c 1 -W 5 10.79.0.2 2>&1)
	t1=$(date +%s%N)
	rtt=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' <<<"$out")
	[ -n "$rtt" ] || rtt=lost
	# the second ping, over the SA now in place
	rtt2=$(ip netns exec $na ping -c 1 -W 2 10.79.0.2 2>&1 |
	    sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')
	sa=$(rss "$pa")
	echo "RESULT agent run=$r idle_rss_kb_a=$ia idle_rss_kb_b=$ib" \
	    "first_ping_ms=$rtt first_ping_wall_ms=$(( (t1 - t0) / 1000000 ))" \
	    "second_ping_ms=${rtt2:-lost} rss_kb_one_sa=$sa"
	t_agent_stop a
	t_agent_stop b
	for _ in $(seq 1 100); do
		[ -z "$(agent_pid a)$(agent_pid b)" ] && break
		sleep 0.05
	done
	# a fresh start each time: no tables left by the stopped agents
	ip netns exec $na nft flush ruleset
	ip netns exec $nb nft flush ruleset
done
