#!/usr/bin/env bash
# pkg_sigterm: a SIGTERM that reaches ipsec-agentd while it is still
# starting (systemd stops a unit that is activating) is not lost: the
# daemon finishes starting, then runs its stop sequence and exits 0 with
# event 4293/"service stopped (SIGTERM)" in the audit file. Before the fix
# the signals were blocked only at the end of setup, so such a SIGTERM
# killed it half set up (exit by signal 15, no stop event).
#
# Deterministic, no sleeping: the configuration is a FIFO; opening its
# write end returns only once the daemon has opened it (it is then inside
# its start), and it cannot go on until we write the configuration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
agentd=${1:?usage: pkg_sigterm.sh IPSEC_AGENTD}
. "$here/../lib/check.sh"
t_need_root "socket ownership"
t_tmpdir pkg-sigterm
t_fail_log=$tmp/agentd.log
mkfifo "$tmp/conf"
pid=
t_at_exit kill -9 '$pid'

"$agentd" -f -c "$tmp/conf" >"$tmp/agentd.log" 2>&1 &
pid=$!
exec 3>"$tmp/conf"	# returns once the daemon opened the file
kill -TERM "$pid"
cat >&3 <<EOC
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
drop_privileges = no
EOC
exec 3>&-
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "a SIGTERM during the start: exit status $rc" \
    "(143 = killed by the signal), expected 0 after a clean stop"
pass "SIGTERM during the start: started, then stopped cleanly (exit 0)"
grep -q 'service stopped (SIGTERM)' "$tmp/audit.jsonl" ||
    fail "no 'service stopped (SIGTERM)' event in the audit file"
pass "the stop was audited: 'service stopped (SIGTERM)'"
[ ! -e "$tmp/ctl.sock" ] || fail "the control socket was left behind"
pass "the control socket was removed"
t_finish pkg_sigterm
