/*
 * Finding the domain controllers by DNS, as Windows members do: the SRV
 * records _ldap._tcp.dc._msdcs.<DNS domain> (MS-ADTS 6.3.2.3, RFC 2782)
 * through the system resolver (libresolv), turned into ldap:// URIs.
 *
 * Order: lowest priority first; within one priority, highest weight
 * first, and records of equal weight in the order of the answer. This is
 * a deterministic reading of RFC 2782's weighted random choice: every
 * member tries the heaviest DC of the best priority first.
 *
 * The pure part (dir_srv_parse, dir_srv_sort, dir_srv_uri) takes no
 * resolver state, for the unit test and fuzz_srv.
 */
#ifndef PA_LDAP_SRV_H
#define PA_LDAP_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "pa_err.h"

#define DIR_SRV_MAX	16	/* targets kept from one answer */
#define DIR_SRV_NAME	256	/* a DNS name in text, with the NUL */
/* "ldap://" name ":" port */
#define DIR_SRV_URI	(DIR_SRV_NAME + 16)

struct dir_srv {
	uint16_t	prio;
	uint16_t	weight;
	uint16_t	port;
	char		target[DIR_SRV_NAME];	/* no trailing dot */
};

/*
 * The SRV records of owner name (case-insensitive; NULL = any) in the
 * answer section of the DNS message ans/len, in answer order, at most max
 * of them into out; *n is how many. Records of other types or classes
 * are skipped, and so are the target "." (RFC 2782: no service there)
 * and targets that are not plain host names (letters, digits, - and _).
 * A malformed message, record or name fails with PA_E_FORMAT (*n = 0); a
 * reply whose rcode is not NOERROR fails with PA_E_NOENT.
 */
int	dir_srv_parse(const uint8_t *ans, size_t len, const char *name,
	    struct dir_srv *out, size_t max, size_t *n) PA_MUST_USE;
/* Sorts v in place in the order described above. */
void	dir_srv_sort(struct dir_srv *v, size_t n);
/* "ldap://target:port" into buf; PA_E_NOSPACE if it does not fit. */
int	dir_srv_uri(const struct dir_srv *, char *buf, size_t cap)
	    PA_MUST_USE;

/*
 * Queries _ldap._tcp.dc._msdcs.<domain> with a private resolver state
 * (res_ninit: /etc/resolv.conf read at each call) and fills uris with at
 * most max URIs in order; *n is how many (at least one on success).
 * On failure, errbuf gets a sentence naming the SRV name and the
 * resolver's error. Returns 0, PA_E_INVAL (bad domain), PA_E_NOENT (no
 * usable record, NXDOMAIN, resolver error) or PA_E_NOMEM.
 */
int	dir_srv_lookup(const char *domain, char (*uris)[DIR_SRV_URI],
	    size_t max, size_t *n, char *errbuf, size_t errlen) PA_MUST_USE;

#endif
