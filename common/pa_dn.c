/*
 * X.509 names typed by an administrator (pa_dn.h): split on separators
 * with escapes and quotes, each attribute added with OpenSSL
 * (X509_NAME_add_entry_by_NID), compared with X509_NAME_cmp (canonical
 * forms: case and spacing ignored) in both RDN orders.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/objects.h>

#include "pa_dn.h"

#define DN_MAX_VALUE	1024

/* why = fmt with its one %s; returns PA_E_INVAL. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
fail(char *why, size_t cap, const char *fmt, const char *arg)
{
	if (cap > 0)
		snprintf(why, cap, fmt, arg);
	return PA_E_INVAL;
}
#pragma GCC diagnostic pop

/* Option word w (len bytes): which option and its value; false if none. */
static bool
opt_word(const char *w, size_t len, const char **key, bool *yes, bool *bad)
{
	static const char *const keys[] = { "certmap:", "excludecaname:" };
	size_t i, j, kl;

	for (i = 0; i < 2; i++) {
		kl = strlen(keys[i]);
		if (len < kl || strncasecmp(w, keys[i], kl) != 0)
			continue;
		/* "certmap:" and a word: else it is text of the name. */
		for (j = kl; j < len; j++)
			if (!isalpha((unsigned char)w[j]))
				return false;
		*key = keys[i];
		*bad = false;
		if (len - kl == 3 && strncasecmp(w + kl, "yes", 3) == 0)
			*yes = true;
		else if (len - kl == 2 && strncasecmp(w + kl, "no", 2) == 0)
			*yes = false;
		else
			*bad = true;
		return true;
	}
	return false;
}

/* Is text[i] escaped (an odd number of backslashes before it)? */
static bool
escaped(const char *text, size_t i)
{
	size_t n = 0;

	while (i > n && text[i - n - 1] == '\\')
		n++;
	return (n & 1) != 0;
}

int
pa_dn_rootca_split(const char *text, char **name, struct pa_dn_opts *o,
    char *why, size_t cap)
{
	size_t end = strlen(text), start, b;
	const char *key;
	bool yes, bad, *flag, *set;

	memset(o, 0, sizeof(*o));
	*name = NULL;
	for (;;) {
		while (end > 0 && isspace((unsigned char)text[end - 1]) &&
		    !escaped(text, end - 1))
			end--;
		for (start = end; start > 0 &&
		    !isspace((unsigned char)text[start - 1]); start--)
			;
		if (start == end || !opt_word(text + start, end - start, &key,
		    &yes, &bad))
			break;
		if (bad)
			return fail(why, cap, "%s takes yes or no", key);
		flag = key[0] == 'c' ? &o->certmap : &o->excludecaname;
		set = key[0] == 'c' ? &o->certmap_set : &o->excludecaname_set;
		if (*set)
			return fail(why, cap, "%s given twice", key);
		*flag = yes;
		*set = true;
		end = start;
	}
	for (b = 0; b < end && isspace((unsigned char)text[b]); b++)
		;
	if ((*name = strndup(text + b, end - b)) == NULL)
		return PA_E_NOMEM;
	return 0;
}

/* The attribute types a name may hold, by the names people type. */
static const struct {
	const char	*alias;
	int		 nid;
} dn_alias[] = {
	{ "E", NID_pkcs9_emailAddress },
	{ "EMAIL", NID_pkcs9_emailAddress },
	{ "S", NID_stateOrProvinceName },
	{ "SP", NID_stateOrProvinceName },
	{ "STREET", NID_streetAddress },
	{ "SERIALNUMBER", NID_serialNumber },
	{ "T", NID_title },
	{ "G", NID_givenName },
	{ "GN", NID_givenName },
};

static const int dn_nids[] = {
	NID_commonName, NID_surname, NID_serialNumber, NID_countryName,
	NID_localityName, NID_stateOrProvinceName, NID_streetAddress,
	NID_organizationName, NID_organizationalUnitName, NID_title,
	NID_description, NID_postalCode, NID_name, NID_givenName,
	NID_initials, NID_generationQualifier, NID_dnQualifier,
	NID_pseudonym, NID_domainComponent, NID_userId,
	NID_pkcs9_emailAddress, NID_businessCategory,
	NID_organizationIdentifier,
};

/* The NID of attribute type t, or NID_undef. */
static int
dn_nid(const char *t)
{
	char up[64];
	size_t i;
	int nid;

	for (i = 0; t[i] != '\0' && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)t[i]);
	up[i] = '\0';
	for (i = 0; i < sizeof(dn_alias) / sizeof(dn_alias[0]); i++)
		if (strcmp(up, dn_alias[i].alias) == 0)
			return dn_alias[i].nid;
	for (i = 0; i < sizeof(dn_nids) / sizeof(dn_nids[0]); i++)
		if (strcasecmp(t, OBJ_nid2sn(dn_nids[i])) == 0 ||
		    strcasecmp(t, OBJ_nid2ln(dn_nids[i])) == 0)
			return dn_nids[i];
	/* A dotted OID: any attribute type. */
	if (isdigit((unsigned char)t[0]) &&
	    strspn(t, "0123456789.") == strlen(t) &&
	    (nid = OBJ_txt2nid(t)) != NID_undef)
		return nid;
	return NID_undef;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool
is_sep(char c, bool slash)
{
	return slash ? (c == '/' || c == '+') :
	    (c == ',' || c == ';' || c == '+');
}

/* One attribute being read. */
struct dn_attr {
	char	type[64];
	char	val[DN_MAX_VALUE];
	size_t	vl;
};

/* The type up to "=", trimmed, at *pp; *pp moves past the "=". */
static int
read_type(const char **pp, bool slash, struct dn_attr *a, char *why,
    size_t cap)
{
	const char *p = *pp;
	size_t tl = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p != '\0' && *p != '=') {
		if (is_sep(*p, slash) || *p == '\\' || *p == '"')
			return fail(why, cap, "'%s...': an attribute is not "
			    "TYPE=value", *pp);
		if (tl + 1 >= sizeof(a->type))
			return fail(why, cap, "%s", "an attribute type is too "
			    "long");
		a->type[tl++] = *p++;
	}
	while (tl > 0 && (a->type[tl - 1] == ' ' || a->type[tl - 1] == '\t'))
		tl--;
	a->type[tl] = '\0';
	if (*p != '=')
		return fail(why, cap, "'%s': an attribute is not TYPE=value",
		    *pp);
	if (tl == 0)
		return fail(why, cap, "'%s': an attribute type is missing",
		    *pp);
	*pp = p + 1;
	return 0;
}

/* One character (escapes read) of a value into a; false at its end. */
static int
value_char(const char **pp, struct dn_attr *a, bool *escaped, char *why,
    size_t cap)
{
	const char *p = *pp;
	int h, l;
	char c;

	*escaped = false;
	if (*p == '\\') {
		if (p[1] == '\0')
			return fail(why, cap, "%s", "a value ends with a lone "
			    "backslash");
		if ((h = hexval(p[1])) >= 0 && (l = hexval(p[2])) >= 0) {
			c = (char)(h * 16 + l);
			p += 3;
		} else {
			c = p[1];
			p += 2;
		}
		*escaped = true;
	} else
		c = *p++;
	if (a->vl + 1 >= sizeof(a->val))
		return fail(why, cap, "%s", "a value is too long");
	a->val[a->vl++] = c;
	*pp = p;
	return 0;
}

/* The value at *pp up to a separator or the end, trimmed and unescaped. */
static int
read_value(const char **pp, bool slash, struct dn_attr *a, char *why,
    size_t cap)
{
	const char *p = *pp;
	size_t keep = 0;
	bool esc;
	int rc;

	a->vl = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#')
		return fail(why, cap, "%s: values in hex (#...) are not "
		    "supported", a->type);
	if (!slash && *p == '"') {
		for (p++; *p != '\0' && *p != '"';)
			if ((rc = value_char(&p, a, &esc, why, cap)) != 0)
				return rc;
		if (*p != '"')
			return fail(why, cap, "%s: a quote is not closed",
			    a->type);
		p++;
		keep = a->vl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' && !is_sep(*p, slash))
			return fail(why, cap, "%s: text after the closing "
			    "quote", a->type);
	} else
		while (*p != '\0' && !is_sep(*p, slash)) {
			if (*p == '"' && !slash)
				return fail(why, cap, "%s: a quote inside a "
				    "value (escape it with \\)", a->type);
			if ((rc = value_char(&p, a, &esc, why, cap)) != 0)
				return rc;
			if (esc || (a->val[a->vl - 1] != ' ' &&
			    a->val[a->vl - 1] != '\t'))
				keep = a->vl;
		}
	a->vl = keep;
	a->val[a->vl] = '\0';
	if (a->vl == 0)
		return fail(why, cap, "%s has an empty value", a->type);
	*pp = p;
	return 0;
}

int
pa_dn_parse(const char *text, X509_NAME **out, char *why, size_t cap)
{
	struct dn_attr *a;
	X509_NAME *n;
	const char *p = text;
	bool slash;
	int set = 0, nid, rc = PA_E_NOMEM;

	*out = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return fail(why, cap, "%s", "the name is empty");
	if ((slash = *p == '/'))
		p++;
	if ((a = malloc(sizeof(*a))) == NULL || (n = X509_NAME_new()) == NULL) {
		free(a);
		return PA_E_NOMEM;
	}
	for (;;) {
		if ((rc = read_type(&p, slash, a, why, cap)) != 0 ||
		    (rc = read_value(&p, slash, a, why, cap)) != 0)
			goto out;
		if ((nid = dn_nid(a->type)) == NID_undef) {
			rc = fail(why, cap, "'%s' is not an attribute type of a "
			    "name (CN, O, OU, C, L, ST, DC, E, ... or an OID)",
			    a->type);
			goto out;
		}
		if (X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8,
		    (const unsigned char *)a->val, (int)a->vl, -1, set) != 1) {
			rc = fail(why, cap, "%s: the value is not valid for "
			    "this type (C= takes a two-letter country code)",
			    a->type);
			goto out;
		}
		if (*p == '\0')
			break;
		set = *p == '+' ? -1 : 0;
		p++;
		if (*p == '\0') {
			rc = fail(why, cap, "%s", "the name ends with a "
			    "separator");
			goto out;
		}
	}
	*out = n;
	n = NULL;
	rc = 0;
out:
	X509_NAME_free(n);
	free(a);
	return rc;
}

/* n with its RDNs in the reverse order (multi-valued RDNs kept whole). */
static X509_NAME *
dn_reverse(const X509_NAME *n)
{
	X509_NAME *r;
	int i, prev = -2;

	if ((r = X509_NAME_new()) == NULL)
		return NULL;
	for (i = X509_NAME_entry_count(n) - 1; i >= 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		int s = X509_NAME_ENTRY_set(e);

		if (X509_NAME_add_entry(r, e, -1, s == prev ? -1 : 0) != 1) {
			X509_NAME_free(r);
			return NULL;
		}
		prev = s;
	}
	return r;
}

bool
pa_dn_eq(const X509_NAME *name, const X509_NAME *typed)
{
	X509_NAME *r;
	bool ok;

	if (X509_NAME_cmp(name, typed) == 0)
		return true;
	if ((r = dn_reverse(typed)) == NULL)
		return false;
	ok = X509_NAME_cmp(name, r) == 0;
	X509_NAME_free(r);
	return ok;
}

bool
pa_dn_matches(const X509_NAME *name, const char *text)
{
	struct pa_dn_opts o;
	X509_NAME *n = NULL;
	char *s = NULL, why[8];
	bool ok = false;

	if (name != NULL && text != NULL &&
	    pa_dn_rootca_split(text, &s, &o, why, sizeof(why)) == 0 &&
	    pa_dn_parse(s, &n, why, sizeof(why)) == 0)
		ok = pa_dn_eq(name, n);
	X509_NAME_free(n);
	free(s);
	return ok;
}
