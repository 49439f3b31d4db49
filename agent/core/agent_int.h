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
/* The same, with preshared keys named by the rules read from the
 * secrets file (a missing key is PA_E_NOENT with *err filled). */
int	agent_dyn_build_keys(const struct agent_dyn_rule *, size_t n,
	    const char *secrets_path, struct pol_store **out,
	    struct pol_err *err) PA_MUST_USE;
/* Check one rule on its own (names, ports, endpoint kinds). */
int	agent_dyn_check(const struct agent_dyn_rule *, struct pol_err *err)
	    PA_MUST_USE;

#endif
