/*
 * Paged searches and owned result records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "dir_priv.h"

static void
dir_record_clear(struct dir_record *r)
{
	size_t i, j;

	for (i = 0; i < r->nattrs; i++) {
		for (j = 0; j < r->attrs[i].nvals; j++)
			free(r->attrs[i].vals[j].p);
		free(r->attrs[i].vals);
		free(r->attrs[i].name);
	}
	free(r->attrs);
	free(r->dn);
}

void
dir_result_free(struct dir_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->n; i++)
		dir_record_clear(&res->recs[i]);
	free(res->recs);
	free(res);
}

/* Copy one entry out of libldap's message. */
static int
dir_copy_entry(LDAP *ld, LDAPMessage *e, struct dir_record *r)
{
	BerElement *ber = NULL;
	struct berval **vals;
	struct dir_attr *na;
	char *a, *dn;
	size_t j;
	int rc = PA_E_NOMEM;

	memset(r, 0, sizeof(*r));
	if ((dn = ldap_get_dn(ld, e)) == NULL)
		return PA_E_FORMAT;
	r->dn = strdup(dn);
	ldap_memfree(dn);
	if (r->dn == NULL)
		return PA_E_NOMEM;
	for (a = ldap_first_attribute(ld, e, &ber); a != NULL;
	    a = ldap_next_attribute(ld, e, ber)) {
		vals = ldap_get_values_len(ld, e, a);
		na = realloc(r->attrs, (r->nattrs + 1) * sizeof(*na));
		if (na == NULL) {
			ldap_value_free_len(vals);
			ldap_memfree(a);
			goto out;
		}
		r->attrs = na;
		na = &r->attrs[r->nattrs++];
		memset(na, 0, sizeof(*na));
		na->name = strdup(a);
		ldap_memfree(a);
		if (na->name == NULL) {
			ldap_value_free_len(vals);
			goto out;
		}
		for (j = 0; vals != NULL && vals[j] != NULL; j++)
			;
		if (j > 0 && (na->vals = calloc(j, sizeof(*na->vals))) ==
		    NULL) {
			ldap_value_free_len(vals);
			goto out;
		}
		for (j = 0; vals != NULL && vals[j] != NULL; j++) {
			if ((na->vals[j].p = malloc(vals[j]->bv_len + 1)) ==
			    NULL) {
				ldap_value_free_len(vals);
				goto out;
			}
			memcpy(na->vals[j].p, vals[j]->bv_val, vals[j]->bv_len);
			na->vals[j].p[vals[j]->bv_len] = '\0';
			na->vals[j].len = vals[j]->bv_len;
			na->nvals++;
		}
		ldap_value_free_len(vals);
	}
	rc = 0;
out:
	if (ber != NULL)
		ber_free(ber, 0);
	return rc;
}

static int
dir_map_rc(int rc)
{
	switch (rc) {
	case LDAP_NO_SUCH_OBJECT:
		return PA_E_NOENT;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return PA_E_TIMEOUT;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		return PA_E_AGAIN;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
		return PA_E_PERM;
	default:
		return PA_E_FORMAT;
	}
}

int
dir_search(struct dir *d, const char *base, enum dir_scope scope,
    const char *filter, const char *const *attrs, struct dir_result **out)
{
	struct dir_result *res;
	struct dir_record *nr;
	LDAPMessage *msg = NULL, *e;
	LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
	LDAPControl **rctrls = NULL;
	struct berval cookie = { 0, NULL };
	struct timeval tv;
	ber_int_t count;
	int rc, lrc, err, ls;

	*out = NULL;
	if ((res = calloc(1, sizeof(*res))) == NULL)
		return PA_E_NOMEM;
	ls = scope == DIR_SCOPE_BASE ? LDAP_SCOPE_BASE :
	    scope == DIR_SCOPE_ONE ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE;
	tv.tv_sec = d->timeout_ms / 1000;
	tv.tv_usec = (d->timeout_ms % 1000) * 1000;
	for (;;) {
		if ((lrc = ldap_create_page_control(d->ld, (ber_int_t)
		    d->page_size, cookie.bv_val ? &cookie : NULL, 0,
		    &page)) != LDAP_SUCCESS) {
			dir_set_error(d, lrc, "paged results control");
			rc = PA_E_NOMEM;
			goto out;
		}
		ctrls[0] = page;
		lrc = ldap_search_ext_s(d->ld, base, ls, filter ? filter :
		    "(objectClass=*)", (char **)(uintptr_t)attrs, 0, ctrls,
		    NULL, &tv, 0, &msg);
		ldap_control_free(page);
		page = NULL;
		if (lrc != LDAP_SUCCESS) {
			dir_set_error(d, lrc, base);
			rc = dir_map_rc(lrc);
			goto out;
		}
		for (e = ldap_first_entry(d->ld, msg); e != NULL;
		    e = ldap_next_entry(d->ld, e)) {
			nr = realloc(res->recs, (res->n + 1) * sizeof(*nr));
			if (nr == NULL) {
				rc = PA_E_NOMEM;
				goto out;
			}
			res->recs = nr;
			if ((rc = dir_copy_entry(d->ld, e,
			    &res->recs[res->n])) != 0) {
				dir_record_clear(&res->recs[res->n]);
				goto out;
			}
			res->n++;
		}
		if ((lrc = ldap_parse_result(d->ld, msg, &err, NULL, NULL,
		    NULL, &rctrls, 0)) != LDAP_SUCCESS || err != LDAP_SUCCESS) {
			dir_set_error(d, lrc != LDAP_SUCCESS ? lrc : err, base);
			rc = dir_map_rc(lrc != LDAP_SUCCESS ? lrc : err);
			goto out;
		}
		ldap_msgfree(msg);
		msg = NULL;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (rctrls != NULL) {
			LDAPControl *pc = ldap_control_find(
			    LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);

			if (pc != NULL && ldap_parse_pageresponse_control(
			    d->ld, pc, &count, &cookie) != LDAP_SUCCESS) {
				snprintf(d->err, sizeof(d->err), "%s: bad paged "
				    "results response", d->uri);
				rc = PA_E_FORMAT;
				goto out;
			}
			ldap_controls_free(rctrls);
			rctrls = NULL;
		}
		if (cookie.bv_val == NULL || cookie.bv_len == 0)
			break;
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	ber_memfree(cookie.bv_val);
	if (rctrls != NULL)
		ldap_controls_free(rctrls);
	if (msg != NULL)
		ldap_msgfree(msg);
	dir_result_free(res);
	return rc;
}

const struct dir_attr *
dir_record_attr(const struct dir_record *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nattrs; i++)
		if (strcasecmp(r->attrs[i].name, name) == 0)
			return &r->attrs[i];
	return NULL;
}

const char *
dir_record_str(const struct dir_record *r, const char *name)
{
	const struct dir_attr *a = dir_record_attr(r, name);

	if (a == NULL || a->nvals == 0)
		return NULL;
	return (const char *)a->vals[0].p;
}

bool
dir_record_has_class(const struct dir_record *r, const char *cls)
{
	const struct dir_attr *a = dir_record_attr(r, "objectClass");
	size_t i;

	for (i = 0; a != NULL && i < a->nvals; i++)
		if (strcasecmp((const char *)a->vals[i].p, cls) == 0)
			return true;
	return false;
}

char *
dir_filter_escape(const char *s)
{
	struct berval in, out;
	char *r;

	in.bv_val = (char *)(uintptr_t)s;
	in.bv_len = strlen(s);
	if (ldap_bv2escaped_filter_value(&in, &out) != 0)
		return NULL;
	r = strndup(out.bv_val, out.bv_len);
	ber_memfree(out.bv_val);
	return r;
}
