/*
 * The statistics in the OpenMetrics text format (Prometheus): the one
 * formatter behind `ipseccmd show stats --format=openmetrics` and the
 * daemon's metrics_textfile (node_exporter's textfile collector).
 */
#ifndef PA_SVC_METRICS_H
#define PA_SVC_METRICS_H

#include <stdio.h>

/*
 * Write to f the counters of stats (the result of show.stats, a json_t *)
 * as families ipsec_agent_<table>_<key>, and per peer the Quick Mode SA
 * pairs and their traffic from qmsas (the result of show.qmsas), then
 * "# EOF". Returns 0, or -1 if writing failed.
 */
int	svc_metrics_format(FILE *f, const void *stats, const void *qmsas);

/*
 * Write the same to path atomically: a temporary file in the same
 * directory (mode 0644, not named *.prom), flushed, then renamed over
 * path. Returns 0 or a PA_E_* code (errno set for PA_E_SYS).
 */
int	svc_metrics_textfile(const char *path, const void *stats,
	    const void *qmsas);

#endif
