#!/usr/bin/env bash
# Troubleshooting keys (ipseccmd set keylog on|off): two agents (uesp, IKE,
# preshared key) negotiate while a capture runs on the link; with A's keylog
# on, the real tshark decrypts the capture with the two files A wrote (its
# ESP SAs and its IKEv1 table): the ICMP inside ESP and the ID payloads of
# Main Mode #5/#6 become readable, which they are not without the files.
# The files are 0600 in a 0700 directory; an administrator who is not root
# is refused (and audited, 5700); off means no further keys are written.
# Needs root, netns, TUN, nft, tcpdump and tshark; skips (77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents tcpdump tshark setpriv
t_tmpdir svc-keylog
na=klga-$$ nb=klgb-$$
t_netns $na $nb
t_veth $na klva-$$ 10.202.0.1/24 $nb klvb-$$ 10.202.0.2/24

t_psk_policy a host:10.202.0.1 host:10.202.0.2
t_psk_policy b host:10.202.0.2 host:10.202.0.1
t_agent_conf a "ike = on" "natt_port = off" "admin_group = nogroup" \
    "control_mode = 0666"
t_agent_conf b "ike = on" "natt_port = off"
t_agent_start a $na
t_agent_start b $nb
A=("$cmd" -c "$tmp/a.conf")
kdir=$tmp/a/state/keylog

# An administrator who is not root may not turn it on.
chmod o+x "$tmp" "$tmp/a"	# nobody reaches the socket (0666), nothing else
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$cmd" --socket "$tmp/a/ctl.sock" set keylog on 2>&1) &&
    fail "a non-root administrator turned the keylog on"
grep -q "root only" <<<"$out" || fail "refusal does not say why: $out"
[ ! -e "$kdir" ] || fail "the keylog directory exists after the refusal"
jq -s -e 'map(select(.id == 5700 and (.fields.Command // "" |
    test("set keylog on")))) | length >= 1' "$tmp/a/audit.jsonl" >/dev/null ||
    fail "the refused keylog is not audited (5700)"
pass "a non-root administrator is refused, and audited (5700)"

"${A[@]}" set keylog on > "$tmp/on.txt" || fail "set keylog on"
grep -q "$kdir/esp_sa" "$tmp/on.txt" || fail "the files are not named: $(cat "$tmp/on.txt")"
[ "$(stat -c %a "$kdir")" = 700 ] || fail "keylog directory mode $(stat -c %a "$kdir")"
for f in esp_sa ikev1_decryption_table; do
	[ "$(stat -c %a "$kdir/$f")" = 600 ] || fail "$f mode $(stat -c %a "$kdir/$f")"
done
pass "set keylog on: 0700 directory, 0600 files"

# round WHAT ESP_LINES: capture while A pings B (new SAs), then tshark
# reads the capture with and without the files A wrote.
round() {
	local what=$1 want=$2 cap n
	rm -f "$tmp/cap.pcap"
	ip netns exec $na tcpdump -i klva-$$ -w "$tmp/cap.pcap" -U \
	    'udp port 500 or esp' 2>/dev/null &
	cap=$!
	sleep 1
	ip netns exec $na ping -c 4 -i 0.3 -W 5 10.202.0.2 >/dev/null ||
	    fail "$what: no ping over ESP"
	sleep 0.5
	kill -INT $cap; wait $cap 2>/dev/null || true
	[ "$(wc -l < "$kdir/esp_sa")" = "$want" ] ||
	    fail "$what: esp_sa: $(cat "$kdir/esp_sa")"
	[ "$(tsh none icmp)" = 0 ] || fail "$what: ICMP readable without the keys"
	[ "$(tsh none 'isakmp.id.type')" = 0 ] ||
	    fail "$what: IKE IDs readable without the keys"
	n=$(tsh keys 'icmp.type == 8')
	[ "$n" -ge 3 ] || fail "$what: tshark decrypted $n echo requests with the keylog"
	n=$(tsh keys 'icmp.type == 0')
	[ "$n" -ge 3 ] || fail "$what: tshark decrypted $n echo replies with the keylog"
	n=$(tsh keys 'isakmp.id.type == 1 && isakmp.exchangetype == 2')
	[ "$n" = 2 ] || fail "$what: tshark read $n Main Mode ID payloads with the keylog, want 2"
	n=$(tsh keys 'isakmp.id.type == 1 && isakmp.exchangetype == 32')
	[ "$n" = 2 ] || fail "$what: tshark read $n Quick Mode messages with IDs, want 2"
	pass "$what: tshark decrypts the capture with the keylog: ESP both ways, MM #5/#6, QM #1/#2"
}

# tshark with A's two files as its ESP SA and IKEv1 tables.
tsh() {
	local o=() l
	if [ "$1" = keys ]; then
		o+=(-o esp.enable_encryption_decode:TRUE)
		while read -r l; do o+=(-o "uat:esp_sa:$l"); done < "$kdir/esp_sa"
		while read -r l; do
			o+=(-o "uat:ikev1_decryption_table:$l")
		done < "$kdir/ikev1_decryption_table"
	fi
	tshark -n -r "$tmp/cap.pcap" "${o[@]}" -Y "$2" 2>/dev/null | wc -l
}
round "ESP AES128/SHA1" 2
[ "$(wc -l < "$kdir/ikev1_decryption_table")" = 1 ] ||
    fail "ikev1 table: $(cat "$kdir/ikev1_decryption_table")"

# AES-GCM (RFC 4106): the key with its salt, Wireshark's GCM name.
. "$t_lib/pair.sh"
"${A[@]}" service stop >/dev/null
"$cmd" -c "$tmp/b.conf" service stop >/dev/null
t_policy_esp a AESGCM128
t_policy_esp b AESGCM128
t_agent_start a $na
t_agent_start b $nb
"${A[@]}" set keylog on >/dev/null || fail "set keylog on (again)"
round "ESP AES-GCM-128" 4
grep -q '"AES-GCM with 16 octet ICV \[RFC4106\]","0x[0-9a-f]\{40\}","NULL"' \
    "$kdir/esp_sa" || fail "GCM line: $(tail -1 "$kdir/esp_sa")"

# Off: the next SAs are not written.
"${A[@]}" set keylog off >/dev/null || fail "set keylog off"
"${A[@]}" service stop >/dev/null
"$cmd" -c "$tmp/b.conf" service stop >/dev/null
t_agent_start a $na
t_agent_start b $nb
ip netns exec $na ping -c 2 -i 0.3 -W 5 10.202.0.2 >/dev/null ||
    fail "no ping after the restart"
[ "$(wc -l < "$kdir/esp_sa")" = 4 ] || fail "keys written while off"
pass "off (and after a restart): no further keys written"

t_finish keylog
