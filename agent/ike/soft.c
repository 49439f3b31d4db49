/*
 * Soft associations ("Allow unsecured communication with non-IPsec-aware
 * computers"): when the peer of a rule whose filter action allows it has
 * not answered within soft_sa_ms, the flow that raised the acquire is let
 * through in clear. The driver gets two PERMIT filters for exactly those
 * selectors (outbound, and inbound reversed) just ahead of the negotiate
 * filter that allows it (POL_PRIO_SOFT of its entry), so a stricter, more
 * specific filter for the same peer still wins; they are removed
 * when the soft association ends: after soft_sa_life_ms, when a Quick
 * Mode SA with that peer is established (secured traffic takes over), or
 * when the engine stops. Every start and end is counted or logged and
 * audited (the start in engine.c's soft_association()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "driver.h"
#include "ike_exch.h"
#include "pa_log.h"

/* Filter indexes of our own, far from the agent's (counted from 1). */
#define IKE_SOFT_INDEX_BASE	0x7f000000U

struct ike_soft {
	struct ike_soft	*next;
	struct pa_addr	 peer;
	struct spd_id	 out, in;
	struct drv_sel	 sel;		/* outbound direction */
	uint64_t	 expires;	/* monotonic ms */
};

static void
sel_of(struct drv_sel *s, const struct ike_ts *src, const struct ike_ts *dst)
{
	memset(s, 0, sizeof(*s));
	s->src = src->net;
	s->dst = dst->net;
	s->proto = src->proto;
	s->sport = src->port;
	s->dport = dst->port;
}

void
ike_soft_start(struct ike *ike, const struct pa_addr *peer, uint32_t prio,
    const struct ike_ts *l, const struct ike_ts *r)
{
	struct spd_params p;
	struct ike_soft *s;
	uint32_t life = ike->cfg.soft_sa_life_ms != 0 ?
	    ike->cfg.soft_sa_life_ms : 300000;

	for (s = ike->soft; s != NULL; s = s->next)
		if (pa_addr_eq(&s->peer, peer) &&
		    pa_prefix_contains(&s->sel.src, &l->net.addr) &&
		    pa_prefix_contains(&s->sel.dst, &r->net.addr))
			return;		/* already in clear */
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return;
	s->peer = *peer;
	sel_of(&s->sel, l, r);
	s->out.index = IKE_SOFT_INDEX_BASE + ++ike->next_soft_index;
	s->out.dir = DRV_DIR_OUT;
	s->in.index = s->out.index;
	s->in.dir = DRV_DIR_IN;
	memset(&p, 0, sizeof(p));
	p.action = DRV_ACT_PERMIT;
	p.priority = prio;
	/*
	 * Inbound first: the outbound filter releases the packets the
	 * driver held, and their answers must find the way in open.
	 */
	sel_of(&p.sel, r, l);
	if (ike->cfg.drv_ops->policy_add(ike->cfg.drv, &s->in, &p) != 0) {
		log_warnx("soft association: the driver refused the inbound "
		    "permit filter");
		free(s);
		return;
	}
	p.sel = s->sel;
	if (ike->cfg.drv_ops->policy_add(ike->cfg.drv, &s->out, &p) != 0) {
		log_warnx("soft association: the driver refused the outbound "
		    "permit filter");
		(void)ike->cfg.drv_ops->policy_del(ike->cfg.drv, &s->in);
		free(s);
		return;
	}
	s->expires = ike_now() + life;
	s->next = ike->soft;
	ike->soft = s;
	ike_timer_note(ike, s->expires);
}

static void
soft_end(struct ike *ike, struct ike_soft *s, const char *why)
{
	char a[PA_ADDRSTRLEN], txt[200];
	const char *kv[2] = { "Text", txt };

	(void)ike->cfg.drv_ops->policy_del(ike->cfg.drv, &s->out);
	(void)ike->cfg.drv_ops->policy_del(ike->cfg.drv, &s->in);
	snprintf(txt, sizeof(txt), "Soft association with %s ended (%s): "
	    "its traffic is no longer permitted in clear",
	    pa_addr_str(&s->peer, a, sizeof(a)), why);
	ike_olog(ike, "%s", txt);
	ike_audit(ike, AUDIT_IKE_NOTIFICATION, kv, 2);
}

void
ike_soft_end_peer(struct ike *ike, const struct pa_addr *peer,
    const char *why)
{
	struct ike_soft **sp, *s;

	for (sp = &ike->soft; (s = *sp) != NULL;) {
		if (!pa_addr_eq(&s->peer, peer)) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		soft_end(ike, s, why);
		free(s);
	}
}

void
ike_soft_run(struct ike *ike, uint64_t now)
{
	struct ike_soft **sp, *s;

	for (sp = &ike->soft; (s = *sp) != NULL;) {
		if (s->expires > now) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		soft_end(ike, s, "lifetime over");
		free(s);
	}
}

uint64_t
ike_soft_next(const struct ike *ike)
{
	const struct ike_soft *s;
	uint64_t at = 0;

	for (s = ike->soft; s != NULL; s = s->next)
		if (at == 0 || s->expires < at)
			at = s->expires;
	return at;
}

void
ike_soft_free_all(struct ike *ike)
{
	struct ike_soft *s;

	while ((s = ike->soft) != NULL) {
		ike->soft = s->next;
		(void)ike->cfg.drv_ops->policy_del(ike->cfg.drv, &s->out);
		(void)ike->cfg.drv_ops->policy_del(ike->cfg.drv, &s->in);
		free(s);
	}
}
