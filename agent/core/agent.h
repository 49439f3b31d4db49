/*
 * The agent core: the facade the service drives. It owns the policy set
 * (store -> effective policy + dynamic rules -> SPD), applies the SPD to
 * the driver as a difference against what it applied before, runs the IKE
 * engine, and aggregates statistics. It is single threaded and event
 * driven: the service polls agent_fds() and calls agent_dispatch(), and
 * calls agent_run_timers() when agent_next_timeout_ms() has elapsed.
 *
 * Service semantics (Windows Policy Agent):
 *  - paused: existing SAs keep working, no negotiation starts (acquires are
 *    refused, incoming IKE is dropped), policy changes (reload, dynamic
 *    rules) are validated and queued, then applied by agent_continue();
 *  - stop: IKE sends deletes for every SA, the driver removes everything
 *    this agent installed; 614 is emitted.
 *
 * All fallible functions return 0 or a negative enum pa_err; where a
 * struct pol_err is taken it says what went wrong.
 */
#ifndef PA_AGENT_H
#define PA_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "ike.h"
#include "model.h"
#include "spd.h"

struct audit;
struct pol_dir_cfg;

enum agent_source {
	AGENT_SRC_LOCAL = 1,		/* the local XML store */
	AGENT_SRC_DIRECTORY = 2		/* the directory (agent/policy/dir_source) */
};

struct agent_cfg {
	struct audit		*audit;		/* borrowed; may be NULL */
	const char		*driver;	/* backend name (drv_lookup) */
	enum agent_source	 source;
	const char		*store_path;	/* missing file: embedded default */
	const char		*secrets_path;	/* may be NULL */
	unsigned		 diagnostics;	/* 0..7, driver drop events */
	bool			 ike;		/* run the IKE engine */
	uint16_t		 ike_port;	/* 0 = 500 */
	uint16_t		 natt_port;	/* 0 = 4500, IKE_NO_NATT = off */
	/* Addresses IKE listens on; none: this host's addresses at start. */
	struct pa_addr		 ike_laddrs[IKE_MAX_LADDRS];
	size_t			 ike_nladdrs;
	/*
	 * AGENT_SRC_DIRECTORY: the directory source (copied by agent_new).
	 * The domain's assigned policy wins over the local one; without one
	 * (unassigned, or never fetched and no cache) the local store
	 * applies. Polled from agent_run_timers().
	 */
	const struct pol_dir_cfg *dir;
	/* Oakley log sink (one line per step, never keys); may be NULL. */
	void			(*olog)(void *arg, const char *line);
	void			*olog_arg;
	/*
	 * IKE authentication material and DPD, passed on to struct ike_cfg
	 * (see ike.h; NULL = none / the default). Borrowed until agent_free.
	 */
	const char		*krb_keytab;
	const char		*krb_principal;
	const char		*krb_config;
	const char		*krb_ccache;	/* see ike.h; NULL = none */
	const char		*cert_file;
	const char		*key_file;
	const char		*ca_file;
	const char		*crl_file;	/* PEM CRLs, or NULL */
	uint8_t			 crl_check;	/* 0, 1, 2 (ike.h) */
	/*
	 * With cert_file: the root-only cache (NULL: none) of the CRLs from
	 * the distribution points of peer certificates (fetched when
	 * crl_fetch and crl_check > 0) and of the domain's enterprise CAs
	 * (with a directory policy); one fetch's timeout and the wait after
	 * a failed one (0: agent/pki/crl.h defaults).
	 */
	const char		*crl_cache_dir;
	bool			 crl_fetch;
	unsigned		 crl_fetch_timeout_s;
	unsigned		 crl_retry_s;
	uint32_t		 dpd_ms;	/* 0 = 30 s */
	uint32_t		 natt_keepalive_ms;	/* 0 = 20 s */
	uint32_t		 dos_halfopen;	/* DoS-cookie mode; 0 = off */
	uint32_t		 soft_sa_life_ms;	/* 0 = 300 s */
};

/* A dynamic rule (`ipseccmd dynamic add rule`): memory only. */
struct agent_dyn_rule {
	char			 name[64];
	struct pol_endpoint	 src;		/* ANY, ME, HOST or SUBNET */
	struct pol_endpoint	 dst;
	uint8_t			 proto;
	uint16_t		 sport;
	uint16_t		 dport;
	bool			 mirrored;
	enum pol_action		 action;
	bool			 inpass;
	bool			 soft;
	struct pa_addr		 tunnel;	/* unset = transport */
	enum pol_auth_kind	 auth;		/* negotiate: default Kerberos */
	char			 psk_ref[64];	/* PSK: name in the secrets file */
};

struct agent_info {
	const char	*source;	/* "local", "local (embedded default)" ... */
	const char	*policy_name;	/* NULL: no policy assigned */
	char		 policy_guid[PA_GUIDSTRLEN];
	int64_t		 policy_changed;
	uint64_t	 generation;	/* policy applications so far */
	int64_t		 applied_at;	/* epoch s of the last application */
	bool		 pending;	/* a change is queued (paused) */
	const char	*driver;
	size_t		 filters;	/* entries installed in the driver */
	size_t		 dynamic_rules;
	uint64_t	 mmsas;
	uint64_t	 qmsas;
	bool		 ike;		/* the IKE engine runs */
	bool		 paused;
	/* Directory source: last poll. */
	const char	*dir_outcome;	/* "applied", "unreachable", ...; NULL */
	const char	*dir_uri;	/* server the domain policy came from */
	int64_t		 dir_fetched;	/* epoch s, 0 = never */
	uint32_t	 dir_next_poll;	/* seconds */
	int64_t		 dir_polled_at;	/* last poll, whatever came of it */
	int64_t		 dir_ok_at;	/* last poll that read the directory */
	int64_t		 dir_changed_at; /* last change of the domain policy
					   in force (applied, unassigned) */
	const char	*dir_notify;	/* "syncrepl", "ad-notify", "off", ... */
	uint32_t	 dir_poll_offset; /* this host's spread, seconds */
	const char	*dir_cause;	/* why the last poll ran: "start",
					   "scheduled", "reload", "notify",
					   "connect" */
};

/* Statistics: IKE's (Oakley), the driver's (IPsec) and the core's. */
struct agent_stats {
	struct ike_stats	ike;
	struct drv_stats	drv;
	uint64_t		rekeys;		/* soft expiries handled */
	uint64_t		acquires_refused; /* while paused */
	uint64_t		policy_applied;
	uint64_t		policy_rejected;
	uint64_t		driver_errors;
};

struct agent;

/*
 * Check the configuration and load the policy (nothing is installed yet).
 * An unknown driver, a directory source that cannot be served, or bad
 * policy fails with *err filled. *out is freed with agent_free().
 */
int	agent_new(const struct agent_cfg *, struct agent **out,
	    struct pol_err *err) PA_MUST_USE;
/* Open the driver, apply the policy, start IKE; emits 613 or 616. */
int	agent_start(struct agent *, struct pol_err *err) PA_MUST_USE;
/*
 * Delete SAs (with notifications) and close the driver; emits 614 with
 * reason. Idempotent. Fail-closed unless clear: every flow the policy
 * secures or blocks stays blocked (kernel state the driver leaves) until
 * the next start, as Windows' IPsec driver in block mode; clear (the
 * administrator asked for it) removes everything: traffic in clear.
 */
void	agent_stop(struct agent *, const char *reason, bool clear);
/*
 * Without a running agent: remove the state a previous instance of this
 * driver backend left (it died, failed to start or stopped fail-closed),
 * so that traffic flows in clear. *found says what was found ("" if
 * nothing). For `ipsec-agentd --clear` and package removal.
 */
int	agent_clear_state(const char *driver, char *found, size_t cap,
	    struct pol_err *err) PA_MUST_USE;
void	agent_free(struct agent *);		/* stops first; NULL ok */

/*
 * Re-read the policy source (the local store; with a directory source, a
 * poll of the directory is also made due). Bad policy is rejected whole:
 * the old policy stays, 616 is emitted and *err says why. Paused:
 * validated and queued.
 */
int	agent_reload(struct agent *, struct pol_err *err) PA_MUST_USE;
/* New local store / secrets paths for the next reload (NULL = keep). */
int	agent_set_store_paths(struct agent *, const char *store,
	    const char *secrets) PA_MUST_USE;
int	agent_pause(struct agent *) PA_MUST_USE;
int	agent_continue(struct agent *, struct pol_err *err) PA_MUST_USE;
bool	agent_paused(const struct agent *);
void	agent_set_diagnostics(struct agent *, unsigned level);
unsigned	agent_diagnostics(const struct agent *);

/* Dynamic rules. Names are unique; add fails with PA_E_EXIST. */
int	agent_dynamic_add(struct agent *, const struct agent_dyn_rule *,
	    struct pol_err *err) PA_MUST_USE;
int	agent_dynamic_del(struct agent *, const char *name) PA_MUST_USE;
/* Delete all dynamic rules. */
int	agent_dynamic_flush(struct agent *) PA_MUST_USE;
size_t	agent_dynamic_count(const struct agent *);
/* Borrowed until the next dynamic change; NULL past the end. */
const struct agent_dyn_rule	*agent_dynamic_at(const struct agent *, size_t);

/* Views (borrowed until the next policy change). */
void	agent_get_info(const struct agent *, struct agent_info *);
/*
 * Ask the packet driver whether the kernel holds what it installed
 * (ipseccmd diag): 0 if so; why is filled in either way.
 */
int	agent_driver_check(struct agent *, char *why, size_t cap);
/*
 * Revocation and enterprise trust (agent/pki), for show pki: the CRL
 * distribution points known, each one's state (agent_crl_info, i below
 * agent_crl_count), and the domain's CA certificates (DER, borrowed until
 * the next policy poll), at most cap.
 */
struct pki_crl_info;
size_t	agent_crl_count(const struct agent *);
void	agent_crl_info(const struct agent *, size_t i, struct pki_crl_info *);
/* The domain's CAs (DER) and their enum pki_ca_kind (kinds may be NULL). */
size_t	agent_domain_cas(const struct agent *, struct pa_bytes *out,
	    uint8_t *kinds, size_t cap);
/*
 * Troubleshooting keys on (the directory for Wireshark's tables) or off
 * (NULL): ike_keylog(). PA_E_STATE when IKE does not run.
 */
int	agent_set_keylog(struct agent *, const char *dir) PA_MUST_USE;
const struct pol_policy	*agent_policy(const struct agent *);
/* The SPD in the driver: policy and dynamic rules (entry->dynamic). */
const struct pol_spd	*agent_spd(const struct agent *);
/* The dynamic rules compiled on their own. */
const struct pol_spd	*agent_dynamic_spd(const struct agent *);
void	agent_get_stats(const struct agent *, struct agent_stats *);
void	agent_foreach_mmsa(const struct agent *,
	    void (*fn)(void *, const struct ike_mmsa_info *), void *arg);
void	agent_foreach_qmsa(const struct agent *,
	    void (*fn)(void *, const struct ike_qmsa_info *), void *arg);
/*
 * The driver's counters of one SA of a Quick Mode SA pair (in: the SA we
 * receive with): ESP's, or AH's when the pair has no ESP. 0, or
 * PA_E_NOENT when the driver does not have it.
 */
int	agent_qmsa_stats(const struct agent *, const struct ike_qmsa_info *,
	    bool in, struct sa_stats *);
/* The driver, for tests (null backend inspection); NULL before start. */
struct driver	*agent_driver(const struct agent *);

/* Event loop. */
size_t	agent_fds(const struct agent *, int *fds, size_t cap);
void	agent_dispatch(struct agent *, int fd);
int	agent_next_timeout_ms(const struct agent *, uint64_t now_ms);
void	agent_run_timers(struct agent *, uint64_t now_ms);

#endif
