/*
 * The uesp engine's packet-size pieces (engine/frag.c): fragmentation
 * after encapsulation (IPv4 and IPv6), reassembly of the fragments the
 * stack writes to the TUN (any order, bounded, overlaps and timeouts),
 * the DF test, and ICMP "fragmentation needed" / ICMPv6 "packet too big".
 */
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uesp/engine/uesp_int.h"

#define NFRAG_MAX	64

struct frags {
	size_t	n;
	uint8_t	p[NFRAG_MAX][1500];
	size_t	len[NFRAG_MAX];
};

static int
collect(void *arg, const uint8_t *p, size_t len)
{
	struct frags *f = arg;

	assert_true(f->n < NFRAG_MAX);
	assert_true(len <= sizeof(f->p[0]));
	memcpy(f->p[f->n], p, len);
	f->len[f->n++] = len;
	return 0;
}

/* An IPv4 packet of len bytes (protocol 50), valid header checksum. */
static void
mk4(uint8_t *p, size_t len, uint16_t id, bool df)
{
	size_t i;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = df ? 0x40 : 0;
	p[8] = 64;
	p[9] = 50;
	p[12] = 10, p[15] = 1;
	p[16] = 10, p[19] = 2;
	for (i = 20; i < len; i++)
		p[i] = (uint8_t)(i * 7 + id);
	p[10] = p[11] = 0;
	{
		uint16_t c = uesp_cksum(p, 20, 0);

		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
	}
}

static void
mk6(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = 50;
	p[7] = 64;
	p[8] = 0xfd, p[23] = 1;
	p[24] = 0xfd, p[39] = 2;
	for (i = 40; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

static struct frags fr;
static uint8_t pkt[70000];

static void
test_frag4_roundtrip(void **state)
{
	static const size_t sizes[] = { 1281, 1500, 3000, 9000, 65000 };
	static const size_t mtus[] = { 1280, 1500, 576 };
	struct uesp_reasm *r = uesp_reasm_new(30000);
	const uint8_t *whole;
	size_t s, m, i, wlen, k;
	int rc;

	(void)state;
	assert_non_null(r);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (m = 0; m < sizeof(mtus) / sizeof(mtus[0]); m++) {
			if (sizes[s] <= mtus[m] ||
			    sizes[s] / (mtus[m] - 20) + 1 > NFRAG_MAX)
				continue;
			mk4(pkt, sizes[s], (uint16_t)(s * 10 + m + 1), false);
			fr.n = 0;
			assert_int_equal(uesp_frag_out(pkt, sizes[s], mtus[m],
			    collect, &fr), 0);
			assert_true(fr.n >= 2);
			for (i = 0; i < fr.n; i++) {
				uint16_t off = (uint16_t)((fr.p[i][6] << 8 |
				    fr.p[i][7]) & 0x1fff);

				assert_true(fr.len[i] <= mtus[m]);
				/* header checksum valid, DF clear */
				assert_int_equal(uesp_cksum(fr.p[i], 20, 0), 0);
				assert_int_equal(fr.p[i][6] & 0x40, 0);
				assert_int_equal((fr.p[i][6] & 0x20) != 0,
				    i + 1 < fr.n);
				if (i + 1 < fr.n)
					assert_int_equal((fr.len[i] - 20) % 8,
					    0);
				(void)off;
			}
			/* Back in reverse order: the original, byte for byte. */
			for (k = fr.n; k > 0; k--) {
				rc = uesp_reasm_add(r, fr.p[k - 1], fr.len[k - 1],
				    1000, &whole, &wlen);
				if (k > 1)
					assert_int_equal(rc, PA_E_AGAIN);
				else
					assert_int_equal(rc, 1);
			}
			assert_int_equal(wlen, sizes[s]);
			assert_memory_equal(whole, pkt, sizes[s]);
		}
	/* Small enough: handed on whole; DF: refused. */
	mk4(pkt, 1000, 99, true);
	fr.n = 0;
	assert_int_equal(uesp_frag_out(pkt, 1000, 1280, collect, &fr), 0);
	assert_int_equal(fr.n, 1);
	mk4(pkt, 2000, 99, true);
	assert_int_equal(uesp_frag_out(pkt, 2000, 1280, collect, &fr),
	    PA_E_PERM);
	/* Not a fragment: 0, passed on as it is. */
	assert_int_equal(uesp_reasm_add(r, pkt, 2000, 1000, &whole, &wlen), 0);
	uesp_reasm_free(r);
}

static void
test_frag6_roundtrip(void **state)
{
	static const size_t sizes[] = { 1281, 3000, 20000 };
	struct uesp_reasm *r = uesp_reasm_new(30000);
	const uint8_t *whole;
	size_t s, i, wlen;
	int rc;

	(void)state;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		mk6(pkt, sizes[s], (uint8_t)s);
		fr.n = 0;
		assert_int_equal(uesp_frag_out(pkt, sizes[s], 1280, collect,
		    &fr), 0);
		assert_true(fr.n >= 2);
		for (i = 0; i < fr.n; i++) {
			assert_true(fr.len[i] <= 1280);
			assert_int_equal(fr.p[i][6], IPPROTO_FRAGMENT);
			assert_int_equal(fr.p[i][40], 50);
			assert_int_equal((fr.p[i][43] & 1) != 0, i + 1 < fr.n);
		}
		/* In order this time. */
		for (i = 0; i < fr.n; i++) {
			rc = uesp_reasm_add(r, fr.p[i], fr.len[i], 1000, &whole,
			    &wlen);
			assert_int_equal(rc, i + 1 < fr.n ? PA_E_AGAIN : 1);
		}
		assert_int_equal(wlen, sizes[s]);
		assert_memory_equal(whole, pkt, sizes[s]);
	}
	uesp_reasm_free(r);
}

static void
test_reasm_bounds(void **state)
{
	struct uesp_reasm *r = uesp_reasm_new(30000);
	const uint8_t *whole;
	size_t wlen;
	uint16_t id;

	(void)state;
	/* Overlap: the datagram goes (RFC 5722), later pieces start anew. */
	mk4(pkt, 3000, 7, false);
	fr.n = 0;
	assert_int_equal(uesp_frag_out(pkt, 3000, 1280, collect, &fr), 0);
	assert_int_equal(uesp_reasm_add(r, fr.p[0], fr.len[0], 0, &whole,
	    &wlen), PA_E_AGAIN);
	assert_int_equal(uesp_reasm_add(r, fr.p[0], fr.len[0], 0, &whole,
	    &wlen), PA_E_FORMAT);
	/* 16 datagrams at a time; the 17th is refused. */
	for (id = 100; id < 116; id++) {
		mk4(pkt, 3000, id, false);
		fr.n = 0;
		assert_int_equal(uesp_frag_out(pkt, 3000, 1280, collect, &fr),
		    0);
		assert_int_equal(uesp_reasm_add(r, fr.p[0], fr.len[0], 0,
		    &whole, &wlen), PA_E_AGAIN);
	}
	mk4(pkt, 3000, 200, false);
	fr.n = 0;
	assert_int_equal(uesp_frag_out(pkt, 3000, 1280, collect, &fr), 0);
	assert_int_equal(uesp_reasm_add(r, fr.p[0], fr.len[0], 0, &whole,
	    &wlen), PA_E_NOSPACE);
	/* After the timeout they all go, and room is back. */
	assert_int_equal(uesp_reasm_expire(r, 29999), 0);
	assert_int_equal(uesp_reasm_expire(r, 30000), 16);
	assert_int_equal(uesp_reasm_add(r, fr.p[0], fr.len[0], 30000, &whole,
	    &wlen), PA_E_AGAIN);
	/* A middle fragment not a multiple of 8: refused. */
	fr.p[1][3] = (uint8_t)(fr.p[1][3] - 1);
	assert_int_equal(uesp_reasm_add(r, fr.p[1], fr.len[1] - 1, 30000,
	    &whole, &wlen), PA_E_FORMAT);
	/* Garbage: refused, never read past the end. */
	assert_true(uesp_reasm_add(r, (const uint8_t *)"\x45\x00\x00", 3, 0,
	    &whole, &wlen) < 0);
	uesp_reasm_free(r);
}

static void
test_df(void **state)
{
	(void)state;
	mk4(pkt, 1400, 1, true);
	assert_true(uesp_pkt_df(pkt, 1400));
	mk4(pkt, 1400, 1, false);
	assert_false(uesp_pkt_df(pkt, 1400));
	mk6(pkt, 1280, 1);
	assert_false(uesp_pkt_df(pkt, 1280));
	mk6(pkt, 1281, 1);
	assert_true(uesp_pkt_df(pkt, 1281));
}

static void
test_icmp_too_big(void **state)
{
	uint8_t out[1400];
	size_t olen;
	uint32_t sum;

	(void)state;
	mk4(pkt, 1400, 5, true);
	assert_int_equal(uesp_icmp_too_big(pkt, 1400, 1222, out, sizeof(out),
	    &olen), 0);
	assert_int_equal(olen, 576);
	assert_int_equal(uesp_cksum(out, 20, 0), 0);
	assert_int_equal(out[9], IPPROTO_ICMP);
	/* from the packet's destination to its source */
	assert_memory_equal(out + 12, pkt + 16, 4);
	assert_memory_equal(out + 16, pkt + 12, 4);
	assert_int_equal(out[20], 3);
	assert_int_equal(out[21], 4);
	assert_int_equal(out[26] << 8 | out[27], 1222);
	assert_int_equal(uesp_cksum(out + 20, olen - 20, 0), 0);
	assert_memory_equal(out + 28, pkt, olen - 28);

	mk6(pkt, 1500, 3);
	assert_int_equal(uesp_icmp_too_big(pkt, 1500, 1400, out, sizeof(out),
	    &olen), 0);
	assert_int_equal(olen, 1280);
	assert_int_equal(out[6], IPPROTO_ICMPV6);
	assert_memory_equal(out + 8, pkt + 24, 16);
	assert_memory_equal(out + 24, pkt + 8, 16);
	assert_int_equal(out[40], 2);
	assert_int_equal((uint32_t)out[44] << 24 | (uint32_t)out[45] << 16 |
	    (uint32_t)out[46] << 8 | out[47], 1400);
	sum = uesp_cksum_add(out + 8, 32, 0) + (uint32_t)(olen - 40) +
	    IPPROTO_ICMPV6;
	assert_int_equal(uesp_cksum(out + 40, olen - 40, sum), 0);
	/* Never below the IPv6 minimum MTU. */
	assert_int_equal(uesp_icmp_too_big(pkt, 1500, 1000, out, sizeof(out),
	    &olen), 0);
	assert_int_equal(out[46] << 8 | out[47], 1280);
	/* Garbage: refused. */
	assert_true(uesp_icmp_too_big((const uint8_t *)"\x45", 1, 1000, out,
	    sizeof(out), &olen) < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frag4_roundtrip),
		cmocka_unit_test(test_frag6_roundtrip),
		cmocka_unit_test(test_reasm_bounds),
		cmocka_unit_test(test_df),
		cmocka_unit_test(test_icmp_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
