/*
 * Quick Mode (RFC 2409 5.5), initiator and responder:
 *
 *	HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]	-->
 *			<--	HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]
 *	HDR*, HASH(3)					-->
 *
 * SPIs come from the driver; KEYMAT per RFC 2409 5.5; the SAs are handed
 * to the driver inbound first, then outbound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "auth_gss.h"
#include "ike_exch.h"
#include "pa_time.h"

#define QM_MODE		"Data Protection Mode (Quick Mode)"

/* The bytes [off, len) of a writer (our own output buffer). */
static struct pa_bytes
wr_tail(const struct wr *w, size_t off)
{
	struct pa_bytes b = { NULL, 0 };
	struct rd r;

	rd_init(&r, w->p, w->len);
	if (rd_skip(&r, off) == 0)
		b = rd_rest(&r);
	return b;
}

/* Fill a reserved HASH payload body at off with prf(SKEYID_a, v...). */
static int
patch_hash(struct ike_mm *mm, struct wr *w, size_t off,
    const struct pa_bytes *v, size_t nv)
{
	uint8_t h[OAK_MAX_HASH];
	size_t hl = oak_hash_len(mm->p1.hash);
	int rc;

	if ((rc = oak_prf(mm->p1.hash, mm->skeyid_a, hl, v, nv, h)) != 0)
		return rc;
	if (off + hl > w->len)
		return PA_E_INVAL;
	memcpy(w->p + off, h, hl);
	return 0;
}

/* UDP encapsulation for this MM SA's Quick Modes (0, 1 RFC, 2 draft). */
static uint8_t
qm_natt(const struct ike_mm *mm)
{
	return mm->nat_local || mm->nat_peer ? mm->natt : 0;
}

/*
 * NAT-OA (RFC 3947 5.2; draft-02's payload type when the peer spoke the
 * draft): the original address of one end, sent in transport mode when a
 * NAT is between us. The initiator sends its own address and the
 * responder's as it knows them; the responder the initiator's address as
 * it sees it and its own.
 */
static int
natoa_write(struct wr *w, struct isk_chain *c, uint8_t natt,
    const struct pa_addr *a)
{
	size_t pos;
	int rc;

	if ((rc = isk_pl_open(w, c, natt == 2 ? ISK_PL_NATOA_DRAFT :
	    ISK_PL_NATOA, &pos)) != 0 ||
	    (rc = wr_u8(w, a->family == AF_INET ? ISK_ID_IPV4 :
	    ISK_ID_IPV6)) != 0 || (rc = wr_zero(w, 3)) != 0 ||
	    (rc = wr_bytes(w, a->a, a->family == AF_INET ? 4 : 16)) != 0)
		return rc;
	return isk_pl_close(w, pos);
}

/* Log the peer's NAT-OA payloads (already checked by the decoder). */
static void
natoa_log(struct ike *ike, const struct isk_msg *m, const char *what)
{
	struct isk_natoa oa;
	struct pa_addr a;
	char s[2][PA_ADDRSTRLEN];
	size_t i;
	int n = 0;

	memset(s, 0, sizeof(s));
	for (i = 0; i < m->npl && n < 2; i++) {
		if ((m->pl[i].type != ISK_PL_NATOA &&
		    m->pl[i].type != ISK_PL_NATOA_DRAFT) ||
		    isk_parse_natoa(m->pl[i].body, &oa) != 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.family = oa.type == ISK_ID_IPV4 ? AF_INET : AF_INET6;
		memcpy(a.a, oa.addr.p, oa.addr.len);
		pa_addr_str(&a, s[n], sizeof(s[n]));
		n++;
	}
	if (n > 0)
		ike_olog(ike, "%s: NAT-OA %s%s%s", what, s[0], n > 1 ? ", " :
		    "", s[1]);
}

static int
spi_alloc(struct ike *ike, struct ike_qm *qm, uint8_t proto, uint32_t *spi)
{
	struct sa_id id;
	int rc;

	memset(&id, 0, sizeof(id));
	id.src = qm->peer;
	id.dst = qm->local;
	id.proto = proto;
	ike->st.total_get_spi++;
	if ((rc = ike->cfg.drv_ops->spi_alloc(ike->cfg.drv, &id, spi)) != 0)
		ike->st.get_spi_failures++;
	return rc;
}

static enum drv_enc
drv_enc(uint16_t c, uint8_t *keylen)
{
	switch (c) {
	case POL_ESP_DES: *keylen = 8; return DRV_ENC_DES_CBC;
	case POL_ESP_3DES: *keylen = 24; return DRV_ENC_3DES_CBC;
	case POL_ESP_AES128: *keylen = 16; return DRV_ENC_AES_CBC;
	case POL_ESP_AES192: *keylen = 24; return DRV_ENC_AES_CBC;
	case POL_ESP_AES256: *keylen = 32; return DRV_ENC_AES_CBC;
	/* AES-GCM: the key and a 4-octet salt from KEYMAT (RFC 4106 8.1). */
	case POL_ESP_AESGCM128: *keylen = 16 + 4; return DRV_ENC_AES_GCM_16;
	case POL_ESP_AESGCM192: *keylen = 24 + 4; return DRV_ENC_AES_GCM_16;
	case POL_ESP_AESGCM256: *keylen = 32 + 4; return DRV_ENC_AES_GCM_16;
	default: *keylen = 0; return DRV_ENC_NONE;
	}
}

static enum drv_auth
drv_auth(uint16_t integ, uint8_t *keylen)
{
	switch (integ) {
	case POL_INTEG_MD5: *keylen = 16; return DRV_AUTH_HMAC_MD5_96;
	case POL_INTEG_SHA1: *keylen = 20; return DRV_AUTH_HMAC_SHA1_96;
	case POL_INTEG_SHA256: *keylen = 32; return DRV_AUTH_HMAC_SHA256_128;
	default: *keylen = 0; return DRV_AUTH_NONE;
	}
}

/*
 * The soft lifetime (seconds after add) given to the driver: the
 * initiator rekeys first (90%), the responder later (95%), so both sides
 * rarely start a rekey at once.
 */
uint32_t
ike_qm_soft_sec(const struct ike_qm *qm)
{
	return qm->initiator ? qm->p2.life_sec / 10 * 9 :
	    qm->p2.life_sec / 20 * 19;
}

/* Build the sa_params of one SA (keys from KEYMAT for its SPI). */
static int
qm_params(struct ike_qm *qm, struct ike_mm *mm, uint8_t proto, bool in,
    struct sa_params *p)
{
	uint8_t km[96];
	uint32_t spi;
	struct pa_bytes gxy = { qm->gxy, qm->gxy_len };
	struct pa_bytes ni = { qm->ni, qm->ni_len }, nr = { qm->nr, qm->nr_len };
	const struct ike_ts *src = in ? &qm->ts_r : &qm->ts_l;
	const struct ike_ts *dst = in ? &qm->ts_l : &qm->ts_r;
	int rc;

	memset(p, 0, sizeof(*p));
	p->mode = qm->p2.tunnel ? DRV_MODE_TUNNEL : DRV_MODE_TRANSPORT;
	p->inbound = in;
	if (proto == DRV_PROTO_ESP) {
		p->enc = drv_enc(qm->p2.esp_cipher, &p->enc_key_len);
		p->auth = drv_auth(qm->p2.esp_integ, &p->auth_key_len);
		spi = in ? qm->esp_in : qm->esp_out;
	} else {
		p->enc = DRV_ENC_NONE;
		p->auth = drv_auth(qm->p2.ah_integ, &p->auth_key_len);
		spi = in ? qm->ah_in : qm->ah_out;
	}
	if ((rc = oak_keymat(mm->p1.hash, mm->skeyid_d, gxy,
	    proto == DRV_PROTO_ESP ? ISK_PROTO_ESP : ISK_PROTO_AH, spi, ni, nr,
	    km, (size_t)p->enc_key_len + p->auth_key_len)) != 0)
		goto out;
	memcpy(p->enc_key, km, p->enc_key_len);
	memcpy(p->auth_key, km + p->enc_key_len, p->auth_key_len);
	p->sel.src = src->net;
	p->sel.dst = dst->net;
	p->sel.proto = qm->ts_l.proto;
	p->sel.sport = src->port;
	p->sel.dport = dst->port;
	p->life.hard_sec = qm->p2.life_sec;
	p->life.soft_sec = ike_qm_soft_sec(qm);
	p->life.hard_bytes = (uint64_t)qm->p2.life_kb * 1024;
	p->life.soft_bytes = p->life.hard_bytes / 10 * 9;
	p->life.idle_sec = POL_DEFAULT_QM_IDLE_SEC;
	p->replay_window = p->auth != DRV_AUTH_NONE ? 64 : 0;
	p->reqid = qm->reqid;
	p->cookie = qm->cookie;
	if (qm->p2.natt != 0 && mm->ike->socks[mm->sock].natt) {
		p->encap_sport = in ? mm->peer_port :
		    mm->ike->socks[mm->sock].port;
		p->encap_dport = in ? mm->ike->socks[mm->sock].port :
		    mm->peer_port;
	}
out:
	pa_wipe(km, sizeof(km));
	return rc;
}

/*
 * Hand SAs to the driver: the inbound ones (QM_INSTALL_IN), the outbound
 * ones (QM_INSTALL_OUT) or both, inbound first. Adding the outbound SAs
 * is what lets the driver release the packets it held for the acquire,
 * so callers add them only once the peer can receive (see the order
 * chosen in ike_qm_input and qm_respond).
 */
#define QM_INSTALL_IN	0x1
#define QM_INSTALL_OUT	0x2

static int
qm_install(struct ike *ike, struct ike_qm *qm, struct ike_mm *mm,
    unsigned which)
{
	struct sa_params p;
	struct sa_id id, in_id, out_id;
	uint8_t protos[2];
	size_t np = 0, i, dir;
	int rc = 0;

	if (qm->p2.ah)
		protos[np++] = DRV_PROTO_AH;
	if (qm->p2.esp)
		protos[np++] = DRV_PROTO_ESP;
	/* The SA entry first: it may give this Quick Mode its flow's reqid. */
	if ((rc = ike_bundle_hold(ike, qm)) != 0) {
		ike->st.key_addition_failures++;
		return rc;
	}
	for (dir = 0; dir < 2 && rc == 0; dir++) {
		bool in = dir == 0;

		if ((in && !(which & QM_INSTALL_IN)) ||
		    (!in && !(which & QM_INSTALL_OUT)))
			continue;
		for (i = 0; i < np && rc == 0; i++) {
			if ((rc = qm_params(qm, mm, protos[i], in, &p)) != 0)
				break;
			ike_qm_sa_id(qm, in, protos[i], &id);
			rc = ike->cfg.drv_ops->sa_add(ike->cfg.drv, &id, &p);
			if (rc == 0)
				ike_keylog_sa(ike, &id, &p);
			pa_wipe(&p, sizeof(p));
			if (rc != 0) {
				ike->st.key_addition_failures++;
				break;
			}
			ike->st.key_additions++;
			qm->installed = true;
		}
	}
	if (rc == 0 && (which & QM_INSTALL_OUT) && np > 0 &&
	    ike->cfg.on_qmsa != NULL) {
		ike_qm_sa_id(qm, true, protos[np - 1], &in_id);
		ike_qm_sa_id(qm, false, protos[np - 1], &out_id);
		ike->cfg.on_qmsa(ike->cfg.on_arg, &in_id, &out_id);
	}
	return rc;
}

static void
qm_established(struct ike *ike, struct ike_qm *qm)
{
	char pa[PA_ADDRSTRLEN], pid[300], flt[300], par[300], ps[128];
	const char *kv[8];

	qm->state = QM_DONE;
	qm->done_at = ike_now();
	qm->retx_at = 0;
	ike_qm_scrub(qm);
	ike->st.quick_modes++;
	ike->st.active_qmsas++;
	if (qm->mm != NULL)
		qm->mm->qm_count++;
	pa_addr_str(&qm->peer, pa, sizeof(pa));
	if (qm->mm != NULL && qm->mm->p1.auth == ISK_AUTH_RSA)
		snprintf(pid, sizeof(pid), "Certificate based Identity. Peer "
		    "Subject %s. Peer IP Address: %s", qm->mm->peer_id, pa);
	else if (qm->mm != NULL && qm->mm->p1.auth == ISK_AUTH_GSS)
		ike_gss_audit_identity(qm->mm->peer_id, pid, sizeof(pid));
	else
		snprintf(pid, sizeof(pid), "Preshared key ID. Peer IP Address: "
		    "%s", pa);
	ike_qm_filter_text(qm, flt, sizeof(flt));
	snprintf(par, sizeof(par), "%s, InboundSpi %u (0x%x), OutBoundSpi %u "
	    "(0x%x)", ike_p2_str(&qm->p2, ps, sizeof(ps)),
	    qm->p2.esp ? qm->esp_in : qm->ah_in,
	    qm->p2.esp ? qm->esp_in : qm->ah_in,
	    qm->p2.esp ? qm->esp_out : qm->ah_out,
	    qm->p2.esp ? qm->esp_out : qm->ah_out);
	kv[0] = "Mode"; kv[1] = QM_MODE;
	kv[2] = "Peer Identity"; kv[3] = pid;
	kv[4] = "Filter"; kv[5] = flt;
	kv[6] = "Parameters"; kv[7] = par;
	ike_audit(ike, AUDIT_IKE_SA_ESTABLISHED, kv, 8);
	ike_olog(ike, "QM SA established with %s: %s", pa, par);
	/* Secured traffic takes over from a soft association. */
	ike_soft_end_peer(ike, &qm->peer, "a Quick Mode SA is established");
}

static void
qm_fail(struct ike *ike, struct ike_qm *qm, const char *point,
    const char *reason)
{
	ike_audit_fail(ike, QM_MODE, &qm->peer, point, reason);
	ike_qm_kill(ike, qm, true, reason);
}

static int
qm_send(struct ike *ike, struct ike_qm *qm, struct ike_mm *mm, struct wr *w,
    bool arm)
{
	int rc;

	if ((rc = ike_keep_tx(ike, &qm->tx, &qm->txlen, &qm->retx_at,
	    &qm->retx_n, w->p, w->len, arm)) != 0)
		return rc;
	return ike_send(ike, mm->sock, &mm->peer, mm->peer_port, w->p, w->len);
}

#define QM_OUT_WAIT_MAX_MS	200

void
ike_qm_out_due(struct ike *ike, struct ike_qm *qm)
{
	qm->out_at = 0;
	if (qm->mm == NULL || qm_install(ike, qm, qm->mm,
	    QM_INSTALL_OUT) != 0) {
		qm_fail(ike, qm, "Me", "The driver refused the SAs");
		return;
	}
	if (ike->st.active_acquire > 0)
		ike->st.active_acquire--;
	qm_established(ike, qm);
}

/*
 * Initiator: a new Quick Mode over mm for a copy of rule (without the GCM
 * offers a driver without AES-GCM cannot do), with its IDs, its reqid and
 * a message ID no other Quick Mode of mm uses. *qmp is set as soon as the
 * Quick Mode exists, so that a failure after that can end it.
 */
static int
qm_initiator_new(struct ike *ike, struct ike_mm *mm, const struct ike_ts *l,
    const struct ike_ts *r, uint32_t reqid, const struct ike_rulecopy *rule,
    struct ike_qm **qmp)
{
	struct ike_qm *qm;
	int rc;

	if ((*qmp = qm = ike_qm_new(ike, mm, true)) == NULL)
		return PA_E_NOMEM;
	if ((qm->rule = calloc(1, sizeof(*qm->rule))) == NULL ||
	    ike_rulecopy_dup(qm->rule, rule) != 0)
		return PA_E_NOMEM;
	/* A driver without AES-GCM: GCM offers are not made. */
	if (!(ike->cfg.drv_ops->features & DRV_F_GCM) &&
	    ike_rulecopy_drop_gcm(qm->rule) != 0)
		ike_olog(ike, "rule \"%s\": the driver has no AES-GCM, GCM "
		    "offers left out", qm->rule->name);
	qm->ts_l = *l;
	qm->ts_r = *r;
	qm->reqid = reqid != 0 ? reqid : ++ike->next_reqid;
	qm->p2.tunnel = qm->rule->tunnel;
	do {
		if ((rc = ike_rand(ike, &qm->msgid, 4)) != 0)
			return rc;
	} while (qm->msgid == 0 || ike_qm_find(ike, mm, qm->msgid) != qm);
	return 0;
}

/* What the offers of a rule need: SPIs for ESP, for AH, a PFS group. */
static void
qm_offer_needs(const struct ike_rulecopy *rule, const struct ike_mm *mm,
    bool *esp, bool *ah, uint16_t *group)
{
	size_t i;

	*esp = *ah = false;
	*group = 0;
	for (i = 0; i < rule->noffers; i++) {
		*esp |= rule->offers[i].esp;
		*ah |= rule->offers[i].ah;
		if (rule->offers[i].pfs && *group == 0)
			*group = rule->pfs_group != 0 ? rule->pfs_group :
			    mm->p1.group;
	}
}

/* Initiator: our inbound SPIs, Ni, the PFS key pair, the phase 2 IV. */
static int
qm_initiator_keys(struct ike *ike, struct ike_mm *mm, struct ike_qm *qm,
    bool esp, bool ah, uint16_t group)
{
	int rc;

	if ((esp && (rc = spi_alloc(ike, qm, DRV_PROTO_ESP,
	    &qm->esp_in)) != 0) ||
	    (ah && (rc = spi_alloc(ike, qm, DRV_PROTO_AH,
	    &qm->ah_in)) != 0))
		return rc;
	if ((qm->ni = malloc(IKE_NONCE_LEN)) == NULL)
		return PA_E_NOMEM;
	qm->ni_len = IKE_NONCE_LEN;
	if ((rc = ike_rand(ike, qm->ni, IKE_NONCE_LEN)) != 0)
		return rc;
	if (group != 0 && (rc = ike_dh_get(ike, group, &qm->dh)) != 0)
		return rc;
	return oak_iv_p2(mm->p1.hash, mm->iv, oak_block_len(mm->p1.enc),
	    qm->msgid, qm->iv);
}

/*
 * QM #1: HASH(1), SA (every offer of the rule), Ni [, KE], IDci, IDcr
 * [, NAT-OAi, NAT-OAr], encrypted.
 */
static int
qm_write_first(struct ike_mm *mm, struct ike_qm *qm, struct wr *w)
{
	const struct ike_rulecopy *rule = qm->rule;
	uint8_t mid[4];
	struct isk_hdr h;
	struct isk_chain c;
	struct pa_bytes v[2];
	size_t hp, hoff, sa, id, hl = oak_hash_len(mm->p1.hash);
	int rc;

	ike_mm_hdr(mm, &h, ISK_EXCH_QUICK, ISK_FLAG_ENC, qm->msgid);
	if ((rc = isk_hdr_write(w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_HASH, &hp)) != 0 ||
	    (rc = wr_reserve(w, hl, &hoff)) != 0 ||
	    (rc = isk_pl_close(w, hp)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_SA, &sa)) != 0 ||
	    (rc = ike_p2_write_sa(w, rule, mm->p1.group, qm->esp_in,
	    qm->ah_in, rule->tunnel, qm_natt(mm))) != 0 ||
	    (rc = isk_pl_close(w, sa)) != 0 ||
	    (rc = isk_pl_data(w, &c, ISK_PL_NONCE, qm->ni, qm->ni_len)) != 0)
		return rc;
	if (qm->dh != NULL && (rc = isk_pl_data(w, &c, ISK_PL_KE,
	    oak_dh_pub(qm->dh).p, oak_dh_pub(qm->dh).len)) != 0)
		return rc;
	if ((rc = isk_pl_open(w, &c, ISK_PL_ID, &id)) != 0 ||
	    (rc = ike_ts_write(w, &qm->ts_l)) != 0 ||
	    (rc = isk_pl_close(w, id)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_ID, &id)) != 0 ||
	    (rc = ike_ts_write(w, &qm->ts_r)) != 0 ||
	    (rc = isk_pl_close(w, id)) != 0)
		return rc;
	if (!rule->tunnel && qm_natt(mm) != 0 &&
	    ((rc = natoa_write(w, &c, qm_natt(mm), &mm->local)) != 0 ||
	    (rc = natoa_write(w, &c, qm_natt(mm), &mm->peer)) != 0))
		return rc;
	qm->ids_sent = true;
	ike_put32(mid, qm->msgid);
	v[0] = (struct pa_bytes){ mid, 4 };
	v[1] = wr_tail(w, hp + ISK_GEN_LEN + hl);
	if ((rc = patch_hash(mm, w, hoff, v, 2)) != 0)
		return rc;
	return ike_encrypt_msg(mm, qm->iv, w, 0);
}

int
ike_qm_initiate(struct ike *ike, struct ike_mm *mm, const struct ike_ts *l,
    const struct ike_ts *r, uint32_t reqid, const struct ike_rulecopy *rule)
{
	uint8_t buf[4096];
	struct ike_qm *qm = NULL;
	struct wr w;
	uint16_t group;
	bool want_esp, want_ah;
	char a[PA_ADDRSTRLEN], ol[400];
	int rc;

	if ((rc = qm_initiator_new(ike, mm, l, r, reqid, rule, &qm)) != 0)
		goto fail;
	rule = qm->rule;
	qm_offer_needs(rule, mm, &want_esp, &want_ah, &group);
	if (rule->noffers == 0) {
		rc = PA_E_NOENT;
		goto fail;
	}
	wr_init(&w, buf, sizeof(buf));
	if ((rc = qm_initiator_keys(ike, mm, qm, want_esp, want_ah,
	    group)) != 0 || (rc = qm_write_first(mm, qm, &w)) != 0)
		goto fail;
	qm->state = QM_I_SENT;
	ike->st.active_acquire++;
	ike_olog(ike, "QM #1 to %s (msgid %08x): %zu offers, rule \"%s\"%s: %s",
	    pa_addr_str(&mm->peer, a, sizeof(a)), qm->msgid, rule->noffers,
	    rule->name, group != 0 ? ", PFS" : "", ike_p2_offers_str(rule,
	    mm->p1.group, rule->tunnel, ol, sizeof(ol)));
	qm->t1_at = ike_now();
	(void)qm_send(ike, qm, mm, &w, true);
	return 0;
fail:
	if (qm != NULL)
		ike_qm_kill(ike, qm, false, "could not start");
	return rc;
}

/* One Quick Mode message being handled, and what was found in it. */
struct qm_in {
	const struct isk_hdr	*h;
	struct pa_bytes		 body;
	const uint8_t		*dg;		/* its digest (20 bytes) */
	uint8_t			 mid[4];	/* its message ID, as sent */
	const char		*a;		/* the peer, printed */
	uint8_t			*plain;		/* IKE_MAX_PKT bytes */
	struct isk_msg		*m;		/* the decrypted payloads */
	struct isk_sa		*sa;		/* QM #1, #2: the SA payload */
	const struct isk_payload *np, *ci, *cr;	/* Nonce, IDci, IDcr */
};

/* Decrypt a QM/informational body with a copy of iv; on success iv moves. */
static int
qm_decrypt(struct ike_mm *mm, uint8_t *iv, const struct isk_hdr *h,
    struct pa_bytes body, uint8_t *plain, size_t *plen, struct isk_msg *m)
{
	uint8_t tiv[OAK_MAX_BLOCK];
	int rc;

	if (!(h->flags & ISK_FLAG_ENC))
		return PA_E_FORMAT;
	memcpy(tiv, iv, sizeof(tiv));
	if ((rc = ike_decrypt_msg(mm, tiv, body.p, body.len, plain, plen)) != 0)
		return rc;
	if ((rc = isk_parse_chain((struct pa_bytes){ plain, *plen }, h->np,
	    true, m)) != 0 || (rc = isk_check_payloads(m)) != 0)
		return rc;
	if (m->npl == 0 || m->pl[0].type != ISK_PL_HASH)
		return PA_E_FORMAT;
	memcpy(iv, tiv, sizeof(tiv));
	return 0;
}

static bool
hash_ok(struct ike_mm *mm, const struct isk_payload *hp,
    const struct pa_bytes *v, size_t nv)
{
	uint8_t want[OAK_MAX_HASH];
	size_t hl = oak_hash_len(mm->p1.hash);

	if (hp->body.len != hl ||
	    oak_prf(mm->p1.hash, mm->skeyid_a, hl, v, nv, want) != 0)
		return false;
	return CRYPTO_memcmp(want, hp->body.p, hl) == 0;
}

/* IDci and IDcr of a QM message (the two ID payloads, in order). */
static int
qm_ids(const struct isk_msg *m, const struct isk_payload **ci,
    const struct isk_payload **cr)
{
	size_t from = 0;

	*ci = isk_find(m, ISK_PL_ID, &from);
	*cr = isk_find(m, ISK_PL_ID, &from);
	if (*ci == NULL)
		return 0;
	return *cr != NULL ? 0 : PA_E_FORMAT;
}

static int
qm_pfs(struct ike *ike, struct ike_qm *qm, const struct isk_msg *m,
    bool responder)
{
	const struct isk_payload *ke = isk_find(m, ISK_PL_KE, NULL);
	uint8_t g[OAK_MAX_DH];
	size_t glen;
	int rc;

	if (qm->p2.group == 0)
		return ke == NULL ? 0 : PA_E_FORMAT;
	if (ke == NULL)
		return PA_E_FORMAT;
	if (responder && (rc = ike_dh_get(ike, qm->p2.group, &qm->dh)) != 0)
		return rc;
	if (qm->dh == NULL)
		return PA_E_STATE;
	if ((rc = oak_dh_derive(qm->dh, ke->body, g, sizeof(g), &glen)) != 0)
		return rc;
	qm->gxy = ike_dup_bytes(g, glen);
	qm->gxy_len = glen;
	pa_wipe(g, sizeof(g));
	return qm->gxy != NULL ? 0 : PA_E_NOMEM;
}

/* Responder: none of the peer's proposals is one of our offers. */
static void
bad_proposal(struct ike *ike, const struct pa_addr *peer, const char *rule,
    const char *ours, const char *theirs)
{
	const char *kv[10];
	char r[900];

	kv[0] = "Mode"; kv[1] = QM_MODE;
	kv[2] = "Filter"; kv[3] = rule;
	kv[4] = "Attribute"; kv[5] = "Quick Mode offer";
	kv[6] = "Expected value"; kv[7] = ours;
	kv[8] = "Received value"; kv[9] = theirs;
	ike_audit(ike, AUDIT_IKE_BAD_PROPOSAL, kv, 10);
	snprintf(r, sizeof(r), "No proposal chosen: expected one of our "
	    "offers %s; received the peer's offers %s", ours, theirs);
	ike_audit_fail(ike, QM_MODE, peer, "Me", r);
}

/* Initiator: QM #2 chose what we did not offer (546, 547 with both). */
static void
qm_not_offered(struct ike *ike, struct ike_qm *qm, const struct qm_in *in)
{
	const char *kv[10];
	char ours[400], theirs[400], r[900];

	ike_p2_offers_str(qm->rule, qm->mm->p1.group, qm->rule->tunnel, ours,
	    sizeof(ours));
	ike_p2_peer_str(in->sa, theirs, sizeof(theirs));
	ike_olog(ike, "QM #2 from %s: the responder chose %s, not one of our "
	    "offers %s", in->a, theirs, ours);
	kv[0] = "Mode"; kv[1] = QM_MODE;
	kv[2] = "Filter"; kv[3] = qm->rule->name;
	kv[4] = "Attribute"; kv[5] = "Quick Mode offer";
	kv[6] = "Expected value"; kv[7] = ours;
	kv[8] = "Received value"; kv[9] = theirs;
	ike_audit(ike, AUDIT_IKE_BAD_PROPOSAL, kv, 10);
	snprintf(r, sizeof(r), "Responder chose an offer that was not "
	    "proposed: it chose %s; our offers %s", theirs, ours);
	qm_fail(ike, qm, "Peer", r);
}

/*
 * RESPONDER-LIFETIME (RFC 2407 4.6.3.1): the lifetimes we will use when
 * they are shorter than the initiator proposed.
 */
static int
responder_lifetime(struct wr *w, struct isk_chain *c, const struct ike_qm *qm)
{
	size_t n;
	int rc;

	if ((rc = isk_pl_open(w, c, ISK_PL_N, &n)) != 0)
		return rc;
	wr_u32(w, ISK_DOI_IPSEC);
	wr_u8(w, qm->p2.esp ? ISK_PROTO_ESP : ISK_PROTO_AH);
	wr_u8(w, 4);
	wr_u16(w, ISK_N_RESPONDER_LIFETIME);
	wr_u32(w, qm->p2.esp ? qm->esp_out : qm->ah_out);
	if ((rc = isk_attr_tv(w, ISK_A2_LIFE_TYPE, ISK_LIFE_SECONDS)) != 0 ||
	    (rc = isk_attr_num_put(w, ISK_A2_LIFE_DUR, qm->p2.life_sec)) != 0)
		return rc;
	if (qm->p2.life_kb != 0 &&
	    ((rc = isk_attr_tv(w, ISK_A2_LIFE_TYPE, ISK_LIFE_KB)) != 0 ||
	    (rc = isk_attr_num_put(w, ISK_A2_LIFE_DUR, qm->p2.life_kb)) != 0))
		return rc;
	return isk_pl_close(w, n);
}

/* Initiator: honour a RESPONDER-LIFETIME notify in QM #2. */
static void
honour_responder_lifetime(struct ike *ike, struct ike_qm *qm,
    const struct isk_msg *m)
{
	const struct isk_payload *p;
	struct isk_notify n;
	struct isk_attr a;
	struct rd r;
	uint64_t v;
	uint16_t lt = 0;
	size_t from = 0;

	while ((p = isk_find(m, ISK_PL_N, &from)) != NULL) {
		if (isk_parse_notify(p->body, &n) != 0 ||
		    n.type != ISK_N_RESPONDER_LIFETIME)
			continue;
		rd_init(&r, n.data.p, n.data.len);
		while (isk_attr_next(&r, &a) == 0 && isk_attr_num(&a, &v) == 0) {
			if (a.type == ISK_A2_LIFE_TYPE)
				lt = (uint16_t)v;
			else if (a.type == ISK_A2_LIFE_DUR && v > 0 &&
			    v <= UINT32_MAX) {
				if (lt == ISK_LIFE_SECONDS &&
				    v < qm->p2.life_sec)
					qm->p2.life_sec = (uint32_t)v;
				else if (lt == ISK_LIFE_KB && (qm->p2.life_kb ==
				    0 || v < qm->p2.life_kb))
					qm->p2.life_kb = (uint32_t)v;
			}
		}
		ike_olog(ike, "RESPONDER-LIFETIME: %us / %ukb", qm->p2.life_sec,
		    qm->p2.life_kb);
	}
}

/*
 * Transport mode through a NAT (RFC 3947 5.2): the initiator's Quick Mode
 * ID names its own (private) address, which our policy cannot know; our
 * filters name the address we see (the NAT's). When the IDs as sent match
 * no rule, host IDs are retried as the addresses this Main Mode SA sees
 * (the peer's, if it is behind a NAT; ours, if we are), and accepted only
 * for a transport-mode rule: the SAs then carry the addresses on the wire,
 * and the driver fixes the UDP/TCP checksums after decapsulation.
 */
static bool
natted_transport(struct ike *ike, struct ike_mm *mm, struct ike_ts *tsi,
    struct ike_ts *tsr, struct ike_rulecopy *rule)
{
	struct ike_ts i = *tsi, r = *tsr;
	const char *why;

	if (qm_natt(mm) == 0)
		return false;
	if (mm->nat_peer && i.net.len == pa_addr_bits(i.net.addr.family) &&
	    i.net.addr.family == mm->peer.family) {
		i.net.addr = mm->peer;
		i.net.len = pa_addr_bits(mm->peer.family);
	}
	if (mm->nat_local && r.net.len == pa_addr_bits(r.net.addr.family) &&
	    r.net.addr.family == mm->local.family) {
		r.net.addr = mm->local;
		r.net.len = pa_addr_bits(mm->local.family);
	}
	if (ike_rule_for_ids(ike, &mm->peer, &i, &r, rule, &why) != 0)
		return false;
	if (rule->tunnel) {
		ike_rulecopy_clear(rule);
		memset(rule, 0, sizeof(*rule));
		return false;
	}
	*tsi = i;
	*tsr = r;
	return true;
}

/*
 * Decrypt in's body with iv (which moves on success) and check its HASH,
 * the prf over v[0..nv); with span, v[nv - 1] is first set to the payloads
 * after the HASH. Failures count as invalid packets; a wrong HASH is
 * logged as "<step> from <peer>: <mismatch>".
 */
static int
qm_open(struct ike *ike, struct ike_mm *mm, uint8_t *iv, struct qm_in *in,
    struct pa_bytes *v, size_t nv, bool span, const char *step,
    const char *mismatch)
{
	size_t plen;

	if (qm_decrypt(mm, iv, in->h, in->body, in->plain, &plen,
	    in->m) != 0 || (span && isk_span(in->m, 1, &v[nv - 1]) != 0)) {
		ike->st.invalid_packets++;
		return PA_E_FORMAT;
	}
	if (!hash_ok(mm, &in->m->pl[0], v, nv)) {
		ike->st.invalid_packets++;
		ike_olog(ike, "%s from %s: %s", step, in->a, mismatch);
		return PA_E_VERIFY;
	}
	return 0;
}

/* QM #1 or #2: the SA (parsed into in->sa), the Nonce and the IDs. */
static int
qm_payloads(struct qm_in *in)
{
	const struct isk_payload *sap;

	if ((sap = isk_find(in->m, ISK_PL_SA, NULL)) == NULL ||
	    (in->np = isk_find(in->m, ISK_PL_NONCE, NULL)) == NULL ||
	    qm_ids(in->m, &in->ci, &in->cr) != 0)
		return PA_E_FORMAT;
	return isk_parse_sa(sap->body, in->sa);
}

/* HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b): QM #3's only input. */
static void
qm_hash3_input(struct pa_bytes v[4], const uint8_t mid[4],
    const struct ike_qm *qm)
{
	static const uint8_t zero;

	v[0] = (struct pa_bytes){ &zero, 1 };
	v[1] = (struct pa_bytes){ mid, 4 };
	v[2] = (struct pa_bytes){ qm->ni, qm->ni_len };
	v[3] = (struct pa_bytes){ qm->nr, qm->nr_len };
}

/* Responder, QM #1: decrypted into iv's chain, HASH(1), its payloads. */
static int
qm_take_first(struct ike *ike, struct ike_mm *mm, uint8_t *iv,
    struct qm_in *in)
{
	struct pa_bytes v[2];

	if (oak_iv_p2(mm->p1.hash, mm->iv, oak_block_len(mm->p1.enc),
	    in->h->msgid, iv) != 0)
		return PA_E_INVAL;
	v[0] = (struct pa_bytes){ in->mid, 4 };
	if (qm_open(ike, mm, iv, in, v, 2, true, "QM #1",
	    "HASH(1) mismatch, dropped") != 0)
		return PA_E_VERIFY;
	ike_mm_authentic(ike, mm);
	natoa_log(ike, in->m, "QM #1");
	if (qm_payloads(in) != 0) {
		ike->st.invalid_packets++;
		ike_notify_prot(ike, mm, ISK_PROTO_ISAKMP,
		    ISK_N_PAYLOAD_MALFORMED, NULL, 0);
		return PA_E_FORMAT;
	}
	return 0;
}

/*
 * Responder: the traffic QM #1 names (IDci into tsi, IDcr into tsr), or
 * the two addresses of the Main Mode SA when it names none.
 */
static int
qm_first_ts(struct ike *ike, struct ike_mm *mm, const struct qm_in *in,
    struct ike_ts *tsi, struct ike_ts *tsr)
{
	struct isk_id idci, idcr;

	if (in->ci == NULL) {
		memset(tsi, 0, sizeof(*tsi));
		memset(tsr, 0, sizeof(*tsr));
		tsi->net.addr = mm->peer;
		tsi->net.len = pa_addr_bits(mm->peer.family);
		tsr->net.addr = mm->local;
		tsr->net.len = pa_addr_bits(mm->local.family);
		return 0;
	}
	if (isk_parse_id(in->ci->body, &idci) != 0 ||
	    isk_parse_id(in->cr->body, &idcr) != 0 ||
	    ike_ts_from_id(&idci, tsi) != 0 ||
	    ike_ts_from_id(&idcr, tsr) != 0) {
		ike_notify_prot(ike, mm, ISK_PROTO_ISAKMP,
		    ISK_N_INVALID_ID_INFORMATION, NULL, 0);
		ike_audit_fail(ike, QM_MODE, &mm->peer, "Peer",
		    "Unsupported Quick Mode ID type");
		return PA_E_FORMAT;
	}
	return 0;
}

/* Responder: the rule for QM #1's IDs (see natted_transport), or none. */
static int
qm_first_rule(struct ike *ike, struct ike_mm *mm, const struct qm_in *in,
    struct ike_ts *tsi, struct ike_ts *tsr, struct ike_rulecopy *rule)
{
	const char *nowhy;

	if (ike_rule_for_ids(ike, &mm->peer, tsi, tsr, rule, &nowhy) == 0 ||
	    natted_transport(ike, mm, tsi, tsr, rule))
		return 0;
	ike_olog(ike, "QM #1 from %s: no rule for these IDs: %s", in->a,
	    nowhy);
	ike_notify_prot(ike, mm, ISK_PROTO_ISAKMP,
	    ISK_N_INVALID_ID_INFORMATION, NULL, 0);
	ike_audit_fail(ike, QM_MODE, &mm->peer, "Me",
	    "No policy configured for these Quick Mode IDs");
	return PA_E_NOENT;
}

/*
 * Responder: the Quick Mode QM #1 asks for, with the offer of rule we
 * choose among the peer's proposals; NULL when there is none (the peer is
 * told NO-PROPOSAL-CHOSEN).
 */
static struct ike_qm *
qm_responder_new(struct ike *ike, struct ike_mm *mm, const struct qm_in *in,
    const struct ike_ts *tsi, const struct ike_ts *tsr,
    struct ike_rulecopy *rule)
{
	struct ike_qm *qm;
	char why[128], ours[400], theirs[400];

	if ((qm = ike_qm_new(ike, mm, false)) == NULL)
		return NULL;
	qm->msgid = in->h->msgid;
	qm->ts_l = *tsr;
	qm->ts_r = *tsi;
	qm->ids_sent = in->ci != NULL;
	qm->reqid = ++ike->next_reqid;
	if (!(ike->cfg.drv_ops->features & DRV_F_GCM) &&
	    ike_rulecopy_drop_gcm(rule) != 0)
		ike_olog(ike, "rule \"%s\": the driver has no AES-GCM, GCM "
		    "offers left out", rule->name);
	if (ike_p2_select(in->sa, rule, mm->p1.group, rule->tunnel, &qm->p2,
	    &qm->esp_out, &qm->ah_out, why, sizeof(why)) != 0) {
		ike_p2_offers_str(rule, mm->p1.group, rule->tunnel, ours,
		    sizeof(ours));
		ike_p2_peer_str(in->sa, theirs, sizeof(theirs));
		ike_olog(ike, "QM #1 from %s: no proposal chosen (rule \"%s\"): "
		    "expected one of our offers %s; received the peer's offers "
		    "%s", in->a, rule->name, ours, theirs);
		ike_notify_prot(ike, mm, ISK_PROTO_ISAKMP,
		    ISK_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		bad_proposal(ike, &mm->peer, rule->name, ours, theirs);
		ike_qm_kill(ike, qm, false, "no proposal chosen");
		return NULL;
	}
	qm->p2.natt = qm_natt(mm);
	return qm;
}

/*
 * Responder: Ni kept, g^xy with PFS, our inbound SPIs, Nr; the rule moves
 * into qm. On failure qm is ended.
 */
static int
qm_responder_keys(struct ike *ike, struct ike_qm *qm, const struct qm_in *in,
    struct ike_rulecopy *rule)
{
	int rc;

	if ((qm->ni = ike_dup_bytes(in->np->body.p, in->np->body.len)) == NULL)
		goto fail;
	qm->ni_len = in->np->body.len;
	if ((rc = qm_pfs(ike, qm, in->m, true)) != 0) {
		qm_fail(ike, qm, "Peer", rc == PA_E_VERIFY ? "Invalid "
		    "Diffie-Hellman public value" : "PFS key exchange missing "
		    "or unexpected");
		return rc;
	}
	if ((qm->p2.esp && (rc = spi_alloc(ike, qm, DRV_PROTO_ESP,
	    &qm->esp_in)) != 0) ||
	    (qm->p2.ah && (rc = spi_alloc(ike, qm, DRV_PROTO_AH,
	    &qm->ah_in)) != 0)) {
		qm_fail(ike, qm, "Me", "Could not get an SPI");
		return rc;
	}
	if ((qm->nr = malloc(IKE_NONCE_LEN)) == NULL)
		goto fail;
	qm->nr_len = IKE_NONCE_LEN;
	if (ike_rand(ike, qm->nr, IKE_NONCE_LEN) != 0 ||
	    (qm->rule = calloc(1, sizeof(*qm->rule))) == NULL)
		goto fail;
	*qm->rule = *rule;
	memset(rule, 0, sizeof(*rule));
	return 0;
fail:
	qm_fail(ike, qm, "Me", "Could not build QM #2");
	return PA_E_NOMEM;
}

/*
 * QM #2: HASH(2), SA (the offer chosen), Nr [, KE] [, RESPONDER-LIFETIME]
 * [, IDci, IDcr as received] [, NAT-OAi, NAT-OAr], encrypted on from iv
 * (QM #1's chain).
 */
static int
qm_write_reply(struct ike_mm *mm, struct ike_qm *qm, const struct qm_in *in,
    const uint8_t *iv, struct wr *w)
{
	struct isk_hdr oh;
	struct isk_chain c;
	struct pa_bytes v[3];
	size_t hp, hoff, pos, hl = oak_hash_len(mm->p1.hash);
	int rc;

	ike_mm_hdr(mm, &oh, ISK_EXCH_QUICK, ISK_FLAG_ENC, qm->msgid);
	if ((rc = isk_hdr_write(w, &oh, &c)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_HASH, &hp)) != 0 ||
	    (rc = wr_reserve(w, hl, &hoff)) != 0 ||
	    (rc = isk_pl_close(w, hp)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_SA, &pos)) != 0 ||
	    (rc = ike_p2_write_one(w, &qm->p2, qm->p2.propnum, qm->esp_in,
	    qm->ah_in)) != 0 || (rc = isk_pl_close(w, pos)) != 0 ||
	    (rc = isk_pl_data(w, &c, ISK_PL_NONCE, qm->nr, qm->nr_len)) != 0)
		return rc;
	if (qm->dh != NULL && (rc = isk_pl_data(w, &c, ISK_PL_KE,
	    oak_dh_pub(qm->dh).p, oak_dh_pub(qm->dh).len)) != 0)
		return rc;
	if (qm->p2.life_cut && (rc = responder_lifetime(w, &c, qm)) != 0)
		return rc;
	if (in->ci != NULL && ((rc = isk_pl_data(w, &c, ISK_PL_ID,
	    in->ci->body.p, in->ci->body.len)) != 0 ||
	    (rc = isk_pl_data(w, &c, ISK_PL_ID, in->cr->body.p,
	    in->cr->body.len)) != 0))
		return rc;
	if (!qm->p2.tunnel && qm->p2.natt != 0 &&
	    ((rc = natoa_write(w, &c, qm->p2.natt, &mm->peer)) != 0 ||
	    (rc = natoa_write(w, &c, qm->p2.natt, &mm->local)) != 0))
		return rc;
	v[0] = (struct pa_bytes){ in->mid, 4 };
	v[1] = (struct pa_bytes){ qm->ni, qm->ni_len };
	v[2] = wr_tail(w, hp + ISK_GEN_LEN + hl);
	if ((rc = patch_hash(mm, w, hoff, v, 3)) != 0)
		return rc;
	memcpy(qm->iv, iv, sizeof(qm->iv));
	return ike_encrypt_msg(mm, qm->iv, w, 0);
}

/* Responder, QM #1 (no Quick Mode yet): choose, answer with QM #2. */
static void
qm_respond(struct ike *ike, struct ike_mm *mm, struct qm_in *in)
{
	uint8_t buf[4096], iv[OAK_MAX_BLOCK];
	struct ike_qm *qm;
	struct ike_rulecopy rule;
	struct ike_ts tsi, tsr;
	struct wr w;
	char ps[128];

	memset(&rule, 0, sizeof(rule));
	if (qm_take_first(ike, mm, iv, in) != 0 ||
	    qm_first_ts(ike, mm, in, &tsi, &tsr) != 0 ||
	    qm_first_rule(ike, mm, in, &tsi, &tsr, &rule) != 0 ||
	    (qm = qm_responder_new(ike, mm, in, &tsi, &tsr, &rule)) == NULL ||
	    qm_responder_keys(ike, qm, in, &rule) != 0)
		goto out;
	wr_init(&w, buf, sizeof(buf));
	if (qm_write_reply(mm, qm, in, iv, &w) != 0) {
		qm_fail(ike, qm, "Me", "Could not build QM #2");
		goto out;
	}
	/*
	 * RFC 2409 section 5.5: once it has built QM #2 the responder knows
	 * both nonces (and g^xy with PFS), so the keys of both directions
	 * are fixed. We install the INBOUND SAs now, before QM #2 leaves:
	 * the initiator may send ESP the moment it has QM #2 and sent QM #3,
	 * and that first packet (the one held by its driver) can overtake
	 * QM #3 on the way in. An inbound SA only accepts packets whose ICV
	 * was made with keys derived from our own nonce, so this opens
	 * nothing. The OUTBOUND SAs wait for QM #3: HASH(3) proves the
	 * initiator is live and has the keys (the "liveness" message of
	 * 5.5), so we never send on an SA the peer may not have. If QM #3
	 * never comes, ike_qm_kill() removes the inbound SAs again.
	 */
	if (qm_install(ike, qm, mm, QM_INSTALL_IN) != 0) {
		qm_fail(ike, qm, "Me", "The driver refused the SAs");
		goto out;
	}
	qm->state = QM_R_SENT;
	memcpy(qm->rx_digest, in->dg, 20);
	qm->rx_valid = true;
	ike_olog(ike, "QM #1 from %s (msgid %08x): chose %s, rule \"%s\"",
	    in->a, qm->msgid, ike_p2_str(&qm->p2, ps, sizeof(ps)),
	    qm->rule->name);
	(void)qm_send(ike, qm, mm, &w, true);
out:
	ike_rulecopy_clear(&rule);
}

/* Initiator: are QM #2's IDs the ones we sent in QM #1? */
static bool
qm_ids_kept(const struct ike_qm *qm, const struct qm_in *in)
{
	struct isk_id x, y;
	struct ike_ts tx, ty;

	return isk_parse_id(in->ci->body, &x) == 0 &&
	    isk_parse_id(in->cr->body, &y) == 0 &&
	    ike_ts_from_id(&x, &tx) == 0 && ike_ts_from_id(&y, &ty) == 0 &&
	    ike_ts_eq(&tx, &qm->ts_l) && ike_ts_eq(&ty, &qm->ts_r);
}

/*
 * Initiator, QM #2: HASH(2), the responder's choice among our offers, the
 * IDs unchanged, a RESPONDER-LIFETIME honoured, Nr, g^xy with PFS.
 */
static int
qm_take_reply(struct ike *ike, struct ike_mm *mm, struct ike_qm *qm,
    struct qm_in *in)
{
	struct pa_bytes v[3];

	v[0] = (struct pa_bytes){ in->mid, 4 };
	v[1] = (struct pa_bytes){ qm->ni, qm->ni_len };
	if (qm_open(ike, mm, qm->iv, in, v, 3, true, "QM #2",
	    "HASH(2) mismatch") != 0)
		return PA_E_VERIFY;
	natoa_log(ike, in->m, "QM #2");
	ike_mm_authentic(ike, mm);
	if (qm_payloads(in) != 0) {
		qm_fail(ike, qm, "Peer", "Malformed QM #2");
		return PA_E_FORMAT;
	}
	if (ike_p2_accept(in->sa, qm->rule, mm->p1.group, qm->rule->tunnel,
	    &qm->p2, &qm->esp_out, &qm->ah_out) != 0) {
		qm_not_offered(ike, qm, in);
		return PA_E_INVAL;
	}
	qm->p2.natt = qm_natt(mm);
	if (in->ci != NULL && !qm_ids_kept(qm, in)) {
		qm_fail(ike, qm, "Peer", "Responder changed the Quick Mode IDs");
		return PA_E_INVAL;
	}
	honour_responder_lifetime(ike, qm, in->m);
	if ((qm->nr = ike_dup_bytes(in->np->body.p, in->np->body.len)) == NULL)
		return PA_E_NOMEM;
	qm->nr_len = in->np->body.len;
	if (qm_pfs(ike, qm, in->m, false) != 0) {
		qm_fail(ike, qm, "Peer", "PFS key exchange failed");
		return PA_E_VERIFY;
	}
	return 0;
}

/* QM #3: HASH(3) alone, encrypted. */
static int
qm_write_last(struct ike_mm *mm, struct ike_qm *qm, const uint8_t mid[4],
    struct wr *w)
{
	struct isk_hdr oh;
	struct isk_chain c;
	struct pa_bytes v[4];
	size_t hp, hoff, hl = oak_hash_len(mm->p1.hash);
	int rc;

	ike_mm_hdr(mm, &oh, ISK_EXCH_QUICK, ISK_FLAG_ENC, qm->msgid);
	qm_hash3_input(v, mid, qm);
	if ((rc = isk_hdr_write(w, &oh, &c)) != 0 ||
	    (rc = isk_pl_open(w, &c, ISK_PL_HASH, &hp)) != 0 ||
	    (rc = wr_reserve(w, hl, &hoff)) != 0 ||
	    (rc = isk_pl_close(w, hp)) != 0 ||
	    (rc = patch_hash(mm, w, hoff, v, 4)) != 0)
		return rc;
	return ike_encrypt_msg(mm, qm->iv, w, 0);
}

/*
 * Initiator, QM #3 sent: when the outbound SAs go in. Our own responder
 * has its inbound SAs since QM #2; others (strongSwan) add theirs only
 * once they have processed QM #3, and the first held packet released now
 * could get there first. So the outbound SAs (and the release) wait one
 * round trip of this exchange (QM #1 to QM #2, the peer's work included),
 * between 1 and QM_OUT_WAIT_MAX_MS: the time QM #3 needs to arrive and be
 * handled. Traffic the peer sends meanwhile already finds our inbound SAs;
 * a rekey keeps using the old outbound SA until then. A peer that sent
 * our VID is our own responder: no wait.
 */
static void
qm_out_later(struct ike *ike, struct ike_mm *mm, struct ike_qm *qm)
{
	uint64_t now, rtt;

	if (mm->peer_ours) {
		ike_qm_out_due(ike, qm);
		return;
	}
	now = ike_now();
	rtt = now - qm->t1_at;
	if (qm->t1_at == 0 || rtt > QM_OUT_WAIT_MAX_MS)
		rtt = QM_OUT_WAIT_MAX_MS;
	if (rtt == 0)
		rtt = 1;
	qm->state = QM_I_OUTWAIT;
	qm->out_at = now + rtt;
	ike_timer_note(ike, qm->out_at);
}

/* Initiator, QM #2: the responder's answer; QM #3 goes out. */
static void
qm_on_reply(struct ike *ike, struct ike_mm *mm, struct ike_qm *qm,
    struct qm_in *in)
{
	uint8_t buf[512];
	struct wr w;

	if (qm_take_reply(ike, mm, qm, in) != 0)
		return;
	/*
	 * Order (RFC 2409 section 5.5; see qm_respond for the responder's):
	 * inbound SAs first, so that the responder's traffic, which may
	 * start as soon as it has QM #3, finds them; then QM #3 goes out;
	 * only then the outbound SAs (qm_out_later), whose addition releases
	 * the packets the driver held for the acquire, so the first of them
	 * never overtakes QM #3 and always meets the responder's inbound SA
	 * (installed when it sent QM #2).
	 */
	wr_init(&w, buf, sizeof(buf));
	if (qm_write_last(mm, qm, in->mid, &w) != 0) {
		qm_fail(ike, qm, "Me", "Could not build QM #3");
		return;
	}
	if (qm_install(ike, qm, mm, QM_INSTALL_IN) != 0) {
		qm_fail(ike, qm, "Me", "The driver refused the SAs");
		return;
	}
	memcpy(qm->rx_digest, in->dg, 20);
	qm->rx_valid = true;
	(void)qm_send(ike, qm, mm, &w, false);
	qm_out_later(ike, mm, qm);
}

/* Responder, QM #3: HASH(3) proves the initiator has the keys. */
static void
qm_on_last(struct ike *ike, struct ike_mm *mm, struct ike_qm *qm,
    struct qm_in *in)
{
	struct pa_bytes v[4];

	qm_hash3_input(v, in->mid, qm);
	if (qm_open(ike, mm, qm->iv, in, v, 4, false, "QM #3",
	    "HASH(3) mismatch") != 0)
		return;
	ike_mm_authentic(ike, mm);
	if (qm_install(ike, qm, mm, QM_INSTALL_OUT) != 0) {
		qm_fail(ike, qm, "Me", "The driver refused the SAs");
		return;
	}
	free(qm->tx);
	qm->tx = NULL;
	qm->txlen = 0;
	qm_established(ike, qm);
}

/* One handler per state waiting for a message (QM #1 has none: no qm). */
static const struct {
	enum ike_qm_state	 state;
	void			(*input)(struct ike *, struct ike_mm *,
				    struct ike_qm *, struct qm_in *);
} qm_steps[] = {
	{ QM_I_SENT,	qm_on_reply },		/* #2 */
	{ QM_R_SENT,	qm_on_last },		/* #3 */
};

/*
 * A retransmission of what we answered (same digest): replay the answer.
 * True: it was one.
 */
static bool
qm_replayed(struct ike *ike, struct ike_mm *mm, const struct ike_qm *qm,
    const uint8_t dg[20])
{
	if (!qm->rx_valid || memcmp(dg, qm->rx_digest, 20) != 0)
		return false;
	if (qm->tx != NULL && ike_send(ike, mm->sock, &mm->peer,
	    mm->peer_port, qm->tx, qm->txlen) == 0)
		ike->st.retransmits++;
	return true;
}

void
ike_qm_input(struct ike *ike, struct ike_mm *mm, const struct isk_hdr *h,
    struct pa_bytes body, const uint8_t *pkt, size_t len)
{
	uint8_t plain[IKE_MAX_PKT], dg[20];
	struct ike_qm *qm;
	struct qm_in in;
	char a[PA_ADDRSTRLEN];
	size_t i, n = sizeof(qm_steps) / sizeof(qm_steps[0]);

	if (mm->state != MM_DONE) {
		ike->st.invalid_packets++;
		return;
	}
	pa_addr_str(&mm->peer, a, sizeof(a));
	ike_digest(pkt, len, dg);
	qm = ike_qm_find(ike, mm, h->msgid);
	if (qm != NULL && qm_replayed(ike, mm, qm, dg))
		return;
	in = (struct qm_in){ .h = h, .body = body, .dg = dg, .a = a,
	    .plain = plain };
	ike_put32(in.mid, h->msgid);
	if ((in.m = malloc(sizeof(*in.m))) == NULL ||
	    (in.sa = malloc(sizeof(*in.sa))) == NULL)
		goto out;
	if (qm == NULL) {
		qm_respond(ike, mm, &in);
		goto out;
	}
	for (i = 0; i < n && qm_steps[i].state != qm->state; i++)
		continue;
	if (i < n)
		qm_steps[i].input(ike, mm, qm, &in);
	else
		/* Fits no step of this Quick Mode (e.g. an altered copy of a
		   message already answered). */
		ike->st.invalid_packets++;
out:
	pa_wipe(plain, sizeof(plain));
	free(in.sa);
	free(in.m);
}

void
ike_qm_expire(struct ike *ike, const struct sa_id *id, uint64_t cookie,
    bool hard)
{
	struct ike_qm *qm;
	int rc;

	for (qm = ike->qm_head; qm != NULL; qm = qm->next)
		if (qm->state == QM_DONE && qm->cookie == cookie)
			break;
	if (qm == NULL)
		return;
	if (hard) {
		ike_qm_delete_send(ike, qm);
		ike_qm_kill(ike, qm, true, "lifetime expired");
		return;
	}
	if (qm->rekeyed || !qm->initiator || qm->rule == NULL)
		return;
	qm->rekeyed = true;
	ike_olog(ike, "QM SA (msgid %08x, SPI 0x%x) soft expiry: rekeying",
	    qm->msgid, id->spi);
	rc = ike->up.start_negotiation(ike, &qm->peer, &qm->ts_l, &qm->ts_r,
	    qm->reqid, qm->rule);
	if (rc != 0)
		ike->st.acquire_failures++;
}
