/*
 * AH (RFC 4302) in transport and tunnel mode. The ICV covers the IP
 * header with its mutable fields zeroed (IPv4: TOS, flags and fragment
 * offset, TTL, checksum; IPv6: traffic class, flow label, hop limit). IP
 * options and IPv6 extension headers are not supported under AH.
 */
#include <netinet/in.h>

#include <openssl/crypto.h>

#include <string.h>

#include "uesp_int.h"

/* The outer header as the ICV sees it: mutable fields zero. */
static int
uesp_ah_icv_hdr(struct wr *zw, const struct pa_addr *src,
    const struct pa_addr *dst, uint16_t id, size_t after)
{
	int rc;

	if ((rc = uesp_ip_hdr(zw, src, dst, IPPROTO_AH, id, 0, 0)) != 0)
		return rc;
	if (zw->len + after > UESP_MAX_PKT)
		return PA_E_NOSPACE;
	if (src->family == AF_INET)
		return wr_patch_u16(zw, 2, (uint16_t)(zw->len + after));
	return wr_patch_u16(zw, 4, (uint16_t)after);
}

static size_t
uesp_ah_len(const struct uesp_sa *sa, uint8_t family)
{
	size_t n = 12 + sa->icv_len, align = family == AF_INET ? 4 : 8;

	return (n + align - 1) / align * align;
}

int
uesp_ah_out(struct uesp_sa *sa, const uint8_t *pkt, size_t len,
    struct wr *w)
{
	struct uesp_outer o;
	uint8_t zh[40], icv[UESP_ICV_MAX], *ah, *icvp;
	struct wr zw;
	uint32_t seq;
	size_t ahlen, ah_off;
	int rc;

	if ((rc = uesp_outer(sa, pkt, len, &o)) != 0)
		return rc;
	ahlen = uesp_ah_len(sa, o.src->family);
	if ((rc = uesp_sa_next_seq(sa, &seq)) != 0)
		return rc;
	wr_init(&zw, zh, sizeof(zh));
	if ((rc = uesp_ah_icv_hdr(&zw, o.src, o.dst, o.id,
	    ahlen + o.body.len)) != 0)
		return rc;
	if ((rc = uesp_ip_hdr(w, o.src, o.dst, IPPROTO_AH, o.id, o.tos,
	    o.ttl)) != 0)
		return rc;
	ah_off = w->len;
	wr_u8(w, o.nh);
	wr_u8(w, (uint8_t)(ahlen / 4 - 2));
	wr_u16(w, 0);
	wr_u32(w, sa->id.spi);
	wr_u32(w, seq);
	wr_zero(w, ahlen - 12);
	wr_bytes(w, o.body.p, o.body.len);
	if ((rc = wr_error(w)) != 0)
		return rc;
	if ((ah = uesp_wr_at(w, ah_off, ahlen)) == NULL ||
	    (icvp = uesp_wr_at(w, ah_off + 12, sa->icv_len)) == NULL)
		return PA_E_SHORT;
	if ((rc = uesp_sa_icv(sa, zh, zw.len, ah, ahlen, o.body.p,
	    o.body.len, icv)) != 0)
		return rc;
	memcpy(icvp, icv, sa->icv_len);
	return uesp_ip_finish(w, o.src->family);
}

int
uesp_ah_in(struct uesp_sa *sa, const struct uesp_rx *rx, struct wr *w,
    uint8_t *nhp, struct pa_bytes *rest, enum drv_drop_reason *why)
{
	struct rd r;
	struct pa_bytes ahb, icvb;
	uint8_t zh[40], za[12 + UESP_ICV_MAX + 8], icv[UESP_ICV_MAX], nh, plen;
	struct wr zw;
	uint32_t spi, seq;
	size_t ahlen;
	int rc;

	*why = DRV_DROP_SYNTAX;
	*nhp = 0;
	rd_init(&r, rx->payload.p, rx->payload.len);
	if ((rc = rd_u8(&r, &nh)) != 0 || (rc = rd_u8(&r, &plen)) != 0 ||
	    (rc = rd_skip(&r, 2)) != 0 || (rc = rd_u32(&r, &spi)) != 0 ||
	    (rc = rd_u32(&r, &seq)) != 0)
		return rc;
	ahlen = ((size_t)plen + 2) * 4;
	if (ahlen != uesp_ah_len(sa, rx->src.family))
		return PA_E_FORMAT;
	if (!uesp_replay_check(sa, seq)) {
		*why = DRV_DROP_REPLAY;
		atomic_fetch_add(&sa->replay_drops, 1);
		return PA_E_VERIFY;
	}
	rd_init(&r, rx->payload.p, rx->payload.len);
	if ((rc = rd_bytes(&r, ahlen, &ahb)) != 0)
		return rc;
	*rest = rd_rest(&r);
	rd_init(&r, ahb.p, ahb.len);
	if ((rc = rd_copy(&r, za, 12)) != 0 ||
	    (rc = rd_bytes(&r, sa->icv_len, &icvb)) != 0)
		return rc;
	memset(&za[12], 0, ahlen - 12);
	wr_init(&zw, zh, sizeof(zh));
	if ((rc = uesp_ah_icv_hdr(&zw, &rx->src, &rx->dst, rx->ip_id,
	    rx->payload.len)) != 0)
		return rc;
	if ((rc = uesp_sa_icv(sa, zh, zw.len, za, ahlen, rest->p, rest->len,
	    icv)) != 0)
		return rc;
	if (CRYPTO_memcmp(icv, icvb.p, sa->icv_len) != 0) {
		*why = DRV_DROP_ICV;
		atomic_fetch_add(&sa->auth_drops, 1);
		return PA_E_VERIFY;
	}
	if (!uesp_replay_update(sa, seq)) {
		*why = DRV_DROP_REPLAY;
		atomic_fetch_add(&sa->replay_drops, 1);
		return PA_E_VERIFY;
	}
	if (nh == IPPROTO_ESP) {
		*nhp = nh;
		return 0;
	}
	if (sa->p.mode == DRV_MODE_TUNNEL) {
		if (nh != IPPROTO_IPIP && nh != IPPROTO_IPV6)
			return PA_E_FORMAT;
		wr_bytes(w, rest->p, rest->len);
		return wr_error(w);
	}
	if ((rc = uesp_ip_hdr(w, &rx->src, &rx->dst, nh, rx->ip_id, rx->tos,
	    rx->ttl)) != 0)
		return rc;
	wr_bytes(w, rest->p, rest->len);
	return uesp_ip_finish(w, rx->src.family);
}
