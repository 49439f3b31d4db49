/*
 * The ipsecData codec of [MS-GPIPSEC] 2.2.1. See gpipsec.h for the API and
 * docs/directory.md for the readings chosen where the specification is
 * ambiguous; each reading is also stated where the code applies it.
 *
 * Several open points of the specification were settled from the default
 * domain policies that Windows wrote (shipped in Samba's provision.ldif,
 * decoded by tests/unit/test_gpipsec_samba.c):
 *  - ESP cipher ids are 0 none, 1 DES, 3 3DES ("Require Security" offers
 *    3DES/SHA1, 3DES/MD5, DES/SHA1, DES/MD5 and is written 3,3,1,1).
 *  - PFS-QM-Required 0 means "no PFS" (no default action uses PFS and all
 *    write 0); we write 1 for PFS.
 *  - "Allow fallback to unsecured communication" is an offer with zero
 *    algorithms and zero lifetimes, written last ("Request Security
 *    (Optional)" has it, "Require Security" does not).
 *  - The 8 bytes after each algorithm id (IKE method and QM slot) are a
 *    key length (64) and a number of rounds (8 for ciphers, 0 for IKE
 *    hashes); the spec's "u64 algorithm id" is a u32 id plus key length.
 *  - Windows leaves uninitialised fill (0xCD) in unused fields, including
 *    the ISAKMP method's PFS-Identity-Required: those fields are ignored
 *    on read and kept only through the pol_gp_keep original blob.
 *  - ipsecDataType is 598 (0x256) in Windows-written objects.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gpipsec.h"
#include "model.h"
#include "pa_secret.h"

/* Type GUIDs in their binary (blob) layout, index = enum pol_gp_type. */
static const struct pa_guid gp_type_guids[POL_GP_NTYPES] = {
	{ { 0x63, 0x21, 0x20, 0x22, 0x4C, 0x4F, 0xD1, 0x11,
	    0x86, 0x3B, 0x00, 0xA0, 0x24, 0x8D, 0x30, 0x21 } },
	{ { 0xB8, 0x20, 0xDC, 0x80, 0xC8, 0x2E, 0xD1, 0x11,
	    0xA8, 0x9E, 0x00, 0xA0, 0x24, 0x8D, 0x30, 0x21 } },
	{ { 0x00, 0xAC, 0xBB, 0x11, 0x8D, 0x49, 0xD1, 0x11,
	    0x86, 0x39, 0x00, 0xA0, 0x24, 0x8D, 0x30, 0x21 } },
	{ { 0xB9, 0x20, 0xDC, 0x80, 0xC8, 0x2E, 0xD1, 0x11,
	    0xA8, 0x9E, 0x00, 0xA0, 0x24, 0x8D, 0x30, 0x21 } },
	{ { 0xB5, 0x20, 0xDC, 0x80, 0xC8, 0x2E, 0xD1, 0x11,
	    0xA8, 0x9E, 0x00, 0xA0, 0x24, 0x8D, 0x30, 0x21 } },
};

/* {35FECD3D-AE29-4373-8A6A-C5D8FAB2FB08}: the Vista filter section. */
static const uint8_t gp_filter_v2_guid[16] = {
	0x3D, 0xCD, 0xFE, 0x35, 0x29, 0xAE, 0x73, 0x43,
	0x8A, 0x6A, 0xC5, 0xD8, 0xFA, 0xB2, 0xFB, 0x08
};

static const char *const gp_classes[POL_GP_NTYPES] = {
	"ipsecPolicy", "ipsecISAKMPPolicy", "ipsecNFA",
	"ipsecNegotiationPolicy", "ipsecFilter"
};

/* {62F49E10-6C37-11D1-864C-14A300000000} */
const struct pa_guid pol_gp_negtype_standard = { {
	0x10, 0x9E, 0xF4, 0x62, 0x37, 0x6C, 0xD1, 0x11,
	0x86, 0x4C, 0x14, 0xA3, 0x00, 0x00, 0x00, 0x00 } };
/* {62F49E13-6C37-11D1-864C-14A300000000} */
const struct pa_guid pol_gp_negtype_default = { {
	0x13, 0x9E, 0xF4, 0x62, 0x37, 0x6C, 0xD1, 0x11,
	0x86, 0x4C, 0x14, 0xA3, 0x00, 0x00, 0x00, 0x00 } };
/* {3F91A819-7647-11D1-864D-D46A00000000} */
const struct pa_guid pol_gp_action_block = { {
	0x19, 0xA8, 0x91, 0x3F, 0x47, 0x76, 0xD1, 0x11,
	0x86, 0x4D, 0xD4, 0x6A, 0x00, 0x00, 0x00, 0x00 } };
/* {8A171DD2-77E3-11D1-8659-A04F00000000} */
const struct pa_guid pol_gp_action_permit = { {
	0xD2, 0x1D, 0x17, 0x8A, 0xE3, 0x77, 0xD1, 0x11,
	0x86, 0x59, 0xA0, 0x4F, 0x00, 0x00, 0x00, 0x00 } };
/* {8A171DD3-77E3-11D1-8659-A04F00000000} */
const struct pa_guid pol_gp_action_secure = { {
	0xD3, 0x1D, 0x17, 0x8A, 0xE3, 0x77, 0xD1, 0x11,
	0x86, 0x59, 0xA0, 0x4F, 0x00, 0x00, 0x00, 0x00 } };
/* {3F91A81A-7647-11D1-864D-D46A00000000} */
const struct pa_guid pol_gp_action_inpass = { {
	0x1A, 0xA8, 0x91, 0x3F, 0x47, 0x76, 0xD1, 0x11,
	0x86, 0x4D, 0xD4, 0x6A, 0x00, 0x00, 0x00, 0x00 } };

/* Interface-Type of the NFA blob. */
#define GP_IF_ALL	0xFFFFFFFDU
#define GP_IF_LAN	0xFFFFFFFEU
#define GP_IF_REMOTE	0xFFFFFFFFU

#define GP_OAKLEY_GROUP14	0x10000001U
#define GP_ISAKMP_HDR		64	/* payload bytes before the methods */
#define GP_ISAKMP_METHOD	64
#define GP_QM_OFFER		80
#define GP_QM_SLOT		20
#define GP_QM_SLOTS		3
#define GP_FILTER_FIXED		52	/* legacy filter without its 3 strings */
#define GP_STR_MAX		(64 * 1024)
#define GP_BLOB_MAX		(64U * 1024 * 1024)

static void	gp_errf(struct pol_err *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
gp_errf(struct pol_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
}

const char *
pol_gp_class(enum pol_gp_type t)
{
	if ((unsigned)t >= POL_GP_NTYPES)
		return "?";
	return gp_classes[t];
}

const struct pa_guid *
pol_gp_type_guid(enum pol_gp_type t)
{
	if ((unsigned)t >= POL_GP_NTYPES)
		return NULL;
	return &gp_type_guids[t];
}

int
pol_gp_blob_type(const uint8_t *p, size_t len)
{
	int i;

	if (p == NULL || len < 16)
		return -1;
	for (i = 0; i < POL_GP_NTYPES; i++)
		if (memcmp(p, gp_type_guids[i].b, 16) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* UTF-16LE <-> UTF-8                                                  */

int
pol_gp_utf16_to_utf8(struct pa_bytes in, char **out)
{
	struct rd r;
	char *s;
	size_t n = 0;
	uint16_t u, lo;
	uint32_t cp;

	*out = NULL;
	if (in.len % 2 != 0)
		return PA_E_FORMAT;
	/* At most 3 UTF-8 bytes per UTF-16 unit, plus the NUL. */
	if ((s = malloc(in.len / 2 * 3 + 1)) == NULL)
		return PA_E_NOMEM;
	rd_init(&r, in.p, in.len);
	while (rd_left(&r) >= 2) {
		if (rd_u16le(&r, &u) != 0)
			break;
		if (u == 0)
			break;
		cp = u;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (rd_u16le(&r, &lo) != 0 || lo < 0xDC00 ||
			    lo > 0xDFFF) {
				free(s);
				return PA_E_FORMAT;
			}
			cp = 0x10000 + (((uint32_t)u - 0xD800) << 10) +
			    ((uint32_t)lo - 0xDC00);
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			free(s);
			return PA_E_FORMAT;
		}
		if (cp < 0x80)
			s[n++] = (char)cp;
		else if (cp < 0x800) {
			s[n++] = (char)(0xC0 | cp >> 6);
			s[n++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			s[n++] = (char)(0xE0 | cp >> 12);
			s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			s[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			/* A surrogate pair took 2 units: 4 bytes fit in 6. */
			s[n++] = (char)(0xF0 | cp >> 18);
			s[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			s[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	s[n] = '\0';
	*out = s;
	return 0;
}

/* Write s (UTF-8, may be NULL = empty) as length-prefixed UTF-16LE with a
 * NUL unit counted in the length: the form every observed writer uses,
 * also for empty strings ("02 00 00 00 00 00"). */
static int
gp_wr_str(struct wr *w, const char *s, struct pol_err *err)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t off, start;
	uint32_t cp;
	int extra;

	if (wr_reserve(w, 4, &off) != 0)
		return wr_error(w);
	start = w->len;
	while (*p != '\0') {
		if (*p < 0x80) {
			cp = *p++;
			extra = 0;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = *p++ & 0x1F;
			extra = 1;
		} else if ((*p & 0xF0) == 0xE0) {
			cp = *p++ & 0x0F;
			extra = 2;
		} else if ((*p & 0xF8) == 0xF0) {
			cp = *p++ & 0x07;
			extra = 3;
		} else
			goto bad;
		for (; extra > 0; extra--) {
			if ((*p & 0xC0) != 0x80)
				goto bad;
			cp = cp << 6 | (*p++ & 0x3F);
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			wr_u16le(w, (uint16_t)(0xD800 | cp >> 10));
			wr_u16le(w, (uint16_t)(0xDC00 | (cp & 0x3FF)));
		} else
			wr_u16le(w, (uint16_t)cp);
	}
	wr_u16le(w, 0);
	if (wr_error(w) != 0)
		return wr_error(w);
	return wr_patch_u32le(w, off, (uint32_t)(w->len - start));
bad:
	gp_errf(err, "a string is not valid UTF-8");
	return PA_E_INVAL;
}

/* Read a length-prefixed UTF-16LE string; empty (length 0, or a lone
 * NUL: readers must accept both) gives NULL. */
static int
gp_rd_str(struct rd *r, char **out, const char *field, struct pol_err *err)
{
	struct pa_bytes b;
	uint32_t len;
	int rc;

	*out = NULL;
	if ((rc = rd_u32le(r, &len)) != 0) {
		gp_errf(err, "%s: truncated length", field);
		return rc;
	}
	if (len > rd_left(r)) {
		gp_errf(err, "%s: length %u exceeds the %zu bytes left",
		    field, len, rd_left(r));
		return PA_E_FORMAT;
	}
	if (len % 2 != 0 || len > GP_STR_MAX) {
		gp_errf(err, "%s: invalid UTF-16 length %u", field, len);
		return PA_E_FORMAT;
	}
	if ((rc = rd_bytes(r, len, &b)) != 0)
		return rc;
	if ((rc = pol_gp_utf16_to_utf8(b, out)) != 0) {
		gp_errf(err, "%s: invalid UTF-16 text", field);
		return rc;
	}
	if ((*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Framing                                                             */

/*
 * Check the type GUID and Data-Length. *body receives everything after
 * the Data-Length field; *declared the Data-Length. A Data-Length larger
 * than what follows is a lie and rejected here; how it must relate to the
 * structure is checked per type.
 */
static int
gp_frame(struct pa_bytes blob, enum pol_gp_type t, struct rd *body,
    uint32_t *declared, struct pol_err *err)
{
	struct rd r;
	uint8_t g[16];
	int other;

	rd_init(&r, blob.p, blob.len);
	if (blob.len > GP_BLOB_MAX) {
		gp_errf(err, "ipsecData of %zu bytes is too large", blob.len);
		return PA_E_FORMAT;
	}
	if (rd_copy(&r, g, sizeof(g)) != 0 || rd_u32le(&r, declared) != 0) {
		gp_errf(err, "ipsecData truncated in its header (%zu bytes)",
		    blob.len);
		return PA_E_SHORT;
	}
	if (memcmp(g, gp_type_guids[t].b, 16) != 0) {
		other = pol_gp_blob_type(g, sizeof(g));
		if (other >= 0)
			gp_errf(err, "ipsecData is an %s blob, expected %s",
			    gp_classes[other], gp_classes[t]);
		else
			gp_errf(err, "ipsecData has an unknown type GUID, "
			    "expected %s", gp_classes[t]);
		return PA_E_FORMAT;
	}
	if (*declared > rd_left(&r)) {
		gp_errf(err, "Data-Length %u exceeds the %zu bytes present",
		    *declared, rd_left(&r));
		return PA_E_SHORT;
	}
	*body = r;
	return 0;
}

/*
 * For the fixed-structure blobs (policy, ISAKMP, negotiation policy) the
 * Data-Length covers the structure exactly; after it comes the one unused
 * byte. Reading: a missing unused byte is tolerated (the spec's advice),
 * anything more is trailing data and rejected.
 */
static int
gp_fixed_end(const struct rd *payload, size_t after, uint32_t declared,
    struct pol_err *err)
{
	if (!rd_empty(payload)) {
		gp_errf(err, "Data-Length %u is larger than the structure "
		    "(%zu bytes unused)", declared, rd_left(payload));
		return PA_E_TRAILING;
	}
	if (after > 1) {
		gp_errf(err, "%zu unexpected bytes after Data-Length %u",
		    after, declared);
		return PA_E_TRAILING;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* ipsecPolicy                                                         */

int
pol_gp_decode_policy(struct pa_bytes blob, struct pol_policy *p,
    struct pol_err *err)
{
	struct rd body, pl;
	uint32_t declared, poll;
	size_t after;
	int rc;

	if ((rc = gp_frame(blob, POL_GP_POLICY, &body, &declared, err)) != 0)
		return rc;
	if (declared != 4) {
		gp_errf(err, "policy Data-Length is %u, must be 4", declared);
		return PA_E_FORMAT;
	}
	after = rd_left(&body) - declared;
	if ((rc = rd_sub(&body, declared, &pl)) != 0 ||
	    (rc = rd_u32le(&pl, &poll)) != 0)
		return rc;
	if ((rc = gp_fixed_end(&pl, after, declared, err)) != 0)
		return rc;
	/* Polling-Interval is in seconds; 0 means 180 minutes. */
	p->poll_sec = poll != 0 ? poll : POL_DEFAULT_POLL_SEC;
	if (poll == 0)
		p->defaulted |= POL_DEF_POLL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* ipsecISAKMPPolicy                                                   */

void
pol_gp_isakmp_clear(struct pol_isakmp *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k->methods);
	memset(k, 0, sizeof(*k));
}

/* New-DH-n / Random-Function: DH-2048 suites of [MS-GPIPSEC] 2.2.1.2.1. */
static int
gp_dh2048_suite(uint8_t v, struct pol_mm_method *m)
{
	switch (v) {
	case 1:
		m->cipher = POL_MM_DES;
		m->hash = POL_INTEG_MD5;
		break;
	case 2:
		m->cipher = POL_MM_DES;
		m->hash = POL_INTEG_SHA1;
		break;
	case 3:
		m->cipher = POL_MM_3DES;
		m->hash = POL_INTEG_MD5;
		break;
	case 4:
		m->cipher = POL_MM_3DES;
		m->hash = POL_INTEG_SHA1;
		break;
	default:
		return PA_E_FORMAT;
	}
	m->dh_group = POL_DH_MODP2048;
	return 0;
}

static int
gp_rd_method(struct rd *r, size_t i, struct pol_mm_method *m,
    struct pol_err *err)
{
	uint32_t cipher, hash, group, qm, kb, secs, u;
	uint8_t rnd;
	int rc;

	/*
	 * Layout: versions and fill (4), cipher id u32, key length u32,
	 * rounds u32, hash id u32, key length u32, three u32 unused, the
	 * Random-Function byte, 7 unused, Oakley-Group, QM-Limit, KB, secs,
	 * PFS-Identity-Required. Unused and fill bytes are ignored (Windows
	 * leaves 0xCD in them, PFS-Identity-Required included).
	 */
	if ((rc = rd_skip(r, 4)) != 0 || (rc = rd_u32le(r, &cipher)) != 0 ||
	    (rc = rd_skip(r, 8)) != 0 || (rc = rd_u32le(r, &hash)) != 0 ||
	    (rc = rd_skip(r, 16)) != 0 || (rc = rd_u8(r, &rnd)) != 0 ||
	    (rc = rd_skip(r, 7)) != 0 || (rc = rd_u32le(r, &group)) != 0 ||
	    (rc = rd_u32le(r, &qm)) != 0 || (rc = rd_u32le(r, &kb)) != 0 ||
	    (rc = rd_u32le(r, &secs)) != 0 || (rc = rd_u32le(r, &u)) != 0) {
		gp_errf(err, "security method %zu truncated", i + 1);
		return rc;
	}
	m->life_sec = secs;
	m->life_kb = kb;
	m->qm_limit = qm;
	if (rnd != 0) {
		/* Random-Function overrides cipher, hash and group. */
		if (gp_dh2048_suite(rnd, m) != 0) {
			gp_errf(err, "security method %zu: unknown "
			    "Random-Function %u", i + 1, rnd);
			return PA_E_FORMAT;
		}
		return 0;
	}
	/* Reading: IKE cipher 2 and 3 are both 3DES per the spec's table;
	 * Windows writes 3. 0 (none) cannot protect Main Mode: rejected. */
	switch (cipher) {
	case 1:
		m->cipher = POL_MM_DES;
		break;
	case 2:
	case 3:
		m->cipher = POL_MM_3DES;
		break;
	default:
		gp_errf(err, "security method %zu: unknown encryption "
		    "algorithm %u", i + 1, cipher);
		return PA_E_FORMAT;
	}
	switch (hash) {
	case 1:
		m->hash = POL_INTEG_MD5;
		break;
	case 2:
		m->hash = POL_INTEG_SHA1;
		break;
	default:
		gp_errf(err, "security method %zu: unknown hash algorithm %u",
		    i + 1, hash);
		return PA_E_FORMAT;
	}
	switch (group) {
	case 1:
		m->dh_group = POL_DH_MODP768;
		break;
	case 2:
		m->dh_group = POL_DH_MODP1024;
		break;
	case GP_OAKLEY_GROUP14:
		m->dh_group = POL_DH_MODP2048;
		break;
	default:
		gp_errf(err, "security method %zu: unknown Oakley group "
		    "0x%x", i + 1, group);
		return PA_E_FORMAT;
	}
	return 0;
}

int
pol_gp_decode_isakmp(struct pa_bytes blob, struct pol_isakmp *k,
    struct pol_err *err)
{
	struct pol_isakmp t;
	struct rd body, pl;
	uint32_t declared, pfs, opts, qm, life, n;
	uint8_t newdh[4];
	size_t i, nnew = 0, j, after;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = gp_frame(blob, POL_GP_ISAKMP, &body, &declared, err)) != 0)
		return rc;
	after = rd_left(&body) - declared;
	if ((rc = rd_sub(&body, declared, &pl)) != 0)
		return rc;
	/* Instance GUID: the spec says it equals the object's GUID, but
	 * Windows' default objects carry another one; it is not used. */
	if ((rc = rd_skip(&pl, 16 + 4)) != 0 ||
	    (rc = rd_u32le(&pl, &pfs)) != 0 ||
	    (rc = rd_u32le(&pl, &opts)) != 0 ||
	    (rc = rd_copy(&pl, newdh, sizeof(newdh))) != 0 ||
	    (rc = rd_u32le(&pl, &qm)) != 0 ||
	    (rc = rd_u32le(&pl, &life)) != 0 ||
	    (rc = rd_skip(&pl, 20)) != 0 || (rc = rd_u32le(&pl, &n)) != 0) {
		gp_errf(err, "ISAKMP header truncated (Data-Length %u)",
		    declared);
		return PA_E_SHORT;
	}
	if (n > rd_left(&pl) / GP_ISAKMP_METHOD) {
		gp_errf(err, "Security-Method-Count %u needs %llu bytes, "
		    "%zu present", n,
		    (unsigned long long)n * GP_ISAKMP_METHOD, rd_left(&pl));
		return PA_E_SHORT;
	}
	for (i = 0; i < 4 && newdh[i] != 0; i++)
		nnew++;
	for (j = nnew; j < 4; j++)
		if (newdh[j] != 0) {
			gp_errf(err, "New-DH-%zu set after an unused one",
			    j + 1);
			return PA_E_FORMAT;
		}
	if (n + nnew == 0) {
		gp_errf(err, "ISAKMP policy has no security method");
		return PA_E_FORMAT;
	}
	t.master_pfs = pfs != 0;
	t.options = opts;
	t.qm_per_mm = qm;
	t.mm_life_sec = life != 0 ? life : POL_DEFAULT_MM_LIFE_SEC;
	t.defaulted = life != 0 ? 0 : POL_DEF_MM_LIFE;
	if ((t.methods = calloc(n + nnew, sizeof(*t.methods))) == NULL)
		return PA_E_NOMEM;
	/* The New-DH suites are offered first, in order ([MS-GPIPSEC]). */
	for (i = 0; i < nnew; i++) {
		if (gp_dh2048_suite(newdh[i], &t.methods[i]) != 0) {
			gp_errf(err, "unknown New-DH-%zu value %u", i + 1,
			    newdh[i]);
			rc = PA_E_FORMAT;
			goto out;
		}
		t.methods[i].life_sec = t.mm_life_sec;
		t.methods[i].qm_limit = qm;
	}
	t.nmethods = nnew;
	for (i = 0; i < n; i++) {
		if ((rc = gp_rd_method(&pl, i, &t.methods[t.nmethods],
		    err)) != 0)
			goto out;
		t.nmethods++;
	}
	if ((rc = gp_fixed_end(&pl, after, declared, err)) != 0)
		goto out;
	t.id = k->id;
	t.name = k->name;
	*k = t;
	return 0;
out:
	free(t.methods);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ipsecNFA                                                            */

void
pol_gp_rule_clear(struct pol_rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nauth; i++) {
		free(r->auth[i].ca_dn);
		pa_secret_free(r->auth[i].psk);
		free(r->auth[i].psk_ref);
	}
	free(r->auth);
	free(r->name);
	free(r->description);
	memset(r, 0, sizeof(*r));
}

static int
gp_rd_auth(struct rd *r, size_t i, struct pol_auth *a, struct pol_err *err)
{
	struct pa_bytes b;
	uint32_t type, len;
	char *s = NULL;
	int rc;

	if ((rc = rd_u32le(r, &type)) != 0 || (rc = rd_u32le(r, &len)) != 0) {
		gp_errf(err, "auth method %zu truncated", i + 1);
		return rc;
	}
	if (len > rd_left(r)) {
		gp_errf(err, "auth method %zu: length %u exceeds the %zu "
		    "bytes left", i + 1, len, rd_left(r));
		return PA_E_SHORT;
	}
	if ((rc = rd_bytes(r, len, &b)) != 0)
		return rc;
	switch (type) {
	case POL_AUTH_PSK:
		/* The key in plain UTF-16LE with its NUL; kept as UTF-8. */
		if ((rc = pol_gp_utf16_to_utf8(b, &s)) != 0) {
			gp_errf(err, "auth method %zu: preshared key is not "
			    "valid UTF-16", i + 1);
			return rc;
		}
		if (s[0] == '\0') {
			free(s);
			gp_errf(err, "auth method %zu: empty preshared key",
			    i + 1);
			return PA_E_FORMAT;
		}
		a->psk = pa_secret_new(s, strlen(s));
		pa_wipe(s, strlen(s));
		free(s);
		if (a->psk == NULL)
			return PA_E_NOMEM;
		break;
	case POL_AUTH_CERT:
		if ((rc = pol_gp_utf16_to_utf8(b, &a->ca_dn)) != 0) {
			gp_errf(err, "auth method %zu: CA name is not valid "
			    "UTF-16", i + 1);
			return rc;
		}
		break;
	case POL_AUTH_KERBEROS:
		/* Two zero bytes; the content is not used. */
		break;
	default:
		gp_errf(err, "auth method %zu: unknown type %u", i + 1, type);
		return PA_E_FORMAT;
	}
	a->kind = (enum pol_auth_kind)type;
	return 0;
}

/* The Vista+ trailer: Alt-Auth-Method-Id1 (16 x 0x01), a count and that
 * many {type, length, data}; whatever follows (Id2, flags, IPv6 tunnel)
 * is not used by the model and skipped up to the final byte. */
static int
gp_rd_nfa_trailer(struct rd *r, struct pol_err *err)
{
	static const uint8_t id1[16] = {
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	struct pa_bytes b;
	uint32_t n, type, len, i;

	if (rd_left(r) <= 1)
		return 0;
	if (rd_bytes(r, 16, &b) != 0 || memcmp(b.p, id1, 16) != 0) {
		gp_errf(err, "unknown data after the rule's base part");
		return PA_E_TRAILING;
	}
	if (rd_u32le(r, &n) != 0) {
		gp_errf(err, "rule trailer truncated");
		return PA_E_SHORT;
	}
	for (i = 0; i < n; i++) {
		if (rd_u32le(r, &type) != 0 || rd_u32le(r, &len) != 0 ||
		    rd_skip(r, len) != 0) {
			gp_errf(err, "rule trailer: alternate auth method %u "
			    "truncated or lies about its length", i + 1);
			return PA_E_SHORT;
		}
	}
	/* Keep the final byte for the framing check. */
	if (rd_left(r) > 1 && rd_skip(r, rd_left(r) - 1) != 0)
		return PA_E_SHORT;
	return 0;
}

int
pol_gp_decode_nfa(struct pa_bytes blob, struct pol_rule *out,
    struct pol_err *err)
{
	struct pol_rule t;
	struct rd body;
	uint32_t declared, n, iftype, istunnel, isactive;
	size_t i, base;
	uint8_t tun[4];
	char *s = NULL;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = gp_frame(blob, POL_GP_NFA, &body, &declared, err)) != 0)
		return rc;
	if ((rc = rd_u32le(&body, &n)) != 0) {
		gp_errf(err, "Auth-Method-Count truncated");
		goto out;
	}
	if (n == 0 || n > rd_left(&body) / 8) {
		gp_errf(err, "Auth-Method-Count %u is impossible in %zu bytes",
		    n, rd_left(&body));
		rc = PA_E_FORMAT;
		goto out;
	}
	if ((t.auth = calloc(n, sizeof(*t.auth))) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = gp_rd_auth(&body, i, &t.auth[i], err)) != 0)
			goto out;
		t.nauth++;
	}
	if ((rc = rd_u32le(&body, &iftype)) != 0) {
		gp_errf(err, "Interface-Type truncated");
		goto out;
	}
	if ((rc = gp_rd_str(&body, &s, "Interface-Name", err)) != 0)
		goto out;
	free(s);
	s = NULL;
	if ((rc = rd_copy(&body, tun, sizeof(tun))) != 0 ||
	    (rc = rd_u32le(&body, &istunnel)) != 0 ||
	    (rc = rd_u32le(&body, &isactive)) != 0) {
		gp_errf(err, "rule truncated at the tunnel fields");
		goto out;
	}
	if ((rc = gp_rd_str(&body, &s, "Tunnel-End-Point-Name", err)) != 0)
		goto out;
	free(s);
	s = NULL;
	base = blob.len - 20 - rd_left(&body);
	/*
	 * Reading: the spec counts the base part only in Data-Length;
	 * ipsec2k counted its trailer too. Accept any Data-Length from the
	 * base part up to everything present.
	 */
	if (declared < base) {
		gp_errf(err, "Data-Length %u is shorter than the rule's %zu "
		    "bytes", declared, base);
		rc = PA_E_FORMAT;
		goto out;
	}
	if ((rc = gp_rd_nfa_trailer(&body, err)) != 0)
		goto out;
	if (rd_left(&body) > 1) {
		gp_errf(err, "%zu unexpected bytes at the end", rd_left(&body));
		rc = PA_E_TRAILING;
		goto out;
	}
	switch (iftype) {
	case GP_IF_ALL:
		t.conntype = POL_CONN_ALL;
		break;
	case GP_IF_LAN:
		t.conntype = POL_CONN_LAN;
		break;
	case GP_IF_REMOTE:
		t.conntype = POL_CONN_REMOTE;
		break;
	default:
		gp_errf(err, "unknown Interface-Type 0x%x", iftype);
		rc = PA_E_FORMAT;
		goto out;
	}
	if (istunnel != 0) {
		if (tun[0] == 0 && tun[1] == 0 && tun[2] == 0 && tun[3] == 0) {
			gp_errf(err, "tunnel rule without a tunnel address");
			rc = PA_E_FORMAT;
			goto out;
		}
		t.tunnel.family = AF_INET;
		memcpy(t.tunnel.a, tun, sizeof(tun));
	}
	t.active = isactive != 0;
	t.id = out->id;
	t.name = out->name;
	t.description = out->description;
	t.filterlist_id = out->filterlist_id;
	t.filteraction_id = out->filteraction_id;
	t.default_response = out->default_response;
	t.changed = out->changed;
	*out = t;
	return 0;
out:
	free(s);
	t.name = NULL;
	t.description = NULL;
	pol_gp_rule_clear(&t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ipsecNegotiationPolicy                                              */

void
pol_gp_filteraction_clear(struct pol_filteraction *fa)
{
	if (fa == NULL)
		return;
	free(fa->name);
	free(fa->description);
	free(fa->offers);
	memset(fa, 0, sizeof(*fa));
}

static int
gp_rd_slot(struct rd *r, size_t oi, size_t si, struct pol_qm_offer *o,
    struct pol_err *err)
{
	uint32_t alg, integ, type;
	int rc;

	/* id, ESP integrity, type, then key length and rounds (ignored). */
	if ((rc = rd_u32le(r, &alg)) != 0 || (rc = rd_u32le(r, &integ)) != 0 ||
	    (rc = rd_u32le(r, &type)) != 0 || (rc = rd_skip(r, 8)) != 0)
		return rc;
	if (type == 1) {		/* AH */
		if (o->ah)
			goto dup;
		o->ah = true;
		if (alg == 1)
			o->ah_integ = POL_INTEG_MD5;
		else if (alg == 2)
			o->ah_integ = POL_INTEG_SHA1;
		else {
			gp_errf(err, "offer %zu slot %zu: unknown AH "
			    "algorithm %u", oi + 1, si + 1, alg);
			return PA_E_FORMAT;
		}
		return 0;
	}
	if (type != 2) {
		gp_errf(err, "offer %zu slot %zu: unknown Offer-Type %u",
		    oi + 1, si + 1, type);
		return PA_E_FORMAT;
	}
	if (o->esp)
		goto dup;
	o->esp = true;
	/*
	 * Reading: ESP ciphers 0 none, 1 DES, 3 3DES, as Windows writes
	 * them (the spec's table says 1 null, 2 DES). 2 is ambiguous
	 * between the two readings and rejected rather than guessed.
	 */
	switch (alg) {
	case 0:
		o->esp_cipher = POL_ESP_NONE;
		break;
	case 1:
		o->esp_cipher = POL_ESP_DES;
		break;
	case 3:
		o->esp_cipher = POL_ESP_3DES;
		break;
	default:
		gp_errf(err, "offer %zu slot %zu: ESP cipher id %u is "
		    "ambiguous or unknown", oi + 1, si + 1, alg);
		return PA_E_FORMAT;
	}
	if (integ > 2) {
		gp_errf(err, "offer %zu slot %zu: unknown ESP integrity %u",
		    oi + 1, si + 1, integ);
		return PA_E_FORMAT;
	}
	o->esp_integ = (enum pol_integ)integ;
	if (o->esp_cipher == POL_ESP_NONE && o->esp_integ == POL_INTEG_NONE) {
		gp_errf(err, "offer %zu slot %zu: ESP with neither cipher nor "
		    "integrity", oi + 1, si + 1);
		return PA_E_FORMAT;
	}
	return 0;
dup:
	gp_errf(err, "offer %zu has two %s slots", oi + 1,
	    type == 1 ? "AH" : "ESP");
	return PA_E_FORMAT;
}

int
pol_gp_decode_negpol(struct pa_bytes blob, const struct pa_guid *type,
    const struct pa_guid *action, struct pol_filteraction *out,
    struct pol_err *err)
{
	struct pol_filteraction t;
	struct pol_qm_offer o;
	struct rd body, pl, slots;
	uint32_t declared, n, life, kb, opts, pfs, nalg;
	size_t i, j, after;
	int rc;

	memset(&t, 0, sizeof(t));
	if (action == NULL) {
		gp_errf(err, "iPSECNegotiationPolicyAction missing");
		return PA_E_FORMAT;
	}
	if (pa_guid_eq(action, &pol_gp_action_block))
		t.action = POL_ACT_BLOCK;
	else if (pa_guid_eq(action, &pol_gp_action_permit))
		t.action = POL_ACT_PERMIT;
	else if (pa_guid_eq(action, &pol_gp_action_secure))
		t.action = POL_ACT_NEGOTIATE;
	else if (pa_guid_eq(action, &pol_gp_action_inpass)) {
		t.action = POL_ACT_NEGOTIATE;
		t.inpass = true;
	} else {
		gp_errf(err, "unknown iPSECNegotiationPolicyAction");
		return PA_E_FORMAT;
	}
	if (type == NULL || pa_guid_eq(type, &pol_gp_negtype_standard))
		t.default_response = false;
	else if (pa_guid_eq(type, &pol_gp_negtype_default))
		t.default_response = true;
	else {
		gp_errf(err, "unknown iPSECNegotiationPolicyType");
		return PA_E_FORMAT;
	}
	if ((rc = gp_frame(blob, POL_GP_NEGPOL, &body, &declared, err)) != 0)
		return rc;
	after = rd_left(&body) - declared;
	if ((rc = rd_sub(&body, declared, &pl)) != 0)
		return rc;
	if ((rc = rd_u32le(&pl, &n)) != 0) {
		gp_errf(err, "Security-Offer-Count truncated");
		return rc;
	}
	if (n > rd_left(&pl) / GP_QM_OFFER) {
		gp_errf(err, "Security-Offer-Count %u needs %llu bytes, %zu "
		    "present", n, (unsigned long long)n * GP_QM_OFFER,
		    rd_left(&pl));
		return PA_E_SHORT;
	}
	if (n > 0 && (t.offers = calloc(n, sizeof(*t.offers))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < n; i++) {
		memset(&o, 0, sizeof(o));
		if ((rc = rd_u32le(&pl, &life)) != 0 ||
		    (rc = rd_u32le(&pl, &kb)) != 0 ||
		    (rc = rd_u32le(&pl, &opts)) != 0 ||
		    (rc = rd_u32le(&pl, &pfs)) != 0 ||
		    (rc = rd_u32le(&pl, &nalg)) != 0 ||
		    (rc = rd_sub(&pl, GP_QM_SLOT * GP_QM_SLOTS, &slots)) != 0)
			goto out;
		if (nalg == 0) {
			/* Fallback to clear: an offer with no algorithm. */
			t.soft = true;
			continue;
		}
		if (nalg > GP_QM_SLOTS) {
			gp_errf(err, "offer %zu: Algorithm-Offer-Count %u > 3",
			    i + 1, nalg);
			rc = PA_E_FORMAT;
			goto out;
		}
		for (j = 0; j < nalg; j++)
			if ((rc = gp_rd_slot(&slots, i, j, &o, err)) != 0)
				goto out;
		/* Reading: PFS-QM-Required non-zero = PFS (see the top). */
		o.pfs = pfs != 0;
		/* Lifetimes 0 (the default response rule) mean defaults. */
		o.life_sec = life != 0 ? life : POL_DEFAULT_QM_LIFE_SEC;
		o.life_kb = kb != 0 ? kb : POL_DEFAULT_QM_LIFE_KB;
		o.defaulted = (uint8_t)((life != 0 ? 0 : POL_DEF_QM_LIFE_SEC) |
		    (kb != 0 ? 0 : POL_DEF_QM_LIFE_KB));
		(void)opts;	/* MUST be 0; ignored on read */
		t.offers[t.noffers++] = o;
	}
	if ((rc = gp_fixed_end(&pl, after, declared, err)) != 0)
		goto out;
	/* Block and Permit carry no offers that mean anything. */
	if (t.action != POL_ACT_NEGOTIATE) {
		free(t.offers);
		t.offers = NULL;
		t.noffers = 0;
		t.soft = false;
	}
	t.id = out->id;
	t.name = out->name;
	t.description = out->description;
	t.changed = out->changed;
	*out = t;
	return 0;
out:
	free(t.offers);
	return rc;
}

const struct pa_guid *
pol_gp_negpol_action(const struct pol_filteraction *fa)
{
	switch (fa->action) {
	case POL_ACT_BLOCK:
		return &pol_gp_action_block;
	case POL_ACT_PERMIT:
		return &pol_gp_action_permit;
	default:
		return fa->inpass ? &pol_gp_action_inpass :
		    &pol_gp_action_secure;
	}
}

const struct pa_guid *
pol_gp_negpol_type(const struct pol_filteraction *fa)
{
	return fa->default_response ? &pol_gp_negtype_default :
	    &pol_gp_negtype_standard;
}

/* ------------------------------------------------------------------ */
/* ipsecFilter                                                         */

static void
gp_endpoint_clear(struct pol_endpoint *e)
{
	free(e->dns);
	free(e->resolved);
	memset(e, 0, sizeof(*e));
}

void
pol_gp_filterlist_clear(struct pol_filterlist *fl)
{
	size_t i;

	if (fl == NULL)
		return;
	for (i = 0; i < fl->nfilters; i++) {
		free(fl->filters[i].description);
		gp_endpoint_clear(&fl->filters[i].src);
		gp_endpoint_clear(&fl->filters[i].dst);
	}
	free(fl->filters);
	free(fl->name);
	free(fl->description);
	memset(fl, 0, sizeof(*fl));
}

/*
 * Legacy address and mask to an endpoint. Readings: address 0 with mask
 * 255.255.255.255 is "my IP address" (confirmed by Windows' "All IP
 * Traffic" list, Me -> Any); 0/0 is any. A DNS name, if present, wins and
 * the address is what it resolved to when the policy was authored.
 */
static int
gp_endpoint(char *dns, const uint8_t addr[4], const uint8_t mask[4],
    struct pol_endpoint *e, const char *side, size_t i, struct pol_err *err)
{
	static const uint8_t zero[4], ones[4] = { 255, 255, 255, 255 };
	struct pa_addr m;
	size_t k;

	memset(e, 0, sizeof(*e));
	if (dns != NULL) {
		/* Takes dns over on success only. */
		if (memcmp(addr, zero, 4) != 0) {
			if ((e->resolved = calloc(1, sizeof(*e->resolved))) ==
			    NULL)
				return PA_E_NOMEM;
			e->resolved->family = AF_INET;
			memcpy(e->resolved->a, addr, 4);
			e->nresolved = 1;
		}
		e->kind = POL_ADDR_DNS;
		e->dns = dns;
		return 0;
	}
	if (memcmp(addr, zero, 4) == 0 && memcmp(mask, ones, 4) == 0) {
		e->kind = POL_ADDR_ME;
		return 0;
	}
	if (memcmp(mask, zero, 4) == 0) {
		e->kind = POL_ADDR_ANY;
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.family = AF_INET;
	memcpy(m.a, mask, 4);
	e->prefix.addr.family = AF_INET;
	memcpy(e->prefix.addr.a, addr, 4);
	if (pa_mask_to_len(&m, &e->prefix.len) != 0) {
		gp_errf(err, "filter %zu: %s mask is not contiguous", i + 1,
		    side);
		return PA_E_FORMAT;
	}
	/* Host bits beyond the mask are cleared, as Windows matches. */
	for (k = 0; k < 4; k++)
		e->prefix.addr.a[k] &= mask[k];
	e->kind = e->prefix.len == 32 ? POL_ADDR_HOST : POL_ADDR_SUBNET;
	return 0;
}

static int
gp_rd_filter(struct rd *r, size_t i, struct pol_filter *f,
    struct pol_err *err)
{
	char *sdns = NULL, *ddns = NULL;
	uint8_t saddr[4], smask[4], daddr[4], dmask[4];
	uint32_t mirror, proto;
	uint16_t sport, dport, opts;
	uint8_t istunnel, special;
	char field[48];
	int rc;

	snprintf(field, sizeof(field), "filter %zu source DNS name", i + 1);
	if ((rc = gp_rd_str(r, &sdns, field, err)) != 0)
		goto out;
	snprintf(field, sizeof(field), "filter %zu destination DNS name",
	    i + 1);
	if ((rc = gp_rd_str(r, &ddns, field, err)) != 0)
		goto out;
	snprintf(field, sizeof(field), "filter %zu description", i + 1);
	if ((rc = gp_rd_str(r, &f->description, field, err)) != 0)
		goto out;
	if ((rc = rd_copy(r, f->id.b, 16)) != 0 ||
	    (rc = rd_u32le(r, &mirror)) != 0 ||
	    (rc = rd_copy(r, saddr, 4)) != 0 ||
	    (rc = rd_copy(r, smask, 4)) != 0 ||
	    (rc = rd_copy(r, daddr, 4)) != 0 ||
	    (rc = rd_copy(r, dmask, 4)) != 0 ||
	    (rc = rd_skip(r, 4)) != 0 ||	/* tunnel address: unused */
	    (rc = rd_u32le(r, &proto)) != 0 ||
	    (rc = rd_u16le(r, &sport)) != 0 ||
	    (rc = rd_u16le(r, &dport)) != 0 ||
	    (rc = rd_u8(r, &istunnel)) != 0 ||
	    (rc = rd_u8(r, &special)) != 0 ||
	    (rc = rd_u16le(r, &opts)) != 0) {
		gp_errf(err, "filter %zu truncated", i + 1);
		goto out;
	}
	if (proto > 255) {
		gp_errf(err, "filter %zu: protocol %u out of range", i + 1,
		    proto);
		rc = PA_E_FORMAT;
		goto out;
	}
	/* DNS/WINS/DHCP/gateway markers name addresses only the host knows:
	 * not expressible in the model, so not silently dropped either. */
	if (special != 0) {
		gp_errf(err, "filter %zu: special server filter 0x%02x is not "
		    "supported", i + 1, special);
		rc = PA_E_NOTSUP;
		goto out;
	}
	(void)istunnel;	/* the rule (NFA) carries the tunnel */
	(void)opts;	/* MUST be 0; ignored */
	if ((rc = gp_endpoint(sdns, saddr, smask, &f->src, "source", i,
	    err)) != 0)
		goto out;
	sdns = NULL;
	if ((rc = gp_endpoint(ddns, daddr, dmask, &f->dst, "destination", i,
	    err)) != 0)
		goto out;
	ddns = NULL;
	f->mirrored = mirror != 0;
	f->proto = (uint8_t)proto;
	f->sport = sport;
	f->dport = dport;
	return 0;
out:
	free(sdns);
	free(ddns);
	return rc;
}

int
pol_gp_decode_filter(struct pa_bytes blob, struct pol_filterlist *out,
    struct pol_err *err)
{
	struct pol_filterlist t;
	struct pa_bytes g;
	struct rd body, peek;
	uint32_t declared, n, len2, n11, n2;
	size_t i, base;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = gp_frame(blob, POL_GP_FILTER, &body, &declared, err)) != 0)
		return rc;
	if ((rc = rd_u32le(&body, &n)) != 0) {
		gp_errf(err, "Number-Of-Filters truncated");
		return rc;
	}
	/* Each filter is at least its fixed part and three lengths. */
	if (n > rd_left(&body) / (GP_FILTER_FIXED + 12)) {
		gp_errf(err, "Number-Of-Filters %u is impossible in %zu bytes",
		    n, rd_left(&body));
		return PA_E_SHORT;
	}
	if (n > 0 && (t.filters = calloc(n, sizeof(*t.filters))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < n; i++) {
		if ((rc = gp_rd_filter(&body, i, &t.filters[i], err)) != 0) {
			/* free what the failed filter holds */
			t.nfilters = i + 1;
			goto out;
		}
		t.nfilters++;
	}
	base = blob.len - 20 - rd_left(&body);
	if (declared < base) {
		gp_errf(err, "Data-Length %u is shorter than the %u filters "
		    "(%zu bytes)", declared, n, base);
		rc = PA_E_FORMAT;
		goto out;
	}
	/*
	 * Reading: the Vista section follows the legacy filters, inside or
	 * outside Data-Length1, with the unused byte at the very end. Its
	 * filters (IPv6, ranges) are not in the model yet: a V2 section that
	 * holds filters is refused rather than half applied.
	 */
	peek = body;
	if (rd_bytes(&peek, 16, &g) == 0 &&
	    memcmp(g.p, gp_filter_v2_guid, 16) == 0) {
		if ((rc = rd_bytes(&body, 16, &g)) != 0 ||
		    (rc = rd_u32le(&body, &len2)) != 0 ||
		    (rc = rd_u32le(&body, &n11)) != 0 ||
		    (rc = rd_u32le(&body, &n2)) != 0) {
			gp_errf(err, "the Vista filter section is truncated");
			goto out;
		}
		(void)len2;
		if (n2 != 0 || (n11 != 0 && n11 != n)) {
			gp_errf(err, "the Vista filter section (%u filters) is "
			    "not supported", n2);
			rc = PA_E_NOTSUP;
			goto out;
		}
	}
	if (rd_left(&body) > 1) {
		gp_errf(err, "%zu unexpected bytes after the filters",
		    rd_left(&body));
		rc = PA_E_TRAILING;
		goto out;
	}
	t.id = out->id;
	t.name = out->name;
	t.description = out->description;
	t.changed = out->changed;
	*out = t;
	return 0;
out:
	t.name = NULL;
	t.description = NULL;
	pol_gp_filterlist_clear(&t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Encoders                                                            */

typedef int	(*gp_enc_fn)(struct wr *, const void *, struct pol_err *);

static int
gp_wr_head(struct wr *w, enum pol_gp_type t, size_t *lenoff)
{
	wr_bytes(w, gp_type_guids[t].b, 16);
	return wr_reserve(w, 4, lenoff);
}

/* Patch Data-Length (bytes after the field) and add the unused byte. */
static int
gp_wr_tail(struct wr *w, size_t lenoff)
{
	if (wr_error(w) != 0)
		return wr_error(w);
	if (wr_patch_u32le(w, lenoff, (uint32_t)(w->len - lenoff - 4)) != 0)
		return PA_E_NOSPACE;
	return wr_u8(w, 0);
}

static int
gp_enc_policy(struct wr *w, const void *arg, struct pol_err *err)
{
	const struct pol_policy *p = arg;
	size_t off;

	(void)err;
	gp_wr_head(w, POL_GP_POLICY, &off);
	wr_u32le(w, p->poll_sec);
	return gp_wr_tail(w, off);
}

static int
gp_enc_isakmp(struct wr *w, const void *arg, struct pol_err *err)
{
	const struct pol_isakmp *k = arg;
	const struct pol_mm_method *m;
	uint32_t cipher, hash, group;
	size_t off, i;

	gp_wr_head(w, POL_GP_ISAKMP, &off);
	wr_bytes(w, k->id.b, 16);
	wr_u32le(w, 0);
	wr_u32le(w, k->master_pfs ? 1 : 0);
	wr_u32le(w, k->options);
	wr_u32le(w, 0);				/* New-DH-1..4 unused */
	wr_u32le(w, k->qm_per_mm);
	wr_u32le(w, k->mm_life_sec);
	wr_zero(w, 20);
	wr_u32le(w, (uint32_t)k->nmethods);
	for (i = 0; i < k->nmethods; i++) {
		m = &k->methods[i];
		if (m->cipher == POL_MM_DES)
			cipher = 1;
		else if (m->cipher == POL_MM_3DES)
			cipher = 3;
		else {
			gp_errf(err, "security method %zu: %s cannot be "
			    "written to the directory", i + 1,
			    pol_mm_cipher_name(m->cipher));
			return PA_E_NOTSUP;
		}
		if (m->hash == POL_INTEG_MD5)
			hash = 1;
		else if (m->hash == POL_INTEG_SHA1)
			hash = 2;
		else {
			gp_errf(err, "security method %zu: hash %s cannot be "
			    "written to the directory", i + 1,
			    pol_integ_name(m->hash));
			return PA_E_NOTSUP;
		}
		if (m->dh_group == POL_DH_MODP768)
			group = 1;
		else if (m->dh_group == POL_DH_MODP1024)
			group = 2;
		else if (m->dh_group == POL_DH_MODP2048)
			group = GP_OAKLEY_GROUP14;
		else {
			gp_errf(err, "security method %zu: DH group %u cannot "
			    "be written to the directory", i + 1, m->dh_group);
			return PA_E_NOTSUP;
		}
		/* As Windows writes it: key length 64, 8 rounds. */
		wr_u32le(w, 0);
		wr_u32le(w, cipher);
		wr_u32le(w, 64);
		wr_u32le(w, 8);
		wr_u32le(w, hash);
		wr_u32le(w, 64);
		wr_zero(w, 12);
		wr_zero(w, 8);			/* Random-Function + unused */
		wr_u32le(w, group);
		wr_u32le(w, m->qm_limit);
		wr_u32le(w, m->life_kb);
		wr_u32le(w, m->life_sec);
		wr_u32le(w, 0);
	}
	return gp_wr_tail(w, off);
}

static int
gp_enc_nfa(struct wr *w, const void *arg, struct pol_err *err)
{
	const struct pol_rule *r = arg;
	const struct pol_auth *a;
	char *s;
	size_t off, i;
	uint32_t iftype;
	int rc;

	gp_wr_head(w, POL_GP_NFA, &off);
	wr_u32le(w, (uint32_t)r->nauth);
	for (i = 0; i < r->nauth; i++) {
		a = &r->auth[i];
		wr_u32le(w, (uint32_t)a->kind);
		switch (a->kind) {
		case POL_AUTH_PSK:
			if (a->psk == NULL) {
				gp_errf(err, "auth method %zu: the preshared "
				    "key is only a reference and cannot be "
				    "written", i + 1);
				return PA_E_NOTSUP;
			}
			if ((s = calloc(1, a->psk->len + 1)) == NULL)
				return PA_E_NOMEM;
			memcpy(s, a->psk->p, a->psk->len);
			rc = gp_wr_str(w, s, err);
			pa_wipe(s, a->psk->len);
			free(s);
			if (rc != 0)
				return rc;
			break;
		case POL_AUTH_CERT:
			if ((rc = gp_wr_str(w, a->ca_dn, err)) != 0)
				return rc;
			break;
		case POL_AUTH_KERBEROS:
			wr_u32le(w, 2);
			wr_u16le(w, 0);
			break;
		default:
			gp_errf(err, "auth method %zu: unknown kind", i + 1);
			return PA_E_INVAL;
		}
	}
	iftype = r->conntype == POL_CONN_LAN ? GP_IF_LAN :
	    r->conntype == POL_CONN_REMOTE ? GP_IF_REMOTE : GP_IF_ALL;
	wr_u32le(w, iftype);
	if ((rc = gp_wr_str(w, NULL, err)) != 0)
		return rc;
	if (r->tunnel.family == AF_INET) {
		wr_bytes(w, r->tunnel.a, 4);
		wr_u32le(w, 1);
	} else if (r->tunnel.family == 0) {
		wr_u32le(w, 0);
		wr_u32le(w, 0);
	} else {
		gp_errf(err, "an IPv6 tunnel endpoint cannot be written to "
		    "the directory yet");
		return PA_E_NOTSUP;
	}
	wr_u32le(w, r->active ? 1 : 0);
	if ((rc = gp_wr_str(w, NULL, err)) != 0)
		return rc;
	return gp_wr_tail(w, off);
}

static int
gp_wr_slot(struct wr *w, uint32_t alg, uint32_t integ, uint32_t type)
{
	wr_u32le(w, alg);
	wr_u32le(w, integ);
	wr_u32le(w, type);
	wr_u32le(w, 64);
	return wr_u32le(w, 8);
}

static int
gp_enc_negpol(struct wr *w, const void *arg, struct pol_err *err)
{
	const struct pol_filteraction *fa = arg;
	const struct pol_qm_offer *o;
	size_t off, i, nalg, n;
	uint32_t cipher;

	gp_wr_head(w, POL_GP_NEGPOL, &off);
	n = 0;
	if (fa->action == POL_ACT_NEGOTIATE)
		n = fa->noffers + (fa->soft ? 1 : 0);
	wr_u32le(w, (uint32_t)n);
	for (i = 0; fa->action == POL_ACT_NEGOTIATE && i < fa->noffers; i++) {
		o = &fa->offers[i];
		nalg = (o->ah ? 1 : 0) + (o->esp ? 1 : 0);
		if (nalg == 0) {
			gp_errf(err, "offer %zu has neither AH nor ESP", i + 1);
			return PA_E_INVAL;
		}
		wr_u32le(w, o->life_sec);
		wr_u32le(w, o->life_kb);
		wr_u32le(w, 0);
		wr_u32le(w, o->pfs ? 1 : 0);
		wr_u32le(w, (uint32_t)nalg);
		/* An AH+ESP bundle: AH first, as netsh writes AH[..]+ESP[..]. */
		if (o->ah) {
			if (o->ah_integ != POL_INTEG_MD5 &&
			    o->ah_integ != POL_INTEG_SHA1)
				goto integ;
			gp_wr_slot(w, (uint32_t)o->ah_integ, 0, 1);
		}
		if (o->esp) {
			if (o->esp_cipher == POL_ESP_NONE)
				cipher = 0;
			else if (o->esp_cipher == POL_ESP_DES)
				cipher = 1;
			else if (o->esp_cipher == POL_ESP_3DES)
				cipher = 3;
			else if (pol_esp_cipher_is_gcm(o->esp_cipher)) {
				/*
				 * Never a silent downgrade: an ipsecData
				 * blob (Windows 2000/XP) has no AES-GCM.
				 */
				gp_errf(err, "filter action '%s', offer %zu: "
				    "ESP %s (AES-GCM) cannot be expressed in "
				    "an ipsecData blob (Windows 2000/XP know "
				    "only DES and 3DES); not exported",
				    fa->name != NULL ? fa->name : "",
				    i + 1, pol_esp_cipher_name(o->esp_cipher));
				return PA_E_NOTSUP;
			} else {
				gp_errf(err, "filter action '%s', offer %zu: "
				    "ESP %s cannot be written to the "
				    "directory", fa->name != NULL ? fa->name :
				    "", i + 1,
				    pol_esp_cipher_name(o->esp_cipher));
				return PA_E_NOTSUP;
			}
			if (o->esp_integ != POL_INTEG_NONE &&
			    o->esp_integ != POL_INTEG_MD5 &&
			    o->esp_integ != POL_INTEG_SHA1)
				goto integ;
			gp_wr_slot(w, cipher, (uint32_t)o->esp_integ, 2);
		}
		wr_zero(w, GP_QM_SLOT * (GP_QM_SLOTS - nalg));
	}
	if (fa->action == POL_ACT_NEGOTIATE && fa->soft)
		wr_zero(w, GP_QM_OFFER);	/* fallback to clear */
	return gp_wr_tail(w, off);
integ:
	gp_errf(err, "offer %zu: integrity %s cannot be written to the "
	    "directory", i + 1, pol_integ_name(o->ah ? o->ah_integ :
	    o->esp_integ));
	return PA_E_NOTSUP;
}

static int
gp_wr_endpoint(struct wr *w, const struct pol_endpoint *e, size_t i,
    const char *side, struct pol_err *err)
{
	static const uint8_t ones[4] = { 255, 255, 255, 255 };
	struct pa_addr m;

	switch (e->kind) {
	case POL_ADDR_ANY:
		wr_zero(w, 8);
		return 0;
	case POL_ADDR_ME:
		wr_zero(w, 4);
		wr_bytes(w, ones, 4);
		return 0;
	case POL_ADDR_DNS:
		if (e->nresolved > 0 && e->resolved[0].family == AF_INET)
			wr_bytes(w, e->resolved[0].a, 4);
		else
			wr_zero(w, 4);
		wr_bytes(w, ones, 4);
		return 0;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		if (e->prefix.addr.family != AF_INET)
			break;
		pa_len_to_mask(AF_INET, e->prefix.len, &m);
		wr_bytes(w, e->prefix.addr.a, 4);
		wr_bytes(w, m.a, 4);
		return 0;
	}
	gp_errf(err, "filter %zu: the IPv6 %s cannot be written to the "
	    "directory yet", i + 1, side);
	return PA_E_NOTSUP;
}

static int
gp_enc_filter(struct wr *w, const void *arg, struct pol_err *err)
{
	const struct pol_filterlist *fl = arg;
	const struct pol_filter *f;
	size_t off, i;
	int rc;

	gp_wr_head(w, POL_GP_FILTER, &off);
	wr_u32le(w, (uint32_t)fl->nfilters);
	for (i = 0; i < fl->nfilters; i++) {
		f = &fl->filters[i];
		if ((rc = gp_wr_str(w, f->src.kind == POL_ADDR_DNS ?
		    f->src.dns : NULL, err)) != 0 ||
		    (rc = gp_wr_str(w, f->dst.kind == POL_ADDR_DNS ?
		    f->dst.dns : NULL, err)) != 0 ||
		    (rc = gp_wr_str(w, f->description, err)) != 0)
			return rc;
		wr_bytes(w, f->id.b, 16);
		wr_u32le(w, f->mirrored ? 1 : 0);
		if ((rc = gp_wr_endpoint(w, &f->src, i, "source", err)) != 0 ||
		    (rc = gp_wr_endpoint(w, &f->dst, i, "destination",
		    err)) != 0)
			return rc;
		wr_u32le(w, 0);			/* tunnel address */
		wr_u32le(w, f->proto);
		wr_u16le(w, f->sport);
		wr_u16le(w, f->dport);
		wr_u8(w, 0);			/* is tunnel */
		wr_u8(w, 0);			/* special filter */
		wr_u16le(w, 0);			/* options */
	}
	return gp_wr_tail(w, off);
}

/* Run an encoder into a growing heap buffer; buffers are wiped (an NFA
 * carries preshared keys). */
static int
gp_encode_buf(gp_enc_fn fn, const void *obj, uint8_t **out, size_t *outlen,
    struct pol_err *err)
{
	struct wr w;
	uint8_t *buf;
	size_t cap = 512;
	int rc;

	*out = NULL;
	*outlen = 0;
	for (;;) {
		if ((buf = malloc(cap)) == NULL)
			return PA_E_NOMEM;
		wr_init(&w, buf, cap);
		rc = fn(&w, obj, err);
		if (rc == 0)
			rc = wr_error(&w);
		if (rc == 0) {
			*out = buf;
			*outlen = w.len;
			return 0;
		}
		pa_wipe(buf, cap);
		free(buf);
		if (rc != PA_E_NOSPACE)
			return rc;
		if (cap >= GP_BLOB_MAX) {
			gp_errf(err, "ipsecData would exceed %u bytes",
			    GP_BLOB_MAX);
			return PA_E_NOSPACE;
		}
		cap *= 2;
	}
}

/* ------------------------------------------------------------------ */
/* The keep: original blobs for the lossless round trip                */

struct gp_kept {
	enum pol_gp_type	 type;
	struct pa_guid		 id;
	struct pa_bytes		 blob;	/* owned */
};

struct pol_gp_keep {
	struct gp_kept	*v;
	size_t		 n, cap;
};

struct pol_gp_keep *
pol_gp_keep_new(void)
{
	return calloc(1, sizeof(struct pol_gp_keep));
}

static void
gp_kept_free(struct gp_kept *k)
{
	uint8_t *p;

	/* The owned copy: cast away the view's const. */
	p = (uint8_t *)(uintptr_t)k->blob.p;
	if (p != NULL) {
		pa_wipe(p, k->blob.len);
		free(p);
	}
	k->blob.p = NULL;
}

void
pol_gp_keep_free(struct pol_gp_keep *kp)
{
	size_t i;

	if (kp == NULL)
		return;
	for (i = 0; i < kp->n; i++)
		gp_kept_free(&kp->v[i]);
	free(kp->v);
	free(kp);
}

static struct gp_kept *
gp_keep_find(const struct pol_gp_keep *kp, enum pol_gp_type t,
    const struct pa_guid *id)
{
	size_t i;

	if (kp == NULL)
		return NULL;
	for (i = 0; i < kp->n; i++)
		if (kp->v[i].type == t && pa_guid_eq(&kp->v[i].id, id))
			return &kp->v[i];
	return NULL;
}

int
pol_gp_keep_add(struct pol_gp_keep *kp, enum pol_gp_type t,
    const struct pa_guid *id, struct pa_bytes blob)
{
	struct gp_kept *k, *nv;
	uint8_t *copy;

	if ((copy = malloc(blob.len > 0 ? blob.len : 1)) == NULL)
		return PA_E_NOMEM;
	if (blob.len > 0)
		memcpy(copy, blob.p, blob.len);
	if ((k = gp_keep_find(kp, t, id)) != NULL)
		gp_kept_free(k);
	else {
		if (kp->n == kp->cap) {
			size_t ncap = kp->cap ? kp->cap * 2 : 16;

			if ((nv = realloc(kp->v, ncap * sizeof(*nv))) == NULL) {
				free(copy);
				return PA_E_NOMEM;
			}
			kp->v = nv;
			kp->cap = ncap;
		}
		k = &kp->v[kp->n++];
		k->type = t;
		k->id = *id;
	}
	k->blob.p = copy;
	k->blob.len = blob.len;
	return 0;
}

const struct pa_bytes *
pol_gp_keep_get(const struct pol_gp_keep *kp, enum pol_gp_type t,
    const struct pa_guid *id)
{
	const struct gp_kept *k = gp_keep_find(kp, t, id);

	return k != NULL ? &k->blob : NULL;
}

struct pol_gp_keep *
pol_gp_keep_dup(const struct pol_gp_keep *kp)
{
	struct pol_gp_keep *d;
	size_t i;

	if ((d = pol_gp_keep_new()) == NULL)
		return NULL;
	for (i = 0; kp != NULL && i < kp->n; i++)
		if (pol_gp_keep_add(d, kp->v[i].type, &kp->v[i].id,
		    kp->v[i].blob) != 0) {
			pol_gp_keep_free(d);
			return NULL;
		}
	return d;
}

/*
 * Write the original blob if decoding it and encoding the result gives
 * the same canonical bytes as encoding the model object now; *canon is
 * the model's canonical blob (taken over).
 */
static int
gp_keep_choose(const struct pa_bytes *orig, uint8_t *canon, size_t canonlen,
    uint8_t *again, size_t againlen, uint8_t **out, size_t *outlen)
{
	bool same = again != NULL && againlen == canonlen &&
	    memcmp(again, canon, canonlen) == 0;

	if (again != NULL) {
		pa_wipe(again, againlen);
		free(again);
	}
	if (!same) {
		*out = canon;
		*outlen = canonlen;
		return 0;
	}
	pa_wipe(canon, canonlen);
	free(canon);
	if ((*out = malloc(orig->len > 0 ? orig->len : 1)) == NULL)
		return PA_E_NOMEM;
	memcpy(*out, orig->p, orig->len);
	*outlen = orig->len;
	return 0;
}

/* A decoded kept blob, of whichever type is being written. */
union gp_scratch {
	struct pol_policy	 policy;
	struct pol_isakmp	 isakmp;
	struct pol_rule		 nfa;
	struct pol_filteraction	 negpol;
	struct pol_filterlist	 filter;
};

/* Decode a kept blob of type t into *s (zeroed); obj is the model object
 * being written, for what the decoder needs of it. */
static int
gp_scratch_decode(enum pol_gp_type t, struct pa_bytes blob, const void *obj,
    union gp_scratch *s)
{
	switch (t) {
	case POL_GP_POLICY:
		return pol_gp_decode_policy(blob, &s->policy, NULL);
	case POL_GP_ISAKMP:
		s->isakmp.id = ((const struct pol_isakmp *)obj)->id;
		return pol_gp_decode_isakmp(blob, &s->isakmp, NULL);
	case POL_GP_NFA:
		return pol_gp_decode_nfa(blob, &s->nfa, NULL);
	case POL_GP_NEGPOL:
		return pol_gp_decode_negpol(blob, pol_gp_negpol_type(obj),
		    pol_gp_negpol_action(obj), &s->negpol, NULL);
	case POL_GP_FILTER:
		return pol_gp_decode_filter(blob, &s->filter, NULL);
	default:
		return PA_E_INVAL;
	}
}

static void
gp_scratch_clear(enum pol_gp_type t, union gp_scratch *s)
{
	switch (t) {
	case POL_GP_ISAKMP:
		s->isakmp.name = NULL;
		pol_gp_isakmp_clear(&s->isakmp);
		break;
	case POL_GP_NFA:
		pol_gp_rule_clear(&s->nfa);
		break;
	case POL_GP_NEGPOL:
		pol_gp_filteraction_clear(&s->negpol);
		break;
	case POL_GP_FILTER:
		pol_gp_filterlist_clear(&s->filter);
		break;
	default:		/* a policy blob holds nothing allocated */
		break;
	}
}

/*
 * Encode obj (of type t, with GUID id) with enc, or write its kept
 * original blob instead when decoding and encoding that again gives the
 * same bytes, so an unchanged object keeps Windows' exact blob.
 */
static int
gp_encode_kept(enum pol_gp_type t, gp_enc_fn enc, const struct pa_guid *id,
    const void *obj, const struct pol_gp_keep *kp, uint8_t **out,
    size_t *outlen, struct pol_err *err)
{
	const struct pa_bytes *orig;
	union gp_scratch s;
	uint8_t *canon, *again = NULL;
	size_t clen, alen = 0;
	int rc;

	if ((rc = gp_encode_buf(enc, obj, &canon, &clen, err)) != 0)
		return rc;
	if ((orig = pol_gp_keep_get(kp, t, id)) == NULL) {
		*out = canon;
		*outlen = clen;
		return 0;
	}
	memset(&s, 0, sizeof(s));
	if (gp_scratch_decode(t, *orig, obj, &s) == 0) {
		if (gp_encode_buf(enc, &s, &again, &alen, NULL) != 0)
			again = NULL;
		gp_scratch_clear(t, &s);
	}
	return gp_keep_choose(orig, canon, clen, again, alen, out, outlen);
}

int
pol_gp_encode_policy(const struct pol_policy *p, const struct pol_gp_keep *kp,
    uint8_t **out, size_t *outlen, struct pol_err *err)
{
	return gp_encode_kept(POL_GP_POLICY, gp_enc_policy, &p->id, p, kp, out,
	    outlen, err);
}

int
pol_gp_encode_isakmp(const struct pol_isakmp *k, const struct pol_gp_keep *kp,
    uint8_t **out, size_t *outlen, struct pol_err *err)
{
	return gp_encode_kept(POL_GP_ISAKMP, gp_enc_isakmp, &k->id, k, kp, out,
	    outlen, err);
}

int
pol_gp_encode_nfa(const struct pol_rule *r, const struct pol_gp_keep *kp,
    uint8_t **out, size_t *outlen, struct pol_err *err)
{
	return gp_encode_kept(POL_GP_NFA, gp_enc_nfa, &r->id, r, kp, out,
	    outlen, err);
}

int
pol_gp_encode_negpol(const struct pol_filteraction *fa,
    const struct pol_gp_keep *kp, uint8_t **out, size_t *outlen,
    struct pol_err *err)
{
	return gp_encode_kept(POL_GP_NEGPOL, gp_enc_negpol, &fa->id, fa, kp,
	    out, outlen, err);
}

int
pol_gp_encode_filter(const struct pol_filterlist *fl,
    const struct pol_gp_keep *kp, uint8_t **out, size_t *outlen,
    struct pol_err *err)
{
	return gp_encode_kept(POL_GP_FILTER, gp_enc_filter, &fl->id, fl, kp,
	    out, outlen, err);
}
