/*
 * Change notification for the directory policy source. See dir_watch.h.
 *
 * The thread: connect and bind (the poll's settings, servers by DNS SRV
 * when configured so), ask the root DSE which mechanism the server offers,
 * start one persistent search per target (AD: at most 5 per connection,
 * so one more connection per 5 targets), then wait on the connections and
 * on a wake-up eventfd. A notification opens a settle window; when it
 * closes (quiet or max), the agent's eventfd is written. A lost connection
 * or a search the server ended closes them all; the next attempt waits
 * the back-off. New targets (after a poll) rebuild the searches at once.
 *
 * Lifetime: the agent and the thread each hold a reference; the last one
 * frees. Stop never waits for the thread (it may be inside a connect or a
 * bind, each bounded by the directory timeout).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dir.h"
#include "dir_conn.h"
#include "dir_watch.h"
#include "pa_log.h"
#include "pa_time.h"
#include "srv.h"

#define WATCH_MAX_CONNS		8	/* 40 targets on AD */
#define WATCH_AD_PER_CONN	4	/* AD allows 5 notification searches per
				   connection; Samba 4.17 refuses the 5th
				   (MaxNotificationPerConn reached) */
#define WATCH_BACKOFF_MAX	166	/* units, as the poll's back-off */

enum watch_state {
	W_IDLE = 0, W_CONNECTING, W_ACTIVE, W_RECONNECTING, W_UNSUPPORTED
};

struct pol_dir_watch {
	pthread_mutex_t		 mu;
	pthread_cond_t		 ended_cv;
	/* Under mu. */
	int			 refs;
	bool			 stop;
	bool			 ended;		/* the thread is leaving */
	struct pol_dir_target	*tg;
	size_t			 ntg;
	uint64_t		 gen;		/* bumped when tg changes */
	enum watch_state	 state;
	enum dir_notify_mech	 mech;
	bool			 connect_poll;	/* the poll asked follows a
						   (re)connect */
	/* Set at creation. */
	int			 wake_fd;	/* agent -> thread */
	int			 sig_fd;	/* thread -> agent: poll now */
	struct pol_dir_conn	 conn;
	uint32_t		 quiet_ms, max_ms;
	uint64_t		 unit_ms;
};

/* The thread's own state. */
struct watch_run {
	struct dir		*c[WATCH_MAX_CONNS];
	size_t			 nc;
	uint64_t		 gen;		/* of the targets in use */
	uint64_t		 up_at;		/* when connected (ms) */
	uint64_t		 retry_at;	/* next attempt (ms), 0 = now */
	uint32_t		 backoff;	/* units */
	bool			 pending;	/* a poll to ask for */
	bool			 connected;	/* ... after a (re)connect */
	bool			 notified;	/* ... after a change notified */
	uint64_t		 first, last;	/* of the pending changes */
};

static void
targets_free(struct pol_dir_target *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i].dn);
	free(t);
}

static int
targets_copy(const struct pol_dir_target *t, size_t n,
    struct pol_dir_target **out)
{
	struct pol_dir_target *v;
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < n; i++) {
		v[i].one_level = t[i].one_level;
		if ((v[i].dn = strdup(t[i].dn)) == NULL) {
			targets_free(v, n);
			return PA_E_NOMEM;
		}
	}
	*out = v;
	return 0;
}

static void
watch_destroy(struct pol_dir_watch *w)
{
	pol_dir_conn_clear(&w->conn);
	targets_free(w->tg, w->ntg);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	if (w->sig_fd >= 0)
		close(w->sig_fd);
	pthread_cond_destroy(&w->ended_cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Drop one reference (under no lock); the last one frees. */
static void
watch_unref(struct pol_dir_watch *w)
{
	int left;

	pthread_mutex_lock(&w->mu);
	left = --w->refs;
	pthread_mutex_unlock(&w->mu);
	if (left == 0)
		watch_destroy(w);
}

static void
set_state(struct pol_dir_watch *w, enum watch_state s,
    enum dir_notify_mech m)
{
	pthread_mutex_lock(&w->mu);
	w->state = s;
	w->mech = m;
	pthread_mutex_unlock(&w->mu);
}

static void
run_close(struct watch_run *r)
{
	size_t i;

	for (i = 0; i < r->nc; i++)
		dir_close(r->c[i]);
	r->nc = 0;
}

/* A change (or a (re)connection): a poll is due once things settle. */
static void
note_change(struct watch_run *r, uint64_t now)
{
	if (!r->pending)
		r->first = now;
	r->pending = true;
	r->last = now;
}

static uint64_t
settle_at(const struct pol_dir_watch *w, const struct watch_run *r)
{
	uint64_t q = r->last + w->quiet_ms, m = r->first + w->max_ms;

	return q < m ? q : m;
}

/* The next attempt after a failure: 1, 4, 25, 166, 166... units. */
static void
run_backoff(struct pol_dir_watch *w, struct watch_run *r, uint64_t now)
{
	uint32_t b = (r->backoff + 1) * (r->backoff + 1);

	r->backoff = b > WATCH_BACKOFF_MAX ? WATCH_BACKOFF_MAX : b;
	r->retry_at = now + r->backoff * w->unit_ms;
}

/*
 * Connect and start the searches on the targets t (n of them). 0 and
 * r->nc > 0 when watching; PA_E_NOTSUP when the server offers no
 * mechanism; another error when it could not be reached or refused.
 */
static int
run_connect(struct pol_dir_watch *w, struct watch_run *r,
    const struct pol_dir_target *t, size_t n, enum dir_notify_mech *mech)
{
	char srv[DIR_SRV_MAX][DIR_SRV_URI], err[1024];
	const char *ptrs[DIR_SRV_MAX], *first[1];
	struct dir_cfg cfg;
	size_t per, i, k;
	int rc;

	*mech = DIR_NOTIFY_NONE;
	if ((rc = pol_dir_conn_now(&w->conn, &cfg, srv, ptrs, err,
	    sizeof(err))) != 0) {
		log_warnx("directory notification: %s", err);
		return rc;
	}
	if ((rc = dir_open(&cfg, &r->c[0], err, sizeof(err))) != 0) {
		log_warnx("directory notification: %s", err);
		return rc;
	}
	r->nc = 1;
	if ((rc = dir_notify_mech(r->c[0], mech)) != 0) {
		log_warnx("directory notification: root DSE: %s",
		    dir_error(r->c[0]));
		return rc;
	}
	if (*mech == DIR_NOTIFY_NONE)
		return PA_E_NOTSUP;
	per = *mech == DIR_NOTIFY_AD ? WATCH_AD_PER_CONN : n;
	if (n > per * WATCH_MAX_CONNS) {
		log_warnx("directory notification: %zu objects to watch, "
		    "watching the first %zu (polls cover the rest)", n,
		    per * WATCH_MAX_CONNS);
		n = per * WATCH_MAX_CONNS;
	}
	for (i = 0; i < n; i++) {
		k = i / per;
		if (k >= r->nc) {
			/* Same server as the first connection. */
			first[0] = dir_uri(r->c[0]);
			cfg.uris = first;
			cfg.nuris = 1;
			if ((rc = dir_open(&cfg, &r->c[k], err,
			    sizeof(err))) != 0) {
				log_warnx("directory notification: %s", err);
				return rc;
			}
			r->nc++;
		}
		if ((rc = dir_notify_add(r->c[k], *mech, t[i].dn,
		    t[i].one_level ? DIR_SCOPE_ONE : DIR_SCOPE_BASE)) != 0) {
			log_warnx("directory notification: %s",
			    dir_error(r->c[k]));
			return rc;
		}
	}
	log_info("directory notification: %s on %s, %zu object%s watched",
	    dir_notify_name(*mech), dir_uri(r->c[0]), n, n == 1 ? "" : "s");
	return 0;
}

/* Not connected and due: try. */
static void
run_attempt(struct pol_dir_watch *w, struct watch_run *r, uint64_t gen,
    const struct pol_dir_target *t, size_t n)
{
	enum dir_notify_mech mech;
	uint64_t now;
	int rc;

	rc = run_connect(w, r, t, n, &mech);
	now = pa_now_ms();
	r->gen = gen;
	if (rc == 0) {
		set_state(w, W_ACTIVE, mech);
		r->up_at = now;
		note_change(r, now);	/* a full poll after every connect */
		r->connected = true;
		return;
	}
	run_close(r);
	if (rc == PA_E_NOTSUP) {
		log_info("directory notification: the server offers neither "
		    "RFC 4533 nor AD change notification: polling only");
		set_state(w, W_UNSUPPORTED, DIR_NOTIFY_NONE);
		r->backoff = WATCH_BACKOFF_MAX;
		r->retry_at = now + r->backoff * w->unit_ms;
		return;
	}
	set_state(w, W_RECONNECTING, DIR_NOTIFY_NONE);
	run_backoff(w, r, now);
}

/* Read every connection that poll() marked; false when one is lost. */
static bool
run_read(struct watch_run *r, const struct pollfd *pf)
{
	unsigned changes = 0;
	size_t i;
	int rc;

	for (i = 0; i < r->nc; i++) {
		if (pf[i].revents == 0)
			continue;
		if ((rc = dir_notify_read(r->c[i], &changes)) != 0) {
			log_warnx("directory notification: %s",
			    dir_error(r->c[i]));
			return false;
		}
	}
	if (changes > 0) {
		log_debug("%s: %u change%s notified", __func__, changes,
		    changes == 1 ? "" : "s");
		note_change(r, pa_now_ms());
		r->notified = true;
	}
	return true;
}

static void *
watch_thread(void *arg)
{
	struct pol_dir_watch *w = arg;
	struct pollfd pf[WATCH_MAX_CONNS + 1];
	struct pol_dir_target *t = NULL;
	struct watch_run r;
	uint64_t gen, now, due, v, one = 1;
	size_t n = 0, i;
	int tmo, left;

	memset(&r, 0, sizeof(r));
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		gen = w->gen;
		if (gen != r.gen || (t == NULL && w->ntg > 0)) {
			targets_free(t, n);
			t = NULL;
			n = 0;
			if (targets_copy(w->tg, w->ntg, &t) == 0)
				n = w->ntg;
		}
		pthread_mutex_unlock(&w->mu);
		now = pa_now_ms();
		if (r.nc > 0 && gen != r.gen) {
			run_close(&r);		/* new targets: rebuild now */
			r.retry_at = 0;
			r.backoff = 0;
		}
		if (r.nc == 0 && n > 0 && now >= r.retry_at) {
			set_state(w, W_CONNECTING, DIR_NOTIFY_NONE);
			run_attempt(w, &r, gen, t, n);
			continue;	/* stop or new targets meanwhile? */
		}
		if (r.pending && now >= settle_at(w, &r)) {
			pthread_mutex_lock(&w->mu);
			if (!w->stop) {
				/* A change notified wins: the server may end
				 * a search after it (and the watch reconnects
				 * within the same settle window). */
				w->connect_poll = r.connected && !r.notified;
				(void)!write(w->sig_fd, &one, sizeof(one));
			}
			pthread_mutex_unlock(&w->mu);
			r.pending = false;
			r.connected = false;
			r.notified = false;
		}
		/* Wait: changes, the wake-up, the settle window, a retry. */
		due = UINT64_MAX;
		if (r.pending)
			due = settle_at(w, &r);
		if (r.nc == 0 && n > 0 && r.retry_at < due)
			due = r.retry_at;
		tmo = due == UINT64_MAX ? -1 : due <= now ? 0 :
		    due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
		for (i = 0; i < r.nc; i++) {
			pf[i].fd = -1;
			if (dir_fd(r.c[i], &pf[i].fd) != 0)
				pf[i].fd = -1;
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		pf[r.nc].fd = w->wake_fd;
		pf[r.nc].events = POLLIN;
		pf[r.nc].revents = 0;
		if (poll(pf, r.nc + 1, tmo) < 0 && errno != EINTR) {
			log_warn("directory notification: poll");
			break;
		}
		if (pf[r.nc].revents != 0)
			(void)!read(w->wake_fd, &v, sizeof(v));
		if (r.nc > 0 && !run_read(&r, pf)) {
			now = pa_now_ms();
			run_close(&r);
			if (now - r.up_at >= w->unit_ms)
				r.backoff = 0;	/* it was up a while */
			set_state(w, W_RECONNECTING, DIR_NOTIFY_NONE);
			run_backoff(w, &r, now);
		}
	}
	run_close(&r);
	targets_free(t, n);
	/* Drop the thread's reference and say so, in one step: a stop that
	 * waits then frees everything itself. */
	pthread_mutex_lock(&w->mu);
	w->ended = true;
	left = --w->refs;
	pthread_cond_signal(&w->ended_cv);
	pthread_mutex_unlock(&w->mu);
	if (left == 0)
		watch_destroy(w);
	return NULL;
}

int
pol_dir_watch_new(const struct pol_dir_watch_cfg *cfg,
    struct pol_dir_watch **out)
{
	struct pol_dir_watch *w;
	pthread_t thr;
	int rc = PA_E_NOMEM;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PA_E_NOMEM;
	w->wake_fd = w->sig_fd = -1;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		return PA_E_NOMEM;
	}
	if (pthread_cond_init(&w->ended_cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		free(w);
		return PA_E_NOMEM;
	}
	if (pol_dir_conn_copy(cfg->dir, &w->conn) != 0)
		goto fail;
	w->quiet_ms = cfg->quiet_ms ? cfg->quiet_ms : 1500;
	w->max_ms = cfg->max_ms ? cfg->max_ms : 10000;
	if (w->max_ms < w->quiet_ms)
		w->max_ms = w->quiet_ms;
	w->unit_ms = (uint64_t)(cfg->dir->backoff_unit_sec ?
	    cfg->dir->backoff_unit_sec : 60) * 1000;
	if ((w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (w->sig_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		rc = PA_E_SYS;
		goto fail;
	}
	w->refs = 2;
	if (pthread_create(&thr, NULL, watch_thread, w) != 0) {
		rc = PA_E_SYS;
		goto fail;
	}
	(void)pthread_detach(thr);
	*out = w;
	return 0;
fail:
	watch_destroy(w);
	return rc;
}

void
pol_dir_watch_free(struct pol_dir_watch *w)
{
	struct timespec until;
	uint64_t one = 1;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	(void)!write(w->wake_fd, &one, sizeof(one));
	/* A thread waiting on poll() leaves at once: let it, for at most
	 * 100 ms. One inside a connect or bind is left to end on its own. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 100 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!w->ended && pthread_cond_timedwait(&w->ended_cv, &w->mu,
	    &until) == 0)
		;
	pthread_mutex_unlock(&w->mu);
	watch_unref(w);
}

static bool
targets_same(const struct pol_dir_target *a, size_t na,
    const struct pol_dir_target *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].one_level != b[i].one_level ||
		    strcmp(a[i].dn, b[i].dn) != 0)
			return false;
	return true;
}

void
pol_dir_watch_update(struct pol_dir_watch *w,
    const struct pol_dir_source *src)
{
	const struct pol_dir_target *t;
	struct pol_dir_target *copy = NULL;
	uint64_t one = 1;
	size_t n;

	if (w == NULL || src == NULL)
		return;
	t = pol_dir_targets(src, &n);
	pthread_mutex_lock(&w->mu);
	if (!targets_same(w->tg, w->ntg, t, n) &&
	    targets_copy(t, n, &copy) == 0) {
		targets_free(w->tg, w->ntg);
		w->tg = copy;
		w->ntg = n;
		w->gen++;
		(void)!write(w->wake_fd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&w->mu);
}

int
pol_dir_watch_fd(const struct pol_dir_watch *w)
{
	return w->sig_fd;
}

bool
pol_dir_watch_ack(struct pol_dir_watch *w)
{
	uint64_t v;
	bool c;

	(void)!read(w->sig_fd, &v, sizeof(v));
	pthread_mutex_lock(&w->mu);
	c = w->connect_poll;
	w->connect_poll = false;
	pthread_mutex_unlock(&w->mu);
	return c;
}

const char *
pol_dir_watch_state(struct pol_dir_watch *w)
{
	enum watch_state s;
	enum dir_notify_mech m;

	pthread_mutex_lock(&w->mu);
	s = w->state;
	m = w->mech;
	pthread_mutex_unlock(&w->mu);
	switch (s) {
	case W_ACTIVE:
		return dir_notify_name(m);
	case W_CONNECTING:
		return "connecting";
	case W_RECONNECTING:
		return "reconnecting";
	case W_UNSUPPORTED:
		return "unsupported";
	case W_IDLE:
		break;
	}
	return "idle";
}
