#!/usr/bin/env bash
# The journald and syslog audit sinks: in a private mount namespace
# stand-ins for journald's native socket and for /dev/log
# (journal_recv.py) receive what ipsec-agentd sends; each event type
# carries its stable MESSAGE_ID and structured fields. Needs root and
# unshare; skips (77) otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service

skip() { echo "SKIP: $*"; exit 77; }
if [ "${1:-}" != --inner ]; then
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v unshare >/dev/null || skip "no unshare"
	command -v jq >/dev/null || skip "no jq"
	[ -d /run/systemd ] || skip "no /run/systemd to shadow"
	exec unshare -m --propagation private -- bash "$here/journal_test.sh" --inner
fi

tmp=$(mktemp -d /tmp/svc-journal.XXXXXX)
rpid=
cleanup() {
	local rc=$?
	[ -S "$tmp/ctl.sock" ] && "$bin/ipseccmd" -c "$tmp/agentd.conf" \
	    --timeout 5000 service stop >/dev/null 2>&1 || true
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null || true
	[ -n "${spid:-}" ] && kill "$spid" 2>/dev/null || true
	if [ -d "$tmp/dev" ]; then
		umount /dev 2>/dev/null || true
		for n in null zero urandom random; do
			umount "$tmp/dev/$n" 2>/dev/null || true
		done
	fi
	if [ $rc = 0 ] && [ "${PA_TEST_KEEP:-0}" != 1 ]; then
		rm -rf "$tmp"
	else
		echo "kept $tmp"
	fi
	exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Only this namespace sees the stand-in socket.
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/journal
exec 3< <(exec python3 "$here/journal_recv.py" /run/systemd/journal/socket)
rpid=$!
read -r -t 10 line <&3 || fail "receiver did not start"

cat > "$tmp/agentd.conf" <<EOC
driver = null
ike = off
audit_sink = journald
audit_file =
store = $tmp/store.xml
control_socket = $tmp/ctl.sock
state_dir = $tmp/state
EOC
cp "$here/store.xml" "$tmp/store.xml"
# Wait for the entry with this MESSAGE_ID; print it.
want() {
	local id=$1 e
	while read -r -t 10 e <&3; do
		if [ "$(jq -r '.MESSAGE_ID // ""' <<<"$e")" = "$id" ]; then
			echo "$e"
			return 0
		fi
	done
	return 1
}
"$bin/ipsec-agentd" -c "$tmp/agentd.conf" || fail "start"
e=$(want 5e1c0a9d7b2f4c3e8a61d04b97f30265) || fail "no 613 entry"
jq -e '.IPSEC_EVENT_ID == "613" and .IPSEC_EVENT == "IPSEC_POLICY_START" and
    .IPSEC_POLICY == "SvcTest" and .IPSEC_POLICY_SOURCE == "local" and
    .PRIORITY == "5" and (.MESSAGE | test("IPSEC_POLICY_START"))' <<<"$e" \
    >/dev/null || fail "613 fields: $e"
"$bin/ipseccmd" -c "$tmp/agentd.conf" set diagnostics 3 || fail "set"
e=$(want 5e1c0a9d7b2f4c3e8a61d04b97f31644) || fail "no 5700 entry"
jq -e '.IPSEC_EVENT_ID == "5700" and .IPSEC_UID == "0" and
    .IPSEC_COMMAND == "set diagnostics 3" and .IPSEC_RESULT == "success"' \
    <<<"$e" >/dev/null || fail "5700 fields: $e"
# A failure is a warning (PRIORITY 4): a reload of a broken store, 616.
cp "$tmp/store.xml" "$tmp/store.good"
echo "<broken" > "$tmp/store.xml"
"$bin/ipseccmd" -c "$tmp/agentd.conf" reload >/dev/null 2>&1 &&
    fail "a broken store reloaded"
e=$(want 5e1c0a9d7b2f4c3e8a61d04b97f30268) || fail "no 616 entry"
jq -e '.PRIORITY == "4"' <<<"$e" >/dev/null || fail "616 priority: $e"
cp "$tmp/store.good" "$tmp/store.xml"
"$bin/ipseccmd" -c "$tmp/agentd.conf" service stop >/dev/null || fail "stop"
e=$(want 5e1c0a9d7b2f4c3e8a61d04b97f30266) || fail "no 614 entry"
jq -e '.IPSEC_REASON == "service stopped by uid 0" and
    (.IPSEC_DATA_PATH | startswith("fail-closed"))' <<<"$e" >/dev/null ||
    fail "614 fields: $e"
echo "ok 1 - journald entries with stable MESSAGE_IDs and IPSEC_* fields, failures at PRIORITY 4"

# syslog: /dev/log is a stand-in too (a private /dev with the few nodes
# the daemon uses bound in).
mkdir "$tmp/dev"
for n in null zero urandom random; do
	touch "$tmp/dev/$n"
	mount --bind "/dev/$n" "$tmp/dev/$n"
done
ln -s /proc/self/fd "$tmp/dev/fd"
mount --bind "$tmp/dev" /dev
exec 4< <(exec python3 "$here/journal_recv.py" /dev/log --syslog)
spid=$!
read -r -t 10 line <&4 || fail "syslog receiver did not start"
sed -i 's/^audit_sink = journald$/audit_sink = syslog/' "$tmp/agentd.conf"
"$bin/ipsec-agentd" -c "$tmp/agentd.conf" || fail "start (syslog)"
"$bin/ipseccmd" -c "$tmp/agentd.conf" service stop >/dev/null || fail "stop 2"
got=0
while read -r -t 10 e <&4; do
	l=$(jq -r .line <<<"$e")
	case "$l" in
	*"event=613 name=IPSEC_POLICY_START msgid=5e1c0a9d7b2f4c3e8a61d04b97f30265"*'Policy Source="local" Policy="SvcTest"'*)
		grep -q '^<85>' <<<"$l" || fail "not authpriv.notice: $l"
		got=$((got + 1)) ;;
	*"event=614 name=IPSEC_POLICY_DISABLED"*'Reason="service stopped by uid 0"'*)
		got=$((got + 1)); break ;;
	esac
done
[ $got = 2 ] || fail "syslog lines missing ($got of 2)"
echo "ok 2 - syslog lines (authpriv.notice) with event, name, msgid, fields"
