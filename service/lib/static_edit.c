/*
 * `ipseccmd static add|set|delete`: edits of the in-memory store (saved by
 * svc_static_main() only when the whole command succeeds).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pa_dn.h"
#include "static_int.h"

/* ---- finding and naming objects ---- */

static int
parse_guid(const char *id, struct pa_guid *g)
{
	if (pa_guid_parse(id, g) != 0)
		return svc_st_fail(SVC_STATIC_ERR, "guid=%s: not a GUID", id);
	return 0;
}

/*
 * name= or guid= choosing the object to change or delete: *id and *g are
 * set when guid= is given, else *name is.
 */
static int
name_or_guid(struct cmd *c, const char **name, const char **id,
    struct pa_guid *g)
{
	*name = svc_st_arg(c, "name");
	*id = svc_st_arg(c, "guid");
	if (*id != NULL)
		return parse_guid(*id, g);
	if (*name == NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "'%s %s' needs name= or "
		    "guid=", c->verb, c->obj);
	return 0;
}

/* The name in key=, or NULL after saying that it is missing. */
static const char *
ref_name(struct cmd *c, const char *key)
{
	const char *name = svc_st_arg(c, key);

	if (name == NULL)
		svc_st_fail(SVC_STATIC_USAGE, "'%s %s' needs %s=", c->verb,
		    c->obj, key);
	return name;
}

/* obj as looked up by name, or NULL after saying that it does not exist. */
static void *
ref_found(void *obj, const char *kind, const char *name)
{
	if (obj == NULL)
		svc_st_fail(SVC_STATIC_ERR, "%s '%s' does not exist", kind,
		    name);
	return obj;
}

/*
 * newname=nn for set: *name becomes a copy of nn unless nn is empty or
 * names another object (holder, as looked up by nn) than self.
 */
static int
rename_to(const char *nn, const void *holder, const void *self, char **name)
{
	char *d;

	if (*nn == '\0' || (holder != NULL && holder != self))
		return svc_st_fail(SVC_STATIC_ERR, "newname=%s: empty or "
		    "already used", nn);
	if ((d = strdup(nn)) == NULL)
		return svc_st_enomem();
	free(*name);
	*name = d;
	return 0;
}

/* A rule using the object with this GUID, for refusing deletions. */
static int
in_use(struct cmd *c, const struct pa_guid *id, const char *kind,
    const char *name)
{
	size_t i, j;

	for (i = 0; i < c->store->npolicies; i++)
		for (j = 0; j < c->store->policies[i].nrules; j++) {
			const struct pol_rule *r =
			    &c->store->policies[i].rules[j];

			if (pa_guid_eq(&r->filterlist_id, id) ||
			    pa_guid_eq(&r->filteraction_id, id))
				return svc_st_fail(SVC_STATIC_ERR, "%s '%s' is "
				    "used by rule '%s' of policy '%s'; delete "
				    "or change the rule first", kind, name,
				    r->name ? r->name : "",
				    c->store->policies[i].name);
		}
	return 0;
}

/* ---- the named objects: one descriptor per kind ---- */

/*
 * What the add/set/delete below need to know of a kind of named object:
 * where its array is (in the store, or in the policy named by policy= for
 * a rule), its fields, its constructor and options.
 */
struct kind {
	const char	*obj;		/* the word after the verb */
	const char	*noun;		/* in messages */
	bool		 in_policy;	/* a rule: policy= names the policy */
	bool		 by_guid;	/* guid= may choose it too */
	bool		 all_yes;	/* delete all= wants yes */
	bool		 used_by_rules;	/* not deleted while a rule uses it */
	const char	*add_needs[2];	/* keys add needs besides name= */
	size_t		 size, arr_off, n_off;	/* array in the container */
	size_t		 id_off, name_off, changed_off;
	int		(*init)(void *, const char *);
	void		(*clear)(void *);
	void		*(*append)(struct cmd *, struct pol_policy *);
	void		(*remove)(struct cmd *, struct pol_policy *, size_t);
	int		(*opts)(struct cmd *, void *);	/* add and set keys */
	int		(*added)(void *);		/* after add, or NULL */
	bool		(*kept)(const void *);	/* by delete all=, or NULL */
};

#define FIELD(o, off, type)	((type *)(void *)((char *)(o) + (off)))

static size_t
obj_count(struct cmd *c, const struct kind *k, struct pol_policy *p)
{
	return *FIELD(k->in_policy ? (void *)p : (void *)c->store, k->n_off,
	    size_t);
}

static void *
obj_at(struct cmd *c, const struct kind *k, struct pol_policy *p, size_t i)
{
	char *a = *FIELD(k->in_policy ? (void *)p : (void *)c->store,
	    k->arr_off, char *);

	return a + i * k->size;
}

static size_t
obj_index(struct cmd *c, const struct kind *k, struct pol_policy *p,
    const void *o)
{
	return (size_t)((const char *)o - (const char *)obj_at(c, k, p, 0)) /
	    k->size;
}

static void *
obj_by_name(struct cmd *c, const struct kind *k, struct pol_policy *p,
    const char *name)
{
	size_t i;

	for (i = 0; i < obj_count(c, k, p); i++) {
		void *o = obj_at(c, k, p, i);
		const char *n = *FIELD(o, k->name_off, char *);

		if (n != NULL && strcmp(n, name) == 0)
			return o;
	}
	return NULL;
}

static void *
obj_by_id(struct cmd *c, const struct kind *k, struct pol_policy *p,
    const struct pa_guid *id)
{
	size_t i;

	for (i = 0; i < obj_count(c, k, p); i++)
		if (pa_guid_eq(FIELD(obj_at(c, k, p, i), k->id_off,
		    struct pa_guid), id))
			return obj_at(c, k, p, i);
	return NULL;
}

/* The object named in key= (name= only), or NULL after saying why. */
static void *
obj_ref(struct cmd *c, const struct kind *k, const char *key)
{
	const char *name;

	if ((name = ref_name(c, key)) == NULL)
		return NULL;
	return ref_found(obj_by_name(c, k, NULL, name), k->noun, name);
}

/*
 * The object that set or delete changes, chosen by name= (or guid= if
 * the kind has it), in p for a rule. A rule that is not found always
 * exited 1, even for a missing name=.
 */
static int
obj_find(struct cmd *c, const struct kind *k, struct pol_policy *p,
    void **out)
{
	const char *name, *id = NULL;
	struct pa_guid g;
	int rc;

	if (!k->by_guid) {
		if ((*out = obj_ref(c, k, "name")) == NULL)
			return SVC_STATIC_ERR;
		return 0;
	}
	if ((rc = name_or_guid(c, &name, &id, &g)) != 0)
		return k->in_policy ? SVC_STATIC_ERR : rc;
	*out = id != NULL ? obj_by_id(c, k, p, &g) : obj_by_name(c, k, p,
	    name);
	if (*out != NULL)
		return 0;
	if (k->in_policy)
		return svc_st_fail(SVC_STATIC_ERR, "policy '%s' has no rule "
		    "'%s'", p->name, id ? id : name);
	return svc_st_fail(SVC_STATIC_ERR, "%s '%s' does not exist", k->noun,
	    id ? id : name);
}

/* A new object appended to its array, or NULL (out of memory). */
static void *
obj_new(struct cmd *c, const struct kind *k, struct pol_policy *p,
    const char *name)
{
	union {
		struct pol_policy	p;
		struct pol_filterlist	fl;
		struct pol_filteraction	fa;
		struct pol_rule		r;
	} tmp;
	void *o;

	if (k->init(&tmp, name) != 0)
		return NULL;
	*FIELD(&tmp, k->changed_off, int64_t) = (int64_t)time(NULL);
	if ((o = k->append(c, p)) == NULL) {
		k->clear(&tmp);
		return NULL;
	}
	memcpy(o, &tmp, k->size);
	return o;
}

static const struct kind kind_policy, kind_filterlist, kind_filteraction;

/* For a rule: the policy named by policy=, else NULL (the store). */
static int
obj_parent(struct cmd *c, const struct kind *k, struct pol_policy **p)
{
	*p = NULL;
	if (k->in_policy && (*p = obj_ref(c, &kind_policy, "policy")) == NULL)
		return SVC_STATIC_ERR;
	return 0;
}

/* ---- options of each kind ---- */

/* Keys shared by add and set policy. */
static int
policy_opts(struct cmd *c, void *obj)
{
	struct pol_policy *p = obj;
	const char *v;
	bool assign = p->assigned;
	size_t i;
	int rc;

	if ((rc = svc_st_opt_str(c, "description", &p->description)) != 0 ||
	    (rc = svc_st_opt_yesno(c, "mmpfs", &p->isakmp.master_pfs)) != 0 ||
	    (rc = svc_st_opt_u32(c, "qmpermm", 0, 1000000, 1,
	    &p->isakmp.qm_per_mm)) != 0 ||
	    (rc = svc_st_opt_u32(c, "mmlifetime", 1, 71582788, 60,
	    &p->isakmp.mm_life_sec)) != 0 ||
	    (rc = svc_st_opt_yesno(c, "activatedefaultrule",
	    &p->activate_default_rule)) != 0 ||
	    (rc = svc_st_opt_u32(c, "pollinginterval", 1, 71582788, 60,
	    &p->poll_sec)) != 0 ||
	    (rc = svc_st_opt_yesno(c, "assign", &assign)) != 0)
		return rc;
	if ((v = svc_st_arg(c, "mmsecmethods")) != NULL &&
	    (rc = svc_st_parse_mmsec(v, &p->isakmp)) != 0)
		return rc;
	/* Set here: given by the policy from now on (show policy). */
	if (svc_st_arg(c, "mmlifetime") != NULL)
		p->isakmp.defaulted &= (uint8_t)~POL_DEF_MM_LIFE;
	if (svc_st_arg(c, "pollinginterval") != NULL)
		p->defaulted &= (uint8_t)~POL_DEF_POLL;
	if (p->isakmp.master_pfs)
		p->isakmp.qm_per_mm = 1;
	if (assign && !p->assigned)
		for (i = 0; i < c->store->npolicies; i++)
			c->store->policies[i].assigned = false;
	p->assigned = assign;
	return 0;
}

/* Keys shared by add and set filterlist. */
static int
filterlist_opts(struct cmd *c, void *obj)
{
	struct pol_filterlist *fl = obj;

	return svc_st_opt_str(c, "description", &fl->description);
}

static int
filteraction_opts(struct cmd *c, void *obj)
{
	struct pol_filteraction *fa = obj;
	const char *v;
	bool qmpfs = false, have_pfs;
	uint32_t grp = fa->pfs_group;
	size_t i;
	int rc;

	if ((v = svc_st_arg(c, "action")) != NULL &&
	    pol_action_parse(v, &fa->action) != 0)
		return svc_st_fail(SVC_STATIC_ERR, "action=%s: expected "
		    "permit, block or negotiate", v);
	if ((v = svc_st_arg(c, "qmsecmethods")) != NULL &&
	    (rc = svc_st_parse_qmsec(v, fa)) != 0)
		return rc;
	have_pfs = svc_st_arg(c, "qmpfs") != NULL;
	if (have_pfs)
		for (i = 0; i < fa->noffers; i++)
			qmpfs |= fa->offers[i].pfs;
	if ((rc = svc_st_opt_yesno(c, "qmpfs", &qmpfs)) != 0 ||
	    (rc = svc_st_opt_yesno(c, "inpass", &fa->inpass)) != 0 ||
	    (rc = svc_st_opt_yesno(c, "soft", &fa->soft)) != 0 ||
	    (rc = svc_st_opt_str(c, "description", &fa->description)) != 0 ||
	    (rc = svc_st_opt_u32(c, "pfsgroup", 0, 65535, 1, &grp)) != 0)
		return rc;
	if (grp != 0 && !pol_dh_group_valid((uint16_t)grp))
		return svc_st_fail(SVC_STATIC_ERR, "pfsgroup=%u: unsupported "
		    "group (1, 2, 14, 19, 20)", grp);
	fa->pfs_group = (uint16_t)grp;
	if (have_pfs)
		for (i = 0; i < fa->noffers; i++)
			fa->offers[i].pfs = qmpfs;
	if (fa->action == POL_ACT_NEGOTIATE && fa->noffers == 0)
		return svc_st_fail(SVC_STATIC_ERR, "action=negotiate needs "
		    "qmsecmethods= (e.g. \"ESP[3DES,SHA1]\")");
	return 0;
}

/*
 * rootca=: an X.509 name in one of the usual forms (pa_dn.h), then netsh's
 * certmap:yes|no / excludecaname:yes|no, kept as flags. The name is
 * stored as typed (trimmed); the engine compares it as a name.
 */
static int
rootca_parse(const char *val, struct pol_auth *a)
{
	struct pa_dn_opts o;
	X509_NAME *n = NULL;
	char why[200], *name = NULL;
	int rc;

	if ((rc = pa_dn_rootca_split(val, &name, &o, why, sizeof(why))) == 0)
		rc = pa_dn_parse(name, &n, why, sizeof(why));
	X509_NAME_free(n);
	if (rc == PA_E_NOMEM) {
		free(name);
		return svc_st_enomem();
	}
	if (rc != 0) {
		free(name);
		return svc_st_fail(SVC_STATIC_ERR, "rootca=\"%s\" is not an "
		    "X.509 name: %s (e.g. rootca=\"CN=Org CA, O=Org, C=US\", "
		    "\"C=US, O=Org, CN=Org CA\" or \"/C=US/O=Org/CN=Org CA\"; "
		    "then certmap:yes|no excludecaname:yes|no)", val, why);
	}
	a->ca_dn = name;
	a->certmap = o.certmap;
	a->excludecaname = o.excludecaname;
	return 0;
}

/* Authentication methods in the order typed: kerberos= psk= rootca=. */
static int
rule_auth(struct cmd *c, struct pol_rule *r)
{
	struct pol_auth *v = NULL;
	size_t n = 0, i;
	bool any = false;
	int rc = 0;

	for (i = 0; i < c->nkv; i++) {
		struct kv *kv = &c->kv[i];
		struct pol_auth a;
		bool yes = false;

		memset(&a, 0, sizeof(a));
		if (svc_st_keyeq(kv, "kerberos")) {
			kv->used = any = true;
			if (svc_st_parse_yesno("kerberos", kv->val,
			    &yes) != 0) {
				rc = SVC_STATIC_ERR;
				goto out;
			}
			if (!yes)
				continue;
			a.kind = POL_AUTH_KERBEROS;
		} else if (svc_st_keyeq(kv, "psk")) {
			kv->used = any = true;
			if (kv->val[0] == '\0') {
				rc = svc_st_fail(SVC_STATIC_ERR, "psk= is "
				    "empty");
				goto out;
			}
			a.kind = POL_AUTH_PSK;
			if ((a.psk = pa_secret_new(kv->val,
			    strlen(kv->val))) == NULL) {
				rc = svc_st_enomem();
				goto out;
			}
		} else if (svc_st_keyeq(kv, "rootca")) {
			kv->used = any = true;
			if (kv->val[0] == '\0') {
				rc = svc_st_fail(SVC_STATIC_ERR, "rootca= is "
				    "empty");
				goto out;
			}
			a.kind = POL_AUTH_CERT;
			if ((rc = rootca_parse(kv->val, &a)) != 0)
				goto out;
		} else
			continue;
		{
			struct pol_auth *nv = realloc(v, (n + 1) * sizeof(*v));

			if (nv == NULL) {
				pol_auth_clear(&a);
				rc = svc_st_enomem();
				goto out;
			}
			v = nv;
			v[n++] = a;
		}
	}
	if (!any)
		return 0;
	for (i = 0; i < r->nauth; i++)
		pol_auth_clear(&r->auth[i]);
	free(r->auth);
	r->auth = v;
	r->nauth = n;
	v = NULL;
	n = 0;
out:
	for (i = 0; i < n; i++)
		pol_auth_clear(&v[i]);
	free(v);
	return rc;
}

static int
rule_opts(struct cmd *c, void *obj)
{
	struct pol_rule *r = obj;
	const char *v;
	struct pol_filterlist *fl;
	struct pol_filteraction *fa;
	int rc;

	if (svc_st_arg(c, "filterlist") != NULL) {
		if ((fl = obj_ref(c, &kind_filterlist, "filterlist")) == NULL)
			return SVC_STATIC_ERR;
		r->filterlist_id = fl->id;
	}
	if (svc_st_arg(c, "filteraction") != NULL) {
		if ((fa = obj_ref(c, &kind_filteraction, "filteraction")) ==
		    NULL)
			return SVC_STATIC_ERR;
		r->filteraction_id = fa->id;
	}
	if ((v = svc_st_arg(c, "tunnel")) != NULL) {
		if (*v == '\0' || strcasecmp(v, "none") == 0)
			memset(&r->tunnel, 0, sizeof(r->tunnel));
		else if (pa_addr_parse(v, &r->tunnel) != 0)
			return svc_st_fail(SVC_STATIC_ERR, "tunnel=%s: not an "
			    "IPv4 or IPv6 address", v);
	}
	if ((v = svc_st_arg(c, "conntype")) != NULL &&
	    pol_conntype_parse(v, &r->conntype) != 0)
		return svc_st_fail(SVC_STATIC_ERR, "conntype=%s: expected all, "
		    "lan or remote", v);
	if ((rc = svc_st_opt_yesno(c, "activate", &r->active)) != 0 ||
	    (rc = svc_st_opt_str(c, "description", &r->description)) != 0 ||
	    (rc = rule_auth(c, r)) != 0)
		return rc;
	return 0;
}

/* After add rule: netsh's default, Kerberos when no method is given. */
static int
rule_added(void *obj)
{
	struct pol_rule *r = obj;

	if (r->nauth == 0) {
		struct pol_auth *a = pol_rule_add_auth(r);

		if (a == NULL)
			return svc_st_enomem();
		a->kind = POL_AUTH_KERBEROS;
	}
	return 0;
}

/* delete rule all= keeps the default response rule. */
static bool
rule_kept(const void *obj)
{
	const struct pol_rule *r = obj;

	return r->default_response;
}

/* ---- filters (in a filter list, chosen by selectors or guid=) ---- */

/* Filter selectors from key=value; for add, defaults fill the rest. */
static int
filter_opts(struct cmd *c, struct pol_filter *f)
{
	const char *sa = svc_st_arg(c, "srcaddr"), *da = svc_st_arg(c,
	    "dstaddr");
	const char *sm = svc_st_arg(c, "srcmask"), *dm = svc_st_arg(c,
	    "dstmask");
	const char *pr = svc_st_arg(c, "protocol");
	uint32_t port = 0;
	int rc;

	if (sa != NULL && (rc = svc_st_parse_endpoint("src", sa, sm,
	    &f->src)) != 0)
		return rc;
	if (sa == NULL && sm != NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "srcmask without srcaddr");
	if (da != NULL && (rc = svc_st_parse_endpoint("dst", da, dm,
	    &f->dst)) != 0)
		return rc;
	if (da == NULL && dm != NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "dstmask without dstaddr");
	if (pr != NULL && pol_proto_parse(pr, &f->proto) != 0)
		return svc_st_fail(SVC_STATIC_ERR, "protocol=%s: expected any, "
		    "icmp, tcp, udp or a number 0-255", pr);
	if ((rc = svc_st_opt_u32(c, "srcport", 0, 65535, 1, &port)) != 0)
		return rc;
	if (svc_st_arg(c, "srcport") != NULL)
		f->sport = (uint16_t)port;
	if ((rc = svc_st_opt_u32(c, "dstport", 0, 65535, 1, &port)) != 0)
		return rc;
	if (svc_st_arg(c, "dstport") != NULL)
		f->dport = (uint16_t)port;
	if ((rc = svc_st_opt_yesno(c, "mirrored", &f->mirrored)) != 0 ||
	    (rc = svc_st_opt_str(c, "description", &f->description)) != 0)
		return rc;
	if ((f->sport || f->dport) && !pol_proto_has_ports(f->proto)) {
		char p[8];

		return svc_st_fail(SVC_STATIC_ERR, "a port on protocol %s, "
		    "which has no ports (only tcp and udp have)",
		    pol_proto_str(f->proto, p, sizeof(p)));
	}
	if ((f->src.kind == POL_ADDR_DNS || f->dst.kind == POL_ADDR_DNS)) {
		struct pol_store one;
		struct pol_filterlist fl;
		struct pol_err err;

		/* Resolve the names now (they are kept with the results). */
		memset(&one, 0, sizeof(one));
		memset(&fl, 0, sizeof(fl));
		fl.filters = f;
		fl.nfilters = 1;
		one.filterlists = &fl;
		one.nfilterlists = 1;
		if (pol_store_resolve_names(&one, &err) != 0)
			return svc_st_fail_err(&err);
	}
	return 0;
}

static int
add_filter(struct cmd *c)
{
	struct pol_filterlist *fl;
	const char *name = svc_st_need(c, "filterlist");
	struct pol_filter f, *slot;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (svc_st_arg(c, "srcaddr") == NULL || svc_st_arg(c,
	    "dstaddr") == NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "'add filter' needs "
		    "srcaddr= and dstaddr=");
	for (size_t i = 0; i < c->nkv; i++)
		if (svc_st_keyeq(&c->kv[i], "srcaddr") ||
		    svc_st_keyeq(&c->kv[i], "dstaddr"))
			c->kv[i].used = false;
	if (pol_filter_init(&f) != 0)
		return svc_st_enomem();
	if ((rc = filter_opts(c, &f)) != 0 || (rc = svc_st_args_unused(c)) != 0)
		goto out;
	/* netsh creates the filter list when it does not exist. */
	if ((fl = pol_store_filterlist_by_name(c->store, name)) == NULL) {
		struct pol_filterlist tmp;

		if (pol_filterlist_init(&tmp, name) != 0 ||
		    (fl = pol_store_add_filterlist(c->store)) == NULL) {
			rc = svc_st_enomem();
			goto out;
		}
		*fl = tmp;
	}
	if ((slot = pol_filterlist_add_filter(fl)) == NULL) {
		rc = svc_st_enomem();
		goto out;
	}
	*slot = f;
	memset(&f, 0, sizeof(f));
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
out:
	pol_filter_clear(&f);
	return rc;
}

static bool
endpoint_eq(const struct pol_endpoint *a, const struct pol_endpoint *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == POL_ADDR_HOST || a->kind == POL_ADDR_SUBNET)
		return a->prefix.len == b->prefix.len &&
		    pa_addr_eq(&a->prefix.addr, &b->prefix.addr);
	if (a->kind == POL_ADDR_DNS)
		return strcasecmp(a->dns, b->dns) == 0;
	return true;
}

/*
 * delete filter / set filter: the filters of a list chosen by guid= or
 * by the selectors given (srcaddr= dstaddr= protocol= srcport= dstport=).
 */
static int
select_filters(struct cmd *c, struct pol_filterlist *fl, bool *sel,
    size_t *nsel)
{
	const char *id = svc_st_arg(c, "guid");
	struct pol_endpoint se, de;
	const char *sa = svc_st_arg(c, "srcaddr"), *da = svc_st_arg(c,
	    "dstaddr");
	const char *sm = svc_st_arg(c, "srcmask"), *dm = svc_st_arg(c,
	    "dstmask");
	const char *pr = svc_st_arg(c, "protocol");
	const char *sp = svc_st_arg(c, "srcport"), *dp = svc_st_arg(c,
	    "dstport");
	uint8_t proto = 0;
	uint32_t sport = 0, dport = 0;
	struct pa_guid g;
	size_t i;
	int rc = 0;

	memset(&se, 0, sizeof(se));
	memset(&de, 0, sizeof(de));
	*nsel = 0;
	if (id != NULL) {
		if ((rc = parse_guid(id, &g)) != 0)
			return rc;
		for (i = 0; i < fl->nfilters; i++)
			if ((sel[i] = pa_guid_eq(&fl->filters[i].id, &g)))
				(*nsel)++;
		goto done;
	}
	if (sa == NULL && da == NULL && pr == NULL && sp == NULL && dp == NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "'%s filter' needs guid= "
		    "or selectors (srcaddr= dstaddr= protocol= srcport= "
		    "dstport=)", c->verb);
	/* Compare by the parsed form, without resolving DNS names. */
	if ((sa && (rc = svc_st_parse_endpoint("src", sa, sm, &se)) != 0) ||
	    (da && (rc = svc_st_parse_endpoint("dst", da, dm, &de)) != 0))
		goto out;
	if (pr != NULL && pol_proto_parse(pr, &proto) != 0) {
		rc = svc_st_fail(SVC_STATIC_ERR, "protocol=%s: not a protocol",
		    pr);
		goto out;
	}
	if ((sp && (rc = svc_st_parse_u32("srcport", sp, 0, 65535,
	    &sport)) != 0) || (dp && (rc = svc_st_parse_u32("dstport", dp, 0,
	    65535, &dport)) != 0))
		goto out;
	for (i = 0; i < fl->nfilters; i++) {
		const struct pol_filter *f = &fl->filters[i];

		sel[i] = (!sa || endpoint_eq(&f->src, &se)) &&
		    (!da || endpoint_eq(&f->dst, &de)) &&
		    (!pr || f->proto == proto) &&
		    (!sp || f->sport == sport) && (!dp || f->dport == dport);
		if (sel[i])
			(*nsel)++;
	}
done:
	if (*nsel == 0)
		rc = svc_st_fail(SVC_STATIC_ERR, "no filter of '%s' matches",
		    fl->name);
out:
	pol_endpoint_clear(&se);
	pol_endpoint_clear(&de);
	return rc;
}

static int
delete_filter(struct cmd *c)
{
	struct pol_filterlist *fl;
	bool *sel = NULL;
	size_t nsel, i;
	int rc;

	if ((fl = svc_st_find_filterlist(c, "filterlist")) == NULL)
		return SVC_STATIC_ERR;
	if ((sel = calloc(fl->nfilters + 1, sizeof(*sel))) == NULL)
		return svc_st_enomem();
	if ((rc = select_filters(c, fl, sel, &nsel)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		goto out;
	for (i = fl->nfilters; i-- > 0;)
		if (sel[i])
			pol_filterlist_remove_filter(fl, i);
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
	printf("deleted %zu filter%s from '%s'\n", nsel, nsel == 1 ? "" : "s",
	    fl->name);
out:
	free(sel);
	return rc;
}

static int
set_filter(struct cmd *c)
{
	struct pol_filterlist *fl;
	const char *id = svc_st_arg(c, "guid");
	struct pa_guid g;
	size_t i;
	int rc;

	if ((fl = svc_st_find_filterlist(c, "filterlist")) == NULL)
		return SVC_STATIC_ERR;
	if (id == NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "'set filter' needs guid= "
		    "(see show filterlist)");
	if ((rc = parse_guid(id, &g)) != 0)
		return rc;
	for (i = 0; i < fl->nfilters; i++)
		if (pa_guid_eq(&fl->filters[i].id, &g))
			break;
	if (i == fl->nfilters)
		return svc_st_fail(SVC_STATIC_ERR, "filter %s is not in '%s'",
		    id, fl->name);
	if ((rc = filter_opts(c, &fl->filters[i])) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

/* ---- add, set, delete of a kind ---- */

static int
add_obj(struct cmd *c, const struct kind *k)
{
	const char *name = svc_st_need(c, "name");
	struct pol_policy *p;
	void *o;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if ((rc = obj_parent(c, k, &p)) != 0)
		return rc;
	if (k->add_needs[0] != NULL && (svc_st_arg(c, k->add_needs[0]) ==
	    NULL || svc_st_arg(c, k->add_needs[1]) == NULL))
		return svc_st_fail(SVC_STATIC_USAGE, "'add %s' needs %s= and "
		    "%s=", k->obj, k->add_needs[0], k->add_needs[1]);
	if (obj_by_name(c, k, p, name) != NULL)
		return p != NULL ? svc_st_fail(SVC_STATIC_ERR, "policy '%s' "
		    "already has a rule '%s'", p->name, name) :
		    svc_st_fail(SVC_STATIC_ERR, "%s '%s' already exists",
		    k->noun, name);
	if ((o = obj_new(c, k, p, name)) == NULL)
		return svc_st_enomem();
	if ((rc = k->opts(c, o)) != 0 || (rc = svc_st_args_unused(c)) != 0 ||
	    (k->added != NULL && (rc = k->added(o)) != 0))
		return rc;
	c->modified = true;
	return 0;
}

static int
set_obj(struct cmd *c, const struct kind *k)
{
	struct pol_policy *p;
	const char *nn;
	void *o;
	int rc;

	if ((rc = obj_parent(c, k, &p)) != 0 ||
	    (rc = obj_find(c, k, p, &o)) != 0)
		return rc;
	if ((nn = svc_st_arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    obj_by_name(c, k, p, nn), o, FIELD(o, k->name_off, char *))) != 0)
		return rc;
	if ((rc = k->opts(c, o)) != 0 || (rc = svc_st_args_unused(c)) != 0)
		return rc;
	*FIELD(o, k->changed_off, int64_t) = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

/* Refused while a rule uses the object (for filter lists and actions). */
static int
obj_in_use(struct cmd *c, const struct kind *k, void *o)
{
	if (!k->used_by_rules)
		return 0;
	return in_use(c, FIELD(o, k->id_off, struct pa_guid), k->noun,
	    *FIELD(o, k->name_off, char *));
}

/* delete all=: every object (but those kept), if no rule uses any. */
static int
delete_all(struct cmd *c, const struct kind *k, struct pol_policy *p,
    const char *all)
{
	bool yes = false;
	size_t i;
	int rc;

	if (k->all_yes && (svc_st_parse_yesno("all", all, &yes) != 0 || !yes))
		return SVC_STATIC_USAGE;
	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	for (i = 0; i < obj_count(c, k, p); i++)
		if ((rc = obj_in_use(c, k, obj_at(c, k, p, i))) != 0)
			return rc;
	for (i = obj_count(c, k, p); i-- > 0;)
		if (k->kept == NULL || !k->kept(obj_at(c, k, p, i)))
			k->remove(c, p, i);
	c->modified = true;
	return 0;
}

static int
delete_obj(struct cmd *c, const struct kind *k)
{
	struct pol_policy *p;
	const char *all;
	void *o;
	int rc;

	if ((rc = obj_parent(c, k, &p)) != 0)
		return rc;
	if ((all = svc_st_arg(c, "all")) != NULL)
		return delete_all(c, k, p, all);
	if ((rc = obj_find(c, k, p, &o)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0 ||
	    (rc = obj_in_use(c, k, o)) != 0)
		return rc;
	k->remove(c, p, obj_index(c, k, p, o));
	c->modified = true;
	return 0;
}

/* Constructors and array edits of the model, typed for struct kind. */
#define KIND_OPS(k, add, rm, cont)					\
static int								\
k##_init(void *o, const char *name)					\
{									\
	return pol_##k##_init(o, name);					\
}									\
static void								\
k##_clear(void *o)							\
{									\
	pol_##k##_clear(o);						\
}									\
static void *								\
k##_append(struct cmd *c, struct pol_policy *p)				\
{									\
	(void)c;							\
	(void)p;							\
	return add(cont);						\
}									\
static void								\
k##_remove(struct cmd *c, struct pol_policy *p, size_t i)		\
{									\
	(void)c;							\
	(void)p;							\
	rm(cont, i);							\
}

KIND_OPS(policy, pol_store_add_policy, pol_store_remove_policy, c->store)
KIND_OPS(filterlist, pol_store_add_filterlist, pol_store_remove_filterlist,
    c->store)
KIND_OPS(filteraction, pol_store_add_filteraction,
    pol_store_remove_filteraction, c->store)
KIND_OPS(rule, pol_policy_add_rule, pol_policy_remove_rule, p)

#define KIND_FIELDS(type, arr, n, cont)					\
	.size = sizeof(struct type), .arr_off = offsetof(struct cont, arr), \
	.n_off = offsetof(struct cont, n),				\
	.id_off = offsetof(struct type, id),				\
	.name_off = offsetof(struct type, name),			\
	.changed_off = offsetof(struct type, changed)

static const struct kind kind_policy = {
	.obj = "policy", .noun = "policy", .by_guid = true, .all_yes = true,
	KIND_FIELDS(pol_policy, policies, npolicies, pol_store),
	.init = policy_init, .clear = policy_clear, .append = policy_append,
	.remove = policy_remove, .opts = policy_opts,
};
static const struct kind kind_filterlist = {
	.obj = "filterlist", .noun = "filter list", .used_by_rules = true,
	KIND_FIELDS(pol_filterlist, filterlists, nfilterlists, pol_store),
	.init = filterlist_init, .clear = filterlist_clear,
	.append = filterlist_append, .remove = filterlist_remove,
	.opts = filterlist_opts,
};
static const struct kind kind_filteraction = {
	.obj = "filteraction", .noun = "filter action", .used_by_rules = true,
	KIND_FIELDS(pol_filteraction, filteractions, nfilteractions,
	    pol_store),
	.init = filteraction_init, .clear = filteraction_clear,
	.append = filteraction_append, .remove = filteraction_remove,
	.opts = filteraction_opts,
};
static const struct kind kind_rule = {
	.obj = "rule", .noun = "rule", .in_policy = true, .by_guid = true,
	.add_needs = { "filterlist", "filteraction" },
	KIND_FIELDS(pol_rule, rules, nrules, pol_policy),
	.init = rule_init, .clear = rule_clear, .append = rule_append,
	.remove = rule_remove, .opts = rule_opts, .added = rule_added,
	.kept = rule_kept,
};

struct pol_filterlist *
svc_st_find_filterlist(struct cmd *c, const char *key)
{
	return obj_ref(c, &kind_filterlist, key);
}

/* add|set|delete OBJECT: the edit named by c->verb and c->obj. */
int
svc_st_edit(struct cmd *c)
{
	static const struct kind *const kinds[] = { &kind_policy,
	    &kind_filterlist, &kind_filteraction, &kind_rule };
	static const struct {
		const char	*verb;
		int		(*obj)(struct cmd *, const struct kind *);
		int		(*filter)(struct cmd *);
	} verbs[] = {
		{ "add", add_obj, add_filter },
		{ "set", set_obj, set_filter },
		{ "delete", delete_obj, delete_filter },
	};
	size_t i, j;

	for (i = 0; c->obj != NULL && i < sizeof(verbs) / sizeof(verbs[0]);
	    i++) {
		if (strcmp(verbs[i].verb, c->verb) != 0)
			continue;
		if (strcmp(c->obj, "filter") == 0)
			return verbs[i].filter(c);
		for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
			if (strcmp(kinds[j]->obj, c->obj) == 0)
				return verbs[i].obj(c, kinds[j]);
	}
	return svc_st_fail(SVC_STATIC_USAGE, "unknown command 'static %s%s%s'",
	    c->verb, c->obj ? " " : "", c->obj ? c->obj : "");
}

