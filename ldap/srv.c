/*
 * Domain controllers by DNS SRV. See srv.h.
 *
 * The message is read by libresolv only: ns_initparse() checks the
 * sections, ns_parserr() hands out one record with its rdata bounded to
 * the message, and dn_expand() reads the (possibly compressed) target.
 * The three 16-bit fields before the target go through the project's
 * bounded reader.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pa_buf.h"
#include "srv.h"

#define SRV_PREFIX	"_ldap._tcp.dc._msdcs."
#define SRV_ANS_MAX	65535u

/* A DNS name as a member is configured with: letters, digits, '-' and
 * '_' in labels of 1..63, at most 253 in all, an optional final dot. */
static bool
domain_ok(const char *d)
{
	size_t len = strlen(d), label = 0, i;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
		    d[i] == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

/* One SRV rdata (rr's rdata lies within msg, ns_parserr checked it). */
static int
srv_rdata(const ns_msg *msg, const ns_rr *rr, struct dir_srv *s)
{
	struct rd r;
	struct pa_bytes rest;
	int used, rc;

	rd_init(&r, ns_rr_rdata(*rr), ns_rr_rdlen(*rr));
	if ((rc = rd_u16(&r, &s->prio)) != 0 ||
	    (rc = rd_u16(&r, &s->weight)) != 0 ||
	    (rc = rd_u16(&r, &s->port)) != 0)
		return PA_E_FORMAT;
	rest = rd_rest(&r);
	if (rest.len == 0)
		return PA_E_FORMAT;
	/* The name may point back into the message, never past its end. */
	used = dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), rest.p,
	    s->target, sizeof(s->target));
	if (used < 0 || (size_t)used != rest.len)
		return PA_E_FORMAT;
	return 0;
}

int
dir_srv_parse(const uint8_t *ans, size_t len, const char *name,
    struct dir_srv *out, size_t max, size_t *n)
{
	ns_msg msg;
	ns_rr rr;
	struct dir_srv s;
	int i, count;

	*n = 0;
	if (len > SRV_ANS_MAX || ns_initparse(ans, (int)len, &msg) < 0)
		return PA_E_FORMAT;
	if (ns_msg_getflag(msg, ns_f_rcode) != ns_r_noerror)
		return PA_E_NOENT;
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count && *n < max; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			goto bad;
		if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
			continue;
		if (name != NULL && strcasecmp(ns_rr_name(rr), name) != 0)
			continue;
		memset(&s, 0, sizeof(s));
		if (srv_rdata(&msg, &rr, &s) != 0)
			goto bad;
		/* "." (no service there) or a name no URI can carry. */
		if (!domain_ok(s.target))
			continue;
		out[(*n)++] = s;
	}
	return 0;
bad:
	*n = 0;
	return PA_E_FORMAT;
}

/* Does a go before b? */
static bool
srv_before(const struct dir_srv *a, const struct dir_srv *b)
{
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return a->weight > b->weight;
}

void
dir_srv_sort(struct dir_srv *v, size_t n)
{
	struct dir_srv t;
	size_t i, j;

	/* Insertion sort: stable, and n is at most DIR_SRV_MAX. */
	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && srv_before(&t, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

int
dir_srv_uri(const struct dir_srv *s, char *buf, size_t cap)
{
	int w;

	w = snprintf(buf, cap, "ldap://%s:%u", s->target, (unsigned)s->port);
	if (w < 0 || (size_t)w >= cap)
		return PA_E_NOSPACE;
	return 0;
}

int
dir_srv_lookup(const char *domain, char (*uris)[DIR_SRV_URI], size_t max,
    size_t *n, char *eb, size_t ec)
{
	struct __res_state rs;
	struct dir_srv *v = NULL;
	uint8_t *ans = NULL;
	char name[DIR_SRV_NAME + sizeof(SRV_PREFIX)];
	size_t nv = 0, len, i;
	int got, rc;

	*n = 0;
	if (!domain_ok(domain)) {
		snprintf(eb, ec, "DNS SRV: '%s' is not a DNS domain name",
		    domain);
		return PA_E_INVAL;
	}
	snprintf(name, sizeof(name), SRV_PREFIX "%s", domain);
	len = strlen(name);
	if (name[len - 1] == '.')
		name[len - 1] = '\0';
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		snprintf(eb, ec, "DNS SRV %s: cannot initialise the resolver",
		    name);
		return PA_E_NOENT;
	}
	if ((ans = malloc(SRV_ANS_MAX)) == NULL ||
	    (v = calloc(DIR_SRV_MAX, sizeof(*v))) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	got = res_nquery(&rs, name, ns_c_in, ns_t_srv, ans, SRV_ANS_MAX);
	if (got < 0) {
		snprintf(eb, ec, "DNS SRV %s: %s", name,
		    hstrerror(rs.res_h_errno));
		rc = PA_E_NOENT;
		goto out;
	}
	/* res_nquery returns the full length even if it did not fit. */
	if ((size_t)got > SRV_ANS_MAX)
		got = SRV_ANS_MAX;
	if ((rc = dir_srv_parse(ans, (size_t)got, name, v, DIR_SRV_MAX,
	    &nv)) != 0) {
		snprintf(eb, ec, "DNS SRV %s: %s answer", name,
		    rc == PA_E_NOENT ? "an error" : "a malformed");
		rc = PA_E_NOENT;
		goto out;
	}
	dir_srv_sort(v, nv);
	for (i = 0; i < nv && *n < max; i++)
		if (dir_srv_uri(&v[i], uris[*n], DIR_SRV_URI) == 0)
			(*n)++;
	if (*n == 0) {
		snprintf(eb, ec, "DNS SRV %s: no domain controller in the "
		    "answer", name);
		rc = PA_E_NOENT;
		goto out;
	}
	rc = 0;
out:
	free(v);
	free(ans);
	res_nclose(&rs);
	return rc;
}
