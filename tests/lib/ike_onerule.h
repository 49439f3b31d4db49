/*
 * One "negotiate" rule between two hosts (a mirrored host-to-host filter,
 * PSK), built from the proposal strings the IKE test tools take on their
 * command line: ike_peer (the engine as a test peer) and ike_bench (the
 * handshake benchmark's initiator).
 */
#ifndef PA_TESTS_IKE_ONERULE_H
#define PA_TESTS_IKE_ONERULE_H

#include <stdbool.h>

#include "model.h"
#include "pa_addr.h"

#define IKE_ONERULE_MAX	4
/* Quick Mode offers: more than the engine once kept (8). */
#define IKE_ONERULE_OFFERS	16

struct ike_onerule {
	struct pol_policy	pol;
	struct pol_rule		rule;
	struct pol_auth		auth;
	struct pol_filterlist	fl;
	struct pol_filter	flt;
	struct pol_filteraction	fa;
	struct pol_qm_offer	offers[IKE_ONERULE_OFFERS];
	struct pol_mm_method	methods[IKE_ONERULE_MAX];
};

/*
 * ike: Main Mode offers "cipher-hash-group[,...]" (e.g. aes128-sha1-modp2048;
 * groups modp768, modp1024, modp2048, ecp256, ecp384); esp: Quick Mode
 * offers "cipher-integrity[,...]", 3600 s each; pfs: the PFS group or 0.
 * tunnel: tunnel mode to remote. -1 if a string does not parse.
 */
int	ike_onerule_init(struct ike_onerule *, const char *name,
	    const struct pa_addr *local, const struct pa_addr *remote,
	    const char *psk, const char *ike, const char *esp, unsigned pfs,
	    bool tunnel);
void	ike_onerule_clear(struct ike_onerule *);

#endif
