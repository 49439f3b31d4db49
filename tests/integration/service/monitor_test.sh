#!/usr/bin/env bash
# ipseccmd monitor (issue 15, item 1) against a real pair of agents (uesp
# driver, IKE, PSK) in two network namespaces carrying traffic:
# - --count N without a terminal: N plain frames (header with the service
#   state, driver and policy source; counters; the SA pair with its
#   traffic, age and rekey time), no escape sequences, exit 0, and the
#   rates are figures from the second frame on;
# - in a real terminal (tmux): the alternate screen and no cursor while it
#   runs; traffic sent between two refreshes (space refreshes) moves the SA
#   pair's bytes and its rate above zero; a new window size redraws at
#   once (labels cut for 80 columns); 'q' quits and Ctrl-C quits, each
#   with exit 0 and the terminal restored (main screen, cursor, echo and
#   canonical mode). Needs root, netns, TUN, nft and tmux; skips (77)
#   otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents tmux

t_tmpdir hmon-mon
na=hmon-a-$$ nb=hmon-b-$$
t_netns $na $nb
t_veth $na hmon-va-$$ 10.201.0.1/24 $nb hmon-vb-$$ 10.201.0.2/24
for s in a b; do
	peer=10.201.0.2
	[ $s = a ] || peer=10.201.0.1
	mkdir -p "$tmp/$s"
	sed "s/@PEER@/$peer/" "$here/pair_store.xml" > "$tmp/$s/store.xml"
	cp "$here/pair_secrets.xml" "$tmp/$s/secrets.xml"
	chmod 600 "$tmp/$s/secrets.xml"
	t_agent_conf $s "ike = on" "natt_port = off"
done
A=("$cmd" -c "$tmp/a.conf")
t_agent_start a $na
t_agent_start b $nb
ip netns exec $na ping -c 3 -W 5 10.201.0.2 >/dev/null ||
    fail "no traffic between the agents: $(tail -5 "$tmp/a/oakley.log")"
[ "$("${A[@]}" --json show qmsas | jq '.qmsas | length')" = 1 ] ||
    fail "no SA pair"

# --- --count, no terminal.
"${A[@]}" monitor --count 3 --interval 0.2 > "$tmp/count.out" \
    2>"$tmp/count.err" < /dev/null || fail "monitor --count: $(cat "$tmp/count.err")"
[ "$(grep -c '^IPsec Monitor ' "$tmp/count.out")" = 3 ] ||
    fail "want 3 frames: $(cat "$tmp/count.out")"
! grep -q $'\033' "$tmp/count.out" || fail "escape sequences without a terminal"
grep -q '^Service RUNNING .* driver uesp  IKE on  policy source local$' \
    "$tmp/count.out" || fail "header: $(head -3 "$tmp/count.out")"
grep -Eq '^Quick Mode SAs: 1$' "$tmp/count.out" || fail "no QM SA count"
grep -Eq '^  10\.201\.0\.2 +10\.201\.0\.1/32 -> 10\.201\.0\.2/32' \
    "$tmp/count.out" || fail "no QM SA line: $(cat "$tmp/count.out")"
grep -Eq '^    in [0-9.kMG]+ B [0-9.kMG]+ pkts - B  out [0-9.kMG]+ B [0-9.kMG]+ pkts - B  age [0-9].*  rekey in [0-9]' \
    "$tmp/count.out" || fail "frame 1: SA traffic without a rate"
[ "$(grep -Ec '^    in .* pkts [0-9.kMG]+/s B  out .* pkts [0-9.kMG]+/s B  age' \
    "$tmp/count.out")" = 2 ] || fail "frames 2 and 3: SA rates"
grep -Eq '^Main Modes +[0-9]+ +- +' "$tmp/count.out" ||
    fail "frame 1: counters without a rate"
[ "$(grep -Ec '^Main Modes +[0-9]+ +[0-9.kMG]+/s' "$tmp/count.out")" = 2 ] ||
    fail "frames 2 and 3: counter rates"
grep -Eq '^  10\.201\.0\.2 +10\.201\.0\.1 +psk +AES128-SHA1-14 +[0-9]+ +[0-9]' \
    "$tmp/count.out" || fail "no MM SA line"
pass "monitor --count 3: three plain frames, header, counters and SAs with rates from the second frame"

# --- In a terminal (tmux, its own server).
T=(tmux -L "hmon-$$" -f /dev/null)
t_at_exit "${T[@]}" kill-server
"${T[@]}" new-session -d -s mon -x 132 -y 60 \
    "env -i PATH=$PATH TERM=xterm HOME=$tmp bash --norc --noprofile" ||
    fail "tmux"
pane() { "${T[@]}" capture-pane -p -t mon; }
fmt() { "${T[@]}" display -p -t mon "$1"; }
# until PATTERN shows in the pane (the program's own progress; bounded)
await() {
	local i
	for i in $(seq 1 600); do
		pane | grep -Eq "$1" && return 0
		sleep 0.1
	done
	fail "$2: $(pane)"
}
mon() {
	"${T[@]}" send-keys -t mon -l "clear; ${A[*]} monitor --interval 3600; echo rc=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' '; echo ."
	"${T[@]}" send-keys -t mon Enter
	await '^IPsec Monitor ' "monitor did not draw"
}
# the SA pair's line "in B B P pkts R B ..." of the pane
saline() { pane | grep -E '^    in ' | head -1; }
restored() {
	await "^rc=0$" "$1: exit status"
	# the modes line is written in two parts (tr, then echo): wait for
	# its end before reading it
	await '^(-?(icanon|echo) )*\.$' "$1: no terminal modes line"
	pane | grep -Eq '^icanon echo \.$' || fail "$1: terminal modes not restored: $(pane)"
	[ "$(fmt '#{alternate_on}')" = 0 ] || fail "$1: still on the alternate screen"
	[ "$(fmt '#{cursor_flag}')" = 1 ] || fail "$1: cursor still hidden"
}

mon
[ "$(fmt '#{alternate_on}')" = 1 ] || fail "not on the alternate screen"
[ "$(fmt '#{cursor_flag}')" = 0 ] || fail "cursor not hidden"
l1=$(saline)
grep -Eq '^    in [0-9]+ B [0-9]+ pkts - B ' <<<"$l1" || fail "first frame: $l1"
b1=$(awk '{print $2}' <<<"$l1")
ip netns exec $na ping -c 5 -i 0.2 -W 2 10.201.0.2 >/dev/null || fail "ping"
"${T[@]}" send-keys -t mon ' '
await '^    in [0-9]+ B [0-9]+ pkts [0-9.kMG]+/s B' "no refresh on space"
l2=$(saline)
b2=$(awk '{print $2}' <<<"$l2")
r2=$(awk '{print $6}' <<<"$l2")
[ "$b2" -ge $((b1 + 5 * 84)) ] || fail "bytes in did not grow by 5 pings: $l1 -> $l2"
awk -v r="${r2%/s}" 'BEGIN { exit !(r + 0 > 0) }' || fail "rate in not above 0: $l2"
pane | grep -Eq 'Confidential Bytes Sent +[0-9.kMG]+ +[0-9.kMG]*[1-9][0-9.kMG]*/s' ||
    fail "Confidential Bytes Sent: no rate above 0: $(pane)"
pass "tmux: alternate screen, no cursor; 5 pings between two refreshes: SA bytes $b1 -> $b2, rate $r2, counter rates above 0"
# A new window size redraws at once, labels cut to two columns of 80.
pane | grep -Eq 'Confidential Bytes Sent +[0-9]' || fail "whole labels at 132 columns: $(pane)"
"${T[@]}" resize-window -t mon -x 80 -y 60 || fail "tmux resize-window"
await 'Confidential Bytes S +[0-9]' "no redraw for 80 columns"
pass "tmux: resized to 80 columns, redrawn at once with the labels cut to fit"
"${T[@]}" send-keys -t mon q
restored "q"
pass "tmux: q quits with exit 0, main screen, cursor, echo and canonical mode back"
mon
"${T[@]}" send-keys -t mon C-c
restored "Ctrl-C"
pass "tmux: Ctrl-C quits with exit 0 and the terminal restored"
t_finish "monitor"
