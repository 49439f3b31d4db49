#!/usr/bin/env bash
# IPv6 against strongSwan (issue 13, item 4): our ipsec-agentd (uesp, a
# tunnel-mode rule fd00:88:1::/64 <-> fd00:88:2::/64, PSK) and charon
# (IKEv1, kernel-libipsec, which carries only tunnel mode over ESP-in-UDP)
# on an IPv6-only link. For each initiation direction: IKE over IPv6
# (NAT-T floated to 4500 over IPv6), the SAs exist on both sides with the
# same SPIs crosswise and IPv6 selectors, ping and a 4 MiB TCP transfer
# each way arrive byte for byte. Once with ESP AES128/SHA1, once with
# AES-GCM (aes128gcm16).
# Needs root, netns, TUN, nft, charon + swanctl, jq, python3; skips (77).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"
charon=$here/../ike/charon.sh

t_need_agents python3
t_need_charon

id=$$
nsA=gcm6-6u$id nsB=gcm6-6s$id
t_tmpdir e2e-ipv6-sw
t_netns $nsA $nsB
stop_all() {
	t_agent_gone us
	"$charon" stop "$tmp/sw" >/dev/null 2>&1
	return 0
}
t_at_exit stop_all
t_veth6 $nsA gcm6p$id fd00:88::1/64 $nsB gcm6q$id fd00:88::2/64
ip -n $nsA addr add fd00:88:1::1/128 dev lo
ip -n $nsB addr add fd00:88:2::1/128 dev lo
ip -n $nsA -6 route add fd00:88:2::/64 via fd00:88::2 src fd00:88:1::1

t_keep_going=1
psk="e2e-ipv6-strongswan"
SWURI="unix://$tmp/sw/run/charon.vici"
US=("$cmd" -c "$tmp/us.conf")
t_payload 4194304

# policy CIPHER [INTEG]
policy() {
	t_psk_policy us subnet:fd00:88:1::/64 subnet:fd00:88:2::/64 \
	    tunnel=fd00:88::2 psk="$psk"
	[ "$1" = AES128 ] || t_policy_esp us "$1" ${2:-}
	t_agent_conf us "ike = on" "ike_addresses = fd00:88::1"
}
start_all() {
	t_agent_start us $nsA
	CHARON_ENCAP=yes "$charon" start "$tmp/sw" $nsB fd00:88::2 fd00:88::1 \
	    "$psk" aes128-sha1-modp2048 "$1" tunnel fd00:88:2::/64 \
	    fd00:88:1::/64 || die "charon did not start"
}
# check_sas WHAT OURCIPHER CHARONALG
check_sas() {
	local q sw in out
	q=$("${US[@]}" --json show qmsas | jq -c '.qmsas')
	sw=$(sw_sas)
	[ "$(jq length <<<"$q")" = 1 ] || { fail "$1: we have $(jq length <<<"$q") QM SAs"; return; }
	in=$(printf %08x "$(jq '.[0].spi_in' <<<"$q")")
	out=$(printf %08x "$(jq '.[0].spi_out' <<<"$q")")
	jq -e --arg c "$2" '.[0].tunnel == true and .[0].esp_cipher == $c and
	    .[0].src == "fd00:88:1::/64" and .[0].dst == "fd00:88:2::/64" and
	    .[0].peer == "fd00:88::2"' <<<"$q" >/dev/null ||
	    fail "$1: our SA is not a $2 tunnel fd00:88:1::/64 -> fd00:88:2::/64: $q"
	grep -q "INSTALLED, TUNNEL-in-UDP, ESP:$3" <<<"$sw" ||
	    fail "$1: charon has no $3 ESP-in-UDP SA: $sw"
	grep -Eq "local +fd00:88:2::/64" <<<"$sw" &&
	    grep -Eq "remote +fd00:88:1::/64" <<<"$sw" ||
	    fail "$1: charon's selectors are not the two /64s: $sw"
	grep -q "local  'fd00:88::2' @ fd00:88::2\[4500\]" <<<"$sw" &&
	    grep -q "remote 'fd00:88::1' @ fd00:88::1\[4500\]" <<<"$sw" ||
	    fail "$1: charon's IKE SA is not over IPv6 (4500) by IPv6 IDs: $sw"
	grep -Eq "in  *$out[ ,]" <<<"$sw" ||
	    fail "$1: charon's inbound SPI is not our outbound $out: $sw"
	grep -Eq "out *$in[ ,]" <<<"$sw" ||
	    fail "$1: charon's outbound SPI is not our inbound $in: $sw"
}
traffic() {
	t_traffic "$1" $nsA fd00:88:1::1 $nsB fd00:88:2::1
	"${US[@]}" --json show stats | jq -e '.ipsec.confidential_sent_bytes
	    > 4000000 and .ipsec.confidential_received_bytes > 4000000 and
	    .ipsec.packets_not_authenticated == 0 and
	    .ipsec.packets_not_decrypted == 0' >/dev/null ||
	    fail "$1: our counters: $("${US[@]}" --json show stats | jq -c .ipsec)"
}

# both OURCIPHER OURINTEG CHARONPROPOSAL CHARONALG
both() {
	local f0
	policy "$1" "$2"
	start_all "$3"
	f0=$t_failed
	ip netns exec $nsA ping -c 1 -W 5 -I fd00:88:1::1 fd00:88:2::1 \
	    >/dev/null || fail "$3, we initiate: the first ping was lost"
	wait_qmsa || die "$3, we initiate: no SAs: $(tail -5 "$tmp/us/oakley.log")"
	check_sas "$3, we initiate" "$1" "$4"
	traffic "$3, we initiate"
	[ $t_failed = $f0 ] && pass "$3, we initiate: IKE over IPv6, $4 tunnel between the /64s on both sides, same SPIs, ping and 2 x 4 MiB TCP intact"
	stop_all

	start_all "$3"
	f0=$t_failed
	swanctl --initiate --child t --timeout 10 --uri "$SWURI" \
	    >"$tmp/init.out" 2>&1 ||
	    fail "$3, charon initiates: $(tail -3 "$tmp/init.out")"
	wait_qmsa || die "$3, charon initiates: no SAs: $(tail -5 "$tmp/us/oakley.log")"
	check_sas "$3, charon initiates" "$1" "$4"
	traffic "$3, charon initiates"
	[ $t_failed = $f0 ] && pass "$3, charon initiates: IKE over IPv6, $4 tunnel between the /64s on both sides, same SPIs, ping and 2 x 4 MiB TCP intact"
	stop_all
}

both AES128 SHA1 aes128-sha1 "AES_CBC-128/HMAC_SHA1_96"
both AESGCM128 "" aes128gcm16 "AES_GCM_16-128"

t_finish "IPv6 with strongSwan"
