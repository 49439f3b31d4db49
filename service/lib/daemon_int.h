/* Private to service/lib: the daemon's state, shared with commands.c. */
#ifndef PA_SVC_DAEMON_INT_H
#define PA_SVC_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "agent.h"
#include "audit.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "sinks.h"

#define SVC_MAX_CONNS		32
#define SVC_MAX_NONADMIN	4	/* concurrent connections of refused callers */
#define SVC_CONN_TIMEOUT_MS	5000
#define SVC_HISTORY		16

struct svc_conn {
	int		 fd;		/* -1 = free slot */
	char		*buf;
	size_t		 len;
	uint64_t	 deadline;
	struct svc_peer	 peer;
	bool		 draining;	/* answered; discard input until EOF */
	size_t		 drained;
};

struct svc_transition {
	enum svc_state	state;
	int64_t		wall;		/* seconds since the epoch */
};

struct svc_daemon {
	struct svc_opts		 opts;
	const char		*config_path;
	struct svc_config	 cfg;
	struct audit		*audit;
	struct svc_sinks	*sinks;
	struct agent		*agent;
	enum svc_state		 state;
	struct svc_transition	 hist[SVC_HISTORY];
	size_t			 nhist;
	uint64_t		 start_ms;
	int64_t			 start_wall;
	int			 ep;		/* epoll */
	int			 lock_fd;
	int			 listen_fd;
	int			 sig_fd;
	int			 agent_fds[IKE_MAX_LADDRS * 2 + 2];
	size_t			 nagent_fds;
	struct svc_conn		 conns[SVC_MAX_CONNS];
	FILE			*olog;
	bool			 olog_opened;	/* truncated once per start */
	uint64_t		 olog_size;	/* bytes in the open file */
	bool			 done;
	int			 exit_code;
	uint64_t		 watchdog_ms;	/* 0 = off */
	uint64_t		 watchdog_next;
	char			 stop_reason[128];
	/* <state_dir>/krb5cc_ike: our Kerberos tickets between runs. */
	char			 krb_ccache[SVC_PATH_MAX + 16];
	char			 crl_cache[SVC_PATH_MAX + 8];	/* <state_dir>/crl */
	bool			 stop_clear;	/* stop "in clear" */
	uint64_t		 metrics_next;	/* next metrics_textfile write */
	bool			 metrics_failed;	/* last write failed */
};

/* commands.c: the results of show.stats and show.qmsas (json_t *). */
void	*svc_stats_result(struct svc_daemon *);
void	*svc_qmsas_result(struct svc_daemon *);

/* metrics.c: write metrics_textfile when due; ms to the next write (-1
 * when off). svc_metrics_remove: the file goes at stop. */
int	 svc_metrics_tick(struct svc_daemon *, uint64_t now);
void	 svc_metrics_remove(struct svc_daemon *);

/* lifecycle.c */
void	svc_set_state(struct svc_daemon *, enum svc_state);
/* Begin the stop sequence; the loop exits after the reply is sent. */
/* Stop: fail-closed, or (clear) with every IPsec filter removed. */
void	svc_request_stop(struct svc_daemon *, const char *reason, bool clear);
/* Reload configuration file and policy (SIGHUP, `reload`). */
int	svc_reload(struct svc_daemon *, char *errbuf, size_t errcap);
/* Oakley log on/off; the file is started afresh once per service start. */
int	svc_oakley_set(struct svc_daemon *, bool on);
void	svc_oakley_line(void *arg, const char *line);
/* Defaults, the file, the -o overrides, then the checks of finish. */
int	svc_load_config(struct svc_daemon *, struct svc_config *, char *eb,
	    size_t ec);
/* mkdir -p of path; of the directory holding path (mode for new ones). */
int	svc_mkdir_p(const char *path, mode_t mode);
int	svc_mkdir_parent_mode(const char *path, mode_t mode);
int	svc_mkdir_parent(const char *path);	/* mode 0750 */

/* commands.c */

/*
 * Handle one request from peer; returns the reply (json_t *, owned).
 * Emits 5701 for a refused caller and 5700 for every privileged command.
 */
void	*svc_command(struct svc_daemon *, const struct svc_peer *,
	    const struct svc_ctl_req *);
/* Audit ev (5700, 5701...) with the caller's Uid, Command and Result. */
void	svc_audit_ctl(struct svc_daemon *, enum audit_event, uid_t,
	    const char *cmd, const char *result);
/* An error reply. */
void	*svc_reply_error(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
