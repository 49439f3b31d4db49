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
#include "store_ldif.h"

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

/* pol_ldif_write() and pol_ldif_read(): store_ldif.h, included above. */

/* The attributes to request for the IPsec objects (NULL-terminated). */
extern const char *const pol_ldap_attrs[];

/* A timestamp "YYYYMMDDHHMMSS[.f]Z" to seconds since the epoch; 0 if
 * absent or malformed. */
long long	pol_ldap_time(const char *);

#endif
