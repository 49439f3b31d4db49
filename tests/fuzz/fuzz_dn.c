/*
 * libFuzzer harness for common/pa_dn.c, which reads the rootca= text an
 * administrator types (ipseccmd static ... rootca=) and names in stored
 * policies: netsh's options split off, then the name parsed. A refusal
 * must be explained and leave nothing; an accepted name must match its
 * own text (pa_dn_matches), and OpenSSL's RFC 2253 printing of it, when
 * it reads back, must give the same name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>

#include "pa_dn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* n printed as RFC 2253 (malloc'd), or NULL. */
static char *
rfc2253(X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	int len;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = (int)BIO_pending(b)) >= 0 &&
	    (s = malloc((size_t)len + 1)) != NULL) {
		len = BIO_read(b, s, len);
		s[len > 0 ? len : 0] = '\0';
	}
	BIO_free(b);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pa_dn_opts o;
	X509_NAME *n = NULL, *m = NULL;
	char why[256], *text, *name = NULL, *back;

	if (size > 4096 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	why[0] = '\0';
	if (pa_dn_rootca_split(text, &name, &o, why, sizeof(why)) != 0) {
		if (name != NULL || why[0] == '\0')
			abort();	/* refused: explained, nothing left */
		goto out;
	}
	if (name == NULL || strlen(name) > strlen(text))
		abort();
	why[0] = '\0';
	if (pa_dn_parse(name, &n, why, sizeof(why)) != 0) {
		if (n != NULL || why[0] == '\0')
			abort();
		goto out;
	}
	if (!pa_dn_matches(n, text)) {
		fprintf(stderr, "'%s' does not match its own name\n", text);
		abort();
	}
	if ((back = rfc2253(n)) != NULL) {
		if (pa_dn_parse(back, &m, why, sizeof(why)) == 0 &&
		    !pa_dn_eq(n, m)) {
			fprintf(stderr, "'%s' printed as '%s' reads back as "
			    "another name\n", text, back);
			abort();
		}
		free(back);
	}
out:
	X509_NAME_free(m);
	X509_NAME_free(n);
	free(name);
	free(text);
	return 0;
}
