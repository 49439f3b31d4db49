/*
 * The "uesp" backend: userspace ESP/AH over a TUN device. See
 * ../../docs/driver.md for how packets are steered, and engine/ for the
 * protocol code.
 */
#include <sys/socket.h>
#include <sys/ioctl.h>

#include <openssl/rand.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pa_log.h"
#include "pa_secret.h"
#include "pa_time.h"
#include "uesp_priv.h"

static void	uesp_close(struct driver *);

/* Tell the agent what a previous instance left (it blocks until settle). */
static void
uesp_leftover(struct driver *d)
{
	char what[512];
	size_t i, n = 0;

	for (i = 0; i < UESP_NTABLES; i++)
		if (d->told[i])
			n += (size_t)snprintf(what + n, sizeof(what) - n,
			    "%snftables table inet %s", n > 0 ? ", " : "",
			    d->tnames[i]);
	if (n == 0 && !d->lo_routing)
		return;
	if (d->lo_routing && n < sizeof(what))
		n += (size_t)snprintf(what + n, sizeof(what) - n,
		    "%spolicy routing on mark 0x%x with an unreachable route "
		    "in table %u", n > 0 ? ", " : "", d->mark, d->rt_table);
	if (n < sizeof(what))
		(void)snprintf(what + n, sizeof(what) - n, " (uesp on %s: "
		    "blocking until the new policy is in)", d->ifname);
	log_info("uesp: a previous instance left %s", what);
	if (d->ev.leftover != NULL)
		d->ev.leftover(d->cbarg, what);
}

static int
uesp_open(const struct driver_cfg *cfg, const struct driver_events *ev,
    void *cbarg, struct driver **out)
{
	pthread_rwlockattr_t ra;
	struct driver *d;
	size_t i, n;
	int rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return PA_E_NOMEM;
	d->tun = d->tx4 = d->tx6 = d->evfd = d->wakefd = d->stopfd = -1;
	atomic_init(&d->udp4, -1);
	atomic_init(&d->udp6, -1);
	for (i = 0; i < UESP_NRX; i++)
		d->rx[i] = -1;
	if (cfg != NULL)
		d->cfg = *cfg;
	d->cfg.ifname = NULL;	/* borrowed; copied below */
	if (ev != NULL)
		d->ev = *ev;
	d->cbarg = cbarg;
	snprintf(d->ifname, sizeof(d->ifname), "%s",
	    cfg != NULL && cfg->ifname != NULL ? cfg->ifname : UESP_DEF_IFNAME);
	n = strlen(d->ifname);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)d->ifname[i]) &&
		    d->ifname[i] != '_' && d->ifname[i] != '-') {
			free(d);
			return PA_E_INVAL;
		}
	if (n == 0) {
		free(d);
		return PA_E_INVAL;
	}
	for (i = 0; i < UESP_NTABLES; i++) {
		char *c;

		if (i == 0)
			snprintf(d->tnames[i], sizeof(d->tnames[i]), "pa_%s",
			    d->ifname);
		else
			snprintf(d->tnames[i], sizeof(d->tnames[i]),
			    "pa_%s_%u", d->ifname, (unsigned)i);
		for (c = d->tnames[i]; *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
	}
	d->mark = d->cfg.fwmark != 0 ? d->cfg.fwmark : UESP_DEF_MARK;
	d->bypass = d->mark ^ 1U;
	d->rt_table = d->cfg.table != 0 ? d->cfg.table : UESP_DEF_TABLE;
	d->mtu = UESP_DEF_MTU;
	d->qmax = d->cfg.queue_len != 0 ? d->cfg.queue_len : UESP_DEF_QUEUE;
	if (d->cfg.ike_port == 0)
		d->cfg.ike_port = 500;
	if (d->cfg.natt_port == 0)
		d->cfg.natt_port = 4500;
	pthread_rwlockattr_init(&ra);
	/* Writers (SA and filter changes) must not starve under traffic. */
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&d->lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&d->evlock, NULL);
	d->evtail = &d->evhead;
	if ((d->db = uesp_sadb_new()) == NULL) {
		rc = PA_E_NOMEM;
		goto fail;
	}
	if ((rc = uesp_io_open(d)) != 0 || (rc = uesp_nft_open(d)) != 0 ||
	    (rc = uesp_io_start(d)) != 0)
		goto fail;
	uesp_leftover(d);
	*out = d;
	return 0;
fail:
	uesp_close(d);
	return rc;
}

static void
uesp_close(struct driver *d)
{
	struct uesp_ev *e, *n;
	size_t i;

	if (d == NULL)
		return;
	uesp_io_stop(d);
	uesp_nft_close(d);
	uesp_io_close(d);
	for (i = 0; i < d->npols; i++) {
		uesp_qfree(d, d->pols[i], false);
		free(d->pols[i]);
	}
	free(d->pols);
	uesp_sadb_free(d->db);
	for (e = d->evhead; e != NULL; e = n) {
		n = e->next;
		free(e);
	}
	pthread_rwlock_destroy(&d->lock);
	pthread_mutex_destroy(&d->evlock);
	free(d);
}

static int
uesp_spi_alloc(struct driver *d, const struct sa_id *id, uint32_t *spi)
{
	uint32_t v;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return PA_E_CRYPTO;
		if (v < 256)
			continue;
		pthread_rwlock_rdlock(&d->lock);
		if (uesp_sadb_by_spi(d->db, id->proto, v) != NULL)
			v = 0;
		pthread_rwlock_unlock(&d->lock);
		if (v != 0) {
			*spi = v;
			return 0;
		}
	}
	return PA_E_EXIST;
}

static int
uesp_sa_add(struct driver *d, const struct sa_id *id,
    const struct sa_params *p)
{
	struct uesp_sa *sa;
	uint64_t one = 1;
	int rc;

	if ((rc = uesp_sa_new(id, p, pa_now_ms(), &sa)) != 0)
		return rc;
	pthread_rwlock_wrlock(&d->lock);
	rc = uesp_sadb_add(d->db, sa);
	pthread_rwlock_unlock(&d->lock);
	if (rc != 0) {
		uesp_sa_free(sa);
		return rc;
	}
	/* Held packets may go now. */
	if (!p->inbound)
		(void)!write(d->wakefd, &one, sizeof(one));
	return 0;
}

static int
uesp_sa_del(struct driver *d, const struct sa_id *id)
{
	struct uesp_sa *sa;

	pthread_rwlock_wrlock(&d->lock);
	sa = uesp_sadb_remove(d->db, id);
	pthread_rwlock_unlock(&d->lock);
	if (sa == NULL)
		return PA_E_NOENT;
	uesp_sa_free(sa);
	return 0;
}

static int
uesp_sa_query(struct driver *d, const struct sa_id *id, struct sa_stats *st)
{
	struct uesp_sa *sa;
	int rc = PA_E_NOENT;

	pthread_rwlock_rdlock(&d->lock);
	if ((sa = uesp_sadb_find(d->db, id)) != NULL) {
		uesp_sa_stats(sa, st);
		rc = 0;
	}
	pthread_rwlock_unlock(&d->lock);
	return rc;
}

static ssize_t
uesp_pol_index(const struct driver *d, const struct spd_id *id)
{
	size_t i;

	for (i = 0; i < d->npols; i++)
		if (d->pols[i]->id.index == id->index &&
		    d->pols[i]->id.dir == id->dir)
			return (ssize_t)i;
	return -1;
}

/* Unlink filter i (write lock held); the caller frees it. */
static struct uesp_pol *
uesp_pol_unlink(struct driver *d, size_t i)
{
	struct uesp_pol *pol = d->pols[i];

	memmove(&d->pols[i], &d->pols[i + 1],
	    (d->npols - i - 1) * sizeof(d->pols[0]));
	d->npols--;
	return pol;
}

static int
uesp_policy_add(struct driver *d, const struct spd_id *id,
    const struct spd_params *p)
{
	struct uesp_pol *pol, **np;
	uint64_t one = 1;
	size_t i;
	int rc;

	if ((id->dir != DRV_DIR_OUT && id->dir != DRV_DIR_IN) ||
	    p->action < DRV_ACT_PERMIT || p->action > DRV_ACT_PROTECT)
		return PA_E_INVAL;
	if (uesp_pol_index(d, id) >= 0)
		return PA_E_EXIST;
	if ((pol = calloc(1, sizeof(*pol))) == NULL)
		return PA_E_NOMEM;
	pol->id = *id;
	pol->p = *p;
	pol->seq = ++d->polseq;
	pol->qtail = &pol->qhead;
	pthread_rwlock_wrlock(&d->lock);
	if (d->npols == d->cappols) {
		size_t ncap = d->cappols == 0 ? 16 : d->cappols * 2;

		if ((np = reallocarray(d->pols, ncap, sizeof(*np))) == NULL) {
			pthread_rwlock_unlock(&d->lock);
			free(pol);
			return PA_E_NOMEM;
		}
		d->pols = np;
		d->cappols = ncap;
	}
	/* Lower priority first; equal priorities in insertion order. */
	for (i = d->npols; i > 0 && d->pols[i - 1]->p.priority >
	    p->priority; i--)
		d->pols[i] = d->pols[i - 1];
	d->pols[i] = pol;
	d->npols++;
	pthread_rwlock_unlock(&d->lock);
	if ((rc = uesp_nft_sync(d)) != 0) {
		pthread_rwlock_wrlock(&d->lock);
		free(uesp_pol_unlink(d, i));
		pthread_rwlock_unlock(&d->lock);
		if (uesp_nft_sync(d) != 0)
			log_warnx("uesp: filters could not be restored");
		return rc;
	}
	/* Packets held for a filter this one now overrides may go. */
	if (id->dir == DRV_DIR_OUT && p->action != DRV_ACT_PROTECT)
		(void)!write(d->wakefd, &one, sizeof(one));
	return 0;
}

static int
uesp_policy_del(struct driver *d, const struct spd_id *id)
{
	struct uesp_pol *pol;
	ssize_t i;

	pthread_rwlock_wrlock(&d->lock);
	if ((i = uesp_pol_index(d, id)) < 0) {
		pthread_rwlock_unlock(&d->lock);
		return PA_E_NOENT;
	}
	pol = uesp_pol_unlink(d, (size_t)i);
	uesp_qfree(d, pol, true);
	pthread_rwlock_unlock(&d->lock);
	free(pol);
	return uesp_nft_sync(d);
}

static int
uesp_flush(struct driver *d)
{
	struct uesp_sadb *ndb, *old;
	size_t i;

	if ((ndb = uesp_sadb_new()) == NULL)
		return PA_E_NOMEM;
	pthread_rwlock_wrlock(&d->lock);
	old = d->db;
	d->db = ndb;
	for (i = 0; i < d->npols; i++) {
		uesp_qfree(d, d->pols[i], true);
		free(d->pols[i]);
	}
	d->npols = 0;
	pthread_rwlock_unlock(&d->lock);
	uesp_sadb_free(old);
	return uesp_nft_sync(d);
}

static int
uesp_event_fd(struct driver *d)
{
	return d->evfd;
}

static void
uesp_stats_fill(struct driver *d, struct drv_stats *st)
{
	_Atomic uint64_t *in = d->drops[0], *out = d->drops[1];

	memset(st, 0, sizeof(*st));
	st->bad_spi = atomic_load(&in[DRV_DROP_BAD_SPI]);
	st->not_decrypted = atomic_load(&in[DRV_DROP_DECRYPT]) +
	    atomic_load(&in[DRV_DROP_SYNTAX]);
	st->not_authenticated = atomic_load(&in[DRV_DROP_ICV]);
	st->replay = atomic_load(&in[DRV_DROP_REPLAY]);
	st->cleartext_drops = atomic_load(&in[DRV_DROP_CLEARTEXT]) +
	    atomic_load(&d->nft_cleartext);
	st->blocked = atomic_load(&in[DRV_DROP_BLOCKED]) +
	    atomic_load(&out[DRV_DROP_BLOCKED]) +
	    atomic_load(&d->nft_blocked);
	st->out_dropped = atomic_load(&out[DRV_DROP_SYNTAX]) +
	    atomic_load(&out[DRV_DROP_TOO_BIG]) +
	    atomic_load(&out[DRV_DROP_NO_SA]);
	st->queued = atomic_load(&d->queued);
	st->queue_drops = atomic_load(&out[DRV_DROP_QUEUE_FULL]);
	st->conf_bytes_sent = atomic_load(&d->conf_sent);
	st->conf_bytes_recv = atomic_load(&d->conf_recv);
	st->auth_bytes_sent = atomic_load(&d->auth_sent);
	st->auth_bytes_recv = atomic_load(&d->auth_recv);
}

static int
uesp_dispatch(struct driver *d)
{
	struct uesp_ev *list, *e, *n;
	struct uesp_sa *sa;
	uint64_t v, cur, ct, bl;
	size_t r, x;

	(void)!read(d->evfd, &v, sizeof(v));
	pthread_mutex_lock(&d->evlock);
	list = d->evhead;
	d->evhead = NULL;
	d->evtail = &d->evhead;
	pthread_mutex_unlock(&d->evlock);
	for (e = list; e != NULL; e = n) {
		n = e->next;
		if (e->kind == UESP_EV_ACQUIRE) {
			if (d->ev.acquire != NULL)
				d->ev.acquire(d->cbarg, &e->spd, &e->sel,
				    e->reqid);
		} else {
			if (e->hard) {
				/* Gone: as the kernel does, remove it. */
				pthread_rwlock_wrlock(&d->lock);
				sa = uesp_sadb_remove(d->db, &e->sa);
				pthread_rwlock_unlock(&d->lock);
				uesp_sa_free(sa);
			}
			if (d->ev.expire != NULL)
				d->ev.expire(d->cbarg, &e->sa, e->cookie,
				    e->hard);
		}
		free(e);
	}
	ct = atomic_load(&d->nft_cleartext);
	bl = atomic_load(&d->nft_blocked);
	for (x = 0; x < 2; x++)
		for (r = 1; r < UESP_NDROP; r++) {
			struct uesp_droplast last;
			struct drv_drop dr;

			cur = atomic_load(&d->drops[x][r]);
			/* nftables counts inbound clear text, and blocks both
			 * ways (reported as inbound: it cannot tell). */
			if (x == 0 && r == DRV_DROP_CLEARTEXT)
				cur += ct;
			if (x == 0 && r == DRV_DROP_BLOCKED)
				cur += bl;
			if (cur == d->drops_told[x][r])
				continue;
			pthread_mutex_lock(&d->evlock);
			last = d->drop_last[x][r];
			pthread_mutex_unlock(&d->evlock);
			if (d->ev.drop != NULL) {
				memset(&dr, 0, sizeof(dr));
				dr.reason = (enum drv_drop_reason)r;
				dr.dir = x == 1 ? DRV_DIR_OUT : DRV_DIR_IN;
				dr.peer = last.peer;
				dr.proto = last.proto;
				dr.spi = last.spi;
				dr.count = cur - d->drops_told[x][r];
				d->ev.drop(d->cbarg, &dr);
			}
			d->drops_told[x][r] = cur;
		}
	return 0;
}

/* Everything goes, ours and any predecessor's: traffic flows in clear. */
static int
uesp_clear(struct driver *d)
{
	int rc, r2, r3;

	rc = uesp_flush(d);
	r2 = uesp_nft_drop_old(d, true);
	r3 = uesp_io_unroute(d);
	d->cleared = true;
	return rc != 0 ? rc : r2 != 0 ? r2 : r3;
}

/* Our first policy is in: a predecessor's tables go (the routing is
 * shared and stays). */
static int
uesp_settle(struct driver *d)
{
	d->lo_routing = false;
	return uesp_nft_drop_old(d, false);
}

static int
uesp_stats(struct driver *d, struct drv_stats *st)
{
	uint64_t ct = 0, bl = 0;

	/* Fresh kernel counters (the housekeeping copy may lag). */
	if (uesp_nft_counters(d, false, &ct, &bl) == 0) {
		atomic_store(&d->nft_cleartext, ct);
		atomic_store(&d->nft_blocked, bl);
	}
	uesp_stats_fill(d, st);
	pthread_rwlock_rdlock(&d->lock);
	st->active_sas = uesp_sadb_count(d->db);
	pthread_rwlock_unlock(&d->lock);
	return 0;
}

/* Our own sockets' mark: the steering chain lets it pass untouched. */
static int
uesp_socket_bypass(struct driver *d, int fd, int family)
{
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &d->bypass,
	    sizeof(d->bypass)) != 0)
		return PA_E_SYS;
	uesp_io_udp_sock(d, fd, family);
	return 0;
}

/* diag: the TUN device is ours and up, and the table holds our rules. */
static int
uesp_check(struct driver *d, char *why, size_t cap)
{
	struct ifreq ifr;
	int fd, up;
	char nft[256];
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", d->ifname);
	if (if_nametoindex(d->ifname) != d->ifindex) {
		snprintf(why, cap, "TUN device %s is gone", d->ifname);
		return PA_E_NOENT;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return PA_E_SYS;
	up = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
	close(fd);
	if (!up) {
		snprintf(why, cap, "TUN device %s is down", d->ifname);
		return PA_E_INVAL;
	}
	if ((rc = uesp_nft_check(d, nft, sizeof(nft))) != 0) {
		snprintf(why, cap, "%s", nft);
		return rc;
	}
	snprintf(why, cap, "TUN device %s up; %s", d->ifname, nft);
	return 0;
}

const struct driver_ops uesp_driver_ops = {
	.name = "uesp",
	.features = DRV_F_ESP | DRV_F_AH | DRV_F_UDPENCAP | DRV_F_TUNNEL |
	    DRV_F_TRANSPORT | DRV_F_GCM | DRV_F_QUEUE | DRV_F_BYTE_LIFETIME,
	.open = uesp_open,
	.close = uesp_close,
	.spi_alloc = uesp_spi_alloc,
	.sa_add = uesp_sa_add,
	.sa_del = uesp_sa_del,
	.sa_query = uesp_sa_query,
	.policy_add = uesp_policy_add,
	.policy_del = uesp_policy_del,
	.flush = uesp_flush,
	.clear = uesp_clear,
	.settle = uesp_settle,
	.event_fd = uesp_event_fd,
	.dispatch = uesp_dispatch,
	.stats = uesp_stats,
	.socket_bypass = uesp_socket_bypass,
	.check = uesp_check,
};
