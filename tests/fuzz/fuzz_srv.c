/*
 * libFuzzer harness of the SRV answer parser (ldap/srv.c): the input is a
 * DNS reply as res_nquery() returns it. Parsing must never read outside
 * it; whatever parses must come out bounded, sorted and as URIs that fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dir_srv v[DIR_SRV_MAX];
	char uri[DIR_SRV_URI];
	size_t n, i;

	if (dir_srv_parse(data, size, NULL, v, DIR_SRV_MAX, &n) != 0) {
		if (n != 0)
			abort();
		return 0;
	}
	if (n > DIR_SRV_MAX)
		abort();
	dir_srv_sort(v, n);
	for (i = 0; i < n; i++) {
		if (i > 0 && (v[i].prio < v[i - 1].prio ||
		    (v[i].prio == v[i - 1].prio &&
		    v[i].weight > v[i - 1].weight)))
			abort();
		if (memchr(v[i].target, '\0', sizeof(v[i].target)) == NULL ||
		    dir_srv_uri(&v[i], uri, sizeof(uri)) != 0)
			abort();
	}
	/* The owner filter only ever drops records (it may fail: it reads
	 * on where the unfiltered parse stopped at DIR_SRV_MAX). */
	if (dir_srv_parse(data, size, "_ldap._tcp.dc._msdcs.ad.example.test",
	    v, DIR_SRV_MAX, &i) == 0 && i > n)
		abort();
	return 0;
}
