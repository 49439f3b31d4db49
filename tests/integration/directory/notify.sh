#!/usr/bin/env bash
# Change notification (issue 19): ipsec-agentd against a real slapd with
# the syncprov overlay (RFC 4533 refreshAndPersist). The poll interval is
# the default 180 minutes and no reload is made, so whatever is applied
# came through notification:
#  1. an edit of the assigned policy's ipsecData is applied (615, match);
#  2. a policy written in three LDAP operations (one ldapmodify, a pause
#     between the records shorter than directory_notify_quiet) is applied
#     once, as the final set: exactly one 615 and the final filters;
#  3. slapd restarted, with a change made while it was down (slapmodify):
#     the watch reconnects, the full poll applies the change;
#  4. a stop while the watch waits on a silent server completes (614);
#  5. directory_notify = off: a change is not applied until a reload.
# Needs root, slapd with syncprov, ldap-utils, jq, python3 (skips with 77).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../../lib" && pwd)
svc=$(cd "$here/../service" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}
cmd=$bin/service/ipseccmd
mkldif=${1:?usage: notify.sh SVC_MKLDIF}

. "$lib/check.sh"
t_need_root
t_need_tools jq python3 ldapmodify

t_tmpdir dir-notify
t_at_exit "$lib/slapd.sh" stop "$tmp/ldap"
stop_agent() {
	[ ! -S "$tmp/ctl.sock" ] ||
	    "$cmd" -c "$tmp/agentd.conf" --timeout 5000 service stop
}
t_at_exit stop_agent

rc=0
"$lib/slapd.sh" start "$tmp/ldap" --syncprov --ldif "$svc/dir_tree.ldif" \
    >/dev/null || rc=$?
[ $rc = 77 ] && skip "slapd is not installed"
[ $rc = 0 ] || fail "slapd (syncprov) did not start"
# shellcheck disable=SC1091
. "$tmp/ldap/env"
GPO="{5E5E0000-0000-4000-8000-0000000000A1}"
LINK="ou=Web,ou=Servers,$LDAP_BASE"
"$mkldif" "$svc/dir_store.xml" "$LDAP_BASE" "$GPO" "$LINK" \
    >"$tmp/policy.ldif" || fail "svc_mkldif"
"$lib/slapd.sh" load "$tmp/ldap" "$tmp/policy.ldif" >/dev/null ||
    fail "loading the policy into slapd"

. "$here/edit_lib.sh"
variant v1 's/10\.78\.0\.5/10.78.0.6/'
variant v2 's/10\.78\.0\.5/10.78.0.7/; s/10\.77\.0\.0/10.79.0.0/'
blobs v1 000000000002 >"$tmp/edit1.ldif"
blobs v2 000000000001 000000000002 >"$tmp/edit2.ldif"
[ "$(grep -c '^dn:' "$tmp/edit1.ldif")" = 1 ] &&
    [ "$(grep -c '^dn:' "$tmp/edit2.ldif")" = 2 ] || fail "variants"

ldapmod() { ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null; }

umask 077
printf '%s\n' "$LDAP_ADMIN_PW" >"$tmp/ldap.pw"
umask 022
# drop_privileges = no: step 4 ends the daemon while its watch thread
# waits in a bind; after a privilege drop the process is not dumpable and
# LeakSanitizer cannot stop that thread, so it would report the memory on
# the thread's stack as leaked (ASan build only; no effect otherwise).
conf() {	# NOTIFY
	cat >"$tmp/agentd.conf" <<EOC
policy_source = directory
directory_uri = $LDAP_URI
directory_base = $LDAP_BASE
directory_computer = HOSTA\$
directory_bind = simple
directory_bind_dn = $LDAP_ADMIN_DN
directory_password_file = $tmp/ldap.pw
directory_starttls = no
directory_insecure_plain = yes
directory_cache = $tmp/state/directory-policy.cache
directory_timeout = 8
directory_min_poll = 1
directory_backoff_unit = 1
directory_notify = $1
directory_notify_quiet = 1500
stop_timeout = 2
drop_privileges = no
store = $tmp/no-local-store.xml
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
EOC
}
C=("$cmd" -c "$tmp/agentd.conf")
j() { "${C[@]}" --json "$@"; }
# 615s of the directory's policy (not of a reload).
applied() {
	jq -s 'map(select(.id == 615 and (.fields.Detail // "" |
	    startswith("directory policy")))) | length' "$tmp/audit.jsonl"
}
# the rule the daemon matches for traffic to dst
rule_for() {
	local r
	r=$("${C[@]}" --json match src=10.1.2.3 dst="$1" myaddr=10.1.2.3 \
	    2>/dev/null | jq -r '.rule // "none"' 2>/dev/null) || true
	echo "${r:-none}"
}
wait_for() {	# DESCRIPTION COMMAND...: bounded wait for a condition
	local what=$1 i
	shift
	for i in $(seq 1 600); do
		"$@" && return 0
		sleep 0.05
	done
	fail "timed out waiting for: $what"
}
notify_is() { [ "$(j service status | jq -r .directory.notify)" = "$1" ]; }
rule_is() { [ "$(rule_for "$1")" = "$2" ]; }
cause_is() { [ "$(j service status | jq -r .directory.poll_cause)" = "$1" ]; }
last_poll_is() { [ "$(j service status | jq -r .directory.last_poll)" = "$1" ]; }

conf auto
"${C[@]}" service start >/dev/null || fail "start"
st=$(j service status)
[ "$(jq -r .policy <<<"$st")" = SvcTest ] || fail "policy: $st"
wait_for "notification active (syncrepl)" notify_is syncrepl
# the full poll that follows the watch's connection
wait_for "the poll after the watch connected" cause_is connect
st=$(j service status)
next=$(jq .directory.next_poll_sec <<<"$st")
[ "$next" -ge 10800 ] || fail "the next scheduled poll is not hours away: $st"
off=$(jq .directory.poll_offset_sec <<<"$st")
# the default spread: this host's offset within a tenth of 180 minutes
[ "$off" -le 1080 ] && [ "$next" = $((10800 + off)) ] ||
    fail "poll offset $off, next poll $next: $st"
rule_is 10.78.0.5 SecureServer || fail "initial policy"
pass "notification: syncrepl active, next scheduled poll in ${next}s"

# 1. One edit of ipsecData.
n0=$(applied)
ldapmod <"$tmp/edit1.ldif" || fail "edit 1"
wait_for "edit 1 applied" rule_is 10.78.0.6 SecureServer
rule_is 10.78.0.5 none || fail "the old filter is still in force"
[ "$(applied)" = $((n0 + 1)) ] || fail "edit 1: $(applied) 615s, not $((n0 + 1))"
st=$(j service status)
[ "$(jq -r .directory.poll_cause <<<"$st")" = notify ] ||
    fail "edit 1 was not applied by a notified poll: $st"
[ "$(jq .directory.next_poll_sec <<<"$st")" -ge 10800 ] ||
    fail "after edit 1: $st"
pass "an edit of ipsecData is applied through notification, without a reload (615 once)"

# 2. Three LDAP operations, 0.3 s apart (quiet is 1.5 s): the Telnet
# list, the Server list, then the Server list again (final: 10.78.0.7).
n1=$(applied)
{
	blobs v2 000000000001
	sleep "${OP_GAP:-0.3}"
	blobs v1 000000000002	# an intermediate state: 10.78.0.6 again
	sleep "${OP_GAP:-0.3}"
	blobs v2 000000000002
} | ldapmod || fail "edit 2"
wait_for "edit 2 applied" rule_is 10.78.0.7 SecureServer
cause_is notify || fail "edit 2 was not applied by a notified poll"
# Let any further (wrong) apply happen before counting: a reload polls
# once more, in order after anything notified.
"${C[@]}" reload >/dev/null || fail "reload"
wait_for "reload polled" last_poll_is unchanged
[ "$(applied)" = $((n1 + 1)) ] ||
    fail "the multi-operation change was applied $(($(applied) - n1)) times (intermediate states applied)"
"${C[@]}" --json match src=10.1.2.3 dst=10.79.1.1 proto=tcp dstport=23 \
    myaddr=10.1.2.3 | jq -e '.rule == "BlockTelnet"' >/dev/null ||
    fail "edit 2: the Telnet list is not the final one"
pass "a policy written in three LDAP operations is applied once, as the final set"

# 3. slapd restarted; a change made while it was down.
p0=$(j service status | jq .directory.polled_at)
"$lib/slapd.sh" stop "$tmp/ldap"
wait_for "the watch notices the lost connection" notify_is reconnecting
blobs v1 000000000002 | sed '/^changetype/d' >"$tmp/offline.ldif"
# slapmodify: the database offline, with a new entryCSN
slapmodify -q -f "$tmp/ldap/slapd.conf" -l "$tmp/offline.ldif" \
    >"$tmp/slapmodify.log" 2>&1 || { cat "$tmp/slapmodify.log"; fail "slapmodify"; }
until [ "$(date +%s)" -gt "$p0" ]; do sleep 0.1; done
"$lib/slapd.sh" restart "$tmp/ldap" || fail "slapd restart"
wait_for "the change made while slapd was down" rule_is 10.78.0.6 SecureServer
wait_for "notification active again" notify_is syncrepl
st=$(j service status)
[ "$(jq .directory.polled_at <<<"$st")" -gt "$p0" ] || fail "no poll: $st"
[ "$(jq -r .directory.poll_cause <<<"$st")" = connect ] ||
    fail "the change was not applied by the reconnect's poll: $st"
[ "$(jq .directory.next_poll_sec <<<"$st")" -ge 10800 ] || fail "$st"
pass "slapd restarted: the watch reconnects and its full poll applies the change made while it was down"

# 4. A stop while the watch waits on a server that accepts and never
# answers (its bind waits up to directory_timeout, 8 s > stop_timeout).
"$lib/slapd.sh" stop "$tmp/ldap"
wait_for "watch reconnecting" notify_is reconnecting
python3 - "$LDAP_PORT" "$tmp/accepted" <<'PY' &
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
wait_for "the watch connects to the silent server" test -f "$tmp/accepted"
apid=$(cat "$tmp/state/ipsec-agentd.pid")
"${C[@]}" --timeout 6000 service stop >/dev/null ||
    fail "stop while the watch waits did not complete"
# the silent server stays until the daemon is gone (its exit, with the
# watch thread still waiting, is what is tested)
gone() { ! kill -0 "$apid" 2>/dev/null; }
wait_for "the daemon exits" gone
[ ! -e "$tmp/ctl.sock" ] || fail "the control socket is left behind"
jq -s -e 'map(select(.id == 614)) | length == 1' "$tmp/audit.jsonl" \
    >/dev/null || fail "no 614"
kill "$hang" 2>/dev/null || true
wait "$hang" 2>/dev/null || true
pass "stop while the watch waits on a silent directory: completes, 614"

# 5. Notification off: polling only.
"$lib/slapd.sh" restart "$tmp/ldap" || fail "slapd restart 2"
conf off
"${C[@]}" service start >/dev/null || fail "start (notify off)"
st=$(j service status)
[ "$(jq -r .directory.notify <<<"$st")" = off ] || fail "notify: $st"
rule_is 10.78.0.6 SecureServer || fail "policy at start (notify off)"
p1=$(jq .directory.polled_at <<<"$st")
n2=$(applied)
blobs v2 000000000002 | ldapmod || fail "edit 3"
# Three settle periods: with notification it would have been applied.
sleep 4.5
st=$(j service status)
rule_is 10.78.0.6 SecureServer || fail "applied without notification or poll"
[ "$(jq .directory.polled_at <<<"$st")" = "$p1" ] || fail "polled: $st"
"${C[@]}" reload >/dev/null || fail "reload (notify off)"
wait_for "reload applies edit 3" rule_is 10.78.0.7 SecureServer
[ "$(applied)" = $((n2 + 1)) ] || fail "notify off: 615s"
pass "directory_notify = off: a change waits for the next poll (here a reload)"
t_finish "directory change notification"
