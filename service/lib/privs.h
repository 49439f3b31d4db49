/* Privilege drop of ipsec-agentd after startup (privs.c). */
#ifndef PA_SVC_PRIVS_H
#define PA_SVC_PRIVS_H

#include <stdint.h>

#include "pa_err.h"

/* The capabilities kept, as a CapEff-style bit mask. */
uint64_t	svc_privs_keep_mask(void);
/* Drop every other capability from all sets; PA_E_SYS on failure. */
int	svc_privs_drop(void) PA_MUST_USE;

#endif
