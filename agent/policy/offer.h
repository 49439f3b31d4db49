/*
 * The qmsecmethods syntax of Quick Mode offers, as an administrator types
 * it (modelled on netsh ipsec static, extended with AES, SHA256 and
 * AES-GCM):
 *
 *   offers  = offer *(" " offer)
 *   offer   = part ["+" part] [":" life]
 *   part    = "AH[" HASH "]" | "ESP[" CIPHER "," HASH "]" | "ESP[" GCM "]"
 *   life    = N ("s" | "k" | "kb") ["/" N ("s" | "k" | "kb")]
 *
 * HASH: MD5, SHA1, SHA256 (NONE inside ESP). CIPHER: NONE, DES, 3DES,
 * AES128, AES192, AES256. GCM: AESGCM128, AESGCM192, AESGCM256 (RFC 4106,
 * 16-octet ICV: integrity is the cipher's, so no HASH, or NONE).
 * Names are case-insensitive. Defaults: 3600 s, 100000 KB, no PFS.
 */
#ifndef PA_POLICY_OFFER_H
#define PA_POLICY_OFFER_H

#include <stddef.h>

#include "model.h"

/*
 * Parse spec into a new array *out of *n offers (malloc'd, caller frees).
 * On failure *out is untouched and what (cap bytes) says why, beginning
 * with "qmsecmethods: ". Returns 0, PA_E_INVAL or PA_E_NOMEM.
 */
int	pol_offers_parse(const char *spec, struct pol_qm_offer **out,
	    size_t *n, char *what, size_t cap) PA_MUST_USE;

/*
 * One offer in the same syntax (with both lifetimes, then " (PFS)" when
 * it asks for PFS): "AH[SHA1]+ESP[3DES,SHA1]:3600s/100000kb",
 * "ESP[AESGCM128]:3600s/100000kb". Parsing the text without " (PFS)"
 * gives the offer back.
 */
void	pol_offer_format(const struct pol_qm_offer *, char *buf, size_t cap);

#endif
