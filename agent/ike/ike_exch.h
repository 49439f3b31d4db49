/*
 * The exchanges of agent/ike/ (private): Main Mode (main_mode.c, over
 * the authentication methods of ike_auth.h), Quick Mode (quick_mode.c),
 * informational exchanges (info.c), soft associations (soft.c) and
 * Kerberos's engine part (mm_krb.c). Above the transport; engine.c
 * dispatches to them.
 */
#ifndef PA_IKE_EXCH_H
#define PA_IKE_EXCH_H

#include "ike_wire.h"

/*
 * A message of this Main Mode SA passed its HASH: the peer is alive
 * (DPD), and if it came from the NAT-T port while we still send to 500,
 * we follow it there.
 */
void	ike_mm_authentic(struct ike *, struct ike_mm *);
/* The soft lifetime (rekey) of a Quick Mode's SAs, seconds after add. */
uint32_t	ike_qm_soft_sec(const struct ike_qm *);
#define IKE_MM_MODE	"Key Exchange Mode (Main Mode)"
int	ike_mm_initiate(struct ike *, const struct pa_addr *peer,
	    const struct ike_rulecopy *, struct ike_mm **) PA_MUST_USE;
void	ike_mm_input(struct ike *, int sock, const struct pa_addr *from,
	    uint16_t port, const struct isk_hdr *, struct pa_bytes body,
	    const uint8_t *pkt, size_t len);
/* An unprotected informational for a Main Mode SA being negotiated. */
void	ike_mm_plain_notify(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body);
/*
 * An encrypted informational for a Main Mode not yet established (the
 * initiator waiting for MM #6 with a preshared key; dropped otherwise).
 */
void	ike_mm_early_info(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body);
/* What a preshared key failure says (Oakley log, 545/547); never the key. */
#define IKE_PSK_DIFFERENT	"the preshared key is probably different at " \
	"the peer"
/* For the authentication methods (ike_auth.h), through struct ike_up. */
/* End a Main Mode: 547 (point: "Me" or "Peer"), then the method's retry. */
void	ike_mm_fail(struct ike *, struct ike_mm *, const char *point,
	    const char *reason);
/* Initiator: MM #1 with mm->offers / MM #3 (KE, Ni and the method's). */
int	ike_mm_send1(struct ike *, struct ike_mm *) PA_MUST_USE;
int	ike_mm_send3(struct ike *, struct ike_mm *) PA_MUST_USE;
int	ike_qm_initiate(struct ike *, struct ike_mm *, const struct ike_ts *l,
	    const struct ike_ts *r, uint32_t reqid, const struct ike_rulecopy *)
	    PA_MUST_USE;
void	ike_qm_input(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body, const uint8_t *pkt, size_t len);
void	ike_qm_expire(struct ike *, const struct sa_id *, uint64_t cookie,
	    bool hard);
void	ike_info_input(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body, const uint8_t *pkt, size_t len);
/*
 * An unprotected notify (ISAKMP SPI = CKY-I | spi_cky_r, optional data)
 * under a header with cookies cky_i | hdr_cky_r, into buf.
 */
int	ike_notify_plain_msg(uint8_t *buf, size_t cap, const uint8_t cky_i[8],
	    const uint8_t hdr_cky_r[8], const uint8_t spi_cky_r[8],
	    uint16_t type, const uint8_t *data, size_t dlen, size_t *len)
	    PA_MUST_USE;
void	ike_notify_plain(struct ike *, int sock, const struct pa_addr *peer,
	    uint16_t port, const uint8_t cky_i[8], const uint8_t cky_r[8],
	    uint16_t type);
/* Protected informational with one notify or delete. */
void	ike_notify_prot(struct ike *, struct ike_mm *, uint8_t proto,
	    uint16_t type, const uint8_t *spi, size_t spilen);
/* R-U-THERE with sequence number seq (RFC 3706). */
void	ike_dpd_send(struct ike *, struct ike_mm *, uint32_t seq);
/* The peer of mm showed it is alive (any authenticated message). */
void	ike_dpd_alive(struct ike *, struct ike_mm *);
void	ike_delete_send(struct ike *, struct ike_mm *, uint8_t proto,
	    const uint8_t *spis, size_t spi_size, size_t nspi);
/* Delete for the inbound SPIs of qm, over its Main Mode SA if in place. */
void	ike_qm_delete_send(struct ike *, const struct ike_qm *);
/*
 * mm_krb.c: Kerberos (GSS-API, method 65001) for Main Mode; see ike_krb.h
 * for the engine's public part.
 */
struct ike_gss_cred;
struct ike_gss_ctx;
struct ike_gss_err;
/* Is Kerberos configured (a keytab or a principal in ike_cfg)? */
bool	ike_krb_configured(const struct ike *);
/* Our credentials when ready, else NULL (and their acquisition started). */
struct ike_gss_cred	*ike_krb_cred(struct ike *);
/* The last credential failure, or NULL when there was none. */
const struct ike_gss_err	*ike_krb_cred_error(const struct ike *);
/*
 * The rule's methods as phase 1 offers, in the rule's order, Kerberos
 * included when our credentials are ready (*cred_wait set when they are
 * being fetched and the rule wants Kerberos).
 */
size_t	ike_krb_p1_offers(struct ike *, const struct ike_rulecopy *,
	    struct ike_p1 *, size_t cap, bool *cred_wait);
/* An SA payload body for offers, with our GSS Identity in GSS ones. */
int	ike_krb_write_sa(struct ike *, struct wr *, const struct ike_p1 *,
	    size_t n) PA_MUST_USE;
/* One transform (the responder's choice) with our GSS Identity. */
int	ike_krb_write_xform(struct ike *, struct wr *, const struct ike_p1 *,
	    uint8_t num) PA_MUST_USE;
/* ike_p1_from_xform() for transforms that may carry a GSS Identity. */
int	ike_krb_p1_from_xform(const struct isk_xform *, struct ike_p1 *)
	    PA_MUST_USE;
/* The raw GSS Identity value of a transform, if it has one. */
bool	ike_krb_xform_gi(const struct isk_xform *, struct pa_bytes *);
/* Per Main Mode state: made on demand, freed with ike_mm_krb_free. */
struct ike_mm_krb	*ike_mm_krb_get(struct ike *, struct ike_mm *);
void	ike_mm_krb_free(struct ike *, struct ike_mm *);
/* What a worker's GSS step for a Main Mode ends with. */
typedef void	(*ike_mm_krb_done_fn)(struct ike *, struct ike_mm *, int rc,
		    struct pa_bytes out, bool complete,
		    const struct ike_gss_err *);
/* What a Main Mode negotiating with Kerberos keeps (mm->krb). */
struct ike_mm_krb {
	struct ike_mm_krb	*next;		/* all of the engine's */
	struct ike		*ike;
	struct ike_mm		*mm;		/* checked against the live list */
	struct ike_gss_ctx	*ctx;
	/* GSS Identity values exactly as sent (UTF-16LE), for the hashes. */
	uint8_t			 gi_i[512];
	size_t			 gi_i_len;
	uint8_t			 gi_r[512];
	size_t			 gi_r_len;
	uint8_t			*tok;		/* token for our next message */
	size_t			 toklen;
	ike_mm_krb_done_fn	 step_done;	/* the running step's */
};
/* Start the initiator's first GSS step in a worker thread; done then. */
int	ike_mm_krb_step_async(struct ike *, struct ike_mm *,
	    ike_mm_krb_done_fn done) PA_MUST_USE;
/* QM_I_OUTWAIT: out_at has come: add the outbound SAs (quick_mode.c). */
void		ike_qm_out_due(struct ike *, struct ike_qm *);
/*
 * Soft associations (soft.c): the flow of a request whose peer was asked
 * and did not answer passes in clear through two driver PERMIT filters
 * (out and in) at prio, just ahead of the negotiate filter that allows it
 * (a stricter filter still wins), until soft_sa_life_ms has passed or a
 * Quick Mode SA with that peer is established.
 */
struct ike_soft;
void		ike_soft_start(struct ike *, const struct pa_addr *peer,
		    uint32_t prio, const struct ike_ts *l,
		    const struct ike_ts *r);
void		ike_soft_end_peer(struct ike *, const struct pa_addr *peer,
		    const char *why);
void		ike_soft_run(struct ike *, uint64_t now);
uint64_t	ike_soft_next(const struct ike *);
void		ike_soft_free_all(struct ike *);

#endif
