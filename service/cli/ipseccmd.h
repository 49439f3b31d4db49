/* Private to ipseccmd. */
#ifndef PA_IPSECCMD_H
#define PA_IPSECCMD_H

#include <stdbool.h>

#include "lib/config.h"

/* Exit codes. */
#define CMD_EXIT_OK		0
#define CMD_EXIT_FAIL		1	/* the daemon said no */
#define CMD_EXIT_USAGE		2
#define CMD_EXIT_NOTRUNNING	3
#define CMD_EXIT_DENIED		4

struct cli {
	const char	*config_path;	/* -c */
	const char	*socket;	/* resolved */
	const char	*store;		/* --store */
	bool		 store_given;	/* --store was on the command line */
	const char	*secrets;	/* --secrets */
	bool		 json;
	int		 timeout_ms;
	struct svc_config cfg;		/* the daemon's config, as read */
	const char	*argv0;
};

/*
 * Send cmd with args (json_t *, stolen; may be NULL) and print the reply
 * with printer (NULL: print nothing) unless --json. Returns an exit code.
 */
int	cli_call(struct cli *, const char *cmd, void *args,
	    void (*printer)(void *result));
/* The same, leaving the result to the caller (*result owned, on 0). */
int	cli_request(struct cli *, const char *cmd, void *args, void **result);
/* What ipseccmd diag got from the daemon (ipseccmd.c asks it). */
struct cli_diag_in {
	const char	*config_error;	/* the configuration's, or NULL */
	int		 rc;		/* of the status request */
	void		*status;	/* its reply (json_t *), NULL on rc */
	void		*checks;	/* the daemon's diag reply, or NULL */
};
/* ipseccmd diag (cli/diag.c). */
int	cli_diag(struct cli *, int argc, char **argv,
	    const struct cli_diag_in *);

/* ipseccmd monitor [--interval S] [--count N] (cli/monitor.c). */
int	cli_monitor(struct cli *, int argc, char **argv);

/* --json: j (a json_t *) with "version" added, on stdout. */
void	cli_json_print(void *j);

/* Text printers (cli/print.c). */
void	print_status(void *);
void	print_policy(void *);
void	print_filters(void *);
void	print_mmsas(void *);
void	print_qmsas(void *);
void	print_stats(void *);
void	print_pki(void *);
/* Statistics and per-peer SA state in the OpenMetrics text format. */
void	print_openmetrics(void *stats, void *qmsas);
void	print_events(void *);
void	print_all(void *);
void	print_dynamic(void *);
void	print_verify(void *);

#endif
