/*
 * Statistics with the names of the Windows IP Security Monitor
 * (ipsecmon): Oakley (IKE) and IPsec (driver) counters.
 */
#ifndef PA_SVC_STATS_NAMES_H
#define PA_SVC_STATS_NAMES_H

#include <stdint.h>

#include "agent.h"

/* {"oakley": {...}, "ipsec": {...}, "agent": {...}} as a json_t *. */
void	*svc_stats_json(const struct agent_stats *, uint64_t audit_emitted,
	    uint64_t audit_folded, uint64_t audit_errors);
/* The ipsecmon display name of a counter of table (oakley, ipsec, agent)
 * under its JSON key; the key itself if it has none. */
const char	*svc_stats_label(const char *table, const char *key);

#endif
