/*
 * ipsec-agentd: lock, daemonising, the event loop and the stop sequence.
 * Commands live in commands.c, the state and what changes it (reload,
 * stop request, Oakley log) in lifecycle.c, below both.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "daemon_int.h"
#include "dir_setup.h"
#include "dir_source.h"
#include "pa_secret.h"
#include "pa_log.h"
#include "pa_time.h"
#include "privs.h"
#include "seal.h"

enum ev_kind {
	EV_LISTEN = 1,
	EV_CONN,
	EV_SIGNAL,
	EV_AGENT
};

#define EV_TAG(kind, v)	(((uint64_t)(kind) << 32) | (uint32_t)(v))

/*
 * The lock: flock on <state_dir>/ipsec-agentd.pid, held for the life of
 * the process. The kernel drops it when the process dies, even by
 * SIGKILL, so a crash never leaves a lock that blocks a restart.
 */
static int
take_lock(struct svc_daemon *d, char *eb, size_t ec)
{
	char path[SVC_PATH_MAX + 32], pidtxt[32] = "";
	ssize_t n;

	snprintf(path, sizeof(path), "%s/ipsec-agentd.pid", d->cfg.state_dir);
	if (svc_mkdir_p(d->cfg.state_dir, 0750) != 0) {
		snprintf(eb, ec, "state_dir %s: %s", d->cfg.state_dir,
		    strerror(errno));
		return PA_E_SYS;
	}
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0) {
		snprintf(eb, ec, "%s: %s", path, strerror(errno));
		return PA_E_SYS;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int saved = errno;

		n = pread(d->lock_fd, pidtxt, sizeof(pidtxt) - 1, 0);
		pidtxt[n > 0 ? n : 0] = '\0';
		pidtxt[strcspn(pidtxt, "\n")] = '\0';
		if (saved == EWOULDBLOCK)
			snprintf(eb, ec, "another ipsec-agentd is running "
			    "(pid %s, lock %s)", pidtxt[0] ? pidtxt : "?", path);
		else
			snprintf(eb, ec, "%s: flock: %s", path,
			    strerror(saved));
		return PA_E_EXIST;
	}
	return 0;
}

static void
write_pid(struct svc_daemon *d)
{
	char txt[32];
	int n = snprintf(txt, sizeof(txt), "%ld\n", (long)getpid());

	if (ftruncate(d->lock_fd, 0) != 0 ||
	    pwrite(d->lock_fd, txt, (size_t)n, 0) != n)
		log_warn("writing the pid file");
}

static int
ep_add(struct svc_daemon *d, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = tag;
	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : PA_E_SYS;
}

static void
agent_fds_register(struct svc_daemon *d)
{
	size_t i;

	d->nagent_fds = agent_fds(d->agent, d->agent_fds,
	    sizeof(d->agent_fds) / sizeof(d->agent_fds[0]));
	for (i = 0; i < d->nagent_fds; i++)
		if (ep_add(d, d->agent_fds[i], EPOLLIN,
		    EV_TAG(EV_AGENT, d->agent_fds[i])) != 0)
			log_warn("epoll: agent fd %d", d->agent_fds[i]);
}

static void
agent_fds_unregister(struct svc_daemon *d)
{
	size_t i;

	for (i = 0; i < d->nagent_fds; i++)
		(void)epoll_ctl(d->ep, EPOLL_CTL_DEL, d->agent_fds[i], NULL);
	d->nagent_fds = 0;
}

/*
 * The agent's fds may change while it runs (IKE's Kerberos workers' fd
 * appears when Kerberos is first used): follow them. Only while they are
 * registered (not during or after the stop sequence).
 */
static void
agent_fds_refresh(struct svc_daemon *d)
{
	int fds[sizeof(d->agent_fds) / sizeof(d->agent_fds[0])];
	size_t n;

	if (d->nagent_fds == 0 || d->done)
		return;
	n = agent_fds(d->agent, fds, sizeof(fds) / sizeof(fds[0]));
	if (n == d->nagent_fds &&
	    memcmp(fds, d->agent_fds, n * sizeof(fds[0])) == 0)
		return;
	agent_fds_unregister(d);
	agent_fds_register(d);
}

static struct agent_cfg
agent_cfg_of(struct svc_daemon *d)
{
	struct agent_cfg ac;

	memset(&ac, 0, sizeof(ac));
	ac.audit = d->audit;
	ac.driver = d->cfg.driver;
	ac.source = (enum agent_source)d->cfg.policy_source;
	ac.store_path = d->cfg.store;
	ac.secrets_path = d->cfg.secrets;
	ac.diagnostics = d->cfg.diagnostics;
	ac.ike = d->cfg.ike;
	ac.ike_port = d->cfg.ike_port;
	ac.natt_port = d->cfg.natt_port;
	if (d->cfg.ike_addresses[0] != '\0') {
		char buf[1024], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", d->cfg.ike_addresses);
		for (tok = strtok_r(buf, " \t", &save); tok != NULL &&
		    ac.ike_nladdrs < IKE_MAX_LADDRS;
		    tok = strtok_r(NULL, " \t", &save))
			if (pa_addr_parse(tok, &ac.ike_laddrs[ac.ike_nladdrs]) == 0)
				ac.ike_nladdrs++;
	}
	ac.olog = svc_oakley_line;
	ac.olog_arg = d;
#define CFG_STR(s)	((s)[0] != '\0' ? (s) : NULL)
	ac.krb_keytab = CFG_STR(d->cfg.krb_keytab);
	ac.krb_principal = CFG_STR(d->cfg.krb_principal);
	ac.krb_config = CFG_STR(d->cfg.krb_config);
	snprintf(d->krb_ccache, sizeof(d->krb_ccache), "%s/krb5cc_ike",
	    d->cfg.state_dir);
	ac.krb_ccache = d->krb_ccache;
	ac.cert_file = CFG_STR(d->cfg.cert_file);
	ac.key_file = CFG_STR(d->cfg.key_file);
	ac.ca_file = CFG_STR(d->cfg.ca_file);
	ac.crl_file = CFG_STR(d->cfg.crl_file);
	ac.crl_check = (uint8_t)d->cfg.crl_check;
	snprintf(d->crl_cache, sizeof(d->crl_cache), "%s/crl",
	    d->cfg.state_dir);
	ac.crl_cache_dir = d->crl_cache;
	ac.crl_fetch = d->cfg.crl_fetch;
	ac.crl_fetch_timeout_s = d->cfg.crl_fetch_timeout;
	ac.crl_retry_s = d->cfg.crl_retry;
#undef CFG_STR
	ac.dpd_ms = d->cfg.dpd_ms;
	ac.natt_keepalive_ms = d->cfg.natt_keepalive_ms;
	ac.dos_halfopen = d->cfg.dos_halfopen;
	ac.soft_sa_life_ms = d->cfg.soft_sa_life_ms;
	return ac;
}

static void
on_alarm(int sig)
{
	static const char msg[] = "ipsec-agentd: stop timed out\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

/* The stop sequence: SAs deleted with notifications, driver emptied,
 * audit flushed; bounded by stop_timeout. */
static void
stop_sequence(struct svc_daemon *d)
{
	signal(SIGALRM, on_alarm);
	alarm((d->cfg.stop_timeout_ms + 999) / 1000);
	agent_fds_unregister(d);
	agent_stop(d->agent, d->stop_reason[0] ? d->stop_reason :
	    "service stopped", d->stop_clear);
	audit_flush(d->audit);
	svc_set_state(d, SVC_STOPPED);
	alarm(0);
	d->done = true;
}

static void
conn_close(struct svc_daemon *d, struct svc_conn *c)
{
	if (c->fd >= 0) {
		(void)epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Send reply (consumed) on c, blocking with a send timeout. */
static void
conn_answer(struct svc_conn *c, json_t *reply)
{
	struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
	char *text;
	size_t len, off;

	text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	if (text != NULL) {
		len = strlen(text);
		/* Blocking with a send timeout: a stuck reader cannot hang us. */
		(void)fcntl(c->fd, F_SETFL, 0);
		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		for (off = 0; off < len; ) {
			ssize_t w = send(c->fd, text + off, len - off,
			    MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		free(text);
	}
}

static void
conn_reply(struct svc_daemon *d, struct svc_conn *c, json_t *reply)
{
	conn_answer(c, reply);
	conn_close(d, c);
}

static void
conn_request(struct svc_daemon *d, struct svc_conn *c)
{
	struct svc_ctl_req req;
	char eb[256];
	json_t *reply;

	if (svc_ctl_parse(c->buf, c->len, &req, eb, sizeof(eb)) != 0) {
		log_debug("control: bad request from uid %u: %s",
		    (unsigned)c->peer.uid, eb);
		if (!c->peer.admin) {
			/* Refused before anything is said about the input. */
			svc_audit_ctl(d, AUDIT_CTL_DENIED, c->peer.uid,
			    "(malformed request)", NULL);
			conn_reply(d, c, svc_reply_error("access-denied",
			    "access denied"));
			return;
		}
		conn_reply(d, c, svc_reply_error("bad-request", "%s", eb));
		return;
	}
	reply = svc_command(d, &c->peer, &req);
	svc_ctl_req_clear(&req);
	conn_reply(d, c, reply);
}

static void
conn_read(struct svc_daemon *d, struct svc_conn *c)
{
	char tmp[4096];
	ssize_t r;

	for (;;) {
		r = recv(c->fd, tmp, sizeof(tmp), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r < 0) {
			conn_close(d, c);
			return;
		}
		if (r == 0) {
			if (c->draining)
				conn_close(d, c);
			else
				conn_request(d, c);
			return;
		}
		if (c->draining) {
			/* Read what the client still sends, so that closing
			 * does not reset the connection before it has read
			 * the reply; bounded by size and the deadline. */
			c->drained += (size_t)r;
			if (c->drained > 4 * SVC_CTL_MAX_REQ) {
				conn_close(d, c);
				return;
			}
			continue;
		}
		if (c->len + (size_t)r > SVC_CTL_MAX_REQ) {
			conn_answer(c, svc_reply_error("too-large",
			    "request too large (limit %u bytes)",
			    SVC_CTL_MAX_REQ));
			(void)shutdown(c->fd, SHUT_WR);
			(void)fcntl(c->fd, F_SETFL, O_NONBLOCK);
			c->draining = true;
			free(c->buf);
			c->buf = NULL;
			c->len = 0;
			continue;
		}
		{
			char *nb = realloc(c->buf, c->len + (size_t)r);

			if (nb == NULL) {
				conn_close(d, c);
				return;
			}
			c->buf = nb;
		}
		memcpy(c->buf + c->len, tmp, (size_t)r);
		c->len += (size_t)r;
	}
}

static size_t
nonadmin_conns(const struct svc_daemon *d)
{
	size_t i, n = 0;

	for (i = 0; i < SVC_MAX_CONNS; i++)
		if (d->conns[i].fd >= 0 && !d->conns[i].peer.admin)
			n++;
	return n;
}

static void
conn_accept(struct svc_daemon *d)
{
	struct svc_conn *c = NULL;
	size_t i;
	int fd;

	while ((fd = accept4(d->listen_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0, c = NULL; i < SVC_MAX_CONNS; i++)
			if (d->conns[i].fd < 0) {
				c = &d->conns[i];
				break;
			}
		if (c == NULL) {
			log_warnx("control: too many connections, refusing");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->buf = NULL;
		c->deadline = pa_now_ms() + SVC_CONN_TIMEOUT_MS;
		if (svc_ctl_peer(fd, d->cfg.admin_gid, &c->peer) != 0) {
			close(fd);
			c->fd = -1;
			continue;
		}
		/* Callers who will be refused cannot crowd admins out. */
		if (!c->peer.admin && nonadmin_conns(d) > SVC_MAX_NONADMIN) {
			svc_audit_ctl(d, AUDIT_CTL_DENIED, c->peer.uid,
			    "(too many connections)", NULL);
			close(fd);
			c->fd = -1;
			continue;
		}
		if (ep_add(d, fd, EPOLLIN, EV_TAG(EV_CONN, i)) != 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

static void
on_signal(struct svc_daemon *d)
{
	struct signalfd_siginfo si;
	char eb[1024];

	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: stopping", (int)si.ssi_signo);
			svc_request_stop(d, si.ssi_signo == SIGTERM ?
			    "service stopped (SIGTERM)" :
			    "service stopped (SIGINT)", false);
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading");
			(void)svc_reload(d, eb, sizeof(eb));
			break;
		default:
			break;
		}
	}
}

static int
min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void
run_loop(struct svc_daemon *d)
{
	struct epoll_event evs[32];
	uint64_t now;
	size_t i;
	int n, k, t;

	while (!d->done) {
		now = pa_now_ms();
		t = min_timeout(agent_next_timeout_ms(d->agent, now),
		    audit_next_timeout_ms(d->audit, now));
		for (i = 0; i < SVC_MAX_CONNS; i++)
			if (d->conns[i].fd >= 0)
				t = min_timeout(t, d->conns[i].deadline > now ?
				    (int)(d->conns[i].deadline - now) : 0);
		t = min_timeout(t, svc_sinks_next_ms(d->sinks));
		t = min_timeout(t, svc_metrics_tick(d, now));
		if (d->watchdog_ms != 0)
			t = min_timeout(t, d->watchdog_next > now ?
			    (int)(d->watchdog_next - now) : 0);
		n = epoll_wait(d->ep, evs, 32, t);
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			d->exit_code = 1;
			break;
		}
		for (k = 0; k < n; k++) {
			uint32_t kind = (uint32_t)(evs[k].data.u64 >> 32);
			uint32_t v = (uint32_t)evs[k].data.u64;

			switch (kind) {
			case EV_LISTEN:
				conn_accept(d);
				break;
			case EV_CONN:
				if (v < SVC_MAX_CONNS && d->conns[v].fd >= 0)
					conn_read(d, &d->conns[v]);
				break;
			case EV_SIGNAL:
				on_signal(d);
				break;
			case EV_AGENT:
				agent_dispatch(d->agent, (int)v);
				break;
			default:
				break;
			}
		}
		now = pa_now_ms();
		if (agent_next_timeout_ms(d->agent, now) == 0)
			agent_run_timers(d->agent, now);
		agent_fds_refresh(d);
		audit_tick(d->audit, now);
		svc_sinks_tick(d->sinks);
		for (i = 0; i < SVC_MAX_CONNS; i++)
			if (d->conns[i].fd >= 0 && d->conns[i].deadline <= now) {
				if (d->conns[i].draining)
					conn_close(d, &d->conns[i]);
				else
					conn_reply(d, &d->conns[i],
					    svc_reply_error("timeout", "request "
					    "not received in time"));
			}
		if (d->watchdog_ms != 0 && now >= d->watchdog_next) {
			(void)sd_notify(0, "WATCHDOG=1");
			d->watchdog_next = now + d->watchdog_ms;
		}
		if (d->state == SVC_STOP_PENDING)
			stop_sequence(d);
	}
}

/* The signals that stop or reload the service. */
static void
svc_stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
}

static int
setup(struct svc_daemon *d, char *eb, size_t ec)
{
	struct svc_sinks_cfg sc;
	char seal_file[SVC_PATH_MAX + 16];
	struct agent_cfg ac;
	struct pol_err perr;
	sigset_t mask;
	uint64_t usec = 0;
	int rc;

	memset(&perr, 0, sizeof(perr));
	memset(&sc, 0, sizeof(sc));	/* sc.clock: NULL = the system's */
	if ((d->audit = audit_new()) == NULL)
		return PA_E_NOMEM;
	if (d->cfg.audit_file[0] != '\0' &&
	    svc_mkdir_parent(d->cfg.audit_file) != 0) {
		snprintf(eb, ec, "audit_file %s: %s", d->cfg.audit_file,
		    strerror(errno));
		return PA_E_SYS;
	}
	sc.kind = d->cfg.audit_sink;
	sc.file = d->cfg.audit_file;
	sc.rotate_size = d->cfg.audit_rotate_size;
	sc.keep = d->cfg.audit_rotate_keep;
	snprintf(seal_file, sizeof(seal_file), "%s/%s", d->cfg.state_dir,
	    SVC_SEAL_FILE);
	sc.seal_file = seal_file;
	if ((rc = svc_sinks_new(&sc, &d->sinks, eb, ec)) != 0)
		return rc;
	audit_set_sink(d->audit, svc_sinks_emit, d->sinks);
	if (d->cfg.oakley_log && svc_oakley_set(d, true) != 0) {
		snprintf(eb, ec, "oakley_log_path %s: %s",
		    d->cfg.oakley_log_path, strerror(errno));
		return PA_E_SYS;
	}
	ac = agent_cfg_of(d);
	if (d->cfg.policy_source == AGENT_SRC_DIRECTORY) {
		struct svc_dir_setup ds;

		if ((rc = svc_dir_setup(&d->cfg, &ds, eb, ec)) != 0) {
			pa_secret_free(ds.pw);
			return rc;
		}
		ac.dir = &ds.cfg;
		rc = agent_new(&ac, &d->agent, &perr);
		pa_secret_free(ds.pw);	/* copied by the agent */
		ac.dir = NULL;
	} else
		rc = agent_new(&ac, &d->agent, &perr);
	if (rc != 0 || (rc = agent_start(d->agent, &perr)) != 0) {
		snprintf(eb, ec, "%s: %s", perr.where, perr.what);
		if (d->agent == NULL) {
			struct audit_field f[1] = { { "Reason", eb } };

			audit_emit(d->audit, AUDIT_PA_FAILURE, f, 1);
		}
		return rc;
	}
	/* Admin group members must be able to reach the socket. */
	if (svc_mkdir_parent_mode(d->cfg.control_socket, 0755) != 0) {
		snprintf(eb, ec, "control_socket %s: %s",
		    d->cfg.control_socket, strerror(errno));
		return PA_E_SYS;
	}
	if ((rc = svc_ctl_listen(d->cfg.control_socket, d->cfg.admin_gid,
	    d->cfg.control_mode, &d->listen_fd)) != 0) {
		snprintf(eb, ec, "control_socket %s: %s",
		    d->cfg.control_socket, rc == PA_E_EXIST ?
		    "another daemon answers on it" : strerror(errno));
		return rc;
	}
	/* Blocked since svc_daemon_main() began: one sent while starting
	 * is pending and read from the signalfd once running. */
	svc_stop_signals(&mask);
	signal(SIGPIPE, SIG_IGN);
	if ((d->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (d->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(eb, ec, "signalfd/epoll: %s", strerror(errno));
		return PA_E_SYS;
	}
	if (ep_add(d, d->listen_fd, EPOLLIN, EV_TAG(EV_LISTEN, 0)) != 0 ||
	    ep_add(d, d->sig_fd, EPOLLIN, EV_TAG(EV_SIGNAL, 0)) != 0) {
		snprintf(eb, ec, "epoll: %s", strerror(errno));
		return PA_E_SYS;
	}
	agent_fds_register(d);
	if (d->cfg.drop_privileges && geteuid() == 0 &&
	    svc_privs_drop() != 0) {
		snprintf(eb, ec, "dropping privileges: %s", strerror(errno));
		return PA_E_SYS;
	}
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		d->watchdog_ms = usec / 2000;	/* half the period */
		if (d->watchdog_ms == 0)
			d->watchdog_ms = 1;
		d->watchdog_next = pa_now_ms();
	}
	return 0;
}

static void
teardown(struct svc_daemon *d)
{
	size_t i;

	for (i = 0; i < SVC_MAX_CONNS; i++)
		conn_close(d, &d->conns[i]);
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	agent_free(d->agent);
	audit_flush(d->audit);
	if (d->olog != NULL)
		fclose(d->olog);
	audit_free(d->audit);
	svc_sinks_free(d->sinks);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->ep >= 0)
		close(d->ep);
	/* Last: once the socket is gone, everything is flushed. */
	if (d->listen_fd >= 0)
		(void)unlink(d->cfg.control_socket);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

/*
 * Daemon mode: the parent waits on a pipe until the child is RUNNING (or
 * has failed, with the reason), so "ipsec-agentd" returns only once the
 * control socket answers.
 */
static int
daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char buf[1024];
	ssize_t n;
	size_t len = 0;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		while (len < sizeof(buf) - 1 &&
		    (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			len += (size_t)n;
		}
		buf[len] = '\0';
		if (len > 0 && buf[0] == 'R')
			_exit(0);
		fprintf(stderr, "ipsec-agentd: %s\n", len > 1 ? buf + 1 :
		    "failed to start");
		_exit(1);
	}
	close(p[0]);
	(void)setsid();
	*ready_fd = p[1];
	return 0;
}

static void
ready_report(int *fd, const char *msg)
{
	if (*fd < 0)
		return;
	(void)!write(*fd, msg, strlen(msg));
	close(*fd);
	*fd = -1;
}

static void
null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

int
svc_daemon_main(const struct svc_opts *opts)
{
	struct svc_daemon *d;
	char eb[10000], msg[10010];
	int ready_fd = -1, rc, code = 1;
	sigset_t sigs, oldsigs;
	size_t i;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return 1;
	d->opts = *opts;
	d->config_path = opts->config_path != NULL ? opts->config_path :
	    SVC_CONFIG_DEFAULT;
	d->ep = d->lock_fd = d->listen_fd = d->sig_fd = -1;
	for (i = 0; i < SVC_MAX_CONNS; i++)
		d->conns[i].fd = -1;
	log_init("ipsec-agentd", PA_LOG_INFO);
	/*
	 * Block SIGTERM/SIGINT/SIGHUP before anything else: systemd may stop
	 * the unit while it starts, and such a signal must run the stop
	 * sequence once the service is up rather than kill it half set up
	 * (filters installed, no fail-closed stop, no audit). The mask is
	 * inherited through daemonize(); setup() reads them by signalfd.
	 */
	svc_stop_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, &oldsigs);
	if (svc_load_config(d, &d->cfg, eb, sizeof(eb)) != 0) {
		fprintf(stderr, "ipsec-agentd: %s\n", eb);
		goto out;
	}
	if (opts->check_only || opts->clear_only)	/* no stop sequence */
		sigprocmask(SIG_SETMASK, &oldsigs, NULL);
	if (opts->check_only) {
		printf("%s: configuration OK\n", d->config_path);
		code = 0;
		goto out;
	}
	log_set_level((enum pa_log_level)d->cfg.log_level);
	if (take_lock(d, eb, sizeof(eb)) != 0) {
		fprintf(stderr, "ipsec-agentd: %s%s\n", eb, opts->clear_only ?
		    " (to stop it in clear: ipseccmd service stop clear)" : "");
		goto out;
	}
	if (opts->clear_only) {
		struct pol_err perr;
		char found[512];

		memset(&perr, 0, sizeof(perr));
		if (agent_clear_state(d->cfg.driver, found, sizeof(found),
		    &perr) != 0) {
			fprintf(stderr, "ipsec-agentd: --clear: %s: %s\n",
			    perr.where, perr.what);
			goto out;
		}
		printf("%s: %s\n", d->cfg.driver, found[0] != '\0' ? found :
		    "nothing was left");
		if (found[0] != '\0')
			printf("removed: traffic flows in clear\n");
		code = 0;
		goto out;
	}
	if (!opts->foreground) {
		if (daemonize(&ready_fd) != 0) {
			fprintf(stderr, "ipsec-agentd: fork: %s\n",
			    strerror(errno));
			goto out;
		}
		log_open_syslog();
	}
	write_pid(d);
	d->start_ms = pa_now_ms();
	d->start_wall = pa_wall_s();
	svc_set_state(d, SVC_START_PENDING);
	if ((rc = setup(d, eb, sizeof(eb))) != 0) {
		log_warnx("start failed: %s", eb);
		snprintf(msg, sizeof(msg), "E%s", eb);
		ready_report(&ready_fd, msg);
		if (opts->foreground)
			fprintf(stderr, "ipsec-agentd: %s\n", eb);
		svc_set_state(d, SVC_STOPPED);
		goto out;
	}
	svc_set_state(d, SVC_RUNNING);
	(void)sd_notify(0, "READY=1");
	log_info("running: driver %s, policy source %s, control socket %s",
	    d->cfg.driver, d->cfg.policy_source == AGENT_SRC_LOCAL ?
	    "local" : "directory", d->cfg.control_socket);
	if (ready_fd >= 0) {
		ready_report(&ready_fd, "R");
		null_stdio();
	}
	run_loop(d);
	svc_metrics_remove(d);
	code = d->exit_code;
out:
	teardown(d);
	if (ready_fd >= 0)
		ready_report(&ready_fd, "Estartup failed");
	free(d);
	return code;
}
