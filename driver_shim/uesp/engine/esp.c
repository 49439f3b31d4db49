/*
 * ESP (RFC 4303) in transport and tunnel mode, optionally inside UDP
 * (RFC 3948). CBC ciphers get a random IV per packet (RFC 3602); AES-GCM
 * (RFC 4106) uses the sequence number as its explicit IV, unique per key.
 */
#include <netinet/in.h>

#include <openssl/crypto.h>

#include <string.h>

#include "uesp_int.h"

/* UDP checksum over the IPv6 pseudo header (RFC 8200 8.1). */
static int
uesp_udp6_cksum(struct wr *w, size_t udp_off)
{
	uint8_t *h, *u, ph[8];
	size_t ulen = w->len - udp_off;
	uint32_t sum;
	uint16_t c;

	if ((h = uesp_wr_at(w, 8, 32)) == NULL ||
	    (u = uesp_wr_at(w, udp_off, ulen)) == NULL)
		return PA_E_SHORT;
	memset(ph, 0, sizeof(ph));
	ph[0] = (uint8_t)(ulen >> 24);
	ph[1] = (uint8_t)(ulen >> 16);
	ph[2] = (uint8_t)(ulen >> 8);
	ph[3] = (uint8_t)ulen;
	ph[7] = IPPROTO_UDP;
	sum = uesp_cksum_add(h, 32, 0);
	sum = uesp_cksum_add(ph, 8, sum);
	c = uesp_cksum(u, ulen, sum);
	return wr_patch_u16(w, udp_off + 6, c == 0 ? 0xffff : c);
}

int
uesp_esp_out(struct uesp_sa *sa, const uint8_t *pkt, size_t len,
    struct wr *w)
{
	struct uesp_outer o;
	uint8_t iv[16], icv[UESP_ICV_MAX], *ct, *aad;
	uint32_t seq;
	size_t udp_off = 0, esp_off, ct_off, ct_len, padlen, i;
	bool udp = sa->p.encap_dport != 0;
	int rc;

	if ((rc = uesp_outer(sa, pkt, len, &o)) != 0)
		return rc;
	if ((rc = uesp_sa_next_seq(sa, &seq)) != 0)
		return rc;
	if ((rc = uesp_ip_hdr(w, o.src, o.dst,
	    udp ? IPPROTO_UDP : IPPROTO_ESP, o.id, o.tos, o.ttl)) != 0)
		return rc;
	if (udp) {
		udp_off = w->len;
		wr_u16(w, sa->p.encap_sport);
		wr_u16(w, sa->p.encap_dport);
		wr_u32(w, 0);		/* length and checksum, patched */
	}
	esp_off = w->len;
	wr_u32(w, sa->id.spi);
	wr_u32(w, seq);
	if (sa->aead) {
		memset(iv, 0, 4);
		iv[4] = (uint8_t)(seq >> 24);
		iv[5] = (uint8_t)(seq >> 16);
		iv[6] = (uint8_t)(seq >> 8);
		iv[7] = (uint8_t)seq;
	} else if (sa->iv_len > 0 && (rc = uesp_sa_iv(sa, seq, iv)) != 0)
		return rc;
	wr_bytes(w, iv, sa->iv_len);
	ct_off = w->len;
	wr_bytes(w, o.body.p, o.body.len);
	padlen = (sa->block - (o.body.len + 2) % sa->block) % sa->block;
	for (i = 1; i <= padlen; i++)
		wr_u8(w, (uint8_t)i);
	wr_u8(w, (uint8_t)padlen);
	wr_u8(w, o.nh);
	if ((rc = wr_error(w)) != 0)
		return rc;
	ct_len = w->len - ct_off;
	if ((ct = uesp_wr_at(w, ct_off, ct_len)) == NULL ||
	    (aad = uesp_wr_at(w, esp_off, 8)) == NULL)
		return PA_E_SHORT;
	if (sa->aead) {
		if ((rc = uesp_sa_cipher(sa, iv, aad, 8, ct, ct, ct_len,
		    icv)) != 0)
			return rc;
	} else {
		if ((rc = uesp_sa_cipher(sa, iv, NULL, 0, ct, ct, ct_len,
		    NULL)) != 0)
			return rc;
		if (sa->mctx != NULL && (rc = uesp_sa_icv(sa, aad,
		    w->len - esp_off, NULL, 0, NULL, 0, icv)) != 0)
			return rc;
	}
	wr_bytes(w, icv, sa->icv_len);
	if ((rc = wr_error(w)) != 0)
		return rc;
	if (udp) {
		if (w->len - udp_off > UINT16_MAX)
			return PA_E_NOSPACE;
		if ((rc = wr_patch_u16(w, udp_off + 4,
		    (uint16_t)(w->len - udp_off))) != 0)
			return rc;
		if (o.src->family == AF_INET6 &&
		    (rc = uesp_udp6_cksum(w, udp_off)) != 0)
			return rc;
	}
	return uesp_ip_finish(w, o.src->family);
}

/*
 * Transport mode through a NAT (RFC 3948 3.1.2): the sender computed the
 * TCP/UDP checksum over the addresses it knew, and the NAT changed one of
 * them. ESP's ICV has already vouched for the payload, so the checksum is
 * recomputed over the addresses the packet now carries (the RFC's second
 * option; it needs no NAT-OA). An IPv4 UDP checksum of zero stays zero;
 * a segment too short for its header is left to the stack to drop.
 */
static int
uesp_l4_refresh(struct wr *w, uint8_t family, uint8_t nh)
{
	size_t hl = family == AF_INET ? 20 : 40, coff, l4len;
	uint8_t *a, *l4, ph[8];
	uint32_t sum;
	uint16_t c;
	int rc;

	if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
		return 0;
	coff = nh == IPPROTO_TCP ? 16 : 6;
	if (w->len < hl + coff + 2)
		return 0;
	l4len = w->len - hl;
	if ((a = uesp_wr_at(w, family == AF_INET ? 12 : 8,
	    family == AF_INET ? 8 : 32)) == NULL ||
	    (l4 = uesp_wr_at(w, hl, l4len)) == NULL)
		return PA_E_SHORT;
	if (nh == IPPROTO_UDP && family == AF_INET && l4[6] == 0 &&
	    l4[7] == 0)
		return 0;
	if ((rc = wr_patch_u16(w, hl + coff, 0)) != 0)
		return rc;
	memset(ph, 0, sizeof(ph));
	ph[4] = (uint8_t)(l4len >> 24);
	ph[5] = (uint8_t)(l4len >> 16);
	ph[6] = (uint8_t)(l4len >> 8);
	ph[7] = (uint8_t)l4len;
	sum = uesp_cksum_add(a, family == AF_INET ? 8 : 32, 0);
	sum += nh;
	sum = uesp_cksum_add(ph + 4, 4, sum);
	c = uesp_cksum(l4, l4len, sum);
	if (nh == IPPROTO_UDP && c == 0)
		c = 0xffff;
	return wr_patch_u16(w, hl + coff, c);
}

/* An inbound ESP packet's parts (RFC 4303 2), borrowed from the packet. */
struct esp_parts {
	struct pa_bytes	 hdr8;		/* SPI and sequence number */
	struct pa_bytes	 iv, ct, icv;
	uint32_t	 seq;
};

/*
 * Cut an inbound packet into its parts; a sequence number the replay
 * window refuses stops here. *why is set for the drop on failure.
 */
static int
esp_in_parts(struct uesp_sa *sa, const struct uesp_rx *rx,
    struct esp_parts *e, enum drv_drop_reason *why)
{
	struct rd r, h;
	uint32_t spi;
	size_t ct_len;
	int rc;

	*why = DRV_DROP_SYNTAX;
	rd_init(&r, rx->payload.p, rx->payload.len);
	if ((rc = rd_bytes(&r, 8, &e->hdr8)) != 0)
		return rc;
	rd_init(&h, e->hdr8.p, e->hdr8.len);
	if ((rc = rd_u32(&h, &spi)) != 0 || (rc = rd_u32(&h, &e->seq)) != 0)
		return rc;
	if (!uesp_replay_check(sa, e->seq)) {
		*why = DRV_DROP_REPLAY;
		atomic_fetch_add(&sa->replay_drops, 1);
		return PA_E_VERIFY;
	}
	*why = DRV_DROP_DECRYPT;
	if ((rc = rd_bytes(&r, sa->iv_len, &e->iv)) != 0)
		return rc;
	if (rd_left(&r) < sa->icv_len + 2) {
		atomic_fetch_add(&sa->decrypt_drops, 1);
		return PA_E_SHORT;
	}
	ct_len = rd_left(&r) - sa->icv_len;
	if ((rc = rd_bytes(&r, ct_len, &e->ct)) != 0 ||
	    (rc = rd_bytes(&r, sa->icv_len, &e->icv)) != 0)
		return rc;
	if (ct_len % sa->block != 0) {
		atomic_fetch_add(&sa->decrypt_drops, 1);
		return PA_E_FORMAT;
	}
	return 0;
}

/* The ICV of a non-AEAD SA over SPI, sequence number, IV and ciphertext. */
static int
esp_in_icv(struct uesp_sa *sa, const struct uesp_rx *rx,
    const struct esp_parts *e, enum drv_drop_reason *why)
{
	uint8_t icv[UESP_ICV_MAX];
	struct pa_bytes authed;
	struct rd h;
	int rc;

	rd_init(&h, rx->payload.p, rx->payload.len);
	if ((rc = rd_bytes(&h, 8 + sa->iv_len + e->ct.len, &authed)) != 0 ||
	    (rc = uesp_sa_icv(sa, authed.p, authed.len, NULL, 0, NULL, 0,
	    icv)) != 0)
		return rc;
	if (CRYPTO_memcmp(icv, e->icv.p, sa->icv_len) != 0) {
		*why = DRV_DROP_ICV;
		atomic_fetch_add(&sa->auth_drops, 1);
		return PA_E_VERIFY;
	}
	return 0;
}

/*
 * The trailer of the plaintext pt (ct_len bytes): padding 1, 2, 3, ...,
 * pad length, next header. *dlen is the length of the data before it.
 */
static int
esp_in_trailer(struct uesp_sa *sa, const uint8_t *pt, size_t ct_len,
    size_t *dlen, uint8_t *nh)
{
	struct rd t;
	uint8_t padlen, b;
	size_t i;
	int rc;

	rd_init(&t, pt, ct_len);
	if (ct_len < 2 || (rc = rd_skip(&t, ct_len - 2)) != 0 ||
	    (rc = rd_u8(&t, &padlen)) != 0 || (rc = rd_u8(&t, nh)) != 0 ||
	    (size_t)padlen + 2 > ct_len) {
		atomic_fetch_add(&sa->decrypt_drops, 1);
		return PA_E_FORMAT;
	}
	*dlen = ct_len - 2 - padlen;
	rd_init(&t, pt, ct_len);
	if ((rc = rd_skip(&t, *dlen)) != 0)
		return rc;
	for (i = 1; i <= padlen; i++)
		if (rd_u8(&t, &b) != 0 || b != (uint8_t)i) {
			atomic_fetch_add(&sa->decrypt_drops, 1);
			return PA_E_FORMAT;
		}
	return 0;
}

/* Transport mode: the IP header written before the data gets its
 * protocol, lengths and checksums. */
static int
esp_in_transport(struct uesp_sa *sa, const struct uesp_rx *rx, struct wr *w,
    uint8_t nh)
{
	uint8_t *proto;
	int rc;

	if ((proto = uesp_wr_at(w, rx->src.family == AF_INET ? 9 : 6, 1)) ==
	    NULL)
		return PA_E_SHORT;
	*proto = nh;
	if ((rc = uesp_ip_finish(w, rx->src.family)) != 0)
		return rc;
	if (sa->p.encap_sport != 0 || sa->p.encap_dport != 0)
		return uesp_l4_refresh(w, rx->src.family, nh);
	return 0;
}

int
uesp_esp_in(struct uesp_sa *sa, const struct uesp_rx *rx, struct wr *w,
    enum drv_drop_reason *why)
{
	struct esp_parts e;
	uint8_t tag[16], nh, *pt;
	size_t pt_off, dlen;
	int rc;

	if ((rc = esp_in_parts(sa, rx, &e, why)) != 0 ||
	    (sa->mctx != NULL && (rc = esp_in_icv(sa, rx, &e, why)) != 0))
		return rc;
	if (sa->p.mode == DRV_MODE_TRANSPORT &&
	    (rc = uesp_ip_hdr(w, &rx->src, &rx->dst, 0, rx->ip_id, rx->tos,
	    rx->ttl)) != 0)
		return rc;
	if ((rc = wr_reserve(w, e.ct.len, &pt_off)) != 0 ||
	    (pt = uesp_wr_at(w, pt_off, e.ct.len)) == NULL)
		return rc != 0 ? rc : PA_E_NOSPACE;
	if (sa->aead)
		memcpy(tag, e.icv.p, 16);
	rc = uesp_sa_cipher(sa, e.iv.p, e.hdr8.p, 8, e.ct.p, pt, e.ct.len,
	    sa->aead ? tag : NULL);
	if (rc == PA_E_VERIFY) {
		*why = DRV_DROP_ICV;
		atomic_fetch_add(&sa->auth_drops, 1);
		return rc;
	}
	if (rc != 0 || (rc = esp_in_trailer(sa, pt, e.ct.len, &dlen,
	    &nh)) != 0)
		return rc;
	*why = DRV_DROP_SYNTAX;
	if (nh != 59 && sa->p.mode == DRV_MODE_TUNNEL &&
	    (dlen == 0 || (nh != IPPROTO_IPIP && nh != IPPROTO_IPV6) ||
	    (pt[0] >> 4) != (nh == IPPROTO_IPIP ? 4 : 6)))
		return PA_E_FORMAT;
	/* Only a packet that passed every check moves the window. */
	if (!uesp_replay_update(sa, e.seq)) {
		*why = DRV_DROP_REPLAY;
		atomic_fetch_add(&sa->replay_drops, 1);
		return PA_E_VERIFY;
	}
	*why = DRV_DROP_SYNTAX;
	if (nh == 59)
		return PA_E_AGAIN;	/* dummy packet (RFC 4303 2.6) */
	w->len = pt_off + dlen;
	if (sa->p.mode == DRV_MODE_TUNNEL)
		return 0;
	return esp_in_transport(sa, rx, w, nh);
}
