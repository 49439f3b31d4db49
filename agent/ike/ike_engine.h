/*
 * The top of agent/ike/ (engine.c, private): what the tests drive besides
 * ike.h, and what engine.c hands the layers below in struct ike_up.
 */
#ifndef PA_IKE_ENGINE_H
#define PA_IKE_ENGINE_H

#include "ike_exch.h"

/* One datagram received on socket index sock (ike_dispatch's body). */
void	ike_input(struct ike *, int sock, const struct pa_addr *from,
	    uint16_t port, const uint8_t *, size_t);
/* QM with peer now if an MM SA is up, else queue it and start Main Mode. */
int	ike_start_negotiation(struct ike *, const struct pa_addr *peer,
	    const struct ike_ts *l, const struct ike_ts *r, uint32_t reqid,
	    const struct ike_rulecopy *) PA_MUST_USE;
/* Start pending negotiations waiting for this (now established) MM SA. */
void	ike_mm_ready(struct ike *, struct ike_mm *);

#endif
