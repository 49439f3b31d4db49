/* Private to agent/core. */
#ifndef PA_AGENT_INT_H
#define PA_AGENT_INT_H

#include "agent.h"

/*
 * Build a store holding one assigned policy "Dynamic" made of the rules
 * (one filter list and one filter action per rule), resolved. *out is
 * owned by the caller; n = 0 gives *out = NULL.
 */
int	agent_dyn_build(const struct agent_dyn_rule *, size_t n,
	    struct pol_store **out, struct pol_err *err) PA_MUST_USE;
/* Check one rule on its own (names, ports, endpoint kinds). */
int	agent_dyn_check(const struct agent_dyn_rule *, struct pol_err *err)
	    PA_MUST_USE;

#endif
