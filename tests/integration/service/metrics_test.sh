#!/usr/bin/env bash
# The metrics textfile (issue 15, item 3): ipsec-agentd with
# metrics_textfile and metrics_interval = 1, one of a pair of agents (uesp
# driver, IKE, PSK) carrying traffic. The file appears, mode 0644, parses
# with prometheus_client's OpenMetrics parser (tests/lib/
# openmetrics_check.py) with the peer labelled, has the same families as
# `ipseccmd show stats --format=openmetrics` (one formatter), is rewritten
# with newer counters after traffic, leaves no temporary file behind, and
# goes when the service stops. Needs root, netns, TUN, nft and Debian's
# python3-prometheus-client; skips (77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null ||
    skip "no python3-prometheus-client"
chk=$here/../../lib/openmetrics_check.py

t_tmpdir hmon-metrics
na=hmon-ma-$$ nb=hmon-mb-$$
t_netns $na $nb
t_veth $na hmon-mva-$$ 10.202.0.1/24 $nb hmon-mvb-$$ 10.202.0.2/24
mkdir -p "$tmp/prom"
for s in a b; do
	peer=10.202.0.2
	[ $s = a ] || peer=10.202.0.1
	mkdir -p "$tmp/$s"
	sed "s/@PEER@/$peer/" "$here/pair_store.xml" > "$tmp/$s/store.xml"
	cp "$here/pair_secrets.xml" "$tmp/$s/secrets.xml"
	chmod 600 "$tmp/$s/secrets.xml"
	extra=()
	[ $s = b ] || extra=("metrics_textfile = $tmp/prom/ipsec.prom"
	    "metrics_interval = 1")
	t_agent_conf $s "ike = on" "natt_port = off" "${extra[@]}"
done
A=("$cmd" -c "$tmp/a.conf")
prom=$tmp/prom/ipsec.prom
t_agent_start a $na
t_agent_start b $nb

# families NAME...: the metric family names of OpenMetrics text files
families() {
	/usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as p
for f in sys.argv[1:]:
    print(" ".join(sorted(m.name for m in p(open(f).read()))))' "$@"
}
# the value of sample NAME in an OpenMetrics file
sample() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }

for i in $(seq 1 300); do
	[ -s "$prom" ] && break
	sleep 0.1
done
[ -s "$prom" ] || fail "no metrics textfile"
[ "$(stat -c %a "$prom")" = 644 ] || fail "mode $(stat -c %a "$prom")"
echo '{}' > "$tmp/empty.json"
"$chk" "$prom" || fail "the textfile is not OpenMetrics"
pass "the textfile is written at start, mode 0644, parsed by prometheus_client"

ip netns exec $na ping -c 5 -i 0.2 -W 5 10.202.0.2 >/dev/null ||
    fail "no traffic: $(tail -5 "$tmp/a/oakley.log")"
want=$("${A[@]}" --json show stats | jq .ipsec.confidential_sent_bytes)
[ "$want" -gt 0 ] || fail "no confidential bytes sent"
"${A[@]}" --json show qmsas > "$tmp/qmsas.json"
for i in $(seq 1 300); do
	cp "$prom" "$tmp/snap.prom"
	got=$(sample ipsec_agent_ipsec_confidential_sent_bytes_total "$tmp/snap.prom")
	[ "${got:-0}" -ge "$want" ] && break
	sleep 0.1
done
[ "${got:-0}" -ge "$want" ] ||
    fail "the textfile was not rewritten: $got < $want (show stats)"
"$chk" "$tmp/snap.prom" "$tmp/empty.json" "$tmp/qmsas.json" ||
    fail "the rewritten textfile: not OpenMetrics, or no peer label"
"${A[@]}" show stats --format=openmetrics > "$tmp/cli.prom" || fail "cli"
[ "$(families "$tmp/snap.prom")" = "$(families "$tmp/cli.prom")" ] ||
    fail "families differ: file $(families "$tmp/snap.prom") cli $(families "$tmp/cli.prom")"
pass "rewritten after traffic (confidential bytes sent $got >= $want), the peer labelled, the same families as show stats --format=openmetrics"
[ "$(ls -A "$tmp/prom")" = ipsec.prom ] ||
    fail "leftovers in the textfile directory: $(ls -A "$tmp/prom")"
pass "no temporary file left in the collector's directory"
"${A[@]}" service stop >/dev/null || fail "stop"
[ ! -e "$prom" ] || fail "the textfile outlived the service"
pass "the textfile goes when the service stops"
t_finish "metrics textfile"
