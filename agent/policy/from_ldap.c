/*
 * Directory records -> policy model. See from_ldap.h (the policy as LDIF
 * is store_ldif.c).
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
	if (!dir_record_has_class(r, pol_gp_class(t))) {
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
	    !dir_record_has_class(pr, "ipsecPolicy")) {
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
