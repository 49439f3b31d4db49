#!/usr/bin/env bash
# Integration test of ipsec-agentd + ipseccmd: the real daemon in a temp
# dir with the null driver, driven through every service state. Waits by
# blocking reads (daemon mode returns once RUNNING; the foreground daemon
# is supervised by supervise.py, which reports READY=1), never by sleeping.
#
# Needs root (socket ownership, uid switching with setpriv). Keep the temp
# dir with PA_TEST_KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
agentd=$bin/ipsec-agentd
cmd=$bin/ipseccmd

. "$here/../../lib/check.sh"
t_need_root "socket ownership, setpriv"
t_need_tools jq setpriv python3
[ -x "$agentd" ] && [ -x "$cmd" ] || skip "binaries not built"
admgid=$(getent group adm | cut -d: -f3) || skip "no group adm"

t_tmpdir svc-test
chmod 755 "$tmp"
# The daemon creates the socket's directory itself, reachable (0755).
sup_pid=
stop_all() {
	[ ! -S "$tmp/run/ctl.sock" ] ||
	    "$cmd" -c "$tmp/agentd.conf" --timeout 5000 service stop
	[ -z "$sup_pid" ] || kill -9 "$sup_pid"
}
t_at_exit stop_all
t_fail_log=$tmp/agentd.log

cp "$here/store.xml" "$tmp/store.xml"
cat > "$tmp/agentd.conf" <<EOC
# service test configuration
policy_source = local
store = $tmp/store.xml
secrets = $tmp/secrets.xml
driver = null
ike = on
ike_port = 15500
ike_addresses = 127.0.0.1
natt_port = 15501
audit_sink = none
audit_file = $tmp/log/audit.jsonl
audit_rotate_size = 1M
diagnostics = 1
oakley_log = on
oakley_log_path = $tmp/log/oakley.log
oakley_log_size = 4K
control_socket = $tmp/run/ctl.sock
admin_group = adm
control_mode = 0660
state_dir = $tmp/state
stop_timeout = 10
EOC
C=("$cmd" -c "$tmp/agentd.conf")
# Block until a process (not our child) has exited, up to 10 s (pidfd).
wait_gone() {
	python3 -c 'import os, select, sys
try:
    fd = os.pidfd_open(int(sys.argv[1]))
except ProcessLookupError:
    sys.exit(0)
sys.exit(0 if select.select([fd], [], [], 10)[0] else 1)' "$1"
}
j() { "${C[@]}" --json "$@"; }

# --- Bad configuration: refuse to start, with file:line and reason.
printf 'driver = null\n# comment\ndiagnostics = 9\n' > "$tmp/bad.conf"
if out=$("$agentd" -c "$tmp/bad.conf" -t 2>&1); then
	fail "bad config accepted"
fi
grep -q "$tmp/bad.conf:3: diagnostics must be 0 to 7" <<<"$out" ||
    fail "bad config message: $out"
printf 'driver = null\nnot a key value line\n' > "$tmp/bad2.conf"
out=$("$agentd" -c "$tmp/bad2.conf" -f 2>&1) && fail "bad config 2 accepted"
grep -q "bad2.conf:2: expected 'key = value'" <<<"$out" || fail "msg: $out"
out=$("$agentd" -c "$tmp/agentd.conf" -o driver=nosuch -f 2>&1) &&
    fail "unknown driver accepted"
grep -q "unknown driver backend 'nosuch'" <<<"$out" || fail "msg: $out"
out=$("$agentd" -c "$tmp/agentd.conf" -o policy_source=directory -f 2>&1) &&
    fail "directory source accepted"
grep -q "directory" <<<"$out" || fail "msg: $out"
src=${PA_SOURCE_DIR:-$here/../../..}
"$agentd" -t -c "$src/examples/ipsec-agentd.conf" >/dev/null ||
    fail "the shipped example configuration is refused"
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/sbin/ipsec-agentd|$agentd|g" \
	    "$src/packaging/systemd/ipsec-agentd.service" \
	    > "$tmp/ipsec-agentd.service"
	# --man=no: the unit names its man pages, not installed in a build tree.
	out=$(systemd-analyze verify --man=no "$tmp/ipsec-agentd.service" 2>&1) ||
	    fail "systemd unit: $out"
fi
pass "bad configuration refused with file:line and reason; example and unit check"

# --- Start (daemon mode returns once RUNNING), state and policy.
"${C[@]}" service start >/dev/null || fail "service start"
st=$(j service status)
[ "$(jq -r .state <<<"$st")" = RUNNING ] || fail "not RUNNING: $st"
[ "$(jq -r .policy <<<"$st")" = SvcTest ] || fail "policy: $st"
[ "$(jq -r .driver <<<"$st")" = null ] || fail "driver: $st"
[ "$(jq -r .policy_source <<<"$st")" = local ] || fail "source: $st"
[ "$(jq -r .filters <<<"$st")" -gt 0 ] || fail "no filters: $st"
jq -e '.transitions | map(.state) == ["START_PENDING","RUNNING"]' \
    <<<"$st" >/dev/null || fail "transitions: $st"
pid1=$(jq -r .pid <<<"$st")
# Only CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE remain (0x3400).
grep -q '^CapEff:.*0000000000003400$' /proc/$pid1/status ||
    fail "capabilities not dropped: $(grep Cap /proc/$pid1/status)"
grep -q '^CapBnd:.*0000000000003400$' /proc/$pid1/status ||
    fail "bounding set not dropped"
grep -q '^NoNewPrivs:.*1$' /proc/$pid1/status || fail "no_new_privs"
"${C[@]}" show all | grep -q "Assigned policy: SvcTest" || fail "show all"
for w in all policy filters mmsas qmsas stats events; do
	j show $w | jq -e . >/dev/null || fail "show $w --json"
done
j show stats | jq -e '.oakley.main_modes == 0 and
    .ipsec.active_security_associations == 0 and
    (.ipsec | has("packets_not_authenticated"))' >/dev/null ||
    fail "stats names"
# IKE runs inside the service loop: a bad datagram on its port is counted.
[ "$(jq -r .ike <<<"$st")" = true ] || fail "IKE not running: $st"
python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"\x00" * 12, ("127.0.0.1", 15500))'
for i in $(seq 1 200); do
	bad=$(j show stats | jq '.oakley.invalid_packets_received +
	    .oakley.receive_failures + .oakley.invalid_cookies_received')
	[ "$bad" -gt 0 ] && break
done
[ "$bad" -gt 0 ] || fail "IKE did not see the datagram"
pass "start: RUNNING with the static policy and IKE, show all|... --json"

# --- A second instance refuses (lock).
out=$("$agentd" -c "$tmp/agentd.conf" -f 2>&1) && fail "second instance ran"
grep -q "another ipsec-agentd is running (pid $pid1" <<<"$out" ||
    fail "second instance message: $out"
out=$("${C[@]}" service start 2>&1) || fail "service start when running"
grep -q "already running" <<<"$out" || fail "start twice: $out"
pass "a second instance refuses to start"

# --- Pause: policy changes queued, not applied; continue applies them.
filters0=$(j service status | jq .filters)
[ "$(j service pause | jq -r .state)" = PAUSED ] || fail "pause"
"${C[@]}" dynamic add rule dyn1 src=any dst=10.99.0.0/16 action=block \
    proto=tcp dport=25 || fail "dynamic add while paused"
st=$(j service status)
[ "$(jq -r .state <<<"$st")" = PAUSED ] || fail "state $st"
[ "$(jq .filters <<<"$st")" = "$filters0" ] || fail "applied while paused"
[ "$(jq .policy_pending <<<"$st")" = true ] || fail "not queued: $st"
[ "$(j service continue | jq -r .state)" = RUNNING ] || fail "continue"
st=$(j service status)
[ "$(jq .filters <<<"$st")" -gt "$filters0" ] || fail "not applied: $st"
jq -e '[.transitions[].state] | .[-4:] ==
    ["PAUSE_PENDING","PAUSED","CONTINUE_PENDING","RUNNING"]' <<<"$st" \
    >/dev/null || fail "pause transitions: $st"
j show filters | jq -e '[.filters[] | select(.dynamic and .dport == 25)]
    | length > 0' >/dev/null || fail "dynamic filter not shown"
pass "pause queues changes; continue applies them"

# --- A static change through ipseccmd reaches the running daemon.
f0=$(j service status | jq .filters)
"${C[@]}" static add filter filterlist=Telnet srcaddr=any \
    dstaddr=10.66.0.0/16 protocol=tcp dstport=23 >/dev/null ||
    fail "static add filter"
[ "$(j service status | jq .filters)" -gt "$f0" ] ||
    fail "static change not applied by the daemon"
j show filters | jq -e '[.filters[] | select(.dst == "10.66.0.0/16")] |
    length > 0' >/dev/null || fail "static filter not shown"
pass "ipseccmd static saves the store and the daemon reloads it"

# --- Settings.
"${C[@]}" set diagnostics 5 || fail "set diagnostics"
[ "$(j service status | jq .diagnostics)" = 5 ] || fail "diagnostics"
"${C[@]}" set diagnostics 8 2>/dev/null && fail "diagnostics 8 accepted"
"${C[@]}" set oakleylog off || fail "oakleylog off"
[ "$(j service status | jq .oakley_log)" = false ] || fail "oakley off"
"${C[@]}" set oakleylog on || fail "oakleylog on"
pass "set diagnostics / oakleylog"

# --- The Oakley log past oakley_log_size (4K): PATH.sav and a new PATH.
for i in $(seq 1 60); do
	"${C[@]}" set oakleylog off >/dev/null && "${C[@]}" set oakleylog on 	    >/dev/null || fail "oakleylog off/on $i"
done
[ -s "$tmp/log/oakley.log.sav" ] &&
    [ "$(stat -c %s "$tmp/log/oakley.log.sav")" -ge 4096 ] &&
    [ "$(stat -c %s "$tmp/log/oakley.log.sav")" -lt 4300 ] &&
    [ "$(stat -c %s "$tmp/log/oakley.log")" -lt 4096 ] &&
    grep -q "Oakley log continued" "$tmp/log/oakley.log" ||
    fail "oakley log rotation: $(ls -l "$tmp/log")"
pass "the Oakley log is kept as oakley.log.sav past oakley_log_size"

# --- Access control: non-admin refused, admin group member allowed.
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
rc=0; out=$("${nobody[@]}" "${C[@]}" service status 2>&1) || rc=$?
[ $rc = 4 ] || fail "non-admin (socket mode) rc=$rc: $out"
grep -q "access denied" <<<"$out" || fail "message: $out"
# Past the file mode (CAP_DAC_OVERRIDE), the daemon's own check refuses.
dac=(setpriv --reuid=65534 --regid=65534 --clear-groups
    --inh-caps=+dac_override --ambient-caps=+dac_override)
for i in 1 2 3 4 5; do
	rc=0; out=$("${dac[@]}" "${C[@]}" service stop 2>&1) || rc=$?
	[ $rc = 4 ] || fail "non-admin (peer credentials) rc=$rc: $out"
done
grep -q "access denied" <<<"$out" || fail "message: $out"
[ "$(j service status | jq -r .state)" = RUNNING ] || fail "stopped by nobody"
adm=(setpriv --reuid=65534 --regid=65534 --groups="$admgid")
"${adm[@]}" "${C[@]}" --json service status | jq -e '.state == "RUNNING"' \
    >/dev/null || fail "admin group member refused"
j events --id 5701 | jq -e '.events | length >= 1 and
    (.[0].fields.Uid == "65534") and (.[0].fields.Command == "service.stop")' \
    >/dev/null || fail "no 5701 event"
# Idle connections of a refused caller cannot crowd administrators out.
coproc HOG { "${dac[@]}" python3 -c 'import socket, sys
c = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1]); c.append(s)
print("open", flush=True)
sys.stdin.readline()' "$tmp/run/ctl.sock"; }
read -r -t 10 word <&"${HOG[0]}" || fail "connection hog did not start"
for i in 1 2 3; do
	[ "$(j service status | jq -r .state)" = RUNNING ] ||
	    fail "admin crowded out by idle connections"
done
echo done >&"${HOG[1]}"
wait "$HOG_PID" || true
j events --id 5701 | jq -e '[.events[] | select(.fields.Command ==
    "(too many connections)")] | length >= 1' >/dev/null ||
    fail "no 5701 for the connection limit"
pass "non-admin refused (socket mode and peer credentials, 5701); adm allowed; no crowding out"

# --- Bad input on the socket: error reply, connection closed, daemon fine.
sock() { python3 - "$tmp/run/ctl.sock" "$1" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
kind = sys.argv[2]
data = {"malformed": b'{"cmd": "status"', "toolarge": b"{" + b" " * 70000,
        "notobject": b'["status"]', "unknown": b'{"cmd":"rm.rf"}',
        "badkey": b'{"cmd":"status","x":1}', "nul": b'{"cmd":"sta\\u0000"}',
        "empty": b""}[kind]
try:
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
except OSError:
    pass
reply = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    reply += b
print(reply.decode())
EOP
}
for k in malformed toolarge notobject unknown badkey nul empty; do
	r=$(sock $k)
	jq -e '.ok == false and (.error | length > 0)' <<<"$r" >/dev/null ||
	    fail "bad input $k: $r"
done
[ "$(jq -r .code <<<"$(sock toolarge)")" = too-large ] || fail "too-large"
[ "$(j service status | jq -r .state)" = RUNNING ] || fail "daemon hurt"
pass "malformed, oversized and unknown requests get an error reply"

# --- Reload with bad policy keeps the old one and emits 616.
n616=$(j events --id 616 | jq '.events | length')
cp "$tmp/store.xml" "$tmp/store.good"
echo '<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1"><policy' \
    > "$tmp/store.xml"
"${C[@]}" reload 2>/dev/null && fail "bad policy reload accepted"
st=$(j service status)
[ "$(jq -r .policy <<<"$st")" = SvcTest ] || fail "old policy lost: $st"
[ "$(j events --id 616 | jq '.events | length')" -gt "$n616" ] ||
    fail "no 616 after bad reload"
v1=$(jq .policy_version <<<"$st")
cp "$tmp/store.good" "$tmp/store.xml"
"${C[@]}" reload >/dev/null || fail "good reload"
[ "$(j service status | jq .policy_version)" -gt "$v1" ] || fail "version"
# SIGHUP with a configuration naming another store: that store applies.
sed 's/name="SvcTest"/name="SvcTest2"/' "$tmp/store.xml" > "$tmp/store2.xml"
sed -i "s|^store = .*|store = $tmp/store2.xml|" "$tmp/agentd.conf"
kill -HUP "$pid1"
for i in $(seq 1 2000); do
	p=$(j service status | jq -r .policy)
	[ "$p" = SvcTest2 ] && break
done
[ "$p" = SvcTest2 ] || fail "SIGHUP did not apply the new store path"
sed -i "s|^store = .*|store = $tmp/store.xml|" "$tmp/agentd.conf"
"${C[@]}" reload >/dev/null || fail "reload back"
[ "$(j service status | jq -r .policy)" = SvcTest ] || fail "store back"
pass "reload with bad policy keeps the old one (616); good reload and SIGHUP apply"

# --- Stop: exit within bounds, SAs/filters removed, audit flushed (614).
"${C[@]}" service stop >/dev/null || fail "service stop"
[ ! -e "$tmp/run/ctl.sock" ] || fail "socket left behind"
wait_gone "$pid1" || fail "daemon still alive 10 s after stop"
tail -1 "$tmp/log/audit.jsonl" | jq -e '.id == 614 and
    (.fields.Reason | test("by uid 0"))' >/dev/null || fail "no 614 at end"
# The five refused stops above were folded into one record with a count.
jq -s -e '[.[] | select(.id == 5701 and .fields.Repeated == "4")] |
    length == 1' "$tmp/log/audit.jsonl" >/dev/null || fail "no folded 5701"
pass "stop: daemon gone, socket removed, 614 last, folded burst flushed"

# --- Dynamic rules vanish on restart; static policy stays; Oakley log fresh.
echo "marker-from-previous-run" >> "$tmp/log/oakley.log"
"${C[@]}" service start >/dev/null || fail "restart"
st=$(j service status)
[ "$(jq .dynamic_rules <<<"$st")" = 0 ] || fail "dynamic rule survived"
[ "$(jq -r .policy <<<"$st")" = SvcTest ] || fail "static policy lost"
grep -q marker-from-previous-run "$tmp/log/oakley.log" &&
    fail "oakley log not started afresh"
grep -q "Oakley log started" "$tmp/log/oakley.log" || fail "oakley log"
"${C[@]}" service stop >/dev/null || fail "stop 2"
pass "restart: dynamic rules gone, static policy kept, Oakley log afresh"

# fg_start WHAT: the daemon in the foreground under supervise.py (a
# notify supervisor, sup_pid) until READY=1; its pid in pid.
fg_start() {
	exec 3< <(python3 "$here/supervise.py" "$tmp" -- "$agentd" -f \
	    -c "$tmp/agentd.conf")
	sup_pid=$!
	read -r -t 20 word pid <&3 || fail "$1: no READY"
	[ "$word" = ready ] || fail "$1: $word $pid"
}

# --- kill -9 leaves no lock that blocks a restart (foreground, notify).
fg_start "foreground start"
grep -q '^STATUS=RUNNING: policy SvcTest (local), [0-9]* filters, driver null$' \
    "$tmp/notify.log" || fail "no STATUS=RUNNING: $(cat "$tmp/notify.log")"
kill -9 "$pid"
wait "$sup_pid" && fail "killed daemon exited 0"
sup_pid=
[ -S "$tmp/run/ctl.sock" ] || fail "expected a stale socket after kill -9"
"${C[@]}" service start >/dev/null || fail "restart after kill -9"
[ "$(j service status | jq -r .state)" = RUNNING ] || fail "not running"
"${C[@]}" service stop >/dev/null || fail "stop 3"
pass "kill -9 leaves no stale lock: restart works"

# --- Foreground under a notify supervisor: READY, WATCHDOG, exit 0 on stop.
fg_start "foreground start 2"
"${C[@]}" service stop >/dev/null || fail "stop 4"
rc=0; wait "$sup_pid" || rc=$?
sup_pid=
[ $rc = 0 ] || fail "foreground daemon exit status $rc after stop"
grep -q '^STOPPING=1$' "$tmp/notify.log" || fail "no STOPPING=1"
grep -q "^WATCHDOG=1$" "$tmp/notify.log" || fail "no WATCHDOG=1"
grep -q '^STATUS=STOP_PENDING' "$tmp/notify.log" || fail "no STOP_PENDING"
pass "foreground: READY=1, STATUS=, STOPPING=1, exit 0 after stop"

# --- SIGTERM also stops cleanly (614).
"${C[@]}" service start >/dev/null || fail "start 5"
pid=$(j service status | jq .pid)
kill -TERM "$pid"
wait_gone "$pid" || fail "SIGTERM did not stop the daemon"
tail -1 "$tmp/log/audit.jsonl" | jq -e '.id == 614 and
    (.fields.Reason | test("SIGTERM"))' >/dev/null || fail "614 on SIGTERM"
pass "SIGTERM stops with 614"

# --- events --verify catches removed, reordered and altered records.
A=$tmp/log/audit.jsonl
out=$("${C[@]}" events --verify 2>&1) || fail "verify, no daemon: $out"
grep -q "reading .*audit.jsonl directly" <<<"$out" || fail "fallback: $out"
out=$("${C[@]}" events --verify --file "$A") || fail "verify clean: $out"
grep -q "chain intact" <<<"$out" || fail "verify clean: $out"
lines=$(wc -l < "$A")
[ "$lines" -ge 6 ] || fail "too few records ($lines)"
cp "$A" "$tmp/audit.orig"
sed -i '3d' "$A"
out=$("${C[@]}" events --verify --file "$A") && fail "removal not caught"
grep -q "audit.jsonl:3: REMOVED: record seq 3 is missing" <<<"$out" ||
    fail "removal message: $out"
cp "$tmp/audit.orig" "$A"
sed -i '4{h;d};5{G}' "$A"
out=$("${C[@]}" events --verify --file "$A") && fail "reorder not caught"
grep -q "REORDERED: record seq 4 comes after seq 5" <<<"$out" ||
    fail "reorder message: $out"
cp "$tmp/audit.orig" "$A"
L=$(grep -n '"Policy Source":"local"' "$A" | head -1 | cut -d: -f1)
[ -n "$L" ] || fail "no 613 record to alter"
sed -i "${L}s/\"Policy Source\":\"local\"/\"Policy Source\":\"directory\"/" "$A"
out=$("${C[@]}" events --verify --file "$A") && fail "alteration not caught"
grep -q "audit.jsonl:$L: ALTERED: record seq $L does not match its hash" \
    <<<"$out" || fail "alteration message: $out"
# Altered and re-hashed: the next record's link gives it away.
cp "$tmp/audit.orig" "$A"
python3 - "$A" "$L" <<'EOP'
import hashlib, json, sys
lines = open(sys.argv[1]).read().splitlines()
i = int(sys.argv[2]) - 1
r = json.loads(lines[i])
r["fields"]["Policy"] = "Evil"
del r["hash"]
canon = json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
r["hash"] = hashlib.sha256(canon.encode()).hexdigest()
lines[i] = json.dumps(r, sort_keys=True, separators=(",", ":"))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOP
out=$("${C[@]}" events --verify --file "$A") && fail "re-hash not caught"
grep -q "ALTERED: record seq $L (.*audit.jsonl:$L) was changed" <<<"$out" ||
    fail "re-hash message: $out"
cp "$tmp/audit.orig" "$A"
pass "events --verify names removed, reordered and altered records"

# --- The running daemon verifies too, and notices a cut tail.
"${C[@]}" service start >/dev/null || fail "start 6"
j events --verify | jq -e '.ok' >/dev/null || fail "online verify"
last=$(tail -1 "$A")
sed -i '$d' "$A"
out=$("${C[@]}" events --verify) && fail "tail cut not caught"
grep -q "REMOVED: the last record" <<<"$out" || fail "tail message: $out"
echo "$last" >> "$A"
j events --id 613 | jq -e '.events | length >= 3 and
    all(.id == 613)' >/dev/null || fail "events --id"
j events --since -1h | jq -e '.events | length > 0' >/dev/null ||
    fail "events --since"
j events --since 4102444800 | jq -e '.events | length == 0' >/dev/null ||
    fail "events --since future"
"${C[@]}" service stop >/dev/null || fail "stop 6"
pass "online verify (tail cut detected), events --id/--since"

# --- Forward-secure sealing: keys set up once, the daemon seals, the key
# verifies through the daemon and offline; the file replaced by its first
# records while the service was stopped is reported at start and fails.
out=$("${C[@]}" events --setup-keys --interval 10) || fail "setup-keys: $out"
key=$(grep -o 'pa-seal1-[0-9a-f]*-[0-9]*-10' <<<"$out") ||
    fail "no verification key shown: $out"
[ "$(stat -c %a "$tmp/state/audit.seal")" = 600 ] || fail "seal state mode"
"${C[@]}" events --setup-keys >/dev/null 2>&1 && fail "setup twice"
"${C[@]}" service start >/dev/null || fail "start 7"
"${C[@]}" service pause >/dev/null || fail "pause 7"
"${C[@]}" service continue >/dev/null || fail "continue 7"
out=$(j events --verify --key "$key") || fail "sealed verify: $out"
jq -e '.ok and (.verdict | test("seals valid"))' <<<"$out" >/dev/null ||
    fail "sealed verify: $out"
tail -1 "$A" | jq -e '.epoch >= 0 and (.seal | length == 64)' >/dev/null ||
    fail "records not sealed"
"${C[@]}" service stop >/dev/null || fail "stop 7"
tail -1 "$A" | jq -e '.id == 5702 and .fields["Next Epoch"] == "stopped"' \
    >/dev/null || fail "the stop is not sealed"
out=$("${C[@]}" events --verify --key "$key" --file "$A") ||
    fail "offline sealed verify: $out"
grep -q "sealed at the stop" <<<"$out" || fail "offline sealed: $out"
d=${key:12:1}; [ "$d" = 0 ] && d=1 || d=0
bad=${key:0:12}$d${key:13}
out=$("${C[@]}" events --verify --key "$bad" --file "$A") &&
    fail "wrong key accepted"
out=$("${C[@]}" events --verify --key nonsense --file "$A" 2>&1) &&
    fail "malformed key accepted"
grep -q "not a verification key" <<<"$out" || fail "bad key message: $out"
# Replace the file by its first 3 records and start again.
head -3 "$A" > "$tmp/short" && cat "$tmp/short" > "$A"
rm -f "$A".[0-9]
"${C[@]}" service start >/dev/null || fail "start 8"
j events --id 5703 | jq -e '.events[0].fields.Reason |
    test("ends at seq 3 but seq [0-9]+ was sealed")' >/dev/null ||
    fail "no 5703 for a shortened file"
out=$("${C[@]}" events --verify --key "$key") && fail "shortened accepted"
grep -q "REMOVED: at seq 4 the service found its chain" <<<"$out" ||
    fail "shortened message: $out"
"${C[@]}" service stop >/dev/null || fail "stop 8"
pass "sealed audit: verify key, sealed stop, shortened file caught"

# --- Secrets never echoed: a key written where a key name belongs, and
# keys in commands that fail, appear in no reply, log or audit record.
cat > "$tmp/secrets.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="k">6b6579</psk>
</ipsecSecrets>
EOX
chmod 600 "$tmp/secrets.xml"
M=MarkerKey-7f3a9c
"${C[@]}" service start >/dev/null || fail "start 9"
out=$("${C[@]}" dynamic add rule leak1 src=me dst=10.98.0.1 action=negotiate \
    auth=psk "psk=$M" 2>&1) && fail "an unknown key name was accepted"
grep -q "not in .*secrets.xml" <<<"$out" || fail "key name message: $out"
all=$out
all+=$("${C[@]}" --json dynamic add rule leak2 src=me dst=10.98.0.1 \
    action=negotiate auth=psk "psk=$M x" 2>&1) || true
all+=$("${C[@]}" static add rule name=r1 policy=Nope filterlist=X \
    filteraction=Y "psk=$M" 2>&1) || true
all+=$("${C[@]}" static add rule name=r1 "psk=$M" bogus=1 2>&1) || true
all+=$("${C[@]}" static set rule name=none policy=Nope "psk=$M" 2>&1) ||
    true
"${C[@]}" service stop >/dev/null || fail "stop 9"
grep -q "$M" <<<"$all" && fail "a key was echoed: $(grep "$M" <<<"$all")"
if grep -rl "$M" "$tmp/log" "$tmp/agentd.log" 2>/dev/null; then
	fail "a key is in a log or the audit"
fi
pass "keys given on the command line appear in no reply, log or audit record"

t_finish service
