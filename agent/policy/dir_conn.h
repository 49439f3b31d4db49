/*
 * The directory client's settings of a pol_dir_cfg, with copies of its
 * strings of their own: what the policy source connects with, and what
 * the agent's other directory readers (CRLs at ldap:// distribution
 * points, the enterprise CAs) connect with, on connections of their own.
 */
#ifndef PA_POLICY_DIR_CONN_H
#define PA_POLICY_DIR_CONN_H

#include "dir.h"
#include "dir_source.h"
#include "srv.h"

struct pol_dir_conn {
	struct dir_cfg		 ldap;	/* points into the copies below */
	char			**uris;
	size_t			 nuris;
	char			*domain;	/* DNS SRV discovery: no uris */
	char			*ca_file, *keytab, *principal, *bind_dn;
	struct pa_secret	*bind_pw;
};

int	pol_dir_conn_copy(const struct pol_dir_cfg *, struct pol_dir_conn *)
	    PA_MUST_USE;
void	pol_dir_conn_clear(struct pol_dir_conn *);
/*
 * The settings for a connection now, in *out: the configured servers, or
 * with none the domain's DCs from DNS SRV (into srv, pointed to by ptrs;
 * err says why not).
 */
int	pol_dir_conn_now(const struct pol_dir_conn *, struct dir_cfg *out,
	    char (*srv)[DIR_SRV_URI], const char **ptrs, char *err,
	    size_t errcap) PA_MUST_USE;

#endif
