#!/usr/bin/env bash
# IKEv1 handshake benchmark: the same initiator load (ike_bench, our engine,
# each handshake its own Main Mode + Quick Mode, PSK) against our engine as
# responder (ike_peer on the null driver) and against strongSwan's charon
# as responder, in network namespaces. Reports per responder and DH group:
# handshakes/s up to N1 SAs, responder CPU ms per handshake, responder RSS
# at start, at N1 and at N2 SAs (KiB per SA pair), and the rate at N2.
#
# usage: bench.sh BUILD_DIR [GROUPS] [N1] [N2]   (root; e.g. "modp2048 modp1024" 1000 10000)
# BENCH_RESPONDERS="ours:64 strongswan:4" picks responders and concurrency
# (ours-uesp: our responder on the userspace ESP driver instead of null).
# Each handshake uses a Main Mode of its own with a fresh FQDN ID
# (ike_cfg.unique_ids) so that charon does not merge them as re-auths.
set -uo pipefail
build=${1:?build dir}
groups=${2:-"modp2048 modp1024"}
n1=${3:-1000}
n2=${4:-10000}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
bench=$(find "$build" -name ike_bench -type f -perm -u+x | head -1)
peer=$(find "$build" -name ike_peer -type f -perm -u+x | head -1)
charon_sh=$top/tests/integration/ike/charon.sh
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
[ -x "$bench" ] && [ -x "$peer" ] || { echo "build ike_bench and ike_peer first"; exit 1; }

id=$$ nsA=ike-ha$id nsB=ike-hb$id tmp=$(mktemp -d)
rpid=
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	"$charon_sh" stop "$tmp/sw" >/dev/null 2>&1
	ip netns del "$nsA" 2>/dev/null; ip netns del "$nsB" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
setup_ns() {
	ip netns del "$nsA" 2>/dev/null; ip netns del "$nsB" 2>/dev/null
	ip netns add "$nsA"; ip netns add "$nsB"
	ip link add "ihva$id" type veth peer name "ihvb$id"
	ip link set "ihva$id" netns "$nsA"; ip link set "ihvb$id" netns "$nsB"
	ip -n "$nsA" addr add 10.78.0.1/24 dev "ihva$id"
	ip -n "$nsB" addr add 10.78.0.2/24 dev "ihvb$id"
	ip -n "$nsA" link set "ihva$id" up; ip -n "$nsB" link set "ihvb$id" up
	ip -n "$nsA" link set lo up; ip -n "$nsB" link set lo up
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

# load N: run the initiator for N handshakes, print its result line
load() {
	ip netns exec "$nsA" "$bench" --local 10.78.0.1 --remote 10.78.0.2 \
	    --psk bench-psk --ike "aes128-sha1-$g" --esp aes128-sha1 \
	    --count "$1" --parallel "$par"
}

run() {	# responder name, handshakes in flight
	local who=$1 par=$2 pid t0 t1 r0 r1 r2 line rate1 rate2 cpu dargs
	setup_ns
	if [ "${who%%-*}" = ours ]; then
		# ours: the null driver; ours-uesp: the userspace ESP driver,
		# so that RSS includes a real driver's SA state.
		dargs=()
		[ "$who" = ours ] || dargs=(--driver "${who#ours-}")
		ip netns exec "$nsB" "$peer" --local 10.78.0.2 --remote 10.78.0.1 \
		    --psk bench-psk --ike "aes128-sha1-$g" --esp aes128-sha1 \
		    --tunnel --quiet "${dargs[@]}" >"$tmp/peer.out" 2>&1 &
		rpid=$!
		for _ in $(seq 1 250); do grep -q READY "$tmp/peer.out" && break; sleep 0.02; done
		pid=$rpid
	else
		rm -rf "$tmp/sw"
		CHARON_REMOTE_ID=%any CHARON_UNIQUE=never CHARON_ROUTES=no CHARON_LOG_LEVEL=-1 "$charon_sh" start "$tmp/sw" "$nsB" 10.78.0.2 10.78.0.1 \
		    bench-psk "aes128-sha1-$g" aes128-sha1 tunnel || return
		pid=$(cat "$tmp/sw/charon.pid")
	fi
	r0=$(rss_kb "$pid")
	t0=$(cpu_ticks "$pid")
	line=$(load "$n1")
	t1=$(cpu_ticks "$pid")
	r1=$(rss_kb "$pid")
	rate1=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
	cpu=$(awk -v a="$t0" -v b="$t1" -v h="$hz" -v n="$n1" 'BEGIN { printf "%.2f", (b - a) * 1000 / h / n }')
	echo "  $who $g ($par in flight): $n1 handshakes: rate ${rate1}/s, responder CPU ${cpu} ms/handshake; initiator: $line"
	if [ "$n2" -gt "$n1" ]; then
		load $((n2 - n1 - 1000 > 0 ? n2 - n1 - 1000 : 0)) >/dev/null
		line=$(load 1000)
		rate2=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
		r2=$(rss_kb "$pid")
		echo "  $who $g: RSS ${r0} KiB idle, ${r1} KiB at $n1 SAs, ${r2} KiB at $n2 SAs" \
		    "= $(( (r2 - r0) / n2 * 1024 / 1024 )).$(( ((r2 - r0) * 10 / n2) % 10 )) KiB per SA pair;" \
		    "rate at $((n2 - 1000))..$n2 SAs: ${rate2}/s"
	fi
	if [ "${who%%-*}" = ours ]; then kill "$rpid"; wait "$rpid" 2>/dev/null; rpid=
	else "$charon_sh" stop "$tmp/sw"; fi
}

# charon drops requests (and the initiator waits for retransmissions)
# beyond about 4 concurrent Main Modes from one initiator here; 4 is its
# best rate, so it gets 4; ours is measured at 4 and at 64.
echo "IKEv1 MM+QM PSK handshakes, initiator = ike_bench (our engine)"
for g in $groups; do
	for who in ${BENCH_RESPONDERS:-ours:64 ours:4 strongswan:4}; do
		run "${who%%:*}" "${who##*:}"
	done
done
