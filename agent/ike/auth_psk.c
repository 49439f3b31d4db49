/*
 * Preshared key authentication (RFC 2409 5.4) as a Main Mode method
 * (ike_auth.h): SKEYID = prf(key, Ni_b | Nr_b), MM #5 / #6 carry the ID
 * and HASH_I / HASH_R in the clear (inside the encrypted message), and
 * the peer is who knows the key: its ID is only reported.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike_auth.h"
#include "ike_exch.h"

/* The rule's first preshared key method has the key. */
static bool
psk_has_key(const struct ike_mm *mm)
{
	return mm->rule.psk != NULL;
}

static int
psk_skeyid(const struct ike_mm *mm, struct pa_bytes gxy, uint8_t *out)
{
	struct pa_bytes ni = { mm->ni, mm->ni_len }, nr = { mm->nr, mm->nr_len };
	struct pa_bytes psk = { mm->rule.psk->p, mm->rule.psk->len };

	(void)gxy;
	return oak_skeyid_psk(mm->p1.hash, psk, ni, nr, out);
}

static int
psk_write_proof(struct ike *ike, struct ike_mm *mm, struct wr *w,
    struct isk_chain *c, const uint8_t *hash, size_t hl)
{
	(void)ike;
	(void)mm;
	return isk_pl_data(w, c, ISK_PL_HASH, hash, hl);
}

static int
psk_check(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m,
    const struct isk_id *id, struct pa_bytes proof, const uint8_t *want,
    size_t hl, char *why, size_t whylen)
{
	(void)ike;
	(void)m;
	(void)why;
	(void)whylen;
	if (proof.len != hl || CRYPTO_memcmp(proof.p, want, hl) != 0)
		return PA_E_VERIFY;
	(void)ike_id_text(id, mm->peer_id, sizeof(mm->peer_id));
	return 0;
}

static void
psk_identity(const struct ike_mm *mm, bool established, const char *pa,
    char *out, size_t cap)
{
	if (established)
		snprintf(out, cap, "Preshared key ID. Peer IP Address: %s (ID "
		    "%s)", pa, mm->peer_id);
	else
		snprintf(out, cap, "Preshared key ID. Peer IP Address: %s", pa);
}

const struct ike_auth_ops ike_auth_psk = {
	.method		= ISK_AUTH_PSK,
	.proof_pl	= ISK_PL_HASH,
	.bad_proof	= IKE_PSK_DIFFERENT,
	.has_key	= psk_has_key,
	.skeyid		= psk_skeyid,
	.write_proof	= psk_write_proof,
	.check		= psk_check,
	.identity	= psk_identity,
};
