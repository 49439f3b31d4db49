#!/usr/bin/env bash
# perf_profile.sh ike|esp [BUILD_DIR]: where the CPU of our responder
# (ike) or of the uesp data path (esp) goes, for docs/benchmarks.md.
#   ike: ike_peer (uesp driver) as responder on CPU 1 under perf record
#        while ike_bench (CPU 0) runs 3000 MM+QM (PSK, MODP-2048, 64 in
#        flight); prints the top symbols (self time) of the responder.
#   esp: perf record -a during bench_uesp.sh (uesp only, CBC then GCM),
#        top symbols of the uesp_peer processes (kernel and user).
# Root, perf. Output: the perf report heads on stdout.
set -uo pipefail
what=${1:?ike|esp}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${2:-$here/../../build/rel}" && pwd)
tb=$build/tests
command -v perf >/dev/null || { echo "SKIP: no perf"; exit 77; }
tmp=$(mktemp -d /tmp/bench-perf.XXXXXX)
id=$$ nsA=bench-pa$id nsB=bench-pb$id
cleanup() {
	ip netns del $nsA 2>/dev/null; ip netns del $nsB 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
report() {	# perf.data [comm]: self time by object, then by symbol
	# (libcrypto has no symbols here: its share is the first table's)
	perf report -i "$1" ${2:+--comms "$2" --percentage relative} \
	    --no-children -g none --sort dso,symbol --stdio 2>/dev/null |
	    grep -E '^ +[0-9]' >"$tmp/syms"
	echo "-- by object (sum of the symbols)"
	awk '{ sub(/%/, "", $1); s[$2] += $1 } END { for (d in s) printf "%7.2f%%  %s\n", s[d], d }' \
	    "$tmp/syms" | sort -rn | head -8
	echo "-- by symbol, outside libcrypto"
	grep -v 'libcrypto' "$tmp/syms" | head -${PERF_TOP:-40}
}
case $what in
ike)
	ip netns add $nsA; ip netns add $nsB
	ip link add bpva$id type veth peer name bpvb$id
	ip link set bpva$id netns $nsA; ip link set bpvb$id netns $nsB
	ip -n $nsA addr add 10.77.8.1/24 dev bpva$id
	ip -n $nsB addr add 10.77.8.2/24 dev bpvb$id
	for n in $nsA $nsB; do ip -n $n link set lo up; done
	ip -n $nsA link set bpva$id up; ip -n $nsB link set bpvb$id up
	ip netns exec $nsB taskset -c 1 perf record -F 2999 -g -o "$tmp/ike.data" \
	    "$tb/ike_peer" --local 10.77.8.2 --remote 10.77.8.1 --psk p \
	    --ike aes128-sha1-modp2048 --esp aes128-sha1 --tunnel --quiet \
	    --driver uesp >"$tmp/peer.out" 2>"$tmp/perf.err" &
	p=$!
	for _ in $(seq 1 250); do grep -q READY "$tmp/peer.out" && break; sleep 0.02; done
	ip netns exec $nsA taskset -c 0 "$tb/ike_bench" --local 10.77.8.1 \
	    --remote 10.77.8.2 --psk p --ike aes128-sha1-modp2048 \
	    --esp aes128-sha1 --count 3000 --parallel 64
	kill -INT $(pgrep -P $p ike_peer 2>/dev/null || pgrep -f "ike_peer --local 10.77.8.2") 2>/dev/null
	wait $p
	echo "== ike_peer responder, self time by symbol"
	report "$tmp/ike.data"
	;;
esp)
	perf record -a -g -F 999 -o "$tmp/esp.data" -- env UESP_BENCH_QUICK=1 \
	    bash "$here/esp/bench_uesp.sh" "$tb/uesp_peer" "$tb/uesp_bench" 5 \
	    >"$tmp/esp.out" 2>"$tmp/perf.err"
	grep -E "Mbit" "$tmp/esp.out"
	echo "== uesp_peer (both sides), self time by symbol"
	report "$tmp/esp.data" uesp_peer
	;;
esac
