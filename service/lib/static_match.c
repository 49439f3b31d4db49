/*
 * `ipseccmd match`: which SPD entry of the assigned policy a packet meets,
 * and why (what-if matching, not the data path). The outcome is built once
 * as a view and printed as JSON or text, as show does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "exp_ldif.h"
#include "spd.h"

#include "static_int.h"

/* ---- match ---- */

static int
parse_myaddrs(const char *v, struct pa_addr **out, size_t *n)
{
	char *copy, *tok, *save = NULL;
	struct pa_addr *a = NULL, *na;
	size_t k = 0;

	if ((copy = strdup(v)) == NULL)
		return svc_st_enomem();
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((na = realloc(a, (k + 1) * sizeof(*a))) == NULL) {
			free(a);
			free(copy);
			return svc_st_enomem();
		}
		a = na;
		if (pa_addr_parse(tok, &a[k]) != 0) {
			/* Said before copy, which tok points into, goes. */
			int rc = svc_st_fail(SVC_STATIC_ERR, "myaddr: '%s' is "
			    "not an address", tok);

			free(a);
			free(copy);
			return rc;
		}
		k++;
	}
	free(copy);
	*out = a;
	*n = k;
	return 0;
}

static bool
is_local(const struct pa_addr *a, const struct pa_addr *my, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pa_addr_eq(a, &my[i]))
			return true;
	return false;
}

static bool
entry_matches(const struct pol_spd_entry *e, const struct pol_pkt *k)
{
	bool ports = pol_proto_has_ports(k->proto);

	return e->dir == k->dir && e->src.addr.family == k->src.family &&
	    pa_prefix_contains(&e->src, &k->src) &&
	    pa_prefix_contains(&e->dst, &k->dst) &&
	    (e->proto == 0 || e->proto == k->proto) &&
	    (e->sport == 0 || (ports && e->sport == k->sport)) &&
	    (e->dport == 0 || (ports && e->dport == k->dport));
}

static void
fmt_entry(const struct pol_spd_entry *e, char *buf, size_t cap)
{
	char s[PA_PREFIXSTRLEN], d[PA_PREFIXSTRLEN], p[8];

	snprintf(buf, cap, "#%u %s %s -> %s %s sport %u dport %u",
	    e->index, pol_dir_name(e->dir), pa_prefix_str(&e->src, s,
	    sizeof(s)), pa_prefix_str(&e->dst, d, sizeof(d)),
	    pol_proto_str(e->proto, p, sizeof(p)), (unsigned)e->sport,
	    (unsigned)e->dport);
}

/*
 * The packet of match: src= dst= proto= (or protocol=) srcport= dstport=;
 * dir= is chosen later (match_dir), it needs the host's addresses.
 */
static int
match_packet(struct cmd *c, struct pol_pkt *k)
{
	const char *src = svc_st_arg(c, "src"), *dst = svc_st_arg(c, "dst");
	const char *pr = svc_st_arg(c, "proto");
	uint32_t port = 0;
	int rc;

	memset(k, 0, sizeof(*k));
	if (pr == NULL)
		pr = svc_st_arg(c, "protocol");
	if (src == NULL || dst == NULL) {
		svc_st_usage();
		return svc_st_fail(SVC_STATIC_USAGE, "'match' needs src= and "
		    "dst=");
	}
	if (pa_addr_parse(src, &k->src) != 0 || pa_addr_parse(dst,
	    &k->dst) != 0)
		return svc_st_fail(SVC_STATIC_ERR, "src= and dst= must be IPv4 "
		    "or IPv6 addresses");
	if (k->src.family != k->dst.family)
		return svc_st_fail(SVC_STATIC_ERR, "src= and dst= mix IPv4 and "
		    "IPv6");
	if (pr != NULL && pol_proto_parse(pr, &k->proto) != 0)
		return svc_st_fail(SVC_STATIC_ERR, "proto=%s: expected any, "
		    "icmp, tcp, udp or a number 0-255", pr);
	if ((rc = svc_st_opt_u32(c, "srcport", 0, 65535, 1, &port)) != 0)
		return rc;
	k->sport = svc_st_arg(c, "srcport") ? (uint16_t)port : 0;
	if ((rc = svc_st_opt_u32(c, "dstport", 0, 65535, 1, &port)) != 0)
		return rc;
	k->dport = svc_st_arg(c, "dstport") ? (uint16_t)port : 0;
	if ((k->sport || k->dport) && !pol_proto_has_ports(k->proto))
		return svc_st_fail(SVC_STATIC_ERR, "a port on a protocol "
		    "without ports (only tcp and udp have)");
	return 0;
}

/* dir=out|in, else in when only dst is this host's (my). */
static int
match_dir(const char *dir, struct pol_pkt *k, const struct pa_addr *my,
    size_t n)
{
	if (dir == NULL)
		k->dir = is_local(&k->dst, my, n) && !is_local(&k->src, my, n) ?
		    POL_DIR_IN : POL_DIR_OUT;
	else if (strcasecmp(dir, "out") == 0)
		k->dir = POL_DIR_OUT;
	else if (strcasecmp(dir, "in") == 0)
		k->dir = POL_DIR_IN;
	else
		return svc_st_fail(SVC_STATIC_ERR, "dir=%s: expected out or in",
		    dir);
	return 0;
}

/*
 * The outcome as a view: the JSON of --json, plus for the text (under
 * '_' keys, dropped from JSON) the SPD's size and the action's offers.
 */
static json_t *
match_view(const struct pol_policy *p, const struct pol_spd *spd,
    const struct pol_spd_entry *e, const struct pol_pkt *k)
{
	json_t *j = json_object(), *offers;
	char why[256], ent[256], f[600], o[96];
	size_t i, nother = 0;

	/* What else matched, for the explanation (not the data path). */
	for (i = 0; e != NULL && i < pol_spd_count(spd); i++)
		if (i != e->index && entry_matches(pol_spd_entry_at(spd, i), k))
			nother++;
	json_object_set_new(j, "entries", json_integer((json_int_t)
	    pol_spd_count(spd)));
	if (e != NULL && e->policy != NULL)
		p = e->policy;
	json_object_set_new(j, "policy", json_string(p != NULL &&
	    p->name != NULL ? p->name : ""));
	json_object_set_new(j, "direction", json_string(pol_dir_name(k->dir)));
	json_object_set_new(j, "matched", json_boolean(e != NULL));
	if (e == NULL)
		return j;
	fmt_entry(e, ent, sizeof(ent));
	svc_st_fmt_filter(e->filter, f, sizeof(f));
	pol_spd_explain(e, why, sizeof(why));
	offers = json_array();
	for (i = 0; i < e->filteraction->noffers; i++) {
		svc_st_fmt_offer(&e->filteraction->offers[i], o, sizeof(o));
		json_array_append_new(offers, json_string(o));
	}
	json_object_set_new(j, "offers", offers);
	json_object_set_new(j, "entry", json_string(ent));
	json_object_set_new(j, "index", json_integer(e->index));
	json_object_set_new(j, "weight", json_integer((json_int_t)e->weight));
	json_object_set_new(j, "rule", json_string(e->rule->name ?
	    e->rule->name : ""));
	json_object_set_new(j, "filterlist", json_string(
	    e->rule->filterlist->name ? e->rule->filterlist->name : ""));
	json_object_set_new(j, "filter", json_string(f));
	json_object_set_new(j, "filter_guid", svc_st_guid_json(&e->filter->id));
	json_object_set_new(j, "filteraction", json_string(
	    e->filteraction->name ? e->filteraction->name : ""));
	json_object_set_new(j, "dynamic", json_boolean(e->dynamic));
	json_object_set_new(j, "action", json_string(pol_action_name(
	    e->action)));
	json_object_set_new(j, "why", json_string(why));
	json_object_set_new(j, "other_matches",
	    json_integer((json_int_t)nother));
	return j;
}

static const char *
vstr(const json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key));
}

static void
text_match(const json_t *v)
{
	const json_t *o;
	size_t i, nother;

	if (vstr(v, "source") != NULL)
		printf("Source      : %s\n", strcmp(vstr(v, "source"),
		    "service") == 0 ? "the policy in force (the service)" :
		    vstr(v, "source"));
	if (json_object_get(v, "reason") != NULL) {
		printf("No policy is assigned: no filter applies, the traffic "
		    "passes in clear.\n");
		return;
	}
	printf("Policy      : %s (%zu SPD entries, direction %s)\n",
	    vstr(v, "policy"), (size_t)json_integer_value(json_object_get(v,
	    "entries")), vstr(v, "direction"));
	if (!json_is_true(json_object_get(v, "matched"))) {
		printf("No filter matches: the traffic passes in clear.\n");
		return;
	}
	printf("Entry       : %s\n", vstr(v, "entry"));
	printf("Rule        : %s\n", vstr(v, "rule"));
	printf("Filter list : %s\n", vstr(v, "filterlist"));
	printf("Filter      : %s\n", vstr(v, "filter"));
	printf("Action      : %s (filter action '%s')\n", vstr(v, "action"),
	    vstr(v, "filteraction"));
	json_array_foreach(json_object_get(v, "offers"), i, o)
		printf("  offer %zu   : %s\n", i + 1, json_string_value(o));
	nother = (size_t)json_integer_value(json_object_get(v,
	    "other_matches"));
	printf("Why         : %s; it outranks %zu other matching entr%s\n",
	    vstr(v, "why"), nother, nother == 1 ? "y" : "ies");
}

/* The view printed as JSON or text; 0 or an exit code. */
static int
match_out(struct cmd *c, json_t *v)
{
	if (c->json)
		return svc_st_json_out(v);
	if (v == NULL)
		return svc_st_enomem();
	text_match(v);
	json_decref(v);
	return 0;
}

/*
 * The packet of c's arguments matched against spd (the daemon's, with
 * policy p, which may be NULL) or, when spd is NULL, against the SPD of
 * the assigned policy of c->store compiled here; *view is the outcome.
 */
int
svc_st_match_eval(struct cmd *c, const struct pol_policy *p,
    const struct pol_spd *spd, json_t **view)
{
	const char *dir = svc_st_arg(c, "dir"), *my = svc_st_arg(c, "myaddr");
	struct pa_addr *addrs = NULL;
	struct pol_spd *own = NULL;
	struct pol_err err;
	struct pol_pkt k;
	size_t naddrs = 0;
	int rc;

	*view = NULL;
	if ((rc = match_packet(c, &k)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	if (my != NULL)
		rc = parse_myaddrs(my, &addrs, &naddrs);
	else if (pol_local_addrs(&addrs, &naddrs) != 0)
		rc = svc_st_fail(SVC_STATIC_ERR, "cannot list this host's "
		    "addresses");
	if (rc != 0 || (rc = match_dir(dir, &k, addrs, naddrs)) != 0)
		goto out;
	if (spd == NULL) {
		if ((p = pol_store_assigned(c->store)) == NULL) {
			*view = json_pack("{s:b,s:s}", "matched", 0, "reason",
			    "no policy is assigned");
			goto out;
		}
		/* DNS filters: resolve now, as the service does. */
		if (pol_store_resolve_names(c->store, &err) != 0)
			fprintf(stderr, "ipseccmd: warning: %s: %s; using the "
			    "addresses of the last resolution\n", err.where,
			    err.what);
		if (pol_spd_compile(p, addrs, naddrs, &own, &err) != 0) {
			rc = svc_st_fail_err(&err);
			goto out;
		}
		spd = own;
	}
	*view = match_view(p, spd, pol_spd_match(spd, &k), &k);
	if (*view == NULL)
		rc = svc_st_enomem();
out:
	pol_spd_free(own);
	free(addrs);
	return rc;
}

int
svc_st_cmd_match(struct cmd *c)
{
	json_t *v;
	int rc;

	if ((rc = svc_st_match_eval(c, NULL, NULL, &v)) != 0)
		return rc;
	json_object_set_new(v, "source", json_string(c->store_path));
	return match_out(c, v);
}

/*
 * match file=PATH: a policy store (XML), an LDIF export or the directory
 * source's cache; of an LDIF, the policy the cache says was assigned, the
 * only one, or the one named by policy=.
 */
int
svc_st_match_load(struct cmd *c, const char *path)
{
	const char *want = svc_st_arg(c, "policy");
	char dn[1024], gb[PA_GUIDSTRLEN], head[64] = "";
	struct pol_err err;
	struct pol_policy *pick = NULL;
	size_t i, n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return svc_st_fail(SVC_STATIC_ERR, "file=%s: %s", path,
		    strerror(errno));
	n = fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	head[n] = '\0';
	for (i = 0; head[i] == ' ' || head[i] == '\n' || head[i] == '\t'; i++)
		;
	if (head[i] == '<') {
		c->store_path = path;
		return svc_st_store_load(c);
	}
	c->store_path = path;
	if (exp_ldif_import_cache(path, &c->store, dn, sizeof(dn), &err) != 0)
		return svc_st_fail_err(&err);
	for (i = 0; i < c->store->npolicies; i++) {
		struct pol_policy *p = &c->store->policies[i];

		p->assigned = false;
		if ((want != NULL && p->name != NULL &&
		    strcmp(p->name, want) == 0) || (want == NULL &&
		    dn[0] != '\0' && strcasestr(dn, pa_guid_str(&p->id, gb)) !=
		    NULL) || (want == NULL && dn[0] == '\0' &&
		    c->store->npolicies == 1))
			pick = p;
	}
	if (pick == NULL)
		return svc_st_fail(SVC_STATIC_ERR, "file=%s: %s", path, want !=
		    NULL ? "no policy of that name in it" : "it holds several "
		    "policies: name one with policy=");
	pick->assigned = true;
	return 0;
}

/* ---- match through the daemon (static_cmd.h) ---- */

int
svc_static_match_packet(int argc, char **argv, struct pol_pkt *k, bool *json)
{
	struct cmd c;
	const char *dir, *my;
	struct pa_addr *addrs = NULL;
	size_t naddrs = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	c.verb = "match";
	if ((rc = svc_st_args_parse(&c, argc, argv, 1)) != 0)
		return rc;
	*json = c.json;
	dir = svc_st_arg(&c, "dir");
	my = svc_st_arg(&c, "myaddr");
	if ((rc = match_packet(&c, k)) != 0 ||
	    (rc = svc_st_args_unused(&c)) != 0)
		return rc;
	if (my != NULL)
		rc = parse_myaddrs(my, &addrs, &naddrs);
	else if (pol_local_addrs(&addrs, &naddrs) != 0)
		rc = svc_st_fail(SVC_STATIC_ERR, "cannot list this host's "
		    "addresses");
	if (rc == 0)
		rc = match_dir(dir, k, addrs, naddrs);
	free(addrs);
	return rc;
}

void *
svc_static_match_view(const struct pol_policy *p, const struct pol_spd *spd,
    const struct pol_pkt *k)
{
	if (spd == NULL || pol_spd_count(spd) == 0)
		return json_pack("{s:b,s:s}", "matched", 0, "reason",
		    "no policy is assigned");
	return match_view(p, spd, pol_spd_match(spd, k), k);
}

int
svc_static_match_print(void *view, bool json)
{
	struct cmd c;

	memset(&c, 0, sizeof(c));
	c.json = json;
	return match_out(&c, view);
}
