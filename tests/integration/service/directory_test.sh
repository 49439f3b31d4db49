#!/usr/bin/env bash
# ipsec-agentd with policy_source = directory against a real slapd (AD
# IPsec schema, tests/lib/slapd.sh): the domain policy is applied, an
# unreachable directory keeps it (616), and a restart with the directory
# down applies the cached copy. Needs root and slapd (skips with 77).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=$(cd "$here/../../lib" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}
agentd=$bin/service/ipsec-agentd
cmd=$bin/service/ipseccmd
mkldif=${1:?usage: directory_test.sh SVC_MKLDIF}

. "$lib/check.sh"
t_need_root
t_need_tools jq

t_tmpdir svc-dir
t_at_exit "$lib/slapd.sh" stop "$tmp/ldap"
stop_agent() {
	[ ! -S "$tmp/ctl.sock" ] ||
	    "$cmd" -c "$tmp/agentd.conf" --timeout 5000 service stop
}
t_at_exit stop_agent

rc=0
"$lib/slapd.sh" start "$tmp/ldap" --ldif "$here/dir_tree.ldif" >/dev/null ||
    rc=$?
[ $rc = 77 ] && skip "slapd is not installed"
[ $rc = 0 ] || fail "slapd did not start"
# shellcheck disable=SC1091
. "$tmp/ldap/env"
"$mkldif" "$here/dir_store.xml" "$LDAP_BASE" \
    "{5E5E0000-0000-4000-8000-0000000000A1}" "ou=Web,ou=Servers,$LDAP_BASE" \
    > "$tmp/policy.ldif" || fail "svc_mkldif"
"$lib/slapd.sh" load "$tmp/ldap" "$tmp/policy.ldif" >/dev/null ||
    fail "loading the policy into slapd"
umask 077
printf '%s\n' "$LDAP_ADMIN_PW" > "$tmp/ldap.pw"
umask 022
cat > "$tmp/agentd.conf" <<EOC
policy_source = directory
directory_uri = ldap://127.0.0.1:1 $LDAP_URI
directory_base = $LDAP_BASE
directory_computer = HOSTA\$
directory_bind = simple
directory_bind_dn = $LDAP_ADMIN_DN
directory_password_file = $tmp/ldap.pw
directory_starttls = no
directory_insecure_plain = yes
directory_cache = $tmp/state/directory-policy.cache
directory_timeout = 3
directory_min_poll = 1
directory_backoff_unit = 1
store = $tmp/no-local-store.xml
driver = null
ike = off
audit_sink = none
audit_file = $tmp/audit.jsonl
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
EOC
C=("$cmd" -c "$tmp/agentd.conf")
j() { "${C[@]}" --json "$@"; }

"${C[@]}" service start >/dev/null || fail "start"
st=$(j service status)
[ "$(jq -r .policy_source <<<"$st")" = directory ] || fail "source: $st"
[ "$(jq -r .policy <<<"$st")" = SvcTest ] || fail "policy: $st"
[ "$(jq -r .directory.last_poll <<<"$st")" = applied ] || fail "poll: $st"
[ "$(jq .filters <<<"$st")" -gt 0 ] || fail "no filters: $st"
jq -s -e 'map(select(.id == 613)) | .[-1].fields["Policy Source"] ==
    "directory"' "$tmp/audit.jsonl" >/dev/null || fail "613 source"
pass "the domain policy from slapd is applied at start"

# ipseccmd diag binds as the daemon does and reads the last poll.
dj=$("${C[@]}" --json diag) || fail "diag failed with the directory up: $dj"
[ "$(jq -r '.checks[] | select(.name == "directory") | .result' <<<"$dj")" = pass ] ||
    fail "diag: directory not passed: $dj"
[ "$(jq -r '.checks[] | select(.name == "policy_poll") | .result' <<<"$dj")" = pass ] ||
    fail "diag: policy_poll not passed: $dj"
jq -r '.checks[] | select(.name == "directory") | .detail' <<<"$dj" |
    grep -q "bound as dn:$LDAP_ADMIN_DN" || fail "diag: bound as whom? $dj"
! grep -qF "$LDAP_ADMIN_PW" <<<"$dj" || fail "diag printed the bind password"
pass "diag: directory bound (as the daemon binds), last poll passed"

# match asks the daemon: the domain policy in force answers (the local
# store has no policy assigned).
m=$("${C[@]}" --json match src=10.1.2.3 dst=10.78.0.5 myaddr=10.1.2.3) ||
    fail "match through the daemon: $m"
[ "$(jq -r '[.source, .policy, .rule, .action] | join(" ")' <<<"$m")" = \
    "service SvcTest SecureServer negotiate" ] ||
    fail "match through the daemon: $m"
"${C[@]}" match src=10.1.2.3 dst=10.77.3.4 proto=tcp dstport=23 \
    myaddr=10.1.2.3 | grep -q "^Rule        : BlockTelnet" ||
    fail "match (text) through the daemon"
pass "match answers for the domain policy in force, through the daemon"

# An unchanged poll shows: last successful poll moves, last change stays.
c0=$(jq .directory.last_change <<<"$st")
s0=$(jq .directory.last_success <<<"$st")
[ "$c0" -gt 0 ] && [ "$s0" -ge "$c0" ] || fail "poll times at start: $st"
until [ "$(date +%s)" -gt "$s0" ]; do sleep 0.1; done
"${C[@]}" reload >/dev/null || fail "reload (unchanged)"
for i in $(seq 1 300); do
	st=$(j service status)
	[ "$(jq .directory.last_success <<<"$st")" -gt "$s0" ] && break
done
[ "$(jq -r .directory.last_poll <<<"$st")" = unchanged ] ||
    fail "unchanged poll: $st"
[ "$(jq .directory.last_success <<<"$st")" -gt "$s0" ] ||
    fail "last successful poll did not move: $st"
[ "$(jq .directory.last_change <<<"$st")" = "$c0" ] ||
    fail "last change moved on an unchanged poll: $st"
"${C[@]}" show policy | grep -q "last successful poll" ||
    fail "show policy has no poll times"
s1=$(jq .directory.last_success <<<"$st")
until [ "$(date +%s)" -gt "$s1" ]; do sleep 0.1; done
pass "status and show policy: time of the last successful poll and of the last change"

# The directory hangs (slapd stopped with SIGSTOP: connections are taken,
# nothing is answered): the poll waits out directory_timeout on its own
# thread while the service keeps answering at once; then it resumes.
spid=$(cat "$tmp/ldap/slapd.pid")
kill -STOP "$spid"
"${C[@]}" --timeout 1000 reload >/dev/null || fail "reload while the directory hangs"
sleep 0.5			# the poll is under way, waiting on slapd
for i in 1 2 3; do
	out=$("${C[@]}" --json --timeout 1000 service status) ||
	    fail "the service did not answer within 1 s while a directory poll waits"
	sleep 0.3
done
[ "$(jq -r .state <<<"$out")" = RUNNING ] || fail "state while polling: $out"
kill -CONT "$spid"
pass "a hung directory does not stall the service: status answered within 1 s during the poll"
# That poll completes once slapd answers again.
for i in $(seq 1 300); do
	out=$(j service status)
	[ "$(jq .directory.last_success <<<"$out")" -gt "$s1" ] && break
	sleep 0.05
done
s1=$(jq .directory.last_success <<<"$out")

# The directory goes away: the policy in force stays, 616 says why.
"$lib/slapd.sh" stop "$tmp/ldap" >/dev/null
"${C[@]}" reload >/dev/null || fail "reload"
for i in $(seq 1 300); do
	out=$(j service status)
	[ "$(jq -r .directory.last_poll <<<"$out")" = unreachable ] && break
done
[ "$(jq -r .directory.last_poll <<<"$out")" = unreachable ] ||
    fail "no unreachable poll: $out"
[ "$(jq -r .policy <<<"$out")" = SvcTest ] || fail "policy lost: $out"
j events --id 616 | jq -e '.events | length >= 1' >/dev/null ||
    fail "no 616 for the unreachable directory"
[ "$(jq .directory.last_success <<<"$out")" = "$s1" ] ||
    fail "an unreachable poll moved the last successful poll: $out"
pass "unreachable directory: policy kept, 616"
dj=$("${C[@]}" --json diag) && fail "diag passed with the directory down"
[ "$(jq -r '.checks[] | select(.name == "directory") | .result' <<<"$dj")" = fail ] ||
    fail "diag: directory not failed: $dj"
[ "$(jq -r '.checks[] | select(.name == "policy_poll") | .result' <<<"$dj")" = fail ] ||
    fail "diag: policy_poll not failed: $dj"
pass "diag: directory and policy_poll fail with the directory down"

# A restart with the directory still down applies the cached copy.
"${C[@]}" service stop >/dev/null || fail "stop"
"${C[@]}" service start >/dev/null || fail "restart"
st=$(j service status)
[ "$(jq -r .policy_source <<<"$st")" = "directory (cached copy)" ] ||
    fail "cache source: $st"
[ "$(jq -r .policy <<<"$st")" = SvcTest ] || fail "cached policy: $st"
"${C[@]}" service stop >/dev/null || fail "stop 2"
pass "restart with the directory down: the cached copy applies"

# The cache file as it is: match --file, and importpolicy format=ldif.
cache=$tmp/state/directory-policy.cache
m=$("${C[@]}" --json match --file "$cache" src=10.1.2.3 dst=10.78.0.5 \
    myaddr=10.1.2.3) || fail "match --file cache: $m"
[ "$(jq -r '[.source, .policy, .rule] | join(" ")' <<<"$m")" = \
    "$cache SvcTest SecureServer" ] || fail "match --file cache: $m"
"$cmd" -c "$tmp/agentd.conf" --store "$tmp/imported.xml" \
    --secrets "$tmp/imported-secrets.xml" static importpolicy \
    file="$cache" format=ldif >/dev/null || fail "importpolicy of the cache"
"$cmd" -c "$tmp/agentd.conf" --store "$tmp/imported.xml" --json static show \
    policy | jq -e '.policies[0].name == "SvcTest"' >/dev/null ||
    fail "the imported cache has no SvcTest"
cp "$cache" "$tmp/bad.cache"
sed -i 's/SecureServer/SecureServes/' "$tmp/bad.cache"
"${C[@]}" match --file "$tmp/bad.cache" src=10.1.2.3 dst=10.78.0.5 \
    myaddr=10.1.2.3 2>"$tmp/bad.err" && fail "a tampered cache was read"
grep -q "SHA-256" "$tmp/bad.err" || fail "tampered cache: $(cat "$tmp/bad.err")"
pass "the directory cache as it is: match --file and importpolicy read it; a tampered one is refused"
t_finish "directory service"
