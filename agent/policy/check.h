/*
 * Per-object consistency checks shared by pol_store_resolve(), the XML
 * loader (which adds file:line) and the CLI. Private to agent/policy and
 * its tools: not part of the contract other modules code against.
 *
 * Each returns 0, or PA_E_INVAL with a sentence in what[cap].
 */
#ifndef PA_POLICY_CHECK_H
#define PA_POLICY_CHECK_H

#include <stddef.h>

#include "model.h"

int	pol_check_mm_method(const struct pol_mm_method *, char *what,
	    size_t cap) PA_MUST_USE;
int	pol_check_isakmp(const struct pol_isakmp *, char *what, size_t cap)
	    PA_MUST_USE;
int	pol_check_offer(const struct pol_qm_offer *, char *what, size_t cap)
	    PA_MUST_USE;
int	pol_check_filteraction(const struct pol_filteraction *, char *what,
	    size_t cap) PA_MUST_USE;
int	pol_check_endpoint(const struct pol_endpoint *, const char *side,
	    char *what, size_t cap) PA_MUST_USE;
int	pol_check_filter(const struct pol_filter *, char *what, size_t cap)
	    PA_MUST_USE;
int	pol_check_auth(const struct pol_auth *, char *what, size_t cap)
	    PA_MUST_USE;
/* The rule alone (its references are checked by the store). */
int	pol_check_rule(const struct pol_rule *, char *what, size_t cap)
	    PA_MUST_USE;
int	pol_check_policy(const struct pol_policy *, char *what, size_t cap)
	    PA_MUST_USE;

#endif
