/*
 * `ipseccmd static ...` and `ipseccmd match ...`: editing the local XML
 * policy store and what-if matching (docs/policy.md has the syntax).
 */
#ifndef PA_SERVICE_STATIC_CMD_H
#define PA_SERVICE_STATIC_CMD_H

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
int	svc_static_main(int argc, char **argv, const char *store_path,
	    const char *secrets_path);

#endif
