#!/usr/bin/env bash
# pkg_caps: ipsec-agentd started by a service manager that already narrowed
# its capability bounding set (systemd's CapabilityBoundingSet=; here
# setpriv, same effect: root's execve gets only those) still drops its
# privileges and runs, ending with exactly CAP_NET_ADMIN, CAP_NET_RAW and
# CAP_NET_BIND_SERVICE (effective, permitted, bounding). Before the fix it
# called PR_CAPBSET_DROP on every other capability, which needs
# CAP_SETPCAP, and failed to start ("dropping privileges: Operation not
# permitted"). With a full set it also ends with the three.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
agentd=${1:?usage: pkg_caps.sh IPSEC_AGENTD IPSECCMD}
cmd=${2:?}
. "$here/../lib/check.sh"
t_need_root "capabilities"
t_need_tools setpriv
t_tmpdir pkg-caps
t_fail_log=$tmp/agentd.log
cat > "$tmp/conf" <<EOC
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
drop_privileges = yes
EOC
stop() { "$cmd" -c "$tmp/conf" --timeout 5000 service stop; }
t_at_exit stop
# CAP_NET_ADMIN 12, CAP_NET_RAW 13, CAP_NET_BIND_SERVICE 10.
want=$(printf '%016x' $(((1 << 10) | (1 << 12) | (1 << 13))))

run() {	# run WHAT [setpriv args]: start, check the sets, stop
	local what=$1 pid caps
	shift
	"$@" "$agentd" -c "$tmp/conf" >"$tmp/agentd.log" 2>&1 ||
	    fail "$what: did not start: $(cat "$tmp/agentd.log")"
	pid=$(cat "$tmp/state/ipsec-agentd.pid")
	caps=$(grep -E '^Cap(Eff|Prm|Bnd):' "/proc/$pid/status" |
	    awk '{print $2}' | sort -u)
	[ "$caps" = "$want" ] ||
	    fail "$what: capabilities $(echo $caps), expected $want"
	pass "$what: started, kept exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE"
	stop >/dev/null || fail "$what: stop"
}
run "bounding set narrowed to the three (no CAP_SETPCAP)" setpriv \
    --bounding-set -all,+net_admin,+net_raw,+net_bind_service
run "full capability set" env
t_finish pkg_caps
