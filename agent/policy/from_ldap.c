/*
 * Directory records -> policy model. See from_ldap.h.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dir.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"

const char *const pol_ldap_attrs[] = {
	"objectClass", "cn", "ipsecName", "description", "ipsecID",
	"ipsecDataType", "ipsecData", "ipsecOwnersReference",
	"ipsecISAKMPReference", "ipsecNFAReference",
	"ipsecNegotiationPolicyReference", "ipsecFilterReference",
	"iPSECNegotiationPolicyType", "iPSECNegotiationPolicyAction",
	"whenChanged", "modifyTimestamp", "entryCSN", "uSNChanged", NULL
};

static void	fl_errf(struct pol_err *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
fl_errf(struct pol_err *err, const char *where, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* gPLink and GPO precedence                                           */

void
pol_gplinks_free(struct pol_gplink *l, size_t n)
{
	size_t i;

	for (i = 0; l != NULL && i < n; i++)
		free(l[i].dn);
	free(l);
}

int
pol_gplink_parse(const char *s, struct pol_gplink **out, size_t *n)
{
	struct pol_gplink *v = NULL, *nv;
	const char *p = s, *end, *semi, *q;
	unsigned long opt;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	while (*p != '\0') {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		/* "[LDAP://" dn ";" decimal options "]" */
		if (*p != '[' || strncasecmp(p + 1, "LDAP://", 7) != 0)
			goto bad;
		p += 8;
		if ((end = strchr(p, ']')) == NULL)
			goto bad;
		/* The options follow the last ';' before ']' (a DN may hold
		 * an escaped ';'). */
		semi = NULL;
		for (q = p; q < end; q++)
			if (*q == ';')
				semi = q;
		if (semi == NULL || semi == p || semi + 1 == end)
			goto bad;
		opt = 0;
		for (q = semi + 1; q < end; q++) {
			if (!isdigit((unsigned char)*q) || opt > 0xFFFFFFF)
				goto bad;
			opt = opt * 10 + (unsigned long)(*q - '0');
		}
		if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
			pol_gplinks_free(v, cnt);
			return PA_E_NOMEM;
		}
		v = nv;
		if ((v[cnt].dn = strndup(p, (size_t)(semi - p))) == NULL) {
			pol_gplinks_free(v, cnt);
			return PA_E_NOMEM;
		}
		v[cnt].options = (unsigned)opt;
		cnt++;
		p = end + 1;
	}
	*out = v;
	*n = cnt;
	return 0;
bad:
	pol_gplinks_free(v, cnt);
	return PA_E_FORMAT;
}

void
pol_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static int
strv_add_unique(char ***v, size_t *n, const char *dn)
{
	char **nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (dir_dn_eq((*v)[i], dn))
			return 0;
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return PA_E_NOMEM;
	*v = nv;
	if ((nv[*n] = strdup(dn)) == NULL)
		return PA_E_NOMEM;
	(*n)++;
	return 0;
}

int
pol_gpo_order(const struct pol_som *soms, size_t n, char ***dns,
    size_t *ndns)
{
	struct pol_gplink **links;
	size_t *nl, i, j;
	bool blocked = false;
	int rc = 0;

	*dns = NULL;
	*ndns = 0;
	if (n == 0)
		return 0;
	links = calloc(n, sizeof(*links));
	nl = calloc(n, sizeof(*nl));
	if (links == NULL || nl == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (soms[i].gplink != NULL && (rc = pol_gplink_parse(
		    soms[i].gplink, &links[i], &nl[i])) != 0)
			goto out;
	/* Enforced links first: the domain's before its OUs'; within a
	 * container the last written (link order 1) first. */
	for (i = n; i-- > 0;)
		for (j = nl[i]; j-- > 0;)
			if ((links[i][j].options & POL_GPLINK_ENFORCED) &&
			    !(links[i][j].options & POL_GPLINK_DISABLED) &&
			    (rc = strv_add_unique(dns, ndns,
			    links[i][j].dn)) != 0)
				goto out;
	/* Then the others, the closest container first, until a container
	 * that blocks inheritance. */
	for (i = 0; i < n && !blocked; i++) {
		for (j = nl[i]; j-- > 0;)
			if (!(links[i][j].options & (POL_GPLINK_ENFORCED |
			    POL_GPLINK_DISABLED)) &&
			    (rc = strv_add_unique(dns, ndns,
			    links[i][j].dn)) != 0)
				goto out;
		if (soms[i].gpoptions & POL_GPOPT_BLOCK)
			blocked = true;
	}
out:
	for (i = 0; links != NULL && i < n; i++)
		pol_gplinks_free(links[i], nl[i]);
	free(links);
	free(nl);
	if (rc != 0) {
		pol_strv_free(*dns, *ndns);
		*dns = NULL;
		*ndns = 0;
	}
	return rc;
}

char *
pol_gpo_ipsec_dn(const char *gpo)
{
	static const char pre[] =
	    "CN=IPSEC,CN=Windows,CN=Microsoft,CN=Machine,";
	char *s;

	if ((s = malloc(sizeof(pre) + strlen(gpo))) == NULL)
		return NULL;
	memcpy(s, pre, sizeof(pre) - 1);
	strcpy(s + sizeof(pre) - 1, gpo);
	return s;
}

long long
pol_ldap_time(const char *s)
{
	struct tm tm;
	size_t i;

	if (s == NULL || strlen(s) < 15)
		return 0;
	for (i = 0; i < 14; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
	tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
	tm.tm_hour = (s[8] - '0') * 10 + (s[9] - '0');
	tm.tm_min = (s[10] - '0') * 10 + (s[11] - '0');
	tm.tm_sec = (s[12] - '0') * 10 + (s[13] - '0');
	return (long long)timegm(&tm);
}

/* ------------------------------------------------------------------ */
/* The object graph                                                    */

struct fl_ctx {
	const struct dir_result	*recs;
	char			**ndn;		/* normalized DNs of recs */
	struct pol_store	*store;
	struct pol_gp_keep	*keep;
	struct pol_err		*err;
};

static const struct dir_record *
fl_find(struct fl_ctx *c, const char *dn)
{
	char *n = dir_dn_normalize(dn);
	size_t i;

	if (n == NULL)
		return NULL;
	for (i = 0; i < c->recs->n; i++)
		if (c->ndn[i] != NULL && strcmp(c->ndn[i], n) == 0) {
			free(n);
			return &c->recs->recs[i];
		}
	free(n);
	return NULL;
}

static bool
fl_has_class(const struct dir_record *r, const char *cls)
{
	const struct dir_attr *a = dir_record_attr(r, "objectClass");
	size_t i;

	for (i = 0; a != NULL && i < a->nvals; i++)
		if (strcasecmp((const char *)a->vals[i].p, cls) == 0)
			return true;
	return false;
}

/* Resolve a reference: the target must exist and be of class cls. */
static const struct dir_record *
fl_ref(struct fl_ctx *c, const struct dir_record *from, const char *attr,
    const char *dn, enum pol_gp_type t)
{
	const struct dir_record *r = fl_find(c, dn);

	if (r == NULL) {
		fl_errf(c->err, from->dn, "%s names a missing object %s", attr,
		    dn);
		return NULL;
	}
	if (!fl_has_class(r, pol_gp_class(t))) {
		fl_errf(c->err, from->dn, "%s names %s, which is not an %s",
		    attr, dn, pol_gp_class(t));
		return NULL;
	}
	return r;
}

static long long
fl_changed(const struct dir_record *r)
{
	long long t = pol_ldap_time(dir_record_str(r, "whenChanged"));

	return t != 0 ? t : pol_ldap_time(dir_record_str(r, "modifyTimestamp"));
}

static int
fl_strdup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) != NULL ? 0 : PA_E_NOMEM;
}

/*
 * The object's name: ipsecName, or, as Windows leaves some objects (the
 * default response rule and its action) unnamed while the model names
 * every object, its braced GUID. pol_ldif_write() leaves such a name out.
 */
static int
fl_name(const struct dir_record *r, const struct pa_guid *id, char **out)
{
	const char *n = dir_record_str(r, "ipsecName");
	char g[PA_GUIDSTRLEN];

	if (n == NULL || *n == '\0')
		n = pa_guid_str(id, g);
	return (*out = strdup(n)) != NULL ? 0 : PA_E_NOMEM;
}

/* The object's GUID (ipsecID, else the braces of its cn) and its blob,
 * whose ipsecDataType must be known. */
static int
fl_common(struct fl_ctx *c, const struct dir_record *r, enum pol_gp_type t,
    struct pa_guid *id, struct pa_bytes *blob)
{
	const struct dir_attr *d = dir_record_attr(r, "ipsecData");
	const char *s = dir_record_str(r, "ipsecID"), *dt, *b;
	char buf[40];
	long v;
	char *endp;

	if (s == NULL || pa_guid_parse(s, id) != 0) {
		s = dir_record_str(r, "cn");
		b = s != NULL ? strchr(s, '{') : NULL;
		if (b == NULL || strlen(b) != 38) {
			fl_errf(c->err, r->dn, "no valid ipsecID");
			return PA_E_FORMAT;
		}
		memcpy(buf, b, 39);
		if (pa_guid_parse(buf, id) != 0) {
			fl_errf(c->err, r->dn, "no valid ipsecID");
			return PA_E_FORMAT;
		}
	}
	dt = dir_record_str(r, "ipsecDataType");
	v = dt != NULL ? strtol(dt, &endp, 10) : -1;
	if (dt == NULL || *endp != '\0' ||
	    (v != POL_GP_DATATYPE && v != POL_GP_DATATYPE_WIN)) {
		fl_errf(c->err, r->dn, "unknown ipsecDataType %s",
		    dt ? dt : "(missing)");
		return PA_E_FORMAT;
	}
	if (d == NULL || d->nvals != 1) {
		fl_errf(c->err, r->dn, "ipsecData missing");
		return PA_E_FORMAT;
	}
	blob->p = d->vals[0].p;
	blob->len = d->vals[0].len;
	if (c->keep != NULL && pol_gp_keep_add(c->keep, t, id, *blob) != 0)
		return PA_E_NOMEM;
	return 0;
}

/* Prefix the codec's reason with the DN. */
static int
fl_codec(struct fl_ctx *c, const struct dir_record *r, int rc)
{
	if (rc != 0)
		snprintf(c->err->where, sizeof(c->err->where), "%s", r->dn);
	return rc;
}

static int
fl_filteraction(struct fl_ctx *c, const struct dir_record *r,
    struct pa_guid *id_out, bool *default_response)
{
	struct pol_filteraction fa, *slot;
	struct pa_guid type, action;
	struct pa_bytes blob;
	const char *ts, *as;
	int rc;

	memset(&fa, 0, sizeof(fa));
	if ((rc = fl_common(c, r, POL_GP_NEGPOL, &fa.id, &blob)) != 0)
		return rc;
	*id_out = fa.id;
	if ((slot = pol_store_filteraction_by_id(c->store, &fa.id)) != NULL) {
		*default_response = slot->default_response;
		return 0;		/* shared by several rules */
	}
	ts = dir_record_str(r, "iPSECNegotiationPolicyType");
	as = dir_record_str(r, "iPSECNegotiationPolicyAction");
	if (ts != NULL && pa_guid_parse(ts, &type) != 0) {
		fl_errf(c->err, r->dn, "malformed iPSECNegotiationPolicyType");
		return PA_E_FORMAT;
	}
	if (as == NULL || pa_guid_parse(as, &action) != 0) {
		fl_errf(c->err, r->dn, "missing or malformed "
		    "iPSECNegotiationPolicyAction");
		return PA_E_FORMAT;
	}
	if ((rc = fl_codec(c, r, pol_gp_decode_negpol(blob, ts ? &type : NULL,
	    &action, &fa, c->err))) != 0)
		return rc;
	if ((rc = fl_name(r, &fa.id, &fa.name)) != 0 ||
	    (rc = fl_strdup(dir_record_str(r, "description"),
	    &fa.description)) != 0)
		goto fail;
	fa.changed = fl_changed(r);
	if ((slot = pol_store_add_filteraction(c->store)) == NULL) {
		rc = PA_E_NOMEM;
		goto fail;
	}
	*slot = fa;
	*default_response = fa.default_response;
	return 0;
fail:
	pol_gp_filteraction_clear(&fa);
	return rc;
}

static int
fl_filterlist(struct fl_ctx *c, const struct dir_record *r,
    struct pa_guid *id_out)
{
	struct pol_filterlist fl, *slot;
	struct pa_bytes blob;
	int rc;

	memset(&fl, 0, sizeof(fl));
	if ((rc = fl_common(c, r, POL_GP_FILTER, &fl.id, &blob)) != 0)
		return rc;
	*id_out = fl.id;
	if (pol_store_filterlist_by_id(c->store, &fl.id) != NULL)
		return 0;
	if ((rc = fl_codec(c, r, pol_gp_decode_filter(blob, &fl,
	    c->err))) != 0)
		return rc;
	if ((rc = fl_name(r, &fl.id, &fl.name)) != 0 ||
	    (rc = fl_strdup(dir_record_str(r, "description"),
	    &fl.description)) != 0)
		goto fail;
	fl.changed = fl_changed(r);
	if ((slot = pol_store_add_filterlist(c->store)) == NULL) {
		rc = PA_E_NOMEM;
		goto fail;
	}
	*slot = fl;
	return 0;
fail:
	pol_gp_filterlist_clear(&fl);
	return rc;
}

static int
fl_rule(struct fl_ctx *c, struct pol_policy *p, const struct dir_record *r)
{
	const struct dir_attr *fa = dir_record_attr(r,
	    "ipsecFilterReference");
	const char *np = dir_record_str(r, "ipsecNegotiationPolicyReference");
	const struct dir_record *t;
	struct pol_rule rule, *slot;
	struct pa_bytes blob;
	bool defresp = false;
	int rc;

	memset(&rule, 0, sizeof(rule));
	if ((rc = fl_common(c, r, POL_GP_NFA, &rule.id, &blob)) != 0)
		return rc;
	if (np == NULL) {
		fl_errf(c->err, r->dn, "rule without "
		    "ipsecNegotiationPolicyReference");
		return PA_E_REF;
	}
	if ((t = fl_ref(c, r, "ipsecNegotiationPolicyReference", np,
	    POL_GP_NEGPOL)) == NULL)
		return PA_E_REF;
	if ((rc = fl_filteraction(c, t, &rule.filteraction_id, &defresp)) != 0)
		return rc;
	if (fa != NULL && fa->nvals > 1) {
		/* The schema allows several lists; no Windows tool writes
		 * them and the model has one per rule. */
		fl_errf(c->err, r->dn, "rule references %zu filter lists; one "
		    "is supported", fa->nvals);
		return PA_E_NOTSUP;
	}
	if (fa != NULL && fa->nvals == 1) {
		if ((t = fl_ref(c, r, "ipsecFilterReference",
		    (const char *)fa->vals[0].p, POL_GP_FILTER)) == NULL)
			return PA_E_REF;
		if ((rc = fl_filterlist(c, t, &rule.filterlist_id)) != 0)
			return rc;
	} else if (!defresp) {
		fl_errf(c->err, r->dn, "rule without a filter list is not the "
		    "default response rule");
		return PA_E_REF;
	}
	if ((rc = fl_codec(c, r, pol_gp_decode_nfa(blob, &rule,
	    c->err))) != 0)
		return rc;
	rule.default_response = defresp;
	rule.changed = fl_changed(r);
	if ((rc = fl_name(r, &rule.id, &rule.name)) != 0 ||
	    (rc = fl_strdup(dir_record_str(r, "description"),
	    &rule.description)) != 0)
		goto fail;
	if (defresp)
		p->activate_default_rule = rule.active;
	if ((slot = pol_policy_add_rule(p)) == NULL) {
		rc = PA_E_NOMEM;
		goto fail;
	}
	*slot = rule;
	return 0;
fail:
	pol_gp_rule_clear(&rule);
	return rc;
}

int
pol_from_records(const struct dir_result *recs, const char *policy_dn,
    struct pol_store **out, struct pol_gp_keep *keep, struct pol_err *err)
{
	struct fl_ctx c;
	const struct dir_record *pr, *kr, *nr;
	const struct dir_attr *nfas;
	const char *kdn;
	struct pol_policy *p;
	struct pa_bytes blob;
	size_t i;
	int rc = PA_E_NOMEM;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	memset(&c, 0, sizeof(c));
	c.recs = recs;
	c.keep = keep;
	c.err = err;
	if ((c.ndn = calloc(recs->n + 1, sizeof(*c.ndn))) == NULL ||
	    (c.store = pol_store_new()) == NULL)
		goto out;
	for (i = 0; i < recs->n; i++)
		c.ndn[i] = dir_dn_normalize(recs->recs[i].dn);
	if ((pr = fl_find(&c, policy_dn)) == NULL ||
	    !fl_has_class(pr, "ipsecPolicy")) {
		fl_errf(err, policy_dn, "the assigned ipsecPolicy is missing");
		rc = PA_E_REF;
		goto out;
	}
	if ((p = pol_store_add_policy(c.store)) == NULL)
		goto out;
	if ((rc = fl_common(&c, pr, POL_GP_POLICY, &p->id, &blob)) != 0 ||
	    (rc = fl_codec(&c, pr, pol_gp_decode_policy(blob, p, err))) != 0)
		goto out;
	if ((rc = fl_name(pr, &p->id, &p->name)) != 0 ||
	    (rc = fl_strdup(dir_record_str(pr, "description"),
	    &p->description)) != 0)
		goto out;
	p->assigned = true;
	p->changed = fl_changed(pr);
	/* Main Mode: exactly one ISAKMP object. */
	if ((kdn = dir_record_str(pr, "ipsecISAKMPReference")) == NULL) {
		fl_errf(err, pr->dn, "policy without ipsecISAKMPReference");
		rc = PA_E_REF;
		goto out;
	}
	if ((kr = fl_ref(&c, pr, "ipsecISAKMPReference", kdn,
	    POL_GP_ISAKMP)) == NULL) {
		rc = PA_E_REF;
		goto out;
	}
	if ((rc = fl_common(&c, kr, POL_GP_ISAKMP, &p->isakmp.id, &blob)) != 0 ||
	    (rc = fl_codec(&c, kr, pol_gp_decode_isakmp(blob, &p->isakmp,
	    err))) != 0 ||
	    (rc = fl_strdup(dir_record_str(kr, "ipsecName"),
	    &p->isakmp.name)) != 0)
		goto out;
	/* The rules, in the order of ipsecNFAReference. */
	nfas = dir_record_attr(pr, "ipsecNFAReference");
	for (i = 0; nfas != NULL && i < nfas->nvals; i++) {
		if ((nr = fl_ref(&c, pr, "ipsecNFAReference",
		    (const char *)nfas->vals[i].p, POL_GP_NFA)) == NULL) {
			rc = PA_E_REF;
			goto out;
		}
		if ((rc = fl_rule(&c, p, nr)) != 0)
			goto out;
	}
	if ((rc = pol_store_resolve(c.store, err)) != 0) {
		if (err->where[0] == '\0')
			snprintf(err->where, sizeof(err->where), "%s", pr->dn);
		goto out;
	}
	*out = c.store;
	c.store = NULL;
	rc = 0;
out:
	if (rc == PA_E_NOMEM && err->what[0] == '\0')
		fl_errf(err, policy_dn, "out of memory");
	pol_store_free(c.store);
	if (c.ndn != NULL)
		pol_strv_free(c.ndn, recs->n);
	return rc;
}

/* ------------------------------------------------------------------ */
/* LDIF export and import                                              */

struct lw {
	char		*buf;
	size_t		 len;
	int		 rc;
	struct dir_result *one;		/* the record being built */
};

static void
lw_text(struct lw *w, const char *s, size_t n)
{
	char *nb;

	if (w->rc != 0)
		return;
	if ((nb = realloc(w->buf, w->len + n + 1)) == NULL) {
		w->rc = PA_E_NOMEM;
		return;
	}
	w->buf = nb;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Start an add record. */
static void
lw_begin(struct lw *w, const char *dn)
{
	struct dir_record r;

	if (w->rc != 0)
		return;
	memset(&r, 0, sizeof(r));
	r.dn = (char *)(uintptr_t)dn;
	dir_result_free(w->one);
	if ((w->one = dir_result_new()) == NULL)
		w->rc = PA_E_NOMEM;
	else
		w->rc = dir_result_append(w->one, &r);
}

static void
lw_attr(struct lw *w, const char *name, const void *val, size_t len)
{
	struct dir_record *r;
	struct dir_attr *a = NULL, *na;
	struct dir_val *nv;
	size_t i;

	if (w->rc != 0 || val == NULL)
		return;
	r = &w->one->recs[0];
	for (i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].name, name) == 0)
			a = &r->attrs[i];
	if (a == NULL) {
		if ((na = realloc(r->attrs, (r->nattrs + 1) * sizeof(*na))) ==
		    NULL)
			goto nomem;
		r->attrs = na;
		a = &na[r->nattrs];
		memset(a, 0, sizeof(*a));
		if ((a->name = strdup(name)) == NULL)
			goto nomem;
		r->nattrs++;
	}
	if ((nv = realloc(a->vals, (a->nvals + 1) * sizeof(*nv))) == NULL)
		goto nomem;
	a->vals = nv;
	if ((nv[a->nvals].p = malloc(len + 1)) == NULL)
		goto nomem;
	memcpy(nv[a->nvals].p, val, len);
	nv[a->nvals].p[len] = '\0';
	nv[a->nvals].len = len;
	a->nvals++;
	return;
nomem:
	w->rc = PA_E_NOMEM;
}

static void
lw_str(struct lw *w, const char *name, const char *s)
{
	if (s != NULL && *s != '\0')
		lw_attr(w, name, s, strlen(s));
}

static void
lw_end(struct lw *w)
{
	char *t = NULL;
	size_t n;

	if (w->rc != 0)
		return;
	if ((w->rc = dir_ldif_write(w->one, &t, &n)) == 0) {
		lw_text(w, t, n);
		lw_text(w, "\n", 1);
	}
	free(t);
}

static void
lw_modify(struct lw *w, const char *dn, const char *attr, bool replace,
    char **vals, size_t n)
{
	char *t = NULL;

	if (w->rc != 0 || n == 0)
		return;
	if ((w->rc = dir_ldif_modify(dn, attr, replace,
	    (const char *const *)vals, n, &t)) == 0) {
		lw_text(w, t, strlen(t));
		lw_text(w, "\n", 1);
	}
	free(t);
}

static char *
obj_dn(const char *cls, const struct pa_guid *id, const char *base)
{
	char g[PA_GUIDSTRLEN], *s;

	if (asprintf(&s, "CN=%s%s,CN=IP Security,CN=System,%s", cls,
	    pa_guid_str(id, g), base) < 0)
		return NULL;
	return s;
}

static const struct pol_filteraction *
fa_by_id(const struct pol_store *s, const struct pa_guid *id)
{
	size_t i;

	for (i = 0; i < s->nfilteractions; i++)
		if (pa_guid_eq(&s->filteractions[i].id, id))
			return &s->filteractions[i];
	return NULL;
}

static const struct pol_filterlist *
fl_by_id(const struct pol_store *s, const struct pa_guid *id)
{
	size_t i;

	for (i = 0; i < s->nfilterlists; i++)
		if (pa_guid_eq(&s->filterlists[i].id, id))
			return &s->filterlists[i];
	return NULL;
}

/* The common attributes of an IPsec object. */
static void
lw_object(struct lw *w, const char *dn, const char *cls,
    const struct pa_guid *id, const char *name, const char *desc,
    const uint8_t *blob, size_t bloblen)
{
	char g[PA_GUIDSTRLEN], cn[64], dt[8];

	snprintf(cn, sizeof(cn), "%s%s", cls, pa_guid_str(id, g));
	snprintf(dt, sizeof(dt), "%d", POL_GP_DATATYPE);
	lw_begin(w, dn);
	lw_str(w, "objectClass", "top");
	lw_str(w, "objectClass", cls);
	lw_str(w, "cn", cn);
	/* A name that is only the GUID stood for no name (fl_name). */
	if (name != NULL && strcmp(name, g) != 0)
		lw_str(w, "ipsecName", name);
	lw_str(w, "description", desc);
	lw_str(w, "ipsecID", g);
	lw_str(w, "ipsecDataType", dt);
	lw_attr(w, "ipsecData", blob, bloblen);
}

static void
lw_gpo(struct lw *w, const struct pol_ldif_opts *o, const char *pdn,
    const struct pol_policy *p)
{
	static const char *const parts[] = { "Machine", "Microsoft",
	    "Windows" };
	char g[PA_GUIDSTRLEN], *gdn = NULL, *dn = NULL, *cur, *link = NULL;
	size_t i;

	pa_guid_str(o->gpo, g);
	if (asprintf(&gdn, "CN=%s,CN=Policies,CN=System,%s", g, o->base) < 0) {
		w->rc = PA_E_NOMEM;
		return;
	}
	lw_begin(w, gdn);
	lw_str(w, "objectClass", "top");
	lw_str(w, "objectClass", "container");
	lw_str(w, "objectClass", "groupPolicyContainer");
	lw_str(w, "cn", g);
	lw_str(w, "displayName", o->gpo_name ? o->gpo_name : p->name);
	lw_str(w, "flags", "0");
	lw_str(w, "versionNumber", "1");
	lw_str(w, "gPCFunctionalityVersion", "2");
	/* The IPsec client extension and its tool ([MS-GPIPSEC] 1.9). */
	lw_str(w, "gPCMachineExtensionNames",
	    "[{E437BC1C-AA7D-11D2-A382-00C04F991E27}"
	    "{DEA8AFA0-CC85-11D0-9CE2-0080C7221EBD}]");
	lw_end(w);
	cur = gdn;
	for (i = 0; i < 3 && w->rc == 0; i++) {
		if (asprintf(&dn, "CN=%s,%s", parts[i], cur) < 0) {
			w->rc = PA_E_NOMEM;
			break;
		}
		lw_begin(w, dn);
		lw_str(w, "objectClass", "top");
		lw_str(w, "objectClass", "container");
		lw_str(w, "cn", parts[i]);
		lw_end(w);
		if (cur != gdn)
			free(cur);
		cur = dn;
	}
	if (w->rc == 0 && asprintf(&dn, "CN=IPSEC,%s", cur) >= 0) {
		lw_begin(w, dn);
		lw_str(w, "objectClass", "top");
		lw_str(w, "objectClass", "ipsecPolicy");
		lw_str(w, "cn", "IPSEC");
		lw_str(w, "ipsecName", p->name);
		lw_str(w, "description", p->description);
		lw_str(w, "ipsecOwnersReference", pdn);
		lw_end(w);
		free(dn);
	}
	if (cur != gdn)
		free(cur);
	if (w->rc == 0 && o->link_dn != NULL) {
		if (asprintf(&link, "[LDAP://%s;0]", gdn) < 0)
			w->rc = PA_E_NOMEM;
		else
			lw_modify(w, o->link_dn, "gPLink", true, &link, 1);
		free(link);
	}
	free(gdn);
}

static int
strv_add(char ***v, size_t *n, const char *s)
{
	return strv_add_unique(v, n, s);
}

int
pol_ldif_write(const struct pol_store *s, const struct pol_policy *p,
    const struct pol_gp_keep *keep, const struct pol_ldif_opts *o,
    char **out, size_t *outlen, struct pol_err *err)
{
	struct lw w;
	const struct pol_rule *r;
	const struct pol_filteraction *fa;
	const struct pol_filterlist *fl;
	char *pdn = NULL, *kdn = NULL, **nfadns = NULL, **v = NULL, *dn;
	uint8_t *blob = NULL;
	size_t bl, i, j, nv = 0, nr = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(err, 0, sizeof(*err));
	memset(&w, 0, sizeof(w));
	if (p == NULL && (p = pol_store_assigned(s)) == NULL) {
		fl_errf(err, "store", "no policy is assigned");
		return PA_E_NOENT;
	}
	if (o == NULL || o->base == NULL) {
		fl_errf(err, p->name, "no directory base DN given");
		return PA_E_INVAL;
	}
	nr = p->nrules;
	if ((pdn = obj_dn("ipsecPolicy", &p->id, o->base)) == NULL ||
	    (kdn = obj_dn("ipsecISAKMPPolicy", &p->isakmp.id, o->base)) ==
	    NULL || (nfadns = calloc(nr + 1, sizeof(*nfadns))) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < nr; i++)
		if ((nfadns[i] = obj_dn("ipsecNFA", &p->rules[i].id,
		    o->base)) == NULL) {
			rc = PA_E_NOMEM;
			goto out;
		}
	/* 1. the policy */
	if ((rc = pol_gp_encode_policy(p, keep, &blob, &bl, err)) != 0) {
		snprintf(err->where, sizeof(err->where), "%s", pdn);
		goto out;
	}
	lw_object(&w, pdn, "ipsecPolicy", &p->id, p->name, p->description,
	    blob, bl);
	lw_end(&w);
	free(blob);
	blob = NULL;
	/* 2. its ISAKMP object */
	if ((rc = pol_gp_encode_isakmp(&p->isakmp, keep, &blob, &bl,
	    err)) != 0) {
		snprintf(err->where, sizeof(err->where), "%s", kdn);
		goto out;
	}
	lw_object(&w, kdn, "ipsecISAKMPPolicy", &p->isakmp.id,
	    p->isakmp.name, NULL, blob, bl);
	lw_str(&w, "ipsecOwnersReference", pdn);
	lw_end(&w);
	free(blob);
	blob = NULL;
	/* 3. the rules */
	for (i = 0; i < nr; i++) {
		r = &p->rules[i];
		if ((rc = pol_gp_encode_nfa(r, keep, &blob, &bl, err)) != 0) {
			snprintf(err->where, sizeof(err->where), "%s",
			    nfadns[i]);
			goto out;
		}
		lw_object(&w, nfadns[i], "ipsecNFA", &r->id, r->name,
		    r->description, blob, bl);
		lw_str(&w, "ipsecOwnersReference", pdn);
		lw_end(&w);
		pa_wipe(blob, bl);
		free(blob);
		blob = NULL;
	}
	/* 4. filter actions and 5. filter lists, once each, owned by the
	 * rules that use them */
	for (j = 0; j < 2; j++) {
		for (i = 0; i < nr; i++) {
			size_t k;

			r = &p->rules[i];
			if (j == 0) {
				fa = fa_by_id(s, &r->filteraction_id);
				fl = NULL;
				if (fa == NULL) {
					fl_errf(err, nfadns[i], "the rule's "
					    "filter action is missing");
					rc = PA_E_REF;
					goto out;
				}
			} else {
				fa = NULL;
				if (pa_guid_is_nil(&r->filterlist_id))
					continue;
				if ((fl = fl_by_id(s, &r->filterlist_id)) ==
				    NULL) {
					fl_errf(err, nfadns[i], "the rule's "
					    "filter list is missing");
					rc = PA_E_REF;
					goto out;
				}
			}
			/* written by an earlier rule? */
			for (k = 0; k < i; k++)
				if (pa_guid_eq(j == 0 ?
				    &p->rules[k].filteraction_id :
				    &p->rules[k].filterlist_id, j == 0 ?
				    &fa->id : &fl->id))
					break;
			if (k < i)
				continue;
			dn = obj_dn(j == 0 ? "ipsecNegotiationPolicy" :
			    "ipsecFilter", j == 0 ? &fa->id : &fl->id,
			    o->base);
			if (dn == NULL) {
				rc = PA_E_NOMEM;
				goto out;
			}
			rc = j == 0 ? pol_gp_encode_negpol(fa, keep, &blob,
			    &bl, err) : pol_gp_encode_filter(fl, keep, &blob,
			    &bl, err);
			if (rc != 0) {
				snprintf(err->where, sizeof(err->where), "%s",
				    dn);
				free(dn);
				goto out;
			}
			if (j == 0) {
				char g[PA_GUIDSTRLEN];

				lw_object(&w, dn, "ipsecNegotiationPolicy",
				    &fa->id, fa->name, fa->description, blob,
				    bl);
				lw_str(&w, "iPSECNegotiationPolicyType",
				    pa_guid_str(pol_gp_negpol_type(fa), g));
				lw_str(&w, "iPSECNegotiationPolicyAction",
				    pa_guid_str(pol_gp_negpol_action(fa), g));
			} else
				lw_object(&w, dn, "ipsecFilter", &fl->id,
				    fl->name, fl->description, blob, bl);
			for (k = i; k < nr; k++)
				if (pa_guid_eq(j == 0 ?
				    &p->rules[k].filteraction_id :
				    &p->rules[k].filterlist_id, j == 0 ?
				    &fa->id : &fl->id))
					lw_str(&w, "ipsecOwnersReference",
					    nfadns[k]);
			lw_end(&w);
			free(dn);
			free(blob);
			blob = NULL;
		}
	}
	/* 6. the policy's references, 7. the rules' references */
	if ((rc = strv_add(&v, &nv, kdn)) != 0)
		goto out;
	lw_modify(&w, pdn, "ipsecISAKMPReference", true, v, nv);
	lw_modify(&w, pdn, "ipsecNFAReference", true, nfadns, nr);
	for (i = 0; i < nr && w.rc == 0; i++) {
		r = &p->rules[i];
		pol_strv_free(v, nv);
		v = NULL;
		nv = 0;
		if ((dn = obj_dn("ipsecNegotiationPolicy", &r->filteraction_id,
		    o->base)) == NULL || (rc = strv_add(&v, &nv, dn)) != 0) {
			free(dn);
			rc = PA_E_NOMEM;
			goto out;
		}
		free(dn);
		lw_modify(&w, nfadns[i], "ipsecNegotiationPolicyReference",
		    true, v, nv);
		if (pa_guid_is_nil(&r->filterlist_id))
			continue;
		pol_strv_free(v, nv);
		v = NULL;
		nv = 0;
		if ((dn = obj_dn("ipsecFilter", &r->filterlist_id,
		    o->base)) == NULL || (rc = strv_add(&v, &nv, dn)) != 0) {
			free(dn);
			rc = PA_E_NOMEM;
			goto out;
		}
		free(dn);
		lw_modify(&w, nfadns[i], "ipsecFilterReference", true, v, nv);
	}
	if (o->gpo != NULL)
		lw_gpo(&w, o, pdn, p);
	if ((rc = w.rc) != 0)
		goto out;
	*out = w.buf;
	*outlen = w.len;
	w.buf = NULL;
out:
	if (rc == PA_E_NOMEM && err->what[0] == '\0')
		fl_errf(err, p->name ? p->name : "policy", "out of memory");
	free(blob);
	free(w.buf);
	dir_result_free(w.one);
	pol_strv_free(v, nv);
	pol_strv_free(nfadns, nr);
	free(pdn);
	free(kdn);
	return rc;
}

/* Move the content of src into dst (filter lists and actions shared by
 * GUID are kept once). src is emptied. */
static int
store_merge(struct pol_store *dst, struct pol_store *src)
{
	struct pol_policy *p;
	struct pol_filterlist *fl;
	struct pol_filteraction *fa;
	size_t i;

	for (i = 0; i < src->nfilterlists; i++) {
		if (pol_store_filterlist_by_id(dst, &src->filterlists[i].id))
			continue;
		if ((fl = pol_store_add_filterlist(dst)) == NULL)
			return PA_E_NOMEM;
		*fl = src->filterlists[i];
		memset(&src->filterlists[i], 0, sizeof(*fl));
	}
	for (i = 0; i < src->nfilteractions; i++) {
		if (pol_store_filteraction_by_id(dst,
		    &src->filteractions[i].id))
			continue;
		if ((fa = pol_store_add_filteraction(dst)) == NULL)
			return PA_E_NOMEM;
		*fa = src->filteractions[i];
		memset(&src->filteractions[i], 0, sizeof(*fa));
	}
	for (i = 0; i < src->npolicies; i++) {
		if ((p = pol_store_add_policy(dst)) == NULL)
			return PA_E_NOMEM;
		*p = src->policies[i];
		p->assigned = false;
		memset(&src->policies[i], 0, sizeof(*p));
	}
	return 0;
}

int
pol_ldif_read(const char *text, size_t len, struct pol_store **out,
    struct pol_gp_keep *keep, struct pol_err *err)
{
	struct dir_result *recs = NULL;
	struct pol_store *all = NULL, *one = NULL;
	char msg[256];
	size_t i, n = 0;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if ((rc = dir_ldif_read(text, len, &recs, msg, sizeof(msg))) != 0) {
		fl_errf(err, "LDIF", "%s", msg[0] ? msg : "cannot read");
		return rc;
	}
	if ((all = pol_store_new()) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < recs->n; i++) {
		const struct dir_record *r = &recs->recs[i];

		/* A GPO's IPSEC object is an ipsecPolicy without data. */
		if (!fl_has_class(r, "ipsecPolicy") ||
		    dir_record_attr(r, "ipsecData") == NULL)
			continue;
		if ((rc = pol_from_records(recs, r->dn, &one, keep, err)) != 0)
			goto out;
		if ((rc = store_merge(all, one)) != 0)
			goto out;
		pol_store_free(one);
		one = NULL;
		n++;
	}
	if (n == 0) {
		fl_errf(err, "LDIF", "no ipsecPolicy object");
		rc = PA_E_NOENT;
		goto out;
	}
	if ((rc = pol_store_resolve(all, err)) != 0)
		goto out;
	*out = all;
	all = NULL;
out:
	pol_store_free(one);
	pol_store_free(all);
	dir_result_free(recs);
	return rc;
}
