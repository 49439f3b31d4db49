/*
 * `ipseccmd static add|set|delete`: edits of the in-memory store (saved by
 * svc_static_main() only when the whole command succeeds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* ---- policy ---- */

static int
find_policy(struct cmd *c, struct pol_policy **out)
{
	const char *name, *id;
	struct pa_guid g;
	int rc;

	*out = NULL;
	if ((rc = name_or_guid(c, &name, &id, &g)) != 0)
		return rc;
	*out = id != NULL ? pol_store_policy_by_id(c->store, &g) :
	    pol_store_policy_by_name(c->store, name);
	if (*out == NULL)
		return svc_st_fail(SVC_STATIC_ERR, "policy '%s' does not exist",
		    id ? id : name);
	return 0;
}

/* Keys shared by add and set policy. */
static int
policy_opts(struct cmd *c, struct pol_policy *p)
{
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
	if (p->isakmp.master_pfs)
		p->isakmp.qm_per_mm = 1;
	if (assign && !p->assigned)
		for (i = 0; i < c->store->npolicies; i++)
			c->store->policies[i].assigned = false;
	p->assigned = assign;
	return 0;
}

static int
add_policy(struct cmd *c)
{
	const char *name = svc_st_need(c, "name");
	struct pol_policy *p, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (pol_store_policy_by_name(c->store, name) != NULL)
		return svc_st_fail(SVC_STATIC_ERR, "policy '%s' already "
		    "exists", name);
	if (pol_policy_init(&tmp, name) != 0)
		return svc_st_enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((p = pol_store_add_policy(c->store)) == NULL) {
		pol_policy_clear(&tmp);
		return svc_st_enomem();
	}
	*p = tmp;
	if ((rc = policy_opts(c, p)) != 0)
		return rc;
	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	c->modified = true;
	return 0;
}

static int
set_policy(struct cmd *c)
{
	struct pol_policy *p;
	const char *nn;
	int rc;

	if ((rc = find_policy(c, &p)) != 0)
		return rc;
	if ((nn = svc_st_arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_store_policy_by_name(c->store, nn), p, &p->name)) != 0)
		return rc;
	if ((rc = policy_opts(c, p)) != 0 || (rc = svc_st_args_unused(c)) != 0)
		return rc;
	p->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

static int
delete_policy(struct cmd *c)
{
	const char *all = svc_st_arg(c, "all");
	struct pol_policy *p;
	int rc;

	if (all != NULL) {
		bool yes = false;

		if (svc_st_parse_yesno("all", all, &yes) != 0 || !yes)
			return SVC_STATIC_USAGE;
		if ((rc = svc_st_args_unused(c)) != 0)
			return rc;
		while (c->store->npolicies > 0)
			pol_store_remove_policy(c->store, 0);
		c->modified = true;
		return 0;
	}
	if ((rc = find_policy(c, &p)) != 0 || (rc = svc_st_args_unused(c)) != 0)
		return rc;
	pol_store_remove_policy(c->store, (size_t)(p - c->store->policies));
	c->modified = true;
	return 0;
}

/* ---- filter lists and filters ---- */

struct pol_filterlist *
svc_st_find_filterlist(struct cmd *c, const char *key)
{
	const char *name;

	if ((name = ref_name(c, key)) == NULL)
		return NULL;
	return ref_found(pol_store_filterlist_by_name(c->store, name),
	    "filter list", name);
}

static int
add_filterlist(struct cmd *c)
{
	const char *name = svc_st_need(c, "name");
	struct pol_filterlist *fl, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (pol_store_filterlist_by_name(c->store, name) != NULL)
		return svc_st_fail(SVC_STATIC_ERR, "filter list '%s' already "
		    "exists", name);
	if (pol_filterlist_init(&tmp, name) != 0)
		return svc_st_enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((fl = pol_store_add_filterlist(c->store)) == NULL) {
		pol_filterlist_clear(&tmp);
		return svc_st_enomem();
	}
	*fl = tmp;
	if ((rc = svc_st_opt_str(c, "description", &fl->description)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	c->modified = true;
	return 0;
}

static int
set_filterlist(struct cmd *c)
{
	struct pol_filterlist *fl;
	const char *nn;
	int rc;

	if ((fl = svc_st_find_filterlist(c, "name")) == NULL)
		return SVC_STATIC_ERR;
	if ((nn = svc_st_arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_store_filterlist_by_name(c->store, nn), fl, &fl->name)) != 0)
		return rc;
	if ((rc = svc_st_opt_str(c, "description", &fl->description)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
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

/*
 * Before deleting n filter actions (acts) or filter lists from index
 * first: no unknown parameters, and none of them used by a rule.
 */
static int
deletable(struct cmd *c, bool acts, size_t first, size_t n)
{
	const struct pol_store *s = c->store;
	size_t i;
	int rc;

	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	for (i = first; i < first + n; i++)
		if ((rc = acts ? in_use(c, &s->filteractions[i].id,
		    "filter action", s->filteractions[i].name) :
		    in_use(c, &s->filterlists[i].id, "filter list",
		    s->filterlists[i].name)) != 0)
			return rc;
	c->modified = true;
	return 0;
}

/* delete filterlist name=N, or all=: every one (if no rule uses any). */
static int
delete_filterlist(struct cmd *c)
{
	struct pol_filterlist *fl;
	size_t first = 0, n = c->store->nfilterlists;
	int rc;

	if (svc_st_arg(c, "all") == NULL) {
		if ((fl = svc_st_find_filterlist(c, "name")) == NULL)
			return SVC_STATIC_ERR;
		first = (size_t)(fl - c->store->filterlists);
		n = 1;
	}
	if ((rc = deletable(c, false, first, n)) != 0)
		return rc;
	while (n-- > 0)
		pol_store_remove_filterlist(c->store, first);
	return 0;
}

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

/* ---- filter actions ---- */

static int
filteraction_opts(struct cmd *c, struct pol_filteraction *fa)
{
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

static struct pol_filteraction *
find_filteraction(struct cmd *c, const char *key)
{
	const char *name;

	if ((name = ref_name(c, key)) == NULL)
		return NULL;
	return ref_found(pol_store_filteraction_by_name(c->store, name),
	    "filter action", name);
}

static int
add_filteraction(struct cmd *c)
{
	const char *name = svc_st_need(c, "name");
	struct pol_filteraction *fa, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (pol_store_filteraction_by_name(c->store, name) != NULL)
		return svc_st_fail(SVC_STATIC_ERR, "filter action '%s' already "
		    "exists", name);
	if (pol_filteraction_init(&tmp, name) != 0)
		return svc_st_enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((fa = pol_store_add_filteraction(c->store)) == NULL) {
		pol_filteraction_clear(&tmp);
		return svc_st_enomem();
	}
	*fa = tmp;
	if ((rc = filteraction_opts(c, fa)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	c->modified = true;
	return 0;
}

static int
set_filteraction(struct cmd *c)
{
	struct pol_filteraction *fa;
	const char *nn;
	int rc;

	if ((fa = find_filteraction(c, "name")) == NULL)
		return SVC_STATIC_ERR;
	if ((nn = svc_st_arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_store_filteraction_by_name(c->store, nn), fa, &fa->name)) != 0)
		return rc;
	if ((rc = filteraction_opts(c, fa)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	fa->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

/* delete filteraction name=N, or all=: every one (if no rule uses any). */
static int
delete_filteraction(struct cmd *c)
{
	struct pol_filteraction *fa;
	size_t first = 0, n = c->store->nfilteractions;
	int rc;

	if (svc_st_arg(c, "all") == NULL) {
		if ((fa = find_filteraction(c, "name")) == NULL)
			return SVC_STATIC_ERR;
		first = (size_t)(fa - c->store->filteractions);
		n = 1;
	}
	if ((rc = deletable(c, true, first, n)) != 0)
		return rc;
	while (n-- > 0)
		pol_store_remove_filteraction(c->store, first);
	return 0;
}

/* ---- rules ---- */

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
			if ((a.ca_dn = strdup(kv->val)) == NULL) {
				rc = svc_st_enomem();
				goto out;
			}
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
rule_opts(struct cmd *c, struct pol_rule *r)
{
	const char *v;
	struct pol_filterlist *fl;
	struct pol_filteraction *fa;
	int rc;

	if (svc_st_arg(c, "filterlist") != NULL) {
		if ((fl = svc_st_find_filterlist(c, "filterlist")) == NULL)
			return SVC_STATIC_ERR;
		r->filterlist_id = fl->id;
	}
	if (svc_st_arg(c, "filteraction") != NULL) {
		if ((fa = find_filteraction(c, "filteraction")) == NULL)
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

static struct pol_rule *
find_rule(struct cmd *c, struct pol_policy *p)
{
	const char *name, *id;
	struct pa_guid g;
	size_t i;

	if (name_or_guid(c, &name, &id, &g) != 0)
		return NULL;
	if (id == NULL) {
		struct pol_rule *r = pol_policy_rule_by_name(p, name);

		if (r != NULL)
			return r;
	} else
		for (i = 0; i < p->nrules; i++)
			if (pa_guid_eq(&p->rules[i].id, &g))
				return &p->rules[i];
	svc_st_fail(SVC_STATIC_ERR, "policy '%s' has no rule '%s'", p->name,
	    id ? id : name);
	return NULL;
}

static struct pol_policy *
rule_policy(struct cmd *c)
{
	const char *name;

	if ((name = ref_name(c, "policy")) == NULL)
		return NULL;
	return ref_found(pol_store_policy_by_name(c->store, name), "policy",
	    name);
}

static int
add_rule(struct cmd *c)
{
	const char *name = svc_st_need(c, "name");
	struct pol_policy *p;
	struct pol_rule *r, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if ((p = rule_policy(c)) == NULL)
		return SVC_STATIC_ERR;
	if (svc_st_arg(c, "filterlist") == NULL || svc_st_arg(c,
	    "filteraction") == NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "'add rule' needs "
		    "filterlist= and filteraction=");
	if (pol_policy_rule_by_name(p, name) != NULL)
		return svc_st_fail(SVC_STATIC_ERR, "policy '%s' already has a "
		    "rule '%s'", p->name, name);
	if (pol_rule_init(&tmp, name) != 0)
		return svc_st_enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((r = pol_policy_add_rule(p)) == NULL) {
		pol_rule_clear(&tmp);
		return svc_st_enomem();
	}
	*r = tmp;
	if ((rc = rule_opts(c, r)) != 0 || (rc = svc_st_args_unused(c)) != 0)
		return rc;
	/* netsh's default: Kerberos when no method is given. */
	if (r->nauth == 0) {
		struct pol_auth *a = pol_rule_add_auth(r);

		if (a == NULL)
			return svc_st_enomem();
		a->kind = POL_AUTH_KERBEROS;
	}
	c->modified = true;
	return 0;
}

static int
set_rule(struct cmd *c)
{
	struct pol_policy *p;
	struct pol_rule *r;
	const char *nn;
	int rc;

	if ((p = rule_policy(c)) == NULL || (r = find_rule(c, p)) == NULL)
		return SVC_STATIC_ERR;
	if ((nn = svc_st_arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_policy_rule_by_name(p, nn), r, &r->name)) != 0)
		return rc;
	if ((rc = rule_opts(c, r)) != 0 || (rc = svc_st_args_unused(c)) != 0)
		return rc;
	r->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

static int
delete_rule(struct cmd *c)
{
	struct pol_policy *p;
	struct pol_rule *r;
	const char *all;
	int rc;

	if ((p = rule_policy(c)) == NULL)
		return SVC_STATIC_ERR;
	if ((all = svc_st_arg(c, "all")) != NULL) {
		size_t i;

		if ((rc = svc_st_args_unused(c)) != 0)
			return rc;
		/* The default response rule stays. */
		for (i = p->nrules; i-- > 0;)
			if (!p->rules[i].default_response)
				pol_policy_remove_rule(p, i);
		c->modified = true;
		return 0;
	}
	if ((r = find_rule(c, p)) == NULL)
		return SVC_STATIC_ERR;
	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	pol_policy_remove_rule(p, (size_t)(r - p->rules));
	c->modified = true;
	return 0;
}


/* add|set|delete OBJECT: the edit named by c->verb and c->obj. */
int
svc_st_edit(struct cmd *c)
{
	static const struct {
		const char	*verb;
		const char	*obj;
		int		(*fn)(struct cmd *);
	} tab[] = {
		{ "add", "policy", add_policy },
		{ "add", "filterlist", add_filterlist },
		{ "add", "filter", add_filter },
		{ "add", "filteraction", add_filteraction },
		{ "add", "rule", add_rule },
		{ "set", "policy", set_policy },
		{ "set", "filterlist", set_filterlist },
		{ "set", "filter", set_filter },
		{ "set", "filteraction", set_filteraction },
		{ "set", "rule", set_rule },
		{ "delete", "policy", delete_policy },
		{ "delete", "filterlist", delete_filterlist },
		{ "delete", "filter", delete_filter },
		{ "delete", "filteraction", delete_filteraction },
		{ "delete", "rule", delete_rule },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].verb, c->verb) == 0 && c->obj != NULL &&
		    strcmp(tab[i].obj, c->obj) == 0)
			return tab[i].fn(c);
	return svc_st_fail(SVC_STATIC_USAGE, "unknown command 'static %s%s%s'",
	    c->verb, c->obj ? " " : "", c->obj ? c->obj : "");
}
