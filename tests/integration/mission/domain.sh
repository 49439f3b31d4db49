#!/usr/bin/env bash
# domain.sh [DRIVER] -- the whole chain, as a domain administrator sets it
# up, with everything real: a Samba AD DC (LDAP, KDC, internal DNS) in a
# network namespace on a LAN with two Linux members in namespaces of
# their own. The members join the domain with `adcli join` (machine
# accounts HOSTA$/HOSTB$ in OU=SiteA/OU=SiteB, SPNs, keytabs), their
# resolver asks the DC. A GPO linked to each OU assigns one of Windows'
# built-in policies, the objects Samba's provision writes
# (CN=IP Security,CN=System). ipsec-agentd runs on both members with
# policy_source = directory, directory_domain (the DC by DNS SRV), GSSAPI
# bind and Kerberos IKE from the keytab adcli wrote, and DRIVER (uesp by
# default; xfrm needs the full kernel guest, with MS_SLOW=10 there).
#
# Scenarios (A, B), each with TCP and UDP both ways checked by sha256,
# ping, and a capture on the LAN:
#   Respond <-> Respond   no SAs, traffic in clear
#   Request <-> Respond   the administrator reassigns A's GPO; A picks it
#                         up on `ipseccmd reload`; ESP, nothing in clear
#                         either way; 541 names HOSTB$@REALM on A, HOSTA$
#                         on B
#                         A under Request Security polls the DC after a
#                         soft association (the DC runs no IPsec)
#   Request <-> Request   B reassigned, reload; ESP both ways, no clear
#                         TCP/UDP at all, ICMP in clear (All ICMP: permit)
#   Secure <-> Respond    restart of both (quicker than waiting for soft
#                         associations); ESP, nothing in clear either way
#   Secure <-> Secure     B reassigned, reload; ESP both ways, ICMP clear;
#                         B's next poll cannot reach the DC (DNS and LDAP
#                         held by its own policy): unreachable, policy kept
#   DC stopped            both agents restarted: the cached policy and
#                         the kept Kerberos tickets keep them talking
#                         over ESP, nothing in clear
# Skips (77) without root, namespaces, TUN, Samba's AD DC or adcli.
set -euo pipefail

DRIVER=${1:-uesp}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/samba.sh"
. "$here/../../lib/agent.sh"

REALM=AD.EXAMPLE.TEST DOM=ad.example.test BASE=DC=ad,DC=example,DC=test
RESPOND="Client (Respond Only)"
REQUEST="Server (Request Security)"
SECURE="Secure Server (Require Security)"
DCIP=10.231.0.1 AIP=10.231.0.2 BIP=10.231.0.3
slow=${MS_SLOW:-1}	# deadlines x slow (10 in the emulated guest)
export SAMBA_TIMEOUT=${SAMBA_TIMEOUT:-$((60 * slow))}

samba_need adcli tcpdump ldapsearch jq
t_need_agents
t_tmpdir ms-domain
id=$$
nd=msd$id na=msa$id nb=msb$id
t_netns "$nd" "$na" "$nb"
t_lan "ms$id" "$nd" $DCIP/24 "$na" $AIP/24 "$nb" $BIP/24
t0=$(date +%s)

# --- the DC: provision, listen on the LAN, dc1's A record, the GPOs ---
samba_provision $REALM $DOM "ldap cldap kdc dns"
samba_listen $DCIP
samba_dns_host dc1 $DCIP
samba_spn 'DC1$' ldap/dc1.$DOM ldap/DC1 ldap/dc1.$DOM/$DOM ldap/dc1.$DOM/AD
samba_setup_ipsec
samba_gpo SiteA "IPsec SiteA" "$RESPOND"
samba_gpo SiteB "IPsec SiteB" "$RESPOND"
samba_start_in "$nd" samba_lan_up $DCIP "$na"

# --- the members: resolver, krb5.conf, adcli join ---
samba_member a "$na" $DCIP $((3 * slow))
samba_member b "$nb" $DCIP $((3 * slow))
samba_join a "$na" HOSTA SiteA
samba_join b "$nb" HOSTB SiteB
ip netns exec "$nd" ldapsearch -x -H ldap://127.0.0.1 -b "" -s base \
    >/dev/null 2>&1 || die "the DC died"
pass "DC up, HOSTA and HOSTB joined with adcli into OU=SiteA, OU=SiteB" \
    "($(($(date +%s) - t0)) s)"

# --- the agents ---
conf() {	# s NAME
	t_agent_conf "$1" "policy_source = directory" \
	    "directory_domain = $DOM" "directory_base = $BASE" \
	    "directory_computer = $2\$" "directory_bind = gssapi" \
	    "directory_keytab = $tmp/$1/krb5.keytab" \
	    "directory_principal = $2\$@$REALM" "directory_starttls = no" \
	    "directory_cache = $tmp/$1/state/directory.cache" \
	    "directory_timeout = $((8 * slow))" "directory_min_poll = 1" \
	    "directory_backoff_unit = 1" "ike = on" "natt_port = off" \
	    "kerberos_keytab = $tmp/$1/krb5.keytab" \
	    "kerberos_principal = $2\$@$REALM" \
	    "kerberos_config = $tmp/$1/krb5.conf"
	sed -i "s/^driver = uesp$/driver = $DRIVER/" "$tmp/$1.conf"
}
conf a HOSTA
conf b HOSTB
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")
start() {	# s ns
	mkdir -p "$tmp/$1/rcache"
	t_agent_start "$1" "$2" KRB5_CONFIG="$tmp/$1/krb5.conf" \
	    KRB5CCNAME="FILE:$tmp/$1/none" KRB5RCACHEDIR="$tmp/$1/rcache"
}
# stop in clear (no fail-closed leftovers): the next start polls the DC
stop() {
	"$cmd" -c "$tmp/$1.conf" --timeout 8000 service stop clear \
	    >/dev/null || fail "stop $1"
}
# the policy in force on s is POLICY (bounded wait: the poll after a
# reload runs on a thread of its own)
want_policy() {	# s POLICY [SOURCE]
	local st end=$(($(date +%s) + 40 * slow))
	while :; do
		st=$("$cmd" -c "$tmp/$1.conf" --json service status)
		[ "$(jq -r .policy <<<"$st")" != "$2" ] || break
		[ "$(date +%s)" -lt $end ] ||
		    fail "$1: policy is not '$2': $st"
		sleep 0.2
	done
	[ -z "${3:-}" ] || jq -e --arg s "$3" \
	    '.directory.last_poll == $s' <<<"$st" >/dev/null ||
	    fail "$1: last poll is not '$3': $st"
}
reassign() {	# s GPO POLICY
	samba_assign "$2" "$3"
	"$cmd" -c "$tmp/$1.conf" reload >/dev/null || fail "reload $1"
	want_policy "$1" "$3" applied
}
ncap=0
capture_start() {	# the next $tmp/capN.pcap
	cap=$tmp/cap$((ncap += 1)).pcap
	rm -f "$tmp/tcpdump.err"
	ip netns exec "$nd" tcpdump -i "ms${id}br" -nn -U --immediate-mode -s 128 \
	    -w "$cap" >/dev/null 2>"$tmp/tcpdump.err" &
	cap_pid=$!
	for _ in $(seq 1 250); do
		grep -q "listening on" "$tmp/tcpdump.err" && return 0
		sleep 0.02
	done
	die "tcpdump did not start"
}
capture_stop() {
	sleep 0.2
	kill -INT "$cap_pid" && wait "$cap_pid" 2>/dev/null || true
}
count() { tcpdump -r "$cap" -nn "$1" 2>/dev/null | wc -l; }
# TCP 1 MiB and UDP 100 KB both ways, pings, in a capture
traffic() {	# what
	# (a packet may wait for Quick Mode: the kernel holds it during the
	# acquire, and Kerberos IKE in the emulated guest takes seconds)
	capture_start
	ip netns exec "$na" ping -c 3 -i 0.2 -W $((5 * slow)) $BIP >/dev/null ||
	    fail "$1: ping A -> B"
	ip netns exec "$nb" ping -c 3 -i 0.2 -W $((5 * slow)) $AIP >/dev/null ||
	    fail "$1: ping B -> A"
	t_payload 1048576
	t_tcp_xfer "$na" $AIP "$nb" $BIP 5001
	t_tcp_xfer "$nb" $BIP "$na" $AIP 5002
	t_payload 100000
	t_udp_xfer "$na" $AIP "$nb" $BIP 5003
	t_udp_xfer "$nb" $BIP "$na" $AIP 5004
	# again, with the SAs up: ICMP as each side's policy says
	ip netns exec "$na" ping -c 2 -i 0.2 -W $((5 * slow)) $BIP >/dev/null ||
	    fail "$1: ping A -> B after the transfers"
	ip netns exec "$nb" ping -c 2 -i 0.2 -W $((5 * slow)) $AIP >/dev/null ||
	    fail "$1: ping B -> A after the transfers"
	capture_stop
}
# in the capture between A and B; IKE's Main Mode #3 carries the AP-REQ
# with its PAC (~1.6 KB): its second fragment has no ports, not counted
M="host $AIP and host $BIP"
DATA="(tcp or udp) and not port 500 and not port 4500 and
    (ip[6:2] & 0x1fff) = 0"
secured() {	# what FROM...: ESP, no clear TCP/UDP from FROM (a, b)
	local n esp
	esp=$(count "$M and esp")
	[ "$esp" -gt 400 ] || fail "$1: only $esp ESP packets"
	for s in "${@:2}"; do
		ip=$AIP
		[ "$s" = b ] && ip=$BIP
		n=$(count "$M and src $ip and $DATA")
		[ "$n" = 0 ] || { tcpdump -r "$cap" -nn \
		    "$M and src $ip and $DATA" 2>/dev/null | head -5;
		    fail "$1: $n TCP/UDP packets from $s in clear"; }
	done
}
qmsas() { "$cmd" -c "$tmp/$1.conf" --json show qmsas | jq '.qmsas | length'; }
id541() {	# s PRINCIPAL: a 541 naming the peer's Kerberos identity
	jq -s -e --arg p "Kerberos based Identity: $2" \
	    '[.[] | select(.id == 541 and .fields["Peer Identity"] == $p)] |
	    length >= 1' "$tmp/$1/audit.jsonl" >/dev/null ||
	    fail "$1: no 541 for $2: $(jq -c 'select(.id == 541) |
	    .fields["Peer Identity"]' "$tmp/$1/audit.jsonl" | sort -u)"
}

t1=$(date +%s)
start a "$na"
start b "$nb"
want_policy a "$RESPOND" applied
want_policy b "$RESPOND" applied
"${A[@]}" --json service status |
    jq -e --arg u "ldap://dc1.$DOM:389" '.directory.uri == $u' >/dev/null ||
    fail "a: the DC not found by SRV: $("${A[@]}" --json service status)"

# 1. Respond <-> Respond: nobody asks, everything in clear.
traffic "Respond <-> Respond"
[ "$(count "$M and esp")" = 0 ] || fail "Respond <-> Respond: ESP seen"
[ "$(count "$M and tcp")" -gt 20 ] &&
    [ "$(count "$M and udp")" -gt 400 ] ||
    fail "Respond <-> Respond: no TCP or UDP in clear"
[ "$(qmsas a)" = 0 ] && [ "$(qmsas b)" = 0 ] ||
    fail "Respond <-> Respond: Quick Mode SAs"
pass "Respond <-> Respond: policies from the GPOs (DC by SRV), TCP and" \
    "UDP both ways in clear, no SA"

# 2. The administrator assigns Request Security to A's OU.
reassign a "IPsec SiteA" "$REQUEST"
traffic "Request <-> Respond"
secured "Request <-> Respond" a b
[ "$(qmsas a)" -ge 1 ] && [ "$(qmsas b)" -ge 1 ] ||
    fail "Request <-> Respond: no Quick Mode SAs"
id541 a "HOSTB\$@$REALM"
id541 b "HOSTA\$@$REALM"
# what an administrator looks at
"${A[@]}" show all >"$tmp/a/show-all.txt" || fail "a: show all"
"${A[@]}" events --id 541 >"$tmp/a/events-541.txt" || fail "a: events"
grep -q "HOSTB\$@$REALM" "$tmp/a/events-541.txt" ||
    fail "a: ipseccmd events --id 541: $(cat "$tmp/a/events-541.txt")"
pass "Request <-> Respond: A picked up the reassignment on reload; TCP" \
    "and UDP both ways over ESP, nothing in clear either way; 541 names" \
    "HOSTB\$@$REALM and HOSTA\$@$REALM"

# A member under Request Security reaches the DC after a soft
# association (the DC answers no IKE): a poll succeeds, unchanged.
"${A[@]}" reload >/dev/null || fail "reload a"
end=$(($(date +%s) + 60 * slow))
until [ "$("${A[@]}" --json service status |
    jq -r .directory.last_poll)" = unchanged ]; do
	[ "$(date +%s)" -lt $end ] || fail "a: no poll under Request" \
	    "Security: $("${A[@]}" --json service status)"
	sleep 0.5
done
[ "$("${A[@]}" --json show stats | jq '.oakley.soft_associations')" \
    -ge 1 ] || fail "a: reached the DC without a soft association"
pass "Request Security: the DC reached after a soft association, poll" \
    "unchanged"

# 3. B too.
reassign b "IPsec SiteB" "$REQUEST"
traffic "Request <-> Request"
secured "Request <-> Request" a b
[ "$(count "$M and icmp and src $AIP")" -ge 3 ] &&
    [ "$(count "$M and icmp and src $BIP")" -ge 3 ] ||
    fail "Request <-> Request: ICMP not in clear"
pass "Request <-> Request: reload; ESP both ways, no clear TCP/UDP," \
    "ICMP in clear (All ICMP Traffic: Permit)"

# 4. Secure Server on A, Respond Only on B. A member under Request
# Security reaches the DC in clear only after its soft association:
# restart both rather than reload.
samba_assign "IPsec SiteA" "$SECURE"
samba_assign "IPsec SiteB" "$RESPOND"
stop a
stop b
start a "$na"
start b "$nb"
want_policy a "$SECURE" applied
want_policy b "$RESPOND" applied
traffic "Secure <-> Respond"
secured "Secure <-> Respond" a b
pass "Secure <-> Respond: ESP both ways, no clear TCP/UDP either way (the responder secures its replies)"

# 5. B to Secure Server, on reload.
reassign b "IPsec SiteB" "$SECURE"
traffic "Secure <-> Secure"
secured "Secure <-> Secure" a b
[ "$(count "$M and icmp and src $AIP")" -ge 3 ] &&
    [ "$(count "$M and icmp and src $BIP")" -ge 3 ] ||
    fail "Secure <-> Secure: ICMP not in clear"
pass "Secure <-> Secure: reload; ESP both ways, no clear TCP/UDP, ICMP" \
    "in clear"

# Secure Server covers the DC too (All IP Traffic), which runs no IPsec:
# B's next poll reaches neither its DNS nor its LDAP (nothing in clear),
# the poll is unreachable and the policy stays.
capture_start
"${B[@]}" reload >/dev/null || fail "reload b"
end=$(($(date +%s) + 60 * slow))
until [ "$("${B[@]}" --json service status |
    jq -r .directory.last_poll)" = unreachable ]; do
	[ "$(date +%s)" -lt $end ] || fail "b: the poll under Secure Server" \
	    "did not fail: $("${B[@]}" --json service status)"
	sleep 0.5
done
capture_stop
want_policy b "$SECURE"
# (what B sends: the DC runs no IPsec and may still close an LDAP
# connection of an earlier poll in clear, which B cannot prevent)
n=$(count "src $BIP and dst $DCIP and (tcp or udp) and not port 88 and
    not port 500 and (ip[6:2] & 0x1fff) = 0")
[ "$n" = 0 ] || fail "b: $n packets to the DC in clear"
pass "Secure Server on B: its poll cannot reach the DC (DNS, LDAP held," \
    "nothing in clear but Kerberos), unreachable, policy kept"

# 6. The DC goes away; both members restart. The policy comes from the
# cache, Main Mode from the tickets kept in the state directories.
samba_halt
stop a
stop b
for p in 88 389; do
	! ip netns exec "$na" timeout 5 bash -c "exec 3<>/dev/tcp/$DCIP/$p" \
	    2>/dev/null || die "the DC still answers on port $p"
done
la=$(wc -l <"$tmp/a/audit.jsonl")
start a "$na"
start b "$nb"
want_policy a "$SECURE"
want_policy b "$SECURE"
tail -n +$((la + 1)) "$tmp/a/audit.jsonl" | jq -s -e 'map(select(.id == 613
    and .fields["Policy Source"] == "directory (cached copy)")) |
    length >= 1' >/dev/null ||
    fail "a: no 613 from the cache: $(tail -n +$((la + 1)) \
    "$tmp/a/audit.jsonl" | jq -c 'select(.id == 613 or .id == 616)')"
traffic "DC stopped"
secured "DC stopped" a b
pass "DC stopped, both restarted: Secure Server from the cache, Kerberos" \
    "from the kept tickets, ESP both ways, no clear TCP/UDP"
echo "scenarios: $(($(date +%s) - t1)) s, all: $(($(date +%s) - t0)) s"
t_finish "mission_domain ($DRIVER)"
