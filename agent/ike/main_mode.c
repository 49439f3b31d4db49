/*
 * Main Mode (identity protection, RFC 2409 5.4), as initiator and
 * responder, one handler per state that waits for a message:
 *
 *	HDR, SA			-->			(ike_mm_initiate)
 *				<--	HDR, SA		(mm_respond)
 *	HDR, KE, Ni		-->			(mm_on_sa_reply)
 *				<--	HDR, KE, Nr	(mm_on_ke)
 *	HDR*, IDii, HASH_I	-->			(mm_on_ke_reply)
 *				<--	HDR*, IDir, HASH_R (mm_on_id)
 *	established				(mm_on_id_reply)
 *
 * The authentication method negotiated (ike_auth.h: auth_psk.c,
 * auth_cert.c, auth_krb.c) adds its attributes, payloads and checks:
 * certificates and a signature in place of HASH_I / HASH_R, or a GSS
 * token exchange in MM #3 / #4 whose first step runs on a worker thread
 * (then MM #3 leaves later, from auth_krb.c). Proposal selection follows
 * the ISAKMP policy's order (and the rule's authentication methods'
 * order) on both sides. Also here: retransmission detection, DoS
 * cookies, NAT-D and INITIAL-CONTACT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "ike_auth.h"
#include "ike_exch.h"
#include "pa_time.h"

#define MM_MODE		IKE_MM_MODE

static void
mm_established(struct ike *ike, struct ike_mm *mm)
{
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
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
	auth->identity(mm, true, pa, pid, sizeof(pid));
	if (auth->release != NULL)
		auth->release(ike, mm);
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
	ike->up.mm_ready(ike, mm);
}

static const struct ike_auth_ops *const auth_methods[] = {
	&ike_auth_psk, &ike_auth_cert, &ike_auth_krb
};

const struct ike_auth_ops *
ike_auth_for(uint16_t method)
{
	size_t i;

	for (i = 0; i < sizeof(auth_methods) / sizeof(auth_methods[0]); i++)
		if (auth_methods[i]->method == method)
			return auth_methods[i];
	return &ike_auth_psk;
}

void
ike_mm_fail(struct ike *ike, struct ike_mm *mm, const char *point,
    const char *reason)
{
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
	bool retry = mm->initiator && auth->retry != NULL &&
	    mm->state != MM_DONE && mm->state != MM_DEAD;

	ike_audit_fail(ike, MM_MODE, &mm->peer, point, reason);
	ike_mm_kill(ike, mm, reason);
	if (auth->release != NULL)
		auth->release(ike, mm);
	if (retry)
		auth->retry(ike, mm);
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
	ike_mm_hdr(mm, h, ISK_EXCH_MAIN, enc ? ISK_FLAG_ENC : 0, 0);
}

/*
 * Why a method of the rule cannot negotiate now (each method asked once),
 * or NULL.
 */
static const char *
rule_unusable(struct ike *ike, const struct ike_rulecopy *rule,
    bool initiator)
{
	const struct ike_auth_ops *auth;
	const char *why;
	size_t i, k;

	for (i = 0; i < rule->nauths; i++) {
		for (k = 0; k < i && rule->auths[k] != rule->auths[i]; k++)
			;
		auth = ike_auth_for(rule->auths[i]);
		if (k == i && auth->unusable != NULL &&
		    (why = auth->unusable(ike, initiator)) != NULL)
			return why;
	}
	return NULL;
}

int
ike_mm_initiate(struct ike *ike, const struct pa_addr *peer,
    const struct ike_rulecopy *rule, struct ike_mm **out)
{
	struct ike_mm *mm;
	char a[PA_ADDRSTRLEN];
	const char *why;
	bool wait;
	int rc;

	*out = NULL;
	if ((mm = ike_mm_new(ike, true)) == NULL)
		return PA_E_NOMEM;
	if ((rc = ike_rulecopy_dup(&mm->rule, rule)) != 0)
		goto fail;
	mm->noffers = ike_krb_p1_offers(ike, rule, mm->offers, 16, &wait);
	/* A method is the rule's but we cannot: say why (547). */
	if (!wait && (why = rule_unusable(ike, rule, true)) != NULL)
		ike_audit_fail(ike, MM_MODE, peer, "Me", why);
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
	if ((rc = ike_mm_send1(ike, mm)) != 0) {
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

/* The vendor IDs of the methods offered, each method once. */
static int
method_vids(struct wr *w, struct isk_chain *c, const struct ike_p1 *offers,
    size_t n)
{
	const struct ike_auth_ops *auth;
	size_t i, k;
	int rc;

	for (i = 0; i < n; i++) {
		for (k = 0; k < i && offers[k].auth != offers[i].auth; k++)
			;
		auth = ike_auth_for(offers[i].auth);
		if (k == i && auth->write_vids != NULL &&
		    (rc = auth->write_vids(w, c)) != 0)
			return rc;
	}
	return 0;
}

/* Initiator: MM #1 with mm->offers. */
int
ike_mm_send1(struct ike *ike, struct ike_mm *mm)
{
	uint8_t buf[4096];
	struct isk_hdr h;
	struct isk_chain c;
	struct pa_bytes sab;
	struct wr w;
	char a[PA_ADDRSTRLEN], ol[400];
	size_t sa;
	int rc;

	mm_hdr(mm, &h, false);
	wr_init(&w, buf, sizeof(buf));
	if ((rc = isk_hdr_write(&w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(&w, &c, ISK_PL_SA, &sa)) != 0 ||
	    (rc = ike_krb_write_sa(ike, &w, mm->offers, mm->noffers)) != 0 ||
	    (rc = isk_pl_close(&w, sa)) != 0 ||
	    (rc = ike_wr_view(&w, sa + ISK_GEN_LEN, w.len - sa - ISK_GEN_LEN,
	    &sab)) != 0)
		return rc;
	free(mm->sai_b);
	if ((mm->sai_b = ike_dup_bytes(sab.p, sab.len)) == NULL)
		return PA_E_NOMEM;
	mm->sai_len = sab.len;
	if ((rc = isk_pl_data(&w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_OURS),
	    16)) != 0 || (rc = isk_pl_data(&w, &c, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_DPD), 16)) != 0)
		return rc;
	if ((rc = method_vids(&w, &c, mm->offers, mm->noffers)) != 0)
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
	ike_olog(ike, "MM #1 to %s: %zu offers, rule \"%s\": %s",
	    pa_addr_str(&mm->peer, a, sizeof(a)), mm->noffers, mm->rule.name,
	    ike_p1_list_str(mm->offers, mm->noffers, ol, sizeof(ol)));
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
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
	struct pa_bytes g, gi, gr;
	int rc;

	if (auth->has_key != NULL && !auth->has_key(mm))
		return PA_E_NOTSUP;
	if ((rc = oak_dh_derive(mm->dh, peer_ke, gxy, sizeof(gxy), &gxylen))
	    != 0)
		return rc;
	g.p = gxy;
	g.len = gxylen;
	if (auth->skeyid != NULL)
		rc = auth->skeyid(mm, g, mm->skeyid);
	else
		rc = oak_skeyid_sig(mm->p1.hash, ni, nr, g, mm->skeyid);
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
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
	struct pa_bytes v[8];
	size_t hl = oak_hash_len(mm->p1.hash), n = 6;
	int rc;

	v[0] = (struct pa_bytes){ initiator ? mm->gxi : mm->gxr, mm->gx_len };
	v[1] = (struct pa_bytes){ initiator ? mm->gxr : mm->gxi, mm->gx_len };
	v[2] = (struct pa_bytes){ initiator ? mm->cky_i : mm->cky_r, 8 };
	v[3] = (struct pa_bytes){ initiator ? mm->cky_r : mm->cky_i, 8 };
	v[4] = (struct pa_bytes){ mm->sai_b, mm->sai_len };
	v[5] = idb;
	if (auth->hash_more != NULL &&
	    (rc = auth->hash_more(mm, initiator, v, &n)) != 0)
		return rc;
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
	if ((*gx = ike_dup_bytes(pub.p, pub.len)) == NULL ||
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
	if ((*np = ike_dup_bytes(n->body.p, n->body.len)) == NULL)
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

/* Our ID payload body when the method has none of its own. */
static int
mm_write_own_id(struct ike *ike, struct ike_mm *mm, struct wr *w)
{
	struct ike_ts me;

	if (ike->cfg.unique_ids) {
		char fq[40];

		snprintf(fq, sizeof(fq), "mm-%02x%02x%02x%02x%02x%02x%02x%02x",
		    mm->cky_i[0], mm->cky_i[1], mm->cky_i[2], mm->cky_i[3],
		    mm->cky_i[4], mm->cky_i[5], mm->cky_i[6], mm->cky_i[7]);
		wr_u8(w, ISK_ID_FQDN);
		wr_u8(w, 0);
		wr_u16(w, 0);
		wr_bytes(w, fq, strlen(fq));
		return 0;
	}
	memset(&me, 0, sizeof(me));
	me.net.addr = mm->local;
	me.net.len = pa_addr_bits(mm->local.family);
	return ike_ts_write(w, &me);
}

/* INITIAL-CONTACT: no other SA with this peer exists. */
static int
mm_write_initial_contact(struct ike_mm *mm, struct wr *w, struct isk_chain *c)
{
	size_t n;
	int rc;

	if ((rc = isk_pl_open(w, c, ISK_PL_N, &n)) != 0)
		return rc;
	ike_notify_isakmp(w, ISK_N_INITIAL_CONTACT, mm->cky_i, mm->cky_r);
	if ((rc = isk_pl_close(w, n)) != 0)
		return rc;
	mm->initial_contact_sent = true;
	return 0;
}

/* Our phase 1 ID and the method's proof, encrypted: MM #5 or #6. */
static int
mm_send_id(struct ike *ike, struct ike_mm *mm, bool initiator)
{
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
	uint8_t buf[IKE_MAX_PKT], hash[OAK_MAX_HASH];
	struct isk_hdr h;
	struct isk_chain c;
	struct pa_bytes idb;
	struct wr w;
	size_t id, hl = oak_hash_len(mm->p1.hash);
	int rc;

	mm_hdr(mm, &h, true);
	wr_init(&w, buf, sizeof(buf));
	if ((rc = isk_hdr_write(&w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(&w, &c, ISK_PL_ID, &id)) != 0 ||
	    (rc = auth->write_id != NULL ? auth->write_id(ike, mm, &w) :
	    mm_write_own_id(ike, mm, &w)) != 0)
		return rc;
	if ((rc = isk_pl_close(&w, id)) != 0 ||
	    (rc = ike_wr_view(&w, id + ISK_GEN_LEN, w.len - id - ISK_GEN_LEN,
	    &idb)) != 0 ||
	    (rc = mm_auth_hash(mm, initiator, idb, hash)) != 0 ||
	    (rc = auth->write_proof(ike, mm, &w, &c, hash, hl)) != 0)
		return rc;
	if (initiator && !other_sa_with_peer(ike, mm) &&
	    (rc = mm_write_initial_contact(mm, &w, &c)) != 0)
		return rc;
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
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
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
	    (hp = isk_find(m, auth->proof_pl, NULL)) == NULL) {
		rc = PA_E_FORMAT;
		goto out;
	}
	if ((rc = isk_parse_id(id->body, &idp)) != 0)
		goto out;
	if ((rc = mm_auth_hash(mm, peer_init, id->body, want)) != 0)
		goto out;
	if ((rc = auth->check(ike, mm, m, &idp, hp->body, want, hl, why,
	    whylen)) != 0)
		goto out;
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
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);

	pa_addr_str(&mm->peer, pa, sizeof(pa));
	auth->identity(mm, false, pa, pid, sizeof(pid));
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
		    why[0] != '\0' ? why : auth->bad_proof);
		ike_notify_plain(ike, mm->sock, &mm->peer, mm->peer_port,
		    mm->cky_i, mm->cky_r, ISK_N_AUTHENTICATION_FAILED);
	}
	ike_mm_fail(ike, mm, "Peer", reason);
}

/* MM #3 / #4 into w: KE, our nonce, the method's payloads, NAT-D. */
static int
mm_write_ke_msg(struct ike *ike, struct ike_mm *mm, struct wr *w)
{
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
	struct isk_hdr oh;
	struct isk_chain c;
	int rc;

	mm_hdr(mm, &oh, false);
	if ((rc = isk_hdr_write(w, &oh, &c)) != 0 ||
	    (rc = mm_write_ke_nonce(ike, mm, w, &c, mm->initiator)) != 0 ||
	    (auth->write_ke != NULL &&
	    (rc = auth->write_ke(ike, mm, w, &c)) != 0) ||
	    (rc = natd_write(ike, mm, w, &c)) != 0 ||
	    (rc = isk_hdr_close(w, 0)) != 0)
		return rc;
	return 0;
}

/* Initiator, MM #3: KE, Ni and the method's payloads. */
int
ike_mm_send3(struct ike *ike, struct ike_mm *mm)
{
	uint8_t buf[IKE_MAX_PKT];
	struct wr w;
	int rc;

	wr_init(&w, buf, sizeof(buf));
	if ((rc = mm_write_ke_msg(ike, mm, &w)) != 0)
		return rc;
	mm->state = MM_I_KE_SENT;
	(void)mm_send(ike, mm, &w, true);
	return 0;
}

/*
 * The peer's KE and nonce from MM #3 (we respond) or MM #4 (we initiate),
 * kept, and what the method wants of it taken. Not 0: drop the packet
 * (counted if malformed).
 */
static int
mm_take_ke(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m,
    struct pa_bytes *ke)
{
	uint8_t **gx = mm->initiator ? &mm->gxr : &mm->gxi;
	const struct ike_auth_ops *auth;
	int rc;

	if ((rc = mm_read_ke_nonce(mm, m, !mm->initiator, ke)) != 0) {
		ike->st.invalid_packets++;
		return rc;
	}
	if ((*gx = ike_dup_bytes(ke->p, ke->len)) == NULL)
		return PA_E_NOMEM;
	auth = ike_auth_for(mm->p1.auth);
	if (auth->take_ke == NULL)
		return 0;
	if ((rc = auth->take_ke(ike, mm, m)) == PA_E_FORMAT)
		ike->st.invalid_packets++;
	return rc;
}

/* The keys from the peer's KE, or the negotiation fails (547). */
static int
mm_keys_or_fail(struct ike *ike, struct ike_mm *mm, struct pa_bytes ke)
{
	int rc;

	if ((rc = mm_keys(mm, ke)) != 0)
		ike_mm_fail(ike, mm, "Peer", rc == PA_E_VERIFY ?
		    "Invalid Diffie-Hellman public value" :
		    "Key computation failed");
	else
		ike_keylog_mm(ike, mm);
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

static void
bad_proposal(struct ike *ike, const struct pa_addr *peer, const char *rule,
    const char *expected, const char *received)
{
	const char *kv[10];
	char r[900];

	kv[0] = "Mode"; kv[1] = MM_MODE;
	kv[2] = "Filter"; kv[3] = rule;
	kv[4] = "Attribute"; kv[5] = "Main Mode transform";
	kv[6] = "Expected value"; kv[7] = expected;
	kv[8] = "Received value"; kv[9] = received;
	ike_audit(ike, AUDIT_IKE_BAD_PROPOSAL, kv, 10);
	snprintf(r, sizeof(r), "No proposal chosen: expected one of our "
	    "offers %s; received the peer's offers %s", expected, received);
	ike_audit_fail(ike, MM_MODE, peer, "Me", r);
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

/*
 * Responder, MM #1: may one more Main Mode be half-open? Past
 * max_halfopen new requests are dropped (reported at most every 10 s).
 */
static bool
mm_r_admit(struct ike *ike)
{
	uint64_t now;

	if (ike->st.active_receive < ike->cfg.max_halfopen)
		return true;
	now = ike_now();
	ike->st.dropped_halfopen++;
	if (now - ike->last_dos_audit > 10000 || ike->last_dos_audit == 0) {
		const char *kv[2] = { "Text", "Possible denial of "
		    "service: half-open Main Mode limit reached, new "
		    "requests dropped" };

		ike->last_dos_audit = now;
		ike_audit(ike, AUDIT_IKE_NOTIFICATION, kv, 2);
	}
	return false;
}

/* What a message for a Main Mode came with. */
struct mm_in {
	int			 sock;
	const struct pa_addr	*from;
	uint16_t		 port;
	const struct isk_hdr	*h;
	struct pa_bytes		 body;
	const struct isk_msg	*m;	/* parsed unless encrypted */
	const char		*a;	/* from, as text */
};

/* Responder, MM #1: none of our offers is in the peer's proposal. */
static void
mm_r_no_proposal(struct ike *ike, const struct mm_in *in,
    const struct isk_sa *sa, const struct ike_rulecopy *rule,
    const struct ike_p1 *ours, size_t nours)
{
	char exp[400], got[400];
	const char *why;

	if (nours > 0)
		ike_p1_list_str(ours, nours, exp, sizeof(exp));
	else
		snprintf(exp, sizeof(exp), "(no usable method)");
	ike_p1_peer_str(sa, ike_krb_p1_from_xform, got, sizeof(got));
	ike_olog(ike, "MM #1 from %s: no proposal chosen (rule \"%s\"): "
	    "expected one of our offers %s; received the peer's offers %s",
	    in->a, rule->name, exp, got);
	ike_notify_plain(ike, in->sock, in->from, in->port, in->h->cky_i,
	    in->h->cky_r, ISK_N_NO_PROPOSAL_CHOSEN);
	if ((why = rule_unusable(ike, rule, false)) != NULL)
		/* A method is the rule's and we cannot (no tickets). */
		ike_audit_fail(ike, MM_MODE, in->from, "Me", why);
	else
		bad_proposal(ike, in->from, rule->name, exp, got);
}

/*
 * Responder, MM #1: the peer's transform for the first of our offers (in
 * order) it holds, with what we take in *p1; NULL when none (answered and
 * reported) or while our offers wait (*wait: the peer retransmits).
 */
static const struct isk_xform *
mm_r_choose(struct ike *ike, const struct mm_in *in, const struct isk_sa *sa,
    const struct ike_rulecopy *rule, struct ike_p1 *p1, bool *wait)
{
	struct ike_p1 ours[16];
	const struct ike_auth_ops *auth;
	const struct isk_xform *x;
	size_t nours, i, k;

	nours = ike_krb_p1_offers(ike, rule, ours, 16, wait);
	if (*wait)
		return NULL;
	for (i = 0; i < nours; i++) {
		auth = ike_auth_for(ours[i].auth);
		if (auth->peer_may_offer != NULL && !auth->peer_may_offer(in->m))
			continue;
		for (k = 0; k < sa->props[0].nxf; k++) {
			x = &sa->xf[sa->props[0].xf_first + k];
			if (ike_krb_p1_from_xform(x, p1) != 0 ||
			    !ike_p1_eq(&ours[i], p1))
				continue;
			if (p1->life_sec > ours[i].life_sec ||
			    p1->life_sec == 0)
				p1->life_sec = ours[i].life_sec;
			p1->qm_limit = ours[i].qm_limit;
			return x;
		}
	}
	mm_r_no_proposal(ike, in, sa, rule, ours, nours);
	return NULL;
}

/*
 * Responder, MM #1: the new Main Mode SA, taking the rule (*rule cleared)
 * and the peer's SA body; NULL when it could not be made.
 */
static struct ike_mm *
mm_r_new(struct ike *ike, const struct mm_in *in, struct ike_rulecopy *rule,
    const struct ike_p1 *p1, struct pa_bytes sab, const struct isk_xform *x,
    const uint8_t *cookie)
{
	const struct ike_auth_ops *auth = ike_auth_for(p1->auth);
	struct ike_mm *mm;

	if ((mm = ike_mm_new(ike, false)) == NULL)
		return NULL;
	mm->rule = *rule;
	memset(rule, 0, sizeof(*rule));
	mm->p1 = *p1;
	mm->peer = *in->from;
	mm->peer_port = in->port;
	mm->sock = in->sock;
	mm->local = ike->socks[in->sock].addr;
	if (pa_addr_is_unset(&mm->local) ||
	    memcmp(mm->local.a, zero16, 16) == 0) {
		struct pa_addr l;

		if (ike_sock_for_peer(ike, in->from, &l) >= 0)
			mm->local = l;
	}
	memcpy(mm->cky_i, in->h->cky_i, 8);
	if (cookie != NULL)
		memcpy(mm->cky_r, cookie, 8);
	else
		do {
			if (ike_rand(ike, mm->cky_r, 8) != 0)
				goto fail;
		} while (mm->cky_r[0] == 0 && mm->cky_r[1] == 0);
	ike_mm_hash_add(ike, mm);
	if ((mm->sai_b = ike_dup_bytes(sab.p, sab.len)) == NULL)
		goto fail;
	mm->sai_len = sab.len;
	if (auth->r_chosen != NULL && auth->r_chosen(ike, mm, x) != 0)
		goto fail;
	mm_note_vids(mm, in->m);
	if (ike_natt_sock(ike, in->sock) < 0)
		mm->natt = 0;
	return mm;
fail:
	mm->state = MM_DEAD;
	ike_mm_scrub(mm);
	return NULL;
}

/* Responder, MM #2 into w: our choice, then the vendor IDs. */
static int
mm_r_write2(struct ike *ike, struct ike_mm *mm, struct wr *w,
    const struct isk_sa *sa, const struct isk_xform *chosen)
{
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
	struct isk_hdr rh;
	struct isk_chain c, props, xfs;
	size_t sapos, pr, xf;
	int rc;

	mm_hdr(mm, &rh, false);
	if ((rc = isk_hdr_write(w, &rh, &c)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_SA, &sapos)) != 0)
		return rc;
	wr_u32(w, ISK_DOI_IPSEC);
	wr_u32(w, ISK_SIT_IDENTITY_ONLY);
	isk_chain_init(&props);
	if ((rc = isk_pl_open(w, &props, ISK_PL_P, &pr)) != 0)
		return rc;
	wr_u8(w, sa->props[0].num);
	wr_u8(w, ISK_PROTO_ISAKMP);
	wr_u8(w, 0);
	wr_u8(w, 1);
	if (auth->r_write_xform != NULL) {
		if ((rc = auth->r_write_xform(ike, mm, w, chosen)) != 0)
			return rc;
	} else {
		/* The peer's transform as it sent it. */
		isk_chain_init(&xfs);
		if ((rc = isk_pl_open(w, &xfs, ISK_PL_T, &xf)) != 0)
			return rc;
		wr_u8(w, chosen->num);
		wr_u8(w, chosen->id);
		wr_u16(w, 0);
		wr_bytes(w, chosen->attrs.p, chosen->attrs.len);
		if ((rc = isk_pl_close(w, xf)) != 0)
			return rc;
	}
	if ((rc = isk_pl_close(w, pr)) != 0 ||
	    (rc = isk_pl_close(w, sapos)) != 0 ||
	    (auth->write_vids != NULL && (rc = auth->write_vids(w, &c)) != 0) ||
	    (rc = isk_pl_data(w, &c, ISK_PL_VID, isk_vid_bytes(ISK_VID_OURS),
	    16)) != 0 || (rc = isk_pl_data(w, &c, ISK_PL_VID,
	    isk_vid_bytes(ISK_VID_DPD), 16)) != 0)
		return rc;
	if (mm->natt != 0 && (rc = isk_pl_data(w, &c, ISK_PL_VID,
	    isk_vid_bytes(mm->natt == 1 ? ISK_VID_NATT_RFC :
	    ISK_VID_NATT_DRAFT02N), 16)) != 0)
		return rc;
	return isk_hdr_close(w, 0);
}

/* Responder, MM #1; cookie: our responder cookie (DoS mode), or NULL. */
static void
mm_respond(struct ike *ike, const struct mm_in *in, const uint8_t *cookie)
{
	struct isk_sa *sa = NULL;
	struct ike_rulecopy rule;
	struct ike_p1 p1;
	const struct isk_payload *sap;
	const struct isk_xform *chosen;
	struct ike_mm *mm;
	uint8_t buf[2048];
	struct wr w;
	char got[96];
	bool wait;

	memset(&rule, 0, sizeof(rule));
	if (!mm_r_admit(ike))
		return;
	if ((sap = isk_find(in->m, ISK_PL_SA, NULL)) == NULL) {
		ike->st.invalid_packets++;
		return;
	}
	if ((sa = malloc(sizeof(*sa))) == NULL)
		return;
	if (isk_parse_sa(sap->body, sa) != 0 || sa->nprops != 1 ||
	    sa->props[0].proto != ISK_PROTO_ISAKMP) {
		ike->st.invalid_packets++;
		ike_notify_plain(ike, in->sock, in->from, in->port,
		    in->h->cky_i, in->h->cky_r, ISK_N_BAD_PROPOSAL_SYNTAX);
		goto out;
	}
	if (ike_rule_for_peer(ike, in->from, &rule) != 0) {
		ike_olog(ike, "MM #1 from %s: no rule for this peer", in->a);
		ike_notify_plain(ike, in->sock, in->from, in->port,
		    in->h->cky_i, in->h->cky_r, ISK_N_NO_PROPOSAL_CHOSEN);
		ike_audit_fail(ike, MM_MODE, in->from, "Me",
		    "No policy configured");
		goto out;
	}
	if ((chosen = mm_r_choose(ike, in, sa, &rule, &p1, &wait)) == NULL) {
		if (wait)
			/* Our Kerberos tickets are on their way: the peer
			   retransmits. */
			ike_olog(ike, "MM #1 from %s: waiting for our Kerberos "
			    "tickets", in->a);
		goto out;
	}
	if ((mm = mm_r_new(ike, in, &rule, &p1, sap->body, chosen, cookie))
	    == NULL)
		goto out;
	wr_init(&w, buf, sizeof(buf));
	if (mm_r_write2(ike, mm, &w, sa, chosen) != 0) {
		mm->state = MM_DEAD;
		ike_mm_scrub(mm);
		goto out;
	}
	mm->state = MM_R_SA_SENT;
	mm->expire_at = ike_now() + (uint64_t)ike->cfg.retrans_ms *
	    ((1U << (ike->cfg.retrans_max + 1)) + 1);
	ike_timer_note(ike, mm->expire_at);
	ike->st.active_receive++;
	ike_olog(ike, "MM #1 from %s: chose %s, rule \"%s\"", in->a,
	    ike_p1_str(&mm->p1, got, sizeof(got)), mm->rule.name);
	if (mm_send(ike, mm, &w, true) != 0)
		ike_olog(ike, "MM #2 send failed");
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
unknown_payload(struct ike *ike, const struct mm_in *in,
    const struct isk_msg *m)
{
	size_t i;

	for (i = 0; i < m->npl; i++)
		if (!isk_payload_known(m->pl[i].type) && m->pl[i].type < 128) {
			ike->st.invalid_packets++;
			ike_olog(ike, "payload type %u unknown: message dropped",
			    m->pl[i].type);
			ike_notify_plain(ike, in->sock, in->from, in->port,
			    in->h->cky_i, in->h->cky_r,
			    ISK_N_INVALID_PAYLOAD_TYPE);
			return true;
		}
	return false;
}

/* An unencrypted message parsed into m; not 0: dropped (counted). */
static int
mm_parse(struct ike *ike, const struct mm_in *in, struct isk_msg *m)
{
	if (isk_parse_chain(in->body, in->h->np, false, m) != 0 ||
	    isk_check_payloads(m) != 0) {
		ike->st.invalid_packets++;
		return PA_E_FORMAT;
	}
	if (unknown_payload(ike, in, m))
		return PA_E_FORMAT;
	return 0;
}

/*
 * A new Main Mode: decided before any allocation or digest, as a flood
 * of spoofed MM #1 comes this way. Past the DoS threshold, or with
 * IKE_HALFOPEN_PER_SRC half-open already from this address, only a valid
 * cookie (the sender receives at its address) makes state; the rest is
 * answered with a cookie, statelessly. True: go on.
 */
static bool
mm_new_allowed(struct ike *ike, const struct mm_in *in)
{
	const struct isk_hdr *h = in->h;
	bool cookie = memcmp(h->cky_r, zero16, 8) != 0;

	if (h->np != ISK_PL_SA || (h->flags & ISK_FLAG_ENC) != 0 ||
	    (cookie && (ike->cfg.dos_halfopen == 0 ||
	    !dos_cookie_ok(ike, in->sock, in->from, in->port, h)))) {
		ike->st.invalid_cookies++;
		return false;
	}
	if (!cookie && ike->cfg.dos_halfopen != 0 &&
	    (dos_pressure(ike) ||
	    halfopen_from(ike, in->from) >= IKE_HALFOPEN_PER_SRC)) {
		dos_answer(ike, in->sock, in->from, in->port, h);
		return false;
	}
	return true;
}

/* MM #1 of a new Main Mode (we respond); dg: its digest. */
static void
mm_input_new(struct ike *ike, struct mm_in *in, struct isk_msg *m,
    const uint8_t dg[20])
{
	const struct isk_hdr *h = in->h;
	struct ike_mm *mm;

	if (mm_parse(ike, in, m) != 0)
		return;
	in->m = m;
	mm_respond(ike, in, memcmp(h->cky_r, zero16, 8) != 0 ? h->cky_r :
	    NULL);
	if ((mm = ike_mm_find(ike, h->cky_i, NULL)) != NULL &&
	    memcmp(mm->cky_i, h->cky_i, 8) == 0) {
		memcpy(mm->rx_digest, dg, 20);
		mm->rx_valid = true;
	}
}

/*
 * Why a Main Mode we negotiate ends on the peer's error notify type, into
 * r (cap bytes): as initiator, NO-PROPOSAL-CHOSEN names the offers the
 * peer refused; with a preshared key, an error answering our MM #5 (the
 * peer could not read or check it) names the likely cause. The Oakley log
 * gets the same line.
 */
static void
mm_notify_reason(struct ike *ike, const struct ike_mm *mm, uint16_t type,
    char *r, size_t cap)
{
	char a[PA_ADDRSTRLEN], ol[400];

	pa_addr_str(&mm->peer, a, sizeof(a));
	if (mm->initiator && mm->state == MM_I_SA_SENT &&
	    type == ISK_N_NO_PROPOSAL_CHOSEN) {
		snprintf(r, cap, "peer sent %s: it accepted none of our "
		    "offers %s", isk_notify_name(type),
		    ike_p1_list_str(mm->offers, mm->noffers, ol, sizeof(ol)));
		ike_olog(ike, "MM #1 to %s refused (rule \"%s\"): %s", a,
		    mm->rule.name, r);
		return;
	}
	if (mm->initiator && mm->state == MM_I_ID_SENT &&
	    mm->p1.auth == ISK_AUTH_PSK &&
	    (type == ISK_N_PAYLOAD_MALFORMED ||
	    type == ISK_N_INVALID_PAYLOAD_TYPE ||
	    type == ISK_N_INVALID_HASH_INFORMATION ||
	    type == ISK_N_AUTHENTICATION_FAILED)) {
		snprintf(r, cap, "Authentication failed: %s (peer sent %s)",
		    IKE_PSK_DIFFERENT, isk_notify_name(type));
		ike_olog(ike, "MM #5 to %s: authentication failed: %s (peer "
		    "sent %s)", a, IKE_PSK_DIFFERENT, isk_notify_name(type));
		return;
	}
	snprintf(r, cap, "peer sent %s", isk_notify_name(type));
}

/*
 * Initiator, waiting for MM #6 with a preshared key: an encrypted
 * Informational instead (strongSwan answers an MM #5 it cannot read with
 * an encrypted PAYLOAD-MALFORMED). One we cannot decrypt and check means
 * our keys differ: the preshared key is probably different at the peer.
 * Like the unprotected notifies, it ends the Main Mode.
 */
void
ike_mm_early_info(struct ike *ike, struct ike_mm *mm, const struct isk_hdr *h,
    struct pa_bytes body)
{
	uint8_t plain[IKE_MAX_PKT], iv[OAK_MAX_BLOCK], mid[4], want[OAK_MAX_HASH];
	struct isk_msg *m;
	const struct isk_payload *np;
	struct isk_notify nt;
	struct pa_bytes span, v[2];
	size_t plen, hl = oak_hash_len(mm->p1.hash);
	char r[640], a[PA_ADDRSTRLEN];
	bool ok = false;

	if (!mm->initiator || mm->state != MM_I_ID_SENT ||
	    mm->p1.auth != ISK_AUTH_PSK || (m = malloc(sizeof(*m))) == NULL) {
		ike->st.invalid_packets++;
		return;
	}
	ike_put32(mid, h->msgid);
	v[0] = (struct pa_bytes){ mid, 4 };
	if (oak_iv_p2(mm->p1.hash, mm->iv, oak_block_len(mm->p1.enc),
	    h->msgid, iv) == 0 &&
	    ike_decrypt_msg(mm, iv, body.p, body.len, plain, &plen) == 0 &&
	    isk_parse_chain((struct pa_bytes){ plain, plen }, h->np, true, m)
	    == 0 && isk_check_payloads(m) == 0 && m->npl >= 2 &&
	    m->pl[0].type == ISK_PL_HASH && m->pl[0].body.len == hl &&
	    isk_span(m, 1, &span) == 0) {
		v[1] = span;
		ok = oak_prf(mm->p1.hash, mm->skeyid_a, hl, v, 2, want) == 0 &&
		    CRYPTO_memcmp(want, m->pl[0].body.p, hl) == 0;
	}
	pa_addr_str(&mm->peer, a, sizeof(a));
	if (!ok) {
		ike->st.auth_failures++;
		snprintf(r, sizeof(r), "Authentication failed: %s (its "
		    "encrypted answer to MM #5 does not decrypt with our "
		    "keys)", IKE_PSK_DIFFERENT);
		ike_olog(ike, "MM #5 to %s: authentication failed: %s (an "
		    "encrypted Informational we cannot read came back)", a,
		    IKE_PSK_DIFFERENT);
		ike_mm_fail(ike, mm, "Peer", r);
	} else if ((np = isk_find(m, ISK_PL_N, NULL)) != NULL &&
	    isk_parse_notify(np->body, &nt) == 0 && nt.type < 16384) {
		ike_olog(ike, "received notify %s", isk_notify_name(nt.type));
		snprintf(r, sizeof(r), "peer sent %s",
		    isk_notify_name(nt.type));
		ike_mm_fail(ike, mm, "Peer", r);
	}
	pa_wipe(plain, sizeof(plain));
	free(m);
}

/*
 * An unencrypted message for a Main Mode being negotiated, parsed into
 * m. True: done with it (dropped, or an error notify that ended it).
 */
static bool
mm_input_plain(struct ike *ike, struct ike_mm *mm, struct mm_in *in,
    struct isk_msg *m)
{
	struct isk_notify nt;
	char r[640];

	if (mm_parse(ike, in, m) != 0)
		return true;
	in->m = m;
	if (isk_find(m, ISK_PL_N, NULL) == NULL ||
	    isk_find(m, ISK_PL_SA, NULL) != NULL ||
	    isk_find(m, ISK_PL_KE, NULL) != NULL)
		return false;
	/* An unprotected error notify (first two round trips). */
	if (mm->state != MM_DONE &&
	    isk_parse_notify(isk_find(m, ISK_PL_N, NULL)->body, &nt) == 0 &&
	    nt.type < 16384) {
		mm_notify_reason(ike, mm, nt.type, r, sizeof(r));
		ike_mm_fail(ike, mm, "Peer", r);
	}
	return true;
}

/* Initiator: MM #2 chose what we did not offer (546, 547 with both). */
static void
mm_not_offered(struct ike *ike, struct ike_mm *mm, const struct mm_in *in,
    const struct isk_sa *sa)
{
	const char *kv[10];
	char ours[400], theirs[400], r[900];

	ike_p1_list_str(mm->offers, mm->noffers, ours, sizeof(ours));
	ike_p1_peer_str(sa, ike_krb_p1_from_xform, theirs, sizeof(theirs));
	ike_olog(ike, "MM #2 from %s: the responder chose %s, not one of our "
	    "offers %s", in->a, theirs, ours);
	kv[0] = "Mode"; kv[1] = MM_MODE;
	kv[2] = "Filter"; kv[3] = mm->rule.name;
	kv[4] = "Attribute"; kv[5] = "Main Mode transform";
	kv[6] = "Expected value"; kv[7] = ours;
	kv[8] = "Received value"; kv[9] = theirs;
	ike_audit(ike, AUDIT_IKE_BAD_PROPOSAL, kv, 10);
	snprintf(r, sizeof(r), "Responder chose a transform that was not "
	    "offered: it chose %s; our offers %s", theirs, ours);
	ike_mm_fail(ike, mm, "Peer", r);
}

/* Initiator, MM #2: the responder's choice. */
static int
mm_on_sa_reply(struct ike *ike, struct ike_mm *mm, const struct mm_in *in)
{
	const struct ike_auth_ops *auth;
	const struct isk_payload *sap;
	struct isk_sa *sa;
	struct ike_p1 got;
	char cs[96];
	size_t i;
	bool ok = false;
	int rc = 0;

	if ((sap = isk_find(in->m, ISK_PL_SA, NULL)) == NULL ||
	    (sa = malloc(sizeof(*sa))) == NULL)
		return PA_E_FORMAT;
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
	if (!ok) {
		mm_not_offered(ike, mm, in, sa);
		free(sa);
		return PA_E_VERIFY;
	}
	memcpy(mm->cky_r, in->h->cky_r, 8);
	mm_note_vids(mm, in->m);
	ike_olog(ike, "MM #2 from %s: responder chose %s", in->a,
	    ike_p1_str(&mm->p1, cs, sizeof(cs)));
	auth = ike_auth_for(mm->p1.auth);
	if (auth->i_chosen != NULL) {
		auth->i_chosen(ike, mm, &sa->xf[0]);
	} else if ((rc = ike_mm_send3(ike, mm)) != 0) {
		ike_mm_fail(ike, mm, "Me", "Could not build MM #3");
	}
	free(sa);
	return rc;
}

/* Responder, MM #3: the initiator's KE and nonce; MM #4 answers. */
static int
mm_on_ke(struct ike *ike, struct ike_mm *mm, const struct mm_in *in)
{
	uint8_t buf[2048];
	struct pa_bytes ke;
	struct wr w;
	int rc;

	if ((rc = mm_take_ke(ike, mm, in->m, &ke)) != 0)
		return rc;
	wr_init(&w, buf, sizeof(buf));
	natd_check(ike, mm, in->m, in->port);
	if ((rc = mm_write_ke_msg(ike, mm, &w)) != 0) {
		ike_mm_fail(ike, mm, "Me", "Could not build MM #4");
		return rc;
	}
	if ((rc = mm_keys_or_fail(ike, mm, ke)) != 0)
		return rc;
	mm->state = MM_R_KE_SENT;
	ike_olog(ike, "MM #3 from %s: keys computed, sent MM #4", in->a);
	(void)mm_send(ike, mm, &w, true);
	return 0;
}

/* Initiator, MM #4: the responder's KE and nonce; MM #5 follows. */
static int
mm_on_ke_reply(struct ike *ike, struct ike_mm *mm, const struct mm_in *in)
{
	struct pa_bytes ke;
	int rc;

	if ((rc = mm_take_ke(ike, mm, in->m, &ke)) != 0 ||
	    (rc = mm_keys_or_fail(ike, mm, ke)) != 0)
		return rc;
	natd_check(ike, mm, in->m, in->port);
	if ((mm->nat_local || mm->nat_peer) &&
	    ike_natt_sock(ike, mm->sock) >= 0) {
		/* Float to the NAT-T port from MM #5 on. */
		mm->sock = ike_natt_sock(ike, mm->sock);
		mm->peer_port = ike->cfg.natt_port;
	}
	if ((rc = mm_send_id(ike, mm, true)) != 0) {
		ike_mm_fail(ike, mm, "Me", "Could not build MM #5");
		return rc;
	}
	mm->state = MM_I_ID_SENT;
	ike_olog(ike, "MM #4 from %s: keys computed, sent MM #5", in->a);
	return 0;
}

/*
 * Certificate-to-account mapping, when the rule asks for it: the peer's
 * certificate and signature are good; the directory is asked (on the
 * caller's worker) and the Main Mode waits in state, without
 * retransmitting, until ike_certmap_done or IKE_CERTMAP_WAIT_MS.
 * True: it waits (or failed); false: no mapping asked, go on.
 */
#define IKE_CERTMAP_WAIT_MS	20000
static bool
mm_map_start(struct ike *ike, struct ike_mm *mm, bool ic,
    enum ike_mm_state wait)
{
	struct ike_certmap_req *r;
	const char *why = NULL;

	mm->peer_account[0] = '\0';
	if (mm->p1.auth != ISK_AUTH_RSA || !mm->rule.certmap)
		return false;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		why = "no memory";
	else if (ike->cfg.certmap == NULL)
		why = "no directory to look the account up in (the rule asks "
		    "for certificate-to-account mapping)";
	else if (ike_peer_certs_mapreq(mm->peer_certs, r) != 0)
		why = "the certificate could not be read again";
	if (why == NULL) {
		r->id = mm->map_id = ++ike->next_map_id;
		memcpy(r->cky_i, mm->cky_i, 8);
		memcpy(r->cky_r, mm->cky_r, 8);
		if (ike->cfg.certmap(ike->cfg.certmap_arg, r) != 0)
			why = "too many mapping lookups under way";
	}
	free(r);
	if (why != NULL) {
		mm->map_id = 0;
		mm_auth_failed(ike, mm, PA_E_PERM, why);
		return true;
	}
	mm->map_ic = ic;
	mm->state = wait;
	mm->retx_at = 0;
	mm->expire_at = ike_now() + IKE_CERTMAP_WAIT_MS;
	ike_timer_note(ike, mm->expire_at);
	ike_olog(ike, "certificate mapping: asking the directory for %s",
	    mm->peer_id);
	return true;
}

/* Responder: MM #6, and the SA is up. */
static int
mm_finish_r(struct ike *ike, struct ike_mm *mm, bool ic)
{
	int rc;

	if ((rc = mm_send_id(ike, mm, false)) != 0) {
		ike_mm_fail(ike, mm, "Me", "Could not build MM #6");
		return rc;
	}
	if (ic)
		mm_initial_contact(ike, mm);
	mm_established(ike, mm);
	return 0;
}

/* Initiator: MM #6 was good, the SA is up. */
static void
mm_finish_i(struct ike *ike, struct ike_mm *mm)
{
	free(mm->tx);
	mm->tx = NULL;
	mm->txlen = 0;
	mm_established(ike, mm);
}

/* Responder, MM #5: the initiator's ID and proof; MM #6 answers. */
static int
mm_on_id(struct ike *ike, struct ike_mm *mm, const struct mm_in *in)
{
	bool ic;
	int rc;

	if ((rc = mm_take_id(ike, mm, in->h, in->body, true, &ic)) != 0)
		return rc;
	if (ike->socks[in->sock].natt) {
		mm->sock = in->sock;	/* the initiator floated */
		mm->peer_port = in->port;
	}
	if (mm_map_start(ike, mm, ic, MM_R_MAP_WAIT))
		return 0;
	return mm_finish_r(ike, mm, ic);
}

/* Initiator, MM #6: the responder's ID and proof. */
static int
mm_on_id_reply(struct ike *ike, struct ike_mm *mm, const struct mm_in *in)
{
	bool ic;
	int rc;

	if ((rc = mm_take_id(ike, mm, in->h, in->body, false, &ic)) != 0)
		return rc;
	if (!mm_map_start(ike, mm, ic, MM_I_MAP_WAIT))
		mm_finish_i(ike, mm);
	return 0;
}

void
ike_certmap_done(struct ike *ike, const struct ike_certmap_ans *a)
{
	struct ike_mm *mm = ike_mm_find(ike, a->cky_i, a->cky_r);
	char why[300];

	if (mm == NULL || mm->map_id != a->id || (mm->state != MM_R_MAP_WAIT &&
	    mm->state != MM_I_MAP_WAIT))
		return;		/* ended meanwhile */
	mm->map_id = 0;
	if (a->rc != 0) {
		snprintf(why, sizeof(why), "certificate to account mapping: %s",
		    a->why[0] != '\0' ? a->why : "failed");
		ike_olog(ike, "%s", why);
		mm_auth_failed(ike, mm, PA_E_PERM, why);
		return;
	}
	snprintf(mm->peer_account, sizeof(mm->peer_account), "%s", a->account);
	ike_olog(ike, "certificate mapping: %s is %s", mm->peer_id, a->account);
	if (mm->state == MM_R_MAP_WAIT)
		(void)mm_finish_r(ike, mm, mm->map_ic);
	else
		mm_finish_i(ike, mm);
}

/* One handler per state waiting for a message. */
static const struct {
	enum ike_mm_state	 state;
	int			(*input)(struct ike *, struct ike_mm *,
				    const struct mm_in *);
} mm_steps[] = {
	{ MM_I_SA_SENT,	mm_on_sa_reply },	/* #2 */
	{ MM_R_SA_SENT,	mm_on_ke },		/* #3 */
	{ MM_I_KE_SENT,	mm_on_ke_reply },	/* #4 */
	{ MM_R_KE_SENT,	mm_on_id },		/* #5 */
	{ MM_I_ID_SENT,	mm_on_id_reply },	/* #6 */
};

/*
 * A retransmission of what we answered (same digest): replay the answer
 * (none yet while a Kerberos worker prepares it). True: it was one.
 */
static bool
mm_replayed(struct ike *ike, struct ike_mm *mm, const uint8_t dg[20])
{
	if (!mm->rx_valid || memcmp(dg, mm->rx_digest, 20) != 0)
		return false;
	if (mm->state != MM_I_GSS_WAIT && mm->state != MM_R_MAP_WAIT &&
	    mm->state != MM_I_MAP_WAIT && mm->tx != NULL &&
	    ike_send(ike, mm->sock, &mm->peer, mm->peer_port, mm->tx,
	    mm->txlen) == 0)
		ike->st.retransmits++;
	return true;
}

/* Can an encrypted message / a message at all fit mm's state? */
static bool
mm_msg_fits(struct ike *ike, const struct ike_mm *mm, const struct isk_hdr *h)
{
	if ((h->flags & ISK_FLAG_ENC) && (mm->state == MM_I_SA_SENT ||
	    mm->state == MM_R_SA_SENT || mm->state == MM_I_KE_SENT)) {
		ike->st.invalid_packets++;
		return false;
	}
	if (memcmp(h->cky_r, zero16, 8) == 0 && !mm->initiator) {
		/* A #1 reusing a live CKY-I that is not a retransmission. */
		ike->st.invalid_packets++;
		return false;
	}
	return true;
}

void
ike_mm_input(struct ike *ike, int sock, const struct pa_addr *from,
    uint16_t port, const struct isk_hdr *h, struct pa_bytes body,
    const uint8_t *pkt, size_t len)
{
	struct isk_msg *m = NULL;
	struct ike_mm *mm;
	struct mm_in in;
	uint8_t dg[20];
	char a[PA_ADDRSTRLEN];
	size_t i;

	in = (struct mm_in){ sock, from, port, h, body, NULL, a };
	mm = ike_mm_find(ike, h->cky_i, h->cky_r);
	if (mm != NULL && !pa_addr_eq(&mm->peer, from)) {
		ike->st.invalid_cookies++;
		return;
	}
	if (mm == NULL && !mm_new_allowed(ike, &in))
		return;
	pa_addr_str(from, a, sizeof(a));
	ike_digest(pkt, len, dg);
	if ((mm != NULL && mm_replayed(ike, mm, dg)) ||
	    (m = malloc(sizeof(*m))) == NULL)
		return;
	if (mm == NULL) {
		mm_input_new(ike, &in, m, dg);
		goto out;
	}
	if (!mm_msg_fits(ike, mm, h) ||
	    (!(h->flags & ISK_FLAG_ENC) && mm_input_plain(ike, mm, &in, m)))
		goto out;
	for (i = 0; i < sizeof(mm_steps) / sizeof(mm_steps[0]); i++)
		if (mm_steps[i].state == mm->state)
			break;
	if (i == sizeof(mm_steps) / sizeof(mm_steps[0])) {
		/* Fits no step of this exchange (e.g. an altered copy of a
		   message already answered). */
		ike->st.invalid_packets++;
		goto out;
	}
	if (mm_steps[i].input(ike, mm, &in) == 0 && mm->state != MM_DEAD) {
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
	const struct ike_auth_ops *auth = ike_auth_for(mm->p1.auth);
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
		mm_notify_reason(ike, mm, nt.type, r, sizeof(r));
		if (auth->notify_reason != NULL)
			auth->notify_reason(mm, m, r, sizeof(r));
		if (nt.type == ISK_N_AUTHENTICATION_FAILED ||
		    nt.type == ISK_N_INVALID_HASH_INFORMATION)
			ike->st.auth_failures++;
		ike_mm_fail(ike, mm, "Peer", r);
	}
out:
	free(m);
}
