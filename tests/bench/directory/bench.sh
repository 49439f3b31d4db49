#!/usr/bin/env bash
# bench.sh BINARY [N [limits|nolimits]] -- fetch + parse + compile of a directory policy of N
# filters (default 10000) from slapd (GSSAPI bind through a real MIT KDC).
# Prints the figures; fails when the targets (2 s, 64 MB) are missed.
set -euo pipefail
BIN=$1
N=${2:-10000}
LIMITS=${3:-limits}
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$(cd "$HERE/../../lib" && pwd)
T=$(mktemp -d /tmp/dir-bench.XXXXXX)
cleanup() {
	"$LIB/slapd.sh" stop "$T/ldap" || true
	"$LIB/kdc.sh" stop "$T/kdc" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
set +e
"$LIB/kdc.sh" start "$T/kdc" host/hosta.example.test ldap/127.0.0.1 >"$T/kdc.env"
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: MIT KDC not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/kdc.env"
"$BIN" gen "$N" "$T/policy.ldif"
set +e
"$LIB/slapd.sh" start "$T/ldap" --sasl-host 127.0.0.1 \
	--keytab "$KRB5_KEYTAB_DIR/ldap_127.0.0.1.keytab" \
	--krb5-config "$KRB5_CONFIG" \
	--ldif "$HERE/../../integration/directory/tree.ldif" \
	--ldif "$T/policy.ldif" >/dev/null
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: slapd not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/ldap/env"
mkdir -m 700 "$T/state"
out=$(LDAP_URI=$LDAP_URI STATE_DIR=$T/state KRB5_CONFIG=$KRB5_CONFIG \
	HOST_KEYTAB="$KRB5_KEYTAB_DIR/host_hosta.example.test.keytab" \
	KRB5CCNAME="FILE:$T/none" "$BIN" fetch)
echo "$out"
ms=$(echo "$out" | sed -n 's/.* total_ms \([0-9]*\).*/\1/p')
mb=$(echo "$out" | sed -n 's/.* peak_rss_mb \([0-9]*\).*/\1/p')
[ "$LIMITS" = limits ] || exit 0
[ "$ms" -lt 2000 ] || { echo "over 2 s" >&2; exit 1; }
[ "$mb" -lt 64 ] || { echo "over 64 MB" >&2; exit 1; }
