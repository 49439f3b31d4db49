# check.sh -- sourced by the integration test scripts: verdicts, skips,
# requirements, the temp dir and what runs on exit.
#
#   skip MSG             print "SKIP: MSG", exit 77 (ctest SKIP_RETURN_CODE)
#   pass MSG             count a passed check, print "ok N - MSG"
#   fail MSG             print "FAIL: MSG" (and the tail of $t_fail_log when
#                        set); exit 1, or with t_keep_going=1 count it
#                        (t_failed) and go on
#   die MSG              print "FAIL: MSG", exit 1
#   t_finish WHAT        exit 1 if a check failed, else "all N WHAT tests passed"
#   t_need_root [WHY]    skip unless root
#   t_need_tools CMD...  skip unless every CMD is on PATH
#   t_need_tun           skip without /dev/net/tun
#   t_tmpdir NAME        tmp=$(mktemp -d /tmp/NAME.XXXXXX), cleaned up on exit
#   t_at_exit CMD...     run CMD on exit (last registered runs first)
#   $t_lib               this folder (tests/lib)
#
# On exit the registered commands run (output discarded), then $tmp is
# removed, or kept (and named) with PA_TEST_KEEP=1 or when the test failed.
# Safe under set -e and set -u.

t_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t_passed=0
t_failed=0
t_keep_going=0
t_fail_log=
t_exits=()
tmp=

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
pass() { t_passed=$((t_passed + 1)); echo "ok $t_passed - $*"; }
fail() {
	echo "FAIL: $*" >&2
	[ -z "$t_fail_log" ] || [ ! -f "$t_fail_log" ] ||
	    tail -20 "$t_fail_log" >&2
	[ "$t_keep_going" = 1 ] || exit 1
	t_failed=$((t_failed + 1))
}

t_finish() {
	[ "$t_failed" = 0 ] || die "$t_failed check(s) failed (logs in $tmp)"
	echo "all $t_passed $1 tests passed"
}

t_need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root${1:+ ($1)}"
}

t_need_tools() {
	local t
	for t; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
	done
}

t_need_tun() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

t_at_exit() {
	t_exits+=("$(printf '%q ' "$@")")
	trap t_cleanup EXIT
}

t_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#t_exits[@]} - 1; i >= 0; i--)); do
		eval "${t_exits[i]}" >/dev/null 2>&1
	done
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		if [ "${PA_TEST_KEEP:-0}" = 1 ] ||
		    { [ "$rc" != 0 ] && [ "$rc" != 77 ]; }; then
			echo "kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}

t_tmpdir() {
	tmp=$(mktemp -d "/tmp/$1.XXXXXX") || die "mktemp"
	trap t_cleanup EXIT
}
