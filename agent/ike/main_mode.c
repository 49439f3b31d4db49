/*
 * Main Mode (identity protection, RFC 2409 5.4) with preshared keys, as
 * initiator and responder:
 *
 *	HDR, SA			-->
 *				<--	HDR, SA
 *	HDR, KE, Ni		-->
 *				<--	HDR, KE, Nr
 *	HDR*, IDii, HASH_I	-->
 *				<--	HDR*, IDir, HASH_R
 *
 * Proposal selection follows the ISAKMP policy's order (and the rule's
 * authentication methods' order) on both sides.
 *
 * Kerberos (GSS-API, method 65001, draft-ietf-ipsec-isakmp-gss-auth-07 as
 * docs/kerberos.md describes it) changes this:
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
 * (mm_krb.c); so does fetching our own tickets. A Kerberos failure ends
 * the Main Mode with a 547 naming the Kerberos error and, as initiator,
 * starts a new one with the rule's other methods. Reading chosen: one GSS
 * round trip (Kerberos with mutual authentication needs no more); a
 * mechanism asking for more is refused with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "auth_gss.h"
#include "ike_int.h"
#include "pa_time.h"

#define MM_MODE		"Key Exchange Mode (Main Mode)"

static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c != NULL && n > 0)
		memcpy(c, p, n);
	return c;
}

/* Borrow bytes [off, off+n) of what a writer holds. */
static int
wr_view(const struct wr *w, size_t off, size_t n, struct pa_bytes *b)
{
	struct rd r;
	int rc;

	rd_init(&r, w->p, w->len);
	if ((rc = rd_skip(&r, off)) != 0)
		return rc;
	return rd_bytes(&r, n, b);
}

int
ike_id_text(const struct isk_id *id, char *buf, size_t cap)
{
	struct ike_ts t;
	char a[PA_PREFIXSTRLEN];

	if (ike_ts_from_id(id, &t) == 0) {
		if (t.net.len == pa_addr_bits(t.net.addr.family))
			snprintf(buf, cap, "%s",
			    pa_addr_str(&t.net.addr, a, sizeof(a)));
		else
			snprintf(buf, cap, "%s",
			    pa_prefix_str(&t.net, a, sizeof(a)));
		return 0;
	}
	if (id->type == ISK_ID_FQDN || id->type == ISK_ID_USER_FQDN) {
		size_t i, n = id->data.len < cap - 1 ? id->data.len : cap - 1;
		struct rd r;
		uint8_t c;

		rd_init(&r, id->data.p, id->data.len);
		for (i = 0; i < n && rd_u8(&r, &c) == 0; i++)
			buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		buf[i] = '\0';
		return 0;
	}
	snprintf(buf, cap, "ID type %u (%zu bytes)", id->type, id->data.len);
	return 0;
}

static void
mm_established(struct ike *ike, struct ike_mm *mm)
{
	char pa[PA_ADDRSTRLEN], la[PA_ADDRSTRLEN], pid[320], flt[200],
	    par[200], s[96];
	const char *kv[8];

	mm->state = MM_DONE;
	mm->retx_at = 0;
	mm->expire_at = ike_now() + (uint64_t)mm->p1.life_sec * 1000;
	if (mm->nat_local && ike->socks[mm->sock].natt)
		mm->keepalive_at = ike_now() + ike->cfg.keepalive_ms;
	if (mm->peer_dpd)
		mm->dpd_at = ike_now() + ike->cfg.dpd_ms;
	ike_timer_note(ike, mm->expire_at);
	ike_timer_note(ike, mm->keepalive_at);
	ike_timer_note(ike, mm->dpd_at);
	ike_mm_scrub(mm);
	ike->st.main_modes++;
	ike->st.active_mmsas++;
	if (mm->initiator) {
		if (ike->st.active_acquire > 0)
			ike->st.active_acquire--;
	} else if (ike->st.active_receive > 0) {
		ike->st.active_receive--;
	}
	pa_addr_str(&mm->peer, pa, sizeof(pa));
	pa_addr_str(&mm->local, la, sizeof(la));
	if (mm->p1.auth == ISK_AUTH_RSA)
		snprintf(pid, sizeof(pid), "Certificate based Identity. Peer "
		    "Subject %s. Peer IP Address: %s", mm->peer_id, pa);
	else if (mm->p1.auth == ISK_AUTH_GSS)
		ike_gss_audit_identity(mm->peer_id, pid, sizeof(pid));
	else
		snprintf(pid, sizeof(pid), "Preshared key ID. Peer IP Address: "
		    "%s (ID %s)", pa, mm->peer_id);
	ike_mm_krb_free(ike, mm);
	snprintf(flt, sizeof(flt), "Rule %s. IKE Local Addr %s, IKE Peer Addr "
	    "%s", mm->rule.name, la, pa);
	snprintf(par, sizeof(par), "%s, QuickMode limit %u",
	    ike_p1_str(&mm->p1, s, sizeof(s)), mm->rule.qm_per_mm);
	kv[0] = "Mode"; kv[1] = MM_MODE;
	kv[2] = "Peer Identity"; kv[3] = pid;
	kv[4] = "Filter"; kv[5] = flt;
	kv[6] = "Parameters"; kv[7] = par;
	ike_audit(ike, AUDIT_IKE_SA_ESTABLISHED, kv, 8);
	ike_olog(ike, "MM SA established with %s (%s, peer ID %s), cookies "
	    "%02x%02x%02x%02x.../%02x%02x%02x%02x...", pa, s, mm->peer_id,
	    mm->cky_i[0], mm->cky_i[1], mm->cky_i[2], mm->cky_i[3],
	    mm->cky_r[0], mm->cky_r[1], mm->cky_r[2], mm->cky_r[3]);
	ike_mm_ready(ike, mm);
}

static void	mm_krb_fallback(struct ike *, struct ike_mm *);

static void
mm_fail(struct ike *ike, struct ike_mm *mm, const char *point,
    const char *reason)
{
	bool fallback = mm->initiator && mm->p1.auth == ISK_AUTH_GSS &&
	    mm->state != MM_DONE && mm->state != MM_DEAD;

	ike_audit_fail(ike, MM_MODE, &mm->peer, point, reason);
	ike_mm_kill(ike, mm, reason);
	ike_mm_krb_free(ike, mm);
	if (fallback)
		mm_krb_fallback(ike, mm);
}

static int
mm_send(struct ike *ike, struct ike_mm *mm, struct wr *w, bool arm)
{
	int rc;

	if ((rc = ike_keep_tx(ike, &mm->tx, &mm->txlen, &mm->retx_at,
	    &mm->retx_n, w->p, w->len, arm)) != 0)
		return rc;
	return ike_send(ike, mm->sock, &mm->peer, mm->peer_port, w->p, w->len);
}

static void
mm_hdr(const struct ike_mm *mm, struct isk_hdr *h, bool enc)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->cky_i, mm->cky_i, 8);
	memcpy(h->cky_r, mm->cky_r, 8);
	h->exch = ISK_EXCH_MAIN;
	h->flags = enc ? ISK_FLAG_ENC : 0;
}

static int	mm_send1(struct ike *, struct ike_mm *);
static bool	rule_has_gss(const struct ike_rulecopy *);

int
ike_mm_initiate(struct ike *ike, const struct pa_addr *peer,
    const struct ike_rulecopy *rule, struct ike_mm **out)
{
	struct ike_mm *mm;
	char a[PA_ADDRSTRLEN];
	bool wait;
	int rc;

	*out = NULL;
	if ((mm = ike_mm_new(ike, true)) == NULL)
		return PA_E_NOMEM;
	if ((rc = ike_rulecopy_dup(&mm->rule, rule)) != 0)
		goto fail;
	mm->noffers = ike_krb_p1_offers(ike, rule, mm->offers, 16, &wait);
	if (!wait && rule_has_gss(rule) && ike_krb_cred(ike) == NULL) {
		/* Kerberos is the rule's but we cannot: say why (547). */
		const struct ike_gss_err *err = ike_krb_cred_error(ike);

		ike_audit_fail(ike, MM_MODE, peer, "Me", !ike_krb_configured(ike) ?
		    "Kerberos: not configured on this host (no keytab or "
		    "principal)" : err != NULL ? err->text :
		    "Kerberos: no credentials");
	}
	if (mm->noffers == 0 && !wait) {
		rc = PA_E_NOENT;
		goto fail;
	}
	mm->peer = *peer;
	mm->peer_port = ike->cfg.peer_port;
	if ((mm->sock = ike_sock_for_peer(ike, peer, &mm->local)) < 0) {
		rc = PA_E_NOENT;
		goto fail;
	}
	do {
		if ((rc = ike_rand(ike, mm->cky_i, 8)) != 0)
			goto fail;
	} while (ike_mm_find(ike, mm->cky_i, mm->cky_r) != NULL);
	ike_mm_hash_add(ike, mm);
	mm->expire_at = ike_now() + (uint64_t)ike->cfg.retrans_ms *
	    ((1U << (ike->cfg.retrans_max + 1)) + 1);
	ike_timer_note(ike, mm->expire_at);
	ike->st.active_acquire++;
	*out = mm;
	if (wait) {
		/* Kerberos first: MM #1 once our tickets are here. */
		mm->state = MM_I_CRED_WAIT;
		ike_olog(ike, "MM with %s waits for our Kerberos tickets",
		    pa_addr_str(peer, a, sizeof(a)));
		return 0;
	}
	if ((rc = mm_send1(ike, mm)) != 0) {
		*out = NULL;
		ike->st.active_acquire--;
		goto fail;
	}
	return 0;
fail:
	mm->state = MM_DEAD;
	ike_mm_scrub(mm);
	return rc;
}

/* Initiator: MM #1 with mm->offers. */
static int
mm_send1(struct ike *ike, struct ike_mm *mm)
{
	uint8_t buf[4096];
	struct isk_hdr h;
	struct isk_chain c;
	struct pa_bytes sab;
	struct wr w;
	char a[PA_ADDRSTRLEN];
	size_t sa, i;
	bool gss = false;
	int rc;

	for (i = 0; i < mm->noffers; i++)
		if (mm->offers[i].auth == ISK_AUTH_GSS)
			gss = true;
	mm_hdr(mm, &h, false);
	wr_init(&w, buf, sizeof(buf));
	if ((rc = isk_hdr_write(&w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(&w, &c, ISK_PL_SA, &sa)) != 0 ||
	    (rc = ike_krb_write_sa(ike, &w, mm->offers, mm->noffers)) != 0 ||
	    (rc = isk_pl_close(&w, sa)) != 0 ||
	    (rc = wr_view(&w, sa + ISK_GEN_LEN, w.len - sa - ISK_GEN_LEN,
	    &sab)) != 0)
		return rc;
	free(mm->sai_b);
	if ((mm->sai_b = dup_bytes(sab.p, sab.len)) == NULL)
		return PA_E_NOMEM;
	mm->sai_len = sab.len;
	if ((rc = isk_pl_data(&w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_OURS),
	    16)) != 0 || (rc = isk_pl_data(&w, &c, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_DPD), 16)) != 0)
		return rc;
	/* The generic GSS VID makes 65001 mean Kerberos (draft 3.4). */
	if (gss && (rc = isk_pl_data(&w, &c, ISK_PL_VID,
	    (const uint8_t *)IKE_GSS_VID_GENERIC, IKE_GSS_VID_LEN)) != 0)
		return rc;
	if (ike_natt_sock(ike, mm->sock) >= 0 &&
	    ((rc = isk_pl_data(&w, &c, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_NATT_RFC), 16)) != 0 ||
	    (rc = isk_pl_data(&w, &c, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_NATT_DRAFT02N), 16)) != 0))
		return rc;
	if ((rc = isk_hdr_close(&w, 0)) != 0)
		return rc;
	mm->state = MM_I_SA_SENT;
	ike_olog(ike, "MM #1 to %s: %zu offers, rule \"%s\"",
	    pa_addr_str(&mm->peer, a, sizeof(a)), mm->noffers, mm->rule.name);
	mm->sent1_at = ike_now();
	if (mm_send(ike, mm, &w, true) != 0)
		ike_olog(ike, "MM #1 send failed; will retransmit");
	return 0;
}

/* DH, SKEYID family, phase 1 key and IV, once both KE/nonces are known. */
static int
mm_keys(struct ike_mm *mm, struct pa_bytes peer_ke)
{
	uint8_t gxy[OAK_MAX_DH];
	size_t gxylen;
	struct pa_bytes ni = { mm->ni, mm->ni_len }, nr = { mm->nr, mm->nr_len };
	struct pa_bytes psk, g, gi, gr;
	int rc;

	if (mm->p1.auth == ISK_AUTH_PSK && mm->rule.psk == NULL)
		return PA_E_NOTSUP;
	if ((rc = oak_dh_derive(mm->dh, peer_ke, gxy, sizeof(gxy), &gxylen))
	    != 0)
		return rc;
	g.p = gxy;
	g.len = gxylen;
	if (mm->p1.auth == ISK_AUTH_PSK) {
		psk.p = mm->rule.psk->p;
		psk.len = mm->rule.psk->len;
		rc = oak_skeyid_psk(mm->p1.hash, psk, ni, nr, mm->skeyid);
	} else {
		rc = oak_skeyid_sig(mm->p1.hash, ni, nr, g, mm->skeyid);
	}
	if (rc != 0 ||
	    (rc = oak_skeyid_dae(mm->p1.hash, mm->skeyid, g, mm->cky_i,
	    mm->cky_r, mm->skeyid_d, mm->skeyid_a, mm->skeyid_e)) != 0 ||
	    (rc = oak_enc_key(mm->p1.hash, mm->skeyid_e, mm->p1.keylen,
	    mm->key)) != 0)
		goto out;
	gi.p = mm->gxi;
	gi.len = mm->gx_len;
	gr.p = mm->gxr;
	gr.len = mm->gx_len;
	rc = oak_iv_p1(mm->p1.hash, gi, gr, oak_block_len(mm->p1.enc), mm->iv);
	if (rc == 0)
		mm->keyed = true;
out:
	pa_wipe(gxy, sizeof(gxy));
	return rc;
}

/* HASH_I (initiator = true) or HASH_R over the given ID body. */
static int
mm_auth_hash(const struct ike_mm *mm, bool initiator, struct pa_bytes idb,
    uint8_t *out)
{
	struct pa_bytes v[8];
	size_t hl = oak_hash_len(mm->p1.hash), n = 6;

	v[0] = (struct pa_bytes){ initiator ? mm->gxi : mm->gxr, mm->gx_len };
	v[1] = (struct pa_bytes){ initiator ? mm->gxr : mm->gxi, mm->gx_len };
	v[2] = (struct pa_bytes){ initiator ? mm->cky_i : mm->cky_r, 8 };
	v[3] = (struct pa_bytes){ initiator ? mm->cky_r : mm->cky_i, 8 };
	v[4] = (struct pa_bytes){ mm->sai_b, mm->sai_len };
	v[5] = idb;
	if (mm->p1.auth == ISK_AUTH_GSS) {
		const struct ike_mm_krb *e = mm->krb;

		if (e == NULL || e->ctx == NULL)
			return PA_E_STATE;
		/* draft 4.1: ... | GIi | GSSi [| GSSi(n)...] (R2, R4). */
		v[6] = (struct pa_bytes){ initiator ? e->gi_i : e->gi_r,
		    initiator ? e->gi_i_len : e->gi_r_len };
		v[7] = initiator == mm->initiator ?
		    ike_gss_ctx_tokens_sent(e->ctx) :
		    ike_gss_ctx_tokens_received(e->ctx);
		n = 8;
	}
	return oak_prf(mm->p1.hash, mm->skeyid, hl, v, n, out);
}

static uint8_t
natd_type(const struct ike_mm *mm)
{
	return mm->natt == 1 ? ISK_PL_NATD : ISK_PL_NATD_DRAFT;
}

/* NAT-D = HASH(CKY-I | CKY-R | IP | Port), RFC 3947 3.2. */
static int
natd_hash(const struct ike_mm *mm, const struct pa_addr *a, uint16_t port,
    uint8_t *out)
{
	uint8_t pb[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	struct pa_bytes v[4];

	v[0] = (struct pa_bytes){ mm->cky_i, 8 };
	v[1] = (struct pa_bytes){ mm->cky_r, 8 };
	v[2] = (struct pa_bytes){ a->a, pa_addr_len(a->family) };
	v[3] = (struct pa_bytes){ pb, 2 };
	return oak_hash(mm->p1.hash, v, 4, out);
}

/* Our NAT-D payloads: the peer's address as we see it, then ours. */
static int
natd_write(struct ike *ike, struct ike_mm *mm, struct wr *w,
    struct isk_chain *c)
{
	uint8_t h[OAK_MAX_HASH];
	size_t hl = oak_hash_len(mm->p1.hash);
	int rc;

	if (mm->natt == 0)
		return 0;
	if ((rc = natd_hash(mm, &mm->peer, mm->peer_port, h)) != 0 ||
	    (rc = isk_pl_data(w, c, natd_type(mm), h, hl)) != 0 ||
	    (rc = natd_hash(mm, &mm->local, ike->socks[mm->sock].port, h))
	    != 0 || (rc = isk_pl_data(w, c, natd_type(mm), h, hl)) != 0)
		return rc;
	return 0;
}

/* Compare the peer's NAT-D payloads with what we see. */
static void
natd_check(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m,
    uint16_t from_port)
{
	uint8_t h[OAK_MAX_HASH];
	const struct isk_payload *p;
	size_t hl = oak_hash_len(mm->p1.hash), from = 0, n = 0;
	bool src_ok = false;

	if (mm->natt == 0)
		return;
	while ((p = isk_find(m, natd_type(mm), &from)) != NULL) {
		if (n++ == 0) {
			if (natd_hash(mm, &mm->local, ike->socks[mm->sock].port,
			    h) != 0 || p->body.len != hl ||
			    memcmp(p->body.p, h, hl) != 0)
				mm->nat_local = true;
		} else if (natd_hash(mm, &mm->peer, from_port, h) == 0 &&
		    p->body.len == hl && memcmp(p->body.p, h, hl) == 0) {
			src_ok = true;
		}
	}
	if (n == 0) {
		mm->natt = 0;	/* the peer does not do NAT-T after all */
		return;
	}
	mm->nat_peer = !src_ok;
	ike_olog(ike, "NAT-D: %s%s", mm->nat_local ? "we are behind a NAT " :
	    "", mm->nat_peer ? "the peer is behind a NAT" :
	    mm->nat_local ? "" : "no NAT");
}

/*
 * The CAs the rule's certificate methods name, each once; none when one
 * of them takes any trusted CA (then *any).
 */
static size_t
rule_cas(const struct ike_rulecopy *r, const char **out, bool *any)
{
	size_t i, k, n = 0;

	*any = ike_rulecopy_any_ca(r);
	if (*any)
		return 0;
	for (i = 0; i < r->nauths; i++) {
		if (r->auths[i] != ISK_AUTH_RSA || r->ca_dns[i] == NULL)
			continue;
		for (k = 0; k < n && strcmp(out[k], r->ca_dns[i]) != 0; k++)
			;
		if (k == n)
			out[n++] = r->ca_dns[i];
	}
	return n;
}

/*
 * Certificate requests (RSA signature auth): one naming each CA the rule's
 * certificate methods name, or one without a name when any trusted CA
 * will do.
 */
static int
cr_write(struct ike *ike, struct ike_mm *mm, struct wr *w, struct isk_chain *c)
{
	const char *cas[POL_MAX_AUTHS];
	uint8_t *dn;
	size_t dnlen, cr, n, k;
	bool any;
	int rc = 0;

	if (mm->p1.auth != ISK_AUTH_RSA)
		return 0;
	n = rule_cas(&mm->rule, cas, &any);
	for (k = 0; k < (n > 0 ? n : 1) && rc == 0; k++) {
		dn = NULL;
		dnlen = 0;
		if (n > 0 && ike_creds_ca_der(ike->creds, cas[k], &dn,
		    &dnlen) != 0)
			dnlen = 0;
		if ((rc = isk_pl_open(w, c, ISK_PL_CR, &cr)) == 0) {
			wr_u8(w, ISK_CERT_X509_SIG);
			if (dnlen > 0)
				wr_bytes(w, dn, dnlen);
			rc = isk_pl_close(w, cr);
		}
		free(dn);
	}
	return rc;
}

static uint8_t
natt_from_vid(enum isk_vid v)
{
	switch (v) {
	case ISK_VID_NATT_RFC:
		return 1;
	case ISK_VID_NATT_DRAFT02N:
	case ISK_VID_NATT_DRAFT02:
	case ISK_VID_NATT_DRAFT03:
		return 2;
	default:
		return 0;
	}
}

/* What the peer's VIDs in MM #1 / #2 tell about it. */
static void
mm_note_vids(struct ike_mm *mm, const struct isk_msg *m)
{
	const struct isk_payload *vp;
	size_t from = 0;

	while ((vp = isk_find(m, ISK_PL_VID, &from)) != NULL) {
		enum isk_vid v = isk_vid_classify(vp->body, &mm->peer_ms_ver);

		if (v == ISK_VID_MS_NT5)
			mm->peer_ms = true;
		else if (v == ISK_VID_DPD)
			mm->peer_dpd = true;
		else if (v == ISK_VID_OURS)
			mm->peer_ours = true;
		else if (natt_from_vid(v) != 0) {
			mm->peer_natt = true;
			if (mm->natt == 0 || natt_from_vid(v) < mm->natt)
				mm->natt = natt_from_vid(v);
		}
	}
}

/* Write KE and NONCE (ours) into an MM #3/#4. */
static int
mm_write_ke_nonce(struct ike *ike, struct ike_mm *mm, struct wr *w,
    struct isk_chain *c, bool initiator)
{
	struct pa_bytes pub;
	uint8_t **gx = initiator ? &mm->gxi : &mm->gxr;
	uint8_t **n = initiator ? &mm->ni : &mm->nr;
	size_t *nl = initiator ? &mm->ni_len : &mm->nr_len;
	int rc;

	if ((rc = ike_dh_get(ike, mm->p1.group, &mm->dh)) != 0)
		return rc;
	pub = oak_dh_pub(mm->dh);
	if ((*gx = dup_bytes(pub.p, pub.len)) == NULL ||
	    (*n = malloc(IKE_NONCE_LEN)) == NULL)
		return PA_E_NOMEM;
	mm->gx_len = pub.len;
	*nl = IKE_NONCE_LEN;
	if ((rc = ike_rand(ike, *n, IKE_NONCE_LEN)) != 0)
		return rc;
	if ((rc = isk_pl_data(w, c, ISK_PL_KE, pub.p, pub.len)) != 0 ||
	    (rc = isk_pl_data(w, c, ISK_PL_NONCE, *n, IKE_NONCE_LEN)) != 0)
		return rc;
	return 0;
}

/* Take the peer's KE and NONCE out of a message. */
static int
mm_read_ke_nonce(struct ike_mm *mm, const struct isk_msg *m, bool peer_init,
    struct pa_bytes *ke)
{
	const struct isk_payload *k, *n;
	uint8_t **np = peer_init ? &mm->ni : &mm->nr;
	size_t *nl = peer_init ? &mm->ni_len : &mm->nr_len;

	if ((k = isk_find(m, ISK_PL_KE, NULL)) == NULL ||
	    (n = isk_find(m, ISK_PL_NONCE, NULL)) == NULL)
		return PA_E_FORMAT;
	if (k->body.len != oak_dh_len(mm->p1.group))
		return PA_E_VERIFY;
	if ((*np = dup_bytes(n->body.p, n->body.len)) == NULL)
		return PA_E_NOMEM;
	*nl = n->body.len;
	*ke = k->body;
	return 0;
}

/* Is there any other Main Mode or Quick Mode SA with mm's peer? */
static bool
other_sa_with_peer(struct ike *ike, const struct ike_mm *mm)
{
	const struct ike_mm *o;
	const struct ike_qm *qm;

	for (o = ike->mm_head; o != NULL; o = o->next)
		if (o != mm && o->state != MM_DEAD &&
		    pa_addr_eq(&o->peer, &mm->peer))
			return true;
	for (qm = ike->qm_head; qm != NULL; qm = qm->next)
		if (qm->state == QM_DONE && pa_addr_eq(&qm->peer, &mm->peer))
			return true;
	return false;
}

/* Our phase 1 ID and its hash, encrypted: MM #5 or #6. */
static int
mm_send_id(struct ike *ike, struct ike_mm *mm, bool initiator)
{
	uint8_t buf[6144], hash[OAK_MAX_HASH], sig[1024];
	struct isk_hdr h;
	struct isk_chain c;
	struct ike_ts me;
	struct pa_bytes idb;
	struct wr w;
	size_t id, hl = oak_hash_len(mm->p1.hash), siglen, cp;
	bool rsa = mm->p1.auth == ISK_AUTH_RSA;
	int rc;

	memset(&me, 0, sizeof(me));
	me.net.addr = mm->local;
	me.net.len = pa_addr_bits(mm->local.family);
	mm_hdr(mm, &h, true);
	wr_init(&w, buf, sizeof(buf));
	if ((rc = isk_hdr_write(&w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(&w, &c, ISK_PL_ID, &id)) != 0)
		return rc;
	if (rsa) {
		/* ID_DER_ASN1_DN: our certificate's subject. */
		wr_u8(&w, ISK_ID_DER_DN);
		wr_u8(&w, 0);
		wr_u16(&w, 0);
		wr_bytes(&w, ike_creds_dn(ike->creds).p,
		    ike_creds_dn(ike->creds).len);
	} else if (ike->cfg.unique_ids) {
		char fq[40];

		snprintf(fq, sizeof(fq), "mm-%02x%02x%02x%02x%02x%02x%02x%02x",
		    mm->cky_i[0], mm->cky_i[1], mm->cky_i[2], mm->cky_i[3],
		    mm->cky_i[4], mm->cky_i[5], mm->cky_i[6], mm->cky_i[7]);
		wr_u8(&w, ISK_ID_FQDN);
		wr_u8(&w, 0);
		wr_u16(&w, 0);
		wr_bytes(&w, fq, strlen(fq));
	} else if ((rc = ike_ts_write(&w, &me)) != 0)
		return rc;
	if ((rc = isk_pl_close(&w, id)) != 0 ||
	    (rc = wr_view(&w, id + ISK_GEN_LEN, w.len - id - ISK_GEN_LEN,
	    &idb)) != 0 ||
	    (rc = mm_auth_hash(mm, initiator, idb, hash)) != 0)
		return rc;
	if (rsa) {
		if ((rc = isk_pl_open(&w, &c, ISK_PL_CERT, &cp)) != 0)
			return rc;
		wr_u8(&w, ISK_CERT_X509_SIG);
		wr_bytes(&w, ike_creds_cert(ike->creds).p,
		    ike_creds_cert(ike->creds).len);
		if ((rc = isk_pl_close(&w, cp)) != 0 ||
		    (rc = ike_cert_sign(ike->creds, hash, hl, sig, sizeof(sig),
		    &siglen)) != 0 ||
		    (rc = isk_pl_data(&w, &c, ISK_PL_SIG, sig, siglen)) != 0)
			return rc;
	} else if (mm->p1.auth == ISK_AUTH_GSS) {
		/* HASH_I / HASH_R protected with GSS_Wrap (R3). */
		uint8_t wb[1024];
		struct ike_gss_err err;
		struct wr ww;

		wr_init(&ww, wb, sizeof(wb));
		if ((rc = ike_gss_hash_wrap(mm->krb->ctx, hash, hl, &ww,
		    &err)) != 0) {
			ike_olog(ike, "%s", err.text);
			return rc;
		}
		if ((rc = isk_pl_data(&w, &c, ISK_PL_HASH, ww.p, ww.len)) != 0)
			return rc;
	} else if ((rc = isk_pl_data(&w, &c, ISK_PL_HASH, hash, hl)) != 0)
		return rc;
	if (initiator && !other_sa_with_peer(ike, mm)) {
		/* INITIAL-CONTACT: no other SA with this peer exists. */
		size_t n;

		if ((rc = isk_pl_open(&w, &c, ISK_PL_N, &n)) != 0)
			return rc;
		wr_u32(&w, ISK_DOI_IPSEC);
		wr_u8(&w, ISK_PROTO_ISAKMP);
		wr_u8(&w, 16);
		wr_u16(&w, ISK_N_INITIAL_CONTACT);
		wr_bytes(&w, mm->cky_i, 8);
		wr_bytes(&w, mm->cky_r, 8);
		if ((rc = isk_pl_close(&w, n)) != 0)
			return rc;
		mm->initial_contact_sent = true;
	}
	if ((rc = ike_encrypt_msg(mm, mm->iv, &w, 0)) != 0)
		return rc;
	return mm_send(ike, mm, &w, initiator);
}

/* Decrypt an MM #5/#6 and check the peer's ID and HASH. */
static int
mm_check_id(struct ike *ike, struct ike_mm *mm, struct pa_bytes body,
    uint8_t np, bool peer_init, bool *initial_contact, char *why,
    size_t whylen)
{
	bool rsa = mm->p1.auth == ISK_AUTH_RSA;

	uint8_t plain[IKE_MAX_PKT], iv[OAK_MAX_BLOCK], want[OAK_MAX_HASH];
	struct isk_msg *m = NULL;
	const struct isk_payload *id, *hp, *n;
	struct isk_id idp;
	size_t plen, hl = oak_hash_len(mm->p1.hash), from = 0;
	int rc;

	*initial_contact = false;
	memcpy(iv, mm->iv, sizeof(iv));
	if ((rc = ike_decrypt_msg(mm, iv, body.p, body.len, plain, &plen)) != 0)
		return rc;
	if ((m = malloc(sizeof(*m))) == NULL)
		return PA_E_NOMEM;
	if ((rc = isk_parse_chain((struct pa_bytes){ plain, plen }, np, true, m))
	    != 0 || (rc = isk_check_payloads(m)) != 0) {
		/* Garbage after decryption: most likely a wrong PSK. */
		rc = PA_E_VERIFY;
		goto out;
	}
	if ((id = isk_find(m, ISK_PL_ID, NULL)) == NULL ||
	    (hp = isk_find(m, rsa ? ISK_PL_SIG : ISK_PL_HASH, NULL)) == NULL) {
		rc = PA_E_FORMAT;
		goto out;
	}
	if ((rc = isk_parse_id(id->body, &idp)) != 0)
		goto out;
	if ((rc = mm_auth_hash(mm, peer_init, id->body, want)) != 0)
		goto out;
	if (rsa) {
		const struct isk_payload *cp;
		struct isk_cert cert;
		size_t cf = 0;

		/* The first X.509 signature certificate is the peer's. */
		while ((cp = isk_find(m, ISK_PL_CERT, &cf)) != NULL)
			if (isk_parse_cert(cp->body, &cert) == 0 &&
			    cert.enc == ISK_CERT_X509_SIG)
				break;
		if (cp == NULL) {
			snprintf(why, whylen, "no certificate from the peer");
			rc = PA_E_PERM;
			goto out;
		}
		const char *cas[POL_MAX_AUTHS];
		bool any;
		size_t nca = rule_cas(&mm->rule, cas, &any);

		rc = ike_cert_verify_peer(ike->creds, cas, nca, cert.data,
		    &idp, want, hl, hp->body, mm->peer_id,
		    sizeof(mm->peer_id), why, whylen);
		if (rc != 0)
			goto out;
	} else if (mm->p1.auth == ISK_AUTH_GSS) {
		struct ike_gss_err err;

		if ((rc = ike_gss_hash_verify(mm->krb->ctx, hp->body, want, hl,
		    &err)) != 0) {
			/* Truncated to the caller's buffer on purpose. */
			size_t tl = strnlen(err.text, whylen - 1);

			memcpy(why, err.text, tl);
			why[tl] = '\0';
			rc = PA_E_VERIFY;
			goto out;
		}
		/* The principal Kerberos vouched for, not the ID payload. */
		snprintf(mm->peer_id, sizeof(mm->peer_id), "%s",
		    ike_gss_ctx_peer(mm->krb->ctx));
	} else {
		if (hp->body.len != hl ||
		    CRYPTO_memcmp(hp->body.p, want, hl) != 0) {
			rc = PA_E_VERIFY;
			goto out;
		}
		(void)ike_id_text(&idp, mm->peer_id, sizeof(mm->peer_id));
	}
	while ((n = isk_find(m, ISK_PL_N, &from)) != NULL) {
		struct isk_notify nt;

		if (isk_parse_notify(n->body, &nt) == 0 &&
		    nt.type == ISK_N_INITIAL_CONTACT)
			*initial_contact = true;
	}
	memcpy(mm->iv, iv, sizeof(iv));
	rc = 0;
out:
	pa_wipe(plain, sizeof(plain));
	free(m);
	return rc;
}

/* INITIAL-CONTACT: the peer rebooted; forget our older SAs with it. */
static void
mm_initial_contact(struct ike *ike, struct ike_mm *mm)
{
	struct ike_mm *o;
	struct ike_qm *qm;

	for (qm = ike->qm_head; qm != NULL; qm = qm->next)
		if (qm->state == QM_DONE && pa_addr_eq(&qm->peer, &mm->peer) &&
		    qm->mm != mm)
			ike_qm_kill(ike, qm, true, "peer sent INITIAL-CONTACT");
	for (o = ike->mm_head; o != NULL; o = o->next)
		if (o != mm && o->state == MM_DONE &&
		    pa_addr_eq(&o->peer, &mm->peer))
			ike_mm_kill(ike, o, "peer sent INITIAL-CONTACT");
}

static void
mm_auth_failed(struct ike *ike, struct ike_mm *mm, int rc, const char *why)
{
	char pa[PA_ADDRSTRLEN], pid[300], reason[200];
	const char *kv[4];
	bool rsa = mm->p1.auth == ISK_AUTH_RSA;

	pa_addr_str(&mm->peer, pa, sizeof(pa));
	if (rsa)
		snprintf(pid, sizeof(pid), "Certificate based Identity. Peer "
		    "Subject %s. Peer IP Address: %s", mm->peer_id[0] != '\0' ?
		    mm->peer_id : "(unknown)", pa);
	else if (mm->p1.auth == ISK_AUTH_GSS)
		ike_gss_audit_identity(mm->krb != NULL && mm->krb->ctx != NULL &&
		    ike_gss_ctx_peer(mm->krb->ctx) != NULL ?
		    ike_gss_ctx_peer(mm->krb->ctx) : "(unknown)", pid,
		    sizeof(pid));
	else
		snprintf(pid, sizeof(pid), "Preshared key ID. Peer IP Address: "
		    "%s", pa);
	kv[0] = "Peer Identity"; kv[1] = pid;
	kv[2] = "Filter"; kv[3] = mm->rule.name;
	if (rc == PA_E_PERM) {
		ike->st.cert_failures++;
		ike_audit(ike, AUDIT_IKE_CERT_TRUST, kv, 4);
		snprintf(reason, sizeof(reason), "Certificate trust failed: %s",
		    why);
		ike_notify_plain(ike, mm->sock, &mm->peer, mm->peer_port,
		    mm->cky_i, mm->cky_r, ISK_N_INVALID_CERTIFICATE);
	} else {
		ike->st.auth_failures++;
		ike_audit(ike, AUDIT_IKE_AUTH_FAILED, kv, 4);
		snprintf(reason, sizeof(reason), "Authentication failed: %s",
		    why[0] != '\0' ? why : rsa ? "bad signature" :
		    "preshared key mismatch or corrupted message");
		ike_notify_plain(ike, mm->sock, &mm->peer, mm->peer_port,
		    mm->cky_i, mm->cky_r, ISK_N_AUTHENTICATION_FAILED);
	}
	mm_fail(ike, mm, "Peer", reason);
}

/* ---- Kerberos (GSS-API) ------------------------------------------- */

static bool
rule_has_gss(const struct ike_rulecopy *r)
{
	size_t i;

	for (i = 0; i < r->nauths; i++)
		if (r->auths[i] == ISK_AUTH_GSS)
			return true;
	return false;
}

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
	    (rc = wr_view(&w, 4, w.len - 4, &v)) != 0)
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
	if ((e->tok = dup_bytes(tok.p, tok.len)) == NULL)
		return PA_E_NOMEM;
	e->toklen = tok.len;
	return 0;
}

/* The GSS token payload (129), draft-07 layout with vendor octet 0 (R1). */
static int
gss_write(const struct ike_mm *mm, struct wr *w, struct isk_chain *c)
{
	size_t pl;
	int rc;

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

/* Initiator, MM #3: KE, Ni (and our GSS token). */
static int
mm_send3(struct ike *ike, struct ike_mm *mm)
{
	uint8_t buf[IKE_MAX_PKT];
	struct isk_hdr oh;
	struct isk_chain c;
	struct wr w;
	int rc;

	mm_hdr(mm, &oh, false);
	wr_init(&w, buf, sizeof(buf));
	if ((rc = isk_hdr_write(&w, &oh, &c)) != 0 ||
	    (rc = mm_write_ke_nonce(ike, mm, &w, &c, true)) != 0 ||
	    (rc = gss_write(mm, &w, &c)) != 0 ||
	    (rc = cr_write(ike, mm, &w, &c)) != 0 ||
	    (rc = natd_write(ike, mm, &w, &c)) != 0 ||
	    (rc = isk_hdr_close(&w, 0)) != 0)
		return rc;
	mm->state = MM_I_KE_SENT;
	(void)mm_send(ike, mm, &w, true);
	return 0;
}

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
		mm_fail(ike, mm, "Peer", "Kerberos: the responder sent no "
		    "usable GSS Identity Name");
		return;
	}
	if ((cred = ike_krb_cred(ike)) == NULL ||
	    (e = ike_mm_krb_get(ike, mm)) == NULL) {
		mm_fail(ike, mm, "Me", "Kerberos: our credentials are gone");
		return;
	}
	memcpy(e->gi_r, gir, girlen);
	e->gi_r_len = girlen;
	if (krb_own_gi(ike, e->gi_i, sizeof(e->gi_i), &e->gi_i_len) != 0) {
		mm_fail(ike, mm, "Me", "Kerberos: our GSS Identity");
		return;
	}
	memset(&cc, 0, sizeof(cc));
	cc.role = IKE_GSS_INITIATOR;
	cc.target = target;
	if (ike_gss_ctx_new(cred, &cc, &e->ctx, &err) != 0) {
		mm_fail(ike, mm, "Me", err.text);
		return;
	}
	if (ike_mm_krb_step_async(ike, mm) != 0) {
		mm_fail(ike, mm, "Me", "Kerberos: too many requests queued");
		return;
	}
	/* No MM #1 retransmission while the worker asks the KDC. */
	mm->retx_at = 0;
	mm->state = MM_I_GSS_WAIT;
	ike_olog(ike, "Kerberos: asking for a ticket for %s", target);
}

void
ike_mm_krb_step_done(struct ike *ike, struct ike_mm *mm, int rc,
    struct pa_bytes out, bool complete, const struct ike_gss_err *err)
{
	(void)complete;
	if (mm->state != MM_I_GSS_WAIT)
		return;
	if (rc != 0) {
		mm_fail(ike, mm, "Me", err->text);
		return;
	}
	if (out.len == 0 || krb_keep_tok(mm->krb, out) != 0 ||
	    mm_send3(ike, mm) != 0) {
		mm_fail(ike, mm, "Me", "Could not build MM #3");
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

	memset(&h, 0, sizeof(h));
	memcpy(h.cky_i, mm->cky_i, 8);
	memcpy(h.cky_r, mm->cky_r, 8);
	h.exch = ISK_EXCH_INFO;
	wr_init(&w, buf, sizeof(buf));
	if (isk_hdr_write(&w, &h, &c) != 0 ||
	    isk_pl_open(&w, &c, ISK_PL_N, &n) != 0)
		return;
	wr_u32(&w, ISK_DOI_IPSEC);
	wr_u8(&w, ISK_PROTO_ISAKMP);
	wr_u8(&w, 16);
	wr_u16(&w, ISK_N_AUTHENTICATION_FAILED);
	wr_bytes(&w, mm->cky_i, 8);
	wr_bytes(&w, mm->cky_r, 8);
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
		mm_fail(ike, mm, "Me", "Kerberos: our credentials are gone");
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
	mm_fail(ike, mm, "Me", err.text);
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
	mm_fail(ike, mm, "Peer", err.text);
	return rc;
}

/*
 * The peer's KE and nonce from MM #3 (we respond) or MM #4 (we initiate),
 * kept, and its Kerberos token taken. Not 0: drop the packet (counted if
 * malformed; PA_E_AGAIN while a GSS step runs on a worker).
 */
static int
mm_take_ke(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m,
    struct pa_bytes *ke)
{
	uint8_t **gx = mm->initiator ? &mm->gxr : &mm->gxi;
	int rc;

	if ((rc = mm_read_ke_nonce(mm, m, !mm->initiator, ke)) != 0) {
		ike->st.invalid_packets++;
		return rc;
	}
	if ((*gx = dup_bytes(ke->p, ke->len)) == NULL)
		return PA_E_NOMEM;
	if (mm->p1.auth != ISK_AUTH_GSS)
		return 0;
	rc = mm->initiator ? mm_krb_finish(ike, mm, m) :
	    mm_krb_accept(ike, mm, m);
	if (rc == PA_E_FORMAT)
		ike->st.invalid_packets++;
	return rc;
}

/* The keys from the peer's KE, or the negotiation fails (547). */
static int
mm_keys_or_fail(struct ike *ike, struct ike_mm *mm, struct pa_bytes ke)
{
	int rc;

	if ((rc = mm_keys(mm, ke)) != 0)
		mm_fail(ike, mm, "Peer", rc == PA_E_VERIFY ?
		    "Invalid Diffie-Hellman public value" :
		    "Key computation failed");
	return rc;
}

/*
 * The peer's encrypted ID and authentication, MM #5 (from_init) or MM #6.
 * Not 0: drop the packet (counted), or the authentication failed (545).
 */
static int
mm_take_id(struct ike *ike, struct ike_mm *mm, const struct isk_hdr *h,
    struct pa_bytes body, bool from_init, bool *ic)
{
	char why[200];
	int rc;

	if (!(h->flags & ISK_FLAG_ENC)) {
		ike->st.invalid_packets++;
		return PA_E_FORMAT;
	}
	why[0] = '\0';
	if ((rc = mm_check_id(ike, mm, body, h->np, from_init, ic, why,
	    sizeof(why))) != 0) {
		if (rc == PA_E_VERIFY || rc == PA_E_PERM)
			mm_auth_failed(ike, mm, rc, why);
		else
			ike->st.invalid_packets++;
	}
	return rc;
}

void
ike_mm_krb_cred_done(struct ike *ike, struct ike_mm *mm, bool ok)
{
	const struct ike_gss_err *err = ike_krb_cred_error(ike);
	bool wait;

	if (!ok && err != NULL)
		/* 547 for Kerberos; then the rule's next method. */
		ike_audit_fail(ike, MM_MODE, &mm->peer, "Me", err->text);
	mm->noffers = ike_krb_p1_offers(ike, &mm->rule, mm->offers, 16, &wait);
	if (mm->noffers == 0 || mm_send1(ike, mm) != 0) {
		if (ok || err == NULL)
			ike_audit_fail(ike, MM_MODE, &mm->peer, "Me",
			    "No usable authentication method");
		ike_mm_kill(ike, mm, "no usable authentication method");
	}
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
	if (n > 0 && ike_mm_initiate(ike, &old->peer, &rc, &nmm) == 0) {
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
krb_error_reason(struct ike_mm *mm, const struct isk_msg *m, char *r,
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

static void
bad_proposal(struct ike *ike, const struct pa_addr *peer, const char *rule,
    const char *expected, const char *received)
{
	const char *kv[10];

	kv[0] = "Mode"; kv[1] = MM_MODE;
	kv[2] = "Filter"; kv[3] = rule;
	kv[4] = "Attribute"; kv[5] = "Main Mode transform";
	kv[6] = "Expected value"; kv[7] = expected;
	kv[8] = "Received value"; kv[9] = received;
	ike_audit(ike, AUDIT_IKE_BAD_PROPOSAL, kv, 10);
	ike_audit_fail(ike, MM_MODE, peer, "Me", "No proposal chosen");
}

static const uint8_t zero16[16];

/*
 * DoS-cookie mode (docs/ike.md): the responder cookie for CKY-I from
 * peer:port to our socket in time slice `slice` (150 s, as Windows):
 * HMAC-SHA256 under a secret drawn at start, first 8 bytes. Never zero
 * in its first two bytes, like our random responder cookies.
 */
#define IKE_DOS_SLICE_MS	150000

static int
dos_cookie(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const uint8_t cky_i[8], uint64_t slice, uint8_t out[8])
{
	uint8_t mac[32], pb[2], sb[8];
	struct pa_bytes v[5];
	int rc, i;

	pb[0] = (uint8_t)(port >> 8);
	pb[1] = (uint8_t)port;
	for (i = 0; i < 8; i++)
		sb[i] = (uint8_t)(slice >> (56 - 8 * i));
	v[0] = (struct pa_bytes){ cky_i, 8 };
	v[1] = (struct pa_bytes){ from->a, sizeof(from->a) };
	v[2] = (struct pa_bytes){ pb, 2 };
	v[3] = (struct pa_bytes){ ike->socks[sock].addr.a,
	    sizeof(ike->socks[sock].addr.a) };
	v[4] = (struct pa_bytes){ sb, 8 };
	if ((rc = oak_prf_keyed(ike->dos_mac, v, 5, mac)) != 0)
		return rc;
	memcpy(out, mac, 8);
	if (out[0] == 0 && out[1] == 0)
		out[0] = 1;
	return 0;
}

/* cky_r is a cookie we handed out in this slice or the previous one. */
static bool
dos_cookie_ok(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const struct isk_hdr *h)
{
	uint64_t slice = ike_now() / IKE_DOS_SLICE_MS;
	uint8_t c[8];
	int i;

	for (i = 0; i < 2 && slice >= (uint64_t)i; i++)
		if (dos_cookie(ike, sock, from, port, h->cky_i,
		    slice - (uint64_t)i, c) == 0 &&
		    CRYPTO_memcmp(c, h->cky_r, 8) == 0)
			return true;
	return false;
}

/*
 * In DoS-cookie mode, answer MM #1 without state: an unprotected
 * NOTIFY_DOS_COOKIE (MS-IKEE 2.2.6) carrying the cookie, which the
 * initiator puts in the responder cookie field of MM #1 sent again.
 */
static void
dos_answer(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const struct isk_hdr *h)
{
	uint8_t buf[128], ck[8];
	uint64_t now = ike_now();
	size_t len;

	/* The cookie goes in the header and as the notify's data. */
	if (dos_cookie(ike, sock, from, port, h->cky_i,
	    now / IKE_DOS_SLICE_MS, ck) != 0 ||
	    ike_notify_plain_msg(buf, sizeof(buf), h->cky_i, ck, zero16,
	    ISK_N_MS_DOS_COOKIE, ck, 8, &len) != 0)
		return;
	if (ike_send(ike, sock, from, port, buf, len) == 0)
		ike->st.dos_cookies_sent++;
	if (now - ike->last_dos_audit > 10000 || ike->last_dos_audit == 0) {
		const char *kv[2] = { "Text", "Possible denial of service: "
		    "IKE DoS-prevention mode, Main Mode requests answered "
		    "with cookies" };

		ike->last_dos_audit = now;
		ike_audit(ike, AUDIT_IKE_NOTIFICATION, kv, 2);
		ike_olog(ike, "DoS-prevention mode: %llu half-open Main Modes",
		    (unsigned long long)ike->st.active_receive);
	}
}

/*
 * Under pressure: dos_halfopen half-open responder Main Modes, or more new
 * MM #1 without a cookie than that in this second or the last. Counted
 * here, per request without a cookie: the rate catches a flood whose
 * requests make no state (no rule for their spoofed sources) as well.
 */
static bool
dos_pressure(struct ike *ike)
{
	uint64_t sec = ike_now() / 1000;

	if (sec != ike->mm1_sec) {
		ike->mm1_prev = sec == ike->mm1_sec + 1 ? ike->mm1_cur : 0;
		ike->mm1_cur = 0;
		ike->mm1_sec = sec;
	}
	if (ike->mm1_cur < UINT32_MAX)
		ike->mm1_cur++;
	return ike->st.active_receive >= ike->cfg.dos_halfopen ||
	    ike->mm1_cur > ike->cfg.dos_halfopen ||
	    ike->mm1_prev > ike->cfg.dos_halfopen;
}

/*
 * Half-open responder Main Modes from this address. Walked only below
 * the DoS threshold (past it no MM #1 without a cookie makes state), so
 * at most that many are half-open while it runs.
 */
static unsigned
halfopen_from(const struct ike *ike, const struct pa_addr *from)
{
	const struct ike_mm *mm;
	unsigned n = 0;

	if (ike->st.active_receive == 0)
		return 0;
	for (mm = ike->mm_head; mm != NULL; mm = mm->next)
		if (!mm->initiator && mm->state != MM_DONE &&
		    mm->state != MM_DEAD && pa_addr_eq(&mm->peer, from))
			n++;
	return n;
}

/* Responder, MM #1; cookie: our responder cookie (DoS mode), or NULL. */
static void
mm_respond(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const struct isk_hdr *h, const struct isk_msg *m,
    const uint8_t *cookie)
{
	struct isk_sa *sa = NULL;
	struct ike_rulecopy rule;
	struct ike_p1 ours[16], peer;
	const struct isk_payload *sap, *vp;
	const struct isk_xform *chosen = NULL;
	struct ike_mm *mm = NULL;
	uint8_t buf[2048];
	struct isk_hdr rh;
	struct isk_chain c, props, xfs;
	struct wr w;
	char a[PA_ADDRSTRLEN], exp[96], got[96];
	size_t nours, i, k, sapos, pr, xf, from_i = 0;
	bool wait, gss_vid = false;
	uint32_t msver;
	int rc;

	memset(&rule, 0, sizeof(rule));
	pa_addr_str(from, a, sizeof(a));
	if (ike->st.active_receive >= ike->cfg.max_halfopen) {
		uint64_t now = ike_now();

		ike->st.dropped_halfopen++;
		if (now - ike->last_dos_audit > 10000 ||
		    ike->last_dos_audit == 0) {
			const char *kv[2] = { "Text", "Possible denial of "
			    "service: half-open Main Mode limit reached, new "
			    "requests dropped" };

			ike->last_dos_audit = now;
			ike_audit(ike, AUDIT_IKE_NOTIFICATION, kv, 2);
		}
		return;
	}
	if ((sap = isk_find(m, ISK_PL_SA, NULL)) == NULL) {
		ike->st.invalid_packets++;
		return;
	}
	if ((sa = malloc(sizeof(*sa))) == NULL)
		return;
	if (isk_parse_sa(sap->body, sa) != 0 || sa->nprops != 1 ||
	    sa->props[0].proto != ISK_PROTO_ISAKMP) {
		ike->st.invalid_packets++;
		ike_notify_plain(ike, sock, from, port, h->cky_i, h->cky_r,
		    ISK_N_BAD_PROPOSAL_SYNTAX);
		goto out;
	}
	if (ike_rule_for_peer(ike, from, &rule) != 0) {
		ike_olog(ike, "MM #1 from %s: no rule for this peer", a);
		ike_notify_plain(ike, sock, from, port, h->cky_i, h->cky_r,
		    ISK_N_NO_PROPOSAL_CHOSEN);
		ike_audit_fail(ike, MM_MODE, from, "Me", "No policy configured");
		goto out;
	}
	nours = ike_krb_p1_offers(ike, &rule, ours, 16, &wait);
	if (wait) {
		/* Our Kerberos tickets are on their way: the peer retransmits. */
		ike_olog(ike, "MM #1 from %s: waiting for our Kerberos "
		    "tickets", a);
		goto out;
	}
	/* 65001 means Kerberos only with one of these VIDs (draft 3.4). */
	while ((vp = isk_find(m, ISK_PL_VID, &from_i)) != NULL)
		if ((vp->body.len == IKE_GSS_VID_LEN &&
		    (memcmp(vp->body.p, IKE_GSS_VID_GENERIC, IKE_GSS_VID_LEN)
		    == 0 || memcmp(vp->body.p, IKE_GSS_VID_W2K,
		    IKE_GSS_VID_LEN) == 0)) ||
		    isk_vid_classify(vp->body, &msver) == ISK_VID_MS_NT5)
			gss_vid = true;
	from_i = 0;
	for (i = 0; i < nours && chosen == NULL; i++)
		for (k = 0; k < sa->props[0].nxf && chosen == NULL; k++) {
			const struct isk_xform *x =
			    &sa->xf[sa->props[0].xf_first + k];

			if (ours[i].auth == ISK_AUTH_GSS && !gss_vid)
				continue;
			if (ike_krb_p1_from_xform(x, &peer) == 0 &&
			    ike_p1_eq(&ours[i], &peer)) {
				chosen = x;
				if (peer.life_sec > ours[i].life_sec ||
				    peer.life_sec == 0)
					peer.life_sec = ours[i].life_sec;
				peer.qm_limit = ours[i].qm_limit;
			}
		}
	if (chosen == NULL) {
		snprintf(exp, sizeof(exp), "%s", nours > 0 ?
		    ike_p1_str(&ours[0], got, sizeof(got)) : "(no usable method)");
		if (ike_krb_p1_from_xform(&sa->xf[0], &peer) == 0)
			ike_p1_str(&peer, got, sizeof(got));
		else
			snprintf(got, sizeof(got), "unsupported transform");
		ike_olog(ike, "MM #1 from %s: no proposal chosen (expected %s, "
		    "received %s)", a, exp, got);
		ike_notify_plain(ike, sock, from, port, h->cky_i, h->cky_r,
		    ISK_N_NO_PROPOSAL_CHOSEN);
		if (rule_has_gss(&rule) && ike_krb_cred_error(ike) != NULL)
			/* Kerberos is the rule's and we have no tickets. */
			ike_audit_fail(ike, MM_MODE, from, "Me",
			    ike_krb_cred_error(ike)->text);
		else
			bad_proposal(ike, from, rule.name, exp, got);
		goto out;
	}
	if ((mm = ike_mm_new(ike, false)) == NULL)
		goto out;
	mm->rule = rule;
	memset(&rule, 0, sizeof(rule));
	mm->p1 = peer;
	mm->peer = *from;
	mm->peer_port = port;
	mm->sock = sock;
	mm->local = ike->socks[sock].addr;
	if (pa_addr_is_unset(&mm->local) ||
	    memcmp(mm->local.a, zero16, 16) == 0) {
		struct pa_addr l;

		if (ike_sock_for_peer(ike, from, &l) >= 0)
			mm->local = l;
	}
	memcpy(mm->cky_i, h->cky_i, 8);
	if (cookie != NULL)
		memcpy(mm->cky_r, cookie, 8);
	else
		do {
			if (ike_rand(ike, mm->cky_r, 8) != 0)
				goto fail;
		} while (mm->cky_r[0] == 0 && mm->cky_r[1] == 0);
	ike_mm_hash_add(ike, mm);
	if ((mm->sai_b = dup_bytes(sap->body.p, sap->body.len)) == NULL)
		goto fail;
	mm->sai_len = sap->body.len;
	if (mm->p1.auth == ISK_AUTH_GSS) {
		struct ike_mm_krb *e;
		struct pa_bytes gi = { NULL, 0 };

		if ((e = ike_mm_krb_get(ike, mm)) == NULL)
			goto fail;
		if (ike_krb_xform_gi(chosen, &gi) && gi.len <= sizeof(e->gi_i)) {
			if (gi.len > 0)
				memcpy(e->gi_i, gi.p, gi.len);
			e->gi_i_len = gi.len;
		}
		if (krb_own_gi(ike, e->gi_r, sizeof(e->gi_r), &e->gi_r_len)
		    != 0)
			goto fail;
	}
	mm_note_vids(mm, m);
	if (ike_natt_sock(ike, sock) < 0)
		mm->natt = 0;
	/* MM #2: our choice, the peer's transform as it sent it. */
	mm_hdr(mm, &rh, false);
	wr_init(&w, buf, sizeof(buf));
	if (isk_hdr_write(&w, &rh, &c) != 0 ||
	    isk_pl_open(&w, &c, ISK_PL_SA, &sapos) != 0)
		goto fail;
	wr_u32(&w, ISK_DOI_IPSEC);
	wr_u32(&w, ISK_SIT_IDENTITY_ONLY);
	isk_chain_init(&props);
	if (isk_pl_open(&w, &props, ISK_PL_P, &pr) != 0)
		goto fail;
	wr_u8(&w, sa->props[0].num);
	wr_u8(&w, ISK_PROTO_ISAKMP);
	wr_u8(&w, 0);
	wr_u8(&w, 1);
	if (mm->p1.auth == ISK_AUTH_GSS) {
		/* Our transform, carrying our GSS Identity (GIr). */
		if (ike_krb_write_xform(ike, &w, &mm->p1, chosen->num) != 0)
			goto fail;
	} else {
		isk_chain_init(&xfs);
		if (isk_pl_open(&w, &xfs, ISK_PL_T, &xf) != 0)
			goto fail;
		wr_u8(&w, chosen->num);
		wr_u8(&w, chosen->id);
		wr_u16(&w, 0);
		wr_bytes(&w, chosen->attrs.p, chosen->attrs.len);
		if (isk_pl_close(&w, xf) != 0)
			goto fail;
	}
	if (mm->p1.auth == ISK_AUTH_GSS && (isk_pl_close(&w, pr) != 0 ||
	    isk_pl_close(&w, sapos) != 0 ||
	    isk_pl_data(&w, &c, ISK_PL_VID, (const uint8_t *)
	    IKE_GSS_VID_GENERIC, IKE_GSS_VID_LEN) != 0 ||
	    isk_pl_data(&w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_OURS), 16)
	    != 0 || isk_pl_data(&w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_DPD),
	    16) != 0))
		goto fail;
	if (mm->p1.auth != ISK_AUTH_GSS && (isk_pl_close(&w, pr) != 0 ||
	    isk_pl_close(&w, sapos) != 0 ||
	    isk_pl_data(&w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_OURS), 16)
	    != 0 || isk_pl_data(&w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_DPD),
	    16) != 0))
		goto fail;
	if (mm->natt != 0 && isk_pl_data(&w, &c, ISK_PL_VID,
	    isk_vid_bytes(mm->natt == 1 ? ISK_VID_NATT_RFC :
	    ISK_VID_NATT_DRAFT02N), 16) != 0)
		goto fail;
	if (isk_hdr_close(&w, 0) != 0)
		goto fail;
	mm->state = MM_R_SA_SENT;
	mm->expire_at = ike_now() + (uint64_t)ike->cfg.retrans_ms *
	    ((1U << (ike->cfg.retrans_max + 1)) + 1);
	ike_timer_note(ike, mm->expire_at);
	ike->st.active_receive++;
	ike_olog(ike, "MM #1 from %s: chose %s, rule \"%s\"", a,
	    ike_p1_str(&mm->p1, got, sizeof(got)), mm->rule.name);
	if ((rc = mm_send(ike, mm, &w, true)) != 0)
		ike_olog(ike, "MM #2 send failed");
	goto out;
fail:
	if (mm != NULL) {
		mm->state = MM_DEAD;
		ike_mm_scrub(mm);
	}
out:
	ike_rulecopy_clear(&rule);
	free(sa);
}

/*
 * RFC 2408 5.1: an unknown payload type (outside the private-use range
 * 128-255, which is skipped) is answered with INVALID-PAYLOAD-TYPE and
 * the message dropped.
 */
static bool
unknown_payload(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const struct isk_hdr *h, const struct isk_msg *m)
{
	size_t i;

	for (i = 0; i < m->npl; i++)
		if (!isk_payload_known(m->pl[i].type) && m->pl[i].type < 128) {
			ike->st.invalid_packets++;
			ike_olog(ike, "payload type %u unknown: message dropped",
			    m->pl[i].type);
			ike_notify_plain(ike, sock, from, port, h->cky_i,
			    h->cky_r, ISK_N_INVALID_PAYLOAD_TYPE);
			return true;
		}
	return false;
}

void
ike_mm_input(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const struct isk_hdr *h, struct pa_bytes body,
    const uint8_t *pkt, size_t len)
{
	static const uint8_t zero[8];
	struct isk_msg *m = NULL;
	struct ike_mm *mm;
	struct pa_bytes ke;
	uint8_t dg[20], buf[2048];
	struct isk_hdr oh;
	struct isk_chain c;
	struct wr w;
	char a[PA_ADDRSTRLEN];
	bool ic;

	mm = ike_mm_find(ike, h->cky_i, h->cky_r);
	if (mm != NULL && !pa_addr_eq(&mm->peer, from)) {
		ike->st.invalid_cookies++;
		return;
	}
	/*
	 * A new Main Mode: decide before any allocation or digest, as a
	 * flood of spoofed MM #1 comes this way. Past the DoS threshold, or
	 * with IKE_HALFOPEN_PER_SRC half-open already from this address,
	 * only a valid cookie (the sender receives at its address) makes
	 * state; the rest is answered with a cookie, statelessly.
	 */
	if (mm == NULL) {
		bool cookie = memcmp(h->cky_r, zero, 8) != 0;

		if (h->np != ISK_PL_SA || (h->flags & ISK_FLAG_ENC) != 0 ||
		    (cookie && (ike->cfg.dos_halfopen == 0 ||
		    !dos_cookie_ok(ike, sock, from, port, h)))) {
			ike->st.invalid_cookies++;
			return;
		}
		if (!cookie && ike->cfg.dos_halfopen != 0 &&
		    (dos_pressure(ike) ||
		    halfopen_from(ike, from) >= IKE_HALFOPEN_PER_SRC)) {
			dos_answer(ike, sock, from, port, h);
			return;
		}
	}
	pa_addr_str(from, a, sizeof(a));
	ike_digest(pkt, len, dg);
	if (mm != NULL && mm->rx_valid && memcmp(dg, mm->rx_digest, 20) == 0) {
		/* A retransmission of what we answered: replay the answer
		   (none yet while a Kerberos worker prepares it). */
		if (mm->state != MM_I_GSS_WAIT && mm->tx != NULL &&
		    ike_send(ike, mm->sock, &mm->peer, mm->peer_port, mm->tx,
		    mm->txlen) == 0)
			ike->st.retransmits++;
		return;
	}
	if ((m = malloc(sizeof(*m))) == NULL)
		return;
	if (mm == NULL) {
		bool cookie = memcmp(h->cky_r, zero, 8) != 0;

		if (isk_parse_chain(body, h->np, false, m) != 0 ||
		    isk_check_payloads(m) != 0) {
			ike->st.invalid_packets++;
			goto out;
		}
		if (unknown_payload(ike, sock, from, port, h, m))
			goto out;
		mm_respond(ike, sock, from, port, h, m, cookie ? h->cky_r :
		    NULL);
		if ((mm = ike_mm_find(ike, h->cky_i, NULL)) != NULL &&
		    memcmp(mm->cky_i, h->cky_i, 8) == 0) {
			memcpy(mm->rx_digest, dg, 20);
			mm->rx_valid = true;
		}
		goto out;
	}
	if ((h->flags & ISK_FLAG_ENC) && (mm->state == MM_I_SA_SENT ||
	    mm->state == MM_R_SA_SENT || mm->state == MM_I_KE_SENT)) {
		ike->st.invalid_packets++;
		goto out;
	}
	if (memcmp(h->cky_r, zero, 8) == 0 && !mm->initiator) {
		/* A #1 reusing a live CKY-I that is not a retransmission. */
		ike->st.invalid_packets++;
		goto out;
	}
	if (!(h->flags & ISK_FLAG_ENC)) {
		if (isk_parse_chain(body, h->np, false, m) != 0 ||
		    isk_check_payloads(m) != 0) {
			ike->st.invalid_packets++;
			goto out;
		}
		if (unknown_payload(ike, sock, from, port, h, m))
			goto out;
		if (isk_find(m, ISK_PL_N, NULL) != NULL &&
		    isk_find(m, ISK_PL_SA, NULL) == NULL &&
		    isk_find(m, ISK_PL_KE, NULL) == NULL) {
			/* An unprotected error notify (first two round trips). */
			struct isk_notify nt;

			if (mm->state != MM_DONE &&
			    isk_parse_notify(isk_find(m, ISK_PL_N, NULL)->body,
			    &nt) == 0 && nt.type < 16384) {
				char r[96];

				snprintf(r, sizeof(r), "peer sent %s",
				    isk_notify_name(nt.type));
				mm_fail(ike, mm, "Peer", r);
			}
			goto out;
		}
	}
	switch (mm->state) {
	case MM_I_SA_SENT: {
		const struct isk_payload *sap;
		struct isk_sa *sa;
		struct ike_p1 got;
		struct pa_bytes gi = { NULL, 0 };
		uint8_t gir[512];
		size_t i, girlen = 0;
		bool ok = false;

		if ((sap = isk_find(m, ISK_PL_SA, NULL)) == NULL ||
		    (sa = malloc(sizeof(*sa))) == NULL)
			goto out;
		if (isk_parse_sa(sap->body, sa) == 0 && sa->nprops == 1 &&
		    sa->props[0].nxf == 1 &&
		    ike_krb_p1_from_xform(&sa->xf[0], &got) == 0)
			for (i = 0; i < mm->noffers && !ok; i++)
				if (ike_p1_eq(&mm->offers[i], &got)) {
					ok = true;
					mm->p1 = mm->offers[i];
					if (got.life_sec != 0 &&
					    got.life_sec < mm->p1.life_sec)
						mm->p1.life_sec = got.life_sec;
				}
		if (ok && mm->p1.auth == ISK_AUTH_GSS &&
		    ike_krb_xform_gi(&sa->xf[0], &gi) && gi.len <= sizeof(gir)) {
			if (gi.len > 0)
				memcpy(gir, gi.p, gi.len);
			girlen = gi.len;
		}
		free(sa);
		if (!ok) {
			mm_fail(ike, mm, "Peer", "Responder chose a transform "
			    "that was not offered");
			goto out;
		}
		memcpy(mm->cky_r, h->cky_r, 8);
		mm_note_vids(mm, m);
		{
			char cs[96];

			ike_olog(ike, "MM #2 from %s: responder chose %s", a,
			    ike_p1_str(&mm->p1, cs, sizeof(cs)));
		}
		if (mm->p1.auth == ISK_AUTH_GSS) {
			mm_krb_start(ike, mm, gir, girlen);
			break;
		}
		if (mm_send3(ike, mm) != 0) {
			mm_fail(ike, mm, "Me", "Could not build MM #3");
			goto out;
		}
		break;
	}
	case MM_R_SA_SENT:
		if (mm_take_ke(ike, mm, m, &ke) != 0)
			goto out;
		mm_hdr(mm, &oh, false);
		wr_init(&w, buf, sizeof(buf));
		natd_check(ike, mm, m, port);
		if (isk_hdr_write(&w, &oh, &c) != 0 ||
		    mm_write_ke_nonce(ike, mm, &w, &c, false) != 0 ||
		    gss_write(mm, &w, &c) != 0 ||
		    cr_write(ike, mm, &w, &c) != 0 ||
		    natd_write(ike, mm, &w, &c) != 0 ||
		    isk_hdr_close(&w, 0) != 0) {
			mm_fail(ike, mm, "Me", "Could not build MM #4");
			goto out;
		}
		if (mm_keys_or_fail(ike, mm, ke) != 0)
			goto out;
		mm->state = MM_R_KE_SENT;
		ike_olog(ike, "MM #3 from %s: keys computed, sent MM #4", a);
		(void)mm_send(ike, mm, &w, true);
		break;
	case MM_I_KE_SENT:
		if (mm_take_ke(ike, mm, m, &ke) != 0 ||
		    mm_keys_or_fail(ike, mm, ke) != 0)
			goto out;
		natd_check(ike, mm, m, port);
		if ((mm->nat_local || mm->nat_peer) &&
		    ike_natt_sock(ike, mm->sock) >= 0) {
			/* Float to the NAT-T port from MM #5 on. */
			mm->sock = ike_natt_sock(ike, mm->sock);
			mm->peer_port = ike->cfg.natt_port;
		}
		if (mm_send_id(ike, mm, true) != 0) {
			mm_fail(ike, mm, "Me", "Could not build MM #5");
			goto out;
		}
		mm->state = MM_I_ID_SENT;
		ike_olog(ike, "MM #4 from %s: keys computed, sent MM #5", a);
		break;
	case MM_R_KE_SENT:
		if (mm_take_id(ike, mm, h, body, true, &ic) != 0)
			goto out;
		if (ike->socks[sock].natt) {
			mm->sock = sock;	/* the initiator floated */
			mm->peer_port = port;
		}
		if (mm_send_id(ike, mm, false) != 0) {
			mm_fail(ike, mm, "Me", "Could not build MM #6");
			goto out;
		}
		if (ic)
			mm_initial_contact(ike, mm);
		mm_established(ike, mm);
		break;
	case MM_I_ID_SENT:
		if (mm_take_id(ike, mm, h, body, false, &ic) != 0)
			goto out;
		free(mm->tx);
		mm->tx = NULL;
		mm->txlen = 0;
		mm_established(ike, mm);
		break;
	default:
		/* Fits no step of this exchange (e.g. an altered copy of a
		   message already answered). */
		ike->st.invalid_packets++;
		goto out;
	}
	if (mm->state != MM_DEAD) {
		memcpy(mm->rx_digest, dg, 20);
		mm->rx_valid = true;
	}
out:
	free(m);
}

void
ike_mm_plain_notify(struct ike *ike, struct ike_mm *mm, const struct isk_hdr *h,
    struct pa_bytes body)
{
	struct isk_msg *m;
	const struct isk_payload *p;
	struct isk_notify nt;
	char r[640];

	if (mm->state == MM_DEAD || (m = malloc(sizeof(*m))) == NULL)
		return;
	if (isk_parse_chain(body, h->np, false, m) != 0 ||
	    isk_check_payloads(m) != 0 ||
	    (p = isk_find(m, ISK_PL_N, NULL)) == NULL ||
	    isk_parse_notify(p->body, &nt) != 0) {
		ike->st.invalid_packets++;
		goto out;
	}
	ike_olog(ike, "received unprotected notify %s",
	    isk_notify_name(nt.type));
	if (nt.type == ISK_N_MS_DOS_COOKIE && mm->initiator &&
	    mm->state == MM_I_SA_SENT && nt.data.len == 8 &&
	    memcmp(mm->cky_r, zero16, 8) == 0 &&
	    memcmp(nt.data.p, zero16, 8) != 0 && mm->tx != NULL &&
	    mm->txlen >= ISK_HDR_LEN) {
		/* The responder is in DoS mode: MM #1 again, with its cookie. */
		memcpy(mm->cky_r, nt.data.p, 8);
		memcpy(mm->tx + 8, nt.data.p, 8);
		ike_olog(ike, "MM #1 sent again with the responder's DoS "
		    "cookie");
		if (ike_send(ike, mm->sock, &mm->peer, mm->peer_port, mm->tx,
		    mm->txlen) != 0)
			ike->st.send_failures++;
		goto out;
	}
	if (nt.type < 16384) {
		snprintf(r, sizeof(r), "peer sent %s", isk_notify_name(nt.type));
		krb_error_reason(mm, m, r, sizeof(r));
		if (nt.type == ISK_N_AUTHENTICATION_FAILED ||
		    nt.type == ISK_N_INVALID_HASH_INFORMATION)
			ike->st.auth_failures++;
		mm_fail(ike, mm, "Peer", r);
	}
out:
	free(m);
}
