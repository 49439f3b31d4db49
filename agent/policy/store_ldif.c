/*
 * The policy as LDIF, both ways (see store_ldif.h): objects written as
 * records through libldap's LDIF writer (ldap/ldif.c), read back through
 * its reader and the directory decoder (pol_from_records), so what
 * imports is what the agent would apply from the directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"
#include "store_ldif.h"

/* ---- writing: records built one by one, then libldap's LDIF ---- */

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

/* The DNs of a policy's own objects, made once. */
struct ldif_dns {
	char	*policy;	/* ipsecPolicy */
	char	*isakmp;	/* ipsecISAKMPPolicy */
	char	**nfa;		/* ipsecNFA, one per rule */
	size_t	 nr;
};

static int
ldif_dns_make(struct ldif_dns *d, const struct pol_policy *p, const char *base)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->nr = p->nrules;
	if ((d->policy = obj_dn("ipsecPolicy", &p->id, base)) == NULL ||
	    (d->isakmp = obj_dn("ipsecISAKMPPolicy", &p->isakmp.id, base)) ==
	    NULL || (d->nfa = calloc(d->nr + 1, sizeof(*d->nfa))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < d->nr; i++)
		if ((d->nfa[i] = obj_dn("ipsecNFA", &p->rules[i].id,
		    base)) == NULL)
			return PA_E_NOMEM;
	return 0;
}

static void
ldif_dns_free(struct ldif_dns *d)
{
	pol_strv_free(d->nfa, d->nr);
	free(d->policy);
	free(d->isakmp);
}

/* An encoder's failure names the object's DN. */
static int
ldif_blob_err(struct pol_err *err, const char *dn, int rc)
{
	snprintf(err->where, sizeof(err->where), "%s", dn);
	return rc;
}

/* 1. the policy, 2. its ISAKMP object, 3. the rules (NFAs). */
static int
ldif_own(struct lw *w, const struct pol_policy *p, const struct ldif_dns *d,
    const struct pol_gp_keep *keep, struct pol_err *err)
{
	struct pol_isakmp k = p->isakmp;
	uint8_t *blob;
	size_t bl, i, j;
	int rc;

	/*
	 * Windows 2000 to 2003 keep certificate-to-account mapping in the
	 * ISAKMP object, for the whole policy: a certificate method asking
	 * for it sets ISAKMP-Options bit 1 (stricter for the policy's other
	 * certificate methods, never laxer; docs/pki.md).
	 */
	for (i = 0; i < p->nrules; i++)
		for (j = 0; j < p->rules[i].nauth; j++)
			if (p->rules[i].auth[j].kind == POL_AUTH_CERT &&
			    p->rules[i].auth[j].certmap)
				k.options |= POL_ISAKMP_OPT_CERTMAP;
	if ((rc = pol_gp_encode_policy(p, keep, &blob, &bl, err)) != 0)
		return ldif_blob_err(err, d->policy, rc);
	lw_object(w, d->policy, "ipsecPolicy", &p->id, p->name,
	    p->description, blob, bl);
	lw_end(w);
	free(blob);
	if ((rc = pol_gp_encode_isakmp(&k, keep, &blob, &bl, err)) != 0)
		return ldif_blob_err(err, d->isakmp, rc);
	lw_object(w, d->isakmp, "ipsecISAKMPPolicy", &p->isakmp.id,
	    p->isakmp.name, NULL, blob, bl);
	lw_str(w, "ipsecOwnersReference", d->policy);
	lw_end(w);
	free(blob);
	for (i = 0; i < d->nr; i++) {
		const struct pol_rule *r = &p->rules[i];

		if ((rc = pol_gp_encode_nfa(r, keep, &blob, &bl, err)) != 0)
			return ldif_blob_err(err, d->nfa[i], rc);
		lw_object(w, d->nfa[i], "ipsecNFA", &r->id, r->name,
		    r->description, blob, bl);
		lw_str(w, "ipsecOwnersReference", d->policy);
		lw_end(w);
		pa_wipe(blob, bl);
		free(blob);
	}
	return 0;
}

/* What a rule references: its filter action (fa) or its filter list. */
static const struct pa_guid *
rule_ref(const struct pol_rule *r, bool fa)
{
	return fa ? &r->filteraction_id : &r->filterlist_id;
}

/*
 * 4. the filter action (fa) or 5. the filter list rule i references,
 * unless an earlier rule wrote it: owned by every rule that uses it.
 */
static int
ldif_shared(struct lw *w, const struct pol_store *s,
    const struct pol_policy *p, size_t i, bool isfa, const struct ldif_dns *d,
    const struct pol_gp_keep *keep, const char *base, struct pol_err *err)
{
	const struct pa_guid *id = rule_ref(&p->rules[i], isfa);
	const struct pol_filteraction *fa = NULL;
	const struct pol_filterlist *fl = NULL;
	char g[PA_GUIDSTRLEN], *dn;
	uint8_t *blob;
	size_t bl, k;
	int rc;

	if (!isfa && pa_guid_is_nil(id))
		return 0;
	if ((isfa && (fa = fa_by_id(s, id)) == NULL) ||
	    (!isfa && (fl = fl_by_id(s, id)) == NULL)) {
		pol_err_set(err, d->nfa[i], isfa ? "the rule's filter action "
		    "is missing" : "the rule's filter list is missing");
		return PA_E_REF;
	}
	for (k = 0; k < i; k++)
		if (pa_guid_eq(rule_ref(&p->rules[k], isfa), id))
			return 0;	/* written already */
	if ((dn = obj_dn(isfa ? "ipsecNegotiationPolicy" : "ipsecFilter", id,
	    base)) == NULL)
		return PA_E_NOMEM;
	rc = isfa ? pol_gp_encode_negpol(fa, keep, &blob, &bl, err) :
	    pol_gp_encode_filter(fl, keep, &blob, &bl, err);
	if (rc != 0) {
		ldif_blob_err(err, dn, rc);
		free(dn);
		return rc;
	}
	if (isfa) {
		lw_object(w, dn, "ipsecNegotiationPolicy", &fa->id, fa->name,
		    fa->description, blob, bl);
		lw_str(w, "iPSECNegotiationPolicyType",
		    pa_guid_str(pol_gp_negpol_type(fa), g));
		lw_str(w, "iPSECNegotiationPolicyAction",
		    pa_guid_str(pol_gp_negpol_action(fa), g));
	} else
		lw_object(w, dn, "ipsecFilter", &fl->id, fl->name,
		    fl->description, blob, bl);
	for (k = i; k < d->nr; k++)
		if (pa_guid_eq(rule_ref(&p->rules[k], isfa), id))
			lw_str(w, "ipsecOwnersReference", d->nfa[k]);
	lw_end(w);
	free(dn);
	free(blob);
	return 0;
}

/* A modify replacing attr of dn with the DN of an object cls{id}. */
static int
lw_modify_ref(struct lw *w, const char *dn, const char *attr,
    const char *cls, const struct pa_guid *id, const char *base)
{
	char *ref;

	if ((ref = obj_dn(cls, id, base)) == NULL)
		return PA_E_NOMEM;
	lw_modify(w, dn, attr, true, &ref, 1);
	free(ref);
	return 0;
}

/* 6. the policy's references, 7. the rules' references. */
static int
ldif_refs(struct lw *w, const struct pol_policy *p, const struct ldif_dns *d,
    const char *base)
{
	char *kdn = d->isakmp;
	size_t i;
	int rc;

	lw_modify(w, d->policy, "ipsecISAKMPReference", true, &kdn, 1);
	lw_modify(w, d->policy, "ipsecNFAReference", true, d->nfa, d->nr);
	for (i = 0; i < d->nr && w->rc == 0; i++) {
		const struct pol_rule *r = &p->rules[i];

		if ((rc = lw_modify_ref(w, d->nfa[i],
		    "ipsecNegotiationPolicyReference", "ipsecNegotiationPolicy",
		    &r->filteraction_id, base)) != 0)
			return rc;
		if (!pa_guid_is_nil(&r->filterlist_id) &&
		    (rc = lw_modify_ref(w, d->nfa[i], "ipsecFilterReference",
		    "ipsecFilter", &r->filterlist_id, base)) != 0)
			return rc;
	}
	return 0;
}

int
pol_ldif_write(const struct pol_store *s, const struct pol_policy *p,
    const struct pol_gp_keep *keep, const struct pol_ldif_opts *o,
    char **out, size_t *outlen, struct pol_err *err)
{
	struct lw w;
	struct ldif_dns d;
	size_t i, j;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(err, 0, sizeof(*err));
	memset(&w, 0, sizeof(w));
	memset(&d, 0, sizeof(d));
	if (p == NULL && (p = pol_store_assigned(s)) == NULL) {
		pol_err_set(err, "store", "no policy is assigned");
		return PA_E_NOENT;
	}
	if (o == NULL || o->base == NULL) {
		pol_err_set(err, p->name, "no directory base DN given");
		return PA_E_INVAL;
	}
	if ((rc = ldif_dns_make(&d, p, o->base)) != 0 ||
	    (rc = ldif_own(&w, p, &d, keep, err)) != 0)
		goto out;
	for (j = 0; j < 2; j++)
		for (i = 0; i < d.nr; i++)
			if ((rc = ldif_shared(&w, s, p, i, j == 0, &d, keep,
			    o->base, err)) != 0)
				goto out;
	if ((rc = ldif_refs(&w, p, &d, o->base)) != 0)
		goto out;
	if (o->gpo != NULL)
		lw_gpo(&w, o, d.policy, p);
	if ((rc = w.rc) != 0)
		goto out;
	*out = w.buf;
	*outlen = w.len;
	w.buf = NULL;
out:
	if (rc == PA_E_NOMEM && err->what[0] == '\0')
		pol_err_set(err, p->name ? p->name : "policy",
		    "out of memory");
	free(w.buf);
	dir_result_free(w.one);
	ldif_dns_free(&d);
	return rc;
}

/* ---- reading ---- */

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
		pol_err_set(err, "LDIF", msg[0] ? msg : "cannot read");
		return rc;
	}
	if ((all = pol_store_new()) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < recs->n; i++) {
		const struct dir_record *r = &recs->recs[i];

		/* A GPO's IPSEC object is an ipsecPolicy without data. */
		if (!dir_record_has_class(r, "ipsecPolicy") ||
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
		pol_err_set(err, "LDIF", "no ipsecPolicy object");
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
