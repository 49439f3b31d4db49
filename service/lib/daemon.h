/*
 * ipsec-agentd: the service. Windows service states and semantics:
 * START_PENDING -> RUNNING -> (PAUSE_PENDING -> PAUSED -> CONTINUE_PENDING
 * -> RUNNING) -> STOP_PENDING -> STOPPED, each transition logged, shown to
 * systemd (STATUS=) and kept for `ipseccmd service status`.
 */
#ifndef PA_SVC_DAEMON_H
#define PA_SVC_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

/* The values of the Windows SERVICE_* states. */
enum svc_state {
	SVC_STOPPED = 1,
	SVC_START_PENDING = 2,
	SVC_STOP_PENDING = 3,
	SVC_RUNNING = 4,
	SVC_CONTINUE_PENDING = 5,
	SVC_PAUSE_PENDING = 6,
	SVC_PAUSED = 7
};

const char	*svc_state_name(enum svc_state);	/* "RUNNING" */

struct svc_opts {
	const char	*config_path;	/* NULL: SVC_CONFIG_DEFAULT, may be absent */
	bool		 foreground;
	const char	**overrides;	/* "key=value" (-o), after the file */
	size_t		 noverrides;
	bool		 check_only;	/* -t: check the configuration, exit */
	/*
	 * --clear: no service; remove what a previous instance left (it
	 * died, failed to start or stopped fail-closed) so that traffic
	 * flows in clear; refused while an instance runs.
	 */
	bool		 clear_only;
};

/* Run the service; returns the process exit status. */
int	svc_daemon_main(const struct svc_opts *);

#endif
