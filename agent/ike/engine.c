/*
 * The top of the IKE engine: the public API of ike.h, reading the
 * sockets and dispatching each message to its exchange, the timers'
 * actions (retransmission, lifetimes, DPD, soft associations), requests
 * waiting for a Main Mode SA, statistics. The layers below call up into
 * it only through struct ike_up (ike_new fills it in).
 */
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/udp.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "audit.h"
#include "ike_engine.h"
#include "ike_krb.h"
#include "pa_log.h"
#include "pa_time.h"
#include "spd.h"

int
ike_new(const struct ike_cfg *cfg, struct ike **out)
{
	struct ike *ike;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (cfg->drv_ops == NULL || cfg->drv == NULL ||
	    cfg->nladdrs > IKE_MAX_LADDRS)
		return PA_E_INVAL;
	if ((ike = calloc(1, sizeof(*ike))) == NULL)
		return PA_E_NOMEM;
	ike->cfg = *cfg;
	ike->up.mm_ready = ike_mm_ready;
	ike->up.start_negotiation = ike_start_negotiation;
	ike->up.mm_initiate = ike_mm_initiate;
	ike->up.mm_fail = ike_mm_fail;
	ike->up.mm_send1 = ike_mm_send1;
	ike->up.mm_send3 = ike_mm_send3;
	if (ike->cfg.port == 0)
		ike->cfg.port = IKE_PORT;
	if (ike->cfg.peer_port == 0)
		ike->cfg.peer_port = ike->cfg.port;
	if (ike->cfg.natt_port == 0)
		ike->cfg.natt_port = IKE_NATT_PORT;
	if (ike->cfg.dpd_ms == 0)
		ike->cfg.dpd_ms = 30000;
	if (ike->cfg.keepalive_ms == 0)
		ike->cfg.keepalive_ms = IKE_KEEPALIVE_MS;
	if (ike->cfg.retrans_ms == 0)
		ike->cfg.retrans_ms = 1000;
	if (ike->cfg.retrans_max == 0)
		ike->cfg.retrans_max = 4;
	if (ike->cfg.soft_sa_ms == 0)
		ike->cfg.soft_sa_ms = 3000;
	if (ike->cfg.max_halfopen == 0)
		ike->cfg.max_halfopen = 1000;
	if ((ike->rxbuf = malloc((size_t)IKE_RX_BATCH * IKE_MAX_PKT)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	if (RAND_bytes(ike->dos_secret, sizeof(ike->dos_secret)) != 1 ||
	    (ike->dos_mac = oak_prf_key(ISK_HASH_SHA256, ike->dos_secret,
	    sizeof(ike->dos_secret))) == NULL) {
		rc = PA_E_CRYPTO;
		goto out;
	}
	ike->next_reqid = 0x1000;
	if ((rc = ike_creds_load(cfg, &ike->creds)) != 0)
		goto out;
	if (cfg->nladdrs == 0) {
		struct pa_addr any4, any6;

		memset(&any4, 0, sizeof(any4));
		memset(&any6, 0, sizeof(any6));
		any4.family = AF_INET;
		any6.family = AF_INET6;
		if ((rc = ike_open_sock(ike, &any4, ike->cfg.port, false)) != 0)
			goto out;
		if (ike->cfg.natt_port != IKE_NO_NATT &&
		    (rc = ike_open_sock(ike, &any4, ike->cfg.natt_port, true))
		    != 0)
			goto out;
		if (ike_open_sock(ike, &any6, ike->cfg.port, false) == 0 &&
		    ike->cfg.natt_port != IKE_NO_NATT &&
		    (rc = ike_open_sock(ike, &any6, ike->cfg.natt_port, true))
		    != 0)
			goto out;
	} else {
		for (i = 0; i < cfg->nladdrs; i++) {
			if ((rc = ike_open_sock(ike, &cfg->laddrs[i],
			    ike->cfg.port, false)) != 0)
				goto out;
			if (ike->cfg.natt_port != IKE_NO_NATT &&
			    (rc = ike_open_sock(ike, &cfg->laddrs[i],
			    ike->cfg.natt_port, true)) != 0)
				goto out;
		}
	}
	/* Kerberos configured: fetch our tickets now (the fd exists then). */
	ike_krb_start(ike);
	*out = ike;
	ike = NULL;
out:
	ike_free(ike);
	return rc;
}

void
ike_free(struct ike *ike)
{
	struct ike_pending *p;
	size_t i;

	if (ike == NULL)
		return;
	while (ike->qm_head != NULL)
		ike_qm_free(ike, ike->qm_head);
	while (ike->mm_head != NULL)
		ike_mm_free(ike, ike->mm_head);
	while ((p = ike->pending) != NULL) {
		ike->pending = p->next;
		ike_rulecopy_clear(&p->rule);
		free(p);
	}
	ike_soft_free_all(ike);
	ike_bundle_free_all(ike);
	ike_krb_free(ike);
	ike_dh_free_all(ike);
	ike_keylog_free(ike);
	for (i = 0; i < ike->nsocks; i++)
		close(ike->socks[i].fd);
	ike_creds_free(ike->creds);
	free(ike->rxbuf);
	oak_prf_key_free(ike->dos_mac);
	free(ike);
}

int
ike_set_policy(struct ike *ike, const struct pol_policy *pol,
    const struct pol_spd *spd)
{
	ike->pol = pol;
	ike->spd = spd;
	return 0;
}

size_t
ike_fds(const struct ike *ike, int *fds, size_t cap)
{
	size_t i;
	int kfd;

	for (i = 0; i < ike->nsocks && i < cap; i++)
		fds[i] = ike->socks[i].fd;
	/* Kerberos workers' results (appears once Kerberos is used). */
	if ((kfd = ike_krb_fd(ike)) >= 0 && i < cap)
		fds[i++] = kfd;
	return i;
}

/* Queue a Quick Mode request until its Main Mode (mm, or any with the
 * peer if NULL) is established. */
static int
pending_add(struct ike *ike, struct ike_mm *mm, const struct pa_addr *peer,
    const struct ike_ts *l, const struct ike_ts *r, uint32_t reqid,
    const struct ike_rulecopy *rule)
{
	struct ike_pending *p;
	int rc;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PA_E_NOMEM;
	p->mm = mm;
	p->peer = *peer;
	p->ts_l = *l;
	p->ts_r = *r;
	p->reqid = reqid;
	p->since = ike_now();
	if ((rc = ike_rulecopy_dup(&p->rule, rule)) != 0) {
		free(p);
		return rc;
	}
	p->next = ike->pending;
	ike->pending = p;
	return 0;
}

int
ike_start_negotiation(struct ike *ike, const struct pa_addr *peer,
    const struct ike_ts *l, const struct ike_ts *r, uint32_t reqid,
    const struct ike_rulecopy *rule)
{
	struct ike_mm *mm;
	int rc;

	ike_timer_note(ike, ike_now() + ike->cfg.soft_sa_ms);
	mm = ike->cfg.no_mm_reuse ? NULL : ike_mm_find_peer(ike, peer, true);
	if (mm != NULL && l != NULL)
		return ike_qm_initiate(ike, mm, l, r, reqid, rule);
	if (ike->cfg.no_mm_reuse) {
		struct ike_mm *nm;

		if ((rc = ike_mm_initiate(ike, peer, rule, &nm)) != 0 ||
		    l == NULL)
			return rc;
		return pending_add(ike, nm, peer, l, r, reqid, rule);
	}
	if (l != NULL &&
	    (rc = pending_add(ike, NULL, peer, l, r, reqid, rule)) != 0)
		return rc;
	if (mm != NULL || ike_mm_find_peer(ike, peer, false) != NULL)
		return 0;	/* in progress */
	return ike_mm_initiate(ike, peer, rule, &mm);
}

void
ike_mm_ready(struct ike *ike, struct ike_mm *mm)
{
	struct ike_pending **pp, *p;

	for (pp = &ike->pending; (p = *pp) != NULL;) {
		if (!pa_addr_eq(&p->peer, &mm->peer) ||
		    (p->mm != NULL && p->mm != mm)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (ike_qm_initiate(ike, mm, &p->ts_l, &p->ts_r, p->reqid,
		    &p->rule) != 0)
			ike->st.acquire_failures++;
		ike_rulecopy_clear(&p->rule);
		free(p);
	}
}

/*
 * Is this packet's flow with this peer already under way (a Quick Mode in
 * either role that has not finished, or a request waiting for its Main
 * Mode)? The driver repeats an acquire while it holds packets: that must
 * not start a second negotiation. Nor must the acquire a responder's
 * driver raised for the first reply, sent while only the inbound SA was in
 * (see qm_respond), which may reach us just after the Quick Mode is done:
 * a responder's Quick Mode established less than IKE_STALE_ACQ_MS ago
 * covers its flow too.
 */
#define IKE_STALE_ACQ_MS	2000

/* Does the selector pair (l, r) of a negotiation cover this packet? */
static bool
ts_covers(const struct ike_ts *l, const struct ike_ts *r,
    const struct drv_sel *pkt)
{
	if (!pa_prefix_contains(&l->net, &pkt->src.addr) ||
	    !pa_prefix_contains(&r->net, &pkt->dst.addr))
		return false;
	if (l->proto != 0 && l->proto != pkt->proto)
		return false;
	if (l->port != 0 && l->port != pkt->sport)
		return false;
	return r->port == 0 || r->port == pkt->dport;
}

static bool
acquire_in_progress(struct ike *ike, const struct pa_addr *peer,
    const struct drv_sel *pkt)
{
	const struct ike_pending *p;
	const struct ike_qm *qm;

	for (qm = ike->qm_head; qm != NULL; qm = qm->next)
		if (qm->state != QM_DEAD && (qm->state != QM_DONE ||
		    (!qm->initiator && qm->done_at + IKE_STALE_ACQ_MS >
		    ike_now())) && pa_addr_eq(&qm->peer, peer) &&
		    ts_covers(&qm->ts_l, &qm->ts_r, pkt))
			return true;
	for (p = ike->pending; p != NULL; p = p->next)
		if (pa_addr_eq(&p->peer, peer) &&
		    ts_covers(&p->ts_l, &p->ts_r, pkt))
			return true;
	return false;
}

int
ike_acquire(struct ike *ike, const struct drv_sel *pkt, uint32_t reqid,
    const struct pol_spd_entry *entry)
{
	struct ike_rulecopy rule;
	struct ike_ts l, r;
	struct pa_addr peer;
	char a[PA_ADDRSTRLEN];
	int rc;

	ike->st.total_acquire++;
	if (ike->paused)
		return PA_E_STATE;
	if ((rc = ike_rule_for_pkt(ike, pkt, entry, &rule, &l, &r)) != 0) {
		ike->st.acquire_failures++;
		ike_olog(ike, "acquire for %s: no negotiation rule",
		    pa_addr_str(&pkt->dst.addr, a, sizeof(a)));
		return rc;
	}
	peer = rule.tunnel ? rule.tunnel_peer : pkt->dst.addr;
	if (!ike->cfg.no_mm_reuse && acquire_in_progress(ike, &peer, pkt)) {
		ike_olog(ike, "acquire: rule \"%s\", peer %s: negotiation "
		    "already in progress", rule.name,
		    pa_addr_str(&peer, a, sizeof(a)));
		ike_rulecopy_clear(&rule);
		return 0;
	}
	ike_olog(ike, "acquire: rule \"%s\", peer %s, reqid %u", rule.name,
	    pa_addr_str(&peer, a, sizeof(a)), reqid);
	rc = ike_start_negotiation(ike, &peer, &l, &r, reqid, &rule);
	if (rc != 0)
		ike->st.acquire_failures++;
	ike_rulecopy_clear(&rule);
	return rc;
}

int
ike_initiate(struct ike *ike, const struct pa_addr *peer)
{
	struct ike_rulecopy rule;
	int rc;

	if (ike->paused)
		return PA_E_STATE;
	if ((rc = ike_rule_for_peer(ike, peer, &rule)) != 0)
		return rc;
	rc = ike_start_negotiation(ike, peer, NULL, NULL, 0, &rule);
	ike_rulecopy_clear(&rule);
	return rc;
}

void
ike_expire(struct ike *ike, const struct sa_id *id, uint64_t cookie, bool hard)
{
	ike_qm_expire(ike, id, cookie, hard);
}

void
ike_pause(struct ike *ike, bool paused)
{
	ike->paused = paused;
}

/* Tell the peer the ISAKMP SA mm is deleted (RFC 2408 3.15). */
static void
mm_delete_send(struct ike *ike, struct ike_mm *mm)
{
	uint8_t ck[16];

	memcpy(ck, mm->cky_i, 8);
	memcpy(ck + 8, mm->cky_r, 8);
	ike_delete_send(ike, mm, ISK_PROTO_ISAKMP, ck, 16, 1);
}

void
ike_shutdown(struct ike *ike)
{
	struct ike_qm *qm;
	struct ike_mm *mm;

	for (qm = ike->qm_head; qm != NULL; qm = qm->next) {
		if (qm->state != QM_DONE)
			continue;
		ike_qm_delete_send(ike, qm);
		ike_qm_kill(ike, qm, true, "shutdown");
	}
	for (mm = ike->mm_head; mm != NULL; mm = mm->next) {
		if (mm->state == MM_DONE)
			mm_delete_send(ike, mm);
		ike_mm_kill(ike, mm, "shutdown");
	}
}

size_t
ike_set_domain_cas(struct ike *ike, const struct pa_bytes *ders,
    const bool *anchor, size_t n)
{
	int k;

	if (ike->creds == NULL)
		return 0;
	k = ike_creds_set_domain_cas(ike->creds, ders, anchor, n);
	return k > 0 ? (size_t)k : 0;
}

size_t
ike_domain_ims(const struct ike *ike)
{
	return ike_creds_ndims(ike->creds);
}

size_t
ike_set_crls(struct ike *ike, const struct pa_bytes *ders, size_t n)
{
	struct ike_mm *mm;
	struct ike_qm *qm;
	char pa[PA_ADDRSTRLEN];
	size_t ended = 0;

	if (ike->creds == NULL || ike_creds_set_crls(ike->creds, ders, n) != 0)
		return 0;
	for (mm = ike->mm_head; mm != NULL; mm = mm->next) {
		if (mm->state != MM_DONE ||
		    !ike_peer_certs_revoked(ike->creds, mm->peer_certs))
			continue;
		log_warnx("ike: the certificate of %s (%s) is revoked: its SAs "
		    "end", pa_addr_str(&mm->peer, pa, sizeof(pa)), mm->peer_id);
		for (qm = mm->qms; qm != NULL; qm = qm->mnext) {
			if (qm->state != QM_DONE)
				continue;
			ike_qm_delete_send(ike, qm);
			ike_qm_kill(ike, qm, true, "peer certificate revoked");
		}
		mm_delete_send(ike, mm);
		ike_mm_kill(ike, mm, "peer certificate revoked");
		ended++;
	}
	return ended;
}

/* Input. */

/*
 * Malformed or unexpected input is counted per packet and audited (550)
 * at most once per 10 s, with the number seen since the last report.
 */
static void
bad_input_report(struct ike *ike)
{
	uint64_t bad = ike->st.invalid_packets + ike->st.invalid_cookies;
	uint64_t now;
	char txt[160];
	const char *kv[2] = { "Text", txt };

	if (bad == ike->bad_reported)
		return;
	now = ike_now();
	if (ike->last_bad_audit != 0 && now - ike->last_bad_audit < 10000)
		return;
	snprintf(txt, sizeof(txt), "%llu invalid IKE packet(s) received "
	    "(malformed, unexpected or unknown cookies)",
	    (unsigned long long)(bad - ike->bad_reported));
	ike->bad_reported = bad;
	ike->last_bad_audit = now;
	ike_audit(ike, AUDIT_IKE_NOTIFICATION, kv, 2);
}

/*
 * One datagram from (from, port) on socket sock: parse, route to its
 * exchange. Every failure is counted; nothing is trusted before a check.
 */
void
ike_input(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const uint8_t *buf, size_t n)
{
	struct isk_hdr h;
	struct pa_bytes body, msg;
	struct ike_mm *mm;
	struct rd r;

	rd_init(&r, buf, n);
	if (ike->socks[sock].natt) {
		uint32_t marker;

		/* Keepalives (0xff) and ESP (SPI != 0) are not ours. */
		if (rd_u32(&r, &marker) != 0 || marker != 0)
			return;
	}
	msg = rd_rest(&r);
	if (isk_parse_hdr(msg.p, msg.len, &h, &body) != 0) {
		ike->st.invalid_packets++;
		return;
	}
	switch (h.exch) {
	case ISK_EXCH_MAIN:
		ike_mm_input(ike, sock, from, port, &h, body, msg.p, msg.len);
		break;
	case ISK_EXCH_INFO:
		if (!(h.flags & ISK_FLAG_ENC)) {
			/* An unprotected error before keys agree. */
			mm = ike_mm_find(ike, h.cky_i, h.cky_r);
			if (mm != NULL && mm->state != MM_DONE &&
			    pa_addr_eq(&mm->peer, from))
				ike_mm_plain_notify(ike, mm, &h, body);
			else
				ike->st.invalid_packets++;
			break;
		}
		/* FALLTHROUGH */
	case ISK_EXCH_QUICK:
		mm = ike_mm_find(ike, h.cky_i, h.cky_r);
		if (mm == NULL || !mm->keyed ||
		    memcmp(mm->cky_r, h.cky_r, 8) != 0 ||
		    !pa_addr_eq(&mm->peer, from)) {
			ike->st.invalid_cookies++;
			break;
		}
		/* Where it came from: ike_mm_authentic() may follow it. */
		mm->rx_sock = sock;
		mm->rx_port = port;
		if (h.exch == ISK_EXCH_QUICK)
			ike_qm_input(ike, mm, &h, body, msg.p, msg.len);
		else if (mm->state == MM_I_ID_SENT)
			/* The answer to our MM #5 may say our keys differ. */
			ike_mm_early_info(ike, mm, &h, body);
		else
			ike_info_input(ike, mm, &h, body, msg.p, msg.len);
		break;
	case ISK_EXCH_AGGRESSIVE: {
		char a[PA_ADDRSTRLEN];

		ike->st.invalid_packets++;
		ike_olog(ike, "Aggressive Mode from %s refused",
		    pa_addr_str(from, a, sizeof(a)));
		ike_notify_plain(ike, sock, from, port, h.cky_i, h.cky_r,
		    ISK_N_UNSUPPORTED_EXCHANGE_TYPE);
		ike_audit_fail(ike, "Key Exchange Mode (Main Mode)", from, "Me",
		    "Aggressive Mode is not supported");
		break;
	}
	default:
		ike->st.invalid_packets++;
		break;
	}
	bad_input_report(ike);
}

/* The kernel's drop counter came with a datagram: count what is new. */
static void
rx_overflow(struct ike *ike, struct ike_sock *s, struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			uint32_t v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			ike->st.rx_overflows += (uint32_t)(v - s->ovfl);
			s->ovfl = v;
		}
}

/*
 * Read what the socket holds, in batches (recvmmsg), up to a budget per
 * call so that the loop still serves timers and other sockets.
 */
int
ike_dispatch(struct ike *ike, int fd)
{
	struct mmsghdr mh[IKE_RX_BATCH];
	struct iovec iov[IKE_RX_BATCH];
	struct sockaddr_storage ss[IKE_RX_BATCH];
	union {
		struct cmsghdr	align;
		uint8_t		b[CMSG_SPACE(sizeof(uint32_t))];
	} ctl[IKE_RX_BATCH];
	struct pa_addr from;
	uint16_t port;
	size_t i;
	int sock = -1, budget, n, k;

	if (fd >= 0 && fd == ike_krb_fd(ike)) {
		ike_krb_dispatch(ike);
		return 0;
	}
	for (i = 0; i < ike->nsocks; i++)
		if (ike->socks[i].fd == fd)
			sock = (int)i;
	if (sock < 0)
		return PA_E_INVAL;
	for (budget = 0; budget < IKE_RX_BUDGET; budget += n) {
		for (k = 0; k < IKE_RX_BATCH; k++) {
			iov[k].iov_base = ike->rxbuf + (size_t)k * IKE_MAX_PKT;
			iov[k].iov_len = IKE_MAX_PKT;
			memset(&mh[k], 0, sizeof(mh[k]));
			mh[k].msg_hdr.msg_name = &ss[k];
			mh[k].msg_hdr.msg_namelen = sizeof(ss[k]);
			mh[k].msg_hdr.msg_iov = &iov[k];
			mh[k].msg_hdr.msg_iovlen = 1;
			mh[k].msg_hdr.msg_control = ctl[k].b;
			mh[k].msg_hdr.msg_controllen = sizeof(ctl[k].b);
		}
		n = recvmmsg(fd, mh, IKE_RX_BATCH, 0, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			ike->st.receive_failures++;
			return PA_E_SYS;
		}
		for (k = 0; k < n; k++) {
			rx_overflow(ike, &ike->socks[sock], &mh[k].msg_hdr);
			if (ike->paused)
				continue;
			if (mh[k].msg_hdr.msg_flags & MSG_TRUNC) {
				ike->st.invalid_packets++;
				continue;
			}
			if (pa_addr_from_sockaddr((struct sockaddr *)&ss[k],
			    &from, &port) != 0)
				continue;
			ike_input(ike, sock, &from, port, iov[k].iov_base,
			    mh[k].msg_len);
		}
		if (n < IKE_RX_BATCH)
			return 0;
	}
	return 0;
}

/* Timers. */

static uint64_t
min_at(uint64_t cur, uint64_t at)
{
	if (at == 0)
		return cur;
	return cur == 0 || at < cur ? at : cur;
}

/*
 * Was the peer of a request asked, and has it stayed silent? Then when
 * it was asked (MM #1 first sent), else 0. Windows falls back to clear
 * only for a computer that does not take part in IKE at all: the
 * initiator's ISAKMP requests go unanswered (Microsoft KB 234580, "Soft
 * Associations" between IPSec-enabled and non-IPSec-enabled computers).
 * A peer that answered is IPsec-aware: no fallback, whatever goes wrong
 * later. A Main Mode that never sent MM #1 (a local failure: no Kerberos
 * tickets, no certificate, no usable method; or still waiting for our
 * tickets) asked nobody.
 */
static uint64_t
peer_asked_at(const struct ike *ike, const struct ike_pending *p)
{
	const struct ike_mm *mm;
	uint64_t asked = 0;

	for (mm = ike->mm_head; mm != NULL; mm = mm->next) {
		if (mm->state == MM_DEAD || !pa_addr_eq(&mm->peer, &p->peer))
			continue;
		if (!mm->initiator)
			return 0;	/* it speaks IKE to us */
		if (p->mm != NULL && p->mm != mm)
			continue;
		if (mm->state != MM_I_SA_SENT || mm->sent1_at == 0)
			return 0;	/* answered, or not asked yet */
		if (asked == 0 || mm->sent1_at < asked)
			asked = mm->sent1_at;
	}
	return asked;
}

/*
 * The earliest deadline of all SAs and pending requests (absolute ms), 1
 * if a dead SA waits to be freed, 0 if there is none. A full walk: only
 * ike_run_timers() calls it, when the noted deadline has come.
 */
static uint64_t
timers_min(const struct ike *ike)
{
	const struct ike_mm *mm;
	const struct ike_qm *qm;
	const struct ike_pending *p;
	uint64_t at = 0;

	for (mm = ike->mm_head; mm != NULL; mm = mm->next) {
		if (mm->state == MM_DEAD)
			return 1;
		at = min_at(at, mm->retx_at);
		at = min_at(at, mm->expire_at);
		at = min_at(at, mm->keepalive_at);
		at = min_at(at, mm->dpd_at);
	}
	for (qm = ike->qm_head; qm != NULL; qm = qm->next) {
		if (qm->state == QM_DEAD)
			return 1;
		at = min_at(at, qm->retx_at);
		at = min_at(at, qm->out_at);
	}
	for (p = ike->pending; p != NULL; p = p->next) {
		uint64_t asked = 0;

		at = min_at(at, p->since + (uint64_t)ike->cfg.retrans_ms *
		    ((1U << (ike->cfg.retrans_max + 1)) + 2));
		if (!p->soft_done && p->rule.soft &&
		    (asked = peer_asked_at(ike, p)) != 0)
			at = min_at(at, asked + ike->cfg.soft_sa_ms);
	}
	return min_at(at, ike_soft_next(ike));
}

int
ike_next_timeout_ms(const struct ike *ike, uint64_t now)
{
	if (ike_dh_wanted(ike))
		return 0;	/* make a key pair ahead (dhpool.c) */
	if (ike->timer_due == 0)
		return -1;
	if (ike->timer_due <= now)
		return 0;
	return ike->timer_due - now > INT32_MAX ? INT32_MAX :
	    (int)(ike->timer_due - now);
}

static void
retransmit(struct ike *ike, int sock, const struct pa_addr *peer,
    uint16_t port, uint8_t *tx, size_t txlen, uint64_t *at, uint32_t *n,
    uint64_t now)
{
	if (ike_send(ike, sock, peer, port, tx, txlen) == 0)
		ike->st.retransmits++;
	(*n)++;
	*at = now + ((uint64_t)ike->cfg.retrans_ms << (*n < 6 ? *n : 6));
}

static void	soft_association(struct ike *, const struct ike_pending *);

/* DPD: the peer stopped answering; remove everything we have with it. */
static void
dpd_dead(struct ike *ike, struct ike_mm *mm)
{
	struct ike_qm *qm;

	ike->st.dpd_dead_peers++;
	for (qm = ike->qm_head; qm != NULL; qm = qm->next)
		if (qm->state == QM_DONE && pa_addr_eq(&qm->peer, &mm->peer))
			ike_qm_kill(ike, qm, true, "dead peer (DPD)");
	ike_audit_fail(ike, "Key Exchange Mode (Main Mode)", &mm->peer, "Peer",
	    "No response from peer (dead peer detection)");
	ike_mm_kill(ike, mm, "dead peer (DPD)");
}

/* One Main Mode SA's deadlines that have come. */
static void
timers_mm(struct ike *ike, struct ike_mm *mm, uint64_t now)
{
	if (mm->state == MM_DEAD) {
		ike_mm_free(ike, mm);
		return;
	}
	if (mm->expire_at != 0 && mm->expire_at <= now) {
		if (mm->state == MM_DONE) {
			mm_delete_send(ike, mm);
			ike_mm_kill(ike, mm, "lifetime expired");
		} else if (mm->state == MM_R_MAP_WAIT ||
		    mm->state == MM_I_MAP_WAIT) {
			ike_mm_fail(ike, mm, "Me", "certificate to account "
			    "mapping: no answer from the directory in time");
		} else {
			ike_audit_fail(ike, "Key Exchange Mode (Main Mode)",
			    &mm->peer, "Peer", "No response from peer");
			ike_mm_kill(ike, mm, "negotiation timed out");
		}
		return;
	}
	if (mm->dpd_at != 0 && mm->dpd_at <= now && mm->state == MM_DONE) {
		if (mm->dpd_missed > ike->cfg.retrans_max) {
			dpd_dead(ike, mm);
			return;
		}
		ike_dpd_send(ike, mm, ++mm->dpd_seq);
		mm->dpd_missed++;
		mm->dpd_at = now + ike->cfg.retrans_ms;
	}
	if (mm->keepalive_at != 0 && mm->keepalive_at <= now) {
		/* RFC 3948 2.3: one 0xff byte keeps the NAT mapping. */
		static const uint8_t ka = 0xff;
		struct sockaddr_storage ss;
		socklen_t sl;

		pa_addr_to_sockaddr(&mm->peer, mm->peer_port, &ss, &sl);
		if (sendto(ike->socks[mm->sock].fd, &ka, 1, 0,
		    (struct sockaddr *)&ss, sl) < 0)
			ike->st.send_failures++;
		mm->keepalive_at = now + ike->cfg.keepalive_ms;
	}
	if (mm->retx_at != 0 && mm->retx_at <= now) {
		if (mm->retx_n >= ike->cfg.retrans_max) {
			mm->retx_at = 0;
			mm->expire_at = now;	/* fails next run */
			if (mm->state == MM_DONE)
				mm->expire_at = 0;
			return;
		}
		retransmit(ike, mm->sock, &mm->peer, mm->peer_port, mm->tx,
		    mm->txlen, &mm->retx_at, &mm->retx_n, now);
	}
}

/* One Quick Mode SA's deadlines that have come. */
static void
timers_qm(struct ike *ike, struct ike_qm *qm, uint64_t now)
{
	if (qm->state == QM_DEAD) {
		ike_qm_free(ike, qm);
		return;
	}
	if (qm->state == QM_I_OUTWAIT && qm->out_at <= now) {
		ike_qm_out_due(ike, qm);
		return;
	}
	if (qm->retx_at != 0 && qm->retx_at <= now) {
		if (qm->mm == NULL || qm->retx_n >= ike->cfg.retrans_max) {
			ike_audit_fail(ike, "Data Protection Mode (Quick Mode)",
			    &qm->peer, "Peer", "No response from peer");
			ike_qm_kill(ike, qm, true, "no response");
			return;
		}
		retransmit(ike, qm->mm->sock, &qm->peer, qm->mm->peer_port,
		    qm->tx, qm->txlen, &qm->retx_at, &qm->retx_n, now);
	}
}

/*
 * Acquires waiting for Main Mode: a rule that allows unsecured
 * communication gets a soft association once the peer was asked and
 * stayed silent for soft_sa_ms (the negotiation goes on); a request whose
 * Main Mode died, or that waited longer than a negotiation can last, is
 * dropped.
 */
static void
timers_pending(struct ike *ike, uint64_t now)
{
	struct ike_pending **pp, *p;
	struct ike_mm *mm;

	for (pp = &ike->pending; (p = *pp) != NULL;) {
		bool mm_alive = false;
		uint64_t asked;

		if (!p->soft_done && p->rule.soft &&
		    (asked = peer_asked_at(ike, p)) != 0 &&
		    asked + ike->cfg.soft_sa_ms <= now) {
			p->soft_done = true;
			soft_association(ike, p);
		}
		for (mm = ike->mm_head; mm != NULL && !mm_alive; mm = mm->next)
			mm_alive = mm->state != MM_DEAD && mm->state != MM_DONE &&
			    (p->mm != NULL ? p->mm == mm :
			    pa_addr_eq(&mm->peer, &p->peer));
		if (mm_alive && p->since + (uint64_t)ike->cfg.retrans_ms *
		    ((1U << (ike->cfg.retrans_max + 1)) + 2) > now) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		ike->st.acquire_failures++;
		ike_rulecopy_clear(&p->rule);
		free(p);
	}
}

void
ike_run_timers(struct ike *ike, uint64_t now)
{
	struct ike_mm *mm, *mnext;
	struct ike_qm *qm, *qnext;

	if (ike_dh_wanted(ike))
		ike_dh_refill(ike);
	/* Every deadline is noted in timer_due: walk only when it has come. */
	if (ike->timer_due == 0 || now < ike->timer_due)
		return;
	for (mm = ike->mm_head; mm != NULL; mm = mnext) {
		mnext = mm->next;
		timers_mm(ike, mm, now);
	}
	for (qm = ike->qm_head; qm != NULL; qm = qnext) {
		qnext = qm->next;
		timers_qm(ike, qm, now);
	}
	timers_pending(ike, now);
	ike_soft_run(ike, now);
	ike->timer_due = timers_min(ike);
}

/* Count and audit a soft association (the peer does not answer). */
static void
soft_association(struct ike *ike, const struct ike_pending *p)
{
	char a[PA_ADDRSTRLEN], txt[160];
	const char *kv[2] = { "Text", txt };

	snprintf(txt, sizeof(txt), "Soft association with %s: peer did not "
	    "answer, traffic permitted in clear",
	    pa_addr_str(&p->peer, a, sizeof(a)));
	ike->st.soft_associations++;
	ike_olog(ike, "%s", txt);
	ike_audit(ike, AUDIT_IKE_NOTIFICATION, kv, 2);
	ike_soft_start(ike, &p->peer, p->rule.prio_soft != 0 ?
	    p->rule.prio_soft : POL_PRIO_BASE, &p->ts_l, &p->ts_r);
}

void
ike_stats(const struct ike *ike, struct ike_stats *st)
{
	*st = ike->st;
}

void
ike_foreach_mmsa(const struct ike *ike,
    void (*fn)(void *, const struct ike_mmsa_info *), void *arg)
{
	const struct ike_mm *mm;
	struct ike_mmsa_info in;
	uint64_t now = ike_now();

	for (mm = ike->mm_head; mm != NULL; mm = mm->next) {
		if (mm->state == MM_DEAD)
			continue;
		memset(&in, 0, sizeof(in));
		memcpy(in.cky_i, mm->cky_i, 8);
		memcpy(in.cky_r, mm->cky_r, 8);
		in.initiator = mm->initiator;
		in.established = mm->state == MM_DONE;
		in.local = mm->local;
		in.peer = mm->peer;
		in.peer_port = mm->peer_port;
		in.cipher = mm->p1.enc == ISK_ENC_DES ? POL_MM_DES :
		    mm->p1.enc == ISK_ENC_3DES ? POL_MM_3DES :
		    mm->p1.keylen == 16 ? POL_MM_AES128 :
		    mm->p1.keylen == 24 ? POL_MM_AES192 : POL_MM_AES256;
		in.hash = mm->p1.hash == ISK_HASH_MD5 ? POL_INTEG_MD5 :
		    mm->p1.hash == ISK_HASH_SHA1 ? POL_INTEG_SHA1 :
		    POL_INTEG_SHA256;
		in.dh_group = mm->p1.group;
		in.auth = mm->p1.auth == ISK_AUTH_PSK ? POL_AUTH_PSK :
		    mm->p1.auth == ISK_AUTH_RSA ? POL_AUTH_CERT :
		    POL_AUTH_KERBEROS;
		in.life_sec = mm->p1.life_sec;
		in.created = mm->created;
		if (in.established && mm->expire_at > now)
			in.expires_in = (uint32_t)((mm->expire_at - now +
			    999) / 1000);
		in.qm_count = mm->qm_count;
		snprintf(in.peer_id, sizeof(in.peer_id), "%s", mm->peer_id);
		fn(arg, &in);
	}
}

void
ike_foreach_qmsa(const struct ike *ike,
    void (*fn)(void *, const struct ike_qmsa_info *), void *arg)
{
	const struct ike_qm *qm;
	struct ike_qmsa_info in;

	for (qm = ike->qm_head; qm != NULL; qm = qm->next) {
		if (qm->state != QM_DONE)
			continue;
		memset(&in, 0, sizeof(in));
		memcpy(in.cky_i, qm->cky_i, 8);
		memcpy(in.cky_r, qm->cky_r, 8);
		in.local = qm->local;
		in.peer = qm->peer;
		in.src = qm->ts_l.net;
		in.dst = qm->ts_r.net;
		in.proto = qm->ts_l.proto;
		in.sport = qm->ts_l.port;
		in.dport = qm->ts_r.port;
		in.tunnel = qm->p2.tunnel;
		in.ah = qm->p2.ah;
		in.esp = qm->p2.esp;
		in.esp_cipher = qm->p2.esp_cipher;
		in.esp_integ = qm->p2.esp_integ;
		in.ah_integ = qm->p2.ah_integ;
		in.pfs_group = qm->p2.group;
		in.spi_in = qm->p2.esp ? qm->esp_in : qm->ah_in;
		in.spi_out = qm->p2.esp ? qm->esp_out : qm->ah_out;
		in.ah_spi_in = qm->ah_in;
		in.ah_spi_out = qm->ah_out;
		in.life_sec = qm->p2.life_sec;
		in.life_kb = qm->p2.life_kb;
		in.soft_sec = ike_qm_soft_sec(qm);
		in.created = qm->created;
		fn(arg, &in);
	}
}

