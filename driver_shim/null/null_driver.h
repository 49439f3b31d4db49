/*
 * The "null" driver backend: installs nothing, records every call, hands
 * out sequential SPIs (from NULL_SPI_FIRST) and lets tests inject the
 * events a real driver would raise. For agent and service tests that run
 * without privileges.
 *
 * The struct driver * these functions take must come from
 * null_driver_ops.open(). Views returned by the getters stay valid until
 * the next call that changes the driver (add, delete, flush, dispatch).
 */
#ifndef PA_NULL_DRIVER_H
#define PA_NULL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"

extern const struct driver_ops	null_driver_ops;

#define NULL_SPI_FIRST	0x100U

/* The operations, for call counts and injected failures. */
enum null_op {
	NULL_OP_SPI_ALLOC = 0,
	NULL_OP_SA_ADD,
	NULL_OP_SA_DEL,
	NULL_OP_SA_QUERY,
	NULL_OP_POLICY_ADD,
	NULL_OP_POLICY_DEL,
	NULL_OP_FLUSH,
	NULL_OP_DISPATCH,
	NULL_OP_SOCKET_BYPASS,
	NULL_OP_CLEAR,
	NULL_OP_SETTLE,
	NULL_OP_MAX
};

/* One installed SA as the driver holds it. */
struct null_sa {
	struct sa_id		id;
	struct sa_params	params;
	struct sa_stats		stats;
};

/* One installed filter. */
struct null_policy {
	struct spd_id		id;
	struct spd_params	params;
};

/* One entry of the call log, in call order. */
struct null_call {
	enum null_op		op;
	int			rc;	/* what the call returned */
	struct sa_id		sa;	/* SA ops (spi filled in by spi_alloc) */
	struct spd_id		spd;	/* policy ops */
};

/* How many times op was called since open (failed calls included). */
unsigned	null_calls(const struct driver *, enum null_op);
/* The call log: number of entries, and entry i (NULL past the end). */
size_t		null_log_len(const struct driver *);
const struct null_call	*null_log_get(const struct driver *, size_t i);

/* Installed SAs and filters, in installation order. */
size_t		null_sa_count(const struct driver *);
const struct null_sa	*null_sa_get(const struct driver *, size_t i);
const struct null_sa	*null_sa_find(const struct driver *,
		    const struct sa_id *);
size_t		null_policy_count(const struct driver *);
const struct null_policy	*null_policy_get(const struct driver *,
		    size_t i);
const struct null_policy	*null_policy_find(const struct driver *,
		    const struct spd_id *);

/*
 * The filter that would decide a packet of this direction with these
 * selectors (host addresses, proto, ports), as driver.h says a backend
 * decides: the lowest priority number among the filters that hold it, the
 * first added on a tie; NULL if none holds it.
 */
const struct null_policy	*null_policy_winner(const struct driver *,
		    enum drv_dir, const struct drv_sel *pkt);

/* Make the next call of op fail with err (a negative pa_err), once. */
void	null_fail_next(struct driver *, enum null_op, int err);

/* Account traffic on an installed SA (as if packets had passed). */
int	null_sa_traffic(struct driver *, const struct sa_id *,
	    uint64_t bytes, uint64_t packets) PA_MUST_USE;

/*
 * Queue events; they are raised from the next dispatch() (and make the
 * event fd readable until then). A hard expire removes the SA from the
 * table before the callback runs, as the kernel does.
 */
int	null_inject_acquire(struct driver *, const struct spd_id *,
	    const struct drv_sel *pkt, uint32_t reqid) PA_MUST_USE;
int	null_inject_expire(struct driver *, const struct sa_id *, bool hard)
	    PA_MUST_USE;
int	null_inject_drop(struct driver *, enum drv_drop_reason,
	    const struct pa_addr *peer, uint64_t count) PA_MUST_USE;

#endif
