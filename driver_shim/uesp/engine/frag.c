/*
 * Packet sizes (RFC 4303 3.3.4, RFC 4301 8): fragments the local stack
 * made before the TUN are reassembled before the SPD lookup (transport
 * mode protects whole datagrams, and a later fragment has no ports to
 * match); an encapsulated packet larger than the path MTU is fragmented
 * after encapsulation, or, when the inner packet forbids it (IPv4 DF, or
 * IPv6 larger than 1280), answered with ICMP "fragmentation needed" /
 * ICMPv6 "packet too big" carrying the MTU left for the inner packet, so
 * that path MTU discovery works through the SA.
 */
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "uesp_int.h"

#define UESP_RA_SLOTS		16	/* datagrams in reassembly */
#define UESP_RA_UNITS		(65536 / 8)

struct uesp_ra {
	bool		 used;
	uint8_t		 family;
	struct pa_addr	 src, dst;
	uint32_t	 id;		/* IPv4: 16 bits; IPv6: 32 */
	uint8_t		 proto;		/* IPv4 protocol / IPv6 next header */
	uint64_t	 t_ms;		/* first fragment */
	size_t		 hlen;		/* unfragmentable part, from frag 0 */
	size_t		 total;		/* payload length, 0 = last not seen */
	size_t		 have;		/* payload bytes received */
	size_t		 maxend;	/* highest payload byte + 1 seen */
	uint8_t		 hdr[60];
	uint8_t		 map[UESP_RA_UNITS / 8];
	uint8_t		*buf;		/* 65535 bytes, allocated on use */
};

struct uesp_reasm {
	struct uesp_ra	 s[UESP_RA_SLOTS];
	uint32_t	 timeout_ms;
	uint8_t		 out[UESP_MAX_PKT];
};

struct uesp_reasm *
uesp_reasm_new(uint32_t timeout_ms)
{
	struct uesp_reasm *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->timeout_ms = timeout_ms;
	return r;
}

void
uesp_reasm_free(struct uesp_reasm *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < UESP_RA_SLOTS; i++)
		free(r->s[i].buf);
	free(r);
}

static void
uesp_ra_drop(struct uesp_ra *s)
{
	uint8_t *b = s->buf;

	memset(s, 0, sizeof(*s));
	s->buf = b;
}

unsigned
uesp_reasm_expire(struct uesp_reasm *r, uint64_t now_ms)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < UESP_RA_SLOTS; i++)
		if (r->s[i].used && now_ms - r->s[i].t_ms >= r->timeout_ms) {
			uesp_ra_drop(&r->s[i]);
			n++;
		}
	return n;
}

/* A fragment, taken apart. */
struct uesp_fraginfo {
	uint8_t		family;
	struct pa_addr	src, dst;
	uint32_t	id;
	uint8_t		proto;
	size_t		off;		/* payload offset, bytes */
	bool		more;
	size_t		hlen;		/* IPv4 header / IPv6 fixed header */
	struct pa_bytes	data;		/* fragment payload */
};

/* 1: a fragment (fi filled); 0: not one; <0: malformed. */
static int
uesp_frag_parse(const uint8_t *pkt, size_t len, struct uesp_fraginfo *fi)
{
	struct rd r;
	uint8_t v, nh, b;
	uint16_t tot, frag, id16, plen;
	uint32_t id32;
	size_t hl;
	int rc;

	memset(fi, 0, sizeof(*fi));
	rd_init(&r, pkt, len);
	if ((rc = rd_peek_u8(&r, &v)) != 0)
		return rc;
	if (v >> 4 == 4) {
		hl = (size_t)(v & 0xf) * 4;
		if ((rc = rd_skip(&r, 2)) != 0 || (rc = rd_u16(&r, &tot)) != 0 ||
		    (rc = rd_u16(&r, &id16)) != 0 ||
		    (rc = rd_u16(&r, &frag)) != 0 || (rc = rd_skip(&r, 1)) != 0 ||
		    (rc = rd_u8(&r, &nh)) != 0 || (rc = rd_skip(&r, 2)) != 0 ||
		    (rc = rd_copy(&r, fi->src.a, 4)) != 0 ||
		    (rc = rd_copy(&r, fi->dst.a, 4)) != 0)
			return rc;
		if ((frag & 0x3fff) == 0)
			return 0;
		if (hl < 20 || tot < hl || tot > len)
			return PA_E_FORMAT;
		fi->family = fi->src.family = fi->dst.family = AF_INET;
		fi->id = id16;
		fi->proto = nh;
		fi->off = (size_t)(frag & 0x1fff) * 8;
		fi->more = (frag & 0x2000) != 0;
		fi->hlen = hl;
		rd_init(&r, pkt, tot);
		if ((rc = rd_skip(&r, hl)) != 0)
			return rc;
		fi->data = rd_rest(&r);
		return 1;
	}
	if (v >> 4 != 6)
		return PA_E_FORMAT;
	if ((rc = rd_skip(&r, 4)) != 0 || (rc = rd_u16(&r, &plen)) != 0 ||
	    (rc = rd_u8(&r, &nh)) != 0 || (rc = rd_skip(&r, 1)) != 0 ||
	    (rc = rd_copy(&r, fi->src.a, 16)) != 0 ||
	    (rc = rd_copy(&r, fi->dst.a, 16)) != 0)
		return rc;
	/* Only a fragment header right after the fixed one (what a host
	 * that fragments its own packets writes). */
	if (nh != IPPROTO_FRAGMENT)
		return 0;
	if ((size_t)plen + 40 > len)
		return PA_E_SHORT;
	rd_init(&r, pkt, 40 + (size_t)plen);
	if ((rc = rd_skip(&r, 40)) != 0 || (rc = rd_u8(&r, &nh)) != 0 ||
	    (rc = rd_u8(&r, &b)) != 0 || (rc = rd_u16(&r, &frag)) != 0 ||
	    (rc = rd_u32(&r, &id32)) != 0)
		return rc;
	fi->family = fi->src.family = fi->dst.family = AF_INET6;
	fi->id = id32;
	fi->proto = nh;
	fi->off = (size_t)(frag & 0xfff8);
	fi->more = (frag & 1) != 0;
	fi->hlen = 40;
	fi->data = rd_rest(&r);
	return 1;
}

static bool
uesp_bit(const uint8_t *m, size_t i)
{
	return (m[i / 8] >> (i % 8)) & 1;
}

int
uesp_reasm_add(struct uesp_reasm *r, const uint8_t *pkt, size_t len,
    uint64_t now_ms, const uint8_t **whole, size_t *wlen)
{
	struct uesp_fraginfo fi;
	struct uesp_ra *s = NULL, *fr = NULL;
	size_t i, u0, u1, end, tot;
	struct wr w;
	int rc;

	*whole = NULL;
	*wlen = 0;
	if ((rc = uesp_frag_parse(pkt, len, &fi)) <= 0)
		return rc == 0 ? 0 : rc;
	end = fi.off + fi.data.len;
	/* Every fragment but the last carries a multiple of 8 bytes. */
	if ((fi.more && (fi.data.len % 8 != 0 || fi.data.len == 0)) ||
	    end + fi.hlen > UESP_MAX_PKT)
		return PA_E_FORMAT;
	for (i = 0; i < UESP_RA_SLOTS; i++) {
		struct uesp_ra *c = &r->s[i];

		if (!c->used) {
			if (fr == NULL)
				fr = c;
			continue;
		}
		if (c->family == fi.family && c->id == fi.id &&
		    c->proto == fi.proto && pa_addr_eq(&c->src, &fi.src) &&
		    pa_addr_eq(&c->dst, &fi.dst)) {
			s = c;
			break;
		}
	}
	if (s == NULL) {
		if (fr == NULL)
			return PA_E_NOSPACE;	/* bounded: drop */
		if (fr->buf == NULL && (fr->buf = malloc(UESP_MAX_PKT)) ==
		    NULL)
			return PA_E_NOMEM;
		s = fr;
		uesp_ra_drop(s);
		s->used = true;
		s->family = fi.family;
		s->src = fi.src;
		s->dst = fi.dst;
		s->id = fi.id;
		s->proto = fi.proto;
		s->t_ms = now_ms;
	}
	/* Overlaps are refused (RFC 5722): the whole datagram goes. */
	u0 = fi.off / 8;
	u1 = (end + 7) / 8;
	for (i = u0; i < u1; i++)
		if (uesp_bit(s->map, i)) {
			uesp_ra_drop(s);
			return PA_E_FORMAT;
		}
	if (!fi.more) {
		if (s->total != 0 || end < s->maxend) {
			uesp_ra_drop(s);
			return PA_E_FORMAT;
		}
		s->total = end;
	} else if (s->total != 0 && end > s->total) {
		uesp_ra_drop(s);
		return PA_E_FORMAT;
	}
	for (i = u0; i < u1; i++)
		s->map[i / 8] |= (uint8_t)(1U << (i % 8));
	memcpy(s->buf + fi.off, fi.data.p, fi.data.len);
	s->have += fi.data.len;
	if (end > s->maxend)
		s->maxend = end;
	if (fi.off == 0) {
		s->hlen = fi.hlen;
		memcpy(s->hdr, pkt, fi.hlen);	/* <= 60 */
	}
	if (s->total == 0 || s->have != s->total || s->hlen == 0)
		return PA_E_AGAIN;
	/* Whole: the first fragment's header, unfragmented. */
	tot = s->hlen + s->total;
	wr_init(&w, r->out, sizeof(r->out));
	if (s->family == AF_INET) {
		wr_bytes(&w, s->hdr, 2);
		wr_u16(&w, (uint16_t)tot);
		wr_bytes(&w, s->hdr + 4, 2);
		wr_u16(&w, 0);			/* no flags, offset 0 */
		wr_bytes(&w, s->hdr + 8, 2);
		wr_u16(&w, 0);			/* checksum below */
		wr_bytes(&w, s->hdr + 12, s->hlen - 12);
	} else {
		wr_bytes(&w, s->hdr, 4);
		wr_u16(&w, (uint16_t)(tot - 40));
		wr_u8(&w, s->proto);
		wr_bytes(&w, s->hdr + 7, 33);
	}
	wr_bytes(&w, s->buf, s->total);
	if ((rc = wr_error(&w)) != 0) {
		uesp_ra_drop(s);
		return rc;
	}
	if (s->family == AF_INET && (rc = wr_patch_u16(&w, 10,
	    uesp_cksum(r->out, s->hlen, 0))) != 0) {
		uesp_ra_drop(s);
		return rc;
	}
	uesp_ra_drop(s);
	*whole = r->out;
	*wlen = w.len;
	return 1;
}

int
uesp_frag_out(const uint8_t *pkt, size_t len, size_t mtu,
    int (*fn)(void *, const uint8_t *, size_t), void *arg)
{
	static _Thread_local uint8_t f[UESP_MAX_PKT];
	static _Atomic uint32_t id6 = 1;
	struct rd r;
	struct wr w;
	uint8_t v, nh;
	uint16_t fl;
	size_t hl, off, n, room;
	uint32_t id;
	int rc;

	rd_init(&r, pkt, len);
	if ((rc = rd_peek_u8(&r, &v)) != 0)
		return rc;
	if (len <= mtu)
		return fn(arg, pkt, len);
	if (v >> 4 == 4) {
		hl = (size_t)(v & 0xf) * 4;
		if (hl < 20 || hl > len || rd_skip(&r, 6) != 0 ||
		    rd_u16(&r, &fl) != 0)
			return PA_E_FORMAT;
		if (fl & 0x4000)
			return PA_E_PERM;		/* DF */
		if (mtu < hl + 8)
			return PA_E_INVAL;
		room = (mtu - hl) & ~(size_t)7;
		for (off = 0; off < len - hl; off += n) {
			n = len - hl - off > room ? room : len - hl - off;
			wr_init(&w, f, sizeof(f));
			wr_bytes(&w, pkt, 2);
			wr_u16(&w, (uint16_t)(hl + n));
			wr_bytes(&w, pkt + 4, 2);
			wr_u16(&w, (uint16_t)(((fl & 0x1fff) + off / 8) |
			    (off + n < len - hl || (fl & 0x2000) ? 0x2000 :
			    0)));
			wr_bytes(&w, pkt + 8, 2);
			wr_u16(&w, 0);
			wr_bytes(&w, pkt + 12, hl - 12);
			wr_bytes(&w, pkt + hl + off, n);
			if ((rc = wr_error(&w)) != 0 ||
			    (rc = wr_patch_u16(&w, 10, uesp_cksum(f, hl, 0))) !=
			    0 || (rc = fn(arg, f, w.len)) != 0)
				return rc;
		}
		return 0;
	}
	if (v >> 4 != 6 || len < 40)
		return PA_E_FORMAT;
	/* Our outer IPv6 header has no extension headers. */
	nh = pkt[6];
	if (mtu < 40 + 8 + 8)
		return PA_E_INVAL;
	room = (mtu - 48) & ~(size_t)7;
	while ((id = atomic_fetch_add(&id6, 1)) == 0)
		;
	for (off = 0; off < len - 40; off += n) {
		n = len - 40 - off > room ? room : len - 40 - off;
		wr_init(&w, f, sizeof(f));
		wr_bytes(&w, pkt, 4);
		wr_u16(&w, (uint16_t)(8 + n));
		wr_u8(&w, IPPROTO_FRAGMENT);
		wr_bytes(&w, pkt + 7, 33);
		wr_u8(&w, nh);
		wr_u8(&w, 0);
		wr_u16(&w, (uint16_t)(off | (off + n < len - 40 ? 1 : 0)));
		wr_u32(&w, id);
		wr_bytes(&w, pkt + 40 + off, n);
		if ((rc = wr_error(&w)) != 0 || (rc = fn(arg, f, w.len)) != 0)
			return rc;
	}
	return 0;
}

bool
uesp_pkt_df(const uint8_t *pkt, size_t len)
{
	struct rd r;
	uint8_t v;
	uint16_t fl;

	rd_init(&r, pkt, len);
	if (rd_peek_u8(&r, &v) != 0)
		return false;
	if (v >> 4 == 6)
		return len > 1280;	/* never fragmented on the way */
	return rd_skip(&r, 6) == 0 && rd_u16(&r, &fl) == 0 &&
	    (fl & 0x4000) != 0;
}

int
uesp_icmp_too_big(const uint8_t *pkt, size_t len, uint32_t mtu,
    uint8_t *out, size_t cap, size_t *olen)
{
	struct rd r;
	struct wr w;
	uint8_t v, src[16], dst[16];
	size_t q;
	uint32_t sum;
	int rc;

	*olen = 0;
	rd_init(&r, pkt, len);
	if ((rc = rd_peek_u8(&r, &v)) != 0)
		return rc;
	wr_init(&w, out, cap);
	if (v >> 4 == 4) {
		size_t hl = (size_t)(v & 0xf) * 4;

		if (hl < 20 || len < hl || rd_skip(&r, 12) != 0 ||
		    rd_copy(&r, src, 4) != 0 || rd_copy(&r, dst, 4) != 0)
			return PA_E_FORMAT;
		/* Its header and 8 bytes (RFC 792), or more up to 576. */
		q = len > 576 - 28 ? 576 - 28 : len;
		wr_u8(&w, 0x45);
		wr_u8(&w, 0);
		wr_u16(&w, (uint16_t)(28 + q));
		wr_u16(&w, uesp_next_ip_id());
		wr_u16(&w, 0);
		wr_u8(&w, 64);
		wr_u8(&w, IPPROTO_ICMP);
		wr_u16(&w, 0);
		/* From where the packet was going: the SPD lets it in from
		 * the TUN like the answers of that peer. */
		wr_bytes(&w, dst, 4);
		wr_bytes(&w, src, 4);
		wr_u8(&w, 3);			/* destination unreachable */
		wr_u8(&w, 4);			/* fragmentation needed */
		wr_u16(&w, 0);
		wr_u16(&w, 0);
		wr_u16(&w, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
		wr_bytes(&w, pkt, q);
		if ((rc = wr_error(&w)) != 0 ||
		    (rc = wr_patch_u16(&w, 10, uesp_cksum(out, 20, 0))) != 0 ||
		    (rc = wr_patch_u16(&w, 22, uesp_cksum(out + 20, 8 + q,
		    0))) != 0)
			return rc;
		*olen = w.len;
		return 0;
	}
	if (v >> 4 != 6 || rd_skip(&r, 8) != 0 || rd_copy(&r, src, 16) != 0 ||
	    rd_copy(&r, dst, 16) != 0)
		return PA_E_FORMAT;
	q = len > 1280 - 48 ? 1280 - 48 : len;
	wr_u32(&w, 0x60000000U);
	wr_u16(&w, (uint16_t)(8 + q));
	wr_u8(&w, IPPROTO_ICMPV6);
	wr_u8(&w, 64);
	wr_bytes(&w, dst, 16);
	wr_bytes(&w, src, 16);
	wr_u8(&w, 2);				/* packet too big */
	wr_u8(&w, 0);
	wr_u16(&w, 0);
	wr_u32(&w, mtu < 1280 ? 1280 : mtu);
	wr_bytes(&w, pkt, q);
	if ((rc = wr_error(&w)) != 0)
		return rc;
	/* Pseudo-header: addresses, upper-layer length, next header. */
	sum = uesp_cksum_add(out + 8, 32, 0);
	sum += (uint32_t)(8 + q);
	sum += IPPROTO_ICMPV6;
	if ((rc = wr_patch_u16(&w, 42, uesp_cksum(out + 40, 8 + q, sum))) !=
	    0)
		return rc;
	*olen = w.len;
	return 0;
}
