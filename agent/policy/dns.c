/*
 * DNS filter endpoints: resolved when a policy is loaded for use (not
 * when the XML is parsed, so the loader never touches the network).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"

static int
resolve_one(struct pol_endpoint *e, struct pol_err *err)
{
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
