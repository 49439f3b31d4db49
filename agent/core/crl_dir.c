/*
 * CRLs published in the directory (ldap:// distribution points, as AD CS
 * writes them under CN=CDP,CN=Public Key Services): read with the
 * directory client, bound as the policy source binds (the machine's
 * keytab, or its simple bind), on a connection of the fetch worker's own.
 * The settings are copied when fetching starts, so a reload cannot change
 * them under the worker.
 */
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "dir.h"
#include "dir_source.h"
#include "pa_log.h"
#include "srv.h"

struct agent_crl_dir {
	struct dir_cfg	 c;
	char		**uris;
	size_t		 nuris;
	char		*domain;	/* SRV lookup when no uris */
	char		*ca_file, *keytab, *principal, *bind_dn;
	struct pa_secret *bind_pw;
};

void
agent_crl_dir_free(struct agent_crl_dir *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nuris; i++)
		free(d->uris[i]);
	free(d->uris);
	free(d->domain);
	free(d->ca_file);
	free(d->keytab);
	free(d->principal);
	free(d->bind_dn);
	pa_secret_free(d->bind_pw);
	free(d);
}

/* strdup that keeps NULL; false when out of memory. */
static bool
dup_opt(const char *s, char **out)
{
	*out = NULL;
	return s == NULL || (*out = strdup(s)) != NULL;
}

struct agent_crl_dir *
agent_crl_dir_new(const struct pol_dir_cfg *pc)
{
	struct agent_crl_dir *d;

	if (pc == NULL || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (pc->nuris > 0 &&
	    (d->uris = calloc(pc->nuris, sizeof(*d->uris))) == NULL)
		goto fail;
	for (; d->nuris < pc->nuris; d->nuris++)
		if ((d->uris[d->nuris] = strdup(pc->uris[d->nuris])) == NULL)
			goto fail;
	if (!dup_opt(pc->nuris == 0 ? pc->domain : NULL, &d->domain) ||
	    !dup_opt(pc->ca_file, &d->ca_file) ||
	    !dup_opt(pc->keytab, &d->keytab) ||
	    !dup_opt(pc->principal, &d->principal) ||
	    !dup_opt(pc->bind_dn, &d->bind_dn) ||
	    (pc->bind_pw != NULL &&
	    (d->bind_pw = pa_secret_dup(pc->bind_pw)) == NULL))
		goto fail;
	d->c.uris = (const char *const *)d->uris;
	d->c.nuris = d->nuris;
	d->c.starttls = pc->starttls;
	d->c.ca_file = d->ca_file;
	d->c.bind = pc->bind == POL_DIR_BIND_SIMPLE ? DIR_BIND_SIMPLE :
	    DIR_BIND_GSSAPI;
	d->c.bind_dn = d->bind_dn;
	d->c.bind_pw = d->bind_pw;
	d->c.client_keytab = d->keytab;
	d->c.principal = d->principal;
	d->c.insecure_plain = pc->insecure_plain;
	d->c.timeout_ms = pc->timeout_ms;
	return d;
fail:
	agent_crl_dir_free(d);
	return NULL;
}

int
agent_crl_dir_read(const struct agent_crl_dir *d, const char *url,
    uint8_t **out, size_t *len, char *err, size_t errcap)
{
	char srv[DIR_SRV_MAX][DIR_SRV_URI];
	const char *ptrs[DIR_SRV_MAX];
	struct dir_cfg c = d->c;
	size_t i, n;
	int rc;

	if (c.nuris == 0 && d->domain != NULL) {
		if ((rc = dir_srv_lookup(d->domain, srv, DIR_SRV_MAX, &n, err,
		    errcap)) != 0)
			return rc;
		for (i = 0; i < n; i++)
			ptrs[i] = srv[i];
		c.uris = ptrs;
		c.nuris = n;
	}
	return dir_url_read(&c, url, out, len, err, errcap);
}
