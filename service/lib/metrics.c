/*
 * The statistics in the OpenMetrics text format: one family per counter,
 * named after its JSON key, and per-peer SA state (metrics.h). Shared by
 * ipseccmd and the daemon's metrics textfile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "daemon_int.h"
#include "metrics.h"
#include "pa_err.h"
#include "pa_log.h"
#include "stats_names.h"

/* "active_..." and "pending_..." counters are levels, the rest counts. */
static bool
om_is_gauge(const char *key)
{
	return strncmp(key, "active_", 7) == 0 ||
	    strncmp(key, "pending_", 8) == 0;
}

/* A family per counter: ipsec_agent_<table>_<JSON key>. */
static void
om_table(FILE *f, const char *table, json_t *t)
{
	const char *k;
	json_t *v;

	json_object_foreach(t, k, v) {
		bool gauge = om_is_gauge(k);
		size_t n = strlen(k);

		if (!json_is_integer(v))
			continue;
		fprintf(f, "# TYPE ipsec_agent_%s_%s %s\n", table, k,
		    gauge ? "gauge" : "counter");
		if (n > 6 && strcmp(k + n - 6, "_bytes") == 0)
			fprintf(f, "# UNIT ipsec_agent_%s_%s bytes\n", table, k);
		fprintf(f, "# HELP ipsec_agent_%s_%s %s (ipsecmon counter)\n",
		    table, k, svc_stats_label(table, k));
		fprintf(f, "ipsec_agent_%s_%s%s %lld\n", table, k,
		    gauge ? "" : "_total", (long long)json_integer_value(v));
	}
}

/* A label value: backslash, quote and newline escaped. */
static void
om_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			putc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		putc(*v, f);
	}
}

/* Per peer: its Quick Mode SA pairs and their traffic. */
static int
om_peers(FILE *f, json_t *sas)
{
	static const struct {
		const char	*name, *key, *help;
	} per_peer[] = {
		{ "peer_bytes_in", "bytes_in", "Bytes received through the "
		    "peer's Quick Mode SAs" },
		{ "peer_bytes_out", "bytes_out", "Bytes sent through the "
		    "peer's Quick Mode SAs" },
		{ "peer_packets_in", "packets_in", "Packets received through "
		    "the peer's Quick Mode SAs" },
		{ "peer_packets_out", "packets_out", "Packets sent through "
		    "the peer's Quick Mode SAs" },
	};
	json_t *sa, *peers;
	const char *peer;
	size_t i, k;

	if ((peers = json_object()) == NULL)
		return -1;
	json_array_foreach(sas, i, sa) {
		json_t *acc;

		if ((peer = json_string_value(json_object_get(sa, "peer"))) ==
		    NULL)
			continue;
		if ((acc = json_object_get(peers, peer)) == NULL) {
			acc = json_pack("{s:I,s:I,s:I,s:I,s:I}", "sas",
			    (json_int_t)0, "bytes_in", (json_int_t)0,
			    "bytes_out", (json_int_t)0, "packets_in",
			    (json_int_t)0, "packets_out", (json_int_t)0);
			if (acc == NULL || json_object_set_new(peers, peer,
			    acc) != 0)
				break;
		}
		json_object_set_new(acc, "sas", json_integer(
		    json_integer_value(json_object_get(acc, "sas")) + 1));
		for (k = 0; k < sizeof(per_peer) / sizeof(per_peer[0]); k++)
			json_object_set_new(acc, per_peer[k].key, json_integer(
			    json_integer_value(json_object_get(acc,
			    per_peer[k].key)) + json_integer_value(
			    json_object_get(sa, per_peer[k].key))));
	}
	fprintf(f, "# TYPE ipsec_agent_peer_qm_sas gauge\n");
	fprintf(f, "# HELP ipsec_agent_peer_qm_sas Quick Mode SA pairs with "
	    "the peer\n");
	json_object_foreach(peers, peer, sa) {
		fprintf(f, "ipsec_agent_peer_qm_sas{peer=\"");
		om_label(f, peer);
		fprintf(f, "\"} %lld\n",
		    (long long)json_integer_value(json_object_get(sa, "sas")));
	}
	for (k = 0; k < sizeof(per_peer) / sizeof(per_peer[0]); k++) {
		fprintf(f, "# TYPE ipsec_agent_%s counter\n", per_peer[k].name);
		fprintf(f, "# HELP ipsec_agent_%s %s\n", per_peer[k].name,
		    per_peer[k].help);
		json_object_foreach(peers, peer, sa) {
			fprintf(f, "ipsec_agent_%s_total{peer=\"",
			    per_peer[k].name);
			om_label(f, peer);
			fprintf(f, "\"} %lld\n", (long long)json_integer_value(
			    json_object_get(sa, per_peer[k].key)));
		}
	}
	json_decref(peers);
	return 0;
}

int
svc_metrics_format(FILE *f, const void *stats, const void *qmsas)
{
	static const char *const tables[] = { "oakley", "ipsec", "agent" };
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		om_table(f, tables[i], json_object_get(stats, tables[i]));
	if (om_peers(f, json_object_get(qmsas, "qmsas")) != 0)
		return -1;
	fprintf(f, "# EOF\n");
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int
svc_metrics_textfile(const char *path, const void *stats, const void *qmsas)
{
	char tmp[SVC_PATH_MAX + 16];
	FILE *f;
	int fd, rc, saved;

	/* "<path>.XXXXXX": the collector reads only names ending in .prom. */
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return PA_E_INVAL;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return PA_E_SYS;
	if (fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return PA_E_SYS;
	}
	rc = svc_metrics_format(f, stats, qmsas);
	saved = errno;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		errno = saved;
		return PA_E_SYS;
	}
	return 0;
}


int
svc_metrics_tick(struct svc_daemon *d, uint64_t now)
{
	json_t *st, *qm;
	int rc;

	if (d->cfg.metrics_textfile[0] == '\0')
		return -1;
	if (now < d->metrics_next)
		return (int)(d->metrics_next - now);
	d->metrics_next = now + (uint64_t)d->cfg.metrics_interval * 1000;
	st = svc_stats_result(d);
	qm = svc_qmsas_result(d);
	rc = st != NULL && qm != NULL ? svc_metrics_textfile(
	    d->cfg.metrics_textfile, st, qm) : PA_E_NOMEM;
	/* Said once when it starts failing and once when it works again. */
	if (rc != 0 && !d->metrics_failed)
		log_warnx("metrics_textfile %s: cannot write: %s",
		    d->cfg.metrics_textfile, rc == PA_E_SYS ? strerror(errno) :
		    pa_strerror(rc));
	else if (rc == 0 && d->metrics_failed)
		log_info("metrics_textfile %s: written again",
		    d->cfg.metrics_textfile);
	d->metrics_failed = rc != 0;
	json_decref(st);
	json_decref(qm);
	return (int)(d->cfg.metrics_interval * 1000);
}

void
svc_metrics_remove(struct svc_daemon *d)
{
	if (d->cfg.metrics_textfile[0] != '\0')
		(void)unlink(d->cfg.metrics_textfile);
}
