#!/usr/bin/env bash
# (in the guest) ipsec-agentd on the xfrm driver against strongSwan's
# charon with its kernel backend (kernel-netlink, no kernel-libipsec, no
# forced UDP encapsulation): ESP transport AES128/SHA1 and AH transport
# SHA1 (the modes charon's userspace backend cannot do), each with us
# initiating (the first packet, held, gets through) and with charon
# initiating (swanctl --initiate). Each time: charon's SA is INSTALLED,
# 3 pings and 1 MiB TCP each way (sha256), captures of what leaves both
# ends hold only IKE and ESP/AH.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/xfrm_lib.sh"
charon=$here/../integration/ike/charon.sh

t_need_agents python3 tcpdump swanctl
[ -x /usr/lib/ipsec/charon ] || [ -x /usr/libexec/ipsec/charon ] ||
    skip "charon not installed"
id=$$
na=xsa$id nb=xsb$id
t_tmpdir xfrm-sw
t_netns $na $nb
t_veth $na xsa$id 10.82.0.1/24 $nb xsb$id 10.82.0.2/24
t_keep_going=1
t_payload 1048576
stop_all() {
	t_agent_gone us
	"$charon" stop "$tmp/sw" >/dev/null 2>&1
	return 0
}
t_at_exit stop_all
sw_sas() {
	swanctl --list-sas --uri "unix://$tmp/sw/run/charon.vici" 2>/dev/null
}

# run WHAT OFFER CHARON-ESP CHARON-AH PROTO WHO
run() {
	local what="$1 ($6 initiates)" f0=$t_failed flt other sec sa
	echo "== $what ($SECONDS s)"
	x_policy us me host:10.82.0.2 "$2"
	t_agent_conf us "ike_addresses = 10.82.0.1"
	t_agent_start us $na
	CHARON_LIBIPSEC= CHARON_AH=$4 "$charon" start "$tmp/sw" $nb 10.82.0.2 \
	    10.82.0.1 xfrm-vm aes128-sha1-modp2048 "$3" transport ||
	    { fail "$what: charon did not start"; stop_all; return; }
	x_cap_start $na xsa$id "$what-a"
	x_cap_start $nb xsb$id "$what-b"
	if [ "$6" = we ]; then
		ip netns exec $na ping -c 1 -W 60 10.82.0.2 >/dev/null ||
		    fail "$what: the first packet (held) got no answer"
	else
		swanctl --initiate --child t --timeout 60 \
		    --uri "unix://$tmp/sw/run/charon.vici" >"$tmp/init.out" 2>&1 ||
		    fail "$what: swanctl --initiate: $(tail -3 "$tmp/init.out")"
	fi
	t_traffic "$what" $na 10.82.0.1 $nb 10.82.0.2
	x_cap_stop "$what-a"
	x_cap_stop "$what-b"
	flt="ip and not (udp port 500 or udp port 4500 or $5)"
	other=$(( $(x_cap_count "$what-a" "$flt") + $(x_cap_count "$what-b" "$flt") ))
	sec=$(( $(x_cap_count "$what-a" "$5") + $(x_cap_count "$what-b" "$5") ))
	[ "$other" = 0 ] && [ "$sec" -gt 20 ] ||
	    fail "$what: the link carried $other packets other than IKE and $5 ($sec)"
	sa=$(sw_sas)
	grep -q "INSTALLED, TRANSPORT" <<<"$sa" ||
	    fail "$what: charon has no installed transport SA: $sa"
	if [ $t_failed != "$f0" ]; then
		tail -20 "$tmp/us/oakley.log"
		tail -20 "$tmp/sw/charon.log"
	else
		pass "$what: charon INSTALLED, ping and 1 MiB TCP each way (sha256), only IKE and $5 on the link"
	fi
	"$cmd" -c "$tmp/us.conf" --timeout 5000 service stop clear >/dev/null
	stop_all
}

for who in we charon; do
	run "ESP transport" 'esp="AES128" espIntegrity="SHA1"' aes128-sha1 "" \
	    "ip proto 50" $who
	run "AH transport" 'ah="SHA1"' "" sha1 "ip proto 51" $who
done
t_finish xfrm_strongswan
