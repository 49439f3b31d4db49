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
kdcsh=$src/tests/lib/kdc.sh
realm=EXAMPLE.TEST
. "$src/tests/lib/agent.sh"

t_need_agents krb5kdc kadmin.local
# The engine must hand the Kerberos workers' fd to the service loop.
grep -q ike_krb_fd "$src/agent/ike/engine.c" ||
    skip "the IKE engine does not poll the Kerberos fd yet (engine.c)"

t_tmpdir krbG-agents
na=krbG-a-$$ nb=krbG-b-$$ nk=krbG-k-$$
t_netns $na $nb $nk
kdcpid=
kdc_kill() { [ -z "$kdcpid" ] || kill "$kdcpid"; }
t_at_exit kdc_kill
# The KDC is a host of its own (as a domain controller is): traffic to it
# is not the traffic the policy secures.
t_veth $nk krbG-ka-$$ 10.202.0.1/24 $na krbG-ak-$$ 10.202.0.2/24
t_veth $nk krbG-kb-$$ 10.203.0.1/24 $nb krbG-bk-$$ 10.203.0.2/24
t_veth $na krbG-va-$$ 10.201.0.1/24 $nb krbG-vb-$$ 10.201.0.2/24

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
	t_agent_conf $s "ike = on" "natt_port = off" \
	    "kerberos_keytab = $(kt $host)" \
	    "kerberos_principal = host/$host.example.test@$realm" \
	    "kerberos_config = $conf"
}
start() {
	mkdir -p "$tmp/$1/rcache"
	t_agent_start $1 $2 KRB5RCACHEDIR="$tmp/$1/rcache"
}
stop() {
	t_agent_stop $1 || fail "stop $1"
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

# 3. The KDC stops and both agents restart. The tickets each kept in its
#    state directory (1.) carry Kerberos Main Mode: ping. Without them,
#    Kerberos only: 547 "KDC unreachable". Kerberos, then PSK: the same
#    547, then the preshared key brings the SAs up.
stop a
stop b
kill $kdcpid
wait $kdcpid 2>/dev/null || true
kdcpid=
for s in a b; do
	[ "$(stat -c %a "$tmp/$s/state/krb5cc_ike" 2>/dev/null)" = 600 ] ||
	    fail "$s: no kept tickets (0600) in its state directory"
done
mkside a 10.201.0.2 a "$tmp/krb5-a.conf" kerberos
start a $na
start b $nb
ip netns exec $na ping -c 1 -W 5 10.201.0.2 >/dev/null ||
    fail "no ping from kept tickets: $(tail -5 "$tmp/a/oakley.log")"
"${A[@]}" --json show mmsas | jq -e '.mmsas[0].auth == "kerberos"' \
    >/dev/null || fail "a: show mmsas: $("${A[@]}" --json show mmsas)"
pass "KDC stopped, both restarted: kept tickets, Kerberos SAs and ping"
stop a
stop b
rm -f "$tmp/a/state/krb5cc_ike" "$tmp/b/state/krb5cc_ike"
start a $na
start b $nb
! ip netns exec $na ping -c 1 -W 2 10.201.0.2 >/dev/null ||
    fail "ping went through with no KDC and no kept tickets"
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
t_finish "Kerberos two-agent"
