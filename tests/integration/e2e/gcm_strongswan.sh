#!/usr/bin/env bash
# AES-GCM against strongSwan (issue 13, item 3): our ipsec-agentd (uesp, a
# tunnel-mode rule 10.84.1.0/24 <-> 10.84.2.0/24, PSK, offering only
# ESP[AESGCM128]) and charon (IKEv1, esp_proposals = aes128gcm16,
# kernel-libipsec, so ESP-in-UDP). For each initiation direction: both
# sides install AES_GCM_16 with a 128-bit key under the same SPIs
# crosswise, ping and a 4 MiB TCP transfer each way arrive byte for byte
# (so the keys, the salt and the ICV agree with an independent
# implementation of RFC 4106), and our driver counts no failure. Then
# charon proposing only aes256gcm16: no match (the Key Length attribute
# is compared), charon's Quick Mode fails and we log why.
# Needs root, netns, TUN, nft, charon + swanctl, jq, python3; skips (77).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"
charon=$here/../ike/charon.sh

t_need_agents python3
t_need_charon

id=$$
nsA=gcm6-su$id nsB=gcm6-ss$id
t_tmpdir e2e-gcm-sw
t_netns $nsA $nsB
stop_all() {
	t_agent_gone us
	"$charon" stop "$tmp/sw" >/dev/null 2>&1
	return 0
}
t_at_exit stop_all
t_veth $nsA gcm6u$id 10.84.0.1/24 $nsB gcm6s$id 10.84.0.2/24
ip -n $nsA addr add 10.84.1.1/32 dev lo
ip -n $nsB addr add 10.84.2.1/32 dev lo
ip -n $nsA route add 10.84.2.0/24 via 10.84.0.2 src 10.84.1.1

t_keep_going=1
psk="e2e-gcm-strongswan"
t_psk_policy us subnet:10.84.1.0/24 subnet:10.84.2.0/24 tunnel=10.84.0.2 \
    psk="$psk"
t_policy_esp us AESGCM128
t_agent_conf us "ike = on" "ike_addresses = 10.84.0.1"
US=("$cmd" -c "$tmp/us.conf")
SWURI="unix://$tmp/sw/run/charon.vici"
t_payload 4194304

start_all() {
	t_agent_start us $nsA
	CHARON_ENCAP=yes "$charon" start "$tmp/sw" $nsB 10.84.0.2 10.84.0.1 \
	    "$psk" aes128-sha1-modp2048 "$1" tunnel 10.84.2.0/24 \
	    10.84.1.0/24 || die "charon did not start"
}
check_sas() {
	local q sw in out
	q=$("${US[@]}" --json show qmsas | jq -c '.qmsas')
	sw=$(sw_sas)
	[ "$(jq length <<<"$q")" = 1 ] || { fail "$1: we have $(jq length <<<"$q") QM SAs"; return; }
	in=$(printf %08x "$(jq '.[0].spi_in' <<<"$q")")
	out=$(printf %08x "$(jq '.[0].spi_out' <<<"$q")")
	jq -e '.[0].tunnel == true and .[0].esp_cipher == "AESGCM128" and
	    .[0].esp_integ == "NONE"' <<<"$q" >/dev/null ||
	    fail "$1: our SA is not an AESGCM128 tunnel: $q"
	grep -q "INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128" <<<"$sw" ||
	    fail "$1: charon has no AES_GCM_16-128 ESP-in-UDP SA: $sw"
	grep -Eq "in  *$out[ ,]" <<<"$sw" ||
	    fail "$1: charon's inbound SPI is not our outbound $out: $sw"
	grep -Eq "out *$in[ ,]" <<<"$sw" ||
	    fail "$1: charon's outbound SPI is not our inbound $in: $sw"
}
traffic() {
	t_traffic "$1" $nsA 10.84.1.1 $nsB 10.84.2.1
	"${US[@]}" --json show stats | jq -e '.ipsec.confidential_sent_bytes
	    > 4000000 and .ipsec.confidential_received_bytes > 4000000 and
	    .ipsec.packets_not_authenticated == 0 and
	    .ipsec.packets_not_decrypted == 0' >/dev/null ||
	    fail "$1: our counters: $("${US[@]}" --json show stats | jq -c .ipsec)"
}

# 1. We initiate.
start_all aes128gcm16
f0=$t_failed
ip netns exec $nsA ping -c 1 -W 5 -I 10.84.1.1 10.84.2.1 >/dev/null ||
    fail "we initiate: the first ping was lost"
wait_qmsa || die "we initiate: no SAs: $(tail -5 "$tmp/us/oakley.log")"
check_sas "we initiate"
traffic "we initiate"
[ $t_failed = $f0 ] && pass "we initiate: AES_GCM_16-128 on both sides, same SPIs, ping and 2 x 4 MiB TCP intact"
stop_all

# 2. charon initiates.
start_all aes128gcm16
f0=$t_failed
swanctl --initiate --child t --timeout 10 --uri "$SWURI" >"$tmp/init.out" \
    2>&1 || fail "charon initiates: $(tail -3 "$tmp/init.out")"
wait_qmsa || die "charon initiates: no SAs: $(tail -5 "$tmp/us/oakley.log")"
check_sas "charon initiates"
traffic "charon initiates"
[ $t_failed = $f0 ] && pass "charon initiates: AES_GCM_16-128 on both sides, same SPIs, ping and 2 x 4 MiB TCP intact"
stop_all

# 3. charon proposes AES-GCM with a 256-bit key only: not our offer.
start_all aes256gcm16
f0=$t_failed
swanctl --initiate --child t --timeout 10 --uri "$SWURI" >"$tmp/init.out" \
    2>&1 && fail "key length: charon's aes256gcm16 was accepted"
[ "$("${US[@]}" --json show qmsas | jq '.qmsas | length')" = 0 ] ||
    fail "key length: we installed an SA"
grep -q "no proposal chosen" \
    "$tmp/us/oakley.log" ||
    fail "key length: our Oakley log does not say why: $(tail -5 "$tmp/us/oakley.log")"
[ $t_failed = $f0 ] && pass "charon's aes256gcm16 against our AESGCM128: refused, no SA"
stop_all

t_finish "AES-GCM with strongSwan"
