# directory.sh -- sourced by the directory tests: a real MIT KDC (kdc.sh)
# and slapd (slapd.sh) on free loopback ports, the agent's host binding
# with GSSAPI as host/hosta.example.test. Sources check.sh; call t_tmpdir
# first.
#
#   dir_start [SLAPD_OPTION...]
#       the KDC in $tmp/kdc with the principals host/hosta.example.test
#       and ldap/127.0.0.1, then slapd in $tmp/ldap (SASL host 127.0.0.1,
#       its keytab, the KDC's krb5.conf, and the SLAPD_OPTIONs of
#       slapd.sh start); both stopped on exit. Their shell assignments
#       (KRB5_*, LDAP_*) are sourced, and HOST_KEYTAB is the keytab of
#       host/hosta.example.test. Skips (77) when either is not installed.

# shellcheck source=check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

dir_start() {
	local rc=0
	t_at_exit "$t_lib/kdc.sh" stop "$tmp/kdc"
	"$t_lib/kdc.sh" start "$tmp/kdc" host/hosta.example.test \
	    ldap/127.0.0.1 >/dev/null || rc=$?
	[ $rc -ne 77 ] || skip "MIT KDC not installed"
	[ $rc -eq 0 ] || die "kdc.sh start"
	# shellcheck disable=SC1091
	. "$tmp/kdc/env"
	t_at_exit "$t_lib/slapd.sh" stop "$tmp/ldap"
	"$t_lib/slapd.sh" start "$tmp/ldap" --sasl-host 127.0.0.1 \
	    --keytab "$KRB5_KEYTAB_DIR/ldap_127.0.0.1.keytab" \
	    --krb5-config "$KRB5_CONFIG" "$@" >/dev/null || rc=$?
	[ $rc -ne 77 ] || skip "slapd not installed"
	[ $rc -eq 0 ] || die "slapd.sh start"
	# shellcheck disable=SC1091
	. "$tmp/ldap/env"
	HOST_KEYTAB="$KRB5_KEYTAB_DIR/host_hosta.example.test.keytab"
}
