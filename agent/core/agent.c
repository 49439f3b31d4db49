/*
 * The agent core: policy set -> SPD -> driver (as a difference), IKE,
 * pause/stop semantics, statistics. See agent.h.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_int.h"
#include "audit.h"
#include "crl.h"
#include "dir_source.h"
#include "dir_watch.h"
#include "pa_log.h"
#include "pa_time.h"
#include "store_xml.h"


/* One filter this agent installed in the driver. */
struct applied {
	struct spd_id		id;
	struct spd_params	params;
};

/* A policy set: a store and its SPD (the SPD borrows the store). */
struct polset {
	struct pol_store	*store;
	const struct pol_policy	*policy;	/* assigned, or NULL */
	struct pol_spd		*spd;
	const char		*source;	/* static text */
};

struct agent {
	struct agent_cfg	 cfg;
	char			*driver_name;
	char			*store_path;
	char			*secrets_path;
	const struct driver_ops	*ops;
	struct driver		*drv;
	struct ike		*ike;
	struct pki_crl		*pki;		/* CRL fetching, or NULL */
	struct agent_crl_dir	*crl_dir;	/* ldap:// CRL reader, or NULL */
	/* Certificate-to-account mapping: its settings until IKE starts,
	 * then its worker (certmap.c); NULL without a directory. */
	struct agent_crl_dir	*map_dir;
	struct agent_certmap	*certmap;
	bool			 started;
	bool			 stopped;
	bool			 paused;
	bool			 pending;	/* queued change while paused */
	struct polset		 cur;		/* in force */
	struct polset		 next;		/* queued (paused) */
	struct polset		 dyn;		/* dynamic rules */
	struct pol_spd		*spd;		/* cur + dyn, in the driver */
	struct agent_dyn_rule	*rules;
	size_t			 nrules;
	struct applied		*applied;
	size_t			 napplied;
	uint32_t		 next_index;
	uint64_t		 generation;
	int64_t			 applied_at;	/* wall clock of the last apply */
	struct agent_stats	 st;
	/* Directory source. */
	struct pol_dir_source	*dir;
	struct pol_store	*domain;	/* domain policy in force, or NULL */
	bool			 domain_cached;
	uint64_t		 dir_next_ms;	/* monotonic; 0 = now */
	struct pol_dir_status	 dir_st;
	bool			 dir_polled;
	int64_t			 dir_polled_at;	/* epoch s; see agent_info */
	int64_t			 dir_ok_at;
	int64_t			 dir_changed_at;
	/*
	 * Polls after the first run on a thread of their own, so that an
	 * unreachable directory (each LDAP and DNS call may wait its
	 * timeout) never stalls IKE, the driver or the control socket. The
	 * thread owns dir while dir_busy; its result waits in dir_job until
	 * the loop reads dir_evfd. Stop does not wait for a poll under way
	 * (it may wait out DNS and LDAP timeouts, longer than stop_timeout):
	 * the job is abandoned, and its thread frees dir and dir_evfd.
	 */
	bool			 dir_busy;
	bool			 dir_again;	/* a reload asked meanwhile */
	int			 dir_evfd;	/* -1 until the first poll */
	pthread_t		 dir_thr;
	struct dir_job {
		pthread_mutex_t		 mu;
		bool			 done;	/* under mu */
		bool			 abandoned;	/* under mu */
		struct pol_dir_source	*dir;
		struct pol_store	*st;
		struct pol_dir_status	 status;
		int			 rc;
		int			 evfd;
	}			*dir_job;	/* while dir_busy */
	/* Change notification (dir_watch.h): asks for polls; NULL = off. */
	struct pol_dir_watch	*watch;
	/* Why polls run (agent_info dir_cause): the next one's, the one
	 * under way's, the last one's: "start", "scheduled", "reload",
	 * "notify" (a change notified), "connect" (the watch (re)connected). */
	const char		*cause_next, *cause_run, *cause_last;
	/* "My IP address": recompiled when this host's addresses change. */
	int			 addr_fd;	/* rtnetlink address events, or -1 */
	uint64_t		 addr_due_ms;	/* 0 = nothing pending */
	struct pa_addr		*addrs;		/* the set last compiled with */
	size_t			 naddrs;
};

#define AGENT_ADDR_SETTLE_MS	300	/* let a burst of changes settle */

static void	dir_poll(struct agent *);
static void	dir_join(struct agent *, bool apply);
static void	dir_abandon(struct agent *);
static void
set_err(struct pol_err *err, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(struct pol_err *err, const char *where, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	snprintf(err->where, sizeof(err->where), "%s", where);
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
}

static void
polset_clear(struct polset *ps)
{
	pol_spd_free(ps->spd);
	pol_store_free(ps->store);
	memset(ps, 0, sizeof(*ps));
}

static void
emit1(struct agent *a, enum audit_event ev, const char *k, const char *v)
{
	struct audit_field f[1] = { { k, v } };

	audit_emit(a->cfg.audit, ev, f, 1);
}

static void
emit_failure(struct agent *a, const struct pol_err *err)
{
	char reason[1100];

	snprintf(reason, sizeof(reason), "%s: %s", err->where, err->what);
	emit1(a, AUDIT_PA_FAILURE, "Reason", reason);
}

static int
compile(struct polset *ps, struct pol_err *err)
{
	struct pa_addr *me = NULL;
	size_t nme = 0;
	int rc;

	ps->policy = ps->store != NULL ? pol_store_assigned(ps->store) : NULL;
	if (ps->policy == NULL)
		return 0;	/* nothing assigned: an empty SPD */
	if (pol_local_addrs(&me, &nme) != 0)
		nme = 0;	/* no address: "me" filters expand to nothing */
	rc = pol_spd_compile(ps->policy, me, nme, &ps->spd, err);
	free(me);
	return rc;
}

/* The SPD of policy + dynamic rules, as installed. */
static int
compile_set(const struct polset *c, const struct polset *d,
    struct pol_spd **out, struct pol_err *err)
{
	struct pa_addr *me = NULL;
	size_t nme = 0;
	int rc;

	*out = NULL;
	if (c->policy == NULL && d->policy == NULL)
		return 0;	/* nothing assigned: an empty SPD */
	if (pol_local_addrs(&me, &nme) != 0)
		nme = 0;
	rc = pol_spd_compile_set(c->policy, d->policy, me, nme, out, err);
	free(me);
	return rc;
}

/* Read the configured source into ps (not applied). */
/* The local store, or the embedded default if the file does not exist. */
static int
load_local(struct agent *a, struct polset *ps, struct pol_err *err)
{
	struct stat sb;
	int rc;

	if (a->store_path == NULL ||
	    (stat(a->store_path, &sb) != 0 && errno == ENOENT)) {
		rc = pol_store_builtin(&ps->store, err);
		ps->source = "local (embedded default)";
	} else {
		rc = pol_store_load_xml(a->store_path, a->secrets_path,
		    &ps->store, err);
		ps->source = "local";
		/*
		 * DNS filters: resolve again at each load; a name that does
		 * not resolve now keeps the addresses stored with it.
		 */
		if (rc == 0) {
			struct pol_err derr;

			if (pol_store_resolve_names(ps->store, &derr) != 0)
				log_warnx("%s: %s (keeping the stored addresses)",
				    derr.where, derr.what);
		}
	}
	return rc;
}

/* The effective policy into ps (not applied): domain > local. */
static int
load_source(struct agent *a, struct polset *ps, struct pol_err *err)
{
	int rc;

	memset(ps, 0, sizeof(*ps));
	if (a->domain != NULL) {
		if ((ps->store = pol_store_dup(a->domain)) == NULL) {
			set_err(err, "directory", "out of memory");
			return PA_E_NOMEM;
		}
		ps->source = a->domain_cached ? "directory (cached copy)" :
		    "directory";
		rc = 0;
	} else {
		rc = load_local(a, ps, err);
		if (a->cfg.source == AGENT_SRC_DIRECTORY && rc == 0)
			ps->source = "local (no domain policy)";
	}
	if (rc == 0)
		rc = pol_store_resolve(ps->store, err);
	if (rc == 0)
		rc = compile(ps, err);
	if (rc != 0)
		polset_clear(ps);
	return rc;
}

static enum drv_action
drv_action(enum pol_action act)
{
	switch (act) {
	case POL_ACT_PERMIT:
		return DRV_ACT_PERMIT;
	case POL_ACT_BLOCK:
		return DRV_ACT_BLOCK;
	default:
		return DRV_ACT_PROTECT;
	}
}

static void
entry_params(const struct pol_spd_entry *e, uint32_t prio,
    struct spd_params *p)
{
	memset(p, 0, sizeof(*p));	/* compared with memcmp */
	p->sel.src = e->src;
	p->sel.dst = e->dst;
	p->sel.proto = e->proto;
	p->sel.sport = e->sport;
	p->sel.dport = e->dport;
	p->action = drv_action(e->action);
	p->priority = prio;
	p->inpass = e->inpass;
	if (p->action != DRV_ACT_PROTECT)
		return;
	p->mode = pa_addr_is_unset(&e->tunnel) ? DRV_MODE_TRANSPORT :
	    DRV_MODE_TUNNEL;
	if (p->mode == DRV_MODE_TUNNEL && e->dir == POL_DIR_OUT)
		p->tunnel_dst = e->tunnel;
	else if (p->mode == DRV_MODE_TUNNEL)
		p->tunnel_src = e->tunnel;
	/*
	 * The offers are alternatives: the filter's template is the first
	 * one (what we propose first), only to hold packets and raise the
	 * acquire. Its reqid 0 is no SA's: the bundle Quick Mode negotiated
	 * is enforced by the SA entry IKE installs ahead of this filter.
	 */
	if (e->filteraction != NULL && e->filteraction->noffers > 0) {
		p->want_ah = e->filteraction->offers[0].ah;
		p->want_esp = e->filteraction->offers[0].esp;
	}
	if (!p->want_ah && !p->want_esp)
		p->want_esp = true;
}

static void
push_spd(const struct pol_spd *spd, struct applied *v, size_t *n)
{
	size_t i, cnt = spd != NULL ? pol_spd_count(spd) : 0;

	for (i = 0; i < cnt; i++) {
		const struct pol_spd_entry *e = pol_spd_entry_at(spd, i);

		entry_params(e, pol_spd_prio(e, POL_PRIO_FILTER),
		    &v[*n].params);
		v[*n].id.dir = e->dir == POL_DIR_OUT ? DRV_DIR_OUT : DRV_DIR_IN;
		(*n)++;
	}
}

static struct applied *
find_applied(struct applied *v, size_t n, const struct applied *want,
    const bool *used)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!used[i] && v[i].id.dir == want->id.dir &&
		    memcmp(&v[i].params, &want->params,
		    sizeof(want->params)) == 0)
			return &v[i];
	return NULL;
}

/*
 * Install spd into the driver as a difference against what is installed:
 * new filters are added first, then the ones gone are removed, so no
 * window opens where traffic would flow unfiltered.
 */
static int
apply(struct agent *a, const struct pol_spd *spd, struct pol_err *err)
{
	struct applied *want = NULL;
	bool *kept = NULL;
	size_t n = 0, cap, i;
	int rc = 0;

	cap = spd != NULL ? pol_spd_count(spd) : 0;
	want = calloc(cap + 1, sizeof(*want));
	kept = calloc(a->napplied + 1, sizeof(*kept));
	if (want == NULL || kept == NULL) {
		rc = PA_E_NOMEM;
		set_err(err, "apply", "out of memory");
		goto out;
	}
	push_spd(spd, want, &n);
	for (i = 0; i < n; i++) {
		struct applied *old = find_applied(a->applied, a->napplied,
		    &want[i], kept);

		if (old != NULL) {
			kept[old - a->applied] = true;
			want[i].id.index = old->id.index;
			continue;
		}
		want[i].id.index = ++a->next_index;
		if ((rc = a->ops->policy_add(a->drv, &want[i].id,
		    &want[i].params)) != 0) {
			const struct pol_spd_entry *e = pol_spd_entry_at(spd,
			    i);

			a->st.driver_errors++;
			set_err(err, "driver", "rule '%s' (filter %zu, %s): the "
			    "driver refused it: %s", e->rule != NULL &&
			    e->rule->name != NULL ? e->rule->name : "",
			    i, pol_dir_name(e->dir), pa_strerror(rc));
			/* Roll back what this call added. */
			while (i-- > 0) {
				size_t j;
				bool was = false;

				for (j = 0; j < a->napplied; j++)
					if (a->applied[j].id.index ==
					    want[i].id.index)
						was = true;
				if (!was)
					(void)a->ops->policy_del(a->drv,
					    &want[i].id);
			}
			goto out;
		}
	}
	for (i = 0; i < a->napplied; i++) {
		if (kept[i])
			continue;
		if (a->ops->policy_del(a->drv, &a->applied[i].id) != 0) {
			a->st.driver_errors++;
			log_warnx("driver: removing filter %u failed",
			    a->applied[i].id.index);
		}
	}
	free(a->applied);
	a->applied = want;
	a->napplied = n;
	want = NULL;
out:
	free(want);
	free(kept);
	return rc;
}

/*
 * The first policy could not be applied at start: block what it would
 * have secured or blocked, so nothing it protects leaves in clear while
 * the agent is down (Windows' IPsec driver enters block mode when its
 * Policy Agent fails). Each filter goes in as it is, or, refused, as a
 * BLOCK filter with its selectors; apply() rolled back what it added.
 */
static void
block_failed_start(struct agent *a, const struct pol_spd *spd)
{
	struct applied *v;
	size_t n = 0, i, blocked = 0, lost = 0;

	if (spd == NULL || (v = calloc(pol_spd_count(spd) + 1,
	    sizeof(*v))) == NULL)
		return;
	push_spd(spd, v, &n);
	for (i = 0; i < n; i++) {
		v[i].id.index = ++a->next_index;
		if (a->ops->policy_add(a->drv, &v[i].id, &v[i].params) == 0)
			continue;
		if (v[i].params.action == DRV_ACT_PERMIT)
			continue;	/* nothing to protect */
		v[i].params.action = DRV_ACT_BLOCK;
		v[i].params.inpass = false;
		if (a->ops->policy_add(a->drv, &v[i].id, &v[i].params) == 0)
			blocked++;
		else
			lost++;
	}
	if (blocked > 0 || lost > 0)
		log_warnx("failed start: %zu filters the driver refused are "
		    "blocked instead%s", blocked, lost > 0 ? "; some could not "
		    "even be blocked" : "");
	free(v);
}

static void
ike_update(struct agent *a)
{
	if (a->ike == NULL)
		return;
	/* The combined SPD: dynamic negotiate rules are served too. */
	if (ike_set_policy(a->ike, a->cur.policy, a->spd) != 0)
		log_warnx("ike: policy update failed");
}

/* Make next (if any) current and dyn the dynamic set, in the driver. */
static int
commit(struct agent *a, struct polset *next, struct polset *dyn,
    struct pol_err *err)
{
	const struct polset *c = next != NULL ? next : &a->cur;
	const struct polset *d = dyn != NULL ? dyn : &a->dyn;
	struct polset oldc, oldd;
	struct pol_spd *spd = NULL, *oldspd;
	int rc;

	if ((rc = compile_set(c, d, &spd, err)) != 0)
		return rc;
	if ((rc = apply(a, spd, err)) != 0) {
		pol_spd_free(spd);
		return rc;
	}
	/* Swap in, tell IKE, then free what it no longer borrows. */
	memset(&oldc, 0, sizeof(oldc));
	memset(&oldd, 0, sizeof(oldd));
	oldspd = a->spd;
	a->spd = spd;
	if (next != NULL) {
		oldc = a->cur;
		a->cur = *next;
		memset(next, 0, sizeof(*next));
	}
	if (dyn != NULL) {
		oldd = a->dyn;
		a->dyn = *dyn;
		memset(dyn, 0, sizeof(*dyn));
	}
	ike_update(a);
	pol_spd_free(oldspd);
	polset_clear(&oldc);
	polset_clear(&oldd);
	a->generation++;
	a->applied_at = pa_wall_s();
	a->st.policy_applied++;
	return 0;
}

static void
emit_changed(struct agent *a, const char *detail)
{
	struct audit_field f[3] = {
		{ "Source", a->cur.source },
		{ "Policy", a->cur.policy != NULL && a->cur.policy->name != NULL ?
		    a->cur.policy->name : "(none assigned)" },
		{ "Detail", detail },
	};

	audit_emit(a->cfg.audit, AUDIT_PA_POLICY_CHANGED, f, 3);
}

/* Driver callbacks. */
static void
on_acquire(void *arg, const struct spd_id *id, const struct drv_sel *pkt,
    uint32_t reqid)
{
	struct agent *a = arg;
	const struct pol_spd_entry *e = NULL;

	(void)id;
	if (a->paused || a->ike == NULL) {
		a->st.acquires_refused++;
		return;
	}
	/* The filter that decides this packet (for the rule and the driver
	 * slots of what IKE installs under it). */
	if (a->spd != NULL)
		e = ike_spd_match_out(a->spd, pkt);
	if (ike_acquire(a->ike, pkt, reqid, e) != 0)
		log_debug("%s: acquire not started", __func__);
}

static void
on_expire(void *arg, const struct sa_id *id, uint64_t cookie, bool hard)
{
	struct agent *a = arg;

	if (!hard)
		a->st.rekeys++;
	if (a->ike != NULL)
		ike_expire(a->ike, id, cookie, hard);
}

static const char *
drop_reason_name(enum drv_drop_reason why)
{
	switch (why) {
	case DRV_DROP_BAD_SPI: return "unknown SPI";
	case DRV_DROP_REPLAY: return "replayed";
	case DRV_DROP_ICV: return "integrity check failed";
	case DRV_DROP_DECRYPT: return "could not be decrypted";
	case DRV_DROP_CLEARTEXT: return "clear text where policy secures";
	case DRV_DROP_BLOCKED: return "blocked by a filter";
	case DRV_DROP_QUEUE_FULL: return "held too long or too many held "
	    "while SAs were negotiated";
	case DRV_DROP_SYNTAX: return "malformed";
	case DRV_DROP_TOO_BIG: return "larger than the path MTU with DF set "
	    "(ICMP sent)";
	case DRV_DROP_NO_SA: return "its SA was gone";
	}
	return "other";
}

static void
on_drop(void *arg, const struct drv_drop *dr)
{
	struct agent *a = arg;
	enum audit_event ev;
	unsigned need;
	char cnt[24], pb[PA_ADDRSTRLEN], spi[40];

	switch (dr->reason) {
	case DRV_DROP_BAD_SPI:
		ev = AUDIT_DRV_BAD_SPI, need = 1;
		break;
	case DRV_DROP_ICV:
		ev = AUDIT_DRV_AUTH_FAILURE, need = 1;
		break;
	case DRV_DROP_DECRYPT:
	case DRV_DROP_SYNTAX:
		ev = AUDIT_DRV_BAD_SYNTAX, need = 1;
		break;
	case DRV_DROP_CLEARTEXT:
		ev = AUDIT_DRV_CLEARTEXT, need = 2;
		break;
	case DRV_DROP_REPLAY:
		ev = AUDIT_DRV_REPLAY, need = 2;
		break;
	case DRV_DROP_BLOCKED:
		ev = AUDIT_DRV_BLOCKED, need = 4;
		break;
	default:
		ev = dr->dir == DRV_DIR_OUT ? AUDIT_DRV_OUT_DROPPED :
		    AUDIT_DRV_BAD_SYNTAX;
		need = 1;
		break;
	}
	if ((a->cfg.diagnostics & need) == 0)
		return;
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)dr->count);
	if (dr->spi != 0)
		snprintf(spi, sizeof(spi), "%u (0x%x)%s", dr->spi, dr->spi,
		    dr->proto == DRV_PROTO_AH ? " AH" : dr->proto ==
		    DRV_PROTO_ESP ? " ESP" : "");
	else
		spi[0] = '\0';
	{
		struct audit_field f[5] = {
			{ "Count", cnt },
			{ "Peer", !pa_addr_is_unset(&dr->peer) ?
			    pa_addr_str(&dr->peer, pb, sizeof(pb)) : "" },
			{ "Direction", dr->dir == DRV_DIR_OUT ? "outbound" :
			    "inbound" },
			{ "Reason", drop_reason_name(dr->reason) },
			{ "SPI", spi },
		};

		audit_emit(a->cfg.audit, ev, f, 5);
	}
}

static void
on_leftover(void *arg, const char *what)
{
	struct agent *a = arg;

	emit1(a, AUDIT_DRV_LEFTOVER, "State", what);
}

static int
addr_cmp(const void *x, const void *y)
{
	return pa_addr_cmp(x, y);
}

/* This host's addresses, sorted; true if they differ from a->addrs. */
static bool
addrs_refresh(struct agent *a)
{
	struct pa_addr *me = NULL;
	size_t n = 0;
	bool changed;

	if (pol_local_addrs(&me, &n) != 0)
		return false;
	if (n > 1)
		qsort(me, n, sizeof(*me), addr_cmp);
	changed = n != a->naddrs || (n > 0 &&
	    memcmp(me, a->addrs, n * sizeof(*me)) != 0);
	free(a->addrs);
	a->addrs = me;
	a->naddrs = n;
	return changed;
}

/*
 * Subscribe to address changes (rtnetlink). The messages are not parsed:
 * they only say "look again"; the addresses are then read with
 * getifaddrs() through pol_local_addrs().
 */
static void
addr_watch_open(struct agent *a)
{
	struct sockaddr_nl sa;
	int fd;

	(void)addrs_refresh(a);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (fd < 0) {
		log_warn("address changes will not be followed: netlink");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_warn("address changes will not be followed: bind");
		close(fd);
		return;
	}
	a->addr_fd = fd;
}

static void
addr_watch_drain(struct agent *a)
{
	char buf[8192];

	while (recv(a->addr_fd, buf, sizeof(buf), 0) > 0)
		;
	if (a->addr_due_ms == 0)
		a->addr_due_ms = pa_now_ms() + AGENT_ADDR_SETTLE_MS;
}

/* Addresses settled: recompile "my IP address" filters if they changed. */
static void
addr_settled(struct agent *a)
{
	struct pol_err err;

	a->addr_due_ms = 0;
	if (!addrs_refresh(a))
		return;
	memset(&err, 0, sizeof(err));
	if (a->paused) {
		a->pending = true;
		emit_changed(a, "this host's addresses changed: recompile "
		    "queued, the service is paused");
		return;
	}
	if (commit(a, NULL, NULL, &err) != 0) {
		a->st.policy_rejected++;
		emit_failure(a, &err);
		return;
	}
	emit_changed(a, "this host's addresses changed: filters recompiled");
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
agent_new(const struct agent_cfg *cfg, struct agent **out,
    struct pol_err *err)
{
	struct agent *a;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return PA_E_NOMEM;
	a->addr_fd = -1;
	a->dir_evfd = -1;
	a->cfg = *cfg;
	a->driver_name = dup_or_null(cfg->driver);
	a->store_path = dup_or_null(cfg->store_path);
	a->secrets_path = dup_or_null(cfg->secrets_path);
	a->cfg.driver = a->driver_name;
	a->cfg.store_path = a->store_path;
	a->cfg.secrets_path = a->secrets_path;
	if ((a->ops = drv_lookup(cfg->driver)) == NULL) {
		char known[256] = "";
		const char *const *nm;

		for (nm = drv_names(); *nm != NULL; nm++) {
			strncat(known, known[0] ? ", " : "",
			    sizeof(known) - strlen(known) - 1);
			strncat(known, *nm, sizeof(known) - strlen(known) - 1);
		}
		set_err(err, "driver", "unknown driver backend '%s' "
		    "(known: %s)", cfg->driver != NULL ? cfg->driver : "",
		    known);
		rc = PA_E_NOENT;
		goto fail;
	}
	if (cfg->source == AGENT_SRC_DIRECTORY) {
		if (cfg->dir == NULL) {
			set_err(err, "policy_source", "directory: the directory "
			    "is not configured (directory_uri, directory_base)");
			rc = PA_E_INVAL;
			goto fail;
		}
		if ((rc = pol_dir_new(cfg->dir, &a->dir)) != 0) {
			set_err(err, "directory", "cannot set up the directory "
			    "source: %s", pa_strerror(rc));
			goto fail;
		}
		/* CRLs at ldap:// distribution points: the same bind. */
		a->crl_dir = agent_crl_dir_new(cfg->dir);
		a->map_dir = agent_crl_dir_new(cfg->dir);
	}
	a->cfg.dir = NULL;	/* copied by pol_dir_new */
	if ((rc = load_source(a, &a->cur, err)) != 0)
		goto fail;
	/* Change notification (dir_watch.h): its thread waits for targets. */
	if (a->dir != NULL && cfg->dir->notify && pol_dir_watch_new(
	    &(struct pol_dir_watch_cfg){ .dir = cfg->dir,
	    .quiet_ms = cfg->dir->notify_quiet_ms,
	    .max_ms = cfg->dir->notify_max_ms }, &a->watch) != 0)
		log_warnx("directory: change notification could not start: "
		    "polling only");
	*out = a;
	return 0;
fail:
	agent_free(a);
	return rc;
}

/* ---- Certificate-to-account mapping (certmap.c) ------------------- */

/* The engine asks: queue it for the worker. */
static int
certmap_ask(void *arg, const struct ike_certmap_req *r)
{
	struct agent *a = arg;

	return agent_certmap_ask(a->certmap, r);
}

/* The worker answered: the engine goes on with that Main Mode. */
static void
certmap_answer(void *arg, const struct ike_certmap_ans *ans)
{
	struct agent *a = arg;

	if (a->ike != NULL)
		ike_certmap_done(a->ike, ans);
}

/* With a directory: the worker, and the engine may ask it. */
static void
certmap_open(struct agent *a, struct ike_cfg *ic)
{
	if (a->map_dir == NULL)
		return;
	if ((a->certmap = agent_certmap_new(a->map_dir)) == NULL)
		log_warnx("certmap: cannot start the mapping worker; rules "
		    "asking for certificate-to-account mapping refuse every "
		    "certificate");
	a->map_dir = NULL;
	if (a->certmap == NULL)
		return;
	ic->certmap = certmap_ask;
	ic->certmap_arg = a;
}

/* ---- CRLs from distribution points (agent/pki) ------------------- */

static void
crl_want(void *arg, const char *uri)
{
	struct agent *a = arg;

	pki_crl_want(a->pki, uri);
}

/* The CRLs at hand changed: the engine takes them (and ends revoked SAs). */
static void
crl_update(void *arg)
{
	struct agent *a = arg;
	struct pa_bytes v[PKI_CRL_MAX];
	size_t n, ended;

	if (a->ike == NULL || a->pki == NULL)
		return;
	n = pki_crl_ders(a->pki, v, PKI_CRL_MAX);
	if ((ended = ike_set_crls(a->ike, v, n)) > 0)
		log_warnx("crl: %zu Main Mode SA(s) of revoked peers ended",
		    ended);
}

/* The domain's CAs changed: the engine trusts them. */
static void
crl_cas(void *arg)
{
	struct agent *a = arg;
	struct pa_bytes v[PKI_CAS_MAX];
	uint8_t kinds[PKI_CAS_MAX];
	bool anchor[PKI_CAS_MAX];
	size_t i, n;

	if (a->ike == NULL || a->pki == NULL)
		return;
	n = pki_cas(a->pki, v, kinds, PKI_CAS_MAX);
	for (i = 0; i < n; i++)
		anchor[i] = kinds[i] == PKI_CA_ROOT;
	log_info("directory: %zu enterprise CA(s) trusted, %zu issuing CA(s) "
	    "for chains", ike_set_domain_cas(a->ike, v, anchor, n),
	    ike_domain_ims(a->ike));
}

size_t
agent_crl_count(const struct agent *a)
{
	return a->pki != NULL ? pki_crl_count(a->pki) : 0;
}

void
agent_crl_info(const struct agent *a, size_t i, struct pki_crl_info *out)
{
	pki_crl_info(a->pki, i, out);
}

size_t
agent_domain_cas(const struct agent *a, struct pa_bytes *out,
    uint8_t *kinds, size_t cap)
{
	return a->pki != NULL ? pki_cas(a->pki, out, kinds, cap) : 0;
}

/* In the fetch worker: what the directory holds (crl_dir.c). */
static int
crl_ldap_read(void *arg, const char *url, uint8_t **body, size_t *len,
    char *err, size_t errcap)
{
	return agent_crl_dir_read(arg, url, body, len, err, errcap);
}

static int
crl_cas_read(void *arg, uint8_t **ders, size_t *lens, uint8_t *kinds,
    size_t max, size_t *n, char *err, size_t errcap)
{
	return agent_crl_dir_read_cas(arg, ders, lens, kinds, max, n, err,
	    errcap);
}

static void
crl_dir_free(void *arg)
{
	agent_crl_dir_free(arg);
}

/*
 * Before ike_new, with certificates: CRLs from distribution points when
 * revocation is checked, and the domain's CAs with a directory policy.
 */
static void
crl_open(struct agent *a, struct ike_cfg *ic)
{
	struct pki_crl_cfg pc;
	int rc;

	if (a->cfg.cert_file == NULL || a->cfg.crl_cache_dir == NULL)
		return;
	memset(&pc, 0, sizeof(pc));
	pc.cache_dir = a->cfg.crl_cache_dir;
	pc.fetch_crls = a->cfg.crl_fetch && a->cfg.crl_check > 0;
	pc.timeout_s = a->cfg.crl_fetch_timeout_s;
	pc.retry_s = a->cfg.crl_retry_s;
	pc.on_update = crl_update;
	pc.on_cas = crl_cas;
	pc.arg = a;
	if (a->crl_dir != NULL) {
		/* The cache owns it from here on. */
		pc.ldap_read = crl_ldap_read;
		pc.cas_read = crl_cas_read;
		pc.ldap_arg = a->crl_dir;
		pc.ldap_free = crl_dir_free;
		a->crl_dir = NULL;
	}
	if ((rc = pki_crl_new(&pc, &a->pki)) != 0) {
		log_warnx("crl: no CRL fetching, no domain CAs (cache %s: %s)",
		    pc.cache_dir, pa_strerror(rc));
		return;
	}
	ic->crl_want = crl_want;
	ic->crl_arg = a;
}

/* After ike_new: what the cache holds, and a first read of the CAs. */
static void
crl_ready(struct agent *a)
{
	if (a->pki == NULL)
		return;
	crl_update(a);
	crl_cas(a);
	pki_cas_refresh(a->pki);
}

static void
crl_close(struct agent *a)
{
	pki_crl_free(a->pki);	/* a read under way ends on its own */
	a->pki = NULL;
}

/* agent_start: the IKE engine, on the configured addresses or all ours. */
static int
agent_ike_start(struct agent *a, struct pol_err *err)
{
	struct ike_cfg ic;
	int rc;

	memset(&ic, 0, sizeof(ic));
	ic.audit = a->cfg.audit;
	ic.drv_ops = a->ops;
	ic.drv = a->drv;
	ic.port = a->cfg.ike_port;
	if (a->cfg.ike_nladdrs > 0) {
		memcpy(ic.laddrs, a->cfg.ike_laddrs,
		    sizeof(ic.laddrs[0]) * a->cfg.ike_nladdrs);
		ic.nladdrs = a->cfg.ike_nladdrs;
	} else {
		/* The engine answers from a definite address. */
		struct pa_addr *me = NULL;
		size_t nme = 0, i;

		if (pol_local_addrs(&me, &nme) == 0)
			for (i = 0; i < nme && i < IKE_MAX_LADDRS; i++)
				ic.laddrs[ic.nladdrs++] = me[i];
		free(me);
		if (ic.nladdrs == 0) {
			set_err(err, "ike", "this host has no address to run "
			    "IKE on (set ike_addresses)");
			return PA_E_NOENT;
		}
	}
	ic.natt_port = a->cfg.natt_port;
	ic.olog = a->cfg.olog;
	ic.olog_arg = a->cfg.olog_arg;
	ic.krb_keytab = a->cfg.krb_keytab;
	ic.krb_principal = a->cfg.krb_principal;
	ic.krb_config = a->cfg.krb_config;
	ic.krb_ccache = a->cfg.krb_ccache;
	ic.cert_file = a->cfg.cert_file;
	ic.key_file = a->cfg.key_file;
	ic.ca_file = a->cfg.ca_file;
	ic.crl_file = a->cfg.crl_file;
	ic.crl_check = a->cfg.crl_check;
	ic.dpd_ms = a->cfg.dpd_ms;
	ic.keepalive_ms = a->cfg.natt_keepalive_ms;
	ic.dos_halfopen = a->cfg.dos_halfopen;
	ic.soft_sa_life_ms = a->cfg.soft_sa_life_ms;
	crl_open(a, &ic);
	certmap_open(a, &ic);
	if ((rc = ike_new(&ic, &a->ike)) != 0) {
		set_err(err, "ike", "starting the IKE engine failed: %s",
		    pa_strerror(rc));
		return rc;
	}
	crl_ready(a);
	return 0;
}

/* agent_start: the domain policy, if any, is in force from the start. */
static void
domain_at_start(struct agent *a, struct pol_err *err)
{
	dir_poll(a);
	if (a->domain != NULL) {
		struct polset ps;

		if (load_source(a, &ps, err) != 0) {
			emit_failure(a, err);
			pol_store_free(a->domain);
			a->domain = NULL;
		} else {
			polset_clear(&a->cur);
			a->cur = ps;
		}
	}
}

int
agent_start(struct agent *a, struct pol_err *err)
{
	static const struct driver_events ev = {
		.acquire = on_acquire,
		.expire = on_expire,
		.drop = on_drop,
		.leftover = on_leftover,
	};
	struct driver_cfg dc;
	struct audit_field f[2];
	int rc;

	if (a->started)
		return PA_E_STATE;
	memset(&dc, 0, sizeof(dc));
	dc.ike_port = a->cfg.ike_port;
	dc.natt_port = a->cfg.natt_port != IKE_NO_NATT ? a->cfg.natt_port : 0;
	dc.exempt_kerberos = true;
	if ((rc = a->ops->open(&dc, &ev, a, &a->drv)) != 0) {
		set_err(err, "driver", "opening backend '%s' failed: %s",
		    a->ops->name, pa_strerror(rc));
		goto fail;
	}
	if (a->cfg.ike && (rc = agent_ike_start(a, err)) != 0)
		goto fail;
	if (a->dir != NULL)
		domain_at_start(a, err);
	if ((rc = commit(a, NULL, NULL, err)) != 0) {
		struct pol_spd *spd = NULL;
		struct pol_err e2;

		if (compile_set(&a->cur, &a->dyn, &spd, &e2) == 0)
			block_failed_start(a, spd);
		pol_spd_free(spd);
		goto fail;
	}
	/* Our policy is in force: what a previous instance left can go. */
	if (a->ops->settle(a->drv) != 0)
		log_warnx("driver: removing what a previous instance left "
		    "failed; it keeps blocking what it blocked");
	addr_watch_open(a);
	a->started = true;
	f[0].key = "Policy Source";
	f[0].value = a->cur.source;
	f[1].key = "Policy";
	f[1].value = a->cur.policy != NULL && a->cur.policy->name != NULL ?
	    a->cur.policy->name : "(none assigned)";
	audit_emit(a->cfg.audit, AUDIT_PA_STARTED, f, 2);
	return 0;
fail:
	emit_failure(a, err);
	if (a->ike != NULL)
		ike_free(a->ike);
	a->ike = NULL;
	crl_close(a);
	agent_certmap_free(a->certmap);
	a->certmap = NULL;
	if (a->drv != NULL)
		a->ops->close(a->drv);
	a->drv = NULL;
	return rc;
}

void
agent_stop(struct agent *a, const char *reason, bool clear)
{
	if (a == NULL || !a->started || a->stopped)
		return;
	a->stopped = true;
	pol_dir_watch_free(a->watch);	/* does not wait for its thread */
	a->watch = NULL;
	dir_abandon(a);	/* a late answer applies to nothing now */
	if (a->ike != NULL) {
		ike_shutdown(a->ike);
		ike_free(a->ike);
		a->ike = NULL;
	}
	crl_close(a);
	agent_certmap_free(a->certmap);	/* a lookup under way ends alone */
	a->certmap = NULL;
	if (a->addr_fd >= 0)
		close(a->addr_fd);
	a->addr_fd = -1;
	if (clear && a->ops->clear(a->drv) != 0) {
		log_warnx("driver: removing everything failed: what is left "
		    "keeps blocking (ipsec-agentd --clear)");
		clear = false;
	}
	a->ops->close(a->drv);
	a->drv = NULL;
	free(a->applied);
	a->applied = NULL;
	a->napplied = 0;
	{
		struct audit_field f[2] = {
			{ "Reason", reason != NULL ? reason :
			    "service stopped" },
			{ "Data Path", clear ? "IPsec filters removed: traffic "
			    "flows in clear" : "fail-closed: traffic the policy "
			    "secures or blocks stays blocked until the next "
			    "start" },
		};

		audit_emit(a->cfg.audit, AUDIT_PA_DISABLED, f, 2);
	}
}

void
agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	agent_stop(a, "service stopped", false);
	pol_dir_watch_free(a->watch);
	dir_join(a, false);
	if (a->dir_evfd >= 0)
		close(a->dir_evfd);
	pol_dir_free(a->dir);
	agent_crl_dir_free(a->crl_dir);
	agent_crl_dir_free(a->map_dir);
	agent_certmap_free(a->certmap);
	pol_store_free(a->domain);
	free(a->addrs);
	pol_spd_free(a->spd);
	polset_clear(&a->cur);
	polset_clear(&a->next);
	polset_clear(&a->dyn);
	free(a->rules);
	free(a->applied);
	free(a->driver_name);
	free(a->store_path);
	free(a->secrets_path);
	free(a);
}

/* Rebuild the effective policy and apply it (or queue it if paused). */
static int
reapply(struct agent *a, const char *detail, struct pol_err *err)
{
	struct polset ps;
	int rc;

	if ((rc = load_source(a, &ps, err)) != 0) {
		a->st.policy_rejected++;
		emit_failure(a, err);
		return rc;
	}
	if (a->paused || !a->started) {
		polset_clear(&a->next);
		a->next = ps;
		a->pending = true;
		emit_changed(a, "policy change queued: the service is paused");
		return 0;
	}
	if ((rc = commit(a, &ps, NULL, err)) != 0) {
		polset_clear(&ps);
		a->st.policy_rejected++;
		emit_failure(a, err);
		return rc;
	}
	emit_changed(a, detail);
	return 0;
}

/*
 * One poll of the directory: the domain policy replaces the local one
 * while assigned (or, unreachable, its cached copy); unassigned, the local
 * store applies again; failures keep what is in force and emit 616.
 */
/* Apply a poll's outcome (rc and st from pol_dir_poll, status in a->dir_st). */
static void
dir_apply(struct agent *a, int rc, struct pol_store *st)
{
	struct pol_dir_status *s = &a->dir_st;
	struct pol_err err;
	char detail[700];
	bool changed = false;

	pki_cas_refresh(a->pki);	/* the enterprise CAs with each poll */
	memset(&err, 0, sizeof(err));
	if (rc != 0) {
		set_err(&err, "directory", "out of memory");
		emit_failure(a, &err);
		a->dir_next_ms = pa_now_ms() + 60000;
		return;
	}
	a->dir_polled = true;
	a->dir_polled_at = pa_wall_s();
	a->cause_last = a->cause_run;
	pol_dir_watch_update(a->watch, a->dir);	/* what this poll read */
	if (s->outcome == POL_DIR_UNCHANGED || s->outcome == POL_DIR_APPLIED ||
	    s->outcome == POL_DIR_UNASSIGNED)
		a->dir_ok_at = a->dir_polled_at;
	a->dir_next_ms = pa_now_ms() +
	    (uint64_t)(s->next_poll_sec > 0 ? s->next_poll_sec : 60) * 1000;
	switch (s->outcome) {
	case POL_DIR_APPLIED:
	case POL_DIR_FROM_CACHE:
		pol_store_free(a->domain);
		a->domain = st;
		a->domain_cached = s->outcome == POL_DIR_FROM_CACHE;
		changed = true;
		snprintf(detail, sizeof(detail), "%s policy %s from %s",
		    a->domain_cached ? "directory unreachable: cached" :
		    "directory", s->policy_name, a->domain_cached ?
		    "the cache" : s->uri);
		break;
	case POL_DIR_UNASSIGNED:
		pol_store_free(st);
		changed = a->domain != NULL;
		pol_store_free(a->domain);
		a->domain = NULL;
		snprintf(detail, sizeof(detail), "the domain policy was "
		    "unassigned: the local policy applies");
		break;
	case POL_DIR_UNREACHABLE:
	case POL_DIR_REJECTED:
		pol_store_free(st);
		emit_failure(a, &s->err);
		break;
	default:
		pol_store_free(st);
		break;
	}
	if (changed)
		a->dir_changed_at = a->dir_polled_at;
	if (changed && a->started)
		(void)reapply(a, detail, &err);
}

/* The first poll, at start: in line, so the domain policy is in force
 * from the start. */
static void
dir_poll(struct agent *a)
{
	struct pol_store *st = NULL;
	int rc;

	a->cause_run = a->started ? (a->cause_next != NULL ? a->cause_next :
	    "scheduled") : "start";
	a->cause_next = NULL;
	rc = pol_dir_poll(a->dir, &st, &a->dir_st);
	dir_apply(a, rc, st);
}

static void
dir_job_free(struct dir_job *j)
{
	pol_store_free(j->st);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void *
dir_thread(void *arg)
{
	struct dir_job *j = arg;
	uint64_t one = 1;

	j->rc = pol_dir_poll(j->dir, &j->st, &j->status);
	pthread_mutex_lock(&j->mu);
	if (j->abandoned) {
		/* The agent stopped meanwhile: dir and evfd are ours. */
		pthread_mutex_unlock(&j->mu);
		pol_dir_free(j->dir);
		close(j->evfd);
		dir_job_free(j);
		return NULL;
	}
	j->done = true;
	(void)!write(j->evfd, &one, sizeof(one));
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* A poll that is due: on its thread (the loop hears of it on dir_evfd). */
static void
dir_poll_start(struct agent *a)
{
	struct dir_job *j;

	if (a->dir_busy)
		return;
	if (a->dir_evfd < 0 &&
	    (a->dir_evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		log_warn("directory: eventfd; polling in line");
		dir_poll(a);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    pthread_mutex_init(&j->mu, NULL) != 0) {
		free(j);
		log_warnx("directory: no memory for a poll thread; polling "
		    "in line");
		dir_poll(a);
		return;
	}
	j->dir = a->dir;
	j->evfd = a->dir_evfd;
	j->status = a->dir_st;	/* what the poll compares with */
	if (pthread_create(&a->dir_thr, NULL, dir_thread, j) != 0) {
		dir_job_free(j);
		log_warnx("directory: cannot start a poll thread; polling "
		    "in line");
		dir_poll(a);
		return;
	}
	a->dir_job = j;
	a->dir_busy = true;
	a->dir_again = false;
	a->cause_run = a->cause_next != NULL ? a->cause_next : "scheduled";
	a->cause_next = NULL;
}

/* Collect the poll thread (waiting for it), then apply its outcome. */
static void
dir_join(struct agent *a, bool apply)
{
	struct dir_job *j = a->dir_job;
	uint64_t v;

	if (!a->dir_busy)
		return;
	pthread_join(a->dir_thr, NULL);
	a->dir_busy = false;
	a->dir_job = NULL;
	(void)!read(a->dir_evfd, &v, sizeof(v));
	if (!apply) {
		dir_job_free(j);
		return;
	}
	a->dir_st = j->status;
	dir_apply(a, j->rc, j->st);
	j->st = NULL;
	dir_job_free(j);
	if (a->dir_again)
		a->dir_next_ms = 0;
}

/* At stop: collect a finished poll, leave one under way to its thread
 * (with dir and dir_evfd, which it frees), without waiting for it. */
static void
dir_abandon(struct agent *a)
{
	struct dir_job *j = a->dir_job;

	if (!a->dir_busy)
		return;
	pthread_mutex_lock(&j->mu);
	if (j->done) {
		pthread_mutex_unlock(&j->mu);
		dir_join(a, false);
		return;
	}
	j->abandoned = true;
	pthread_mutex_unlock(&j->mu);
	(void)pthread_detach(a->dir_thr);
	log_info("directory: stop does not wait for the poll under way");
	a->dir_busy = false;
	a->dir_job = NULL;
	a->dir = NULL;
	a->dir_evfd = -1;
}

static void
clear_leftover(void *arg, const char *what)
{
	char **found = arg;

	snprintf(found[0], (size_t)(found[1] - found[0]), "%s", what);
}

int
agent_clear_state(const char *driver, char *found, size_t cap,
    struct pol_err *err)
{
	static const struct driver_events ev = { .leftover = clear_leftover };
	const struct driver_ops *ops;
	struct driver_cfg dc;
	struct driver *d = NULL;
	char *arg[2] = { found, found + cap };
	int rc;

	if (cap > 0)
		found[0] = '\0';
	if ((ops = drv_lookup(driver)) == NULL) {
		set_err(err, "driver", "unknown driver backend '%s'",
		    driver != NULL ? driver : "");
		return PA_E_NOENT;
	}
	memset(&dc, 0, sizeof(dc));
	if ((rc = ops->open(&dc, &ev, arg, &d)) != 0) {
		set_err(err, "driver", "opening backend '%s' failed: %s",
		    ops->name, pa_strerror(rc));
		return rc;
	}
	if ((rc = ops->clear(d)) != 0)
		set_err(err, "driver", "removing the state failed: %s",
		    pa_strerror(rc));
	ops->close(d);
	return rc;
}

int
agent_reload(struct agent *a, struct pol_err *err)
{
	if (a->dir != NULL) {
		a->dir_next_ms = 0;	/* poll the directory next */
		a->dir_again = a->dir_busy;	/* or after this one */
		a->cause_next = "reload";
	}
	return reapply(a, "policy reloaded and applied", err);
}

int
agent_set_store_paths(struct agent *a, const char *store, const char *secrets)
{
	char *ns = NULL, *nk = NULL;

	if ((store != NULL && (ns = strdup(store)) == NULL) ||
	    (secrets != NULL && (nk = strdup(secrets)) == NULL)) {
		free(ns);
		return PA_E_NOMEM;
	}
	if (ns != NULL) {
		free(a->store_path);
		a->store_path = ns;
		a->cfg.store_path = ns;
	}
	if (nk != NULL) {
		free(a->secrets_path);
		a->secrets_path = nk;
		a->cfg.secrets_path = nk;
	}
	return 0;
}

int
agent_pause(struct agent *a)
{
	if (!a->started || a->stopped)
		return PA_E_STATE;
	a->paused = true;
	if (a->ike != NULL)
		ike_pause(a->ike, true);
	return 0;
}

int
agent_continue(struct agent *a, struct pol_err *err)
{
	struct polset dyn;
	int rc = 0;

	if (!a->started || a->stopped)
		return PA_E_STATE;
	if (a->pending) {
		memset(&dyn, 0, sizeof(dyn));
		if ((rc = agent_dyn_build_keys(a->rules, a->nrules,
		    a->secrets_path, &dyn.store, err)) == 0 && (rc = compile(&dyn, err)) == 0)
			rc = commit(a, a->next.store != NULL ? &a->next : NULL,
			    &dyn, err);
		polset_clear(&dyn);
		polset_clear(&a->next);
		a->pending = false;
		if (rc != 0) {
			a->st.policy_rejected++;
			emit_failure(a, err);
		} else
			emit_changed(a, "queued policy changes applied");
	}
	a->paused = false;
	if (a->ike != NULL)
		ike_pause(a->ike, false);
	return rc;
}

bool
agent_paused(const struct agent *a)
{
	return a->paused;
}

void
agent_set_diagnostics(struct agent *a, unsigned level)
{
	a->cfg.diagnostics = level & 7;
}

unsigned
agent_diagnostics(const struct agent *a)
{
	return a->cfg.diagnostics;
}

/* Rebuild the dynamic set from rules[0..n) and apply it (or queue it). */
static int
dyn_apply(struct agent *a, const struct agent_dyn_rule *rules, size_t n,
    struct pol_err *err)
{
	struct polset dyn;
	int rc;

	memset(&dyn, 0, sizeof(dyn));
	dyn.source = "dynamic";
	if ((rc = agent_dyn_build_keys(rules, n, a->secrets_path, &dyn.store,
	    err)) != 0 ||
	    (rc = compile(&dyn, err)) != 0)
		goto out;
	if (a->paused || !a->started) {
		a->pending = true;	/* built only to validate */
		goto out;
	}
	rc = commit(a, NULL, &dyn, err);
out:
	polset_clear(&dyn);
	return rc;
}

int
agent_dynamic_add(struct agent *a, const struct agent_dyn_rule *r,
    struct pol_err *err)
{
	struct agent_dyn_rule *v;
	size_t i;
	int rc;

	if ((rc = agent_dyn_check(r, err)) != 0)
		return rc;
	for (i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i].name, r->name) == 0) {
			set_err(err, r->name, "a dynamic rule of that name "
			    "exists");
			return PA_E_EXIST;
		}
	if ((v = realloc(a->rules, (a->nrules + 1) * sizeof(*v))) == NULL)
		return PA_E_NOMEM;
	a->rules = v;
	a->rules[a->nrules] = *r;
	if ((rc = dyn_apply(a, a->rules, a->nrules + 1, err)) != 0)
		return rc;
	a->nrules++;
	return 0;
}

int
agent_dynamic_del(struct agent *a, const char *name)
{
	struct agent_dyn_rule *v = NULL;
	struct pol_err perr;
	size_t i, j = 0;
	bool found = false;
	int rc;

	if ((v = calloc(a->nrules + 1, sizeof(*v))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < a->nrules; i++) {
		if (strcmp(a->rules[i].name, name) == 0)
			found = true;
		else
			v[j++] = a->rules[i];
	}
	if (!found) {
		free(v);
		return PA_E_NOENT;
	}
	if ((rc = dyn_apply(a, v, j, &perr)) != 0) {
		free(v);
		return rc;
	}
	free(a->rules);
	a->rules = v;
	a->nrules = j;
	return 0;
}

int
agent_dynamic_flush(struct agent *a)
{
	struct pol_err perr;
	int rc;

	if ((rc = dyn_apply(a, NULL, 0, &perr)) != 0)
		return rc;
	free(a->rules);
	a->rules = NULL;
	a->nrules = 0;
	return 0;
}

size_t
agent_dynamic_count(const struct agent *a)
{
	return a->nrules;
}

const struct agent_dyn_rule *
agent_dynamic_at(const struct agent *a, size_t i)
{
	return i < a->nrules ? &a->rules[i] : NULL;
}

void
agent_get_info(const struct agent *a, struct agent_info *in)
{
	struct ike_stats is;

	memset(in, 0, sizeof(*in));
	in->source = a->cur.source != NULL ? a->cur.source :
	    (a->cfg.source == AGENT_SRC_DIRECTORY ? "directory" : "local");
	if (a->cur.policy != NULL) {
		in->policy_name = a->cur.policy->name != NULL ?
		    a->cur.policy->name : "";
		pa_guid_str(&a->cur.policy->id, in->policy_guid);
		in->policy_changed = a->cur.policy->changed;
	}
	in->generation = a->generation;
	in->applied_at = a->applied_at;
	in->pending = a->pending;
	in->driver = a->ops->name;
	in->filters = a->napplied;
	in->dynamic_rules = a->nrules;
	in->ike = a->ike != NULL;
	in->paused = a->paused;
	if (a->dir != NULL && a->dir_polled) {
		in->dir_outcome = pol_dir_outcome_name(a->dir_st.outcome);
		in->dir_uri = a->dir_st.uri;
		in->dir_fetched = a->dir_st.fetched;
		in->dir_next_poll = a->dir_st.next_poll_sec;
		in->dir_polled_at = a->dir_polled_at;
		in->dir_ok_at = a->dir_ok_at;
		in->dir_changed_at = a->dir_changed_at;
		in->dir_notify = a->watch != NULL ?
		    pol_dir_watch_state(a->watch) : "off";
		in->dir_poll_offset = a->dir_st.poll_offset_sec;
		in->dir_cause = a->cause_last != NULL ? a->cause_last : "start";
	}
	if (a->ike != NULL) {
		ike_stats(a->ike, &is);
		in->mmsas = is.active_mmsas;
		in->qmsas = is.active_qmsas;
	}
}

const struct pol_policy *
agent_policy(const struct agent *a)
{
	return a->cur.policy;
}

const struct pol_spd *
agent_spd(const struct agent *a)
{
	return a->spd;
}

const struct pol_spd *
agent_dynamic_spd(const struct agent *a)
{
	return a->dyn.spd;
}

void
agent_get_stats(const struct agent *a, struct agent_stats *st)
{
	*st = a->st;
	if (a->ike != NULL)
		ike_stats(a->ike, &st->ike);
	if (a->drv != NULL && a->ops->stats != NULL &&
	    a->ops->stats(a->drv, &st->drv) != 0)
		memset(&st->drv, 0, sizeof(st->drv));
}

int
agent_set_keylog(struct agent *a, const char *dir)
{
	if (a->ike == NULL)
		return dir == NULL ? 0 : PA_E_STATE;
	return ike_keylog(a->ike, dir);
}

int
agent_driver_check(struct agent *a, char *why, size_t cap)
{
	if (a->drv == NULL) {
		snprintf(why, cap, "no packet driver is open");
		return PA_E_NOENT;
	}
	if (a->ops->check == NULL) {
		snprintf(why, cap, "driver %s has no self-test", a->ops->name);
		return 0;
	}
	return a->ops->check(a->drv, why, cap);
}

void
agent_foreach_mmsa(const struct agent *a,
    void (*fn)(void *, const struct ike_mmsa_info *), void *arg)
{
	if (a->ike != NULL)
		ike_foreach_mmsa(a->ike, fn, arg);
}

void
agent_foreach_qmsa(const struct agent *a,
    void (*fn)(void *, const struct ike_qmsa_info *), void *arg)
{
	if (a->ike != NULL)
		ike_foreach_qmsa(a->ike, fn, arg);
}

int
agent_qmsa_stats(const struct agent *a, const struct ike_qmsa_info *q,
    bool in, struct sa_stats *st)
{
	struct sa_id id;

	memset(st, 0, sizeof(*st));
	if (a->drv == NULL || a->ops->sa_query == NULL)
		return PA_E_NOENT;
	memset(&id, 0, sizeof(id));
	id.src = in ? q->peer : q->local;
	id.dst = in ? q->local : q->peer;
	id.proto = q->esp ? DRV_PROTO_ESP : DRV_PROTO_AH;
	id.spi = in ? q->spi_in : q->spi_out;
	return a->ops->sa_query(a->drv, &id, st);
}

struct driver *
agent_driver(const struct agent *a)
{
	return a->drv;
}

size_t
agent_fds(const struct agent *a, int *fds, size_t cap)
{
	size_t n = 0;
	int fd;

	if (a->drv != NULL && cap > 0 && (fd = a->ops->event_fd(a->drv)) >= 0)
		fds[n++] = fd;
	if (a->addr_fd >= 0 && n < cap)
		fds[n++] = a->addr_fd;
	if (a->dir_evfd >= 0 && n < cap)
		fds[n++] = a->dir_evfd;
	if (a->watch != NULL && n < cap)
		fds[n++] = pol_dir_watch_fd(a->watch);
	if (a->pki != NULL && n < cap)
		fds[n++] = pki_crl_fd(a->pki);
	if (a->certmap != NULL && n < cap)
		fds[n++] = agent_certmap_fd(a->certmap);
	if (a->ike != NULL)
		n += ike_fds(a->ike, fds + n, cap - n);
	return n;
}

void
agent_dispatch(struct agent *a, int fd)
{
	if (a->drv != NULL && fd == a->ops->event_fd(a->drv)) {
		if (a->ops->dispatch(a->drv) != 0)
			a->st.driver_errors++;
		return;
	}
	if (a->addr_fd >= 0 && fd == a->addr_fd) {
		addr_watch_drain(a);
		return;
	}
	if (a->dir_evfd >= 0 && fd == a->dir_evfd) {
		dir_join(a, a->started && !a->stopped);
		return;
	}
	if (a->watch != NULL && fd == pol_dir_watch_fd(a->watch)) {
		/* A change notified and settled: a normal poll decides. */
		a->cause_next = pol_dir_watch_ack(a->watch) ? "connect" :
		    "notify";
		log_info("directory: %s: polling", strcmp(a->cause_next,
		    "notify") == 0 ? "change notified" : "notification "
		    "(re)connected");
		a->dir_next_ms = 0;
		a->dir_again = a->dir_busy;
		return;
	}
	if (a->pki != NULL && fd == pki_crl_fd(a->pki)) {
		pki_crl_dispatch(a->pki);
		return;
	}
	if (a->certmap != NULL && fd == agent_certmap_fd(a->certmap)) {
		agent_certmap_dispatch(a->certmap, certmap_answer, a);
		return;
	}
	if (a->ike != NULL && ike_dispatch(a->ike, fd) != 0)
		log_debug("%s: ike input rejected", __func__);
}

int
agent_next_timeout_ms(const struct agent *a, uint64_t now_ms)
{
	int t = a->ike != NULL ? ike_next_timeout_ms(a->ike, now_ms) : -1;

	if (a->dir != NULL && a->started && !a->stopped && !a->dir_busy) {
		int d = a->dir_next_ms <= now_ms ? 0 :
		    (a->dir_next_ms - now_ms > INT32_MAX ? INT32_MAX :
		    (int)(a->dir_next_ms - now_ms));

		if (t < 0 || d < t)
			t = d;
	}
	if (a->addr_due_ms != 0) {
		int d = a->addr_due_ms <= now_ms ? 0 :
		    (int)(a->addr_due_ms - now_ms);

		if (t < 0 || d < t)
			t = d;
	}
	if (a->pki != NULL) {
		int d = pki_crl_next_timeout_ms(a->pki, now_ms);

		if (d >= 0 && (t < 0 || d < t))
			t = d;
	}
	return t;
}

void
agent_run_timers(struct agent *a, uint64_t now_ms)
{
	if (a->ike != NULL)
		ike_run_timers(a->ike, now_ms);
	if (a->pki != NULL)
		pki_crl_run_timers(a->pki, now_ms);
	if (a->dir != NULL && a->started && !a->stopped && !a->dir_busy &&
	    now_ms >= a->dir_next_ms)
		dir_poll_start(a);
	if (a->addr_due_ms != 0 && now_ms >= a->addr_due_ms && a->started &&
	    !a->stopped)
		addr_settled(a);
}
