/*
 * The SPD compiler and matcher.
 *
 * Compile: every active rule's filters are expanded (mirrored filters
 * into both directions, "my IP address" into this host's addresses, DNS
 * names into their resolved addresses, "any" into 0/0 of each family),
 * weighted (docs/policy.md) and sorted most specific first; an entry's
 * index is its position.
 *
 * Match, without scanning the entries: entries are grouped into cells
 * keyed by (direction, family, protocol, source prefix, destination
 * prefix); each cell keeps, per (source port, destination port) pair,
 * the lowest index. A bucket per (direction, family, protocol) lists the
 * distinct (source length, destination length) pairs in use. A packet
 * is matched by masking its addresses with each pair, one hash lookup
 * per pair, and at most four binary searches in the cell: the cost
 * depends on the number of distinct prefix-length pairs (at most 33*33
 * for IPv4), not on the number of entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spd.h"

#define W_ADDR_SHIFT	16
#define W_PROTO_SHIFT	12
#define W_PORTS_SHIFT	8

struct spd_key {		/* 40 bytes, no implicit padding */
	uint8_t	dir;
	uint8_t	family;
	uint8_t	proto;
	uint8_t	slen;
	uint8_t	dlen;
	uint8_t	pad[3];
	uint8_t	src[16];
	uint8_t	dst[16];
};

_Static_assert(sizeof(struct spd_key) == 40, "spd_key is hashed as 5 words");

struct spd_port {
	uint16_t	sport;
	uint16_t	dport;
	uint32_t	index;
};

struct spd_cell {
	struct spd_key	 key;
	struct spd_port	*ports;		/* sorted by (sport, dport) */
	size_t		 nports;
};

struct spd_pair {
	uint8_t	slen;
	uint8_t	dlen;
};

struct spd_bucket {
	struct spd_pair	*pairs;
	size_t		 npairs;
};

/* Index of a bucket: dir (0..1), family (0 = v4, 1 = v6), protocol. */
#define NBUCKETS	(2 * 2 * 256)

struct pol_spd {
	struct pol_spd_entry	*e;
	size_t			 n;
	struct spd_cell		*cells;
	size_t			 ncells;
	uint32_t		*hash;		/* cell index + 1, 0 = empty */
	size_t			 hcap;		/* power of two */
	struct spd_bucket	*buckets;	/* NBUCKETS */
};

/* An entry under construction, with its stable sort key. */
struct spd_tmp {
	struct pol_spd_entry	e;
	uint32_t		set;		/* 0 dynamic, 1 static */
	uint32_t		rule;
	uint32_t		filter;
	uint32_t		expand;
};

struct spd_build {
	struct spd_tmp	*v;
	size_t		 n;
	size_t		 cap;
};

const char *
pol_dir_name(enum pol_dir d)
{
	return d == POL_DIR_OUT ? "out" : d == POL_DIR_IN ? "in" : "?";
}

static unsigned
fam_idx(uint8_t family)
{
	return family == AF_INET6 ? 1 : 0;
}

static size_t
bucket_idx(unsigned dir, uint8_t family, uint8_t proto)
{
	return ((size_t)(dir - 1) * 2 + fam_idx(family)) * 256 + proto;
}

/* ---- weights ---- */

static unsigned
norm_len(uint8_t len, uint8_t family)
{
	return family == AF_INET ? (unsigned)len * 4 : len;
}

static unsigned
action_rank(enum pol_action a)
{
	return a == POL_ACT_BLOCK ? 2 : a == POL_ACT_PERMIT ? 1 : 0;
}

static uint64_t
weight_of(const struct pol_spd_entry *e)
{
	uint64_t w;

	w = (uint64_t)(norm_len(e->src.len, e->src.addr.family) +
	    norm_len(e->dst.len, e->dst.addr.family)) << W_ADDR_SHIFT;
	w |= (uint64_t)(e->proto != 0) << W_PROTO_SHIFT;
	w |= (uint64_t)((e->sport != 0) + (e->dport != 0)) << W_PORTS_SHIFT;
	w |= action_rank(e->action);
	return w;
}

/*
 * Rank of a weight: 0 for the most specific; one step per unit of address
 * specificity, then protocol, ports and action (docs/policy.md).
 */
static uint32_t
weight_rank(uint64_t weight)
{
	struct pol_spd_weight w;
	uint32_t rank;

	pol_spd_weight_split(weight, &w);
	rank = (256 - (w.addr > 256 ? 256 : w.addr)) * 2 + (w.proto ? 0 : 1);
	rank = rank * 3 + (w.ports > 2 ? 0 : 2 - w.ports);
	return rank * 3 + (w.action > 2 ? 0 : 2 - w.action);
}

uint32_t
pol_spd_prio(const struct pol_spd_entry *e, enum pol_prio_slot slot)
{
	uint32_t r = weight_rank(e->weight) * 2 + (e->dynamic ? 0 : 1);

	return POL_PRIO_BASE + r * 3 + (uint32_t)slot;
}

uint32_t
pol_spd_prio_default(const struct pa_prefix *src, const struct pa_prefix *dst,
    uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct pol_spd_entry e;

	memset(&e, 0, sizeof(e));
	e.src = *src;
	e.dst = *dst;
	e.proto = proto;
	e.sport = sport;
	e.dport = dport;
	e.action = POL_ACT_NEGOTIATE;
	return POL_PRIO_DEFAULT_BASE + weight_rank(weight_of(&e));
}

void
pol_spd_weight_split(uint64_t w, struct pol_spd_weight *s)
{
	s->addr = (unsigned)((w >> W_ADDR_SHIFT) & 0x3ff);
	s->proto = (unsigned)((w >> W_PROTO_SHIFT) & 0xf);
	s->ports = (unsigned)((w >> W_PORTS_SHIFT) & 0xf);
	s->action = (unsigned)(w & 0xf);
}

const char *
pol_spd_explain(const struct pol_spd_entry *e, char *buf, size_t cap)
{
	struct pol_spd_weight s;

	pol_spd_weight_split(e->weight, &s);
	snprintf(buf, cap, "address specificity %u (source /%u, destination "
	    "/%u), protocol %u, ports %u, action %s (%u)", s.addr,
	    (unsigned)e->src.len, (unsigned)e->dst.len, s.proto, s.ports,
	    pol_action_name(e->action), s.action);
	return buf;
}

/* ---- expansion ---- */

static int
build_push(struct spd_build *b, const struct spd_tmp *t)
{
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct spd_tmp *v;

		if (ncap > UINT32_MAX || (v = realloc(b->v,
		    ncap * sizeof(*v))) == NULL)
			return PA_E_NOMEM;
		b->v = v;
		b->cap = ncap;
	}
	b->v[b->n++] = *t;
	return 0;
}

/*
 * The prefixes an endpoint stands for. ANY yields one prefix of family 0
 * (a wildcard fixed later against the other side).
 */
static int
expand_endpoint(const struct pol_endpoint *ep, const struct pa_addr *my,
    size_t nmy, struct pa_prefix **out, size_t *n)
{
	struct pa_prefix *v = NULL;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	switch (ep->kind) {
	case POL_ADDR_ANY:
		k = 1;
		break;
	case POL_ADDR_ME:
		k = nmy;
		break;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		k = 1;
		break;
	case POL_ADDR_DNS:
		k = ep->nresolved;
		break;
	}
	if (k == 0)
		return 0;
	if ((v = calloc(k, sizeof(*v))) == NULL)
		return PA_E_NOMEM;
	switch (ep->kind) {
	case POL_ADDR_ANY:
		break;
	case POL_ADDR_ME:
		for (i = 0; i < k; i++) {
			v[i].addr = my[i];
			v[i].len = pa_addr_bits(my[i].family);
		}
		break;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		v[0] = ep->prefix;
		break;
	case POL_ADDR_DNS:
		for (i = 0; i < k; i++) {
			v[i].addr = ep->resolved[i];
			v[i].len = pa_addr_bits(ep->resolved[i].family);
		}
		break;
	}
	*out = v;
	*n = k;
	return 0;
}

static struct pa_prefix
any_of(uint8_t family)
{
	struct pa_prefix p;

	memset(&p, 0, sizeof(p));
	p.addr.family = family;
	return p;
}

/* Emit the entry src->dst in direction dir (and its port order). */
static int
emit(struct spd_build *b, struct spd_tmp *t, enum pol_dir dir,
    const struct pa_prefix *src, const struct pa_prefix *dst,
    uint16_t sport, uint16_t dport)
{
	t->e.dir = dir;
	t->e.src = *src;
	t->e.dst = *dst;
	pa_prefix_normalize(&t->e.src);
	pa_prefix_normalize(&t->e.dst);
	t->e.sport = sport;
	t->e.dport = dport;
	t->e.weight = weight_of(&t->e);
	t->expand++;
	return build_push(b, t);
}

static int
expand_filter(struct spd_build *b, struct spd_tmp *t,
    const struct pol_filter *f, const struct pa_addr *my, size_t nmy)
{
	static const uint8_t fams[2] = { AF_INET, AF_INET6 };
	struct pa_prefix *sv = NULL, *dv = NULL, s, d;
	size_t ns = 0, nd = 0, i, j, k;
	bool out_fwd, in_fwd, out_mir, in_mir;
	int rc;

	/*
	 * Which directions the forward selector (src -> dst) and its mirror
	 * apply to: a packet from this host is only ever outbound, one to it
	 * only inbound.
	 */
	out_fwd = f->dst.kind != POL_ADDR_ME;
	in_fwd = f->src.kind != POL_ADDR_ME;
	out_mir = f->mirrored && in_fwd;
	in_mir = f->mirrored && out_fwd;
	/*
	 * A tunnel rule's filter points at the tunnel endpoint: what is
	 * behind it is the destination (as Windows' tunnel rules are
	 * written). Between two networks of which neither is this host (a
	 * gateway), traffic to the destination leaves through the tunnel
	 * and traffic from it arrives through the tunnel; the other two
	 * directions are the inside's own traffic, forwarded in clear
	 * towards the tunnel or out of it (an inbound entry for it would
	 * demand a tunnel SA of clear text from the inside).
	 */
	if (!pa_addr_is_unset(&t->e.tunnel) && out_fwd && in_fwd) {
		in_fwd = false;
		out_mir = false;
	}
	if ((rc = expand_endpoint(&f->src, my, nmy, &sv, &ns)) != 0 ||
	    (rc = expand_endpoint(&f->dst, my, nmy, &dv, &nd)) != 0)
		goto out;
	for (i = 0; i < ns; i++)
		for (j = 0; j < nd; j++)
			for (k = 0; k < 2; k++) {
				uint8_t fam = fams[k];

				if ((sv[i].addr.family != 0 &&
				    sv[i].addr.family != fam) ||
				    (dv[j].addr.family != 0 &&
				    dv[j].addr.family != fam))
					continue;
				s = sv[i].addr.family ? sv[i] : any_of(fam);
				d = dv[j].addr.family ? dv[j] : any_of(fam);
				if (out_fwd && (rc = emit(b, t, POL_DIR_OUT,
				    &s, &d, f->sport, f->dport)) != 0)
					goto out;
				if (in_fwd && (rc = emit(b, t, POL_DIR_IN,
				    &s, &d, f->sport, f->dport)) != 0)
					goto out;
				/* The mirror: dst -> src, ports swapped. */
				if (out_mir && (rc = emit(b, t, POL_DIR_OUT,
				    &d, &s, f->dport, f->sport)) != 0)
					goto out;
				if (in_mir && (rc = emit(b, t, POL_DIR_IN,
				    &d, &s, f->dport, f->sport)) != 0)
					goto out;
			}
out:
	free(sv);
	free(dv);
	return rc;
}

static int
expand_policy(struct spd_build *b, const struct pol_policy *p, bool dynamic,
    const struct pa_addr *my, size_t nmy, struct pol_err *err)
{
	struct spd_tmp t;
	size_t r, f;
	int rc;

	for (r = 0; r < p->nrules; r++) {
		const struct pol_rule *rule = &p->rules[r];

		if (!rule->active || rule->default_response ||
		    pa_guid_is_nil(&rule->filterlist_id))
			continue;
		if (rule->filterlist == NULL || rule->filteraction == NULL) {
			snprintf(err->where, sizeof(err->where),
			    "policy '%s' rule '%s'", p->name ? p->name : "",
			    rule->name ? rule->name : "");
			snprintf(err->what, sizeof(err->what),
			    "references not resolved");
			return PA_E_REF;
		}
		for (f = 0; f < rule->filterlist->nfilters; f++) {
			memset(&t, 0, sizeof(t));
			t.set = dynamic ? 0 : 1;
			t.rule = (uint32_t)r;
			t.filter = (uint32_t)f;
			t.e.action = rule->filteraction->action;
			t.e.inpass = rule->filteraction->inpass;
			t.e.soft = rule->filteraction->soft;
			t.e.tunnel = rule->tunnel;
			t.e.proto = rule->filterlist->filters[f].proto;
			t.e.policy = p;
			t.e.rule = rule;
			t.e.filteraction = rule->filteraction;
			t.e.filter = &rule->filterlist->filters[f];
			t.e.dynamic = dynamic;
			if ((rc = expand_filter(b, &t,
			    &rule->filterlist->filters[f], my, nmy)) != 0)
				return rc;
		}
	}
	return 0;
}

/* The sort key of an entry, small so that sorting moves little. */
struct spd_sortkey {
	uint64_t	weight;
	uint32_t	set;
	uint32_t	rule;
	uint32_t	filter;
	uint32_t	expand;
	uint32_t	pos;		/* into the build array */
};

static int
key_cmp(const void *a, const void *b)
{
	const struct spd_sortkey *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->filter != y->filter)
		return x->filter < y->filter ? -1 : 1;
	if (x->expand != y->expand)
		return x->expand < y->expand ? -1 : 1;
	return 0;
}

/* ---- the index ---- */

static uint64_t
key_hash(const struct spd_key *k)
{
	uint64_t w[sizeof(*k) / 8], h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static void
key_make(struct spd_key *k, unsigned dir, uint8_t family, uint8_t proto,
    const struct pa_addr *src, uint8_t slen, const struct pa_addr *dst,
    uint8_t dlen)
{
	struct pa_prefix p;

	memset(k, 0, sizeof(*k));
	k->dir = (uint8_t)dir;
	k->family = family;
	k->proto = proto;
	k->slen = slen;
	k->dlen = dlen;
	p.addr = *src;
	p.len = slen;
	pa_prefix_normalize(&p);
	memcpy(k->src, p.addr.a, 16);
	p.addr = *dst;
	p.len = dlen;
	pa_prefix_normalize(&p);
	memcpy(k->dst, p.addr.a, 16);
}

static const struct spd_cell *
cell_find(const struct pol_spd *spd, const struct spd_key *k)
{
	size_t mask = spd->hcap - 1, i;

	if (spd->hcap == 0)
		return NULL;
	for (i = key_hash(k) & mask;; i = (i + 1) & mask) {
		uint32_t c = spd->hash[i];

		if (c == 0)
			return NULL;
		if (memcmp(&spd->cells[c - 1].key, k, sizeof(*k)) == 0)
			return &spd->cells[c - 1];
	}
}

static int
port_cmp(const void *a, const void *b)
{
	const struct spd_port *x = a, *y = b;

	if (x->sport != y->sport)
		return x->sport < y->sport ? -1 : 1;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	return 0;
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct spd_pair *x = a, *y = b;

	/* Longest first: more specific pairs are probed first. */
	if (x->slen + x->dlen != y->slen + y->dlen)
		return x->slen + x->dlen > y->slen + y->dlen ? -1 : 1;
	if (x->slen != y->slen)
		return x->slen > y->slen ? -1 : 1;
	return 0;
}

static int
index_build(struct pol_spd *spd)
{
	size_t i, hmask, cap = 0;
	struct spd_key k;

	if ((spd->buckets = calloc(NBUCKETS, sizeof(*spd->buckets))) == NULL)
		return PA_E_NOMEM;
	if (spd->n == 0)
		return 0;
	for (spd->hcap = 16; spd->hcap < spd->n * 2; spd->hcap *= 2)
		;
	if ((spd->hash = calloc(spd->hcap, sizeof(*spd->hash))) == NULL ||
	    (spd->cells = calloc(spd->n, sizeof(*spd->cells))) == NULL)
		return PA_E_NOMEM;
	hmask = spd->hcap - 1;
	/* Entries are in index order: the first entry of a key wins. */
	for (i = 0; i < spd->n; i++) {
		const struct pol_spd_entry *e = &spd->e[i];
		struct spd_cell *c = NULL;
		struct spd_bucket *bk;
		size_t h;

		key_make(&k, e->dir, e->src.addr.family, e->proto,
		    &e->src.addr, e->src.len, &e->dst.addr, e->dst.len);
		for (h = key_hash(&k) & hmask;; h = (h + 1) & hmask) {
			if (spd->hash[h] == 0) {
				c = &spd->cells[spd->ncells++];
				c->key = k;
				spd->hash[h] = (uint32_t)spd->ncells;
				bk = &spd->buckets[bucket_idx(e->dir,
				    e->src.addr.family, e->proto)];
				/* Distinct pairs per bucket, added once. */
				{
					size_t j;
					bool seen = false;
					struct spd_pair *pv;

					for (j = 0; j < bk->npairs; j++)
						if (bk->pairs[j].slen ==
						    e->src.len &&
						    bk->pairs[j].dlen ==
						    e->dst.len)
							seen = true;
					if (!seen) {
						pv = realloc(bk->pairs,
						    (bk->npairs + 1) *
						    sizeof(*pv));
						if (pv == NULL)
							return PA_E_NOMEM;
						bk->pairs = pv;
						pv[bk->npairs].slen =
						    e->src.len;
						pv[bk->npairs].dlen =
						    e->dst.len;
						bk->npairs++;
					}
				}
				break;
			}
			if (memcmp(&spd->cells[spd->hash[h] - 1].key, &k,
			    sizeof(k)) == 0) {
				c = &spd->cells[spd->hash[h] - 1];
				break;
			}
		}
		/* Append (sport, dport, i); deduplicated after sorting. */
		{
			struct spd_port *pv;

			if (c->nports == 0 || (c->nports & (c->nports - 1)) ==
			    0) {
				cap = c->nports ? c->nports * 2 : 1;
				pv = realloc(c->ports, cap * sizeof(*pv));
				if (pv == NULL)
					return PA_E_NOMEM;
				c->ports = pv;
			}
			c->ports[c->nports].sport = e->sport;
			c->ports[c->nports].dport = e->dport;
			c->ports[c->nports].index = (uint32_t)i;
			c->nports++;
		}
	}
	for (i = 0; i < spd->ncells; i++) {
		struct spd_cell *c = &spd->cells[i];
		size_t j, m = 0;

		/* qsort is not stable: the index breaks ties. */
		qsort(c->ports, c->nports, sizeof(*c->ports), port_cmp);
		for (j = 0; j < c->nports; j++) {
			if (m > 0 && port_cmp(&c->ports[m - 1],
			    &c->ports[j]) == 0) {
				if (c->ports[j].index < c->ports[m - 1].index)
					c->ports[m - 1].index =
					    c->ports[j].index;
				continue;
			}
			c->ports[m++] = c->ports[j];
		}
		c->nports = m;
	}
	for (i = 0; i < NBUCKETS; i++)
		if (spd->buckets[i].npairs > 1)
			qsort(spd->buckets[i].pairs, spd->buckets[i].npairs,
			    sizeof(struct spd_pair), pair_cmp);
	return 0;
}

void
pol_spd_free(struct pol_spd *spd)
{
	size_t i;

	if (spd == NULL)
		return;
	for (i = 0; i < spd->ncells; i++)
		free(spd->cells[i].ports);
	if (spd->buckets != NULL)
		for (i = 0; i < NBUCKETS; i++)
			free(spd->buckets[i].pairs);
	free(spd->buckets);
	free(spd->cells);
	free(spd->hash);
	free(spd->e);
	free(spd);
}

int
pol_spd_compile_set(const struct pol_policy *eff, const struct pol_policy *dyn,
    const struct pa_addr *my, size_t nmy, struct pol_spd **out,
    struct pol_err *err)
{
	struct spd_build b;
	struct spd_sortkey *keys = NULL;
	struct pol_spd *spd = NULL;
	size_t i;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	memset(&b, 0, sizeof(b));
	if (eff != NULL && (rc = expand_policy(&b, eff, false, my, nmy,
	    err)) != 0)
		goto out;
	if (dyn != NULL && (rc = expand_policy(&b, dyn, true, my, nmy,
	    err)) != 0)
		goto out;
	if (b.n > UINT32_MAX - 1) {
		rc = PA_E_NOSPACE;
		goto out;
	}
	if ((spd = calloc(1, sizeof(*spd))) == NULL ||
	    (b.n > 0 && ((spd->e = calloc(b.n, sizeof(*spd->e))) == NULL ||
	    (keys = calloc(b.n, sizeof(*keys))) == NULL))) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < b.n; i++) {
		keys[i].weight = b.v[i].e.weight;
		keys[i].set = b.v[i].set;
		keys[i].rule = b.v[i].rule;
		keys[i].filter = b.v[i].filter;
		keys[i].expand = b.v[i].expand;
		keys[i].pos = (uint32_t)i;
	}
	if (b.n > 1)
		qsort(keys, b.n, sizeof(*keys), key_cmp);
	for (i = 0; i < b.n; i++) {
		spd->e[i] = b.v[keys[i].pos].e;
		spd->e[i].index = (uint32_t)i;
	}
	spd->n = b.n;
	if ((rc = index_build(spd)) != 0)
		goto out;
	*out = spd;
	spd = NULL;
out:
	if (rc != 0 && err->what[0] == '\0') {
		snprintf(err->where, sizeof(err->where), "SPD");
		snprintf(err->what, sizeof(err->what), "cannot compile: %s",
		    pa_strerror(rc));
	}
	free(keys);
	free(b.v);
	pol_spd_free(spd);
	return rc;
}

int
pol_spd_compile(const struct pol_policy *p, const struct pa_addr *my,
    size_t nmy, struct pol_spd **out, struct pol_err *err)
{
	return pol_spd_compile_set(p, NULL, my, nmy, out, err);
}

size_t
pol_spd_count(const struct pol_spd *spd)
{
	return spd == NULL ? 0 : spd->n;
}

const struct pol_spd_entry *
pol_spd_entry_at(const struct pol_spd *spd, size_t i)
{
	return spd == NULL || i >= spd->n ? NULL : &spd->e[i];
}

/* Lowest index of the cell's port keys matching (sport, dport). */
static uint32_t
cell_best(const struct spd_cell *c, uint16_t sport, uint16_t dport,
    uint32_t best)
{
	struct spd_port probe[4], *hit;
	size_t n = 0, i;

	probe[n].sport = sport;
	probe[n++].dport = dport;
	if (dport != 0) {
		probe[n].sport = sport;
		probe[n++].dport = 0;
	}
	if (sport != 0) {
		probe[n].sport = 0;
		probe[n++].dport = dport;
	}
	if (sport != 0 && dport != 0) {
		probe[n].sport = 0;
		probe[n++].dport = 0;
	}
	for (i = 0; i < n; i++) {
		hit = bsearch(&probe[i], c->ports, c->nports,
		    sizeof(*c->ports), port_cmp);
		if (hit != NULL && hit->index < best)
			best = hit->index;
	}
	return best;
}

const struct pol_spd_entry *
pol_spd_match(const struct pol_spd *spd, const struct pol_pkt *pkt)
{
	uint32_t best = UINT32_MAX;
	uint8_t protos[2];
	size_t np = 0, i, j;
	uint16_t sport = 0, dport = 0;
	struct spd_key k;

	if (spd == NULL || spd->n == 0 || pkt->src.family != pkt->dst.family ||
	    (pkt->src.family != AF_INET && pkt->src.family != AF_INET6) ||
	    (pkt->dir != POL_DIR_OUT && pkt->dir != POL_DIR_IN))
		return NULL;
	if (pol_proto_has_ports(pkt->proto)) {
		sport = pkt->sport;
		dport = pkt->dport;
	}
	protos[np++] = pkt->proto;
	if (pkt->proto != 0)
		protos[np++] = 0;
	for (i = 0; i < np; i++) {
		const struct spd_bucket *bk = &spd->buckets[bucket_idx(
		    pkt->dir, pkt->src.family, protos[i])];

		for (j = 0; j < bk->npairs; j++) {
			const struct spd_cell *c;

			key_make(&k, pkt->dir, pkt->src.family, protos[i],
			    &pkt->src, bk->pairs[j].slen, &pkt->dst,
			    bk->pairs[j].dlen);
			if ((c = cell_find(spd, &k)) != NULL)
				best = cell_best(c, sport, dport, best);
		}
	}
	return best == UINT32_MAX ? NULL : &spd->e[best];
}
