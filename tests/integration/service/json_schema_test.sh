#!/usr/bin/env bash
# One JSON style (issue 15, item 8): every --json output of ipseccmd and
# the control socket's replies, taken from the real daemon (null driver),
# validated against the shipped JSON Schemas (packaging/schema, draft
# 2020-12) by a real validator (python3-jsonschema, tests/lib/
# schema_check.py), which also requires "version": 1 at the top and only
# snake_case keys. The validator must refuse the old forms (display names
# as stats keys, camelCase policy keys, no version). Needs root (socket
# ownership); skips (77) without python3-jsonschema.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${PA_SOURCE_DIR:?PA_SOURCE_DIR unset}
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
cmd=$bin/ipseccmd
schemas=$src/packaging/schema
chk=$here/../../lib/schema_check.py

. "$here/../../lib/check.sh"
t_need_root "socket ownership"
t_need_tools jq
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
    skip "no python3-jsonschema"
[ -x "$bin/ipsec-agentd" ] && [ -x "$cmd" ] || skip "binaries not built"

t_tmpdir hmon-schema
cp "$here/store.xml" "$tmp/store.xml"
cat > "$tmp/agentd.conf" <<EOC
policy_source = local
store = $tmp/store.xml
secrets = $tmp/secrets.xml
driver = null
ike = off
audit_sink = none
audit_file = $tmp/log/audit.jsonl
oakley_log_path = $tmp/log/oakley.log
control_socket = $tmp/run/ctl.sock
admin_group = root
control_mode = 0660
state_dir = $tmp/state
stop_timeout = 10
EOC
C=("$cmd" -c "$tmp/agentd.conf")
stop_all() {
	[ ! -S "$tmp/run/ctl.sock" ] || "${C[@]}" --timeout 5000 service stop
}
t_at_exit stop_all
t_fail_log=$tmp/log/oakley.log
"${C[@]}" service start >/dev/null || fail "service start"

# valid NAME FILE...: the schema NAME accepts each file.
valid() {
	local name=$1
	shift
	"$chk" "$schemas" "$name" "$@" 2>"$tmp/err" ||
	    fail "$name: $(head -5 "$tmp/err")"
}
# refused NAME FILE WHAT: the schema NAME refuses the file.
refused() {
	if "$chk" "$schemas" "$1" "$2" 2>"$tmp/err"; then
		fail "$1 accepted $3"
	fi
	echo "# refused $3: $(head -1 "$tmp/err" | cut -c1-200)"
}
out() { "${C[@]}" --json "$@" > "$tmp/o.json"; cp "$tmp/o.json" "$tmp/$1-$2.json"; }

out service status
valid status "$tmp/service-status.json"
for w in policy filters mmsas qmsas stats all pki; do
	out show $w || fail "show $w"
	valid $w "$tmp/show-$w.json"
done
"${C[@]}" dynamic add rule dyn1 src=any dst=10.99.0.0/16 action=block \
    proto=tcp dport=25 --json > "$tmp/dyn-add.json" || fail "dynamic add"
out dynamic show || fail "dynamic show"
valid dynamic "$tmp/dynamic-show.json"
jq -e '.rules | length == 1' "$tmp/dynamic-show.json" >/dev/null ||
    fail "dynamic show: $(cat "$tmp/dynamic-show.json")"
"${C[@]}" --json show policy > "$tmp/show-policy2.json"
"${C[@]}" --json show filters > "$tmp/show-filters2.json"
valid policy "$tmp/show-policy2.json"
# The whole policy in force: its objects are those of static show.
jq '{version: 1, policies: [.in_force.policy],
    filterlists: .in_force.filterlists,
    filteractions: .in_force.filteractions}' "$tmp/show-policy2.json" \
    > "$tmp/in-force.json"
valid static-show "$tmp/in-force.json"
jq -e '.in_force.filteractions | map(.qmsecmethods | length) | add > 0' \
    "$tmp/show-policy2.json" >/dev/null || fail "show policy: no offers in force"
# Where the values came from: the store gives the offer's lifetimes but
# neither pollSeconds nor mmLifeSeconds.
jq -e '.in_force.policy.defaults == ["polling_sec", "mm_life_sec"] and
    .in_force.policy.mm_life_sec == 28800 and
    ([.in_force.filteractions[].qmsecmethods[].defaults | length] | add) == 0' \
    "$tmp/show-policy2.json" >/dev/null ||
    fail "show policy: defaults: $(jq -c '.in_force.policy' "$tmp/show-policy2.json")"
"${C[@]}" show policy > "$tmp/show-policy.txt"
grep -q "Main Mode      : lifetime 480 minutes (default)" "$tmp/show-policy.txt" ||
    fail "show policy text: $(cat "$tmp/show-policy.txt")"
grep -q "Method 1       : ESP\[AES128,SHA1\]" "$tmp/show-policy.txt" ||
    fail "show policy text has no offer: $(cat "$tmp/show-policy.txt")"
valid filters "$tmp/show-filters2.json"
"${C[@]}" --json dynamic delete rule dyn1 > "$tmp/dyn-del.json"
"${C[@]}" --json set diagnostics 3 > "$tmp/set-diag.json"
"${C[@]}" --json set oakleylog on > "$tmp/set-olog.json"
"${C[@]}" --json set keylog off > "$tmp/set-keylog.json"
"${C[@]}" --json service pause > "$tmp/pause.json"
"${C[@]}" --json service continue > "$tmp/continue.json"
valid command "$tmp/dyn-add.json" "$tmp/dyn-del.json" "$tmp/set-diag.json" \
    "$tmp/set-olog.json" "$tmp/set-keylog.json" "$tmp/pause.json" \
    "$tmp/continue.json"
"${C[@]}" --json match src=10.1.2.3 dst=10.78.0.5 myaddr=10.1.2.3 \
    > "$tmp/dmatch.json" || fail "match through the daemon"
valid static-match "$tmp/dmatch.json"
jq -e '.source == "service"' "$tmp/dmatch.json" >/dev/null ||
    fail "match did not go through the daemon: $(cat "$tmp/dmatch.json")"
"${C[@]}" --json diag > "$tmp/diag.json" || fail "diag: $(cat "$tmp/diag.json")"
valid diag "$tmp/diag.json"
"${C[@]}" --json reload > "$tmp/reload.json" || fail "reload"
valid status "$tmp/reload.json"
out events --max 50 || fail "events"
jq -e '.events | length > 3' "$tmp/events---max.json" >/dev/null ||
    fail "too few events to check: $(cat "$tmp/events---max.json")"
valid events "$tmp/events---max.json"
"${C[@]}" --json events --verify > "$tmp/verify.json" || fail "verify"
valid events "$tmp/verify.json"
# A refusal: ipseccmd --json prints the error reply (exit 1).
"${C[@]}" --json dynamic delete rule nosuch > "$tmp/refusal.json" 2>/dev/null &&
    fail "deleting a rule that does not exist accepted"
valid error "$tmp/refusal.json"
valid reply "$tmp/refusal.json"
pass "service status, show policy|filters|mmsas|qmsas|stats|all, dynamic, events, changes, a refusal: valid, version 1, snake_case"

# The control socket's raw replies (the envelope) as a program sees them.
python3 - "$tmp/run/ctl.sock" "$tmp" <<'PY' || fail "raw replies"
import json, socket, sys
for i, cmd in enumerate(["status", "show.stats", "show.all", "no.such"]):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(json.dumps({"cmd": cmd}).encode())
    s.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    with open(f"{sys.argv[2]}/raw{i}.json", "wb") as f:
        f.write(data)
PY
valid reply "$tmp"/raw{0,1,2,3}.json
jq '.result + {version: .version}' "$tmp/raw1.json" > "$tmp/raw1r.json"
valid stats "$tmp/raw1r.json"
pass "control socket replies: the envelope (version, ok, result or error+code) and its result"

# ipseccmd static (the local store, no daemon) and match.
S=("$cmd" -c "$tmp/agentd.conf" --store "$tmp/store.xml")
"${S[@]}" static show all --json > "$tmp/st-all.json" || fail "static show all"
valid static-show "$tmp/st-all.json"
for o in policy filterlist filteraction rule; do
	"${S[@]}" static show $o --json > "$tmp/st-$o.json" ||
	    fail "static show $o"
	valid static-show "$tmp/st-$o.json"
done
fl=$(jq -r '.filterlists[0].name' "$tmp/st-all.json")
"${S[@]}" static show filter filterlist="$fl" --json > "$tmp/st-filter.json" ||
    fail "static show filter"
valid static-show "$tmp/st-filter.json"
jq -e '.policies[0] | has("mm_life_sec") and has("qm_per_mm") and
    has("master_pfs")' "$tmp/st-all.json" >/dev/null ||
    fail "static show: $(jq -c '.policies[0]' "$tmp/st-all.json")"
"${S[@]}" match src=10.1.2.3 dst=10.78.0.5 myaddr=10.1.2.3 --json \
    > "$tmp/match.json" || fail "match"
valid static-match "$tmp/match.json"
pass "static show all|policy|filterlist|filteraction|rule|filter and match: valid"

# The validator can fail: the old forms are refused.
jq '.oakley["Main Modes"] = .oakley.main_modes | del(.oakley.main_modes)' \
    "$tmp/show-stats.json" > "$tmp/old-stats.json"
refused stats "$tmp/old-stats.json" "display names as stats keys"
jq 'del(.version)' "$tmp/show-stats.json" > "$tmp/nov.json"
refused stats "$tmp/nov.json" "no version"
jq '.policies[0].qmPerMm = 0 | del(.policies[0].qm_per_mm)' \
    "$tmp/st-all.json" > "$tmp/old-st.json"
refused static-show "$tmp/old-st.json" "camelCase policy keys"
jq '.version = 2' "$tmp/show-qmsas.json" > "$tmp/v2.json"
refused qmsas "$tmp/v2.json" "version 2"
pass "the validator refuses display-name keys, camelCase keys, a missing or other version"
"${C[@]}" service stop >/dev/null || fail "stop"
t_finish "json schema"
