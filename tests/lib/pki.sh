# pki.sh -- sourced by the tests of certificate revocation: an
# enterprise-like hierarchy made with openssl, root R -> issuing CA I ->
# hosts, in $tmp/pki (call t_tmpdir first; sources check.sh).
#
#   pki_make ROOT_CDP HOST_CDP HOST...
#       R ("CN=CRL Root,O=PA Test"), I ("CN=CRL Issuing,O=PA Test") whose
#       certificate names ROOT_CDP (R's CRL), and for each HOST a key
#       $tmp/pki/HOST.key and a certificate naming HOST_CDP (I's CRL);
#       $tmp/pki/HOST-chain.pem is the certificate then I's
#   pki_crl CA OUT [openssl ca option...]
#       a CRL of CA (root or im) as DER in OUT (written atomically), with
#       the CRL extensions in $pki_crl_exts (openssl config lines) if set
#   pki_revoke HOST
#       I revokes HOST's certificate (in its database: the next pki_crl
#       of im lists it)
#   pki_unrevoke_all
#       I's database forgets every revocation

# shellcheck source=check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

pki_ossl() {
	openssl "$@" >>"$tmp/pki/openssl.log" 2>&1 ||
	    die "openssl $1 failed (see $tmp/pki/openssl.log)"
}

pki_make() {
	local p=$tmp/pki root_cdp=$1 host_cdp=$2 h
	shift 2
	mkdir -p "$p" || die "mkdir $p"
	pki_ossl req -x509 -newkey rsa:2048 -nodes -days 30 \
	    -subj "/O=PA Test/CN=CRL Root" -keyout "$p/root.key" \
	    -out "$p/root.pem" -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign"
	pki_ossl req -newkey rsa:2048 -nodes -subj "/O=PA Test/CN=CRL Issuing" \
	    -keyout "$p/im.key" -out "$p/im.csr"
	printf '%s\n' "basicConstraints=critical,CA:TRUE" \
	    "keyUsage=critical,keyCertSign,cRLSign" \
	    "crlDistributionPoints=URI:$root_cdp" > "$p/im.ext"
	pki_ossl x509 -req -in "$p/im.csr" -CA "$p/root.pem" \
	    -CAkey "$p/root.key" -CAcreateserial -days 30 \
	    -extfile "$p/im.ext" -out "$p/im.pem"
	printf '%s\n' "crlDistributionPoints=URI:$host_cdp" > "$p/host.ext"
	for h; do
		pki_host "$h" "host-$h"
	done
}

pki_crl() {
	local p=$tmp/pki ca=$1 out=$2
	shift 2
	cat > "$p/$ca.cnf" <<EOC
[ca]
default_ca = theca
[theca]
database = $p/$ca.index
crlnumber = $p/$ca.crlnumber
default_md = sha256
[exts]
${pki_crl_exts:-}
EOC
	[ -z "${pki_crl_exts:-}" ] || set -- -crlexts exts "$@"
	[ -f "$p/$ca.index" ] || : > "$p/$ca.index"
	[ -f "$p/$ca.crlnumber" ] || echo 01 > "$p/$ca.crlnumber"
	pki_ossl ca -config "$p/$ca.cnf" -keyfile "$p/$ca.key" \
	    -cert "$p/$ca.pem" -gencrl "$@" -out "$p/$ca.crl.pem"
	pki_ossl crl -in "$p/$ca.crl.pem" -outform DER -out "$out.new"
	mv "$out.new" "$out" || die "mv $out"
}

pki_revoke() {
	pki_ossl ca -config "$tmp/pki/im.cnf" -keyfile "$tmp/pki/im.key" \
	    -cert "$tmp/pki/im.pem" -revoke "$tmp/pki/$1.pem"
}

pki_unrevoke_all() {
	: > "$tmp/pki/im.index" || die "cannot empty im.index"
}

# The agents' side (after agent.sh):
#
#   pki_agent S ME PEER LEVEL [LINE...]
#       S's store: ME <-> host:PEER negotiates ESP with certificate
#       authentication by a CA named "CN=CRL Root,O=PA Test"; its
#       configuration: IKE on ME, the certificate chain, key and root of
#       $tmp/pki, crl_check LEVEL, crl_retry 5 s, crl_fetch_timeout 3 s,
#       and the LINEs
#   pki_refused S N REGEX
#       S audited at least N refusals: 544 (certificate trust) and a 547
#       whose Failure Reason matches REGEX
#   pki_wait SECONDS COMMAND...
#       run COMMAND every 0.2 s until it succeeds (0) or SECONDS pass (1)

pki_agent() {
	local s=$1 me=$2 peer=$3 level=$4
	shift 4
	t_psk_policy "$s" me "host:$peer"
	sed -i 's|<auth kind="psk" secret="k"/>|<auth kind="certificate" ca="CN=CRL Root,O=PA Test"/>|' \
	    "$tmp/$s/store.xml" || die "sed $tmp/$s/store.xml"
	t_agent_conf "$s" "ike = on" "ike_addresses = $me" \
	    "cert_file = $tmp/pki/$s-chain.pem" "key_file = $tmp/pki/$s.key" \
	    "ca_file = $tmp/pki/root.pem" "crl_check = $level" \
	    "crl_retry = 5" "crl_fetch_timeout = 3" "$@"
}

pki_refused() {
	jq -s -e --argjson n "$2" --arg re "$3" '
	    ([.[] | select(.id == 544)] | length) >= $n and
	    ([.[] | select(.id == 547 and
	        (.fields["Failure Reason"] | test($re)))] | length) >= $n' \
	    "$tmp/$1/audit.jsonl" >/dev/null 2>&1
}

pki_wait() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

#   pki_host HOST CN [EXT...]
#       (after pki_make) one more host of I: key $tmp/pki/HOST.key,
#       certificate $tmp/pki/HOST.pem with subject "O=PA Test,CN=CN", the
#       extension lines EXT (openssl x509 -extfile syntax, e.g.
#       "subjectAltName=DNS:hostb.example.test") and I's CRL point of
#       pki_make; $tmp/pki/HOST-chain.pem as there
pki_host() {
	local p=$tmp/pki h=$1 cn=$2
	shift 2
	{ cat "$p/host.ext"; printf '%s\n' "$@"; } > "$p/$h.ext" ||
	    die "cannot write $p/$h.ext"
	pki_ossl req -newkey rsa:2048 -nodes -subj "/O=PA Test/CN=$cn" \
	    -keyout "$p/$h.key" -out "$p/$h.csr"
	pki_ossl x509 -req -in "$p/$h.csr" -CA "$p/im.pem" \
	    -CAkey "$p/im.key" -CAcreateserial -days 30 \
	    -extfile "$p/$h.ext" -out "$p/$h.pem"
	cat "$p/$h.pem" "$p/im.pem" > "$p/$h-chain.pem"
}
