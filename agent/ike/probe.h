/*
 * An IKE reachability probe (ipseccmd diag peer=ADDR): a Main Mode first
 * message offering the suites IKEv1 peers commonly accept, sent from a
 * socket of its own, and a reading of what comes back. Any answer to it
 * (the peer's MM #2, or a notify such as NO-PROPOSAL-CHOSEN) shows that an
 * IKE service runs there and that UDP 500 passes both ways. The peer keeps
 * a half-open Main Mode until it times out; nothing else is started.
 */
#ifndef PA_IKE_PROBE_H
#define PA_IKE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "pa_err.h"

#define IKE_PROBE_MAX	512

/* The probe with initiator cookie cky into buf; its length in *len. */
int	ike_probe_write(const uint8_t cky[8], uint8_t *buf, size_t cap,
	    size_t *len) PA_MUST_USE;
/*
 * Read a datagram p[0..len) (untrusted) received after the probe: 1 if it
 * answers the probe (cookie cky), what says how (the suite the peer chose,
 * or the notify it sent); 0 if it is not an answer to the probe.
 */
int	ike_probe_answer(const uint8_t *p, size_t len, const uint8_t cky[8],
	    char *what, size_t cap);

#endif
