#!/usr/bin/env bash
# Two ipsec-agentd in two network namespaces authenticate each other with
# Kerberos (GSS-API, method 65001) against a real MIT KDC started here
# (host/ principals, keytabs, no kinit), then bring up Quick Mode SAs over
# the uesp driver and ping flows over ESP. Also: a keytab whose keys the
# KDC no longer has fails with a 547 that says so; with the KDC stopped a
# Kerberos-only rule fails with "KDC unreachable", and a rule "Kerberos,
# then PSK" falls back to the preshared key. Needs root, netns, TUN, nft
# and the MIT KDC; skips (77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${PA_SOURCE_DIR:?PA_SOURCE_DIR unset}
bin=${PA_BINARY_DIR:?PA_BINARY_DIR unset}/service
agentd=$bin/ipsec-agentd
cmd=$bin/ipseccmd
kdcsh=$src/tests/lib/kdc.sh
realm=EXAMPLE.TEST

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in jq ip nft ping krb5kdc kadmin.local; do
	command -v $t >/dev/null || skip "$t is not installed"
done
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
# The engine must hand the Kerberos workers' fd to the service loop.
grep -q ike_krb_fd "$src/agent/ike/engine.c" ||
    skip "the IKE engine does not poll the Kerberos fd yet (engine.c)"

tmp=$(mktemp -d /tmp/krbG-agents.XXXXXX)
na=krbG-a-$$ nb=krbG-b-$$ nk=krbG-k-$$
ip netns add $na 2>/dev/null || skip "cannot create network namespaces"
kdcpid=
cleanup() {
	local rc=$?
	for s in a b; do
		[ -S "$tmp/$s/ctl.sock" ] && "$cmd" -c "$tmp/$s.conf" \
		    --timeout 5000 service stop >/dev/null 2>&1 || true
	done
	[ -n "$kdcpid" ] && kill "$kdcpid" 2>/dev/null || true
	ip netns del $na 2>/dev/null || true
	ip netns del $nb 2>/dev/null || true
	ip netns del $nk 2>/dev/null || true
	if [ "${PA_TEST_KEEP:-0}" = 1 ] || [ $rc != 0 ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
ip netns add $nb
ip netns add $nk
# The KDC is a host of its own (as a domain controller is): traffic to it
# is not the traffic the policy secures.
ip link add krbG-ka-$$ type veth peer name krbG-ak-$$
ip link add krbG-kb-$$ type veth peer name krbG-bk-$$
ip link set krbG-ka-$$ netns $nk
ip link set krbG-kb-$$ netns $nk
ip link set krbG-ak-$$ netns $na
ip link set krbG-bk-$$ netns $nb
ip -n $nk addr add 10.202.0.1/24 dev krbG-ka-$$
ip -n $na addr add 10.202.0.2/24 dev krbG-ak-$$
ip -n $nk addr add 10.203.0.1/24 dev krbG-kb-$$
ip -n $nb addr add 10.203.0.2/24 dev krbG-bk-$$
ip -n $nk link set lo up
for l in krbG-ka-$$ krbG-kb-$$; do ip -n $nk link set $l up; done
ip -n $na link set krbG-ak-$$ up
ip -n $nb link set krbG-bk-$$ up
ip link add krbG-va-$$ type veth peer name krbG-vb-$$
ip link set krbG-va-$$ netns $na
ip link set krbG-vb-$$ netns $nb
ip -n $na addr add 10.201.0.1/24 dev krbG-va-$$
ip -n $nb addr add 10.201.0.2/24 dev krbG-vb-$$
for n in $na $nb; do ip -n $n link set lo up; done
ip -n $na link set krbG-va-$$ up
ip -n $nb link set krbG-vb-$$ up

n=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# kdc.sh makes the realm, the principals and their keytabs, with the KDC
# on 127.0.0.1 of its namespace; it is then restarted on every address so
# that a reaches it at 10.202.0.1 and b at 10.203.0.1.
kdc=$tmp/kdc
rc=0
ip netns exec $nk "$kdcsh" start "$kdc" -r $realm host/a.example.test \
    host/b.example.test host/stale.example.test >/dev/null || rc=$?
[ $rc = 77 ] && skip "the MIT KDC is not installed"
[ $rc = 0 ] || fail "kdc.sh start"
. "$kdc/env"
ip netns exec $nk "$kdcsh" stop "$kdc" >/dev/null
sed -i "s/127\.0\.0\.1:$KRB5_KDC_PORT/$KRB5_KDC_PORT/" "$kdc/kdc.conf"
kdc_start() {
	ip netns exec $nk env KRB5_KDC_PROFILE="$kdc/kdc.conf" \
	    KRB5_CONFIG="$kdc/krb5.conf" krb5kdc -n -r $realm \
	    </dev/null >>"$kdc/kdc.stderr" 2>&1 &
	kdcpid=$!
	local end=$(( $(date +%s) + 10 ))
	while [ "$(date +%s)" -lt $end ]; do
		ip netns exec $nb bash -c \
		    "exec 3<>/dev/tcp/10.203.0.1/$KRB5_KDC_PORT" 2>/dev/null &&
		    return 0
		kill -0 $kdcpid 2>/dev/null || break
	done
	fail "krb5kdc did not come up on 10.203.0.1:$KRB5_KDC_PORT"
}
kdc_start
# The KDC changes stale's key; its keytab keeps the old one.
ip netns exec $nk "$kdcsh" kadmin "$kdc" cpw -randkey \
    host/stale.example.test >/dev/null 2>&1 || fail "kadmin cpw"
sed "s/127\.0\.0\.1:$KRB5_KDC_PORT/10.202.0.1:$KRB5_KDC_PORT/" \
    "$kdc/krb5.conf" > "$tmp/krb5-a.conf"
sed "s/127\.0\.0\.1:$KRB5_KDC_PORT/10.203.0.1:$KRB5_KDC_PORT/" \
    "$kdc/krb5.conf" > "$tmp/krb5-b.conf"
kt() { echo "$kdc/keytabs/host_$1.example.test.keytab"; }

# side peer principal-host auth...: policy, secrets, configuration.
mkside() {
	local s=$1 peer=$2 host=$3 conf=$4
	shift 4
	local auth=""
	for m in "$@"; do
		case $m in
		kerberos) auth="$auth<auth kind=\"kerberos\"/>" ;;
		psk) auth="$auth<auth kind=\"psk\" secret=\"fallbackkey\"/>" ;;
		esac
	done
	mkdir -p "$tmp/$s"
	sed -e "s/@PEER@/$peer/" -e "s|@AUTH@|$auth|" "$here/store.xml" \
	    > "$tmp/$s/store.xml"
	cp "$here/secrets.xml" "$tmp/$s/secrets.xml"
	chmod 600 "$tmp/$s/secrets.xml"
	cat > "$tmp/$s.conf" <<EOC
store = $tmp/$s/store.xml
secrets = $tmp/$s/secrets.xml
driver = uesp
ike = on
natt_port = off
audit_sink = none
audit_file = $tmp/$s/audit.jsonl
oakley_log = on
oakley_log_path = $tmp/$s/oakley.log
control_socket = $tmp/$s/ctl.sock
state_dir = $tmp/$s/state
kerberos_keytab = $(kt $host)
kerberos_principal = host/$host.example.test@$realm
kerberos_config = $conf
EOC
}
start() {
	local s=$1 ns=$2
	mkdir -p "$tmp/$s/rcache"
	ip netns exec $ns env KRB5RCACHEDIR="$tmp/$s/rcache" \
	    "$agentd" -c "$tmp/$s.conf" || fail "start $s"
}
stop() {
	"$cmd" -c "$tmp/$1.conf" --timeout 5000 service stop >/dev/null ||
	    fail "stop $1"
	rm -f "$tmp/$1/audit.jsonl"
}
A=("$cmd" -c "$tmp/a.conf")
Bc=("$cmd" -c "$tmp/b.conf")
# Wait (bounded) for a 547 on side s whose reason matches re.
want547() {
	local s=$1 re=$2 end=$(( $(date +%s) + 15 ))
	while [ "$(date +%s)" -lt $end ]; do
		jq -s -e --arg re "$re" '[.[] | select(.id == 547 and
		    (.fields["Failure Reason"] | test($re)))] | length >= 1' \
		    "$tmp/$s/audit.jsonl" >/dev/null 2>&1 && return 0
	done
	fail "$s: no 547 matching '$re': $(jq -c 'select(.id == 547) |
	    .fields["Failure Reason"]' "$tmp/$s/audit.jsonl" 2>/dev/null |
	    tail -3)"
}

# 1. Kerberos both ways: a's traffic to b, then b's to a on new SAs.
mkside a 10.201.0.2 a "$tmp/krb5-a.conf" kerberos
mkside b 10.201.0.1 b "$tmp/krb5-b.conf" kerberos
start a $na
start b $nb
ip netns exec $na ping -c 1 -W 5 10.201.0.2 >/dev/null ||
    fail "no ping with Kerberos: $(tail -5 "$tmp/a/oakley.log")"
ip netns exec $na ping -c 3 -W 2 10.201.0.2 >/dev/null ||
    fail "no traffic over the SAs"
"${A[@]}" --json show mmsas | jq -e '.mmsas[0].auth == "kerberos"' \
    >/dev/null || fail "a: show mmsas: $("${A[@]}" --json show mmsas)"
"${Bc[@]}" --json show qmsas | jq -e '.qmsas | length >= 1' >/dev/null ||
    fail "b: no Quick Mode SA"
jq -s -e '[.[] | select(.id == 541 and (.fields["Peer Identity"] ==
    "Kerberos based Identity: host/b.example.test@'$realm'"))] |
    length >= 1' "$tmp/a/audit.jsonl" >/dev/null || fail "a: no 541 for b"
jq -s -e '[.[] | select(.id == 541 and (.fields["Peer Identity"] ==
    "Kerberos based Identity: host/a.example.test@'$realm'"))] |
    length >= 1' "$tmp/b/audit.jsonl" >/dev/null || fail "b: no 541 for a"
pass "Kerberos Main Mode (a initiates), Quick Mode, ping over ESP, 541"
stop a
stop b
start a $na
start b $nb
ip netns exec $nb ping -c 2 -W 5 10.201.0.1 >/dev/null ||
    fail "no ping from b with Kerberos: $(tail -5 "$tmp/b/oakley.log")"
"${Bc[@]}" --json show mmsas | jq -e '.mmsas[0].auth == "kerberos" and
    .mmsas[0].initiator' >/dev/null ||
    fail "b: show mmsas: $("${Bc[@]}" --json show mmsas)"
pass "Kerberos Main Mode with b initiating"

# 2. A keytab the KDC no longer matches: 547 says so, nothing comes up.
stop a
stop b
mkside a 10.201.0.2 stale "$tmp/krb5-a.conf" kerberos
start a $na
start b $nb
! ip netns exec $na ping -c 1 -W 2 10.201.0.2 >/dev/null ||
    fail "ping went through with a stale keytab"
want547 a "Kerberos: wrong keytab"
[ "$("${A[@]}" --json show qmsas | jq '.qmsas | length')" = 0 ] ||
    fail "a has SAs with a stale keytab"
pass "stale keytab: 547 'Kerberos: wrong keytab', no SA"

# 3. The KDC stops. Kerberos only: 547 "KDC unreachable". Kerberos, then
#    PSK: the same 547, then the preshared key brings the SAs up.
stop a
stop b
kill $kdcpid
wait $kdcpid 2>/dev/null || true
kdcpid=
mkside a 10.201.0.2 a "$tmp/krb5-a.conf" kerberos
start a $na
start b $nb
! ip netns exec $na ping -c 1 -W 2 10.201.0.2 >/dev/null ||
    fail "ping went through with no KDC"
want547 a "Kerberos: KDC unreachable"
pass "KDC stopped, Kerberos only: 547 'Kerberos: KDC unreachable', no SA"
stop a
stop b
mkside a 10.201.0.2 a "$tmp/krb5-a.conf" kerberos psk
mkside b 10.201.0.1 b "$tmp/krb5-b.conf" kerberos psk
start a $na
start b $nb
ok=0
for i in 1 2 3; do
	ip netns exec $na ping -c 1 -W 3 10.201.0.2 >/dev/null && { ok=1; break; }
done
[ $ok = 1 ] || fail "no fallback to PSK: $(tail -5 "$tmp/a/oakley.log")"
want547 a "Kerberos: KDC unreachable"
"${A[@]}" --json show mmsas | jq -e '.mmsas[0].auth == "psk"' \
    >/dev/null || fail "a: show mmsas: $("${A[@]}" --json show mmsas)"
pass "KDC stopped, Kerberos then PSK: 547, then PSK SAs and ping"
echo "all $n Kerberos two-agent tests passed"
