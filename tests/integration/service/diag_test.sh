#!/usr/bin/env bash
# ipseccmd diag: every check passes on a healthy pair of agents (uesp, IKE
# with a preshared key, a real MIT KDC and keytab, a certificate), then each
# check fails once for a real cause: a bad configuration, a service that is
# not running, the driver's nftables table deleted behind its back, a KDC
# that is down, a missing keytab, a KDC whose clock is an hour off, an
# expired certificate, a key that is not the certificate's, no policy, an
# audit sink that cannot write, and a peer without IKE. The preshared key
# never appears in what diag prints. (The directory check is in
# service_directory, against slapd.) Needs root, netns, TUN, nft, the MIT
# KDC and libfaketime; skips (77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"

t_need_agents openssl
t_tmpdir svc-diag
na=dga-$$ nb=dgb-$$
t_netns $na $nb
t_veth $na dgva-$$ 10.201.0.1/24 $nb dgvb-$$ 10.201.0.2/24

marker=diag-secret-$$-marker
kdc=$tmp/kdc
t_at_exit "$t_lib/kdc.sh" stop "$kdc"
startkdc() {
	local rc=0
	ip netns exec $na "$t_lib/kdc.sh" start "$kdc" "$@" \
	    host/a.example.test > "$tmp/kdc.env" 2>"$tmp/kdc.err" || rc=$?
	[ $rc != 77 ] || skip "MIT KDC or libfaketime not installed"
	[ $rc = 0 ] || { cat "$tmp/kdc.err"; fail "the KDC did not start"; }
}
startkdc
kt=$kdc/keytabs/host_a.example.test.keytab

# A certificate of A's, valid now, and its key; an expired one (made with
# the clock 400 days back) and another key.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/a.key" \
    -out "$tmp/a.crt" -days 365 -subj "/CN=a.example.test" 2>/dev/null ||
    fail "openssl req"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$tmp/other.key" 2>/dev/null || fail "openssl genpkey"
ftlib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$ftlib" ] || skip "libfaketime not installed"
LD_PRELOAD=$ftlib FAKETIME=-400d openssl req -x509 -newkey rsa:2048 -nodes \
    -keyout "$tmp/old.key" -out "$tmp/old.crt" -days 30 \
    -subj "/CN=old.example.test" 2>/dev/null || fail "openssl req (old)"

t_psk_policy a host:10.201.0.1 host:10.201.0.2 psk="$marker"
t_psk_policy b host:10.201.0.2 host:10.201.0.1 psk="$marker"
aconf=("ike = on" "natt_port = off" "kerberos_keytab = $kt"
    "kerberos_principal = host/a.example.test"
    "kerberos_config = $kdc/krb5.conf" "cert_file = $tmp/a.crt"
    "key_file = $tmp/a.key" "ca_file = $tmp/a.crt")
t_agent_conf a "${aconf[@]}"
t_agent_conf b "ike = on" "natt_port = off"
t_agent_start a $na
t_agent_start b $nb
# Traffic first: the pair is healthy, with SAs.
ip netns exec $na ping -c 2 -i 0.3 -W 3 10.201.0.2 >/dev/null ||
    fail "no ping between the agents"

# diag S [ARGS...]: run it (in A's namespace, where the KDC is), JSON in
# $tmp/diag.json, text in $tmp/diag.txt, exit status in $drc.
diag() {
	local conf=$1
	shift
	drc=0
	ip netns exec $na "$cmd" -c "$conf" diag "$@" > "$tmp/diag.txt" \
	    2>&1 || drc=$?
	ip netns exec $na "$cmd" -c "$conf" --json diag "$@" \
	    > "$tmp/diag.json" 2>/dev/null || true
	cat "$tmp/diag.txt" >> "$tmp/all-output"
	cat "$tmp/diag.json" >> "$tmp/all-output"
}
# result NAME: PASS/FAIL/WARN/SKIP of that check (the first of its name)
result() {
	jq -r --arg n "$1" '[.checks[] | select(.name == $n)][0].result // "none"' \
	    "$tmp/diag.json"
}
want() {
	local name=$1 r=$2 why=$3 got
	got=$(result "$name")
	[ "$got" = "$r" ] || { cat "$tmp/diag.txt"; fail "$why: $name is $got, want $r"; }
}

diag "$tmp/a.conf" peer=10.201.0.2
for c in config control_socket service driver ike policy audit_sinks kdc \
    keytab clock_skew certificate private_key ca_certificates ike_peer; do
	want $c pass "healthy"
done
[ $drc = 0 ] || { cat "$tmp/diag.txt"; fail "healthy: exit $drc"; }
grep -q '^PASSED: 0 failed' "$tmp/diag.txt" || fail "healthy: no verdict"
grep -q 'the peer chose AES-128, SHA1, preshared key' "$tmp/diag.txt" ||
    fail "ike_peer does not say what the peer chose"
[ "$(jq -r .verdict "$tmp/diag.json")" = passed ] || fail "JSON verdict"
pass "healthy pair: every check passes, exit 0"

# A bad configuration: the first finding, exit 1.
cp "$tmp/a.conf" "$tmp/bad.conf"
echo "stor = /nowhere" >> "$tmp/bad.conf"
diag "$tmp/bad.conf"
want config fail "misspelt key"
[ $drc = 1 ] || fail "bad config: exit $drc"
grep -q 'stor' "$tmp/diag.txt" || fail "bad config: the key is not named"
pass "a misspelt key fails config"

# Kerberos: a keytab that is not there; the KDC down; its clock an hour off.
sed "s|^kerberos_keytab = .*|kerberos_keytab = $tmp/none.keytab|" \
    "$tmp/a.conf" > "$tmp/nokt.conf"
diag "$tmp/nokt.conf"
want keytab fail "missing keytab"
pass "a missing keytab fails keytab"
"$t_lib/kdc.sh" stop "$kdc"
diag "$tmp/a.conf"
want kdc fail "KDC down"
pass "a KDC that does not answer fails kdc"
startkdc -o +1h
diag "$tmp/a.conf"
want clock_skew fail "KDC an hour ahead"
pass "a KDC an hour ahead fails clock_skew"

# Certificates: an expired one; a key that is not the certificate's.
sed -e "s|^cert_file = .*|cert_file = $tmp/old.crt|" \
    -e "s|^key_file = .*|key_file = $tmp/other.key|" "$tmp/a.conf" \
    > "$tmp/oldcert.conf"
diag "$tmp/oldcert.conf"
want certificate fail "expired certificate"
want private_key fail "another key"
grep -q 'expired' "$tmp/diag.txt" || fail "expiry not said"
pass "an expired certificate fails certificate; another key fails private_key"

# A peer without IKE (B's namespace, agent stopped): port unreachable.
t_agent_stop b
diag "$tmp/a.conf" peer=10.201.0.2
want ike_peer fail "no IKE at the peer"
pass "a peer without IKE fails ike_peer"

# The service not running (B's configuration, B stopped).
diag "$tmp/b.conf"
want control_socket fail "B stopped"
want service fail "B stopped"
pass "a stopped service fails control_socket and service"

# The audit sink cannot write: in a private mount namespace journald's
# socket is not there (libsystemd then reports success: the daemon counts
# the lost records itself); no policy assigned.
sed -i 's/assigned="yes"/assigned="no"/' "$tmp/b/store.xml"
sed -i 's/^audit_sink = none/audit_sink = journald/' "$tmp/b.conf"
ip netns exec $nb unshare -m --propagation private sh -c '
    mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd &&
    exec "$@"' sh "$agentd" -c "$tmp/b.conf" || fail "B did not start"
"$cmd" -c "$tmp/b.conf" reload >/dev/null 2>&1 || true
diag "$tmp/b.conf"
want policy warn "no policy assigned"
# (B started beside its stopped instance's table: the check reads its own.)
want driver pass "B restarted"
want audit_sinks fail "journald socket missing"
"$cmd" -c "$tmp/b.conf" --json show stats |
    jq -e '.agent.audit_write_errors > 0' >/dev/null ||
    fail "Audit Write Errors: $("$cmd" -c "$tmp/b.conf" --json show stats | jq -c .agent)"
pass "no policy assigned warns; an audit sink that cannot write fails"

# The driver's table deleted behind its back (clear text would pass).
tbl=$(ip netns exec $na nft -j list tables | jq -r '.nftables[] |
    select(.table.name? // "" | startswith("pa_")) | .table.name' | head -1)
[ -n "$tbl" ] || fail "A's nftables table not found"
ip netns exec $na nft delete table inet "$tbl" || fail "nft delete"
diag "$tmp/a.conf"
want driver fail "table deleted"
grep -q "table inet $tbl is gone" "$tmp/diag.txt" ||
    fail "driver: the table is not named"
pass "a deleted nftables table fails driver"

# Secrets: the preshared key never appears in anything diag printed.
! grep -q "$marker" "$tmp/all-output" || fail "diag printed the key"
hex=$(printf %s "$marker" | od -An -tx1 | tr -d ' \n')
! grep -qi "$hex" "$tmp/all-output" || fail "diag printed the key (hex)"
pass "the preshared key appears nowhere in diag's output"

t_finish 11
