#!/usr/bin/env bash
# crl_ldap.sh SVC_MKLDIF -- CRLs at ldap:// distribution points, as AD CS
# publishes them (issue 22). A (10.88.1.1) takes its policy from a real
# slapd (AD IPsec schema, tests/lib/slapd.sh, running in A's namespace),
# B (10.88.1.2) from its local store; both authenticate with certificates
# of root R -> issuing CA I, whose certificates name their CRLs as
# ldap:///cn=CRL ...,ou=CDP,<base>?certificateRevocationList?base?
# objectClass=cRLDistributionPoint, entries of that slapd. A has no
# ca_file: it trusts R because the directory holds R under CN=Certification
# Authorities,CN=Public Key Services,CN=Services,CN=Configuration (the
# enterprise CAs). A checks at level 2, so it accepts B only with both
# CRLs read from the directory (with the policy source's bind). Checked:
#  0. before R is published A refuses to negotiate (547 "no trusted CA");
#     after it is (and a poll) A has read it;
#  1. the first Main Mode is refused (no CRL yet), the CRLs are read from
#     the directory, and then traffic flows protected;
#  2. I revokes B and the new CRL replaces the old one in the directory;
#     at the first CRL's nextUpdate A reads it again and ends its SAs
#     with B.
# Skips (77) without slapd.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mkldif=${1:?usage: crl_ldap.sh SVC_MKLDIF}
. "$here/../../lib/agent.sh"
. "$here/../../lib/pki.sh"
lib=$(cd "$here/../../lib" && pwd)

t_need_agents openssl ldapmodify
id=$$
na=crlla$id nb=crllb$id
t_tmpdir e2e-crl-ldap
t_netns $na $nb
t_veth $na crlla$id 10.88.1.1/24 $nb crllb$id 10.88.1.2/24
t_keep_going=1

# ---- the directory, in A's namespace -------------------------------------
t_at_exit ip netns exec $na "$lib/slapd.sh" stop "$tmp/ldap"
rc=0
ip netns exec $na "$lib/slapd.sh" start "$tmp/ldap" \
    --ldif "$here/../service/dir_tree.ldif" >/dev/null || rc=$?
[ $rc = 77 ] && skip "slapd is not installed"
[ $rc = 0 ] || die "slapd did not start"
# shellcheck disable=SC1091
. "$tmp/ldap/env"
# RFC 4516: the DN is percent-encoded in the URL (its commas too, which
# openssl's extension syntax would otherwise split on).
cdp() {
	local dn="cn=CRL $1,ou=CDP,$LDAP_BASE"
	dn=${dn// /%20}
	echo "ldap:///${dn//,/%2C}?certificateRevocationList?base?objectClass=cRLDistributionPoint"
}
pki_make "$(cdp Root)" "$(cdp Issuing)" a b

# publish CA: I's or R's current CRL into its entry (added the first time)
publish() {
	local ca=$1 cn=$2 op=add
	pki_crl "$ca" "$tmp/$ca.crl" "${@:3}"
	[ -f "$tmp/published.$ca" ] && op=modify
	{
		if [ $op = add ]; then
			echo "dn: cn=CRL $cn,ou=CDP,$LDAP_BASE"
			echo "objectClass: cRLDistributionPoint"
			echo "cn: CRL $cn"
			echo "certificateRevocationList;binary:: $(base64 -w0 "$tmp/$ca.crl")"
		else
			echo "dn: cn=CRL $cn,ou=CDP,$LDAP_BASE"
			echo "changetype: modify"
			echo "replace: certificateRevocationList;binary"
			echo "certificateRevocationList;binary:: $(base64 -w0 "$tmp/$ca.crl")"
		fi
	} > "$tmp/publish.ldif"
	ip netns exec $na ldapmodify -a -H "$LDAP_URI" -x -D "$LDAP_ADMIN_DN" \
	    -w "$LDAP_ADMIN_PW" -f "$tmp/publish.ldif" >>"$tmp/ldap.log" 2>&1 ||
	    die "publishing $ca's CRL (see $tmp/ldap.log)"
	: > "$tmp/published.$ca"
}
printf 'dn: ou=CDP,%s\nobjectClass: organizationalUnit\nou: CDP\n' \
    "$LDAP_BASE" > "$tmp/cdp.ldif"
ip netns exec $na "$lib/slapd.sh" load "$tmp/ldap" "$tmp/cdp.ldif" \
    >/dev/null || die "ou=CDP"
publish root Root -crldays 7

# ---- the agents ----------------------------------------------------------
pki_agent a 10.88.1.1 10.88.1.2 2
sed -i '/^ca_file = /d' "$tmp/a.conf" || die "sed a.conf"
pki_agent b 10.88.1.2 10.88.1.1 1
# What the directory's format (Windows 2000/XP) can hold: 3DES.
sed -i 's/cipher="AES128"/cipher="3DES"/; s/esp="AES128"/esp="3DES"/' \
    "$tmp/a/store.xml" "$tmp/b/store.xml" || die "sed"
"$mkldif" "$tmp/a/store.xml" "$LDAP_BASE" \
    "{5E5E0000-0000-4000-8000-0000000000C1}" "ou=Web,ou=Servers,$LDAP_BASE" \
    > "$tmp/policy.ldif" || die "svc_mkldif"
ip netns exec $na "$lib/slapd.sh" load "$tmp/ldap" "$tmp/policy.ldif" \
    >/dev/null || die "loading A's policy into slapd"
(umask 077; printf '%s\n' "$LDAP_ADMIN_PW" > "$tmp/ldap.pw")
mv "$tmp/a/store.xml" "$tmp/a/store.xml.not-used"
cat >> "$tmp/a.conf" <<EOC
policy_source = directory
directory_uri = $LDAP_URI
directory_base = $LDAP_BASE
directory_computer = HOSTA\$
directory_bind = simple
directory_bind_dn = $LDAP_ADMIN_DN
directory_password_file = $tmp/ldap.pw
directory_starttls = no
directory_insecure_plain = yes
directory_cache = $tmp/a/state/directory-policy.cache
directory_timeout = 3
EOC
t_agent_start a $na
t_agent_start b $nb
st=$("$cmd" -c "$tmp/a.conf" --json service status)
[ "$(jq -r .policy_source <<<"$st")" = directory ] ||
    die "A does not run the directory's policy: $st"
ping_ok() { ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

# ---- 0. trust from the domain ------------------------------------------
# B asks (A's own packets would leave an acquire pending in A's driver).
ping_ok $nb 10.88.1.1 && fail "0: B -> A got through with A trusting no CA"
pki_wait 20 jq -s -e '[.[] | select(.id == 547 and (.fields["Failure Reason"] |
    test("no trusted CA")))] | length >= 1' "$tmp/a/audit.jsonl" >/dev/null ||
    fail "0: A did not say (547) that it trusts no CA"
enterprise_ca() {
	local c=cn=Configuration,$LDAP_BASE
	local s=cn=Services,$c pks="cn=Public Key Services,cn=Services,$c"
	local cas="cn=Certification Authorities,$pks"
	openssl x509 -in "$tmp/pki/root.pem" -outform DER -out "$tmp/root.der" ||
	    die "root.der"
	cat > "$tmp/cas.ldif" <<EOL
dn: $c
objectClass: organizationalRole
cn: Configuration

dn: $s
objectClass: organizationalRole
cn: Services

dn: $pks
objectClass: organizationalRole
cn: Public Key Services

dn: $cas
objectClass: organizationalRole
cn: Certification Authorities

dn: cn=CRL Root,$cas
objectClass: organizationalRole
objectClass: certificationAuthority
cn: CRL Root
cACertificate;binary:: $(base64 -w0 "$tmp/root.der")
certificateRevocationList;binary:: $(base64 -w0 "$tmp/root.crl")
authorityRevocationList;binary:: $(base64 -w0 "$tmp/root.crl")
EOL
	ip netns exec $na "$lib/slapd.sh" load "$tmp/ldap" "$tmp/cas.ldif" \
	    >/dev/null || die "publishing the enterprise CA"
}
enterprise_ca
"$cmd" -c "$tmp/a.conf" reload >/dev/null || fail "0: reload (a poll)"
pki_wait 30 test -s "$tmp/a/state/crl/domain-cas.pem" ||
    fail "0: A did not read the enterprise CA from the directory"
pk=$("$cmd" -c "$tmp/a.conf" --json show pki)
jq -e '.domain_cas | length >= 1 and (map(.subject) | any(test("CN=CRL Root")))
    and all(.expires_in_days > 0)' <<<"$pk" >/dev/null ||
    fail "0: show pki has not the domain's CA: $pk"
pass "0: no ca_file: nothing trusted, then the domain's enterprise CA (show pki lists it)"

# ---- 1. level 2: refused without CRLs, read from the directory, accepted -
publish im Issuing -crlsec 25	# A reads it again 25 s after the first time
ping_ok $na 10.88.1.2 && fail "1: A -> B got through at level 2 with no CRL"
pki_wait 30 pki_refused a 1 "unable to get certificate CRL" ||
    fail "1: no 544/547 'unable to get certificate CRL' on A"
pki_wait 60 ping_ok $na 10.88.1.2 ||
    fail "1: A -> B did not get through once the CRLs could be read"
d=$tmp/a/state/crl
[ "$(ls "$d"/*.crl 2>/dev/null | wc -l)" = 2 ] ||
    fail "1: A did not cache the 2 CRLs: $(ls -la "$d" 2>&1)"
grep -qx "$(cdp Issuing)" "$d"/*.uri || fail "1: A has no $(cdp Issuing)"
pass "1: CRLs read from ldap:// distribution points; level 2 accepts then"

# ---- 2. B revoked in the directory: A ends B's SAs at the refresh -------
pki_revoke b
publish im Issuing -crldays 7
pki_wait 60 grep -q "peer certificate revoked" "$tmp/a/oakley.log" ||
    fail "2: A did not end its SAs with B when I's new CRL was published"
ping_ok $na 10.88.1.2 && fail "2: A -> B still gets through"
pki_wait 20 pki_refused a 1 "revoked" ||
    fail "2: no 544/547 'revoked' on A"
pass "2: a CRL revoking B published in the directory ends B's SAs"

t_finish "CRLs at ldap:// distribution points"
