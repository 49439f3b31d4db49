#!/usr/bin/env bash
# pki_samba.sh SVC_MKLDIF -- an enterprise PKI as Active Directory holds
# it (issue 22), against a real AD: a throwaway Samba AD DC (LDAP, KDC,
# DNS) on a LAN with two members in namespaces of their own, joined with
# `adcli join` (HOSTA$ in OU=SiteA, HOSTB$ in CN=Computers). A root R and
# an issuing CA I (openssl); R is published where AD CS puts an enterprise
# root (CN=Certification Authorities,CN=Public Key Services,CN=Services in
# the configuration partition), I's CRL where AD CS puts it (CN=CRL
# Issuing,CN=dc1,CN=CDP,CN=Public Key Services...), and the hosts'
# certificates name that ldap:/// distribution point.
# A takes its policy from the directory (a GPO on OU=SiteA; GSSAPI bind
# as HOSTA$) and has no ca_file: it trusts what the directory holds. Its
# policy asks for certificate-to-account mapping (ISAKMP-Options bit 1,
# as Windows 2000-2003 store "Enable certificate to account mapping").
# B uses its local store. Checked, with ping and the audit:
#  1. hit (A initiates): B's certificate names hostb.<dns> (dNSName), the
#     dNSHostName of HOSTB$: ESP, and A's 541 names the account;
#  2. HOSTB$ disabled: B's next Main Mode (B initiates) is refused by A
#     (547 "... is disabled"); enabled again: accepted (A responds);
#  3. miss: B with a certificate for hostc.<dns>, which no account has:
#     refused ("no computer account ... maps");
#  4. altSecurityIdentities: B with a certificate without subjectAltName,
#     HOSTB$ given "X509:<I>issuer<SR>serial" (AD's strong mapping): ESP,
#     541 names HOSTB$; the same with "X509:<SKI>..." and
#     "X509:<I>...<S>...", and with a certificate whose subjectAltName
#     holds a UPN (Microsoft's otherName) that HOSTB$ has;
#  5. revocation through the directory: I revokes B's certificate, its
#     new CRL is written to the CDP object; A reads it (GSSAPI bind) at
#     the old CRL's nextUpdate, ends B's SAs and refuses the next Main
#     Mode ("revoked").
# I is published in CN=AIA and NTAuthCertificates; B sends its own
# certificate alone, so A builds B's chain with I from the directory.
# `ipseccmd show pki` on A lists R (root) and I (AIA, NTAuth).
# Skips (77) without root, namespaces, TUN, Samba's AD DC or adcli.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mkldif=${1:?usage: pki_samba.sh SVC_MKLDIF}
. "$here/../../lib/samba.sh"
. "$here/../../lib/agent.sh"
. "$here/../../lib/pki.sh"

REALM=AD.EXAMPLE.TEST DOM=ad.example.test BASE=DC=ad,DC=example,DC=test
CONF=CN=Configuration,$BASE
PKS="CN=Public Key Services,CN=Services,$CONF"
DCIP=10.232.0.1 AIP=10.232.0.2 BIP=10.232.0.3
GPO="{5E5E0000-0000-4000-8000-0000000000D1}"

samba_need adcli ldapsearch jq openssl
t_need_agents openssl
t_tmpdir e2e-pki-samba
id=$$
nd=pkd$id na=pka$id nb=pkb$id
t_netns "$nd" "$na" "$nb"
t_lan "pk$id" "$nd" $DCIP/24 "$na" $AIP/24 "$nb" $BIP/24
t_keep_going=1
t0=$(date +%s)

# --- the PKI -----------------------------------------------------------
cdp() {		# AD CS's CDP URL of CA NAME (RFC 4516: the DN percent-encoded)
	local dn="CN=$1,CN=dc1,CN=CDP,$PKS"
	dn=${dn// /%20}
	echo "ldap:///${dn//,/%2C}?certificateRevocationList?base?objectClass=cRLDistributionPoint"
}
pki_make "$(cdp "CRL Root")" "$(cdp "CRL Issuing")" a
pki_host b hostb "subjectAltName=DNS:hostb.$DOM"
pki_host c hostc "subjectAltName=DNS:hostc.$DOM"
pki_host d host-d
pki_host e host-e \
    "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:hostb-upn@$DOM"
pki_crl root "$tmp/root.crl" -crldays 7
pki_crl im "$tmp/im.crl" -crlsec 20	# A reads it again every 20 s
openssl x509 -in "$tmp/pki/root.pem" -outform DER -out "$tmp/root.der" ||
    die "root.der"
openssl x509 -in "$tmp/pki/im.pem" -outform DER -out "$tmp/im.der" ||
    die "im.der"

# --- A's policy: certificates of R, mapping asked (ISAKMP-Options 1) ----
pki_agent a $AIP $BIP 1
sed -i '/^ca_file = /d' "$tmp/a.conf" || die "sed a.conf"
# What the directory's format (Windows 2000/XP) holds: 3DES.
sed -i 's/cipher="AES128"/cipher="3DES"/; s/esp="AES128"/esp="3DES"/;
    s|<isakmp id="\([^"]*\)">|<isakmp id="\1" options="1">|' \
    "$tmp/a/store.xml" || die "sed a/store.xml"
grep -q 'options="1"' "$tmp/a/store.xml" || die "no options=1 in A's store"
"$mkldif" "$tmp/a/store.xml" "$BASE" "$GPO" "OU=SiteA,$BASE" \
    > "$tmp/policy.ldif" || die "svc_mkldif"
mv "$tmp/a/store.xml" "$tmp/a/store.xml.not-used"

# --- the DC: provision, A's policy and GPO, the PKI objects -----------
samba_provision $REALM $DOM "ldap kdc dns"
samba_listen $DCIP
samba_dns_host dc1 $DCIP
samba_spn 'DC1$' ldap/dc1.$DOM ldap/DC1 ldap/dc1.$DOM/$DOM ldap/dc1.$DOM/AD
samba_setup_ipsec
samba_py setup.log "$tmp/policy.ldif" "$tmp/root.der" "$tmp/root.crl" \
    "$tmp/im.crl" "$tmp/im.der" <<'PY'
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
smb, ldif, root, rootcrl, imcrl, im = sys.argv[1:7]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
conf = str(db.get_config_basedn())
db.add({"dn": "OU=SiteA," + base, "objectClass": "organizationalUnit"})
# A's policy, its GPO and the OU's gPLink, as svc_mkldif wrote them.
with open(ldif) as f:
    text = f.read()
for change_type, msg in db.parse_ldif(text):
    if change_type == ldb.CHANGETYPE_MODIFY:
        db.modify(msg)
    else:
        db.add(msg)
pks = "CN=Public Key Services,CN=Services," + conf
def ensure(dn, cls):
    try:
        db.add({"dn": dn, "objectClass": cls})
    except ldb.LdbError:
        pass
ensure("CN=Certification Authorities," + pks, "container")
ensure("CN=CDP," + pks, "container")
ensure("CN=dc1,CN=CDP," + pks, "container")
def ca(dn, cert, crl):
    """a certificationAuthority object as AD CS writes one (replaced)"""
    try:
        db.delete(dn)
    except ldb.LdbError:
        pass
    db.add({"dn": dn, "objectClass": "certificationAuthority",
            "cACertificate": open(cert, "rb").read(),
            "authorityRevocationList": open(rootcrl, "rb").read(),
            "certificateRevocationList": open(crl, "rb").read()})
ca("CN=CRL Root,CN=Certification Authorities," + pks, root, rootcrl)
# The issuing CA where AD CS publishes it (AIA) and in NTAuth.
ensure("CN=AIA," + pks, "container")
ca("CN=CRL Issuing,CN=AIA," + pks, im, imcrl)
ca("CN=NTAuthCertificates," + pks, im, imcrl)
for cn, crl in (("CRL Root", rootcrl), ("CRL Issuing", imcrl)):
    db.add({"dn": "CN=%s,CN=dc1,CN=CDP,%s" % (cn, pks),
            "objectClass": "cRLDistributionPoint",
            "certificateRevocationList": open(crl, "rb").read()})
print("policy, GPO, enterprise root and CDP objects written")
PY
samba_start_in "$nd" samba_lan_up $DCIP "$na"

# --- the members ---------------------------------------------------------
samba_member a "$na" $DCIP
samba_member b "$nb" $DCIP
samba_join a "$na" HOSTA SiteA
samba_join b "$nb" HOSTB
pass "DC up with the PKI objects, HOSTA and HOSTB joined" \
    "($(($(date +%s) - t0)) s)"

# The directory changed as an administrator would (in the DC's database,
# as samba-tool does; Samba refuses simple binds without TLS).
#   db DN ATTR            print ATTR's first value
#   db DN ATTR VALUE      replace ATTR by VALUE, or by the bytes of @PATH
db() {
	samba_py db.log "$@" <<'PY'
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
smb, dn, attr = sys.argv[1:4]
lp = LoadParm()
lp.load(smb)
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
if len(sys.argv) == 4:
    r = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=[attr])
    print("value: %s" % r[0][attr][0])
    sys.exit(0)
value = sys.argv[4]
if value.startswith("@"):
    value = open(value[1:], "rb").read()
m = ldb.Message(ldb.Dn(db, dn))
m[attr] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, attr)
db.modify(m)
print("%s: %s replaced" % (dn, attr))
PY
}
HOSTB_DN="CN=HOSTB,CN=Computers,$BASE"
uac() {		# the userAccountControl of HOSTB$
	db "$HOSTB_DN" userAccountControl
	sed -n 's/^value: //p' "$tmp/db.log" | tail -n 1
}
# The CDP object of I: its CRL replaced.
publish_im() {
	pki_crl im "$tmp/im.crl" "$@"
	db "CN=CRL Issuing,CN=dc1,CN=CDP,$PKS" certificateRevocationList \
	    "@$tmp/im.crl"
}

# --- the agents --------------------------------------------------------
cat >> "$tmp/a.conf" <<EOC
policy_source = directory
directory_domain = $DOM
directory_base = $BASE
directory_computer = HOSTA\$
directory_bind = gssapi
directory_keytab = $tmp/a/krb5.keytab
directory_principal = HOSTA\$@$REALM
directory_starttls = no
directory_cache = $tmp/a/state/directory.cache
directory_timeout = 8
directory_min_poll = 1
directory_backoff_unit = 1
natt_port = off
EOC
pki_agent b $BIP $AIP 0 "natt_port = off"
sed -i 's/cipher="AES128"/cipher="3DES"/; s/esp="AES128"/esp="3DES"/' \
    "$tmp/b/store.xml" || die "sed b/store.xml"
A=("$cmd" -c "$tmp/a.conf")
start_a() {
	t_agent_start a "$na" KRB5_CONFIG="$tmp/a/krb5.conf" \
	    KRB5CCNAME="FILE:$tmp/a/none"
}
start_b() {	# with the certificate of pki host $1 (alone: not I's)
	sed -i "s|^cert_file = .*|cert_file = $tmp/pki/$1.pem|;
	    s|^key_file = .*|key_file = $tmp/pki/$1.key|" "$tmp/b.conf" ||
	    die "sed b.conf"
	t_agent_start b "$nb"
}
restart_b() {
	"$cmd" -c "$tmp/b.conf" --timeout 8000 service stop clear \
	    >/dev/null || fail "stop b"
	start_b "$1"
}
start_a
start_b b
st=$("${A[@]}" --json service status)
[ "$(jq -r .policy_source <<<"$st")" = directory ] ||
    die "A does not run the directory's policy: $st"
ping_ok() { ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }
n541() {	# A's 541 events whose Peer Identity matches REGEX
	jq -s --arg re "$1" '[.[] | select(.id == 541 and
	    (.fields["Peer Identity"] | test($re)))] | length' \
	    "$tmp/a/audit.jsonl"
}
n547() {	# A's 547 events whose Failure Reason matches REGEX
	jq -s --arg re "$1" '[.[] | select(.id == 547 and
	    (.fields["Failure Reason"] | test($re)))] | length' \
	    "$tmp/a/audit.jsonl"
}
pk=$("${A[@]}" --json show pki)
jq -e '[.domain_cas[] | select(.subject | test("CN=CRL Root")) | .kind] ==
    ["root"] and ([.domain_cas[] | select(.subject | test("CN=CRL Issuing")) |
    .kind] | sort) == ["aia", "ntauth"]' <<<"$pk" >/dev/null ||
    fail "show pki on A: not the domain's root, AIA and NTAuth CAs: $pk"
dg=$("${A[@]}" --json diag | jq -c '.checks[] | select(.name == "pki")')
jq -e '.result == "pass" and (.detail | test("no ca_file; 1 enterprise root\\(s\\) and 2 issuing CA\\(s\\) from the directory, 0 expired"))' \
    <<<"$dg" >/dev/null || fail "diag's pki check on A: $dg"

# ---- 1. hit by dNSName, A initiating ------------------------------------
pki_wait 60 ping_ok "$na" $BIP || fail "1: A -> B did not get through"
acct="HOSTB\\$ \\(CN=HOSTB,CN=Computers,$BASE\\)"
[ "$(n541 "Peer Account: $acct")" -ge 1 ] ||
    fail "1: no 541 naming HOSTB\$ on A: $(jq -c 'select(.id == 541)' "$tmp/a/audit.jsonl")"
grep -q "certificate mapping: .* is HOSTB\\$" "$tmp/a/oakley.log" ||
    fail "1: the Oakley log does not say the mapping"
pass "1: B sends its certificate alone, A builds the chain with I from CN=AIA; dNSName hostb.$DOM maps to HOSTB\$: ESP, 541 names the account; show pki lists the root, AIA and NTAuth CAs"

# ---- 2. the account disabled, then enabled (B initiating) ---------------
u=$(uac)
[ -n "$u" ] || die "2: no userAccountControl on HOSTB\$"
db "$HOSTB_DN" userAccountControl $((u | 2))
restart_b b
ping_ok "$nb" $AIP && fail "2: B -> A got through with HOSTB\$ disabled"
pki_wait 30 test "$(n547 "mapping: the computer account CN=HOSTB,CN=Computers,.* is disabled")" -ge 1 ||
    fail "2: no 547 'is disabled' on A: $(jq -c 'select(.id == 547)' "$tmp/a/audit.jsonl" | tail -3)"
db "$HOSTB_DN" userAccountControl "$u"
restart_b b
before=$(n541 "Peer Account: $acct")
pki_wait 60 ping_ok "$nb" $AIP || fail "2: B -> A not through once enabled"
[ "$(n541 "Peer Account: $acct")" -gt "$before" ] ||
    fail "2: no new 541 naming HOSTB\$ (A responding)"
pass "2: HOSTB\$ disabled: refused (547 'is disabled'); enabled: accepted with A responding"

# ---- 3. miss: a certificate no account maps -----------------------------
restart_b c
ping_ok "$nb" $AIP && fail "3: B -> A got through with hostc's certificate"
pki_wait 30 test "$(n547 "mapping: no computer account in the directory maps .*CN=hostc")" -ge 1 ||
    fail "3: no 547 'no computer account' on A"
pass "3: dNSName hostc.$DOM (no such account): refused"

# ---- 4. altSecurityIdentities (issuer and serial) ----------------------
iss=$(openssl x509 -in "$tmp/pki/d.pem" -noout -issuer -nameopt RFC2253 |
    sed 's/^issuer=//')
# AD writes the issuer in the certificate's order (RFC 2253 reversed).
iss=$(awk -F, '{for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? "," : "")}' <<<"$iss")
sr=$(openssl x509 -in "$tmp/pki/d.pem" -noout -serial | sed 's/^serial=//')
[ $((${#sr} % 2)) = 0 ] || sr=0$sr
sr=$(sed 's/../&\n/g' <<<"$sr" | tac | tr -d '\n')
db "$HOSTB_DN" altSecurityIdentities "X509:<I>$iss<SR>$sr"
restart_b d
before=$(n541 "Peer Account: $acct")
pki_wait 60 ping_ok "$nb" $AIP ||
    fail "4: B -> A not through with X509:<I>$iss<SR>$sr on HOSTB\$"
[ "$(n541 "Peer Subject .*CN=host-d.*Peer Account: $acct")" -ge 1 ] ||
    fail "4: no 541 naming HOSTB\$ for host-d's certificate"
pass "4: no subjectAltName, altSecurityIdentities X509:<I>$iss<SR>$sr: accepted as HOSTB\$"
# The other forms: each alone on HOSTB$, B's next Main Mode maps by it.
sub=$(openssl x509 -in "$tmp/pki/d.pem" -noout -subject -nameopt RFC2253 |
    sed 's/^subject=//')
sub=$(awk -F, '{for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? "," : "")}' <<<"$sub")
ski=$(openssl x509 -in "$tmp/pki/d.pem" -noout -ext subjectKeyIdentifier |
    tail -n 1 | tr -d ' :')
for form in "X509:<SKI>$ski" "X509:<I>$iss<S>$sub"; do
	db "$HOSTB_DN" altSecurityIdentities "$form"
	restart_b d
	before=$(n541 "Peer Subject .*CN=host-d.*Peer Account: $acct")
	pki_wait 60 ping_ok "$nb" $AIP || fail "4: B -> A not through with $form"
	[ "$(n541 "Peer Subject .*CN=host-d.*Peer Account: $acct")" -gt \
	    "$before" ] || fail "4: no new 541 naming HOSTB\$ with $form"
done
# A UPN in the subjectAltName (Microsoft's otherName), and on the account.
db "$HOSTB_DN" altSecurityIdentities "X509:<S>nothing"
db "$HOSTB_DN" userPrincipalName "hostb-upn@$DOM"
restart_b e
pki_wait 60 ping_ok "$nb" $AIP || fail "4: B -> A not through with the UPN"
[ "$(n541 "Peer Subject .*CN=host-e.*Peer Account: $acct")" -ge 1 ] ||
    fail "4: no 541 naming HOSTB\$ for the UPN's certificate"
pass "4: X509:<SKI>, X509:<I>..<S>.. and a UPN (otherName) map to HOSTB\$ too"

# ---- 5. revoked in the directory's CDP ---------------------------------
pki_revoke e
publish_im -crldays 7
pki_wait 60 grep -q "peer certificate revoked" "$tmp/a/oakley.log" ||
    fail "5: A did not end B's SAs when I's CRL in the CDP object listed it"
ping_ok "$nb" $AIP && fail "5: B -> A still gets through"
pki_wait 30 test "$(n547 "revoked")" -ge 1 || fail "5: no 547 'revoked' on A"
pass "5: revoked in the CDP object (read with the GSSAPI bind): SAs ended, refused"

t_finish "enterprise PKI from Active Directory"
