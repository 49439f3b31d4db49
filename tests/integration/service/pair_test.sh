#!/usr/bin/env bash
# Two ipsec-agentd in two network namespaces (uesp driver, IKE with a
# preshared key): traffic triggers Main Mode and Quick Mode through the
# service (driver acquire -> IKE -> SAs in the driver), ping flows over
# ESP, `show mmsas/qmsas/stats` report it, a paused service keeps its SAs
# working, and stopping one side deletes the SAs on the other (delete
# notifications). Needs root, netns, TUN and nft; skips (77) otherwise.
# PAIR_NATT=<port> runs it with NAT-T on (default: natt_port = off).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents

t_tmpdir svc-pair
na=svc-a-$$ nb=svc-b-$$
t_netns $na $nb
t_veth $na svc-va-$$ 10.200.0.1/24 $nb svc-vb-$$ 10.200.0.2/24

# side peer: a policy "ESP to the peer, PSK", secrets, configuration.
mkside() {
	local s=$1 peer=$2
	mkdir -p "$tmp/$s"
	sed "s/@PEER@/$peer/" "$here/pair_store.xml" > "$tmp/$s/store.xml"
	cp "$here/pair_secrets.xml" "$tmp/$s/secrets.xml"
	chmod 600 "$tmp/$s/secrets.xml"
	t_agent_conf $s "ike = on" "natt_port = ${PAIR_NATT:-off}" \
	    ${mtf:+"metrics_textfile = $tmp/$s/metrics.prom"}
}
# The metrics textfile (node_exporter), where the daemon has the key.
mtf=
! grep -qa metrics_textfile "$agentd" || mtf=1
mkside a 10.200.0.2
mkside b 10.200.0.1
A=("$cmd" -c "$tmp/a.conf")
Bc=("$cmd" -c "$tmp/b.conf")

t_agent_start a $na
t_agent_start b $nb
[ "$("${A[@]}" --json service status | jq .filters)" -gt 0 ] || fail "no filters"

# The first packet starts the negotiation, is held by the driver and
# released once the SAs are in place on both sides: it must get through
# (its echo reply too, which meets b's SAs at their earliest).
ip netns exec $na ping -c 1 -W 5 10.200.0.2 >/dev/null ||
    fail "the first ping was lost: $(tail -5 "$tmp/a/oakley.log")"
q=$("${A[@]}" --json show qmsas | jq '.qmsas | length')
[ "$q" = 1 ] || fail "want exactly one Quick Mode SA on a, have $q"
q=$("${Bc[@]}" --json show qmsas | jq '.qmsas | length')
[ "$q" = 1 ] || fail "want exactly one Quick Mode SA on b, have $q"
pass "the first ping triggers the negotiation and is not lost; one SA pair"
# Per-SA counters from the driver: what 3 pings add on each side.
qa0=$("${A[@]}" --json show qmsas | jq -c '.qmsas[0]')
qb0=$("${Bc[@]}" --json show qmsas | jq -c '.qmsas[0]')
ip netns exec $na ping -c 3 -W 2 10.200.0.2 >/dev/null ||
    fail "no traffic over the SAs"
qa1=$("${A[@]}" --json show qmsas | jq -c '.qmsas[0]')
qb1=$("${Bc[@]}" --json show qmsas | jq -c '.qmsas[0]')
jq -n -e --argjson o "$qa0" --argjson n "$qa1" '
    $n.packets_out - $o.packets_out >= 3 and
    $n.packets_in - $o.packets_in >= 3 and
    $n.bytes_out - $o.bytes_out >= 3 * 64 and
    $n.bytes_in - $o.bytes_in >= 3 * 64 and
    $n.age_sec >= $o.age_sec and $n.age_sec <= $n.life_sec and
    $n.soft_sec == ($n.life_sec / 10 | floor) * 9 and
    $n.rekey_in_sec > 0 and $n.rekey_in_sec <= $n.soft_sec' >/dev/null ||
    fail "a's per-SA counters: before $qa0 after $qa1"
jq -n -e --argjson o "$qb0" --argjson n "$qb1" '
    $n.packets_in - $o.packets_in >= 3 and
    $n.packets_out - $o.packets_out >= 3 and
    $n.soft_sec == ($n.life_sec / 20 | floor) * 19 and
    $n.rekey_in_sec > 0 and $n.rekey_in_sec <= $n.soft_sec' >/dev/null ||
    fail "b's per-SA counters: before $qb0 after $qb1"
"${A[@]}" show qmsas | grep -Eq "^    in [1-9][0-9]* bytes [1-9][0-9]* packets  out [1-9][0-9]* bytes [1-9][0-9]* packets  age [0-9]+s  rekey in [1-9][0-9]*s$" ||
    fail "show qmsas text: $("${A[@]}" show qmsas)"
"${A[@]}" --json show mmsas | jq -e '.mmsas[0] | .age_sec >= 0 and
    .expires_in_sec > 0 and .expires_in_sec <= .life_sec' >/dev/null ||
    fail "mmsa age/expiry: $("${A[@]}" --json show mmsas | jq -c .)"
"${A[@]}" show mmsas | grep -Eq "^    age [0-9]+s  expires in [1-9][0-9]*s$" ||
    fail "show mmsas text: $("${A[@]}" show mmsas)"
pass "per-SA bytes/packets in and out grow with traffic (3 pings: 3 packets more each way, both sides); age, rekey in, MM expiry"
# OpenMetrics (tests/lib/openmetrics_check.py: the real parser, values
# equal to `show stats --json`, a peer label for the peer), where ipseccmd
# has --format=openmetrics; the textfile too where the daemon writes one.
om=$tmp/a/stats.om
rc=0
"${A[@]}" show stats --format=openmetrics > "$om" 2>"$tmp/a/om.err" || rc=$?
if [ $rc = 2 ]; then
	echo "# skip: no show stats --format=openmetrics in this build"
else
	[ $rc = 0 ] || fail "show stats --format=openmetrics: $rc $(cat "$tmp/a/om.err")"
	"${A[@]}" --json show stats > "$tmp/a/stats.json" || fail "stats json"
	"${A[@]}" --json show qmsas > "$tmp/a/qmsas.json" || fail "qmsas json"
	"$here/../../lib/openmetrics_check.py" "$om" "$tmp/a/stats.json" \
	    "$tmp/a/qmsas.json" || fail "show stats --format=openmetrics"
	pass "OpenMetrics: parsed by prometheus_client, values as in show stats --json, the peer labelled"
fi
if [ -z "$mtf" ]; then
	echo "# skip: no metrics_textfile key in this build"
else
	for i in $(seq 1 300); do
		[ -s "$tmp/a/metrics.prom" ] && break
		sleep 0.1
	done
	"$here/../../lib/openmetrics_check.py" "$tmp/a/metrics.prom" ||
	    fail "metrics textfile"
	pass "the metrics textfile is written and parses"
fi
# The JSON Schemas (packaging/schema) on SAs carrying traffic.
if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	for w in mmsas qmsas stats all; do
		"${A[@]}" --json show $w > "$tmp/a/schema-$w.json"
		"$here/../../lib/schema_check.py" "$here/../../../packaging/schema" \
		    $w "$tmp/a/schema-$w.json" || fail "show $w --json: schema"
	done
	pass "show mmsas|qmsas|stats|all --json with live SAs: valid against the schemas"
fi
"${A[@]}" --json show mmsas | jq -e '.mmsas[0].peer == "10.200.0.2" and
    .mmsas[0].auth == "psk"' >/dev/null || fail "show mmsas"
"${Bc[@]}" --json show qmsas | jq -e '.qmsas[0].esp_cipher == "AES128"' \
    >/dev/null || fail "show qmsas on b"
"${A[@]}" --json show stats | jq -e '.oakley.main_modes >= 1 and
    .oakley.quick_modes >= 1 and
    .ipsec.active_security_associations >= 2 and
    .ipsec.confidential_sent_bytes > 0' >/dev/null ||
    fail "stats: $("${A[@]}" --json show stats | jq -c .)"
[ "$("${A[@]}" --json service status | jq .qmsas)" -ge 1 ] || fail "status"
jq -s -e '[.[] | select(.id == 541)] | length >= 2' "$tmp/a/audit.jsonl" \
    >/dev/null || fail "no 541 events"
grep -q "QM SA established" "$tmp/a/oakley.log" || fail "oakley log"
pass "traffic negotiates Main Mode + Quick Mode; ping over ESP; shows, stats, 541"

# "My IP address" follows the host: a new address adds filters.
f0=$("${A[@]}" --json service status | jq .filters)
ip -n $na addr add 10.200.0.11/24 dev svc-va-$$
for i in $(seq 1 2000); do
	f=$("${A[@]}" --json service status | jq .filters)
	[ "$f" -gt "$f0" ] && break
done
[ "$f" -gt "$f0" ] || fail "filters not recompiled after an address change"
"${A[@]}" --json show filters | jq -e '[.filters[] |
    select(.src == "10.200.0.11/32" or .dst == "10.200.0.11/32")] |
    length > 0' >/dev/null || fail "no filter for the new address"
jq -s -e '[.[] | select(.id == 615 and (.fields.Detail |
    test("addresses changed")))] | length == 1' "$tmp/a/audit.jsonl" \
    >/dev/null || fail "no 615 for the address change"
ip -n $na addr del 10.200.0.11/24 dev svc-va-$$
for i in $(seq 1 2000); do
	f=$("${A[@]}" --json service status | jq .filters)
	[ "$f" = "$f0" ] && break
done
[ "$f" = "$f0" ] || fail "filters not removed after the address went"
ip netns exec $na ping -c 1 -W 2 10.200.0.2 >/dev/null ||
    fail "traffic broken by the recompile"
pass "address changes recompile 'my IP address' filters (615), SAs unharmed"

# Paused: established SAs keep working.
"${A[@]}" service pause >/dev/null || fail "pause"
ip netns exec $na ping -c 2 -W 2 10.200.0.2 >/dev/null ||
    fail "traffic stopped while paused"
"${A[@]}" service continue >/dev/null || fail "continue"
pass "paused: existing SAs keep working"

# Stopping b sends deletes: a's SAs go; b's driver is emptied.
"${Bc[@]}" service stop >/dev/null || fail "stop b"
for i in $(seq 1 300); do
	q=$("${A[@]}" --json show qmsas | jq '.qmsas | length')
	[ "$q" = 0 ] && break
done
[ "$q" = 0 ] || fail "a still has Quick Mode SAs after b stopped"
jq -s -e '[.[] | select(.id == 542 and (.fields.Filter |
    test("^Source IP Address .*IKE Peer Addr ")))] | length >= 1' \
    "$tmp/a/audit.jsonl" \
    >/dev/null || fail "no 542 on a"
tail -1 "$tmp/b/audit.jsonl" | jq -e '.id == 614' >/dev/null ||
    fail "b: no 614 last"
pass "stop: delete notifications remove the peer's SAs (542), 614"
"${A[@]}" service stop >/dev/null || fail "stop a"
t_finish "service pair"
