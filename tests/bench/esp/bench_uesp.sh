#!/usr/bin/env bash
# Throughput of one TCP stream (iperf3, 5 s) between two network
# namespaces, side by side in one run: plain veth; the uesp driver with
# AES-128-CBC/HMAC-SHA1-96 and AES-128-GCM-16 (tunnel mode, ESP-in-UDP);
# strongSwan's userspace ESP (charon + kernel-libipsec, same proposals,
# same link) when charon is installed; and the single-core ceilings of
# the engine and of raw EVP (uesp_bench).
# Usage: bench_uesp.sh UESP_PEER UESP_BENCH [SECONDS]   (77: cannot run)
# Each iperf line also gives the CPU time of the two ESP processes (both
# uesp_peer, or both charons) per Gbit/s, and a "RESULT esp ..." line for
# tests/bench/run-all.sh. UESP_BENCH_PIN=1 pins side A (its ESP process
# and the iperf3 client) to CPU 0 and side B to CPU 1. charon runs as
# configured for throughput (logging off, large IKE SA table).
set -u
peer=${1:?usage: bench_uesp.sh uesp_peer uesp_bench [seconds]}
ubench=${2:?usage}
secs=${3:-5}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v iperf3 >/dev/null || skip "iperf3 not installed"
A=drvbA$$ B=drvbB$$
tmp=$(mktemp -d /tmp/uesp-bench.XXXXXX)
pids=()
cleanup() {
	exec 3>&- 4>&- 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/../../integration/driver/uesp_lib.sh"

ip netns add $A || skip "no network namespaces"
ip netns add $B
ip link add vA netns $A type veth peer name vB netns $B
# A wire carries packets, not 64 KiB aggregates: veth passes UDP GSO
# aggregates whole to the other namespace unless told to cut them at
# transmission, as a NIC without UDP segmentation offload does.
# UESP_BENCH_AGG=1 leaves them whole (the receiver then cuts them).
if [ "${UESP_BENCH_AGG:-0}" = 0 ]; then
	command -v ethtool >/dev/null || skip "ethtool not installed"
	ip netns exec $A ethtool -K vA tx-udp-segmentation off >/dev/null
	ip netns exec $B ethtool -K vB tx-udp-segmentation off >/dev/null
fi
ip -n $A addr add 10.88.0.1/24 dev vA; ip -n $B addr add 10.88.0.2/24 dev vB
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set vA up; ip -n $B link set vB up

# CPU time (clock ticks) of the processes named in $esp_pids, threads
# included; pin A|B: the taskset prefix for that side's processes.
esp_pids=""
ticks() {
	local p t=0
	for p in $esp_pids; do
		t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0)))
	done
	echo $t
}
pin() {
	[ "${UESP_BENCH_PIN:-0}" = 1 ] || return 0
	echo "taskset -c $([ "$1" = A ] && echo 0 || echo 1)"
}
pin_pid() {	# side pid: move the process and its threads to the side's CPU
	[ "${UESP_BENCH_PIN:-0}" = 1 ] || return 0
	taskset -a -p -c $([ "$1" = A ] && echo 0 || echo 1) $2 >/dev/null
}
# report label key mbit retrans t0 t1: the human line and the RESULT line
report() {
	local cpg
	cpg=$(awk -v a=$5 -v b=$6 -v h=$(getconf CLK_TCK) -v s=$secs -v m=$3 \
	    'BEGIN { if (m > 0) printf "%.3f", (b - a) / h / s / (m / 1000); else print "nan" }')
	printf '%-40s %8s Mbit/s  (%s retransmits)  ESP processes: %s CPU per Gbit/s\n' \
	    "$1" "$3" "$4" "$cpg"
	echo "RESULT esp path=$2 mbps=$3 cpu_per_gbps=$cpg retrans=$4"
}
iperf() {	# label [key]
	ip netns exec $B $(pin B) iperf3 -s -1 -B 10.88.0.2 >/dev/null 2>&1 &
	local s=$! t0 t1
	poll_until 10 sh -c "ip netns exec $B ss -ltn | grep -q :5201" || fail iperf3
	local r
	t0=$(ticks)
	r=$(ip netns exec $A $(pin A) iperf3 -c 10.88.0.2 -t $secs -f m 2>&1 |
	    awk '/sender/ { t = $(NF-1) } /receiver/ { print $(NF-2), t }')
	t1=$(ticks)
	wait $s
	[ -n "$r" ] || fail "$1: iperf3 gave no figure"
	set -- "$1" "${2:-veth}" $r
	report "$1" "$2" "$3" "$4" $t0 $t1
}

# UESP_BENCH_QUICK=1: uesp only (while tuning; not for quoted figures).
quick=${UESP_BENCH_QUICK:-0}
if [ "$quick" = 0 ]; then
	echo "== single core, 1400-byte packets"
	"$ubench" || fail uesp_bench
fi
echo "== one TCP stream, $secs s, between two namespaces"
[ "$quick" = 0 ] && iperf "plain veth"

start A $A 3
start B $B 4
pin_pid A $pidA
pin_pid B $pidB
esp_pids="$pidA $pidB"
cmd A pol 1 out protect 10.88.0.1/32 10.88.0.2/32 0 0 0 10 reqid 1
cmd A pol 1 in protect 10.88.0.2/32 10.88.0.1/32 0 0 0 10 reqid 1
cmd B pol 1 out protect 10.88.0.2/32 10.88.0.1/32 0 0 0 10 reqid 1
cmd B pol 1 in protect 10.88.0.1/32 10.88.0.2/32 0 0 0 10 reqid 1
# uesp_peer holds UDP 4500 with UDP_ENCAP, as the agent's IKE socket.
sas() {	# enc auth ekey1 akey1 ekey2 akey2 spi1 spi2
	local x="tunnel $1 $2"
	cmd B sa in esp 10.88.0.1 10.88.0.2 $7 $x $3 $4 encap 4500 4500 reqid 1
	cmd A sa in esp 10.88.0.2 10.88.0.1 $8 $x $5 $6 encap 4500 4500 reqid 1
	cmd B sa out esp 10.88.0.2 10.88.0.1 $8 $x $5 $6 encap 4500 4500 reqid 1
	cmd A sa out esp 10.88.0.1 10.88.0.2 $7 $x $3 $4 encap 4500 4500 reqid 1
}
unsas() {	# spi1 spi2
	cmd A del 10.88.0.2 esp $1; cmd A del 10.88.0.1 esp $2
	cmd B del 10.88.0.2 esp $1; cmd B del 10.88.0.1 esp $2
}
K=000102030405060708090a0b0c0d0e0f
H=101112131415161718191a1b1c1d1e1f20212223
G=00112233445566778899aabbccddeeff01020304
sas aes128 sha1 $K $H $K $H 1001 2002
# UESP_BENCH_DEBUG=1: kernel counters and links after the CBC run.
[ -n "${UESP_BENCH_DEBUG:-}" ] && { ip netns exec $A nstat -n; ip netns exec $B nstat -n; }
iperf "uesp aes128-cbc/hmac-sha1-96 (udp-encap)" uesp-cbc
[ -n "${UESP_BENCH_DEBUG:-}" ] && { ip netns exec $A nstat; echo ---; ip netns exec $B nstat; ip -n $A -s link; ip -n $B -s link; }
unsas 1001 2002
sas gcm128 none $G - $G - 1003 2004
iperf "uesp aes128-gcm-16 (udp-encap)" uesp-gcm
st B replay; rp=$S; st B not_auth; na=$S
echo "receiver drops: replay=$rp icv=$na"
cmd A quit; cmd B quit
exec 3>&- 4>&-
for h in A B; do
	eval "p=\$pid$h"
	poll_until 10 sh -c "! kill -0 $p 2>/dev/null" ||
	    fail "uesp_peer $h did not quit"
	! grep -q "Sanitizer" $tmp/err$h 2>/dev/null ||
	    fail "uesp_peer $h: $(grep -m1 Sanitizer $tmp/err$h)"
	[ -n "${UESP_BENCH_DEBUG:-}" ] && grep "tun reads" $tmp/err$h
done

# --- strongSwan's userspace backend on the same link ---
[ "$quick" = 0 ] || exit 0
charon=/usr/lib/ipsec/charon
[ -x $charon ] || charon=/usr/libexec/ipsec/charon
if [ ! -x $charon ] || ! command -v swanctl >/dev/null; then
	echo "(strongSwan not installed: no side-by-side figure)"
	exit 0
fi
ip -n $A addr add 10.88.1.1/32 dev lo	# the subnets the tunnel joins
ip -n $B addr add 10.88.2.1/32 dev lo
# sw_start host ns local remote local_ts remote_ts esp: one charon with
# its own config, in its own mount namespace (its /run is ours).
sw_start() {
	local dir=$tmp/sw$1
	mkdir -p $dir/run $dir/swanctl/{x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
	cat >$dir/strongswan.conf <<EOC
charon {
	load = random nonce gmp openssl aes sha1 sha2 hmac gcm kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
	load_modular = no
	install_virtual_ip = no
	block_threshold = 100000
	ikesa_table_size = 32768
	ikesa_table_segments = 16
	dh_exponent_ansi_x9_42 = no
	syslog { daemon { default = -1 }
		auth { default = -1 } }
	filelog { stderr { default = -1 } }
	plugins {
		vici { socket = unix://$dir/run/charon.vici }
		socket-default { fwmark = 0x42 }
		kernel-netlink { fwmark = !0x42 }
		kernel-libipsec { allow_peer_ts = yes }
	}
}
EOC
	cat >$dir/swanctl/swanctl.conf <<EOC
connections {
	t {
		version = 2
		local_addrs = $3
		remote_addrs = $4
		proposals = aes128-sha256-modp2048
		encap = yes
		local { auth = psk
			id = $3 }
		remote { auth = psk
			id = $4 }
		children { t { mode = tunnel
			esp_proposals = $7
			local_ts = $5
			remote_ts = $6 } }
	}
}
secrets { ike-t { id-1 = $3
	id-2 = $4
	secret = "bench-only" } }
EOC
	STRONGSWAN_CONF=$dir/strongswan.conf setsid ip netns exec $2 \
	    unshare --mount --propagation private sh -c \
	    'mount --bind "$1" /run && exec "$2"' sh $dir/run $charon \
	    </dev/null >$dir/out 2>&1 &
	pids+=($!)
	poll_until 15 swanctl --stats --uri unix://$dir/run/charon.vici \
	    >/dev/null 2>&1 || fail "charon $1 did not start: $(cat $dir/out)"
	pin_pid $1 $(cat $dir/run/charon.pid)
	SWANCTL_DIR=$dir/swanctl swanctl --load-all --noprompt \
	    --uri unix://$dir/run/charon.vici \
	    --file $dir/swanctl/swanctl.conf >/dev/null || fail "swanctl $1"
}
sw_stop() {
	local h p
	for h in A B; do
		[ -f $tmp/sw$h/run/charon.pid ] || continue
		p=$(cat $tmp/sw$h/run/charon.pid)
		kill $p 2>/dev/null
		poll_until 10 sh -c "! kill -0 $p 2>/dev/null"
		rm -rf $tmp/sw$h
	done
}
iperf_sw() {	# label key
	ip netns exec $B $(pin B) iperf3 -s -1 -B 10.88.2.1 >/dev/null 2>&1 &
	local s=$! t0 t1
	poll_until 10 sh -c "ip netns exec $B ss -ltn | grep -q :5201" || fail iperf3
	local r
	esp_pids="$(cat $tmp/swA/run/charon.pid) $(cat $tmp/swB/run/charon.pid)"
	t0=$(ticks)
	r=$(ip netns exec $A $(pin A) iperf3 -c 10.88.2.1 -B 10.88.1.1 -t $secs -f m 2>&1 |
	    awk '/sender/ { t = $(NF-1) } /receiver/ { print $(NF-2), t }')
	t1=$(ticks)
	wait $s
	set -- "$1" "$2" ${r:-0 ?}
	report "$1" "$2" "$3" "$4" $t0 $t1
}
for esp in aes128-sha1 aes128gcm16; do
	sw_start A $A 10.88.0.1 10.88.0.2 10.88.1.1/32 10.88.2.1/32 $esp
	sw_start B $B 10.88.0.2 10.88.0.1 10.88.2.1/32 10.88.1.1/32 $esp
	swanctl --initiate --uri unix://$tmp/swA/run/charon.vici --child t \
	    >/dev/null 2>&1 || fail "strongSwan: no tunnel"
	iperf_sw "strongSwan kernel-libipsec $esp" charon-$esp
	sw_stop
done
