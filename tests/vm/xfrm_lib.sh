# xfrm_lib.sh -- sourced by the guest scripts of tests/vm: agents on the
# xfrm driver (sources tests/lib/agent.sh with t_driver=xfrm).
#
#   x_policy S SRC DST OFFER [tunnel=ADDR]
#       t_psk_policy S SRC DST [tunnel=ADDR] psk=xfrm-vm (tests/lib/agent.sh:
#       one mirrored rule, Main Mode AES128/SHA1/group 14) negotiating the
#       one offer OFFER (the <offer> attributes, e.g. 'ah="SHA1"' or
#       'esp="3DES" espIntegrity="SHA1"')
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
	local s=$1 offer=$4
	t_psk_policy "$s" "$2" "$3" ${5:+"$5"} psk=xfrm-vm
	sed -i "s|<offer esp=\"AES128\" espIntegrity=\"SHA1\"|<offer $offer|" \
	    "$tmp/$s/store.xml" || die "x_policy: $tmp/$s/store.xml"
	grep -qF "<offer $offer" "$tmp/$s/store.xml" ||
	    die "x_policy: no offer to rewrite in $tmp/$s/store.xml"
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
