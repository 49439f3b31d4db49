/*
 * dh_floor: the floor of a responder's Main Mode CPU, its two
 * Diffie-Hellman operations (key pair + derivation), measured with the
 * engine's own code (oak_dh_new + oak_dh_derive) on one core, so that the
 * IKE benchmark can set each responder's CPU per handshake beside it in
 * the same run.
 *
 * usage: dh_floor [N] [GROUP...]   (wire numbers; default 200, 14 2 19)
 * prints "dh_floor group=G ms_per_pair=X" per group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "oakley.h"

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
one_group(uint16_t g, unsigned n)
{
	struct oak_dh *peer = NULL, *me = NULL;
	uint8_t out[512];
	size_t outlen;
	double t0, t1;
	unsigned i;

	if (oak_dh_new(g, &peer) != 0) {
		fprintf(stderr, "dh_floor: group %u unsupported\n", g);
		return -1;
	}
	t0 = cpu_now();
	for (i = 0; i < n; i++) {
		if (oak_dh_new(g, &me) != 0 ||
		    oak_dh_derive(me, oak_dh_pub(peer), out, sizeof(out),
		    &outlen) != 0) {
			oak_dh_free(me);
			oak_dh_free(peer);
			return -1;
		}
		oak_dh_free(me);
		me = NULL;
	}
	t1 = cpu_now();
	oak_dh_free(peer);
	printf("dh_floor group=%u ms_per_pair=%.3f\n", g,
	    (t1 - t0) * 1000.0 / n);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
	static const uint16_t def[] = { 14, 2, 19 };
	int i, rc = 0;

	if (n == 0)
		n = 1;
	if (argc <= 2) {
		for (i = 0; i < 3; i++)
			rc |= one_group(def[i], n);
	} else {
		for (i = 2; i < argc; i++)
			rc |= one_group((uint16_t)atoi(argv[i]), n);
	}
	return rc != 0;
}
