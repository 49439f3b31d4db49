#!/usr/bin/env bash
# IPv6 end to end between two agents (issue 13, item 4): two ipsec-agentd
# (uesp driver, PSK) on a link with only IPv6 addresses; IKE (Main Mode
# and Quick Mode) runs over IPv6 and the IDs are IPv6. Transport mode host
# to host (ESP AES128/SHA1), then a tunnel between two /64s (ESP
# AESGCM128). Each time: the first ping (which starts IKE) arrives, the SA
# pair is the same on both sides (SPIs crosswise, IPv6 selectors), ping
# and a 4 MiB TCP transfer each way arrive byte for byte, and a capture on
# the link shows ESP and no clear-text packet besides IKE, neighbour
# discovery and multicast (router solicitations, MLD reports).
# E2E_DRIVER=xfrm runs both agents on the xfrm driver (a kernel with ESP).
# Needs root, netns, TUN, nft, jq, python3, tcpdump; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"

t_need_agents python3 tcpdump

id=$$
na=gcm6-va$id nb=gcm6-vb$id
t_tmpdir e2e-ipv6
t_netns $na $nb
t_veth6 $na gcm6v$id fd00:87::1/64 $nb gcm6w$id fd00:87::2/64
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
t_keep_going=1
t_payload 4194304
# Clear text that may cross the link: IKE, ND and RS (ICMPv6 133-137,
# first header after the fixed one), anything link-local or to a
# multicast group (MLD reports, also sent from ::).
clear6="(ip or ip6) and not esp and not udp port 500 and
    not src net fe80::/10 and not dst net ff00::/8 and
    not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)"

stop_both() {
	t_agent_gone a
	t_agent_gone b
	return 0
}

# check_sas WHAT CIPHER INTEG TUNNEL SRC_A DST_A
check_sas() {
	local what=$1 c=$2 i=$3 tun=$4 src=$5 dst=$6 qa qb
	qa=$("${A[@]}" --json show qmsas | jq -c '.qmsas')
	qb=$("${B[@]}" --json show qmsas | jq -c '.qmsas')
	jq -e --arg c "$c" --arg i "$i" --argjson t "$tun" --arg s "$src" \
	    --arg d "$dst" 'length == 1 and .[0].esp_cipher == $c and
	    .[0].esp_integ == $i and .[0].tunnel == $t and .[0].src == $s and
	    .[0].dst == $d and .[0].local == "fd00:87::1" and
	    .[0].peer == "fd00:87::2"' <<<"$qa" >/dev/null ||
	    fail "$what: A's SA is not $c/$i $src -> $dst: $qa"
	jq -e --arg s "$src" --arg d "$dst" 'length == 1 and
	    .[0].src == $d and .[0].dst == $s and
	    .[0].local == "fd00:87::2" and .[0].peer == "fd00:87::1"' \
	    <<<"$qb" >/dev/null || fail "$what: B's SA does not mirror A's: $qb"
	[ "$(jq '.[0].spi_in' <<<"$qa")" = "$(jq '.[0].spi_out' <<<"$qb")" ] &&
	    [ "$(jq '.[0].spi_out' <<<"$qa")" = \
	    "$(jq '.[0].spi_in' <<<"$qb")" ] ||
	    fail "$what: SPIs not crosswise: $qa / $qb"
}

# run WHAT CIPHER INTEG TUNNEL IP_A IP_B SEL_A SEL_B
run() {
	local what=$1 ia=$5 ib=$6 f0=$t_failed n leak st
	# What leaves each end: every packet on the wire, once (pair.sh).
	t_cap_start cap $nb gcm6w$id out
	t_cap_start capa $na gcm6v$id out
	ip netns exec $na ping -c 1 -W "${t_first_wait:-5}" -I $ia $ib >/dev/null ||
	    fail "$what: the first ping (it starts IKE) was lost"
	check_sas "$what" "$2" "$3" "$4" "$7" "$8"
	t_traffic "$what" $na $ia $nb $ib
	t_cap_stop cap
	t_cap_stop capa
	n=$(( $(t_cap_count cap "ip6 and esp") + $(t_cap_count capa "ip6 and esp") ))
	[ "$n" -gt 1000 ] || fail "$what: only $n ESP packets on the link"
	[ $(( $(t_cap_count cap "ip6 and udp port 500") +
	    $(t_cap_count capa "ip6 and udp port 500") )) -ge 6 ] ||
	    fail "$what: no IKE over IPv6 on the link"
	leak=$(( $(t_cap_count cap "$clear6") + $(t_cap_count capa "$clear6") ))
	[ "$leak" = 0 ] || fail "$what: $leak clear-text packets on the link:
$(for c in cap capa; do tcpdump -r "$tmp/$c.pcap" -nn "$clear6" 2>/dev/null; done | head -5)"
	for s in A B; do
		declare -n c_=$s
		st=$("${c_[@]}" --json show stats | jq -c .ipsec)
		jq -e '.packets_not_authenticated == 0 and
		    .packets_not_decrypted == 0 and
		    .confidential_received_bytes > 4000000' <<<"$st" \
		    >/dev/null || fail "$what: side $s counters: $st"
	done
	grep -q "MM SA established with fd00:87::2 .*peer ID fd00:87::2" \
	    "$tmp/a/oakley.log" ||
	    fail "$what: A's Main Mode is not with fd00:87::2 by its IPv6 ID"
	[ $t_failed = $f0 ] && pass "$what: IKE over IPv6, $2/$3 SAs $7 <-> $8 on both sides, ping and 2 x 4 MiB TCP intact, $n ESP packets and no clear text on the link"
}

# 0. The capture sees clear text when there is no policy (so the checks
# below can fail).
t_cap_start cap0 $nb gcm6w$id
ip netns exec $na ping -c 2 -i 0.2 -W 2 fd00:87::2 >/dev/null ||
    fail "no policy: ping"
t_cap_stop cap0
[ "$(t_cap_count cap0 "$clear6")" -ge 4 ] ||
    fail "no policy: the capture did not see the clear pings"

# 1. Transport, host to host.
t_psk_policy a me host:fd00:87::2 psk=ipv6-pair
t_psk_policy b me host:fd00:87::1 psk=ipv6-pair
t_agent_conf a
t_agent_conf b
t_agent_driver a ${E2E_DRIVER:-uesp}
t_agent_driver b ${E2E_DRIVER:-uesp}
t_agent_start a $na
t_agent_start b $nb
run "transport" AES128 SHA1 false fd00:87::1 fd00:87::2 fd00:87::1/128 \
    fd00:87::2/128
stop_both

# 2. Tunnel between fd00:87:1::/64 and fd00:87:2::/64, AES-GCM.
ip -n $na addr add fd00:87:1::1/128 dev lo
ip -n $nb addr add fd00:87:2::1/128 dev lo
ip -n $na -6 route add fd00:87:2::/64 via fd00:87::2 src fd00:87:1::1
ip -n $nb -6 route add fd00:87:1::/64 via fd00:87::1 src fd00:87:2::1
t_psk_policy a subnet:fd00:87:1::/64 subnet:fd00:87:2::/64 \
    tunnel=fd00:87::2 psk=ipv6-pair
t_psk_policy b subnet:fd00:87:2::/64 subnet:fd00:87:1::/64 \
    tunnel=fd00:87::1 psk=ipv6-pair
t_policy_esp a AESGCM128
t_policy_esp b AESGCM128
t_agent_start a $na
t_agent_start b $nb
run "tunnel" AESGCM128 NONE true fd00:87:1::1 fd00:87:2::1 \
    fd00:87:1::/64 fd00:87:2::/64
stop_both

t_finish "IPv6 pair"
