#!/usr/bin/env bash
# Revocation with CRLs fetched from the distribution points (issue 22):
# two agents (A 10.88.0.1, B 10.88.0.2, $t_driver: uesp by default)
# authenticate with certificates of an enterprise-like hierarchy, root R
# -> issuing CA I -> hosts. I's certificate names R's CRL and the hosts'
# certificates name I's CRL, both at http://10.88.0.3:8080/ (python's
# http.server in a third namespace on the same LAN). Each agent trusts
# only R. Checked:
#  1. level 1: the first Main Mode is accepted before any CRL is at hand,
#     the CRLs are fetched then, kept in <state_dir>/crl (0700, files
#     0600), and traffic flows protected;
#  2. I revokes B; A fetches I's CRL again when the first one's
#     nextUpdate comes and ends its SAs with B at once (Delete, 543,
#     "peer certificate revoked"); new negotiations are refused both ways
#     (544 "revoked") and nothing passes in clear;
#  3. A restarted with the web server gone refuses B from its cache;
#  4. level 2 with an empty cache and the server down refuses an
#     unrevoked peer ("unable to get certificate CRL"), and accepts it
#     once the server is back and the retry fetched the CRLs;
#  5. delta CRLs: I's base CRL lists nothing and names a delta CRL
#     (Freshest CRL) that lists B: A accepts B at level 1 with the base
#     alone (the delta is not published yet), and ends its SAs with B
#     once the delta is there.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"
. "$here/../../lib/pki.sh"

t_need_agents python3 openssl
id=$$
na=crla$id nb=crlb$id nw=crlw$id
t_tmpdir e2e-crl
t_netns $nw $na $nb
t_lan crl$id $nw 10.88.0.3/24 $na 10.88.0.1/24 $nb 10.88.0.2/24
t_keep_going=1
url=http://10.88.0.3:8080

# ---- the PKI -----------------------------------------------------------
www=$tmp/www
mkdir -p "$www"
pki_make "$url/root.crl" "$url/im.crl" a b
crl() { pki_crl "$2" "$www/$1.crl" "${@:3}"; }
pki=$tmp/pki

web_start() {
	ip netns exec $nw python3 -m http.server 8080 --bind 10.88.0.3 \
	    --directory "$www" >>"$tmp/www.log" 2>&1 &
	web=$!
	for _ in $(seq 1 100); do
		ip netns exec $nw bash -c 'exec 3<>/dev/tcp/10.88.0.3/8080' \
		    2>/dev/null && return 0
		sleep 0.1
	done
	die "the web server did not start"
}
web=""
web_stop() { [ -n "$web" ] || return 0; kill "$web" 2>/dev/null; wait "$web" 2>/dev/null; }
t_at_exit web_stop

# ---- the agents --------------------------------------------------------
conf() {	# conf S LEVEL
	if [ "$1" = a ]; then
		pki_agent a 10.88.0.1 10.88.0.2 "$2"
	else
		pki_agent b 10.88.0.2 10.88.0.1 "$2"
	fi
}
ping_ok() { ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }
qmsas() { "$cmd" -c "$tmp/$1.conf" --json show qmsas | jq '.qmsas | length'; }

# ---- 1. level 1: accepted, CRLs fetched and cached -----------------------
crl root root -crldays 7
crl im im -crlsec 25		# A fetches it again 25 s after the first fetch
web_start
conf a 1
conf b 1
t_agent_start a $na
t_agent_start b $nb
pki_wait 60 ping_ok $na 10.88.0.2 ||
    fail "1: no traffic A -> B with certificates and no CRL yet (level 1)"
[ "$(qmsas a)" -ge 1 ] || fail "1: A has no Quick Mode SA"
for s in a b; do
	d=$tmp/$s/state/crl
	# (the count is taken at each try, not once)
	pki_wait 20 sh -c '[ "$(ls "$1"/*.crl 2>/dev/null | wc -l)" = 2 ]' \
	    sh "$d" ||
	    fail "1: $s did not cache the 2 CRLs: $(ls -la "$d" 2>&1)"
	[ "$(stat -c %a "$d")" = 700 ] || fail "1: $d is not 0700"
	for f in "$d"/*; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "1: $f is not 0600"
	done
	grep -qx "$url/im.crl" "$d"/*.uri || fail "1: $s has no $url/im.crl"
done
# show pki: both distribution points, their CRLs, no failure.
pk=$("$cmd" -c "$tmp/a.conf" --json show pki) || fail "1: show pki"
jq -e --arg u "$url/im.crl" '.crls | length == 2 and
    (map(select(.uri == $u))[0] | .this_update > 0 and .failures == 0 and
    .revoked == 0 and (.issuer | length > 0))' <<<"$pk" >/dev/null ||
    fail "1: show pki: $pk"
"$cmd" -c "$tmp/a.conf" show pki | grep -q "^  $url/im.crl" ||
    fail "1: show pki (text)"
pass "1: level 1 accepted before any CRL; both CRLs fetched and cached"

# ---- 2. B revoked: A ends B's SAs at the refresh, refuses it both ways ---
pki_revoke b
crl im im -crldays 7
pki_wait 60 grep -q "peer certificate revoked" "$tmp/a/oakley.log" ||
    fail "2: A did not end its SAs with B when I's new CRL came"
no_qmsas() { [ "$(qmsas "$1")" = 0 ]; }	# counted at each try
pki_wait 10 no_qmsas a || fail "2: A still has Quick Mode SAs with B"
jq -s -e '[.[] | select(.id == 543)] | length >= 1' "$tmp/a/audit.jsonl" \
    >/dev/null || fail "2: A audited no 543 for the Main Mode SA that ended"
t_cap_start link_a $na crl${id}2 out
# B first: A's Delete left B without a Main Mode SA, so B starts one and
# A, the responder, refuses B's certificate in MM #5. (Refusing as the
# initiator, at MM #6, A leaves B with a Main Mode SA that A does not
# have: B's Quick Modes over it would go unanswered.)
ip netns exec $nb ping -c 3 -W 2 10.88.0.1 >/dev/null 2>&1 &&
    fail "2: B -> A gets through"
pki_wait 20 pki_refused a 1 "revoked" ||
    fail "2: no 544/547 'revoked' on A as responder"
ping_ok $na 10.88.0.2 && fail "2: A -> B still gets through"
pki_wait 20 pki_refused a 2 "revoked" ||
    fail "2: A did not refuse B as initiator too (fewer than two 'revoked')"
t_cap_stop link_a
n=$(t_cap_count link_a "icmp")
[ "$n" = 0 ] || fail "2: $n ICMP packets left A in clear"
for s in a b; do	# kept for the logs: later steps restart the agents
	cp "$tmp/$s/oakley.log" "$tmp/$s/oakley.step2.log"
	cp "$tmp/$s/audit.jsonl" "$tmp/$s/audit.step2.jsonl"
done
pk=$("$cmd" -c "$tmp/a.conf" --json show pki)
jq -e --arg u "$url/im.crl" 'map(select(.uri == $u))[0].revoked == 1' \
    <<<"$(jq .crls <<<"$pk")" >/dev/null || fail "2: show pki: $pk"
pass "2: revoked B: SAs ended at the CRL refresh, refused, nothing in clear"

# ---- 3. restart with the server gone: the cache refuses B ---------------
t_agent_stop a || fail "3: A did not stop"
web_stop
rm -f "$tmp/a/audit.jsonl"
t_agent_start a $na
ping_ok $na 10.88.0.2 && fail "3: A -> B gets through after the restart"
pki_wait 30 pki_refused a 1 "revoked" ||
    fail "3: A restarted without the server did not refuse B from its cache"
pass "3: the cached CRL refuses B after a restart without the server"

# ---- 4. level 2: no CRL at hand refuses; fetched on the retry, accepted -
t_agent_stop a || fail "4: A did not stop"
t_agent_stop b || fail "4: B did not stop"
pki_unrevoke_all
crl im im -crldays 7
rm -rf "$tmp/a/state/crl" "$tmp/a/audit.jsonl"
conf a 2
t_agent_start a $na
t_agent_start b $nb
ping_ok $na 10.88.0.2 && fail "4: A -> B got through at level 2 with no CRL"
pki_wait 30 pki_refused a 1 "unable to get certificate CRL" ||
    fail "4: no 544/547 'unable to get certificate CRL' on A at level 2"
web_start
pki_wait 60 ping_ok $na 10.88.0.2 ||
    fail "4: A -> B did not get through once the CRLs could be fetched"
pass "4: level 2 refuses without a CRL and accepts once it is fetched"

# ---- 5. a delta CRL revokes B ----------------------------------------------
t_agent_stop a || fail "5: A did not stop"
n=$((16#$(cat "$pki/im.crlnumber")))	# the base CRL's number
pki_crl_exts="freshestCRL=URI:$url/im-delta.crl" crl im im -crldays 7
pki_revoke b
pki_crl_exts=$(printf '2.5.29.27=critical,DER:02:01:%02x' "$n") \
    pki_crl im "$tmp/im-delta.crl" -crldays 7	# published below
rm -rf "$tmp/a/state/crl" "$tmp/a/audit.jsonl"
mv "$tmp/a/oakley.log" "$tmp/a/oakley.step4.log"
conf a 1
t_agent_start a $na
pki_wait 60 ping_ok $na 10.88.0.2 ||
    fail "5: A -> B did not get through before the delta (level 1)"
# The delta appears now (A found none there yet: it tries again in 5 s).
mv "$tmp/im-delta.crl" "$www/im-delta.crl"
pki_wait 60 grep -q "peer certificate revoked" "$tmp/a/oakley.log" ||
    fail "5: the delta CRL did not end A's SAs with B"
grep -q "GET /im-delta.crl" "$tmp/www.log" ||
    fail "5: A never fetched the delta CRL"
pass "5: a delta CRL named by the base revokes B"

t_finish "CRL fetching"
