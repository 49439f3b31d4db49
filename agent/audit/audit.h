/*
 * The closed list of audit events, with the Windows IDs. Never renumber or
 * reuse an ID. The agent emits at the point of decision; the service owns
 * the sinks (journald/syslog, hash-chained JSON lines) and registers them
 * with audit_set_sink().
 *
 * Each event carries ordered key/value fields (UTF-8 text). Secrets never go
 * into fields.
 */
#ifndef PA_AUDIT_H
#define PA_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "pa_err.h"

enum audit_event {
	/* Security log, IKE (Windows 2000/XP/2003 IDs). */
	AUDIT_IKE_SA_ESTABLISHED = 541,	/* Mode, Peer Identity, Filter, Parameters */
	AUDIT_IKE_QM_SA_ENDED = 542,	/* Filter, Inbound SPI, Outbound SPI */
	AUDIT_IKE_MM_SA_ENDED = 543,	/* Filter */
	AUDIT_IKE_CERT_TRUST = 544,	/* Peer Identity, Filter */
	AUDIT_IKE_AUTH_FAILED = 545,	/* Peer Identity, Filter */
	AUDIT_IKE_BAD_PROPOSAL = 546,	/* Mode, Filter, Attribute, Expected, Received */
	AUDIT_IKE_NEG_FAILED = 547,	/* Mode, Filter, Peer Identity, Failure Point, Failure Reason, Extra Status */
	AUDIT_IKE_NOTIFICATION = 550,	/* Text (e.g. possible denial of service) */
	/* Policy Agent (category Policy Change). */
	AUDIT_PA_STARTED = 613,		/* Policy Source, Policy */
	AUDIT_PA_DISABLED = 614,	/* Reason, Data Path */
	AUDIT_PA_POLICY_CHANGED = 615,	/* Source, Policy, Detail */
	AUDIT_PA_FAILURE = 616,		/* Reason */
	/*
	 * IPSEC driver (System log IDs of netevent.h), by diagnostics level.
	 * Fields of each: Count, Peer, Direction, Reason, SPI.
	 */
	AUDIT_DRV_BAD_SPI = 4283,
	AUDIT_DRV_CLEARTEXT = 4284,
	AUDIT_DRV_AUTH_FAILURE = 4285,
	AUDIT_DRV_BAD_SYNTAX = 4286,	/* inbound: bad syntax, not decrypted */
	AUDIT_DRV_REPLAY = 4289,	/* ID chosen here: unassigned in 2000/XP */
	AUDIT_DRV_BLOCKED = 4293,	/* ID chosen here */
	AUDIT_DRV_OUT_DROPPED = 4294,	/* ID chosen here: outbound, not sent */
	/*
	 * At start: the state a previous instance left (it died, failed to
	 * start or stopped fail-closed) was found; it blocked protected
	 * traffic until this instance's policy took over. Field: State.
	 */
	AUDIT_DRV_LEFTOVER = 4295,	/* ID chosen here */
	/* Control (this product's own IDs, outside the Windows ranges). */
	AUDIT_CTL_CHANGE = 5700,	/* Uid, Command, Result */
	AUDIT_CTL_DENIED = 5701,	/* Uid, Command */
	/*
	 * The audit file's forward-secure seal: the last record of an epoch,
	 * sealed with that epoch's key before it is erased (Epoch, Next Epoch,
	 * Head Sequence, Head Hash, Reason); and, at start, a chain that does
	 * not reach what was last sealed (Reason).
	 */
	AUDIT_SEALED = 5702,
	AUDIT_CHAIN_BROKEN = 5703
};

struct audit_field {
	const char	*key;
	const char	*value;
};

/* Called for each event; fields are borrowed for the call only. */
typedef void	(*audit_sink_fn)(void *arg, enum audit_event,
		    const struct audit_field *, size_t nfields);

struct audit;

struct audit	*audit_new(void);
void	audit_free(struct audit *);		/* NULL is a no-op */
void	audit_set_sink(struct audit *, audit_sink_fn, void *arg);
/*
 * Emit an event. A NULL audit (tests, tools) is allowed and does nothing.
 * Repeated identical failures may be folded by the implementation into one
 * record with a count; none is dropped silently.
 */
void	audit_emit(struct audit *, enum audit_event,
	    const struct audit_field *, size_t nfields);
/*
 * Folding of failure bursts (additive to the interface above). Events of
 * the failure kinds (544-547, 550, the driver drops, 616, 5701) that repeat
 * with identical fields within AUDIT_FOLD_WINDOW_MS are not passed to the
 * sink one by one: the first goes out at once, the repeats are counted and
 * one record carrying the field "Repeated" = count follows when the window
 * closes (audit_tick) or on audit_flush. Nothing is dropped.
 */
#define AUDIT_FOLD_WINDOW_MS	5000
#define AUDIT_FOLD_SLOTS	32
/* Emit every pending folded count whose window has closed. */
void	audit_tick(struct audit *, uint64_t now_ms);
/* Milliseconds until audit_tick has work (0 = now), or -1 if none. */
int	audit_next_timeout_ms(const struct audit *, uint64_t now_ms);
/* Emit every pending folded count now (before stop or a sink change). */
void	audit_flush(struct audit *);
/* True if the event is a failure kind subject to folding. */
int	audit_event_folds(enum audit_event);
/* Counters: events handed to the sink, and repeats folded into them. */
uint64_t	audit_emitted(const struct audit *);
uint64_t	audit_folded(const struct audit *);
/* For tests: use this clock instead of pa_now_ms(); NULL restores it. */
void	audit_set_clock(struct audit *, uint64_t (*now_ms)(void *), void *arg);

/* Symbolic name, e.g. "IPSEC_LOGON_SUCCESS"; "UNKNOWN" if not in the list. */
const char	*audit_event_name(enum audit_event);
/* True if the ID is in the closed list. */
int	audit_event_known(int id);

#endif
