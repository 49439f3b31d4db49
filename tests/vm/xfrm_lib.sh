# xfrm_lib.sh -- sourced by the guest scripts of tests/vm: agents on the
# xfrm driver (sources tests/lib/agent.sh with t_driver=xfrm).
#
#   x_policy S SRC DST OFFER [tunnel=ADDR]
#       $tmp/S/store.xml: one assigned policy, one mirrored rule SRC <-> DST
#       (me | host:ADDR | subnet:ADDR/PREFIX) negotiating the one offer
#       OFFER (the <offer> attributes, e.g. 'ah="SHA1"' or
#       'esp="3DES" espIntegrity="SHA1"'), PSK "k", Main Mode
#       AES128/SHA1/group 14; tunnel mode to ADDR when given
#   x_cap_start NS IF NAME / x_cap_stop NAME
#       capture what leaves by IF (in NS) into $tmp/NAME.pcap / stop it
#   x_cap_count NAME FILTER
#       packets of $tmp/NAME.pcap that FILTER (pcap syntax) matches
#   x_agent_pid NS
#       the pid of the ipsec-agentd running in NS
t_driver=xfrm
# shellcheck source=../lib/agent.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/agent.sh"

x_policy() {
	local s=$1 src dst offer=$4 tunnel=""
	src=$(t_policy_end source "$2") || exit 1
	dst=$(t_policy_end destination "$3") || exit 1
	case ${5:-} in
	tunnel=*) tunnel="tunnel=\"${5#tunnel=}\"" ;;
	esac
	mkdir -p "$tmp/$s" || die "mkdir $tmp/$s"
	cat > "$tmp/$s/store.xml" <<EOX || die "cannot write $tmp/$s/store.xml"
<?xml version="1.0" encoding="UTF-8"?>
<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1">
  <filterList id="{7e570000-0000-4000-8000-0000000000b1}" name="Peer">
    <filter id="{7e570000-0000-4000-8000-0000000000b2}" mirrored="yes">
      $src
      $dst
    </filter>
  </filterList>
  <filterAction id="{7e570000-0000-4000-8000-0000000000b3}" name="Negotiate"
      action="negotiate" inpass="no" soft="no">
    <offer $offer lifeSeconds="3600" lifeKilobytes="100000"/>
  </filterAction>
  <policy id="{7e570000-0000-4000-8000-0000000000b4}" name="Test"
      assigned="yes">
    <isakmp id="{7e570000-0000-4000-8000-0000000000b5}">
      <method cipher="AES128" hash="SHA1" group="14"/>
    </isakmp>
    <rule id="{7e570000-0000-4000-8000-0000000000b6}" name="Peer"
        filterList="{7e570000-0000-4000-8000-0000000000b1}"
        filterAction="{7e570000-0000-4000-8000-0000000000b3}"
        $tunnel>
      <auth kind="psk" secret="k"/>
    </rule>
  </policy>
</ipsecStore>
EOX
	cat > "$tmp/$s/secrets.xml" <<EOX || die "cannot write $tmp/$s/secrets.xml"
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="k">$(printf %s "xfrm-vm" | od -An -tx1 | tr -d ' \n')</psk>
</ipsecSecrets>
EOX
	chmod 600 "$tmp/$s/secrets.xml"
}

declare -A x_caps
x_cap_start() {
	set -- "$1" "$2" "${3//[^A-Za-z0-9]/_}"
	rm -f "$tmp/$3.pcap"
	# Only what leaves (-Q out): the kernel shows tunnel-mode packets it
	# decapsulated to a capture again, as if they came in on the link.
	ip netns exec "$1" tcpdump -i "$2" -Q out -nn -U -Z root \
	    -w "$tmp/$3.pcap" \
	    >/dev/null 2>"$tmp/$3.cap.log" &
	x_caps[$3]=$!
	t_at_exit kill "${x_caps[$3]}"
	# tcpdump says "listening on" once it captures.
	for _ in $(seq 1 200); do
		grep -q listening "$tmp/$3.cap.log" 2>/dev/null && return 0
		sleep 0.05
	done
	die "tcpdump on $2 did not start"
}

x_cap_stop() {
	set -- "${1//[^A-Za-z0-9]/_}"
	sleep 0.3	# let the last packets reach the file
	kill "${x_caps[$1]}" 2>/dev/null
	wait "${x_caps[$1]}" 2>/dev/null
}

x_cap_count() {
	set -- "${1//[^A-Za-z0-9]/_}" "$2"
	tcpdump -r "$tmp/$1.pcap" -nn "$2" 2>/dev/null | wc -l
}

x_agent_pid() {
	local p
	for p in $(ip netns pids "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = ipsec-agentd ] &&
		    { echo "$p"; return 0; }
	done
	return 1
}
