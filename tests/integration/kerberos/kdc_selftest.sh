#!/usr/bin/env bash
# Self-test of tests/lib/kdc.sh, the throwaway MIT KDC other tests use:
# two realms at once on distinct free ports, machine/host/password
# principals, keytab tickets without a password, a stale keytab, a busy
# port, a double start, stop (port released) and restart in the same dir.
# Exit 77 when the MIT KDC programs are missing.
set -euo pipefail

SRC=${PA_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
KDC="$SRC/tests/lib/kdc.sh"
T=$(mktemp -d /tmp/pa-kdcsh-XXXXXX)
pass=0
fail=0

cleanup() {
	"$KDC" stop "$T/a" >/dev/null 2>&1 || true
	"$KDC" stop "$T/b" >/dev/null 2>&1 || true
	if [ "${PA_TEST_KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() {  # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/     /' "$T/out"; fi
}
check_not() {
	local d=$1; shift
	if "$@" >"$T/out" 2>&1; then bad "$d (succeeded)"; else ok "$d"; fi
}
listening() { ss -Hlnt "sport = :$1" | grep -q .; }

set +e
"$KDC" start "$T/a" -r ALPHA.TEST 'HOSTA$' host/hostb.alpha.test alice=alicepw >"$T/a.env" 2>"$T/a.err"
rc=$?
set -e
if [ $rc = 77 ]; then
	echo "SKIP: $(cat "$T/a.err")"
	exit 77
fi
[ $rc = 0 ] || { cat "$T/a.err"; exit 1; }
"$KDC" start "$T/b" -r BETA.TEST host/hostc.beta.test >/dev/null

# shellcheck disable=SC1091
. "$T/a/env"
PA=$KRB5_KDC_PORT
PB=$(sed -n 's/^export KRB5_KDC_PORT=//p' "$T/b/env")
check "stdout equals DIR/env" cmp -s "$T/a.env" "$T/a/env"
check "two KDCs on distinct ports ($PA, $PB)" test "$PA" != "$PB"
check "KDC A listens on TCP $PA" listening "$PA"
check "keytab per principal" test -s "$T/a/keytabs/HOSTA\$.keytab" \
	-a -s "$T/a/keytabs/host_hostb.alpha.test.keytab" \
	-a -s "$T/a/keytabs/alice.keytab"
check "keytab subcommand" test "$("$KDC" keytab "$T/a" host/hostb.alpha.test)" \
	= "$T/a/keytabs/host_hostb.alpha.test.keytab"
check "profile has rdns = false" grep -q "rdns = false" "$KRB5_CONFIG"
check "profile has dns_canonicalize_hostname = false" \
	grep -q "dns_canonicalize_hostname = false" "$KRB5_CONFIG"

export KRB5CCNAME="FILE:$T/cc"
check "machine account ticket from keytab" \
	kinit -k -t "$T/a/keytabs/HOSTA\$.keytab" 'HOSTA$@ALPHA.TEST'
check "ticket is for HOSTA\$@ALPHA.TEST" \
	sh -c "klist | grep -q 'Default principal: HOSTA\\\$@ALPHA.TEST'"
check "service ticket for host/hostb" kvno host/hostb.alpha.test
check "password principal" sh -c "echo alicepw | kinit alice@ALPHA.TEST"
check_not "wrong password refused" sh -c "echo nope | kinit alice@ALPHA.TEST"

check "kadmin subcommand (cpw -randkey)" \
	"$KDC" kadmin "$T/a" cpw -randkey host/hostb.alpha.test
check_not "stale keytab refused by the KDC" \
	kinit -k -t "$T/a/keytabs/host_hostb.alpha.test.keytab" host/hostb.alpha.test

check_not "second start in a running dir refused" "$KDC" start "$T/a" x
check_not "start on a busy port refused" "$KDC" start "$T/c" -p "$PA" x
check_not "bad realm refused" "$KDC" start "$T/c" -r 'bad realm' x
check_not "usage error" "$KDC" frobnicate

check "stop A" "$KDC" stop "$T/a"
check_not "A's port released" listening "$PA"
check "stop A again is harmless" "$KDC" stop "$T/a"
check_not "KDC unreachable after stop" \
	kinit -k -t "$T/a/keytabs/HOSTA\$.keytab" 'HOSTA$@ALPHA.TEST'
check "restart in the same dir (new realm db)" "$KDC" start "$T/a" -r ALPHA.TEST 'HOSTA$'
# shellcheck disable=SC1091
. "$T/a/env"
check "ticket from the new keytab" \
	kinit -k -t "$T/a/keytabs/HOSTA\$.keytab" 'HOSTA$@ALPHA.TEST'
check "KDC B still serves" env KRB5_CONFIG="$T/b/krb5.conf" \
	kinit -k -t "$T/b/keytabs/host_hostc.beta.test.keytab" host/hostc.beta.test

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
