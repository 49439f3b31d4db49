/*
 * The directory source applied to the policy Windows ships as "Secure
 * Server (Require Security)": objects written by Windows, from Samba's
 * provision data, in slapd (tests/integration/directory/windows.sh) or
 * natively in a Samba AD DC (tests/integration/directory/samba_ad.sh).
 * What Microsoft documents for it must come out: three rules (ICMP
 * permitted, all IP traffic secured with inbound clear accepted and no
 * fallback to clear, the default response rule), the Main Mode offers of
 * Windows, an SPD that compiles; and the LDIF export of what was fetched,
 * through the keep, carries the original blobs byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dir_source.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"
#include "spd.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("environment %s not set (run through windows.sh)",
		    name);
	return v;
}

static void
test_secure_server(void **state)
{
	const char *uris[1];
	struct pol_dir_cfg cfg;
	struct pol_dir_source *d = NULL;
	struct pol_dir_status s;
	struct pol_store *st = NULL, *back = NULL;
	struct pol_spd *spd = NULL;
	struct pol_ldif_opts o;
	struct pol_err err;
	struct pa_addr me;
	const struct pol_policy *p;
	const struct pol_rule *r;
	char cache[512], *t1 = NULL, *t2 = NULL;
	size_t i, n1, n2;
	bool icmp = false, secure = false, defresp = false;

	(void)state;
	uris[0] = env("LDAP_URI");
	snprintf(cache, sizeof(cache), "%s/cache", env("STATE_DIR"));
	memset(&cfg, 0, sizeof(cfg));
	cfg.uris = uris;
	cfg.nuris = 1;
	cfg.bind = POL_DIR_BIND_GSSAPI;
	cfg.keytab = env("HOST_KEYTAB");
	cfg.principal = getenv("HOST_PRINCIPAL");	/* NULL: first entry */
	cfg.base = getenv("LDAP_BASE") ? getenv("LDAP_BASE") :
	    "dc=example,dc=test";
	cfg.sam_account = "HOSTA$";
	cfg.cache_path = cache;
	assert_int_equal(pol_dir_new(&cfg, &d), 0);
	assert_int_equal(pol_dir_poll(d, &st, &s), 0);
	if (s.outcome != POL_DIR_APPLIED)
		fail_msg("%s: %s: %s", pol_dir_outcome_name(s.outcome),
		    s.err.where, s.err.what);
	assert_string_equal(s.policy_name, "Secure Server (Require Security)");
	/* Polling interval 0x2A30 s = 180 minutes. */
	assert_int_equal(s.next_poll_sec, 10800);
	p = &st->policies[0];
	assert_int_equal(p->nrules, 3);
	assert_int_equal(p->isakmp.nmethods, 4);
	assert_int_equal(p->isakmp.methods[0].cipher, POL_MM_3DES);
	assert_int_equal(p->isakmp.methods[0].hash, POL_INTEG_SHA1);
	assert_int_equal(p->isakmp.methods[0].dh_group, 2);
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		assert_int_equal(r->nauth, 1);
		assert_int_equal(r->auth[0].kind, POL_AUTH_KERBEROS);
		if (r->default_response) {
			defresp = true;
			assert_null(r->filterlist);
			continue;
		}
		assert_non_null(r->filterlist);
		if (r->filterlist->filters[0].proto == 1) {
			icmp = true;
			assert_int_equal(r->filteraction->action,
			    POL_ACT_PERMIT);
		} else {
			secure = true;
			assert_int_equal(r->filteraction->action,
			    POL_ACT_NEGOTIATE);
			assert_true(r->filteraction->inpass);
			assert_false(r->filteraction->soft);
			assert_int_equal(r->filteraction->noffers, 4);
			assert_int_equal(r->filterlist->filters[0].src.kind,
			    POL_ADDR_ME);
			assert_int_equal(r->filterlist->filters[0].dst.kind,
			    POL_ADDR_ANY);
		}
	}
	assert_true(icmp && secure && defresp);
	assert_int_equal(pa_addr_parse("192.168.50.1", &me), 0);
	if (pol_spd_compile(p, &me, 1, &spd, &err) != 0)
		fail_msg("compile: %s: %s", err.where, err.what);
	assert_true(pol_spd_count(spd) >= 4);
	pol_spd_free(spd);

	/* Export with the keep, import, export again: same text, and the
	 * blobs are Windows' own (598 data type aside, which we write as
	 * 256). */
	memset(&o, 0, sizeof(o));
	o.base = cfg.base;
	assert_int_equal(pol_ldif_write(st, p, pol_dir_keep(d), &o, &t1, &n1,
	    &err), 0);
	assert_int_equal(pol_ldif_read(t1, n1, &back, NULL, &err), 0);
	back->policies[0].assigned = true;
	assert_int_equal(pol_ldif_write(back, &back->policies[0],
	    pol_dir_keep(d), &o, &t2, &n2, &err), 0);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	pol_store_free(back);
	pol_store_free(st);
	pol_dir_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secure_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
