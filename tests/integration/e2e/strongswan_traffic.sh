#!/usr/bin/env bash
# End to end against strongSwan: our ipsec-agentd (uesp driver, a local XML
# store with a tunnel-mode rule 10.78.1.0/24 <-> 10.78.2.0/24, PSK) in one
# network namespace, charon (IKEv1, userspace kernel-libipsec backend,
# which only carries tunnel mode over ESP-in-UDP, so UDP encapsulation is
# forced) in the other. For each initiation direction: the SAs exist on
# both sides with the same SPIs crosswise, ping works both ways, and a TCP
# transfer each way arrives byte for byte. Then the same with SAs short
# enough (20,000 KB) that the transfers cross rekeys.
# Needs root, netns, TUN, nft, charon + swanctl, jq, python3; skips (77).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"
charon=$here/../ike/charon.sh

t_need_agents swanctl python3
[ -x /usr/lib/ipsec/charon ] || [ -x /usr/libexec/ipsec/charon ] ||
    skip "charon not installed"

id=$$
nsA=e2e-us$id nsB=e2e-sw$id
t_tmpdir e2e-sw
t_netns $nsA $nsB
stop_all() {
	t_agent_gone us
	"$charon" stop "$tmp/sw" >/dev/null 2>&1
	return 0
}
t_at_exit stop_all
t_veth $nsA e2eva$id 10.78.0.1/24 $nsB e2evb$id 10.78.0.2/24
# The protected subnets, one address each. Ours is routed towards the
# peer (uesp steers it into its TUN); charon routes its own via its TUN.
ip -n $nsA addr add 10.78.1.1/32 dev lo
ip -n $nsB addr add 10.78.2.1/32 dev lo
ip -n $nsA route add 10.78.2.0/24 via 10.78.0.2 src 10.78.1.1

t_keep_going=1
psk="e2e-strongswan-psk"
t_psk_policy us subnet:10.78.1.0/24 subnet:10.78.2.0/24 tunnel=10.78.0.2 \
    psk="$psk"
t_agent_conf us "ike = on" "ike_addresses = 10.78.0.1"
US=("$cmd" -c "$tmp/us.conf")
t_payload 4194304

start_all() {
	t_agent_start us $nsA
	CHARON_ENCAP=yes "$charon" start "$tmp/sw" $nsB 10.78.0.2 10.78.0.1 \
	    "$psk" aes128-sha1-modp2048 aes128-sha1 tunnel 10.78.2.0/24 \
	    10.78.1.0/24 || die "charon did not start"
}
# sw_sas, wait_qmsa: tests/lib/pair.sh
SWURI="unix://$tmp/sw/run/charon.vici"
# check_sas WHO: one SA pair each, SPIs crosswise, encapsulated tunnel.
check_sas() {
	local q sw in out
	q=$("${US[@]}" --json show qmsas | jq -c '.qmsas')
	sw=$(sw_sas)
	[ "$(jq length <<<"$q")" = 1 ] || { fail "$1: we have $(jq length <<<"$q") QM SAs"; return; }
	in=$(printf %08x "$(jq '.[0].spi_in' <<<"$q")")
	out=$(printf %08x "$(jq '.[0].spi_out' <<<"$q")")
	jq -e '.[0].tunnel == true and .[0].esp_cipher == "AES128"' <<<"$q" \
	    >/dev/null || fail "$1: our SA is not an AES128 tunnel: $q"
	grep -q "INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-128/HMAC_SHA1_96" \
	    <<<"$sw" || fail "$1: charon has no AES128 ESP-in-UDP tunnel SA: $sw"
	grep -Eq "in  *$out[ ,]" <<<"$sw" ||
	    fail "$1: charon's inbound SPI is not our outbound $out: $sw"
	grep -Eq "out *$in[ ,]" <<<"$sw" ||
	    fail "$1: charon's outbound SPI is not our inbound $in: $sw"
	grep -q "NAT" "$tmp/us/oakley.log" ||
	    fail "$1: our Oakley log does not mention NAT-T"
}
traffic() {
	t_traffic "$1" $nsA 10.78.1.1 $nsB 10.78.2.1
	"${US[@]}" --json show stats | jq -e '.ipsec.confidential_sent_bytes
	    > 4000000 and .ipsec.confidential_received_bytes > 4000000' \
	    >/dev/null || fail "$1: our byte counters did not grow"
}

# 1. We initiate: the first packet to charon's subnet triggers it and must
# get through. charon, as responder, adds its inbound SA only once it has
# processed QM #3; we release the held packet one exchange round trip
# after sending QM #3 (see quick_mode.c), so it does not arrive first.
start_all
f0=$t_failed
ip netns exec $nsA ping -c 1 -W 5 -I 10.78.1.1 10.78.2.1 >/dev/null ||
    fail "we initiate: the first ping was lost"
wait_qmsa || die "we initiate: no SAs: $(tail -5 "$tmp/us/oakley.log")"
check_sas "we initiate"
traffic "we initiate"
[ $t_failed = $f0 ] && pass "we initiate: same SPIs both sides, ESP-in-UDP tunnel, ping and 2 x 4 MiB TCP intact"
stop_all

# 2. charon initiates.
start_all
f0=$t_failed
swanctl --initiate --child t --timeout 10 \
    --uri "unix://$tmp/sw/run/charon.vici" >"$tmp/init.out" 2>&1 ||
    fail "charon initiates: swanctl --initiate failed: $(tail -3 "$tmp/init.out")"
wait_qmsa || die "charon initiates: no SAs: $(tail -5 "$tmp/us/oakley.log")"
check_sas "charon initiates"
traffic "charon initiates"
[ $t_failed = $f0 ] && pass "charon initiates: same SPIs both sides, ESP-in-UDP tunnel, ping and 2 x 4 MiB TCP intact"
stop_all

# 3. Rekey with strongSwan under traffic: our SAs last 20,000 KB (a fifth
# of Windows' default), so 32 MiB each way crosses a rekey each (ours, at
# the soft limit, 90 %, under the same Main Mode). The
# transfers stay intact, charon ends up with the newest SPIs, and our
# driver drops nothing: the new pair is in before the old one's hard
# limit, and charon never sends on an SA we removed.
t_psk_policy us subnet:10.78.1.0/24 subnet:10.78.2.0/24 tunnel=10.78.0.2 \
    psk="$psk" kb=20000
t_payload 33554432
start_all
f0=$t_failed
ip netns exec $nsA ping -c 1 -W 5 -I 10.78.1.1 10.78.2.1 >/dev/null ||
    fail "rekey: the first ping was lost"
wait_qmsa || die "rekey: no SAs: $(tail -5 "$tmp/us/oakley.log")"
qm0=$("${US[@]}" --json show stats | jq '.oakley.quick_modes')
traffic "rekey"
qm1=$("${US[@]}" --json show stats | jq '.oakley.quick_modes')
[ $((qm1 - qm0)) -ge 2 ] ||
    fail "rekey: only $((qm1 - qm0)) rekeys across 2 x 32 MiB with 20,000 KB SAs"
# After the last rekey, the newest pair is the one both sides use.
sleep 1
q=$("${US[@]}" --json show qmsas | jq -c '[.qmsas[] | select(.spi_in != null)] | last')
in=$(printf %08x "$(jq '.spi_in' <<<"$q")")
out=$(printf %08x "$(jq '.spi_out' <<<"$q")")
sw=$(sw_sas)
grep -Eq "in  *$out[ ,]" <<<"$sw" && grep -Eq "out *$in[ ,]" <<<"$sw" ||
    fail "rekey: charon does not have our newest pair ($in/$out): $sw"
st=$("${US[@]}" --json show stats | jq -c '.ipsec')
jq -e '.packets_not_authenticated == 0 and .packets_not_decrypted == 0
    and .packets_with_replay_detection == 0 and .bad_spi_packets == 0
    and .held_packets_dropped == 0' \
    <<<"$st" >/dev/null || fail "rekey: our driver dropped packets: $st"
[ $t_failed = $f0 ] && pass "rekey with strongSwan: $((qm1 - qm0)) rekeys under 2 x 32 MiB TCP, intact, newest SPIs on both sides, no drops"
stop_all

t_finish "strongSwan traffic"
