/* This host's addresses, for "my IP address" filters. */
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "spd.h"

static bool
usable(const struct pa_addr *a)
{
	if (a->family == AF_INET)
		return a->a[0] != 127;
	if (a->family == AF_INET6) {
		static const uint8_t lo[16] = { [15] = 1 };

		if (memcmp(a->a, lo, 16) == 0)
			return false;
		/* fe80::/10 link-local */
		return !(a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80);
	}
	return false;
}

int
pol_local_addrs(struct pa_addr **out, size_t *n)
{
	struct ifaddrs *ifa = NULL, *i;
	struct pa_addr *v = NULL, a;
	size_t k = 0, cap = 0, j;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa) == -1)
		return PA_E_SYS;
	for (i = ifa; i != NULL; i = i->ifa_next)
		cap++;
	if (cap > 0 && (v = calloc(cap, sizeof(*v))) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		bool dup = false;

		if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP) ||
		    pa_addr_from_sockaddr(i->ifa_addr, &a, NULL) != 0 ||
		    !usable(&a))
			continue;
		for (j = 0; j < k; j++)
			if (pa_addr_eq(&v[j], &a))
				dup = true;
		if (!dup)
			v[k++] = a;
	}
	*out = v;
	*n = k;
	v = NULL;
out:
	free(v);
	freeifaddrs(ifa);
	return rc;
}
