/*
 * `ipseccmd static show`: each object is built once as a view, the JSON
 * object --json prints, then printed as that JSON or as text. What only
 * the text shows rides in the view under keys starting with '_' (a
 * filter's one-line text, a rule's index and its filter action's action),
 * which svc_st_json_out() drops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "control.h"
#include "pa_buf.h"

#include "static_int.h"

/* ---- views ---- */

/* A key as typed if it is printable ASCII, else "hex:..." (malloc'd). */
static char *
key_text(const struct pa_secret *k)
{
	size_t i, cap = k->len * 2 + 5;
	bool plain = true;
	char *s;

	for (i = 0; i < k->len; i++)
		if (k->p[i] < 0x20 || k->p[i] > 0x7e || k->p[i] == '"')
			plain = false;
	if ((s = malloc(cap)) == NULL)
		return NULL;
	if (plain) {
		memcpy(s, k->p, k->len);
		s[k->len] = '\0';
	} else {
		memcpy(s, "hex:", 4);
		pa_hex_encode(k->p, k->len, s + 4, cap - 4);
	}
	return s;
}

json_t *
svc_st_guid_json(const struct pa_guid *g)
{
	char b[PA_GUIDSTRLEN];

	return json_string(pa_guid_str(g, b));
}

static json_t *
endpoint_json(const struct pol_endpoint *e)
{
	json_t *o = json_object(), *r;
	char b[PA_ADDRSTRLEN];
	size_t i;

	json_object_set_new(o, "kind", json_string(pol_addr_kind_name(
	    e->kind)));
	if (e->kind == POL_ADDR_HOST || e->kind == POL_ADDR_SUBNET) {
		json_object_set_new(o, "address", json_string(pa_addr_str(
		    &e->prefix.addr, b, sizeof(b))));
		json_object_set_new(o, "prefix", json_integer(e->prefix.len));
	}
	if (e->kind == POL_ADDR_DNS) {
		json_object_set_new(o, "dns", json_string(e->dns));
		r = json_array();
		for (i = 0; i < e->nresolved; i++)
			json_array_append_new(r, json_string(pa_addr_str(
			    &e->resolved[i], b, sizeof(b))));
		json_object_set_new(o, "resolved", r);
	}
	return o;
}

/* guid, name and (if any) description: how every view starts. */
static json_t *
view_head(const struct pa_guid *id, const char *name, const char *desc)
{
	json_t *o = json_object();

	json_object_set_new(o, "guid", svc_st_guid_json(id));
	json_object_set_new(o, "name", json_string(name));
	if (desc != NULL)
		json_object_set_new(o, "description", json_string(desc));
	return o;
}

static json_t *
filterlist_view(const struct pol_filterlist *fl)
{
	json_t *o = view_head(&fl->id, fl->name ? fl->name : "",
	    fl->description), *a = json_array();
	char t[600];
	size_t i;

	for (i = 0; i < fl->nfilters; i++) {
		const struct pol_filter *f = &fl->filters[i];
		json_t *x = json_object();

		svc_st_fmt_filter(f, t, sizeof(t));
		json_object_set_new(x, "text", json_string(t));
		json_object_set_new(x, "guid", svc_st_guid_json(&f->id));
		json_object_set_new(x, "src", endpoint_json(&f->src));
		json_object_set_new(x, "dst", endpoint_json(&f->dst));
		json_object_set_new(x, "protocol", json_integer(f->proto));
		json_object_set_new(x, "srcport", json_integer(f->sport));
		json_object_set_new(x, "dstport", json_integer(f->dport));
		json_object_set_new(x, "mirrored", json_boolean(f->mirrored));
		if (f->description)
			json_object_set_new(x, "description",
			    json_string(f->description));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "filters", a);
	return o;
}

/* The names of the values that took their defaults (POL_DEF_*). */
static json_t *
defaults_json(unsigned bits)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} t[] = {
		{ POL_DEF_POLL, "polling_sec" },
		{ POL_DEF_MM_LIFE, "mm_life_sec" },
		{ POL_DEF_QM_LIFE_SEC, "life_sec" },
		{ POL_DEF_QM_LIFE_KB, "life_kb" },
	};
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (bits & t[i].bit)
			json_array_append_new(a, json_string(t[i].name));
	return a;
}

/* "" or " (default)": does the defaults list name key? */
static const char *
dflt(const json_t *v, const char *key)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(v, "defaults"), i, d)
		if (strcmp(json_string_value(d), key) == 0)
			return " (default)";
	return "";
}

static json_t *
filteraction_view(const struct pol_filteraction *fa)
{
	json_t *o = view_head(&fa->id, fa->name ? fa->name : "",
	    fa->description), *a = json_array();
	char b[96];
	size_t i;

	json_object_set_new(o, "action", json_string(pol_action_name(
	    fa->action)));
	json_object_set_new(o, "inpass", json_boolean(fa->inpass));
	json_object_set_new(o, "soft", json_boolean(fa->soft));
	json_object_set_new(o, "pfsgroup", json_integer(fa->pfs_group));
	for (i = 0; i < fa->noffers; i++) {
		const struct pol_qm_offer *q = &fa->offers[i];
		json_t *x = json_object();

		svc_st_fmt_offer(q, b, sizeof(b));
		json_object_set_new(x, "text", json_string(b));
		if (q->ah)
			json_object_set_new(x, "ah", json_string(
			    pol_integ_name(q->ah_integ)));
		if (q->esp) {
			json_object_set_new(x, "esp", json_string(
			    pol_esp_cipher_name(q->esp_cipher)));
			json_object_set_new(x, "esp_integrity", json_string(
			    pol_integ_name(q->esp_integ)));
		}
		json_object_set_new(x, "life_sec",
		    json_integer(q->life_sec));
		json_object_set_new(x, "life_kb",
		    json_integer(q->life_kb));
		json_object_set_new(x, "pfs", json_boolean(q->pfs));
		json_object_set_new(x, "defaults", defaults_json(q->defaulted));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "qmsecmethods", a);
	return o;
}

static json_t *
rule_view(const struct pol_rule *r, size_t n, bool keys)
{
	json_t *o = view_head(&r->id, r->name ? r->name : "",
	    r->description), *a = json_array();
	char b[PA_ADDRSTRLEN];
	size_t i;

	json_object_set_new(o, "index", json_integer((json_int_t)n));
	if (r->filteraction != NULL)
		json_object_set_new(o, "action", json_string(pol_action_name(
		    r->filteraction->action)));
	json_object_set_new(o, "active", json_boolean(r->active));
	json_object_set_new(o, "default_response",
	    json_boolean(r->default_response));
	json_object_set_new(o, "filterlist", r->filterlist ?
	    json_string(r->filterlist->name) : json_null());
	json_object_set_new(o, "filteraction", r->filteraction ?
	    json_string(r->filteraction->name) : json_null());
	json_object_set_new(o, "tunnel", r->tunnel.family ?
	    json_string(pa_addr_str(&r->tunnel, b, sizeof(b))) : json_null());
	json_object_set_new(o, "conntype", json_string(pol_conntype_name(
	    r->conntype)));
	for (i = 0; i < r->nauth; i++) {
		const struct pol_auth *x = &r->auth[i];
		json_t *j = json_object();

		json_object_set_new(j, "kind", json_string(pol_auth_kind_name(
		    x->kind)));
		if (x->kind == POL_AUTH_CERT) {
			json_object_set_new(j, "ca", json_string(x->ca_dn));
			json_object_set_new(j, "certmap",
			    json_boolean(x->certmap));
		}
		if (x->kind == POL_AUTH_PSK && keys && x->psk != NULL) {
			char *t = key_text(x->psk);

			json_object_set_new(j, "key", t ? json_string(t) :
			    json_null());
			if (t != NULL) {
				pa_wipe(t, strlen(t));
				free(t);
			}
		}
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "auth", a);
	return o;
}

static json_t *
policy_view(const struct pol_policy *p, bool keys)
{
	json_t *o = view_head(&p->id, p->name, p->description);
	json_t *m = json_array(), *r = json_array();
	char b[64];
	size_t i;

	json_object_set_new(o, "assigned", json_boolean(p->assigned));
	json_object_set_new(o, "polling_sec", json_integer(p->poll_sec));
	json_object_set_new(o, "activate_default_rule",
	    json_boolean(p->activate_default_rule));
	json_object_set_new(o, "mm_life_sec",
	    json_integer(p->isakmp.mm_life_sec));
	json_object_set_new(o, "qm_per_mm", json_integer(p->isakmp.qm_per_mm));
	json_object_set_new(o, "master_pfs",
	    json_boolean(p->isakmp.master_pfs));
	json_object_set_new(o, "isakmp_options",
	    json_integer(p->isakmp.options));
	json_object_set_new(o, "defaults", defaults_json(p->defaulted |
	    p->isakmp.defaulted));
	for (i = 0; i < p->isakmp.nmethods; i++) {
		snprintf(b, sizeof(b), "%s-%s-%u",
		    pol_mm_cipher_name(p->isakmp.methods[i].cipher),
		    pol_integ_name(p->isakmp.methods[i].hash),
		    (unsigned)p->isakmp.methods[i].dh_group);
		json_array_append_new(m, json_string(b));
	}
	json_object_set_new(o, "mmsecmethods", m);
	for (i = 0; i < p->nrules; i++)
		json_array_append_new(r, rule_view(&p->rules[i], i + 1,
		    keys));
	json_object_set_new(o, "rules", r);
	return o;
}

int
svc_st_json_out(json_t *j)
{
	int rc;

	if (j == NULL)
		return svc_st_enomem();
	if (json_is_object(j))
		json_object_set_new(j, "version",
		    json_integer(SVC_JSON_VERSION));
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
	return rc == 0 ? 0 : svc_st_fail(SVC_STATIC_ERR, "cannot write JSON");
}

/* ---- views as text ---- */

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t
jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
jyes(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key)) ? "yes" : "no";
}

/* "<label>: <description>", when the view has a description. */
static void
text_description(const json_t *v, const char *label)
{
	if (jstr(v, "description") != NULL)
		printf("%s: %s\n", label, jstr(v, "description"));
}

static void
text_auth(const json_t *a)
{
	const char *kind = jstr(a, "kind"), *ca = jstr(a, "ca");
	const json_t *key = json_object_get(a, "key");

	if (strcmp(kind, pol_auth_kind_name(POL_AUTH_CERT)) == 0)
		printf("certificate (CA \"%s\"%s)", ca ? ca : "",
		    json_is_true(json_object_get(a, "certmap")) ?
		    ", mapped to a computer account" : "");
	else if (strcmp(kind, pol_auth_kind_name(POL_AUTH_PSK)) != 0)
		printf("%s", kind);
	else if (key != NULL)
		printf("preshared key \"%s\"", json_is_string(key) ?
		    json_string_value(key) : "?");
	else
		printf("preshared key (hidden)");
}

static void
text_filterlist(const json_t *v)
{
	const json_t *fs = json_object_get(v, "filters"), *f;
	size_t i;

	printf("Filter list      : %s\n", jstr(v, "name"));
	printf("  GUID           : %s\n", jstr(v, "guid"));
	text_description(v, "  Description    ");
	printf("  Filters        : %zu\n", json_array_size(fs));
	json_array_foreach(fs, i, f)
		printf("    %zu. %s  %s\n", i + 1, jstr(f, "text"),
		    jstr(f, "guid"));
}

static void
text_filteraction(const json_t *v)
{
	const json_t *qs = json_object_get(v, "qmsecmethods"), *q;
	size_t i;

	printf("Filter action    : %s\n", jstr(v, "name"));
	printf("  GUID           : %s\n", jstr(v, "guid"));
	text_description(v, "  Description    ");
	printf("  Action         : %s\n", jstr(v, "action"));
	if (strcmp(jstr(v, "action"), pol_action_name(POL_ACT_NEGOTIATE)) != 0)
		return;
	printf("  Inbound pass-through (inpass): %s\n", jyes(v, "inpass"));
	printf("  Fall back to clear (soft)    : %s\n", jyes(v, "soft"));
	if (jint(v, "pfsgroup") != 0)
		printf("  QM PFS group   : %u\n",
		    (unsigned)jint(v, "pfsgroup"));
	json_array_foreach(qs, i, q)
		printf("  Method %zu       : %s%s%s\n", i + 1, jstr(q, "text"),
		    dflt(q, "life_sec")[0] || dflt(q, "life_kb")[0] ?
		    "  (lifetime: " : "", dflt(q, "life_sec")[0] &&
		    dflt(q, "life_kb")[0] ? "both defaults)" :
		    dflt(q, "life_sec")[0] ? "seconds by default)" :
		    dflt(q, "life_kb")[0] ? "kilobytes by default)" : "");
}

/* A rule; show rule names its policy first. */
static void
text_rule(const json_t *v)
{
	const json_t *as = json_object_get(v, "auth"), *a;
	const char *fa = jstr(v, "filteraction");
	size_t i;

	if (jstr(v, "policy") != NULL)
		printf("Policy %s\n", jstr(v, "policy"));
	printf("  Rule %zu: %s%s\n", (size_t)jint(v, "index"), jstr(v, "name"),
	    json_is_true(json_object_get(v, "default_response")) ?
	    " (default response)" : "");
	printf("    GUID         : %s\n", jstr(v, "guid"));
	text_description(v, "    Description  ");
	printf("    Active       : %s\n", jyes(v, "active"));
	printf("    Filter list  : %s\n", jstr(v, "filterlist") ?
	    jstr(v, "filterlist") : "(none)");
	printf("    Filter action: %s%s%s%s\n", fa ? fa : "?", fa ? " (" : "",
	    fa ? jstr(v, "action") : "", fa ? ")" : "");
	printf("    Tunnel       : %s\n", jstr(v, "tunnel") ?
	    jstr(v, "tunnel") : "none (transport)");
	printf("    Connection   : %s\n", jstr(v, "conntype"));
	printf("    Authentication:");
	json_array_foreach(as, i, a) {
		printf(i ? ", " : " ");
		text_auth(a);
	}
	printf("\n");
}

static void
text_policy(const json_t *v)
{
	const json_t *ms = json_object_get(v, "mmsecmethods"), *m;
	const json_t *rs = json_object_get(v, "rules"), *r;
	char qm[32] = "unlimited";
	size_t i;

	printf("Policy           : %s\n", jstr(v, "name"));
	printf("  GUID           : %s\n", jstr(v, "guid"));
	text_description(v, "  Description    ");
	printf("  Assigned       : %s\n", json_is_true(json_object_get(v,
	    "assigned")) ? "YES" : "no");
	printf("  Polling        : %u minutes%s\n",
	    (unsigned)jint(v, "polling_sec") / 60, dflt(v, "polling_sec"));
	printf("  Default response rule: %s\n", json_is_true(json_object_get(v,
	    "activate_default_rule")) ? "active" : "inactive");
	if (jint(v, "qm_per_mm") != 0)
		snprintf(qm, sizeof(qm), "%u", (unsigned)jint(v, "qm_per_mm"));
	printf("  Main Mode      : lifetime %u minutes%s, QM per MM %s, "
	    "master PFS %s\n", (unsigned)jint(v, "mm_life_sec") / 60,
	    dflt(v, "mm_life_sec"), qm, jyes(v, "master_pfs"));
	if (jint(v, "isakmp_options") & POL_ISAKMP_OPT_CERTMAP)
		printf("  Cert mapping   : every certificate method (ISAKMP "
		    "option 1)\n");
	printf("  MM methods     :");
	json_array_foreach(ms, i, m)
		printf(" %s", json_string_value(m));
	printf("\n  Rules          : %zu\n", json_array_size(rs));
	json_array_foreach(rs, i, r)
		text_rule(r);
}

/* ---- show ---- */

static bool
named(const char *name, const char *want)
{
	return name != NULL && strcmp(name, want) == 0;
}

/*
 * The views of the objects of kind obj named want (every one if want is
 * NULL); for rules, of the policy named pol if given, each with its
 * policy's name.
 */
static json_t *
collect(const struct pol_store *s, const char *obj, const char *want,
    const char *pol, bool keys)
{
	json_t *a = json_array(), *v;
	size_t i, k;

	for (i = 0; strcmp(obj, "policy") == 0 && i < s->npolicies; i++)
		if (want == NULL || named(s->policies[i].name, want))
			json_array_append_new(a, policy_view(&s->policies[i],
			    keys));
	for (i = 0; strcmp(obj, "filterlist") == 0 && i < s->nfilterlists;
	    i++)
		if (want == NULL || named(s->filterlists[i].name, want))
			json_array_append_new(a, filterlist_view(
			    &s->filterlists[i]));
	for (i = 0; strcmp(obj, "filteraction") == 0 &&
	    i < s->nfilteractions; i++)
		if (want == NULL || named(s->filteractions[i].name, want))
			json_array_append_new(a, filteraction_view(
			    &s->filteractions[i]));
	for (i = 0; strcmp(obj, "rule") == 0 && i < s->npolicies; i++) {
		const struct pol_policy *p = &s->policies[i];

		if (pol != NULL && !named(p->name, pol))
			continue;
		for (k = 0; k < p->nrules; k++)
			if (want == NULL || named(p->rules[k].name, want)) {
				v = rule_view(&p->rules[k], k + 1, keys);
				json_object_set_new(v, "policy",
				    json_string(p->name));
				json_array_append_new(a, v);
			}
	}
	return a;
}

/* What show lists; the first three are in show all, in this order. */
static const struct show_kind {
	const char	*obj;
	const char	*all_key;	/* its array in show all --json */
	void		(*text)(const json_t *);
} show_kinds[] = {
	{ "policy", "policies", text_policy },
	{ "filterlist", "filterlists", text_filterlist },
	{ "filteraction", "filteractions", text_filteraction },
	{ "rule", NULL, text_rule },
};

static const struct show_kind *
show_kind(const char *obj)
{
	size_t i;

	for (i = 0; i < sizeof(show_kinds) / sizeof(show_kinds[0]); i++)
		if (strcmp(show_kinds[i].obj, obj) == 0)
			return &show_kinds[i];
	return NULL;
}

/* show all: policies, filter lists, filter actions. */
static int
show_all(struct cmd *c, bool keys)
{
	const struct show_kind *k;
	json_t *j = json_object(), *a, *v;
	size_t i, n = 0;

	for (k = show_kinds; k->all_key != NULL; k++) {
		a = collect(c->store, k->obj, NULL, NULL, keys);
		n += json_array_size(a);
		json_object_set_new(j, k->all_key, a);
	}
	if (c->json)
		return svc_st_json_out(j);
	for (k = show_kinds; k->all_key != NULL; k++)
		json_array_foreach(json_object_get(j, k->all_key), i, v) {
			k->text(v);
			printf("\n");
		}
	if (n == 0)
		printf("The store is empty.\n");
	json_decref(j);
	return 0;
}

int
svc_st_cmd_show(struct cmd *c)
{
	const struct show_kind *k;
	const char *name = NULL, *pol;
	bool keys = false, all;
	json_t *a, *v;
	size_t i;
	int rc;

	if ((rc = svc_st_opt_yesno(c, "showsecrets", &keys)) != 0)
		return rc;
	if (c->obj == NULL || strcmp(c->obj, "all") == 0)
		return (rc = svc_st_args_unused(c)) != 0 ? rc :
		    show_all(c, keys);
	if (strcmp(c->obj, "filter") == 0) {
		/* show filter filterlist=NAME: the filters of one list */
		struct pol_filterlist *fl = svc_st_find_filterlist(c,
		    "filterlist");

		if (fl == NULL)
			return SVC_STATIC_ERR;
		if ((rc = svc_st_args_unused(c)) != 0)
			return rc;
		v = filterlist_view(fl);
		if (c->json)
			return svc_st_json_out(v);
		text_filterlist(v);
		json_decref(v);
		return 0;
	}
	name = svc_st_arg(c, "name");
	all = name == NULL || strcasecmp(name, "all") == 0;
	if (svc_st_arg(c, "all") != NULL)
		all = true;
	pol = svc_st_arg(c, "policy");
	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	if ((k = show_kind(c->obj)) == NULL)
		return svc_st_fail(SVC_STATIC_USAGE, "show what? (all, policy, "
		    "filterlist, filter, filteraction, rule)");
	a = collect(c->store, c->obj, all ? NULL : name, pol, keys);
	if (!all && json_array_size(a) == 0) {
		json_decref(a);
		return svc_st_fail(SVC_STATIC_ERR, "no %s named '%s'", c->obj,
		    name);
	}
	/* JSON: an object (with the format version), the list under the
	 * key show all uses for it. */
	if (c->json)
		return svc_st_json_out(json_pack("{s:o}", k->all_key != NULL ?
		    k->all_key : "rules", a));
	json_array_foreach(a, i, v)
		k->text(v);
	json_decref(a);
	return 0;
}

/* ---- the policy in force, for the daemon's show policy ---- */

void *
svc_static_policy_in_force(const struct pol_policy *p)
{
	json_t *fls = json_array(), *fas = json_array();
	size_t i, k;

	for (i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		bool seen_fl = r->filterlist == NULL, seen_fa =
		    r->filteraction == NULL;

		for (k = 0; k < i; k++) {
			seen_fl = seen_fl ||
			    p->rules[k].filterlist == r->filterlist;
			seen_fa = seen_fa ||
			    p->rules[k].filteraction == r->filteraction;
		}
		if (!seen_fl)
			json_array_append_new(fls, filterlist_view(
			    r->filterlist));
		if (!seen_fa)
			json_array_append_new(fas, filteraction_view(
			    r->filteraction));
	}
	return json_pack("{s:o,s:o,s:o}", "policy", policy_view(p, false),
	    "filterlists", fls, "filteractions", fas);
}

void
svc_static_print_in_force(const void *in_force)
{
	const json_t *v = in_force, *x;
	size_t i;

	if (v == NULL || json_object_get(v, "policy") == NULL)
		return;
	printf("\n");
	text_policy(json_object_get(v, "policy"));
	json_array_foreach(json_object_get(v, "filterlists"), i, x) {
		printf("\n");
		text_filterlist(x);
	}
	json_array_foreach(json_object_get(v, "filteractions"), i, x) {
		printf("\n");
		text_filteraction(x);
	}
}
