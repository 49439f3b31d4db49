#!/usr/bin/env bash
# AES-GCM end to end between two agents (issue 13, item 3): two
# ipsec-agentd (uesp driver, PSK) whose stores offer only ESP[AESGCMnnn]
# (RFC 4106, integrity implied). Transport mode with AESGCM128, then a
# subnet-to-subnet tunnel with AESGCM256 (the responder's first choice is
# AESGCM128, which the initiator does not offer, so the Key Length
# attribute decides). Each time: Quick Mode picks GCM on both sides (no
# HMAC), ping and a 4 MiB TCP transfer each way arrive byte for byte, a
# capture on the link shows ESP and not one clear-text IPv4 packet besides
# IKE, and neither driver counts an authentication failure.
# E2E_DRIVER=xfrm runs both agents on the xfrm driver (a kernel with ESP).
# Needs root, netns, TUN, nft, jq, python3, tcpdump; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"

t_need_agents python3 tcpdump

id=$$
na=gcm6-pa$id nb=gcm6-pb$id
t_tmpdir e2e-gcm
t_netns $na $nb
t_veth $na gcm6a$id 10.83.0.1/24 $nb gcm6b$id 10.83.0.2/24
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
t_keep_going=1
t_payload 4194304

stop_both() {
	t_agent_gone a
	t_agent_gone b
	return 0
}

# check WHAT CIPHER TUNNEL: one GCM SA pair each side, crosswise SPIs.
check_sas() {
	local what=$1 c=$2 tun=$3 qa qb
	qa=$("${A[@]}" --json show qmsas | jq -c '.qmsas')
	qb=$("${B[@]}" --json show qmsas | jq -c '.qmsas')
	for q in "$qa" "$qb"; do
		jq -e --arg c "$c" --argjson t "$tun" 'length == 1 and
		    .[0].esp_cipher == $c and .[0].esp_integ == "NONE" and
		    .[0].ah == false and .[0].tunnel == $t' <<<"$q" \
		    >/dev/null || fail "$what: not one $c SA pair: $q"
	done
	[ "$(jq '.[0].spi_in' <<<"$qa")" = "$(jq '.[0].spi_out' <<<"$qb")" ] &&
	    [ "$(jq '.[0].spi_out' <<<"$qa")" = \
	    "$(jq '.[0].spi_in' <<<"$qb")" ] ||
	    fail "$what: SPIs not crosswise: $qa / $qb"
}

# run WHAT CIPHER TUNNEL IP_A IP_B: traffic under a capture, then checks.
run() {
	local what=$1 c=$2 tun=$3 ia=$4 ib=$5 f0=$t_failed n leak st
	# What leaves each end: every packet on the wire, once (pair.sh).
	t_cap_start cap $nb gcm6b$id out
	t_cap_start capa $na gcm6a$id out
	ip netns exec $na ping -c 1 -W "${t_first_wait:-5}" -I $ia $ib >/dev/null ||
	    fail "$what: the first ping (it starts IKE) was lost"
	check_sas "$what" "$c" "$tun"
	t_traffic "$what" $na $ia $nb $ib
	t_cap_stop cap
	t_cap_stop capa
	n=$(( $(t_cap_count cap esp) + $(t_cap_count capa esp) ))
	[ "$n" -gt 1000 ] || fail "$what: only $n ESP packets on the link"
	leak=$(( $(t_cap_count cap "ip and not esp and not udp port 500") +
	    $(t_cap_count capa "ip and not esp and not udp port 500") ))
	[ "$leak" = 0 ] || fail "$what: $leak clear-text packets on the link:
$(for c in cap capa; do tcpdump -r "$tmp/$c.pcap" -nn "ip and not esp and not udp port 500" 2>/dev/null; done | head -5)"
	for s in A B; do
		declare -n c_=$s
		st=$("${c_[@]}" --json show stats | jq -c .ipsec)
		jq -e '.packets_not_authenticated == 0 and
		    .packets_not_decrypted == 0 and
		    .confidential_received_bytes > 4000000' <<<"$st" \
		    >/dev/null || fail "$what: side $s counters: $st"
	done
	grep -q "ESP\[$c\]" "$tmp/a/oakley.log" ||
	    fail "$what: A's Oakley log does not name ESP[$c]"
	[ $t_failed = $f0 ] && pass "$what: $c on both sides, no HMAC, ping and 2 x 4 MiB TCP intact, $n ESP packets and no clear text on the link"
}

# 0. The capture sees clear text when there is no policy (so the checks
# below can fail).
t_cap_start cap0 $nb gcm6b$id
ip netns exec $na ping -c 2 -i 0.2 -W 2 10.83.0.2 >/dev/null ||
    fail "no policy: ping"
t_cap_stop cap0
[ "$(t_cap_count cap0 "ip and not esp and not udp port 500")" -ge 4 ] ||
    fail "no policy: the capture did not see the clear pings"

# 1. Transport, AESGCM128, host to host.
t_psk_policy a me host:10.83.0.2 psk=gcm-pair
t_psk_policy b me host:10.83.0.1 psk=gcm-pair
t_policy_esp a AESGCM128
t_policy_esp b AESGCM128
t_agent_conf a
t_agent_conf b
t_agent_driver a ${E2E_DRIVER:-uesp}
t_agent_driver b ${E2E_DRIVER:-uesp}
t_agent_start a $na
t_agent_start b $nb
run "transport" AESGCM128 false 10.83.0.1 10.83.0.2
stop_both

# 2. Tunnel, subnet to subnet. A offers AESGCM256 only; B prefers
# AESGCM128 and accepts AESGCM256 second.
ip -n $na addr add 10.83.1.1/32 dev lo
ip -n $nb addr add 10.83.2.1/32 dev lo
ip -n $na route add 10.83.2.0/24 via 10.83.0.2 src 10.83.1.1
ip -n $nb route add 10.83.1.0/24 via 10.83.0.1 src 10.83.2.1
t_psk_policy a subnet:10.83.1.0/24 subnet:10.83.2.0/24 tunnel=10.83.0.2 \
    psk=gcm-pair
t_psk_policy b subnet:10.83.2.0/24 subnet:10.83.1.0/24 tunnel=10.83.0.1 \
    psk=gcm-pair
t_policy_esp a AESGCM256
t_policy_esp b AESGCM128
perl -0pi -e 's|(<offer esp=")AESGCM128("[^>]*/>)|$1AESGCM128$2\n    $1AESGCM256$2|s' \
    "$tmp/b/store.xml"
grep -c 'esp="AESGCM' "$tmp/b/store.xml" | grep -qx 2 ||
    die "B's store does not offer AESGCM128 then AESGCM256"
t_agent_start a $na
t_agent_start b $nb
run "tunnel" AESGCM256 true 10.83.1.1 10.83.2.1
stop_both

t_finish "AES-GCM pair"
