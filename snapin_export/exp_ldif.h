/*
 * Export of a policy as directory-ready LDIF ([MS-GPIPSEC] objects with
 * their ipsecData blobs and references, optionally a GPO assigning it),
 * for ldapadd/ldapmodify into OpenLDAP (packaging/ldap schema) or Active
 * Directory, and import of such LDIF back into a store. The counterpart
 * of `ipseccmd static exportpolicy format=ldif` / `importpolicy`.
 */
#ifndef PA_EXPORT_LDIF_H
#define PA_EXPORT_LDIF_H

#include "model.h"

struct exp_ldif_opts {
	const char	*base;		/* domain DN: "DC=corp,DC=example" */
	const char	*policy;	/* policy name; NULL = the assigned */
	const char	*gpo;		/* "{GUID}" of a GPO to write with
					   an IPSEC assignment; NULL = none */
	const char	*gpo_name;	/* its displayName (default: policy) */
	const char	*link_dn;	/* container whose gPLink is REPLACED by
					   a link to the GPO; NULL = none */
};

/*
 * Write the policy to path, atomically, mode 0600 (preshared keys are in
 * the NFA blobs in clear, as Windows stores them). Load it with
 * `ldapmodify -a -f path` (objects are adds, references are modifies).
 * A value the blobs cannot express (AES, SHA-256, IPv6, a PSK known only
 * by reference) is refused with err naming the object.
 */
int	exp_ldif_export(const struct pol_store *, const struct exp_ldif_opts *,
	    const char *path, struct pol_err *err) PA_MUST_USE;

/* Read an LDIF export (every ipsecPolicy in it, none assigned); *out is
 * owned by the caller. */
int	exp_ldif_import(const char *path, struct pol_store **out,
	    struct pol_err *err) PA_MUST_USE;
/*
 * The same, also for the directory source's cache file (its header is
 * checked, SHA-256 included, and left out); policy_dn (if not NULL)
 * receives the DN of the policy the cache says was assigned ("" for a
 * plain LDIF export).
 */
int	exp_ldif_import_cache(const char *path, struct pol_store **out,
	    char *policy_dn, size_t dncap, struct pol_err *err) PA_MUST_USE;

#endif
