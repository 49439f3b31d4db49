#!/bin/bash
# ipseccmd static / match end to end (owner: A): builds the issue's example
# policy ("require ESP 3DES/SHA1 with a preshared key for all traffic to
# 10.0.0.0/24, permit ICMP") in a handful of commands, checks show (text
# and --json), match, the rejections (store files unchanged byte for
# byte), export/import; then, in a private network namespace, checks that
# "my IP address" expands to the namespace's real interface addresses.
#
# usage: static_cli.sh IPSECCMD
set -u
CMD=${1:?usage: static_cli.sh IPSECCMD}
T=$(mktemp -d /tmp/pa-static-cli.XXXXXX)
NS=pola-$$
cleanup() {
	ip netns del "$NS" 2>/dev/null
	[ "${PA_TEST_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

S=(--store "$T/etc/store.xml" --secrets "$T/etc/secrets.xml")
ipc() { "$CMD" "${S[@]}" "$@"; }

# The command exists in this build?
if ipc static show all 2>&1 | grep -q "not part of this build"; then
	echo "SKIP: this ipseccmd was linked without svc_static_main"
	exit 77
fi

# --json must reach svc_static_main (the front end may not forward it yet).
if ! ipc static show all --json 2>/dev/null | jq -e .policies >/dev/null 2>&1
then
	echo "SKIP: this front end does not pass --json through to the static"
	echo "      commands (ipseccmd strips it from argv): reported"
	exit 77
fi

# 1. The example in six commands (the filter lists are created by
#    "add filter", as netsh does).
run() {
	local out
	if out=$(ipc "$@" 2>&1); then ok "$*"; else bad "$* -> $out"; fi
}
run static add filteraction name=RequireESP action=negotiate \
    'qmsecmethods=ESP[3DES,SHA1]:3600s/100000kb' inpass=no soft=no
run static add filteraction name=Permit action=permit
run static add filter filterlist=Net10 srcaddr=me dstaddr=10.0.0.0 \
    dstmask=255.255.255.0
run static add filter filterlist=ICMP10 srcaddr=me dstaddr=10.0.0.0/24 \
    protocol=icmp
run static add policy name=Corp assign=yes
run static add rule name=Secure10 policy=Corp filterlist=Net10 \
    filteraction=RequireESP psk=s3cret-key
run static add rule name=PermitICMP policy=Corp filterlist=ICMP10 \
    filteraction=Permit

# 2. show
out=$(ipc static show all)
grep -q "Assigned       : YES" <<<"$out" && ok "show all: assigned" ||
    bad "show all: $out"
grep -q "s3cret" <<<"$out" && bad "show leaks the key" ||
    ok "show hides the key"
grep -q "s3cret" "$T/etc/store.xml" && bad "store file holds the key" ||
    ok "store file has no key"
[ "$(stat -c %a "$T/etc/secrets.xml")" = 600 ] && ok "secrets mode 0600" ||
    bad "secrets mode $(stat -c %a "$T/etc/secrets.xml")"
ipc static show rule policy=Corp name=Secure10 showsecrets=yes |
    grep -q '"s3cret-key"' && ok "showsecrets=yes shows it" ||
    bad "showsecrets=yes"
n=$(ipc static show all --json | jq '.policies[0].rules | length')
[ "$n" = 2 ] && ok "show --json: 2 rules" || bad "show --json rules: $n"
a=$(ipc static show filteraction name=RequireESP --json |
    jq -r '.filteractions[0].qmsecmethods[0].text')
[ "$a" = "ESP[3DES,SHA1]:3600s/100000kb" ] && ok "qmsecmethods: $a" ||
    bad "qmsecmethods: $a"

# 3. match
m() { ipc match "$@" --json; }
r=$(m src=192.168.1.1 dst=10.0.0.5 proto=tcp dstport=22 \
    myaddr=192.168.1.1 | jq -r '.rule + " " + .action')
[ "$r" = "Secure10 negotiate" ] && ok "match tcp -> $r" || bad "match tcp: $r"
r=$(m src=192.168.1.1 dst=10.0.0.5 proto=icmp myaddr=192.168.1.1 |
    jq -r '.rule + " " + .action')
[ "$r" = "PermitICMP permit" ] && ok "match icmp -> $r" || bad "match icmp: $r"
r=$(m src=10.0.0.5 dst=192.168.1.1 proto=udp srcport=53 dstport=4000 \
    myaddr=192.168.1.1 | jq -r '.direction + " " + .rule')
[ "$r" = "in Secure10" ] && ok "match inbound -> $r" || bad "match in: $r"
r=$(m src=192.168.1.1 dst=172.16.0.1 myaddr=192.168.1.1 | jq -r .matched)
[ "$r" = false ] && ok "match outside: no filter" || bad "match outside: $r"
ipc match src=192.168.1.1 dst=10.0.0.5 proto=icmp myaddr=192.168.1.1 |
    grep -q "^Why .*outranks 1 other" && ok "match explains why" ||
    bad "match why"

# 4. rejections: non-zero exit, a precise message, files unchanged
cp "$T/etc/store.xml" "$T/store.before"
cp "$T/etc/secrets.xml" "$T/secrets.before"
reject() {
	local want=$1 msg=$2 out rc
	shift 2
	out=$(ipc "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" <<<"$out"; then
		bad "reject [$*]: rc $rc: $out"
	elif ! cmp -s "$T/etc/store.xml" "$T/store.before" ||
	    ! cmp -s "$T/etc/secrets.xml" "$T/secrets.before"; then
		bad "reject [$*] changed the store"
	else
		ok "rejected: $msg"
	fi
}
reject 1 "unknown ESP cipher 'BLOWFISH'" static add filteraction name=X \
    'qmsecmethods=ESP[BLOWFISH,SHA1]'
reject 1 "not a prefix" static add filter filterlist=Net10 srcaddr=me \
    dstaddr=10.0.0.0 dstmask=255.255.0.255
reject 1 "dstaddr=10.66.1: not an address" static add filter \
    filterlist=Net10 srcaddr=me dstaddr=10.66.1
reject 1 "dstaddr=10.66.1.300: not an address" static add filter \
    filterlist=Net10 srcaddr=me dstaddr=10.66.1.300
reject 1 "which has no ports" static add filter filterlist=Net10 \
    srcaddr=me dstaddr=any protocol=icmp dstport=7
reject 1 "filter action 'Nope' does not exist" static add rule name=R \
    policy=Corp filterlist=Net10 filteraction=Nope
reject 1 "used by rule 'Secure10'" static delete filteraction \
    name=RequireESP
reject 2 "unknown parameter 'frob'" static set policy name=Corp frob=1
# A hand-broken store: every command refuses it, nothing is rewritten.
sed -i 's/assigned="yes"/assigned="yes" bogus="1"/' "$T/etc/store.xml"
cp "$T/etc/store.xml" "$T/store.before"
reject 1 "store.xml:" static add policy name=New
reject 1 "bogus" static show all
cp "$T/secrets.before" "$T/etc/secrets.xml" # unchanged anyway
sed -i 's/ bogus="1"//' "$T/etc/store.xml"

# 5. export / import
ipc static exportpolicy file="$T/export.xml" >/dev/null &&
    [ "$(stat -c %a "$T/export.xml")" = 600 ] && ok "export, mode 0600" ||
    bad "export"
before=$(ipc static show all --json)
ipc static delete policy name=Corp >/dev/null &&
ipc static delete filteraction all=yes >/dev/null &&
ipc static delete filterlist all=yes >/dev/null || bad "delete all"
ipc static importpolicy file="$T/export.xml" | grep -q "5 objects added" &&
    ok "import" || bad "import"
ipc static set policy name=Corp assign=yes >/dev/null
[ "$(ipc static show all --json)" = "$before" ] && ok "import restores all" ||
    bad "import differs"

# 5b. the same through directory-ready LDIF (format=ldif): export, delete,
# import, and the store compares equal again.
cp "$T/etc/store.xml" "$T/store.before"
cp "$T/etc/secrets.xml" "$T/secrets.before"
reject 2 "needs base=" static exportpolicy file="$T/export.ldif" format=ldif
reject 2 "format must be xml or ldif" static exportpolicy \
    file="$T/export.ldif" format=json
ipc static exportpolicy file="$T/export.ldif" format=ldif \
    base=DC=corp,DC=example >/dev/null &&
    grep -q '^objectClass: ipsecNFA' "$T/export.ldif" &&
    ok "export format=ldif" || bad "export format=ldif"
ipc static delete policy name=Corp >/dev/null &&
ipc static delete filteraction all=yes >/dev/null &&
ipc static delete filterlist all=yes >/dev/null || bad "delete all (ldif)"
ipc static importpolicy file="$T/export.ldif" format=ldif >/dev/null &&
    ok "import format=ldif" || bad "import format=ldif"
ipc static set policy name=Corp assign=yes >/dev/null
r=$(ipc match src=192.168.1.1 dst=10.0.0.5 proto=tcp dstport=22 \
    myaddr=192.168.1.1 --json | jq -r '.rule + " " + .action')
[ "$r" = "Secure10 negotiate" ] && ok "LDIF round trip keeps the rules" ||
    bad "LDIF round trip: $r"

# 5b'. certificate-to-account mapping through LDIF: the directory's format
# keeps it for the whole policy (ISAKMP-Options bit 1), so after the round
# trip every certificate method of the policy maps.
run static add rule name=CertA policy=Corp filterlist=Net10 \
    filteraction=RequireESP 'rootca=CN=Root A certmap:yes'
run static add rule name=CertB policy=Corp filterlist=Net10 \
    filteraction=RequireESP 'rootca=CN=Root B'
a=$(ipc static show rule name=CertA policy=Corp)
grep -q 'certificate (CA "CN=Root A", mapped to a computer account)' <<<"$a" &&
    ok "certmap:yes shown" || bad "certmap:yes not shown: $a"
ipc static exportpolicy file="$T/certmap.ldif" format=ldif \
    base=DC=corp,DC=example >/dev/null || bad "export with certmap"
ipc static delete policy name=Corp >/dev/null || bad "delete Corp (certmap)"
ipc static importpolicy file="$T/certmap.ldif" format=ldif >/dev/null ||
    bad "import with certmap"
m=$(ipc static show policy name=Corp --json | jq -c '[.policies[0].rules[] |
    select(.name == "CertA" or .name == "CertB") | .auth[0].certmap]')
[ "$m" = "[true,true]" ] &&
    ok "LDIF keeps certmap (for the policy: both certificate rules map)" ||
    bad "certmap after the LDIF round trip: $m"
run static delete rule name=CertA policy=Corp
run static delete rule name=CertB policy=Corp
run static set policy name=Corp assign=yes

# 5c. AES-GCM (RFC 4106): ESP[AESGCMnnn] in qmsecmethods, kept in the
# store and shown; ipsecData (format=ldif) cannot express it: the export
# is refused naming the filter action, and no file is written.
run static set filteraction name=RequireESP \
    'qmsecmethods=ESP[AESGCM128] ESP[3DES,SHA1]:3600s/100000kb'
a=$(ipc static show filteraction name=RequireESP --json |
    jq -r '[.filteractions[0].qmsecmethods[].text] | join(" ")')
[ "$a" = "ESP[AESGCM128]:3600s/100000kb ESP[3DES,SHA1]:3600s/100000kb" ] &&
    grep -q 'esp="AESGCM128"' "$T/etc/store.xml" &&
    ok "GCM offer kept and shown: $a" || bad "GCM offer: $a"
cp "$T/etc/store.xml" "$T/store.before"
cp "$T/etc/secrets.xml" "$T/secrets.before"
reject 1 "'ESP[AESGCM256,SHA1]': AESGCM256 includes its integrity (write ESP[AESGCM256])" static set \
    filteraction name=RequireESP 'qmsecmethods=ESP[AESGCM256,SHA1]'
rm -f "$T/gcm.ldif"
reject 1 "filter action 'RequireESP', offer 1: ESP AESGCM128 (AES-GCM) cannot be expressed in an ipsecData blob" \
    static exportpolicy file="$T/gcm.ldif" format=ldif base=DC=corp,DC=example
[ ! -e "$T/gcm.ldif" ] && ok "no LDIF written for a GCM policy" ||
    bad "an LDIF was written for a GCM policy"
ipc static exportpolicy file="$T/gcm.xml" >/dev/null &&
    grep -q 'esp="AESGCM128"' "$T/gcm.xml" && ok "GCM exports to XML" ||
    bad "GCM XML export"
run static set filteraction name=RequireESP \
    'qmsecmethods=ESP[3DES,SHA1]:3600s/100000kb'

# 6. "my IP address" from the host's real addresses, in a namespace.
if [ "$(id -u)" != 0 ] || ! ip netns add "$NS" 2>/dev/null; then
	echo "skip - no network namespaces (not root?): my-address check"
else
	ip -n "$NS" link add d0 type veth peer name d1 &&
	ip -n "$NS" addr add 192.168.77.1/24 dev d0 &&
	ip -n "$NS" addr add fd00:77::1/64 dev d0 nodad &&
	ip -n "$NS" link set d0 up && ip -n "$NS" link set d1 up &&
	ip -n "$NS" link set lo up || bad "namespace setup"
	r=$(ip netns exec "$NS" "$CMD" "${S[@]}" match src=192.168.77.1 \
	    dst=10.0.0.9 proto=tcp --json | jq -r '.rule + " " + .entry')
	case $r in
	"Secure10 #"*"192.168.77.1/32 -> 10.0.0.0/24"*)
		ok "me = 192.168.77.1 in $NS";;
	*)	bad "namespace match: $r";;
	esac
	r=$(ip netns exec "$NS" "$CMD" "${S[@]}" match src=192.168.99.1 \
	    dst=10.0.0.9 proto=tcp --json | jq -r .matched)
	[ "$r" = false ] && ok "not my address: no match" ||
	    bad "foreign source matched: $r"
fi

# 7. Concurrent edits are serialised: none is lost.
P=(--store "$T/par/store.xml" --secrets "$T/par/secrets.xml")
pids=()
for i in $(seq 1 16); do
	"$CMD" "${P[@]}" static add filter filterlist=Par srcaddr=me \
	    dstaddr=10.50.0.$i >/dev/null 2>"$T/par-$i.err" &
	pids+=($!)
done
perr=0
for p in "${pids[@]}"; do wait "$p" || perr=$((perr + 1)); done
n=$("$CMD" "${P[@]}" static show filterlist name=Par --json |
    jq '.filterlists[0].filters | length')
[ "$perr" = 0 ] && [ "$n" = 16 ] && ok "16 concurrent adds, 16 filters" ||
    bad "concurrent adds: $perr failed, $n filters ($(cat "$T"/par-*.err))"

# help: from the parser's own tables, no configuration needed (ipseccmd;
# the thin front end of static_cli_lib has no help).
if "$CMD" --list-commands 2>/dev/null | grep -qx help; then
h=$("$CMD" -c /nonexistent help 2>&1)
for c in show service dynamic set events reload static match; do
	grep -q "^  $c " <<<"$h" || bad "help: no line for '$c'"
done
h=$("$CMD" -c /nonexistent static ? 2>&1)
missing=""
for k in $("$CMD" --list-keys | sed -n 's/^static //p'); do
	grep -qw -- "$k" <<<"$h" || missing="$missing $k"
done
[ -z "$missing" ] && grep -q "^verbs: add set delete show" <<<"$h" &&
    cmp -s <("$CMD" help static) <(printf '%s\n' "$h") &&
    "$CMD" show help | grep -q "^words: all policy" &&
    "$CMD" dynamic ? | grep -q "add rule keys" ||
    bad "help static / static ? / show help / dynamic ?: missing:$missing"
"$CMD" help nosuch >/dev/null 2>&1
[ $? = 2 ] && ok "help, help COMMAND and COMMAND ? from the parser's tables" ||
    bad "help nosuch: not a usage error"
fi

echo "$fails failure(s)"
[ "$fails" = 0 ]
