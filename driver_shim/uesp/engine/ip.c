/*
 * IP plumbing for the engine: checksums, outer headers, selectors of
 * inner packets, and taking received packets apart (all through struct
 * rd / struct wr).
 */
#include <netinet/in.h>

#include <stdatomic.h>
#include <string.h>

#include "uesp_int.h"

/*
 * The RFC 1071 sum, eight bytes at a time: one's complement addition is
 * byte-order independent, so native 32-bit halves are summed and the
 * folded result is put in network order at the end.
 */
uint32_t
uesp_cksum_add(const uint8_t *p, size_t n, uint32_t sum)
{
	uint64_t acc = 0, v;
	uint32_t w;
	uint16_t s16;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&v, &p[i], 8);
		acc += (v & 0xffffffffU) + (v >> 32);
	}
	for (; i + 4 <= n; i += 4) {
		memcpy(&w, &p[i], 4);
		acc += w;
	}
	for (; i + 2 <= n; i += 2) {
		uint16_t h;

		memcpy(&h, &p[i], 2);
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	s16 = (uint16_t)acc;
	sum += ntohs(s16);
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

uint16_t
uesp_cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t
uesp_cksum(const uint8_t *p, size_t n, uint32_t sum)
{
	return uesp_cksum_fold(uesp_cksum_add(p, n, sum));
}

uint16_t
uesp_next_ip_id(void)
{
	static _Atomic uint16_t id = 1;
	uint16_t v;

	/* Never 0: the kernel would pick one, breaking an AH ICV. */
	while ((v = atomic_fetch_add(&id, 1)) == 0)
		;
	return v;
}

uint8_t *
uesp_wr_at(struct wr *w, size_t off, size_t n)
{
	if (off > w->len || n > w->len - off)
		return NULL;
	return &w->p[off];
}

int
uesp_ip_hdr(struct wr *w, const struct pa_addr *src,
    const struct pa_addr *dst, uint8_t proto, uint16_t id, uint8_t tos,
    uint8_t ttl)
{
	if (src->family == AF_INET) {
		wr_u8(w, 0x45);
		wr_u8(w, tos);
		wr_u16(w, 0);		/* total length, patched */
		wr_u16(w, id);
		wr_u16(w, 0);		/* flags, fragment offset */
		wr_u8(w, ttl);
		wr_u8(w, proto);
		wr_u16(w, 0);		/* checksum, patched */
		wr_bytes(w, src->a, 4);
		wr_bytes(w, dst->a, 4);
	} else if (src->family == AF_INET6) {
		wr_u32(w, 6U << 28 | (uint32_t)tos << 20);
		wr_u16(w, 0);		/* payload length, patched */
		wr_u8(w, proto);
		wr_u8(w, ttl);
		wr_bytes(w, src->a, 16);
		wr_bytes(w, dst->a, 16);
	} else
		return PA_E_INVAL;
	return wr_error(w);
}

int
uesp_ip_finish(struct wr *w, uint8_t family)
{
	uint8_t *h;
	int rc;

	if ((rc = wr_error(w)) != 0)
		return rc;
	if (w->len > UESP_MAX_PKT)
		return PA_E_NOSPACE;
	if (family == AF_INET) {
		if ((rc = wr_patch_u16(w, 2, (uint16_t)w->len)) != 0 ||
		    (rc = wr_patch_u16(w, 10, 0)) != 0)
			return rc;
		if ((h = uesp_wr_at(w, 0, 20)) == NULL)
			return PA_E_SHORT;
		return wr_patch_u16(w, 10, uesp_cksum(h, 20, 0));
	}
	if (w->len < 40)
		return PA_E_SHORT;
	return wr_patch_u16(w, 4, (uint16_t)(w->len - 40));
}

static bool
uesp_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE ||
	    proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* Ports (or ICMP type/code) of the upper-layer header r points at. */
static void
uesp_sel_ports(struct rd *r, uint8_t proto, struct drv_sel *sel)
{
	uint8_t t, c;

	if (!uesp_has_ports(proto))
		return;
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		if (rd_u8(r, &t) == 0 && rd_u8(r, &c) == 0) {
			sel->sport = t;
			sel->dport = c;
		}
		return;
	}
	if (rd_u16(r, &sel->sport) != 0 || rd_u16(r, &sel->dport) != 0)
		sel->sport = sel->dport = 0;
}

int
uesp_pkt_sel(const uint8_t *pkt, size_t len, struct drv_sel *sel,
    size_t *hlen)
{
	struct rd r;
	uint8_t v, nh, hl;
	uint16_t frag;
	int rc;

	memset(sel, 0, sizeof(*sel));
	rd_init(&r, pkt, len);
	if ((rc = rd_peek_u8(&r, &v)) != 0)
		return rc;
	if (v >> 4 == 4) {
		if ((rc = rd_skip(&r, 6)) != 0 || (rc = rd_u16(&r, &frag)) != 0 ||
		    (rc = rd_skip(&r, 1)) != 0 || (rc = rd_u8(&r, &nh)) != 0 ||
		    (rc = rd_skip(&r, 2)) != 0 ||
		    (rc = rd_copy(&r, sel->src.addr.a, 4)) != 0 ||
		    (rc = rd_copy(&r, sel->dst.addr.a, 4)) != 0)
			return rc;
		if ((v & 0xf) < 5)
			return PA_E_FORMAT;
		if ((rc = rd_skip(&r, (size_t)(v & 0xf) * 4 - 20)) != 0)
			return rc;
		sel->src.addr.family = sel->dst.addr.family = AF_INET;
		sel->src.len = sel->dst.len = 32;
		sel->proto = nh;
		*hlen = r.off;
		if ((frag & 0x1fff) == 0)
			uesp_sel_ports(&r, nh, sel);
		return 0;
	}
	if (v >> 4 != 6)
		return PA_E_FORMAT;
	if ((rc = rd_skip(&r, 6)) != 0 || (rc = rd_u8(&r, &nh)) != 0 ||
	    (rc = rd_skip(&r, 1)) != 0 ||
	    (rc = rd_copy(&r, sel->src.addr.a, 16)) != 0 ||
	    (rc = rd_copy(&r, sel->dst.addr.a, 16)) != 0)
		return rc;
	sel->src.addr.family = sel->dst.addr.family = AF_INET6;
	sel->src.len = sel->dst.len = 128;
	for (;;) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((rc = rd_u8(&r, &nh)) != 0 ||
			    (rc = rd_u8(&r, &hl)) != 0 ||
			    (rc = rd_skip(&r, (size_t)hl * 8 + 6)) != 0)
				return rc;
			continue;
		case IPPROTO_FRAGMENT:
			if ((rc = rd_u8(&r, &nh)) != 0 ||
			    (rc = rd_skip(&r, 1)) != 0 ||
			    (rc = rd_u16(&r, &frag)) != 0 ||
			    (rc = rd_skip(&r, 4)) != 0)
				return rc;
			if ((frag & 0xfff8) != 0) {
				sel->proto = nh;
				*hlen = r.off;
				return 0;
			}
			continue;
		default:
			break;
		}
		break;
	}
	sel->proto = nh;
	*hlen = r.off;
	uesp_sel_ports(&r, nh, sel);
	return 0;
}

static bool
uesp_prefix_match(const struct pa_prefix *f, const struct pa_addr *a)
{
	if (f->addr.family == 0)
		return true;
	if (f->len == 0)
		return f->addr.family == a->family;
	return pa_prefix_contains(f, a);
}

bool
uesp_sel_match(const struct drv_sel *f, const struct drv_sel *pkt)
{
	return uesp_prefix_match(&f->src, &pkt->src.addr) &&
	    uesp_prefix_match(&f->dst, &pkt->dst.addr) &&
	    (f->proto == 0 || f->proto == pkt->proto) &&
	    (f->sport == 0 || f->sport == pkt->sport) &&
	    (f->dport == 0 || f->dport == pkt->dport);
}

/* r is at a UDP header (or an ESP/AH header): fill rx->payload. */
static int
uesp_rx_l4(struct rd *r, uint8_t proto, uint16_t natt_port,
    struct uesp_rx *rx)
{
	struct rd u;
	uint16_t ulen, csum;
	uint32_t marker;
	uint8_t b;
	int rc;

	if (proto == DRV_PROTO_ESP || proto == DRV_PROTO_AH) {
		rx->proto = proto;
		rx->payload = rd_rest(r);
		return 0;
	}
	if (proto != IPPROTO_UDP)
		return PA_E_AGAIN;
	if ((rc = rd_u16(r, &rx->sport)) != 0 ||
	    (rc = rd_u16(r, &rx->dport)) != 0 ||
	    (rc = rd_u16(r, &ulen)) != 0 || (rc = rd_u16(r, &csum)) != 0)
		return rc;
	if (ulen < 8)
		return PA_E_FORMAT;
	if ((rc = rd_sub(r, ulen - 8, &u)) != 0)
		return rc;
	if (rx->dport != natt_port)
		return PA_E_AGAIN;
	if (rd_left(&u) == 1 && rd_peek_u8(&u, &b) == 0 && b == 0xff)
		return PA_E_AGAIN;		/* NAT-T keepalive */
	{
		struct rd peek = u;

		if ((rc = rd_u32(&peek, &marker)) != 0)
			return rc;
	}
	if (marker == 0)
		return PA_E_AGAIN;		/* IKE: non-ESP marker */
	if (rd_left(&u) < 8)
		return PA_E_SHORT;
	rx->udp = true;
	rx->proto = DRV_PROTO_ESP;
	rx->payload = rd_rest(&u);
	return 0;
}

int
uesp_rx_parse_ip4(const uint8_t *pkt, size_t len, uint16_t natt_port,
    struct uesp_rx *rx)
{
	struct rd r, body;
	uint8_t vihl, proto;
	uint16_t tot, frag;
	size_t optlen;
	int rc;

	memset(rx, 0, sizeof(*rx));
	rd_init(&r, pkt, len);
	if ((rc = rd_u8(&r, &vihl)) != 0 || (rc = rd_u8(&r, &rx->tos)) != 0 ||
	    (rc = rd_u16(&r, &tot)) != 0 || (rc = rd_u16(&r, &rx->ip_id)) != 0 ||
	    (rc = rd_u16(&r, &frag)) != 0 || (rc = rd_u8(&r, &rx->ttl)) != 0 ||
	    (rc = rd_u8(&r, &proto)) != 0 || (rc = rd_skip(&r, 2)) != 0 ||
	    (rc = rd_copy(&r, rx->src.a, 4)) != 0 ||
	    (rc = rd_copy(&r, rx->dst.a, 4)) != 0)
		return rc;
	if (vihl >> 4 != 4 || (vihl & 0xf) < 5)
		return PA_E_FORMAT;
	optlen = (size_t)(vihl & 0xf) * 4 - 20;
	if (tot < 20 + optlen)
		return PA_E_FORMAT;
	if (tot > len)
		return PA_E_SHORT;
	if ((frag & 0x3fff) != 0)
		return PA_E_NOTSUP;		/* the kernel reassembles */
	rx->src.family = rx->dst.family = AF_INET;
	rd_init(&r, pkt, tot);
	if ((rc = rd_skip(&r, 20 + optlen)) != 0 ||
	    (rc = rd_sub(&r, rd_left(&r), &body)) != 0)
		return rc;
	if (proto == DRV_PROTO_AH && optlen != 0)
		return PA_E_NOTSUP;
	return uesp_rx_l4(&body, proto, natt_port, rx);
}

size_t
uesp_rx_gso_seg(struct pa_bytes p)
{
	struct pa_bytes rest;
	struct rd r;
	uint8_t pat[8];
	uint32_t spi, seq;
	const uint8_t *hit;
	size_t off = 16;

	rd_init(&r, p.p, p.len);
	if (rd_u32(&r, &spi) != 0 || rd_u32(&r, &seq) != 0)
		return p.len;
	pat[0] = (uint8_t)(spi >> 24);
	pat[1] = (uint8_t)(spi >> 16);
	pat[2] = (uint8_t)(spi >> 8);
	pat[3] = (uint8_t)spi;
	seq++;
	pat[4] = (uint8_t)(seq >> 24);
	pat[5] = (uint8_t)(seq >> 16);
	pat[6] = (uint8_t)(seq >> 8);
	pat[7] = (uint8_t)seq;
	for (;;) {
		rd_init(&r, p.p, p.len);
		if (rd_skip(&r, off) != 0)
			return p.len;
		rest = rd_rest(&r);
		if ((hit = memmem(rest.p, rest.len, pat, sizeof(pat))) == NULL)
			return p.len;
		off += (size_t)(hit - rest.p);
		if (off % 4 == 0)
			return off;
		off++;
	}
}

int
uesp_rx_parse_l4(uint8_t proto, const struct pa_addr *src,
    const struct pa_addr *dst, const uint8_t *p, size_t len,
    uint16_t natt_port, struct uesp_rx *rx)
{
	struct rd r;

	memset(rx, 0, sizeof(*rx));
	if (src->family != dst->family ||
	    (src->family != AF_INET && src->family != AF_INET6))
		return PA_E_INVAL;
	rx->src = *src;
	rx->dst = *dst;
	rx->ttl = 64;
	rd_init(&r, p, len);
	return uesp_rx_l4(&r, proto, natt_port, rx);
}

int
uesp_ip_parse(const uint8_t *pkt, size_t len, struct uesp_iphdr *h)
{
	struct rd r;
	uint8_t v, b;
	uint16_t tot, frag;
	uint32_t w;
	size_t hl;
	int rc;

	memset(h, 0, sizeof(*h));
	rd_init(&r, pkt, len);
	if ((rc = rd_peek_u8(&r, &v)) != 0)
		return rc;
	if (v >> 4 == 4) {
		if ((rc = rd_u8(&r, &v)) != 0 || (rc = rd_u8(&r, &h->tos)) != 0 ||
		    (rc = rd_u16(&r, &tot)) != 0 || (rc = rd_u16(&r, &h->id)) != 0 ||
		    (rc = rd_u16(&r, &frag)) != 0 || (rc = rd_u8(&r, &h->ttl)) != 0 ||
		    (rc = rd_u8(&r, &h->proto)) != 0 || (rc = rd_skip(&r, 2)) != 0 ||
		    (rc = rd_copy(&r, h->src.a, 4)) != 0 ||
		    (rc = rd_copy(&r, h->dst.a, 4)) != 0)
			return rc;
		hl = (size_t)(v & 0xf) * 4;
		if (hl < 20 || tot < hl)
			return PA_E_FORMAT;
		if (tot > len)
			return PA_E_SHORT;
		h->family = h->src.family = h->dst.family = AF_INET;
		h->frag = (frag & 0x3fff) != 0;
		h->opts = hl > 20;
		h->hlen = hl;
		rd_init(&r, pkt, tot);
		if ((rc = rd_skip(&r, hl)) != 0)
			return rc;
		h->payload = rd_rest(&r);
		return 0;
	}
	if (v >> 4 != 6)
		return PA_E_FORMAT;
	if ((rc = rd_u32(&r, &w)) != 0 || (rc = rd_u16(&r, &tot)) != 0 ||
	    (rc = rd_u8(&r, &h->proto)) != 0 || (rc = rd_u8(&r, &b)) != 0 ||
	    (rc = rd_copy(&r, h->src.a, 16)) != 0 ||
	    (rc = rd_copy(&r, h->dst.a, 16)) != 0)
		return rc;
	if (tot > rd_left(&r))
		return PA_E_SHORT;
	h->family = h->src.family = h->dst.family = AF_INET6;
	h->hlen = 40;
	h->tos = (uint8_t)(w >> 20);
	h->ttl = b;
	h->opts = h->proto == IPPROTO_HOPOPTS || h->proto == IPPROTO_ROUTING ||
	    h->proto == IPPROTO_DSTOPTS || h->proto == IPPROTO_FRAGMENT;
	rd_init(&r, pkt, 40 + (size_t)tot);
	if ((rc = rd_skip(&r, 40)) != 0)
		return rc;
	h->payload = rd_rest(&r);
	return 0;
}

int
uesp_outer(const struct uesp_sa *sa, const uint8_t *pkt, size_t len,
    struct uesp_outer *o)
{
	struct uesp_iphdr *ih = &o->ih;
	int rc;

	if ((rc = uesp_ip_parse(pkt, len, ih)) != 0)
		return rc;
	o->tos = ih->tos;
	if (sa->p.mode == DRV_MODE_TRANSPORT) {
		if (ih->frag || ih->opts || ih->family != sa->id.dst.family)
			return PA_E_NOTSUP;
		o->src = &ih->src;
		o->dst = &ih->dst;
		o->nh = ih->proto;
		o->body = ih->payload;
		o->id = ih->id != 0 ? ih->id : uesp_next_ip_id();
		o->ttl = ih->ttl;
	} else {
		o->src = &sa->id.src;
		o->dst = &sa->id.dst;
		o->nh = ih->family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
		o->body.p = pkt;
		o->body.len = len;
		o->id = uesp_next_ip_id();
		o->ttl = 64;
	}
	return 0;
}
