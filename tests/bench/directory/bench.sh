#!/usr/bin/env bash
# bench.sh BINARY [N [limits|nolimits]] -- fetch + parse + compile of a directory policy of N
# filters (default 10000) from slapd (GSSAPI bind through a real MIT KDC).
# Prints the figures; fails when the targets (2 s, 64 MB) are missed.
set -euo pipefail
BIN=$1
N=${2:-10000}
LIMITS=${3:-limits}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../lib/directory.sh"
t_tmpdir dir-bench
"$BIN" gen "$N" "$tmp/policy.ldif"
dir_start --ldif "$HERE/../../integration/directory/tree.ldif" \
    --ldif "$tmp/policy.ldif"
mkdir -m 700 "$tmp/state"
out=$(LDAP_URI=$LDAP_URI STATE_DIR=$tmp/state KRB5_CONFIG=$KRB5_CONFIG \
    HOST_KEYTAB="$HOST_KEYTAB" KRB5CCNAME="FILE:$tmp/none" "$BIN" fetch)
echo "$out"
ms=$(echo "$out" | sed -n 's/.* total_ms \([0-9]*\).*/\1/p')
mb=$(echo "$out" | sed -n 's/.* peak_rss_mb \([0-9]*\).*/\1/p')
[ "$LIMITS" = limits ] || exit 0
[ "$ms" -lt 2000 ] || { echo "over 2 s" >&2; exit 1; }
[ "$mb" -lt 64 ] || { echo "over 64 MB" >&2; exit 1; }
