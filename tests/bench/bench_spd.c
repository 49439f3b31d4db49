/*
 * SPD benchmark: compile time for 1k/10k/100k filters and lookups per
 * second. Each filter is "me -> a random 10.x host or subnet", mirrored,
 * with a random protocol and ports, in its own rule (so every filter
 * carries a rule and an action). Prints one line per size.
 *
 * bench_spd [--quick]   (quick: 1k and 10k only, fewer lookups)
 * PA_BENCH_STRICT=1 makes a 10k compile above 100 ms an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "spd.h"

static uint32_t seed = 0x9e3779b9;

static uint32_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct pol_store *
make_store(size_t n)
{
	static const uint8_t lens[] = { 16, 24, 28, 32, 32, 32 };
	static const uint8_t protos[] = { 0, 1, 6, 6, 17 };
	struct pol_store *s = pol_store_new();
	struct pol_filteraction *fa;
	struct pol_filterlist *fl;
	struct pol_policy *p;
	struct pol_err err;
	size_t i;

	for (i = 0; i < 3; i++) {
		/* Adding moves the array: keep no pointer across adds. */
		fa = pol_store_add_filteraction(s);
		if (pol_filteraction_init(fa, i == 0 ? "permit" :
		    i == 1 ? "block" : "neg") != 0)
			abort();
		fa->action = (enum pol_action)(i + 1);
	}
	{
		struct pol_qm_offer *o =
		    pol_filteraction_add_offer(&s->filteractions[2]);

		o->esp = true;
		o->esp_cipher = POL_ESP_AES128;
		o->esp_integ = POL_INTEG_SHA1;
		o->life_sec = 3600;
	}
	/* One filter list per rule, like administrators build them. */
	for (i = 0; i < n; i++) {
		struct pol_filter *f;
		uint8_t len = lens[rnd() % 6];
		uint32_t a = (10U << 24) | (rnd() & 0x00ffffffU);

		fl = pol_store_add_filterlist(s);
		if (pol_filterlist_init(fl, NULL) != 0 ||
		    (f = pol_filterlist_add_filter(fl)) == NULL ||
		    pol_filter_init(f) != 0)
			abort();
		f->dst.kind = len == 32 ? POL_ADDR_HOST : POL_ADDR_SUBNET;
		f->dst.prefix.addr.family = AF_INET;
		f->dst.prefix.len = len;
		a &= len == 32 ? 0xffffffffU : ~(0xffffffffU >> len);
		f->dst.prefix.addr.a[0] = (uint8_t)(a >> 24);
		f->dst.prefix.addr.a[1] = (uint8_t)(a >> 16);
		f->dst.prefix.addr.a[2] = (uint8_t)(a >> 8);
		f->dst.prefix.addr.a[3] = (uint8_t)a;
		f->proto = protos[rnd() % 5];
		if (pol_proto_has_ports(f->proto) && rnd() % 2)
			f->dport = (uint16_t)(1 + rnd() % 1024);
	}
	p = pol_store_add_policy(s);
	if (pol_policy_init(p, "bench") != 0)
		abort();
	for (i = 0; i < n; i++) {
		struct pol_rule *r = pol_policy_add_rule(p);
		struct pol_auth *au;

		if (r == NULL || pol_rule_init(r, NULL) != 0)
			abort();
		r->filterlist_id = s->filterlists[i].id;
		r->filteraction_id = s->filteractions[rnd() % 3].id;
		au = pol_rule_add_auth(r);
		au->kind = POL_AUTH_KERBEROS;
	}
	if (pol_store_resolve(s, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		abort();
	}
	return s;
}

static int
run(size_t n, size_t lookups, int strict)
{
	struct pol_store *s = make_store(n);
	struct pol_spd *spd = NULL;
	struct pa_addr my[2];
	struct pol_err err;
	struct pol_pkt *pk;
	double t0, tc, tl;
	size_t i, hits = 0;
	int rc = 0;

	memset(my, 0, sizeof(my));
	my[0].family = my[1].family = AF_INET;
	my[0].a[0] = 192; my[0].a[1] = 168; my[0].a[3] = 1;
	my[1].a[0] = 10; my[1].a[3] = 1;
	t0 = now();
	if (pol_spd_compile(&s->policies[0], my, 2, &spd, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		return 1;
	}
	tc = now() - t0;
	if ((pk = calloc(lookups, sizeof(*pk))) == NULL)
		abort();
	for (i = 0; i < lookups; i++) {
		pk[i].dir = rnd() % 2 ? POL_DIR_OUT : POL_DIR_IN;
		pk[i].src.family = pk[i].dst.family = AF_INET;
		pk[i].src.a[0] = 192; pk[i].src.a[1] = 168; pk[i].src.a[3] = 1;
		pk[i].dst.a[0] = 10;
		pk[i].dst.a[1] = (uint8_t)rnd();
		pk[i].dst.a[2] = (uint8_t)rnd();
		pk[i].dst.a[3] = (uint8_t)rnd();
		if (pk[i].dir == POL_DIR_IN) {
			struct pa_addr t = pk[i].src;

			pk[i].src = pk[i].dst;
			pk[i].dst = t;
		}
		pk[i].proto = rnd() % 2 ? 6 : 17;
		pk[i].sport = (uint16_t)(1024 + rnd() % 60000);
		pk[i].dport = (uint16_t)(1 + rnd() % 1024);
	}
	t0 = now();
	for (i = 0; i < lookups; i++)
		hits += pol_spd_match(spd, &pk[i]) != NULL;
	tl = now() - t0;
	printf("filters %7zu  entries %7zu  compile %8.2f ms  lookups %9.0f/s"
	    "  (%.0f ns each, %zu/%zu matched)\n", n, pol_spd_count(spd),
	    tc * 1e3, (double)lookups / tl, tl / (double)lookups * 1e9, hits,
	    lookups);
	if (strict && n == 10000 && tc > 0.100) {
		fprintf(stderr, "10k filters compiled in %.1f ms (> 100 ms)\n",
		    tc * 1e3);
		rc = 1;
	}
	free(pk);
	pol_spd_free(spd);
	pol_store_free(s);
	return rc;
}

int
main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	const char *st = getenv("PA_BENCH_STRICT");
	int strict = st != NULL && strcmp(st, "1") == 0, rc = 0;

	rc |= run(1000, quick ? 100000 : 1000000, strict);
	rc |= run(10000, quick ? 100000 : 1000000, strict);
	if (!quick)
		rc |= run(100000, 1000000, strict);
	return rc;
}
