/*
 * libFuzzer harness for what Main Mode reads out of a phase 1 SA payload
 * when Kerberos is offered (agent/ike/mm_krb.c): every transform through
 * ike_krb_p1_from_xform() (which drops the GSS Identity attribute before
 * sel.c reads the numbers) and ike_krb_xform_gi(), whose value goes
 * through ike_gss_id_decode(). Input: an SA payload body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_gss.h"
#include "ike_exch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t len)
{
	static struct isk_sa sa;
	struct ike_p1 p1;
	struct pa_bytes gi;
	char name[IKE_GSS_NAME_MAX + 1];
	size_t i;

	if (isk_parse_sa((struct pa_bytes){ p, len }, &sa) != 0)
		return 0;
	for (i = 0; i < sa.nxf; i++) {
		if (ike_krb_p1_from_xform(&sa.xf[i], &p1) != 0)
			memset(&p1, 0, sizeof(p1));
		if (ike_krb_xform_gi(&sa.xf[i], &gi)) {
			if (gi.len > sa.xf[i].attrs.len)
				abort();
			if (ike_gss_id_decode(gi, name, sizeof(name)) == 0 &&
			    strlen(name) >= sizeof(name))
				abort();
		}
	}
	return 0;
}
