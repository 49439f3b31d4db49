#!/usr/bin/env bash
# tests/lib/openmetrics_check.py, the checker the metrics tests use, on
# tests/fixtures/openmetrics: the good sample passes, and each defect
# (no # EOF, a counter without _total, a wrong # UNIT, a name without the
# ipsec_agent_ prefix, a value that differs from `show stats --json`, a
# counter missing, a peer without its label) is refused. Skips (77)
# without Debian's python3-prometheus-client.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chk=$here/../../lib/openmetrics_check.py
fx=$here/../../fixtures/openmetrics
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null ||
    { echo "skip: no python3-prometheus-client"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
no() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $*"; }

"$chk" "$fx/good.om" "$fx/stats.json" "$fx/qmsas.json" &&
    ok "the good sample passes" || no "the good sample is refused"
# refused: name sed-expression [stats-json-edit]
refused() {
	local what=$1 ed=$2 jed=${3:-.}
	sed "$ed" "$fx/good.om" > "$tmp/m.om"
	jq "$jed" "$fx/stats.json" > "$tmp/s.json"
	if "$chk" "$tmp/m.om" "$tmp/s.json" "$fx/qmsas.json" 2>"$tmp/err"; then
		no "$what: accepted"
	else
		ok "$what: refused ($(head -1 "$tmp/err"))"
	fi
}
refused "no # EOF" '/^# EOF$/d'
refused "counter sample without _total" 's/main_modes_total 3/main_modes 3/'
refused "# UNIT not the name's suffix" 's/UNIT \(.*\) bytes/UNIT \1 seconds/'
refused "name without the prefix" 's/ipsec_agent_agent_driver_errors/agent_driver_errors/g'
refused "value differs from the JSON" '' '.oakley.main_modes = 4'
refused "JSON counter missing" '' '.agent.audit_records = 0'
refused "peer without its label" 's/peer="10.200.0.2"/peer="10.200.0.9"/'
refused "no # HELP" '/^# HELP ipsec_agent_oakley_main_modes /d'
echo "1..$n"
[ $bad = 0 ]
