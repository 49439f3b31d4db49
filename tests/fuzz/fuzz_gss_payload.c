/*
 * libFuzzer harness for the Kerberos IKE payload decoders of
 * agent/ike/auth_gss: the GSS token payload body (type 129) and the GSS
 * Identity Name attribute value. The first input byte picks the decoder;
 * whatever decodes must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_gss.h"
#include "pa_buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	out[IKE_GSS_TOKEN_MAX + 16];

static void
check_tok(struct pa_bytes body)
{
	struct ike_gss_tok t;
	struct wr w;

	if (ike_gss_tok_decode(body, &t) != 0)
		return;
	if (t.token.len == 0 || t.token.len > body.len)
		abort();
	wr_init(&w, out, sizeof(out));
	if (ike_gss_tok_encode(&w, t.fmt, t.vendor, t.token) != 0)
		abort();
	if (w.len != body.len || memcmp(out, body.p, body.len) != 0)
		abort();
}

static void
check_id(struct pa_bytes value)
{
	char name[IKE_GSS_NAME_MAX + 1], again[IKE_GSS_NAME_MAX + 1];
	struct wr w;
	struct rd r;
	uint16_t type, len;
	struct pa_bytes v;

	if (ike_gss_id_decode(value, name, sizeof(name)) != 0)
		return;
	if (strlen(name) == 0 || strlen(name) > IKE_GSS_NAME_MAX)
		abort();
	wr_init(&w, out, sizeof(out));
	if (ike_gss_id_attr_encode(&w, name) != 0)
		abort();
	rd_init(&r, out, w.len);
	if (rd_u16(&r, &type) != 0 || !ike_gss_id_attr_type(type) ||
	    rd_u16(&r, &len) != 0 || rd_bytes(&r, len, &v) != 0 ||
	    !rd_empty(&r))
		abort();
	/* Same bytes, less an optional terminating NUL. */
	if (v.len != value.len && v.len + 2 != value.len)
		abort();
	if (memcmp(v.p, value.p, v.len) != 0)
		abort();
	if (ike_gss_id_decode(v, again, sizeof(again)) != 0 ||
	    strcmp(name, again) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r;
	uint8_t sel;
	struct pa_bytes rest;

	rd_init(&r, data, size);
	if (rd_u8(&r, &sel) != 0)
		return 0;
	rest = rd_rest(&r);
	if (sel & 1)
		check_id(rest);
	else
		check_tok(rest);
	return 0;
}
