/*
 * `ipseccmd static ...` and `ipseccmd match ...`: editing the local XML
 * policy store and what-if matching (docs/policy.md has the syntax).
 */
#ifndef PA_SERVICE_STATIC_CMD_H
#define PA_SERVICE_STATIC_CMD_H

#include <stdbool.h>

/* Exit codes. */
#define SVC_STATIC_OK		0
#define SVC_STATIC_ERR		1
#define SVC_STATIC_USAGE	2

/*
 * argv[0] is "static" or "match"; the rest is what the user typed after
 * it (netsh-style key=value arguments, `--json` anywhere for JSON output).
 * Prints results to stdout and errors to stderr, and returns the exit
 * code. A command that fails never changes the store on disk; one that
 * succeeds saves it atomically (store_path mode 0644, secrets_path 0600).
 * argv is not modified.
 */
/*
 * The words svc_static_main() accepts (NULL-terminated): verbs after
 * "static", objects after the verb, keys before '=' (for match too). A
 * word missing here is refused, so these tables are what ipseccmd(8) and
 * the bash completion are checked against (test man_drift).
 */
extern const char *const	svc_static_verbs[];
extern const char *const	svc_static_objects[];
extern const char *const	svc_static_keys[];

int	svc_static_main(int argc, char **argv, const char *store_path,
	    const char *secrets_path);

/*
 * match through the daemon: the packet of `match KEY=VALUE...` (argv[0] is
 * "match"; myaddr= and dir= resolved here, --json noted); the outcome for
 * a packet against an SPD in force (policy may be NULL; json_t *), and
 * its printing as match prints it (the view is consumed).
 */
struct pol_pkt;
struct pol_policy;
struct pol_spd;
int	svc_static_match_packet(int argc, char **argv, struct pol_pkt *,
	    bool *json);
void	*svc_static_match_view(const struct pol_policy *,
	    const struct pol_spd *, const struct pol_pkt *);
int	svc_static_match_print(void *view, bool json);
/*
 * The whole policy p as show policy gives it (json_t *): the policy's
 * settings and rules, and each filter list and filter action its rules
 * use, with the offers; "defaults" name the values p did not give.
 * Printed as `static show` prints those objects.
 */
void	*svc_static_policy_in_force(const struct pol_policy *p);
void	svc_static_print_in_force(const void *in_force);

#endif
