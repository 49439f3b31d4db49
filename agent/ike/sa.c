/*
 * The SA table, at the bottom of the engine: Main Mode SAs (by cookies,
 * hashed on CKY-I, and by peer), their Quick Mode SAs, their ends (audit,
 * the driver's SAs deleted, freed at the next timer run) and the timer
 * deadline. It calls nothing above it: the exchanges and the dispatch
 * (engine.c) call down into it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ike_sa.h"
#include "pa_time.h"

static size_t
mm_bucket(const uint8_t cky_i[8])
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < 8; i++)
		h = (h ^ cky_i[i]) * 16777619u;
	return h % IKE_HASH_BUCKETS;
}

struct ike_mm *
ike_mm_new(struct ike *ike, bool initiator)
{
	struct ike_mm *mm;

	if ((mm = calloc(1, sizeof(*mm))) == NULL)
		return NULL;
	mm->ike = ike;
	mm->initiator = initiator;
	mm->sock = -1;
	mm->created = (uint64_t)pa_wall_s();
	mm->next = ike->mm_head;
	if (ike->mm_head != NULL)
		ike->mm_head->prev = mm;
	ike->mm_head = mm;
	return mm;
}

void
ike_mm_hash_add(struct ike *ike, struct ike_mm *mm)
{
	size_t b = mm_bucket(mm->cky_i);

	mm->hnext = ike->mm_hash[b];
	ike->mm_hash[b] = mm;
}

static void
mm_hash_del(struct ike *ike, struct ike_mm *mm)
{
	struct ike_mm **pp;

	for (pp = &ike->mm_hash[mm_bucket(mm->cky_i)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == mm) {
			*pp = mm->hnext;
			return;
		}
}

struct ike_mm *
ike_mm_find(struct ike *ike, const uint8_t cky_i[8], const uint8_t cky_r[8])
{
	static const uint8_t zero[8];
	struct ike_mm *mm;

	for (mm = ike->mm_hash[mm_bucket(cky_i)]; mm != NULL; mm = mm->hnext) {
		if (mm->state == MM_DEAD || memcmp(mm->cky_i, cky_i, 8) != 0)
			continue;
		/*
		 * NULL or a zero cky_r (a retransmitted #1) matches any SA
		 * with this cky_i; an initiator learns cky_r from #2.
		 */
		if (cky_r == NULL || memcmp(cky_r, zero, 8) == 0 ||
		    memcmp(mm->cky_r, cky_r, 8) == 0 ||
		    memcmp(mm->cky_r, zero, 8) == 0)
			return mm;
	}
	return NULL;
}

struct ike_mm *
ike_mm_find_peer(struct ike *ike, const struct pa_addr *peer,
    bool established)
{
	struct ike_mm *mm, *best = NULL;

	for (mm = ike->mm_head; mm != NULL; mm = mm->next) {
		if (mm->state == MM_DEAD || !pa_addr_eq(&mm->peer, peer))
			continue;
		if (established && mm->state != MM_DONE)
			continue;
		if (mm->rule.qm_per_mm != 0 &&
		    mm->qm_count >= mm->rule.qm_per_mm)
			continue;
		if (best == NULL || mm->created > best->created)
			best = mm;
	}
	return best;
}

void
ike_mm_scrub(struct ike_mm *mm)
{
	oak_dh_free(mm->dh);
	mm->dh = NULL;
	free(mm->sai_b);
	mm->sai_b = NULL;
	free(mm->gxi);
	free(mm->gxr);
	mm->gxi = mm->gxr = NULL;
	if (mm->ni != NULL)
		pa_wipe(mm->ni, mm->ni_len);
	if (mm->nr != NULL)
		pa_wipe(mm->nr, mm->nr_len);
	free(mm->ni);
	free(mm->nr);
	mm->ni = mm->nr = NULL;
	pa_wipe(mm->skeyid, sizeof(mm->skeyid));
}

void
ike_mm_free(struct ike *ike, struct ike_mm *mm)
{
	struct ike_qm *qm;

	for (qm = mm->qms; qm != NULL; qm = qm->mnext)
		qm->mm = NULL;
	mm->qms = NULL;
	{
		struct ike_pending *p;

		for (p = ike->pending; p != NULL; p = p->next)
			if (p->mm == mm)
				p->mm = NULL;
	}
	mm_hash_del(ike, mm);
	if (mm->prev != NULL)
		mm->prev->next = mm->next;
	else
		ike->mm_head = mm->next;
	if (mm->next != NULL)
		mm->next->prev = mm->prev;
	ike_mm_scrub(mm);
	free(mm->tx);
	ike_peer_certs_free(mm->peer_certs);
	ike_rulecopy_clear(&mm->rule);
	pa_wipe(mm, sizeof(*mm));
	free(mm);
}

void
ike_mm_kill(struct ike *ike, struct ike_mm *mm, const char *why)
{
	char pa[PA_ADDRSTRLEN];
	struct ike_qm *qm;

	if (mm->state == MM_DEAD)
		return;
	ike_olog(ike, "MM SA with %s ended: %s",
	    pa_addr_str(&mm->peer, pa, sizeof(pa)), why);
	if (mm->state == MM_DONE) {
		const char *kv[2] = { "Filter", mm->rule.name };

		ike_audit(ike, AUDIT_IKE_MM_SA_ENDED, kv, 2);
		if (ike->st.active_mmsas > 0)
			ike->st.active_mmsas--;
	} else if (!mm->initiator && ike->st.active_receive > 0) {
		ike->st.active_receive--;
	} else if (mm->initiator && ike->st.active_acquire > 0) {
		ike->st.active_acquire--;
	}
	/* Quick Modes in flight on it die with it. */
	for (qm = mm->qms; qm != NULL; qm = qm->mnext)
		if (qm->state != QM_DONE &&
		    qm->state != QM_DEAD)
			ike_qm_kill(ike, qm, true, "Main Mode SA gone");
	mm->state = MM_DEAD;
	mm->retx_at = 0;
	mm->expire_at = 0;
	mm->keepalive_at = 0;
	mm->dpd_at = 0;
	ike_timer_note(ike, ike_now());	/* free it at the next run */
	ike_mm_scrub(mm);
}

struct ike_qm *
ike_qm_new(struct ike *ike, struct ike_mm *mm, bool initiator)
{
	struct ike_qm *qm;

	if ((qm = calloc(1, sizeof(*qm))) == NULL)
		return NULL;
	qm->mm = mm;
	memcpy(qm->cky_i, mm->cky_i, 8);
	memcpy(qm->cky_r, mm->cky_r, 8);
	qm->initiator = initiator;
	qm->local = mm->local;
	qm->peer = mm->peer;
	qm->created = (uint64_t)pa_wall_s();
	qm->cookie = ++ike->next_cookie;
	qm->mnext = mm->qms;
	mm->qms = qm;
	qm->next = ike->qm_head;
	if (ike->qm_head != NULL)
		ike->qm_head->prev = qm;
	ike->qm_head = qm;
	return qm;
}

struct ike_qm *
ike_qm_find(struct ike *ike, const struct ike_mm *mm, uint32_t msgid)
{
	(void)ike;
	struct ike_qm *qm;

	for (qm = mm->qms; qm != NULL; qm = qm->mnext)
		if (qm->msgid == msgid && qm->state != QM_DEAD)
			return qm;
	return NULL;
}

void
ike_qm_scrub(struct ike_qm *qm)
{
	oak_dh_free(qm->dh);
	qm->dh = NULL;
	if (qm->ni != NULL)
		pa_wipe(qm->ni, qm->ni_len);
	if (qm->nr != NULL)
		pa_wipe(qm->nr, qm->nr_len);
	if (qm->gxy != NULL)
		pa_wipe(qm->gxy, qm->gxy_len);
	free(qm->ni);
	free(qm->nr);
	free(qm->gxy);
	qm->ni = qm->nr = qm->gxy = NULL;
}

void
ike_qm_free(struct ike *ike, struct ike_qm *qm)
{
	struct ike_qm **pp;

	if (qm->mm != NULL)
		for (pp = &qm->mm->qms; *pp != NULL; pp = &(*pp)->mnext)
			if (*pp == qm) {
				*pp = qm->mnext;
				break;
			}
	if (qm->prev != NULL)
		qm->prev->next = qm->next;
	else
		ike->qm_head = qm->next;
	if (qm->next != NULL)
		qm->next->prev = qm->prev;
	ike_qm_scrub(qm);
	if (qm->rule != NULL) {
		ike_rulecopy_clear(qm->rule);
		free(qm->rule);
	}
	free(qm->tx);
	free(qm);
}

void
ike_qm_sa_id(const struct ike_qm *qm, bool in, uint8_t proto, struct sa_id *id)
{
	memset(id, 0, sizeof(*id));
	id->src = in ? qm->peer : qm->local;
	id->dst = in ? qm->local : qm->peer;
	id->proto = proto;
	if (proto == DRV_PROTO_ESP)
		id->spi = in ? qm->esp_in : qm->esp_out;
	else
		id->spi = in ? qm->ah_in : qm->ah_out;
}

void
ike_qm_kill(struct ike *ike, struct ike_qm *qm, bool del_sas, const char *why)
{
	struct sa_id id;

	if (qm->state == QM_DEAD)
		return;
	ike_olog(ike, "QM SA (msgid %08x) ended: %s", qm->msgid, why);
	if (qm->state == QM_DONE) {
		char in[32], out[32], flt[300];
		const char *kv[6] = { "Filter", flt, "Inbound SPI", in,
		    "Outbound SPI", out };

		ike_qm_filter_text(qm, flt, sizeof(flt));
		snprintf(in, sizeof(in), "%u (0x%x)",
		    qm->p2.esp ? qm->esp_in : qm->ah_in,
		    qm->p2.esp ? qm->esp_in : qm->ah_in);
		snprintf(out, sizeof(out), "%u (0x%x)",
		    qm->p2.esp ? qm->esp_out : qm->ah_out,
		    qm->p2.esp ? qm->esp_out : qm->ah_out);
		ike_audit(ike, AUDIT_IKE_QM_SA_ENDED, kv, 6);
		if (ike->st.active_qmsas > 0)
			ike->st.active_qmsas--;
	}
	if (del_sas && qm->installed) {
		static const uint8_t protos[2] = { DRV_PROTO_ESP, DRV_PROTO_AH };
		size_t i;

		for (i = 0; i < 2; i++) {
			if ((protos[i] == DRV_PROTO_ESP && !qm->p2.esp) ||
			    (protos[i] == DRV_PROTO_AH && !qm->p2.ah))
				continue;
			ike_qm_sa_id(qm, true, protos[i], &id);
			if (ike->cfg.drv_ops->sa_del(ike->cfg.drv, &id) == 0)
				ike->st.key_deletions++;
			ike_qm_sa_id(qm, false, protos[i], &id);
			if (ike->cfg.drv_ops->sa_del(ike->cfg.drv, &id) == 0)
				ike->st.key_deletions++;
		}
	}
	ike_bundle_release(ike, qm);
	qm->installed = false;
	qm->state = QM_DEAD;
	qm->retx_at = 0;
	ike_timer_note(ike, ike_now());	/* free it at the next run */
	ike_qm_scrub(qm);
}

void
ike_timer_note(struct ike *ike, uint64_t at)
{
	if (at != 0 && (ike->timer_due == 0 || at < ike->timer_due))
		ike->timer_due = at;
}

/* The Filter field of 541 and 542: the SA's selectors and IKE addresses. */
void
ike_qm_filter_text(const struct ike_qm *qm, char *out, size_t cap)
{
	char pa[PA_ADDRSTRLEN], la[PA_ADDRSTRLEN], s1[PA_PREFIXSTRLEN],
	    s2[PA_PREFIXSTRLEN];

	pa_addr_str(&qm->peer, pa, sizeof(pa));
	pa_addr_str(&qm->local, la, sizeof(la));
	snprintf(out, cap, "Source IP Address %s, Destination IP Address %s, "
	    "Protocol %u, Source Port %u, Destination Port %u, IKE Local "
	    "Addr %s, IKE Peer Addr %s%s",
	    pa_prefix_str(&qm->ts_l.net, s1, sizeof(s1)),
	    pa_prefix_str(&qm->ts_r.net, s2, sizeof(s2)), qm->ts_l.proto,
	    qm->ts_l.port, qm->ts_r.port, la, pa,
	    qm->p2.tunnel ? ", tunnel" : "");
}
