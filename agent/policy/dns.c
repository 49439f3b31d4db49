/*
 * DNS filter endpoints: resolved when a policy is loaded for use (not
 * when the XML is parsed, so the loader never touches the network).
 */
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"

bool
pol_dns_name_ok(const char *t, char *why, size_t cap)
{
	size_t i, label = 0, len = strlen(t);
	bool digits = true;

	if (len == 0 || len > 253) {
		snprintf(why, cap, "not a host name (1 to 253 characters)");
		return false;
	}
	for (i = 0; i <= len; i++) {
		char c = t[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || t[i - 1] == '-' ||
			    t[i - label] == '-') {
				if (c == '\0' && label == 0 && i > 0)
					break;	/* a trailing dot: absolute */
				snprintf(why, cap, "not a host name (empty, "
				    "too long or hyphen-edged label)");
				return false;
			}
			if (c == '\0' || (t[i + 1] == '\0'))
				break;
			label = 0;
			digits = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-')) {
			snprintf(why, cap, "not a host name (character '%c')",
			    c);
			return false;
		}
		if (c < '0' || c > '9')
			digits = false;
		label++;
	}
	if (digits) {
		snprintf(why, cap, "not an address: an IPv4 address is four "
		    "numbers 0-255 (e.g. 10.66.1.0), and a host name does not "
		    "end in a number");
		return false;
	}
	return true;
}

static int
resolve_one(struct pol_endpoint *e, struct pol_err *err)
{
	char why[160];

	if (!pol_dns_name_ok(e->dns, why, sizeof(why))) {
		snprintf(err->where, sizeof(err->where), "DNS name '%.200s'",
		    e->dns);
		snprintf(err->what, sizeof(err->what), "%s", why);
		return PA_E_INVAL;
	}
	struct addrinfo hints, *res = NULL, *ai;
	struct pa_addr *v = NULL;
	size_t n = 0, cap = 0, i;
	int gai, rc = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((gai = getaddrinfo(e->dns, NULL, &hints, &res)) != 0) {
		snprintf(err->where, sizeof(err->where), "DNS name '%s'",
		    e->dns);
		snprintf(err->what, sizeof(err->what), "does not resolve: %s",
		    gai_strerror(gai));
		return PA_E_NOENT;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		cap++;
	if (cap > 0 && (v = calloc(cap, sizeof(*v))) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pa_addr a;
		bool dup = false;

		if (pa_addr_from_sockaddr(ai->ai_addr, &a, NULL) != 0)
			continue;
		for (i = 0; i < n; i++)
			if (pa_addr_eq(&v[i], &a))
				dup = true;
		if (!dup)
			v[n++] = a;
	}
	free(e->resolved);
	e->resolved = v;
	e->nresolved = n;
	v = NULL;
out:
	free(v);
	freeaddrinfo(res);
	return rc;
}

int
pol_store_resolve_names(struct pol_store *s, struct pol_err *err)
{
	size_t i, j;
	int rc;

	memset(err, 0, sizeof(*err));
	for (i = 0; i < s->nfilterlists; i++)
		for (j = 0; j < s->filterlists[i].nfilters; j++) {
			struct pol_filter *f = &s->filterlists[i].filters[j];

			if (f->src.kind == POL_ADDR_DNS &&
			    (rc = resolve_one(&f->src, err)) != 0)
				return rc;
			if (f->dst.kind == POL_ADDR_DNS &&
			    (rc = resolve_one(&f->dst, err)) != 0)
				return rc;
		}
	return 0;
}
