#!/usr/bin/env bash
# Every packet size through the uesp driver (issue 13, item 2): two
# ipsec-agentd (uesp, PSK, ESP AES128/SHA1), transport mode between the
# hosts and tunnel mode between two subnets, with the link MTU at 1500 and
# at 1280. Each way: pings of 56 to 65,000 bytes (fragmented by the sender
# before the TUN), UDP datagrams of 1 to 65,000 bytes (each must arrive
# whole), and a 4 MiB TCP transfer with path MTU discovery on (sha256).
# Captures show no clear text of the flows on the link. Needs root, netns,
# TUN, nft, jq, tcpdump, python3; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents tcpdump python3

id=$$
na=uespmtu-a$id nb=uespmtu-b$id
ia=umta$id ib=umtb$id
t_tmpdir uesp-mtu
t_netns $na $nb
t_veth $na $ia 10.85.0.1/24 $nb $ib 10.85.0.2/24
ip -n $na addr add 10.85.11.1/32 dev lo
ip -n $nb addr add 10.85.22.1/32 dev lo
ip -n $na route add 10.85.22.0/24 via 10.85.0.2 src 10.85.11.1
ip -n $nb route add 10.85.11.0/24 via 10.85.0.1 src 10.85.22.1

sizes_ping="56 1000 1372 1373 1400 1452 1472 1473 1500 2000 3000 8000 16000 32000 65000"
sizes_udp="1 1000 1244 1372 1373 1400 1472 1473 2000 4000 8972 16000 32000 65000"

# The UDP check: the receiver echoes each datagram back; the sender sends
# each size until the echo comes back whole (3 tries: a datagram with DF
# over the path MTU is lost once, answered by ICMP "fragmentation
# needed", and the next one is fragmented by the sender, as with any path
# MTU discovery). Both ways cross the SA: the echo is a datagram of the
# same size in the other direction.
udp_echo=$tmp/udp_echo.py
cat > "$udp_echo" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(30)
open(sys.argv[3], "w").close()
while True:
    try:
        d, a = s.recvfrom(70000)
    except socket.timeout:
        break
    if d == b"quit":
        break
    s.sendto(d, a)
EOP
udp_send=$tmp/udp_send.py
cat > "$udp_send" <<'EOP'
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(2)
dst = (sys.argv[2], int(sys.argv[3]))
bad = []
tries = 0
for n in sys.argv[4:]:
    d = os.urandom(int(n))
    for t in range(3):
        tries += 1
        try:
            s.sendto(d, dst)
        except OSError:
            continue
        try:
            while True:
                e, _ = s.recvfrom(70000)
                if e == d:
                    break
        except socket.timeout:
            continue
        break
    else:
        bad.append(n)
s.sendto(b"quit", dst)
print("lost:" + ",".join(bad) if bad else "ok %d sends" % tries)
EOP

# udp FROMNS SRC TONS DST: every size there and back whole
udp() {
	local p r
	rm -f "$tmp/udp.ready"
	ip netns exec "$3" python3 "$udp_echo" "$4" 7010 "$tmp/udp.ready" &
	p=$!
	for _ in $(seq 1 250); do [ -f "$tmp/udp.ready" ] && break; sleep 0.02; done
	r=$(ip netns exec "$1" python3 "$udp_send" "$2" "$4" 7010 $sizes_udp)
	wait $p
	case "$r" in
	ok*) ;;
	*) fail "$what: UDP $2 <-> $4: $r" ;;
	esac
}

# pings FROMNS SRC DST: every size answered
pings() {
	local s bad=""
	for s in $sizes_ping; do
		ip netns exec "$1" ping -c 1 -W 3 -s "$s" -I "$2" "$3" >/dev/null ||
		    ip netns exec "$1" ping -c 1 -W 3 -s "$s" -I "$2" "$3" >/dev/null ||
		    bad="$bad $s"
	done
	[ -z "$bad" ] || fail "$what: ping $2 -> $3 lost sizes:$bad"
}

run() {	# mode mtu
	local mode=$1 mtu=$2 a b pa pb p
	what="$mode, link MTU $mtu"
	ip -n $na link set $ia mtu "$mtu"
	ip -n $nb link set $ib mtu "$mtu"
	if [ "$mode" = transport ]; then
		a=10.85.0.1 b=10.85.0.2
		t_psk_policy a me host:$b psk=mtu-test
		t_psk_policy b me host:$a psk=mtu-test
	else
		a=10.85.11.1 b=10.85.22.1
		t_psk_policy a subnet:10.85.11.0/24 subnet:10.85.22.0/24 \
		    tunnel=10.85.0.2 psk=mtu-test
		t_psk_policy b subnet:10.85.22.0/24 subnet:10.85.11.0/24 \
		    tunnel=10.85.0.1 psk=mtu-test
	fi
	t_agent_conf a "natt_port = off"
	t_agent_conf b "natt_port = off"
	t_agent_start a $na
	t_agent_start b $nb
	ip netns exec $na tcpdump -i $ia -U -w "$tmp/cap.pcap" -s 96 \
	    >/dev/null 2>"$tmp/tcpdump.err" &
	p=$!
	for _ in $(seq 1 250); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.02; done
	ip netns exec $na ping -c 1 -W 8 -I $a $b >/dev/null || fail "$what: first ping"
	pings $na $a $b
	pings $nb $b $a
	udp $na $a $nb $b
	udp $nb $b $na $a
	pass "$what: UDP datagrams of 1 to 65000 bytes there and back"
	kill $p; wait $p 2>/dev/null
	# TCP on its own capture: with PMTU discovery its segments fit once
	# encapsulated (no ESP fragment).
	ip netns exec $na tcpdump -i $ia -U -w "$tmp/tcp.pcap" -s 96 \
	    >/dev/null 2>"$tmp/tcpdump.err" &
	p=$!
	for _ in $(seq 1 250); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.02; done
	t_payload 4194304
	t_tcp_xfer $na $a $nb $b 5011
	t_tcp_xfer $nb $b $na $a 5012
	kill $p; wait $p 2>/dev/null
	local tf te
	te=$(tcpdump -r "$tmp/tcp.pcap" -nn "ip proto 50" 2>/dev/null | wc -l)
	tf=$(tcpdump -r "$tmp/tcp.pcap" -nn "ip proto 50 and ip[6:2] & 0x3fff != 0" 2>/dev/null | wc -l)
	[ "$te" -gt 2000 ] && [ "$tf" = 0 ] ||
	    fail "$what: TCP: $tf ESP fragments of $te ESP packets (PMTU discovery did not work)"
	if [ "$mtu" = 1280 ]; then
		# Nothing larger than the link leaves; what did not fit went
		# as fragments of ESP (after encapsulation), or, once the
		# stack has learned the path MTU from our ICMP, as inner
		# fragments that each fit encapsulated (both are RFC 4303
		# §3.3.4; which one depends on what the stack learned first,
		# so only the count is reported); TCP (DF) learned a smaller
		# path MTU from our ICMP.
		local big fr pm
		big=$(for f in cap tcp; do tcpdump -r "$tmp/$f.pcap" -nn "ip and greater $((mtu + 15))" 2>/dev/null; done | wc -l)
		[ "$big" = 0 ] || fail "$what: $big packets larger than the link MTU"
		fr=$(tcpdump -r "$tmp/cap.pcap" -nn "ip proto 50 and ip[6:2] & 0x3fff != 0" 2>/dev/null | wc -l)
		# (the kernel keeps it on the route the socket looked up,
		# in the main table, before our mark steers the packet)
		pm=$(ip -n $na route get $b | grep -o 'mtu [0-9]*')
		[ -n "$pm" ] || fail "$what: no path MTU learned towards $b"
		pass "$what: nothing over $mtu bytes on the link, $fr ESP fragments (pings, UDP), TCP $tf fragments of $te ESP packets, PMTU towards $b: ${pm#mtu }"
	fi
	local leak
	leak=$(for f in cap tcp; do tcpdump -r "$tmp/$f.pcap" -nn "ip and host $a and host $b and not esp and not udp port 500" 2>/dev/null; done | wc -l)
	[ "$leak" = 0 ] || fail "$what: $leak packets in clear on the link"
	t_agent_stop a || fail "stop a"
	t_agent_stop b || fail "stop b"
	pass "$what: pings up to 65000 both ways, 4 MiB TCP each way intact (PMTU discovery on), nothing in clear"
}

t_keep_going=1
run transport 1500
run transport 1280
run tunnel 1500
run tunnel 1280
t_finish uesp_mtu
