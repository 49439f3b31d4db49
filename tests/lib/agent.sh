# agent.sh -- sourced by the integration tests that run ipsec-agentd in
# network namespaces. Sources netns.sh (and so check.sh).
#
# The binaries: $agentd and $cmd, from $PA_BINARY_DIR/service unless the
# script set $agentd (and $cmd) before sourcing this.
#
# One side S of a test keeps its files in $tmp/S/ and its configuration in
# $tmp/S.conf.
#
#   t_need_agents [TOOL...]
#       skip (77) unless root, jq, ip, nft, ping, the TOOLs and
#       /dev/net/tun (the uesp driver) are there
#   t_agent_conf S [LINE...]
#       write $tmp/S.conf: store and secrets $tmp/S/{store,secrets}.xml,
#       the uesp driver (or $t_driver), the LINEs ("key = value"), audit to
#       $tmp/S/audit.jsonl, the Oakley log $tmp/S/oakley.log, the control
#       socket $tmp/S/ctl.sock, state in $tmp/S/state. A running agent of S
#       is stopped on exit.
#   t_agent_start S NS [VAR=VALUE...]
#       start ipsec-agentd of S in NS (with the environment given); it
#       returns once the service runs. Dies when it does not start.
#   t_agent_stop S
#       ipseccmd service stop (5 s); its status is the command's.
#   t_psk_policy S SRC DST [soft=yes] [kb=N] [tunnel=ADDR] [psk=TEXT]
#       $tmp/S/store.xml with one assigned policy, one rule: traffic
#       between SRC and DST (mirrored) negotiates ESP AES128/SHA1 (3600 s,
#       N KB, default 100000; soft="yes" allows clear text to hosts that
#       do not answer; tunnel mode to ADDR), Main Mode AES128/SHA1/group 14,
#       preshared key TEXT (default "k") in $tmp/S/secrets.xml (0600).
#       SRC, DST: me | host:ADDR | subnet:ADDR/PREFIX
#   t_payload BYTES
#       $tmp/payload of BYTES random bytes; $t_want is "size sha256" of it
#   t_tcp_xfer FROMNS SRC TONS DST PORT [LISTEN]
#       send $tmp/payload over TCP from SRC (in FROMNS) to DST:PORT (in
#       TONS; the receiver listens on LISTEN, default DST); fail unless
#       the receiver got it byte for byte
#   t_traffic WHAT NS1 IP1 NS2 IP2
#       3 pings from IP1 (in NS1) to IP2 (in NS2) and 3 back, then
#       t_tcp_xfer each way (ports 5001, 5002); fail (naming WHAT) when
#       any of it does not get through

# shellcheck source=netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

t_xfer_py=$(cd "$(dirname "${BASH_SOURCE[0]}")/../integration/e2e" &&
    pwd)/tcp_xfer.py
if [ -z "${agentd:-}" ]; then
	agentd=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service/ipsec-agentd
	cmd=$PA_BINARY_DIR/service/ipseccmd
fi
t_sides=" "

t_need_agents() {
	t_need_root
	t_need_tools jq ip nft ping "$@"
	t_need_tun
}

t_agent_conf() {
	local s=$1 line
	shift
	mkdir -p "$tmp/$s" || die "mkdir $tmp/$s"
	{
		echo "store = $tmp/$s/store.xml"
		echo "secrets = $tmp/$s/secrets.xml"
		echo "driver = ${t_driver:-uesp}"
		for line; do
			echo "$line"
		done
		cat <<EOC
audit_sink = none
audit_file = $tmp/$s/audit.jsonl
oakley_log = on
oakley_log_path = $tmp/$s/oakley.log
control_socket = $tmp/$s/ctl.sock
state_dir = $tmp/$s/state
EOC
	} > "$tmp/$s.conf" || die "cannot write $tmp/$s.conf"
	case $t_sides in
	*" $s "*) ;;
	*)
		t_sides="$t_sides$s "
		t_at_exit t_agent_gone "$s"
		;;
	esac
}

# (on exit) stop the agent of S if its control socket is there
t_agent_gone() {
	[ ! -S "$tmp/$1/ctl.sock" ] || t_agent_stop "$1"
}

t_agent_start() {
	local s=$1 ns=$2
	shift 2
	ip netns exec "$ns" env "$@" "$agentd" -c "$tmp/$s.conf" ||
	    die "ipsec-agentd $s did not start"
}

t_agent_stop() {
	"$cmd" -c "$tmp/$1.conf" --timeout 5000 service stop >/dev/null
}

# the XML element of an end: me | host:ADDR | subnet:ADDR/PREFIX
t_policy_end() {
	local tag=$1 spec=$2 a
	case $spec in
	me)
		echo "<$tag kind=\"me\"/>" ;;
	host:*)
		echo "<$tag kind=\"host\" address=\"${spec#host:}\"/>" ;;
	subnet:*/*)
		a=${spec#subnet:}
		echo "<$tag kind=\"subnet\" address=\"${a%/*}\" prefix=\"${a#*/}\"/>" ;;
	*)
		die "t_psk_policy: bad end $spec" ;;
	esac
}

t_psk_policy() {
	local s=$1 src dst opt soft=no kb=100000 tunnel="" psk=k
	src=$(t_policy_end source "$2") || exit 1
	dst=$(t_policy_end destination "$3") || exit 1
	shift 3
	for opt; do
		case $opt in
		soft=*) soft=${opt#*=} ;;
		kb=*) kb=${opt#*=} ;;
		tunnel=*) tunnel="tunnel=\"${opt#*=}\"" ;;
		psk=*) psk=${opt#*=} ;;
		*) die "t_psk_policy: bad option $opt" ;;
		esac
	done
	mkdir -p "$tmp/$s" || die "mkdir $tmp/$s"
	cat > "$tmp/$s/store.xml" <<EOX || die "cannot write $tmp/$s/store.xml"
<?xml version="1.0" encoding="UTF-8"?>
<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1">
  <filterList id="{7e570000-0000-4000-8000-0000000000a1}" name="Peer">
    <filter id="{7e570000-0000-4000-8000-0000000000a2}" mirrored="yes">
      $src
      $dst
    </filter>
  </filterList>
  <filterAction id="{7e570000-0000-4000-8000-0000000000a3}" name="Negotiate"
      action="negotiate" inpass="no" soft="$soft">
    <offer esp="AES128" espIntegrity="SHA1" lifeSeconds="3600"
        lifeKilobytes="$kb"/>
  </filterAction>
  <policy id="{7e570000-0000-4000-8000-0000000000a4}" name="Test"
      assigned="yes">
    <isakmp id="{7e570000-0000-4000-8000-0000000000a5}">
      <method cipher="AES128" hash="SHA1" group="14"/>
    </isakmp>
    <rule id="{7e570000-0000-4000-8000-0000000000a6}" name="Peer"
        filterList="{7e570000-0000-4000-8000-0000000000a1}"
        filterAction="{7e570000-0000-4000-8000-0000000000a3}"
        $tunnel>
      <auth kind="psk" secret="k"/>
    </rule>
  </policy>
</ipsecStore>
EOX
	cat > "$tmp/$s/secrets.xml" <<EOX || die "cannot write $tmp/$s/secrets.xml"
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="k">$(printf %s "$psk" | od -An -tx1 | tr -d ' \n')</psk>
</ipsecSecrets>
EOX
	chmod 600 "$tmp/$s/secrets.xml"
}

t_payload() {
	head -c "$1" /dev/urandom > "$tmp/payload" || die "payload"
	t_want="$(stat -c %s "$tmp/payload") $(sha256sum "$tmp/payload" |
	    cut -d' ' -f1)"
}

# (both) t_xfer WHAT SCRIPT FROMNS SRC TONS DST PORT [LISTEN]: the transfer
# of $tmp/payload with SCRIPT's serve/send, checked byte for byte.
t_xfer() {
	local what=$1 py=$2 rf="$tmp/xfer.$1.$7" got srv
	shift 2
	rm -f "$rf.ready" "$rf.result"
	ip netns exec "$3" python3 "$py" serve "${6:-$4}" "$5" \
	    "$rf.ready" "$rf.result" &
	srv=$!
	for _ in $(seq 1 250); do
		[ -f "$rf.ready" ] && break
		sleep 0.02
	done
	ip netns exec "$1" python3 "$py" send "$2" "$4" "$5" \
	    "$tmp/payload" || fail "$what $2 -> $4: the sender failed"
	wait $srv || fail "$what $2 -> $4: the receiver failed"
	got=$(cat "$rf.result" 2>/dev/null)
	[ "$got" = "$t_want" ] ||
	    fail "$what $2 -> $4: got '$got', want '$t_want'"
}

t_tcp_xfer() {
	t_xfer TCP "$t_xfer_py" "$@"
}

t_traffic() {
	local what=$1 n1=$2 a1=$3 n2=$4 a2=$5
	ip netns exec "$n1" ping -c 3 -i 0.2 -W 2 -I "$a1" "$a2" >/dev/null ||
	    fail "$what: ping $a1 -> $a2"
	ip netns exec "$n2" ping -c 3 -i 0.2 -W 2 -I "$a2" "$a1" >/dev/null ||
	    fail "$what: ping $a2 -> $a1"
	t_tcp_xfer "$n1" "$a1" "$n2" "$a2" 5001
	t_tcp_xfer "$n2" "$a2" "$n1" "$a1" 5002
}

#   t_udp_xfer FROMNS SRC TONS DST PORT
#       send $tmp/payload over UDP (tests/lib/udp_xfer.py: datagrams of
#       1000 bytes, each acknowledged, so both directions carry UDP) from
#       SRC (in FROMNS) to DST:PORT (in TONS); fail unless the receiver
#       got it byte for byte
t_udp_xfer() {
	t_xfer UDP "$t_lib/udp_xfer.py" "$@"
}
