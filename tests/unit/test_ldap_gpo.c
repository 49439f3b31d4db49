/*
 * Unit tests (no server) of the records <-> model side of the directory
 * source: gPLink parsing and Group Policy precedence, directory
 * timestamps, LDIF export/import of a policy (lossless, with the
 * reference graph), and the rejection of broken graphs with the DN of the
 * offending object.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "dir.h"
#include "exp_ldif.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"

#define BASE	"DC=example,DC=test"

static void
test_gplink_parse(void **state)
{
	struct pol_gplink *l;
	size_t n;

	(void)state;
	assert_int_equal(pol_gplink_parse("[LDAP://cn={A},cn=Policies,"
	    "cn=System,DC=x;0][ldap://cn={B},cn=Policies,cn=System,DC=x;2]",
	    &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].dn, "cn={A},cn=Policies,cn=System,DC=x");
	assert_int_equal(l[0].options, 0);
	assert_int_equal(l[1].options, POL_GPLINK_ENFORCED);
	pol_gplinks_free(l, n);
	assert_int_equal(pol_gplink_parse(" ", &l, &n), 0);
	assert_int_equal(n, 0);
	pol_gplinks_free(l, n);
	/* Malformed: no options, no scheme, unterminated, junk. */
	assert_int_equal(pol_gplink_parse("[LDAP://cn=a]", &l, &n),
	    PA_E_FORMAT);
	assert_int_equal(pol_gplink_parse("[cn=a;0]", &l, &n), PA_E_FORMAT);
	assert_int_equal(pol_gplink_parse("[LDAP://cn=a;0", &l, &n),
	    PA_E_FORMAT);
	assert_int_equal(pol_gplink_parse("[LDAP://cn=a;x]", &l, &n),
	    PA_E_FORMAT);
	assert_int_equal(pol_gplink_parse("[LDAP://;0]", &l, &n),
	    PA_E_FORMAT);
	assert_int_equal(pol_gplink_parse("[LDAP://cn=a;99999999999]", &l,
	    &n), PA_E_FORMAT);
}

static void
expect_order(const struct pol_som *soms, size_t n, const char *const *want,
    size_t nwant)
{
	char **dns;
	size_t nd, i;

	assert_int_equal(pol_gpo_order(soms, n, &dns, &nd), 0);
	if (nd != nwant)
		fail_msg("%zu GPOs, expected %zu", nd, nwant);
	for (i = 0; i < nd; i++)
		assert_string_equal(dns[i], want[i]);
	pol_strv_free(dns, nd);
}

static void
test_gpo_precedence(void **state)
{
	struct pol_som s[3];
	const char *w1[] = { "cn=ou2", "cn=ou1", "cn=d2", "cn=d1" };
	const char *w2[] = { "cn=d1", "cn=ou2", "cn=ou1", "cn=d2" };
	const char *w3[] = { "cn=d1", "cn=web", "cn=ou2", "cn=ou1" };
	const char *w4[] = { "cn=d1", "cn=ou1", "cn=web" };

	(void)state;
	/* s[0] the OU of the computer, s[2] the domain. */
	memset(s, 0, sizeof(s));
	s[1].gplink = "[LDAP://cn=ou1;0][LDAP://cn=ou2;0]";
	s[2].gplink = "[LDAP://cn=d1;0][LDAP://cn=d2;0]";
	/* Child before parent; in a container the last link first. */
	expect_order(s, 3, w1, 4);
	/* An enforced domain link beats everything. */
	s[2].gplink = "[LDAP://cn=d1;2][LDAP://cn=d2;0]";
	expect_order(s, 3, w2, 4);
	/* Block inheritance at ou level: the domain's non-enforced link
	 * goes, the enforced one stays; disabled links never count. */
	s[0].gplink = "[LDAP://cn=web;0][LDAP://cn=off;1]";
	s[1].gpoptions = POL_GPOPT_BLOCK;
	expect_order(s, 3, w3, 4);
	/* Enforced links: the parent's before the child's; duplicates are
	 * kept once, at their highest precedence. */
	s[1].gplink = "[LDAP://cn=ou1;2][LDAP://cn=ou2;1]";
	s[1].gpoptions = 0;
	s[2].gplink = "[LDAP://cn=d1;2][LDAP://cn=web;0]";
	expect_order(s, 3, w4, 3);
	/* A malformed gPLink is an error, not silence. */
	s[0].gplink = "[LDAP://cn=web]";
	{
		char **dns;
		size_t nd;

		assert_int_equal(pol_gpo_order(s, 3, &dns, &nd), PA_E_FORMAT);
	}
}

static void
test_ldap_time(void **state)
{
	(void)state;
	assert_int_equal(pol_ldap_time("19700101000000Z"), 0);
	assert_int_equal(pol_ldap_time("20240102030405Z"), 1704164645LL);
	assert_int_equal(pol_ldap_time("20240102030405.0Z"), 1704164645LL);
	assert_int_equal(pol_ldap_time("2024"), 0);
	assert_int_equal(pol_ldap_time(NULL), 0);
	assert_int_equal(pol_ldap_time("2024010203040xZ"), 0);
}

/* A small store: one policy, two rules (one default response). */
static struct pol_store *
make_store(void)
{
	struct pol_store *s = pol_store_new();
	struct pol_policy *p;
	struct pol_filterlist *fl;
	struct pol_filter *f;
	struct pol_filteraction *fa, *fd;
	struct pol_qm_offer *o;
	struct pol_mm_method *m;
	struct pol_rule *r;
	struct pol_auth *a;
	struct pol_err err;
	struct pa_guid fa_id;

	assert_non_null(s);
	fl = pol_store_add_filterlist(s);
	assert_int_equal(pa_guid_generate(&fl->id), 0);
	fl->name = strdup("LAN");
	fl->description = strdup("the LAN, \xC3\xA9t\xC3\xA9");
	f = pol_filterlist_add_filter(fl);
	assert_int_equal(pa_guid_generate(&f->id), 0);
	f->src.kind = POL_ADDR_ME;
	f->dst.kind = POL_ADDR_SUBNET;
	assert_int_equal(pa_prefix_parse("192.168.7.0/24", &f->dst.prefix), 0);
	f->mirrored = true;
	f = pol_filterlist_add_filter(fl);
	assert_int_equal(pa_guid_generate(&f->id), 0);
	f->src.kind = POL_ADDR_ANY;
	f->dst.kind = POL_ADDR_HOST;
	assert_int_equal(pa_prefix_parse("10.0.0.9/32", &f->dst.prefix), 0);
	f->proto = 17;
	f->sport = 500;
	f->dport = 500;

	fa = pol_store_add_filteraction(s);
	assert_int_equal(pa_guid_generate(&fa->id), 0);
	fa->name = strdup("Require");
	fa->action = POL_ACT_NEGOTIATE;
	fa->inpass = true;
	fa->soft = true;
	o = pol_filteraction_add_offer(fa);
	o->ah = true;
	o->ah_integ = POL_INTEG_SHA1;
	o->esp = true;
	o->esp_cipher = POL_ESP_3DES;
	o->esp_integ = POL_INTEG_SHA1;
	o->life_sec = 900;
	o->life_kb = 50000;
	o->pfs = true;
	fa_id = fa->id;
	fd = pol_store_add_filteraction(s);	/* may move fa */
	assert_int_equal(pa_guid_generate(&fd->id), 0);
	fd->name = strdup("Default response");
	fd->action = POL_ACT_NEGOTIATE;
	fd->default_response = true;
	o = pol_filteraction_add_offer(fd);
	o->esp = true;
	o->esp_cipher = POL_ESP_DES;
	o->esp_integ = POL_INTEG_MD5;
	o->life_sec = 3600;
	o->life_kb = 100000;

	p = pol_store_add_policy(s);
	assert_int_equal(pa_guid_generate(&p->id), 0);
	assert_int_equal(pa_guid_generate(&p->isakmp.id), 0);
	p->name = strdup("Export test");
	p->poll_sec = 600;
	p->isakmp.mm_life_sec = 28800;
	p->isakmp.qm_per_mm = 3;
	m = pol_isakmp_add_method(&p->isakmp);
	m->cipher = POL_MM_3DES;
	m->hash = POL_INTEG_SHA1;
	m->dh_group = 14;
	m->life_sec = 28800;
	r = pol_policy_add_rule(p);
	assert_int_equal(pa_guid_generate(&r->id), 0);
	r->name = strdup("LAN rule");
	r->filterlist_id = fl->id;
	r->filteraction_id = fa_id;
	r->active = true;
	r->conntype = POL_CONN_LAN;
	a = pol_rule_add_auth(r);
	a->kind = POL_AUTH_PSK;
	a->psk = pa_secret_new("s3cr\xC3\xABt", 7);
	a = pol_rule_add_auth(r);
	a->kind = POL_AUTH_CERT;
	a->ca_dn = strdup("CN=Test Root,O=Example");
	r = pol_policy_add_rule(p);
	assert_int_equal(pa_guid_generate(&r->id), 0);
	r->filteraction_id = fd->id;
	r->active = true;
	r->default_response = true;
	a = pol_rule_add_auth(r);
	a->kind = POL_AUTH_KERBEROS;
	p->activate_default_rule = true;
	p->assigned = true;
	if (pol_store_resolve(s, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	return s;
}

static char *
export(const struct pol_store *s, const struct pol_gp_keep *keep)
{
	struct pol_ldif_opts o;
	struct pol_err err;
	char *t = NULL;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.base = BASE;
	if (pol_ldif_write(s, NULL, keep, &o, &t, &n, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	assert_int_equal(strlen(t), n);
	return t;
}

static void
test_ldif_round_trip(void **state)
{
	struct pol_store *s = make_store(), *back = NULL;
	struct pol_gp_keep *keep = pol_gp_keep_new();
	struct pol_ldif_opts o;
	struct pol_err err;
	struct pa_guid gpo;
	char *t1, *t2, *t3 = NULL;
	size_t n;

	(void)state;
	t1 = export(s, NULL);
	/* The references travel as modifies, after the objects. */
	assert_non_null(strstr(t1, "changetype: modify"));
	assert_true(strstr(t1, "ipsecNFAReference") > strstr(t1,
	    "objectClass: ipsecFilter"));
	if (pol_ldif_read(t1, strlen(t1), &back, keep, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	assert_int_equal(back->npolicies, 1);
	assert_false(back->policies[0].assigned);
	assert_int_equal(back->policies[0].nrules, 2);
	assert_true(back->policies[0].rules[1].default_response);
	assert_true(back->policies[0].activate_default_rule);
	assert_int_equal(back->policies[0].rules[0].nauth, 2);
	assert_true(pa_secret_eq(back->policies[0].rules[0].auth[0].psk,
	    s->policies[0].rules[0].auth[0].psk));
	assert_int_equal(back->nfilteractions, 2);
	/* Export of the import: the same text, with or without the keep. */
	back->policies[0].assigned = true;
	t2 = export(back, NULL);
	assert_string_equal(t1, t2);
	free(t2);
	t2 = export(back, keep);
	assert_string_equal(t1, t2);
	free(t2);
	/* With a GPO assignment and a link. */
	assert_int_equal(pa_guid_generate(&gpo), 0);
	memset(&o, 0, sizeof(o));
	o.base = BASE;
	o.gpo = &gpo;
	o.link_dn = "OU=Servers," BASE;
	assert_int_equal(pol_ldif_write(s, NULL, NULL, &o, &t3, &n, &err), 0);
	assert_non_null(strstr(t3, "CN=IPSEC,CN=Windows,CN=Microsoft,"
	    "CN=Machine,CN={"));
	assert_non_null(strstr(t3, "replace: gPLink"));
	assert_non_null(strstr(t3, "{E437BC1C-AA7D-11D2-A382-00C04F991E27}"));
	pol_store_free(back);
	/* The GPO objects are ignored on import; the policy is the same. */
	assert_int_equal(pol_ldif_read(t3, n, &back, NULL, &err), 0);
	assert_int_equal(back->npolicies, 1);
	free(t3);
	pol_store_free(back);
	free(t1);
	pol_gp_keep_free(keep);
	pol_store_free(s);
}

/* Replace the first occurrence of a line prefix in LDIF text. */
static char *
edit(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	char *r;
	size_t n;

	assert_non_null(p);
	n = strlen(text) - strlen(from) + strlen(to) + 1;
	assert_non_null(r = malloc(n));
	snprintf(r, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	return r;
}

static void
expect_reject(const char *text, const char *where, const char *what)
{
	struct pol_store *back = NULL;
	struct pol_err err;

	assert_int_not_equal(pol_ldif_read(text, strlen(text), &back, NULL,
	    &err), 0);
	assert_null(back);
	if (strstr(err.where, where) == NULL || strstr(err.what, what) == NULL)
		fail_msg("rejected as %s: %s (expected %s: %s)", err.where,
		    err.what, where, what);
}

static void
test_broken_graphs(void **state)
{
	struct pol_store *s = make_store();
	char *t = export(s, NULL), *b;

	(void)state;
	/* Unknown ipsecDataType, on the first object (the policy). */
	b = edit(t, "ipsecDataType: 256", "ipsecDataType: 257");
	expect_reject(b, "ipsecPolicy{", "ipsecDataType 257");
	free(b);
	/* A dangling reference names the referring object. */
	b = edit(t, "ipsecISAKMPReference: CN=ipsecISAKMPPolicy{",
	    "ipsecISAKMPReference: CN=ipsecISAKMPPolicy{0");
	expect_reject(b, "ipsecPolicy{", "missing object");
	free(b);
	/* A reference to an object of the wrong class. */
	b = edit(t, "ipsecNegotiationPolicyReference: CN=ipsecNegotiationPolicy",
	    "ipsecNegotiationPolicyReference: CN=ipsecFilter");
	expect_reject(b, "ipsecNFA{", "");
	free(b);
	/* A blob of another type. */
	b = edit(t, "ipsecData:: YyEgIkxP0RGGOwCgJI0wIQQAAABYAgAAAA==",
	    "ipsecData:: tSDcgMgu0RGongCgJI0wIQQAAABYAgAAAA==");
	expect_reject(b, "ipsecPolicy{", "ipsecFilter blob");
	free(b);
	free(t);
	pol_store_free(s);
}

/* The snapin_export wrappers: a private file, read back the same. */
static void
test_export_files(void **state)
{
	struct pol_store *s = make_store(), *back = NULL;
	struct exp_ldif_opts o;
	struct pol_err err;
	struct stat sb;
	char dir[] = "/tmp/dir-exp.XXXXXX", path[64];
	char *t1, *t2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.ldif", dir);
	memset(&o, 0, sizeof(o));
	o.base = BASE;
	o.gpo = "{11111111-2222-4333-8444-555555555555}";
	o.policy = "no such";
	assert_int_equal(exp_ldif_export(s, &o, path, &err), PA_E_NOENT);
	o.policy = "Export test";
	if (exp_ldif_export(s, &o, path, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	if (exp_ldif_import(path, &back, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	back->policies[0].assigned = true;
	t1 = export(s, NULL);
	t2 = export(back, NULL);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	pol_store_free(back);
	unlink(path);
	rmdir(dir);
	pol_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gplink_parse),
		cmocka_unit_test(test_gpo_precedence),
		cmocka_unit_test(test_ldap_time),
		cmocka_unit_test(test_ldif_round_trip),
		cmocka_unit_test(test_broken_graphs),
		cmocka_unit_test(test_export_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
