/*
 * Control socket: request parser, peer credentials, listener, client.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "control.h"
#include "pa_time.h"

int
svc_ctl_parse(const void *buf, size_t len, struct svc_ctl_req *req,
    char *eb, size_t ec)
{
	json_error_t jerr;
	json_t *root = NULL, *cmd, *args;
	const char *key, *s;
	json_t *val;
	size_t i, n;
	int rc = PA_E_FORMAT;

	memset(req, 0, sizeof(*req));
	if (len > SVC_CTL_MAX_REQ) {
		snprintf(eb, ec, "request too large (%zu bytes, limit %u)",
		    len, SVC_CTL_MAX_REQ);
		return PA_E_FORMAT;
	}
	/* Strict: one value, no NUL, no duplicate keys. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(eb, ec, "malformed JSON: %s (at %d:%d)", jerr.text,
		    jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(root)) {
		snprintf(eb, ec, "request must be a JSON object");
		goto out;
	}
	json_object_foreach(root, key, val) {
		if (strcmp(key, "cmd") != 0 && strcmp(key, "args") != 0) {
			snprintf(eb, ec, "unknown request member '%.40s'", key);
			goto out;
		}
	}
	cmd = json_object_get(root, "cmd");
	if (!json_is_string(cmd)) {
		snprintf(eb, ec, "request needs a \"cmd\" string");
		goto out;
	}
	s = json_string_value(cmd);
	n = json_string_length(cmd);
	if (n == 0 || n > SVC_CTL_CMD_MAX) {
		snprintf(eb, ec, "command name must have 1 to %d characters",
		    SVC_CTL_CMD_MAX);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '.')) {
			snprintf(eb, ec, "command name may hold only a-z "
			    "and '.'");
			goto out;
		}
	args = json_object_get(root, "args");
	if (args != NULL && !json_is_object(args)) {
		snprintf(eb, ec, "\"args\" must be an object");
		goto out;
	}
	memcpy(req->cmd, s, n);
	req->cmd[n] = '\0';
	req->args = args != NULL ? json_incref(args) : json_object();
	if (req->args == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
svc_ctl_req_clear(struct svc_ctl_req *req)
{
	json_decref(req->args);
	memset(req, 0, sizeof(*req));
}

int
svc_ctl_peer(int fd, gid_t admin_gid, struct svc_peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t groups[256];
	size_t i, ng;

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 ||
	    len != sizeof(uc))
		return PA_E_SYS;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	p->admin = uc.uid == 0 || uc.gid == admin_gid;
	len = sizeof(groups);
	if (!p->admin && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups,
	    &len) == 0) {
		ng = len / sizeof(groups[0]);
		for (i = 0; i < ng; i++)
			if (groups[i] == admin_gid)
				p->admin = true;
	}
	return 0;
}

static int
sun_fill(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return PA_E_SYS;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

int
svc_ctl_listen(const char *path, gid_t gid, unsigned mode, int *out)
{
	struct sockaddr_un sun;
	char tmp[sizeof(sun.sun_path)];
	mode_t old;
	int fd = -1, probe = -1, rc;

	*out = -1;
	if ((rc = sun_fill(path, &sun)) != 0)
		return rc;
	/* Someone answering on it: a live daemon. Otherwise stale. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			return PA_E_EXIST;
		}
		close(probe);
	}
	/*
	 * Made under a temporary name and renamed into place once it
	 * listens with its final owner and mode: a client never finds the
	 * path before it answers (connect would be refused in between, and
	 * ipseccmd would say the service is not running).
	 */
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp) ||
	    (rc = sun_fill(tmp, &sun)) != 0) {
		errno = ENAMETOOLONG;
		return PA_E_SYS;
	}
	if (unlink(tmp) != 0 && errno != ENOENT)
		return PA_E_SYS;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return PA_E_SYS;
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || chown(tmp, 0, gid) != 0 ||
	    chmod(tmp, (mode_t)mode) != 0 || listen(fd, 32) != 0 ||
	    rename(tmp, path) != 0) {
		int saved = errno;

		close(fd);
		(void)unlink(tmp);
		errno = saved;
		return PA_E_SYS;
	}
	*out = fd;
	return 0;
}

static int
wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	uint64_t now;
	int r;

	for (;;) {
		now = pa_now_ms();
		if (now >= deadline)
			return PA_E_TIMEOUT;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return PA_E_SYS;
	}
}

int
svc_ctl_call(const char *path, void *request, int timeout_ms, void **reply)
{
	struct sockaddr_un sun;
	char *text = NULL, *buf = NULL;
	size_t len, off, cap = 0, n = 0;
	uint64_t deadline = pa_now_ms() + (uint64_t)timeout_ms;
	json_error_t jerr;
	int fd = -1, rc;

	*reply = NULL;
	if ((rc = sun_fill(path, &sun)) != 0)
		return rc;
	if ((text = json_dumps(request, JSON_COMPACT)) == NULL)
		return PA_E_NOMEM;
	len = strlen(text);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = PA_E_SYS;
		goto out;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		rc = PA_E_SYS;
		goto out;
	}
	for (off = 0; off < len; ) {
		ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			/* The server may have answered and closed early. */
			break;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline)) != 0)
			goto out;
	}
	(void)shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= SVC_CTL_MAX_REPLY) {
				rc = PA_E_FORMAT;
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				rc = PA_E_NOMEM;
				goto out;
			}
			buf = nb;
		}
		r = recv(fd, buf + n, cap - n, 0);
		if (r > 0) {
			n += (size_t)r;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			rc = PA_E_SYS;
			goto out;
		}
		if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
			goto out;
	}
	if ((*reply = json_loadb(buf, n, 0, &jerr)) == NULL ||
	    !json_is_object((json_t *)*reply)) {
		json_decref(*reply);
		*reply = NULL;
		rc = PA_E_FORMAT;
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	free(text);
	free(buf);
	return rc;
}
