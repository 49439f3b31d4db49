/*
 * The directory policy source end to end, driven by
 * tests/integration/directory/policy.sh (real slapd + MIT KDC, GSSAPI bind
 * as host/hosta from its keytab). Steps, in order, on one directory:
 *  - two policies exported with pol_ldif_write() (with their GPOs) and
 *    loaded with ldapmodify; GPO links on the domain and on the OUs
 *  - first poll applies the OU's policy; the next one sees no change
 *  - the fetched policy equals the exported one (LDIF and compiled SPD)
 *  - a filter edited in the directory shows on the next poll
 *  - an enforced domain link wins; back again
 *  - a corrupt blob is rejected with its DN, the old policy stays, and
 *    is not reported twice; repaired, it applies
 *  - unassigned: the domain policy goes and the cache is deleted
 *  - slapd stopped: unreachable with backoff, the policy in force stays
 *  - "restart": a new source applies the cache; a tampered cache is not
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "dir_source.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"
#include "spd.h"

#define BASE	"dc=example,dc=test"
#define GPO_DOM	"{D0D0D0D0-0000-4000-8000-00000000000D}"
#define GPO_SRV	"{5E5E5E5E-0000-4000-8000-000000000005}"
#define GPO_C	"{C0C0C0C0-0000-4000-8000-00000000000C}"

static char	cache_path[512];
static struct pa_guid	fl_srv_id;
static char	fl_srv_dn[256];

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("environment %s not set (run through policy.sh)", name);
	return v;
}

/* Apply LDIF text to the directory as the admin. */
static void
ldap_apply(const char *ldif)
{
	char path[512], cmd[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/change.ldif", env("STATE_DIR"));
	assert_non_null(f = fopen(path, "w"));
	fputs(ldif, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' load '%s' '%s'", env("SLAPD_SH"),
	    env("SLAPD_DIR"), path);
	assert_int_equal(system(cmd), 0);
}

static void
set_gplink(const char *dn, const char *links)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "dn: %s\nchangetype: modify\nreplace: "
	    "gPLink\ngPLink: %s\n-\n", dn, links);
	ldap_apply(buf);
}

/* One policy: Me <-> dst TCP/443, ESP 3DES/SHA1, Kerberos. */
static void
make_policy(struct pol_store *s, const char *name, const char *dst,
    struct pa_guid *flid)
{
	struct pol_policy *p;
	struct pol_filterlist *fl;
	struct pol_filter *f;
	struct pol_filteraction *fa;
	struct pol_qm_offer *o;
	struct pol_mm_method *m;
	struct pol_rule *r;
	struct pol_auth *a;
	char buf[128];

	assert_non_null(fl = pol_store_add_filterlist(s));
	assert_int_equal(pa_guid_generate(&fl->id), 0);
	*flid = fl->id;
	snprintf(buf, sizeof(buf), "%s filters", name);
	fl->name = strdup(buf);
	assert_non_null(f = pol_filterlist_add_filter(fl));
	assert_int_equal(pa_guid_generate(&f->id), 0);
	f->src.kind = POL_ADDR_ME;
	f->dst.kind = POL_ADDR_SUBNET;
	assert_int_equal(pa_prefix_parse(dst, &f->dst.prefix), 0);
	f->proto = 6;
	f->dport = 443;
	f->mirrored = true;
	f->description = strdup("web");

	assert_non_null(fa = pol_store_add_filteraction(s));
	assert_int_equal(pa_guid_generate(&fa->id), 0);
	snprintf(buf, sizeof(buf), "%s action", name);
	fa->name = strdup(buf);
	fa->action = POL_ACT_NEGOTIATE;
	assert_non_null(o = pol_filteraction_add_offer(fa));
	o->esp = true;
	o->esp_cipher = POL_ESP_3DES;
	o->esp_integ = POL_INTEG_SHA1;
	o->life_sec = 3600;
	o->life_kb = 100000;

	assert_non_null(p = pol_store_add_policy(s));
	assert_int_equal(pa_guid_generate(&p->id), 0);
	assert_int_equal(pa_guid_generate(&p->isakmp.id), 0);
	p->name = strdup(name);
	p->description = strdup("written by test_ldap_policy");
	p->poll_sec = 5;
	p->isakmp.mm_life_sec = 28800;
	assert_non_null(m = pol_isakmp_add_method(&p->isakmp));
	m->cipher = POL_MM_3DES;
	m->hash = POL_INTEG_SHA1;
	m->dh_group = 2;
	m->life_sec = 28800;
	assert_non_null(r = pol_policy_add_rule(p));
	assert_int_equal(pa_guid_generate(&r->id), 0);
	snprintf(buf, sizeof(buf), "%s rule", name);
	r->name = strdup(buf);
	r->filterlist_id = fl->id;
	r->filteraction_id = fa->id;
	r->active = true;
	assert_non_null(a = pol_rule_add_auth(r));
	a->kind = POL_AUTH_KERBEROS;
}

static void
export_policy(struct pol_store *s, size_t i, const char *gpo,
    const char *gponame)
{
	struct pol_ldif_opts o;
	struct pa_guid g;
	struct pol_err err;
	char *text = NULL;
	size_t len;

	assert_int_equal(pa_guid_parse(gpo, &g), 0);
	memset(&o, 0, sizeof(o));
	o.base = BASE;
	o.gpo = &g;
	o.gpo_name = gponame;
	if (pol_ldif_write(s, &s->policies[i], NULL, &o, &text, &len,
	    &err) != 0)
		fail_msg("export: %s: %s", err.where, err.what);
	ldap_apply(text);
	free(text);
}

static struct pol_dir_source *
new_source(void)
{
	static const char *uris[2];
	struct pol_dir_cfg cfg;
	struct pol_dir_source *d = NULL;

	uris[0] = "ldap://127.0.0.1:1";		/* down: failover */
	uris[1] = env("LDAP_URI");
	memset(&cfg, 0, sizeof(cfg));
	cfg.uris = uris;
	cfg.nuris = 2;
	cfg.bind = POL_DIR_BIND_GSSAPI;
	cfg.keytab = env("HOST_KEYTAB");
	cfg.principal = "host/hosta.example.test";
	cfg.timeout_ms = 3000;
	cfg.base = BASE;
	cfg.sam_account = "HOSTA$";
	cfg.cache_path = cache_path;
	cfg.min_poll_sec = 1;
	cfg.backoff_unit_sec = 1;
	assert_int_equal(pol_dir_new(&cfg, &d), 0);
	return d;
}

static enum pol_dir_outcome
poll_once(struct pol_dir_source *d, struct pol_store **st,
    struct pol_dir_status *s)
{
	*st = NULL;
	assert_int_equal(pol_dir_poll(d, st, s), 0);
	if (s->outcome == POL_DIR_UNREACHABLE || s->outcome == POL_DIR_REJECTED)
		print_message("  poll: %s: %s: %s\n",
		    pol_dir_outcome_name(s->outcome), s->err.where,
		    s->err.what);
	else
		print_message("  poll: %s %s\n", pol_dir_outcome_name(
		    s->outcome), s->policy_name);
	return s->outcome;
}

static void
expect_dst(const struct pol_store *st, const char *dst)
{
	char buf[PA_PREFIXSTRLEN];

	assert_int_equal(st->npolicies, 1);
	assert_true(st->policies[0].assigned);
	assert_int_equal(st->nfilterlists, 1);
	assert_string_equal(pa_prefix_str(&st->filterlists[0].filters[0].dst.
	    prefix, buf, sizeof(buf)), dst);
}

/* Same policy: same canonical LDIF, same compiled SPD. */
static void
expect_same(struct pol_store *a, struct pol_store *b)
{
	struct pol_ldif_opts o;
	struct pol_err err;
	struct pol_spd *sa = NULL, *sb = NULL;
	struct pa_addr me;
	char *ta = NULL, *tb = NULL;
	size_t la, lb, i;

	memset(&o, 0, sizeof(o));
	o.base = BASE;
	assert_int_equal(pol_ldif_write(a, &a->policies[0], NULL, &o, &ta, &la,
	    &err), 0);
	assert_int_equal(pol_ldif_write(b, &b->policies[0], NULL, &o, &tb, &lb,
	    &err), 0);
	assert_string_equal(ta, tb);
	free(ta);
	free(tb);
	assert_int_equal(pa_addr_parse("192.168.50.1", &me), 0);
	assert_int_equal(pol_spd_compile(&a->policies[0], &me, 1, &sa, &err),
	    0);
	assert_int_equal(pol_spd_compile(&b->policies[0], &me, 1, &sb, &err),
	    0);
	assert_true(pol_spd_count(sa) > 0);
	assert_int_equal(pol_spd_count(sa), pol_spd_count(sb));
	for (i = 0; i < pol_spd_count(sa); i++) {
		const struct pol_spd_entry *x = pol_spd_entry_at(sa, i);
		const struct pol_spd_entry *y = pol_spd_entry_at(sb, i);

		assert_int_equal(x->dir, y->dir);
		assert_true(pa_addr_eq(&x->src.addr, &y->src.addr));
		assert_int_equal(x->src.len, y->src.len);
		assert_true(pa_addr_eq(&x->dst.addr, &y->dst.addr));
		assert_int_equal(x->dst.len, y->dst.len);
		assert_int_equal(x->proto, y->proto);
		assert_int_equal(x->dport, y->dport);
		assert_int_equal(x->action, y->action);
		assert_int_equal(x->weight, y->weight);
	}
	pol_spd_free(sa);
	pol_spd_free(sb);
}

static void
replace_filter_blob(const uint8_t *blob, size_t len)
{
	char *b64, *ldif;
	size_t n;

	assert_non_null(b64 = malloc(4 * ((len + 2) / 3) + 1));
	EVP_EncodeBlock((unsigned char *)b64, blob, (int)len);
	n = strlen(b64) + strlen(fl_srv_dn) + 128;
	assert_non_null(ldif = malloc(n));
	snprintf(ldif, n, "dn: %s\nchangetype: modify\nreplace: ipsecData\n"
	    "ipsecData:: %s\n-\n", fl_srv_dn, b64);
	ldap_apply(ldif);
	free(ldif);
	free(b64);
}

static void
test_directory_policy(void **state)
{
	struct pol_store *orig, *st = NULL, *good = NULL;
	struct pol_dir_source *d, *d2;
	struct pol_dir_status s;
	struct pol_err err;
	struct pa_guid fl_dom_id;
	struct stat sb;
	uint8_t *blob;
	size_t len;
	char gdn[256], cmd[1024];
	FILE *f;

	(void)state;
	snprintf(cache_path, sizeof(cache_path), "%s/domain-policy.cache",
	    env("STATE_DIR"));
	snprintf(gdn, sizeof(gdn), "[LDAP://cn=%s,cn=Policies,cn=System,"
	    BASE ";1][LDAP://cn=%s,cn=Policies,cn=System," BASE ";0]",
	    GPO_DOM, GPO_C);

	/* Two policies, two GPOs; links on the domain and both OUs. */
	assert_non_null(orig = pol_store_new());
	make_policy(orig, "Domain-wide Policy", "10.9.9.0/24", &fl_dom_id);
	make_policy(orig, "Web Servers Policy", "10.1.2.0/24", &fl_srv_id);
	if (pol_store_resolve(orig, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	export_policy(orig, 0, GPO_DOM, "Domain IPsec");
	export_policy(orig, 1, GPO_SRV, "Servers IPsec");
	{
		char g[PA_GUIDSTRLEN];

		snprintf(fl_srv_dn, sizeof(fl_srv_dn), "CN=ipsecFilter%s,CN=IP "
		    "Security,CN=System," BASE, pa_guid_str(&fl_srv_id, g));
	}
	set_gplink(BASE, "[LDAP://cn=" GPO_DOM ",cn=Policies,cn=System,"
	    BASE ";0]");
	set_gplink("ou=Servers," BASE, "[LDAP://cn=" GPO_SRV
	    ",cn=Policies,cn=System," BASE ";0]");
	/* ou=Web: the domain GPO linked but disabled, and a GPO without
	 * IPsec settings: neither changes the outcome. */
	set_gplink("ou=Web,ou=Servers," BASE, gdn);

	d = new_source();
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_APPLIED);
	assert_non_null(st);
	assert_string_equal(s.policy_name, "Web Servers Policy");
	assert_non_null(strstr(s.gpo_dn, "5E5E5E5E"));
	assert_string_equal(s.uri, env("LDAP_URI"));
	assert_true(s.in_force && !s.from_cache);
	assert_int_equal(s.next_poll_sec, 5);
	assert_true(s.fetched > 0 && s.changed > 0);
	expect_dst(st, "10.1.2.0/24");
	{
		/* What came back is what was exported (orig holds both
		 * policies: compare against a store of the one). */
		struct pol_store *one = pol_store_dup(orig);

		assert_non_null(one);
		pol_store_remove_policy(one, 0);
		pol_store_remove_filterlist(one, 0);
		pol_store_remove_filteraction(one, 0);
		assert_int_equal(pol_store_resolve(one, &err), 0);
		expect_same(one, st);
		pol_store_free(one);
	}
	/* The cache is private. */
	assert_int_equal(stat(cache_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	pol_store_free(st);

	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNCHANGED);
	assert_null(st);
	assert_string_equal(s.policy_name, "Web Servers Policy");

	/* Edit the filter in the directory. */
	orig->filterlists[1].filters[0].dst.prefix.addr.a[2] = 3;
	assert_int_equal(pol_gp_encode_filter(&orig->filterlists[1], NULL,
	    &blob, &len, &err), 0);
	replace_filter_blob(blob, len);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_APPLIED);
	expect_dst(st, "10.1.3.0/24");
	good = st;

	/* An enforced domain link beats the OU's GPO. */
	set_gplink(BASE, "[LDAP://cn=" GPO_DOM ",cn=Policies,cn=System,"
	    BASE ";2]");
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_APPLIED);
	assert_string_equal(s.policy_name, "Domain-wide Policy");
	expect_dst(st, "10.9.9.0/24");
	pol_store_free(st);
	set_gplink(BASE, "[LDAP://cn=" GPO_DOM ",cn=Policies,cn=System,"
	    BASE ";0]");
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_APPLIED);
	expect_dst(st, "10.1.3.0/24");
	pol_store_free(st);

	/* A truncated blob: rejected with the DN, the policy stays. */
	replace_filter_blob(blob, 40);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_REJECTED);
	assert_null(st);
	assert_non_null(strcasestr(s.err.where, "ipsecFilter"));
	assert_true(s.err.what[0] != '\0');
	assert_true(s.in_force);
	assert_string_equal(s.policy_name, "Web Servers Policy");
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNCHANGED);
	/* Starting now, the cached last good policy applies instead. */
	d2 = new_source();
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_FROM_CACHE);
	assert_non_null(st);
	assert_non_null(strcasestr(s.err.where, "ipsecFilter"));
	expect_dst(st, "10.1.3.0/24");
	pol_store_free(st);
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_UNCHANGED);
	assert_true(s.in_force && s.from_cache);
	pol_dir_free(d2);
	replace_filter_blob(blob, len);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_APPLIED);
	expect_dst(st, "10.1.3.0/24");
	pol_store_free(st);

	/* Unassigned: no GPO carries IPsec; the cache goes too. */
	set_gplink(BASE, "[LDAP://cn=" GPO_C ",cn=Policies,cn=System," BASE
	    ";0]");
	set_gplink("ou=Servers," BASE, "[LDAP://cn=" GPO_C
	    ",cn=Policies,cn=System," BASE ";0]");
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNASSIGNED);
	assert_false(s.in_force);
	assert_int_not_equal(access(cache_path, F_OK), 0);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNCHANGED);
	set_gplink("ou=Servers," BASE, "[LDAP://cn=" GPO_SRV
	    ",cn=Policies,cn=System," BASE ";0]");
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_APPLIED);
	expect_dst(st, "10.1.3.0/24");
	pol_store_free(st);

	/* The directory goes away: kept, with backoff 1, 4, 25 units. */
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s'", env("SLAPD_SH"),
	    env("SLAPD_DIR"));
	assert_int_equal(system(cmd), 0);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNREACHABLE);
	assert_null(st);
	assert_true(s.in_force);
	assert_non_null(strstr(s.err.what, env("LDAP_URI")));
	assert_int_equal(s.next_poll_sec, 1);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNREACHABLE);
	assert_int_equal(s.next_poll_sec, 4);
	assert_int_equal(poll_once(d, &st, &s), POL_DIR_UNREACHABLE);
	assert_int_equal(s.next_poll_sec, 25);
	pol_dir_free(d);

	/* "Restart": the cached policy applies, the same as fetched. */
	d2 = new_source();
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_FROM_CACHE);
	assert_non_null(st);
	assert_true(s.from_cache);
	assert_string_equal(s.policy_name, "Web Servers Policy");
	expect_same(good, st);
	pol_store_free(st);
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_UNREACHABLE);
	assert_true(s.in_force && s.from_cache);
	pol_dir_free(d2);

	/* A cache others may read is refused; private again, it applies. */
	assert_int_equal(chmod(cache_path, 0644), 0);
	d2 = new_source();
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_UNREACHABLE);
	assert_null(st);
	assert_false(s.in_force);
	pol_dir_free(d2);
	assert_int_equal(chmod(cache_path, 0600), 0);
	d2 = new_source();
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_FROM_CACHE);
	pol_store_free(st);
	pol_dir_free(d2);

	/* A cache changed behind our back is refused. */
	assert_non_null(f = fopen(cache_path, "r+"));
	assert_int_equal(fseek(f, -20, SEEK_END), 0);
	fputc('#', f);
	fclose(f);
	d2 = new_source();
	assert_int_equal(poll_once(d2, &st, &s), POL_DIR_UNREACHABLE);
	assert_null(st);
	assert_false(s.in_force);
	pol_dir_free(d2);

	free(blob);
	pol_store_free(good);
	pol_store_free(orig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
