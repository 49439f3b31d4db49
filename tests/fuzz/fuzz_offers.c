/*
 * libFuzzer harness for the qmsecmethods parser (agent/policy/offer.c),
 * which reads what an administrator types into ipseccmd: a rejection is
 * explained ("qmsecmethods: ..."), every accepted offer passes the
 * model's check, and format -> parse gives each offer back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "offer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_qm_offer *v = NULL, *w = NULL;
	char what[256], txt[128], *spec;
	size_t n = 0, m = 0, i;

	if (size > 8192)
		return 0;
	if ((spec = malloc(size + 1)) == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	what[0] = '\0';
	if (pol_offers_parse(spec, &v, &n, what, sizeof(what)) != 0) {
		if (v != NULL || strncmp(what, "qmsecmethods: ", 14) != 0)
			abort();	/* failure must be clean and explained */
		free(spec);
		return 0;
	}
	if (n == 0)
		abort();
	for (i = 0; i < n; i++) {
		if (pol_check_offer(&v[i], what, sizeof(what)) != 0) {
			fprintf(stderr, "accepted but invalid: %s\n", what);
			abort();
		}
		v[i].pfs = false;	/* " (PFS)" is not qmsecmethods */
		pol_offer_format(&v[i], txt, sizeof(txt));
		if (pol_offers_parse(txt, &w, &m, what, sizeof(what)) != 0 ||
		    m != 1 || memcmp(w, &v[i], sizeof(*w)) != 0) {
			fprintf(stderr, "'%s' does not parse back\n", txt);
			abort();
		}
		free(w);
	}
	free(v);
	free(spec);
	return 0;
}
