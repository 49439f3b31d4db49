/*
 * Informational exchanges (RFC 2409 5.7): error notifies (unprotected in
 * the first two Main Mode round trips, protected after), delete payloads
 * sent and honoured, INITIAL-CONTACT, and R-U-THERE answered (RFC 3706)
 * for peers that use DPD.
 *
 *	HDR*, HASH(1), N/D	with HASH(1) = prf(SKEYID_a, M-ID | N/D)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_exch.h"

int
ike_notify_plain_msg(uint8_t *buf, size_t cap, const uint8_t cky_i[8],
    const uint8_t hdr_cky_r[8], const uint8_t spi_cky_r[8], uint16_t type,
    const uint8_t *data, size_t dlen, size_t *len)
{
	struct isk_hdr h;
	struct isk_chain c;
	struct wr w;
	size_t n;
	int rc;

	memset(&h, 0, sizeof(h));
	memcpy(h.cky_i, cky_i, 8);
	memcpy(h.cky_r, hdr_cky_r, 8);
	h.exch = ISK_EXCH_INFO;
	wr_init(&w, buf, cap);
	if ((rc = isk_hdr_write(&w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(&w, &c, ISK_PL_N, &n)) != 0)
		return rc;
	ike_notify_isakmp(&w, type, cky_i, spi_cky_r);
	if (dlen > 0)
		wr_bytes(&w, data, dlen);
	if ((rc = isk_pl_close(&w, n)) != 0 ||
	    (rc = isk_hdr_close(&w, 0)) != 0)
		return rc;
	*len = w.len;
	return 0;
}

void
ike_notify_plain(struct ike *ike, int sock, const struct pa_addr *peer,
    uint16_t port, const uint8_t cky_i[8], const uint8_t cky_r[8],
    uint16_t type)
{
	uint8_t buf[128];
	size_t len;

	if (ike_notify_plain_msg(buf, sizeof(buf), cky_i, cky_r, cky_r, type,
	    NULL, 0, &len) != 0)
		return;
	ike_olog(ike, "sent notify %s", isk_notify_name(type));
	if (ike_send(ike, sock, peer, port, buf, len) != 0)
		ike_olog(ike, "notify send failed");
}

/*
 * Send a protected informational whose one payload (type, body) is built
 * by the caller into body[0..len).
 */
static void
info_send(struct ike *ike, struct ike_mm *mm, uint8_t type,
    const uint8_t *body, size_t len)
{
	uint8_t buf[1024], mid[4], h[OAK_MAX_HASH], iv[OAK_MAX_BLOCK];
	struct isk_hdr hdr;
	struct isk_chain c;
	struct pa_bytes v[2];
	struct wr w;
	struct rd r;
	size_t hp, hoff, pl, hl = oak_hash_len(mm->p1.hash);
	uint32_t msgid;

	if (!mm->keyed || mm->state == MM_DEAD)
		return;
	do {
		if (ike_rand(ike, &msgid, 4) != 0)
			return;
	} while (msgid == 0);
	ike_mm_hdr(mm, &hdr, ISK_EXCH_INFO, ISK_FLAG_ENC, msgid);
	wr_init(&w, buf, sizeof(buf));
	if (isk_hdr_write(&w, &hdr, &c) != 0 ||
	    isk_pl_open(&w, &c, ISK_PL_HASH, &hp) != 0 ||
	    wr_reserve(&w, hl, &hoff) != 0 || isk_pl_close(&w, hp) != 0 ||
	    isk_pl_open(&w, &c, type, &pl) != 0 ||
	    wr_bytes(&w, body, len) != 0 || isk_pl_close(&w, pl) != 0)
		return;
	ike_put32(mid, msgid);
	v[0] = (struct pa_bytes){ mid, 4 };
	rd_init(&r, w.p, w.len);
	if (rd_skip(&r, pl) != 0)
		return;
	v[1] = rd_rest(&r);
	if (oak_prf(mm->p1.hash, mm->skeyid_a, hl, v, 2, h) != 0)
		return;
	memcpy(w.p + hoff, h, hl);
	if (oak_iv_p2(mm->p1.hash, mm->iv, oak_block_len(mm->p1.enc), msgid,
	    iv) != 0 || ike_encrypt_msg(mm, iv, &w, 0) != 0)
		return;
	if (ike_send(ike, mm->sock, &mm->peer, mm->peer_port, buf, w.len) != 0)
		ike_olog(ike, "informational send failed");
}

void
ike_notify_prot(struct ike *ike, struct ike_mm *mm, uint8_t proto,
    uint16_t type, const uint8_t *spi, size_t spilen)
{
	uint8_t b[64];
	struct wr w;

	if (spi == NULL && proto == ISK_PROTO_ISAKMP) {
		uint8_t ck[16];

		memcpy(ck, mm->cky_i, 8);
		memcpy(ck + 8, mm->cky_r, 8);
		ike_notify_prot(ike, mm, proto, type, ck, 16);
		return;
	}
	if (spilen > 16)
		return;
	wr_init(&w, b, sizeof(b));
	wr_u32(&w, ISK_DOI_IPSEC);
	wr_u8(&w, proto);
	wr_u8(&w, (uint8_t)spilen);
	wr_u16(&w, type);
	if (spilen > 0)
		wr_bytes(&w, spi, spilen);
	if (wr_error(&w) != 0)
		return;
	ike_olog(ike, "sent protected notify %s", isk_notify_name(type));
	info_send(ike, mm, ISK_PL_N, b, w.len);
}

void
ike_dpd_send(struct ike *ike, struct ike_mm *mm, uint32_t seq)
{
	uint8_t b[64];
	struct wr w;

	wr_init(&w, b, sizeof(b));
	ike_notify_isakmp(&w, ISK_N_R_U_THERE, mm->cky_i, mm->cky_r);
	wr_u32(&w, seq);
	if (wr_error(&w) != 0)
		return;
	ike->st.dpd_probes++;
	info_send(ike, mm, ISK_PL_N, b, w.len);
}

void
ike_dpd_alive(struct ike *ike, struct ike_mm *mm)
{
	if (!mm->peer_dpd || mm->state != MM_DONE)
		return;
	mm->dpd_missed = 0;
	mm->dpd_at = ike_now() + ike->cfg.dpd_ms;
	ike_timer_note(ike, mm->dpd_at);
}

void
ike_delete_send(struct ike *ike, struct ike_mm *mm, uint8_t proto,
    const uint8_t *spis, size_t spi_size, size_t nspi)
{
	uint8_t b[256];
	struct wr w;

	if (nspi == 0 || nspi > 8 || spi_size > 16)
		return;
	wr_init(&w, b, sizeof(b));
	wr_u32(&w, ISK_DOI_IPSEC);
	wr_u8(&w, proto);
	wr_u8(&w, (uint8_t)spi_size);
	wr_u16(&w, (uint16_t)nspi);
	wr_bytes(&w, spis, spi_size * nspi);
	if (wr_error(&w) != 0)
		return;
	ike_olog(ike, "sent delete (protocol %u, %zu SPI)", proto, nspi);
	info_send(ike, mm, ISK_PL_D, b, w.len);
}

/*
 * Tell the peer that an SA pair of ours is gone (its inbound SPIs, as
 * strongSwan and Windows name them), so that it stops sending on its
 * outbound half: the kernel keeps using an SA a connection's route cached
 * until that SA dies, so a peer that is not told keeps sending into an SA
 * we no longer have. Only over a Main Mode SA still in place.
 */
void
ike_qm_delete_send(struct ike *ike, const struct ike_qm *qm)
{
	uint8_t spi[4];

	if (qm->mm == NULL || qm->mm->state != MM_DONE)
		return;
	if (qm->p2.esp) {
		ike_put32(spi, qm->esp_in);
		ike_delete_send(ike, qm->mm, ISK_PROTO_ESP, spi, 4, 1);
	}
	if (qm->p2.ah) {
		ike_put32(spi, qm->ah_in);
		ike_delete_send(ike, qm->mm, ISK_PROTO_AH, spi, 4, 1);
	}
}

static void
info_delete(struct ike *ike, struct ike_mm *mm, const struct isk_delete *d)
{
	struct ike_qm *qm;
	struct rd r;
	uint32_t spi;
	size_t i;

	if (d->proto == ISK_PROTO_ISAKMP) {
		uint8_t ck[16];
		struct ike_mm *o;

		rd_init(&r, d->spis.p, d->spis.len);
		for (i = 0; i < d->nspi; i++) {
			if (d->spi_size != 16 || rd_copy(&r, ck, 16) != 0)
				return;
			o = ike_mm_find(ike, ck, ck + 8);
			if (o != NULL && pa_addr_eq(&o->peer, &mm->peer) &&
			    memcmp(o->cky_r, ck + 8, 8) == 0)
				ike_mm_kill(ike, o, "peer deleted it");
		}
		return;
	}
	if ((d->proto != ISK_PROTO_ESP && d->proto != ISK_PROTO_AH) ||
	    d->spi_size != 4)
		return;
	rd_init(&r, d->spis.p, d->spis.len);
	for (i = 0; i < d->nspi; i++) {
		if (rd_u32(&r, &spi) != 0)
			return;
		/*
		 * RFC 2408 has the peer name its inbound SA (our outbound
		 * SPI); strongSwan names its outbound one (our inbound SPI).
		 * Both identify the same pair of this authenticated peer.
		 */
		for (qm = ike->qm_head; qm != NULL; qm = qm->next) {
			if (qm->state != QM_DONE ||
			    !pa_addr_eq(&qm->peer, &mm->peer))
				continue;
			if ((d->proto == ISK_PROTO_ESP && qm->p2.esp &&
			    (qm->esp_out == spi || qm->esp_in == spi)) ||
			    (d->proto == ISK_PROTO_AH && qm->p2.ah &&
			    (qm->ah_out == spi || qm->ah_in == spi))) {
				ike_qm_kill(ike, qm, true, "peer deleted it");
				break;
			}
		}
	}
}

/*
 * Why a Quick Mode in flight ends on the peer's error notify type, into r:
 * as initiator, NO-PROPOSAL-CHOSEN names the offers the peer refused (the
 * Oakley log gets the line too).
 */
static void
qm_refused_reason(struct ike *ike, const struct ike_mm *mm,
    const struct ike_qm *qm, uint16_t type, char *r, size_t cap)
{
	char a[PA_ADDRSTRLEN], ol[400];

	if (qm->state != QM_I_SENT || type != ISK_N_NO_PROPOSAL_CHOSEN ||
	    qm->rule == NULL) {
		snprintf(r, cap, "peer sent %s", isk_notify_name(type));
		return;
	}
	snprintf(r, cap, "peer sent %s: it accepted none of our offers %s",
	    isk_notify_name(type), ike_p2_offers_str(qm->rule, mm->p1.group,
	    qm->rule->tunnel, ol, sizeof(ol)));
	ike_olog(ike, "QM #1 to %s (msgid %08x) refused (rule \"%s\"): %s",
	    pa_addr_str(&mm->peer, a, sizeof(a)), qm->msgid, qm->rule->name,
	    r);
}

void
ike_info_input(struct ike *ike, struct ike_mm *mm, const struct isk_hdr *h,
    struct pa_bytes body, const uint8_t *pkt, size_t len)
{
	uint8_t plain[IKE_MAX_PKT], iv[OAK_MAX_BLOCK], mid[4], want[OAK_MAX_HASH];
	struct isk_msg *m = NULL;
	struct pa_bytes span, v[2];
	size_t plen, i, hl = oak_hash_len(mm->p1.hash);

	(void)pkt;
	(void)len;
	if (!(h->flags & ISK_FLAG_ENC) || mm->state != MM_DONE) {
		ike->st.invalid_packets++;
		return;
	}
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if (oak_iv_p2(mm->p1.hash, mm->iv, oak_block_len(mm->p1.enc), h->msgid,
	    iv) != 0 ||
	    ike_decrypt_msg(mm, iv, body.p, body.len, plain, &plen) != 0 ||
	    isk_parse_chain((struct pa_bytes){ plain, plen }, h->np, true, m)
	    != 0 || isk_check_payloads(m) != 0 || m->npl < 2 ||
	    m->pl[0].type != ISK_PL_HASH || isk_span(m, 1, &span) != 0) {
		ike->st.invalid_packets++;
		goto out;
	}
	ike_put32(mid, h->msgid);
	v[0] = (struct pa_bytes){ mid, 4 };
	v[1] = span;
	if (m->pl[0].body.len != hl ||
	    oak_prf(mm->p1.hash, mm->skeyid_a, hl, v, 2, want) != 0 ||
	    CRYPTO_memcmp(want, m->pl[0].body.p, hl) != 0) {
		ike->st.invalid_packets++;
		ike_olog(ike, "informational: HASH mismatch, dropped");
		goto out;
	}
	ike_mm_authentic(ike, mm);
	for (i = 1; i < m->npl; i++) {
		const struct isk_payload *p = &m->pl[i];

		if (p->type == ISK_PL_D) {
			struct isk_delete d;

			if (isk_parse_delete(p->body, &d) == 0) {
				ike_olog(ike, "received delete (protocol %u, "
				    "%u SPI)", d.proto, d.nspi);
				info_delete(ike, mm, &d);
			}
		} else if (p->type == ISK_PL_N) {
			struct isk_notify n;
			struct ike_qm *qm;

			if (isk_parse_notify(p->body, &n) != 0)
				continue;
			ike_olog(ike, "received notify %s",
			    isk_notify_name(n.type));
			if (n.type == ISK_N_R_U_THERE_ACK && n.data.len == 4) {
				struct rd r;
				uint32_t seq;

				rd_init(&r, n.data.p, 4);
				if (rd_u32(&r, &seq) == 0 && seq == mm->dpd_seq)
					ike->st.dpd_acks++;
			} else if (n.type == ISK_N_R_U_THERE && n.data.len == 4) {
				uint8_t b[64];
				struct wr w;

				wr_init(&w, b, sizeof(b));
				wr_u32(&w, ISK_DOI_IPSEC);
				wr_u8(&w, ISK_PROTO_ISAKMP);
				wr_u8(&w, (uint8_t)n.spi.len);
				wr_u16(&w, ISK_N_R_U_THERE_ACK);
				wr_bytes(&w, n.spi.p, n.spi.len);
				wr_bytes(&w, n.data.p, 4);
				if (wr_error(&w) == 0)
					info_send(ike, mm, ISK_PL_N, b, w.len);
			} else if (n.type < 16384) {
				char r[640];

				/* An error: Quick Modes in flight failed. */
				for (qm = mm->qms; qm != NULL;
				    qm = qm->mnext)
					if ((qm->state == QM_I_SENT ||
					    qm->state == QM_R_SENT)) {
						qm_refused_reason(ike, mm, qm,
						    n.type, r, sizeof(r));
						ike_audit_fail(ike, "Data "
						    "Protection Mode (Quick "
						    "Mode)", &mm->peer, "Peer",
						    r);
						ike_qm_kill(ike, qm, true, r);
					}
			}
		}
	}
out:
	pa_wipe(plain, sizeof(plain));
	free(m);
}

void
ike_mm_authentic(struct ike *ike, struct ike_mm *mm)
{
	ike_dpd_alive(ike, mm);
	/*
	 * The peer floated to the NAT-T port: follow it, now that the
	 * message that came from there proved to be the peer's. An
	 * unauthenticated packet (its cookies are on the wire) must not
	 * redirect our messages.
	 */
	if (ike->socks[mm->rx_sock].natt && !ike->socks[mm->sock].natt) {
		mm->sock = mm->rx_sock;
		mm->peer_port = mm->rx_port;
	}
}
