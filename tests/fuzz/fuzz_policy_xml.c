/*
 * libFuzzer harness for the XML store loader (agent/policy/store_xml.c):
 * parse, and for every accepted document check that format -> parse ->
 * format is a fixed point (no secrets file: only inline keys load).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_store *s = NULL, *t = NULL;
	struct pol_err err;
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	if (pol_store_parse_xml(data, size, "fuzz", NULL, &s, &err) != 0) {
		if (s != NULL || err.what[0] == '\0')
			abort();	/* failure must be clean and explained */
		return 0;
	}
	if (pol_store_format_xml(s, POL_XML_INLINE_KEYS, &a, &alen,
	    &err) != 0)
		abort();
	if (pol_store_parse_xml(a, alen, "fuzz-2", NULL, &t, &err) != 0) {
		fprintf(stderr, "re-parse failed: %s: %s\n", err.where,
		    err.what);
		abort();
	}
	if (pol_store_format_xml(t, POL_XML_INLINE_KEYS, &b, &blen,
	    &err) != 0 || alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	pol_store_free(s);
	pol_store_free(t);
	return 0;
}
