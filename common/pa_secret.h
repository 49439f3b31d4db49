/*
 * Secrets (PSKs, bind passwords, keys): heap copies wiped on free.
 * Never log or print the contents.
 */
#ifndef PA_SECRET_H
#define PA_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pa_secret {
	uint8_t	*p;
	size_t	 len;
};

/* Copy len bytes of p into a new secret; NULL on allocation failure. */
struct pa_secret	*pa_secret_new(const void *p, size_t len);
/* A deep copy, or NULL. pa_secret_dup(NULL) is NULL. */
struct pa_secret	*pa_secret_dup(const struct pa_secret *);
/* Wipe and free; NULL is a no-op. */
void	pa_secret_free(struct pa_secret *);
/* Constant-time equality of two secrets (false if either is NULL). */
bool	pa_secret_eq(const struct pa_secret *, const struct pa_secret *);
/* Wipe a buffer that held key material (not optimised away). */
void	pa_wipe(void *, size_t);

#endif
