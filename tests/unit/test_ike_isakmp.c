/*
 * ISAKMP codec: hex fixtures, generation round trips, a truncation sweep
 * (every prefix of every valid message fails cleanly) and lying lengths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "isakmp.h"

/* Main Mode #1 as strongSwan 5.9 sends it (AES128/SHA1/PSK/MODP-2048, DPD VID). */
static const char mm1_hex[] =
    "0011223344556677 0000000000000000 01 10 02 00 00000000 0000006c"
    "0d 00 003c 00000001 00000001"
    "00 00 0030 01 01 00 01"
    "00 00 0028 01 01 0000"
    "8001 0007 800e 0080 8002 0002 8003 0001 8004 000e 800b 0001"
    "000c 0004 00007080"
    "00 00 0014 afcad71368a1f1c96b8696fc77570100";

/* An informational with a DELETE of two ESP SPIs and a NOTIFY. */
static const char info_hex[] =
    "0011223344556677 8899aabbccddeeff 0c 10 05 00 01020304 00000048"
    "0b 00 001c 00000001 01 10 0001 0011223344556677 8899aabbccddeeff"
    "00 00 0010 00000001 03 04 000b aabbccdd";

static size_t
hex(const char *h, uint8_t *out, size_t cap)
{
	size_t n;

	assert_int_equal(pa_hex_decode(h, out, cap, &n), 0);
	return n;
}

/* Parse header, chain and every payload; 0 only if all of it is valid. */
static int
parse_all(const uint8_t *p, size_t len)
{
	struct isk_hdr h;
	struct pa_bytes body;
	struct isk_msg *m;
	int rc;

	if ((rc = isk_parse_hdr(p, len, &h, &body)) != 0)
		return rc;
	if ((m = malloc(sizeof(*m))) == NULL)
		return PA_E_NOMEM;
	if ((rc = isk_parse_chain(body, h.np, false, m)) == 0)
		rc = isk_check_payloads(m);
	free(m);
	return rc;
}

/* Every prefix, with the header length patched to match, must fail. */
static void
sweep(uint8_t *p, size_t len)
{
	uint8_t *c;
	size_t i;

	c = malloc(len);
	assert_non_null(c);
	for (i = 0; i < len; i++) {
		memcpy(c, p, i);
		if (i >= ISK_HDR_LEN) {
			c[24] = (uint8_t)(i >> 24);
			c[25] = (uint8_t)(i >> 16);
			c[26] = (uint8_t)(i >> 8);
			c[27] = (uint8_t)i;
		}
		assert_int_not_equal(parse_all(c, i), 0);
		/* Without patching: the declared length lies. */
		assert_int_not_equal(parse_all(p, i), 0);
	}
	free(c);
}

static void
test_mm1_fixture(void **state)
{
	uint8_t buf[256];
	struct isk_hdr h;
	struct pa_bytes body;
	struct isk_msg m;
	struct isk_sa sa;
	struct isk_attr a;
	struct rd r;
	uint64_t v;
	uint32_t ver;
	size_t n, from = 0;
	const struct isk_payload *p;

	(void)state;
	n = hex(mm1_hex, buf, sizeof(buf));
	assert_int_equal(n, 108);
	assert_int_equal(isk_parse_hdr(buf, n, &h, &body), 0);
	assert_int_equal(h.exch, ISK_EXCH_MAIN);
	assert_int_equal(h.np, ISK_PL_SA);
	assert_int_equal(isk_parse_chain(body, h.np, false, &m), 0);
	assert_int_equal(m.npl, 2);
	assert_int_equal(isk_check_payloads(&m), 0);
	p = isk_find(&m, ISK_PL_SA, &from);
	assert_non_null(p);
	assert_int_equal(isk_parse_sa(p->body, &sa), 0);
	assert_int_equal(sa.nprops, 1);
	assert_int_equal(sa.props[0].proto, ISK_PROTO_ISAKMP);
	assert_int_equal(sa.nxf, 1);
	assert_int_equal(sa.xf[0].id, ISK_KEY_IKE);
	rd_init(&r, sa.xf[0].attrs.p, sa.xf[0].attrs.len);
	assert_int_equal(isk_attr_next(&r, &a), 0);
	assert_int_equal(a.type, ISK_A1_ENC);
	assert_int_equal(a.tv_val, ISK_ENC_AES);
	for (n = 0; n < 5; n++)
		assert_int_equal(isk_attr_next(&r, &a), 0);
	assert_int_equal(isk_attr_next(&r, &a), 0);
	assert_false(a.tv);
	assert_int_equal(a.type, ISK_A1_LIFE_DUR);
	assert_int_equal(isk_attr_num(&a, &v), 0);
	assert_int_equal(v, 28800);
	assert_int_equal(isk_attr_next(&r, &a), PA_E_NOENT);
	p = isk_find(&m, ISK_PL_VID, &from);
	assert_non_null(p);
	assert_int_equal(isk_vid_classify(p->body, &ver), ISK_VID_DPD);
	assert_null(isk_find(&m, ISK_PL_VID, &from));
}

static void
test_info_fixture(void **state)
{
	uint8_t buf[256];
	struct isk_hdr h;
	struct pa_bytes body, span;
	struct isk_msg m;
	struct isk_delete d;
	struct isk_notify nt;
	size_t n;

	(void)state;
	n = hex(info_hex, buf, sizeof(buf));
	assert_int_equal(isk_parse_hdr(buf, n, &h, &body), 0);
	assert_int_equal(h.msgid, 0x01020304);
	assert_int_equal(isk_parse_chain(body, h.np, false, &m), 0);
	assert_int_equal(m.npl, 2);
	assert_int_equal(m.pl[0].type, ISK_PL_D);
	assert_int_equal(isk_parse_delete(m.pl[0].body, &d), 0);
	assert_int_equal(d.proto, ISK_PROTO_ISAKMP);
	assert_int_equal(d.spi_size, 16);
	assert_int_equal(d.nspi, 1);
	assert_int_equal(isk_parse_notify(m.pl[1].body, &nt), 0);
	assert_int_equal(nt.proto, ISK_PROTO_ESP);
	assert_int_equal(nt.type, ISK_N_INVALID_SPI);
	assert_int_equal(nt.spi.len, 4);
	assert_int_equal(isk_span(&m, 1, &span), 0);
	assert_int_equal(span.len, 16);
}

/* Build an MM #1 with the writer and parse it back. */
static size_t
build_mm1(uint8_t *buf, size_t cap)
{
	struct isk_hdr h;
	struct isk_chain top, props, xfs;
	struct wr w;
	size_t sa, pr, xf;

	memset(&h, 0, sizeof(h));
	memset(h.cky_i, 0xab, 8);
	h.exch = ISK_EXCH_MAIN;
	wr_init(&w, buf, cap);
	assert_int_equal(isk_hdr_write(&w, &h, &top), 0);
	assert_int_equal(isk_pl_open(&w, &top, ISK_PL_SA, &sa), 0);
	assert_int_equal(wr_u32(&w, ISK_DOI_IPSEC), 0);
	assert_int_equal(wr_u32(&w, ISK_SIT_IDENTITY_ONLY), 0);
	isk_chain_init(&props);
	assert_int_equal(isk_pl_open(&w, &props, ISK_PL_P, &pr), 0);
	assert_int_equal(wr_u8(&w, 1), 0);
	assert_int_equal(wr_u8(&w, ISK_PROTO_ISAKMP), 0);
	assert_int_equal(wr_u8(&w, 0), 0);
	assert_int_equal(wr_u8(&w, 2), 0);
	isk_chain_init(&xfs);
	assert_int_equal(isk_pl_open(&w, &xfs, ISK_PL_T, &xf), 0);
	assert_int_equal(wr_u8(&w, 1), 0);
	assert_int_equal(wr_u8(&w, ISK_KEY_IKE), 0);
	assert_int_equal(wr_u16(&w, 0), 0);
	assert_int_equal(isk_attr_tv(&w, ISK_A1_ENC, ISK_ENC_3DES), 0);
	assert_int_equal(isk_attr_num_put(&w, ISK_A1_LIFE_DUR, 100000), 0);
	assert_int_equal(isk_pl_close(&w, xf), 0);
	assert_int_equal(isk_pl_open(&w, &xfs, ISK_PL_T, &xf), 0);
	assert_int_equal(wr_u8(&w, 2), 0);
	assert_int_equal(wr_u8(&w, ISK_KEY_IKE), 0);
	assert_int_equal(wr_u16(&w, 0), 0);
	assert_int_equal(isk_attr_tv(&w, ISK_A1_ENC, ISK_ENC_DES), 0);
	assert_int_equal(isk_pl_close(&w, xf), 0);
	assert_int_equal(isk_pl_close(&w, pr), 0);
	assert_int_equal(isk_pl_close(&w, sa), 0);
	assert_int_equal(isk_pl_data(&w, &top, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_NATT_RFC), 16), 0);
	assert_int_equal(isk_pl_data(&w, &top, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_OURS), 16), 0);
	assert_int_equal(isk_hdr_close(&w, 0), 0);
	return w.len;
}

static void
test_roundtrip(void **state)
{
	uint8_t buf[512];
	struct isk_hdr h;
	struct pa_bytes body;
	struct isk_msg m;
	struct isk_sa sa;
	struct isk_attr a;
	struct rd r;
	uint64_t v;
	size_t n;

	(void)state;
	n = build_mm1(buf, sizeof(buf));
	assert_int_equal(parse_all(buf, n), 0);
	assert_int_equal(isk_parse_hdr(buf, n, &h, &body), 0);
	assert_int_equal(isk_parse_chain(body, h.np, false, &m), 0);
	assert_int_equal(m.npl, 3);
	assert_int_equal(isk_parse_sa(m.pl[0].body, &sa), 0);
	assert_int_equal(sa.props[0].nxf, 2);
	rd_init(&r, sa.xf[0].attrs.p, sa.xf[0].attrs.len);
	assert_int_equal(isk_attr_next(&r, &a), 0);
	assert_int_equal(isk_attr_next(&r, &a), 0);
	assert_int_equal(isk_attr_num(&a, &v), 0);
	assert_int_equal(v, 100000);
	assert_int_equal(isk_vid_classify(m.pl[1].body, NULL), ISK_VID_NATT_RFC);
	assert_int_equal(isk_vid_classify(m.pl[2].body, NULL), ISK_VID_OURS);
	/* A full writer fails cleanly. */
	for (n = 0; n < 100; n++) {
		struct wr w;
		struct isk_chain c;
		struct isk_hdr hh;

		memset(&hh, 0, sizeof(hh));
		wr_init(&w, buf, n);
		if (isk_hdr_write(&w, &hh, &c) == 0)
			assert_true(n >= ISK_HDR_LEN);
		else
			assert_true(n < ISK_HDR_LEN);
	}
}

static void
test_truncation_sweep(void **state)
{
	uint8_t buf[512];
	size_t n;

	(void)state;
	n = hex(mm1_hex, buf, sizeof(buf));
	sweep(buf, n);
	n = hex(info_hex, buf, sizeof(buf));
	sweep(buf, n);
	n = build_mm1(buf, sizeof(buf));
	sweep(buf, n);
}

static void
test_lying_lengths(void **state)
{
	uint8_t buf[256], c[256];
	size_t n, i;

	(void)state;
	n = hex(mm1_hex, buf, sizeof(buf));
	/* Each generic length field +1 / -1 / 0 / 0xffff must be refused. */
	static const size_t lens[] = { 30, 42, 50, 90 };
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		static const int16_t d[] = { 1, -1 };
		size_t k;
		uint16_t orig = (uint16_t)(buf[lens[i]] << 8 | buf[lens[i] + 1]);

		for (k = 0; k < 2; k++) {
			uint16_t v = (uint16_t)(orig + d[k]);

			memcpy(c, buf, n);
			c[lens[i]] = (uint8_t)(v >> 8);
			c[lens[i] + 1] = (uint8_t)v;
			assert_int_not_equal(parse_all(c, n), 0);
		}
		memcpy(c, buf, n);
		c[lens[i]] = 0;
		c[lens[i] + 1] = 0;
		assert_int_not_equal(parse_all(c, n), 0);
		c[lens[i]] = 0xff;
		c[lens[i] + 1] = 0xff;
		assert_int_not_equal(parse_all(c, n), 0);
	}
	/* Wrong nesting: a transform where a proposal must be. */
	memcpy(c, buf, n);
	c[28] = ISK_PL_T;	/* SA's NP says T after SA: chain error */
	assert_int_not_equal(parse_all(c, n), 0);
	memcpy(c, buf, n);
	c[40] = ISK_PL_P;	/* proposal claims another proposal follows */
	assert_int_not_equal(parse_all(c, n), 0);
	/* Transform count lies. */
	memcpy(c, buf, n);
	c[47] = 2;
	assert_int_not_equal(parse_all(c, n), 0);
	memcpy(c, buf, n);
	c[47] = 0;
	assert_int_not_equal(parse_all(c, n), 0);
	/* Major version 2 is refused. */
	memcpy(c, buf, n);
	c[17] = 0x20;
	assert_int_equal(parse_all(c, n), PA_E_NOTSUP);
	/* Datagram longer than declared. */
	assert_int_equal(parse_all(buf, n + 0 ), 0);
	memcpy(c, buf, n);
	c[n] = 0;
	assert_int_not_equal(parse_all(c, n + 1), 0);
	/* Padding is accepted only in decrypted bodies. */
	{
		struct isk_hdr h;
		struct pa_bytes body;
		struct isk_msg m;

		memcpy(c, buf, n);
		memset(c + n, 0, 7);
		c[27] = (uint8_t)(n + 7);
		assert_int_equal(isk_parse_hdr(c, n + 7, &h, &body), 0);
		assert_int_equal(isk_parse_chain(body, h.np, false, &m),
		    PA_E_TRAILING);
		assert_int_equal(isk_parse_chain(body, h.np, true, &m), 0);
	}
}

static void
test_payload_parsers(void **state)
{
	uint8_t b[64];
	struct pa_bytes v = { b, 0 };
	struct isk_id id;
	struct isk_natoa oa;
	struct isk_frag f;
	struct isk_delete d;
	uint32_t ver;

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = ISK_ID_IPV4;
	b[1] = 17;
	b[2] = 0x01;
	b[3] = 0xf4;
	b[4] = 10;
	v.len = 8;
	assert_int_equal(isk_parse_id(v, &id), 0);
	assert_int_equal(id.port, 500);
	v.len = 9;
	assert_int_equal(isk_parse_id(v, &id), PA_E_FORMAT);
	b[0] = ISK_ID_IPV4_SUBNET;
	v.len = 12;
	assert_int_equal(isk_parse_id(v, &id), 0);
	b[0] = ISK_ID_IPV4;
	v.len = 8;
	assert_int_equal(isk_parse_natoa(v, &oa), 0);
	b[0] = 9;
	assert_int_equal(isk_parse_natoa(v, &oa), PA_E_FORMAT);
	b[2] = 1;
	b[3] = 0x01;
	v.len = 4;
	assert_int_equal(isk_parse_frag(v, &f), 0);
	assert_int_equal(f.flags, 1);
	b[2] = 0;
	assert_int_equal(isk_parse_frag(v, &f), PA_E_FORMAT);
	/* Delete: nspi * spi_size must fill the payload exactly. */
	memset(b, 0, sizeof(b));
	b[3] = 1;
	b[4] = ISK_PROTO_ESP;
	b[5] = 4;
	b[7] = 2;
	v.len = 16;
	assert_int_equal(isk_parse_delete(v, &d), 0);
	v.len = 15;
	assert_int_equal(isk_parse_delete(v, &d), PA_E_SHORT);
	v.len = 17;
	assert_int_equal(isk_parse_delete(v, &d), PA_E_TRAILING);
	/* MS NT5 VID with version 4 (Server 2003). */
	{
		static const char ms[] = "1E2B516905991C7D7C96FCBFB587E46100000004";
		size_t n;

		assert_int_equal(pa_hex_decode(ms, b, sizeof(b), &n), 0);
		v.len = n;
		assert_int_equal(isk_vid_classify(v, &ver), ISK_VID_MS_NT5);
		assert_int_equal(ver, 4);
		v.len = 16;
		assert_int_equal(isk_vid_classify(v, &ver), ISK_VID_UNKNOWN);
	}
	/* Fragmentation VID with strongSwan's suffix. */
	memcpy(b, isk_vid_bytes(ISK_VID_FRAGMENTATION), 16);
	b[16] = 0xc0;
	b[17] = b[18] = b[19] = 0;
	v.len = 20;
	assert_int_equal(isk_vid_classify(v, NULL), ISK_VID_FRAGMENTATION);
	assert_string_equal(isk_notify_name(ISK_N_NO_PROPOSAL_CHOSEN),
	    "NO-PROPOSAL-CHOSEN");
	assert_string_equal(isk_notify_name(ISK_N_INITIAL_CONTACT),
	    "INITIAL-CONTACT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mm1_fixture),
		cmocka_unit_test(test_info_fixture),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_payload_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
