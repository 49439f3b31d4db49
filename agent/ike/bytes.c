/*
 * Small byte helpers the IKE files share: copies of what a message holds
 * and views into what a writer holds.
 */
#include <stdlib.h>
#include <string.h>

#include "ike_base.h"

uint8_t *
ike_dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c != NULL && n > 0)
		memcpy(c, p, n);
	return c;
}

int
ike_wr_view(const struct wr *w, size_t off, size_t n, struct pa_bytes *b)
{
	struct rd r;
	int rc;

	rd_init(&r, w->p, w->len);
	if ((rc = rd_skip(&r, off)) != 0)
		return rc;
	return rd_bytes(&r, n, b);
}

void
ike_put32(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}
