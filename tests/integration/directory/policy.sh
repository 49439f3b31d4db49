#!/usr/bin/env bash
# policy.sh BINARY -- the directory policy source (agent/policy/dir_source.c)
# end to end: a real MIT KDC and slapd (GSSAPI bind as host/hosta), a tree
# with OUs, GPOs and links; tests/unit/test_ldap_policy.c drives the
# changes (filter edit, enforcement, corruption, unassignment, slapd stop,
# restart from cache). Skips (77) without slapd or the KDC.
set -euo pipefail
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../lib/directory.sh"
t_tmpdir dir-pol
dir_start --ldif "$HERE/tree.ldif"
export LDAP_URI
mkdir -m 700 "$tmp/state"
export SLAPD_SH="$t_lib/slapd.sh" SLAPD_DIR="$tmp/ldap" STATE_DIR="$tmp/state"
export KRB5_CONFIG HOST_KEYTAB
export KRB5CCNAME="FILE:$tmp/no-such-ccache"
"$BIN"
