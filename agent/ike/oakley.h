/*
 * Oakley crypto for IKEv1 (RFC 2409), on OpenSSL 3 EVP only: Diffie-Hellman
 * (MODP groups 1, 2, 14 and ECP groups 19, 20), the HMAC PRFs, SKEYID and
 * its derivatives, Appendix B key expansion, IVs, Quick Mode KEYMAT and
 * CBC encryption of ISAKMP bodies.
 *
 * Peer public value validation (docs/ike.md): MODP values must satisfy
 * 1 < y < p-1 (this rules out the degenerate values 0, 1 and p-1 that
 * would force a known shared secret); the full subgroup check y^q = 1 is
 * not done: the MODP groups are safe primes (p = 2q + 1), so past that
 * range check a hostile value can at most reveal the low bit of an
 * exponent that is ephemeral (fresh per exchange and wiped), and the
 * exchange is authenticated afterwards (docs/ike.md).
 * ECP points are checked to lie on the curve (cheap, and required: an
 * invalid-curve point would leak the private key).
 *
 * Buffers that held keys are wiped; secrets are returned in caller buffers
 * the caller must wipe (pa_wipe) or in struct pa_secret.
 */
#ifndef PA_IKE_OAKLEY_H
#define PA_IKE_OAKLEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"
#include "pa_err.h"

#define OAK_MAX_HASH	32	/* SHA-256 */
#define OAK_MAX_KEY	32	/* AES-256 */
#define OAK_MAX_BLOCK	16
#define OAK_MAX_DH	384	/* MODP-2048 (256) and ECP-384 (96) fit */

/* Hash / PRF by IKE phase 1 hash number (ISK_HASH_*). */
size_t	oak_hash_len(uint16_t hash);		/* 0 if unsupported */
/* Cipher by IKE phase 1 number (ISK_ENC_*) and key length in bytes. */
size_t	oak_block_len(uint16_t enc);		/* 0 if unsupported */
/* Key length in bytes for enc (keylen_bits for AES; 0 = invalid). */
size_t	oak_key_len(uint16_t enc, uint16_t keylen_bits);

/*
 * A PRF keyed once, for many messages under one key (the DoS cookies):
 * oak_prf_keyed() gives what oak_prf() would. NULL on failure.
 */
void	*oak_prf_key(uint16_t hash, const void *key, size_t keylen);
int	oak_prf_keyed(void *keyed, const struct pa_bytes *, size_t n,
	    uint8_t *out) PA_MUST_USE;
void	oak_prf_key_free(void *keyed);
/* prf(key, data[0] | data[1] | ...): HMAC with the given hash. */
int	oak_prf(uint16_t hash, const void *key, size_t keylen,
	    const struct pa_bytes *data, size_t ndata, uint8_t *out)
	    PA_MUST_USE;
/* hash(data[0] | ...). */
int	oak_hash(uint16_t hash, const struct pa_bytes *data, size_t ndata,
	    uint8_t *out) PA_MUST_USE;

/* Diffie-Hellman. */
struct oak_dh;
/* A fresh key pair for the group (wire number). */
int	oak_dh_new(uint16_t group, struct oak_dh **out) PA_MUST_USE;
void	oak_dh_free(struct oak_dh *);		/* wipes; NULL ok */
/* Our public value as it goes in KE (MODP: padded to p; ECP: x|y). */
struct pa_bytes	oak_dh_pub(const struct oak_dh *);
/* Length of KE data for the group, or 0 if unsupported. */
size_t	oak_dh_len(uint16_t group);
/*
 * The shared secret g^xy (MODP: padded to p; ECP: x only) into out
 * (cap >= oak_dh_len); *outlen set. PA_E_VERIFY for an invalid peer value.
 */
int	oak_dh_derive(struct oak_dh *, struct pa_bytes peer, uint8_t *out,
	    size_t cap, size_t *outlen) PA_MUST_USE;

/* SKEYID for preshared keys: prf(psk, Ni_b | Nr_b). */
int	oak_skeyid_psk(uint16_t hash, struct pa_bytes psk, struct pa_bytes ni,
	    struct pa_bytes nr, uint8_t *out) PA_MUST_USE;
/* SKEYID for signatures (and GSS): prf(Ni_b | Nr_b, g^xy). */
int	oak_skeyid_sig(uint16_t hash, struct pa_bytes ni, struct pa_bytes nr,
	    struct pa_bytes gxy, uint8_t *out) PA_MUST_USE;
/* SKEYID_d, _a, _e from SKEYID (each hash-length). */
int	oak_skeyid_dae(uint16_t hash, const uint8_t *skeyid, struct pa_bytes gxy,
	    const uint8_t cky_i[8], const uint8_t cky_r[8], uint8_t *d,
	    uint8_t *a, uint8_t *e) PA_MUST_USE;
/* The phase 1 cipher key from SKEYID_e (RFC 2409 App. B expansion). */
int	oak_enc_key(uint16_t hash, const uint8_t *skeyid_e, size_t keylen,
	    uint8_t *out) PA_MUST_USE;
/* Phase 1 IV: hash(g^xi | g^xr) truncated to the block. */
int	oak_iv_p1(uint16_t hash, struct pa_bytes gxi, struct pa_bytes gxr,
	    size_t block, uint8_t *iv) PA_MUST_USE;
/* Phase 2 / informational IV: hash(last phase 1 block | M-ID). */
int	oak_iv_p2(uint16_t hash, const uint8_t *last, size_t block,
	    uint32_t msgid, uint8_t *iv) PA_MUST_USE;
/*
 * Quick Mode KEYMAT: prf(SKEYID_d, [g^xy |] protocol | SPI | Ni_b | Nr_b),
 * expanded to outlen (K1 | K2 ..., K(n+1) = prf(SKEYID_d, Kn | ...)).
 * gxy.len = 0 without PFS; spi in network order.
 */
int	oak_keymat(uint16_t hash, const uint8_t *skeyid_d, struct pa_bytes gxy,
	    uint8_t proto, uint32_t spi, struct pa_bytes ni, struct pa_bytes nr,
	    uint8_t *out, size_t outlen) PA_MUST_USE;

/*
 * CBC in place over buf[0..len) (len a multiple of the block). iv is the
 * chaining value: on return it holds the last ciphertext block (what the
 * next message of the exchange chains from).
 */
int	oak_cbc(uint16_t enc, const uint8_t *key, size_t keylen, uint8_t *iv,
	    uint8_t *buf, size_t len, bool encrypt) PA_MUST_USE;

/* Random bytes (RAND_bytes). */
int	oak_random(void *, size_t) PA_MUST_USE;

#endif
