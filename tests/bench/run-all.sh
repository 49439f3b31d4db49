#!/usr/bin/env bash
# run-all.sh - the whole benchmark table of issue 17 in one command:
#
#   tests/bench/run-all.sh [--quick] [--runs N] [--build DIR] [--raw FILE]
#                          [--sas "1000 10000"] [--only LIST]
#                          [--groups "modp2048 ecp256"] [--auths "psk rsa"]
#
# (root). Sections (--only takes a comma list of them):
#   ike      IKEv1 MM+QM handshakes/s and responder CPU per handshake, ours
#            (ike_peer on the uesp driver) and strongSwan's charon
#            configured for throughput (ike/charon_tuned.sh, with
#            kernel-libipsec), for MODP-2048, MODP-1024, ECP-256, PSK and
#            RSA certificates; the same initiator (ike_bench) at the same
#            concurrency; the DH floor (dh_floor) measured in the same run
#   scale    rate and RSS as the responder grows to each count of --sas
#            (the rate of the last 1000 handshakes before the count)
#   latency  one handshake at a time: acquire to both Quick Mode SAs
#   agent    two ipsec-agentd (uesp): idle RSS with a one-rule policy and the
#            first ping of a fresh negotiation (agent_first_packet.sh)
#   esp      one TCP stream, uesp vs charon kernel-libipsec, CBC/SHA1 and
#            GCM, CPU of the ESP processes per Gbit/s, EVP ceilings
#            (esp/bench_uesp.sh)
#   spd      SPD compile and lookup (bench_spd)
#   dir      directory fetch of 10,000 filters (directory/bench.sh)
# Each section runs --runs times (default 5; --quick: 1, fewer handshakes,
# PSK MODP-2048 only, --sas 1000), ours and charon one after the other in
# each run (paired). The initiator (and side A) is pinned to CPU 0, each
# responder (side B) to CPU 1 with taskset. Every raw result line, with
# the load average when it was taken, goes to --raw (default
# bench-raw-DATE.txt in the current directory); the table (medians and
# ranges over the runs, ratios taken within each pair) goes to stdout.
# The machine is shared: compare only the side-by-side ratios.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
o_groups= o_auths= quick=0 runs= build=$top/build/rel raw= sas= only=ike,scale,latency,agent,esp,spd,dir
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--runs) runs=$2; shift ;;
	--build) build=$2; shift ;;
	--raw) raw=$2; shift ;;
	--sas) sas=$2; shift ;;
	--only) only=$2; shift ;;
	--groups) o_groups=$2; shift ;;
	--auths) o_auths=$2; shift ;;
	*) echo "usage: run-all.sh [--quick] [--runs N] [--build DIR] [--raw FILE] [--sas LIST] [--only LIST]" >&2
	   exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in taskset python3 ip; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
build=$(cd "$build" && pwd)
tb=$build/tests
for b in ike_bench ike_peer dh_floor uesp_peer uesp_bench bench_spd; do
	[ -x "$tb/$b" ] || { echo "build $tb/$b first" >&2; exit 1; }
done
if [ $quick = 1 ]; then
	runs=${runs:-1} n=200 par=16 groups=modp2048 auths=psk sas=${sas:-1000}
	lat_n=5 esp_secs=2
else
	runs=${runs:-5} n=1000 par=64 groups="modp2048 modp1024 ecp256"
	auths="psk rsa" sas=${sas:-"1000 10000"} lat_n=20 esp_secs=5
fi
groups=${o_groups:-$groups} auths=${o_auths:-$auths}
raw=${raw:-$PWD/bench-raw-$(date -u +%Y%m%dT%H%M%SZ).txt}
have_charon=1
{ [ -x /usr/lib/ipsec/charon ] || [ -x /usr/libexec/ipsec/charon ]; } &&
    command -v swanctl >/dev/null || have_charon=0
pin_i="taskset -c 0" pin_r="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { pin_i= pin_r=; }

id=$$ nsA=bench-ia$id nsB=bench-ib$id tmp=$(mktemp -d /tmp/bench-all.XXXXXX)
rpid=
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	"$here/ike/charon_tuned.sh" stop "$tmp/sw" >/dev/null 2>&1
	ip netns del "$nsA" 2>/dev/null; ip netns del "$nsB" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
loadavg() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' /; }
# rec LINE: a raw result with the load average, to the raw file and stderr
rec() {
	echo "$* load=$(loadavg)" | tee -a "$raw" >&2
	case " $* " in *" error=start "*|*" error=failed "*) touch "$tmp/errors" ;; esac
}
want() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }

touch "$raw"
raw_start=$(wc -l <"$raw")
{
	echo "# run-all.sh $(date -u +%FT%TZ) host $(uname -n) kernel $(uname -r)"
	echo "# $(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	echo "# runs=$runs quick=$quick handshakes=$n in_flight=$par sas=$sas"
	echo "# commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null)$(git -C "$top" diff --quiet 2>/dev/null || echo +dirty)"
	echo "# strongSwan $(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null || echo unknown)"
} >>"$raw"

setup_ns() {
	ip netns del "$nsA" 2>/dev/null; ip netns del "$nsB" 2>/dev/null
	ip netns add "$nsA" && ip netns add "$nsB" || exit 1
	ip link add "biva$id" type veth peer name "bivb$id"
	ip link set "biva$id" netns "$nsA"; ip link set "bivb$id" netns "$nsB"
	ip -n "$nsA" addr add 10.77.9.1/24 dev "biva$id"
	ip -n "$nsB" addr add 10.77.9.2/24 dev "bivb$id"
	ip -n "$nsA" link set "biva$id" up; ip -n "$nsB" link set "bivb$id" up
	ip -n "$nsA" link set lo up; ip -n "$nsB" link set lo up
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

mkpki() {
	local d=$tmp/pki h
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	    -subj "/O=PA Bench/CN=Bench CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
	    -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null || return 1
	for h in init resp; do
		openssl req -newkey rsa:2048 -nodes -subj "/O=PA Bench/CN=$h" \
		    -keyout "$d/$h.key" -out "$d/$h.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$h.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		    -CAcreateserial -days 30 -out "$d/$h.pem" 2>/dev/null || return 1
	done
}
cadn="CN=Bench CA,O=PA Bench"

# resp_start WHO GROUP AUTH: a fresh responder in nsB on CPU 1; sets rpid
resp_start() {
	local who=$1 g=$2 auth=$3 a=()
	# fresh namespaces: the uesp driver's close() leaves its nftables
	# table, rule and route in place (fail-closed) for the next start
	setup_ns
	if [ "$who" = ours ]; then
		[ "$auth" = rsa ] && a=(--cert "$tmp/pki/resp.pem" --key "$tmp/pki/resp.key" \
		    --ca "$tmp/pki/ca.pem" --ca-dn "$cadn")
		ip netns exec "$nsB" $pin_r "$tb/ike_peer" --local 10.77.9.2 \
		    --remote 10.77.9.1 --psk bench-psk --ike "aes128-sha1-$g" \
		    --esp aes128-sha1 --tunnel --quiet --driver uesp "${a[@]}" \
		    >"$tmp/peer.out" 2>&1 &
		rpid=$!
		for _ in $(seq 1 250); do grep -q READY "$tmp/peer.out" && break; sleep 0.02; done
		grep -q READY "$tmp/peer.out" || { cat "$tmp/peer.out" >&2; return 1; }
	else
		rm -rf "$tmp/sw"
		if [ "$auth" = rsa ]; then
			export CHARON_CERT=$tmp/pki/resp.pem CHARON_KEY=$tmp/pki/resp.key \
			    CHARON_CA=$tmp/pki/ca.pem
		else
			unset CHARON_CERT CHARON_KEY CHARON_CA
		fi
		CHARON_REMOTE_ID=%any CHARON_UNIQUE=never CHARON_ROUTES=no \
		    $pin_r "$here/ike/charon_tuned.sh" start "$tmp/sw" "$nsB" \
		    10.77.9.2 10.77.9.1 bench-psk "aes128-sha1-$g" aes128-sha1 tunnel ||
		    return 1
		rpid=$(cat "$tmp/sw/charon.pid")
	fi
}
resp_stop() {
	if [ "$1" = ours ]; then
		kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
		# sanitizer builds: a report from the responder fails the run
		if grep -q "Sanitizer" "$tmp/peer.out"; then
			grep -m5 "Sanitizer\|SUMMARY" "$tmp/peer.out" >&2
			touch "$tmp/errors"
		fi
	else
		"$here/ike/charon_tuned.sh" stop "$tmp/sw"
	fi
	rpid=
}
# load G AUTH COUNT [ike_bench options]: the initiator on CPU 0
load() {
	local g=$1 auth=$2 c=$3 a=()
	shift 3
	[ "$auth" = rsa ] && a=(--cert "$tmp/pki/init.pem" --key "$tmp/pki/init.key" \
	    --ca "$tmp/pki/ca.pem" --ca-dn "$cadn")
	ip netns exec "$nsA" $pin_i "$tb/ike_bench" --local 10.77.9.1 \
	    --remote 10.77.9.2 --psk bench-psk --ike "aes128-sha1-$g" \
	    --esp aes128-sha1 --count "$c" --parallel "$par" "${a[@]}" "$@"
}
kv() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"; }

# ike_one RUN WHO G AUTH: one measured batch of $n handshakes
ike_one() {
	local r=$1 who=$2 g=$3 auth=$4 t0 t1 r0 r1 line
	resp_start "$who" "$g" "$auth" || { rec "RESULT ike run=$r who=$who group=$g auth=$auth error=start"; return; }
	r0=$(rss_kb "$rpid")
	t0=$(cpu_ticks "$rpid")
	line=$(load "$g" "$auth" "$n")
	t1=$(cpu_ticks "$rpid")
	r1=$(rss_kb "$rpid")
	rec "RESULT ike run=$r who=$who group=$g auth=$auth par=$par n=$n" \
	    "rate=$(kv rate "$line") resp_cpu_ms=$(awk -v a=$t0 -v b=$t1 -v h=$hz -v n=$n 'BEGIN { printf "%.3f", (b - a) * 1000 / h / n }')" \
	    "init_cpu_ms=$(kv initiator_cpu_ms_per_hs "$line") done=$(kv handshakes "$line")" \
	    "failures=$(kv failures "$line") retransmits=$(kv retransmits "$line")" \
	    "rss_idle_kb=$r0 rss_kb=$r1"
	resp_stop "$who"
}

# scale_one RUN WHO: grow the responder to each count of $sas
scale_one() {
	local r=$1 who=$2 g=modp2048 t0 t1 r0 r1 line have=0 target pre hs
	resp_start "$who" $g psk || { rec "RESULT scale run=$r who=$who error=start"; return; }
	r0=$(rss_kb "$rpid")
	for target in $sas; do
		pre=$((target - have - 1000))
		if [ $pre -gt 0 ]; then
			line=$(load $g psk $pre)
			hs=$(kv handshakes "$line"); have=$((have + ${hs:-0}))
		fi
		t0=$(cpu_ticks "$rpid")
		line=$(load $g psk 1000)
		t1=$(cpu_ticks "$rpid")
		hs=$(kv handshakes "$line"); have=$((have + ${hs:-0}))
		r1=$(rss_kb "$rpid")
		rec "RESULT scale run=$r who=$who target=$target sas=$have failures=$(kv failures "$line")" \
		    "rate=$(kv rate "$line") resp_cpu_ms=$(awk -v a=$t0 -v b=$t1 -v h=$hz 'BEGIN { printf "%.3f", (b - a) * 1000 / h / 1000 }')" \
		    "rss_idle_kb=$r0 rss_kb=$r1" \
		    "kib_per_sa=$(awk -v a=$r0 -v b=$r1 -v n=$have 'BEGIN { printf "%.2f", n ? (b - a) / n : 0 }')"
	done
	resp_stop "$who"
}

whos="ours"
[ $have_charon = 1 ] && whos="ours charon"
if want ike || want scale || want latency; then
	setup_ns
	mkpki || { echo "cannot make a test PKI" >&2; auths=psk; }
fi
if want ike; then
	echo "== IKE: $n handshakes at $par in flight, $runs paired runs" >&2
	$pin_r "$tb/dh_floor" 200 14 2 19 | while read -r l; do
		rec "RESULT floor ${l#dh_floor }"
	done
	for r in $(seq 1 "$runs"); do
		for g in $groups; do
			for auth in $auths; do
				for who in $whos; do
					ike_one "$r" "$who" "$g" "$auth"
				done
			done
		done
		$pin_r "$tb/dh_floor" 200 14 2 19 | while read -r l; do
			rec "RESULT floor run=$r ${l#dh_floor }"
		done
	done
fi
if want scale; then
	echo "== scale: PSK MODP-2048 to $sas SAs, $runs paired runs" >&2
	for r in $(seq 1 "$runs"); do
		for who in $whos; do
			scale_one "$r" "$who"
		done
	done
fi
if want latency; then
	echo "== latency: $lat_n handshakes one at a time, $runs paired runs" >&2
	for r in $(seq 1 "$runs"); do
		for who in $whos; do
			resp_start "$who" modp2048 psk || continue
			line=$(load modp2048 psk "$lat_n" --latency)
			rec "RESULT latency run=$r who=$who median_ms=$(kv median_ms "$line")" \
			    "max_ms=$(kv max_ms "$line") failed=$(kv failed "$line")" \
			    "all_ms=$(kv latency_ms "$line")"
			resp_stop "$who"
		done
	done
fi
ip netns del "$nsA" 2>/dev/null; ip netns del "$nsB" 2>/dev/null
if want agent; then
	echo "== two agents: idle RSS and first ping, $runs runs" >&2
	BENCH_PIN=1 PA_BINARY_DIR=$build bash "$here/agent_first_packet.sh" "$runs" \
	    >"$tmp/agent.out" 2>&1
	grep '^RESULT' "$tmp/agent.out" | while read -r l; do rec "$l"; done
	grep -q '^SKIP' "$tmp/agent.out" && rec "RESULT agent error=skipped"
	grep -q '^RESULT\|^SKIP' "$tmp/agent.out" || cat "$tmp/agent.out" >&2
fi
if want esp; then
	echo "== ESP: one TCP stream, $esp_secs s, $runs runs" >&2
	for r in $(seq 1 "$runs"); do
		UESP_BENCH_PIN=1 bash "$here/esp/bench_uesp.sh" "$tb/uesp_peer" \
		    "$tb/uesp_bench" "$esp_secs" >"$tmp/esp.out" 2>&1
		sed -nE 's/^EVP (aes-128-cbc|aes-128-gcm).* ([0-9]+) Mbit\/s.*/\1 \2/p' "$tmp/esp.out" |
		    while read -r a m; do rec "RESULT evp run=$r alg=$a mbps=$m"; done
		grep '^RESULT' "$tmp/esp.out" | while read -r l; do rec "$l run=$r"; done
		grep -q '^SKIP' "$tmp/esp.out" && { rec "RESULT esp error=skipped"; break; }
		grep -q '^RESULT' "$tmp/esp.out" || cat "$tmp/esp.out" >&2
	done
fi
if want spd; then
	echo "== SPD" >&2
	for r in $(seq 1 "$runs"); do
		a=()
		[ $quick = 1 ] && a=(--quick)
		"$tb/bench_spd" "${a[@]}" | while read -r l; do
			set -- $l
			rec "RESULT spd run=$r filters=$2 entries=$4 compile_ms=$6 lookups_per_s=${9%/s}"
		done
	done
fi
if want dir; then
	echo "== directory fetch" >&2
	if [ -x "$tb/bench_dir_policy" ]; then
		for r in $(seq 1 "$([ $quick = 1 ] && echo 1 || echo 3)"); do
			out=$("$here/directory/bench.sh" "$tb/bench_dir_policy" 10000 nolimits 2>&1 | tail -1)
			case $out in
			filters*) rec "RESULT dir run=$r $(sed -E 's/ ([0-9]+)/=\1/g; s/^filters=/filters=/' <<<"$out" | tr -s ' ')" ;;
			*) rec "RESULT dir run=$r error=skipped" ;;
			esac
		done
	fi
fi
# the table of this invocation's lines only (the raw file may hold more)
tail -n +$((raw_start + 1)) "$raw" >"$tmp/this.txt"
python3 "$here/bench_table.py" "$tmp/this.txt"
echo
echo "raw runs: $raw"
# a section that gave no figure, a responder that did not start, or an
# IKE batch with failures is an error (the figures would not be whole)
rc=0
for s in ike scale latency agent esp spd; do
	want $s || continue
	grep -q "^RESULT $s " "$tmp/this.txt" ||
	    { echo "no result for section $s" >&2; rc=1; }
done
[ -e "$tmp/errors" ] && { echo "some runs failed (error= in the raw lines)" >&2; rc=1; }
awk '/^RESULT ike / && / failures=[1-9]/ { bad = 1 } END { exit bad }' "$tmp/this.txt" ||
    { echo "IKE batches with failed negotiations" >&2; rc=1; }
exit $rc
