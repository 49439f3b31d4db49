#!/usr/bin/env bash
# Site to site: two gateways ($t_driver: uesp by default, xfrm in the
# full-kernel guest) forward between hosts behind them. HA (10.93.1.2) -- GA (10.93.1.1 | 10.82.0.1)
# -- GB (10.82.0.2 | 10.93.2.1) -- HB (10.93.2.2). The gateways' rule:
# 10.93.1.0/24 <-> 10.93.2.0/24, ESP tunnel between 10.82.0.1 and
# 10.82.0.2, PSK. The hosts run no IPsec. Checked: the first packet from
# HA (held by GA's kernel during the acquire) is delivered; pings and
# 1 MiB of TCP each way between HA and HB (sha256); on the link between
# the gateways only IKE and ESP (what leaves each gateway there); the
# gateways' own traffic to each other (outside the subnets) stays clear.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"

t_need_agents python3 tcpdump
id=$$
ha=gwha$id ga=gwga$id gb=gwgb$id hb=gwhb$id
t_tmpdir e2e-gw
t_netns $ha $ga $gb $hb
t_veth $ha gwha$id 10.93.1.2/24 $ga gwgai$id 10.93.1.1/24
t_veth $ga gwga$id 10.82.0.1/24 $gb gwgb$id 10.82.0.2/24
t_veth $gb gwgbi$id 10.93.2.1/24 $hb gwhb$id 10.93.2.2/24
ip -n $ha route add default via 10.93.1.1
ip -n $hb route add default via 10.93.2.1
ip -n $ga route add 10.93.2.0/24 via 10.82.0.2
ip -n $gb route add 10.93.1.0/24 via 10.82.0.1
for g in $ga $gb; do
	ip netns exec $g sysctl -qw net.ipv4.ip_forward=1 ||
	    die "ip_forward in $g"
done
t_keep_going=1
t_payload 1048576

t_psk_policy a subnet:10.93.1.0/24 subnet:10.93.2.0/24 tunnel=10.82.0.2
t_psk_policy b subnet:10.93.2.0/24 subnet:10.93.1.0/24 tunnel=10.82.0.1
t_agent_conf a "ike = on"
t_agent_conf b "ike = on"
t_agent_start a $ga
t_agent_start b $gb
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")

dump() {	# the kernel's view, for the logs
	local g
	for g in $ga $gb; do
		echo "== $g"
		ip -n $g xfrm policy
		ip -n $g xfrm state | grep -v "^\s*[0-9a-f]\{8\} "
	done > "$tmp/xfrm.$1.txt" 2>&1
}

t_cap_start link_a $ga gwga$id out
t_cap_start link_b $gb gwgb$id out
f0=$t_failed
ip netns exec $ha ping -c 1 -W "${t_first_wait:-60}" 10.93.2.2 >/dev/null ||
    fail "the first packet HA -> HB (held by GA during the acquire) got no answer"
t_traffic "HA <-> HB" $ha 10.93.1.2 $hb 10.93.2.2
t_cap_stop link_a
t_cap_stop link_b
dump traffic
for s in a b; do
	n=$(t_cap_count link_$s "esp or udp port 4500")
	[ "$n" -gt 100 ] || fail "only $n ESP packets left gateway $s"
	n=$(t_cap_count link_$s "ip and not (esp or udp port 500 or udp port 4500)")
	[ "$n" = 0 ] || {
		tcpdump -r "$tmp/link_$s.pcap" -nn \
		    "ip and not (esp or udp port 500 or udp port 4500)" \
		    2>/dev/null | head -5
		fail "$n packets in clear left gateway $s on the link"
	}
done
"${A[@]}" --json show qmsas | jq -e '.qmsas | length >= 1 and
    all(.[]; .tunnel == true)' >/dev/null ||
    fail "a: no tunnel SA: $("${A[@]}" --json show qmsas)"
[ $t_failed = $f0 ] && pass "HA <-> HB through the tunnel: first packet," \
    "pings and 1 MiB TCP each way intact; only IKE and ESP between the" \
    "gateways"

# The gateways' own traffic is outside the rule's subnets: clear, no SA
# needed, nothing held.
ip netns exec $ga ping -c 2 -i 0.2 -W 5 10.82.0.2 >/dev/null &&
    pass "the gateways reach each other directly (outside the rule)" ||
    fail "gateway to gateway outside the rule"

t_finish "gateway ($(sed -n 's/^driver = //p' "$tmp/a.conf"))"
