/*
 * The policy model: ownership (new/free/copy), growth of the object
 * arrays, lookups and name tables. Validation, and pol_store_dup() (a copy
 * re-pointed through pol_store_resolve()), live in check.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"

static char *
str_dup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

/* strdup that tells a missing source apart from a failed allocation. */
static int
str_copy(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	if ((*dst = strdup(src)) == NULL)
		return PA_E_NOMEM;
	return 0;
}

/* Append one zeroed element of size sz to *arr holding *n elements. */
static void *
arr_grow(void *arrp, size_t *n, size_t sz)
{
	void **arr = arrp;
	uint8_t *p;

	if (*n >= SIZE_MAX / sz - 1)
		return NULL;
	if ((p = realloc(*arr, (*n + 1) * sz)) == NULL)
		return NULL;
	*arr = p;
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

static void
arr_remove(void *arr, size_t *n, size_t sz, size_t i)
{
	uint8_t *p = arr;

	if (i >= *n)
		return;
	memmove(p + i * sz, p + (i + 1) * sz, (*n - i - 1) * sz);
	(*n)--;
}

/* Copy an array of plain structs (no pointers inside). */
static int
arr_copy_plain(void *dstp, const void *src, size_t n, size_t sz)
{
	void **dst = dstp;

	*dst = NULL;
	if (n == 0)
		return 0;
	if ((*dst = calloc(n, sz)) == NULL)
		return PA_E_NOMEM;
	memcpy(*dst, src, n * sz);
	return 0;
}

/* ---- clear ---- */

void
pol_endpoint_clear(struct pol_endpoint *e)
{
	free(e->dns);
	free(e->resolved);
	memset(e, 0, sizeof(*e));
}

void
pol_filter_clear(struct pol_filter *f)
{
	free(f->description);
	pol_endpoint_clear(&f->src);
	pol_endpoint_clear(&f->dst);
	memset(f, 0, sizeof(*f));
}

void
pol_filterlist_clear(struct pol_filterlist *fl)
{
	size_t i;

	free(fl->name);
	free(fl->description);
	for (i = 0; i < fl->nfilters; i++)
		pol_filter_clear(&fl->filters[i]);
	free(fl->filters);
	memset(fl, 0, sizeof(*fl));
}

void
pol_filteraction_clear(struct pol_filteraction *fa)
{
	free(fa->name);
	free(fa->description);
	free(fa->offers);
	memset(fa, 0, sizeof(*fa));
}

void
pol_auth_clear(struct pol_auth *a)
{
	free(a->ca_dn);
	pa_secret_free(a->psk);
	free(a->psk_ref);
	memset(a, 0, sizeof(*a));
}

void
pol_rule_clear(struct pol_rule *r)
{
	size_t i;

	free(r->name);
	free(r->description);
	for (i = 0; i < r->nauth; i++)
		pol_auth_clear(&r->auth[i]);
	free(r->auth);
	memset(r, 0, sizeof(*r));
}

void
pol_isakmp_clear(struct pol_isakmp *k)
{
	free(k->name);
	free(k->methods);
	memset(k, 0, sizeof(*k));
}

void
pol_policy_clear(struct pol_policy *p)
{
	size_t i;

	free(p->name);
	free(p->description);
	pol_isakmp_clear(&p->isakmp);
	for (i = 0; i < p->nrules; i++)
		pol_rule_clear(&p->rules[i]);
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

struct pol_store *
pol_store_new(void)
{
	return calloc(1, sizeof(struct pol_store));
}

void
pol_store_free(struct pol_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->npolicies; i++)
		pol_policy_clear(&s->policies[i]);
	for (i = 0; i < s->nfilterlists; i++)
		pol_filterlist_clear(&s->filterlists[i]);
	for (i = 0; i < s->nfilteractions; i++)
		pol_filteraction_clear(&s->filteractions[i]);
	free(s->policies);
	free(s->filterlists);
	free(s->filteractions);
	free(s);
}

/* ---- copy ---- */

int
pol_endpoint_copy(struct pol_endpoint *d, const struct pol_endpoint *s)
{
	*d = *s;
	d->dns = NULL;
	d->resolved = NULL;
	if (str_copy(&d->dns, s->dns) != 0 ||
	    arr_copy_plain(&d->resolved, s->resolved, s->nresolved,
	    sizeof(*s->resolved)) != 0) {
		pol_endpoint_clear(d);
		return PA_E_NOMEM;
	}
	return 0;
}

int
pol_filter_copy(struct pol_filter *d, const struct pol_filter *s)
{
	memset(d, 0, sizeof(*d));
	d->id = s->id;
	d->proto = s->proto;
	d->sport = s->sport;
	d->dport = s->dport;
	d->mirrored = s->mirrored;
	if (str_copy(&d->description, s->description) != 0 ||
	    pol_endpoint_copy(&d->src, &s->src) != 0 ||
	    pol_endpoint_copy(&d->dst, &s->dst) != 0) {
		pol_filter_clear(d);
		return PA_E_NOMEM;
	}
	return 0;
}

int
pol_filterlist_copy(struct pol_filterlist *d, const struct pol_filterlist *s)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->id = s->id;
	d->changed = s->changed;
	if (str_copy(&d->name, s->name) != 0 ||
	    str_copy(&d->description, s->description) != 0)
		goto fail;
	if (s->nfilters > 0) {
		if ((d->filters = calloc(s->nfilters, sizeof(*d->filters))) ==
		    NULL)
			goto fail;
		for (i = 0; i < s->nfilters; i++) {
			if (pol_filter_copy(&d->filters[i], &s->filters[i]) != 0)
				goto fail;
			d->nfilters++;
		}
	}
	return 0;
fail:
	pol_filterlist_clear(d);
	return PA_E_NOMEM;
}

int
pol_filteraction_copy(struct pol_filteraction *d,
    const struct pol_filteraction *s)
{
	*d = *s;
	d->name = d->description = NULL;
	d->offers = NULL;
	if (str_copy(&d->name, s->name) != 0 ||
	    str_copy(&d->description, s->description) != 0 ||
	    arr_copy_plain(&d->offers, s->offers, s->noffers,
	    sizeof(*s->offers)) != 0) {
		pol_filteraction_clear(d);
		return PA_E_NOMEM;
	}
	return 0;
}

int
pol_auth_copy(struct pol_auth *d, const struct pol_auth *s)
{
	memset(d, 0, sizeof(*d));
	d->kind = s->kind;
	d->certmap = s->certmap;
	d->excludecaname = s->excludecaname;
	if (str_copy(&d->ca_dn, s->ca_dn) != 0 ||
	    str_copy(&d->psk_ref, s->psk_ref) != 0)
		goto fail;
	if (s->psk != NULL && (d->psk = pa_secret_dup(s->psk)) == NULL)
		goto fail;
	return 0;
fail:
	pol_auth_clear(d);
	return PA_E_NOMEM;
}

int
pol_rule_copy(struct pol_rule *d, const struct pol_rule *s)
{
	size_t i;

	*d = *s;
	d->name = d->description = NULL;
	d->auth = NULL;
	d->nauth = 0;
	if (str_copy(&d->name, s->name) != 0 ||
	    str_copy(&d->description, s->description) != 0)
		goto fail;
	if (s->nauth > 0) {
		if ((d->auth = calloc(s->nauth, sizeof(*d->auth))) == NULL)
			goto fail;
		for (i = 0; i < s->nauth; i++) {
			if (pol_auth_copy(&d->auth[i], &s->auth[i]) != 0)
				goto fail;
			d->nauth++;
		}
	}
	return 0;
fail:
	pol_rule_clear(d);
	return PA_E_NOMEM;
}

int
pol_isakmp_copy(struct pol_isakmp *d, const struct pol_isakmp *s)
{
	*d = *s;
	d->name = NULL;
	d->methods = NULL;
	if (str_copy(&d->name, s->name) != 0 ||
	    arr_copy_plain(&d->methods, s->methods, s->nmethods,
	    sizeof(*s->methods)) != 0) {
		pol_isakmp_clear(d);
		return PA_E_NOMEM;
	}
	return 0;
}

int
pol_policy_copy(struct pol_policy *d, const struct pol_policy *s)
{
	size_t i;

	*d = *s;
	d->name = d->description = NULL;
	memset(&d->isakmp, 0, sizeof(d->isakmp));
	d->rules = NULL;
	d->nrules = 0;
	if (str_copy(&d->name, s->name) != 0 ||
	    str_copy(&d->description, s->description) != 0 ||
	    pol_isakmp_copy(&d->isakmp, &s->isakmp) != 0)
		goto fail;
	if (s->nrules > 0) {
		if ((d->rules = calloc(s->nrules, sizeof(*d->rules))) == NULL)
			goto fail;
		for (i = 0; i < s->nrules; i++) {
			if (pol_rule_copy(&d->rules[i], &s->rules[i]) != 0)
				goto fail;
			d->nrules++;
		}
	}
	return 0;
fail:
	pol_policy_clear(d);
	return PA_E_NOMEM;
}

void
pol_err_set(struct pol_err *err, const char *where, const char *what)
{
	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	snprintf(err->what, sizeof(err->what), "%s", what ? what : "");
}

/* ---- growth ---- */

struct pol_policy *
pol_store_add_policy(struct pol_store *s)
{
	return arr_grow(&s->policies, &s->npolicies, sizeof(*s->policies));
}

struct pol_filterlist *
pol_store_add_filterlist(struct pol_store *s)
{
	return arr_grow(&s->filterlists, &s->nfilterlists,
	    sizeof(*s->filterlists));
}

struct pol_filteraction *
pol_store_add_filteraction(struct pol_store *s)
{
	return arr_grow(&s->filteractions, &s->nfilteractions,
	    sizeof(*s->filteractions));
}

struct pol_rule *
pol_policy_add_rule(struct pol_policy *p)
{
	return arr_grow(&p->rules, &p->nrules, sizeof(*p->rules));
}

struct pol_filter *
pol_filterlist_add_filter(struct pol_filterlist *fl)
{
	return arr_grow(&fl->filters, &fl->nfilters, sizeof(*fl->filters));
}

struct pol_auth *
pol_rule_add_auth(struct pol_rule *r)
{
	return arr_grow(&r->auth, &r->nauth, sizeof(*r->auth));
}

struct pol_qm_offer *
pol_filteraction_add_offer(struct pol_filteraction *fa)
{
	return arr_grow(&fa->offers, &fa->noffers, sizeof(*fa->offers));
}

struct pol_mm_method *
pol_isakmp_add_method(struct pol_isakmp *k)
{
	return arr_grow(&k->methods, &k->nmethods, sizeof(*k->methods));
}

void
pol_store_remove_policy(struct pol_store *s, size_t i)
{
	if (i >= s->npolicies)
		return;
	pol_policy_clear(&s->policies[i]);
	arr_remove(s->policies, &s->npolicies, sizeof(*s->policies), i);
}

void
pol_store_remove_filterlist(struct pol_store *s, size_t i)
{
	if (i >= s->nfilterlists)
		return;
	pol_filterlist_clear(&s->filterlists[i]);
	arr_remove(s->filterlists, &s->nfilterlists, sizeof(*s->filterlists),
	    i);
}

void
pol_store_remove_filteraction(struct pol_store *s, size_t i)
{
	if (i >= s->nfilteractions)
		return;
	pol_filteraction_clear(&s->filteractions[i]);
	arr_remove(s->filteractions, &s->nfilteractions,
	    sizeof(*s->filteractions), i);
}

void
pol_policy_remove_rule(struct pol_policy *p, size_t i)
{
	if (i >= p->nrules)
		return;
	pol_rule_clear(&p->rules[i]);
	arr_remove(p->rules, &p->nrules, sizeof(*p->rules), i);
}

void
pol_filterlist_remove_filter(struct pol_filterlist *fl, size_t i)
{
	if (i >= fl->nfilters)
		return;
	pol_filter_clear(&fl->filters[i]);
	arr_remove(fl->filters, &fl->nfilters, sizeof(*fl->filters), i);
}

/* ---- lookups ---- */

const struct pol_policy *
pol_store_assigned(const struct pol_store *s)
{
	size_t i;

	for (i = 0; i < s->npolicies; i++)
		if (s->policies[i].assigned)
			return &s->policies[i];
	return NULL;
}

struct pol_policy *
pol_store_policy_by_name(struct pol_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->npolicies; i++)
		if (s->policies[i].name != NULL &&
		    strcmp(s->policies[i].name, name) == 0)
			return &s->policies[i];
	return NULL;
}

struct pol_policy *
pol_store_policy_by_id(struct pol_store *s, const struct pa_guid *id)
{
	size_t i;

	for (i = 0; i < s->npolicies; i++)
		if (pa_guid_eq(&s->policies[i].id, id))
			return &s->policies[i];
	return NULL;
}

struct pol_filterlist *
pol_store_filterlist_by_id(struct pol_store *s, const struct pa_guid *id)
{
	size_t i;

	for (i = 0; i < s->nfilterlists; i++)
		if (pa_guid_eq(&s->filterlists[i].id, id))
			return &s->filterlists[i];
	return NULL;
}

struct pol_filteraction *
pol_store_filteraction_by_id(struct pol_store *s, const struct pa_guid *id)
{
	size_t i;

	for (i = 0; i < s->nfilteractions; i++)
		if (pa_guid_eq(&s->filteractions[i].id, id))
			return &s->filteractions[i];
	return NULL;
}

struct pol_filterlist *
pol_store_filterlist_by_name(struct pol_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nfilterlists; i++)
		if (s->filterlists[i].name != NULL &&
		    strcmp(s->filterlists[i].name, name) == 0)
			return &s->filterlists[i];
	return NULL;
}

struct pol_filteraction *
pol_store_filteraction_by_name(struct pol_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nfilteractions; i++)
		if (s->filteractions[i].name != NULL &&
		    strcmp(s->filteractions[i].name, name) == 0)
			return &s->filteractions[i];
	return NULL;
}

struct pol_rule *
pol_policy_rule_by_name(struct pol_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].name != NULL &&
		    strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	return NULL;
}

/* ---- defaults ---- */

int
pol_policy_init(struct pol_policy *p, const char *name)
{
	static const struct pol_mm_method defmm[] = {
		{ POL_MM_3DES, POL_INTEG_SHA1, POL_DH_MODP1024, 0, 0, 0 },
		{ POL_MM_3DES, POL_INTEG_MD5, POL_DH_MODP1024, 0, 0, 0 },
		{ POL_MM_DES, POL_INTEG_SHA1, POL_DH_MODP768, 0, 0, 0 },
		{ POL_MM_DES, POL_INTEG_MD5, POL_DH_MODP768, 0, 0, 0 },
	};
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = pa_guid_generate(&p->id)) != 0 ||
	    (rc = pa_guid_generate(&p->isakmp.id)) != 0)
		return rc;
	p->poll_sec = POL_DEFAULT_POLL_SEC;
	p->activate_default_rule = false;
	p->isakmp.mm_life_sec = POL_DEFAULT_MM_LIFE_SEC;
	if ((rc = arr_copy_plain(&p->isakmp.methods, defmm,
	    sizeof(defmm) / sizeof(defmm[0]), sizeof(defmm[0]))) != 0)
		goto fail;
	p->isakmp.nmethods = sizeof(defmm) / sizeof(defmm[0]);
	if ((p->name = str_dup(name)) == NULL && name != NULL) {
		rc = PA_E_NOMEM;
		goto fail;
	}
	return 0;
fail:
	pol_policy_clear(p);
	return rc;
}

int
pol_filterlist_init(struct pol_filterlist *fl, const char *name)
{
	int rc;

	memset(fl, 0, sizeof(*fl));
	if ((rc = pa_guid_generate(&fl->id)) != 0)
		return rc;
	if ((rc = str_copy(&fl->name, name)) != 0)
		return rc;
	return 0;
}

int
pol_filteraction_init(struct pol_filteraction *fa, const char *name)
{
	int rc;

	memset(fa, 0, sizeof(*fa));
	fa->action = POL_ACT_NEGOTIATE;
	if ((rc = pa_guid_generate(&fa->id)) != 0)
		return rc;
	if ((rc = str_copy(&fa->name, name)) != 0)
		return rc;
	return 0;
}

int
pol_rule_init(struct pol_rule *r, const char *name)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->active = true;
	r->conntype = POL_CONN_ALL;
	if ((rc = pa_guid_generate(&r->id)) != 0)
		return rc;
	if ((rc = str_copy(&r->name, name)) != 0)
		return rc;
	return 0;
}

int
pol_filter_init(struct pol_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->mirrored = true;
	f->src.kind = POL_ADDR_ME;
	f->dst.kind = POL_ADDR_ANY;
	return pa_guid_generate(&f->id);
}

/* ---- names ---- */

struct name_tab {
	int		 val;
	const char	*name;
};

static const char *
tab_name(const struct name_tab *t, size_t n, int val)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].val == val)
			return t[i].name;
	return "?";
}

static int
tab_parse(const struct name_tab *t, size_t n, const char *s, int *val)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(t[i].name, s) == 0) {
			*val = t[i].val;
			return 0;
		}
	return PA_E_INVAL;
}

#define NTAB(t)	(t), (sizeof(t) / sizeof((t)[0]))

/* The first name of a value is the canonical one; later ones are aliases. */
static const struct name_tab mm_cipher_tab[] = {
	{ POL_MM_DES, "DES" }, { POL_MM_3DES, "3DES" },
	{ POL_MM_AES128, "AES128" }, { POL_MM_AES192, "AES192" },
	{ POL_MM_AES256, "AES256" }, { POL_MM_AES128, "AES-128" },
	{ POL_MM_AES192, "AES-192" }, { POL_MM_AES256, "AES-256" },
};
static const struct name_tab integ_tab[] = {
	{ POL_INTEG_NONE, "NONE" }, { POL_INTEG_MD5, "MD5" },
	{ POL_INTEG_SHA1, "SHA1" }, { POL_INTEG_SHA256, "SHA256" },
	{ POL_INTEG_SHA1, "SHA-1" }, { POL_INTEG_SHA256, "SHA-256" },
};
static const struct name_tab esp_cipher_tab[] = {
	{ POL_ESP_NONE, "NONE" }, { POL_ESP_DES, "DES" },
	{ POL_ESP_3DES, "3DES" }, { POL_ESP_AES128, "AES128" },
	{ POL_ESP_AES192, "AES192" }, { POL_ESP_AES256, "AES256" },
	{ POL_ESP_AES128, "AES-128" }, { POL_ESP_AES192, "AES-192" },
	{ POL_ESP_AES256, "AES-256" },
	{ POL_ESP_AESGCM128, "AESGCM128" }, { POL_ESP_AESGCM192, "AESGCM192" },
	{ POL_ESP_AESGCM256, "AESGCM256" },
};
static const struct name_tab action_tab[] = {
	{ POL_ACT_PERMIT, "permit" }, { POL_ACT_BLOCK, "block" },
	{ POL_ACT_NEGOTIATE, "negotiate" },
};
static const struct name_tab addr_kind_tab[] = {
	{ POL_ADDR_ANY, "any" }, { POL_ADDR_ME, "me" },
	{ POL_ADDR_HOST, "host" }, { POL_ADDR_SUBNET, "subnet" },
	{ POL_ADDR_DNS, "dns" },
};
static const struct name_tab auth_kind_tab[] = {
	{ POL_AUTH_KERBEROS, "kerberos" }, { POL_AUTH_CERT, "certificate" },
	{ POL_AUTH_PSK, "psk" }, { POL_AUTH_CERT, "cert" },
};
static const struct name_tab conntype_tab[] = {
	{ POL_CONN_ALL, "all" }, { POL_CONN_LAN, "lan" },
	{ POL_CONN_REMOTE, "remote" }, { POL_CONN_REMOTE, "dialup" },
};
static const struct name_tab proto_tab[] = {
	{ POL_PROTO_ANY, "any" }, { POL_PROTO_ICMP, "icmp" },
	{ POL_PROTO_TCP, "tcp" }, { POL_PROTO_UDP, "udp" },
	{ POL_PROTO_ICMPV6, "icmpv6" },
};

const char *
pol_mm_cipher_name(enum pol_mm_cipher v)
{
	return tab_name(NTAB(mm_cipher_tab), (int)v);
}

const char *
pol_integ_name(enum pol_integ v)
{
	return tab_name(NTAB(integ_tab), (int)v);
}

const char *
pol_esp_cipher_name(enum pol_esp_cipher v)
{
	return tab_name(NTAB(esp_cipher_tab), (int)v);
}

const char *
pol_action_name(enum pol_action v)
{
	return tab_name(NTAB(action_tab), (int)v);
}

const char *
pol_addr_kind_name(enum pol_addr_kind v)
{
	return tab_name(NTAB(addr_kind_tab), (int)v);
}

const char *
pol_auth_kind_name(enum pol_auth_kind v)
{
	return tab_name(NTAB(auth_kind_tab), (int)v);
}

const char *
pol_conntype_name(enum pol_conntype v)
{
	return tab_name(NTAB(conntype_tab), (int)v);
}

int
pol_mm_cipher_parse(const char *s, enum pol_mm_cipher *v)
{
	int x, rc;

	if ((rc = tab_parse(NTAB(mm_cipher_tab), s, &x)) == 0)
		*v = (enum pol_mm_cipher)x;
	return rc;
}

int
pol_integ_parse(const char *s, enum pol_integ *v)
{
	int x, rc;

	if ((rc = tab_parse(NTAB(integ_tab), s, &x)) == 0)
		*v = (enum pol_integ)x;
	return rc;
}

int
pol_esp_cipher_parse(const char *s, enum pol_esp_cipher *v)
{
	int x, rc;

	if ((rc = tab_parse(NTAB(esp_cipher_tab), s, &x)) == 0)
		*v = (enum pol_esp_cipher)x;
	return rc;
}

int
pol_action_parse(const char *s, enum pol_action *v)
{
	int x, rc;

	if ((rc = tab_parse(NTAB(action_tab), s, &x)) == 0)
		*v = (enum pol_action)x;
	return rc;
}

int
pol_auth_kind_parse(const char *s, enum pol_auth_kind *v)
{
	int x, rc;

	if ((rc = tab_parse(NTAB(auth_kind_tab), s, &x)) == 0)
		*v = (enum pol_auth_kind)x;
	return rc;
}

int
pol_conntype_parse(const char *s, enum pol_conntype *v)
{
	int x, rc;

	if ((rc = tab_parse(NTAB(conntype_tab), s, &x)) == 0)
		*v = (enum pol_conntype)x;
	return rc;
}

int
pol_proto_parse(const char *s, uint8_t *v)
{
	unsigned long n;
	char *end;
	int x;

	if (tab_parse(NTAB(proto_tab), s, &x) == 0) {
		*v = (uint8_t)x;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return PA_E_INVAL;
	n = strtoul(s, &end, 10);
	if (*end != '\0' || n > 255)
		return PA_E_INVAL;
	*v = (uint8_t)n;
	return 0;
}

const char *
pol_proto_str(uint8_t p, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < sizeof(proto_tab) / sizeof(proto_tab[0]); i++)
		if (proto_tab[i].val == p) {
			snprintf(buf, cap, "%s", proto_tab[i].name);
			return buf;
		}
	snprintf(buf, cap, "%u", (unsigned)p);
	return buf;
}

bool
pol_proto_has_ports(uint8_t p)
{
	return p == POL_PROTO_TCP || p == POL_PROTO_UDP;
}

bool
pol_dh_group_valid(uint16_t g)
{
	return g == POL_DH_MODP768 || g == POL_DH_MODP1024 ||
	    g == POL_DH_MODP2048 || g == POL_DH_ECP256 || g == POL_DH_ECP384;
}
