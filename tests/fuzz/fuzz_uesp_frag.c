/*
 * libFuzzer harness for the uesp packet-size code (engine/frag.c): the
 * input is a sequence of packets, each a 2-byte big-endian length and its
 * bytes, as the TUN could hand them to the TX thread. Each goes through
 * the reassembly; what comes out whole (or was not a fragment) is cut
 * again to a 576-byte MTU (DF or not), and answered with an ICMP too big.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pa_buf.h"
#include "uesp/engine/uesp_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
sink(void *arg, const uint8_t *p, size_t len)
{
	size_t *n = arg;

	if (len > 576 || p == NULL)
		abort();
	*n += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t icmp[1400];
	struct uesp_reasm *r;
	struct pa_bytes pkt;
	const uint8_t *whole, *p;
	struct rd rd;
	uint16_t n;
	size_t wlen, len, got, olen;
	uint64_t t = 0;
	int rc;

	if ((r = uesp_reasm_new(30000)) == NULL)
		abort();
	rd_init(&rd, data, size);
	while (rd_u16(&rd, &n) == 0 && rd_bytes(&rd, n, &pkt) == 0) {
		rc = uesp_reasm_add(r, pkt.p, pkt.len, t, &whole, &wlen);
		t += 1000;
		if (rc < 0)
			continue;
		p = rc == 1 ? whole : pkt.p;
		len = rc == 1 ? wlen : pkt.len;
		got = 0;
		(void)!uesp_frag_out(p, len, 576, sink, &got);
		(void)uesp_pkt_df(p, len);
		(void)!uesp_icmp_too_big(p, len, 1200, icmp, sizeof(icmp),
		    &olen);
		if (olen > sizeof(icmp))
			abort();
	}
	(void)uesp_reasm_expire(r, t + 60000);
	uesp_reasm_free(r);
	return 0;
}
