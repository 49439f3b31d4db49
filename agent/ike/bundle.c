/*
 * SA entries: the driver filters that send a flow negotiated in Quick Mode
 * through its SAs, in both roles, for as long as an SA of the flow lives.
 *
 * A filter action's offers are alternatives, so the policy filter that
 * raised the acquire cannot say which bundle (ESP, AH or AH+ESP) the peer
 * will choose; and a responder under the default response rule has no
 * filter at all, yet must send its side of the conversation through the
 * SAs (Windows: respond, and secure the conversation). So once Quick Mode
 * has chosen, an SA entry goes in for exactly the negotiated selectors,
 * with the negotiated bundle, mode and tunnel endpoints and the reqid of
 * the SAs, outbound and inbound.
 *
 * One entry per flow (peer, selectors, bundle, mode): the Quick Modes of
 * a flow (our rekey, the peer's, a peer's duplicate) share it and its
 * reqid, so a rekey changes no filter; it goes with the last of them. It
 * is added before the first SA of its Quick Mode (the inbound ones), so
 * that a reply sent before the outbound SAs exist is held, never sent in
 * clear.
 *
 * An entry stands just ahead of the filter it was negotiated under
 * (POL_PRIO_SA), so a more specific filter, a permitted ICMP say, keeps
 * deciding its own traffic; what the default response rule negotiated
 * stands after every filter (pol_spd_prio_default).
 */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "ike_sa.h"
#include "pa_log.h"
#include "spd.h"

/* Filter indexes of our own, far from the agent's (counted from 1). */
#define IKE_BUNDLE_INDEX_BASE	0x7e000000U

struct ike_bundle {
	struct ike_bundle	*next;
	struct pa_addr		 local;
	struct pa_addr		 peer;
	struct ike_ts		 ts_l;
	struct ike_ts		 ts_r;
	bool			 ah;
	bool			 esp;
	bool			 tunnel;
	uint32_t		 reqid;
	uint32_t		 prio;
	bool			 inpass;	/* the inbound entry's */
	unsigned		 refs;
	struct spd_id		 in;
	struct spd_id		 out;
};

static bool
same_flow(const struct ike_bundle *b, const struct ike_qm *qm)
{
	return pa_addr_eq(&b->peer, &qm->peer) &&
	    pa_addr_eq(&b->local, &qm->local) &&
	    ike_ts_eq(&b->ts_l, &qm->ts_l) && ike_ts_eq(&b->ts_r, &qm->ts_r) &&
	    b->ah == qm->p2.ah && b->esp == qm->p2.esp &&
	    b->tunnel == qm->p2.tunnel;
}

/* The driver filter of one direction (out: from ts_l to ts_r). */
static void
bundle_params(const struct ike_bundle *b, bool in, bool inpass,
    struct spd_params *p)
{
	const struct ike_ts *src = in ? &b->ts_r : &b->ts_l;
	const struct ike_ts *dst = in ? &b->ts_l : &b->ts_r;

	memset(p, 0, sizeof(*p));
	p->sel.src = src->net;
	p->sel.dst = dst->net;
	p->sel.proto = b->ts_l.proto;
	p->sel.sport = src->port;
	p->sel.dport = dst->port;
	p->action = DRV_ACT_PROTECT;
	p->priority = b->prio;
	p->inpass = in && inpass;
	p->mode = b->tunnel ? DRV_MODE_TUNNEL : DRV_MODE_TRANSPORT;
	p->want_ah = b->ah;
	p->want_esp = b->esp;
	if (b->tunnel) {
		p->tunnel_src = in ? b->peer : b->local;
		p->tunnel_dst = in ? b->local : b->peer;
	}
	p->reqid = b->reqid;
}

static uint32_t
bundle_prio(const struct ike_qm *qm)
{
	if (qm->rule != NULL && !qm->rule->default_rule &&
	    qm->rule->prio_sa != 0)
		return qm->rule->prio_sa;
	return pol_spd_prio_default(&qm->ts_l.net, &qm->ts_r.net,
	    qm->ts_l.proto, qm->ts_l.port, qm->ts_r.port);
}

/*
 * The inbound entry accepts clear text as the rule's filter action says.
 * An SA the default response rule answered accepts it too: no filter of
 * ours asked for it, clear text from that peer was accepted before it and
 * stays so; it secures what we send back. Without this, what the
 * initiator's own policy leaves in clear inside the negotiated IDs
 * (Request Security's All ICMP Traffic: Permit) would be dropped here once
 * the SA is up: our echo request leaves over ESP, its clear answer would
 * never come in.
 */
static bool
bundle_inpass(const struct ike_qm *qm)
{
	return qm->rule != NULL && (qm->rule->inpass ||
	    qm->rule->default_rule);
}

/* Both entries of b, with new indexes, at b->prio (inbound first). */
static int
bundle_add(struct ike *ike, struct ike_bundle *b)
{
	const struct driver_ops *ops = ike->cfg.drv_ops;
	struct spd_params p;
	int rc;

	b->in.index = b->out.index = IKE_BUNDLE_INDEX_BASE +
	    ++ike->next_bundle_index;
	b->in.dir = DRV_DIR_IN;
	b->out.dir = DRV_DIR_OUT;
	bundle_params(b, true, b->inpass, &p);
	if ((rc = ops->policy_add(ike->cfg.drv, &b->in, &p)) != 0)
		return rc;
	bundle_params(b, false, false, &p);
	if ((rc = ops->policy_add(ike->cfg.drv, &b->out, &p)) != 0) {
		if (ops->policy_del(ike->cfg.drv, &b->in) != 0)
			log_warnx("SA entry: the driver kept an inbound filter");
		return rc;
	}
	return 0;
}

static void
bundle_remove(struct ike *ike, struct ike_bundle *b)
{
	const struct driver_ops *ops = ike->cfg.drv_ops;

	/* Outbound first: nothing new leaves towards SAs about to go. */
	if (ops->policy_del(ike->cfg.drv, &b->out) != 0 ||
	    ops->policy_del(ike->cfg.drv, &b->in) != 0)
		log_warnx("SA entry: the driver could not remove a filter");
}

/*
 * A Quick Mode of a flow whose entry stands behind the filter this one was
 * negotiated under: what the default response rule answered, and now a
 * policy of ours (reloaded: Respond Only became Request Security) has a
 * filter for the same traffic. That filter, ahead of the entry, carries
 * no SA (reqid 0): every packet of the flow would raise an acquire and
 * wait for ever. The entry moves ahead of the filter, new entries first,
 * then the old ones go, so no packet sees neither.
 */
static void
bundle_promote(struct ike *ike, struct ike_bundle *b, const struct ike_qm *qm)
{
	struct ike_bundle old = *b;
	uint32_t prio = bundle_prio(qm);

	if (prio >= b->prio)
		return;
	b->prio = prio;
	b->inpass = bundle_inpass(qm);
	if (bundle_add(ike, b) != 0) {
		log_warnx("SA entry: cannot move ahead of its filter");
		*b = old;
		return;
	}
	bundle_remove(ike, &old);
}

int
ike_bundle_hold(struct ike *ike, struct ike_qm *qm)
{
	struct ike_bundle *b;
	int rc;

	if (qm->bundle != NULL)
		return 0;
	for (b = ike->bundles; b != NULL; b = b->next)
		if (same_flow(b, qm)) {
			b->refs++;
			qm->bundle = b;
			qm->reqid = b->reqid;
			bundle_promote(ike, b, qm);
			return 0;
		}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return PA_E_NOMEM;
	b->local = qm->local;
	b->peer = qm->peer;
	b->ts_l = qm->ts_l;
	b->ts_r = qm->ts_r;
	b->ah = qm->p2.ah;
	b->esp = qm->p2.esp;
	b->tunnel = qm->p2.tunnel;
	b->reqid = qm->reqid;
	b->prio = bundle_prio(qm);
	b->inpass = bundle_inpass(qm);
	b->refs = 1;
	if ((rc = bundle_add(ike, b)) != 0) {
		free(b);
		return rc;
	}
	b->next = ike->bundles;
	ike->bundles = b;
	qm->bundle = b;
	return 0;
}

void
ike_bundle_release(struct ike *ike, struct ike_qm *qm)
{
	struct ike_bundle **bp, *b = qm->bundle;

	if (b == NULL)
		return;
	qm->bundle = NULL;
	if (--b->refs > 0)
		return;
	for (bp = &ike->bundles; *bp != NULL; bp = &(*bp)->next)
		if (*bp == b) {
			*bp = b->next;
			break;
		}
	bundle_remove(ike, b);
	free(b);
}

void
ike_bundle_free_all(struct ike *ike)
{
	struct ike_bundle *b;

	while ((b = ike->bundles) != NULL) {
		ike->bundles = b->next;
		bundle_remove(ike, b);
		free(b);
	}
}
