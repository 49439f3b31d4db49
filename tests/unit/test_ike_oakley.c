/*
 * Oakley crypto: known-answer tests for SKEYID and its derivatives and the
 * RFC 2409 Appendix B expansion, DH agreement per group with peer value
 * validation, CBC chaining, KEYMAT structure.
 *
 * Sources of the vectors:
 *  - NIST CAVP SP 800-135 IKEv1 KDF samples, as carried in Mozilla NSS
 *    gtests/common/testvectors/ike-sha1-vectors.h (vector 1: signature
 *    form; the PSK-form sample; the Appendix B expansion), values checked
 *    in ../shared/specs/windows-ike-audit.md section 2.8;
 *  - a SHA-1 chain with a 1024-bit g^xy (same notes, item 4);
 *  - NIST SP 800-38A F.2.1 (AES-128-CBC).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>

#include "isakmp.h"
#include "oakley.h"

static size_t
hx(const char *h, uint8_t *out, size_t cap)
{
	size_t n;

	assert_int_equal(pa_hex_decode(h, out, cap, &n), 0);
	return n;
}

static void
assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[512];
	size_t wn = hx(want, w, sizeof(w));

	assert_int_equal(n, wn);
	assert_memory_equal(got, w, n);
}

static void
test_skeyid_sig_chain(void **state)
{
	uint8_t ni[8], nr[8], gxy[32], ci[8], cr[8], s[32], d[32], a[32], e[32];
	struct pa_bytes bni = { ni, 8 }, bnr = { nr, 8 }, bg = { gxy, 32 };

	(void)state;
	hx("69a62284195f1680", ni, 8);
	hx("80c94ba25c8abda5", nr, 8);
	hx("8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb",
	    gxy, 32);
	hx("8c3bcd3a69831d7f", ci, 8);
	hx("d2d9a7ff4fbe95a7", cr, 8);
	assert_int_equal(oak_skeyid_sig(ISK_HASH_SHA1, bni, bnr, bg, s), 0);
	assert_hex(s, 20, "707197817fb2d90cf54d1842606bdea59b9f4823");
	assert_int_equal(oak_skeyid_dae(ISK_HASH_SHA1, s, bg, ci, cr, d, a, e),
	    0);
	assert_hex(d, 20, "384be709a8a5e63c3ed160cfe3921c4b37d5b32d");
	assert_hex(a, 20, "48b327575abe3adba0f279849e289022a13e2b47");
	assert_hex(e, 20, "a4a415c8e0c38c0da847c356cc61c24df8025560");
}

static void
test_skeyid_psk(void **state)
{
	uint8_t psk[1], ni[8], nr[8], s[32];

	(void)state;
	hx("c0", psk, 1);
	hx("03a6f25a83c8c2a3", ni, 8);
	hx("9d958a6618f77e7f", nr, 8);
	assert_int_equal(oak_skeyid_psk(ISK_HASH_SHA1,
	    (struct pa_bytes){ psk, 1 }, (struct pa_bytes){ ni, 8 },
	    (struct pa_bytes){ nr, 8 }, s), 0);
	assert_hex(s, 20, "ab3be41bc62f2ef0c41a3076d58768be77fadd2e");
}

static void
test_chain_1024(void **state)
{
	uint8_t ni[8], nr[8], ci[8], cr[8], g[128], s[32], d[32], a[32], e[32];

	(void)state;
	hx("ced5635da6796075", ni, 8);
	hx("6244b427712fb776", nr, 8);
	hx("382e5c8b0a3fa307", ci, 8);
	hx("ba4b7616700a2413", cr, 8);
	assert_int_equal(hx("2a2e0bbe8da3657a83f3d35826e49e2d38e557e912a1b9e6"
	    "c30c63577b3eab715466202862027f2c26f3090743555579611771db0b92bef9"
	    "3834432a3a7762fc8a0f4889fd281d6082770d10a40d7bad61e832f041e620d6"
	    "787e7f62ab2861ddfbe272e0d9d3cdec5f1bbf750e24b8b32d6d714968ad69ce"
	    "5086c32ad2742ebc", g, sizeof(g)), 128);
	assert_int_equal(oak_skeyid_sig(ISK_HASH_SHA1,
	    (struct pa_bytes){ ni, 8 }, (struct pa_bytes){ nr, 8 },
	    (struct pa_bytes){ g, 128 }, s), 0);
	assert_hex(s, 20, "dc37ac99de6dcfbd1ee74af7fb36f9b4b0a7829d");
	assert_int_equal(oak_skeyid_dae(ISK_HASH_SHA1, s,
	    (struct pa_bytes){ g, 128 }, ci, cr, d, a, e), 0);
	assert_hex(d, 20, "486293ed547adb562cefdaf43d3d8457b196f2b6");
	assert_hex(a, 20, "f4053b5ca07e59bb41b8f401037ca90b72b3917e");
	assert_hex(e, 20, "49a1d53a80fb77e663552964fbbcb45092021473");
}

static void
test_appendix_b(void **state)
{
	uint8_t k[20], out[40];

	(void)state;
	hx("63e81194946ebd05df7df5ebf5d8750056bf1f1d", k, 20);
	assert_int_equal(oak_enc_key(ISK_HASH_SHA1, k, 40, out), 0);
	assert_hex(out, 40, "933347a07de5782247dd36d1562ffe0eecade1eb"
	    "4134165257e3af1000af8ae3f165063828cbb60d");
	/* Short keys are a prefix of SKEYID_e, no expansion. */
	assert_int_equal(oak_enc_key(ISK_HASH_SHA1, k, 16, out), 0);
	assert_memory_equal(out, k, 16);
	/* 3DES with MD5: 24 > 16 expands; first block is prf(e, 0). */
	{
		uint8_t m[24], p[32];
		static const uint8_t z = 0;
		struct pa_bytes v = { &z, 1 };

		assert_int_equal(oak_enc_key(ISK_HASH_MD5, k, 24, m), 0);
		assert_int_equal(oak_prf(ISK_HASH_MD5, k, 16, &v, 1, p), 0);
		assert_memory_equal(m, p, 16);
	}
}

static void
test_keymat(void **state)
{
	uint8_t d[20], ni[16], nr[16], km[60], k1[32], k2[32];
	uint8_t pr = ISK_PROTO_ESP, spi[4] = { 0xc0, 0x01, 0x02, 0x03 };
	struct pa_bytes v[5];

	(void)state;
	memset(d, 0x11, sizeof(d));
	memset(ni, 0x22, sizeof(ni));
	memset(nr, 0x33, sizeof(nr));
	assert_int_equal(oak_keymat(ISK_HASH_SHA1, d, (struct pa_bytes){ NULL, 0 },
	    pr, 0xc0010203, (struct pa_bytes){ ni, 16 },
	    (struct pa_bytes){ nr, 16 }, km, sizeof(km)), 0);
	v[0] = (struct pa_bytes){ &pr, 1 };
	v[1] = (struct pa_bytes){ spi, 4 };
	v[2] = (struct pa_bytes){ ni, 16 };
	v[3] = (struct pa_bytes){ nr, 16 };
	assert_int_equal(oak_prf(ISK_HASH_SHA1, d, 20, v, 4, k1), 0);
	assert_memory_equal(km, k1, 20);
	{
		struct pa_bytes w[5] = { { k1, 20 }, v[0], v[1], v[2], v[3] };

		assert_int_equal(oak_prf(ISK_HASH_SHA1, d, 20, w, 5, k2), 0);
		assert_memory_equal(km + 20, k2, 20);
	}
}

static void
test_cbc(void **state)
{
	uint8_t key[16], iv[16], buf[32], ct[16], iv2[16];

	(void)state;
	hx("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	hx("000102030405060708090a0b0c0d0e0f", iv, 16);
	hx("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
	    buf, 32);
	assert_int_equal(oak_cbc(ISK_ENC_AES, key, 16, iv, buf, 32, true), 0);
	assert_hex(buf, 32, "7649abac8119b246cee98e9b12e9197d"
	    "5086cb9b507219ee95db113a917678b2");
	/* The IV now holds the last ciphertext block. */
	assert_memory_equal(iv, buf + 16, 16);
	hx("000102030405060708090a0b0c0d0e0f", iv2, 16);
	memcpy(ct, buf + 16, 16);
	assert_int_equal(oak_cbc(ISK_ENC_AES, key, 16, iv2, buf, 32, false), 0);
	assert_hex(buf, 32,
	    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
	assert_memory_equal(iv2, ct, 16);
	assert_int_equal(oak_cbc(ISK_ENC_AES, key, 16, iv2, buf, 31, false),
	    PA_E_INVAL);
	assert_int_equal(oak_cbc(ISK_ENC_3DES, key, 16, iv2, buf, 32, false),
	    PA_E_NOTSUP);
}

static void
dh_pair(uint16_t group)
{
	struct oak_dh *a = NULL, *b = NULL;
	uint8_t sa[OAK_MAX_DH], sb[OAK_MAX_DH], bad[OAK_MAX_DH];
	size_t na, nb, len = oak_dh_len(group);

	assert_int_equal(oak_dh_new(group, &a), 0);
	assert_int_equal(oak_dh_new(group, &b), 0);
	assert_int_equal(oak_dh_pub(a).len, len);
	assert_int_equal(oak_dh_derive(a, oak_dh_pub(b), sa, sizeof(sa), &na), 0);
	assert_int_equal(oak_dh_derive(b, oak_dh_pub(a), sb, sizeof(sb), &nb), 0);
	assert_int_equal(na, nb);
	assert_int_equal(na, group >= 19 ? len / 2 : len);
	assert_memory_equal(sa, sb, na);
	/* Invalid peer values. */
	memset(bad, 0, len);
	assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len }, sa,
	    sizeof(sa), &na), PA_E_VERIFY);
	bad[len - 1] = 1;
	assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len }, sa,
	    sizeof(sa), &na), PA_E_VERIFY);
	memset(bad, 0xff, len);		/* > p (MODP) / off-curve (ECP) */
	assert_int_not_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len }, sa,
	    sizeof(sa), &na), 0);
	assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len - 1 }, sa,
	    sizeof(sa), &na), PA_E_VERIFY);
	if (group < 19) {
		/* The Oakley primes end in 64 one bits: p - 1 ends in fe. */
		BIGNUM *p = group == 1 ? BN_get_rfc2409_prime_768(NULL) :
		    group == 2 ? BN_get_rfc2409_prime_1024(NULL) :
		    BN_get_rfc3526_prime_2048(NULL);

		assert_non_null(p);
		assert_int_equal(BN_bn2binpad(p, bad, (int)len), (int)len);
		BN_free(p);
		assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len },
		    sa, sizeof(sa), &na), PA_E_VERIFY);	/* p */
		bad[len - 1] = 0xfe;
		assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len },
		    sa, sizeof(sa), &na), PA_E_VERIFY);
		bad[len - 1] = 0xfd;		/* p - 2 is in range */
		assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len },
		    sa, sizeof(sa), &na), 0);
	} else {
		/* A point with y changed is off the curve. */
		memcpy(bad, oak_dh_pub(b).p, len);
		bad[len - 1] ^= 1;
		assert_int_equal(oak_dh_derive(a, (struct pa_bytes){ bad, len },
		    sa, sizeof(sa), &na), PA_E_VERIFY);
	}
	oak_dh_free(a);
	oak_dh_free(b);
}

static void
test_dh(void **state)
{
	(void)state;
	dh_pair(1);
	dh_pair(2);
	dh_pair(14);
	dh_pair(19);
	dh_pair(20);
	{
		struct oak_dh *x;

		assert_int_equal(oak_dh_new(5, &x), PA_E_NOTSUP);
		assert_null(x);
	}
	oak_dh_free(NULL);
}

static void
test_iv(void **state)
{
	uint8_t gi[4] = { 1, 2, 3, 4 }, gr[4] = { 5, 6, 7, 8 }, iv[16], h[32];
	uint8_t cat[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pa_bytes v = { cat, 8 };

	(void)state;
	assert_int_equal(oak_iv_p1(ISK_HASH_SHA1, (struct pa_bytes){ gi, 4 },
	    (struct pa_bytes){ gr, 4 }, 16, iv), 0);
	assert_int_equal(oak_hash(ISK_HASH_SHA1, &v, 1, h), 0);
	assert_memory_equal(iv, h, 16);
	/* MD5 is 16 bytes: enough for AES, and the check refuses more. */
	assert_int_equal(oak_iv_p1(ISK_HASH_MD5, (struct pa_bytes){ gi, 4 },
	    (struct pa_bytes){ gr, 4 }, 17, iv), PA_E_NOTSUP);
	assert_int_equal(oak_iv_p2(ISK_HASH_SHA1, cat, 8, 0x05060708, iv), 0);
	cat[4] = 5; cat[5] = 6; cat[6] = 7; cat[7] = 8;
	{
		uint8_t c[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8 };
		struct pa_bytes w = { c, 12 };

		assert_int_equal(oak_hash(ISK_HASH_SHA1, &w, 1, h), 0);
		assert_memory_equal(iv, h, 8);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skeyid_sig_chain),
		cmocka_unit_test(test_skeyid_psk),
		cmocka_unit_test(test_chain_1024),
		cmocka_unit_test(test_appendix_b),
		cmocka_unit_test(test_keymat),
		cmocka_unit_test(test_cbc),
		cmocka_unit_test(test_dh),
		cmocka_unit_test(test_iv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
