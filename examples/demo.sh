#!/usr/bin/env bash
# The two-host demo (Debian 12, as root): installs what is missing, builds,
# then runs two ipsec-agentd in two network namespaces, each with the local
# XML policy store (the embedded default source) authored with
# `ipseccmd static` as an administrator would: "negotiate ESP for all
# traffic between us, preshared key". The first ping triggers Main Mode and
# Quick Mode; the demo shows the negotiation, the SAs on both sides, the
# statistics, event 541, and a capture proving the wire carries only ESP.
#
#   bash examples/demo.sh            (DEMO_KEEP=1 keeps the temp dir;
#                                     DEMO_BUILD=dir uses that build tree)
#
# Environment: DEMO_BIN=/usr/sbin runs installed binaries instead of
# building; DEMO_SYSTEM=1 (with DEMO_BIN) makes host A use the installed
# configuration and its paths (/etc/ipsec-agent/ipsec-agentd.conf, its
# store, /run, /var/lib, /var/log/ipsec-agent): it edits that store, so it
# is meant for a test machine. Names and addresses are unique per run
# (the namespaces and veth ends carry the demo's pid) or set with
# DEMO_NS_A, DEMO_NS_B, DEMO_A_IP, DEMO_B_IP. The demo never deletes what
# it did not create: an existing namespace of the same name stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, TUN)" >&2; exit 1; }
bash packaging/install-deps.sh
if [ -n "${DEMO_BIN:-}" ]; then
	agentd=$DEMO_BIN/ipsec-agentd
	cmd=$DEMO_BIN/ipseccmd
	echo "== using the installed $("$agentd" --version)"
else
	build=${DEMO_BUILD:-$top/build/demo}
	# Always let the build tree catch up with the sources (incremental),
	# so the demo never runs stale binaries.
	if [ ! -f "$build/CMakeCache.txt" ]; then
		echo "== configuring a release build in $build"
		cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		    -DBUILD_TESTING=OFF >/dev/null
	fi
	echo "== building ipsec-agentd and ipseccmd in $build"
	cmake --build "$build" -j "$(nproc)" --target ipsec-agentd ipseccmd \
	    >/dev/null
	agentd=$build/service/ipsec-agentd
	cmd=$build/service/ipseccmd
fi
system=${DEMO_SYSTEM:-0}
[ "$system" = 0 ] || [ -n "${DEMO_BIN:-}" ] ||
    { echo "demo: DEMO_SYSTEM=1 needs DEMO_BIN (installed binaries)" >&2; exit 1; }

# tests/lib/agent.sh: namespaces, veth pair, agent configuration, and the
# clean-up on exit (agents stopped, namespaces deleted, temp dir removed).
PA_TEST_KEEP=${DEMO_KEEP:-0}
. "$top/tests/lib/agent.sh"
t_tmpdir ipsec-demo
na=${DEMO_NS_A:-demo$$-a} nb=${DEMO_NS_B:-demo$$-b}
va=dva$$ vb=dvb$$	# at most 15 characters
A_IP=${DEMO_A_IP:-10.77.$(($$ % 250)).1} B_IP=${DEMO_B_IP:-10.77.$(($$ % 250)).2}
for ns in $na $nb; do
	if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
		echo "demo: a network namespace $ns exists already (not ours:" \
		    "left as it is); set DEMO_NS_A/DEMO_NS_B" >&2
		exit 1
	fi
done
cap=
cap_kill() { [ -z "$cap" ] || kill "$cap"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Two hosts: $na ($A_IP) and $nb ($B_IP), linked by a veth pair"
t_netns $na $nb
t_at_exit cap_kill
t_veth $na $va $A_IP/24 $nb $vb $B_IP/24

# One host's local policy store, written with ipseccmd as an administrator
# would, and its service configuration.
author() {
	local s=$1 peer=$2
	local st=(--store "$tmp/$s/store.xml" --secrets "$tmp/$s/secrets.xml")
	# Host A on the installed configuration: ipseccmd finds the store
	# (and the socket) in /etc/ipsec-agent/ipsec-agentd.conf by itself.
	[ "$s:$system" != a:1 ] || st=()
	mkdir -p "$tmp/$s"
	"$cmd" "${st[@]}" static add filteraction name=RequireESP action=negotiate \
	    qmsecmethods="ESP[AES128,SHA1]:3600s/100000kb ESP[3DES,SHA1]" \
	    inpass=no soft=no
	"$cmd" "${st[@]}" static add filter filterlist=Peer srcaddr=me \
	    dstaddr=$peer mirrored=yes
	"$cmd" "${st[@]}" static add policy name="Demo (Require Security)" \
	    mmsecmethods="AES128-SHA1-14 3DES-SHA1-2" assign=yes
	"$cmd" "${st[@]}" static add rule name=SecurePeer \
	    policy="Demo (Require Security)" filterlist=Peer \
	    filteraction=RequireESP psk="demo-preshared-key"
	[ "$s:$system" = a:1 ] ||
	    t_agent_conf $s "policy_source = local" "ike = on"
}
say "Authoring the local policy on each host (ipseccmd static ...)"
author a $B_IP
author b $A_IP
B=("$cmd" -c "$tmp/b.conf")
say "Starting ipsec-agentd on both hosts"
if [ "$system" = 1 ]; then
	A=("$cmd")
	olog_a=/var/log/ipsec-agent/oakley.log
	"${A[@]}" static show all
	ip netns exec $na "$agentd" -c /etc/ipsec-agent/ipsec-agentd.conf \
	    -o oakley_log=on || die "ipsec-agentd a did not start"
	t_at_exit "$cmd" --timeout 5000 service stop
else
	A=("$cmd" -c "$tmp/a.conf")
	olog_a=$tmp/a/oakley.log
	"$cmd" --store "$tmp/a/store.xml" --secrets "$tmp/a/secrets.xml" \
	    static show all
	t_agent_start a $na
fi
t_agent_start b $nb
say "What the running agent on $na holds (ipseccmd show all)"
"${A[@]}" show all

ip netns exec $na tcpdump -l -n --immediate-mode -i $va -c 500 "host $A_IP and host $B_IP" \
    > "$tmp/wire.txt" 2> "$tmp/tcpdump.err" &
cap=$!
for i in $(seq 1 50); do
	grep -q listening "$tmp/tcpdump.err" 2>/dev/null && break
	sleep 0.1
done

say "ping $B_IP from $na (the first packet triggers the negotiation)"
ip netns exec $na ping -c 4 -W 3 $B_IP | tee "$tmp/ping.txt" || true
grep -q '^4 packets transmitted, 4 received' "$tmp/ping.txt" || {
	echo "demo: not every ping was answered (the first must not be lost)" >&2
	exit 1
}

say "The Oakley log of $na (negotiation steps, never keys)"
grep -E 'MM|QM|SA established|proposal' "$olog_a" | head -n 20 || true

say "Main Mode SAs on $na"
"${A[@]}" show mmsas
say "Quick Mode SAs on $na, then on $nb (the SPIs match crosswise)"
"${A[@]}" show qmsas
"${B[@]}" show qmsas
say "Statistics on $na (ipsecmon names)"
"${A[@]}" show stats
say "Audit: event 541 (SA established) on $na"
"${A[@]}" events --id 541

kill -INT $cap 2>/dev/null || true
wait $cap 2>/dev/null || true
cap=
say "What crossed the wire (tcpdump on $na's link)"
# tcpdump prints ESP as "ESP(spi=0x...,seq=0x1)" and ESP-in-UDP on 4500
# as "UDP-encap: ESP(...)"; IKE as "isakmp" (500) or "NONESP-encap" (4500).
sort_wire=$(awk 'NF == 0 { next } { if ($0 ~ /ESP\(spi=/) e++;
    else if ($0 ~ /isakmp|NONESP-encap|\.500 |\.4500 /) i++;
    else if ($0 ~ /ICMP/) c++; else if ($0 !~ / ARP, /) o++ }
    END { printf "ESP packets: %d   IKE packets: %d   clear ICMP: %d   other: %d\n",
    e, i, c, o }' "$tmp/wire.txt")
echo "$sort_wire"
# 4 echo requests and 4 replies, each in its own ESP packet (ARP is not
# counted).
case "$sort_wire" in
*"clear ICMP: 0   other: 0"*)
	esp=$(echo "$sort_wire" | sed 's/^ESP packets: \([0-9]*\).*/\1/')
	[ "$esp" -ge 8 ] || { echo "demo: only $esp ESP packets for 4 pings" >&2; exit 1; }
	grep -q 'ESP(spi=0x[0-9a-f]*,seq=0x1)' "$tmp/wire.txt" || {
		echo "demo: the first ESP packet (seq 1) is not on the wire" >&2; exit 1; }
	echo "Only IKE and ESP crossed the link: the traffic was protected." ;;
*) echo "demo: clear text (or unknown packets) on the link" >&2; exit 1 ;;
esac

say "Stopping $nb: its delete notifications remove $na's SAs"
"${B[@]}" service stop
for i in $(seq 1 300); do
	n=$("${A[@]}" --json show qmsas | jq '.qmsas | length')
	[ "$n" = 0 ] && break
	sleep 0.1
done
"${A[@]}" show qmsas
"${A[@]}" service stop
echo
echo "demo finished"
