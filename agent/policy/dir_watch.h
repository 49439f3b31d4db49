/*
 * Change notification for the directory policy source: a thread of its
 * own holds persistent searches (ldap/dir.h, dir_notify_*) on the objects
 * the last poll read, on connections of its own bound as the poll binds,
 * and says "poll now" on an eventfd once changes have settled: no further
 * notification for quiet_ms, or max_ms after the first one. It never
 * applies anything: the caller runs a normal poll (pol_dir_poll), whose
 * change detection decides.
 *
 *	pol_dir_watch_new(&cfg, &w);           thread started, no targets yet
 *	after each poll:  pol_dir_watch_update(w, src);
 *	loop:   poll(pol_dir_watch_fd(w)) -> pol_dir_watch_ack(w) -> poll now
 *	stop:   pol_dir_watch_free(w);         does not wait for the thread
 *
 * A lost connection is re-established with back-off (1, 4, 25, 166 units
 * of backoff_unit_sec, as the poll's), and every (re)connection asks for a
 * poll, so a change made while it was down is not missed. A server that
 * offers no notification leaves polling alone (state "unsupported").
 */
#ifndef PA_POLICY_DIR_WATCH_H
#define PA_POLICY_DIR_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_source.h"
#include "pa_err.h"

struct pol_dir_watch;

struct pol_dir_watch_cfg {
	const struct pol_dir_cfg *dir;	/* how to connect and bind (copied) */
	uint32_t	quiet_ms;	/* settle: 0 = 1500 */
	uint32_t	max_ms;		/* settle at most: 0 = 10000 */
};

int	pol_dir_watch_new(const struct pol_dir_watch_cfg *,
	    struct pol_dir_watch **out) PA_MUST_USE;
/* Stop and release: returns at once, the thread ends on its own (it may
 * be waiting on a connect or bind). NULL is a no-op. */
void	pol_dir_watch_free(struct pol_dir_watch *);
/* Watch what the last poll of src read (no change: nothing happens). */
void	pol_dir_watch_update(struct pol_dir_watch *,
	    const struct pol_dir_source *);
/* Readable when a poll is due; pol_dir_watch_ack() reads it and says
 * whether that poll follows a (re)connection rather than a change. */
int	pol_dir_watch_fd(const struct pol_dir_watch *);
bool	pol_dir_watch_ack(struct pol_dir_watch *);
/* "syncrepl", "ad-notify" (active), "connecting", "reconnecting",
 * "unsupported" (the server offers neither), "idle" (nothing to watch). */
const char	*pol_dir_watch_state(struct pol_dir_watch *);

#endif
