/*
 * uesp SAs: algorithm setup (OpenSSL EVP, contexts keyed once per SA),
 * sequence numbers, the anti-replay window (RFC 4303 3.4.3, RFC 6479
 * style ring bitmap) and lifetimes.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pa_secret.h"
#include "pa_time.h"
#include "uesp_int.h"

/*
 * A library context of our own with the default and legacy providers
 * (DES-CBC lives in legacy), so as not to change the process default.
 */
static OSSL_LIB_CTX	*uesp_libctx;
static pthread_once_t	 uesp_libctx_once = PTHREAD_ONCE_INIT;

static void
uesp_libctx_init(void)
{
	OSSL_LIB_CTX *c;

	if ((c = OSSL_LIB_CTX_new()) == NULL)
		return;
	if (OSSL_PROVIDER_load(c, "default") == NULL) {
		OSSL_LIB_CTX_free(c);
		return;
	}
	/* Optional: without it DES-CBC is simply not supported. */
	(void)OSSL_PROVIDER_load(c, "legacy");
	uesp_libctx = c;
}

static OSSL_LIB_CTX *
uesp_ctx(void)
{
	pthread_once(&uesp_libctx_once, uesp_libctx_init);
	return uesp_libctx;
}

int
uesp_random(void *p, size_t n)
{
	return RAND_bytes_ex(uesp_ctx(), p, n, 0) == 1 ? 0 : PA_E_CRYPTO;
}

static const char *
uesp_cipher_name(enum drv_enc enc, size_t keylen, size_t *klen)
{
	switch (enc) {
	case DRV_ENC_DES_CBC:
		*klen = 8;
		return keylen == 8 ? "DES-CBC" : NULL;
	case DRV_ENC_3DES_CBC:
		*klen = 24;
		return keylen == 24 ? "DES-EDE3-CBC" : NULL;
	case DRV_ENC_AES_CBC:
		*klen = keylen;
		return keylen == 16 ? "AES-128-CBC" : keylen == 24 ?
		    "AES-192-CBC" : keylen == 32 ? "AES-256-CBC" : NULL;
	case DRV_ENC_AES_GCM_16:
		*klen = keylen - 4;
		return keylen == 20 ? "AES-128-GCM" : keylen == 28 ?
		    "AES-192-GCM" : keylen == 36 ? "AES-256-GCM" : NULL;
	case DRV_ENC_NONE:
		break;
	}
	return NULL;
}

static const char *
uesp_digest_name(enum drv_auth auth, size_t keylen, size_t *icv)
{
	switch (auth) {
	case DRV_AUTH_HMAC_MD5_96:
		*icv = 12;
		return keylen == 16 ? "MD5" : NULL;
	case DRV_AUTH_HMAC_SHA1_96:
		*icv = 12;
		return keylen == 20 ? "SHA1" : NULL;
	case DRV_AUTH_HMAC_SHA256_128:
		*icv = 16;
		return keylen == 32 ? "SHA256" : NULL;
	case DRV_AUTH_NONE:
		break;
	}
	return NULL;
}

static int	uesp_sa_setup_iv(struct uesp_sa *);

static int
uesp_sa_setup_cipher(struct uesp_sa *sa)
{
	EVP_CIPHER *c = NULL;
	const char *name;
	size_t klen = 0;
	int rc = PA_E_INVAL;

	if (sa->p.enc == DRV_ENC_NONE) {
		sa->iv_len = 0;
		sa->block = 4;
		return sa->p.enc_key_len == 0 ? 0 : PA_E_INVAL;
	}
	if ((name = uesp_cipher_name(sa->p.enc, sa->p.enc_key_len,
	    &klen)) == NULL)
		return PA_E_INVAL;
	if ((c = EVP_CIPHER_fetch(uesp_ctx(), name, NULL)) == NULL)
		return PA_E_NOTSUP;
	rc = PA_E_CRYPTO;
	if ((sa->cctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (!EVP_CipherInit_ex2(sa->cctx, c, sa->p.enc_key, NULL,
	    !sa->p.inbound, NULL))
		goto out;
	if (sa->p.enc == DRV_ENC_AES_GCM_16) {
		sa->aead = true;
		sa->iv_len = 8;
		sa->block = 4;
		sa->icv_len = 16;
		memcpy(sa->salt, &sa->p.enc_key[klen], 4);
		if (!EVP_CIPHER_CTX_ctrl(sa->cctx, EVP_CTRL_AEAD_SET_IVLEN, 12,
		    NULL))
			goto out;
	} else {
		sa->iv_len = (size_t)EVP_CIPHER_get_iv_length(c);
		sa->block = (size_t)EVP_CIPHER_get_block_size(c);
		if (!EVP_CIPHER_CTX_set_padding(sa->cctx, 0))
			goto out;
		if (!sa->p.inbound && (rc = uesp_sa_setup_iv(sa)) != 0)
			goto out;
		rc = PA_E_CRYPTO;
	}
	rc = 0;
out:
	EVP_CIPHER_free(c);
	return rc;
}

/*
 * CBC IVs must be unpredictable (RFC 3602): IV = AES-ECB(K', seq) with a
 * random K' of this SA only, which costs one block instead of a call
 * into the DRBG per packet.
 */
static int
uesp_sa_setup_iv(struct uesp_sa *sa)
{
	EVP_CIPHER *ecb;
	uint8_t k[16];
	int rc = PA_E_CRYPTO;

	if ((ecb = EVP_CIPHER_fetch(uesp_ctx(), "AES-128-ECB", NULL)) == NULL)
		return PA_E_NOTSUP;
	if ((rc = uesp_random(k, sizeof(k))) != 0)
		goto out;
	rc = PA_E_CRYPTO;
	if ((sa->ivctx = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex2(sa->ivctx, ecb, k, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(sa->ivctx, 0))
		goto out;
	rc = 0;
out:
	pa_wipe(k, sizeof(k));
	EVP_CIPHER_free(ecb);
	return rc;
}

int
uesp_sa_iv(struct uesp_sa *sa, uint32_t seq, uint8_t *iv)
{
	uint8_t blk[16], out[32];
	int n;

	if (sa->ivctx == NULL)
		return uesp_random(iv, sa->iv_len);
	memset(blk, 0, sizeof(blk));
	blk[0] = (uint8_t)(seq >> 24);
	blk[1] = (uint8_t)(seq >> 16);
	blk[2] = (uint8_t)(seq >> 8);
	blk[3] = (uint8_t)seq;
	if (!EVP_EncryptUpdate(sa->ivctx, out, &n, blk, 16) || n != 16)
		return PA_E_CRYPTO;
	memcpy(iv, out, sa->iv_len);
	return 0;
}

static int
uesp_sa_setup_mac(struct uesp_sa *sa)
{
	EVP_MAC *mac = NULL;
	OSSL_PARAM params[2];
	const char *dname;
	size_t icv = 0;
	int rc = PA_E_CRYPTO;

	if (sa->p.auth == DRV_AUTH_NONE)
		return sa->p.auth_key_len == 0 ? 0 : PA_E_INVAL;
	if ((dname = uesp_digest_name(sa->p.auth, sa->p.auth_key_len,
	    &icv)) == NULL)
		return PA_E_INVAL;
	if ((mac = EVP_MAC_fetch(uesp_ctx(), "HMAC", NULL)) == NULL)
		return PA_E_NOTSUP;
	if ((sa->mctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)dname, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(sa->mctx, sa->p.auth_key, sa->p.auth_key_len,
	    params))
		goto out;
	sa->icv_len = icv;
	rc = 0;
out:
	EVP_MAC_free(mac);
	return rc;
}

int
uesp_sa_new(const struct sa_id *id, const struct sa_params *p,
    uint64_t now_ms, struct uesp_sa **out)
{
	struct uesp_sa *sa;
	uint32_t window = 0, ring = 0;
	int rc;

	*out = NULL;
	if (p->enc_key_len > sizeof(p->enc_key) ||
	    p->auth_key_len > sizeof(p->auth_key) ||
	    (p->mode != DRV_MODE_TRANSPORT && p->mode != DRV_MODE_TUNNEL) ||
	    (id->src.family != AF_INET && id->src.family != AF_INET6) ||
	    id->src.family != id->dst.family)
		return PA_E_INVAL;
	if (id->proto == DRV_PROTO_AH) {
		if (p->enc != DRV_ENC_NONE || p->auth == DRV_AUTH_NONE)
			return PA_E_INVAL;
	} else if (id->proto == DRV_PROTO_ESP) {
		if (p->enc == DRV_ENC_AES_GCM_16 ? p->auth != DRV_AUTH_NONE :
		    (p->enc == DRV_ENC_NONE && p->auth == DRV_AUTH_NONE))
			return PA_E_INVAL;
	} else
		return PA_E_INVAL;
	if (p->replay_window != 0) {
		window = p->replay_window;
		if (window < UESP_REPLAY_MIN)
			window = UESP_REPLAY_MIN;
		if (window > UESP_REPLAY_MAX)
			window = UESP_REPLAY_MAX;
		if (p->inbound)
			for (ring = 64; ring < window; ring *= 2)
				;
	}
	if ((sa = calloc(1, sizeof(*sa) + ring / 8)) == NULL)
		return PA_E_NOMEM;
	sa->id = *id;
	sa->p = *p;
	sa->window = window;
	sa->ring = ring;
	pthread_mutex_init(&sa->rlock, NULL);
	atomic_init(&sa->seq, 1);
	sa->add_ms = now_ms;
	sa->add_wall = (uint64_t)pa_wall_s();
	if (uesp_ctx() == NULL)
		rc = PA_E_CRYPTO;
	else if ((rc = uesp_sa_setup_cipher(sa)) == 0)
		rc = uesp_sa_setup_mac(sa);
	pa_wipe(sa->p.enc_key, sizeof(sa->p.enc_key));
	pa_wipe(sa->p.auth_key, sizeof(sa->p.auth_key));
	if (rc != 0) {
		uesp_sa_free(sa);
		return rc;
	}
	*out = sa;
	return 0;
}

void
uesp_sa_free(struct uesp_sa *sa)
{
	if (sa == NULL)
		return;
	EVP_CIPHER_CTX_free(sa->cctx);
	EVP_CIPHER_CTX_free(sa->ivctx);
	EVP_MAC_CTX_free(sa->mctx);
	pthread_mutex_destroy(&sa->rlock);
	pa_wipe(sa, sizeof(*sa) + sa->ring / 8);
	free(sa);
}

const struct sa_id *
uesp_sa_id(const struct uesp_sa *sa)
{
	return &sa->id;
}

const struct sa_params *
uesp_sa_params(const struct uesp_sa *sa)
{
	return &sa->p;
}

uint32_t
uesp_sa_replay_window(const struct uesp_sa *sa)
{
	return sa->window;
}

void
uesp_sa_set_seq(struct uesp_sa *sa, uint32_t next)
{
	atomic_store(&sa->seq, next);
}

void
uesp_sa_stats(const struct uesp_sa *sa, struct sa_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->bytes = atomic_load_explicit(&sa->bytes, memory_order_relaxed);
	st->packets = atomic_load_explicit(&sa->packets, memory_order_relaxed);
	st->add_time = sa->add_wall;
	st->use_time = atomic_load_explicit(&sa->use_wall,
	    memory_order_relaxed);
	st->replay_drops = atomic_load_explicit(&sa->replay_drops,
	    memory_order_relaxed);
	st->auth_drops = atomic_load_explicit(&sa->auth_drops,
	    memory_order_relaxed);
	st->decrypt_drops = atomic_load_explicit(&sa->decrypt_drops,
	    memory_order_relaxed);
}

bool
uesp_sa_dead(const struct uesp_sa *sa)
{
	return atomic_load(&sa->hard_fired) != 0;
}

/* Fire the soft or hard event at most once each. */
static enum uesp_life
uesp_sa_fire(struct uesp_sa *sa, bool hard)
{
	int zero = 0;

	if (hard) {
		if (atomic_compare_exchange_strong(&sa->hard_fired, &zero, 1))
			return UESP_LIFE_HARD;
		return UESP_LIFE_OK;
	}
	if (atomic_compare_exchange_strong(&sa->soft_fired, &zero, 1))
		return UESP_LIFE_SOFT;
	return UESP_LIFE_OK;
}

enum uesp_life
uesp_sa_life_check(struct uesp_sa *sa, uint64_t now_ms)
{
	const struct sa_lifetime *l = &sa->p.life;
	uint64_t age = now_ms - sa->add_ms, idle;
	enum uesp_life ev;

	if (l->hard_sec != 0 && age >= (uint64_t)l->hard_sec * 1000)
		return uesp_sa_fire(sa, true);
	if (l->idle_sec != 0) {
		idle = now_ms - atomic_load(&sa->use_ms);
		if (atomic_load(&sa->use_ms) == 0)
			idle = age;
		if (idle >= (uint64_t)l->idle_sec * 1000)
			return uesp_sa_fire(sa, true);
	}
	if (l->hard_bytes != 0 && atomic_load(&sa->bytes) >= l->hard_bytes)
		return uesp_sa_fire(sa, true);
	if (l->soft_sec != 0 && age >= (uint64_t)l->soft_sec * 1000 &&
	    (ev = uesp_sa_fire(sa, false)) != UESP_LIFE_OK)
		return ev;
	if (l->soft_bytes != 0 && atomic_load(&sa->bytes) >= l->soft_bytes)
		return uesp_sa_fire(sa, false);
	return UESP_LIFE_OK;
}

/* Count a packet of inner bytes; returns a byte-lifetime event if any. */
enum uesp_life
uesp_sa_account(struct uesp_sa *sa, size_t len)
{
	const struct sa_lifetime *l = &sa->p.life;
	uint64_t b, now;

	b = atomic_fetch_add_explicit(&sa->bytes, len, memory_order_relaxed) +
	    len;
	atomic_fetch_add_explicit(&sa->packets, 1, memory_order_relaxed);
	now = pa_now_ms();
	if (atomic_load_explicit(&sa->use_ms, memory_order_relaxed) != now) {
		atomic_store_explicit(&sa->use_ms, now, memory_order_relaxed);
		atomic_store_explicit(&sa->use_wall, (uint64_t)pa_wall_s(),
		    memory_order_relaxed);
	}
	if (l->hard_bytes != 0 && b >= l->hard_bytes)
		return uesp_sa_fire(sa, true);
	if (l->soft_bytes != 0 && b >= l->soft_bytes)
		return uesp_sa_fire(sa, false);
	return UESP_LIFE_OK;
}

/* The next outbound sequence number; never wraps (RFC 4303 3.3.3). */
int
uesp_sa_next_seq(struct uesp_sa *sa, uint32_t *seq)
{
	uint64_t s = atomic_fetch_add(&sa->seq, 1);

	if (s > UINT32_MAX || s == 0)
		return PA_E_STATE;
	*seq = (uint32_t)s;
	return 0;
}

/*
 * ICV over up to three pieces (AH: header, AH, payload; ESP: one piece).
 */
int
uesp_sa_icv(struct uesp_sa *sa, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, const uint8_t *c, size_t clen,
    uint8_t icv[static UESP_ICV_MAX])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t n = 0;

	if (!EVP_MAC_init(sa->mctx, NULL, 0, NULL) ||
	    (alen > 0 && !EVP_MAC_update(sa->mctx, a, alen)) ||
	    (blen > 0 && !EVP_MAC_update(sa->mctx, b, blen)) ||
	    (clen > 0 && !EVP_MAC_update(sa->mctx, c, clen)) ||
	    !EVP_MAC_final(sa->mctx, full, &n, sizeof(full)) ||
	    n < sa->icv_len)
		return PA_E_CRYPTO;
	memcpy(icv, full, sa->icv_len);
	return 0;
}

/*
 * En- or decrypt len bytes from in to out (in == out allowed; the SA's
 * direction decides). CBC: iv is iv_len bytes. GCM: iv is the 8-byte
 * explicit IV, aad is authenticated, and tag (16 bytes) is written on
 * encryption and checked on decryption (PA_E_VERIFY on mismatch).
 */
int
uesp_sa_cipher(struct uesp_sa *sa, const uint8_t *iv, const uint8_t *aad,
    size_t aadlen, const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag)
{
	uint8_t nonce[12], fbuf[EVP_MAX_BLOCK_LENGTH];
	int n, fin, enc = !sa->p.inbound;

	if (sa->cctx == NULL) {
		if (len > 0 && in != out)
			memcpy(out, in, len);
		return 0;
	}
	if (len > INT32_MAX)
		return PA_E_INVAL;
	if (sa->aead) {
		memcpy(nonce, sa->salt, 4);
		memcpy(&nonce[4], iv, 8);
		if (!EVP_CipherInit_ex2(sa->cctx, NULL, NULL, nonce, enc, NULL))
			return PA_E_CRYPTO;
		if (!EVP_CipherUpdate(sa->cctx, NULL, &n, aad, (int)aadlen))
			return PA_E_CRYPTO;
		if (!enc && !EVP_CIPHER_CTX_ctrl(sa->cctx,
		    EVP_CTRL_AEAD_SET_TAG, 16, tag))
			return PA_E_CRYPTO;
	} else if (!EVP_CipherInit_ex2(sa->cctx, NULL, NULL, iv, enc, NULL))
		return PA_E_CRYPTO;
	if (len > 0 && !EVP_CipherUpdate(sa->cctx, out, &n, in, (int)len))
		return PA_E_CRYPTO;
	if (!EVP_CipherFinal_ex(sa->cctx, fbuf, &fin) || fin != 0)
		return sa->aead && !enc ? PA_E_VERIFY : PA_E_CRYPTO;
	if (sa->aead && enc && !EVP_CIPHER_CTX_ctrl(sa->cctx,
	    EVP_CTRL_AEAD_GET_TAG, 16, tag))
		return PA_E_CRYPTO;
	return 0;
}

/* The sequence number space is used up: the SA is hard-expired. */
enum uesp_life
uesp_sa_exhausted(struct uesp_sa *sa)
{
	return uesp_sa_fire(sa, true);
}

/* Ring bitmap: bit (seq mod ring). */
static bool
uesp_bit(const struct uesp_sa *sa, uint32_t seq)
{
	uint32_t i = seq & (sa->ring - 1);

	return (sa->bitmap[i / 64] >> (i % 64)) & 1;
}

/* A cheap check before the ICV: could seq be new? */
bool
uesp_replay_check(struct uesp_sa *sa, uint32_t seq)
{
	bool ok;

	if (sa->ring == 0)
		return true;
	if (seq == 0)
		return false;
	pthread_mutex_lock(&sa->rlock);
	if (seq > sa->top)
		ok = true;
	else if (sa->top - seq >= sa->window)
		ok = false;
	else
		ok = !uesp_bit(sa, seq);
	pthread_mutex_unlock(&sa->rlock);
	return ok;
}

/* After the ICV verified: record seq; false if it turned out replayed. */
bool
uesp_replay_update(struct uesp_sa *sa, uint32_t seq)
{
	uint32_t i, s;
	bool ok = true;

	if (sa->ring == 0)
		return true;
	if (seq == 0)
		return false;
	pthread_mutex_lock(&sa->rlock);
	if (seq > sa->top) {
		if (seq - sa->top >= sa->ring)
			memset(sa->bitmap, 0, sa->ring / 8);
		else
			for (s = sa->top + 1; s != seq; s++) {
				i = s & (sa->ring - 1);
				sa->bitmap[i / 64] &= ~(1ULL << (i % 64));
			}
		sa->top = seq;
	} else if (sa->top - seq >= sa->window || uesp_bit(sa, seq))
		ok = false;
	if (ok) {
		i = seq & (sa->ring - 1);
		sa->bitmap[i / 64] |= 1ULL << (i % 64);
	}
	pthread_mutex_unlock(&sa->rlock);
	return ok;
}
