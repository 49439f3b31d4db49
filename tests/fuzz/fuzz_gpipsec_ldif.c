/*
 * libFuzzer harness of the directory records -> model path: LDIF text
 * (as an import file or the agent's cache carries it) through libldap's
 * reader, the graph walk and the blob codec (pol_ldif_read), and the
 * gPLink parser on the same bytes. An accepted policy must export again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_store *s = NULL;
	struct pol_gplink *l = NULL;
	struct pol_gp_keep *keep;
	struct pol_ldif_opts o;
	struct pol_err err;
	char *text, *out = NULL;
	size_t n = 0, outlen;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pol_gplink_parse(text, &l, &n) == 0)
		pol_gplinks_free(l, n);
	keep = pol_gp_keep_new();
	if (keep != NULL && pol_ldif_read(text, strlen(text), &s, keep,
	    &err) == 0) {
		memset(&o, 0, sizeof(o));
		o.base = "DC=fuzz";
		if (s->npolicies > 0 && pol_ldif_write(s, &s->policies[0], keep,
		    &o, &out, &outlen, &err) == 0)
			free(out);
		pol_store_free(s);
	}
	pol_gp_keep_free(keep);
	free(text);
	return 0;
}
