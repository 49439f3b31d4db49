/*
 * ipsec-agentd's configuration file: "key = value" lines, '#' comments.
 * Every key is checked; an error names file:line and the reason.
 */
#ifndef PA_SVC_CONFIG_H
#define PA_SVC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pa_err.h"

#define SVC_CONFIG_DEFAULT	"/etc/ipsec-agent/ipsec-agentd.conf"
#define SVC_PATH_MAX		4096
/* IKE DoS-cookie mode from this many half-open responder Main Modes. */
#define SVC_DOS_HALFOPEN	64
/* directory_poll_spread = auto: a tenth of the poll interval, <= 30 min. */
#define SVC_SPREAD_AUTO		0xffffffffU

enum svc_audit_sink {
	SVC_SINK_JOURNALD = 1,
	SVC_SINK_SYSLOG = 2,
	SVC_SINK_NONE = 3
};

struct svc_config {
	int			 policy_source;	/* enum agent_source */
	char			 store[SVC_PATH_MAX];
	char			 secrets[SVC_PATH_MAX];
	char			 driver[32];
	enum svc_audit_sink	 audit_sink;
	char			 audit_file[SVC_PATH_MAX];	/* "" = none */
	uint64_t		 audit_rotate_size;	/* bytes, 0 = never */
	unsigned		 audit_rotate_keep;	/* rotated files kept */
	unsigned		 diagnostics;	/* 0..7 */
	bool			 oakley_log;
	char			 oakley_log_path[SVC_PATH_MAX];
	uint64_t		 oakley_log_size;	/* bytes, 0 = never */
	/* OpenMetrics for node_exporter's textfile collector ("" = none). */
	char			 metrics_textfile[SVC_PATH_MAX];
	unsigned		 metrics_interval;	/* seconds */
	char			 control_socket[SVC_PATH_MAX];
	char			 admin_group[64];
	gid_t			 admin_gid;	/* resolved admin_group */
	unsigned		 control_mode;	/* socket file mode */
	char			 state_dir[SVC_PATH_MAX];
	bool			 ike;
	uint16_t		 ike_port;
	uint16_t		 natt_port;	/* 0xffff = off */
	char			 ike_addresses[1024];	/* "" = all local */
	/* IKE authentication material ("" = none / the system's default). */
	char			 krb_keytab[SVC_PATH_MAX];
	char			 krb_principal[256];
	char			 krb_config[SVC_PATH_MAX];
	char			 cert_file[SVC_PATH_MAX];
	char			 key_file[SVC_PATH_MAX];
	char			 ca_file[SVC_PATH_MAX];
	char			 crl_file[SVC_PATH_MAX];	/* "" = none */
	unsigned		 crl_check;	/* 0, 1 (default), 2 */
	bool			 crl_fetch;	/* from distribution points */
	unsigned		 crl_fetch_timeout;	/* seconds */
	unsigned		 crl_retry;	/* seconds after a failed fetch */
	unsigned		 dpd_ms;	/* 0 = engine default (30 s) */
	unsigned		 natt_keepalive_ms;	/* 0 = engine default (20 s) */
	unsigned		 dos_halfopen;	/* DoS-cookie mode; 0 = off */
	unsigned		 soft_sa_life_ms;	/* 0 = engine default */
	unsigned		 stop_timeout_ms;
	unsigned		 log_level;	/* 3..7 */
	bool			 drop_privileges;
	/* policy_source = directory (agent/policy/dir_source.h). */
	char			 dir_uris[1024];	/* space separated */
	char			 dir_domain[254];	/* SRV; uris win */
	char			 dir_base[512];
	char			 dir_computer[512];	/* DN, or "HOST$" */
	int			 dir_bind;		/* enum pol_dir_bind */
	char			 dir_keytab[SVC_PATH_MAX];
	char			 dir_principal[256];
	char			 dir_bind_dn[512];
	char			 dir_password_file[SVC_PATH_MAX];
	bool			 dir_starttls;
	char			 dir_ca_file[SVC_PATH_MAX];
	char			 dir_cache[SVC_PATH_MAX];	/* "" = none */
	unsigned		 dir_timeout_ms;
	unsigned		 dir_min_poll;		/* seconds, 0 = default */
	unsigned		 dir_backoff_unit;	/* seconds, 0 = default */
	bool			 dir_insecure_plain;	/* tests on loopback */
	bool			 dir_notify;		/* auto (on) | off */
	unsigned		 dir_notify_quiet_ms;
	unsigned		 dir_notify_max_ms;
	unsigned		 dir_poll_spread;	/* s, SVC_SPREAD_AUTO */
};

/*
 * Every key the parser accepts, and how: svc_config_set() refuses a key
 * that is not here and parses the others with the parser of their type
 * into their field, so this table is what the man page ipsec-agentd.conf(5)
 * and `ipsec-agentd --list-keys` are checked against (test_config_keys,
 * man_drift).
 */
enum svc_config_type {
	SVC_CFG_PATH,	/* an absolute path; min 0: "" allowed; max: length */
	SVC_CFG_TEXT,	/* non-empty text, and check() if any */
	SVC_CFG_WORD,	/* one of words[] (the booleans too) */
	SVC_CFG_UINT,	/* a word of words[], or min..max, stored times mult */
	SVC_CFG_SIZE,	/* BYTES[K|M|G]: 0, or min and more */
	SVC_CFG_MODE,	/* an octal socket mode, rw for owner and group */
	SVC_CFG_ADDRS	/* up to max addresses, space separated */
};

struct svc_config_word {
	const char	*name;
	uint64_t	 value;
};

struct svc_config_key {
	const char	*name;
	const char	*values;	/* syntax of the value */
	const char	*def;		/* built-in default ("" = none) */
	const char	*example;	/* a value the parser accepts */
	enum svc_config_type type;
	size_t		 off, size;	/* the field in struct svc_config */
	uint64_t	 min, max;	/* limits, as the type says */
	uint64_t	 mult;		/* UINT: stored times this (0 = 1) */
	const struct svc_config_word *words;	/* WORD, UINT; NULL-ended */
	bool		(*check)(const char *);	/* TEXT: more than non-empty */
	const char	*err;		/* the error, after the key's name */
	bool		 err_value;	/* ", not 'VALUE'" follows err */
};
extern const struct svc_config_key	svc_config_keys[];
extern const size_t			svc_config_nkeys;
const struct svc_config_key	*svc_config_key_find(const char *name);

/* Built-in defaults. */
void	svc_config_defaults(struct svc_config *);
/*
 * Read a file over the current values. On error fill errbuf with
 * "file:line: reason" and return PA_E_INVAL (PA_E_SYS if unreadable, with
 * "file: reason"). missing_ok: a missing file is not an error.
 */
int	svc_config_load(struct svc_config *, const char *path, bool missing_ok,
	    char *errbuf, size_t errcap) PA_MUST_USE;
/* One "key=value" override (command line -o); where names it in errors. */
int	svc_config_set(struct svc_config *, const char *key, const char *value,
	    const char *where, char *errbuf, size_t errcap) PA_MUST_USE;
/* Cross-key checks and name resolution (admin group) once all is read. */
int	svc_config_finish(struct svc_config *, char *errbuf, size_t errcap)
	    PA_MUST_USE;

#endif
