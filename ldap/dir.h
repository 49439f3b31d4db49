/*
 * The directory client (libldap): connect to one of a list of URIs with
 * failover, TLS (ldaps:// or StartTLS) with CA verification, a bind as the
 * machine (SASL/GSSAPI from a keytab, no kinit) or a simple bind, timeouts
 * on every call, paged searches, and owned result records. It knows
 * nothing of IPsec policies.
 *
 * Errors: functions return 0 or a negative pa_err; dir_error() then gives
 * a sentence naming the URI and libldap's diagnostic (never a credential).
 */
#ifndef PA_LDAP_DIR_H
#define PA_LDAP_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_err.h"
#include "pa_secret.h"

enum dir_bind {
	DIR_BIND_GSSAPI = 0,	/* SASL/GSSAPI as the keytab's principal */
	DIR_BIND_SIMPLE = 1,	/* DN + password */
	DIR_BIND_ANON = 2	/* tests only */
};

struct dir_cfg {
	const char *const	*uris;		/* tried in order */
	size_t			 nuris;
	bool			 starttls;	/* for ldap:// URIs: required */
	const char		*ca_file;	/* PEM; NULL = system store */
	enum dir_bind		 bind;
	/* DIR_BIND_SIMPLE */
	const char		*bind_dn;
	const struct pa_secret	*bind_pw;	/* borrowed */
	/* DIR_BIND_GSSAPI: an initial ticket is fetched with the key in
	 * client_keytab (no kinit, no password) into a private MEMORY ccache
	 * per connection; principal NULL = the keytab's first entry. Host
	 * name canonicalisation is off; without TLS the SASL layer must
	 * seal (minssf 56), as AD requires signing and sealing. */
	const char		*client_keytab;
	const char		*principal;	/* e.g. "host/a.example.test" */
	/* A password or a GSSAPI exchange without TLS or SASL sealing is
	 * refused unless this is set (tests on loopback only). */
	bool			 insecure_plain;
	unsigned		 timeout_ms;	/* each call; 0 = 10 s */
	unsigned		 page_size;	/* 0 = 500 */
};

/* One attribute: its values are owned byte strings (NUL-terminated for
 * convenience, len without the NUL). */
struct dir_val {
	uint8_t	*p;
	size_t	 len;
};

struct dir_attr {
	char		*name;
	struct dir_val	*vals;
	size_t		 nvals;
};

struct dir_record {
	char		*dn;
	struct dir_attr	*attrs;
	size_t		 nattrs;
};

struct dir_result {
	struct dir_record	*recs;
	size_t			 n;
};

enum dir_scope {
	DIR_SCOPE_BASE = 0,
	DIR_SCOPE_ONE = 1,
	DIR_SCOPE_SUB = 2
};

struct dir;

/*
 * Connect and bind to the first URI of cfg that works (cfg and what it
 * points to are copied). *out owns the connection. On failure every URI's
 * reason is in errbuf (if not NULL).
 */
int	dir_open(const struct dir_cfg *, struct dir **out, char *errbuf,
	    size_t errcap) PA_MUST_USE;
void	dir_close(struct dir *);			/* NULL is a no-op */
/* The URI in use (borrowed). */
const char	*dir_uri(const struct dir *);
/* The last error of d as text (borrowed, valid until the next call). */
const char	*dir_error(const struct dir *);
/* The identity the server sees (LDAP "Who am I?"), malloc'd. */
int	dir_whoami(struct dir *, char **out) PA_MUST_USE;

/*
 * Search with paging (all pages are fetched). attrs is NULL-terminated,
 * NULL = all user attributes. A base search of a missing object gives
 * PA_E_NOENT; a timeout PA_E_TIMEOUT; a lost connection PA_E_AGAIN.
 * *out is owned by the caller (dir_result_free).
 */
int	dir_search(struct dir *, const char *base, enum dir_scope,
	    const char *filter, const char *const *attrs,
	    struct dir_result **out) PA_MUST_USE;
void	dir_result_free(struct dir_result *);		/* NULL is a no-op */

/*
 * The first value of the attribute an LDAP URL (RFC 4516) names in the
 * entry it names (a base search; "attr;binary" is asked too), read over a
 * connection of its own: to the URL's server if it names one (with cfg's
 * TLS and bind), else to cfg's. *out is malloc'd; err says why not.
 */
int	dir_url_read(const struct dir_cfg *, const char *url, uint8_t **out,
	    size_t *len, char *err, size_t errcap) PA_MUST_USE;

/* Lookups in a record, names compared without case; NULL if absent. */
const struct dir_attr	*dir_record_attr(const struct dir_record *,
	    const char *name);
/* The first value of an attribute as a string (borrowed), or NULL. */
const char	*dir_record_str(const struct dir_record *, const char *name);
/* Is cls one of the record's objectClass values (without case)? */
bool	dir_record_has_class(const struct dir_record *, const char *cls);

/* Escape a value for use inside a search filter (RFC 4515), malloc'd. */
char	*dir_filter_escape(const char *);

/*
 * DN helpers (libldap's DN parser). All results are malloc'd; NULL on a
 * malformed DN or allocation failure.
 *   dir_dn_normalize: RFC 4514 form, lower case (for comparisons).
 *   dir_dn_parent: the DN without its first RDN ("" for a single RDN).
 *   dir_dn_rdn_value: the value of the first RDN ("ipsecNFA{...}").
 */
char	*dir_dn_normalize(const char *);
char	*dir_dn_parent(const char *);
char	*dir_dn_rdn_value(const char *);
/* Same entry? (normalized comparison; false if either is malformed) */
bool	dir_dn_eq(const char *, const char *);

/* Records to LDIF text (libldap's writer), *out malloc'd and NUL-ended;
 * binary values are base64. */
int	dir_ldif_write(const struct dir_result *, char **out, size_t *outlen)
	    PA_MUST_USE;
/* LDIF text to records (libldap's reader). Add (or content) records
 * become records; "changetype: modify" records with add/replace
 * operations are applied to an earlier record of the same text, and
 * ignored when they name an entry not in the text (a gPLink on the
 * domain); anything else is refused (PA_E_NOTSUP). err gets the line and
 * reason. */
int	dir_ldif_read(const char *text, size_t len, struct dir_result **out,
	    char *err, size_t errcap) PA_MUST_USE;
/* One "changetype: modify" LDIF record adding values to attr of dn
 * (replace instead of add if replace), malloc'd text. */
int	dir_ldif_modify(const char *dn, const char *attr, bool replace,
	    const char *const *vals, size_t nvals, char **out) PA_MUST_USE;
/* Add records to a result (deep copies). */
int	dir_result_append(struct dir_result *, const struct dir_record *)
	    PA_MUST_USE;
struct dir_result	*dir_result_new(void);

/*
 * Change notification (notify.c): persistent searches on a bound
 * connection, with what the server's root DSE lists in supportedControl:
 * Active Directory's LDAP_SERVER_NOTIFICATION_OID (1.2.840.113556.1.4.528;
 * base or one-level scope, at most 5 per connection on AD) or RFC 4533
 * content synchronisation in refreshAndPersist mode
 * (1.3.6.1.4.1.4203.1.9.1.1, slapd's syncprov). The connection is then
 * used for nothing else.
 */
enum dir_notify_mech {
	DIR_NOTIFY_NONE = 0,	/* neither advertised */
	DIR_NOTIFY_SYNC = 1,	/* RFC 4533 refreshAndPersist */
	DIR_NOTIFY_AD = 2	/* LDAP_SERVER_NOTIFICATION_OID */
};
/* What the server offers (AD's control first, then RFC 4533). */
int	dir_notify_mech(struct dir *, enum dir_notify_mech *out) PA_MUST_USE;
const char	*dir_notify_name(enum dir_notify_mech);	/* "syncrepl", ... */
/* Start a persistent search on base (filter (objectClass=*), no
 * attributes). PA_E_AGAIN when the connection is gone. */
int	dir_notify_add(struct dir *, enum dir_notify_mech, const char *base,
	    enum dir_scope) PA_MUST_USE;
/* The connection's socket, to wait on with poll(). */
int	dir_fd(struct dir *, int *fd) PA_MUST_USE;
/*
 * Read what has arrived, without waiting: *changes grows by the entries
 * reported (with RFC 4533, not those of the refresh phase, which ends
 * with a syncInfo message whose refreshDone is TRUE).
 * PA_E_AGAIN: the connection is lost; PA_E_STATE: the server ended a
 * search (dir_error says why). Either way the connection is done.
 */
int	dir_notify_read(struct dir *, unsigned *changes) PA_MUST_USE;

#endif
