/*
 * Certificates' things in the directory, read with the directory client,
 * bound as the policy source binds (the machine's keytab, or its simple
 * bind), on connections of the CRL fetch worker's own: CRLs at ldap://
 * distribution points (as AD CS writes them under CN=CDP,CN=Public Key
 * Services) and the enterprise CA certificates (the cACertificate of the
 * certificationAuthority objects under CN=Certification Authorities,
 * CN=Public Key Services,CN=Services in the configuration partition, the
 * domain's trusted roots), with the issuing CAs of CN=AIA and
 * NTAuthCertificates beside them (not anchors: chain material).
 * And the computer account a peer's certificate maps to (certmap).
 * The settings are copied when fetching starts, so a reload cannot change
 * them under the worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "dir_conn.h"
#include "crl.h"
#include "ike.h"

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

/*
 * The cACertificate values (either name of the attribute) of what a
 * search finds, appended to ders/lens/kinds with kind; a container that
 * does not exist is no error (not every domain has AIA or NTAuth).
 */
static int
read_certs(struct dir *dh, const char *where, enum dir_scope scope,
    const char *filter, uint8_t kind, uint8_t **ders, size_t *lens,
    uint8_t *kinds, size_t max, size_t *n, char *err, size_t errcap)
{
	const char *attrs[] = { "cACertificate", "cACertificate;binary",
	    NULL };
	struct dir_result *r = NULL;
	const struct dir_attr *a;
	size_t i, k, m;
	int rc;

	if ((rc = dir_search(dh, where, scope, filter, attrs, &r)) != 0) {
		if (rc == PA_E_NOENT)
			return 0;
		snprintf(err, errcap, "%s: %s", where, dir_error(dh));
		return rc;
	}
	for (i = 0; i < r->n; i++)
		for (k = 0; k < 2; k++) {
			if ((a = dir_record_attr(&r->recs[i], attrs[k])) ==
			    NULL)
				continue;
			for (m = 0; m < a->nvals && *n < max; m++) {
				if ((ders[*n] = malloc(a->vals[m].len + 1)) ==
				    NULL) {
					dir_result_free(r);
					return PA_E_NOMEM;
				}
				memcpy(ders[*n], a->vals[m].p, a->vals[m].len);
				kinds[*n] = kind;
				lens[(*n)++] = a->vals[m].len;
			}
		}
	dir_result_free(r);
	return 0;
}

int
agent_crl_dir_read_cas(const struct agent_crl_dir *d, uint8_t **ders,
    size_t *lens, uint8_t *kinds, size_t max, size_t *n, char *err,
    size_t errcap)
{
	static const struct {
		const char	*rdn;
		enum dir_scope	 scope;
		const char	*filter;
		uint8_t		 kind;
	} where[] = {
		/* The enterprise roots first: anchors are never crowded out. */
		{ "CN=Certification Authorities", DIR_SCOPE_ONE,
		    "(objectClass=certificationAuthority)", PKI_CA_ROOT },
		{ "CN=AIA", DIR_SCOPE_ONE,
		    "(objectClass=certificationAuthority)", PKI_CA_AIA },
		{ "CN=NTAuthCertificates", DIR_SCOPE_BASE, "(objectClass=*)",
		    PKI_CA_NTAUTH },
	};
	char srv[DIR_SRV_MAX][DIR_SRV_URI], *cfg_nc = NULL, *dn = NULL;
	const char *ptrs[DIR_SRV_MAX];
	struct dir_cfg c;
	struct dir *dh = NULL;
	size_t i, cap;
	int rc;

	*n = 0;
	if ((rc = pol_dir_conn_now(&d->conn, &c, srv, ptrs, err, errcap)) !=
	    0 ||
	    (rc = dir_open(&c, &dh, err, errcap)) != 0)
		return rc;
	rc = PA_E_NOMEM;
	if ((cfg_nc = config_nc(dh, d->base)) == NULL ||
	    (dn = malloc((cap = strlen(cfg_nc) + 96))) == NULL)
		goto out;
	for (i = 0, rc = 0; i < sizeof(where) / sizeof(where[0]) && rc == 0;
	    i++) {
		snprintf(dn, cap, "%s,CN=Public Key Services,CN=Services,%s",
		    where[i].rdn, cfg_nc);
		rc = read_certs(dh, dn, where[i].scope, where[i].filter,
		    where[i].kind, ders, lens, kinds, max, n, err, errcap);
	}
out:
	if (rc != 0) {
		for (i = 0; i < *n; i++)
			free(ders[i]);
		*n = 0;
	}
	free(cfg_nc);
	free(dn);
	dir_close(dh);
	return rc;
}

/* "(attr=escaped value)" appended to f (cap bytes); false if it won't fit. */
static bool
filter_add(char *f, size_t cap, const char *attr, const char *value)
{
	char *esc = dir_filter_escape(value);
	size_t n = strlen(f);
	int k;

	if (esc == NULL)
		return false;
	k = snprintf(f + n, cap - n, "(%s=%s)", attr, esc);
	free(esc);
	return k > 0 && (size_t)k < cap - n;
}

/* The search filter for the computer accounts r's names would map to. */
static char *
map_filter(const struct ike_certmap_req *r)
{
	size_t cap = 512 + IKE_CERTMAP_NAMES * 3 * (3 * IKE_CERTMAP_LEN + 32);
	char *f = malloc(cap);
	size_t i;
	bool ok = true;

	if (f == NULL)
		return NULL;
	snprintf(f, cap, "(&(objectClass=computer)(|");
	for (i = 0; ok && i < r->ndns; i++)
		ok = filter_add(f, cap, "dNSHostName", r->dns[i]);
	for (i = 0; ok && i < r->nupn; i++)
		ok = filter_add(f, cap, "userPrincipalName", r->upn[i]);
	for (i = 0; ok && i < r->nalt; i++)
		ok = filter_add(f, cap, "altSecurityIdentities", r->alt[i]);
	if (!ok || strlen(f) + 3 > cap) {
		free(f);
		return NULL;
	}
	strcat(f, "))");
	return f;
}

/* ADS_UF_ACCOUNTDISABLE of userAccountControl ([MS-ADTS] 2.2.16). */
#define UAC_ACCOUNTDISABLE	0x2

void
agent_crl_dir_map(const struct agent_crl_dir *d,
    const struct ike_certmap_req *r, struct ike_certmap_ans *a)
{
	const char *attrs[] = { "sAMAccountName", "userAccountControl", NULL };
	char srv[DIR_SRV_MAX][DIR_SRV_URI], *f = NULL;
	const char *ptrs[DIR_SRV_MAX], *sam, *uac;
	struct dir_result *res = NULL;
	struct dir_cfg c;
	struct dir *dh = NULL;
	int rc;

	a->rc = PA_E_PERM;
	a->account[0] = a->why[0] = '\0';
	if (r->ndns + r->nupn + r->nalt == 0) {
		snprintf(a->why, sizeof(a->why), "%.160s has no name a computer "
		    "account could map (no dNSName or UPN, no issuer)",
		    r->subject);
		return;
	}
	if (d->base == NULL || (f = map_filter(r)) == NULL) {
		snprintf(a->why, sizeof(a->why), "%s", d->base == NULL ?
		    "no directory base" : "names too long or no memory");
		return;
	}
	if ((rc = pol_dir_conn_now(&d->conn, &c, srv, ptrs, a->why,
	    sizeof(a->why))) != 0 ||
	    (rc = dir_open(&c, &dh, a->why, sizeof(a->why))) != 0) {
		a->rc = rc;
		goto out;
	}
	if ((rc = dir_search(dh, d->base, DIR_SCOPE_SUB, f, attrs, &res)) !=
	    0) {
		a->rc = rc;
		snprintf(a->why, sizeof(a->why), "searching %.100s: %.140s",
		    d->base, dir_error(dh));
		goto out;
	}
	if (res->n != 1) {
		snprintf(a->why, sizeof(a->why), res->n == 0 ? "no computer "
		    "account in the directory maps %.180s" : "%.180s maps to more than "
		    "one computer account", r->subject);
		goto out;
	}
	sam = dir_record_str(&res->recs[0], "sAMAccountName");
	uac = dir_record_str(&res->recs[0], "userAccountControl");
	if (uac == NULL || (strtoul(uac, NULL, 10) & UAC_ACCOUNTDISABLE)) {
		snprintf(a->why, sizeof(a->why), "the computer account %.180s is "
		    "%s", res->recs[0].dn, uac == NULL ? "not readable "
		    "(userAccountControl)" : "disabled");
		goto out;
	}
	snprintf(a->account, sizeof(a->account), "%.60s (%.250s)", sam != NULL ? sam :
	    "?", res->recs[0].dn);
	a->rc = 0;
out:
	free(f);
	dir_result_free(res);
	dir_close(dh);
}
