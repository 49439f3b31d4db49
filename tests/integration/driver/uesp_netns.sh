#!/usr/bin/env bash
# The uesp driver end to end between network namespaces, no IKE: two
# hosts A and B with hand-keyed SAs, a third host C behind B.
#
#   A 10.77.1.1 ---- 10.77.1.2 B 10.77.2.2 ---- 10.77.2.3 C
#
# Phase 1: transport mode, AES-128-CBC/HMAC-SHA1-96, raw ESP.
# Phase 2: tunnel mode, AES-128-GCM, ESP-in-UDP (RFC 3948), rekeyed
# during the transfer; byte lifetimes (soft, hard, new acquire).
# Phase 3: IPv6, transport mode, AES-256-CBC/HMAC-SHA256.
# Phase 4: AH (HMAC-SHA256) over ESP, transport, IPv4.
# Checks: the first ping is held during "negotiation" and delivered;
# a multi-MB TCP transfer arrives intact; the capture holds only ESP
# (resp. UDP 4500) and tcpdump's own ESP decoder decrypts it; block and
# permit filters both ways; clear text from C is dropped and counted;
# garbage ESP/AH/UDP-4500 is dropped and counted without harm; close
# removes the driver's nftables table and routing rule.
# Usage: uesp_netns.sh PATH/TO/uesp_peer      (exit 77: cannot run here)
set -u
peer=${1:?usage: uesp_netns.sh uesp_peer}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for t in ip nft tcpdump nc ping sha256sum ethtool jq; do
	command -v $t >/dev/null || skip "$t not installed"
done

sfx=$$
A=drvA$sfx B=drvB$sfx C=drvC$sfx
tmp=$(mktemp -d /tmp/uesp-netns.XXXXXX)
pids=()
cleanup() {
	exec 3>&- 4>&- 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in $A $B $C; do ip netns del $n 2>/dev/null; done
	if [ "${PA_TEST_KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for h in A B; do echo "--- $h:"; tail -5 $tmp/out$h; done; exit 1; }

ip netns add $A || skip "cannot create network namespaces"
ip netns add $B; ip netns add $C
ip link add vAB netns $A type veth peer name vBA netns $B
ip link add vBC netns $B type veth peer name vCB netns $C
ip -n $A addr add 10.77.1.1/24 dev vAB
ip -n $B addr add 10.77.1.2/24 dev vBA
ip -n $B addr add 10.77.2.2/24 dev vBC
ip -n $C addr add 10.77.2.3/24 dev vCB
for n in $A $B $C; do ip -n $n link set lo up; done
# ESP-in-UDP leaves in UDP GSO aggregates: cut them at transmission, as
# a wire would carry them (veth would pass them whole to B's raw socket,
# and the capture would show aggregates instead of packets).
for x in "$A vAB" "$B vBA"; do
	set -- $x
	ip netns exec $1 ethtool -K $2 tx-udp-segmentation off >/dev/null ||
	    skip "ethtool -K $2 tx-udp-segmentation off"
done
ip -n $A link set vAB up; ip -n $B link set vBA up
ip -n $B link set vBC up; ip -n $C link set vCB up
ip -n $A route add 10.77.2.0/24 via 10.77.1.2
ip -n $C route add 10.77.1.0/24 via 10.77.2.2

. "$(dirname "$0")/uesp_lib.sh"

start A $A 3
start B $B 4

EK1=000102030405060708090a0b0c0d0e0f
AK1=101112131415161718191a1b1c1d1e1f20212223
EK2=f0e0d0c0b0a090807060504030201000
AK2=303132333435363738393a3b3c3d3e3f40414243
GK1=00112233445566778899aabbccddeeff01020304
GK2=ffeeddccbbaa99887766554433221100a1a2a3a4

# Filters. A: permit UDP 7777, block TCP 9 both ways, protect the rest
# to/from B. B: protect A; require security for all of 10.77/16 (C has
# no SAs: its clear text is dropped).
cmd A pol 1 out permit any any 17 0 7777 1
cmd A pol 1 in permit any any 17 0 7777 1
cmd A pol 2 out block any any 6 0 9 2
cmd A pol 2 in block any any 6 0 9 2
cmd A pol 10 out protect 10.77.1.1/32 10.77.1.2/32 0 0 0 10 reqid 1
cmd A pol 10 in protect 10.77.1.2/32 10.77.1.1/32 0 0 0 10 reqid 1
cmd B pol 1 in permit any any 17 0 7777 1
cmd B pol 10 out protect 10.77.1.2/32 10.77.1.1/32 0 0 0 10 reqid 1
cmd B pol 10 in protect 10.77.1.1/32 10.77.1.2/32 0 0 0 10 reqid 1
cmd B pol 20 out protect 10.77.2.2/32 10.77.2.0/24 0 0 0 20 reqid 2
cmd B pol 20 in protect 10.77.0.0/16 any 0 0 0 20 reqid 2

# --- the first ping waits for its SAs ---
ip netns exec $A ping -c 1 -W 10 10.77.1.2 >$tmp/ping1 2>&1 &
ping1=$!
acq() { cmd A events; case "$R" in *"acquire:10:1:10.77.1.1/32>10.77.1.2/32:1"*) return 0;; esac; return 1; }
poll_until 10 acq || fail "no acquire on A"
echo "ok: acquire raised for the first ping:$R"
st A queued; [ "$S" -ge 1 ] || fail "the ping was not held"

phase() {	# mode enc auth ekey1 akey1 ekey2 akey2 [encap]
	local m=$1 e=$2 a=$3 k1=$4 a1=$5 k2=$6 a2=$7 x=${8:+encap 4500 4500}
	cmd B sa in esp 10.77.1.1 10.77.1.2 1001 $m $e $a $k1 $a1 $x reqid 1
	cmd A sa in esp 10.77.1.2 10.77.1.1 2002 $m $e $a $k2 $a2 $x reqid 1
	cmd B sa out esp 10.77.1.2 10.77.1.1 2002 $m $e $a $k2 $a2 $x reqid 1
	cmd A sa out esp 10.77.1.1 10.77.1.2 1001 $m $e $a $k1 $a1 $x reqid 1
}
phase transport aes128 sha1 $EK1 $AK1 $EK2 $AK2
wait $ping1 || fail "the first ping was lost: $(cat $tmp/ping1)"
echo "ok: first ping delivered after SA install"

transfer() {	# label capture-filter-that-must-be-empty dst [hook]
	local dst=$3
	head -c 8000000 /dev/urandom >$tmp/data
	ip netns exec $A tcpdump -i vAB -nn -U -B 32768 -w $tmp/cap.pcap \
	    >/dev/null 2>$tmp/tcpdump.err &
	local td=$!; pids+=($td)
	poll_until 10 grep -q "listening on" $tmp/tcpdump.err || fail "tcpdump"
	ip netns exec $B nc -l $dst 5001 >$tmp/recv &
	local nl=$!
	listening() { ip netns exec $B ss -ltn | grep -q ':5001'; }
	poll_until 10 listening || fail "listener"
	ip netns exec $A ping -c 3 -i 0.2 -W 2 $dst >/dev/null ||
	    fail "$1: ping"
	ip netns exec $A timeout 60 nc -N $dst 5001 <$tmp/data &
	local ns=$!
	[ -n "${4:-}" ] && $4
	wait $ns || fail "$1: nc send"
	timeout 30 tail --pid=$nl -f /dev/null
	kill $td; wait $td 2>/dev/null
	# what the capture missed (a loaded machine): counts below add it
	cdrop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' \
	    $tmp/tcpdump.err)
	cdrop=${cdrop:-0}
	[ "$(sha256sum <$tmp/data)" = "$(sha256sum <$tmp/recv)" ] ||
	    fail "$1: 8 MB transfer corrupted ($(wc -c <$tmp/recv) bytes)"
	echo "ok: $1: ping and 8 MB TCP transfer intact"
	local leak
	leak=$(tcpdump -r $tmp/cap.pcap -nn "$2" 2>/dev/null | wc -l)
	[ "$leak" = 0 ] || { tcpdump -r $tmp/cap.pcap -nn "$2" 2>/dev/null | head -5;
	    fail "$1: $leak packets in clear on the link"; }
}
transfer "transport aes128-cbc/hmac-sha1" "ip and not esp" 10.77.1.2
n=$(tcpdump -r $tmp/cap.pcap -nn esp 2>/dev/null | wc -l)
[ $((n + cdrop)) -gt 5000 ] || fail "only $n ESP packets captured ($cdrop dropped)"
# tcpdump's ESP decoder is an independent implementation of RFC 4303.
dec=$(tcpdump -r $tmp/cap.pcap -nn -E "0x1001@10.77.1.2 aes128-cbc-hmac96:0x$EK1" \
    'esp and dst 10.77.1.2' 2>/dev/null | grep -c '[0-9] > 5001: Flags')
[ "$dec" -gt 1000 ] || fail "tcpdump could not decrypt our ESP ($dec)"
echo "ok: capture: $n ESP packets, nothing else; tcpdump -E decrypts $dec TCP segments"
cmd B query 10.77.1.2 esp 1001
case "$R" in *" packets=0 "*) fail "B SA counters: $R";; esac
echo "ok: B inbound SA:$R"

# --- block and permit, both ways ---
ip netns exec $B nc -l 10.77.1.2 9 >/dev/null & pids+=($!)
ip netns exec $A nc -l 10.77.1.1 9 >/dev/null & pids+=($!)
st A blocked; b0=$S
ip netns exec $A nc -z -w 1 10.77.1.2 9 && fail "A->B tcp/9 not blocked"
ip netns exec $B nc -z -w 1 10.77.1.1 9 && fail "B->A tcp/9 not blocked"
st A blocked; b1=$S
[ "$b1" -ge $((b0 + 2)) ] || fail "blocked counter $b0 -> $b1"
ip netns exec $B timeout 5 nc -u -l 10.77.1.2 7777 >$tmp/udp &
ul=$!
sleep_poll() { ip netns exec $B ss -lun | grep -q ':7777'; }
poll_until 5 sleep_poll || fail "udp listener"
echo permitted | ip netns exec $A nc -u -w 1 10.77.1.2 7777
wait $ul
grep -q permitted $tmp/udp || fail "permit filter: UDP 7777 did not pass"
echo "ok: block both ways (A blocked $b0 -> $b1), permit passes in clear"

# --- clear text from C, garbage from C ---
st B cleartext; c0=$S
ip netns exec $C ping -c 2 -W 1 10.77.2.2 >/dev/null && fail "C's clear text got through"
st B cleartext; c1=$S
[ "$c1" -ge $((c0 + 2)) ] || fail "cleartext counter $c0 -> $c1"
ip netns exec $C "$peer" garbage 10.77.1.2 || fail "garbage sender"
# 400 bad packets sent: 300 raw ESP/AH (random or cut short), 100 UDP.
garbage_counted() {
	local a; st B bad_spi; a=$S
	st B not_decrypted; [ $((a + S)) -ge 400 ] && [ "$a" -ge 200 ]
}
poll_until 10 garbage_counted || fail "garbage not counted: $R"
ip netns exec $A ping -c 2 -i 0.2 -W 2 10.77.1.2 >/dev/null || fail "ping after garbage"
cmd B stats; stats=$R
# Drop events reach the agent's loop within a housekeeping period.
evs=
# A bad SPI is an inbound drop naming the SPI (ESP or AH) the packet carried.
dropev() { cmd B events; evs="$evs$R"; case "$evs" in *drop:1:10.77.2.3:*:in:5[01]:[1-9a-f]*) return 0;; esac; return 1; }
poll_until 5 dropev || fail "no bad-SPI drop event (in, with SPI): $evs"
echo "ok: clear text from C dropped ($c0 -> $c1); garbage counted:$stats"

# --- the acquire queue is bounded: 16 held, the rest dropped, counted ---
st B queue_drops; q0=$S
st B not_decrypted; nd0=$S
ip netns exec $B ping -c 20 -i 0.01 -W 1 10.77.2.3 >/dev/null 2>&1
st B queue_drops; q1=$S
[ $((q1 - q0)) -ge 4 ] || fail "queue overflow not counted ($q0 -> $q1)"
acq20() { cmd B events; case "$R" in *acquire:20:2:10.77.2.2/32\>10.77.2.3/32:1*) return 0;; esac; return 1; }
poll_until 5 acq20 || fail "no acquire for B->C: $R"
# Held packets dropped are outbound (never "not decrypted").
qev() { cmd B events; evs="$evs$R"; case "$evs" in *drop:7:*:out:0:0*) return 0;; esac; return 1; }
evs=$R
poll_until 5 qev || fail "no outbound queue-full drop event: $evs"
st B not_decrypted; [ "$S" = "$nd0" ] || fail "queue drops counted as not decrypted ($nd0 -> $S)"
echo "ok: acquire queue bounded ($((q1 - q0)) of 20 dropped), acquire raised"

# --- phase 2: tunnel, GCM, ESP-in-UDP ---
for h in A B; do cmd $h del 10.77.1.2 esp 1001 >/dev/null; cmd $h del 10.77.1.1 esp 2002 >/dev/null; done
# uesp_peer holds UDP 4500 with the agent's BPF filter (IKE only), as the
# agent's IKE socket does with this driver.
phase tunnel gcm128 none $GK1 - $GK2 - encap
# ICMP errors the kernels send (port unreachable for ESP-in-UDP would be
# one per packet, rate-limited; they leave inside the SA, so count them in
# output, not on the link).
for h in A B; do
	eval "ns=\$$h"
	ip netns exec $ns nft -f - <<EON || fail "nft icmp counter"
table inet uesptest {
 counter unreach { }
 chain out { type filter hook output priority 0; policy accept;
  icmp type destination-unreachable counter name unreach
  icmpv6 type destination-unreachable counter name unreach
 }
}
EON
done
# Rekey in the middle of the transfer: new pair in (inbound first), old
# outbound out, old inbound out once it has gone quiet. Nothing may be
# dropped for want of an SA.
rekey() {
	poll_until 10 sh -c "[ \$(wc -c <$tmp/recv) -gt 2000000 ]" ||
	    fail "transfer did not start"
	local x="tunnel gcm128 none" y="encap 4500 4500 reqid 1" a b
	cmd B sa in esp 10.77.1.1 10.77.1.2 3003 $x $GK2 - $y
	cmd A sa in esp 10.77.1.2 10.77.1.1 4004 $x $GK1 - $y
	cmd B sa out esp 10.77.1.2 10.77.1.1 4004 $x $GK1 - $y
	cmd A sa out esp 10.77.1.1 10.77.1.2 3003 $x $GK2 - $y
	cmd A del 10.77.1.2 esp 1001; cmd B del 10.77.1.1 esp 2002
	quiet() {
		cmd B query 10.77.1.2 esp 1001; a=$R
		cmd B query 10.77.1.2 esp 3003
		case "$R" in *" packets=0 "*) return 1;; esac
		cmd B query 10.77.1.2 esp 1001; [ "$a" = "$R" ]
	}
	poll_until 10 quiet || fail "old SA still busy"
	cmd B del 10.77.1.2 esp 1001; cmd A del 10.77.1.1 esp 2002
	rekeyed=1
}
st B bad_spi; bs0=$S
rekeyed=0
# 80 Mbit/s on the link: the 8 MB take about a second, time to rekey.
ip netns exec $A tc qdisc add dev vAB root tbf rate 80mbit burst 64kb latency 200ms ||
    fail "tc"
transfer "tunnel aes128-gcm esp-in-udp, rekeyed midway" \
    "ip and not (udp port 4500)" 10.77.1.2 rekey
ip netns exec $A tc qdisc del dev vAB root
[ $rekeyed = 1 ] || fail "the rekey did not happen"
st B bad_spi; [ "$S" = "$bs0" ] || fail "rekey: $((S - bs0)) packets without SA"
n=$(tcpdump -r $tmp/cap.pcap -nn 'udp port 4500' 2>/dev/null | wc -l)
[ $((n + cdrop)) -gt 5000 ] || fail "only $n ESP-in-UDP packets captured ($cdrop dropped)"
for spi in 1001 3003; do
	c=$(tcpdump -r $tmp/cap.pcap -nn 'udp port 4500 and dst 10.77.1.2' 2>/dev/null |
	    grep -c "spi=0x0000$spi")
	[ "$c" -gt 100 ] || fail "rekey: SPI $spi carried only $c packets"
done
echo "ok: capture: $n ESP-in-UDP packets, nothing else; both SPIs used, no drop"
for h in A B; do
	eval "ns=\$$h"
	u=$(ip netns exec $ns nft -j list counter inet uesptest unreach |
	    jq '.nftables[] | select(.counter) | .counter.packets')
	[ "$u" = 0 ] || fail "$h sent $u ICMP destination unreachable during the ESP-in-UDP transfer"
	ip netns exec $ns nft delete table inet uesptest
done
echo "ok: no ICMP destination unreachable sent by either side for ESP-in-UDP"

# --- lifetimes: soft then hard by bytes, then a new acquire ---
cmd A del 10.77.1.2 esp 3003
cmd A sa out esp 10.77.1.1 10.77.1.2 5005 tunnel gcm128 none $GK2 - encap 4500 4500 reqid 1 bytes 50000 100000
cmd A events
ip netns exec $A ping -c 150 -i 0.01 -s 1000 -W 1 10.77.1.2 >/dev/null
evs=
lifeev() { cmd A events; evs="$evs$R"
	case "$evs" in *expire:5005:soft:*expire:5005:hard:*acquire:10:1:*) return 0;; esac
	return 1; }
poll_until 5 lifeev || fail "lifetime events: $evs"
try A query 10.77.1.2 esp 5005 && fail "hard-expired SA still there"
echo "ok: byte lifetime: soft, hard (SA removed), then a new acquire"

# --- IPv6, transport, AES-256-CBC/HMAC-SHA256 ---
ip -n $A addr add fd00:77:1::1/64 dev vAB nodad
ip -n $B addr add fd00:77:1::2/64 dev vBA nodad
cmd A pol 30 out protect fd00:77:1::1/128 fd00:77:1::2/128 0 0 0 30 reqid 3
cmd A pol 30 in protect fd00:77:1::2/128 fd00:77:1::1/128 0 0 0 30 reqid 3
cmd B pol 30 out protect fd00:77:1::2/128 fd00:77:1::1/128 0 0 0 30 reqid 3
cmd B pol 30 in protect fd00:77:1::1/128 fd00:77:1::2/128 0 0 0 30 reqid 3
K6=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
x6="transport aes256 sha256 $K6 $K6 reqid 3"
cmd B sa in esp fd00:77:1::1 fd00:77:1::2 6001 $x6
cmd A sa in esp fd00:77:1::2 fd00:77:1::1 6002 $x6
cmd B sa out esp fd00:77:1::2 fd00:77:1::1 6002 $x6
cmd A sa out esp fd00:77:1::1 fd00:77:1::2 6001 $x6
transfer "IPv6 transport aes256-cbc/hmac-sha256" \
    "ip6 and not esp and not ip6 multicast and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)" \
    fd00:77:1::2
n=$(tcpdump -r $tmp/cap.pcap -nn 'ip6 and esp' 2>/dev/null | wc -l)
[ $((n + cdrop)) -gt 5000 ] || fail "only $n IPv6 ESP packets captured ($cdrop dropped)"
echo "ok: IPv6 capture: $n ESP packets, nothing else in clear"

# --- AH over ESP (transport), IPv4 ---
cmd A unpol 10 out; cmd A unpol 10 in; cmd B unpol 10 out; cmd B unpol 10 in
cmd A pol 10 out protect 10.77.1.1/32 10.77.1.2/32 0 0 0 10 reqid 1 ah
cmd A pol 10 in protect 10.77.1.2/32 10.77.1.1/32 0 0 0 10 reqid 1 ah
cmd B pol 10 out protect 10.77.1.2/32 10.77.1.1/32 0 0 0 10 reqid 1 ah
cmd B pol 10 in protect 10.77.1.1/32 10.77.1.2/32 0 0 0 10 reqid 1 ah
for h in A B; do try $h del 10.77.1.2 esp 3003; try $h del 10.77.1.1 esp 4004; done
xe="transport aes128 sha1 $EK1 $AK1 reqid 1"
xa="transport none sha256 - $K6 reqid 1"
cmd B sa in esp 10.77.1.1 10.77.1.2 8001 $xe; cmd B sa in ah 10.77.1.1 10.77.1.2 9001 $xa
cmd A sa in esp 10.77.1.2 10.77.1.1 8002 $xe; cmd A sa in ah 10.77.1.2 10.77.1.1 9002 $xa
cmd B sa out esp 10.77.1.2 10.77.1.1 8002 $xe; cmd B sa out ah 10.77.1.2 10.77.1.1 9002 $xa
cmd A sa out esp 10.77.1.1 10.77.1.2 8001 $xe; cmd A sa out ah 10.77.1.1 10.77.1.2 9001 $xa
transfer "AH(hmac-sha256) over ESP transport" "ip and not ah" 10.77.1.2
n=$(tcpdump -r $tmp/cap.pcap -nn 'ah' 2>/dev/null | grep -c "AH(spi=0x00009001")
[ $((n + cdrop)) -gt 5000 ] || fail "only $n AH packets of SPI 9001 captured ($cdrop dropped)"
cmd B query 10.77.1.2 ah 9001
case "$R" in *" packets=0 "*) fail "AH SA unused: $R";; esac
echo "ok: capture: $n AH packets (ESP inside), nothing else"

# --- IKE closes its NAT-T socket: the driver's copy (for UDP GSO) goes
# too, within a TX housekeeping round, and does not hold the port ---
cmd A ikeclose
poll_until 5 sh -c "! ip netns exec $A ss -uan | grep -q ':4500 '" ||
    fail "the driver's copy of the IKE socket still holds UDP 4500"
echo "ok: the IKE socket closed, UDP 4500 is free"

# --- close is fail-closed, clear removes everything ---
cmd A clear; cmd A quit >/dev/null; cmd B quit
exec 3>&- 4>&-
gone() { ! ip netns exec $A nft list tables | grep -q pa_ipsec0 &&
    ! ip -n $A rule | grep -q 0x50410000 &&
    ! ip -n $A route show table 20545 | grep -q unreachable; }
poll_until 10 gone || fail "A: nftables table, ip rule or route left after clear"
echo "ok: clear removed the nftables table, the routing rule and the unreachable route"
kept() { ip netns exec $B nft list tables | grep -q pa_ipsec0 &&
    ip -n $B rule | grep -q 0x50410000 &&
    ip -n $B route show table 20545 | grep -q unreachable; }
poll_until 10 kept || fail "B: close did not keep its table, rule and unreachable route"
echo "ok: close (fail-closed) kept the nftables table, the rule and the unreachable route"
# In a sanitizer build, any report from the peers fails the test.
for h in A B; do
	eval "p=\$pid$h"
	poll_until 10 sh -c "! kill -0 $p 2>/dev/null" ||
	    fail "uesp_peer $h did not quit"
	! grep -q Sanitizer $tmp/err$h ||
	    fail "uesp_peer $h: $(grep -m1 Sanitizer $tmp/err$h)"
done
echo PASS
