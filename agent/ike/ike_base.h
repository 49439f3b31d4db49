/*
 * The bottom of agent/ike/ (private), beside ike_policy.h: the clock,
 * the Oakley log and audit events, random bytes, byte helpers
 * (report.c, bytes.c) and the Diffie-Hellman pool (dhpool.c).
 */
#ifndef PA_IKE_BASE_H
#define PA_IKE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oakley.h"
#include "pa_addr.h"
#include "pa_buf.h"

struct ike;

/* A fresh key pair for the group, ready-made if the pool has one. */
int	ike_dh_get(struct ike *, uint16_t group, struct oak_dh **) PA_MUST_USE;
/* Is a pool below its size (then ike_run_timers() makes a key)? */
bool	ike_dh_wanted(const struct ike *);
/* Make one key pair for a pool below its size. */
void	ike_dh_refill(struct ike *);
void	ike_dh_free_all(struct ike *);
void	ike_olog(struct ike *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	ike_rand(struct ike *, void *, size_t) PA_MUST_USE;
void	ike_audit(struct ike *, int event, const char *const *kv, size_t n);
void	ike_audit_fail(struct ike *, const char *mode, const struct pa_addr *peer,
	    const char *point, const char *reason);
uint64_t	ike_now(void);
/* SHA-1 of a datagram, for duplicate detection. */
void	ike_digest(const uint8_t *, size_t, uint8_t out[20]);
/* A copy of n bytes (malloc(1) for none), or NULL. */
uint8_t	*ike_dup_bytes(const uint8_t *, size_t);
/* v into b, most significant byte first. */
void	ike_put32(uint8_t b[4], uint32_t v);
/* Borrow bytes [off, off+n) of what a writer holds. */
int	ike_wr_view(const struct wr *, size_t off, size_t n, struct pa_bytes *)
	    PA_MUST_USE;

#endif
