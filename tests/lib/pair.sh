# pair.sh -- sourced by the end-to-end tests of two agents (or an agent and
# strongSwan) after agent.sh: the Quick Mode offer of a side's store, and
# packet captures on a link.
#
#   t_policy_esp S CIPHER [INTEG]
#       the offer of $tmp/S/store.xml (written by t_psk_policy) becomes
#       ESP CIPHER with INTEG; no INTEG (AES-GCM) leaves espIntegrity out
#   t_cap_start NAME NS IF
#       tcpdump on IF (in NS) into $tmp/NAME.pcap, until t_cap_stop NAME;
#       returns once tcpdump listens (bounded), dies otherwise
#   t_cap_stop NAME
#       stop that capture (immediate mode, -U: its packets are on disk)
#   t_cap_count NAME FILTER
#       print how many packets of $tmp/NAME.pcap match the pcap FILTER
#       (dies when tcpdump cannot read it or the filter is wrong)
#   t_agent_driver S DRIVER
#       $tmp/S.conf (written by t_agent_conf) uses the DRIVER backend
#   t_need_charon
#       skip (77) unless strongSwan's charon and swanctl are installed

t_policy_esp() {
	local s=$1 c=$2 i=${3:-} to
	to="esp=\"$c\""
	[ -z "$i" ] || to="$to espIntegrity=\"$i\""
	sed -i "s/esp=\"AES128\" espIntegrity=\"SHA1\"/$to/" \
	    "$tmp/$s/store.xml" || die "t_policy_esp: $tmp/$s/store.xml"
	grep -q "$to" "$tmp/$s/store.xml" ||
	    die "t_policy_esp: no offer to rewrite in $tmp/$s/store.xml"
}

# t_cap_start NAME NS IF [out]: with out, only what leaves IF (-Q out).
# The kernel shows tunnel-mode packets it decapsulated (xfrm) to a capture
# again, as if they had come in on the link: a capture at each end of
# what leaves it sees every packet on the wire once, and nothing else.
t_cap_start() {
	local name=$1 ns=$2 ifc=$3 pid dir=()
	[ "${4:-}" = out ] && dir=(-Q out)
	rm -f "$tmp/$name.pcap" "$tmp/$name.err"
	ip netns exec "$ns" tcpdump -i "$ifc" "${dir[@]}" -nn -U \
	    --immediate-mode -s 256 \
	    -w "$tmp/$name.pcap" >/dev/null 2>"$tmp/$name.err" &
	pid=$!
	eval "t_cap_pid_$name=$pid"
	t_at_exit kill "$pid"
	for _ in $(seq 1 250); do
		grep -q "listening on" "$tmp/$name.err" 2>/dev/null && return 0
		sleep 0.02
	done
	die "tcpdump on $ifc ($ns) did not start: $(cat "$tmp/$name.err")"
}

t_cap_stop() {
	local v="t_cap_pid_$1"
	[ -n "${!v:-}" ] || return 0
	# The last packets may still be on their way to tcpdump's socket.
	sleep 0.2
	kill -INT "${!v}" 2>/dev/null
	wait "${!v}" 2>/dev/null
	eval "$v="
}

t_cap_count() {
	local out
	out=$(tcpdump -r "$tmp/$1.pcap" -nn "$2" 2>"$tmp/$1.rerr") ||
	    die "tcpdump -r $1.pcap '$2': $(cat "$tmp/$1.rerr")"
	grep -c . <<<"$out"
}

t_need_charon() {
	t_need_tools swanctl
	[ -x /usr/lib/ipsec/charon ] || [ -x /usr/libexec/ipsec/charon ] ||
	    skip "charon not installed"
}

#   t_veth6 NS1 IF1 ADDR1 NS2 IF2 ADDR2
#       as t_veth, with IPv6 addresses (address/prefix) added without
#       duplicate address detection, so they are usable at once
t_veth6() {
	local n1=$1 i1=$2 a1=$3 n2=$4 i2=$5 a2=$6
	ip link add "$i1" type veth peer name "$i2" &&
	    ip link set "$i1" netns "$n1" &&
	    ip link set "$i2" netns "$n2" &&
	    ip -n "$n1" addr add "$a1" dev "$i1" nodad &&
	    ip -n "$n2" addr add "$a2" dev "$i2" nodad &&
	    ip -n "$n1" link set "$i1" up &&
	    ip -n "$n2" link set "$i2" up ||
	    die "veth $i1 ($n1) -- $i2 ($n2)"
}

#   t_agent_driver S DRIVER
#       $tmp/S.conf (written by t_agent_conf) uses the DRIVER backend
t_agent_driver() {
	sed -i "s/^driver = .*/driver = $2/" "$tmp/$1.conf" &&
	    grep -qx "driver = $2" "$tmp/$1.conf" ||
	    die "t_agent_driver: $tmp/$1.conf"
}

#   sw_sas: charon's SAs (swanctl --list-sas at $SWURI)
#   wait_qmsa: poll (bounded, 5 s) until our agent (${US[@]}, ipseccmd)
#       has a Quick Mode SA pair and charon one INSTALLED
sw_sas() {
	swanctl --list-sas --uri "$SWURI" 2>/dev/null
}
wait_qmsa() {
	local i
	for i in $(seq 1 250); do
		[ "$("${US[@]}" --json show qmsas 2>/dev/null |
		    jq '.qmsas | length')" -ge 1 ] &&
		    sw_sas | grep -q INSTALLED && return 0
		sleep 0.02
	done
	return 1
}
