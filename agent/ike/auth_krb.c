/*
 * Kerberos (GSS-API, method 65001) as a Main Mode authentication method
 * (ike_auth.h), draft-ietf-ipsec-isakmp-gss-auth-07 as docs/kerberos.md
 * describes it:
 *
 *	HDR, SA [GIi], VID		-->
 *				<--	HDR, SA [GIr], VID
 *	HDR, KE, Ni, GSS(AP-REQ)	-->
 *				<--	HDR, KE, Nr, GSS(AP-REP)
 *	HDR*, IDii, HASH_I		-->
 *				<--	HDR*, IDir, HASH_R
 *
 * SKEYID as for signatures; HASH_I and HASH_R are GSS_Wrap()ed and cover
 * the GSS Identity value and every token that side sent. The initiator's
 * first step (it fetches a service ticket) runs in a worker thread
 * (mm_krb.c), and MM #3 leaves when it is done; so does fetching our own
 * tickets before MM #1. A Kerberos failure ends the Main Mode with a 547
 * naming the Kerberos error and, as initiator, starts a new one with the
 * rule's other methods. Reading chosen: one GSS round trip (Kerberos with
 * mutual authentication needs no more); a mechanism asking for more is
 * refused with a reason. auth_gss.c talks to MIT's GSS-API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_gss.h"
#include "ike_auth.h"
#include "ike_exch.h"

/* Our GSS Identity value (UTF-16LE) exactly as it goes on the wire. */
static int
krb_own_gi(struct ike *ike, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t tmp[600];
	struct ike_gss_cred *cred = ike_krb_cred(ike);
	struct pa_bytes v;
	struct wr w;
	int rc;

	if (cred == NULL)
		return PA_E_STATE;
	wr_init(&w, tmp, sizeof(tmp));
	if ((rc = ike_gss_id_attr_encode(&w, ike_gss_cred_name(cred))) != 0 ||
	    (rc = ike_wr_view(&w, 4, w.len - 4, &v)) != 0)
		return rc;
	if (v.len > cap)
		return PA_E_NOSPACE;
	memcpy(out, v.p, v.len);
	*len = v.len;
	return 0;
}

/* Keep a copy of the token our next message carries. */
static int
krb_keep_tok(struct ike_mm_krb *e, struct pa_bytes tok)
{
	free(e->tok);
	e->tok = NULL;
	e->toklen = 0;
	if (tok.len == 0)
		return 0;
	if ((e->tok = ike_dup_bytes(tok.p, tok.len)) == NULL)
		return PA_E_NOMEM;
	e->toklen = tok.len;
	return 0;
}

/* The GSS token payload (129), draft-07 layout with vendor octet 0 (R1). */
static int
gss_write(struct ike *ike, struct ike_mm *mm, struct wr *w,
    struct isk_chain *c)
{
	size_t pl;
	int rc;

	(void)ike;
	if (mm->p1.auth != ISK_AUTH_GSS || mm->krb == NULL ||
	    mm->krb->toklen == 0)
		return 0;
	if ((rc = isk_pl_open(w, c, IKE_GSS_PAYLOAD_TOKEN, &pl)) != 0 ||
	    (rc = ike_gss_tok_encode(w, IKE_GSS_TOKFMT_VENDOR, 0,
	    (struct pa_bytes){ mm->krb->tok, mm->krb->toklen })) != 0)
		return rc;
	return isk_pl_close(w, pl);
}

/* The one GSS token a message carries (PA_E_FORMAT if none or bad). */
static int
gss_read(const struct isk_msg *m, struct ike_gss_tok *tok)
{
	const struct isk_payload *p;

	if ((p = isk_find(m, IKE_GSS_PAYLOAD_TOKEN, NULL)) == NULL ||
	    ike_gss_tok_decode(p->body, tok) != 0)
		return PA_E_FORMAT;
	return 0;
}

static void	mm_krb_step_done(struct ike *, struct ike_mm *, int,
		    struct pa_bytes, bool, const struct ike_gss_err *);

/*
 * Initiator, MM #2 chose Kerberos: name the responder by the GIr it sent
 * and start the first GSS step (a service ticket) in a worker thread.
 */
static void
mm_krb_start(struct ike *ike, struct ike_mm *mm, const uint8_t *gir,
    size_t girlen)
{
	struct ike_gss_ctx_cfg cc;
	struct ike_gss_err err;
	struct ike_mm_krb *e;
	struct ike_gss_cred *cred;
	char target[IKE_GSS_NAME_MAX + 1];

	if (girlen == 0 || ike_gss_id_decode((struct pa_bytes){ gir, girlen },
	    target, sizeof(target)) != 0) {
		ike->up.mm_fail(ike, mm, "Peer", "Kerberos: the responder "
		    "sent no usable GSS Identity Name");
		return;
	}
	if ((cred = ike_krb_cred(ike)) == NULL ||
	    (e = ike_mm_krb_get(ike, mm)) == NULL) {
		ike->up.mm_fail(ike, mm, "Me",
		    "Kerberos: our credentials are gone");
		return;
	}
	memcpy(e->gi_r, gir, girlen);
	e->gi_r_len = girlen;
	if (krb_own_gi(ike, e->gi_i, sizeof(e->gi_i), &e->gi_i_len) != 0) {
		ike->up.mm_fail(ike, mm, "Me", "Kerberos: our GSS Identity");
		return;
	}
	memset(&cc, 0, sizeof(cc));
	cc.role = IKE_GSS_INITIATOR;
	cc.target = target;
	if (ike_gss_ctx_new(cred, &cc, &e->ctx, &err) != 0) {
		ike->up.mm_fail(ike, mm, "Me", err.text);
		return;
	}
	if (ike_mm_krb_step_async(ike, mm, mm_krb_step_done) != 0) {
		ike->up.mm_fail(ike, mm, "Me",
		    "Kerberos: too many requests queued");
		return;
	}
	/* No MM #1 retransmission while the worker asks the KDC. */
	mm->retx_at = 0;
	mm->state = MM_I_GSS_WAIT;
	ike_olog(ike, "Kerberos: asking for a ticket for %s", target);
}

/* The worker's first GSS step is done: MM #3 with its token. */
static void
mm_krb_step_done(struct ike *ike, struct ike_mm *mm, int rc,
    struct pa_bytes out, bool complete, const struct ike_gss_err *err)
{
	(void)complete;
	if (mm->state != MM_I_GSS_WAIT)
		return;
	if (rc != 0) {
		ike->up.mm_fail(ike, mm, "Me", err->text);
		return;
	}
	if (out.len == 0 || krb_keep_tok(mm->krb, out) != 0 ||
	    ike->up.mm_send3(ike, mm) != 0) {
		ike->up.mm_fail(ike, mm, "Me", "Could not build MM #3");
		return;
	}
	ike_olog(ike, "Kerberos: sent MM #3 with a %zu byte token", out.len);
}

/*
 * AUTHENTICATION-FAILED with MIT's KRB-ERROR token in a GSS payload
 * (unprotected informational, like ike_notify_plain), so that the
 * initiator's 547 can name the same Kerberos error.
 */
static void
krb_error_notify(struct ike *ike, struct ike_mm *mm, struct pa_bytes tok)
{
	uint8_t buf[IKE_MAX_PKT];
	struct isk_hdr h;
	struct isk_chain c;
	struct wr w;
	size_t n, g;

	ike_mm_hdr(mm, &h, ISK_EXCH_INFO, 0, 0);
	wr_init(&w, buf, sizeof(buf));
	if (isk_hdr_write(&w, &h, &c) != 0 ||
	    isk_pl_open(&w, &c, ISK_PL_N, &n) != 0)
		return;
	ike_notify_isakmp(&w, ISK_N_AUTHENTICATION_FAILED, mm->cky_i, mm->cky_r);
	if (isk_pl_close(&w, n) != 0 ||
	    isk_pl_open(&w, &c, IKE_GSS_PAYLOAD_TOKEN, &g) != 0 ||
	    ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_VENDOR, 0, tok) != 0 ||
	    isk_pl_close(&w, g) != 0 || isk_hdr_close(&w, 0) != 0)
		return;
	ike_olog(ike, "sent notify AUTHENTICATION-FAILED with a Kerberos "
	    "error token");
	if (ike_send(ike, mm->sock, &mm->peer, mm->peer_port, buf, w.len) != 0)
		ike_olog(ike, "notify send failed");
}

/* Responder, MM #3: accept the initiator's token (no KDC involved). */
static int
mm_krb_accept(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m)
{
	struct ike_gss_ctx_cfg cc;
	struct ike_gss_err err;
	struct ike_gss_tok tok;
	struct ike_gss_cred *cred;
	struct pa_bytes out = { NULL, 0 };
	struct ike_mm_krb *e = mm->krb;
	bool done = false;
	int rc;

	if ((rc = gss_read(m, &tok)) != 0)
		return rc;
	if (e == NULL || (cred = ike_krb_cred(ike)) == NULL) {
		ike->up.mm_fail(ike, mm, "Me",
		    "Kerberos: our credentials are gone");
		return PA_E_STATE;
	}
	memset(&cc, 0, sizeof(cc));
	cc.role = IKE_GSS_RESPONDER;
	if (e->ctx == NULL &&
	    (rc = ike_gss_ctx_new(cred, &cc, &e->ctx, &err)) != 0)
		goto fail;
	out.len = 0;
	if ((rc = ike_gss_ctx_step(e->ctx, tok.token, &out, &done, &err)) != 0)
		goto fail;
	if (!done) {
		snprintf(err.text, sizeof(err.text), "Kerberos: the mechanism "
		    "wants more than one round trip (not supported)");
		rc = PA_E_NOTSUP;
		goto fail;
	}
	if ((rc = krb_keep_tok(e, out)) != 0)
		goto fail;
	ike_olog(ike, "Kerberos: accepted %s", ike_gss_ctx_peer(e->ctx));
	return 0;
fail:
	ike->st.auth_failures++;
	if (rc != PA_E_NOTSUP && out.len > 0)
		krb_error_notify(ike, mm, out);
	else
		ike_notify_plain(ike, mm->sock, &mm->peer, mm->peer_port,
		    mm->cky_i, mm->cky_r, ISK_N_AUTHENTICATION_FAILED);
	ike->up.mm_fail(ike, mm, "Me", err.text);
	return rc;
}

/* Initiator, MM #4: the responder's token completes our context. */
static int
mm_krb_finish(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m)
{
	struct ike_gss_err err;
	struct ike_gss_tok tok;
	struct pa_bytes out;
	struct ike_mm_krb *e = mm->krb;
	bool done = false;
	int rc;

	if ((rc = gss_read(m, &tok)) != 0)
		return rc;
	if (e == NULL || e->ctx == NULL)
		return PA_E_STATE;
	if ((rc = ike_gss_ctx_step(e->ctx, tok.token, &out, &done, &err)) != 0)
		goto fail;
	if (!done || out.len != 0) {
		snprintf(err.text, sizeof(err.text), "Kerberos: the mechanism "
		    "wants more than one round trip (not supported)");
		rc = PA_E_NOTSUP;
		goto fail;
	}
	(void)krb_keep_tok(e, (struct pa_bytes){ NULL, 0 });
	ike_olog(ike, "Kerberos: %s authenticated", ike_gss_ctx_peer(e->ctx));
	return 0;
fail:
	ike->st.auth_failures++;
	ike->up.mm_fail(ike, mm, "Peer", err.text);
	return rc;
}

/*
 * Kerberos failed as initiator: a new Main Mode with the rule's other
 * methods, in their order, takes over what waited for this one.
 */
static void
mm_krb_fallback(struct ike *ike, struct ike_mm *old)
{
	struct ike_rulecopy rc;
	struct ike_pending *p;
	struct ike_mm *nmm;
	size_t i, n = 0;

	if (ike_rulecopy_dup(&rc, &old->rule) != 0)
		return;
	for (i = 0; i < rc.nauths; i++)
		if (rc.auths[i] != ISK_AUTH_GSS)
			rc.auths[n++] = rc.auths[i];
	rc.nauths = n;
	if (n > 0 && ike->up.mm_initiate(ike, &old->peer, &rc, &nmm) == 0) {
		ike_olog(ike, "Kerberos failed: trying the rule's next method");
		for (p = ike->pending; p != NULL; p = p->next)
			if (p->mm == old)
				p->mm = nmm;
	}
	ike_rulecopy_clear(&rc);
}

/*
 * Initiator: a failure notify from a Kerberos responder may carry its
 * KRB-ERROR token; our context turns it into the Kerberos reason.
 */
static void
krb_error_reason(const struct ike_mm *mm, const struct isk_msg *m, char *r,
    size_t cap)
{
	struct ike_gss_err err;
	struct ike_gss_tok tok;
	struct pa_bytes out;
	bool done = false;
	size_t l;

	if (!mm->initiator || mm->p1.auth != ISK_AUTH_GSS ||
	    mm->state != MM_I_KE_SENT || mm->krb == NULL ||
	    mm->krb->ctx == NULL || gss_read(m, &tok) != 0)
		return;
	if (ike_gss_ctx_step(mm->krb->ctx, tok.token, &out, &done, &err) == 0)
		return;
	l = strlen(r);
	if (l + 3 < cap)
		snprintf(r + l, cap - l, ": %s", err.text);
}

/* Kerberos is the rule's but we cannot: why (547), or NULL. */
static const char *
krb_unusable(struct ike *ike, bool initiator)
{
	const struct ike_gss_err *err;

	if (!initiator)
		/* As responder, only a failure to get our tickets counts. */
		return ike_krb_cred_error(ike) != NULL ?
		    ike_krb_cred_error(ike)->text : NULL;
	if (ike_krb_cred(ike) != NULL)
		return NULL;
	err = ike_krb_cred_error(ike);
	return !ike_krb_configured(ike) ? "Kerberos: not configured on this "
	    "host (no keytab or principal)" : err != NULL ? err->text :
	    "Kerberos: no credentials";
}

/* 65001 means Kerberos only with one of these VIDs (draft 3.4). */
static bool
krb_peer_may_offer(const struct isk_msg *m)
{
	const struct isk_payload *vp;
	size_t from = 0;
	uint32_t msver;

	while ((vp = isk_find(m, ISK_PL_VID, &from)) != NULL)
		if ((vp->body.len == IKE_GSS_VID_LEN &&
		    (memcmp(vp->body.p, IKE_GSS_VID_GENERIC, IKE_GSS_VID_LEN)
		    == 0 || memcmp(vp->body.p, IKE_GSS_VID_W2K,
		    IKE_GSS_VID_LEN) == 0)) ||
		    isk_vid_classify(vp->body, &msver) == ISK_VID_MS_NT5)
			return true;
	return false;
}

/* Responder: the initiator's GIi (as sent) and ours, for the hashes. */
static int
krb_r_chosen(struct ike *ike, struct ike_mm *mm, const struct isk_xform *x)
{
	struct ike_mm_krb *e;
	struct pa_bytes gi = { NULL, 0 };

	if ((e = ike_mm_krb_get(ike, mm)) == NULL)
		return PA_E_NOMEM;
	if (ike_krb_xform_gi(x, &gi) && gi.len <= sizeof(e->gi_i)) {
		if (gi.len > 0)
			memcpy(e->gi_i, gi.p, gi.len);
		e->gi_i_len = gi.len;
	}
	return krb_own_gi(ike, e->gi_r, sizeof(e->gi_r), &e->gi_r_len);
}

/* Responder, MM #2: our transform, carrying our GSS Identity (GIr). */
static int
krb_r_write_xform(struct ike *ike, struct ike_mm *mm, struct wr *w,
    const struct isk_xform *chosen)
{
	return ike_krb_write_xform(ike, w, &mm->p1, chosen->num);
}

/* The generic GSS VID makes 65001 mean Kerberos (draft 3.4). */
static int
krb_write_vids(struct wr *w, struct isk_chain *c)
{
	return isk_pl_data(w, c, ISK_PL_VID,
	    (const uint8_t *)IKE_GSS_VID_GENERIC, IKE_GSS_VID_LEN);
}

/* Initiator, MM #2 chose Kerberos in x: the first step, on a worker. */
static void
krb_i_chosen(struct ike *ike, struct ike_mm *mm, const struct isk_xform *x)
{
	struct pa_bytes gi = { NULL, 0 };
	uint8_t gir[512];
	size_t girlen = 0;

	if (ike_krb_xform_gi(x, &gi) && gi.len <= sizeof(gir)) {
		if (gi.len > 0)
			memcpy(gir, gi.p, gi.len);
		girlen = gi.len;
	}
	mm_krb_start(ike, mm, gir, girlen);
}

/* MM #3 / #4: the peer's token completes (initiator) or starts ours. */
static int
krb_take_ke(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m)
{
	return mm->initiator ? mm_krb_finish(ike, mm, m) :
	    mm_krb_accept(ike, mm, m);
}

/* draft 4.1: ... | GIi | GSSi [| GSSi(n)...] (R2, R4). */
static int
krb_hash_more(const struct ike_mm *mm, bool initiator, struct pa_bytes *v,
    size_t *n)
{
	const struct ike_mm_krb *e = mm->krb;

	if (e == NULL || e->ctx == NULL)
		return PA_E_STATE;
	v[(*n)++] = (struct pa_bytes){ initiator ? e->gi_i : e->gi_r,
	    initiator ? e->gi_i_len : e->gi_r_len };
	v[(*n)++] = initiator == mm->initiator ?
	    ike_gss_ctx_tokens_sent(e->ctx) :
	    ike_gss_ctx_tokens_received(e->ctx);
	return 0;
}

/* HASH_I / HASH_R protected with GSS_Wrap (R3). */
static int
krb_write_proof(struct ike *ike, struct ike_mm *mm, struct wr *w,
    struct isk_chain *c, const uint8_t *hash, size_t hl)
{
	uint8_t wb[1024];
	struct ike_gss_err err;
	struct wr ww;
	int rc;

	wr_init(&ww, wb, sizeof(wb));
	if ((rc = ike_gss_hash_wrap(mm->krb->ctx, hash, hl, &ww, &err)) != 0) {
		ike_olog(ike, "%s", err.text);
		return rc;
	}
	return isk_pl_data(w, c, ISK_PL_HASH, ww.p, ww.len);
}

static int
krb_check(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m,
    const struct isk_id *id, struct pa_bytes proof, const uint8_t *want,
    size_t hl, char *why, size_t whylen)
{
	struct ike_gss_err err;

	(void)ike;
	(void)m;
	(void)id;
	if (ike_gss_hash_verify(mm->krb->ctx, proof, want, hl, &err) != 0) {
		/* Truncated to the caller's buffer on purpose. */
		size_t tl = strnlen(err.text, whylen - 1);

		memcpy(why, err.text, tl);
		why[tl] = '\0';
		return PA_E_VERIFY;
	}
	/* The principal Kerberos vouched for, not the ID payload. */
	snprintf(mm->peer_id, sizeof(mm->peer_id), "%s",
	    ike_gss_ctx_peer(mm->krb->ctx));
	return 0;
}

static void
krb_identity(const struct ike_mm *mm, bool established, const char *pa,
    char *out, size_t cap)
{
	(void)pa;
	if (established)
		ike_gss_audit_identity(mm->peer_id, out, cap);
	else
		ike_gss_audit_identity(mm->krb != NULL && mm->krb->ctx != NULL &&
		    ike_gss_ctx_peer(mm->krb->ctx) != NULL ?
		    ike_gss_ctx_peer(mm->krb->ctx) : "(unknown)", out, cap);
}

const struct ike_auth_ops ike_auth_krb = {
	.method		= ISK_AUTH_GSS,
	.proof_pl	= ISK_PL_HASH,
	.bad_proof	= "Kerberos: the HASH over the GSS exchange does not "
	    "match (a corrupted message)",
	.unusable	= krb_unusable,
	.peer_may_offer	= krb_peer_may_offer,
	.r_chosen	= krb_r_chosen,
	.r_write_xform	= krb_r_write_xform,
	.write_vids	= krb_write_vids,
	.i_chosen	= krb_i_chosen,
	.write_ke	= gss_write,
	.take_ke	= krb_take_ke,
	.hash_more	= krb_hash_more,
	.write_proof	= krb_write_proof,
	.check		= krb_check,
	.identity	= krb_identity,
	.notify_reason	= krb_error_reason,
	.retry		= mm_krb_fallback,
	.release	= ike_mm_krb_free,
};
