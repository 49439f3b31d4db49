/*
 * The control protocol: one JSON request and one JSON reply per
 * connection on a Unix stream socket.
 *
 *   request: {"cmd": "show.policy", "args": {...}}      (args optional)
 *   reply:   {"version": 1, "ok": true, "result": {...}}
 *            {"version": 1, "ok": false, "error": "text",
 *             "code": "access-denied"}
 *
 * Every JSON the service writes (these replies, ipseccmd --json) has
 * snake_case keys and a top-level "version": SVC_JSON_VERSION, the format
 * version, raised on an incompatible change; JSON Schemas of each output
 * are in packaging/schema/ (installed to /usr/share/ipsec-agent/schema).
 *
 * The client writes the request and shuts down its sending side; the
 * server answers and closes. A request larger than SVC_CTL_MAX_REQ, or
 * malformed, gets an error reply and the connection is closed.
 */
#ifndef PA_SVC_CONTROL_H
#define PA_SVC_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pa_err.h"

#define SVC_CTL_MAX_REQ		(64U * 1024)
#define SVC_CTL_MAX_REPLY	(16U * 1024 * 1024)
#define SVC_CTL_CMD_MAX		32
#define SVC_JSON_VERSION	1

struct svc_ctl_req {
	char	 cmd[SVC_CTL_CMD_MAX + 1];
	void	*args;		/* json_t object, owned; never NULL on success */
};

/*
 * Parse a request. Accepts exactly one JSON object with a "cmd" string of
 * [a-z.] (1..32 characters) and an optional "args" object; anything else
 * (other keys, duplicates, NUL bytes, trailing data, too large) is
 * PA_E_FORMAT with a reason in errbuf. Free with svc_ctl_req_clear().
 */
int	svc_ctl_parse(const void *buf, size_t len, struct svc_ctl_req *,
	    char *errbuf, size_t errcap) PA_MUST_USE;
void	svc_ctl_req_clear(struct svc_ctl_req *);

/* The peer of a control connection. */
struct svc_peer {
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
	bool	admin;		/* root, or in the admin group */
};

/*
 * Credentials of a connected socket: SO_PEERCRED, and SO_PEERGROUPS for
 * the supplementary groups; admin if uid 0 or admin_gid is among them.
 */
int	svc_ctl_peer(int fd, gid_t admin_gid, struct svc_peer *) PA_MUST_USE;

/*
 * Create the listening socket: a stale socket file is replaced (a live
 * one, answered by another daemon, is PA_E_EXIST), created under umask
 * 0177, then chown root:gid and chmod mode.
 */
int	svc_ctl_listen(const char *path, gid_t gid, unsigned mode, int *fd)
	    PA_MUST_USE;

/*
 * Client: send one request (a json_t *, borrowed) and wait for the reply
 * (*reply, a json_t * owned by the caller) up to timeout_ms. Connect
 * failures return PA_E_SYS with errno (ENOENT/ECONNREFUSED: no daemon,
 * EACCES: not permitted).
 */
int	svc_ctl_call(const char *path, void *request, int timeout_ms,
	    void **reply) PA_MUST_USE;

/*
 * The keys `dynamic add rule` accepts (NULL-terminated; lib/commands.c
 * refuses any other): ipseccmd --list-keys prints them for ipseccmd(8)
 * and the completion (test man_drift).
 */
extern const char *const	svc_dynamic_keys[];

#endif
