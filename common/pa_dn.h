/*
 * X.509 names typed by an administrator (rootca=, the CA a certificate
 * method trusts), read in any usual string form and compared as names:
 *
 *   RFC 4514 / 2253    CN=Org CA, O=Org, C=XX      (most specific first)
 *   its reverse        C=XX, O=Org, CN=Org CA      (Windows, the X.500 order)
 *   OpenSSL oneline    /C=XX/O=Org/CN=Org CA
 *
 * Attribute types are case-insensitive (CN, cn, commonName, 2.5.4.3; the
 * Windows aliases E and S too), values are compared case-insensitively
 * with spacing ignored (OpenSSL's canonical form, X509_NAME_cmp), and the
 * name matches in either RDN order. Separators: "," or ";" (RFC form),
 * "/" (oneline form), "+" inside a multi-valued RDN; "\" escapes the next
 * character or two hex digits; a value may be in double quotes (RFC form).
 * This splits text on separators; the ASN.1 is OpenSSL's.
 *
 * netsh's options after the name ("... CN=Org CA certmap:yes
 * excludecaname:no") are split off by pa_dn_rootca_split.
 */
#ifndef PA_DN_H
#define PA_DN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "pa_err.h"

/* The netsh options of a rootca= value. */
struct pa_dn_opts {
	bool	certmap;		/* certmap:yes */
	bool	certmap_set;		/* given at all */
	bool	excludecaname;		/* excludecaname:yes */
	bool	excludecaname_set;
};

/*
 * Split the trailing "certmap:yes|no" / "excludecaname:yes|no" words off
 * text (any order, case-insensitive, each at most once): *name gets the
 * rest, trimmed (malloc'd). A last word "certmap:" or "excludecaname:"
 * followed by letters is an option (a value ending so must be quoted). PA_E_INVAL with why (cap bytes) for a bad or
 * repeated option, PA_E_NOMEM.
 */
int	pa_dn_rootca_split(const char *text, char **name, struct pa_dn_opts *,
	    char *why, size_t cap) PA_MUST_USE;

/*
 * Parse text (one of the forms above, no options) into a new X509_NAME
 * in the order typed (*out, X509_NAME_free). PA_E_INVAL with why for text
 * that is not a name, PA_E_NOMEM.
 */
int	pa_dn_parse(const char *text, X509_NAME **out, char *why, size_t cap)
	    PA_MUST_USE;

/* Is name typed (pa_dn_parse), in the typed order or the reverse one? */
bool	pa_dn_eq(const X509_NAME *name, const X509_NAME *typed);

/*
 * Does name equal text (a rootca= value, options allowed) read as a name,
 * in the typed order or the reverse one? False when text is not a name.
 */
bool	pa_dn_matches(const X509_NAME *name, const char *text);

#endif
