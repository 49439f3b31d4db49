/*
 * The directory client's settings of a pol_dir_cfg (dir_conn.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dir_conn.h"
#include "from_ldap.h"

/* strdup that keeps NULL; false when out of memory. */
static bool
dup_opt(const char *s, char **out)
{
	*out = NULL;
	return s == NULL || (*out = strdup(s)) != NULL;
}

int
pol_dir_conn_copy(const struct pol_dir_cfg *cfg, struct pol_dir_conn *c)
{
	memset(c, 0, sizeof(*c));
	if (cfg->nuris > 0 &&
	    (c->uris = calloc(cfg->nuris, sizeof(*c->uris))) == NULL)
		goto fail;
	for (; c->nuris < cfg->nuris; c->nuris++)
		if ((c->uris[c->nuris] = strdup(cfg->uris[c->nuris])) == NULL)
			goto fail;
	if (!dup_opt(cfg->nuris == 0 ? cfg->domain : NULL, &c->domain) ||
	    !dup_opt(cfg->ca_file, &c->ca_file) ||
	    !dup_opt(cfg->keytab, &c->keytab) ||
	    !dup_opt(cfg->principal, &c->principal) ||
	    !dup_opt(cfg->bind_dn, &c->bind_dn) ||
	    (cfg->bind_pw != NULL &&
	    (c->bind_pw = pa_secret_dup(cfg->bind_pw)) == NULL))
		goto fail;
	c->ldap.uris = (const char *const *)c->uris;
	c->ldap.nuris = c->nuris;
	c->ldap.starttls = cfg->starttls;
	c->ldap.ca_file = c->ca_file;
	c->ldap.bind = cfg->bind == POL_DIR_BIND_SIMPLE ? DIR_BIND_SIMPLE :
	    DIR_BIND_GSSAPI;
	c->ldap.bind_dn = c->bind_dn;
	c->ldap.bind_pw = c->bind_pw;
	c->ldap.client_keytab = c->keytab;
	c->ldap.principal = c->principal;
	c->ldap.insecure_plain = cfg->insecure_plain;
	c->ldap.timeout_ms = cfg->timeout_ms;
	return 0;
fail:
	pol_dir_conn_clear(c);
	return PA_E_NOMEM;
}

void
pol_dir_conn_clear(struct pol_dir_conn *c)
{
	pol_strv_free(c->uris, c->nuris);
	free(c->domain);
	free(c->ca_file);
	free(c->keytab);
	free(c->principal);
	free(c->bind_dn);
	pa_secret_free(c->bind_pw);
	memset(c, 0, sizeof(*c));
}

int
pol_dir_conn_now(const struct pol_dir_conn *c, struct dir_cfg *out,
    char (*srv)[DIR_SRV_URI], const char **ptrs, char *err, size_t errcap)
{
	size_t i, n;
	int rc;

	*out = c->ldap;
	if (c->nuris > 0 || c->domain == NULL)
		return 0;
	if ((rc = dir_srv_lookup(c->domain, srv, DIR_SRV_MAX, &n, err,
	    errcap)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		ptrs[i] = srv[i];
	out->uris = ptrs;
	out->nuris = n;
	return 0;
}
