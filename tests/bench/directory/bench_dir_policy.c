/*
 * Benchmark of the directory policy source: a policy of N filters (N/200
 * rules of 200 filters each) in slapd, fetched by a GSSAPI-bound
 * pol_dir_poll() (bind, GPO lookup, graph, blobs, decode, cache write)
 * and compiled with pol_spd_compile(). Driven by bench.sh.
 *
 *   bench_dir_policy gen N FILE     write the policy as LDIF (with a GPO)
 *   bench_dir_policy fetch          time fetch + parse + compile; print
 *                                   milliseconds and peak RSS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "dir_source.h"
#include "from_ldap.h"
#include "model.h"
#include "pa_time.h"
#include "spd.h"

#define BASE	"dc=example,dc=test"
#define PER	200

static int
gen(long n, const char *path)
{
	struct pol_store *s = pol_store_new();
	struct pol_policy *p;
	struct pol_filteraction *fa;
	struct pol_qm_offer *o;
	struct pol_mm_method *m;
	struct pol_ldif_opts lo;
	struct pa_guid gpo, fa_id;
	struct pol_err err;
	char *text = NULL, name[64];
	size_t len;
	long i, k, nl = (n + PER - 1) / PER;
	FILE *f;

	if (s == NULL)
		return 1;
	fa = pol_store_add_filteraction(s);
	if (fa == NULL || pa_guid_generate(&fa->id) != 0)
		return 1;
	fa->name = strdup("Require ESP");
	fa->action = POL_ACT_NEGOTIATE;
	o = pol_filteraction_add_offer(fa);
	o->esp = true;
	o->esp_cipher = POL_ESP_3DES;
	o->esp_integ = POL_INTEG_SHA1;
	o->life_sec = 3600;
	o->life_kb = 100000;
	fa_id = fa->id;
	for (k = 0; k < nl; k++) {
		struct pol_filterlist *fl = pol_store_add_filterlist(s);

		if (fl == NULL || pa_guid_generate(&fl->id) != 0)
			return 1;
		snprintf(name, sizeof(name), "list %ld", k);
		fl->name = strdup(name);
		for (i = 0; i < PER && k * PER + i < n; i++) {
			struct pol_filter *flt = pol_filterlist_add_filter(fl);
			long x = k * PER + i;

			if (flt == NULL || pa_guid_generate(&flt->id) != 0)
				return 1;
			flt->src.kind = POL_ADDR_ME;
			flt->dst.kind = POL_ADDR_HOST;
			flt->dst.prefix.addr.family = AF_INET;
			flt->dst.prefix.addr.a[0] = 10;
			flt->dst.prefix.addr.a[1] = (uint8_t)(x >> 16);
			flt->dst.prefix.addr.a[2] = (uint8_t)(x >> 8);
			flt->dst.prefix.addr.a[3] = (uint8_t)x;
			flt->dst.prefix.len = 32;
			flt->proto = 6;
			flt->dport = (uint16_t)(1000 + x % 50000);
			flt->mirrored = true;
		}
	}
	p = pol_store_add_policy(s);
	if (p == NULL || pa_guid_generate(&p->id) != 0 ||
	    pa_guid_generate(&p->isakmp.id) != 0)
		return 1;
	p->name = strdup("Bench policy");
	p->poll_sec = POL_DEFAULT_POLL_SEC;
	p->isakmp.mm_life_sec = 28800;
	m = pol_isakmp_add_method(&p->isakmp);
	m->cipher = POL_MM_3DES;
	m->hash = POL_INTEG_SHA1;
	m->dh_group = 2;
	m->life_sec = 28800;
	for (k = 0; k < nl; k++) {
		struct pol_rule *r = pol_policy_add_rule(p);
		struct pol_auth *a;

		if (r == NULL || pa_guid_generate(&r->id) != 0)
			return 1;
		snprintf(name, sizeof(name), "rule %ld", k);
		r->name = strdup(name);
		r->filterlist_id = s->filterlists[k].id;
		r->filteraction_id = fa_id;
		r->active = true;
		a = pol_rule_add_auth(r);
		a->kind = POL_AUTH_KERBEROS;
	}
	if (pol_store_resolve(s, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		return 1;
	}
	if (pa_guid_parse("{BE0C0000-0000-4000-8000-0000000000BE}", &gpo) != 0)
		return 1;
	memset(&lo, 0, sizeof(lo));
	lo.base = BASE;
	lo.gpo = &gpo;
	lo.link_dn = BASE;
	if (pol_ldif_write(s, p, NULL, &lo, &text, &len, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		return 1;
	}
	if ((f = fopen(path, "w")) == NULL || fwrite(text, 1, len, f) != len ||
	    fclose(f) != 0)
		return 1;
	free(text);
	pol_store_free(s);
	return 0;
}

static int
fetch(void)
{
	const char *uris[1];
	struct pol_dir_cfg cfg;
	struct pol_dir_source *d = NULL;
	struct pol_dir_status st;
	struct pol_store *s = NULL;
	struct pol_spd *spd = NULL;
	struct pol_err err;
	struct pa_addr me;
	struct rusage ru;
	uint64_t t0, t1, t2;
	size_t nf = 0, i;
	char cache[512];

	uris[0] = getenv("LDAP_URI");
	snprintf(cache, sizeof(cache), "%s/cache", getenv("STATE_DIR"));
	memset(&cfg, 0, sizeof(cfg));
	cfg.uris = uris;
	cfg.nuris = 1;
	cfg.bind = POL_DIR_BIND_GSSAPI;
	cfg.keytab = getenv("HOST_KEYTAB");
	cfg.base = BASE;
	cfg.sam_account = "HOSTA$";
	cfg.cache_path = cache;
	cfg.timeout_ms = 30000;
	if (uris[0] == NULL || cfg.keytab == NULL ||
	    pol_dir_new(&cfg, &d) != 0 || pa_addr_parse("192.168.50.1",
	    &me) != 0)
		return 1;
	t0 = pa_now_ms();
	if (pol_dir_poll(d, &s, &st) != 0 || st.outcome != POL_DIR_APPLIED) {
		fprintf(stderr, "poll: %s: %s: %s\n",
		    pol_dir_outcome_name(st.outcome), st.err.where,
		    st.err.what);
		return 1;
	}
	t1 = pa_now_ms();
	if (pol_spd_compile(&s->policies[0], &me, 1, &spd, &err) != 0) {
		fprintf(stderr, "compile: %s: %s\n", err.where, err.what);
		return 1;
	}
	t2 = pa_now_ms();
	for (i = 0; i < s->nfilterlists; i++)
		nf += s->filterlists[i].nfilters;
	getrusage(RUSAGE_SELF, &ru);
	printf("filters %zu rules %zu spd_entries %zu fetch+parse_ms %llu "
	    "compile_ms %llu total_ms %llu peak_rss_mb %.1f\n", nf,
	    s->policies[0].nrules, pol_spd_count(spd),
	    (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
	    (unsigned long long)(t2 - t0), ru.ru_maxrss / 1024.0);
	pol_spd_free(spd);
	pol_store_free(s);
	pol_dir_free(d);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(atol(argv[2]), argv[3]);
	if (argc == 2 && strcmp(argv[1], "fetch") == 0)
		return fetch();
	fprintf(stderr, "usage: %s gen N FILE | fetch\n", argv[0]);
	return 2;
}
