/*
 * The IKE reachability probe of ipseccmd diag (probe.h). The offers are
 * the Main Mode suites of RFC 2409 and of Windows' built-in policies; the
 * answer is read with the ISAKMP codec (isakmp.c).
 */
#include <stdio.h>
#include <string.h>

#include "isakmp.h"
#include "probe.h"

/* One transform: encryption, key bits (0: none), hash, auth, group. */
static const uint16_t probe_xf[][5] = {
	{ ISK_ENC_AES, 128, ISK_HASH_SHA1, ISK_AUTH_PSK, 14 },
	{ ISK_ENC_AES, 128, ISK_HASH_SHA1, ISK_AUTH_RSA, 14 },
	{ ISK_ENC_AES, 256, ISK_HASH_SHA256, ISK_AUTH_PSK, 14 },
	{ ISK_ENC_AES, 256, ISK_HASH_SHA256, ISK_AUTH_RSA, 14 },
	{ ISK_ENC_3DES, 0, ISK_HASH_SHA1, ISK_AUTH_GSS, 2 },
	{ ISK_ENC_3DES, 0, ISK_HASH_SHA1, ISK_AUTH_PSK, 2 },
	{ ISK_ENC_3DES, 0, ISK_HASH_SHA1, ISK_AUTH_RSA, 2 },
	{ ISK_ENC_3DES, 0, ISK_HASH_MD5, ISK_AUTH_PSK, 2 },
};
#define PROBE_NXF	(sizeof(probe_xf) / sizeof(probe_xf[0]))

int
ike_probe_write(const uint8_t cky[8], uint8_t *buf, size_t cap, size_t *len)
{
	struct isk_hdr h;
	struct isk_chain c, props, xfs;
	struct wr w;
	size_t sapos, pr, xf, i;
	int rc;

	memset(&h, 0, sizeof(h));
	memcpy(h.cky_i, cky, 8);
	h.version = ISK_VERSION;
	h.exch = ISK_EXCH_MAIN;
	wr_init(&w, buf, cap);
	if ((rc = isk_hdr_write(&w, &h, &c)) != 0 ||
	    (rc = isk_pl_open(&w, &c, ISK_PL_SA, &sapos)) != 0)
		return rc;
	wr_u32(&w, ISK_DOI_IPSEC);
	wr_u32(&w, ISK_SIT_IDENTITY_ONLY);
	isk_chain_init(&props);
	if ((rc = isk_pl_open(&w, &props, ISK_PL_P, &pr)) != 0)
		return rc;
	wr_u8(&w, 1);
	wr_u8(&w, ISK_PROTO_ISAKMP);
	wr_u8(&w, 0);
	wr_u8(&w, (uint8_t)PROBE_NXF);
	isk_chain_init(&xfs);
	for (i = 0; i < PROBE_NXF; i++) {
		const uint16_t *x = probe_xf[i];

		if ((rc = isk_pl_open(&w, &xfs, ISK_PL_T, &xf)) != 0)
			return rc;
		wr_u8(&w, (uint8_t)(i + 1));
		wr_u8(&w, ISK_KEY_IKE);
		wr_u16(&w, 0);
		if ((rc = isk_attr_tv(&w, ISK_A1_ENC, x[0])) != 0 ||
		    (x[1] != 0 && (rc = isk_attr_tv(&w, ISK_A1_KEYLEN,
		    x[1])) != 0) ||
		    (rc = isk_attr_tv(&w, ISK_A1_HASH, x[2])) != 0 ||
		    (rc = isk_attr_tv(&w, ISK_A1_AUTH, x[3])) != 0 ||
		    (rc = isk_attr_tv(&w, ISK_A1_GROUP, x[4])) != 0 ||
		    (rc = isk_attr_tv(&w, ISK_A1_LIFE_TYPE,
		    ISK_LIFE_SECONDS)) != 0 ||
		    (rc = isk_attr_tv(&w, ISK_A1_LIFE_DUR, 28800)) != 0 ||
		    (rc = isk_pl_close(&w, xf)) != 0)
			return rc;
	}
	if ((rc = isk_pl_close(&w, pr)) != 0 ||
	    (rc = isk_pl_close(&w, sapos)) != 0 ||
	    (rc = isk_hdr_close(&w, 0)) != 0)
		return rc;
	if ((rc = wr_error(&w)) != 0)
		return rc;
	*len = w.len;
	return 0;
}

/* The suite of the transform the peer chose (its attributes). */
static void
probe_chosen(const struct isk_xform *x, char *what, size_t cap)
{
	uint64_t v[ISK_A1_KEYLEN + 1] = { 0 };
	struct isk_attr a;
	struct rd r;

	rd_init(&r, x->attrs.p, x->attrs.len);
	while (isk_attr_next(&r, &a) == 0)
		if (a.type <= ISK_A1_KEYLEN && isk_attr_num(&a, &v[a.type]) !=
		    0)
			v[a.type] = 0;
	snprintf(what, cap, "Main Mode answer: the peer chose %s%s%.0llu, %s, "
	    "%s, DH group %llu", v[ISK_A1_ENC] == ISK_ENC_AES ? "AES" :
	    v[ISK_A1_ENC] == ISK_ENC_3DES ? "3DES" : "encryption ",
	    v[ISK_A1_ENC] == ISK_ENC_AES ? "-" : "",
	    (unsigned long long)(v[ISK_A1_ENC] == ISK_ENC_AES ?
	    v[ISK_A1_KEYLEN] : v[ISK_A1_ENC] == ISK_ENC_3DES ? 0 :
	    v[ISK_A1_ENC]),
	    v[ISK_A1_HASH] == ISK_HASH_SHA1 ? "SHA1" :
	    v[ISK_A1_HASH] == ISK_HASH_SHA256 ? "SHA256" :
	    v[ISK_A1_HASH] == ISK_HASH_MD5 ? "MD5" : "another hash",
	    v[ISK_A1_AUTH] == ISK_AUTH_PSK ? "preshared key" :
	    v[ISK_A1_AUTH] == ISK_AUTH_RSA ? "certificate" :
	    v[ISK_A1_AUTH] == ISK_AUTH_GSS ? "Kerberos" : "another method",
	    (unsigned long long)v[ISK_A1_GROUP]);
}

int
ike_probe_answer(const uint8_t *p, size_t len, const uint8_t cky[8],
    char *what, size_t cap)
{
	static struct isk_sa sa;	/* large; the CLI is single-threaded */
	const struct isk_payload *pl;
	struct isk_notify n;
	struct isk_msg m;
	struct isk_hdr h;
	struct pa_bytes body;
	size_t from = 0;

	if (isk_parse_hdr(p, len, &h, &body) != 0 ||
	    memcmp(h.cky_i, cky, 8) != 0)
		return 0;
	if ((h.flags & 1) != 0) {
		snprintf(what, cap, "an encrypted answer (%s exchange)",
		    isk_exch_name(h.exch));
		return 1;
	}
	if (isk_parse_chain(body, h.np, false, &m) != 0) {
		snprintf(what, cap, "an IKE answer (%s exchange) whose payloads "
		    "we cannot read", isk_exch_name(h.exch));
		return 1;
	}
	if ((pl = isk_find(&m, ISK_PL_N, &from)) != NULL &&
	    isk_parse_notify(pl->body, &n) == 0) {
		snprintf(what, cap, "notify %s (%u): IKE runs there, but "
		    "refused the probe's offers", isk_notify_name(n.type),
		    (unsigned)n.type);
		return 1;
	}
	from = 0;
	if (h.exch == ISK_EXCH_MAIN && (pl = isk_find(&m, ISK_PL_SA, &from)) !=
	    NULL && isk_parse_sa(pl->body, &sa) == 0 && sa.nxf == 1) {
		probe_chosen(&sa.xf[0], what, cap);
		return 1;
	}
	snprintf(what, cap, "an IKE answer (%s exchange)",
	    isk_exch_name(h.exch));
	return 1;
}
