/*
 * The bottom of agent/ike/ (private): what a negotiation takes from the
 * policy model (sel.c: rules, phase 1 and 2 offers, IDs) and the
 * certificate store (auth_cert.c). Knows nothing of SAs.
 */
#ifndef PA_IKE_POLICY_H
#define PA_IKE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "ike.h"
#include "isakmp.h"
#include "model.h"
#include "pa_addr.h"
#include "pa_buf.h"
#include "pa_secret.h"

struct ike;

/* Phase 1 transform values (negotiated or offered). */
struct ike_p1 {
	uint16_t	enc;		/* ISK_ENC_* */
	uint16_t	keylen;		/* bytes */
	uint16_t	hash;		/* ISK_HASH_* */
	uint16_t	auth;		/* ISK_AUTH_* */
	uint16_t	group;
	uint32_t	life_sec;
	uint32_t	life_kb;
	uint32_t	qm_limit;
};
/* One side of a Quick Mode selector. */
struct ike_ts {
	struct pa_prefix	net;
	uint8_t			proto;
	uint16_t		port;
};
/* What one Quick Mode SA bundle uses. */
struct ike_p2 {
	bool			ah;
	uint16_t		ah_integ;	/* enum pol_integ */
	bool			esp;
	uint16_t		esp_cipher;	/* enum pol_esp_cipher */
	uint16_t		esp_integ;	/* enum pol_integ */
	uint16_t		group;		/* PFS, 0 = none */
	uint32_t		life_sec;
	uint32_t		life_kb;
	bool			tunnel;
	uint8_t			propnum;	/* the proposal number chosen */
	uint8_t			natt;		/* UDP encapsulation: 0, 1 RFC, 2 draft */
	bool			life_cut;	/* shorter than the peer proposed */
};
/* A copy of what a rule says, kept by negotiations (policy may change). */
struct ike_rulecopy {
	char			 name[64];
	struct pa_guid		 id;
	struct pa_secret	*psk;		/* first PSK auth method, or NULL */
	uint16_t		 auths[POL_MAX_AUTHS];	/* ISK_AUTH_*, in order */
	size_t			 nauths;
	/*
	 * The CA each certificate method names (RFC 2253 text), or NULL
	 * when it takes any trusted CA; parallel to auths (NULL for other
	 * methods). A peer's certificate is good under any of them.
	 */
	char			*ca_dns[POL_MAX_AUTHS];
	/*
	 * A certificate method asks for certificate-to-account mapping
	 * (netsh's certmap:yes, or the policy's ISAKMP-Options bit 1): the
	 * peer's certificate must then map to an enabled computer account.
	 * Any one method asking makes the rule ask (the stricter reading).
	 */
	bool			 certmap;
	struct pol_qm_offer	*offers;	/* all of the filter action's */
	size_t			 noffers;
	uint16_t		 pfs_group;	/* 0 = MM group */
	bool			 tunnel;
	struct pa_addr		 tunnel_peer;
	bool			 soft;
	bool			 inpass;	/* accept inbound clear text */
	bool			 master_pfs;
	uint32_t		 qm_per_mm;
	/*
	 * Where what is negotiated under this rule stands in the driver
	 * (pol_spd_prio of the filter entry that chose the rule): its SA
	 * entries and its soft associations. default_rule: the default
	 * response rule chose it (no filter; see pol_spd_prio_default).
	 */
	uint32_t		 prio_sa;
	uint32_t		 prio_soft;
	bool			 default_rule;
};
/* auth_cert.c: the certificate store (our certificate and key, trusted CAs). */
struct ike_creds;
int	ike_creds_load(const struct ike_cfg *, struct ike_creds **) PA_MUST_USE;
void	ike_creds_free(struct ike_creds *);
bool	ike_creds_can_sign(const struct ike_creds *);
struct pa_bytes	ike_creds_cert(const struct ike_creds *);	/* DER */
/* The CA certificates after ours in cert_file (DER), sent after it. */
#define IKE_MAX_CHAIN	8
size_t	ike_creds_nchain(const struct ike_creds *);
struct pa_bytes	ike_creds_chain(const struct ike_creds *, size_t i);
struct pa_bytes	ike_creds_dn(const struct ike_creds *);	/* DER subject */
/* DER DN of the trusted CA named dn (RFC 4514), for CR payloads. */
int	ike_creds_ca_der(const struct ike_creds *, const char *dn, uint8_t **,
	    size_t *) PA_MUST_USE;
int	ike_cert_sign(const struct ike_creds *, const uint8_t *hash, size_t hl,
	    uint8_t *sig, size_t cap, size_t *siglen) PA_MUST_USE;
/* Where the distribution points of a verified chain go (ike_cfg). */
struct ike_crl_want {
	void	(*fn)(void *arg, const char *uri);
	void	*arg;
};
/* A peer's certificates, kept while its Main Mode SA lives. */
struct ike_peer_certs;
/*
 * Check a peer: cert chains to a trusted CA, with the intermediate CA
 * certificates im it sent, and a CA of that chain is named by one of
 * ca_dns (any when nca is 0; else PA_E_PERM: event 544), the ID names the
 * cert and the signature over hash verifies (else PA_E_VERIFY: event
 * 545). subject gets the cert's subject. The CRL distribution points of
 * a chain that verifies (but, at level 2, for a CRL not at hand) go to
 * cw (may be NULL); on success *keep (may be NULL) gets the certificates.
 */
int	ike_cert_verify_peer(const struct ike_creds *,
	    const char *const *ca_dns, size_t nca, struct pa_bytes cert,
	    const struct pa_bytes *im, size_t nim,
	    const struct isk_id *, const uint8_t *hash,
	    size_t hl, struct pa_bytes sig, const struct ike_crl_want *cw,
	    struct ike_peer_certs **keep, char *subject, size_t sublen,
	    char *why, size_t whylen) PA_MUST_USE;
void	ike_peer_certs_free(struct ike_peer_certs *);	/* NULL is a no-op */
/* The names the directory may know the peer's certificate by (ike.h). */
int	ike_peer_certs_mapreq(const struct ike_peer_certs *,
	    struct ike_certmap_req *) PA_MUST_USE;
/* Does a CRL at hand now list the peer's certificate (level 1 or 2)? */
bool	ike_peer_certs_revoked(const struct ike_creds *,
	    const struct ike_peer_certs *);
/*
 * The domain's enterprise CA certificates (DER), trusted as the ones of
 * ca_file are, replacing the last set; returns how many parsed.
 */
int	ike_creds_set_domain_cas(struct ike_creds *, const struct pa_bytes *,
	    const bool *anchor, size_t n) PA_MUST_USE;
size_t	ike_creds_ndims(const struct ike_creds *);	/* NULL: 0 */
/* The CRLs from the distribution points (DER), replacing the last set. */
int	ike_creds_set_crls(struct ike_creds *, const struct pa_bytes *,
	    size_t) PA_MUST_USE;
/* sel.c: rules and proposals from the policy model. */
int	ike_rule_for_peer(const struct ike *, const struct pa_addr *peer,
	    struct ike_rulecopy *) PA_MUST_USE;
/*
 * As responder: the rule for a peer's Quick Mode IDs (remote -> local).
 * With a compiled SPD, the entry that holds their traffic decides, as
 * for the driver's packets (most specific filter first; a permit or block
 * filter refuses; a tunnel rule only for its own peer); without one, the
 * first rule whose filter holds them. Then the default response rule if
 * activated. *why says why not (a static string).
 */
int	ike_rule_for_ids(const struct ike *, const struct pa_addr *peer,
	    const struct ike_ts *remote, const struct ike_ts *local,
	    struct ike_rulecopy *, const char **why) PA_MUST_USE;
int	ike_rule_for_pkt(const struct ike *, const struct drv_sel *pkt,
	    const struct pol_spd_entry *, struct ike_rulecopy *,
	    struct ike_ts *l, struct ike_ts *r) PA_MUST_USE;
void	ike_rulecopy_clear(struct ike_rulecopy *);
/*
 * Leave out the AES-GCM offers of c (for a driver without DRV_F_GCM);
 * returns how many went.
 */
size_t	ike_rulecopy_drop_gcm(struct ike_rulecopy *c);
int	ike_rulecopy_dup(struct ike_rulecopy *, const struct ike_rulecopy *)
	    PA_MUST_USE;
/* The ISAKMP policy's methods as phase 1 offers. */
size_t	ike_p1_offers(const struct ike *, const struct ike_rulecopy *,
	    struct ike_p1 *, size_t cap);
int	ike_p1_from_xform(const struct isk_xform *, struct ike_p1 *) PA_MUST_USE;
bool	ike_p1_eq(const struct ike_p1 *, const struct ike_p1 *);
const char	*ike_p1_str(const struct ike_p1 *, char *, size_t);
/*
 * For reports (Oakley log, 546/547): phase 1 offers as one line, and the
 * peer's phase 1 transforms (props[0]) read with conv (NULL: the plain
 * reading), values we do not support shown as numbers.
 */
const char	*ike_p1_list_str(const struct ike_p1 *, size_t n, char *, size_t);
const char	*ike_p1_peer_str(const struct isk_sa *,
	    int (*conv)(const struct isk_xform *, struct ike_p1 *), char *,
	    size_t);
/* Write an SA payload body (DOI onwards) for phase 1 offers. */
int	ike_p1_write_sa(struct wr *, const struct ike_p1 *, size_t n) PA_MUST_USE;
/*
 * The same, and one transform payload (number num) on the chain xfs, with
 * extra (may be NULL) adding attributes after the lifetime of each
 * transform (the Kerberos method: its GSS Identity, mm_krb.c).
 */
typedef int	(*ike_p1_attr_fn)(struct wr *, const struct ike_p1 *, void *);
int	ike_p1_write_sa_with(struct wr *, const struct ike_p1 *, size_t n,
	    ike_p1_attr_fn extra, void *arg) PA_MUST_USE;
int	ike_p1_write_xform(struct wr *, struct isk_chain *xfs,
	    const struct ike_p1 *, uint8_t num, ike_p1_attr_fn extra,
	    void *arg) PA_MUST_USE;
/* Phase 2: write proposals for the rule's offers / a chosen bundle. */
int	ike_p2_write_sa(struct wr *, const struct ike_rulecopy *, uint16_t mm_group,
	    uint32_t esp_spi, uint32_t ah_spi, bool tunnel, uint8_t natt)
	    PA_MUST_USE;
int	ike_p2_write_one(struct wr *, const struct ike_p2 *, uint8_t propnum,
	    uint32_t esp_spi, uint32_t ah_spi) PA_MUST_USE;
/*
 * Responder: choose the first of our offers (in order) that one of the
 * peer's proposals matches. *esp_out / *ah_out get the peer's SPIs.
 */
int	ike_p2_select(const struct isk_sa *, const struct ike_rulecopy *,
	    uint16_t mm_group, bool tunnel, struct ike_p2 *, uint32_t *esp_out,
	    uint32_t *ah_out, char *why, size_t whylen) PA_MUST_USE;
/* Initiator: parse the responder's choice and check it was offered. */
int	ike_p2_accept(const struct isk_sa *, const struct ike_rulecopy *,
	    uint16_t mm_group, bool tunnel, struct ike_p2 *, uint32_t *esp_out,
	    uint32_t *ah_out) PA_MUST_USE;
const char	*ike_p2_str(const struct ike_p2 *, char *, size_t);
/*
 * For reports: the rule's Quick Mode offers (pol_offer_format, then the
 * PFS group and the mode) and the peer's proposals in the same form.
 */
const char	*ike_p2_offers_str(const struct ike_rulecopy *, uint16_t mm_group,
	    bool tunnel, char *, size_t);
const char	*ike_p2_peer_str(const struct isk_sa *, char *, size_t);
/* IDs. */
int	ike_ts_write(struct wr *, const struct ike_ts *) PA_MUST_USE;
int	ike_ts_from_id(const struct isk_id *, struct ike_ts *) PA_MUST_USE;
bool	ike_ts_eq(const struct ike_ts *, const struct ike_ts *);
/* An ID as text for logs and audit events (address, prefix or name). */
int	ike_id_text(const struct isk_id *, char *, size_t);

#endif
