/*
 * Main Mode authentication methods behind one interface. main_mode.c runs
 * the exchange (which message comes in which state) and asks the method
 * negotiated (mm->p1.auth) for what only it knows:
 *
 *	MM #1 / #2	unusable, peer_may_offer, r_chosen, r_write_xform,
 *			write_vids, i_chosen (the SA attributes of all
 *			methods are written and read by mm_krb.c)
 *	MM #3 / #4	write_ke, take_ke (beside KE and the nonce)
 *	keys		has_key, skeyid, hash_more (HASH_I / HASH_R inputs)
 *	MM #5 / #6	write_id, write_proof, proof_pl, check
 *	reporting	identity, bad_proof, notify_reason
 *	asynchronous	i_chosen (may hand the exchange to a worker thread and
 *			send MM #3 later), retry, release
 *
 * A NULL hook does nothing (or the default named at the hook). One file
 * each: auth_psk.c (preshared key), auth_cert.c (RSA signatures with
 * certificates), auth_krb.c (Kerberos, GSS-API).
 */
#ifndef PA_IKE_AUTH_H
#define PA_IKE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isakmp.h"
#include "pa_buf.h"

struct ike;
struct ike_mm;

struct ike_auth_ops {
	uint16_t	 method;	/* ISK_AUTH_* */
	/* The payload of MM #5 / #6 that carries the peer's proof. */
	uint8_t		 proof_pl;	/* ISK_PL_HASH or ISK_PL_SIG */
	/* An authentication failure's reason when check() gives none. */
	const char	*bad_proof;

	/*
	 * Why a rule with this method cannot negotiate it now (reported as
	 * a 547 when we initiate / when no proposal was chosen as
	 * responder), or NULL.
	 */
	const char	*(*unusable)(struct ike *, bool initiator);
	/* Responder, MM #1: may the peer's transforms with it be chosen? */
	bool	(*peer_may_offer)(const struct isk_msg *mm1);
	/* Responder: transform x with this method was chosen (MM #1). */
	int	(*r_chosen)(struct ike *, struct ike_mm *,
		    const struct isk_xform *x) PA_MUST_USE;
	/* Responder, MM #2: our transform (NULL: the peer's one as sent). */
	int	(*r_write_xform)(struct ike *, struct ike_mm *, struct wr *,
		    const struct isk_xform *chosen) PA_MUST_USE;
	/*
	 * The vendor IDs that announce the method: in MM #1 after ours
	 * (once however many offers use it), in MM #2 before ours.
	 */
	int	(*write_vids)(struct wr *, struct isk_chain *) PA_MUST_USE;
	/*
	 * Initiator, MM #2 chose it in transform x: go on to MM #3, now or
	 * later (NULL: ike_mm_send3 now). Failures end the Main Mode here.
	 */
	void	(*i_chosen)(struct ike *, struct ike_mm *,
		    const struct isk_xform *x);
	/* MM #3 / #4: our payloads after KE and the nonce. */
	int	(*write_ke)(struct ike *, struct ike_mm *, struct wr *,
		    struct isk_chain *) PA_MUST_USE;
	/*
	 * MM #3 / #4: what the peer sent beside KE and its nonce. Not 0:
	 * drop the packet (PA_E_FORMAT counted as invalid); the method ends
	 * the Main Mode itself when the peer is refused.
	 */
	int	(*take_ke)(struct ike *, struct ike_mm *,
		    const struct isk_msg *) PA_MUST_USE;
	/* Is what SKEYID needs at hand (NULL: yes)? */
	bool	(*has_key)(const struct ike_mm *);
	/* SKEYID (RFC 2409 5) from g^xy and the nonces. */
	int	(*skeyid)(const struct ike_mm *, struct pa_bytes gxy,
		    uint8_t *out) PA_MUST_USE;
	/*
	 * HASH_I (initiator) / HASH_R: inputs after the ID body, into
	 * v[*n...] (at most 2).
	 */
	int	(*hash_more)(const struct ike_mm *, bool initiator,
		    struct pa_bytes *v, size_t *n) PA_MUST_USE;
	/* MM #5 / #6: our ID payload body (NULL: address or unique FQDN). */
	int	(*write_id)(struct ike *, struct ike_mm *, struct wr *)
		    PA_MUST_USE;
	/* MM #5 / #6: our proof after the ID, from HASH_I / HASH_R. */
	int	(*write_proof)(struct ike *, struct ike_mm *, struct wr *,
		    struct isk_chain *, const uint8_t *hash, size_t hl)
		    PA_MUST_USE;
	/*
	 * The peer's proof (the proof_pl payload) against want, the
	 * HASH_I / HASH_R we expect over its ID; sets mm->peer_id. Not 0:
	 * PA_E_VERIFY (545) or PA_E_PERM (544, certificate trust) with a
	 * reason in why, or a malformed message.
	 */
	int	(*check)(struct ike *, struct ike_mm *, const struct isk_msg *,
		    const struct isk_id *, struct pa_bytes proof,
		    const uint8_t *want, size_t hl, char *why, size_t whylen)
		    PA_MUST_USE;
	/*
	 * The Peer Identity of audit events: of an established Main Mode
	 * (established) or of one whose authentication failed. pa: the
	 * peer's address.
	 */
	void	(*identity)(const struct ike_mm *, bool established,
		    const char *pa, char *out, size_t cap);
	/* An unprotected failure notify: add what the method knows to r. */
	void	(*notify_reason)(const struct ike_mm *, const struct isk_msg *,
		    char *r, size_t cap);
	/* Initiator, the Main Mode failed: try the rule without it. */
	void	(*retry)(struct ike *, struct ike_mm *);
	/* The Main Mode is established or failed: drop the method's state. */
	void	(*release)(struct ike *, struct ike_mm *);
};

extern const struct ike_auth_ops	ike_auth_psk;	/* auth_psk.c */
extern const struct ike_auth_ops	ike_auth_cert;	/* auth_cert.c */
extern const struct ike_auth_ops	ike_auth_krb;	/* auth_krb.c */

/* The method's operations; preshared key for any other value. */
const struct ike_auth_ops	*ike_auth_for(uint16_t method);

#endif
