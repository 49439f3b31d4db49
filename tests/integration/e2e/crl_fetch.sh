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
#     once the server is back and the retry fetched the CRLs.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/agent.sh"
. "$here/../../lib/pair.sh"

t_need_agents python3 openssl
id=$$
na=crla$id nb=crlb$id nw=crlw$id
t_tmpdir e2e-crl
t_netns $nw $na $nb
t_lan crl$id $nw 10.88.0.3/24 $na 10.88.0.1/24 $nb 10.88.0.2/24
t_keep_going=1
url=http://10.88.0.3:8080

# ---- the PKI -----------------------------------------------------------
pki=$tmp/pki
www=$tmp/www
mkdir -p "$pki" "$www"
ossl() { openssl "$@" >>"$pki/openssl.log" 2>&1 || die "openssl $1 failed (see $pki/openssl.log)"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/O=PA Test/CN=CRL Root" \
    -keyout "$pki/root.key" -out "$pki/root.pem" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey rsa:2048 -nodes -subj "/O=PA Test/CN=CRL Issuing" \
    -keyout "$pki/im.key" -out "$pki/im.csr"
printf '%s\n' "basicConstraints=critical,CA:TRUE" \
    "keyUsage=critical,keyCertSign,cRLSign" \
    "crlDistributionPoints=URI:$url/root.crl" > "$pki/im.ext"
ossl x509 -req -in "$pki/im.csr" -CA "$pki/root.pem" -CAkey "$pki/root.key" \
    -CAcreateserial -days 30 -extfile "$pki/im.ext" -out "$pki/im.pem"
printf '%s\n' "crlDistributionPoints=URI:$url/im.crl" > "$pki/host.ext"
for h in a b; do
	ossl req -newkey rsa:2048 -nodes -subj "/O=PA Test/CN=host-$h" \
	    -keyout "$pki/$h.key" -out "$pki/$h.csr"
	ossl x509 -req -in "$pki/$h.csr" -CA "$pki/im.pem" -CAkey "$pki/im.key" \
	    -CAcreateserial -days 30 -extfile "$pki/host.ext" -out "$pki/$h.pem"
	cat "$pki/$h.pem" "$pki/im.pem" > "$pki/$h-chain.pem"
done

# crl NAME CA ARGS...: a CRL of CA (root or im) in $www/NAME.crl (DER).
crl() {
	local name=$1 ca=$2
	shift 2
	cat > "$pki/$ca.cnf" <<EOC
[ca]
default_ca = theca
[theca]
database = $pki/$ca.index
crlnumber = $pki/$ca.crlnumber
default_md = sha256
EOC
	[ -f "$pki/$ca.index" ] || : > "$pki/$ca.index"
	[ -f "$pki/$ca.crlnumber" ] || echo 01 > "$pki/$ca.crlnumber"
	ossl ca -config "$pki/$ca.cnf" -keyfile "$pki/$ca.key" \
	    -cert "$pki/$ca.pem" -gencrl "$@" -out "$pki/$name.crl.pem"
	ossl crl -in "$pki/$name.crl.pem" -outform DER -out "$www/$name.crl.new"
	mv "$www/$name.crl.new" "$www/$name.crl"
}
revoke() {
	ossl ca -config "$pki/im.cnf" -keyfile "$pki/im.key" -cert "$pki/im.pem" \
	    -revoke "$pki/$1.pem"
}

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
# conf S LEVEL: certificate policy between S and its peer, CRL level.
conf() {
	local s=$1 me peer
	[ "$s" = a ] && me=10.88.0.1 peer=10.88.0.2 || me=10.88.0.2 peer=10.88.0.1
	t_psk_policy "$s" me "host:$peer"
	sed -i 's|<auth kind="psk" secret="k"/>|<auth kind="certificate" ca="CN=CRL Root,O=PA Test"/>|' \
	    "$tmp/$s/store.xml"
	t_agent_conf "$s" "ike = on" "ike_addresses = $me" \
	    "cert_file = $pki/$s-chain.pem" "key_file = $pki/$s.key" \
	    "ca_file = $pki/root.pem" "crl_check = $2" "crl_retry = 5" \
	    "crl_fetch_timeout = 3"
}
A=("$cmd" -c "$tmp/a.conf")
B=("$cmd" -c "$tmp/b.conf")

# refused S N REGEX: S audited at least N refusals (547 whose reason
# matches REGEX, each after its 544 "certificate trust")
refused() {
	jq -s -e --argjson n "$2" --arg re "$3" '
	    ([.[] | select(.id == 544)] | length) >= $n and
	    ([.[] | select(.id == 547 and
	        (.fields["Failure Reason"] | test($re)))] | length) >= $n' \
	    "$tmp/$1/audit.jsonl" >/dev/null 2>&1
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds (bounded)
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
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
wait_for 60 ping_ok $na 10.88.0.2 ||
    fail "1: no traffic A -> B with certificates and no CRL yet (level 1)"
[ "$(qmsas a)" -ge 1 ] || fail "1: A has no Quick Mode SA"
for s in a b; do
	d=$tmp/$s/state/crl
	wait_for 20 test "$(ls "$d"/*.crl 2>/dev/null | wc -l)" = 2 ||
	    fail "1: $s did not cache the 2 CRLs: $(ls -la "$d" 2>&1)"
	[ "$(stat -c %a "$d")" = 700 ] || fail "1: $d is not 0700"
	for f in "$d"/*; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "1: $f is not 0600"
	done
	grep -qx "$url/im.crl" "$d"/*.uri || fail "1: $s has no $url/im.crl"
done
pass "1: level 1 accepted before any CRL; both CRLs fetched and cached"

# ---- 2. B revoked: A ends B's SAs at the refresh, refuses it both ways ---
revoke b
crl im im -crldays 7
wait_for 60 grep -q "peer certificate revoked" "$tmp/a/oakley.log" ||
    fail "2: A did not end its SAs with B when I's new CRL came"
wait_for 10 test "$(qmsas a)" = 0 || fail "2: A still has Quick Mode SAs with B"
jq -s -e '[.[] | select(.id == 543)] | length >= 1' "$tmp/a/audit.jsonl" \
    >/dev/null || fail "2: A audited no 543 for the Main Mode SA that ended"
t_cap_start link_a $na crl${id}2 out
# B first: A's Delete left B without a Main Mode SA, so B starts one and
# A, the responder, refuses B's certificate in MM #5. (Refusing as the
# initiator, at MM #6, A leaves B with a Main Mode SA that A does not
# have: B's Quick Modes over it would go unanswered.)
ip netns exec $nb ping -c 3 -W 2 10.88.0.1 >/dev/null 2>&1 &&
    fail "2: B -> A gets through"
wait_for 20 refused a 1 "revoked" ||
    fail "2: no 544/547 'revoked' on A as responder"
ping_ok $na 10.88.0.2 && fail "2: A -> B still gets through"
wait_for 20 refused a 2 "revoked" ||
    fail "2: A did not refuse B as initiator too (fewer than two 'revoked')"
t_cap_stop link_a
n=$(t_cap_count link_a "icmp")
[ "$n" = 0 ] || fail "2: $n ICMP packets left A in clear"
for s in a b; do	# kept for the logs: later steps restart the agents
	cp "$tmp/$s/oakley.log" "$tmp/$s/oakley.step2.log"
	cp "$tmp/$s/audit.jsonl" "$tmp/$s/audit.step2.jsonl"
done
pass "2: revoked B: SAs ended at the CRL refresh, refused, nothing in clear"

# ---- 3. restart with the server gone: the cache refuses B ---------------
t_agent_stop a || fail "3: A did not stop"
web_stop
rm -f "$tmp/a/audit.jsonl"
t_agent_start a $na
ping_ok $na 10.88.0.2 && fail "3: A -> B gets through after the restart"
wait_for 30 refused a 1 "revoked" ||
    fail "3: A restarted without the server did not refuse B from its cache"
pass "3: the cached CRL refuses B after a restart without the server"

# ---- 4. level 2: no CRL at hand refuses; fetched on the retry, accepted -
t_agent_stop a || fail "4: A did not stop"
t_agent_stop b || fail "4: B did not stop"
: > "$pki/im.index"		# a new issuing CA database: nothing revoked
crl im im -crldays 7
rm -rf "$tmp/a/state/crl" "$tmp/a/audit.jsonl"
conf a 2
t_agent_start a $na
t_agent_start b $nb
ping_ok $na 10.88.0.2 && fail "4: A -> B got through at level 2 with no CRL"
wait_for 30 refused a 1 "unable to get certificate CRL" ||
    fail "4: no 544/547 'unable to get certificate CRL' on A at level 2"
web_start
wait_for 60 ping_ok $na 10.88.0.2 ||
    fail "4: A -> B did not get through once the CRLs could be fetched"
pass "4: level 2 refuses without a CRL and accepts once it is fetched"

t_finish "CRL fetching"
