#!/usr/bin/env bash
# Several directory servers (issue 19 item 3): two slapd providers that
# replicate each other (multi-provider, RFC 4533 syncrepl both ways, the
# syncprov overlay on both), two ipsec-agentd with directory_uri = "A B",
# change notification on and the default 180-minute interval. A change in
# two LDAP operations: the first on A, replicated to B; A is killed
# (SIGKILL); the second goes to B. Both agents lose their watch on A, fail
# over to B (watch and poll) and converge on the final policy, with no
# reload. Needs root, slapd with syncprov, ldap-utils, jq, python3
# (skips with 77).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../../lib" && pwd)
svc=$(cd "$here/../service" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}
cmd=$bin/service/ipseccmd
mkldif=${1:?usage: failover.sh SVC_MKLDIF}

. "$lib/check.sh"
t_need_root
t_need_tools jq python3 ldapmodify ldapsearch

t_tmpdir dir-failover
t_at_exit "$lib/slapd.sh" stop "$tmp/a"
t_at_exit "$lib/slapd.sh" stop "$tmp/b"
stop_agents() {
	local h
	for h in 1 2; do
		[ ! -S "$tmp/h$h/ctl.sock" ] ||
		    "$cmd" -c "$tmp/h$h/agentd.conf" --timeout 5000 service stop
	done
}
t_at_exit stop_agents

pw=$(openssl rand -hex 12)
rc=0
"$lib/slapd.sh" start "$tmp/a" --syncprov --server-id 1 --rootpw "$pw" \
    --ldif "$svc/dir_tree.ldif" >/dev/null || rc=$?
[ $rc = 77 ] && skip "slapd is not installed"
[ $rc = 0 ] || fail "slapd A did not start"
# shellcheck disable=SC1091
. "$tmp/a/env"
A=$LDAP_URI
GPO="{5E5E0000-0000-4000-8000-0000000000A1}"
LINK="ou=Web,ou=Servers,$LDAP_BASE"
"$mkldif" "$svc/dir_store.xml" "$LDAP_BASE" "$GPO" "$LINK" \
    >"$tmp/policy.ldif" || fail "svc_mkldif"
"$lib/slapd.sh" load "$tmp/a" "$tmp/policy.ldif" >/dev/null ||
    fail "loading the policy into A"
"$lib/slapd.sh" start "$tmp/b" --syncprov --server-id 2 --rootpw "$pw" \
    --syncrepl-from "$A" >/dev/null || fail "slapd B did not start"
B=$(. "$tmp/b/env"; echo "$LDAP_URI")
"$lib/slapd.sh" replicate "$tmp/a" "$B" || fail "A as a consumer of B"
A_PID=$(. "$tmp/a/env"; echo "$SLAPD_PID")

. "$here/edit_lib.sh"
variant v2 's/10\.78\.0\.5/10.78.0.7/; s/10\.77\.0\.0/10.79.0.0/'

wait_for() {	# DESCRIPTION COMMAND...: bounded wait for a condition
	local what=$1 i
	shift
	for i in $(seq 1 600); do
		"$@" && return 0
		sleep 0.05
	done
	fail "timed out waiting for: $what"
}
# the ipsecData of a filter list on a server, base64
blob_on() {	# URI GUID-END
	ldapsearch -x -H "$1" -D "$LDAP_ADMIN_DN" -w "$pw" -LLL -o ldif-wrap=no \
	    -b "CN=ipsecFilter{5E5E0000-0000-4000-8000-$2},CN=IP Security,CN=System,$LDAP_BASE" \
	    -s base ipsecData 2>/dev/null | sed -n 's/^ipsecData:: //p'
}
want() {	# GUID-END: the blob of v2
	python3 - "$tmp/v2.ldif" "$1" <<'PY'
import sys
text = open(sys.argv[1]).read().replace("\n ", "")
for rec in text.split("\n\n"):
    if sys.argv[2] + "}," in rec.upper() and "ipsecData::" in rec:
        print([l for l in rec.split("\n") if l.startswith("ipsecData::")][0][12:])
PY
}
has() { [ "$(blob_on "$1" "$2")" = "$3" ]; }
b_has_policy() { [ -n "$(blob_on "$B" 000000000002)" ]; }
wait_for "B has the policy from A" b_has_policy

umask 077
printf '%s\n' "$pw" >"$tmp/ldap.pw"
umask 022
for h in 1 2; do
	mkdir -p "$tmp/h$h"
	cat >"$tmp/h$h/agentd.conf" <<EOC
policy_source = directory
directory_uri = $A $B
directory_base = $LDAP_BASE
directory_computer = HOSTA\$
directory_bind = simple
directory_bind_dn = $LDAP_ADMIN_DN
directory_password_file = $tmp/ldap.pw
directory_starttls = no
directory_insecure_plain = yes
directory_cache = $tmp/h$h/state/directory-policy.cache
directory_timeout = 3
directory_min_poll = 1
directory_backoff_unit = 1
drop_privileges = no
store = $tmp/no-local-store.xml
driver = null
ike = off
audit_sink = none
audit_file = $tmp/h$h/audit.jsonl
control_socket = $tmp/h$h/ctl.sock
state_dir = $tmp/h$h/state
EOC
	"$cmd" -c "$tmp/h$h/agentd.conf" service start >/dev/null ||
	    fail "start agent $h"
done
st() { "$cmd" -c "$tmp/h$1/agentd.conf" --json service status; }
ready() {	# H: watching A, the poll after its connection done
	local s
	s=$(st "$1")
	[ "$(jq -r .directory.notify <<<"$s")" = syncrepl ] &&
	    [ "$(jq -r .directory.poll_cause <<<"$s")" = connect ] &&
	    [ "$(jq -r .directory.uri <<<"$s")" = "$A" ]
}
rule_is() {	# H DST RULE
	local r
	r=$("$cmd" -c "$tmp/h$1/agentd.conf" --json match src=10.1.2.3 \
	    dst="$2" myaddr=10.1.2.3 2>/dev/null | jq -r '.rule // "none"') ||
	    true
	[ "${r:-none}" = "$3" ]
}
for h in 1 2; do
	wait_for "agent $h watches A" ready $h
	rule_is $h 10.78.0.5 SecureServer || fail "agent $h: initial policy"
done
pass "two providers replicate each other; both agents read and watch A"

# The change, in two operations: the first on A (replicated to B before
# A dies), the second on B once A is gone.
t1=$(want 000000000001)
t2=$(want 000000000002)
[ -n "$t1" ] && [ -n "$t2" ] || fail "variant blobs"
blobs v2 000000000001 | ldapmodify -x -H "$A" -D "$LDAP_ADMIN_DN" -w "$pw" \
    >/dev/null || fail "operation 1 on A"
wait_for "B has operation 1" has "$B" 000000000001 "$t1"
kill -9 "$A_PID"
blobs v2 000000000002 | ldapmodify -x -H "$B" -D "$LDAP_ADMIN_DN" -w "$pw" \
    >/dev/null || fail "operation 2 on B"
converged() {	# H
	local s
	s=$(st "$1")
	[ "$(jq -r .directory.uri <<<"$s")" = "$B" ] &&
	    [ "$(jq -r .directory.notify <<<"$s")" = syncrepl ] &&
	    rule_is "$1" 10.78.0.7 SecureServer && rule_is "$1" 10.78.0.5 none
}
for h in 1 2; do
	wait_for "agent $h fails over to B and applies the final policy" \
	    converged $h
	"$cmd" -c "$tmp/h$h/agentd.conf" --json match src=10.1.2.3 \
	    dst=10.79.1.1 proto=tcp dstport=23 myaddr=10.1.2.3 |
	    jq -e '.rule == "BlockTelnet"' >/dev/null ||
	    fail "agent $h: operation 1 (Telnet list) not in force"
	s=$(st $h)
	[ "$(jq .directory.next_poll_sec <<<"$s")" -ge 10800 ] ||
	    fail "agent $h: $s"
done
pass "A killed in the middle of a change: both agents fail over to B (watch and poll) and converge on the final policy, without a reload"
t_finish "directory failover"
