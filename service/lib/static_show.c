/*
 * `ipseccmd static show`: the store's objects as text or JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "pa_buf.h"

#include "static_int.h"

/* ---- show: text ---- */

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

static void
show_auth_text(const struct pol_auth *a, bool keys)
{
	switch (a->kind) {
	case POL_AUTH_KERBEROS:
		printf("kerberos");
		break;
	case POL_AUTH_CERT:
		printf("certificate (CA \"%s\")", a->ca_dn ? a->ca_dn : "");
		break;
	case POL_AUTH_PSK:
		if (keys && a->psk != NULL) {
			char *t = key_text(a->psk);

			printf("preshared key \"%s\"", t ? t : "?");
			if (t != NULL) {
				pa_wipe(t, strlen(t));
				free(t);
			}
		} else
			printf("preshared key (hidden)");
		break;
	}
}

static void
show_filterlist_text(const struct pol_filterlist *fl)
{
	char g[PA_GUIDSTRLEN], f[600];
	size_t i;

	printf("Filter list      : %s\n", fl->name ? fl->name : "");
	printf("  GUID           : %s\n", pa_guid_str(&fl->id, g));
	if (fl->description)
		printf("  Description    : %s\n", fl->description);
	printf("  Filters        : %zu\n", fl->nfilters);
	for (i = 0; i < fl->nfilters; i++) {
		svc_st_fmt_filter(&fl->filters[i], f, sizeof(f));
		printf("    %zu. %s  %s\n", i + 1, f,
		    pa_guid_str(&fl->filters[i].id, g));
	}
}

static void
show_filteraction_text(const struct pol_filteraction *fa)
{
	char g[PA_GUIDSTRLEN], o[96];
	size_t i;

	printf("Filter action    : %s\n", fa->name ? fa->name : "");
	printf("  GUID           : %s\n", pa_guid_str(&fa->id, g));
	if (fa->description)
		printf("  Description    : %s\n", fa->description);
	printf("  Action         : %s\n", pol_action_name(fa->action));
	if (fa->action == POL_ACT_NEGOTIATE) {
		printf("  Inbound pass-through (inpass): %s\n",
		    fa->inpass ? "yes" : "no");
		printf("  Fall back to clear (soft)    : %s\n",
		    fa->soft ? "yes" : "no");
		if (fa->pfs_group)
			printf("  QM PFS group   : %u\n",
			    (unsigned)fa->pfs_group);
		for (i = 0; i < fa->noffers; i++) {
			svc_st_fmt_offer(&fa->offers[i], o, sizeof(o));
			printf("  Method %zu       : %s\n", i + 1, o);
		}
	}
}

static void
show_rule_text(const struct pol_rule *r, size_t n, bool keys)
{
	char g[PA_GUIDSTRLEN], a[PA_ADDRSTRLEN];
	size_t i;

	printf("  Rule %zu: %s%s\n", n, r->name ? r->name : "",
	    r->default_response ? " (default response)" : "");
	printf("    GUID         : %s\n", pa_guid_str(&r->id, g));
	if (r->description)
		printf("    Description  : %s\n", r->description);
	printf("    Active       : %s\n", r->active ? "yes" : "no");
	printf("    Filter list  : %s\n", r->filterlist ?
	    r->filterlist->name : "(none)");
	printf("    Filter action: %s%s%s%s\n", r->filteraction ?
	    r->filteraction->name : "?", r->filteraction ? " (" : "",
	    r->filteraction ? pol_action_name(r->filteraction->action) : "",
	    r->filteraction ? ")" : "");
	printf("    Tunnel       : %s\n", r->tunnel.family ?
	    pa_addr_str(&r->tunnel, a, sizeof(a)) : "none (transport)");
	printf("    Connection   : %s\n", pol_conntype_name(r->conntype));
	printf("    Authentication:");
	for (i = 0; i < r->nauth; i++) {
		printf(i ? ", " : " ");
		show_auth_text(&r->auth[i], keys);
	}
	printf("\n");
}

static void
show_policy_text(const struct pol_policy *p, bool keys)
{
	char g[PA_GUIDSTRLEN];
	size_t i;

	printf("Policy           : %s\n", p->name);
	printf("  GUID           : %s\n", pa_guid_str(&p->id, g));
	if (p->description)
		printf("  Description    : %s\n", p->description);
	printf("  Assigned       : %s\n", p->assigned ? "YES" : "no");
	printf("  Polling        : %u minutes\n", p->poll_sec / 60);
	printf("  Default response rule: %s\n",
	    p->activate_default_rule ? "active" : "inactive");
	if (p->isakmp.qm_per_mm)
		snprintf(g, sizeof(g), "%u", p->isakmp.qm_per_mm);
	else
		snprintf(g, sizeof(g), "unlimited");
	printf("  Main Mode      : lifetime %u minutes, QM per MM %s, "
	    "master PFS %s\n", p->isakmp.mm_life_sec / 60, g,
	    p->isakmp.master_pfs ? "yes" : "no");
	printf("  MM methods     :");
	for (i = 0; i < p->isakmp.nmethods; i++)
		printf(" %s-%s-%u", pol_mm_cipher_name(p->isakmp.methods[i].
		    cipher), pol_integ_name(p->isakmp.methods[i].hash),
		    (unsigned)p->isakmp.methods[i].dh_group);
	printf("\n  Rules          : %zu\n", p->nrules);
	for (i = 0; i < p->nrules; i++)
		show_rule_text(&p->rules[i], i + 1, keys);
}

/* ---- show: JSON ---- */

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

static json_t *
filterlist_json(const struct pol_filterlist *fl)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	json_object_set_new(o, "guid", svc_st_guid_json(&fl->id));
	json_object_set_new(o, "name", json_string(fl->name ? fl->name : ""));
	if (fl->description)
		json_object_set_new(o, "description",
		    json_string(fl->description));
	for (i = 0; i < fl->nfilters; i++) {
		const struct pol_filter *f = &fl->filters[i];
		json_t *x = json_object();

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

static json_t *
filteraction_json(const struct pol_filteraction *fa)
{
	json_t *o = json_object(), *a = json_array();
	char b[96];
	size_t i;

	json_object_set_new(o, "guid", svc_st_guid_json(&fa->id));
	json_object_set_new(o, "name", json_string(fa->name ? fa->name : ""));
	if (fa->description)
		json_object_set_new(o, "description",
		    json_string(fa->description));
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
			json_object_set_new(x, "espIntegrity", json_string(
			    pol_integ_name(q->esp_integ)));
		}
		json_object_set_new(x, "lifeSeconds",
		    json_integer(q->life_sec));
		json_object_set_new(x, "lifeKilobytes",
		    json_integer(q->life_kb));
		json_object_set_new(x, "pfs", json_boolean(q->pfs));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "qmsecmethods", a);
	return o;
}

static json_t *
rule_json(const struct pol_rule *r, bool keys)
{
	json_t *o = json_object(), *a = json_array();
	char b[PA_ADDRSTRLEN];
	size_t i;

	json_object_set_new(o, "guid", svc_st_guid_json(&r->id));
	json_object_set_new(o, "name", json_string(r->name ? r->name : ""));
	if (r->description)
		json_object_set_new(o, "description",
		    json_string(r->description));
	json_object_set_new(o, "active", json_boolean(r->active));
	json_object_set_new(o, "defaultResponse",
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
		if (x->kind == POL_AUTH_CERT)
			json_object_set_new(j, "ca", json_string(x->ca_dn));
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
policy_json(const struct pol_policy *p, bool keys)
{
	json_t *o = json_object(), *m = json_array(), *r = json_array();
	char b[64];
	size_t i;

	json_object_set_new(o, "guid", svc_st_guid_json(&p->id));
	json_object_set_new(o, "name", json_string(p->name));
	if (p->description)
		json_object_set_new(o, "description",
		    json_string(p->description));
	json_object_set_new(o, "assigned", json_boolean(p->assigned));
	json_object_set_new(o, "pollingSeconds", json_integer(p->poll_sec));
	json_object_set_new(o, "activateDefaultRule",
	    json_boolean(p->activate_default_rule));
	json_object_set_new(o, "mmLifetimeSeconds",
	    json_integer(p->isakmp.mm_life_sec));
	json_object_set_new(o, "qmPerMm", json_integer(p->isakmp.qm_per_mm));
	json_object_set_new(o, "masterPfs",
	    json_boolean(p->isakmp.master_pfs));
	for (i = 0; i < p->isakmp.nmethods; i++) {
		snprintf(b, sizeof(b), "%s-%s-%u",
		    pol_mm_cipher_name(p->isakmp.methods[i].cipher),
		    pol_integ_name(p->isakmp.methods[i].hash),
		    (unsigned)p->isakmp.methods[i].dh_group);
		json_array_append_new(m, json_string(b));
	}
	json_object_set_new(o, "mmsecmethods", m);
	for (i = 0; i < p->nrules; i++)
		json_array_append_new(r, rule_json(&p->rules[i], keys));
	json_object_set_new(o, "rules", r);
	return o;
}

int
svc_st_json_out(json_t *j)
{
	int rc;

	if (j == NULL)
		return svc_st_enomem();
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
	return rc == 0 ? 0 : svc_st_fail(SVC_STATIC_ERR, "cannot write JSON");
}

int
svc_st_cmd_show(struct cmd *c)
{
	const char *name = NULL, *pol;
	bool keys = false, all;
	struct pol_err err;
	json_t *j = NULL, *a;
	size_t i;
	int rc, n = 0;

	if ((rc = svc_st_opt_yesno(c, "showsecrets", &keys)) != 0)
		return rc;
	if (c->obj == NULL || strcmp(c->obj, "all") == 0) {
		if ((rc = svc_st_args_unused(c)) != 0)
			return rc;
		if (c->json) {
			j = json_object();
			a = json_array();
			for (i = 0; i < c->store->npolicies; i++)
				json_array_append_new(a, policy_json(
				    &c->store->policies[i], keys));
			json_object_set_new(j, "policies", a);
			a = json_array();
			for (i = 0; i < c->store->nfilterlists; i++)
				json_array_append_new(a, filterlist_json(
				    &c->store->filterlists[i]));
			json_object_set_new(j, "filterlists", a);
			a = json_array();
			for (i = 0; i < c->store->nfilteractions; i++)
				json_array_append_new(a, filteraction_json(
				    &c->store->filteractions[i]));
			json_object_set_new(j, "filteractions", a);
			return svc_st_json_out(j);
		}
		for (i = 0; i < c->store->npolicies; i++) {
			show_policy_text(&c->store->policies[i], keys);
			printf("\n");
		}
		for (i = 0; i < c->store->nfilterlists; i++) {
			show_filterlist_text(&c->store->filterlists[i]);
			printf("\n");
		}
		for (i = 0; i < c->store->nfilteractions; i++) {
			show_filteraction_text(&c->store->filteractions[i]);
			printf("\n");
		}
		if (c->store->npolicies + c->store->nfilterlists +
		    c->store->nfilteractions == 0)
			printf("The store is empty.\n");
		return 0;
	}
	(void)err;
	if (strcmp(c->obj, "filter") == 0) {
		/* show filter filterlist=NAME: the filters of one list */
		struct pol_filterlist *fl = svc_st_find_filterlist(c,
		    "filterlist");

		if (fl == NULL)
			return SVC_STATIC_ERR;
		if ((rc = svc_st_args_unused(c)) != 0)
			return rc;
		if (c->json)
			return svc_st_json_out(filterlist_json(fl));
		show_filterlist_text(fl);
		return 0;
	}
	name = svc_st_arg(c, "name");
	all = name == NULL || strcasecmp(name, "all") == 0;
	if (svc_st_arg(c, "all") != NULL)
		all = true;
	pol = svc_st_arg(c, "policy");
	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	a = json_array();
	if (strcmp(c->obj, "policy") == 0) {
		for (i = 0; i < c->store->npolicies; i++) {
			const struct pol_policy *p = &c->store->policies[i];

			if (!all && strcmp(p->name, name) != 0)
				continue;
			n++;
			if (c->json)
				json_array_append_new(a, policy_json(p, keys));
			else
				show_policy_text(p, keys);
		}
	} else if (strcmp(c->obj, "filterlist") == 0) {
		for (i = 0; i < c->store->nfilterlists; i++) {
			const struct pol_filterlist *fl =
			    &c->store->filterlists[i];

			if (!all && (fl->name == NULL ||
			    strcmp(fl->name, name) != 0))
				continue;
			n++;
			if (c->json)
				json_array_append_new(a, filterlist_json(fl));
			else
				show_filterlist_text(fl);
		}
	} else if (strcmp(c->obj, "filteraction") == 0) {
		for (i = 0; i < c->store->nfilteractions; i++) {
			const struct pol_filteraction *fa =
			    &c->store->filteractions[i];

			if (!all && (fa->name == NULL ||
			    strcmp(fa->name, name) != 0))
				continue;
			n++;
			if (c->json)
				json_array_append_new(a, filteraction_json(fa));
			else
				show_filteraction_text(fa);
		}
	} else if (strcmp(c->obj, "rule") == 0) {
		for (i = 0; i < c->store->npolicies; i++) {
			const struct pol_policy *p = &c->store->policies[i];
			size_t k;

			if (pol != NULL && strcmp(p->name, pol) != 0)
				continue;
			for (k = 0; k < p->nrules; k++) {
				const struct pol_rule *r = &p->rules[k];

				if (!all && (r->name == NULL ||
				    strcmp(r->name, name) != 0))
					continue;
				n++;
				if (c->json) {
					json_t *x = rule_json(r, keys);

					json_object_set_new(x, "policy",
					    json_string(p->name));
					json_array_append_new(a, x);
				} else {
					printf("Policy %s\n", p->name);
					show_rule_text(r, k + 1, keys);
				}
			}
		}
	} else {
		json_decref(a);
		return svc_st_fail(SVC_STATIC_USAGE, "show what? (all, policy, "
		    "filterlist, filter, filteraction, rule)");
	}
	if (!all && n == 0) {
		json_decref(a);
		return svc_st_fail(SVC_STATIC_ERR, "no %s named '%s'", c->obj,
		    name);
	}
	if (c->json)
		return svc_st_json_out(a);
	json_decref(a);
	return 0;
}

