/*
 * The uesp data path: the TUN device, raw sockets for ESP/AH (IP
 * protocols 50/51) and ESP-in-UDP, and two threads off the control
 * thread: TX (TUN -> filters -> engine -> raw socket) and RX (raw sockets
 * -> engine -> TUN), so encryption and decryption run on both cores.
 * Each SA is used by one of them only (outbound by TX, inbound by RX).
 */
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pa_log.h"
#include "pa_time.h"
#include "uesp_priv.h"

#define UESP_BATCH	64
#define UESP_BUF	(UESP_MAX_PKT + UESP_MAX_OVERHEAD)
#define UESP_RX_EMPTY	1	/* uesp_rx_recv: nothing left to read */

static const uint8_t uesp_rx_proto[UESP_NRX] = {
	IPPROTO_ESP, IPPROTO_AH, IPPROTO_UDP,
	IPPROTO_ESP, IPPROTO_AH, IPPROTO_UDP
};

static void
uesp_signal(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

static void
uesp_drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

void
uesp_post(struct driver *d, struct uesp_ev *e)
{
	struct uesp_ev *n;

	if ((n = malloc(sizeof(*n))) == NULL)
		return;
	*n = *e;
	n->next = NULL;
	pthread_mutex_lock(&d->evlock);
	*d->evtail = n;
	d->evtail = &n->next;
	pthread_mutex_unlock(&d->evlock);
	uesp_signal(d->evfd);
}

void
uesp_count_drop(struct driver *d, enum drv_dir dir, enum drv_drop_reason why,
    const struct pa_addr *peer, uint8_t proto, uint32_t spi)
{
	int x = UESP_DIX(dir);

	if ((unsigned)why >= UESP_NDROP || why == 0)
		why = DRV_DROP_SYNTAX;
	atomic_fetch_add_explicit(&d->drops[x][why], 1, memory_order_relaxed);
	if ((peer != NULL && peer->family != 0) || spi != 0) {
		pthread_mutex_lock(&d->evlock);
		if (peer != NULL && peer->family != 0)
			d->drop_last[x][why].peer = *peer;
		d->drop_last[x][why].proto = proto;
		d->drop_last[x][why].spi = spi;
		pthread_mutex_unlock(&d->evlock);
	}
}

static void
uesp_post_life(struct driver *d, struct uesp_sa *sa, enum uesp_life life)
{
	struct uesp_ev e;

	if (life == UESP_LIFE_OK || sa == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.kind = UESP_EV_EXPIRE;
	e.sa = *uesp_sa_id(sa);
	e.cookie = uesp_sa_params(sa)->cookie;
	e.hard = life == UESP_LIFE_HARD;
	uesp_post(d, &e);
}

void
uesp_qfree(struct driver *d, struct uesp_pol *pol, bool count)
{
	struct uesp_qpkt *q, *n;

	for (q = pol->qhead; q != NULL; q = n) {
		n = q->next;
		if (count)
			uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_QUEUE_FULL,
			    NULL, 0, 0);
		free(q);
	}
	pol->qhead = NULL;
	pol->qtail = &pol->qhead;
	pol->qlen = 0;
}

struct uesp_pol *
uesp_pol_match(struct driver *d, enum drv_dir dir, const struct drv_sel *ps)
{
	size_t i;

	for (i = 0; i < d->npols; i++)
		if (d->pols[i]->id.dir == dir &&
		    uesp_sel_match(&d->pols[i]->p.sel, ps))
			return d->pols[i];
	return NULL;
}

/*
 * Outgoing packets of one TX round, sent with one sendmmsg() per
 * address family run.
 */
struct uesp_txb {
	size_t			n;
	uint8_t			*buf[UESP_BATCH];
	size_t			len[UESP_BATCH];
	struct sockaddr_storage	to[UESP_BATCH];
	socklen_t		tolen[UESP_BATCH];
	int			fd[UESP_BATCH];
	struct pa_addr		dst[UESP_BATCH];
	/* ESP-in-UDP from the NAT-T port: where the ESP packet starts
	 * (0: not for GSO), the source address and the peer's port. */
	size_t			uoff[UESP_BATCH];
	struct pa_addr		src[UESP_BATCH];
	uint16_t		dport[UESP_BATCH];
	uint32_t		spi[UESP_BATCH], seq[UESP_BATCH];
	/* The outermost SA of each slot (0: sent in clear), for drops. */
	uint8_t			oproto[UESP_BATCH];
	uint32_t		ospi[UESP_BATCH];
};

#define UESP_GSO_MAXSEGS	64	/* UDP_MAX_SEGMENTS */
#define UESP_GSO_MAXLEN		65000	/* UDP payload of one aggregate */

/* Raw sends of slots [i, end), one sendmmsg() per socket run. */
static void
uesp_txb_send_raw(struct driver *d, struct uesp_txb *b, size_t i, size_t end)
{
	struct mmsghdr mm[UESP_BATCH];
	struct iovec iov[UESP_BATCH];
	size_t j, k;
	int r;

	while (i < end) {
		/* A run of packets for the same socket. */
		for (j = i; j < end && b->fd[j] == b->fd[i]; j++) {
			memset(&mm[j - i], 0, sizeof(mm[0]));
			iov[j - i].iov_base = b->buf[j];
			iov[j - i].iov_len = b->len[j];
			mm[j - i].msg_hdr.msg_iov = &iov[j - i];
			mm[j - i].msg_hdr.msg_iovlen = 1;
			mm[j - i].msg_hdr.msg_name = &b->to[j];
			mm[j - i].msg_hdr.msg_namelen = b->tolen[j];
		}
		for (k = 0; k < j - i; ) {
			r = sendmmsg(b->fd[i], &mm[k], (unsigned)(j - i - k), 0);
			if (r <= 0) {
				/* This one failed (EMSGSIZE...): skip it. */
				if (errno != EAGAIN && errno != ENOBUFS)
					uesp_count_drop(d, DRV_DIR_OUT,
					    errno == EMSGSIZE ?
					    DRV_DROP_TOO_BIG : DRV_DROP_SYNTAX,
					    &b->dst[i + k], b->oproto[i + k],
					    b->ospi[i + k]);
				k++;
				continue;
			}
			k += (size_t)r;
		}
		i = j;
	}
}

/*
 * How many slots from i form one UDP GSO aggregate: ESP-in-UDP from the
 * NAT-T port to the same peer and port, all as long as the first but the
 * last (which may be shorter), above UESP_GSO_MIN in all so that the
 * receiver knows to look for the cuts. 0 or 1: send as they are.
 */
static size_t
uesp_txb_gso_run(struct driver *d, const struct uesp_txb *b, size_t i)
{
	size_t j, seg, tot;

	if (b->uoff[i] == 0 || atomic_load_explicit(&d->gso_broken,
	    memory_order_relaxed))
		return 0;
	seg = b->len[i] - b->uoff[i];
	tot = seg;
	for (j = i + 1; j < b->n && j - i < UESP_GSO_MAXSEGS; j++) {
		size_t l = b->len[j] - b->uoff[j];

		/* One SA, sequence numbers in a row: how the receiver finds
		 * the cuts in an aggregate that reaches it whole. */
		if (b->uoff[j] == 0 || l > seg || tot + l > UESP_GSO_MAXLEN ||
		    b->spi[j] != b->spi[i] || b->seq[j] != b->seq[j - 1] + 1 ||
		    b->dport[j] != b->dport[i] ||
		    !pa_addr_eq(&b->dst[j], &b->dst[i]) ||
		    !pa_addr_eq(&b->src[j], &b->src[i]))
			break;
		tot += l;
		if (l < seg) {
			j++;
			break;
		}
	}
	return tot > UESP_GSO_MIN ? j - i : 0;
}

/* Send slots [i, i + cnt) as one UDP GSO aggregate; false: not sent. */
static bool
uesp_txb_send_gso(struct driver *d, struct uesp_txb *b, size_t i, size_t cnt)
{
	struct iovec iov[UESP_GSO_MAXSEGS];
	struct sockaddr_storage to;
	struct msghdr mh;
	struct cmsghdr *cm;
	union {
		char		buf[CMSG_SPACE(sizeof(uint16_t)) +
				    CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	align;
	} cbuf;
	uint16_t seg = (uint16_t)(b->len[i] - b->uoff[i]);
	int fd = b->dst[i].family == AF_INET ?
	    atomic_load_explicit(&d->udp4, memory_order_relaxed) :
	    atomic_load_explicit(&d->udp6, memory_order_relaxed);
	size_t k;

	if (fd < 0)
		return false;
	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	for (k = 0; k < cnt; k++) {
		iov[k].iov_base = b->buf[i + k] + b->uoff[i + k];
		iov[k].iov_len = b->len[i + k] - b->uoff[i + k];
	}
	pa_addr_to_sockaddr(&b->dst[i], b->dport[i], &to, &mh.msg_namelen);
	mh.msg_name = &to;
	mh.msg_iov = iov;
	mh.msg_iovlen = cnt;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	/* The SA's local address, whatever the socket is bound to. */
	cm = CMSG_NXTHDR(&mh, cm);
	if (b->src[i].family == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, b->src[i].a, 4);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(seg)) +
		    CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi6_addr, b->src[i].a, 16);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(seg)) +
		    CMSG_SPACE(sizeof(pi));
	}
	if (sendmsg(fd, &mh, MSG_DONTWAIT) >= 0) {
		atomic_fetch_add_explicit(&d->gso_sends, 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&d->gso_segs, cnt,
		    memory_order_relaxed);
		return true;
	}
	if (errno == EAGAIN || errno == ENOBUFS)
		return false;		/* the raw socket may have room */
	/* No UDP GSO here (EIO: no checksum offload on the route...). */
	if (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP ||
	    errno == ENOPROTOOPT) {
		log_info("uesp: no UDP GSO (%s): ESP-in-UDP sent per packet",
		    strerror(errno));
		atomic_store(&d->gso_broken, true);
	}
	return false;
}

static void
uesp_txb_flush(struct driver *d, struct uesp_txb *b)
{
	size_t i = 0, raw = 0, cnt;

	while (i < b->n) {
		if ((cnt = uesp_txb_gso_run(d, b, i)) < 2) {
			i++;
			continue;
		}
		/* What came before goes first: order is kept. */
		uesp_txb_send_raw(d, b, raw, i);
		if (!uesp_txb_send_gso(d, b, i, cnt))
			uesp_txb_send_raw(d, b, i, i + cnt);
		i += cnt;
		raw = i;
	}
	uesp_txb_send_raw(d, b, raw, b->n);
	b->n = 0;
}

/* The next free slot of the batch (flushing it when full). */
static uint8_t *
uesp_txb_slot(struct driver *d, struct uesp_txb *b)
{
	if (b->n == UESP_BATCH)
		uesp_txb_flush(d, b);
	return b->buf[b->n];
}

/*
 * Is slot i (built by the engine) ESP-in-UDP from the NAT-T port, for
 * which we hold a UDP socket? Note where its ESP packet starts.
 */
static void
uesp_txb_classify(struct driver *d, struct uesp_txb *b, size_t i)
{
	struct rd r;
	uint8_t v, proto;
	uint16_t sport;
	size_t hl;

	b->uoff[i] = 0;
	rd_init(&r, b->buf[i], b->len[i]);
	if (rd_peek_u8(&r, &v) != 0)
		return;
	if (v >> 4 == 4) {
		if (atomic_load_explicit(&d->udp4, memory_order_relaxed) < 0)
			return;
		hl = (size_t)(v & 0xf) * 4;
		if (rd_skip(&r, 9) != 0 || rd_u8(&r, &proto) != 0 ||
		    rd_skip(&r, 2) != 0)
			return;
		memset(&b->src[i], 0, sizeof(b->src[i]));
		b->src[i].family = AF_INET;
		if (rd_copy(&r, b->src[i].a, 4) != 0 || rd_skip(&r, 4) != 0 ||
		    rd_skip(&r, hl - 20) != 0)
			return;
	} else if (v >> 4 == 6) {
		if (atomic_load_explicit(&d->udp6, memory_order_relaxed) < 0)
			return;
		hl = 40;
		if (rd_skip(&r, 6) != 0 || rd_u8(&r, &proto) != 0 ||
		    rd_skip(&r, 1) != 0)
			return;
		memset(&b->src[i], 0, sizeof(b->src[i]));
		b->src[i].family = AF_INET6;
		if (rd_copy(&r, b->src[i].a, 16) != 0 || rd_skip(&r, 16) != 0)
			return;
	} else
		return;
	if (proto != IPPROTO_UDP || rd_u16(&r, &sport) != 0 ||
	    rd_u16(&r, &b->dport[i]) != 0 || rd_skip(&r, 4) != 0 ||
	    rd_u32(&r, &b->spi[i]) != 0 || rd_u32(&r, &b->seq[i]) != 0)
		return;
	if (sport == d->cfg.natt_port && b->spi[i] != 0)
		b->uoff[i] = hl + 8;
}

/* Commit len bytes written into the current slot, to dst. */
static void
uesp_txb_commit(struct driver *d, struct uesp_txb *b, size_t len,
    const struct pa_addr *dst, uint8_t proto, uint32_t spi)
{
	int fd = dst->family == AF_INET ? d->tx4 : d->tx6;

	if (fd < 0)
		return;
	b->len[b->n] = len;
	b->fd[b->n] = fd;
	b->dst[b->n] = *dst;
	b->oproto[b->n] = proto;
	b->ospi[b->n] = spi;
	pa_addr_to_sockaddr(dst, 0, &b->to[b->n], &b->tolen[b->n]);
	uesp_txb_classify(d, b, b->n);
	b->n++;
}

static struct uesp_txb *
uesp_txb_new(void)
{
	struct uesp_txb *b;
	size_t i;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	for (i = 0; i < UESP_BATCH; i++)
		if ((b->buf[i] = malloc(UESP_BUF)) == NULL)
			return NULL;	/* fatal for the caller anyway */
	return b;
}

static void
uesp_txb_free(struct uesp_txb *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < UESP_BATCH; i++)
		free(b->buf[i]);
	free(b);
}

static void	uesp_write_plain(struct driver *, const uint8_t *, size_t);

/*
 * The path MTU towards an outer destination, as the kernel knows it (the
 * route's, lowered by ICMP "fragmentation needed" it received), from a
 * connected UDP socket with our bypass mark; cached for UESP_PMTU_MS.
 * 0: not known (send as it is). In transport mode the inner and outer
 * destinations are one address: the MTU our own ICMP taught the kernel for
 * the inner packets shows here too, and is not the path's.
 */
static struct uesp_pmtu *
uesp_pmtu_entry(struct driver *d, const struct pa_addr *dst)
{
	size_t i;

	for (i = 0; i < sizeof(d->pmtu) / sizeof(d->pmtu[0]); i++)
		if (pa_addr_eq(&d->pmtu[i].dst, dst))
			return &d->pmtu[i];
	return NULL;
}

static unsigned
uesp_pmtu(struct driver *d, const struct pa_addr *dst)
{
	struct uesp_pmtu *c = NULL;
	struct sockaddr_storage ss;
	socklen_t sl, ol;
	uint64_t now = pa_now_ms();
	int fd, mtu = 0;

	if ((c = uesp_pmtu_entry(d, dst)) != NULL && now - c->t_ms <
	    UESP_PMTU_MS)
		return c->mtu;
	if (c == NULL) {
		c = &d->pmtu[d->pmtu_next];
		d->pmtu_next = (d->pmtu_next + 1) %
		    (unsigned)(sizeof(d->pmtu) / sizeof(d->pmtu[0]));
		memset(c, 0, sizeof(*c));
	}
	pa_addr_to_sockaddr(dst, 4500, &ss, &sl);
	if ((fd = socket(dst->family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
		ol = sizeof(mtu);
		if (setsockopt(fd, SOL_SOCKET, SO_MARK, &d->bypass,
		    sizeof(d->bypass)) != 0 ||
		    connect(fd, (struct sockaddr *)&ss, sl) != 0 ||
		    getsockopt(fd, dst->family == AF_INET ? IPPROTO_IP :
		    IPPROTO_IPV6, dst->family == AF_INET ? IP_MTU : IPV6_MTU,
		    &mtu, &ol) != 0 || mtu < 68)
			mtu = 0;
		close(fd);
	}
	c->dst = *dst;
	if (c->adv_lo != 0 && (unsigned)mtu >= c->adv_lo &&
	    (unsigned)mtu <= c->adv_hi)
		c->mtu = c->real;
	else
		c->mtu = c->real = (unsigned)mtu;
	c->t_ms = now;
	return c->mtu;
}

struct uesp_frag_ctx {
	struct driver		*d;
	struct uesp_txb		*b;
	const struct pa_addr	*dst;
	uint8_t			 proto;
	uint32_t		 spi;
};

static int
uesp_frag_commit(void *arg, const uint8_t *p, size_t len)
{
	struct uesp_frag_ctx *c = arg;
	uint8_t *out = uesp_txb_slot(c->d, c->b);

	memcpy(out, p, len);
	uesp_txb_commit(c->d, c->b, len, c->dst, c->proto, c->spi);
	if (c->b->n > 0)
		c->b->uoff[c->b->n - 1] = 0;	/* never in a GSO run */
	return 0;
}

/*
 * An encapsulated packet (olen bytes in the current slot, from the inner
 * packet pkt) larger than the path MTU: fragments after encapsulation, or
 * for an inner packet that must not be fragmented, ICMP "too big" back to
 * its sender with the MTU left for it once encapsulated.
 */
static void
uesp_tx_big(struct driver *d, struct uesp_txb *b, const uint8_t *pkt,
    size_t len, size_t olen, unsigned mtu, const struct sa_id *oid)
{
	static _Thread_local uint8_t big[UESP_BUF];
	static _Thread_local uint8_t icmp[1400];
	struct uesp_frag_ctx c = { d, b, &oid->dst, oid->proto, oid->spi };
	size_t over = olen - len, ilen;
	long inner = (long)mtu - (long)over - 16;
	int rc;

	if (uesp_pkt_df(pkt, len) && inner >= (pkt[0] >> 4 == 6 ? 1280 :
	    552)) {
		if (uesp_icmp_too_big(pkt, len, (uint32_t)inner, icmp,
		    sizeof(icmp), &ilen) == 0) {
			struct uesp_pmtu *e = uesp_pmtu_entry(d, &oid->dst);

			/* (it varies with the padding of each packet) */
			if (e != NULL && (e->adv_lo == 0 ||
			    (unsigned)inner < e->adv_lo))
				e->adv_lo = (unsigned)inner;
			if (e != NULL && (unsigned)inner > e->adv_hi)
				e->adv_hi = (unsigned)inner;
			uesp_write_plain(d, icmp, ilen);
		}
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_TOO_BIG, &oid->dst,
		    oid->proto, oid->spi);
		return;
	}
	memcpy(big, b->buf[b->n], olen);
	if ((rc = uesp_frag_out(big, olen, mtu, uesp_frag_commit, &c)) != 0)
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_TOO_BIG, &oid->dst,
		    oid->proto, oid->spi);
}

/*
 * Raise an acquire for this destination now? Not when one was raised for
 * it less than UESP_ACQ_RETRY_MS ago (the negotiation is under way);
 * noted when it is. Other destinations of the same filter keep their own
 * times; with more than UESP_ACQ_SLOTS, the oldest is forgotten.
 */
static bool
uesp_acq_due(struct uesp_pol *pol, const struct pa_addr *dst, uint64_t now)
{
	size_t i, old = 0;

	for (i = 0; i < UESP_ACQ_SLOTS; i++) {
		if (pol->acq[i].ms != 0 && pa_addr_eq(&pol->acq[i].dst, dst)) {
			if (now - pol->acq[i].ms < UESP_ACQ_RETRY_MS)
				return false;
			old = i;
			break;
		}
		if (pol->acq[i].ms < pol->acq[old].ms)
			old = i;
	}
	pol->acq[old].dst = *dst;
	pol->acq[old].ms = now != 0 ? now : 1;
	return true;
}

/* Forget the acquires raised for dst (its packets have gone). */
static void
uesp_acq_forget(struct uesp_pol *pol, const struct pa_addr *dst)
{
	size_t i;

	for (i = 0; i < UESP_ACQ_SLOTS; i++)
		if (pol->acq[i].ms != 0 && pa_addr_eq(&pol->acq[i].dst, dst))
			pol->acq[i].ms = 0;
}

/* Hold a packet for a PROTECT filter without SAs; raise the acquire. */
static void
uesp_enqueue(struct driver *d, struct uesp_pol *pol, const uint8_t *pkt,
    size_t len, const struct drv_sel *ps)
{
	struct uesp_qpkt *q;
	struct uesp_ev e;
	uint64_t now = pa_now_ms();

	if (pol->qlen >= d->qmax ||
	    (q = malloc(sizeof(*q) + len)) == NULL)
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_QUEUE_FULL,
		    &ps->dst.addr, 0, 0);
	else {
		q->next = NULL;
		q->t_ms = now;
		q->len = len;
		memcpy(q->data, pkt, len);
		*pol->qtail = q;
		pol->qtail = &q->next;
		pol->qlen++;
		atomic_fetch_add(&d->queued, 1);
	}
	if (uesp_acq_due(pol, &ps->dst.addr, now)) {
		memset(&e, 0, sizeof(e));
		e.kind = UESP_EV_ACQUIRE;
		e.spd = pol->id;
		e.sel = *ps;
		e.reqid = pol->p.reqid;
		uesp_post(d, &e);
	}
}

/* The SAs a PROTECT filter needs for this packet; false if missing. */
static bool
uesp_pol_sas(struct driver *d, const struct uesp_pol *pol,
    const struct drv_sel *ps, struct uesp_sa **esp, struct uesp_sa **ah)
{
	bool want_esp = pol->p.want_esp || !pol->p.want_ah;

	*esp = *ah = NULL;
	if (want_esp && (*esp = uesp_sadb_out(d->db, DRV_PROTO_ESP,
	    pol->p.reqid, ps)) == NULL)
		return false;
	if (pol->p.want_ah && (*ah = uesp_sadb_out(d->db, DRV_PROTO_AH,
	    pol->p.reqid, ps)) == NULL)
		return false;
	return true;
}

static void
uesp_tx_packet(struct driver *d, const uint8_t *pkt, size_t len,
    struct uesp_txb *b)
{
	uint8_t *out;
	struct drv_sel ps;
	struct uesp_pol *pol;
	struct uesp_sa *esp, *ah;
	enum uesp_life life;
	struct pa_addr dst;
	struct sa_id oid;
	const uint8_t *whole;
	size_t hl, olen, wlen;
	unsigned mtu;
	int rc;

	/* Fragments the stack cut before the TUN: whole first. */
	rc = uesp_reasm_add(d->ra, pkt, len, pa_now_ms(), &whole, &wlen);
	if (rc == PA_E_AGAIN)
		return;
	if (rc < 0) {
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_SYNTAX, NULL, 0, 0);
		return;
	}
	if (rc == 1) {
		pkt = whole;
		len = wlen;
	}
	if (uesp_pkt_sel(pkt, len, &ps, &hl) != 0) {
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_SYNTAX, NULL, 0, 0);
		return;
	}
	pthread_rwlock_rdlock(&d->lock);
	pol = uesp_pol_match(d, DRV_DIR_OUT, &ps);
	if (pol == NULL) {
		/* Only marked packets are routed here: this is the TUN's
		 * own chatter (IPv6 router solicitations and the like). */
		pthread_rwlock_unlock(&d->lock);
		return;
	}
	if (pol->p.action == DRV_ACT_PERMIT) {
		pthread_rwlock_unlock(&d->lock);
		out = uesp_txb_slot(d, b);
		memcpy(out, pkt, len);
		uesp_txb_commit(d, b, len, &ps.dst.addr, 0, 0);
		return;
	}
	if (pol->p.action == DRV_ACT_BLOCK) {
		pthread_rwlock_unlock(&d->lock);
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_BLOCKED,
		    &ps.dst.addr, 0, 0);
		return;
	}
	if (!uesp_pol_sas(d, pol, &ps, &esp, &ah)) {
		uesp_enqueue(d, pol, pkt, len, &ps);
		pthread_rwlock_unlock(&d->lock);
		return;
	}
	out = uesp_txb_slot(d, b);
	rc = uesp_encap(esp, ah, pkt, len, out, UESP_BUF, &olen, &life);
	oid = *uesp_sa_id(ah != NULL ? ah : esp);
	dst = oid.dst;
	if (rc == 0) {
		if (esp != NULL)
			atomic_fetch_add_explicit(&d->conf_sent, len,
			    memory_order_relaxed);
		if (ah != NULL)
			atomic_fetch_add_explicit(&d->auth_sent, len,
			    memory_order_relaxed);
	}
	uesp_post_life(d, esp != NULL && uesp_sa_dead(esp) ? esp :
	    ah != NULL && uesp_sa_dead(ah) ? ah : esp != NULL ? esp : ah,
	    life);
	pthread_rwlock_unlock(&d->lock);
	if (rc == 0 && olen > 576 && (mtu = uesp_pmtu(d, &dst)) != 0 &&
	    olen > mtu)
		uesp_tx_big(d, b, pkt, len, olen, mtu, &oid);
	else if (rc == 0)
		uesp_txb_commit(d, b, olen, &dst, oid.proto, oid.spi);
	else
		/* The SA cannot take it (sequence numbers or lifetime
		 * exhausted, too big): an outbound drop, never "not
		 * decrypted". */
		uesp_count_drop(d, DRV_DIR_OUT, rc == PA_E_STATE ?
		    DRV_DROP_NO_SA : rc == PA_E_NOSPACE || rc == PA_E_SHORT ?
		    DRV_DROP_TOO_BIG : DRV_DROP_SYNTAX, &dst, oid.proto,
		    oid.spi);
}

/* Send what was held for filters whose SAs have arrived. */
static void
uesp_tx_release(struct driver *d, struct uesp_txb *b, bool expire_only)
{
	struct uesp_qpkt *go = NULL, **gotail = &go, *q, *n;
	struct uesp_sa *esp, *ah;
	uint64_t now = pa_now_ms();
	size_t i;

	pthread_rwlock_rdlock(&d->lock);
	for (i = 0; i < d->npols; i++) {
		struct uesp_pol *pol = d->pols[i];
		struct uesp_qpkt *keep = NULL, **keeptail = &keep;
		struct drv_sel ps;
		size_t hl;

		if (pol->qhead == NULL)
			continue;
		/*
		 * Packet by packet (a filter may cover many peers, each with
		 * its own negotiation): go when its SAs are in, or when
		 * another filter now wins for it (a soft association's
		 * permit filter, a new block): uesp_tx_packet matches it
		 * afresh, sends it in clear, drops it as blocked, or holds
		 * it again. Left too long (the negotiation failed or takes
		 * too long): given up.
		 */
		for (q = pol->qhead; q != NULL; q = n) {
			n = q->next;
			q->next = NULL;
			if (!expire_only &&
			    uesp_pkt_sel(q->data, q->len, &ps, &hl) == 0 &&
			    (uesp_pol_match(d, DRV_DIR_OUT, &ps) != pol ||
			    uesp_pol_sas(d, pol, &ps, &esp, &ah))) {
				uesp_acq_forget(pol, &ps.dst.addr);
				*gotail = q;
				gotail = &q->next;
				pol->qlen--;
			} else if (now - q->t_ms >= UESP_QUEUE_MS) {
				pol->qlen--;
				uesp_count_drop(d, DRV_DIR_OUT,
				    DRV_DROP_QUEUE_FULL, NULL, 0, 0);
				free(q);
			} else {
				*keeptail = q;
				keeptail = &q->next;
			}
		}
		pol->qhead = keep;
		pol->qtail = keep != NULL ? keeptail : &pol->qhead;
		if (pol->qhead == NULL)
			memset(pol->acq, 0, sizeof(pol->acq));
	}
	pthread_rwlock_unlock(&d->lock);
	for (q = go; q != NULL; q = n) {
		n = q->next;
		uesp_tx_packet(d, q->data, q->len, b);
		free(q);
	}
	uesp_txb_flush(d, b);
}

struct uesp_seg_ctx {
	struct driver	*d;
	struct uesp_txb	*b;
};

static int
uesp_tx_seg(void *arg, const uint8_t *seg, size_t len)
{
	struct uesp_seg_ctx *c = arg;

	atomic_fetch_add_explicit(&c->d->tso_segs, 1, memory_order_relaxed);
	uesp_tx_packet(c->d, seg, len, c->b);
	return 0;
}

/* One read from the TUN: vnet header, then a packet (maybe TSO). */
static int
uesp_tx_read(struct driver *d, uint8_t *in, uint8_t *seg, struct uesp_txb *b)
{
	uint8_t vh[sizeof(struct virtio_net_hdr)];
	struct uesp_seg_ctx c = { d, b };
	struct iovec iov[2];
	struct rd r;
	uint8_t flags, gso;
	uint16_t hlen, gsz, cstart, coff;
	ssize_t n;

	iov[0].iov_base = vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = in;
	iov[1].iov_len = UESP_MAX_PKT;
	if ((n = readv(d->tun, iov, 2)) < (ssize_t)sizeof(vh))
		return -1;
	n -= (ssize_t)sizeof(vh);
	rd_init(&r, vh, sizeof(vh));
	/* Native byte order is little-endian on the hosts we build for. */
	if (rd_u8(&r, &flags) != 0 || rd_u8(&r, &gso) != 0 ||
	    rd_u16le(&r, &hlen) != 0 || rd_u16le(&r, &gsz) != 0 ||
	    rd_u16le(&r, &cstart) != 0 || rd_u16le(&r, &coff) != 0)
		return 0;
	gso &= (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	atomic_fetch_add_explicit(&d->tun_reads, 1, memory_order_relaxed);
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) {
		if (uesp_tso_split(in, (size_t)n, gsz, seg, UESP_BUF,
		    uesp_tx_seg, &c) != 0)
			uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_SYNTAX, NULL, 0, 0);
		return 0;
	}
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_SYNTAX, NULL, 0, 0);
		return 0;
	}
	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    uesp_csum_complete(in, (size_t)n, cstart, coff) != 0) {
		uesp_count_drop(d, DRV_DIR_OUT, DRV_DROP_SYNTAX, NULL, 0, 0);
		return 0;
	}
	uesp_tx_packet(d, in, (size_t)n, b);
	return 0;
}

/*
 * TX thread (the only user of the copies): drop our copy of an IKE
 * socket that IKE has closed, so that it does not stay bound to the
 * NAT-T port and take datagrams nobody reads.
 */
static void
uesp_udp_check(struct driver *d)
{
	struct stat st;
	int i, fd, orig;

	for (i = 0; i < 2; i++) {
		_Atomic int *slot = i == 0 ? &d->udp4 : &d->udp6;

		if ((fd = atomic_load(slot)) < 0)
			continue;
		orig = atomic_load(&d->udp_orig[i]);
		if (fstat(orig, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    (unsigned long)st.st_ino == atomic_load(&d->udp_ino[i]))
			continue;
		log_debug("uesp: the IKE socket (IPv%d) is gone: ESP-in-UDP "
		    "by the raw socket", i == 0 ? 4 : 6);
		atomic_store(slot, -1);
		close(fd);
	}
}

static void *
uesp_tx_main(void *arg)
{
	struct driver *d = arg;
	struct uesp_txb *b;
	uint8_t *in, *seg;
	struct pollfd pfd[3];
	uint64_t last = pa_now_ms();
	int i;

	in = malloc(UESP_BUF);
	seg = malloc(UESP_BUF);
	b = uesp_txb_new();
	if (in == NULL || seg == NULL || b == NULL || d->ra == NULL)
		fatalx("uesp: out of memory for the TX thread");
	pfd[0].fd = d->tun;
	pfd[1].fd = d->wakefd;
	pfd[2].fd = d->stopfd;
	for (i = 0; i < 3; i++)
		pfd[i].events = POLLIN;
	for (;;) {
		if (poll(pfd, 3, 500) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents & POLLIN)
			break;
		if (pfd[1].revents & POLLIN) {
			uesp_drain(d->wakefd);
			uesp_tx_release(d, b, false);
		}
		if (pfd[0].revents & POLLIN) {
			for (i = 0; i < UESP_BATCH; i++)
				if (uesp_tx_read(d, in, seg, b) != 0)
					break;
			uesp_txb_flush(d, b);
		}
		if (pa_now_ms() - last >= 500) {
			last = pa_now_ms();
			uesp_tx_release(d, b, true);
			uesp_udp_check(d);
			for (i = (int)uesp_reasm_expire(d->ra, last); i > 0;
			    i--)
				uesp_count_drop(d, DRV_DIR_OUT,
				    DRV_DROP_SYNTAX, NULL, 0, 0);
		}
	}
	free(in);
	free(seg);
	uesp_txb_free(b);
	return NULL;
}

/* Receive one packet from IPv6 raw socket i into buf; fill rx. */
static int
uesp_rx_recv(struct driver *d, int i, uint8_t *buf, struct uesp_rx *rx)
{
	struct sockaddr_in6 from;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	struct pa_addr src, dst;
	union {
		char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	align;
	} cbuf;
	ssize_t n;

	memset(rx, 0, sizeof(*rx));
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = UESP_MAX_PKT;
	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	if ((n = recvmsg(d->rx[i], &mh, 0)) < 0)
		return UESP_RX_EMPTY;
	memset(&dst, 0, sizeof(dst));
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			dst.family = AF_INET6;
			memcpy(dst.a, &pi.ipi6_addr, 16);
		}
	if (dst.family == 0 || pa_addr_from_sockaddr(
	    (struct sockaddr *)&from, &src, NULL) != 0)
		return PA_E_FORMAT;
	return uesp_rx_parse_l4(uesp_rx_proto[i], &src, &dst, buf, (size_t)n,
	    d->cfg.natt_port, rx);
}

/*
 * Receive-side coalescing (GRO): consecutive in-order TCP segments of one
 * IPv4 flow from a batch go to the TUN as one large segment with a vnet
 * header (gso_type TCPV4), so the stack, and the ACKs it sends back
 * through us, work per 64 KiB rather than per packet.
 */
struct uesp_gro {
	uint8_t		*buf;
	size_t		 len;		/* bytes in buf */
	size_t		 iphl, hl;	/* IP, IP+TCP header lengths */
	uint16_t	 gso;		/* payload of the first segment */
	unsigned	 segs;
	uint32_t	 next_seq;
	bool		 psh;
};

#define TCPF_ACK	0x10
#define TCPF_PSH	0x08

static void
uesp_tun_write(struct driver *d, const struct virtio_net_hdr *vh,
    const uint8_t *p, size_t len)
{
	struct iovec iov[2];

	iov[0].iov_base = (void *)(uintptr_t)vh;
	iov[0].iov_len = sizeof(*vh);
	iov[1].iov_base = (void *)(uintptr_t)p;
	iov[1].iov_len = len;
	atomic_fetch_add_explicit(&d->tun_writes, 1, memory_order_relaxed);
	if (writev(d->tun, iov, 2) < 0 && errno != EAGAIN)
		log_debug("%s: tun write: %s", __func__, strerror(errno));
}

static void
uesp_write_plain(struct driver *d, const uint8_t *p, size_t len)
{
	struct virtio_net_hdr vh;

	memset(&vh, 0, sizeof(vh));
	/* The ICV vouched for these bytes: no second check. */
	vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	uesp_tun_write(d, &vh, p, len);
}

static void
uesp_gro_flush(struct driver *d, struct uesp_gro *g)
{
	struct virtio_net_hdr vh;
	struct wr w;
	uint8_t ph[12];
	size_t tl;

	if (g->segs == 0)
		return;
	if (g->segs == 1) {
		uesp_write_plain(d, g->buf, g->len);
		g->segs = 0;
		return;
	}
	wr_init(&w, g->buf, UESP_BUF);
	w.len = g->len;
	/* IPv4 length and checksum; TCP checksum left partial. */
	(void)wr_patch_u16(&w, 2, (uint16_t)g->len);
	(void)wr_patch_u16(&w, 10, 0);
	(void)wr_patch_u16(&w, 10, uesp_cksum(g->buf, g->iphl, 0));
	tl = g->len - g->iphl;
	memset(ph, 0, sizeof(ph));
	memcpy(ph, &g->buf[12], 8);	/* addresses; len >= hl >= 40 */
	ph[9] = IPPROTO_TCP;
	ph[10] = (uint8_t)(tl >> 8);
	ph[11] = (uint8_t)tl;
	(void)wr_patch_u16(&w, g->iphl + 16,
	    (uint16_t)~uesp_cksum(ph, sizeof(ph), 0));
	if (g->psh)
		g->buf[g->iphl + 13] |= TCPF_PSH;
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = (uint16_t)g->hl;
	vh.gso_size = g->gso;
	vh.csum_start = (uint16_t)g->iphl;
	vh.csum_offset = 16;
	atomic_fetch_add_explicit(&d->gro_writes, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->gro_segs, g->segs, memory_order_relaxed);
	uesp_tun_write(d, &vh, g->buf, g->len);
	g->segs = 0;
}

/* Coalesce or write one decrypted packet. */
static void
uesp_gro_add(struct driver *d, struct uesp_gro *g, const uint8_t *p,
    size_t len)
{
	struct rd r;
	uint16_t tot, frag, sport, dport;
	uint32_t seq;
	uint8_t vihl, proto, doff, flags;
	size_t iphl, hl, pl;

	rd_init(&r, p, len);
	if (rd_u8(&r, &vihl) != 0 || vihl != 0x45 || rd_skip(&r, 1) != 0 ||
	    rd_u16(&r, &tot) != 0 || tot != len || rd_skip(&r, 2) != 0 ||
	    rd_u16(&r, &frag) != 0 || (frag & 0x3fff) != 0 ||
	    rd_skip(&r, 1) != 0 || rd_u8(&r, &proto) != 0 ||
	    proto != IPPROTO_TCP || rd_skip(&r, 10) != 0 ||
	    rd_u16(&r, &sport) != 0 || rd_u16(&r, &dport) != 0 ||
	    rd_u32(&r, &seq) != 0 || rd_skip(&r, 4) != 0 ||
	    rd_u8(&r, &doff) != 0 || rd_u8(&r, &flags) != 0 ||
	    (flags & ~TCPF_PSH) != TCPF_ACK || (doff >> 4) < 5) {
		uesp_gro_flush(d, g);
		uesp_write_plain(d, p, len);
		return;
	}
	iphl = 20;
	hl = iphl + (size_t)(doff >> 4) * 4;
	if (hl >= len) {		/* pure ACK: nothing to merge */
		uesp_gro_flush(d, g);
		uesp_write_plain(d, p, len);
		return;
	}
	pl = len - hl;
	if (g->segs > 0 && !g->psh && hl == g->hl && seq == g->next_seq &&
	    pl <= g->gso && g->len + pl <= UESP_MAX_PKT &&
	    /* Same addresses, ports, ack, offset, window, options. */
	    memcmp(&g->buf[12], &p[12], 8) == 0 &&
	    memcmp(&g->buf[iphl], &p[iphl], 4) == 0 &&
	    memcmp(&g->buf[iphl + 8], &p[iphl + 8], 5) == 0 &&
	    memcmp(&g->buf[iphl + 14], &p[iphl + 14], 2) == 0 &&
	    memcmp(&g->buf[iphl + 20], &p[iphl + 20], hl - iphl - 20) == 0) {
		memcpy(&g->buf[g->len], &p[hl], pl);
		g->len += pl;
		g->segs++;
		g->next_seq = seq + (uint32_t)pl;
		g->psh = (flags & TCPF_PSH) != 0;
		if (pl < g->gso || g->len + g->gso > UESP_MAX_PKT)
			uesp_gro_flush(d, g);
		return;
	}
	uesp_gro_flush(d, g);
	memcpy(g->buf, p, len);
	g->len = len;
	g->iphl = iphl;
	g->hl = hl;
	g->gso = (uint16_t)pl;
	g->segs = 1;
	g->next_seq = seq + (uint32_t)pl;
	g->psh = (flags & TCPF_PSH) != 0;
}

/* The SPI a received ESP or AH packet names (0: too short). */
static uint32_t
uesp_rx_spi(const struct uesp_rx *rx)
{
	struct rd r;
	uint32_t spi = 0;

	rd_init(&r, rx->payload.p, rx->payload.len);
	if (rx->proto == DRV_PROTO_AH && rd_skip(&r, 4) != 0)
		return 0;
	if (rd_u32(&r, &spi) != 0)
		return 0;
	return spi;
}

static void
uesp_rx_packet(struct driver *d, const struct uesp_rx *rx, uint8_t *out,
    struct uesp_gro *g)
{
	struct uesp_verdict v;
	struct sa_id lid;
	struct uesp_ev e;
	uint32_t spi = 0;
	size_t olen;
	int rc;

	memset(&e, 0, sizeof(e));
	pthread_rwlock_rdlock(&d->lock);
	rc = uesp_decap(d->db, rx, out, UESP_BUF, &olen, &v);
	if (rc != 0 && rc != PA_E_AGAIN)
		spi = v.sa != NULL ? uesp_sa_id(v.sa)->spi :
		    uesp_rx_spi(rx);
	if (rc == 0) {
		if (uesp_sa_id(v.sa)->proto == DRV_PROTO_ESP)
			atomic_fetch_add_explicit(&d->conf_recv, olen,
			    memory_order_relaxed);
		else
			atomic_fetch_add_explicit(&d->auth_recv, olen,
			    memory_order_relaxed);
	}
	if (v.life != UESP_LIFE_OK && v.life_sa != NULL) {
		lid = *uesp_sa_id(v.life_sa);
		e.kind = UESP_EV_EXPIRE;
		e.sa = lid;
		e.cookie = uesp_sa_params(v.life_sa)->cookie;
		e.hard = v.life == UESP_LIFE_HARD;
	}
	pthread_rwlock_unlock(&d->lock);
	if (e.kind != 0)
		uesp_post(d, &e);
	if (rc == 0) {
		if (g != NULL)
			uesp_gro_add(d, g, out, olen);
		else
			uesp_write_plain(d, out, olen);
	} else if (rc != PA_E_AGAIN)
		uesp_count_drop(d, DRV_DIR_IN, v.why, &rx->src, rx->proto,
		    spi);
}

static int
uesp_life_cb(struct uesp_sa *sa, void *arg)
{
	struct driver *d = arg;

	uesp_post_life(d, sa, uesp_sa_life_check(sa, pa_now_ms()));
	return 0;
}

/* Lifetimes, and wake the agent when drop counters moved. */
static void
uesp_housekeep(struct driver *d, uint64_t *seen)
{
	uint64_t sum = 0, ct = 0, bl = 0;
	size_t r;

	pthread_rwlock_rdlock(&d->lock);
	(void)uesp_sadb_foreach(d->db, uesp_life_cb, d);
	pthread_rwlock_unlock(&d->lock);
	if (uesp_nft_counters(d, true, &ct, &bl) == 0) {
		atomic_store(&d->nft_cleartext, ct);
		atomic_store(&d->nft_blocked, bl);
	}
	for (r = 0; r < UESP_NDROP; r++)
		sum += atomic_load(&d->drops[0][r]) +
		    atomic_load(&d->drops[1][r]);
	sum += ct + bl;
	if (sum != *seen) {
		*seen = sum;
		uesp_signal(d->evfd);
	}
}

/* Received packet i of a batch: take it apart and decapsulate. */
static void
uesp_rx_handle(struct driver *d, int rc, struct uesp_rx *rx, uint8_t *out,
    struct uesp_gro *g)
{
	if (rc == PA_E_AGAIN)
		return;
	if (rc != 0) {
		uesp_count_drop(d, DRV_DIR_IN, DRV_DROP_SYNTAX,
		    rx->src.family != 0 ? &rx->src : NULL, 0, 0);
		return;
	}
	if (rx->udp && rx->payload.len > UESP_GSO_MIN) {
		struct uesp_rx one = *rx;
		struct pa_bytes rest = rx->payload;
		struct rd r;
		size_t n;

		/* Maybe a UDP GSO aggregate: cut it into ESP packets. */
		while (rest.len > 0) {
			n = uesp_rx_gso_seg(rest);
			rd_init(&r, rest.p, rest.len);
			if (rd_bytes(&r, n, &one.payload) != 0)
				break;
			rest = rd_rest(&r);
			if (rest.len > 0 || n != rx->payload.len)
				atomic_fetch_add_explicit(&d->rx_gso_segs, 1,
				    memory_order_relaxed);
			uesp_rx_packet(d, &one, out, g);
		}
		return;
	}
	uesp_rx_packet(d, rx, out, g);
}

/* IPv4 raw sockets: up to UESP_BATCH packets per recvmmsg(). */
static int
uesp_rx_batch4(struct driver *d, int fd, uint8_t **bufs, uint8_t *out,
    struct uesp_gro *g)
{
	struct mmsghdr mm[UESP_BATCH];
	struct iovec iov[UESP_BATCH];
	struct uesp_rx rx;
	int n, j, rc;

	memset(mm, 0, sizeof(mm));
	for (j = 0; j < UESP_BATCH; j++) {
		iov[j].iov_base = bufs[j];
		iov[j].iov_len = UESP_MAX_PKT;
		mm[j].msg_hdr.msg_iov = &iov[j];
		mm[j].msg_hdr.msg_iovlen = 1;
	}
	if ((n = recvmmsg(fd, mm, UESP_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return 0;
	atomic_fetch_add_explicit(&d->rx_batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->rx_pkts, (uint64_t)n,
	    memory_order_relaxed);
	for (j = 0; j < n; j++) {
		rc = uesp_rx_parse_ip4(bufs[j], mm[j].msg_len,
		    d->cfg.natt_port, &rx);
		uesp_rx_handle(d, rc, &rx, out, g);
	}
	uesp_gro_flush(d, g);
	return n;
}

static void *
uesp_rx_main(void *arg)
{
	struct driver *d = arg;
	struct pollfd pfd[UESP_NRX + 1];
	int idx[UESP_NRX + 1];
	struct uesp_rx rx;
	uint8_t *in[UESP_BATCH], *out;
	struct uesp_gro gro;
	uint64_t last = 0, seen = 0;
	int i, k, np = 0, rc;

	memset(&gro, 0, sizeof(gro));
	gro.buf = malloc(UESP_BUF);
	out = gro.buf != NULL ? malloc(UESP_BUF) : NULL;
	for (i = 0; i < UESP_BATCH; i++)
		if ((in[i] = malloc(UESP_MAX_PKT)) == NULL)
			out = NULL;
	if (out == NULL)
		fatalx("uesp: out of memory for the RX thread");
	for (i = 0; i < UESP_NRX; i++)
		if (d->rx[i] >= 0) {
			pfd[np].fd = d->rx[i];
			pfd[np].events = POLLIN;
			idx[np++] = i;
		}
	pfd[np].fd = d->stopfd;
	pfd[np].events = POLLIN;
	for (;;) {
		if (poll(pfd, (nfds_t)np + 1, 250) < 0 && errno != EINTR)
			break;
		if (pfd[np].revents & POLLIN)
			break;
		for (k = 0; k < np; k++) {
			if (!(pfd[k].revents & POLLIN))
				continue;
			if (idx[k] < 3) {
				/* Drain a few batches, then look around. */
				for (i = 0; i < 4 && uesp_rx_batch4(d,
				    d->rx[idx[k]], in, out, &gro) ==
				    UESP_BATCH; i++)
					;
				continue;
			}
			for (i = 0; i < UESP_BATCH; i++) {
				rc = uesp_rx_recv(d, idx[k], in[0], &rx);
				if (rc == UESP_RX_EMPTY)
					break;
				uesp_rx_handle(d, rc, &rx, out, NULL);
			}
		}
		if (pa_now_ms() - last >= 250) {
			last = pa_now_ms();
			uesp_housekeep(d, &seen);
		}
	}
	for (i = 0; i < UESP_BATCH; i++)
		free(in[i]);
	free(out);
	free(gro.buf);
	return NULL;
}

static int
uesp_sysctl(const char *path, const char *val)
{
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return PA_E_SYS;
	if (write(fd, val, strlen(val)) < 0)
		rc = PA_E_SYS;
	close(fd);
	return rc;
}

/* Accept only UDP to the NAT-T port (IPv4: after the IP header). */
static int
uesp_udp_filter(int fd, bool v4, uint16_t port)
{
	struct sock_filter f4[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter f6[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog;

	if (v4) {
		prog.len = sizeof(f4) / sizeof(f4[0]);
		prog.filter = f4;
	} else {
		prog.len = sizeof(f6) / sizeof(f6[0]);
		prog.filter = f6;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) == 0 ? 0 : PA_E_SYS;
}

static int
uesp_raw(int family, int proto, struct driver *d, bool rx)
{
	int fd, one = 1, sz = 4 << 20, omit4 = IP_PMTUDISC_OMIT,
	    omit6 = IPV6_PMTUDISC_OMIT;

	if ((fd = socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    proto)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &d->bypass,
	    sizeof(d->bypass)) != 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, rx ? SO_RCVBUFFORCE : SO_SNDBUFFORCE,
	    &sz, sizeof(sz));
	/*
	 * Sending: the interface MTU, not the route's path MTU. In transport
	 * mode the peer's route is also the inner packets', and the MTU our
	 * ICMP taught it for them (smaller by the ESP overhead) would make
	 * the kernel cut every ESP packet in two; we fragment ourselves, to
	 * the path MTU (uesp_pmtu).
	 */
	if (!rx && (family == AF_INET ? setsockopt(fd, IPPROTO_IP,
	    IP_MTU_DISCOVER, &omit4, sizeof(omit4)) : setsockopt(fd,
	    IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit6, sizeof(omit6))) != 0)
		log_warn("uesp: IP_MTU_DISCOVER");
	if (rx && family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_RECVPKTINFO, &one, sizeof(one)) != 0)
		goto fail;
	if (rx && proto == IPPROTO_UDP && uesp_udp_filter(fd,
	    family == AF_INET, d->cfg.natt_port) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* The fail-closed route, the rule and the TUN's route for a family. */
static int
uesp_routing(struct driver *d, int family)
{
	const char *v = family == AF_INET ? "IPv4" : "IPv6";
	int rc;

	if ((rc = uesp_nl_unreach(true, true, family, d->rt_table)) != 0) {
		if (errno != EEXIST) {
			log_warn("uesp: %s fail-closed route in table %u", v,
			    d->rt_table);
			return rc;
		}
		d->lo_routing = true;
	}
	if ((rc = uesp_nl_rule(true, family, d->mark, d->rt_table,
	    UESP_RULE_PRIO)) != 0) {
		if (errno != EEXIST) {
			log_warn("uesp: %s policy routing rule", v);
			return rc;
		}
		d->lo_routing = true;
	}
	if ((rc = uesp_nl_route(true, family, d->ifindex, d->rt_table)) !=
	    0) {
		log_warn("uesp: %s route to %s", v, d->ifname);
		return rc;
	}
	return 0;
}

int
uesp_io_open(struct driver *d)
{
	struct ifreq ifr;
	char path[128];
	int i, rc;

	if ((d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (d->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (d->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return PA_E_SYS;
	if ((d->ra = uesp_reasm_new(UESP_REASM_MS)) == NULL)
		return PA_E_NOMEM;
	if ((d->tun = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) <
	    0) {
		log_warn("uesp: /dev/net/tun");
		return PA_E_SYS;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* vnet headers: the kernel may hand us TCP segments of up to
	 * 64 KiB (TSO), cut here, which saves most per-packet work. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, d->ifname, sizeof(ifr.ifr_name));
	if (ioctl(d->tun, TUNSETIFF, &ifr) < 0) {
		log_warn("uesp: TUNSETIFF %s", d->ifname);
		return PA_E_SYS;
	}
	if (ioctl(d->tun, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 |
	    TUN_F_TSO6) < 0)
		log_warn("uesp: no TSO on %s", d->ifname);
	if ((d->ifindex = if_nametoindex(d->ifname)) == 0)
		return PA_E_SYS;
	/* Decrypted packets arrive on the TUN from addresses routed
	 * elsewhere: no reverse-path filter on it. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter",
	    d->ifname);
	(void)uesp_sysctl(path, "0");
	/* No link-local address, router solicitations or MLD on it. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode",
	    d->ifname);
	(void)uesp_sysctl(path, "1");
	if ((rc = uesp_nl_link_up(d->ifindex, d->mtu)) != 0) {
		log_warn("uesp: bringing %s up", d->ifname);
		return rc;
	}
	if ((d->tx4 = uesp_raw(AF_INET, IPPROTO_RAW, d, false)) < 0) {
		log_warn("uesp: raw socket");
		return PA_E_SYS;
	}
	d->tx6 = uesp_raw(AF_INET6, IPPROTO_RAW, d, false);
	for (i = 0; i < UESP_NRX; i++) {
		d->rx[i] = uesp_raw(i < 3 ? AF_INET : AF_INET6,
		    uesp_rx_proto[i], d, true);
		if (d->rx[i] < 0 && i < 3) {
			log_warn("uesp: raw socket for protocol %u",
			    uesp_rx_proto[i]);
			return PA_E_SYS;
		}
	}
	/*
	 * Policy routing: marked packets go to the TUN. Fail-closed: an
	 * unreachable route in the same table first, which outlives the TUN
	 * and its route; then the rule. What a previous instance left is
	 * kept (replaced in place, never removed first: no window).
	 */
	if ((rc = uesp_routing(d, AF_INET)) != 0)
		return rc;
	d->rules4 = true;
	if (d->tx6 >= 0 && uesp_routing(d, AF_INET6) == 0)
		d->rules6 = true;
	else
		log_info("uesp: no IPv6 policy routing; IPv6 not protected");
	return 0;
}

int
uesp_io_start(struct driver *d)
{
	if (pthread_create(&d->thr_tx, NULL, uesp_tx_main, d) != 0)
		return PA_E_SYS;
	if (pthread_create(&d->thr_rx, NULL, uesp_rx_main, d) != 0) {
		uesp_signal(d->stopfd);
		pthread_join(d->thr_tx, NULL);
		return PA_E_SYS;
	}
	d->running = true;
	return 0;
}

void
uesp_io_stop(struct driver *d)
{
	if (!d->running)
		return;
	log_debug("uesp: tun reads %llu (tso segments %llu); udp gso sends "
	    "%llu (%llu packets); rx batches %llu (%llu packets, %llu cut "
	    "from gso aggregates); tun writes %llu (gro %llu of %llu "
	    "segments)",
	    (unsigned long long)d->tun_reads, (unsigned long long)d->tso_segs,
	    (unsigned long long)d->gso_sends, (unsigned long long)d->gso_segs,
	    (unsigned long long)d->rx_batches, (unsigned long long)d->rx_pkts,
	    (unsigned long long)d->rx_gso_segs,
	    (unsigned long long)d->tun_writes, (unsigned long long)d->gro_writes,
	    (unsigned long long)d->gro_segs);
	uesp_signal(d->stopfd);
	pthread_join(d->thr_tx, NULL);
	pthread_join(d->thr_rx, NULL);
	d->running = false;
}

void
uesp_io_udp_sock(struct driver *d, int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	_Atomic int *slot;
	struct stat st;
	int type = 0, expect = -1, nfd, sz = 4 << 20;
	socklen_t tl = sizeof(type);
	uint16_t port;

	/*
	 * IPv4 only for now: the IPv6 half (udp6, IPV6_PKTINFO) is written
	 * but no test sends IPv6 ESP-in-UDP yet, so IPv6 keeps the raw path.
	 */
	if (family == AF_INET)
		slot = &d->udp4;
	else
		return;
	/* Only a UDP socket bound to the NAT-T port, and only the first. */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
	    type != SOCK_DGRAM ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    ss.ss_family != family)
		return;
	if (family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, &ss, sizeof(sin));
		port = ntohs(sin.sin_port);
	} else {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, &ss, sizeof(sin6));
		port = ntohs(sin6.sin6_port);
	}
	if (port != d->cfg.natt_port || atomic_load(slot) >= 0)
		return;
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return;
	/* Room for a few aggregates in flight (the raw sockets': 4 MiB). */
	(void)setsockopt(nfd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (fstat(nfd, &st) != 0) {
		close(nfd);
		return;
	}
	/* The inode first: the TX thread checks it once the slot is set. */
	atomic_store(&d->udp_orig[family == AF_INET6], fd);
	atomic_store(&d->udp_ino[family == AF_INET6],
	    (unsigned long)st.st_ino);
	if (!atomic_compare_exchange_strong(slot, &expect, nfd))
		close(nfd);
	else
		log_debug("uesp: ESP-in-UDP (IPv%d) leaves through the IKE "
		    "socket, in UDP GSO aggregates", family == AF_INET ? 4 : 6);
}

void
uesp_io_close(struct driver *d)
{
	int i, fd;

	if ((fd = atomic_exchange(&d->udp4, -1)) >= 0)
		close(fd);
	if ((fd = atomic_exchange(&d->udp6, -1)) >= 0)
		close(fd);

	/* Fail-closed: the rules and the unreachable routes stay; the
	 * TUN's routes go with it. */
	if (d->tun >= 0)
		close(d->tun);
	if (d->tx4 >= 0)
		close(d->tx4);
	if (d->tx6 >= 0)
		close(d->tx6);
	for (i = 0; i < UESP_NRX; i++)
		if (d->rx[i] >= 0)
			close(d->rx[i]);
	if (d->evfd >= 0)
		close(d->evfd);
	if (d->wakefd >= 0)
		close(d->wakefd);
	if (d->stopfd >= 0)
		close(d->stopfd);
	d->tun = d->tx4 = d->tx6 = d->evfd = d->wakefd = d->stopfd = -1;
	for (i = 0; i < UESP_NRX; i++)
		d->rx[i] = -1;
	uesp_reasm_free(d->ra);
	d->ra = NULL;
}

int
uesp_io_unroute(struct driver *d)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	int i, rc = 0;

	for (i = 0; i < 2; i++) {
		while (uesp_nl_rule(false, fam[i], d->mark, d->rt_table,
		    UESP_RULE_PRIO) == 0)
			;
		if (errno != ENOENT && errno != EAFNOSUPPORT && i == 0) {
			log_warn("uesp: removing the routing rule");
			rc = PA_E_SYS;
		}
		while (uesp_nl_unreach(false, false, fam[i], d->rt_table) == 0)
			;
		if (errno != ESRCH && errno != ENOENT &&
		    errno != EAFNOSUPPORT && i == 0) {
			log_warn("uesp: removing the fail-closed route");
			rc = PA_E_SYS;
		}
	}
	d->rules4 = d->rules6 = false;
	return rc;
}
