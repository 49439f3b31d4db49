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

/*
 * crl_dir.c: CRLs at ldap:// distribution points and the enterprise CAs,
 * read with the policy source's directory settings (copied by _new; NULL
 * when out of memory or no directory), in the CRL fetch worker.
 */
struct pol_dir_cfg;
struct agent_crl_dir;
struct agent_crl_dir	*agent_crl_dir_new(const struct pol_dir_cfg *);
void	agent_crl_dir_free(struct agent_crl_dir *);	/* NULL is a no-op */
int	agent_crl_dir_read(const struct agent_crl_dir *, const char *url,
	    uint8_t **out, size_t *len, char *err, size_t errcap) PA_MUST_USE;
/*
 * The enterprise CA certificates (DER, malloc'd, *n of at most max), each
 * with its enum pki_ca_kind: the roots of CN=Certification Authorities,
 * then the issuing CAs of CN=AIA and of NTAuthCertificates.
 */
int	agent_crl_dir_read_cas(const struct agent_crl_dir *, uint8_t **ders,
	    size_t *lens, uint8_t *kinds, size_t max, size_t *n, char *err,
	    size_t errcap) PA_MUST_USE;
/*
 * Certificate-to-account mapping: the one enabled computer account the
 * names of r map to (dNSHostName, userPrincipalName or
 * altSecurityIdentities), searched under the domain; a->rc 0 with
 * a->account, else a->why. May wait for the directory.
 */
struct ike_certmap_req;
struct ike_certmap_ans;
void	agent_crl_dir_map(const struct agent_crl_dir *,
	    const struct ike_certmap_req *, struct ike_certmap_ans *);

/*
 * certmap.c: those lookups on a worker thread, with dir's settings
 * (taken over, freed even on failure); answers wait until the loop sees the fd readable and calls
 * _dispatch. _ask: PA_E_AGAIN when CERTMAP_QUEUE lookups are pending.
 * _free does not wait for a lookup under way.
 */
struct agent_certmap;
struct agent_certmap	*agent_certmap_new(struct agent_crl_dir *);
int	agent_certmap_fd(const struct agent_certmap *);
int	agent_certmap_ask(struct agent_certmap *,
	    const struct ike_certmap_req *) PA_MUST_USE;
void	agent_certmap_dispatch(struct agent_certmap *,
	    void (*fn)(void *, const struct ike_certmap_ans *), void *arg);
void	agent_certmap_free(struct agent_certmap *);	/* NULL is a no-op */

#endif
