#!/usr/bin/env bash
# Refusals that explain themselves (issue 15, item 5): our engine
# (ike_peer on the null driver, its Oakley log and audit events on stderr)
# against strongSwan's charon (IKEv1, PSK) in two network namespaces.
#
#   1/2  Main Mode offers that do not meet, we initiate / charon initiates
#   3/4  Quick Mode offers that do not meet, both ways
#   5/6  a preshared key that differs, both ways
#   7/8  rootca= in other forms (reverse order, case, oneline, netsh
#        options) against the CA's name: accepted, the SA comes up
#
# Each case greps our Oakley log and our 546/547 audit events for our
# offers and, as responder, the peer's; with a wrong key, for "the
# preshared key is probably different at the peer" (within 8 s as
# initiator, never "No response from peer").
#
# usage: refusal.sh BUILD_DIR [CASES]   (CASES: e.g. 1,3)   exit 77 = skipped
set -uo pipefail

build=${1:?build dir}
here=$(cd "$(dirname "$0")" && pwd)
cp_tag=hrf cp_net=78
. "$here/charon_pair.sh"

ok() { echo "    ok: $*"; }

# has PATTERN WHAT: our stderr (Oakley log "oakley: ", audit "audit N: ")
# holds an extended regex.
has() {
	if grep -Eq -- "$1" "$tmp/peer.err"; then
		ok "$2"
	else
		fail "$name: $2 (no /$1/)"
		grep -E '^(oakley|audit)' "$tmp/peer.err" | tail -12 | sed 's/^/      /'
		[ -s "$tmp/peer.err" ] || {
			echo "      (ike_peer logged nothing; charon's initiate and log:)"
			tail -5 "$tmp/init.out" 2>/dev/null | sed 's/^/      /'
			tail -15 "$tmp/sw/charon.log" | sed 's/^/      /'
		}
	fi
}

# start NAME WHO PSK_OURS IKE_OURS ESP_OURS IKE_SW ESP_SW: charon (PSK
# "hrefuse-psk") and ike_peer with our settings; charon's initiate if WHO
# is charon. Leaves ike_peer running ($ppid).
ncase=0
only=${2:-}
start() {
	name=$1
	local who=$2 psk=$3 ike=$4 esp=$5 swike=$6 swesp=$7
	echo "== $ncase. $name ($who initiates)"
	"$here/charon.sh" stop "$tmp/sw" >/dev/null 2>&1
	rm -rf "$tmp/sw"
	# the previous charon's port 500 must be free (bounded wait)
	local i
	for i in $(seq 1 250); do
		ip netns exec "$nsB" ss -Hlun 2>/dev/null | grep -q ':500 ' || break
		sleep 0.02
	done
	"$here/charon.sh" start "$tmp/sw" "$nsB" 10.78.0.2 10.78.0.1 hrefuse-psk \
	    "$swike" "$swesp" tunnel 10.78.2.0/24 10.78.1.0/24 ||
	    { fail "$name: charon did not start"; return 1; }
	local args=(--local 10.78.0.1 --remote 10.78.0.2 --psk "$psk"
	    ${PEER_AUTH[@]+"${PEER_AUTH[@]}"}
	    --ike "$ike" --esp "$esp" --tunnel --local-ts 10.78.1.0/24
	    --remote-ts 10.78.2.0/24 --olog)
	[ "$who" = us ] && args+=(--initiate)
	# The background job truncates them when it runs: the last case's
	# READY and 547 must not be read in the meantime.
	rm -f "$tmp/peer.out" "$tmp/peer.err" "$tmp/init.out"
	ip netns exec "$nsA" "$peer" "${args[@]}" >"$tmp/peer.out" 2>"$tmp/peer.err" &
	ppid=$!
	wait_for "$tmp/peer.out" READY 5 || { fail "$name: ike_peer not ready"; return 1; }
	if [ "$who" = charon ]; then
		swanctl --initiate --child t --timeout 6 \
		    --uri "unix://$tmp/sw/run/charon.vici" >"$tmp/init.out" 2>&1 &
	fi
	return 0
}

stop() {
	[ -n "$ppid" ] && { kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null; }
	ppid=
	wait 2>/dev/null
	[ "${1:-}" = up ] || ! grep -q '^QMSA up' "$tmp/peer.out" ||
	    fail "$name: a Quick Mode SA came up"
	if grep -qE "Sanitizer|runtime error" "$tmp/peer.err"; then
		fail "$name: ike_peer reported a sanitizer error"
		grep -A20 -E "Sanitizer|runtime error" "$tmp/peer.err" | head -40
	fi
	if grep -q "wrong-psk-marker" "$tmp/peer.err"; then
		fail "$name: the preshared key is in our log"
	fi
}

want() { ncase=$((ncase + 1)); [ -z "$only" ] || [[ ",$only," == *",$ncase,"* ]]; }

ours_mm='AES128-SHA256-PSK-DH14'
sw_mm='3DES-SHA1-PSK-DH2'
ours_qm='ESP\[AES128,SHA256\]:3600s/[0-9]+kb tunnel'
sw_qm='ESP\[3DES,SHA1\]:[0-9]+s/[0-9]+kb tunnel'

if want && start "Main Mode offers differ" us hrefuse-psk aes128-sha256-modp2048 \
    aes128-sha256 3des-sha1-modp1024 3des-sha1; then
	wait_for "$tmp/peer.err" '^audit 547:' 8 || fail "$name: no 547 within 8 s"
	has "^oakley: MM #1 to 10\.78\.0\.2: 1 offers, rule \"[^\"]*\": $ours_mm" \
	    "MM #1 logs our offers"
	has "^oakley: MM #1 to 10\.78\.0\.2 refused .*NO-PROPOSAL-CHOSEN: it accepted none of our offers $ours_mm" \
	    "the refusal names our offers in the Oakley log"
	has "^audit 547:.*Failure Reason=peer sent NO-PROPOSAL-CHOSEN: it accepted none of our offers $ours_mm" \
	    "547 names our offers"
	stop
fi

if want && start "Main Mode offers differ" charon hrefuse-psk aes128-sha256-modp2048 \
    aes128-sha256 3des-sha1-modp1024 3des-sha1; then
	wait_for "$tmp/peer.err" '^audit 547:' 10 || fail "$name: no 547"
	has "^oakley: MM #1 from 10\.78\.0\.2: no proposal chosen .*our offers $ours_mm.*; received the peer's offers $sw_mm" \
	    "the Oakley log names both sides' offers"
	has "^audit 546:.*Expected value=$ours_mm.*; Received value=$sw_mm" \
	    "546 names both sides' offers"
	has "^audit 547:.*Failure Reason=No proposal chosen: expected one of our offers $ours_mm.*; received the peer's offers $sw_mm" \
	    "547 names both sides' offers"
	stop
fi

if want && start "Quick Mode offers differ" us hrefuse-psk aes128-sha256-modp2048 \
    aes128-sha256 aes128-sha256-modp2048 3des-sha1; then
	wait_for "$tmp/peer.err" '^audit 547:' 10 || fail "$name: no 547"
	has "^oakley: QM #1 to 10\.78\.0\.2 \(msgid [0-9a-f]+\): 1 offers, rule \"[^\"]*\": $ours_qm" \
	    "QM #1 logs our offers"
	has "^oakley: QM #1 to 10\.78\.0\.2 \(msgid [0-9a-f]+\) refused .*NO-PROPOSAL-CHOSEN: it accepted none of our offers $ours_qm" \
	    "the refusal names our offers in the Oakley log"
	has "^audit 547:.*Quick Mode.*Failure Reason=peer sent NO-PROPOSAL-CHOSEN: it accepted none of our offers $ours_qm" \
	    "547 names our offers"
	stop
fi

if want && start "Quick Mode offers differ" charon hrefuse-psk aes128-sha256-modp2048 \
    aes128-sha256 aes128-sha256-modp2048 3des-sha1; then
	wait_for "$tmp/peer.err" '^audit 547:' 10 || fail "$name: no 547"
	has "^oakley: QM #1 from 10\.78\.0\.2: no proposal chosen .*our offers $ours_qm; received the peer's offers $sw_qm" \
	    "the Oakley log names both sides' offers"
	has "^audit 546:.*Attribute=Quick Mode offer; Expected value=$ours_qm; Received value=$sw_qm" \
	    "546 names both sides' offers"
	has "^audit 547:.*Failure Reason=No proposal chosen: expected one of our offers $ours_qm; received the peer's offers $sw_qm" \
	    "547 names both sides' offers"
	stop
fi

psk_msg='[Aa]uthentication failed: the preshared key is probably different at the peer'
if want && start "the preshared keys differ" us wrong-psk-marker aes128-sha256-modp2048 \
    aes128-sha256 aes128-sha256-modp2048 aes128-sha256; then
	# charon's retransmission timer is 1 s, ours longer: 8 s is "at once"
	# next to the 31 s of "No response from peer".
	if wait_for "$tmp/peer.err" "^audit 547:.*$psk_msg" 8; then
		ok "547 names the key within 8 s"
	else
		fail "$name: no 547 naming the key within 8 s"
	fi
	has "^oakley: .*$psk_msg" "the Oakley log names the key"
	grep -q "No response" "$tmp/peer.err" && fail "$name: 'No response' reported"
	stop
fi

if want && start "the preshared keys differ" charon wrong-psk-marker aes128-sha256-modp2048 \
    aes128-sha256 aes128-sha256-modp2048 aes128-sha256; then
	wait_for "$tmp/peer.err" "^audit 547:" 10 || fail "$name: no 547"
	has "^audit 547:.*$psk_msg" "547 names the key"
	has "^oakley: .*$psk_msg" "the Oakley log names the key"
	stop
fi

# rootca= typed in another form than OpenSSL's RFC 2253 text: the CA is
# "/O=IKE Interop/CN=Interop CA" (RFC 2253: "CN=Interop CA,O=IKE
# Interop"); the rule names it in the reverse order in other case, or as
# OpenSSL's oneline with extra spaces and netsh's options. The engine once
# compared the RFC 2253 text byte for byte and refused (544).
PEER_AUTH=()
d=$tmp/pki
mkpki() {
	local h
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	    -subj "/O=IKE Interop/CN=Interop CA" -keyout "$d/ca.key" \
	    -out "$d/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
	    2>/dev/null || return 1
	for h in us charon; do
		openssl req -newkey rsa:2048 -nodes -subj "/O=IKE Interop/CN=$h" \
		    -keyout "$d/$h.key" -out "$d/$h.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$h.csr" -CA "$d/ca.pem" \
		    -CAkey "$d/ca.key" -CAcreateserial -days 30 \
		    -out "$d/$h.pem" 2>/dev/null || return 1
	done
}
if [ -n "$only" ] && [[ ",$only," != *,7,* ]] && [[ ",$only," != *,8,* ]]; then
	:	# not asked for: no PKI
elif mkpki; then
	export CHARON_CERT=$d/charon.pem CHARON_KEY=$d/charon.key CHARON_CA=$d/ca.pem
	for c in "us|o=ike interop, CN=INTEROP CA" \
	    "charon|/O=IKE Interop/CN=Interop   CA certmap:yes excludecaname:no"; do
		PEER_AUTH=(--cert "$d/us.pem" --key "$d/us.key" --ca "$d/ca.pem"
		    --ca-dn "${c#*|}")
		if want && start "rootca=\"${c#*|}\"" "${c%%|*}" unused \
		    aes128-sha256-modp2048 aes128-sha256 aes128-sha256-modp2048 \
		    aes128-sha256; then
			if wait_for "$tmp/peer.out" '^QMSA up' 10; then
				ok "the CA's name matched: Quick Mode SA up"
			else
				fail "$name: no Quick Mode SA"
				grep -E '^(oakley|audit)' "$tmp/peer.err" | tail -6 | sed 's/^/      /'
			fi
			stop up
		fi
	done
	unset CHARON_CERT CHARON_KEY CHARON_CA
	PEER_AUTH=()
else
	fail "could not make a test PKI with openssl"
fi

[ $fails = 0 ] && echo "PASS" && exit 0
echo "$fails failure(s)"
exit 1
