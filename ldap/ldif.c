/*
 * DN helpers and LDIF reading/writing of records, all through libldap.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>
#include <ldif.h>

#include "dir.h"

char *
dir_dn_normalize(const char *dn)
{
	LDAPDN parsed = NULL;
	char *s = NULL, *r;
	size_t i;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
		return NULL;
	if (parsed == NULL) {
		return strdup("");
	}
	if (ldap_dn2str(parsed, &s, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		ldap_dnfree(parsed);
		return NULL;
	}
	ldap_dnfree(parsed);
	r = strdup(s);
	ldap_memfree(s);
	for (i = 0; r != NULL && r[i] != '\0'; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	return r;
}

char *
dir_dn_parent(const char *dn)
{
	LDAPDN parsed = NULL;
	char *s = NULL, *r;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
		return NULL;
	if (parsed == NULL || parsed[0] == NULL || parsed[1] == NULL) {
		ldap_dnfree(parsed);
		return strdup("");
	}
	/* An LDAPDN is an array of RDNs: the parent starts at the second. */
	if (ldap_dn2str(&parsed[1], &s, LDAP_DN_FORMAT_LDAPV3) !=
	    LDAP_SUCCESS) {
		ldap_dnfree(parsed);
		return NULL;
	}
	ldap_dnfree(parsed);
	r = strdup(s);
	ldap_memfree(s);
	return r;
}

char *
dir_dn_rdn_value(const char *dn)
{
	LDAPDN parsed = NULL;
	char *r = NULL;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS)
		return NULL;
	if (parsed != NULL && parsed[0] != NULL && parsed[0][0] != NULL)
		r = strndup(parsed[0][0]->la_value.bv_val,
		    parsed[0][0]->la_value.bv_len);
	ldap_dnfree(parsed);
	return r;
}

bool
dir_dn_eq(const char *a, const char *b)
{
	char *na = dir_dn_normalize(a), *nb = dir_dn_normalize(b);
	bool eq = na != NULL && nb != NULL && strcmp(na, nb) == 0;

	free(na);
	free(nb);
	return eq;
}

struct dir_result *
dir_result_new(void)
{
	return calloc(1, sizeof(struct dir_result));
}

int
dir_result_append(struct dir_result *res, const struct dir_record *r)
{
	struct dir_record *nv, *d;
	size_t i, j;

	if ((nv = realloc(res->recs, (res->n + 1) * sizeof(*nv))) == NULL)
		return PA_E_NOMEM;
	res->recs = nv;
	d = &res->recs[res->n];
	memset(d, 0, sizeof(*d));
	if ((d->dn = strdup(r->dn)) == NULL)
		return PA_E_NOMEM;
	res->n++;
	if (r->nattrs > 0 &&
	    (d->attrs = calloc(r->nattrs, sizeof(*d->attrs))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < r->nattrs; i++) {
		if ((d->attrs[i].name = strdup(r->attrs[i].name)) == NULL)
			return PA_E_NOMEM;
		d->nattrs++;
		if (r->attrs[i].nvals > 0 && (d->attrs[i].vals = calloc(
		    r->attrs[i].nvals, sizeof(struct dir_val))) == NULL)
			return PA_E_NOMEM;
		for (j = 0; j < r->attrs[i].nvals; j++) {
			struct dir_val *v = &d->attrs[i].vals[j];

			if ((v->p = malloc(r->attrs[i].vals[j].len + 1)) ==
			    NULL)
				return PA_E_NOMEM;
			memcpy(v->p, r->attrs[i].vals[j].p,
			    r->attrs[i].vals[j].len);
			v->p[r->attrs[i].vals[j].len] = '\0';
			v->len = r->attrs[i].vals[j].len;
			d->attrs[i].nvals++;
		}
	}
	return 0;
}

/* Append one ldif_put line to a growing buffer. */
static int
ldif_add(char **buf, size_t *len, size_t *cap, int type, const char *name,
    const char *val, size_t vlen)
{
	char *line, *nb;
	size_t l;

	if ((line = ldif_put_wrap(type, name, val, (ber_len_t)vlen, 0)) == NULL)
		return PA_E_NOMEM;
	l = strlen(line);
	if (*len + l + 2 > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 4096) + l;

		if ((nb = realloc(*buf, ncap)) == NULL) {
			ber_memfree(line);
			return PA_E_NOMEM;
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, line, l);
	*len += l;
	(*buf)[*len] = '\0';
	ber_memfree(line);
	return 0;
}

int
dir_ldif_write(const struct dir_result *res, char **out, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, i, j, k;
	int rc;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < res->n; i++) {
		const struct dir_record *r = &res->recs[i];

		if (i > 0 && (rc = ldif_add(&buf, &len, &cap, LDIF_PUT_SEP,
		    NULL, NULL, 0)) != 0)
			goto fail;
		if ((rc = ldif_add(&buf, &len, &cap, LDIF_PUT_VALUE, "dn",
		    r->dn, strlen(r->dn))) != 0)
			goto fail;
		for (j = 0; j < r->nattrs; j++)
			for (k = 0; k < r->attrs[j].nvals; k++)
				if ((rc = ldif_add(&buf, &len, &cap,
				    LDIF_PUT_VALUE, r->attrs[j].name,
				    (const char *)r->attrs[j].vals[k].p,
				    r->attrs[j].vals[k].len)) != 0)
					goto fail;
	}
	if (buf == NULL && (buf = strdup("")) == NULL)
		return PA_E_NOMEM;
	*out = buf;
	*outlen = len;
	return 0;
fail:
	free(buf);
	return rc;
}

/* Apply one modify (add/replace values) to a record of res. */
static int
ldif_apply_mod(struct dir_record *r, LDAPMod *m)
{
	struct dir_attr *a = NULL, *na;
	struct dir_val *nv;
	size_t i, j, n;
	int op = m->mod_op & ~LDAP_MOD_BVALUES;

	if (op != LDAP_MOD_ADD && op != LDAP_MOD_REPLACE)
		return PA_E_NOTSUP;
	for (i = 0; i < r->nattrs; i++)
		if (strcasecmp(r->attrs[i].name, m->mod_type) == 0)
			a = &r->attrs[i];
	if (a == NULL) {
		if ((na = realloc(r->attrs, (r->nattrs + 1) * sizeof(*na))) ==
		    NULL)
			return PA_E_NOMEM;
		r->attrs = na;
		a = &r->attrs[r->nattrs];
		memset(a, 0, sizeof(*a));
		if ((a->name = strdup(m->mod_type)) == NULL)
			return PA_E_NOMEM;
		r->nattrs++;
	}
	if (op == LDAP_MOD_REPLACE) {
		for (j = 0; j < a->nvals; j++)
			free(a->vals[j].p);
		a->nvals = 0;
	}
	for (n = 0; m->mod_bvalues != NULL && m->mod_bvalues[n] != NULL; n++)
		;
	if ((nv = realloc(a->vals, (a->nvals + n + 1) * sizeof(*nv))) == NULL)
		return PA_E_NOMEM;
	a->vals = nv;
	for (j = 0; j < n; j++) {
		struct berval *bv = m->mod_bvalues[j];

		if ((nv[a->nvals].p = malloc(bv->bv_len + 1)) == NULL)
			return PA_E_NOMEM;
		memcpy(nv[a->nvals].p, bv->bv_val, bv->bv_len);
		nv[a->nvals].p[bv->bv_len] = '\0';
		nv[a->nvals].len = bv->bv_len;
		a->nvals++;
	}
	return 0;
}

int
dir_ldif_modify(const char *dn, const char *attr, bool replace,
    const char *const *vals, size_t nvals, char **out)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, i;
	int rc;

	*out = NULL;
	if ((rc = ldif_add(&buf, &len, &cap, LDIF_PUT_VALUE, "dn", dn,
	    strlen(dn))) != 0 ||
	    (rc = ldif_add(&buf, &len, &cap, LDIF_PUT_VALUE, "changetype",
	    "modify", 6)) != 0 ||
	    (rc = ldif_add(&buf, &len, &cap, LDIF_PUT_VALUE,
	    replace ? "replace" : "add", attr, strlen(attr))) != 0)
		goto fail;
	for (i = 0; i < nvals; i++)
		if ((rc = ldif_add(&buf, &len, &cap, LDIF_PUT_VALUE, attr,
		    vals[i], strlen(vals[i]))) != 0)
			goto fail;
	/* The end of the operation: a line holding only "-". */
	if (len + 3 > cap) {
		char *nb = realloc(buf, len + 3);

		if (nb == NULL) {
			rc = PA_E_NOMEM;
			goto fail;
		}
		buf = nb;
	}
	memcpy(buf + len, "-\n", 3);
	*out = buf;
	return 0;
fail:
	free(buf);
	return rc;
}

/*
 * libldap 2.5 dereferences NULL on lines it cannot split into a type and a
 * value (": v", a "-" outside a modify record, stray carriage returns),
 * found by fuzzing: refuse such text before handing it over. Per logical
 * line (LF or CRLF; a CR anywhere else is refused) only its start is
 * looked at: empty (end of record), comment, continuation, "-" (in a
 * modify record), or an RFC 2849 attribute description ([A-Za-z0-9]
 * then [A-Za-z0-9;.-]) followed by ':'.
 */
static bool
ldif_precheck(const char *t, size_t len, unsigned long *bad)
{
	static const char ct[] = "changetype:";
	size_t i = 0, j, k, n;
	unsigned long line = 0;
	bool modify = false;

	while (i < len) {
		line++;
		for (j = i; j < len && t[j] != '\n'; j++)
			if (t[j] == '\r' && (j + 1 >= len || t[j + 1] != '\n'))
				goto bad;
		n = j - i;			/* the line is t[i .. i+n) */
		if (n > 0 && t[i + n - 1] == '\r')
			n--;
		if (n == 0)
			modify = false;
		else if (t[i] == '#' || t[i] == ' ')
			;
		else if (n == 1 && t[i] == '-') {
			if (!modify)
				goto bad;
		} else {
			if (!isalnum((unsigned char)t[i]))
				goto bad;
			for (k = i; k < i + n && t[k] != ':'; k++)
				if (!isalnum((unsigned char)t[k]) &&
				    t[k] != ';' && t[k] != '-' && t[k] != '.')
					goto bad;
			if (k == i + n)
				goto bad;
			if (n >= sizeof(ct) - 1 && strncasecmp(t + i, ct,
			    sizeof(ct) - 1) == 0 && memmem(t + i, n, "modify",
			    6) != NULL)
				modify = true;
		}
		i = j + 1;
	}
	return true;
bad:
	*bad = line;
	return false;
}

/* A changetype: modify record applied to the record of the same DN read
 * before (none: ignored). */
static int
ldif_take_modify(struct dir_result *res, LDIFRecord *lr, unsigned long lineno,
    char *err, size_t errcap)
{
	struct dir_record *target = NULL;
	size_t ri;
	int i, rc = 0;

	for (ri = 0; ri < res->n; ri++)
		if (dir_dn_eq(res->recs[ri].dn, lr->lr_dn.bv_val))
			target = &res->recs[ri];
	for (i = 0; target != NULL && lr->lrop_mods != NULL &&
	    lr->lrop_mods[i] != NULL && rc == 0; i++)
		rc = ldif_apply_mod(target, lr->lrop_mods[i]);
	if (rc != 0 && err != NULL)
		snprintf(err, errcap, "LDIF record ending at line %lu (%s): "
		    "unsupported modify", lineno, lr->lr_dn.bv_val);
	return rc;
}

/* An add record appended to res (its values copied). */
static int
ldif_take_add(struct dir_result *res, LDIFRecord *lr)
{
	struct dir_record rec;
	struct dir_attr *attrs;
	int i, j, n, rc;

	for (n = 0; lr->lrop_mods != NULL && lr->lrop_mods[n] != NULL; n++)
		;
	memset(&rec, 0, sizeof(rec));
	rec.dn = lr->lr_dn.bv_val;
	if ((attrs = calloc((size_t)n + 1, sizeof(*attrs))) == NULL)
		return PA_E_NOMEM;
	rec.attrs = attrs;
	for (i = 0; i < n; i++) {
		LDAPMod *m = lr->lrop_mods[i];
		struct dir_val *vals;

		for (j = 0; m->mod_bvalues != NULL &&
		    m->mod_bvalues[j] != NULL; j++)
			;
		if ((vals = calloc((size_t)j + 1, sizeof(*vals))) == NULL)
			break;
		attrs[i].name = m->mod_type;
		attrs[i].vals = vals;
		for (j = 0; m->mod_bvalues != NULL &&
		    m->mod_bvalues[j] != NULL; j++) {
			/* Borrowed for the copy below. */
			vals[j].p = (uint8_t *)m->mod_bvalues[j]->bv_val;
			vals[j].len = m->mod_bvalues[j]->bv_len;
		}
		attrs[i].nvals = (size_t)j;
		rec.nattrs++;
	}
	rc = rec.nattrs == (size_t)n ? dir_result_append(res, &rec) :
	    PA_E_NOMEM;
	for (i = 0; i < n; i++)
		free(attrs[i].vals);
	free(attrs);
	return rc;
}

/* One record's text (ending at lineno), parsed by libldap, into res. */
static int
ldif_take_record(struct dir_result *res, char *text, unsigned long lineno,
    char *err, size_t errcap)
{
	LDIFRecord lr;
	struct berval rb;
	int rc;

	rb.bv_val = text;
	rb.bv_len = strlen(text);
	memset(&lr, 0, sizeof(lr));
	if (ldap_parse_ldif_record(&rb, lineno, &lr, "ldif",
	    LDIF_DEFAULT_ADD | LDIF_NO_CONTROLS) != LDAP_SUCCESS) {
		if (err != NULL)
			snprintf(err, errcap, "LDIF record ending at line %lu "
			    "is malformed", lineno);
		return PA_E_FORMAT;
	}
	if (lr.lr_dn.bv_val == NULL) {
		if (err != NULL)
			snprintf(err, errcap, "LDIF record ending at line %lu "
			    "has no DN", lineno);
		rc = PA_E_FORMAT;
	} else if (lr.lr_op == LDAP_REQ_MODIFY)
		rc = ldif_take_modify(res, &lr, lineno, err, errcap);
	else if (lr.lr_op != LDAP_REQ_ADD) {
		if (err != NULL)
			snprintf(err, errcap, "LDIF record ending at line %lu "
			    "(%s) is not an add", lineno, lr.lr_dn.bv_val);
		rc = PA_E_NOTSUP;
	} else
		rc = ldif_take_add(res, &lr);
	ldap_ldif_record_done(&lr);
	return rc;
}

int
dir_ldif_read(const char *text, size_t len, struct dir_result **out,
    char *err, size_t errcap)
{
	struct dir_result *res = NULL;
	LDIFFP *fp = NULL;
	unsigned long lineno = 0;
	char *mem = NULL, *raw = NULL, *copy;
	int max = 0, rc = PA_E_NOMEM;

	*out = NULL;
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if (!ldif_precheck(text, len, &lineno)) {
		if (err != NULL)
			snprintf(err, errcap, "LDIF line %lu is not an "
			    "attribute line", lineno);
		return PA_E_FORMAT;
	}
	lineno = 0;
	/* ldif_open_mem reads the buffer in place: give it a copy. */
	if ((mem = malloc(len + 1)) == NULL)
		return PA_E_NOMEM;
	memcpy(mem, text, len);
	mem[len] = '\0';
	if ((fp = ldif_open_mem(mem, len, "r")) == NULL ||
	    (res = dir_result_new()) == NULL)
		goto out;
	while (ldif_read_record(fp, &lineno, &raw, &max) > 0) {
		/* libldap may report a record and leave no buffer (found by
		 * fuzzing): nothing to parse. */
		if (raw == NULL) {
			max = 0;
			continue;
		}
		copy = strdup(raw);
		ber_memfree(raw);
		raw = NULL;
		max = 0;
		rc = copy == NULL ? PA_E_NOMEM :
		    ldif_take_record(res, copy, lineno, err, errcap);
		free(copy);
		if (rc != 0)
			goto out;
	}
	*out = res;
	res = NULL;
	rc = 0;
out:
	ber_memfree(raw);
	if (fp != NULL)
		ldif_close(fp);
	free(mem);
	dir_result_free(res);
	return rc;
}
