/*
 * Policy glue: which rule applies to a peer, a packet or a pair of Quick
 * Mode IDs, and the translation between the policy model's offers and
 * ISAKMP SA payloads (both directions).
 *
 * Rules are matched on the policy model directly (rules in policy order,
 * their filters in list order; mirrored filters match both ways), so the
 * engine does not depend on the SPD compiler for responder decisions. A
 * negotiation copies what it needs from the rule (struct ike_rulecopy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sa.h"
#include "offer.h"
#include "spd.h"

void
ike_rulecopy_clear(struct ike_rulecopy *r)
{
	size_t i;

	pa_secret_free(r->psk);
	for (i = 0; i < POL_MAX_AUTHS; i++)
		free(r->ca_dns[i]);
	free(r->offers);
	memset(r, 0, sizeof(*r));
}

int
ike_rulecopy_dup(struct ike_rulecopy *dst, const struct ike_rulecopy *src)
{
	size_t i;

	*dst = *src;
	dst->psk = NULL;
	dst->offers = NULL;
	memset(dst->ca_dns, 0, sizeof(dst->ca_dns));
	if (src->psk != NULL && (dst->psk = pa_secret_dup(src->psk)) == NULL)
		goto nomem;
	for (i = 0; i < POL_MAX_AUTHS; i++)
		if (src->ca_dns[i] != NULL &&
		    (dst->ca_dns[i] = strdup(src->ca_dns[i])) == NULL)
			goto nomem;
	if (src->noffers > 0) {
		if ((dst->offers = calloc(src->noffers,
		    sizeof(*dst->offers))) == NULL)
			goto nomem;
		memcpy(dst->offers, src->offers,
		    src->noffers * sizeof(*dst->offers));
	}
	return 0;
nomem:
	ike_rulecopy_clear(dst);
	return PA_E_NOMEM;
}

size_t
ike_rulecopy_drop_gcm(struct ike_rulecopy *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->noffers; i++)
		if (!c->offers[i].esp ||
		    !pol_esp_cipher_is_gcm(c->offers[i].esp_cipher))
			c->offers[n++] = c->offers[i];
	i = c->noffers - n;
	c->noffers = n;
	return i;
}

static uint16_t
ike_auth_wire(enum pol_auth_kind k)
{
	switch (k) {
	case POL_AUTH_PSK: return ISK_AUTH_PSK;
	case POL_AUTH_CERT: return ISK_AUTH_RSA;
	case POL_AUTH_KERBEROS: return ISK_AUTH_GSS;
	default: return 0;
	}
}

static int
ike_rule_copy(const struct pol_policy *pol, const struct pol_rule *rule,
    struct ike_rulecopy *c)
{
	const struct pol_filteraction *fa = rule->filteraction;
	size_t i;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s",
	    rule->name != NULL ? rule->name : "(unnamed rule)");
	c->id = rule->id;
	/* The model's limits (pol_check) bound both lists: nothing is cut. */
	if (rule->nauth > POL_MAX_AUTHS ||
	    (fa != NULL && fa->noffers > POL_MAX_OFFERS))
		return PA_E_INVAL;
	for (i = 0; i < rule->nauth; i++) {
		uint16_t w = ike_auth_wire(rule->auth[i].kind);

		if (w == 0)
			continue;
		if (w == ISK_AUTH_RSA && rule->auth[i].ca_dn != NULL &&
		    (c->ca_dns[c->nauths] = strdup(rule->auth[i].ca_dn)) ==
		    NULL)
			goto nomem;
		if (w == ISK_AUTH_RSA && (rule->auth[i].certmap ||
		    (pol->isakmp.options & POL_ISAKMP_OPT_CERTMAP)))
			c->certmap = true;
		c->auths[c->nauths++] = w;
		if (w == ISK_AUTH_PSK && c->psk == NULL &&
		    rule->auth[i].psk != NULL &&
		    (c->psk = pa_secret_dup(rule->auth[i].psk)) == NULL)
			goto nomem;
	}
	if (fa != NULL) {
		if (fa->noffers > 0 && (c->offers = calloc(fa->noffers,
		    sizeof(*c->offers))) == NULL)
			goto nomem;
		for (i = 0; i < fa->noffers; i++)
			c->offers[c->noffers++] = fa->offers[i];
		c->pfs_group = fa->pfs_group;
		c->soft = fa->soft;
		c->inpass = fa->inpass;
	}
	c->default_rule = rule->default_response;
	c->tunnel = !pa_addr_is_unset(&rule->tunnel);
	c->tunnel_peer = rule->tunnel;
	c->master_pfs = pol->isakmp.master_pfs;
	c->qm_per_mm = pol->isakmp.master_pfs ? 1 : pol->isakmp.qm_per_mm;
	return 0;
nomem:
	ike_rulecopy_clear(c);
	return PA_E_NOMEM;
}

/* Where SA entries and soft associations of filter entry e stand. */
static void
rule_slots(struct ike_rulecopy *c, const struct pol_spd_entry *e)
{
	if (e == NULL)
		return;
	c->prio_sa = pol_spd_prio(e, POL_PRIO_SA);
	c->prio_soft = pol_spd_prio(e, POL_PRIO_SOFT);
}

/* Does endpoint ep contain address a (local: a is one of ours)? */
static bool
ep_has_addr(const struct pol_endpoint *ep, const struct pa_addr *a,
    bool local)
{
	size_t i;

	switch (ep->kind) {
	case POL_ADDR_ANY:
		return true;
	case POL_ADDR_ME:
		return local;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		return pa_prefix_contains(&ep->prefix, a);
	case POL_ADDR_DNS:
		for (i = 0; i < ep->nresolved; i++)
			if (pa_addr_eq(&ep->resolved[i], a))
				return true;
		return false;
	default:
		return false;
	}
}

/* Does endpoint ep contain the whole prefix p? */
static bool
ep_has_prefix(const struct pol_endpoint *ep, const struct pa_prefix *p,
    bool local)
{
	uint8_t full = pa_addr_bits(p->addr.family);

	switch (ep->kind) {
	case POL_ADDR_ANY:
		return true;
	case POL_ADDR_ME:
	case POL_ADDR_DNS:
		return p->len == full && ep_has_addr(ep, &p->addr, local);
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		return ep->prefix.addr.family == p->addr.family &&
		    ep->prefix.len <= p->len &&
		    pa_prefix_contains(&ep->prefix, &p->addr);
	default:
		return false;
	}
}

static bool
rule_negotiates(const struct pol_rule *r)
{
	return r->active && r->filteraction != NULL &&
	    r->filteraction->action == POL_ACT_NEGOTIATE;
}

int
ike_rule_for_peer(const struct ike *ike, const struct pa_addr *peer,
    struct ike_rulecopy *out)
{
	const struct pol_policy *pol = ike->pol;
	size_t i, j;

	if (pol == NULL)
		return PA_E_NOENT;
	for (i = 0; i < pol->nrules; i++) {
		const struct pol_rule *r = &pol->rules[i];

		if (!rule_negotiates(r) || r->default_response)
			continue;
		if (!pa_addr_is_unset(&r->tunnel)) {
			if (pa_addr_eq(&r->tunnel, peer))
				return ike_rule_copy(pol, r, out);
			continue;
		}
		if (r->filterlist == NULL)
			continue;
		for (j = 0; j < r->filterlist->nfilters; j++) {
			const struct pol_filter *f = &r->filterlist->filters[j];

			if (ep_has_addr(&f->dst, peer, false) ||
			    ep_has_addr(&f->src, peer, false))
				return ike_rule_copy(pol, r, out);
		}
	}
	if (!pol->activate_default_rule)
		return PA_E_NOENT;
	for (i = 0; i < pol->nrules; i++)
		if (pol->rules[i].default_response && pol->rules[i].active)
			return ike_rule_copy(pol, &pol->rules[i], out);
	return PA_E_NOENT;
}

static bool
ts_matches(const struct pol_filter *f, const struct ike_ts *src,
    bool src_local, const struct ike_ts *dst, bool dst_local)
{
	if (!ep_has_prefix(&f->src, &src->net, src_local) ||
	    !ep_has_prefix(&f->dst, &dst->net, dst_local))
		return false;
	if (f->proto != 0 && f->proto != src->proto)
		return false;
	if (f->sport != 0 && f->sport != src->port)
		return false;
	if (f->dport != 0 && f->dport != dst->port)
		return false;
	return true;
}

/* Is the whole prefix inner inside outer (same family)? */
static bool
prefix_within(const struct pa_prefix *outer, const struct pa_prefix *inner)
{
	return outer->addr.family == inner->addr.family &&
	    outer->len <= inner->len &&
	    pa_prefix_contains(outer, &inner->addr);
}

/* Does SPD entry e take all traffic from src to dst (IDs) in its way? */
static bool
entry_covers(const struct pol_spd_entry *e, const struct ike_ts *src,
    const struct ike_ts *dst)
{
	return prefix_within(&e->src, &src->net) &&
	    prefix_within(&e->dst, &dst->net) &&
	    (e->proto == 0 || e->proto == src->proto) &&
	    (e->sport == 0 || e->sport == src->port) &&
	    (e->dport == 0 || e->dport == dst->port);
}

/*
 * The SPD entry that decides the traffic a peer's Quick Mode IDs propose
 * (remote -> local, inbound), as the driver would decide each packet of
 * it: the most specific filter that holds all of it. For host IDs that
 * is the entry pol_spd_match() gives for their one packet; subnet IDs
 * that a more specific filter cuts into are held by the first entry (in
 * weight order) that covers them whole.
 */
static const struct pol_spd_entry *
spd_for_ids(const struct pol_spd *spd, const struct ike_ts *remote,
    const struct ike_ts *local)
{
	const struct pol_spd_entry *e;
	struct pol_pkt pk;
	size_t i, n;

	memset(&pk, 0, sizeof(pk));
	pk.dir = POL_DIR_IN;
	pk.src = remote->net.addr;
	pk.dst = local->net.addr;
	pk.proto = remote->proto;
	pk.sport = remote->port;
	pk.dport = local->port;
	if ((e = pol_spd_match(spd, &pk)) != NULL &&
	    entry_covers(e, remote, local))
		return e;
	n = pol_spd_count(spd);
	for (i = 0; i < n; i++) {
		e = pol_spd_entry_at(spd, i);
		if (e->dir == POL_DIR_IN && entry_covers(e, remote, local))
			return e;
	}
	return NULL;
}

/* The default response rule, if the policy activates it. */
static int
default_response(const struct pol_policy *pol, struct ike_rulecopy *out,
    const char **why)
{
	size_t i;

	if (pol != NULL && pol->activate_default_rule)
		for (i = 0; i < pol->nrules; i++)
			if (pol->rules[i].default_response &&
			    pol->rules[i].active)
				return ike_rule_copy(pol, &pol->rules[i], out);
	*why = "no filter holds the traffic of these IDs";
	return PA_E_NOENT;
}

int
ike_rule_for_ids(const struct ike *ike, const struct pa_addr *peer,
    const struct ike_ts *remote, const struct ike_ts *local,
    struct ike_rulecopy *out, const char **why)
{
	const struct pol_policy *pol = ike->pol;
	const struct pol_spd_entry *e;
	size_t i, j;

	*why = "no policy";
	if (ike->spd != NULL) {
		if ((e = spd_for_ids(ike->spd, remote, local)) == NULL)
			return default_response(pol, out, why);
		if (e->action != POL_ACT_NEGOTIATE || e->rule == NULL ||
		    !rule_negotiates(e->rule)) {
			*why = e->action == POL_ACT_BLOCK ? "the filter that "
			    "holds these IDs blocks the traffic" : "the filter "
			    "that holds these IDs permits the traffic in clear";
			return PA_E_PERM;
		}
		if (!pa_addr_is_unset(&e->tunnel) &&
		    !pa_addr_eq(&e->tunnel, peer)) {
			*why = "the rule for these IDs tunnels to another peer";
			return PA_E_PERM;
		}
		if (ike_rule_copy(e->policy, e->rule, out) != 0)
			return PA_E_NOMEM;
		rule_slots(out, e);
		return 0;
	}
	/* No compiled SPD (tools and tests): the rules in their order. */
	if (pol == NULL)
		return PA_E_NOENT;
	for (i = 0; i < pol->nrules; i++) {
		const struct pol_rule *r = &pol->rules[i];
		bool tun = !pa_addr_is_unset(&r->tunnel);

		if (!rule_negotiates(r) || r->default_response ||
		    r->filterlist == NULL)
			continue;
		if (tun && !pa_addr_eq(&r->tunnel, peer))
			continue;
		for (j = 0; j < r->filterlist->nfilters; j++) {
			const struct pol_filter *f = &r->filterlist->filters[j];

			/* Traffic peer -> us, or us -> peer if mirrored. */
			if (ts_matches(f, remote, false, local, true) ||
			    (f->mirrored &&
			    ts_matches(f, local, true, remote, false)))
				return ike_rule_copy(pol, r, out);
		}
	}
	return default_response(pol, out, why);
}

static void
ep_to_ts(const struct pol_endpoint *ep, const struct pa_addr *pktaddr,
    struct ike_ts *ts)
{
	ts->net.addr.family = pktaddr->family;
	if (ep->kind == POL_ADDR_SUBNET || ep->kind == POL_ADDR_HOST) {
		ts->net = ep->prefix;
	} else if (ep->kind == POL_ADDR_ANY) {
		memset(&ts->net, 0, sizeof(ts->net));
		ts->net.addr.family = pktaddr->family;
	} else {
		ts->net.addr = *pktaddr;
		ts->net.len = pa_addr_bits(pktaddr->family);
	}
}

const struct pol_spd_entry *
ike_spd_match_out(const struct pol_spd *spd, const struct drv_sel *pkt)
{
	struct pol_pkt pk;

	memset(&pk, 0, sizeof(pk));
	pk.dir = POL_DIR_OUT;
	pk.src = pkt->src.addr;
	pk.dst = pkt->dst.addr;
	pk.proto = pkt->proto;
	pk.sport = pkt->sport;
	pk.dport = pkt->dport;
	return pol_spd_match(spd, &pk);
}

int
ike_rule_for_pkt(const struct ike *ike, const struct drv_sel *pkt,
    const struct pol_spd_entry *entry, struct ike_rulecopy *out,
    struct ike_ts *l, struct ike_ts *r)
{
	const struct pol_policy *pol = ike->pol;
	const struct pol_rule *rule = NULL;
	const struct pol_filter *flt = NULL;
	const struct pa_addr *src = &pkt->src.addr, *dst = &pkt->dst.addr;
	bool reversed = false;
	size_t i, j;
	int rc;

	if (entry != NULL) {
		rule = entry->rule;
		pol = entry->policy;
	} else if (pol != NULL) {
		for (i = 0; i < pol->nrules && rule == NULL; i++) {
			const struct pol_rule *ru = &pol->rules[i];

			if (!rule_negotiates(ru) || ru->default_response ||
			    ru->filterlist == NULL)
				continue;
			for (j = 0; j < ru->filterlist->nfilters; j++) {
				const struct pol_filter *f =
				    &ru->filterlist->filters[j];
				struct ike_ts s = { pkt->src, pkt->proto,
				    pkt->sport };
				struct ike_ts d = { pkt->dst, pkt->proto,
				    pkt->dport };

				if (ts_matches(f, &s, true, &d, false)) {
					rule = ru;
					flt = f;
					break;
				}
				if (f->mirrored &&
				    ts_matches(f, &d, false, &s, true)) {
					rule = ru;
					flt = f;
					reversed = true;
					break;
				}
			}
		}
	}
	if (rule == NULL || pol == NULL || !rule_negotiates(rule))
		return PA_E_NOENT;
	if ((rc = ike_rule_copy(pol, rule, out)) != 0)
		return rc;
	if (entry == NULL && ike->spd != NULL &&
	    (entry = ike_spd_match_out(ike->spd, pkt)) != NULL &&
	    entry->rule != rule)
		entry = NULL;
	rule_slots(out, entry);
	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	if (entry != NULL) {
		/* The entry is already oriented (out: src is our side). */
		l->proto = r->proto = entry->proto;
		l->port = entry->sport;
		r->port = entry->dport;
		if (out->tunnel) {
			l->net = entry->src;
			r->net = entry->dst;
		} else {
			l->net.addr = *src;
			l->net.len = pa_addr_bits(src->family);
			r->net.addr = *dst;
			r->net.len = pa_addr_bits(dst->family);
		}
		return 0;
	}
	l->proto = r->proto = flt != NULL ? flt->proto : pkt->proto;
	if (!out->tunnel || flt == NULL) {
		l->net.addr = *src;
		l->net.len = pa_addr_bits(src->family);
		r->net.addr = *dst;
		r->net.len = pa_addr_bits(dst->family);
	} else if (!reversed) {
		ep_to_ts(&flt->src, src, l);
		ep_to_ts(&flt->dst, dst, r);
	} else {
		ep_to_ts(&flt->dst, src, l);
		ep_to_ts(&flt->src, dst, r);
	}
	if (flt != NULL) {
		l->port = reversed ? flt->dport : flt->sport;
		r->port = reversed ? flt->sport : flt->dport;
	}
	return 0;
}

/* Phase 1. */

static void
mm_cipher_wire(enum pol_mm_cipher c, uint16_t *enc, uint16_t *keylen)
{
	switch (c) {
	case POL_MM_DES: *enc = ISK_ENC_DES; *keylen = 8; break;
	case POL_MM_3DES: *enc = ISK_ENC_3DES; *keylen = 24; break;
	case POL_MM_AES128: *enc = ISK_ENC_AES; *keylen = 16; break;
	case POL_MM_AES192: *enc = ISK_ENC_AES; *keylen = 24; break;
	case POL_MM_AES256: *enc = ISK_ENC_AES; *keylen = 32; break;
	default: *enc = 0; *keylen = 0; break;
	}
}

static uint16_t
integ_hash_wire(enum pol_integ h)
{
	switch (h) {
	case POL_INTEG_MD5: return ISK_HASH_MD5;
	case POL_INTEG_SHA1: return ISK_HASH_SHA1;
	case POL_INTEG_SHA256: return ISK_HASH_SHA256;
	default: return 0;
	}
}

size_t
ike_p1_offers(const struct ike *ike, const struct ike_rulecopy *rule,
    struct ike_p1 *out, size_t cap)
{
	const struct pol_isakmp *is;
	size_t i, a, n = 0;

	if (ike->pol == NULL)
		return 0;
	is = &ike->pol->isakmp;
	for (a = 0; a < rule->nauths; a++) {
		/* Only what we can authenticate with. */
		if (!(rule->auths[a] == ISK_AUTH_PSK && rule->psk != NULL) &&
		    !(rule->auths[a] == ISK_AUTH_RSA &&
		    ike_creds_can_sign(ike->creds)))
			continue;
		for (i = 0; i < is->nmethods && n < cap; i++) {
			const struct pol_mm_method *m = &is->methods[i];
			struct ike_p1 *p = &out[n];

			memset(p, 0, sizeof(*p));
			mm_cipher_wire(m->cipher, &p->enc, &p->keylen);
			p->hash = integ_hash_wire(m->hash);
			p->auth = rule->auths[a];
			p->group = m->dh_group;
			p->life_sec = m->life_sec != 0 ? m->life_sec :
			    is->mm_life_sec != 0 ? is->mm_life_sec :
			    POL_DEFAULT_MM_LIFE_SEC;
			p->life_kb = m->life_kb;
			p->qm_limit = m->qm_limit;
			if (p->enc == 0 || p->hash == 0 ||
			    oak_dh_len(p->group) == 0)
				continue;
			n++;
		}
	}
	return n;
}

/*
 * The attributes of a phase 1 transform into p. Strict: a value we cannot
 * read, a life duration without its type, or a PRF is an error. Loose
 * (reports only): such values are skipped, numbers kept as sent.
 */
static int
p1_attrs_read(const struct isk_xform *x, struct ike_p1 *p, bool strict)
{
	struct isk_attr a;
	struct rd r;
	uint64_t v;
	uint16_t life_type = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	p->life_sec = POL_DEFAULT_MM_LIFE_SEC;
	rd_init(&r, x->attrs.p, x->attrs.len);
	while ((rc = isk_attr_next(&r, &a)) == 0) {
		if ((rc = isk_attr_num(&a, &v)) != 0) {
			if (strict)
				return rc;
			continue;
		}
		if (!strict && v > UINT16_MAX && a.type != ISK_A1_LIFE_DUR)
			v = UINT16_MAX;
		switch (a.type) {
		case ISK_A1_ENC: p->enc = (uint16_t)v; break;
		case ISK_A1_HASH: p->hash = (uint16_t)v; break;
		case ISK_A1_AUTH: p->auth = (uint16_t)v; break;
		case ISK_A1_GROUP: p->group = (uint16_t)v; break;
		case ISK_A1_KEYLEN: p->keylen = (uint16_t)(v / 8); break;
		case ISK_A1_LIFE_TYPE: life_type = (uint16_t)v; break;
		case ISK_A1_LIFE_DUR:
			if (life_type == ISK_LIFE_SECONDS)
				p->life_sec = v > UINT32_MAX ? UINT32_MAX :
				    (uint32_t)v;
			else if (life_type == ISK_LIFE_KB)
				p->life_kb = v > UINT32_MAX ? UINT32_MAX :
				    (uint32_t)v;
			else if (strict)
				return PA_E_FORMAT;
			break;
		case ISK_A1_PRF:
			if (strict)
				return PA_E_NOTSUP;
			break;
		default:
			/* Windows does not abort on unknown attributes. */
			break;
		}
	}
	if (p->enc == ISK_ENC_DES)
		p->keylen = 8;
	else if (p->enc == ISK_ENC_3DES)
		p->keylen = 24;
	return rc == PA_E_NOENT || !strict ? 0 : rc;
}

int
ike_p1_from_xform(const struct isk_xform *x, struct ike_p1 *p)
{
	int rc;

	if (x->id != ISK_KEY_IKE) {
		memset(p, 0, sizeof(*p));
		return PA_E_NOTSUP;
	}
	if ((rc = p1_attrs_read(x, p, true)) != 0)
		return rc;
	if (oak_key_len(p->enc, (uint16_t)(p->keylen * 8)) == 0 ||
	    oak_hash_len(p->hash) == 0 || oak_dh_len(p->group) == 0)
		return PA_E_NOTSUP;
	return 0;
}

bool
ike_p1_eq(const struct ike_p1 *a, const struct ike_p1 *b)
{
	return a->enc == b->enc && a->keylen == b->keylen &&
	    a->hash == b->hash && a->auth == b->auth && a->group == b->group;
}

const char *
ike_p1_str(const struct ike_p1 *p, char *buf, size_t cap)
{
	char eu[16], hu[16], au_[16];
	const char *enc = p->enc == ISK_ENC_DES ? "DES" :
	    p->enc == ISK_ENC_3DES ? "3DES" :
	    p->enc == ISK_ENC_AES ? (p->keylen == 16 ? "AES128" :
	    p->keylen == 24 ? "AES192" : p->keylen == 32 ? "AES256" :
	    "AES?") : NULL;
	const char *h = p->hash == ISK_HASH_MD5 ? "MD5" :
	    p->hash == ISK_HASH_SHA1 ? "SHA1" :
	    p->hash == ISK_HASH_SHA256 ? "SHA256" : NULL;
	const char *au = p->auth == ISK_AUTH_PSK ? "PSK" :
	    p->auth == ISK_AUTH_RSA ? "RSA" :
	    p->auth == ISK_AUTH_GSS ? "Kerberos" : NULL;

	/* A value we do not know by name (the peer's) shows as its number. */
	if (enc == NULL) {
		snprintf(eu, sizeof(eu), "ENC%u", p->enc);
		enc = eu;
	}
	if (h == NULL) {
		snprintf(hu, sizeof(hu), "HASH%u", p->hash);
		h = hu;
	}
	if (au == NULL) {
		snprintf(au_, sizeof(au_), "AUTH%u", p->auth);
		au = au_;
	}
	snprintf(buf, cap, "%s-%s-%s-DH%u life %us", enc, h, au, p->group,
	    p->life_sec);
	return buf;
}

/* Append text to buf (cap bytes, NUL-terminated), "..." when it is full. */
static void
list_add(char *buf, size_t cap, const char *sep, const char *text)
{
	size_t len = strlen(buf);

	if (len + 4 >= cap)
		return;
	if (len + strlen(sep) + strlen(text) + 4 >= cap) {
		snprintf(buf + len, cap - len, "...");
		return;
	}
	snprintf(buf + len, cap - len, "%s%s", len > 0 ? sep : "", text);
}

const char *
ike_p1_list_str(const struct ike_p1 *v, size_t n, char *buf, size_t cap)
{
	char one[96];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		list_add(buf, cap, ", ", ike_p1_str(&v[i], one, sizeof(one)));
	if (n == 0)
		snprintf(buf, cap, "(none)");
	return buf;
}

/*
 * One phase 1 transform as the peer sent it, read leniently (values we do
 * not support show as numbers): for reports only.
 */
static void
p1_xform_loose(const struct isk_xform *x, struct ike_p1 *p)
{
	(void)p1_attrs_read(x, p, false);
}

const char *
ike_p1_peer_str(const struct isk_sa *sa, int (*conv)(const struct isk_xform *,
    struct ike_p1 *), char *buf, size_t cap)
{
	struct ike_p1 p;
	char one[96];
	size_t i;

	buf[0] = '\0';
	for (i = 0; sa->nprops > 0 && i < sa->props[0].nxf; i++) {
		const struct isk_xform *x = &sa->xf[sa->props[0].xf_first + i];

		if (x->id != ISK_KEY_IKE) {
			snprintf(one, sizeof(one), "transform id %u", x->id);
			list_add(buf, cap, ", ", one);
			continue;
		}
		if (conv == NULL || conv(x, &p) != 0)
			p1_xform_loose(x, &p);
		list_add(buf, cap, ", ", ike_p1_str(&p, one, sizeof(one)));
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "(none)");
	return buf;
}

int
ike_p1_write_xform(struct wr *w, struct isk_chain *xfs, const struct ike_p1 *p,
    uint8_t num, ike_p1_attr_fn extra, void *arg)
{
	size_t xf;
	int rc;

	if ((rc = isk_pl_open(w, xfs, ISK_PL_T, &xf)) != 0)
		return rc;
	wr_u8(w, num);
	wr_u8(w, ISK_KEY_IKE);
	wr_u16(w, 0);
	if ((rc = isk_attr_tv(w, ISK_A1_ENC, p->enc)) != 0)
		return rc;
	if (p->enc == ISK_ENC_AES && (rc = isk_attr_tv(w, ISK_A1_KEYLEN,
	    (uint16_t)(p->keylen * 8))) != 0)
		return rc;
	if ((rc = isk_attr_tv(w, ISK_A1_HASH, p->hash)) != 0 ||
	    (rc = isk_attr_tv(w, ISK_A1_AUTH, p->auth)) != 0 ||
	    (rc = isk_attr_tv(w, ISK_A1_GROUP, p->group)) != 0 ||
	    (rc = isk_attr_tv(w, ISK_A1_LIFE_TYPE, ISK_LIFE_SECONDS)) != 0 ||
	    (rc = isk_attr_num_put(w, ISK_A1_LIFE_DUR, p->life_sec)) != 0)
		return rc;
	if (extra != NULL && (rc = extra(w, p, arg)) != 0)
		return rc;
	return isk_pl_close(w, xf);
}

int
ike_p1_write_sa_with(struct wr *w, const struct ike_p1 *p, size_t n,
    ike_p1_attr_fn extra, void *arg)
{
	struct isk_chain props, xfs;
	size_t pr, i;
	int rc;

	if (n == 0 || n > 255)
		return PA_E_INVAL;
	wr_u32(w, ISK_DOI_IPSEC);
	wr_u32(w, ISK_SIT_IDENTITY_ONLY);
	isk_chain_init(&props);
	if ((rc = isk_pl_open(w, &props, ISK_PL_P, &pr)) != 0)
		return rc;
	wr_u8(w, 1);
	wr_u8(w, ISK_PROTO_ISAKMP);
	wr_u8(w, 0);
	wr_u8(w, (uint8_t)n);
	isk_chain_init(&xfs);
	for (i = 0; i < n; i++)
		if ((rc = ike_p1_write_xform(w, &xfs, &p[i], (uint8_t)(i + 1),
		    extra, arg)) != 0)
			return rc;
	return isk_pl_close(w, pr);
}

int
ike_p1_write_sa(struct wr *w, const struct ike_p1 *p, size_t n)
{
	return ike_p1_write_sa_with(w, p, n, NULL, NULL);
}

/* Phase 2. */

static uint16_t
esp_xform_id(enum pol_esp_cipher c, uint16_t *keybits)
{
	*keybits = 0;
	switch (c) {
	case POL_ESP_NONE: return ISK_ESP_NULL;
	case POL_ESP_DES: return ISK_ESP_DES;
	case POL_ESP_3DES: return ISK_ESP_3DES;
	case POL_ESP_AES128: *keybits = 128; return ISK_ESP_AES;
	case POL_ESP_AES192: *keybits = 192; return ISK_ESP_AES;
	case POL_ESP_AES256: *keybits = 256; return ISK_ESP_AES;
	case POL_ESP_AESGCM128: *keybits = 128; return ISK_ESP_AES_GCM_16;
	case POL_ESP_AESGCM192: *keybits = 192; return ISK_ESP_AES_GCM_16;
	case POL_ESP_AESGCM256: *keybits = 256; return ISK_ESP_AES_GCM_16;
	default: return 0;
	}
}

static uint16_t
auth_alg_wire(uint16_t integ)
{
	switch (integ) {
	case POL_INTEG_MD5: return ISK_AUTH_HMAC_MD5;
	case POL_INTEG_SHA1: return ISK_AUTH_HMAC_SHA1;
	case POL_INTEG_SHA256: return ISK_AUTH_HMAC_SHA256;
	default: return 0;
	}
}

static uint16_t
ah_xform_id(uint16_t integ)
{
	switch (integ) {
	case POL_INTEG_MD5: return ISK_AH_MD5;
	case POL_INTEG_SHA1: return ISK_AH_SHA;
	case POL_INTEG_SHA256: return ISK_AH_SHA256;
	default: return 0;
	}
}

static void
offer_to_p2(const struct pol_qm_offer *o, uint16_t pfs_group,
    uint16_t mm_group, bool tunnel, struct ike_p2 *p)
{
	memset(p, 0, sizeof(*p));
	p->ah = o->ah;
	p->ah_integ = (uint16_t)o->ah_integ;
	p->esp = o->esp;
	p->esp_cipher = (uint16_t)o->esp_cipher;
	p->esp_integ = (uint16_t)o->esp_integ;
	p->group = o->pfs ? (pfs_group != 0 ? pfs_group : mm_group) : 0;
	p->life_sec = o->life_sec != 0 ? o->life_sec : POL_DEFAULT_QM_LIFE_SEC;
	p->life_kb = o->life_kb;
	p->tunnel = tunnel;
}

static int
p2_write_xform(struct wr *w, struct isk_chain *xfs, const struct ike_p2 *p,
    uint8_t proto)
{
	size_t xf;
	uint16_t id, keybits = 0, auth, encap;
	int rc;

	if (proto == ISK_PROTO_ESP) {
		id = esp_xform_id((enum pol_esp_cipher)p->esp_cipher, &keybits);
		auth = auth_alg_wire(p->esp_integ);
	} else {
		id = ah_xform_id(p->ah_integ);
		auth = auth_alg_wire(p->ah_integ);
	}
	if (id == 0)
		return PA_E_INVAL;
	if ((rc = isk_pl_open(w, xfs, ISK_PL_T, &xf)) != 0)
		return rc;
	wr_u8(w, 1);
	wr_u8(w, (uint8_t)id);
	wr_u16(w, 0);
	if ((rc = isk_attr_tv(w, ISK_A2_LIFE_TYPE, ISK_LIFE_SECONDS)) != 0 ||
	    (rc = isk_attr_num_put(w, ISK_A2_LIFE_DUR, p->life_sec)) != 0)
		return rc;
	if (p->life_kb != 0 &&
	    ((rc = isk_attr_tv(w, ISK_A2_LIFE_TYPE, ISK_LIFE_KB)) != 0 ||
	    (rc = isk_attr_num_put(w, ISK_A2_LIFE_DUR, p->life_kb)) != 0))
		return rc;
	if (p->group != 0 &&
	    (rc = isk_attr_tv(w, ISK_A2_GROUP, p->group)) != 0)
		return rc;
	if (p->natt == 1)
		encap = p->tunnel ? ISK_ENCAP_UDP_TUNNEL : ISK_ENCAP_UDP_TRANSPORT;
	else if (p->natt == 2)
		encap = p->tunnel ? ISK_ENCAP_UDP_TUNNEL_DRAFT :
		    ISK_ENCAP_UDP_TRANSPORT_DRAFT;
	else
		encap = p->tunnel ? ISK_ENCAP_TUNNEL : ISK_ENCAP_TRANSPORT;
	if ((rc = isk_attr_tv(w, ISK_A2_ENCAP, encap)) != 0)
		return rc;
	if (auth != 0 && (rc = isk_attr_tv(w, ISK_A2_AUTH, auth)) != 0)
		return rc;
	if (keybits != 0 && (rc = isk_attr_tv(w, ISK_A2_KEYLEN, keybits)) != 0)
		return rc;
	return isk_pl_close(w, xf);
}

static int
p2_write_prop(struct wr *w, struct isk_chain *props, const struct ike_p2 *p,
    uint8_t num, uint8_t proto, uint32_t spi)
{
	struct isk_chain xfs;
	size_t pr;
	int rc;

	if ((rc = isk_pl_open(w, props, ISK_PL_P, &pr)) != 0)
		return rc;
	wr_u8(w, num);
	wr_u8(w, proto);
	wr_u8(w, 4);
	wr_u8(w, 1);
	wr_u32(w, spi);
	isk_chain_init(&xfs);
	if ((rc = p2_write_xform(w, &xfs, p, proto)) != 0)
		return rc;
	return isk_pl_close(w, pr);
}

static int
p2_write_bundle(struct wr *w, struct isk_chain *props, const struct ike_p2 *p,
    uint8_t num, uint32_t esp_spi, uint32_t ah_spi)
{
	int rc;

	if (p->ah && (rc = p2_write_prop(w, props, p, num, ISK_PROTO_AH,
	    ah_spi)) != 0)
		return rc;
	if (p->esp && (rc = p2_write_prop(w, props, p, num, ISK_PROTO_ESP,
	    esp_spi)) != 0)
		return rc;
	return 0;
}

int
ike_p2_write_sa(struct wr *w, const struct ike_rulecopy *rule,
    uint16_t mm_group, uint32_t esp_spi, uint32_t ah_spi, bool tunnel,
    uint8_t natt)
{
	struct isk_chain props;
	struct ike_p2 p;
	size_t i;
	int rc;

	if (rule->noffers == 0)
		return PA_E_NOENT;
	wr_u32(w, ISK_DOI_IPSEC);
	wr_u32(w, ISK_SIT_IDENTITY_ONLY);
	isk_chain_init(&props);
	for (i = 0; i < rule->noffers; i++) {
		offer_to_p2(&rule->offers[i], rule->pfs_group, mm_group, tunnel,
		    &p);
		p.natt = natt;
		if ((rc = p2_write_bundle(w, &props, &p, (uint8_t)(i + 1),
		    esp_spi, ah_spi)) != 0)
			return rc;
	}
	return wr_error(w);
}

int
ike_p2_write_one(struct wr *w, const struct ike_p2 *p, uint8_t num,
    uint32_t esp_spi, uint32_t ah_spi)
{
	struct isk_chain props;
	int rc;

	wr_u32(w, ISK_DOI_IPSEC);
	wr_u32(w, ISK_SIT_IDENTITY_ONLY);
	isk_chain_init(&props);
	if ((rc = p2_write_bundle(w, &props, p, num, esp_spi, ah_spi)) != 0)
		return rc;
	return wr_error(w);
}

/* The values of one phase 2 transform. */
struct p2x {
	uint8_t		id;
	uint16_t	auth;
	uint16_t	keybits;
	uint16_t	encap;
	uint16_t	group;
	uint32_t	life_sec;
	uint32_t	life_kb;
};

static int
p2x_parse(const struct isk_xform *x, struct p2x *p)
{
	struct isk_attr a;
	struct rd r;
	uint64_t v;
	uint16_t lt = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	p->id = x->id;
	p->life_sec = 28800;	/* RFC 2407 4.5 */
	rd_init(&r, x->attrs.p, x->attrs.len);
	while ((rc = isk_attr_next(&r, &a)) == 0) {
		if ((rc = isk_attr_num(&a, &v)) != 0)
			return rc;
		switch (a.type) {
		case ISK_A2_LIFE_TYPE: lt = (uint16_t)v; break;
		case ISK_A2_LIFE_DUR:
			if (v > UINT32_MAX)
				v = UINT32_MAX;
			if (lt == ISK_LIFE_SECONDS)
				p->life_sec = (uint32_t)v;
			else if (lt == ISK_LIFE_KB)
				p->life_kb = (uint32_t)v;
			else
				return PA_E_FORMAT;
			break;
		case ISK_A2_GROUP: p->group = (uint16_t)v; break;
		case ISK_A2_ENCAP: p->encap = (uint16_t)v; break;
		case ISK_A2_AUTH: p->auth = (uint16_t)v; break;
		case ISK_A2_KEYLEN: p->keybits = (uint16_t)v; break;
		case ISK_A2_ESN:
		case ISK_A2_KEYROUNDS:
			return PA_E_NOTSUP;
		default:
			break;
		}
	}
	return rc == PA_E_NOENT ? 0 : rc;
}

static bool
encap_tunnel(uint16_t e, bool *tunnel)
{
	switch (e) {
	case ISK_ENCAP_TUNNEL:
	case ISK_ENCAP_UDP_TUNNEL:
	case ISK_ENCAP_UDP_TUNNEL_DRAFT:
		*tunnel = true;
		return true;
	case 0:
	case ISK_ENCAP_TRANSPORT:
	case ISK_ENCAP_UDP_TRANSPORT:
	case ISK_ENCAP_UDP_TRANSPORT_DRAFT:
		*tunnel = false;
		return true;
	default:
		return false;
	}
}

/* Does transform x (of protocol proto) do what p wants? */
static bool
p2x_match(const struct p2x *x, uint8_t proto, const struct ike_p2 *p,
    bool peer_pfs_ok)
{
	uint16_t keybits = 0, id;
	bool tun;

	if (!encap_tunnel(x->encap, &tun) || tun != p->tunnel)
		return false;
	if (x->group != p->group && !(p->group == 0 && peer_pfs_ok &&
	    oak_dh_len(x->group) != 0))
		return false;
	if (proto == ISK_PROTO_ESP) {
		id = esp_xform_id((enum pol_esp_cipher)p->esp_cipher, &keybits);
		if (x->id != id || x->auth != auth_alg_wire(p->esp_integ))
			return false;
		/* AES and AES-GCM: the Key Length attribute is required. */
		if ((id == ISK_ESP_AES || id == ISK_ESP_AES_GCM_16) &&
		    x->keybits != keybits)
			return false;
		if (id != ISK_ESP_AES && id != ISK_ESP_AES_GCM_16 &&
		    x->keybits != 0 && x->keybits !=
		    (id == ISK_ESP_DES ? 64 : id == ISK_ESP_3DES ? 192 : 0))
			return false;
		return true;
	}
	return x->id == ah_xform_id(p->ah_integ) &&
	    x->auth == auth_alg_wire(p->ah_integ);
}

static int
prop_spi(const struct isk_prop *pr, uint32_t *spi)
{
	struct rd r;

	if (pr->spi.len != 4)
		return PA_E_FORMAT;
	rd_init(&r, pr->spi.p, 4);
	return rd_u32(&r, spi);
}

/*
 * Does the proposal group sa->props[first .. first+n) match p? On success
 * fill the SPIs and the peer's lifetimes/group into *got.
 */
static bool
group_match(const struct isk_sa *sa, size_t first, size_t n,
    const struct ike_p2 *p, bool peer_pfs_ok, struct ike_p2 *got,
    uint32_t *esp_spi, uint32_t *ah_spi)
{
	bool have_ah = false, have_esp = false;
	size_t i, k;

	*got = *p;
	got->propnum = sa->props[first].num;
	for (i = first; i < first + n; i++) {
		const struct isk_prop *pr = &sa->props[i];
		bool ok = false;

		if (pr->proto == ISK_PROTO_AH)
			have_ah = true;
		else if (pr->proto == ISK_PROTO_ESP)
			have_esp = true;
		else
			return false;
		for (k = pr->xf_first; k < pr->xf_first + pr->nxf && !ok; k++) {
			struct p2x x;

			if (p2x_parse(&sa->xf[k], &x) != 0)
				continue;
			if (!p2x_match(&x, pr->proto, p, peer_pfs_ok))
				continue;
			ok = true;
			got->group = x.group;
			if (x.life_sec > got->life_sec ||
			    (got->life_kb != 0 && (x.life_kb == 0 ||
			    x.life_kb > got->life_kb)))
				got->life_cut = true;
			if (x.life_sec < got->life_sec)
				got->life_sec = x.life_sec;
			if (x.life_kb != 0 && (got->life_kb == 0 ||
			    x.life_kb < got->life_kb))
				got->life_kb = x.life_kb;
		}
		if (!ok)
			return false;
		if (prop_spi(pr, pr->proto == ISK_PROTO_AH ? ah_spi : esp_spi)
		    != 0)
			return false;
	}
	return have_ah == p->ah && have_esp == p->esp;
}

int
ike_p2_select(const struct isk_sa *sa, const struct ike_rulecopy *rule,
    uint16_t mm_group, bool tunnel, struct ike_p2 *out, uint32_t *esp_out,
    uint32_t *ah_out, char *why, size_t whylen)
{
	struct ike_p2 want;
	size_t o, i, n;

	snprintf(why, whylen, "no offer of the filter action matched");
	for (o = 0; o < rule->noffers; o++) {
		offer_to_p2(&rule->offers[o], rule->pfs_group, mm_group, tunnel,
		    &want);
		for (i = 0; i < sa->nprops; i += n) {
			for (n = 1; i + n < sa->nprops &&
			    sa->props[i + n].num == sa->props[i].num; n++)
				;
			*esp_out = *ah_out = 0;
			if (group_match(sa, i, n, &want, true, out, esp_out,
			    ah_out))
				return 0;
		}
	}
	return PA_E_NOENT;
}

int
ike_p2_accept(const struct isk_sa *sa, const struct ike_rulecopy *rule,
    uint16_t mm_group, bool tunnel, struct ike_p2 *out, uint32_t *esp_out,
    uint32_t *ah_out)
{
	struct ike_p2 want;
	size_t o;

	if (sa->nprops == 0 || sa->nprops > 2 ||
	    (sa->nprops == 2 && sa->props[0].num != sa->props[1].num))
		return PA_E_FORMAT;
	for (o = 0; o < rule->noffers; o++) {
		offer_to_p2(&rule->offers[o], rule->pfs_group, mm_group, tunnel,
		    &want);
		*esp_out = *ah_out = 0;
		if (group_match(sa, 0, sa->nprops, &want, false, out, esp_out,
		    ah_out))
			return 0;
	}
	return PA_E_NOENT;
}

/* One offer for a report: the policy syntax, then PFS group and mode. */
static void
offer_text(const struct pol_qm_offer *o, uint16_t group, bool tunnel,
    char *buf, size_t cap)
{
	struct pol_qm_offer c = *o;
	char t[96];

	c.pfs = false;
	pol_offer_format(&c, t, sizeof(t));
	if (group != 0)
		snprintf(buf, cap, "%s PFS DH%u %s", t, group,
		    tunnel ? "tunnel" : "transport");
	else
		snprintf(buf, cap, "%s %s", t, tunnel ? "tunnel" : "transport");
}

const char *
ike_p2_offers_str(const struct ike_rulecopy *rule, uint16_t mm_group,
    bool tunnel, char *buf, size_t cap)
{
	char one[128];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < rule->noffers; i++) {
		const struct pol_qm_offer *o = &rule->offers[i];

		offer_text(o, o->pfs ? (rule->pfs_group != 0 ? rule->pfs_group :
		    mm_group) : 0, tunnel, one, sizeof(one));
		list_add(buf, cap, ", ", one);
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "(none)");
	return buf;
}

static bool
integ_from_wire(uint16_t auth, enum pol_integ *i)
{
	switch (auth) {
	case 0: *i = POL_INTEG_NONE; return true;
	case ISK_AUTH_HMAC_MD5: *i = POL_INTEG_MD5; return true;
	case ISK_AUTH_HMAC_SHA1: *i = POL_INTEG_SHA1; return true;
	case ISK_AUTH_HMAC_SHA256: *i = POL_INTEG_SHA256; return true;
	default: return false;
	}
}

static bool
esp_from_wire(uint8_t id, uint16_t bits, enum pol_esp_cipher *c)
{
	switch (id) {
	case ISK_ESP_NULL: *c = POL_ESP_NONE; return true;
	case ISK_ESP_DES: *c = POL_ESP_DES; return true;
	case ISK_ESP_3DES: *c = POL_ESP_3DES; return true;
	case ISK_ESP_AES:
		*c = bits == 128 ? POL_ESP_AES128 : bits == 192 ?
		    POL_ESP_AES192 : POL_ESP_AES256;
		return bits == 128 || bits == 192 || bits == 256;
	case ISK_ESP_AES_GCM_16:
		*c = bits == 128 ? POL_ESP_AESGCM128 : bits == 192 ?
		    POL_ESP_AESGCM192 : POL_ESP_AESGCM256;
		return bits == 128 || bits == 192 || bits == 256;
	default:
		return false;
	}
}

/* Transform x of protocol proto into o; false: not expressible. */
static bool
p2x_offer(const struct p2x *x, uint8_t proto, struct pol_qm_offer *o)
{
	enum pol_integ in;
	enum pol_esp_cipher c;

	if (!integ_from_wire(x->auth, &in))
		return false;
	if (proto == ISK_PROTO_AH) {
		if (ah_xform_id((uint16_t)in) != x->id || in == POL_INTEG_NONE)
			return false;
		o->ah = true;
		o->ah_integ = in;
		return true;
	}
	if (proto != ISK_PROTO_ESP || !esp_from_wire(x->id, x->keybits, &c))
		return false;
	o->esp = true;
	o->esp_cipher = c;
	o->esp_integ = in;
	return true;
}

/* One proposal group of the peer (props[first .. first+n)) as text. */
static void
p2_group_text(const struct isk_sa *sa, size_t first, size_t n, char *buf,
    size_t cap)
{
	const struct isk_prop *last = &sa->props[first + n - 1];
	char one[160];
	size_t k, i;

	for (k = last->xf_first; k < last->xf_first + last->nxf; k++) {
		struct pol_qm_offer o;
		struct p2x x;
		bool ok = true, tun = false;

		memset(&o, 0, sizeof(o));
		/* The first transform of the other protocols of the group. */
		for (i = first; i + 1 < first + n && ok; i++)
			ok = sa->props[i].nxf > 0 &&
			    p2x_parse(&sa->xf[sa->props[i].xf_first], &x) == 0 &&
			    p2x_offer(&x, sa->props[i].proto, &o);
		if (ok && p2x_parse(&sa->xf[k], &x) == 0 &&
		    p2x_offer(&x, last->proto, &o)) {
			o.life_sec = x.life_sec;
			o.life_kb = x.life_kb;
			(void)encap_tunnel(x.encap, &tun);
			offer_text(&o, x.group, tun, one, sizeof(one));
		} else
			snprintf(one, sizeof(one), "%s transform %u (not one "
			    "we know)", last->proto == ISK_PROTO_AH ? "AH" :
			    last->proto == ISK_PROTO_ESP ? "ESP" : "IPCOMP",
			    sa->xf[k].id);
		list_add(buf, cap, ", ", one);
	}
}

const char *
ike_p2_peer_str(const struct isk_sa *sa, char *buf, size_t cap)
{
	size_t i, n;

	buf[0] = '\0';
	for (i = 0; i < sa->nprops; i += n) {
		for (n = 1; i + n < sa->nprops &&
		    sa->props[i + n].num == sa->props[i].num; n++)
			;
		p2_group_text(sa, i, n, buf, cap);
	}
	if (buf[0] == '\0')
		snprintf(buf, cap, "(none)");
	return buf;
}

const char *
ike_p2_str(const struct ike_p2 *p, char *buf, size_t cap)
{
	char esp[48] = "", ah[24] = "";

	if (p->esp && pol_esp_cipher_is_gcm((enum pol_esp_cipher)p->esp_cipher))
		snprintf(esp, sizeof(esp), "ESP[%s]",
		    pol_esp_cipher_name((enum pol_esp_cipher)p->esp_cipher));
	else if (p->esp)
		snprintf(esp, sizeof(esp), "ESP[%s,%s]",
		    pol_esp_cipher_name((enum pol_esp_cipher)p->esp_cipher),
		    pol_integ_name((enum pol_integ)p->esp_integ));
	if (p->ah)
		snprintf(ah, sizeof(ah), "AH[%s]%s",
		    pol_integ_name((enum pol_integ)p->ah_integ),
		    p->esp ? "+" : "");
	snprintf(buf, cap, "%s%s %s PFS %u life %us/%ukb", ah, esp,
	    p->tunnel ? "tunnel" : "transport", p->group, p->life_sec,
	    p->life_kb);
	return buf;
}

/* IDs. */

int
ike_ts_write(struct wr *w, const struct ike_ts *t)
{
	uint8_t full = pa_addr_bits(t->net.addr.family);
	size_t alen = pa_addr_len(t->net.addr.family);
	bool v4 = t->net.addr.family == AF_INET;

	if (alen == 0)
		return PA_E_INVAL;
	if (t->net.len == full) {
		wr_u8(w, v4 ? ISK_ID_IPV4 : ISK_ID_IPV6);
		wr_u8(w, t->proto);
		wr_u16(w, t->port);
		wr_bytes(w, t->net.addr.a, alen);
	} else {
		struct pa_addr mask;

		pa_len_to_mask(t->net.addr.family, t->net.len, &mask);
		wr_u8(w, v4 ? ISK_ID_IPV4_SUBNET : ISK_ID_IPV6_SUBNET);
		wr_u8(w, t->proto);
		wr_u16(w, t->port);
		wr_bytes(w, t->net.addr.a, alen);
		wr_bytes(w, mask.a, alen);
	}
	return wr_error(w);
}

int
ike_ts_from_id(const struct isk_id *id, struct ike_ts *t)
{
	struct pa_addr mask;
	struct rd r;
	size_t alen;
	int rc;

	memset(t, 0, sizeof(*t));
	t->proto = id->proto;
	t->port = id->port;
	switch (id->type) {
	case ISK_ID_IPV4:
	case ISK_ID_IPV4_SUBNET:
		t->net.addr.family = AF_INET;
		break;
	case ISK_ID_IPV6:
	case ISK_ID_IPV6_SUBNET:
		t->net.addr.family = AF_INET6;
		break;
	default:
		return PA_E_NOTSUP;
	}
	alen = pa_addr_len(t->net.addr.family);
	rd_init(&r, id->data.p, id->data.len);
	if ((rc = rd_copy(&r, t->net.addr.a, alen)) != 0)
		return rc;
	if (id->type == ISK_ID_IPV4 || id->type == ISK_ID_IPV6) {
		t->net.len = pa_addr_bits(t->net.addr.family);
		return rd_empty(&r) ? 0 : PA_E_TRAILING;
	}
	memset(&mask, 0, sizeof(mask));
	mask.family = t->net.addr.family;
	if ((rc = rd_copy(&r, mask.a, alen)) != 0)
		return rc;
	if ((rc = pa_mask_to_len(&mask, &t->net.len)) != 0)
		return rc;
	pa_prefix_normalize(&t->net);
	return rd_empty(&r) ? 0 : PA_E_TRAILING;
}

bool
ike_ts_eq(const struct ike_ts *a, const struct ike_ts *b)
{
	return a->net.len == b->net.len && pa_addr_eq(&a->net.addr,
	    &b->net.addr) && a->proto == b->proto && a->port == b->port;
}

int
ike_id_text(const struct isk_id *id, char *buf, size_t cap)
{
	struct ike_ts t;
	char a[PA_PREFIXSTRLEN];

	if (ike_ts_from_id(id, &t) == 0) {
		if (t.net.len == pa_addr_bits(t.net.addr.family))
			snprintf(buf, cap, "%s",
			    pa_addr_str(&t.net.addr, a, sizeof(a)));
		else
			snprintf(buf, cap, "%s",
			    pa_prefix_str(&t.net, a, sizeof(a)));
		return 0;
	}
	if (id->type == ISK_ID_FQDN || id->type == ISK_ID_USER_FQDN) {
		size_t i, n = id->data.len < cap - 1 ? id->data.len : cap - 1;
		struct rd r;
		uint8_t c;

		rd_init(&r, id->data.p, id->data.len);
		for (i = 0; i < n && rd_u8(&r, &c) == 0; i++)
			buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		buf[i] = '\0';
		return 0;
	}
	snprintf(buf, cap, "ID type %u (%zu bytes)", id->type, id->data.len);
	return 0;
}
