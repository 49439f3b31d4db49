/*
 * Unit tests of the pure parts of agent/ike/auth_gss: the GSS token
 * payload body (type 129), the GSS Identity Name attribute, the audit
 * identity string and the mapping of Kerberos codes to failure kinds.
 * Every prefix of each valid encoding is decoded too (truncation sweep).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <gssapi/gssapi.h>
#include <krb5/krb5.h>

#include "auth_gss.h"
#include "pa_buf.h"

/* The start of a real MIT AP-REQ token: [APPLICATION 0], krb5 OID, 01 00. */
static const uint8_t ap_req[] = {
	0x60, 0x15, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01,
	0x02, 0x02, 0x01, 0x00, 0x6e, 0x06, 0x30, 0x04, 0xa0, 0x02, 0x05,
	0x00
};

static void
test_tok_roundtrip_vendor(void **state)
{
	uint8_t buf[64];
	struct wr w;
	struct ike_gss_tok t;
	struct pa_bytes tok = { ap_req, sizeof(ap_req) }, body;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_VENDOR, 0, tok),
	    0);
	assert_int_equal(w.len, sizeof(ap_req) + 1);
	assert_int_equal(buf[0], 0);
	body.p = buf;
	body.len = w.len;
	assert_int_equal(ike_gss_tok_decode(body, &t), 0);
	assert_int_equal(t.fmt, IKE_GSS_TOKFMT_VENDOR);
	assert_int_equal(t.vendor, 0);
	assert_int_equal(t.token.len, sizeof(ap_req));
	assert_memory_equal(t.token.p, ap_req, sizeof(ap_req));

	/* A non-zero vendor octet is kept (draft: "may be non-zero"). */
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_VENDOR, 0x60,
	    tok), 0);
	body.len = w.len;
	assert_int_equal(ike_gss_tok_decode(body, &t), 0);
	assert_int_equal(t.fmt, IKE_GSS_TOKFMT_VENDOR);
	assert_int_equal(t.vendor, 0x60);
	assert_int_equal(t.token.len, sizeof(ap_req));
}

static void
test_tok_raw_racoon(void **state)
{
	uint8_t buf[64];
	struct wr w;
	struct ike_gss_tok t;
	struct pa_bytes tok = { ap_req, sizeof(ap_req) }, body;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_RAW, 7, tok), 0);
	assert_int_equal(w.len, sizeof(ap_req));
	body.p = buf;
	body.len = w.len;
	assert_int_equal(ike_gss_tok_decode(body, &t), 0);
	assert_int_equal(t.fmt, IKE_GSS_TOKFMT_RAW);
	assert_int_equal(t.vendor, 0);
	assert_ptr_equal(t.token.p, buf);
	assert_int_equal(t.token.len, sizeof(ap_req));
}

static void
test_tok_errors(void **state)
{
	uint8_t buf[8];
	struct wr w;
	struct ike_gss_tok t;
	struct pa_bytes empty = { NULL, 0 }, tok = { ap_req, sizeof(ap_req) };
	static const uint8_t only_vendor[] = { 0 };
	struct pa_bytes b = { only_vendor, 1 };

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_VENDOR, 0,
	    empty), PA_E_INVAL);
	assert_int_equal(ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_VENDOR, 0, tok),
	    PA_E_NOSPACE);
	assert_int_equal(ike_gss_tok_decode(empty, &t), PA_E_SHORT);
	/* A vendor octet with no token. */
	assert_int_equal(ike_gss_tok_decode(b, &t), PA_E_SHORT);
}

/* Every prefix of a framed token: never RAW unless exactly whole. */
static void
test_tok_truncation_sweep(void **state)
{
	struct ike_gss_tok t;
	struct pa_bytes b;
	size_t n;
	int rc;

	(void)state;
	for (n = 0; n <= sizeof(ap_req); n++) {
		b.p = ap_req;
		b.len = n;
		rc = ike_gss_tok_decode(b, &t);
		if (n == 0 || n == 1) {
			assert_int_equal(rc, PA_E_SHORT);
			continue;
		}
		assert_int_equal(rc, 0);
		if (n == sizeof(ap_req))
			assert_int_equal(t.fmt, IKE_GSS_TOKFMT_RAW);
		else {
			/* A cut token is read as vendor octet + data. */
			assert_int_equal(t.fmt, IKE_GSS_TOKFMT_VENDOR);
			assert_int_equal(t.token.len, n - 1);
		}
	}
}

static void
test_id_attr_roundtrip(void **state)
{
	uint8_t buf[128];
	struct wr w;
	struct rd r;
	uint16_t type, len;
	struct pa_bytes v;
	char name[IKE_GSS_NAME_MAX + 1];
	static const uint8_t want[] = {
		0x40, 0x00, 0x00, 0x0e,
		'H', 0, 'O', 0, 'S', 0, 'T', 0, 'A', 0, '$', 0, '@', 0
	};

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_id_attr_encode(&w, "HOSTA$@"), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_id_attr_encode(&w,
	    "host/b\xc3\xa9.example.test@EXAMPLE.TEST"), 0);
	rd_init(&r, buf, w.len);
	assert_int_equal(rd_u16(&r, &type), 0);
	assert_true(ike_gss_id_attr_type(type));
	assert_int_equal(rd_u16(&r, &len), 0);
	assert_int_equal(rd_bytes(&r, len, &v), 0);
	assert_true(rd_empty(&r));
	assert_int_equal(ike_gss_id_decode(v, name, sizeof(name)), 0);
	assert_string_equal(name, "host/b\xc3\xa9.example.test@EXAMPLE.TEST");
}

static void
test_id_decode_rules(void **state)
{
	char name[16];
	/* "A" + NUL terminator: tolerated. */
	static const uint8_t nul_end[] = { 'A', 0, 0, 0 };
	/* Embedded NUL. */
	static const uint8_t nul_mid[] = { 'A', 0, 0, 0, 'B', 0 };
	/* Odd length. */
	static const uint8_t odd[] = { 'A', 0, 'B' };
	/* Unpaired high surrogate, then lone low surrogate. */
	static const uint8_t hi[] = { 0x00, 0xd8, 'A', 0 };
	static const uint8_t lo[] = { 0x00, 0xdc };
	/* U+1F600 as a surrogate pair -> 4 UTF-8 bytes. */
	static const uint8_t pair[] = { 0x3d, 0xd8, 0x00, 0xde };
	/* A control character. */
	static const uint8_t ctl[] = { 0x0a, 0 };
	static const uint8_t longer[] = {
		'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e', 0, 'f', 0, 'g', 0, 'h', 0,
		'i', 0, 'j', 0, 'k', 0, 'l', 0, 'm', 0, 'n', 0, 'o', 0, 'p', 0
	};
	struct pa_bytes b;

	(void)state;
	b.p = nul_end; b.len = sizeof(nul_end);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), 0);
	assert_string_equal(name, "A");
	b.p = nul_mid; b.len = sizeof(nul_mid);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), PA_E_FORMAT);
	b.p = odd; b.len = sizeof(odd);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), PA_E_FORMAT);
	b.p = hi; b.len = sizeof(hi);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), PA_E_FORMAT);
	b.p = lo; b.len = sizeof(lo);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), PA_E_FORMAT);
	b.p = pair; b.len = sizeof(pair);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), 0);
	assert_string_equal(name, "\xf0\x9f\x98\x80");
	b.p = ctl; b.len = sizeof(ctl);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), PA_E_FORMAT);
	/* 16 characters do not fit 16 bytes with the NUL. */
	b.p = longer; b.len = sizeof(longer);
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)),
	    PA_E_NOSPACE);
	assert_string_equal(name, "");
	b.p = NULL; b.len = 0;
	assert_int_equal(ike_gss_id_decode(b, name, sizeof(name)), PA_E_SHORT);
}

static void
test_id_encode_rejects(void **state)
{
	uint8_t buf[16];
	struct wr w;
	char big[IKE_GSS_NAME_MAX + 2];

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_id_attr_encode(&w, ""), PA_E_INVAL);
	assert_int_equal(ike_gss_id_attr_encode(&w, "a\nb"), PA_E_INVAL);
	/* A rejected name leaves the writer untouched. */
	assert_int_equal(w.len, 0);
	assert_int_equal(wr_error(&w), 0);
	/* Overlong '/' and a lone surrogate in UTF-8. */
	assert_int_equal(ike_gss_id_attr_encode(&w, "\xc0\xaf"), PA_E_INVAL);
	assert_int_equal(ike_gss_id_attr_encode(&w, "\xed\xa0\x80"),
	    PA_E_INVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ike_gss_id_attr_encode(&w, big), PA_E_INVAL);
	/* 4 header bytes + 7 UTF-16 units do not fit 16 bytes. */
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_id_attr_encode(&w, "abcdefg"), PA_E_NOSPACE);
}

/* Every prefix of an encoded UTF-16 value decodes or fails cleanly. */
static void
test_id_truncation_sweep(void **state)
{
	uint8_t buf[128];
	struct wr w;
	struct pa_bytes v;
	char name[IKE_GSS_NAME_MAX + 1];
	size_t n;
	int rc;

	(void)state;
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_id_attr_encode(&w,
	    "x\xf0\x9f\x98\x80y@R"), 0);
	for (n = 0; n <= w.len - 4; n++) {
		v.p = buf + 4;
		v.len = n;
		rc = ike_gss_id_decode(v, name, sizeof(name));
		if (n == 0)
			assert_int_equal(rc, PA_E_SHORT);
		else if (n % 2 != 0 || n == 4)	/* odd, or cut pair */
			assert_int_equal(rc, PA_E_FORMAT);
		else
			assert_int_equal(rc, 0);
	}
	assert_string_equal(name, "x\xf0\x9f\x98\x80y@R");
}

static void
test_attr_types(void **state)
{
	(void)state;
	assert_true(ike_gss_id_attr_type(16384));
	assert_true(ike_gss_id_attr_type(32001));
	assert_false(ike_gss_id_attr_type(3));
	assert_false(ike_gss_id_attr_type(0x8000 | 3));
}

static void
test_audit_identity(void **state)
{
	char buf[64], small[10];

	(void)state;
	ike_gss_audit_identity("HOSTA$@EXAMPLE.TEST", buf, sizeof(buf));
	assert_string_equal(buf,
	    "Kerberos based Identity: HOSTA$@EXAMPLE.TEST");
	ike_gss_audit_identity("HOSTA$@EXAMPLE.TEST", small, sizeof(small));
	assert_string_equal(small, "Kerberos ");
}

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(ike_gss_classify(GSS_S_FAILURE,
	    (uint32_t)KRB5_KDC_UNREACH), IKE_GSS_F_KDC_UNREACHABLE);
	assert_int_equal(ike_gss_classify(GSS_S_FAILURE,
	    (uint32_t)KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN), IKE_GSS_F_NO_SERVICE);
	assert_int_equal(ike_gss_classify(GSS_S_FAILURE,
	    (uint32_t)KRB5KRB_AP_ERR_SKEW), IKE_GSS_F_CLOCK_SKEW);
	assert_int_equal(ike_gss_classify(GSS_S_FAILURE,
	    (uint32_t)KRB5KRB_AP_ERR_BAD_INTEGRITY), IKE_GSS_F_WRONG_KEYTAB);
	assert_int_equal(ike_gss_classify(GSS_S_FAILURE,
	    (uint32_t)KRB5_KT_KVNONOTFOUND), IKE_GSS_F_WRONG_KEYTAB);
	assert_int_equal(ike_gss_classify(GSS_S_DEFECTIVE_TOKEN, 0),
	    IKE_GSS_F_TOKEN);
	assert_int_equal(ike_gss_classify(GSS_S_CREDENTIALS_EXPIRED, 0),
	    IKE_GSS_F_EXPIRED);
	assert_int_equal(ike_gss_classify(GSS_S_FAILURE, 12345),
	    IKE_GSS_F_OTHER);
	assert_string_equal(ike_gss_fail_name(IKE_GSS_F_CLOCK_SKEW),
	    "clock-skew");
	assert_string_equal(ike_gss_fail_name((enum ike_gss_fail)999),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tok_roundtrip_vendor),
		cmocka_unit_test(test_tok_raw_racoon),
		cmocka_unit_test(test_tok_errors),
		cmocka_unit_test(test_tok_truncation_sweep),
		cmocka_unit_test(test_id_attr_roundtrip),
		cmocka_unit_test(test_id_decode_rules),
		cmocka_unit_test(test_id_encode_rejects),
		cmocka_unit_test(test_id_truncation_sweep),
		cmocka_unit_test(test_attr_types),
		cmocka_unit_test(test_audit_identity),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
