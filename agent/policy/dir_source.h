/*
 * The directory policy source: bind to the directory as the machine, find
 * the IPsec policy assigned to this computer through Group Policy, fetch
 * and decode its object graph, detect changes, keep a root-only,
 * integrity-checked cache of the last good domain policy, and back off
 * when the directory cannot be reached.
 *
 * Use from a timer of the service loop:
 *
 *	struct pol_store *st = NULL;
 *	struct pol_dir_status s;
 *
 *	if (pol_dir_poll(dir, &st, &s) == 0) {
 *		switch (s.outcome) {
 *		case POL_DIR_APPLIED:      apply st as the domain policy; 615
 *		case POL_DIR_FROM_CACHE:   apply st (the cached copy);
 *		                           615 "from cache" (616 if s.err set)
 *		case POL_DIR_UNASSIGNED:   drop the domain policy: local applies
 *		case POL_DIR_UNREACHABLE:
 *		case POL_DIR_REJECTED:     keep what is in force; 616 s.err
 *		case POL_DIR_UNCHANGED:    nothing
 *		}
 *		arm the timer for s.next_poll_sec
 *	}
 *
 * The store handed out is the caller's (pol_store_free); it holds one
 * policy, marked assigned. (The object is struct pol_dir_source: the tag
 * pol_dir is spd.h's direction enum.)
 */
#ifndef PA_POLICY_DIR_SOURCE_H
#define PA_POLICY_DIR_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "pa_err.h"
#include "pa_secret.h"

struct pol_gp_keep;

enum pol_dir_bind {
	POL_DIR_BIND_GSSAPI = 0,	/* as the machine, from its keytab */
	POL_DIR_BIND_SIMPLE = 1		/* DN + password (TLS required) */
};

/* Everything is copied by pol_dir_new(). */
struct pol_dir_cfg {
	const char *const	*uris;		/* tried in order */
	size_t			 nuris;
	/* With no uris: the domain's DNS name; before each poll the URIs
	 * come from its SRV records _ldap._tcp.dc._msdcs.<domain> (see
	 * ldap/srv.h for their order). Ignored when uris are given. */
	const char		*domain;
	bool			 starttls;	/* required on ldap:// URIs */
	const char		*ca_file;	/* NULL = system CAs */
	enum pol_dir_bind	 bind;
	const char		*keytab;	/* GSSAPI: host keytab */
	const char		*principal;	/* GSSAPI: NULL = first entry */
	const char		*bind_dn;	/* SIMPLE */
	const struct pa_secret	*bind_pw;	/* SIMPLE */
	bool			 insecure_plain; /* tests on loopback only */
	unsigned		 timeout_ms;	/* per LDAP call; 0 = 10 s */
	const char		*base;		/* domain naming context */
	/* This computer's object: its DN, or its sAMAccountName ("HOST$")
	 * to look it up under base. */
	const char	*computer_dn;
	const char	*sam_account;
	const char	*cache_path;	/* NULL = no cache */
	uint32_t	 min_poll_sec;	/* floor of any interval (default 60) */
	uint32_t	 backoff_unit_sec; /* backoff 1, 4, 25, 166 units
					    (default 60: minutes) */
	/* Spread of scheduled polls: after a poll that reached the
	 * directory, the next one waits the interval plus an offset of this
	 * host in [0, spread] (pol_dir_poll_offset). -1: a tenth of the
	 * interval, at most 1800 s; 0: none. Not after failures (back-off). */
	int32_t		 poll_spread_sec;
	/* Change notification (dir_watch.h): on by default in the service. */
	bool		 notify;
	uint32_t	 notify_quiet_ms;	/* 0 = 1500 */
	uint32_t	 notify_max_ms;		/* 0 = 10000 */
};

/* One object (or container) whose change asks for a poll. */
struct pol_dir_target {
	char	*dn;
	bool	 one_level;	/* its children, else the entry itself */
};

enum pol_dir_outcome {
	POL_DIR_UNCHANGED = 0,	/* nothing new */
	POL_DIR_APPLIED,	/* a new or changed policy from the directory */
	POL_DIR_FROM_CACHE,	/* nothing in force yet and the directory
				   unreachable or its policy rejected: the
				   cached copy (err says why) */
	POL_DIR_UNASSIGNED,	/* the domain policy was unassigned */
	POL_DIR_UNREACHABLE,	/* directory or GPOs unreadable: err */
	POL_DIR_REJECTED	/* the policy is invalid: err (DN + reason) */
};

struct pol_dir_status {
	enum pol_dir_outcome	outcome;
	struct pol_err		err;		/* UNREACHABLE, REJECTED */
	/* The domain policy in force after this poll (empty if none). */
	bool			in_force;
	bool			from_cache;
	char			policy_dn[512];
	char			policy_name[256];
	char			gpo_dn[512];
	char			uri[256];	/* server it was read from */
	int64_t			fetched;	/* when it was read (epoch s) */
	int64_t			changed;	/* its whenChanged (epoch s) */
	uint32_t		next_poll_sec;	/* offset included */
	uint32_t		poll_offset_sec; /* this host's spread */
};

struct pol_dir_source;

int	pol_dir_new(const struct pol_dir_cfg *, struct pol_dir_source **out)
	    PA_MUST_USE;
void	pol_dir_free(struct pol_dir_source *);	/* NULL is a no-op */
/* One poll; returns 0 (see status) or PA_E_NOMEM. *changed_out is set
 * only for APPLIED and FROM_CACHE. */
int	pol_dir_poll(struct pol_dir_source *, struct pol_store **changed_out,
	    struct pol_dir_status *) PA_MUST_USE;
/* The original blobs of the policy in force (for a lossless export),
 * borrowed; NULL if none. */
const struct pol_gp_keep	*pol_dir_keep(const struct pol_dir_source *);
/*
 * The directory cache's text (buf, NUL-terminated, len bytes; changed in
 * place): its header checked, the SHA-256 of the rest included
 * (PA_E_VERIFY when it does not match, PA_E_FORMAT when malformed); *ldif
 * points to the LDIF of the policy objects in buf. pol_dir_cache_is():
 * does the text begin as a cache does?
 */
int	pol_dir_cache_parse(char *buf, size_t len, char **ldif,
	    int64_t *fetched, char *policy_dn, size_t dncap, char *uri,
	    size_t uricap) PA_MUST_USE;
bool	pol_dir_cache_is(const char *text);

/*
 * What the last poll that reached the directory read, to watch for
 * changes (dir_watch.h): the containers of the policy's objects (one
 * level), the assignment object, the GPOs consulted and the containers
 * whose gPLink was read, in that order (borrowed until the next poll).
 */
const struct pol_dir_target	*pol_dir_targets(const struct pol_dir_source *,
	    size_t *n);
/*
 * The offset of a host's scheduled polls: a value in [0, max] fixed by the
 * SHA-256 of identity (the computer's account name or DN), so that hosts
 * differ and a host keeps its slot across restarts; max is spread, or
 * with spread < 0 a tenth of interval, at most 1800 s.
 */
uint32_t	pol_dir_poll_offset(const char *identity, uint32_t interval,
	    int32_t spread);

/* Name of an outcome ("applied", "from-cache", ...). */
const char	*pol_dir_outcome_name(enum pol_dir_outcome);

#endif
