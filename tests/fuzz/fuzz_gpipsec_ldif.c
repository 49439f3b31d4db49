/*
 * libFuzzer harness of the directory records -> model path: LDIF text
 * (as an import file or the agent's cache carries it) through libldap's
 * reader, the graph walk and the blob codec (pol_ldif_read), and the
 * gPLink parser on the same bytes. An accepted policy must export again.
 * Bytes that begin as the cache's header ("fetched ...") also go, behind
 * a correct checksum line, through its reader (pol_dir_cache_parse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dir_source.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "model.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* "PA-DIR-CACHE 1\nsha256 <the rest's>\n" + the input, then its reader. */
static void
cache_header(const uint8_t *data, size_t size)
{
	static const char magic[] = "PA-DIR-CACHE 1\nsha256 ";
	uint8_t dg[32];
	unsigned int dl;
	char *buf, *ldif, dn[256], uri[256];
	size_t hl = sizeof(magic) - 1, i;
	int64_t fetched;

	/* Only what begins as the header does (the seed does): the replay
	 * test runs every prefix of every seed, and hashing them all is slow
	 * under ASan. */
	if (size < 8 || memcmp(data, "fetched ", 8) != 0 ||
	    memchr(data, '\0', size) != NULL ||
	    EVP_Digest(data, size, dg, &dl, EVP_sha256(), NULL) != 1 ||
	    (buf = malloc(hl + 65 + size + 1)) == NULL)
		return;
	memcpy(buf, magic, hl);
	for (i = 0; i < 32; i++)
		snprintf(buf + hl + 2 * i, 3, "%02x", dg[i]);
	buf[hl + 64] = '\n';
	memcpy(buf + hl + 65, data, size);
	buf[hl + 65 + size] = '\0';
	if (pol_dir_cache_parse(buf, hl + 65 + size, &ldif, &fetched, dn,
	    sizeof(dn), uri, sizeof(uri)) == 0 && strlen(ldif) > size)
		abort();	/* the LDIF lies inside the input */
	free(buf);
}

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

	cache_header(data, size);
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
