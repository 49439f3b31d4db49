/*
 * libFuzzer harness for what a CRL distribution point sends back
 * (agent/pki/crl.c pki_crl_parse): DER or PEM, whatever the server said.
 * A body taken as a CRL must come back as DER that parses again to the
 * same bytes and facts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pki_crl_info a, b;
	uint8_t *der = NULL, *der2 = NULL;
	size_t dl = 0, dl2 = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (pki_crl_parse(data, len, &der, &dl, &a) != 0) {
		if (der != NULL || dl != 0)
			abort();
		return 0;
	}
	if (pki_crl_parse(der, dl, &der2, &dl2, &b) != 0 || dl2 != dl ||
	    memcmp(der, der2, dl) != 0 || a.revoked != b.revoked ||
	    a.next_update != b.next_update ||
	    strcmp(a.issuer, b.issuer) != 0)
		abort();
	free(der);
	free(der2);
	return 0;
}
