/*
 * The "null" backend: records calls, installs nothing. See null_driver.h.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "null_driver.h"
#include "pa_secret.h"
#include "pa_time.h"

enum null_ev_kind {
	NULL_EV_ACQUIRE = 1,
	NULL_EV_EXPIRE,
	NULL_EV_DROP
};

struct null_ev {
	struct null_ev		*next;
	enum null_ev_kind	 kind;
	struct spd_id		 spd;
	struct drv_sel		 sel;
	uint32_t		 reqid;
	struct sa_id		 sa;
	bool			 hard;
	enum drv_drop_reason	 reason;
	struct pa_addr		 peer;
	uint64_t		 count;
};

struct driver {
	struct driver_events	 ev;
	void			*cbarg;
	int			 efd;
	uint32_t		 next_spi;
	unsigned		 calls[NULL_OP_MAX];
	int			 fail[NULL_OP_MAX];
	struct null_call	*log;
	size_t			 nlog, caplog;
	struct null_sa		*sas;
	size_t			 nsas, capsas;
	struct null_policy	*pols;
	size_t			 npols, cappols;
	struct null_ev		*evhead, **evtail;
	struct drv_stats	 st;
};

static int
null_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if ((p = reallocarray(*arr, ncap, elem)) == NULL)
		return PA_E_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Count the call, record it in the log, and apply an injected failure. */
static int
null_enter(struct driver *d, enum null_op op, const struct sa_id *sa,
    const struct spd_id *spd)
{
	struct null_call *c;
	int rc;

	d->calls[op]++;
	if (null_grow((void **)&d->log, &d->caplog, d->nlog,
	    sizeof(*d->log)) != 0)
		return PA_E_NOMEM;
	c = &d->log[d->nlog++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	if (sa != NULL)
		c->sa = *sa;
	if (spd != NULL)
		c->spd = *spd;
	rc = d->fail[op];
	d->fail[op] = 0;
	c->rc = rc;
	return rc;
}

static void
null_leave(struct driver *d, int rc)
{
	if (d->nlog > 0)
		d->log[d->nlog - 1].rc = rc;
}

static bool
null_sa_id_eq(const struct sa_id *a, const struct sa_id *b)
{
	return a->spi == b->spi && a->proto == b->proto &&
	    pa_addr_eq(&a->dst, &b->dst);
}

static ssize_t
null_sa_index(const struct driver *d, const struct sa_id *id)
{
	size_t i;

	for (i = 0; i < d->nsas; i++)
		if (null_sa_id_eq(&d->sas[i].id, id))
			return (ssize_t)i;
	return -1;
}

static ssize_t
null_policy_index(const struct driver *d, const struct spd_id *id)
{
	size_t i;

	for (i = 0; i < d->npols; i++)
		if (d->pols[i].id.index == id->index &&
		    d->pols[i].id.dir == id->dir)
			return (ssize_t)i;
	return -1;
}

static void
null_sa_remove(struct driver *d, size_t i)
{
	pa_wipe(&d->sas[i], sizeof(d->sas[i]));
	memmove(&d->sas[i], &d->sas[i + 1],
	    (d->nsas - i - 1) * sizeof(d->sas[0]));
	d->nsas--;
	pa_wipe(&d->sas[d->nsas], sizeof(d->sas[0]));
}

static void
null_signal(struct driver *d)
{
	uint64_t one = 1;

	/* The counter cannot overflow in practice; EAGAIN leaves it readable. */
	(void)!write(d->efd, &one, sizeof(one));
}

static int
null_queue(struct driver *d, struct null_ev *e)
{
	struct null_ev *n;

	if ((n = malloc(sizeof(*n))) == NULL)
		return PA_E_NOMEM;
	*n = *e;
	n->next = NULL;
	*d->evtail = n;
	d->evtail = &n->next;
	null_signal(d);
	return 0;
}

static int
null_open(const struct driver_cfg *cfg, const struct driver_events *ev,
    void *cbarg, struct driver **out)
{
	struct driver *d;

	(void)cfg;
	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return PA_E_NOMEM;
	if ((d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		free(d);
		return PA_E_SYS;
	}
	if (ev != NULL)
		d->ev = *ev;
	d->cbarg = cbarg;
	d->next_spi = NULL_SPI_FIRST;
	d->evtail = &d->evhead;
	*out = d;
	return 0;
}

static void
null_close(struct driver *d)
{
	struct null_ev *e, *n;

	if (d == NULL)
		return;
	for (e = d->evhead; e != NULL; e = n) {
		n = e->next;
		free(e);
	}
	if (d->sas != NULL)
		pa_wipe(d->sas, d->capsas * sizeof(d->sas[0]));
	free(d->sas);
	free(d->pols);
	free(d->log);
	close(d->efd);
	free(d);
}

static int
null_spi_alloc(struct driver *d, const struct sa_id *id, uint32_t *spi)
{
	int rc;

	if ((rc = null_enter(d, NULL_OP_SPI_ALLOC, id, NULL)) != 0)
		return rc;
	*spi = d->next_spi++;
	if (d->next_spi == 0)
		d->next_spi = NULL_SPI_FIRST;
	d->log[d->nlog - 1].sa.spi = *spi;
	return 0;
}

static int
null_sa_add(struct driver *d, const struct sa_id *id,
    const struct sa_params *p)
{
	struct null_sa *s;
	int rc;

	if ((rc = null_enter(d, NULL_OP_SA_ADD, id, NULL)) != 0)
		return rc;
	if (p->enc_key_len > sizeof(p->enc_key) ||
	    p->auth_key_len > sizeof(p->auth_key) ||
	    (id->proto != DRV_PROTO_ESP && id->proto != DRV_PROTO_AH))
		rc = PA_E_INVAL;
	else if (null_sa_index(d, id) >= 0)
		rc = PA_E_EXIST;
	else
		rc = null_grow((void **)&d->sas, &d->capsas, d->nsas,
		    sizeof(*d->sas));
	if (rc != 0) {
		null_leave(d, rc);
		return rc;
	}
	s = &d->sas[d->nsas++];
	memset(s, 0, sizeof(*s));
	s->id = *id;
	s->params = *p;
	s->stats.add_time = (uint64_t)pa_wall_s();
	d->st.active_sas = d->nsas;
	return 0;
}

static int
null_sa_del(struct driver *d, const struct sa_id *id)
{
	ssize_t i;
	int rc;

	if ((rc = null_enter(d, NULL_OP_SA_DEL, id, NULL)) != 0)
		return rc;
	if ((i = null_sa_index(d, id)) < 0) {
		null_leave(d, PA_E_NOENT);
		return PA_E_NOENT;
	}
	null_sa_remove(d, (size_t)i);
	d->st.active_sas = d->nsas;
	return 0;
}

static int
null_sa_query(struct driver *d, const struct sa_id *id, struct sa_stats *st)
{
	ssize_t i;
	int rc;

	if ((rc = null_enter(d, NULL_OP_SA_QUERY, id, NULL)) != 0)
		return rc;
	if ((i = null_sa_index(d, id)) < 0) {
		null_leave(d, PA_E_NOENT);
		return PA_E_NOENT;
	}
	*st = d->sas[i].stats;
	return 0;
}

static int
null_policy_add(struct driver *d, const struct spd_id *id,
    const struct spd_params *p)
{
	struct null_policy *pol;
	int rc;

	if ((rc = null_enter(d, NULL_OP_POLICY_ADD, NULL, id)) != 0)
		return rc;
	if ((id->dir != DRV_DIR_OUT && id->dir != DRV_DIR_IN) ||
	    p->action < DRV_ACT_PERMIT || p->action > DRV_ACT_PROTECT)
		rc = PA_E_INVAL;
	else if (null_policy_index(d, id) >= 0)
		rc = PA_E_EXIST;
	else
		rc = null_grow((void **)&d->pols, &d->cappols, d->npols,
		    sizeof(*d->pols));
	if (rc != 0) {
		null_leave(d, rc);
		return rc;
	}
	pol = &d->pols[d->npols++];
	pol->id = *id;
	pol->params = *p;
	return 0;
}

static int
null_policy_del(struct driver *d, const struct spd_id *id)
{
	ssize_t i;
	int rc;

	if ((rc = null_enter(d, NULL_OP_POLICY_DEL, NULL, id)) != 0)
		return rc;
	if ((i = null_policy_index(d, id)) < 0) {
		null_leave(d, PA_E_NOENT);
		return PA_E_NOENT;
	}
	memmove(&d->pols[i], &d->pols[i + 1],
	    (d->npols - (size_t)i - 1) * sizeof(d->pols[0]));
	d->npols--;
	return 0;
}

/* flush() and clear() (recorded as op): every SA and filter gone. */
static int
null_empty(struct driver *d, enum null_op op)
{
	int rc;

	if ((rc = null_enter(d, op, NULL, NULL)) != 0)
		return rc;
	while (d->nsas > 0)
		null_sa_remove(d, d->nsas - 1);
	d->npols = 0;
	d->st.active_sas = 0;
	return 0;
}

static int
null_flush(struct driver *d)
{
	return null_empty(d, NULL_OP_FLUSH);
}

static int
null_event_fd(struct driver *d)
{
	return d->efd;
}

/*
 * Raise queued events. Each is unlinked before its callback runs, so a
 * callback may call back into the driver (add an SA, inject more events).
 */
static int
null_dispatch(struct driver *d)
{
	struct null_ev *e;
	uint64_t v;
	ssize_t i;
	int rc;

	if ((rc = null_enter(d, NULL_OP_DISPATCH, NULL, NULL)) != 0)
		return rc;
	if (read(d->efd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		return PA_E_SYS;
	while ((e = d->evhead) != NULL) {
		d->evhead = e->next;
		if (d->evhead == NULL)
			d->evtail = &d->evhead;
		switch (e->kind) {
		case NULL_EV_ACQUIRE:
			if (d->ev.acquire != NULL)
				d->ev.acquire(d->cbarg, &e->spd, &e->sel,
				    e->reqid);
			break;
		case NULL_EV_EXPIRE: {
			uint64_t cookie = 0;

			if ((i = null_sa_index(d, &e->sa)) >= 0) {
				cookie = d->sas[i].params.cookie;
				if (e->hard) {
					null_sa_remove(d, (size_t)i);
					d->st.active_sas = d->nsas;
				}
			}
			if (d->ev.expire != NULL)
				d->ev.expire(d->cbarg, &e->sa, cookie, e->hard);
			break;
		}
		case NULL_EV_DROP:
			if (d->ev.drop != NULL) {
				struct drv_drop dr;

				memset(&dr, 0, sizeof(dr));
				dr.reason = e->reason;
				dr.dir = e->reason == DRV_DROP_QUEUE_FULL ||
				    e->reason == DRV_DROP_TOO_BIG ||
				    e->reason == DRV_DROP_NO_SA ? DRV_DIR_OUT :
				    DRV_DIR_IN;
				dr.peer = e->peer;
				dr.count = e->count;
				d->ev.drop(d->cbarg, &dr);
			}
			break;
		}
		free(e);
	}
	return 0;
}

static int
null_clear(struct driver *d)
{
	return null_empty(d, NULL_OP_CLEAR);
}

static int
null_settle(struct driver *d)
{
	return null_enter(d, NULL_OP_SETTLE, NULL, NULL);
}

static int
null_stats(struct driver *d, struct drv_stats *st)
{
	*st = d->st;
	st->active_sas = d->nsas;
	return 0;
}

unsigned
null_calls(const struct driver *d, enum null_op op)
{
	return op < NULL_OP_MAX ? d->calls[op] : 0;
}

size_t
null_log_len(const struct driver *d)
{
	return d->nlog;
}

const struct null_call *
null_log_get(const struct driver *d, size_t i)
{
	return i < d->nlog ? &d->log[i] : NULL;
}

size_t
null_sa_count(const struct driver *d)
{
	return d->nsas;
}

const struct null_sa *
null_sa_get(const struct driver *d, size_t i)
{
	return i < d->nsas ? &d->sas[i] : NULL;
}

const struct null_sa *
null_sa_find(const struct driver *d, const struct sa_id *id)
{
	ssize_t i = null_sa_index(d, id);

	return i < 0 ? NULL : &d->sas[i];
}

size_t
null_policy_count(const struct driver *d)
{
	return d->npols;
}

const struct null_policy *
null_policy_get(const struct driver *d, size_t i)
{
	return i < d->npols ? &d->pols[i] : NULL;
}

const struct null_policy *
null_policy_find(const struct driver *d, const struct spd_id *id)
{
	ssize_t i = null_policy_index(d, id);

	return i < 0 ? NULL : &d->pols[i];
}

static bool
null_port_ok(uint16_t want, uint16_t got)
{
	return want == 0 || want == got;
}

const struct null_policy *
null_policy_winner(const struct driver *d, enum drv_dir dir,
    const struct drv_sel *pkt)
{
	const struct null_policy *best = NULL;
	size_t i;

	for (i = 0; i < d->npols; i++) {
		const struct null_policy *p = &d->pols[i];
		const struct drv_sel *s = &p->params.sel;

		if (p->id.dir != dir ||
		    (s->src.addr.family != 0 &&
		    !pa_prefix_contains(&s->src, &pkt->src.addr)) ||
		    (s->dst.addr.family != 0 &&
		    !pa_prefix_contains(&s->dst, &pkt->dst.addr)) ||
		    (s->proto != 0 && s->proto != pkt->proto) ||
		    !null_port_ok(s->sport, pkt->sport) ||
		    !null_port_ok(s->dport, pkt->dport))
			continue;
		if (best == NULL || p->params.priority < best->params.priority)
			best = p;
	}
	return best;
}

void
null_fail_next(struct driver *d, enum null_op op, int err)
{
	if (op < NULL_OP_MAX)
		d->fail[op] = err;
}

int
null_sa_traffic(struct driver *d, const struct sa_id *id, uint64_t bytes,
    uint64_t packets)
{
	struct null_sa *s;
	ssize_t i;

	if ((i = null_sa_index(d, id)) < 0)
		return PA_E_NOENT;
	s = &d->sas[i];
	s->stats.bytes += bytes;
	s->stats.packets += packets;
	s->stats.use_time = (uint64_t)pa_wall_s();
	if (s->params.inbound)
		d->st.conf_bytes_recv += bytes;
	else
		d->st.conf_bytes_sent += bytes;
	return 0;
}

int
null_inject_acquire(struct driver *d, const struct spd_id *spd,
    const struct drv_sel *pkt, uint32_t reqid)
{
	struct null_ev e;

	memset(&e, 0, sizeof(e));
	e.kind = NULL_EV_ACQUIRE;
	e.spd = *spd;
	e.sel = *pkt;
	e.reqid = reqid;
	return null_queue(d, &e);
}

int
null_inject_expire(struct driver *d, const struct sa_id *sa, bool hard)
{
	struct null_ev e;

	memset(&e, 0, sizeof(e));
	e.kind = NULL_EV_EXPIRE;
	e.sa = *sa;
	e.hard = hard;
	return null_queue(d, &e);
}

int
null_inject_drop(struct driver *d, enum drv_drop_reason reason,
    const struct pa_addr *peer, uint64_t count)
{
	struct null_ev e;

	memset(&e, 0, sizeof(e));
	e.kind = NULL_EV_DROP;
	e.reason = reason;
	if (peer != NULL)
		e.peer = *peer;
	e.count = count;
	switch (reason) {
	case DRV_DROP_BAD_SPI:
		d->st.bad_spi += count;
		break;
	case DRV_DROP_REPLAY:
		d->st.replay += count;
		break;
	case DRV_DROP_ICV:
		d->st.not_authenticated += count;
		break;
	case DRV_DROP_DECRYPT:
	case DRV_DROP_SYNTAX:
		d->st.not_decrypted += count;
		break;
	case DRV_DROP_CLEARTEXT:
		d->st.cleartext_drops += count;
		break;
	case DRV_DROP_BLOCKED:
		d->st.blocked += count;
		break;
	case DRV_DROP_QUEUE_FULL:
		d->st.queue_drops += count;
		break;
	case DRV_DROP_TOO_BIG:
	case DRV_DROP_NO_SA:
		d->st.out_dropped += count;
		break;
	}
	return null_queue(d, &e);
}

static int
null_socket_bypass(struct driver *d, int fd, int family)
{
	int rc;

	if ((rc = null_enter(d, NULL_OP_SOCKET_BYPASS, NULL, NULL)) != 0)
		return rc;
	if (fd < 0 || (family != AF_INET && family != AF_INET6)) {
		null_leave(d, PA_E_INVAL);
		return PA_E_INVAL;
	}
	return 0;
}

const struct driver_ops null_driver_ops = {
	.name = "null",
	.features = DRV_F_ESP | DRV_F_AH | DRV_F_UDPENCAP | DRV_F_TUNNEL |
	    DRV_F_TRANSPORT | DRV_F_GCM | DRV_F_BYTE_LIFETIME,
	.open = null_open,
	.close = null_close,
	.spi_alloc = null_spi_alloc,
	.sa_add = null_sa_add,
	.sa_del = null_sa_del,
	.sa_query = null_sa_query,
	.policy_add = null_policy_add,
	.policy_del = null_policy_del,
	.flush = null_flush,
	.clear = null_clear,
	.settle = null_settle,
	.event_fd = null_event_fd,
	.dispatch = null_dispatch,
	.stats = null_stats,
	.socket_bypass = null_socket_bypass,
};
