#!/usr/bin/env bash
# (in the guest) ours on xfrm against ours on uesp: ESP transport
# AES128/SHA1, each side initiating once (the first packet, held by the
# initiator's driver, gets through), 3 pings and 1 MiB TCP each way
# (sha256), captures of what leaves both ends hold only IKE and ESP.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/xfrm_lib.sh"

t_need_agents python3 tcpdump
id=$$
na=xma$id nb=xmb$id
t_tmpdir xfrm-mixed
t_netns $na $nb
t_veth $na xma$id 10.83.0.1/24 $nb xmb$id 10.83.0.2/24
t_keep_going=1
t_payload 1048576

for who in xfrm uesp; do
	f0=$t_failed
	what="xfrm <-> uesp, the $who side initiates"
	echo "== $what ($SECONDS s)"
	x_policy a me host:10.83.0.2 'esp="AES128" espIntegrity="SHA1"'
	x_policy b me host:10.83.0.1 'esp="AES128" espIntegrity="SHA1"'
	t_driver=xfrm t_agent_conf a
	t_driver=uesp t_agent_conf b
	t_agent_start a $na
	t_agent_start b $nb
	x_cap_start $na xma$id "$who-a"
	x_cap_start $nb xmb$id "$who-b"
	if [ $who = xfrm ]; then
		ip netns exec $na ping -c 1 -W 60 10.83.0.2 >/dev/null ||
		    fail "$what: the first packet got no answer"
	else
		ip netns exec $nb ping -c 1 -W 60 10.83.0.1 >/dev/null ||
		    fail "$what: the first packet got no answer"
	fi
	t_traffic "$what" $na 10.83.0.1 $nb 10.83.0.2
	x_cap_stop "$who-a"
	x_cap_stop "$who-b"
	flt="ip and not (udp port 500 or udp port 4500 or ip proto 50)"
	other=$(( $(x_cap_count "$who-a" "$flt") + $(x_cap_count "$who-b" "$flt") ))
	sec=$(( $(x_cap_count "$who-a" "ip proto 50") + $(x_cap_count "$who-b" "ip proto 50") ))
	[ "$other" = 0 ] && [ "$sec" -gt 20 ] ||
	    fail "$what: the link carried $other packets other than IKE and ESP ($sec ESP)"
	[ $t_failed = "$f0" ] &&
	    pass "$what: first packet, ping and 1 MiB TCP each way (sha256), only IKE and ESP on the link"
	"$cmd" -c "$tmp/a.conf" --timeout 5000 service stop clear >/dev/null
	"$cmd" -c "$tmp/b.conf" --timeout 5000 service stop clear >/dev/null
done
t_finish xfrm_mixed
