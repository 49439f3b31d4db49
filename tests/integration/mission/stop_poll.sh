#!/usr/bin/env bash
# stop_poll.sh -- `ipseccmd service stop` while a directory poll is under
# way on its thread and the directory does not answer (found by
# mission_domain: a member under Secure Server polls a DC its own policy
# holds the traffic to, each DNS and LDAP call waiting its timeout). The
# stop must not wait for the poll: with stop_timeout (2 s) shorter than
# the poll (directory_timeout 8 s), it completes, says 614 with the data
# path in clear, and removes the socket. Before the fix stop joined the
# poll thread, stop_timeout's alarm ended the process: no 614, the socket
# left behind, the filters not cleared. Needs root (skips with 77).
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/../../lib/check.sh"
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}
cmd=$bin/service/ipseccmd
t_need_root
t_need_tools jq python3
t_tmpdir ms-stop-poll
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/agentd.conf" <<EOC
policy_source = directory
directory_uri = ldap://127.0.0.1:$port
directory_base = DC=ad,DC=example,DC=test
directory_computer = HOSTA\$
directory_bind = simple
directory_bind_dn = CN=hosta,DC=ad,DC=example,DC=test
directory_password_file = $tmp/pw
directory_starttls = no
directory_insecure_plain = yes
directory_cache = $tmp/state/directory.cache
directory_timeout = 8
directory_min_poll = 1
directory_backoff_unit = 1
stop_timeout = 2
store = $tmp/no-local-store.xml
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
EOC
printf 'pw\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
C=("$cmd" -c "$tmp/agentd.conf")
stop_agent() { [ ! -S "$tmp/ctl.sock" ] || "${C[@]}" --timeout 5000 service stop; }
t_at_exit stop_agent
# Nothing listens yet: the first poll (in line, at start) is refused.
"${C[@]}" service start >/dev/null || fail "start"
# A directory that takes connections and never answers.
python3 - "$port" "$tmp/accepted" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
c, _ = s.accept()
open(sys.argv[2], "w").close()
time.sleep(60)
PY
hang=$!
t_at_exit kill "$hang"
"${C[@]}" reload >/dev/null || fail "reload"
for _ in $(seq 1 500); do
	[ -f "$tmp/accepted" ] && break
	sleep 0.02
done
[ -f "$tmp/accepted" ] || fail "the poll did not connect"
# The poll waits on the directory now.
"${C[@]}" --timeout 6000 service stop clear >/dev/null ||
    fail "stop during a poll did not complete: $(tail -n 2 "$tmp/audit.jsonl")"
[ ! -e "$tmp/ctl.sock" ] || fail "the control socket is left behind"
jq -s -e 'map(select(.id == 614 and (.fields["Data Path"] |
    test("in clear")))) | length == 1' "$tmp/audit.jsonl" >/dev/null ||
    fail "no 614 (in clear): $(tail -n 2 "$tmp/audit.jsonl")"
pass "stop while a directory poll waits on a silent directory: 614 in clear, socket removed"
t_finish "stop during a poll"
