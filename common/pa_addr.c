#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_addr.h"

size_t
pa_addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

uint8_t
pa_addr_bits(uint8_t family)
{
	return (uint8_t)(pa_addr_len(family) * 8);
}

int
pa_addr_parse(const char *s, struct pa_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return PA_E_FORMAT;
}

void
pa_len_to_mask(uint8_t family, uint8_t len, struct pa_addr *mask)
{
	size_t i;

	memset(mask, 0, sizeof(*mask));
	mask->family = family;
	for (i = 0; i < pa_addr_len(family); i++) {
		if (len >= 8) {
			mask->a[i] = 0xff;
			len -= 8;
		} else {
			mask->a[i] = (uint8_t)(0xff << (8 - len));
			len = 0;
		}
	}
}

int
pa_mask_to_len(const struct pa_addr *mask, uint8_t *len)
{
	struct pa_addr expect;
	size_t i;
	uint8_t n = 0;

	for (i = 0; i < pa_addr_len(mask->family); i++) {
		uint8_t b = mask->a[i];

		while (b & 0x80) {
			n++;
			b = (uint8_t)(b << 1);
		}
		if (b != 0)
			return PA_E_INVAL;
		if (mask->a[i] != 0xff)
			break;
	}
	pa_len_to_mask(mask->family, n, &expect);
	if (!pa_addr_eq(&expect, mask))
		return PA_E_INVAL;
	*len = n;
	return 0;
}

void
pa_prefix_normalize(struct pa_prefix *p)
{
	struct pa_addr mask;
	size_t i;

	pa_len_to_mask(p->addr.family, p->len, &mask);
	for (i = 0; i < sizeof(p->addr.a); i++)
		p->addr.a[i] &= mask.a[i];
}

int
pa_prefix_parse(const char *s, struct pa_prefix *p)
{
	char buf[PA_PREFIXSTRLEN + PA_ADDRSTRLEN];
	char *slash, *end;
	struct pa_addr mask;
	struct pa_prefix check;
	unsigned long n;
	int rc;

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		return PA_E_FORMAT;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if ((rc = pa_addr_parse(buf, &p->addr)) != 0)
		return rc;
	if (slash == NULL) {
		p->len = pa_addr_bits(p->addr.family);
		return 0;
	}
	if (strchr(slash, '.') != NULL || strchr(slash, ':') != NULL) {
		if (pa_addr_parse(slash, &mask) != 0 ||
		    mask.family != p->addr.family)
			return PA_E_FORMAT;
		if (pa_mask_to_len(&mask, &p->len) != 0)
			return PA_E_INVAL;
	} else {
		if (*slash == '\0')
			return PA_E_FORMAT;
		n = strtoul(slash, &end, 10);
		if (*end != '\0' || n > pa_addr_bits(p->addr.family))
			return PA_E_FORMAT;
		p->len = (uint8_t)n;
	}
	check = *p;
	pa_prefix_normalize(&check);
	if (!pa_addr_eq(&check.addr, &p->addr))
		return PA_E_INVAL;	/* host bits set */
	return 0;
}

const char *
pa_addr_str(const struct pa_addr *a, char *buf, size_t cap)
{
	if (a->family == 0 || inet_ntop(a->family, a->a, buf,
	    (socklen_t)cap) == NULL)
		snprintf(buf, cap, "-");
	return buf;
}

const char *
pa_prefix_str(const struct pa_prefix *p, char *buf, size_t cap)
{
	char a[PA_ADDRSTRLEN];

	snprintf(buf, cap, "%s/%u", pa_addr_str(&p->addr, a, sizeof(a)),
	    p->len);
	return buf;
}

bool
pa_addr_eq(const struct pa_addr *x, const struct pa_addr *y)
{
	return x->family == y->family &&
	    memcmp(x->a, y->a, pa_addr_len(x->family)) == 0;
}

int
pa_addr_cmp(const struct pa_addr *x, const struct pa_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, sizeof(x->a));
}

bool
pa_addr_is_unset(const struct pa_addr *a)
{
	return a->family == 0;
}

bool
pa_prefix_contains(const struct pa_prefix *p, const struct pa_addr *a)
{
	struct pa_prefix t;

	if (p->addr.family != a->family)
		return false;
	t.addr = *a;
	t.len = p->len;
	pa_prefix_normalize(&t);
	return pa_addr_eq(&t.addr, &p->addr);
}

void
pa_addr_to_sockaddr(const struct pa_addr *a, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->a, 16);
		*sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->a, 4);
		*sl = sizeof(*s4);
	}
}

int
pa_addr_from_sockaddr(const struct sockaddr *sa, struct pa_addr *a,
    uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		memcpy(a->a, &s4->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a->family = AF_INET6;
		memcpy(a->a, &s6->sin6_addr, 16);
		if (port != NULL)
			*port = ntohs(s6->sin6_port);
		return 0;
	}
	return PA_E_NOTSUP;
}
