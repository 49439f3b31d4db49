/*
 * Kerberos (GSS-API) authentication for IKEv1 Main Mode, as Windows domain
 * members use it: draft-ietf-ipsec-isakmp-gss-auth-07 with the Kerberos V5
 * mechanism of MIT libgssapi_krb5. See docs/kerberos.md for the message
 * flow and for the reading chosen on each open point of the draft.
 *
 * What Main Mode does with this API (I = initiator, R = responder):
 *
 *   both   ike_gss_cred_new() once per local identity (from the keytab,
 *          no password, no kinit); ike_gss_cred_refresh() from a timer at
 *          ike_gss_cred_refresh_at().
 *   MM1/2  send our name in the GSS Identity attribute
 *          (ike_gss_id_attr_encode); keep the peer's (ike_gss_id_decode).
 *   MM3/4  I: ike_gss_ctx_new(INITIATOR, target = peer's GI name),
 *             ike_gss_ctx_step(empty) -> token; send it in payload 129
 *             (ike_gss_tok_encode). R: ike_gss_ctx_new(RESPONDER),
 *             ike_gss_ctx_step(received token) -> token to send.
 *   MM5..  a side sends every non-empty token a step gave it in a
 *          payload 129; once complete with nothing left to send it sends
 *          HASH = ike_gss_hash_wrap(prf(SKEYID, ... | GI | tokens sent)),
 *          where "tokens sent" is ike_gss_ctx_tokens_sent(). The peer's
 *          HASH is checked with ike_gss_hash_verify() against
 *          prf(SKEYID, ... | peer GI | ike_gss_ctx_tokens_received()).
 *   done   ike_gss_ctx_peer() is the authenticated peer principal, already
 *          checked against the rule's allow list; ike_gss_audit_identity()
 *          formats it for events 541/545/547.
 *
 * Every failure fills a struct ike_gss_err whose kind says what broke
 * (KDC unreachable, unknown service principal, clock skew, wrong keytab,
 * ...) and whose text is the precise reason for event 547.
 *
 * Blocking: ike_gss_cred_new(), ike_gss_cred_refresh() and the
 * initiator's first ike_gss_ctx_step() talk to the KDC and may block
 * (MIT waited 18-25 s for a KDC that never answers). The event
 * loop runs them through struct ike_gss_async (worker threads, results on
 * a pollable fd) instead; the responder's steps and the hash functions
 * never leave the process.
 *
 * Threads: a credential and the contexts made from it share state
 * without locks, so use them from one thread (the IKE event loop), except
 * through struct ike_gss_async, which hands objects to its workers and
 * back.
 */
#ifndef IKE_AUTH_GSS_H
#define IKE_AUTH_GSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pa_buf.h"
#include "pa_err.h"

/* Phase 1 Authentication Method attribute value: GSS-API using Kerberos. */
#define IKE_GSS_AUTH_KERBEROS		65001
/* ISAKMP payload type of the GSS-API token payload. */
#define IKE_GSS_PAYLOAD_TOKEN		129
/* Phase 1 attribute "GSS Identity Name" (variable length). */
#define IKE_GSS_ATTR_ID			16384
/* The same attribute as Windows 2000 was seen to number it (accepted). */
#define IKE_GSS_ATTR_ID_W2K		32001
/* Vendor IDs that make 65001 mean Kerberos (draft 3.4). */
#define IKE_GSS_VID_GENERIC \
	"\xb4\x6d\x89\x14\xf3\xaa\xa3\xf2\xfe\xde\xb7\xc7\xdb\x29\x43\xca"
#define IKE_GSS_VID_W2K \
	"\x62\x1b\x04\xbb\x09\x88\x2a\xc1\xe1\x59\x35\xfe\xfa\x24\xae\xee"
#define IKE_GSS_VID_LEN			16
/* Largest GSS name we handle (UTF-8 bytes, without the NUL). */
#define IKE_GSS_NAME_MAX		255
/* Largest token we accept or produce (AD tickets with a PAC reach ~12k). */
#define IKE_GSS_TOKEN_MAX		65000

/* What went wrong, for the caller's decision and for event 547. */
enum ike_gss_fail {
	IKE_GSS_F_NONE = 0,
	IKE_GSS_F_KDC_UNREACHABLE,	/* no KDC of the realm answered */
	IKE_GSS_F_NO_SERVICE,		/* KDC has no principal for the peer */
	IKE_GSS_F_NO_CLIENT,		/* KDC has no principal for us */
	IKE_GSS_F_CLOCK_SKEW,		/* clocks differ more than allowed */
	IKE_GSS_F_WRONG_KEYTAB,		/* keytab keys do not match the KDC's */
	IKE_GSS_F_NO_KEYTAB,		/* keytab missing, unreadable, or
					   without a key for the principal */
	IKE_GSS_F_EXPIRED,		/* ticket or credentials expired */
	IKE_GSS_F_NOT_ALLOWED,		/* peer principal not allowed by rule */
	IKE_GSS_F_HASH,			/* HASH_I/HASH_R unwrap or compare */
	IKE_GSS_F_TOKEN,		/* malformed or unexpected token */
	IKE_GSS_F_CONFIG,		/* bad local name or argument */
	IKE_GSS_F_OTHER			/* any other Kerberos/GSS failure */
};

struct ike_gss_err {
	enum ike_gss_fail	 kind;
	int			 pa;		/* the pa_err returned */
	uint32_t		 major;		/* GSS major status, or 0 */
	uint32_t		 minor;		/* mech (krb5) code, or 0 */
	/* "Kerberos: <what> (<library text>)", for event 547. */
	char			 text[512];
};

/* Stable short name of a failure kind ("kdc-unreachable", ...). */
const char	*ike_gss_fail_name(enum ike_gss_fail);
/*
 * Map a GSS major/minor status pair (minor: a krb5 error code) to a
 * failure kind. Pure; exposed for tests and for callers that get codes
 * from elsewhere.
 */
enum ike_gss_fail	ike_gss_classify(uint32_t major, uint32_t minor);

/* ---- Credentials ---------------------------------------------------- */

struct ike_gss_cred_cfg {
	/* Keytab file; NULL means the system default keytab. Borrowed. */
	const char	*keytab;
	/*
	 * Local principal: "host/<fqdn>" or the AD machine account "NAME$",
	 * with or without "@REALM" (default realm of the krb5 profile).
	 * Borrowed.
	 */
	const char	*principal;
	/*
	 * Renew when less than this many seconds of ticket life remain;
	 * 0 means the default: a quarter of the ticket's life, at least 60 s.
	 */
	uint32_t	 renew_margin;
	/*
	 * Keep the tickets (the TGT and every service ticket got as
	 * initiator) in this file too, root-only, so that a restart while
	 * the KDC is down still has them (ike_gss_cred_save writes it; a new
	 * credential starts from its unexpired tickets). NULL: memory only.
	 * Borrowed.
	 */
	const char	*ccache_file;
};

struct ike_gss_cred;

/*
 * Credentials for both roles from the keytab: a TGT for the principal is
 * obtained now (into a private in-memory ccache, never the user's), and
 * the acceptor accepts any principal whose key is in the keytab (so a
 * machine keytab serves "host/<fqdn>" and "NAME$" alike). On failure *out
 * is NULL and err says why (the KDC is contacted, so KDC unreachable and
 * wrong keytab are reported here). Caller frees with ike_gss_cred_free().
 */
int	ike_gss_cred_new(const struct ike_gss_cred_cfg *,
	    struct ike_gss_cred **out, struct ike_gss_err *) PA_MUST_USE;
/* NULL is a no-op. Contexts made from it stay usable until freed. */
void	ike_gss_cred_free(struct ike_gss_cred *);
/*
 * Write the current tickets to the ccache_file (atomically: a new file
 * renamed over the old, mode 0600); a no-op without one.
 */
int	ike_gss_cred_save(struct ike_gss_cred *);	/* logs its failure */
/* Canonical local principal, "name@REALM"; valid while cred lives. */
const char	*ike_gss_cred_name(const struct ike_gss_cred *);
/* Realm of the local principal; valid while cred lives. */
const char	*ike_gss_cred_realm(const struct ike_gss_cred *);
/* Wall-clock time the current TGT expires. */
time_t	ike_gss_cred_expiry(const struct ike_gss_cred *);
/* Wall-clock time at which ike_gss_cred_refresh() should be called. */
time_t	ike_gss_cred_refresh_at(const struct ike_gss_cred *);
/*
 * Renew before expiry: if now >= ike_gss_cred_refresh_at() (or force),
 * get a fresh TGT from the keytab into a new private ccache and switch to
 * it; contexts already started keep the old one until they are freed.
 * On failure the old credentials stay in use (they may still be valid).
 */
int	ike_gss_cred_refresh(struct ike_gss_cred *, time_t now, bool force,
	    struct ike_gss_err *) PA_MUST_USE;
/*
 * Name of the private ccache holding the current TGT ("MEMORY:..."), for
 * diagnostics; valid until the next refresh or free. It is destroyed
 * (wiped) once no credential or context uses it any more.
 */
const char	*ike_gss_cred_ccache(const struct ike_gss_cred *);
/* How many times new tickets were obtained (1 after _new). */
unsigned	ike_gss_cred_generation(const struct ike_gss_cred *);

/* ---- Security contexts ---------------------------------------------- */

enum ike_gss_role {
	IKE_GSS_INITIATOR,
	IKE_GSS_RESPONDER
};

struct ike_gss_ctx_cfg {
	enum ike_gss_role	 role;
	/*
	 * Initiator only: the peer's GSS name, normally the GSS Identity
	 * the peer sent in MM2 ("HOSTB$@REALM" or "host/fqdn@REALM"),
	 * else the name the rule gives. Taken as a Kerberos principal name,
	 * or as a host-based service "service@host" when target_hostbased.
	 * Borrowed for the call only.
	 */
	const char		*target;
	bool			 target_hostbased;
	/*
	 * Which peer principals the rule allows: entries "name@REALM"
	 * (exact; case-insensitive as AD names are), "*@REALM" (any of that
	 * realm) or "*" (anyone the KDC vouches for). nallow == 0 means any
	 * principal of our own realm, as Windows does. Borrowed for the
	 * call only (copied).
	 */
	const char *const	*allow;
	size_t			 nallow;
};

struct ike_gss_ctx;

/* A new context bound to cred (which must outlive it). Caller frees. */
int	ike_gss_ctx_new(struct ike_gss_cred *, const struct ike_gss_ctx_cfg *,
	    struct ike_gss_ctx **out, struct ike_gss_err *) PA_MUST_USE;
/* NULL is a no-op; wipes the security context. */
void	ike_gss_ctx_free(struct ike_gss_ctx *);

/*
 * One GSS step. in: the token received from the peer (the initiator's
 * first call passes an empty one). *out: the token to send, a view valid
 * until the next step or free; empty when there is nothing to send.
 * *complete: the mechanism is done on this side.
 *
 * What to send next (draft 3.2): a non-empty *out always goes to the
 * peer in a GSS token payload, even when *complete (the Kerberos
 * responder completes on the AP-REQ and still owes the AP-REP in MM4).
 * A side that is complete and has no token left to send sends its HASH
 * in its next encrypted message. With Kerberos and mutual authentication
 * the exchange is: MM3 AP-REQ, MM4 AP-REP (responder complete), MM5
 * HASH_I (initiator completes on the AP-REP, *out empty), MM6 HASH_R.
 *
 * On completion the peer principal is checked against the allow list.
 * On failure *out may hold an error token (KRB-ERROR) the caller may send
 * so that the peer learns the reason; the context is then dead.
 */
int	ike_gss_ctx_step(struct ike_gss_ctx *, struct pa_bytes in,
	    struct pa_bytes *out, bool *complete, struct ike_gss_err *)
	    PA_MUST_USE;
bool	ike_gss_ctx_complete(const struct ike_gss_ctx *);
/* Authenticated and allowed peer principal, or NULL before completion. */
const char	*ike_gss_ctx_peer(const struct ike_gss_ctx *);
/* Our principal as used in this context, or NULL before completion. */
const char	*ike_gss_ctx_local(const struct ike_gss_ctx *);
/*
 * All tokens this side sent / received so far, concatenated in order
 * (token data only, without the payload's vendor byte): the "GSSi [|
 * GSSi(n)...]" and "GSSr [| GSSr(n)...]" parts of HASH_I / HASH_R.
 * Views valid until the next step or free.
 */
struct pa_bytes	ike_gss_ctx_tokens_sent(const struct ike_gss_ctx *);
struct pa_bytes	ike_gss_ctx_tokens_received(const struct ike_gss_ctx *);

/*
 * HASH payload body: GSS_Wrap (confidentiality when the mechanism offers
 * it, default QOP) of the prf output. Needs a complete context.
 */
int	ike_gss_hash_wrap(struct ike_gss_ctx *, const uint8_t *digest,
	    size_t len, struct wr *out, struct ike_gss_err *) PA_MUST_USE;
/*
 * Check a received HASH payload body: GSS_Unwrap must succeed and yield
 * exactly the expected prf output (compared in constant time).
 * PA_E_VERIFY (kind IKE_GSS_F_HASH) if not.
 */
int	ike_gss_hash_verify(struct ike_gss_ctx *, struct pa_bytes wrapped,
	    const uint8_t *expected, size_t len, struct ike_gss_err *)
	    PA_MUST_USE;

/* ---- Off the event loop ---------------------------------------------- */

/*
 * Worker threads for the calls that contact the KDC. Submit a job, poll
 * ike_gss_async_fd() for readability, call ike_gss_async_dispatch(): it
 * runs the callbacks of finished jobs on the calling thread. Submitting
 * and dispatching happen on the event loop's thread only.
 */
struct ike_gss_async;

/* Called on dispatch; out is valid until the next step on ctx or free. */
typedef void	(*ike_gss_step_cb)(void *arg, struct ike_gss_ctx *, int rc,
		    struct pa_bytes out, bool complete,
		    const struct ike_gss_err *);
/*
 * Called on dispatch. For ike_gss_async_cred_new(), the new credential
 * (the callee owns it) or NULL on failure; for ike_gss_async_refresh(),
 * the refreshed credential (already switched to the new tickets on
 * success).
 */
typedef void	(*ike_gss_cred_cb)(void *arg, struct ike_gss_cred *, int rc,
		    const struct ike_gss_err *);

/* nthreads workers (1..8). Caller frees with ike_gss_async_free(). */
int	ike_gss_async_new(unsigned nthreads, struct ike_gss_async **out)
	    PA_MUST_USE;
/*
 * Waits for the jobs being run (at most the KDC timeouts), then drops the
 * rest without callbacks: contexts go back to their owner (or are freed if
 * ike_gss_ctx_free() was called on them), new credentials are freed.
 * NULL is a no-op.
 */
void	ike_gss_async_free(struct ike_gss_async *);
/* Readable when finished jobs wait for ike_gss_async_dispatch(). */
int	ike_gss_async_fd(const struct ike_gss_async *);
/* Run the callbacks of all finished jobs; returns how many. */
unsigned	ike_gss_async_dispatch(struct ike_gss_async *);
/* Jobs submitted and not yet dispatched. */
unsigned	ike_gss_async_pending(const struct ike_gss_async *);
/*
 * ike_gss_ctx_step() in a worker; in is copied. Until the callback the
 * context belongs to the job: other calls on it fail with PA_E_STATE,
 * and ike_gss_ctx_free() cancels (no callback; freed once the worker is
 * done with it). PA_E_AGAIN when too many jobs are queued.
 */
int	ike_gss_async_step(struct ike_gss_async *, struct ike_gss_ctx *,
	    struct pa_bytes in, ike_gss_step_cb, void *arg) PA_MUST_USE;
/* ike_gss_cred_new() in a worker; cfg and its strings are copied. */
int	ike_gss_async_cred_new(struct ike_gss_async *,
	    const struct ike_gss_cred_cfg *, ike_gss_cred_cb, void *arg)
	    PA_MUST_USE;
/*
 * A forced ike_gss_cred_refresh() whose KDC part runs in a worker; the
 * switch to the new tickets happens on dispatch. ike_gss_cred_free() on
 * cred meanwhile is deferred until then (no callback).
 */
int	ike_gss_async_refresh(struct ike_gss_async *, struct ike_gss_cred *,
	    ike_gss_cred_cb, void *arg) PA_MUST_USE;

/* ---- Payload helpers (pure functions over untrusted bytes) ---------- */

/* Layout of a GSS token payload body. */
enum ike_gss_tokfmt {
	IKE_GSS_TOKFMT_VENDOR,	/* draft-07: 1 octet vendor, then token */
	IKE_GSS_TOKFMT_RAW	/* the token alone (racoon) */
};

struct ike_gss_tok {
	enum ike_gss_tokfmt	 fmt;
	uint8_t			 vendor;	/* 0 when fmt is RAW */
	struct pa_bytes		 token;		/* borrowed from the body */
};

/*
 * Encode a payload body (no generic header) into out. vendor is ignored
 * for IKE_GSS_TOKFMT_RAW. Empty or oversized tokens are PA_E_INVAL.
 */
int	ike_gss_tok_encode(struct wr *out, enum ike_gss_tokfmt, uint8_t vendor,
	    struct pa_bytes token) PA_MUST_USE;
/*
 * Decode a payload body (no generic header). A body that is exactly one
 * DER [APPLICATION 0] object (how every Kerberos mechanism token starts)
 * is RAW; otherwise the first octet is the vendor octet and the rest the
 * token. The token views borrow from body.
 */
int	ike_gss_tok_decode(struct pa_bytes body, struct ike_gss_tok *out)
	    PA_MUST_USE;

/* True for the two attribute numbers of the GSS Identity Name. */
bool	ike_gss_id_attr_type(uint16_t type);
/*
 * Write a whole GSS Identity Name data attribute (TLV: type, length,
 * value): the UTF-8 name as UTF-16LE without a terminator.
 */
int	ike_gss_id_attr_encode(struct wr *out, const char *name) PA_MUST_USE;
/*
 * Decode an attribute value (UTF-16LE; one trailing NUL tolerated) into
 * a NUL-terminated UTF-8 string of at most cap bytes. Embedded NULs,
 * unpaired surrogates, control characters and odd lengths are
 * PA_E_FORMAT; a name too long for cap is PA_E_NOSPACE.
 */
int	ike_gss_id_decode(struct pa_bytes value, char *name, size_t cap)
	    PA_MUST_USE;

/*
 * "Kerberos based Identity: <principal>" into buf (truncated to cap, always
 * NUL-terminated): how Windows shows Kerberos peers in events 541-547.
 */
void	ike_gss_audit_identity(const char *principal, char *buf, size_t cap);

#endif
