/*
 * Reading what an LDAP URL (RFC 4516) names: one attribute of one entry,
 * as certificates name their CRLs (an AD CS distribution point is
 * ldap:///CN=<CA>,CN=<host>,CN=CDP,CN=Public Key Services,CN=Services,
 * CN=Configuration,<domain>?certificateRevocationList?base?
 * objectClass=cRLDistributionPoint). libldap parses the URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "dir.h"

/* The value of attr, or of attr;binary, in the first record. */
static const struct dir_attr *
url_attr(const struct dir_result *r, const char *attr)
{
	char bin[128];
	const struct dir_attr *a;

	if (r == NULL || r->n == 0)
		return NULL;
	if ((a = dir_record_attr(&r->recs[0], attr)) != NULL && a->nvals > 0)
		return a;
	snprintf(bin, sizeof(bin), "%s;binary", attr);
	if ((a = dir_record_attr(&r->recs[0], bin)) != NULL && a->nvals > 0)
		return a;
	return NULL;
}

int
dir_url_read(const struct dir_cfg *cfg, const char *url, uint8_t **out,
    size_t *len, char *err, size_t errcap)
{
	LDAPURLDesc *u = NULL;
	struct dir_cfg c = *cfg;
	struct dir_result *r = NULL;
	struct dir *d = NULL;
	const struct dir_attr *a;
	const char *attrs[3], *one[1];
	char host[512], bin[128];
	int rc;

	*out = NULL;
	*len = 0;
	if (ldap_url_parse(url, &u) != LDAP_URL_SUCCESS || u->lud_dn == NULL ||
	    u->lud_dn[0] == '\0' || u->lud_attrs == NULL ||
	    u->lud_attrs[0] == NULL || strlen(u->lud_attrs[0]) > 100) {
		snprintf(err, errcap, "not an LDAP URL naming an entry and an "
		    "attribute");
		rc = PA_E_FORMAT;
		goto out;
	}
	if (u->lud_host != NULL && u->lud_host[0] != '\0') {
		/* A server of its own: with our TLS and bind settings. */
		snprintf(host, sizeof(host), "%s://%s:%d", u->lud_scheme,
		    u->lud_host, u->lud_port);
		one[0] = host;
		c.uris = one;
		c.nuris = 1;
	}
	if (c.nuris == 0) {
		snprintf(err, errcap, "no directory server to ask");
		rc = PA_E_NOENT;
		goto out;
	}
	snprintf(bin, sizeof(bin), "%s;binary", u->lud_attrs[0]);
	attrs[0] = u->lud_attrs[0];
	attrs[1] = bin;
	attrs[2] = NULL;
	if ((rc = dir_open(&c, &d, err, errcap)) != 0)
		goto out;
	if ((rc = dir_search(d, u->lud_dn, DIR_SCOPE_BASE, u->lud_filter !=
	    NULL ? u->lud_filter : "(objectClass=*)", attrs, &r)) != 0) {
		snprintf(err, errcap, "%s", dir_error(d));
		goto out;
	}
	if ((a = url_attr(r, u->lud_attrs[0])) == NULL) {
		snprintf(err, errcap, "%s has no %s", u->lud_dn,
		    u->lud_attrs[0]);
		rc = PA_E_NOENT;
		goto out;
	}
	if ((*out = malloc(a->vals[0].len + 1)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	memcpy(*out, a->vals[0].p, a->vals[0].len);
	*len = a->vals[0].len;
	rc = 0;
out:
	dir_result_free(r);
	dir_close(d);
	if (u != NULL)
		ldap_free_urldesc(u);
	return rc;
}
