#!/usr/bin/env bash
# IKEv1 interop: our engine (ike_peer on the null driver) against
# strongSwan's charon in two network namespaces, both directions, PSK,
# 3DES-SHA1-MODP1024 and AES128-SHA256-MODP2048, PFS off and on, tunnel
# mode, PSK and RSA certificates. Checks that both sides report the same SPIs and algorithms, and
# that a delete from either side is honoured.
#
# usage: interop.sh BUILD_DIR [CASES]   (CASES: e.g. 1,3)   exit 77 = skipped (no root/netns/charon)
set -uo pipefail

build=${1:?build dir}
here=$(cd "$(dirname "$0")" && pwd)
cp_tag=ike cp_net=77
. "$here/charon_pair.sh"

# sw_sas: charon's view of its CHILD SAs
sw_sas() { swanctl --list-sas --uri "unix://$tmp/sw/run/charon.vici" 2>/dev/null; }

# check_sas NAME ALG: our QMSA line vs charon's list-sas
check_sas() {
	local name=$1 alg=$2 ours in out sw i
	ours=$(grep '^QMSA up' "$tmp/peer.out" | tail -1)
	in=$(sed -E 's/.*esp_in=0x([0-9a-f]+).*/\1/' <<<"$ours")
	out=$(sed -E 's/.*esp_out=0x([0-9a-f]+).*/\1/' <<<"$ours")
	for i in $(seq 1 100); do
		sw=$(sw_sas)
		grep -q INSTALLED <<<"$sw" && break
		sleep 0.02
	done
	echo "$sw" | sed 's/^/    charon: /'
	echo "    ours:   $ours"
	grep -q "INSTALLED, TUNNEL" <<<"$sw" || { fail "$name: charon has no installed tunnel SA"; return; }
	grep -q "ESP:$alg" <<<"$sw" || fail "$name: charon reports other algorithms than $alg"
	# charon's inbound SPI is our outbound one and vice versa
	grep -Eq "in  *$out[ ,]" <<<"$sw" || fail "$name: charon's inbound SPI is not our outbound $out"
	grep -Eq "out *$in[ ,]" <<<"$sw" || fail "$name: charon's outbound SPI is not our inbound $in"
}

# run_case NAME WHO IKE ESP_OURS ESP_SW PFS ALG
ncase=0
only=${2:-}
run_case() {
	ncase=$((ncase + 1))
	if [ -n "$only" ] && [[ ",$only," != *",$ncase,"* ]]; then return; fi
	local name=$1 who=$2 ike=$3 esp=$4 swesp=$5 pfs=$6 alg=$7
	echo "== $name ($who initiates)"
	"$here/charon.sh" stop "$tmp/sw" >/dev/null 2>&1
	rm -rf "$tmp/sw"
	"$here/charon.sh" start "$tmp/sw" "$nsB" 10.77.0.2 10.77.0.1 "ike-interop-psk" \
	    "$ike" "$swesp" tunnel 10.77.2.0/24 10.77.1.0/24 || { fail "$name: charon did not start"; return; }
	local args=(--local 10.77.0.1 --remote 10.77.0.2 --psk ike-interop-psk
	    ${PEER_AUTH[@]+"${PEER_AUTH[@]}"}
	    --ike "$ike" --esp "$esp" --tunnel --local-ts 10.77.1.0/24
	    --remote-ts 10.77.2.0/24 --olog)
	[ "$pfs" != 0 ] && args+=(--pfs "$pfs")
	[ "$who" = us ] && args+=(--initiate)
	# The background job truncates them only when it runs: the previous
	# case's READY and SA lines must not be read in the meantime.
	rm -f "$tmp/peer.out" "$tmp/peer.err"
	ip netns exec "$nsA" "$peer" "${args[@]}" >"$tmp/peer.out" 2>"$tmp/peer.err" &
	ppid=$!
	wait_for "$tmp/peer.out" READY 5 || { fail "$name: ike_peer not ready"; cat "$tmp/peer.err"; return; }
	if [ "$who" = charon ]; then
		swanctl --initiate --child t --timeout 10 --uri "unix://$tmp/sw/run/charon.vici" >"$tmp/init.out" 2>&1 ||
		    fail "$name: charon's initiate failed"
	fi
	if ! wait_for "$tmp/peer.out" '^QMSA up' 10; then
		fail "$name: no Quick Mode SA"
		tail -20 "$tmp/peer.err"; tail -30 "$tmp/sw/charon.log"
	else
		check_sas "$name" "$alg"
		grep '^MMSA up' "$tmp/peer.out" | sed 's/^/    ours:   /'
	fi
	if [ "$who" = us ]; then
		# charon deletes: we must drop the SAs
		swanctl --terminate --ike t --timeout 5 --uri "unix://$tmp/sw/run/charon.vici" >/dev/null 2>&1
		wait_for "$tmp/peer.out" '^QMSA down' 5 || fail "$name: charon's delete not honoured"
		wait_for "$tmp/peer.out" '^MMSA down' 5 || fail "$name: charon's ISAKMP delete not honoured"
		kill "$ppid"; wait "$ppid" 2>/dev/null
	else
		# we shut down (deletes sent): charon must drop its SAs
		kill "$ppid"; wait "$ppid" 2>/dev/null
		local i gone=0
		for i in $(seq 1 100); do
			sw_sas | grep -q ESTABLISHED || { gone=1; break; }
			sleep 0.02
		done
		[ $gone = 1 ] || fail "$name: charon kept its SAs after our delete"
	fi
	if grep -qE "Sanitizer|runtime error" "$tmp/peer.err"; then
		fail "$name: ike_peer reported a sanitizer error"
		grep -A20 -E "Sanitizer|runtime error" "$tmp/peer.err" | head -40
	fi
	ppid=
}

# expect_refused NAME WHO WHY [IKE_PEER_ARG...]: Main Mode with charon
# (certificates as set in PEER_AUTH/CHARON_*) must fail on our side with
# a 544-class reason matching WHY, and no Quick Mode SA come up.
expect_refused() {
	ncase=$((ncase + 1))
	if [ -n "$only" ] && [[ ",$only," != *",$ncase,"* ]]; then return; fi
	local name=$1 who=$2 why=$3
	shift 3
	echo "== $name"
	"$here/charon.sh" stop "$tmp/sw" >/dev/null 2>&1
	rm -rf "$tmp/sw"
	"$here/charon.sh" start "$tmp/sw" "$nsB" 10.77.0.2 10.77.0.1 "ike-interop-psk" \
	    aes128-sha256-modp2048 aes128-sha256 tunnel 10.77.2.0/24 10.77.1.0/24 ||
	    { fail "$name: charon did not start"; return; }
	local args=(--local 10.77.0.1 --remote 10.77.0.2 --psk ike-interop-psk
	    ${PEER_AUTH[@]+"${PEER_AUTH[@]}"} "$@"
	    --ike aes128-sha256-modp2048 --esp aes128-sha256 --tunnel
	    --local-ts 10.77.1.0/24 --remote-ts 10.77.2.0/24 --olog)
	[ "$who" = us ] && args+=(--initiate)
	# The background job truncates them only when it runs: the previous
	# case's READY and SA lines must not be read in the meantime.
	rm -f "$tmp/peer.out" "$tmp/peer.err"
	ip netns exec "$nsA" "$peer" "${args[@]}" >"$tmp/peer.out" 2>"$tmp/peer.err" &
	ppid=$!
	wait_for "$tmp/peer.out" READY 5 || { fail "$name: ike_peer not ready"; return; }
	[ "$who" = charon ] && swanctl --initiate --child t --timeout 10 \
	    --uri "unix://$tmp/sw/run/charon.vici" >"$tmp/init.out" 2>&1
	if wait_for "$tmp/peer.err" "Certificate trust failed: .*$why" 10; then
		grep -q '^QMSA up' "$tmp/peer.out" && fail "$name: a Quick Mode SA came up"
		echo "    refused: $(grep -o "Certificate trust failed: .*" "$tmp/peer.err" | head -1)"
	else
		fail "$name: not refused for '$why'"
		tail -5 "$tmp/peer.err"
	fi
	kill "$ppid"; wait "$ppid" 2>/dev/null
	ppid=
}

run_case "3des-sha1-modp1024, no PFS" us 3des-sha1-modp1024 3des-sha1 3des-sha1 0 3DES_CBC/HMAC_SHA1_96
run_case "3des-sha1-modp1024, no PFS" charon 3des-sha1-modp1024 3des-sha1 3des-sha1 0 3DES_CBC/HMAC_SHA1_96
run_case "aes128-sha256-modp2048, PFS" us aes128-sha256-modp2048 aes128-sha256 aes128-sha256-modp2048 14 AES_CBC-128/HMAC_SHA2_256_128
run_case "aes128-sha256-modp2048, PFS" charon aes128-sha256-modp2048 aes128-sha256 aes128-sha256-modp2048 14 AES_CBC-128/HMAC_SHA2_256_128
run_case "aes128-sha256-modp2048, no PFS" charon aes128-sha256-modp2048 aes128-sha256 aes128-sha256 0 AES_CBC-128/HMAC_SHA2_256_128
run_case "3des-sha1-modp1024, PFS" us 3des-sha1-modp1024 3des-sha1 3des-sha1-modp1024 2 3DES_CBC/HMAC_SHA1_96

# RSA signatures: a throw-away PKI made here with the openssl CLI.
mkpki() {
	local d=$tmp/pki h
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/O=IKE Interop/CN=Interop CA" \
	    -keyout "$d/ca.key" -out "$d/ca.pem" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null || return 1
	for h in us charon; do
		openssl req -newkey rsa:2048 -nodes -subj "/O=IKE Interop/CN=$h" \
		    -keyout "$d/$h.key" -out "$d/$h.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$h.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		    -CAcreateserial -days 30 -out "$d/$h.pem" 2>/dev/null || return 1
	done
}
if mkpki; then
	PEER_AUTH=(--cert "$tmp/pki/us.pem" --key "$tmp/pki/us.key" --ca "$tmp/pki/ca.pem"
	    --ca-dn "CN=Interop CA,O=IKE Interop")
	export CHARON_CERT=$tmp/pki/charon.pem CHARON_KEY=$tmp/pki/charon.key CHARON_CA=$tmp/pki/ca.pem
	run_case "RSA certificates, aes128-sha256-modp2048" us aes128-sha256-modp2048 aes128-sha256 aes128-sha256 0 AES_CBC-128/HMAC_SHA2_256_128
	run_case "RSA certificates, 3des-sha1-modp1024, PFS" charon 3des-sha1-modp1024 3des-sha1 3des-sha1-modp1024 2 3DES_CBC/HMAC_SHA1_96
	unset CHARON_CERT CHARON_KEY CHARON_CA
	PEER_AUTH=()
else
	fail "could not make a test PKI with openssl"
fi

# Two certificate methods from two CAs (CA A, then CA B: charon's
# certificate is from B) and ten Quick Mode offers of which only the last
# is charon's: every method's CA and every offer counts (the engine once
# kept the first CA and the first 8 offers, and refused both).
mkpki2() {
	local d=$tmp/pki2 c
	mkdir -p "$d"
	for c in A B; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
		    -subj "/O=IKE Interop/CN=Interop CA $c" -keyout "$d/ca$c.key" \
		    -out "$d/ca$c.pem" -addext "basicConstraints=critical,CA:TRUE" \
		    2>/dev/null || return 1
	done
	cat "$d/caA.pem" "$d/caB.pem" > "$d/cas.pem"
	for c in us:A charon:B; do
		openssl req -newkey rsa:2048 -nodes -subj "/O=IKE Interop/CN=${c%:*}" \
		    -keyout "$d/${c%:*}.key" -out "$d/${c%:*}.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/${c%:*}.csr" -CA "$d/ca${c#*:}.pem" \
		    -CAkey "$d/ca${c#*:}.key" -CAcreateserial -days 30 \
		    -out "$d/${c%:*}.pem" 2>/dev/null || return 1
	done
}
if mkpki2; then
	PEER_AUTH=(--cert "$tmp/pki2/us.pem" --key "$tmp/pki2/us.key"
	    --ca "$tmp/pki2/cas.pem" --ca-dn "CN=Interop CA A,O=IKE Interop"
	    --ca-dn "CN=Interop CA B,O=IKE Interop")
	export CHARON_CERT=$tmp/pki2/charon.pem CHARON_KEY=$tmp/pki2/charon.key \
	    CHARON_CA=$tmp/pki2/caA.pem
	ten=3des-md5,3des-sha1,3des-sha256,aes128-md5,aes128-sha1,aes192-md5
	ten=$ten,aes192-sha1,aes256-md5,aes256-sha1,aes256-sha256
	run_case "two CAs, 10 offers, the last one chosen" us aes128-sha256-modp2048 "$ten" aes256-sha256 0 AES_CBC-256/HMAC_SHA2_256_128
	run_case "two CAs, 10 offers, the last one chosen" charon aes128-sha256-modp2048 "$ten" aes256-sha256 0 AES_CBC-256/HMAC_SHA2_256_128
	unset CHARON_CERT CHARON_KEY CHARON_CA
	PEER_AUTH=()
else
	fail "could not make a two-CA test PKI with openssl"
fi

# An enterprise hierarchy: root R -> issuing CA I -> both hosts. Each side
# trusts only R and the rule names R; the issuing CA comes in the peer's
# CERT payloads (ours from our cert file's chain, charon's from its
# x509ca). The engine once verified the leaf against the trusted CAs
# alone and refused charon.
mkpki3() {
	local d=$tmp/pki3 h
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	    -subj "/O=IKE Interop/CN=Interop Root" -keyout "$d/root.key" \
	    -out "$d/root.pem" -addext "basicConstraints=critical,CA:TRUE" \
	    2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -subj "/O=IKE Interop/CN=Interop Issuing" \
	    -keyout "$d/im.key" -out "$d/im.csr" 2>/dev/null &&
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n' \
	    > "$d/im.ext" &&
	openssl x509 -req -in "$d/im.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
	    -CAcreateserial -days 30 -extfile "$d/im.ext" -out "$d/im.pem" \
	    2>/dev/null || return 1
	for h in us charon; do
		openssl req -newkey rsa:2048 -nodes -subj "/O=IKE Interop/CN=$h" \
		    -keyout "$d/$h.key" -out "$d/$h.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$h.csr" -CA "$d/im.pem" -CAkey "$d/im.key" \
		    -CAcreateserial -days 30 -out "$d/$h.pem" 2>/dev/null || return 1
	done
	cat "$d/us.pem" "$d/im.pem" > "$d/us-chain.pem"
}
if mkpki3; then
	PEER_AUTH=(--cert "$tmp/pki3/us-chain.pem" --key "$tmp/pki3/us.key"
	    --ca "$tmp/pki3/root.pem" --ca-dn "CN=Interop Root,O=IKE Interop")
	export CHARON_CERT=$tmp/pki3/charon.pem CHARON_KEY=$tmp/pki3/charon.key \
	    CHARON_CA=$tmp/pki3/root.pem CHARON_IM=$tmp/pki3/im.pem
	run_case "root -> issuing CA, the intermediate sent" us aes128-sha256-modp2048 aes128-sha256 aes128-sha256 0 AES_CBC-128/HMAC_SHA2_256_128
	run_case "root -> issuing CA, the intermediate sent" charon aes128-sha256-modp2048 aes128-sha256 aes128-sha256 0 AES_CBC-128/HMAC_SHA2_256_128
	# Revocation: the issuing CA revokes charon's certificate. Level 1
	# with the CRL refuses charon both ways (544 'revoked'); level 2
	# without a CRL refuses it too; level 1 without one accepts it.
	d=$tmp/pki3
	cat > "$d/ca.cnf" <<EOC
[ca]
default_ca = im
[im]
database = $d/index.txt
crlnumber = $d/crlnumber
default_md = sha256
default_crl_days = 7
EOC
	: > "$d/index.txt"; echo 01 > "$d/crlnumber"
	if openssl ca -config "$d/ca.cnf" -keyfile "$d/im.key" -cert "$d/im.pem" \
	    -revoke "$d/charon.pem" >/dev/null 2>&1 &&
	    openssl ca -config "$d/ca.cnf" -keyfile "$d/im.key" -cert "$d/im.pem" \
	    -gencrl -out "$d/im.crl" >/dev/null 2>&1 &&
	    openssl ca -config "$d/ca.cnf" -keyfile "$d/root.key" -cert "$d/root.pem" \
	    -gencrl -out "$d/root.crl" >/dev/null 2>&1; then
		cat "$d/im.crl" "$d/root.crl" > "$d/crls.pem"
		for who in us charon; do
			expect_refused "revoked by a CRL, level 1 ($who initiates)" \
			    "$who" "revoked" --crl "$d/crls.pem" --crl-check 1
		done
		expect_refused "no CRL, level 2 (us initiates)" us \
		    "unable to get certificate CRL" --crl-check 2
		PEER_AUTH+=(--crl-check 1)
		run_case "no CRL, level 1: accepted" us aes128-sha256-modp2048 aes128-sha256 aes128-sha256 0 AES_CBC-128/HMAC_SHA2_256_128
	else
		fail "could not make a CRL with openssl ca"
	fi
	unset CHARON_CERT CHARON_KEY CHARON_CA CHARON_IM
	PEER_AUTH=()
else
	fail "could not make a root/issuing CA test PKI with openssl"
fi

[ $fails = 0 ] && echo "PASS" && exit 0
echo "$fails failure(s)"
exit 1
