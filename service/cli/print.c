/*
 * Text output of ipseccmd (--json prints the daemon's result as is).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ipseccmd.h"
#include "lib/static_cmd.h"
#include "lib/metrics.h"
#include "lib/stats_names.h"

/* Print "title: N" for the array res[key] and return the array. */
static json_t *
print_count(void *res, const char *key, const char *title)
{
	json_t *a = json_object_get(res, key);

	printf("%s: %zu\n", title, json_array_size(a));
	return a;
}

static const char *
s_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

static long long
i_of(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *
b_of(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k)) ? "yes" : "no";
}

static void
when(long long t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(buf, cap, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void
duration(long long s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%lldd %02lld:%02lld:%02lld", s / 86400,
	    (s / 3600) % 24, (s / 60) % 60, s % 60);
}

void
print_status(void *res)
{
	json_t *r = res;
	char up[64], ch[64];

	if (json_object_get(r, "uptime") == NULL) {
		printf("state: %s\n", s_of(r, "state"));
		return;
	}
	duration(i_of(r, "uptime"), up, sizeof(up));
	when(i_of(r, "policy_changed"), ch, sizeof(ch));
	printf("IPsec Policy Agent\n");
	printf("  state            %s (%lld)\n", s_of(r, "state"),
	    i_of(r, "state_code"));
	printf("  uptime           %s\n", up);
	printf("  pid              %lld\n", i_of(r, "pid"));
	printf("  policy source    %s\n", s_of(r, "policy_source"));
	printf("  policy           %s %s\n", json_is_string(json_object_get(r,
	    "policy")) ? s_of(r, "policy") : "(none assigned)",
	    s_of(r, "policy_guid"));
	printf("  policy changed   %s\n", ch);
	printf("  policy version   %lld%s\n", i_of(r, "policy_version"),
	    json_is_true(json_object_get(r, "policy_pending")) ?
	    " (a change is queued until continue)" : "");
	if (json_is_object(json_object_get(r, "directory"))) {
		json_t *dj = json_object_get(r, "directory");

		char ok[64], chg[64], at[64];

		when(i_of(dj, "fetched"), ch, sizeof(ch));
		when(i_of(dj, "polled_at"), at, sizeof(at));
		when(i_of(dj, "last_success"), ok, sizeof(ok));
		when(i_of(dj, "last_change"), chg, sizeof(chg));
		printf("  directory        last poll %s at %s (%s), next in "
		    "%llds\n", s_of(dj, "last_poll"), at, s_of(dj, "uri"),
		    i_of(dj, "next_poll_sec"));
		printf("                   last successful poll %s, policy "
		    "fetched %s, last change %s\n", ok, ch, chg);
		if (json_is_string(json_object_get(dj, "notify")))
			printf("                   change notification %s, "
			    "poll offset %llds, last poll by %s\n",
			    s_of(dj, "notify"), i_of(dj, "poll_offset_sec"),
			    s_of(dj, "poll_cause"));
	}
	printf("  driver           %s\n", s_of(r, "driver"));
	printf("  IKE              %s\n", b_of(r, "ike"));
	printf("  filters          %lld\n", i_of(r, "filters"));
	printf("  dynamic rules    %lld\n", i_of(r, "dynamic_rules"));
	printf("  main mode SAs    %lld\n", i_of(r, "mmsas"));
	printf("  quick mode SAs   %lld\n", i_of(r, "qmsas"));
	printf("  diagnostics      %lld\n", i_of(r, "diagnostics"));
	printf("  oakley log       %s\n", b_of(r, "oakley_log"));
}

void
print_policy(void *res)
{
	json_t *r = res, *rules = json_object_get(r, "rules"), *v;
	json_t *dyn = json_object_get(r, "dynamic_rules");
	size_t i, j;
	char ch[64];

	when(i_of(r, "applied"), ch, sizeof(ch));
	printf("Policy source: %s, applied %s\n", s_of(r, "source"), ch);
	if ((v = json_object_get(r, "directory")) != NULL) {
		char fe[64], ok[64], chg[64], at[64];

		when(i_of(v, "fetched"), fe, sizeof(fe));
		when(i_of(v, "polled_at"), at, sizeof(at));
		when(i_of(v, "last_success"), ok, sizeof(ok));
		when(i_of(v, "last_change"), chg, sizeof(chg));
		printf("Directory: last poll %s at %s (%s), next poll in %lld s\n"
		    "  last successful poll %s, policy fetched %s, last change "
		    "%s\n", s_of(v, "outcome"), at, s_of(v, "uri"),
		    i_of(v, "next_poll_sec"), ok, fe, chg);
		if (json_is_string(json_object_get(v, "notify")))
			printf("  change notification %s, poll offset %lld s, "
			    "last poll by %s\n", s_of(v, "notify"),
			    i_of(v, "poll_offset_sec"), s_of(v, "poll_cause"));
	}
	when(i_of(r, "changed"), ch, sizeof(ch));
	if (!json_is_string(json_object_get(r, "name")))
		printf("Assigned policy: (none assigned)\n");
	else {
		printf("Assigned policy: %s %s\n", s_of(r, "name"),
		    s_of(r, "guid"));
		if (json_is_string(json_object_get(r, "description")))
			printf("  description: %s\n", s_of(r, "description"));
		printf("  changed: %s   version: %lld%s\n", ch,
		    i_of(r, "policy_version"), json_is_true(json_object_get(r,
		    "pending")) ? " (change queued)" : "");
		json_array_foreach(json_object_get(r, "mm_methods"), i, v)
			printf("  main mode %zu: %s-%s-%lld\n", i + 1,
			    s_of(v, "cipher"), s_of(v, "hash"),
			    i_of(v, "dh_group"));
		json_array_foreach(rules, i, v) {
			json_t *a;

			printf("  rule %zu: %s%s\n", i + 1, s_of(v, "name"),
			    json_is_true(json_object_get(v, "active")) ? "" :
			    " (inactive)");
			printf("    filter list %s, action %s (%s)",
			    s_of(v, "filterlist"), s_of(v, "filteraction"),
			    s_of(v, "action"));
			if (json_is_string(json_object_get(v, "tunnel")))
				printf(", tunnel %s", s_of(v, "tunnel"));
			printf("\n    authentication:");
			json_array_foreach(json_object_get(v, "auth"), j, a)
				printf(" %s", json_string_value(a));
			printf("\n");
		}
	}
	printf("Dynamic rules: %zu\n", json_array_size(dyn));
	print_dynamic(json_pack("{s:O}", "rules", dyn));
	/* The whole policy in force: settings, filter lists, offers. */
	if ((v = json_object_get(r, "in_force")) != NULL) {
		printf("\nIn force (\"(default)\": not given by the policy):");
		svc_static_print_in_force(v);
	}
}

void
print_dynamic(void *res)
{
	json_t *r = res, *v;
	size_t i;

	json_array_foreach(json_object_get(r, "rules"), i, v) {
		printf("  %s: %s -> %s proto %s", s_of(v, "name"),
		    s_of(v, "src"), s_of(v, "dst"), s_of(v, "proto"));
		if (i_of(v, "sport") || i_of(v, "dport"))
			printf(" ports %lld -> %lld", i_of(v, "sport"),
			    i_of(v, "dport"));
		printf(" %s%s%s%s\n", s_of(v, "action"),
		    json_is_true(json_object_get(v, "mirrored")) ?
		    " mirrored" : "", json_is_true(json_object_get(v,
		    "inpass")) ? " inpass" : "", json_is_true(
		    json_object_get(v, "soft")) ? " soft" : "");
	}
	json_decref(r);
}

void
print_filters(void *res)
{
	json_t *v;
	size_t i;

	printf("%-4s %-3s %-22s %-22s %-6s %-5s %-5s %-9s %s\n", "#", "dir",
	    "source", "destination", "proto", "sport", "dport", "action",
	    "rule");
	json_array_foreach(json_object_get(res, "filters"), i, v)
		printf("%-4zu %-3s %-22s %-22s %-6s %-5lld %-5lld %-9s %s%s\n",
		    i + 1, s_of(v, "dir"), s_of(v, "src"), s_of(v, "dst"),
		    s_of(v, "proto"), i_of(v, "sport"), i_of(v, "dport"),
		    s_of(v, "action"), s_of(v, "rule"),
		    json_is_true(json_object_get(v, "dynamic")) ?
		    " (dynamic)" : "");
}

/* "TITLE: N", then each element of the array res[key] by row(). */
static void
print_rows(void *res, const char *key, const char *title,
    void (*row)(json_t *))
{
	json_t *v;
	size_t i;

	json_array_foreach(print_count(res, key, title), i, v)
		row(v);
}

static void
mmsa_row(json_t *v)
{
	printf("  %s -> %s  %s/%s  %s-%s-%lld  auth %s  peer id %s  "
	    "QMs %lld\n", s_of(v, "local"), s_of(v, "peer"),
	    s_of(v, "cookie_i"), s_of(v, "cookie_r"), s_of(v, "cipher"),
	    s_of(v, "hash"), i_of(v, "dh_group"), s_of(v, "auth"),
	    s_of(v, "peer_id"), i_of(v, "qm_count"));
	printf("    age %llds  expires in %llds\n", i_of(v, "age_sec"),
	    i_of(v, "expires_in_sec"));
}

void
print_mmsas(void *res)
{
	print_rows(res, "mmsas", "Main Mode SAs", mmsa_row);
}

static void
qmsa_row(json_t *v)
{
	printf("  %s <-> %s  %s -> %s %s  %s%s %s/%s  spi in 0x%08llx "
	    "out 0x%08llx  %s\n", s_of(v, "local"), s_of(v, "peer"),
	    s_of(v, "src"), s_of(v, "dst"), s_of(v, "proto"),
	    json_is_true(json_object_get(v, "ah")) ? "AH " : "",
	    json_is_true(json_object_get(v, "esp")) ? "ESP" : "",
	    s_of(v, "esp_cipher"), s_of(v, "esp_integ"),
	    (unsigned long long)i_of(v, "spi_in"),
	    (unsigned long long)i_of(v, "spi_out"),
	    json_is_true(json_object_get(v, "tunnel")) ? "tunnel" :
	    "transport");
	printf("    in %lld bytes %lld packets  out %lld bytes %lld "
	    "packets  age %llds  rekey in %llds\n", i_of(v, "bytes_in"),
	    i_of(v, "packets_in"), i_of(v, "bytes_out"),
	    i_of(v, "packets_out"), i_of(v, "age_sec"),
	    i_of(v, "rekey_in_sec"));
}

void
print_qmsas(void *res)
{
	print_rows(res, "qmsas", "Quick Mode SAs", qmsa_row);
}

/* A table of counters under their ipsecmon names. */
static void
print_table(const char *title, const char *table, json_t *o)
{
	const char *k;
	json_t *v;

	printf("%s\n", title);
	json_object_foreach(o, k, v)
		printf("  %-34s %lld\n", svc_stats_label(table, k),
		    (long long)json_integer_value(v));
}

void
print_stats(void *res)
{
	print_table("Oakley (IKE) statistics", "oakley",
	    json_object_get(res, "oakley"));
	print_table("IPsec statistics", "ipsec", json_object_get(res, "ipsec"));
	print_table("Agent", "agent", json_object_get(res, "agent"));
}

void
print_openmetrics(void *stats, void *qmsas)
{
	if (svc_metrics_format(stdout, stats, qmsas) != 0)
		fprintf(stderr, "ipseccmd: cannot write the metrics\n");
}

void
print_events(void *res)
{
	json_t *v, *f;
	const char *k;
	size_t i;

	json_array_foreach(json_object_get(res, "events"), i, v) {
		json_t *fv;

		printf("%s  #%lld  %lld %s\n", s_of(v, "time"), i_of(v, "seq"),
		    i_of(v, "id"), s_of(v, "event"));
		f = json_object_get(v, "fields");
		json_object_foreach(f, k, fv)
			printf("    %s: %s\n", k, json_string_value(fv) != NULL ?
			    json_string_value(fv) : "");
	}
}

void
print_verify(void *res)
{
	printf("%s: %s\n", s_of(res, "file"), s_of(res, "verdict"));
}

void
print_all(void *res)
{
	print_status(json_object_get(res, "status"));
	printf("\n");
	print_policy(json_object_get(res, "policy"));
	printf("\nFilters\n");
	print_filters(res);
	printf("\n");
	print_mmsas(res);
	print_qmsas(res);
	printf("\n");
	print_stats(json_object_get(res, "stats"));
}

void
print_pki(void *res)
{
	json_t *r = res, *v;
	size_t i;
	char t[64], nx[64], fe[64];

	printf("CRL distribution points: %zu\n",
	    json_array_size(json_object_get(r, "crls")));
	json_array_foreach(json_object_get(r, "crls"), i, v) {
		when(i_of(v, "this_update"), t, sizeof(t));
		when(i_of(v, "next_update"), nx, sizeof(nx));
		when(i_of(v, "fetched"), fe, sizeof(fe));
		printf("  %s\n", s_of(v, "uri"));
		if (i_of(v, "this_update") != 0)
			printf("    issuer %s\n    issued %s, next update %s, "
			    "%lld revoked, fetched %s\n", s_of(v, "issuer"), t,
			    i_of(v, "next_update") != 0 ? nx : "(none)",
			    i_of(v, "revoked"), fe);
		else
			printf("    no CRL yet\n");
		if (i_of(v, "failures") != 0)
			printf("    %lld failed fetch(es) in a row: %s\n",
			    i_of(v, "failures"), s_of(v, "last_error"));
	}
	printf("Enterprise CAs from the directory: %zu\n",
	    json_array_size(json_object_get(r, "domain_cas")));
	json_array_foreach(json_object_get(r, "domain_cas"), i, v)
		printf("  %s (%s, expires in %lld days)\n", s_of(v, "subject"),
		    strcmp(s_of(v, "kind"), "root") == 0 ? "trusted root" :
		    strcmp(s_of(v, "kind"), "ntauth") == 0 ? "NTAuth, for "
		    "chains" : "AIA, for chains", i_of(v, "expires_in_days"));
}
