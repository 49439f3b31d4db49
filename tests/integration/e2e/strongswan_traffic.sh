#!/usr/bin/env bash
# End to end against strongSwan: our ipsec-agentd (uesp driver, a local XML
# store with a tunnel-mode rule 10.78.1.0/24 <-> 10.78.2.0/24, PSK) in one
# network namespace, charon (IKEv1, userspace kernel-libipsec backend,
# which only carries tunnel mode over ESP-in-UDP, so UDP encapsulation is
# forced) in the other. For each initiation direction: the SAs exist on
# both sides with the same SPIs crosswise, ping works both ways, and a TCP
# transfer each way arrives byte for byte.
# Needs root, netns, TUN, nft, charon + swanctl, jq, python3; skips (77).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
agentd=$bin/ipsec-agentd
cmd=$bin/ipseccmd
charon=$here/../ike/charon.sh
xfer=$here/tcp_xfer.py

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in jq ip nft ping swanctl python3; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -x /usr/lib/ipsec/charon ] || [ -x /usr/libexec/ipsec/charon ] ||
    skip "charon not installed"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

id=$$
nsA=e2e-us$id nsB=e2e-sw$id
tmp=$(mktemp -d /tmp/e2e-sw.XXXXXX)
ip netns add $nsA 2>/dev/null || skip "cannot create network namespaces"
stop_all() {
	[ -S "$tmp/us/ctl.sock" ] && "$cmd" -c "$tmp/us.conf" --timeout 5000 \
	    service stop >/dev/null 2>&1
	"$charon" stop "$tmp/sw" >/dev/null 2>&1
	return 0
}
cleanup() {
	local rc=$?
	stop_all
	ip netns del $nsA 2>/dev/null
	ip netns del $nsB 2>/dev/null
	if [ "${PA_TEST_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
ip netns add $nsB
ip link add e2eva$id type veth peer name e2evb$id
ip link set e2eva$id netns $nsA
ip link set e2evb$id netns $nsB
ip -n $nsA addr add 10.78.0.1/24 dev e2eva$id
ip -n $nsB addr add 10.78.0.2/24 dev e2evb$id
for n in $nsA $nsB; do ip -n $n link set lo up; done
ip -n $nsA link set e2eva$id up
ip -n $nsB link set e2evb$id up
# The protected subnets, one address each. Ours is routed towards the
# peer (uesp steers it into its TUN); charon routes its own via its TUN.
ip -n $nsA addr add 10.78.1.1/32 dev lo
ip -n $nsB addr add 10.78.2.1/32 dev lo
ip -n $nsA route add 10.78.2.0/24 via 10.78.0.2 src 10.78.1.1

n=0 fails=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }

psk="e2e-strongswan-psk"
mkdir -p "$tmp/us"
cat > "$tmp/us/store.xml" <<'EOX'
<?xml version="1.0" encoding="UTF-8"?>
<ipsecStore xmlns="urn:ipsec-agent:policy:1" version="1">
  <filterList id="{e2e00000-0000-4000-8000-0000000000a1}" name="Subnets">
    <filter id="{e2e00000-0000-4000-8000-0000000000a2}" mirrored="yes">
      <source kind="subnet" address="10.78.1.0" prefix="24"/>
      <destination kind="subnet" address="10.78.2.0" prefix="24"/>
    </filter>
  </filterList>
  <filterAction id="{e2e00000-0000-4000-8000-0000000000a3}" name="Tunnel"
      action="negotiate" inpass="no" soft="no">
    <offer esp="AES128" espIntegrity="SHA1" lifeSeconds="3600"
        lifeKilobytes="100000"/>
  </filterAction>
  <policy id="{e2e00000-0000-4000-8000-0000000000a4}" name="To strongSwan"
      assigned="yes">
    <isakmp id="{e2e00000-0000-4000-8000-0000000000a5}">
      <method cipher="AES128" hash="SHA1" group="14"/>
    </isakmp>
    <rule id="{e2e00000-0000-4000-8000-0000000000a6}" name="SiteToSite"
        filterList="{e2e00000-0000-4000-8000-0000000000a1}"
        filterAction="{e2e00000-0000-4000-8000-0000000000a3}"
        tunnel="10.78.0.2">
      <auth kind="psk" secret="swkey"/>
    </rule>
  </policy>
</ipsecStore>
EOX
cat > "$tmp/us/secrets.xml" <<EOX
<?xml version="1.0" encoding="UTF-8"?>
<ipsecSecrets xmlns="urn:ipsec-agent:policy:1" version="1">
  <psk name="swkey">$(printf %s "$psk" | od -An -tx1 | tr -d ' \n')</psk>
</ipsecSecrets>
EOX
chmod 600 "$tmp/us/secrets.xml"
cat > "$tmp/us.conf" <<EOC
store = $tmp/us/store.xml
secrets = $tmp/us/secrets.xml
driver = uesp
ike = on
ike_addresses = 10.78.0.1
audit_sink = none
audit_file = $tmp/us/audit.jsonl
oakley_log = on
oakley_log_path = $tmp/us/oakley.log
control_socket = $tmp/us/ctl.sock
state_dir = $tmp/us/state
EOC
US=("$cmd" -c "$tmp/us.conf")
head -c 4194304 /dev/urandom > "$tmp/payload"
want="$(stat -c %s "$tmp/payload") $(sha256sum "$tmp/payload" | cut -d' ' -f1)"

start_all() {
	ip netns exec $nsA "$agentd" -c "$tmp/us.conf" || die "ipsec-agentd did not start"
	CHARON_ENCAP=yes "$charon" start "$tmp/sw" $nsB 10.78.0.2 10.78.0.1 \
	    "$psk" aes128-sha1-modp2048 aes128-sha1 tunnel 10.78.2.0/24 \
	    10.78.1.0/24 || die "charon did not start"
}
sw_sas() {
	swanctl --list-sas --uri "unix://$tmp/sw/run/charon.vici" 2>/dev/null
}
# wait_qmsa: poll (bounded) until both sides have their SA pair.
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
# check_sas WHO: one SA pair each, SPIs crosswise, encapsulated tunnel.
check_sas() {
	local q sw in out
	q=$("${US[@]}" --json show qmsas | jq -c '.qmsas')
	sw=$(sw_sas)
	[ "$(jq length <<<"$q")" = 1 ] || { fail "$1: we have $(jq length <<<"$q") QM SAs"; return; }
	in=$(printf %08x "$(jq '.[0].spi_in' <<<"$q")")
	out=$(printf %08x "$(jq '.[0].spi_out' <<<"$q")")
	jq -e '.[0].tunnel == true and .[0].esp_cipher == "AES128"' <<<"$q" \
	    >/dev/null || fail "$1: our SA is not an AES128 tunnel: $q"
	grep -q "INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-128/HMAC_SHA1_96" \
	    <<<"$sw" || fail "$1: charon has no AES128 ESP-in-UDP tunnel SA: $sw"
	grep -Eq "in  *$out[ ,]" <<<"$sw" ||
	    fail "$1: charon's inbound SPI is not our outbound $out: $sw"
	grep -Eq "out *$in[ ,]" <<<"$sw" ||
	    fail "$1: charon's outbound SPI is not our inbound $in: $sw"
	grep -q "NAT" "$tmp/us/oakley.log" ||
	    fail "$1: our Oakley log does not mention NAT-T"
}
# xfer FROMNS SRC TONS DST PORT: 4 MiB over TCP, checked.
xfer() {
	local rf="$tmp/xfer.$5" i got
	rm -f "$rf.ready" "$rf.result"
	ip netns exec $3 python3 "$xfer" serve $4 $5 "$rf.ready" "$rf.result" &
	local srv=$!
	for i in $(seq 1 250); do [ -f "$rf.ready" ] && break; sleep 0.02; done
	ip netns exec $1 python3 "$xfer" send $2 $4 $5 "$tmp/payload" ||
	    fail "TCP $2 -> $4: the sender failed"
	wait $srv || fail "TCP $2 -> $4: the receiver failed"
	got=$(cat "$rf.result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "TCP $2 -> $4: got '$got', want '$want'"
}
traffic() {
	ip netns exec $nsA ping -c 3 -i 0.2 -W 2 -I 10.78.1.1 10.78.2.1 \
	    >/dev/null || fail "$1: ping us -> charon"
	ip netns exec $nsB ping -c 3 -i 0.2 -W 2 -I 10.78.2.1 10.78.1.1 \
	    >/dev/null || fail "$1: ping charon -> us"
	xfer $nsA 10.78.1.1 $nsB 10.78.2.1 5001
	xfer $nsB 10.78.2.1 $nsA 10.78.1.1 5002
	"${US[@]}" --json show stats | jq -e '.ipsec["Confidential Bytes Sent"]
	    > 4000000 and .ipsec["Confidential Bytes Received"] > 4000000' \
	    >/dev/null || fail "$1: our byte counters did not grow"
}

# 1. We initiate: the first packet to charon's subnet triggers it and must
# get through. charon, as responder, adds its inbound SA only once it has
# processed QM #3; we release the held packet one exchange round trip
# after sending QM #3 (see quick_mode.c), so it does not arrive first.
start_all
f0=$fails
ip netns exec $nsA ping -c 1 -W 5 -I 10.78.1.1 10.78.2.1 >/dev/null ||
    fail "we initiate: the first ping was lost"
wait_qmsa || die "we initiate: no SAs: $(tail -5 "$tmp/us/oakley.log")"
check_sas "we initiate"
traffic "we initiate"
[ $fails = $f0 ] && pass "we initiate: same SPIs both sides, ESP-in-UDP tunnel, ping and 2 x 4 MiB TCP intact"
stop_all

# 2. charon initiates.
start_all
f0=$fails
swanctl --initiate --child t --timeout 10 \
    --uri "unix://$tmp/sw/run/charon.vici" >"$tmp/init.out" 2>&1 ||
    fail "charon initiates: swanctl --initiate failed: $(tail -3 "$tmp/init.out")"
wait_qmsa || die "charon initiates: no SAs: $(tail -5 "$tmp/us/oakley.log")"
check_sas "charon initiates"
traffic "charon initiates"
[ $fails = $f0 ] && pass "charon initiates: same SPIs both sides, ESP-in-UDP tunnel, ping and 2 x 4 MiB TCP intact"
stop_all

[ $fails = 0 ] || die "$fails check(s) failed (logs in $tmp)"
echo "all $n strongSwan traffic tests passed"
