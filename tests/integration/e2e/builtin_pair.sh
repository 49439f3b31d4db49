#!/usr/bin/env bash
# builtin_pair.sh -- two agents under Windows' three built-in policies,
# without a directory: the store is examples/builtin-policies.xml (the
# filter lists, filter actions and default response rules of Client
# (Respond Only), Server (Request Security) and Secure Server (Require
# Security)) with Kerberos replaced by a preshared key, so the data plane
# of the mission runs on either driver ($t_driver: uesp by default, xfrm
# in the full-kernel guest) in a minute. mission_domain runs the same
# scenarios with the real DC and Kerberos.
#
# Each scenario: 3 pings and a 1 MiB TCP transfer each way, 100 KB of UDP
# each way (sha256 checked), captured at each end on what leaves it.
#   Respond <-> Respond   no SA, all in clear
#   Request <-> Respond   A reloads into Request Security: TCP and UDP
#                         both ways over ESP, nothing in clear either way
#                         (B answers under its default response rule)
#   Request <-> Request   B reloads into Request Security: the same, ICMP
#                         in clear both ways (All ICMP Traffic: Permit)
#   Secure <-> Respond    both restarted: ESP, nothing in clear
#   Secure <-> Secure     B reloads into Secure Server: ESP both ways
# Needs root, netns, TUN, nft, jq, tcpdump, python3; skips (77) otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"

RESPOND="Client (Respond Only)"
REQUEST="Server (Request Security)"
SECURE="Secure Server (Require Security)"
AIP=10.91.0.1 BIP=10.91.0.2
builtin=$here/../../../examples/builtin-policies.xml

t_need_agents tcpdump python3
t_tmpdir bip
id=$$
na=bipa$id nb=bipb$id
t_netns "$na" "$nb"
t_veth "$na" bipa$id $AIP/24 "$nb" bipb$id $BIP/24
t_keep_going=1

# store S POLICY: the built-in policies, POLICY assigned, PSK for Kerberos
store() {
	local s=$1
	mkdir -p "$tmp/$s"
	sed -e 's|<auth kind="kerberos"/>|<auth kind="psk" secret="k"/>|' \
	    -e 's/ assigned="yes"/ assigned="no"/' \
	    -e "s/\(name=\"$2\" assigned=\)\"no\"/\1\"yes\"/" \
	    "$builtin" > "$tmp/$s/store.xml.new" || die "store $s"
	grep -q "name=\"$2\" assigned=\"yes\"" "$tmp/$s/store.xml.new" ||
	    die "store $s: cannot assign $2"
	mv "$tmp/$s/store.xml.new" "$tmp/$s/store.xml"
	cat > "$tmp/$s/secrets.xml" <<EOX || die "secrets $s"
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="k">$(printf builtin-pair | od -An -tx1 | tr -d ' \n')</psk>
</ipsecSecrets>
EOX
	chmod 600 "$tmp/$s/secrets.xml"
}
for s in a b; do
	store $s "$RESPOND"
	t_agent_conf $s "ike = on"
done
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")

want_policy() {	# S POLICY
	local i
	for i in $(seq 1 250); do
		[ "$("$cmd" -c "$tmp/$1.conf" --json service status |
		    jq -r .policy)" = "$2" ] && return 0
		sleep 0.02
	done
	fail "$1: policy not '$2': $("$cmd" -c "$tmp/$1.conf" --json \
	    service status | jq -c .policy)"
}
reassign() {	# S POLICY: the store rewritten, then ipseccmd reload
	store "$1" "$2"
	"$cmd" -c "$tmp/$1.conf" reload >/dev/null || fail "reload $1"
	want_policy "$1" "$2"
}

n=0
traffic() {	# WHAT
	n=$((n + 1))
	t_cap_start ca$n "$na" bipa$id out
	t_cap_start cb$n "$nb" bipb$id out
	ip netns exec "$na" ping -c 3 -i 0.2 -W "${t_first_wait:-5}" $BIP \
	    >/dev/null || fail "$1: ping A -> B"
	ip netns exec "$nb" ping -c 3 -i 0.2 -W "${t_first_wait:-5}" $AIP \
	    >/dev/null || fail "$1: ping B -> A"
	t_payload 1048576
	t_tcp_xfer "$na" $AIP "$nb" $BIP 5001
	t_tcp_xfer "$nb" $BIP "$na" $AIP 5002
	t_payload 100000
	t_udp_xfer "$na" $AIP "$nb" $BIP 5003
	t_udp_xfer "$nb" $BIP "$na" $AIP 5004
	# again, now that SAs are up: what each side's policy permits in
	# clear (ICMP) must still get through both ways
	ip netns exec "$na" ping -c 2 -i 0.2 -W 5 $BIP >/dev/null ||
	    fail "$1: ping A -> B after the transfers"
	ip netns exec "$nb" ping -c 2 -i 0.2 -W 5 $AIP >/dev/null ||
	    fail "$1: ping B -> A after the transfers"
	t_cap_stop ca$n
	t_cap_stop cb$n
	# for the logs: what the kernel held (xfrm), what the agents had
	for s in a b; do
		local ns=$na
		[ $s = b ] && ns=$nb
		{
			ip -n "$ns" xfrm policy 2>&1
			ip -n "$ns" xfrm state 2>&1
			"$cmd" -c "$tmp/$s.conf" show filters 2>&1
			"$cmd" -c "$tmp/$s.conf" show qmsas 2>&1
		} > "$tmp/$s/state.$n.txt"
	done
	[ -z "${BIP_LAST:-}" ] || [ "$n" -lt "$BIP_LAST" ] || {
		[ -z "${BIP_COPY:-}" ] || cp -r "$tmp" "$BIP_COPY/"
		t_finish "built-in policies (up to scenario $n)"
		exit 0
	}
}
DATA="(tcp or udp) and not port 500 and not port 4500"
secured() {	# WHAT: ESP from both, no clear TCP/UDP from either
	local s c
	for s in a b; do
		c=c$s$n
		[ "$(t_cap_count $c esp)" -gt 100 ] ||
		    fail "$1: only $(t_cap_count $c esp) ESP packets from $s"
		[ "$(t_cap_count $c "$DATA")" = 0 ] || {
			tcpdump -r "$tmp/$c.pcap" -nn "$DATA" 2>/dev/null |
			    head -5
			fail "$1: $(t_cap_count $c "$DATA") TCP/UDP packets" \
			    "from $s in clear"
		}
	done
}
icmp_clear() {	# WHAT
	[ "$(t_cap_count ca$n icmp)" -ge 3 ] &&
	    [ "$(t_cap_count cb$n icmp)" -ge 3 ] ||
	    fail "$1: ICMP not in clear both ways"
}
qmsas() { "$cmd" -c "$tmp/$1.conf" --json show qmsas | jq '.qmsas | length'; }
step() { f0=$t_failed; }
done_step() { [ "$t_failed" = "$f0" ] && pass "$*"; }

t_agent_start a "$na"
t_agent_start b "$nb"
want_policy a "$RESPOND"
want_policy b "$RESPOND"

step
traffic "Respond <-> Respond"
[ "$(t_cap_count ca$n esp)" = 0 ] && [ "$(t_cap_count cb$n esp)" = 0 ] ||
    fail "Respond <-> Respond: ESP seen"
[ "$(t_cap_count ca$n tcp)" -gt 20 ] && [ "$(t_cap_count cb$n udp)" -gt 50 ] ||
    fail "Respond <-> Respond: no TCP or UDP in clear"
[ "$(qmsas a)" = 0 ] && [ "$(qmsas b)" = 0 ] ||
    fail "Respond <-> Respond: Quick Mode SAs"
done_step "Respond <-> Respond: TCP and UDP both ways in clear, no SA"

step
reassign a "$REQUEST"
traffic "Request <-> Respond"
secured "Request <-> Respond"
[ "$(qmsas a)" -ge 1 ] && [ "$(qmsas b)" -ge 1 ] ||
    fail "Request <-> Respond: no Quick Mode SAs"
done_step "Request <-> Respond: TCP and UDP both ways over ESP, nothing" \
    "in clear either way"

step
reassign b "$REQUEST"
traffic "Request <-> Request"
secured "Request <-> Request"
icmp_clear "Request <-> Request"
done_step "Request <-> Request: ESP both ways, ICMP in clear"

step
for s in a b; do
	t_agent_stop $s || fail "stop $s"
done
store a "$SECURE"
store b "$RESPOND"
t_agent_start a "$na"
t_agent_start b "$nb"
want_policy a "$SECURE"
want_policy b "$RESPOND"
traffic "Secure <-> Respond"
secured "Secure <-> Respond"
done_step "Secure <-> Respond: ESP both ways, nothing in clear (the" \
    "responder secures its replies)"

step
reassign b "$SECURE"
traffic "Secure <-> Secure"
secured "Secure <-> Secure"
icmp_clear "Secure <-> Secure"
done_step "Secure <-> Secure: ESP both ways, ICMP in clear"

t_finish "built-in policies ($(sed -n 's/^driver = //p' "$tmp/a.conf"))"
