/*
 * Certificates' things in the directory, read with the directory client,
 * bound as the policy source binds (the machine's keytab, or its simple
 * bind), on connections of the CRL fetch worker's own: CRLs at ldap://
 * distribution points (as AD CS writes them under CN=CDP,CN=Public Key
 * Services) and the enterprise CA certificates (the cACertificate of the
 * certificationAuthority objects under CN=Certification Authorities,
 * CN=Public Key Services,CN=Services in the configuration partition, the
 * domain's trusted roots).
 * The settings are copied when fetching starts, so a reload cannot change
 * them under the worker.
 */
#include <stdio.h>
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
	char		*base;		/* the domain naming context */
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
	free(d->base);
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
	    !dup_opt(pc->base, &d->base) ||
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

/* The directory's settings for one read, servers by DNS SRV if need be. */
static int
dir_cfg_now(const struct agent_crl_dir *d, struct dir_cfg *c,
    char (*srv)[DIR_SRV_URI], const char **ptrs, char *err, size_t errcap)
{
	size_t i, n;
	int rc;

	*c = d->c;
	if (c->nuris > 0 || d->domain == NULL)
		return 0;
	if ((rc = dir_srv_lookup(d->domain, srv, DIR_SRV_MAX, &n, err,
	    errcap)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		ptrs[i] = srv[i];
	c->uris = ptrs;
	c->nuris = n;
	return 0;
}

int
agent_crl_dir_read(const struct agent_crl_dir *d, const char *url,
    uint8_t **out, size_t *len, char *err, size_t errcap)
{
	char srv[DIR_SRV_MAX][DIR_SRV_URI];
	const char *ptrs[DIR_SRV_MAX];
	struct dir_cfg c;
	int rc;

	if ((rc = dir_cfg_now(d, &c, srv, ptrs, err, errcap)) != 0)
		return rc;
	return dir_url_read(&c, url, out, len, err, errcap);
}

/* The configuration partition: the root DSE's, else under the domain. */
static char *
config_nc(struct dir *dh, const char *base)
{
	const char *attrs[] = { "configurationNamingContext", NULL };
	struct dir_result *r = NULL;
	const char *v;
	char *out = NULL;

	if (dir_search(dh, "", DIR_SCOPE_BASE, "(objectClass=*)", attrs,
	    &r) == 0 && r->n > 0 && (v = dir_record_str(&r->recs[0],
	    attrs[0])) != NULL && v[0] != '\0')
		out = strdup(v);
	dir_result_free(r);
	if (out == NULL && base != NULL &&
	    (out = malloc(strlen(base) + 32)) != NULL)
		snprintf(out, strlen(base) + 32, "CN=Configuration,%s", base);
	return out;
}

int
agent_crl_dir_read_cas(const struct agent_crl_dir *d, uint8_t **ders,
    size_t *lens, size_t max, size_t *n, char *err, size_t errcap)
{
	const char *attrs[] = { "cACertificate", "cACertificate;binary",
	    NULL };
	char srv[DIR_SRV_MAX][DIR_SRV_URI], *cfg_nc = NULL, *where = NULL;
	const char *ptrs[DIR_SRV_MAX];
	struct dir_result *r = NULL;
	const struct dir_attr *a;
	struct dir_cfg c;
	struct dir *dh = NULL;
	size_t i, k, m;
	int rc;

	*n = 0;
	if ((rc = dir_cfg_now(d, &c, srv, ptrs, err, errcap)) != 0 ||
	    (rc = dir_open(&c, &dh, err, errcap)) != 0)
		return rc;
	rc = PA_E_NOMEM;
	if ((cfg_nc = config_nc(dh, d->base)) == NULL ||
	    (where = malloc(strlen(cfg_nc) + 80)) == NULL)
		goto out;
	snprintf(where, strlen(cfg_nc) + 80, "CN=Certification Authorities,"
	    "CN=Public Key Services,CN=Services,%s", cfg_nc);
	if ((rc = dir_search(dh, where, DIR_SCOPE_ONE,
	    "(objectClass=certificationAuthority)", attrs, &r)) != 0) {
		snprintf(err, errcap, "%s: %s", where, dir_error(dh));
		goto out;
	}
	for (i = 0; i < r->n; i++)
		for (k = 0; k < 2; k++) {
			if ((a = dir_record_attr(&r->recs[i], attrs[k])) ==
			    NULL)
				continue;
			for (m = 0; m < a->nvals && *n < max; m++) {
				if ((ders[*n] = malloc(a->vals[m].len + 1)) ==
				    NULL) {
					rc = PA_E_NOMEM;
					goto out;
				}
				memcpy(ders[*n], a->vals[m].p, a->vals[m].len);
				lens[(*n)++] = a->vals[m].len;
			}
		}
	rc = 0;
out:
	free(cfg_nc);
	free(where);
	dir_result_free(r);
	dir_close(dh);
	return rc;
}
