#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "pa_guid.h"

/* Text position of each binary byte (Data1..3 are little-endian). */
static const uint8_t guid_text_order[16] = {
	3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15
};

static int
hexnib(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
pa_guid_parse(const char *s, struct pa_guid *g)
{
	uint8_t text[16];
	size_t len = strlen(s), i, n = 0;
	int hi, lo;

	if (len == 38) {
		if (s[0] != '{' || s[37] != '}')
			return PA_E_FORMAT;
		s++;
		len = 36;
	}
	if (len != 36)
		return PA_E_FORMAT;
	for (i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return PA_E_FORMAT;
			i++;
			continue;
		}
		if ((hi = hexnib((unsigned char)s[i])) < 0 ||
		    (lo = hexnib((unsigned char)s[i + 1])) < 0)
			return PA_E_FORMAT;
		text[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	for (i = 0; i < 16; i++)
		g->b[guid_text_order[i]] = text[i];
	return 0;
}

const char *
pa_guid_str(const struct pa_guid *g, char *buf)
{
	uint8_t t[16];
	size_t i;

	for (i = 0; i < 16; i++)
		t[i] = g->b[guid_text_order[i]];
	snprintf(buf, PA_GUIDSTRLEN,
	    "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
	    "%02X%02X%02X%02X%02X%02X}",
	    t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9],
	    t[10], t[11], t[12], t[13], t[14], t[15]);
	return buf;
}

int
pa_guid_generate(struct pa_guid *g)
{
	if (RAND_bytes(g->b, sizeof(g->b)) != 1)
		return PA_E_CRYPTO;
	g->b[7] = (uint8_t)((g->b[7] & 0x0f) | 0x40);	/* Data3 high: v4 */
	g->b[8] = (uint8_t)((g->b[8] & 0x3f) | 0x80);	/* variant */
	return 0;
}

bool
pa_guid_eq(const struct pa_guid *a, const struct pa_guid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

bool
pa_guid_is_nil(const struct pa_guid *g)
{
	static const struct pa_guid nil;

	return pa_guid_eq(g, &nil);
}
