#!/usr/bin/env bash
# Helpers to drive uesp_peer hosts from a test script (sourced).
# Needs: $peer (the uesp_peer binary), $tmp (a scratch dir), pids=() and
# a fail() function. Host A talks on fd 3, host B on fd 4.

# start host ns fd: run uesp_peer in ns, commands on a FIFO.
start() {
	mkfifo $tmp/in$1
	ip netns exec $2 "$peer" ipsec0 <$tmp/in$1 >$tmp/out$1 2>$tmp/err$1 &
	pids+=($!)
	eval "pid$1=\$!"
	eval "exec $3>$tmp/in$1"
	eval "n$1=0"
	waitfor $1 0 && grep -q "^0 ok" $tmp/out$1 ||
	    { cat $tmp/err$1; fail "$1 did not start"; }
}
# waitfor host n: wait (10 s at most) for reply n.
waitfor() {
	local i
	for i in $(seq 1 200); do
		grep -q "^$2 " $tmp/out$1 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# try host command...: run it; the reply (after "ok"/"err") is left in
# $R; the status says which. Runs in this shell (never in $(...)): it
# counts the commands sent.
try() {
	local h=$1 fd n r; shift
	fd=$([ $h = A ] && echo 3 || echo 4)
	eval "n$h=\$((n$h + 1))"
	eval "n=\$n$h"
	echo "$*" >&$fd
	waitfor $h $n || fail "$h: no reply to: $*"
	r=$(grep "^$n " $tmp/out$h | head -1)
	case "$r" in
	"$n ok"*) R=${r#$n ok}; return 0;;
	*) R=${r#$n }; return 1;;
	esac
}
# cmd host command...: as try, but an error fails the test.
cmd() {
	try "$@" || fail "$1: ${*:2} -> $R"
}
# st host field: the driver statistic in $S.
st() {
	cmd $1 stats
	S=$(echo "$R" | tr ' ' '\n' | sed -n "s/^$2=//p")
}
poll_until() {	# seconds command...: retry until it succeeds
	local end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ $(date +%s) -ge $end ] && return 1
		sleep 0.1
	done
}

