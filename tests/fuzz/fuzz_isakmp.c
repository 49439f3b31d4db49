/*
 * libFuzzer harness for the ISAKMP codec: header, payload chain (plain and
 * as a decrypted body with padding) and every payload decoder, including
 * walking every attribute of every transform.
 */
#include <stdint.h>
#include <stdlib.h>

#include "isakmp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
walk_sa(struct pa_bytes b)
{
	static struct isk_sa sa;
	struct isk_attr a;
	struct rd r;
	uint64_t v;
	size_t i;

	if (isk_parse_sa(b, &sa) != 0)
		return;
	for (i = 0; i < sa.nxf; i++) {
		rd_init(&r, sa.xf[i].attrs.p, sa.xf[i].attrs.len);
		while (isk_attr_next(&r, &a) == 0)
			if (isk_attr_num(&a, &v) != 0)
				continue;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	static struct isk_msg m;
	struct isk_hdr h;
	struct pa_bytes body;
	size_t i;
	int pad;

	if (isk_parse_hdr(p, len, &h, &body) != 0)
		return 0;
	for (pad = 0; pad < 2; pad++) {
		if (isk_parse_chain(body, h.np, pad, &m) != 0)
			continue;
		if (isk_check_payloads(&m) != 0)
			continue;
		for (i = 0; i < m.npl; i++) {
			struct pa_bytes s;

			if (isk_span(&m, i, &s) != 0)
				abort();
			if (m.pl[i].type == ISK_PL_SA)
				walk_sa(m.pl[i].body);
			if (m.pl[i].type == ISK_PL_VID)
				(void)isk_vid_classify(m.pl[i].body, NULL);
		}
	}
	return 0;
}
