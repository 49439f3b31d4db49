/*
 * IPv4/IPv6 addresses and prefixes: the vocabulary shared by policy,
 * IKE and the driver shim.
 */
#ifndef PA_ADDR_H
#define PA_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pa_err.h"

#define PA_ADDRSTRLEN	46	/* INET6_ADDRSTRLEN */
#define PA_PREFIXSTRLEN	(PA_ADDRSTRLEN + 4)

struct pa_addr {
	uint8_t	family;		/* AF_INET, AF_INET6, or 0 = unset */
	uint8_t	a[16];		/* network order; IPv4 in a[0..3], rest 0 */
};

struct pa_prefix {
	struct pa_addr	addr;	/* host bits are zero */
	uint8_t		len;	/* 0..32 or 0..128 */
};

/* Parse a literal IPv4/IPv6 address. */
int	pa_addr_parse(const char *, struct pa_addr *) PA_MUST_USE;
/* "a.b.c.d/n", "a.b.c.d/m.m.m.m" (contiguous masks only), "x::/n"; a bare
 * address is a host prefix. Host bits set are an error (PA_E_INVAL). */
int	pa_prefix_parse(const char *, struct pa_prefix *) PA_MUST_USE;
/* A dotted mask "255.255.255.0" to a length; PA_E_INVAL if not a prefix. */
int	pa_mask_to_len(const struct pa_addr *mask, uint8_t *len) PA_MUST_USE;
void	pa_len_to_mask(uint8_t family, uint8_t len, struct pa_addr *mask);
/* Writes into buf (PA_ADDRSTRLEN / PA_PREFIXSTRLEN bytes); returns buf. */
const char	*pa_addr_str(const struct pa_addr *, char *buf, size_t cap);
const char	*pa_prefix_str(const struct pa_prefix *, char *buf, size_t cap);

size_t	pa_addr_len(uint8_t family);		/* 4, 16 or 0 */
uint8_t	pa_addr_bits(uint8_t family);		/* 32, 128 or 0 */
bool	pa_addr_eq(const struct pa_addr *, const struct pa_addr *);
int	pa_addr_cmp(const struct pa_addr *, const struct pa_addr *);
bool	pa_addr_is_unset(const struct pa_addr *);
bool	pa_prefix_contains(const struct pa_prefix *, const struct pa_addr *);
/* Clear the host bits of p->addr beyond p->len. */
void	pa_prefix_normalize(struct pa_prefix *);

/* Conversions to and from socket addresses (port in host order). */
void	pa_addr_to_sockaddr(const struct pa_addr *, uint16_t port,
	    struct sockaddr_storage *, socklen_t *);
int	pa_addr_from_sockaddr(const struct sockaddr *, struct pa_addr *,
	    uint16_t *port) PA_MUST_USE;

#endif
