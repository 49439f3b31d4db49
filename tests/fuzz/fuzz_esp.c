/*
 * libFuzzer harness for the uesp inbound path: the first byte says how
 * the packet arrived (IPv4 raw with header, or IPv6 raw ESP/AH/UDP), the
 * rest is the packet. It is taken apart and decapsulated against a table
 * of SAs (ESP CBC+HMAC tunnel, GCM over UDP transport, AH, and two
 * without integrity so decryption and trailer checks are reached).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_esp_common.h"
#include "pa_buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	out[UESP_MAX_PKT];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uesp_sadb *db;
	struct uesp_sa *sa;
	struct sa_id id;
	struct sa_params p;
	struct uesp_rx rx;
	struct uesp_verdict v;
	struct pa_bytes rest;
	struct rd r;
	size_t i, olen;
	uint8_t how;
	int rc;

	rd_init(&r, data, size);
	if (rd_u8(&r, &how) != 0 || how >= FUZZ_HOW_MAX)
		return 0;
	rest = rd_rest(&r);
	if ((db = uesp_sadb_new()) == NULL)
		abort();
	for (i = 0; i < FUZZ_ESP_NSA; i++) {
		fuzz_esp_sa(i, how != FUZZ_IP4, true, &id, &p);
		if (uesp_sa_new(&id, &p, 0, &sa) != 0 ||
		    uesp_sadb_add(db, sa) != 0)
			abort();
	}
	fuzz_esp_sa(0, how != FUZZ_IP4, true, &id, &p);
	if (how == FUZZ_IP4)
		rc = uesp_rx_parse_ip4(rest.p, rest.len, 4500, &rx);
	else
		rc = uesp_rx_parse_l4(how == FUZZ_L4_ESP6 ? 50 :
		    how == FUZZ_L4_AH6 ? 51 : 17, &id.src, &id.dst, rest.p,
		    rest.len, 4500, &rx);
	if (rc == 0) {
		rc = uesp_decap(db, &rx, out, sizeof(out), &olen, &v);
		if (rc == 0 && (olen > sizeof(out) || v.sa == NULL))
			abort();
		if (rc != 0 && v.why == 0)
			abort();	/* every drop has a reason */
	}
	uesp_sadb_free(db);
	return 0;
}
