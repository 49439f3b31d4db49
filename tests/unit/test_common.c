/* Unit tests of common/: reader, writer, addresses, GUIDs, secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pa_addr.h"
#include "pa_buf.h"
#include "pa_guid.h"
#include "pa_secret.h"

static void
test_rd_reads_network_and_little_endian(void **state)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct rd r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(rd_u8(&r, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(rd_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(rd_u32le(&r, &u32), 0);
	assert_int_equal(u32, 0x07060504);
	assert_int_equal(rd_u16le(&r, &u16), 0);
	assert_int_equal(u16, 0x0908);
	assert_int_equal(rd_left(&r), 3);
	/* A failed read leaves the cursor where it was. */
	assert_int_equal(rd_u32(&r, &u32), PA_E_SHORT);
	assert_int_equal(rd_left(&r), 3);
	assert_int_equal(rd_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0a0b);
}

static void
test_rd_sub_is_bounded(void **state)
{
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc, 0xdd };
	struct rd r, c;
	struct pa_bytes v;
	uint16_t u16;

	(void)state;
	rd_init(&r, b, sizeof(b));
	assert_int_equal(rd_sub(&r, 5, &c), PA_E_SHORT);
	assert_int_equal(rd_sub(&r, 2, &c), 0);
	assert_int_equal(rd_left(&r), 2);
	assert_int_equal(rd_u16(&c, &u16), 0);
	assert_true(rd_empty(&c));
	assert_int_equal(rd_u16(&c, &u16), PA_E_SHORT);
	assert_int_equal(rd_bytes(&r, 2, &v), 0);
	assert_int_equal(v.p[1], 0xdd);
	assert_int_equal(rd_skip(&r, 1), PA_E_SHORT);
}

static void
test_rd_every_truncation_fails(void **state)
{
	static const uint8_t b[] = { 0, 0, 0, 7, 1, 2, 3 };
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(b); n++) {
		struct rd r;
		uint32_t len;
		struct pa_bytes v;
		int rc;

		rd_init(&r, b, n);
		rc = rd_u32(&r, &len);
		if (rc == 0)
			rc = rd_bytes(&r, len - 4, &v);
		assert_int_not_equal(rc, 0);
	}
}

static void
test_wr_latches_overflow_and_patches(void **state)
{
	uint8_t buf[8];
	struct wr w;
	size_t off;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(wr_reserve(&w, 2, &off), 0);
	assert_int_equal(wr_u32le(&w, 0x11223344), 0);
	assert_int_equal(wr_patch_u16(&w, off, 0xbeef), 0);
	assert_int_equal(buf[0], 0xbe);
	assert_int_equal(buf[2], 0x44);
	assert_int_equal(wr_u32(&w, 1), PA_E_NOSPACE);
	assert_int_equal(w.len, 6);
	/* Latched: later small writes fail too. */
	assert_int_equal(wr_u8(&w, 1), PA_E_NOSPACE);
	assert_int_equal(wr_error(&w), PA_E_NOSPACE);
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(wr_patch_u32(&w, 0, 1), PA_E_INVAL);
}

static void
test_addr_and_prefix(void **state)
{
	struct pa_prefix p;
	struct pa_addr a, m;
	char s[PA_PREFIXSTRLEN];
	uint8_t len;

	(void)state;
	assert_int_equal(pa_prefix_parse("10.0.0.0/24", &p), 0);
	assert_int_equal(p.len, 24);
	assert_string_equal(pa_prefix_str(&p, s, sizeof(s)), "10.0.0.0/24");
	assert_int_equal(pa_prefix_parse("10.0.0.0/255.255.255.0", &p), 0);
	assert_int_equal(p.len, 24);
	assert_int_equal(pa_prefix_parse("10.0.0.0/255.0.255.0", &p),
	    PA_E_INVAL);
	assert_int_equal(pa_prefix_parse("10.0.0.1/24", &p), PA_E_INVAL);
	assert_int_equal(pa_prefix_parse("10.0.0.0/33", &p), PA_E_FORMAT);
	assert_int_equal(pa_prefix_parse("bogus", &p), PA_E_FORMAT);
	assert_int_equal(pa_prefix_parse("2001:db8::/32", &p), 0);
	assert_int_equal(pa_addr_parse("2001:db8::1", &a), 0);
	assert_true(pa_prefix_contains(&p, &a));
	assert_int_equal(pa_addr_parse("10.0.0.1", &a), 0);
	assert_false(pa_prefix_contains(&p, &a));
	pa_len_to_mask(AF_INET, 20, &m);
	assert_int_equal(pa_mask_to_len(&m, &len), 0);
	assert_int_equal(len, 20);
}

static void
test_guid_text_round_trip(void **state)
{
	/* The policy blob type GUID and its wire bytes ([MS-GPIPSEC]). */
	static const uint8_t wire[16] = { 0x63, 0x21, 0x20, 0x22, 0x4c, 0x4f,
	    0xd1, 0x11, 0x86, 0x3b, 0x00, 0xa0, 0x24, 0x8d, 0x30, 0x21 };
	struct pa_guid g, h;
	char s[PA_GUIDSTRLEN];

	(void)state;
	assert_int_equal(pa_guid_parse("{22202163-4f4c-11d1-863b-00a0248d3021}",
	    &g), 0);
	assert_memory_equal(g.b, wire, 16);
	assert_string_equal(pa_guid_str(&g, s),
	    "{22202163-4F4C-11D1-863B-00A0248D3021}");
	assert_int_equal(pa_guid_parse("22202163-4F4C-11D1-863B-00A0248D3021",
	    &h), 0);
	assert_true(pa_guid_eq(&g, &h));
	assert_int_equal(pa_guid_parse("{22202163-4F4C-11D1-863B}", &h),
	    PA_E_FORMAT);
	assert_int_equal(pa_guid_parse("{22202163x4F4C-11D1-863B-00A0248D3021}",
	    &h), PA_E_FORMAT);
	assert_int_equal(pa_guid_generate(&h), 0);
	assert_false(pa_guid_is_nil(&h));
}

static void
test_secret_and_hex(void **state)
{
	struct pa_secret *a, *b;
	uint8_t out[4];
	size_t n;

	(void)state;
	a = pa_secret_new("abc", 3);
	b = pa_secret_dup(a);
	assert_true(pa_secret_eq(a, b));
	assert_string_equal((char *)b->p, "abc");
	pa_secret_free(a);
	pa_secret_free(b);
	pa_secret_free(NULL);
	assert_int_equal(pa_hex_decode("de:AD be", out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[1], 0xad);
	assert_int_equal(pa_hex_decode("abc", out, sizeof(out), &n),
	    PA_E_FORMAT);
	assert_int_equal(pa_hex_decode("0102030405", out, sizeof(out), &n),
	    PA_E_NOSPACE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rd_reads_network_and_little_endian),
		cmocka_unit_test(test_rd_sub_is_bounded),
		cmocka_unit_test(test_rd_every_truncation_fails),
		cmocka_unit_test(test_wr_latches_overflow_and_patches),
		cmocka_unit_test(test_addr_and_prefix),
		cmocka_unit_test(test_guid_text_round_trip),
		cmocka_unit_test(test_secret_and_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
