/*
 * The policy as LDIF, both ways: what `ipseccmd static exportpolicy
 * format=ldif` writes for a directory to import, and what importpolicy
 * (and the tests' directory fixtures) read back.
 *
 * The one place that knows which objects, attributes and references make
 * a policy in LDIF. It lives in agent/policy because it needs the model
 * and the ipsecData codec (ldap/ may not depend on agent/policy); the
 * record <-> LDIF text layer under it is libldap's, in ldap/ldif.c
 * (dir_ldif_read/dir_ldif_write/dir_ldif_modify), which knows no policy;
 * the files themselves are snapin_export/ldif.c's.
 */
#ifndef PA_POLICY_STORE_LDIF_H
#define PA_POLICY_STORE_LDIF_H

#include <stddef.h>

#include "pa_err.h"

struct pol_err;
struct pol_gp_keep;
struct pol_policy;
struct pol_store;
struct pa_guid;

/*
 * Directory-ready LDIF of one policy of a store (NULL = the assigned
 * one): the five object types with their ipsecData blobs and references,
 * in the order Active Directory accepts (objects first, then the
 * references by modify, as [MS-GPIPSEC] 3.1.5.5 writes them). keep (may
 * be NULL) gives the original blobs of objects read from a directory, so
 * an unchanged object is written byte for byte. With gpo set, also the
 * GPO (groupPolicyContainer) and its IPSEC assignment object; with
 * link_dn, a modify that REPLACES that container's gPLink with a link to
 * the GPO. *out is malloc'd LDIF text.
 */
struct pol_ldif_opts {
	const char		*base;		/* domain DN (DC=x,DC=y) */
	const struct pa_guid	*gpo;		/* NULL = no assignment */
	const char		*gpo_name;	/* displayName of the GPO */
	const char		*link_dn;	/* NULL = no gPLink change */
};

int	pol_ldif_write(const struct pol_store *, const struct pol_policy *,
	    const struct pol_gp_keep *, const struct pol_ldif_opts *,
	    char **out, size_t *outlen, struct pol_err *) PA_MUST_USE;
/*
 * Read such LDIF back: every ipsecPolicy in it (with its graph) into a new
 * store, none of them assigned. Errors name the object (DN) and reason.
 */
int	pol_ldif_read(const char *text, size_t len, struct pol_store **out,
	    struct pol_gp_keep *keep, struct pol_err *) PA_MUST_USE;

#endif
