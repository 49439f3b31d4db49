/*
 * TCP segmentation offload in userspace: the TUN hands us TCP segments of
 * up to 64 KiB (IFF_VNET_HDR with TSO), which is what makes per-packet
 * overhead small; they are cut here into MSS-sized packets, each with its
 * own IP length, identification, TCP sequence number, flags and checksum.
 */
#include <netinet/in.h>

#include <string.h>

#include "uesp_int.h"

#define TCP_FIN	0x01
#define TCP_PSH	0x08
#define TCP_CWR	0x80

int
uesp_csum_complete(uint8_t *pkt, size_t len, uint16_t start, uint16_t off)
{
	struct wr w;
	uint16_t c;

	if (start > len || (size_t)off + 2 > len - start)
		return PA_E_FORMAT;
	c = uesp_cksum(&pkt[start], len - start, 0);
	wr_init(&w, pkt, len);
	w.len = len;
	return wr_patch_u16(&w, (size_t)start + off, c);
}

/* The TCP checksum of a segment whose IP header is at the start. */
static int
uesp_tcp_cksum(struct wr *w, size_t iphl, uint8_t family)
{
	uint8_t ph[40], *p;
	size_t tl = w->len - iphl;
	uint32_t sum;
	uint16_t c;
	int rc;

	if ((rc = wr_patch_u16(w, iphl + 16, 0)) != 0)
		return rc;
	memset(ph, 0, sizeof(ph));
	if (family == AF_INET) {
		if ((p = uesp_wr_at(w, 12, 8)) == NULL)
			return PA_E_SHORT;
		memcpy(ph, p, 8);
		ph[9] = IPPROTO_TCP;
		ph[10] = (uint8_t)(tl >> 8);
		ph[11] = (uint8_t)tl;
		sum = uesp_cksum_add(ph, 12, 0);
	} else {
		if ((p = uesp_wr_at(w, 8, 32)) == NULL)
			return PA_E_SHORT;
		memcpy(ph, p, 32);
		ph[34] = (uint8_t)(tl >> 8);
		ph[35] = (uint8_t)tl;
		ph[39] = IPPROTO_TCP;
		sum = uesp_cksum_add(ph, 40, 0);
	}
	if ((p = uesp_wr_at(w, iphl, tl)) == NULL)
		return PA_E_SHORT;
	c = uesp_cksum(p, tl, sum);
	return wr_patch_u16(w, iphl + 16, c);
}

int
uesp_tso_split(const uint8_t *pkt, size_t len, uint16_t mss, uint8_t *seg,
    size_t cap, int (*fn)(void *, const uint8_t *, size_t), void *arg)
{
	struct uesp_iphdr ih;
	struct rd r, t;
	struct pa_bytes hdr, tcph, chunk;
	uint32_t seq;
	uint16_t id;
	uint8_t doff, flags;
	size_t iphl, tcphl, off, n;
	struct wr w;
	int rc;

	if (mss == 0)
		return PA_E_INVAL;
	if ((rc = uesp_ip_parse(pkt, len, &ih)) != 0)
		return rc;
	if (ih.proto != IPPROTO_TCP || ih.frag || (ih.family == AF_INET6 &&
	    ih.opts))
		return PA_E_NOTSUP;
	iphl = ih.hlen;
	rd_init(&t, ih.payload.p, ih.payload.len);
	if ((rc = rd_skip(&t, 4)) != 0 || (rc = rd_u32(&t, &seq)) != 0 ||
	    (rc = rd_skip(&t, 4)) != 0 || (rc = rd_u8(&t, &doff)) != 0 ||
	    (rc = rd_u8(&t, &flags)) != 0)
		return rc;
	tcphl = (size_t)(doff >> 4) * 4;
	if (tcphl < 20)
		return PA_E_FORMAT;
	rd_init(&r, pkt, iphl + ih.payload.len);
	if ((rc = rd_bytes(&r, iphl, &hdr)) != 0 ||
	    (rc = rd_bytes(&r, tcphl, &tcph)) != 0)
		return rc;
	id = ih.id;
	for (off = 0; rd_left(&r) > 0 || off == 0; off += n) {
		bool last;

		n = rd_left(&r) < mss ? rd_left(&r) : mss;
		if ((rc = rd_bytes(&r, n, &chunk)) != 0)
			return rc;
		last = rd_empty(&r);
		wr_init(&w, seg, cap);
		wr_bytes(&w, hdr.p, hdr.len);
		wr_bytes(&w, tcph.p, tcph.len);
		wr_bytes(&w, chunk.p, chunk.len);
		if ((rc = wr_error(&w)) != 0 ||
		    (rc = wr_patch_u32(&w, iphl + 4, seq + (uint32_t)off)) != 0)
			return rc;
		{
			uint8_t *fl = uesp_wr_at(&w, iphl + 13, 1);

			if (fl == NULL)
				return PA_E_SHORT;
			if (!last)
				*fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (off != 0)
				*fl &= (uint8_t)~TCP_CWR;
		}
		if (ih.family == AF_INET) {
			if ((rc = wr_patch_u16(&w, 4, id++)) != 0 ||
			    (rc = uesp_ip_finish(&w, AF_INET)) != 0)
				return rc;
		} else if ((rc = uesp_ip_finish(&w, AF_INET6)) != 0)
			return rc;
		if ((rc = uesp_tcp_cksum(&w, iphl, ih.family)) != 0)
			return rc;
		if ((rc = fn(arg, seg, w.len)) != 0)
			return rc;
		if (last)
			break;
	}
	return 0;
}
