/*
 * Oakley crypto on OpenSSL 3 EVP: see oakley.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "isakmp.h"
#include "oakley.h"
#include "pa_secret.h"

static const char *
oak_md_name(uint16_t hash)
{
	switch (hash) {
	case ISK_HASH_MD5: return "MD5";
	case ISK_HASH_SHA1: return "SHA1";
	case ISK_HASH_SHA256: return "SHA256";
	default: return NULL;
	}
}

static const EVP_MD *
oak_md(uint16_t hash)
{
	switch (hash) {
	case ISK_HASH_MD5: return EVP_md5();
	case ISK_HASH_SHA1: return EVP_sha1();
	case ISK_HASH_SHA256: return EVP_sha256();
	default: return NULL;
	}
}

size_t
oak_hash_len(uint16_t hash)
{
	switch (hash) {
	case ISK_HASH_MD5: return 16;
	case ISK_HASH_SHA1: return 20;
	case ISK_HASH_SHA256: return 32;
	default: return 0;
	}
}

size_t
oak_block_len(uint16_t enc)
{
	switch (enc) {
	case ISK_ENC_DES:
	case ISK_ENC_3DES:
		return 8;
	case ISK_ENC_AES:
		return 16;
	default:
		return 0;
	}
}

size_t
oak_key_len(uint16_t enc, uint16_t keylen_bits)
{
	switch (enc) {
	case ISK_ENC_DES:
		return 8;
	case ISK_ENC_3DES:
		return 24;
	case ISK_ENC_AES:
		if (keylen_bits == 128 || keylen_bits == 192 ||
		    keylen_bits == 256)
			return keylen_bits / 8;
		return 0;
	default:
		return 0;
	}
}

static const EVP_CIPHER *
oak_cipher(uint16_t enc, size_t keylen)
{
	switch (enc) {
	case ISK_ENC_DES:
		return keylen == 8 ? EVP_des_cbc() : NULL;
	case ISK_ENC_3DES:
		return keylen == 24 ? EVP_des_ede3_cbc() : NULL;
	case ISK_ENC_AES:
		if (keylen == 16)
			return EVP_aes_128_cbc();
		if (keylen == 24)
			return EVP_aes_192_cbc();
		if (keylen == 32)
			return EVP_aes_256_cbc();
		return NULL;
	default:
		return NULL;
	}
}

int
oak_prf(uint16_t hash, const void *key, size_t keylen,
    const struct pa_bytes *data, size_t ndata, uint8_t *out)
{
	static EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	const char *md;
	size_t i, outl;
	int rc = PA_E_CRYPTO;

	if ((md = oak_md_name(hash)) == NULL)
		return PA_E_NOTSUP;
	if (mac == NULL && (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return PA_E_CRYPTO;
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* An empty HMAC key is legal; OpenSSL wants a non-NULL pointer. */
	if (!EVP_MAC_init(ctx, keylen > 0 ? key : (const void *)"", keylen,
	    params))
		goto out;
	for (i = 0; i < ndata; i++)
		if (data[i].len > 0 &&
		    !EVP_MAC_update(ctx, data[i].p, data[i].len))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outl, OAK_MAX_HASH))
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return rc;
}

void *
oak_prf_key(uint16_t hash, const void *key, size_t keylen)
{
	static EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];
	const char *md;

	if ((md = oak_md_name(hash)) == NULL)
		return NULL;
	if (mac == NULL && (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, keylen > 0 ? key : (const void *)"", keylen,
	    params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
oak_prf_keyed(void *keyed, const struct pa_bytes *data, size_t ndata,
    uint8_t *out)
{
	EVP_MAC_CTX *ctx;
	size_t i, outl;
	int rc = PA_E_CRYPTO;

	if (keyed == NULL || (ctx = EVP_MAC_CTX_dup(keyed)) == NULL)
		return PA_E_CRYPTO;
	for (i = 0; i < ndata; i++)
		if (data[i].len > 0 &&
		    !EVP_MAC_update(ctx, data[i].p, data[i].len))
			goto out;
	if (EVP_MAC_final(ctx, out, &outl, OAK_MAX_HASH))
		rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return rc;
}

void
oak_prf_key_free(void *keyed)
{
	EVP_MAC_CTX_free(keyed);
}

int
oak_hash(uint16_t hash, const struct pa_bytes *data, size_t ndata,
    uint8_t *out)
{
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	size_t i;
	int rc = PA_E_CRYPTO;

	if ((md = oak_md(hash)) == NULL)
		return PA_E_NOTSUP;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return PA_E_NOMEM;
	if (!EVP_DigestInit_ex(ctx, md, NULL))
		goto out;
	for (i = 0; i < ndata; i++)
		if (data[i].len > 0 &&
		    !EVP_DigestUpdate(ctx, data[i].p, data[i].len))
			goto out;
	if (!EVP_DigestFinal_ex(ctx, out, NULL))
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Diffie-Hellman. */

struct oak_dh {
	uint16_t	 group;
	EVP_PKEY	*key;
	uint8_t		 pub[OAK_MAX_DH];
	size_t		 publen;
};

/* Domain parameters of the MODP groups, built once (never freed). */
struct oak_modp {
	uint16_t	 group;
	size_t		 len;		/* bytes of p */
	unsigned	 priv_bits;	/* private exponent length */
	BIGNUM		*p;
	BIGNUM		*pm1;		/* p - 1 */
	EVP_PKEY	*params;
};

static struct oak_modp oak_modps[] = {
	/*
	 * Private exponents: 256 bits for the Oakley groups (twice their
	 * strength and more); 0 = OpenSSL's choice for group 14, which it
	 * knows as the named group modp_2048 (2 x 112 = 224 bits, SP
	 * 800-56A), measured faster than forcing a length.
	 */
	{ 1, 96, 256, NULL, NULL, NULL },
	{ 2, 128, 256, NULL, NULL, NULL },
	{ 14, 256, 0, NULL, NULL, NULL },
};

static struct oak_modp *
oak_modp(uint16_t group)
{
	struct oak_modp *m = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *g = NULL;
	size_t i;

	for (i = 0; i < sizeof(oak_modps) / sizeof(oak_modps[0]); i++)
		if (oak_modps[i].group == group)
			m = &oak_modps[i];
	if (m == NULL || m->params != NULL)
		return m;
	if (m->p == NULL) {
		if (group == 1)
			m->p = BN_get_rfc2409_prime_768(NULL);
		else if (group == 2)
			m->p = BN_get_rfc2409_prime_1024(NULL);
		else
			m->p = BN_get_rfc3526_prime_2048(NULL);
		if (m->p == NULL)
			return NULL;
	}
	if (m->pm1 == NULL) {
		if ((m->pm1 = BN_dup(m->p)) == NULL ||
		    !BN_sub_word(m->pm1, 1)) {
			BN_free(m->pm1);
			m->pm1 = NULL;
			return NULL;
		}
	}
	if ((g = BN_new()) == NULL || !BN_set_word(g, 2) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, m->p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
	    (m->priv_bits != 0 && !OSSL_PARAM_BLD_push_int(bld,
	    OSSL_PKEY_PARAM_DH_PRIV_LEN, (int)m->priv_bits)) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &m->params, EVP_PKEY_KEY_PARAMETERS,
	    params) <= 0)
		m->params = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(g);
	return m->params != NULL ? m : NULL;
}

static const char *
oak_curve(uint16_t group, size_t *flen)
{
	switch (group) {
	case 19:
		*flen = 32;
		return "P-256";
	case 20:
		*flen = 48;
		return "P-384";
	default:
		*flen = 0;
		return NULL;
	}
}

size_t
oak_dh_len(uint16_t group)
{
	size_t flen;

	switch (group) {
	case 1: return 96;
	case 2: return 128;
	case 14: return 256;
	default:
		return oak_curve(group, &flen) != NULL ? 2 * flen : 0;
	}
}

int
oak_dh_new(uint16_t group, struct oak_dh **out)
{
	struct oak_dh *dh;
	EVP_PKEY_CTX *ctx = NULL;
	struct oak_modp *m;
	const char *curve;
	size_t flen, n;
	uint8_t enc[1 + 2 * 48];
	int rc = PA_E_CRYPTO;

	*out = NULL;
	if (oak_dh_len(group) == 0)
		return PA_E_NOTSUP;
	if ((dh = calloc(1, sizeof(*dh))) == NULL)
		return PA_E_NOMEM;
	dh->group = group;
	if ((curve = oak_curve(group, &flen)) != NULL) {
		if ((dh->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve)) ==
		    NULL)
			goto out;
		if (EVP_PKEY_get_octet_string_param(dh->key,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc, sizeof(enc), &n) !=
		    1 || n != 1 + 2 * flen || enc[0] != 0x04)
			goto out;
		memcpy(dh->pub, enc + 1, 2 * flen);
		dh->publen = 2 * flen;
	} else {
		BIGNUM *y = NULL;

		if ((m = oak_modp(group)) == NULL)
			goto out;
		int plen = (int)m->priv_bits;
		OSSL_PARAM kp[2];

		/* The private exponent length, set on the keygen itself. */
		kp[0] = OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN,
		    &plen);
		kp[1] = OSSL_PARAM_construct_end();
		if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, m->params, NULL)) ==
		    NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
		    (plen != 0 && EVP_PKEY_CTX_set_params(ctx, kp) <= 0) ||
		    EVP_PKEY_keygen(ctx, &dh->key) <= 0)
			goto out;
		if (!EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, &y))
			goto out;
		if (BN_bn2binpad(y, dh->pub, (int)m->len) < 0) {
			BN_free(y);
			goto out;
		}
		BN_free(y);
		dh->publen = m->len;
	}
	*out = dh;
	dh = NULL;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	oak_dh_free(dh);
	return rc;
}

void
oak_dh_free(struct oak_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->key);
	pa_wipe(dh, sizeof(*dh));
	free(dh);
}

struct pa_bytes
oak_dh_pub(const struct oak_dh *dh)
{
	struct pa_bytes b = { dh->pub, dh->publen };

	return b;
}

static int
oak_dh_peer(const struct oak_dh *dh, struct pa_bytes y, EVP_PKEY **peer)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn = NULL, *g = NULL;
	struct oak_modp *m;
	const char *curve;
	uint8_t enc[1 + 2 * 48];
	size_t flen;
	int rc = PA_E_CRYPTO;

	*peer = NULL;
	if (y.len != dh->publen)
		return PA_E_VERIFY;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return PA_E_NOMEM;
	if ((curve = oak_curve(dh->group, &flen)) != NULL) {
		enc[0] = 0x04;
		memcpy(enc + 1, y.p, y.len);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, enc, 1 + y.len) ||
		    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ==
		    NULL)
			goto out;
	} else {
		if ((m = oak_modp(dh->group)) == NULL)
			goto out;
		if ((bn = BN_bin2bn(y.p, (int)y.len, NULL)) == NULL)
			goto out;
		/* 1 < y < p - 1 (see oakley.h). */
		if (BN_cmp(bn, BN_value_one()) <= 0 || BN_cmp(bn, m->pm1) >= 0) {
			rc = PA_E_VERIFY;
			goto out;
		}
		if ((g = BN_new()) == NULL || !BN_set_word(g, 2) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, m->p) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bn) ||
		    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) ==
		    NULL)
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, peer, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		/* An EC point not on the curve fails here. */
		rc = curve != NULL ? PA_E_VERIFY : PA_E_CRYPTO;
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(g);
	return rc;
}

int
oak_dh_derive(struct oak_dh *dh, struct pa_bytes y, uint8_t *out, size_t cap,
    size_t *outlen)
{
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	unsigned pad = 1;
	size_t n, flen;
	int rc;

	*outlen = 0;
	if ((rc = oak_dh_peer(dh, y, &peer)) != 0)
		return rc;
	rc = PA_E_CRYPTO;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->key, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0)
		goto out;
	if (oak_curve(dh->group, &flen) == NULL) {
		params[0] = OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD,
		    &pad);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_PKEY_CTX_set_params(ctx, params))
			goto out;
		/* The range check was done in oak_dh_peer(). */
		if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0)
			goto out;
	} else if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) <= 0) {
		rc = PA_E_VERIFY;
		goto out;
	}
	n = cap;
	if (EVP_PKEY_derive(ctx, NULL, &n) <= 0 || n > cap)
		goto out;
	if (EVP_PKEY_derive(ctx, out, &n) <= 0)
		goto out;
	*outlen = n;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return rc;
}

int
oak_skeyid_psk(uint16_t hash, struct pa_bytes psk, struct pa_bytes ni,
    struct pa_bytes nr, uint8_t *out)
{
	struct pa_bytes d[2] = { ni, nr };

	return oak_prf(hash, psk.p, psk.len, d, 2, out);
}

int
oak_skeyid_sig(uint16_t hash, struct pa_bytes ni, struct pa_bytes nr,
    struct pa_bytes gxy, uint8_t *out)
{
	uint8_t key[512];
	int rc;

	if (ni.len + nr.len > sizeof(key))
		return PA_E_INVAL;
	memcpy(key, ni.p, ni.len);
	memcpy(key + ni.len, nr.p, nr.len);
	rc = oak_prf(hash, key, ni.len + nr.len, &gxy, 1, out);
	pa_wipe(key, sizeof(key));
	return rc;
}

int
oak_skeyid_dae(uint16_t hash, const uint8_t *skeyid, struct pa_bytes gxy,
    const uint8_t cky_i[8], const uint8_t cky_r[8], uint8_t *d, uint8_t *a,
    uint8_t *e)
{
	static const uint8_t n0 = 0, n1 = 1, n2 = 2;
	size_t hl = oak_hash_len(hash);
	struct pa_bytes v[5];
	int rc;

	if (hl == 0)
		return PA_E_NOTSUP;
	v[0] = (struct pa_bytes){ NULL, 0 };
	v[1] = gxy;
	v[2] = (struct pa_bytes){ cky_i, 8 };
	v[3] = (struct pa_bytes){ cky_r, 8 };
	v[4] = (struct pa_bytes){ &n0, 1 };
	if ((rc = oak_prf(hash, skeyid, hl, v, 5, d)) != 0)
		return rc;
	v[0] = (struct pa_bytes){ d, hl };
	v[4] = (struct pa_bytes){ &n1, 1 };
	if ((rc = oak_prf(hash, skeyid, hl, v, 5, a)) != 0)
		return rc;
	v[0] = (struct pa_bytes){ a, hl };
	v[4] = (struct pa_bytes){ &n2, 1 };
	return oak_prf(hash, skeyid, hl, v, 5, e);
}

int
oak_enc_key(uint16_t hash, const uint8_t *skeyid_e, size_t keylen,
    uint8_t *out)
{
	static const uint8_t zero = 0;
	uint8_t k[OAK_MAX_HASH];
	struct pa_bytes v;
	size_t hl = oak_hash_len(hash), done, n;
	int rc = 0;

	if (hl == 0)
		return PA_E_NOTSUP;
	if (keylen <= hl) {
		memcpy(out, skeyid_e, keylen);
		return 0;
	}
	v = (struct pa_bytes){ &zero, 1 };
	for (done = 0; done < keylen; done += n) {
		if ((rc = oak_prf(hash, skeyid_e, hl, &v, 1, k)) != 0)
			break;
		n = keylen - done < hl ? keylen - done : hl;
		memcpy(out + done, k, n);
		v = (struct pa_bytes){ out + done, hl };
		if (n < hl)
			break;
	}
	pa_wipe(k, sizeof(k));
	return rc;
}

int
oak_iv_p1(uint16_t hash, struct pa_bytes gxi, struct pa_bytes gxr,
    size_t block, uint8_t *iv)
{
	uint8_t h[OAK_MAX_HASH];
	struct pa_bytes v[2] = { gxi, gxr };
	int rc;

	if (block > oak_hash_len(hash))
		return PA_E_NOTSUP;
	if ((rc = oak_hash(hash, v, 2, h)) != 0)
		return rc;
	memcpy(iv, h, block);
	return 0;
}

int
oak_iv_p2(uint16_t hash, const uint8_t *last, size_t block, uint32_t msgid,
    uint8_t *iv)
{
	uint8_t h[OAK_MAX_HASH], mid[4];
	struct pa_bytes v[2];
	int rc;

	if (block > oak_hash_len(hash))
		return PA_E_NOTSUP;
	mid[0] = (uint8_t)(msgid >> 24);
	mid[1] = (uint8_t)(msgid >> 16);
	mid[2] = (uint8_t)(msgid >> 8);
	mid[3] = (uint8_t)msgid;
	v[0] = (struct pa_bytes){ last, block };
	v[1] = (struct pa_bytes){ mid, 4 };
	if ((rc = oak_hash(hash, v, 2, h)) != 0)
		return rc;
	memcpy(iv, h, block);
	return 0;
}

int
oak_keymat(uint16_t hash, const uint8_t *skeyid_d, struct pa_bytes gxy,
    uint8_t proto, uint32_t spi, struct pa_bytes ni, struct pa_bytes nr,
    uint8_t *out, size_t outlen)
{
	uint8_t k[OAK_MAX_HASH], spib[4];
	struct pa_bytes v[6];
	size_t hl = oak_hash_len(hash), done, n;
	int rc = 0;

	if (hl == 0)
		return PA_E_NOTSUP;
	spib[0] = (uint8_t)(spi >> 24);
	spib[1] = (uint8_t)(spi >> 16);
	spib[2] = (uint8_t)(spi >> 8);
	spib[3] = (uint8_t)spi;
	v[0] = (struct pa_bytes){ NULL, 0 };	/* K(n-1) */
	v[1] = gxy;
	v[2] = (struct pa_bytes){ &proto, 1 };
	v[3] = (struct pa_bytes){ spib, 4 };
	v[4] = ni;
	v[5] = nr;
	for (done = 0; done < outlen; done += n) {
		if ((rc = oak_prf(hash, skeyid_d, hl, v, 6, k)) != 0)
			break;
		n = outlen - done < hl ? outlen - done : hl;
		memcpy(out + done, k, n);
		v[0] = (struct pa_bytes){ out + done, hl };
		if (n < hl)
			break;
	}
	pa_wipe(k, sizeof(k));
	return rc;
}

int
oak_cbc(uint16_t enc, const uint8_t *key, size_t keylen, uint8_t *iv,
    uint8_t *buf, size_t len, bool encrypt)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t bl = oak_block_len(enc);
	uint8_t next[OAK_MAX_BLOCK];
	int outl, rc = PA_E_CRYPTO;

	if ((c = oak_cipher(enc, keylen)) == NULL || bl == 0)
		return PA_E_NOTSUP;
	if (len == 0 || len % bl != 0 || len > INT32_MAX)
		return PA_E_INVAL;
	if (!encrypt)
		memcpy(next, buf + len - bl, bl);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return PA_E_NOMEM;
	if (!EVP_CipherInit_ex(ctx, c, NULL, key, iv, encrypt ? 1 : 0) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) ||
	    (size_t)outl != len)
		goto out;
	memcpy(iv, encrypt ? buf + len - bl : next, bl);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
oak_random(void *p, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return PA_E_CRYPTO;
	return 0;
}
