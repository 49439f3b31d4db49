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
#include "dir_conn.h"

struct agent_crl_dir {
	struct pol_dir_conn	 conn;
	char			*base;	/* the domain naming context */
};

void
agent_crl_dir_free(struct agent_crl_dir *d)
{
	if (d == NULL)
		return;
	pol_dir_conn_clear(&d->conn);
	free(d->base);
	free(d);
}

struct agent_crl_dir *
agent_crl_dir_new(const struct pol_dir_cfg *pc)
{
	struct agent_crl_dir *d;

	if (pc == NULL || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (pol_dir_conn_copy(pc, &d->conn) != 0 ||
	    (pc->base != NULL && (d->base = strdup(pc->base)) == NULL)) {
		agent_crl_dir_free(d);
		return NULL;
	}
	return d;
}

int
agent_crl_dir_read(const struct agent_crl_dir *d, const char *url,
    uint8_t **out, size_t *len, char *err, size_t errcap)
{
	char srv[DIR_SRV_MAX][DIR_SRV_URI];
	const char *ptrs[DIR_SRV_MAX];
	struct dir_cfg c;
	int rc;

	if ((rc = pol_dir_conn_now(&d->conn, &c, srv, ptrs, err, errcap)) != 0)
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
	if ((rc = pol_dir_conn_now(&d->conn, &c, srv, ptrs, err, errcap)) !=
	    0 ||
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
