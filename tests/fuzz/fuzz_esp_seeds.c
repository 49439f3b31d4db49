/*
 * Writes the seed corpus of fuzz_esp: valid packets for each of its SAs
 * (run by hand: fuzz_esp_seeds DIR; the output is committed).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_esp_common.h"
#include "pa_buf.h"

static size_t
inner(uint8_t *buf, size_t cap, bool v6, bool tunnel_src_ok)
{
	struct wr w;
	size_t i;

	(void)tunnel_src_ok;
	wr_init(&w, buf, cap);
	if (!v6) {
		static const uint8_t h[] = { 0x45, 0, 0, 48, 0, 1, 0, 0, 64, 17,
		    0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
		wr_bytes(&w, h, sizeof(h));
	} else {
		static const uint8_t h[] = { 0x60, 0, 0, 0, 0, 28, 17, 64 };
		uint8_t a[16] = { 0xfd };

		wr_bytes(&w, h, sizeof(h));
		a[15] = 1;
		wr_bytes(&w, a, 16);
		a[15] = 2;
		wr_bytes(&w, a, 16);
	}
	wr_u16(&w, 1000);
	wr_u16(&w, 2000);
	wr_u16(&w, 28);
	wr_u16(&w, 0);
	for (i = 0; i < 20; i++)
		wr_u8(&w, (uint8_t)i);
	return w.len;
}

/* The seed must pass the harness's own SAs. */
static int
check(size_t v6, size_t idx, uint8_t proto, bool udp, const uint8_t *p,
    size_t len)
{
	static uint8_t out[UESP_MAX_PKT];
	struct uesp_sadb *db = uesp_sadb_new();
	struct uesp_sa *sa;
	struct sa_id id;
	struct sa_params sp;
	struct uesp_rx rx;
	struct uesp_verdict v;
	size_t olen;
	int rc;

	fuzz_esp_sa(idx, v6, true, &id, &sp);
	if (db == NULL || uesp_sa_new(&id, &sp, 0, &sa) != 0 ||
	    uesp_sadb_add(db, sa) != 0)
		return -1;
	if (!v6)
		rc = uesp_rx_parse_ip4(p, len, 4500, &rx);
	else
		rc = uesp_rx_parse_l4(udp ? 17 : proto, &id.src, &id.dst, p,
		    len, 4500, &rx);
	if (rc == 0)
		rc = uesp_decap(db, &rx, out, sizeof(out), &olen, &v);
	uesp_sadb_free(db);
	return rc;
}

int
main(int argc, char **argv)
{
	static uint8_t pkt[4096], buf[4096];
	struct sa_id id;
	struct sa_params p;
	struct uesp_sa *sa;
	enum uesp_life life;
	size_t i, ilen, olen, f;
	char path[512];
	FILE *fp;

	if (argc != 2)
		return 2;
	for (f = 0; f < 2; f++)
		for (i = 0; i < FUZZ_ESP_NSA; i++) {
			fuzz_esp_sa(i, f, false, &id, &p);
			if (uesp_sa_new(&id, &p, 0, &sa) != 0)
				return 1;
			ilen = inner(pkt, sizeof(pkt), f, true);
			if (uesp_encap(id.proto == 50 ? sa : NULL,
			    id.proto == 51 ? sa : NULL, pkt, ilen, &buf[1],
			    sizeof(buf) - 1, &olen, &life) != 0)
				return 1;
			if (!f)
				buf[0] = FUZZ_IP4;
			else {
				/* IPv6 raw sockets strip the header. */
				buf[0] = id.proto == 51 ? FUZZ_L4_AH6 :
				    p.encap_dport ? FUZZ_L4_UDP6 : FUZZ_L4_ESP6;
				memmove(&buf[1], &buf[41], olen - 40);
				olen -= 40;
			}
			if (check(f, i, id.proto, p.encap_dport != 0,
			    &buf[1], olen) != 0) {
				fprintf(stderr, "seed %zu/%zu does not decap\n",
				    f, i);
				return 1;
			}
			snprintf(path, sizeof(path), "%s/%s-sa%zu", argv[1],
			    f ? "v6" : "v4", i);
			if ((fp = fopen(path, "wb")) == NULL ||
			    fwrite(buf, 1, olen + 1, fp) != olen + 1)
				return 1;
			fclose(fp);
			uesp_sa_free(sa);
		}
	return 0;
}
