/*
 * Consistency checks of single objects, and pol_store_resolve(): the
 * references between objects, unique GUIDs, at most one assigned policy.
 * pol_store_dup() is here too: a copy is re-pointed through
 * pol_store_resolve(), and model.c (the lookups resolve uses) stays below
 * this file instead of calling back up into it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int
bad(char *what, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, cap, fmt, ap);
	va_end(ap);
	return PA_E_INVAL;
}

static bool
mm_cipher_ok(enum pol_mm_cipher c)
{
	return c == POL_MM_DES || c == POL_MM_3DES || c == POL_MM_AES128 ||
	    c == POL_MM_AES192 || c == POL_MM_AES256;
}

static bool
integ_ok(enum pol_integ h)
{
	return h == POL_INTEG_MD5 || h == POL_INTEG_SHA1 ||
	    h == POL_INTEG_SHA256;
}

static bool
esp_cipher_ok(enum pol_esp_cipher c)
{
	return c >= POL_ESP_NONE && c <= POL_ESP_AESGCM256;
}

int
pol_check_mm_method(const struct pol_mm_method *m, char *what, size_t cap)
{
	if (!mm_cipher_ok(m->cipher))
		return bad(what, cap, "unknown Main Mode cipher %d",
		    (int)m->cipher);
	if (!integ_ok(m->hash))
		return bad(what, cap, "Main Mode hash must be MD5, SHA1 or "
		    "SHA256");
	if (!pol_dh_group_valid(m->dh_group))
		return bad(what, cap, "unsupported Diffie-Hellman group %u "
		    "(1, 2, 14, 19 or 20)", (unsigned)m->dh_group);
	return 0;
}

int
pol_check_isakmp(const struct pol_isakmp *k, char *what, size_t cap)
{
	size_t i;
	int rc;

	if (k->nmethods == 0)
		return bad(what, cap, "the ISAKMP policy has no security "
		    "method");
	if (k->mm_life_sec == 0)
		return bad(what, cap, "Main Mode lifetime must not be 0");
	if (k->nmethods > POL_MAX_METHODS)
		return bad(what, cap, "%zu ISAKMP security methods: at most %d",
		    k->nmethods, POL_MAX_METHODS);
	for (i = 0; i < k->nmethods; i++)
		if ((rc = pol_check_mm_method(&k->methods[i], what, cap)) != 0)
			return rc;
	return 0;
}

int
pol_check_offer(const struct pol_qm_offer *o, char *what, size_t cap)
{
	if (!o->ah && !o->esp)
		return bad(what, cap, "a security method needs AH or ESP");
	if (o->ah && !integ_ok(o->ah_integ))
		return bad(what, cap, "AH integrity must be MD5, SHA1 or "
		    "SHA256");
	if (o->esp) {
		if (!esp_cipher_ok(o->esp_cipher))
			return bad(what, cap, "unknown ESP cipher %d",
			    (int)o->esp_cipher);
		if (o->esp_integ != POL_INTEG_NONE && !integ_ok(o->esp_integ))
			return bad(what, cap, "unknown ESP integrity %d",
			    (int)o->esp_integ);
		if (pol_esp_cipher_is_gcm(o->esp_cipher) &&
		    o->esp_integ != POL_INTEG_NONE)
			return bad(what, cap, "%s includes its integrity: no "
			    "ESP integrity algorithm with it",
			    pol_esp_cipher_name(o->esp_cipher));
		if (o->esp_cipher == POL_ESP_NONE &&
		    o->esp_integ == POL_INTEG_NONE)
			return bad(what, cap, "ESP with neither encryption "
			    "nor integrity");
	}
	if (o->life_sec == 0)
		return bad(what, cap, "Quick Mode lifetime must not be 0 s");
	return 0;
}

int
pol_check_filteraction(const struct pol_filteraction *fa, char *what,
    size_t cap)
{
	size_t i;
	int rc;

	if (fa->name == NULL || fa->name[0] == '\0')
		return bad(what, cap, "filter action without a name");
	if (fa->action != POL_ACT_PERMIT && fa->action != POL_ACT_BLOCK &&
	    fa->action != POL_ACT_NEGOTIATE)
		return bad(what, cap, "unknown action %d", (int)fa->action);
	if (fa->action == POL_ACT_NEGOTIATE && fa->noffers == 0)
		return bad(what, cap, "action negotiate needs at least one "
		    "security method");
	if (fa->noffers > POL_MAX_OFFERS)
		return bad(what, cap, "%zu security methods: at most %d",
		    fa->noffers, POL_MAX_OFFERS);
	if (fa->pfs_group != 0 && !pol_dh_group_valid(fa->pfs_group))
		return bad(what, cap, "unsupported PFS group %u",
		    (unsigned)fa->pfs_group);
	for (i = 0; i < fa->noffers; i++)
		if ((rc = pol_check_offer(&fa->offers[i], what, cap)) != 0)
			return rc;
	return 0;
}

int
pol_check_endpoint(const struct pol_endpoint *e, const char *side,
    char *what, size_t cap)
{
	struct pa_prefix n;
	size_t i;

	switch (e->kind) {
	case POL_ADDR_ANY:
	case POL_ADDR_ME:
		return 0;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		if (e->prefix.addr.family != AF_INET &&
		    e->prefix.addr.family != AF_INET6)
			return bad(what, cap, "%s address has no family",
			    side);
		if (e->prefix.len > pa_addr_bits(e->prefix.addr.family))
			return bad(what, cap, "%s prefix length %u too long",
			    side, (unsigned)e->prefix.len);
		if (e->kind == POL_ADDR_HOST &&
		    e->prefix.len != pa_addr_bits(e->prefix.addr.family))
			return bad(what, cap, "%s host address with a prefix "
			    "length", side);
		n = e->prefix;
		pa_prefix_normalize(&n);
		if (!pa_addr_eq(&n.addr, &e->prefix.addr))
			return bad(what, cap, "%s subnet has host bits set "
			    "beyond /%u", side, (unsigned)e->prefix.len);
		return 0;
	case POL_ADDR_DNS:
		if (e->dns == NULL || e->dns[0] == '\0')
			return bad(what, cap, "%s DNS name is empty", side);
		for (i = 0; i < e->nresolved; i++)
			if (e->resolved[i].family != AF_INET &&
			    e->resolved[i].family != AF_INET6)
				return bad(what, cap, "%s DNS name has a bad "
				    "resolved address", side);
		return 0;
	}
	return bad(what, cap, "%s address kind %d unknown", side, (int)e->kind);
}

static uint8_t
endpoint_family(const struct pol_endpoint *e)
{
	if (e->kind == POL_ADDR_HOST || e->kind == POL_ADDR_SUBNET)
		return e->prefix.addr.family;
	return 0;
}

int
pol_check_filter(const struct pol_filter *f, char *what, size_t cap)
{
	uint8_t fs, fd;
	int rc;

	if ((rc = pol_check_endpoint(&f->src, "source", what, cap)) != 0 ||
	    (rc = pol_check_endpoint(&f->dst, "destination", what, cap)) != 0)
		return rc;
	fs = endpoint_family(&f->src);
	fd = endpoint_family(&f->dst);
	if (fs != 0 && fd != 0 && fs != fd)
		return bad(what, cap, "source and destination mix IPv4 and "
		    "IPv6");
	if ((f->sport != 0 || f->dport != 0) && !pol_proto_has_ports(f->proto))
		return bad(what, cap, "a port on protocol %u, which has no "
		    "ports (only TCP and UDP have)", (unsigned)f->proto);
	return 0;
}

int
pol_check_auth(const struct pol_auth *a, char *what, size_t cap)
{
	switch (a->kind) {
	case POL_AUTH_KERBEROS:
		return 0;
	case POL_AUTH_CERT:
		if (a->ca_dn == NULL || a->ca_dn[0] == '\0')
			return bad(what, cap, "certificate authentication "
			    "without a CA name");
		return 0;
	case POL_AUTH_PSK:
		if (a->psk == NULL && (a->psk_ref == NULL ||
		    a->psk_ref[0] == '\0'))
			return bad(what, cap, "preshared key authentication "
			    "without a key");
		if (a->psk != NULL && a->psk->len == 0)
			return bad(what, cap, "empty preshared key");
		return 0;
	}
	return bad(what, cap, "unknown authentication kind %d", (int)a->kind);
}

int
pol_check_rule(const struct pol_rule *r, char *what, size_t cap)
{
	size_t i;
	int rc;

	if (r->conntype != POL_CONN_ALL && r->conntype != POL_CONN_LAN &&
	    r->conntype != POL_CONN_REMOTE)
		return bad(what, cap, "unknown connection type %d",
		    (int)r->conntype);
	if (!r->default_response && pa_guid_is_nil(&r->filterlist_id))
		return bad(what, cap, "rule without a filter list");
	if (pa_guid_is_nil(&r->filteraction_id))
		return bad(what, cap, "rule without a filter action");
	if (r->tunnel.family != 0 && r->tunnel.family != AF_INET &&
	    r->tunnel.family != AF_INET6)
		return bad(what, cap, "tunnel endpoint has a bad family");
	if (r->nauth > POL_MAX_AUTHS)
		return bad(what, cap, "%zu authentication methods: at most %d",
		    r->nauth, POL_MAX_AUTHS);
	for (i = 0; i < r->nauth; i++)
		if ((rc = pol_check_auth(&r->auth[i], what, cap)) != 0)
			return rc;
	return 0;
}

int
pol_check_policy(const struct pol_policy *p, char *what, size_t cap)
{
	size_t i, ndef = 0;

	if (p->name == NULL || p->name[0] == '\0')
		return bad(what, cap, "policy without a name");
	if (p->poll_sec == 0)
		return bad(what, cap, "polling interval must not be 0");
	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].default_response)
			ndef++;
	if (ndef > 1)
		return bad(what, cap, "more than one default response rule");
	return pol_check_isakmp(&p->isakmp, what, cap);
}

/* ---- the store ---- */

struct guid_ent {
	struct pa_guid	 id;
	const char	*kind;
	const char	*name;
};

static int
guid_ent_cmp(const void *a, const void *b)
{
	return memcmp(((const struct guid_ent *)a)->id.b,
	    ((const struct guid_ent *)b)->id.b, 16);
}

static void
where_set(struct pol_err *err, const char *kind, const char *name,
    const char *sub, const char *subname)
{
	if (sub == NULL)
		snprintf(err->where, sizeof(err->where), "%s '%s'", kind,
		    name ? name : "");
	else
		snprintf(err->where, sizeof(err->where), "%s '%s' %s '%s'",
		    kind, name ? name : "", sub, subname ? subname : "");
}

static int
check_guids(const struct pol_store *s, struct pol_err *err)
{
	struct guid_ent *v = NULL;
	size_t n = 0, cap = 0, i, j;
	char g[PA_GUIDSTRLEN];
	int rc = 0;

	cap = s->npolicies * 2 + s->nfilterlists + s->nfilteractions;
	for (i = 0; i < s->npolicies; i++)
		cap += s->policies[i].nrules;
	for (i = 0; i < s->nfilterlists; i++)
		cap += s->filterlists[i].nfilters;
	if (cap == 0)
		return 0;
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return PA_E_NOMEM;
#define ADD(g_, k_, n_) do {						\
	if (!pa_guid_is_nil(g_)) {					\
		v[n].id = *(g_); v[n].kind = (k_); v[n].name = (n_); n++; \
	}								\
} while (0)
	for (i = 0; i < s->npolicies; i++) {
		const struct pol_policy *p = &s->policies[i];

		ADD(&p->id, "policy", p->name);
		ADD(&p->isakmp.id, "ISAKMP policy of", p->name);
		for (j = 0; j < p->nrules; j++)
			ADD(&p->rules[j].id, "rule", p->rules[j].name);
	}
	for (i = 0; i < s->nfilterlists; i++) {
		const struct pol_filterlist *fl = &s->filterlists[i];

		ADD(&fl->id, "filter list", fl->name);
		for (j = 0; j < fl->nfilters; j++)
			ADD(&fl->filters[j].id, "filter in", fl->name);
	}
	for (i = 0; i < s->nfilteractions; i++)
		ADD(&s->filteractions[i].id, "filter action",
		    s->filteractions[i].name);
#undef ADD
	qsort(v, n, sizeof(*v), guid_ent_cmp);
	for (i = 1; i < n; i++)
		if (pa_guid_eq(&v[i - 1].id, &v[i].id)) {
			where_set(err, v[i].kind, v[i].name, NULL, NULL);
			snprintf(err->what, sizeof(err->what),
			    "duplicate GUID %s (also used by %s '%s')",
			    pa_guid_str(&v[i].id, g), v[i - 1].kind,
			    v[i - 1].name ? v[i - 1].name : "");
			rc = PA_E_EXIST;
			break;
		}
	free(v);
	return rc;
}

/* ISAKMP-Options bit 1 (the directory's form): certificate-to-account
 * mapping for every certificate method of the policy, shown as theirs. */
static void
certmap_all(struct pol_policy *p)
{
	size_t j, k;

	if (!(p->isakmp.options & POL_ISAKMP_OPT_CERTMAP))
		return;
	for (j = 0; j < p->nrules; j++)
		for (k = 0; k < p->rules[j].nauth; k++)
			if (p->rules[j].auth[k].kind == POL_AUTH_CERT)
				p->rules[j].auth[k].certmap = true;
}

int
pol_store_resolve(struct pol_store *s, struct pol_err *err)
{
	const struct pol_policy *assigned = NULL;
	char g[PA_GUIDSTRLEN];
	size_t i, j;
	int rc;

	memset(err, 0, sizeof(*err));
	for (i = 0; i < s->nfilterlists; i++) {
		struct pol_filterlist *fl = &s->filterlists[i];

		if (pa_guid_is_nil(&fl->id)) {
			where_set(err, "filter list", fl->name, NULL, NULL);
			snprintf(err->what, sizeof(err->what), "nil GUID");
			return PA_E_INVAL;
		}
		for (j = 0; j < fl->nfilters; j++)
			if ((rc = pol_check_filter(&fl->filters[j], err->what,
			    sizeof(err->what))) != 0) {
				snprintf(err->where, sizeof(err->where),
				    "filter list '%s' filter %zu",
				    fl->name ? fl->name : "", j + 1);
				return rc;
			}
	}
	for (i = 0; i < s->nfilteractions; i++) {
		struct pol_filteraction *fa = &s->filteractions[i];

		if (pa_guid_is_nil(&fa->id)) {
			where_set(err, "filter action", fa->name, NULL, NULL);
			snprintf(err->what, sizeof(err->what), "nil GUID");
			return PA_E_INVAL;
		}
		if ((rc = pol_check_filteraction(fa, err->what,
		    sizeof(err->what))) != 0) {
			where_set(err, "filter action", fa->name, NULL, NULL);
			return rc;
		}
	}
	for (i = 0; i < s->npolicies; i++) {
		struct pol_policy *p = &s->policies[i];

		if (pa_guid_is_nil(&p->id)) {
			where_set(err, "policy", p->name, NULL, NULL);
			snprintf(err->what, sizeof(err->what), "nil GUID");
			return PA_E_INVAL;
		}
		if ((rc = pol_check_policy(p, err->what,
		    sizeof(err->what))) != 0) {
			where_set(err, "policy", p->name, NULL, NULL);
			return rc;
		}
		certmap_all(p);
		if (p->assigned) {
			if (assigned != NULL) {
				where_set(err, "policy", p->name, NULL, NULL);
				snprintf(err->what, sizeof(err->what),
				    "two policies assigned ('%s' and '%s'); "
				    "at most one may be",
				    assigned->name, p->name);
				return PA_E_INVAL;
			}
			assigned = p;
		}
		for (j = 0; j < p->nrules; j++) {
			struct pol_rule *r = &p->rules[j];

			r->filterlist = NULL;
			r->filteraction = NULL;
			if (pa_guid_is_nil(&r->id)) {
				where_set(err, "policy", p->name, "rule",
				    r->name);
				snprintf(err->what, sizeof(err->what),
				    "nil GUID");
				return PA_E_INVAL;
			}
			if ((rc = pol_check_rule(r, err->what,
			    sizeof(err->what))) != 0) {
				where_set(err, "policy", p->name, "rule",
				    r->name);
				return rc;
			}
			if (!pa_guid_is_nil(&r->filterlist_id) &&
			    (r->filterlist = pol_store_filterlist_by_id(s,
			    &r->filterlist_id)) == NULL) {
				where_set(err, "policy", p->name, "rule",
				    r->name);
				snprintf(err->what, sizeof(err->what),
				    "filter list %s does not exist",
				    pa_guid_str(&r->filterlist_id, g));
				return PA_E_REF;
			}
			if ((r->filteraction = pol_store_filteraction_by_id(s,
			    &r->filteraction_id)) == NULL) {
				where_set(err, "policy", p->name, "rule",
				    r->name);
				snprintf(err->what, sizeof(err->what),
				    "filter action %s does not exist",
				    pa_guid_str(&r->filteraction_id, g));
				return PA_E_REF;
			}
			if (r->filteraction->action == POL_ACT_NEGOTIATE &&
			    r->nauth == 0) {
				where_set(err, "policy", p->name, "rule",
				    r->name);
				snprintf(err->what, sizeof(err->what),
				    "a negotiating rule needs at least one "
				    "authentication method");
				return PA_E_INVAL;
			}
		}
	}
	return check_guids(s, err);
}

struct pol_store *
pol_store_dup(const struct pol_store *s)
{
	struct pol_store *d;
	struct pol_err err;
	size_t i;

	if ((d = pol_store_new()) == NULL)
		return NULL;
	for (i = 0; i < s->npolicies; i++) {
		struct pol_policy *p = pol_store_add_policy(d);

		if (p == NULL || pol_policy_copy(p, &s->policies[i]) != 0)
			goto fail;
	}
	for (i = 0; i < s->nfilterlists; i++) {
		struct pol_filterlist *fl = pol_store_add_filterlist(d);

		if (fl == NULL ||
		    pol_filterlist_copy(fl, &s->filterlists[i]) != 0)
			goto fail;
	}
	for (i = 0; i < s->nfilteractions; i++) {
		struct pol_filteraction *fa = pol_store_add_filteraction(d);

		if (fa == NULL ||
		    pol_filteraction_copy(fa, &s->filteractions[i]) != 0)
			goto fail;
	}
	/* Re-point the borrowed pointers at the copy's own objects. */
	if (pol_store_resolve(d, &err) != 0) {
		size_t j;

		for (i = 0; i < d->npolicies; i++)
			for (j = 0; j < d->policies[i].nrules; j++) {
				d->policies[i].rules[j].filterlist = NULL;
				d->policies[i].rules[j].filteraction = NULL;
			}
	}
	return d;
fail:
	pol_store_free(d);
	return NULL;
}
