/*
 * libFuzzer harness for what ipseccmd diag reads after its IKE probe
 * (agent/ike/probe.c): any datagram, with its own first 8 bytes as the
 * probe's cookie (so the answer path is reached) and with another cookie.
 */
#include <stdint.h>
#include <string.h>

#include "probe.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	uint8_t cky[8] = { 0 };
	char what[256];

	if (len >= 8)
		memcpy(cky, p, 8);
	(void)ike_probe_answer(p, len, cky, what, sizeof(what));
	cky[0] ^= 0xff;
	(void)ike_probe_answer(p, len, cky, what, sizeof(what));
	return 0;
}
