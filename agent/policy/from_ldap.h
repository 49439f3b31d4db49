/*
 * Directory records -> policy model: Group Policy link processing (which
 * GPO's IPsec assignment applies) and the object graph of one ipsecPolicy
 * decoded into a struct pol_store.
 *
 * Records come from ldap/ (struct dir_record, neutral). Errors name the
 * object: err->where is the DN, err->what the reason.
 */
#ifndef PA_POLICY_FROM_LDAP_H
#define PA_POLICY_FROM_LDAP_H

#include <stdbool.h>
#include <stddef.h>

#include "pa_err.h"

struct dir_record;
struct dir_result;
struct pol_err;
struct pol_gp_keep;
struct pol_policy;
struct pol_store;
struct pa_guid;

/* gPLink options ([MS-GPOL] 2.2.2). */
#define POL_GPLINK_DISABLED	0x1U
#define POL_GPLINK_ENFORCED	0x2U
/* gPOptions: block inheritance. */
#define POL_GPOPT_BLOCK		0x1U
/* GPO flags: the computer part is disabled. */
#define POL_GPO_MACHINE_OFF	0x2U

struct pol_gplink {
	char		*dn;		/* the GPO's DN */
	unsigned	 options;	/* POL_GPLINK_* */
};

/*
 * Parse a gPLink value "[LDAP://<dn>;<options>]..." into links in the
 * order written. Malformed input gives PA_E_FORMAT. *out malloc'd; free
 * with pol_gplinks_free().
 */
int	pol_gplink_parse(const char *, struct pol_gplink **out, size_t *n)
	    PA_MUST_USE;
void	pol_gplinks_free(struct pol_gplink *, size_t);

/* One container of the computer's chain (domain or OU), with its links. */
struct pol_som {
	const char	*gplink;	/* NULL = no links */
	unsigned	 gpoptions;	/* POL_GPOPT_* */
};

/*
 * Order the GPOs that apply to a computer, highest precedence first, as
 * Group Policy does: soms[0] is the container closest to the computer,
 * soms[n-1] the domain. Within a container the last link written has the
 * highest precedence; a child container beats its parents; disabled links
 * are skipped; block inheritance drops the parents' links except enforced
 * ones; enforced links beat all others, an enforced link of a parent
 * beating one of a child. *dns (malloc'd strings in a malloc'd array) is
 * freed by the caller with pol_strv_free().
 */
int	pol_gpo_order(const struct pol_som *soms, size_t n, char ***dns,
	    size_t *ndns) PA_MUST_USE;
void	pol_strv_free(char **, size_t);

/* The DN of a GPO's IPsec assignment object. malloc'd. */
char	*pol_gpo_ipsec_dn(const char *gpo_dn);

/*
 * Decode the object graph of the policy in recs (the ipsecPolicy record
 * plus every object it reaches, in any order; other records are ignored)
 * into a new store holding that one policy, marked assigned. keep (may be
 * NULL) receives every original blob. Any bad object rejects the whole
 * policy with its DN and the reason in *err.
 */
int	pol_from_records(const struct dir_result *recs, const char *policy_dn,
	    struct pol_store **out, struct pol_gp_keep *keep,
	    struct pol_err *err) PA_MUST_USE;

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

/* The attributes to request for the IPsec objects (NULL-terminated). */
extern const char *const pol_ldap_attrs[];

/* A timestamp "YYYYMMDDHHMMSS[.f]Z" to seconds since the epoch; 0 if
 * absent or malformed. */
long long	pol_ldap_time(const char *);

#endif
