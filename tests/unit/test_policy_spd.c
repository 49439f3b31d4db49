/*
 * Unit tests of the SPD compiler and matcher: expansion (mirrored, "my
 * IP address", DNS, any), the weight order (table driven), and the
 * indexed matcher cross-checked against a linear reference on random
 * policies and packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "spd.h"

/* ---- a small policy builder ---- */

struct tb {
	struct pol_store	*s;
	struct pol_policy	*p;
};

static void
tb_init(struct tb *t)
{
	struct pol_filteraction *fa;
	const char *names[3] = { "permit", "block", "negotiate" };
	size_t i;

	t->s = pol_store_new();
	assert_non_null(t->s);
	for (i = 0; i < 3; i++) {
		fa = pol_store_add_filteraction(t->s);
		assert_int_equal(pol_filteraction_init(fa, names[i]), 0);
		fa->action = (enum pol_action)(i + 1);
		if (fa->action == POL_ACT_NEGOTIATE) {
			struct pol_qm_offer *o = pol_filteraction_add_offer(fa);

			o->esp = true;
			o->esp_cipher = POL_ESP_3DES;
			o->esp_integ = POL_INTEG_SHA1;
			o->life_sec = 3600;
		}
	}
	t->p = pol_store_add_policy(t->s);
	assert_int_equal(pol_policy_init(t->p, "P"), 0);
	t->p->assigned = true;
}

static void
endpoint(struct pol_endpoint *e, const char *spec)
{
	memset(e, 0, sizeof(*e));
	if (strcmp(spec, "any") == 0)
		e->kind = POL_ADDR_ANY;
	else if (strcmp(spec, "me") == 0)
		e->kind = POL_ADDR_ME;
	else if (strncmp(spec, "dns:", 4) == 0) {
		e->kind = POL_ADDR_DNS;
		e->dns = strdup(spec + 4);
	} else {
		assert_int_equal(pa_prefix_parse(spec, &e->prefix), 0);
		e->kind = e->prefix.len == pa_addr_bits(e->prefix.addr.family) ?
		    POL_ADDR_HOST : POL_ADDR_SUBNET;
	}
}

/* A rule with one filter list of one filter; returns the filter. */
static struct pol_filter *
tb_rule(struct tb *t, const char *name, const char *src, const char *dst,
    uint8_t proto, uint16_t sport, uint16_t dport, bool mirrored,
    enum pol_action act)
{
	struct pol_filterlist *fl;
	struct pol_filter *f;
	struct pol_rule *r;
	struct pol_auth *a;

	fl = pol_store_add_filterlist(t->s);
	assert_int_equal(pol_filterlist_init(fl, name), 0);
	f = pol_filterlist_add_filter(fl);
	assert_int_equal(pol_filter_init(f), 0);
	endpoint(&f->src, src);
	endpoint(&f->dst, dst);
	f->proto = proto;
	f->sport = sport;
	f->dport = dport;
	f->mirrored = mirrored;
	r = pol_policy_add_rule(t->p);
	assert_int_equal(pol_rule_init(r, name), 0);
	r->filterlist_id = fl->id;
	r->filteraction_id = t->s->filteractions[act - 1].id;
	a = pol_rule_add_auth(r);
	a->kind = POL_AUTH_KERBEROS;
	return &fl->filters[fl->nfilters - 1];
}

static struct pol_spd *
tb_compile(struct tb *t, const char **my, size_t nmy)
{
	struct pa_addr a[8];
	struct pol_spd *spd = NULL;
	struct pol_err err;
	size_t i;

	for (i = 0; i < nmy; i++)
		assert_int_equal(pa_addr_parse(my[i], &a[i]), 0);
	if (pol_store_resolve(t->s, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	if (pol_spd_compile(t->p, a, nmy, &spd, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	return spd;
}

static void
pkt(struct pol_pkt *k, enum pol_dir dir, const char *src, const char *dst,
    uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->dir = dir;
	assert_int_equal(pa_addr_parse(src, &k->src), 0);
	assert_int_equal(pa_addr_parse(dst, &k->dst), 0);
	k->proto = proto;
	k->sport = sport;
	k->dport = dport;
}

/* The reference: the first entry (lowest index) whose selectors match. */
static const struct pol_spd_entry *
linear_match(const struct pol_spd *spd, const struct pol_pkt *k)
{
	size_t i;

	for (i = 0; i < pol_spd_count(spd); i++) {
		const struct pol_spd_entry *e = pol_spd_entry_at(spd, i);
		bool ports = pol_proto_has_ports(k->proto);

		if (e->dir != k->dir || e->src.addr.family != k->src.family ||
		    !pa_prefix_contains(&e->src, &k->src) ||
		    !pa_prefix_contains(&e->dst, &k->dst) ||
		    (e->proto != 0 && e->proto != k->proto) ||
		    (e->sport != 0 && (!ports || e->sport != k->sport)) ||
		    (e->dport != 0 && (!ports || e->dport != k->dport)))
			continue;
		return e;
	}
	return NULL;
}

static const char *
winner(const struct pol_spd *spd, enum pol_dir dir, const char *src,
    const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	const struct pol_spd_entry *e, *ref;
	struct pol_pkt k;

	pkt(&k, dir, src, dst, proto, sport, dport);
	e = pol_spd_match(spd, &k);
	ref = linear_match(spd, &k);
	assert_ptr_equal(e, ref);
	return e == NULL ? "(none)" : e->rule->name;
}

/* A packet and the rule that must win for it ("(none)": no entry). */
struct probe {
	const char	*name;
	enum pol_dir	 dir;
	const char	*src;
	const char	*dst;
	uint8_t		 proto;
	uint16_t	 sport;
	uint16_t	 dport;
	const char	*expect;
};

#define NPROBES(a)	(sizeof(a) / sizeof((a)[0]))

static void
expect_winners(const struct pol_spd *spd, const struct probe *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct probe *c = &v[i];
		const char *w = winner(spd, c->dir, c->src, c->dst, c->proto,
		    c->sport, c->dport);

		if (strcmp(w, c->expect) != 0)
			fail_msg("case %s: got %s, expected %s", c->name, w,
			    c->expect);
	}
}

static void
tb_done(struct tb *t, struct pol_spd *spd)
{
	pol_spd_free(spd);
	pol_store_free(t->s);
}

/* ---- expansion ---- */

static void
test_mirror_and_me(void **state)
{
	const char *my[] = { "192.168.1.1", "fd00::1" };
	static const struct probe probes[] = {
		{ "out", POL_DIR_OUT, "192.168.1.1", "10.0.0.9", 6, 1000, 22,
		    "to10" },
		{ "mirror", POL_DIR_IN, "10.0.0.9", "192.168.1.1", 17, 53,
		    1000, "to10" },
		{ "not-me", POL_DIR_OUT, "192.168.1.2", "10.0.0.9", 6, 1000,
		    22, "(none)" },
		{ "wrong-dir", POL_DIR_IN, "192.168.1.1", "10.0.0.9", 6, 1000,
		    22, "(none)" },
	};
	struct pol_spd *spd;
	const struct pol_spd_entry *e;
	struct tb t;
	char b[PA_PREFIXSTRLEN];

	(void)state;
	tb_init(&t);
	tb_rule(&t, "to10", "me", "10.0.0.0/24", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	spd = tb_compile(&t, my, 2);
	/* The IPv6 "me" address cannot pair with an IPv4 subnet. */
	assert_int_equal(pol_spd_count(spd), 2);
	e = pol_spd_entry_at(spd, 0);
	assert_int_equal(e->dir, POL_DIR_OUT);
	assert_string_equal(pa_prefix_str(&e->src, b, sizeof(b)),
	    "192.168.1.1/32");
	assert_string_equal(pa_prefix_str(&e->dst, b, sizeof(b)),
	    "10.0.0.0/24");
	e = pol_spd_entry_at(spd, 1);
	assert_int_equal(e->dir, POL_DIR_IN);
	assert_string_equal(pa_prefix_str(&e->src, b, sizeof(b)),
	    "10.0.0.0/24");
	expect_winners(spd, probes, NPROBES(probes));
	tb_done(&t, spd);
}

/*
 * A tunnel rule between two networks, on a gateway (neither side is this
 * host): outbound to the destination behind the endpoint, inbound from
 * it, nothing for the inside's own traffic (it is forwarded in clear
 * towards the tunnel); mirrored or not. Without a tunnel the filter keeps
 * all four entries.
 */
static void
test_tunnel_gateway(void **state)
{
	const char *my[] = { "10.93.1.1", "10.82.0.1" };
	static const struct probe probes[] = {
		{ "out", POL_DIR_OUT, "10.93.1.2", "10.93.2.2", 6, 1000, 22,
		    "gw" },
		{ "in", POL_DIR_IN, "10.93.2.2", "10.93.1.2", 6, 22, 1000,
		    "gw" },
		{ "inside-in", POL_DIR_IN, "10.93.1.2", "10.93.2.2", 6, 1000,
		    22, "(none)" },
		{ "back-out", POL_DIR_OUT, "10.93.2.2", "10.93.1.2", 6, 22,
		    1000, "(none)" },
	};
	struct pol_spd *spd;
	const struct pol_spd_entry *e;
	struct tb t;
	int mirrored;

	(void)state;
	for (mirrored = 0; mirrored < 2; mirrored++) {
		tb_init(&t);
		tb_rule(&t, "gw", "10.93.1.0/24", "10.93.2.0/24", 0, 0, 0,
		    mirrored, POL_ACT_NEGOTIATE);
		assert_int_equal(pa_addr_parse("10.82.0.2",
		    &t.p->rules[t.p->nrules - 1].tunnel), 0);
		spd = tb_compile(&t, my, 2);
		assert_int_equal(pol_spd_count(spd), mirrored ? 2 : 1);
		e = pol_spd_entry_at(spd, 0);
		assert_int_equal(e->dir, POL_DIR_OUT);
		if (mirrored)
			expect_winners(spd, probes, NPROBES(probes));
		tb_done(&t, spd);
	}
	tb_init(&t);
	tb_rule(&t, "tr", "10.93.1.0/24", "10.93.2.0/24", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	spd = tb_compile(&t, my, 2);
	assert_int_equal(pol_spd_count(spd), 4);
	tb_done(&t, spd);
}

static void
test_any_both_families(void **state)
{
	const char *my[] = { "192.168.1.1", "fd00::1" };
	static const struct probe v6[] = {
		{ "out", POL_DIR_OUT, "fd00::1", "2001:db8::1", 58, 0, 0,
		    "all" },
		{ "in", POL_DIR_IN, "2001:db8::1", "fd00::1", 6, 1, 2, "all" },
	}, none[] = {
		{ "no-me", POL_DIR_OUT, "1.1.1.1", "2.2.2.2", 0, 0, 0,
		    "(none)" },
	};
	struct pol_spd *spd;
	struct tb t;

	(void)state;
	tb_init(&t);
	tb_rule(&t, "all", "me", "any", 0, 0, 0, true, POL_ACT_BLOCK);
	spd = tb_compile(&t, my, 2);
	/* two addresses x (out + mirrored in) */
	assert_int_equal(pol_spd_count(spd), 4);
	expect_winners(spd, v6, NPROBES(v6));
	tb_done(&t, spd);

	tb_init(&t);
	tb_rule(&t, "anyany", "any", "any", 0, 0, 0, false, POL_ACT_PERMIT);
	spd = tb_compile(&t, NULL, 0);
	/* v4 and v6, each in both directions (neither side is "me") */
	assert_int_equal(pol_spd_count(spd), 4);
	tb_done(&t, spd);

	/* "me" with no address yields nothing. */
	tb_init(&t);
	tb_rule(&t, "me", "me", "any", 0, 0, 0, true, POL_ACT_PERMIT);
	spd = tb_compile(&t, NULL, 0);
	assert_int_equal(pol_spd_count(spd), 0);
	assert_null(pol_spd_entry_at(spd, 0));
	expect_winners(spd, none, NPROBES(none));
	tb_done(&t, spd);
}

static void
test_mirror_swaps_ports(void **state)
{
	const char *my[] = { "192.168.1.1" };
	static const struct probe probes[] = {
		{ "reply", POL_DIR_IN, "8.8.8.8", "192.168.1.1", 6, 80, 40000,
		    "web" },
		{ "unswapped", POL_DIR_IN, "8.8.8.8", "192.168.1.1", 6, 40000,
		    80, "(none)" },
		{ "udp", POL_DIR_OUT, "192.168.1.1", "8.8.8.8", 17, 40000, 80,
		    "(none)" },
	};
	const struct pol_spd_entry *e;
	struct pol_spd *spd;
	struct tb t;

	(void)state;
	tb_init(&t);
	tb_rule(&t, "web", "me", "any", 6, 0, 80, true, POL_ACT_NEGOTIATE);
	spd = tb_compile(&t, my, 1);
	assert_int_equal(pol_spd_count(spd), 2);
	e = pol_spd_entry_at(spd, 0);
	assert_int_equal(e->dir, POL_DIR_OUT);
	assert_int_equal(e->dport, 80);
	e = pol_spd_entry_at(spd, 1);
	assert_int_equal(e->dir, POL_DIR_IN);
	assert_int_equal(e->sport, 80);
	assert_int_equal(e->dport, 0);
	expect_winners(spd, probes, NPROBES(probes));
	tb_done(&t, spd);
}

static void
test_dns_and_inactive(void **state)
{
	const char *my[] = { "192.168.1.1" };
	static const struct probe probes[] = {
		{ "resolved", POL_DIR_OUT, "192.168.1.1", "10.1.1.2", 6, 1, 2,
		    "dns" },
		{ "other", POL_DIR_OUT, "192.168.1.1", "10.1.1.3", 6, 1, 2,
		    "(none)" },
	};
	struct pol_filter *f;
	struct pol_spd *spd;
	struct tb t;

	(void)state;
	tb_init(&t);
	f = tb_rule(&t, "dns", "me", "dns:db.example", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	f->dst.resolved = calloc(2, sizeof(struct pa_addr));
	assert_int_equal(pa_addr_parse("10.1.1.1", &f->dst.resolved[0]), 0);
	assert_int_equal(pa_addr_parse("10.1.1.2", &f->dst.resolved[1]), 0);
	f->dst.nresolved = 2;
	tb_rule(&t, "off", "me", "any", 0, 0, 0, true, POL_ACT_BLOCK);
	t.p->rules[1].active = false;
	spd = tb_compile(&t, my, 1);
	assert_int_equal(pol_spd_count(spd), 4);
	expect_winners(spd, probes, NPROBES(probes));
	tb_done(&t, spd);
}

/* ---- weight order, table driven ---- */

static void
test_weight_order(void **state)
{
	const char *my[] = { "192.168.1.1" };
	static const struct probe cases[] = {
		/* Host beats subnet beats any, whatever the rule order. */
		{ "host", POL_DIR_OUT, "192.168.1.1", "10.0.0.5", 0, 0, 0,
		    "host10.0.0.5" },
		{ "subnet", POL_DIR_OUT, "192.168.1.1", "10.0.0.6", 0, 0, 0,
		    "net10/24" },
		{ "wider", POL_DIR_OUT, "192.168.1.1", "10.0.9.6", 0, 0, 0,
		    "net10/16" },
		{ "any", POL_DIR_OUT, "192.168.1.1", "172.16.0.1", 0, 0, 0,
		    "all" },
		/* Same addresses: a protocol beats none. */
		{ "proto", POL_DIR_OUT, "192.168.1.1", "172.16.0.1", 1, 0, 0,
		    "icmp" },
		/* Same addresses and protocol: ports beat no ports. */
		{ "tcp", POL_DIR_OUT, "192.168.1.1", "172.16.0.1", 6, 5, 23,
		    "tcp" },
		{ "port", POL_DIR_OUT, "192.168.1.1", "172.16.0.1", 6, 5, 22,
		    "ssh" },
		/* Addresses outrank protocol and ports. */
		{ "addr>port", POL_DIR_OUT, "192.168.1.1", "10.0.0.5", 6, 5,
		    22, "host10.0.0.5" },
		/* Mirrored: the inbound direction ranks the same way. */
		{ "in-port", POL_DIR_IN, "172.16.0.1", "192.168.1.1", 6, 22,
		    5, "ssh" },
		{ "in-host", POL_DIR_IN, "10.0.0.5", "192.168.1.1", 17, 1, 2,
		    "host10.0.0.5" },
		/* Equal weight: block beats permit beats negotiate. */
		{ "tie", POL_DIR_OUT, "192.168.1.1", "10.9.9.9", 0, 0, 0,
		    "tie-block" },
	};
	struct pol_spd *spd;
	struct tb t;
	size_t i;

	(void)state;
	tb_init(&t);
	/* Least specific first, so rule order alone would be wrong. */
	tb_rule(&t, "all", "me", "any", 0, 0, 0, true, POL_ACT_NEGOTIATE);
	tb_rule(&t, "icmp", "me", "any", 1, 0, 0, true, POL_ACT_PERMIT);
	tb_rule(&t, "tcp", "me", "any", 6, 0, 0, true, POL_ACT_NEGOTIATE);
	tb_rule(&t, "ssh", "me", "any", 6, 0, 22, true, POL_ACT_BLOCK);
	tb_rule(&t, "net10/16", "me", "10.0.0.0/16", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	tb_rule(&t, "net10/24", "me", "10.0.0.0/24", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	tb_rule(&t, "host10.0.0.5", "me", "10.0.0.5", 0, 0, 0, true,
	    POL_ACT_PERMIT);
	tb_rule(&t, "tie-neg", "me", "10.9.9.0/24", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	tb_rule(&t, "tie-permit", "me", "10.9.9.0/24", 0, 0, 0, true,
	    POL_ACT_PERMIT);
	tb_rule(&t, "tie-block", "me", "10.9.9.0/24", 0, 0, 0, true,
	    POL_ACT_BLOCK);
	spd = tb_compile(&t, my, 1);
	expect_winners(spd, cases, NPROBES(cases));
	/* Indices are positions and weights never increase. */
	for (i = 0; i < pol_spd_count(spd); i++) {
		assert_int_equal(pol_spd_entry_at(spd, i)->index, i);
		if (i > 0)
			assert_true(pol_spd_entry_at(spd, i - 1)->weight >=
			    pol_spd_entry_at(spd, i)->weight);
	}
	tb_done(&t, spd);
}

static void
test_ties_are_deterministic(void **state)
{
	const char *my[] = { "192.168.1.1" };
	struct pol_spd *spd;
	struct tb t;

	(void)state;
	tb_init(&t);
	tb_rule(&t, "first", "me", "10.0.0.0/8", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	tb_rule(&t, "second", "me", "10.0.0.0/8", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	spd = tb_compile(&t, my, 1);
	/* Same weight and action: the earlier rule wins. */
	assert_string_equal(winner(spd, POL_DIR_OUT, "192.168.1.1", "10.1.1.1",
	    0, 0, 0), "first");
	tb_done(&t, spd);
}

static void
test_dynamic_set(void **state)
{
	struct pa_addr me;
	struct pol_spd *spd = NULL;
	struct pol_err err;
	struct tb t, d;

	(void)state;
	assert_int_equal(pa_addr_parse("192.168.1.1", &me), 0);
	tb_init(&t);
	tb_rule(&t, "static", "me", "10.0.0.0/8", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	tb_init(&d);
	tb_rule(&d, "dyn", "me", "10.0.0.0/8", 0, 0, 0, true,
	    POL_ACT_NEGOTIATE);
	tb_rule(&d, "dyn-host", "me", "10.0.0.1", 0, 0, 0, true,
	    POL_ACT_PERMIT);
	assert_int_equal(pol_store_resolve(t.s, &err), 0);
	assert_int_equal(pol_store_resolve(d.s, &err), 0);
	assert_int_equal(pol_spd_compile_set(t.p, d.p, &me, 1, &spd, &err), 0);
	assert_string_equal(winner(spd, POL_DIR_OUT, "192.168.1.1", "10.2.0.1",
	    0, 0, 0), "dyn");
	assert_true(pol_spd_entry_at(spd, 0)->dynamic);
	assert_string_equal(winner(spd, POL_DIR_OUT, "192.168.1.1", "10.0.0.1",
	    0, 0, 0), "dyn-host");
	pol_spd_free(spd);
	/* Without the dynamic policy, and with neither. */
	assert_int_equal(pol_spd_compile_set(t.p, NULL, &me, 1, &spd, &err), 0);
	assert_string_equal(winner(spd, POL_DIR_OUT, "192.168.1.1", "10.2.0.1",
	    0, 0, 0), "static");
	assert_false(pol_spd_entry_at(spd, 0)->dynamic);
	pol_spd_free(spd);
	assert_int_equal(pol_spd_compile_set(NULL, NULL, &me, 1, &spd, &err), 0);
	assert_int_equal(pol_spd_count(spd), 0);
	pol_spd_free(spd);
	pol_spd_free(NULL);
	pol_store_free(t.s);
	pol_store_free(d.s);
}

static void
test_explain(void **state)
{
	const char *my[] = { "192.168.1.1" };
	struct pol_spd_weight w;
	struct pol_spd *spd;
	struct tb t;
	char b[256];

	(void)state;
	tb_init(&t);
	tb_rule(&t, "ssh", "me", "10.0.0.0/24", 6, 0, 22, false,
	    POL_ACT_BLOCK);
	spd = tb_compile(&t, my, 1);
	pol_spd_weight_split(pol_spd_entry_at(spd, 0)->weight, &w);
	assert_int_equal(w.addr, 32 * 4 + 24 * 4);
	assert_int_equal(w.proto, 1);
	assert_int_equal(w.ports, 1);
	assert_int_equal(w.action, 2);
	pol_spd_explain(pol_spd_entry_at(spd, 0), b, sizeof(b));
	assert_non_null(strstr(b, "destination /24"));
	assert_non_null(strstr(b, "action block"));
	tb_done(&t, spd);
}

/* ---- random cross-check against the linear reference ---- */

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
rand_prefix(uint32_t *seed, char *buf, size_t cap)
{
	static const uint8_t lens[] = { 0, 8, 16, 24, 28, 32 };
	uint8_t len = lens[rnd(seed) % 6];
	uint32_t a = (10U << 24) | (rnd(seed) & 0x0003ff0fU);

	a = len == 0 ? 0 : a & ~((len == 32) ? 0U : (0xffffffffU >> len));
	snprintf(buf, cap, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255, len);
}

static void
test_random_cross_check(void **state)
{
	const char *my[] = { "10.0.0.1", "10.0.1.1" };
	struct pol_spd *spd;
	struct pol_pkt k;
	struct tb t;
	uint32_t seed = 0x12345678;
	char src[32], dst[32], name[16];
	size_t i;
	int hits = 0;

	(void)state;
	tb_init(&t);
	for (i = 0; i < 300; i++) {
		static const uint8_t protos[] = { 0, 1, 6, 17 };
		uint8_t proto = protos[rnd(&seed) % 4];
		uint16_t sp = 0, dp = 0;

		rand_prefix(&seed, src, sizeof(src));
		rand_prefix(&seed, dst, sizeof(dst));
		if (rnd(&seed) % 4 == 0)
			snprintf(src, sizeof(src), "me");
		if (pol_proto_has_ports(proto)) {
			sp = rnd(&seed) % 3 == 0 ? (uint16_t)(rnd(&seed) % 4) :
			    0;
			dp = rnd(&seed) % 2 == 0 ? (uint16_t)(rnd(&seed) % 4) :
			    0;
		}
		snprintf(name, sizeof(name), "r%zu", i);
		tb_rule(&t, name, src, dst, proto, sp, dp, rnd(&seed) % 2,
		    (enum pol_action)(rnd(&seed) % 3 + 1));
	}
	spd = tb_compile(&t, my, 2);
	for (i = 0; i < 20000; i++) {
		const struct pol_spd_entry *e, *ref;

		memset(&k, 0, sizeof(k));
		k.dir = rnd(&seed) % 2 ? POL_DIR_OUT : POL_DIR_IN;
		k.src.family = k.dst.family = AF_INET;
		k.src.a[0] = k.dst.a[0] = 10;
		k.src.a[1] = (uint8_t)(rnd(&seed) & 3);
		k.src.a[2] = (uint8_t)(rnd(&seed) & 1);
		k.src.a[3] = (uint8_t)(rnd(&seed) & 15);
		k.dst.a[1] = (uint8_t)(rnd(&seed) & 3);
		k.dst.a[2] = (uint8_t)(rnd(&seed) & 1);
		k.dst.a[3] = (uint8_t)(rnd(&seed) & 15);
		k.proto = (uint8_t[]){ 1, 6, 17, 50 }[rnd(&seed) % 4];
		k.sport = (uint16_t)(rnd(&seed) % 4);
		k.dport = (uint16_t)(rnd(&seed) % 4);
		e = pol_spd_match(spd, &k);
		ref = linear_match(spd, &k);
		if (e != ref)
			fail_msg("packet %zu: indexed %d, linear %d", i,
			    e ? (int)e->index : -1, ref ? (int)ref->index : -1);
		hits += e != NULL;
	}
	/* The random policy must actually be exercised. */
	assert_true(hits > 1000);
	tb_done(&t, spd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_and_me),
		cmocka_unit_test(test_tunnel_gateway),
		cmocka_unit_test(test_any_both_families),
		cmocka_unit_test(test_mirror_swaps_ports),
		cmocka_unit_test(test_dns_and_inactive),
		cmocka_unit_test(test_weight_order),
		cmocka_unit_test(test_ties_are_deterministic),
		cmocka_unit_test(test_dynamic_set),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_random_cross_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
