#!/usr/bin/env bash
# policy.sh BINARY -- the directory policy source (agent/policy/dir_source.c)
# end to end: a real MIT KDC and slapd (GSSAPI bind as host/hosta), a tree
# with OUs, GPOs and links; tests/unit/test_ldap_policy.c drives the
# changes (filter edit, enforcement, corruption, unassignment, slapd stop,
# restart from cache). Skips (77) without slapd or the KDC.
set -euo pipefail
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$(cd "$HERE/../../lib" && pwd)
T=$(mktemp -d /tmp/dir-pol.XXXXXX)
cleanup() {
	"$LIB/slapd.sh" stop "$T/ldap" || true
	"$LIB/kdc.sh" stop "$T/kdc" >/dev/null 2>&1 || true
	[ "${PA_TEST_KEEP:-0}" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"
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
set +e
"$LIB/slapd.sh" start "$T/ldap" --sasl-host 127.0.0.1 \
	--keytab "$KRB5_KEYTAB_DIR/ldap_127.0.0.1.keytab" \
	--krb5-config "$KRB5_CONFIG" --ldif "$HERE/tree.ldif" >/dev/null
rc=$?
set -e
[ $rc -eq 77 ] && { echo "SKIP: slapd not installed"; exit 77; }
[ $rc -eq 0 ] || exit 1
# shellcheck disable=SC1091
. "$T/ldap/env"
export LDAP_URI
mkdir -m 700 "$T/state"
export SLAPD_SH="$LIB/slapd.sh" SLAPD_DIR="$T/ldap" STATE_DIR="$T/state"
export KRB5_CONFIG
export HOST_KEYTAB="$KRB5_KEYTAB_DIR/host_hosta.example.test.keytab"
export KRB5CCNAME="FILE:$T/no-such-ccache"
"$BIN"
