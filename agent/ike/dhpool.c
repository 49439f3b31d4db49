/*
 * Diffie-Hellman key pairs made ahead of need. A key pair costs one
 * modular exponentiation (about 0.27 ms for MODP-2048 here), half of a
 * Main Mode's Diffie-Hellman work on each side; made while the loop has
 * nothing else to do, it is off the path of the exchange that uses it.
 *
 * A group gets a pool the first time a negotiation needs it; the pool is
 * topped up to IKE_DHPOOL_KEYS one key per call of ike_dh_refill(), which
 * the engine makes from ike_run_timers() while ike_next_timeout_ms() says
 * 0 for it. Keys are taken only where the exchange needs one anyway (a
 * responder's at MM #3, after the peer has returned our cookie), so
 * packets alone cannot make us compute more than we would without the
 * pool: a flood of MM #1 takes nothing. Each key pair is used once and
 * wiped when taken or at ike_free(). Holding a fresh ephemeral key for a
 * few seconds before its exchange changes nothing about its secrecy.
 */
#include <string.h>

#include "ike_sa.h"

static struct ike_dhpool *
pool_of(struct ike *ike, uint16_t group, bool make)
{
	struct ike_dhpool *p, *free_slot = NULL;
	size_t i;

	for (i = 0; i < IKE_DHPOOL_GROUPS; i++) {
		p = &ike->dhpool[i];
		if (p->group == group)
			return p;
		if (p->group == 0 && free_slot == NULL)
			free_slot = p;
	}
	if (!make || free_slot == NULL)
		return NULL;
	free_slot->group = group;
	free_slot->n = 0;
	return free_slot;
}

int
ike_dh_get(struct ike *ike, uint16_t group, struct oak_dh **out)
{
	struct ike_dhpool *p = pool_of(ike, group, oak_dh_len(group) != 0);

	if (p != NULL && p->n > 0) {
		*out = p->keys[--p->n];
		p->keys[p->n] = NULL;
		ike->st.dh_precomputed++;
		return 0;
	}
	return oak_dh_new(group, out);
}

bool
ike_dh_wanted(const struct ike *ike)
{
	size_t i;

	for (i = 0; i < IKE_DHPOOL_GROUPS; i++)
		if (ike->dhpool[i].group != 0 &&
		    ike->dhpool[i].n < IKE_DHPOOL_KEYS)
			return true;
	return false;
}

void
ike_dh_refill(struct ike *ike)
{
	struct ike_dhpool *p;
	struct oak_dh *dh;
	size_t i;

	for (i = 0; i < IKE_DHPOOL_GROUPS; i++) {
		p = &ike->dhpool[i];
		if (p->group == 0 || p->n >= IKE_DHPOOL_KEYS)
			continue;
		if (oak_dh_new(p->group, &dh) != 0) {
			p->group = 0;	/* not again: make them as needed */
			return;
		}
		p->keys[p->n++] = dh;
		return;
	}
}

void
ike_dh_free_all(struct ike *ike)
{
	size_t i;

	for (i = 0; i < IKE_DHPOOL_GROUPS; i++) {
		while (ike->dhpool[i].n > 0)
			oak_dh_free(ike->dhpool[i].keys[--ike->dhpool[i].n]);
		ike->dhpool[i].group = 0;
	}
}
