/*
 * uesp_sa_mem: memory of the userspace ESP driver's SA state. Creates N
 * SA pairs (inbound + outbound, tunnel mode, distinct keys) in an engine
 * SA table and prints the RSS growth per pair.
 *
 * usage: uesp_sa_mem [N] [cbc|gcm]   (default 10000 cbc:
 *        AES-128-CBC/HMAC-SHA1-96; gcm: AES-128-GCM-16)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "uesp_engine.h"

static long
rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

static int
add(struct uesp_sadb *db, struct sa_id *id, struct sa_params *p)
{
	struct uesp_sa *sa;

	if (uesp_sa_new(id, p, 0, &sa) != 0)
		return -1;
	if (uesp_sadb_add(db, sa) != 0) {
		uesp_sa_free(sa);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, i, r0 = 0, r1;
	bool gcm = argc > 2 && strcmp(argv[2], "gcm") == 0;
	struct uesp_sadb *db = uesp_sadb_new();
	struct sa_params p;
	struct sa_id id;

	if (db == NULL || n <= 0 || (argc > 2 && !gcm &&
	    strcmp(argv[2], "cbc") != 0)) {
		fprintf(stderr, "usage: uesp_sa_mem [N] [cbc|gcm]\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.replay_window = 64;
	if (gcm) {
		p.enc = DRV_ENC_AES_GCM_16;
		p.enc_key_len = 20;
	} else {
		p.enc = DRV_ENC_AES_CBC;
		p.enc_key_len = 16;
		p.auth = DRV_AUTH_HMAC_SHA1_96;
		p.auth_key_len = 20;
	}
	memset(&id, 0, sizeof(id));
	id.proto = DRV_PROTO_ESP;
	if (pa_addr_parse("10.0.0.1", &id.src) != 0 ||
	    pa_addr_parse("10.0.0.2", &id.dst) != 0)
		return 1;
	/* One pair first: OpenSSL's one-time set-up is not per SA. */
	for (i = -1; i < n; i++) {
		if (i == 0)
			r0 = rss_kib();
		memset(p.enc_key, (int)i, sizeof(p.enc_key));
		memset(p.auth_key, (int)~i, sizeof(p.auth_key));
		id.spi = 0x1000 + 2 * (uint32_t)(i + 1);
		p.inbound = true;
		if (add(db, &id, &p) != 0)
			return 1;
		id.spi++;
		p.inbound = false;
		if (add(db, &id, &p) != 0)
			return 1;
	}
	r1 = rss_kib();
	printf("%ld SA pairs (%s): %.2f KiB per pair\n", n,
	    gcm ? "AES-128-GCM" : "AES-128-CBC/HMAC-SHA1",
	    (double)(r1 - r0) / (double)n);
	uesp_sadb_free(db);
	return 0;
}
