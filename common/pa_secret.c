#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pa_secret.h"

struct pa_secret *
pa_secret_new(const void *p, size_t len)
{
	struct pa_secret *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	/* One extra NUL byte so text secrets can be used as C strings. */
	if ((s->p = malloc(len + 1)) == NULL) {
		free(s);
		return NULL;
	}
	if (len > 0)
		memcpy(s->p, p, len);
	s->p[len] = '\0';
	s->len = len;
	return s;
}

struct pa_secret *
pa_secret_dup(const struct pa_secret *s)
{
	if (s == NULL)
		return NULL;
	return pa_secret_new(s->p, s->len);
}

void
pa_secret_free(struct pa_secret *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->p, s->len + 1);
	free(s->p);
	free(s);
}

bool
pa_secret_eq(const struct pa_secret *a, const struct pa_secret *b)
{
	if (a == NULL || b == NULL || a->len != b->len)
		return false;
	return CRYPTO_memcmp(a->p, b->p, a->len) == 0;
}

void
pa_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
