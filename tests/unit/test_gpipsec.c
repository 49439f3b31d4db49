/*
 * Unit tests of the ipsecData codec (agent/policy/gpipsec.c): the
 * constructed vectors of the MS-GPIPSEC notes (section 9.2), the model
 * each decodes to, the byte-exact round trip through the keep, canonical
 * re-encoding of changed objects, a truncation sweep of every vector, and
 * the rejection of lying lengths, lying counts and unknown types.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "gpipsec.h"
#include "model.h"
#include "pa_buf.h"
#include "pa_secret.h"

static const char TV1[] =
    "63 21 20 22 4C 4F D1 11 86 3B 00 A0 24 8D 30 21"
    "04 00 00 00 30 2A 00 00 00";
static const char TV1B[] =
    "63 21 20 22 4C 4F D1 11 86 3B 00 A0 24 8D 30 21"
    "04 00 00 00 00 00 00 00 00";
static const char TV2[] =
    "B8 20 DC 80 C8 2E D1 11 A8 9E 00 A0 24 8D 30 21"
    "80 00 00 00 39 32 A6 12 B6 DF 7A 4F 9E 84 FE A9"
    "0E 81 20 2A 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 80 70 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "01 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00"
    "00 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "02 00 00 00 00 00 00 00 00 00 00 00 80 70 00 00"
    "00 00 00 00 00";
static const char TV3[] =
    "B9 20 DC 80 C8 2E D1 11 A8 9E 00 A0 24 8D 30 21"
    "54 00 00 00 01 00 00 00 10 0E 00 00 A0 86 01 00"
    "00 00 00 00 00 00 00 00 01 00 00 00 03 00 00 00"
    "02 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00";
static const char TV3B[] =
    "B9 20 DC 80 C8 2E D1 11 A8 9E 00 A0 24 8D 30 21"
    "04 00 00 00 00 00 00 00 00";
static const char TV4[] =
    "B5 20 DC 80 C8 2E D1 11 A8 9E 00 A0 24 8D 30 21"
    "4A 00 00 00 01 00 00 00 02 00 00 00 00 00 02 00"
    "00 00 00 00 02 00 00 00 00 00 DD CC BB AA 22 11"
    "44 33 55 66 77 88 99 AA BB CC 01 00 00 00 00 00"
    "00 00 FF FF FF FF 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";
static const char TV4B[] =
    "B5 20 DC 80 C8 2E D1 11 A8 9E 00 A0 24 8D 30 21"
    "50 00 00 00 01 00 00 00 02 00 00 00 00 00 02 00"
    "00 00 00 00 08 00 00 00 77 00 65 00 62 00 00 00"
    "DD CC BB AA 22 11 44 33 55 66 77 88 99 AA BB CC"
    "00 00 00 00 C0 A8 01 00 FF FF FF 00 0A 00 00 05"
    "FF FF FF FF 00 00 00 00 06 00 00 00 00 00 BB 01"
    "00 00 00 00 00";
static const char TV5[] =
    "00 AC BB 11 8D 49 D1 11 86 39 00 A0 24 8D 30 21"
    "2A 00 00 00 01 00 00 00 05 00 00 00 02 00 00 00"
    "00 00 FD FF FF FF 02 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 01 00 00 00 02 00 00 00 00 00 00";
static const char TV5B[] =
    "00 AC BB 11 8D 49 D1 11 86 39 00 A0 24 8D 30 21"
    "36 00 00 00 01 00 00 00 01 00 00 00 0E 00 00 00"
    "73 00 65 00 63 00 72 00 65 00 74 00 00 00 FE FF"
    "FF FF 02 00 00 00 00 00 CB 00 71 09 01 00 00 00"
    "01 00 00 00 02 00 00 00 00 00 00";
/* The Vista trailer observed in the wild (Id1, one Kerberos method). */
static const char NFA_TRAILER[] =
    "01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01"
    "01 00 00 00 05 00 00 00 00 00 00 00";

struct blob {
	uint8_t	p[1024];
	size_t	len;
};

static void
hex(const char *h, struct blob *b)
{
	assert_int_equal(pa_hex_decode(h, b->p, sizeof(b->p), &b->len), 0);
}

static struct pa_bytes
view(const struct blob *b)
{
	struct pa_bytes v = { b->p, b->len };

	return v;
}

static void
guid(const char *s, struct pa_guid *g)
{
	assert_int_equal(pa_guid_parse(s, g), 0);
}

/* Decode any vector by type, with the negotiation-policy attributes. */
static int
decode_any(enum pol_gp_type t, struct pa_bytes v, struct pol_err *err)
{
	struct pol_policy p;
	struct pol_isakmp k;
	struct pol_rule r;
	struct pol_filteraction fa;
	struct pol_filterlist fl;
	int rc = PA_E_INVAL;

	memset(err, 0, sizeof(*err));
	memset(&p, 0, sizeof(p));
	memset(&k, 0, sizeof(k));
	memset(&r, 0, sizeof(r));
	memset(&fa, 0, sizeof(fa));
	memset(&fl, 0, sizeof(fl));
	switch (t) {
	case POL_GP_POLICY:
		rc = pol_gp_decode_policy(v, &p, err);
		break;
	case POL_GP_ISAKMP:
		rc = pol_gp_decode_isakmp(v, &k, err);
		pol_gp_isakmp_clear(&k);
		break;
	case POL_GP_NFA:
		rc = pol_gp_decode_nfa(v, &r, err);
		pol_gp_rule_clear(&r);
		break;
	case POL_GP_NEGPOL:
		rc = pol_gp_decode_negpol(v, &pol_gp_negtype_standard,
		    &pol_gp_action_secure, &fa, err);
		pol_gp_filteraction_clear(&fa);
		break;
	case POL_GP_FILTER:
		rc = pol_gp_decode_filter(v, &fl, err);
		pol_gp_filterlist_clear(&fl);
		break;
	default:
		break;
	}
	return rc;
}

static void
test_policy_vectors(void **state)
{
	struct pol_policy p;
	struct pol_err err;
	struct pol_gp_keep *kp;
	struct blob b, b1;
	uint8_t *out;
	size_t len;

	(void)state;
	memset(&p, 0, sizeof(p));
	hex(TV1, &b);
	assert_int_equal(pol_gp_decode_policy(view(&b), &p, &err), 0);
	assert_int_equal(p.poll_sec, 10800);
	assert_int_equal(pol_gp_encode_policy(&p, NULL, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);

	/* 0 means 180 minutes; the keep gives the 0 back byte for byte. */
	hex(TV1B, &b1);
	memset(&p, 0, sizeof(p));
	guid("{E514E247-80C3-429A-8D69-74BD54FEB31E}", &p.id);
	assert_int_equal(pol_gp_decode_policy(view(&b1), &p, &err), 0);
	assert_int_equal(p.poll_sec, 10800);
	assert_non_null(kp = pol_gp_keep_new());
	assert_int_equal(pol_gp_keep_add(kp, POL_GP_POLICY, &p.id, view(&b1)),
	    0);
	assert_int_equal(pol_gp_encode_policy(&p, kp, &out, &len, &err), 0);
	assert_int_equal(len, b1.len);
	assert_memory_equal(out, b1.p, len);
	free(out);
	/* Changed: written afresh. */
	p.poll_sec = 600;
	assert_int_equal(pol_gp_encode_policy(&p, kp, &out, &len, &err), 0);
	assert_int_equal(len, 25);
	assert_int_equal(out[20], 0x58);
	assert_int_equal(out[21], 0x02);
	free(out);
	pol_gp_keep_free(kp);
}

static void
test_isakmp_vector(void **state)
{
	struct pol_isakmp k, k2;
	struct pol_err err;
	struct pol_gp_keep *kp;
	struct blob b;
	uint8_t *out;
	size_t len;

	(void)state;
	memset(&k, 0, sizeof(k));
	hex(TV2, &b);
	guid("{12A63239-DFB6-4F7A-9E84-FEA90E81202A}", &k.id);
	assert_int_equal(pol_gp_decode_isakmp(view(&b), &k, &err), 0);
	assert_false(k.master_pfs);
	assert_int_equal(k.mm_life_sec, 28800);
	assert_int_equal(k.defaulted, 0);	/* the blob gives it */
	assert_int_equal(k.nmethods, 1);
	assert_int_equal(k.methods[0].cipher, POL_MM_3DES);
	assert_int_equal(k.methods[0].hash, POL_INTEG_SHA1);
	assert_int_equal(k.methods[0].dh_group, 2);
	assert_int_equal(k.methods[0].life_sec, 28800);

	assert_non_null(kp = pol_gp_keep_new());
	assert_int_equal(pol_gp_keep_add(kp, POL_GP_ISAKMP, &k.id, view(&b)),
	    0);
	assert_int_equal(pol_gp_encode_isakmp(&k, kp, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);

	/* Group 14 is written as 0x10000001 and read back as 14. */
	k.methods[0].dh_group = 14;
	assert_int_equal(pol_gp_encode_isakmp(&k, kp, &out, &len, &err), 0);
	memset(&k2, 0, sizeof(k2));
	b.len = len;
	memcpy(b.p, out, len);
	free(out);
	assert_int_equal(b.p[84 + 44], 0x01);
	assert_int_equal(b.p[84 + 47], 0x10);
	assert_int_equal(pol_gp_decode_isakmp(view(&b), &k2, &err), 0);
	assert_int_equal(k2.methods[0].dh_group, 14);
	pol_gp_isakmp_clear(&k2);

	/* What the blob cannot carry is refused with a reason. */
	k.methods[0].cipher = POL_MM_AES128;
	assert_int_equal(pol_gp_encode_isakmp(&k, NULL, &out, &len, &err),
	    PA_E_NOTSUP);
	assert_non_null(strstr(err.what, "security method 1"));
	pol_gp_isakmp_clear(&k);
	pol_gp_keep_free(kp);
}

/*
 * Where values come from (show policy): a negotiation policy blob with
 * lifetimes 0 (as the default response rule's) takes the defaults and
 * says so; one that gives them does not.
 */
static void
test_negpol_defaults(void **state)
{
	struct pol_filteraction fa, fa2;
	struct pol_err err;
	struct blob b;
	uint8_t *out;
	size_t len;

	(void)state;
	memset(&fa, 0, sizeof(fa));
	memset(&fa2, 0, sizeof(fa2));
	hex(TV3, &b);
	assert_int_equal(pol_gp_decode_negpol(view(&b), &pol_gp_negtype_standard,
	    &pol_gp_action_secure, &fa, &err), 0);
	assert_int_equal(fa.offers[0].defaulted, 0);
	fa.offers[0].life_sec = 0;
	fa.offers[0].life_kb = 0;
	assert_int_equal(pol_gp_encode_negpol(&fa, NULL, &out, &len, &err), 0);
	memcpy(b.p, out, len);
	b.len = len;
	free(out);
	assert_int_equal(pol_gp_decode_negpol(view(&b), &pol_gp_negtype_standard,
	    &pol_gp_action_secure, &fa2, &err), 0);
	assert_int_equal(fa2.offers[0].life_sec, POL_DEFAULT_QM_LIFE_SEC);
	assert_int_equal(fa2.offers[0].life_kb, POL_DEFAULT_QM_LIFE_KB);
	assert_int_equal(fa2.offers[0].defaulted, POL_DEF_QM_LIFE_SEC |
	    POL_DEF_QM_LIFE_KB);
	pol_gp_filteraction_clear(&fa2);
	pol_gp_filteraction_clear(&fa);
}

static void
test_negpol_vectors(void **state)
{
	struct pol_filteraction fa, fa2;
	struct pol_err err;
	struct blob b;
	uint8_t *out;
	size_t len;

	(void)state;
	memset(&fa, 0, sizeof(fa));
	hex(TV3, &b);
	assert_int_equal(pol_gp_decode_negpol(view(&b), &pol_gp_negtype_standard,
	    &pol_gp_action_secure, &fa, &err), 0);
	assert_int_equal(fa.action, POL_ACT_NEGOTIATE);
	assert_false(fa.inpass);
	assert_false(fa.soft);
	assert_int_equal(fa.noffers, 1);
	assert_true(fa.offers[0].esp);
	assert_false(fa.offers[0].ah);
	assert_int_equal(fa.offers[0].esp_cipher, POL_ESP_3DES);
	assert_int_equal(fa.offers[0].esp_integ, POL_INTEG_SHA1);
	assert_int_equal(fa.offers[0].life_sec, 3600);
	assert_int_equal(fa.offers[0].life_kb, 100000);
	assert_false(fa.offers[0].pfs);

	/* AH+ESP bundle, PFS and fallback to clear survive the trip. */
	fa.offers[0].ah = true;
	fa.offers[0].ah_integ = POL_INTEG_MD5;
	fa.offers[0].pfs = true;
	fa.soft = true;
	fa.inpass = true;
	assert_int_equal(pol_gp_encode_negpol(&fa, NULL, &out, &len, &err), 0);
	assert_int_equal(len, 20 + 4 + 2 * 80 + 1);
	memcpy(b.p, out, len);
	b.len = len;
	free(out);
	memset(&fa2, 0, sizeof(fa2));
	assert_int_equal(pol_gp_decode_negpol(view(&b), pol_gp_negpol_type(&fa),
	    pol_gp_negpol_action(&fa), &fa2, &err), 0);
	assert_true(fa2.inpass);
	assert_true(fa2.soft);
	assert_int_equal(fa2.noffers, 1);
	assert_true(fa2.offers[0].ah);
	assert_int_equal(fa2.offers[0].ah_integ, POL_INTEG_MD5);
	assert_true(fa2.offers[0].esp);
	assert_true(fa2.offers[0].pfs);
	pol_gp_filteraction_clear(&fa2);

	fa.offers[0].esp_cipher = POL_ESP_AES256;
	assert_int_equal(pol_gp_encode_negpol(&fa, NULL, &out, &len, &err),
	    PA_E_NOTSUP);
	pol_gp_filteraction_clear(&fa);

	/* Zero offers: a Permit action, written back identically. */
	hex(TV3B, &b);
	memset(&fa, 0, sizeof(fa));
	assert_int_equal(pol_gp_decode_negpol(view(&b), &pol_gp_negtype_standard,
	    &pol_gp_action_permit, &fa, &err), 0);
	assert_int_equal(fa.action, POL_ACT_PERMIT);
	assert_int_equal(fa.noffers, 0);
	assert_int_equal(pol_gp_encode_negpol(&fa, NULL, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);
	pol_gp_filteraction_clear(&fa);

	/* An unknown action GUID is refused. */
	assert_int_equal(pol_gp_decode_negpol(view(&b), &pol_gp_negtype_standard,
	    &pol_gp_negtype_default, &fa, &err), PA_E_FORMAT);
	assert_non_null(strstr(err.what, "Action"));
}

static void
test_filter_vectors(void **state)
{
	struct pol_filterlist fl;
	struct pol_err err;
	struct pol_gp_keep *kp;
	struct pa_guid spec;
	struct blob b;
	char buf[PA_PREFIXSTRLEN];
	uint8_t *out;
	size_t len;

	(void)state;
	memset(&fl, 0, sizeof(fl));
	hex(TV4, &b);
	assert_int_equal(pol_gp_decode_filter(view(&b), &fl, &err), 0);
	assert_int_equal(fl.nfilters, 1);
	guid("{AABBCCDD-1122-3344-5566-778899AABBCC}", &spec);
	assert_true(pa_guid_eq(&fl.filters[0].id, &spec));
	assert_int_equal(fl.filters[0].src.kind, POL_ADDR_ME);
	assert_int_equal(fl.filters[0].dst.kind, POL_ADDR_ANY);
	assert_true(fl.filters[0].mirrored);
	assert_int_equal(fl.filters[0].proto, 0);
	assert_null(fl.filters[0].description);
	/* The canonical form is the vector itself. */
	assert_int_equal(pol_gp_encode_filter(&fl, NULL, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);
	pol_gp_filterlist_clear(&fl);

	hex(TV4B, &b);
	guid("{2FE2FD79-0389-4D6C-8794-55C4D444DB31}", &fl.id);
	assert_int_equal(pol_gp_decode_filter(view(&b), &fl, &err), 0);
	assert_int_equal(fl.filters[0].src.kind, POL_ADDR_SUBNET);
	assert_string_equal(pa_prefix_str(&fl.filters[0].src.prefix, buf,
	    sizeof(buf)), "192.168.1.0/24");
	assert_int_equal(fl.filters[0].dst.kind, POL_ADDR_HOST);
	assert_string_equal(pa_prefix_str(&fl.filters[0].dst.prefix, buf,
	    sizeof(buf)), "10.0.0.5/32");
	assert_int_equal(fl.filters[0].proto, 6);
	assert_int_equal(fl.filters[0].dport, 443);
	assert_int_equal(fl.filters[0].sport, 0);
	assert_false(fl.filters[0].mirrored);
	assert_string_equal(fl.filters[0].description, "web");

	/* A changed filter is written canonically, not as the original. */
	assert_non_null(kp = pol_gp_keep_new());
	assert_int_equal(pol_gp_keep_add(kp, POL_GP_FILTER, &fl.id, view(&b)),
	    0);
	fl.filters[0].dport = 8443;
	assert_int_equal(pol_gp_encode_filter(&fl, kp, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_int_equal(out[94], 0xFB);
	assert_int_equal(out[95], 0x20);
	free(out);
	fl.filters[0].dport = 443;
	assert_int_equal(pol_gp_encode_filter(&fl, kp, &out, &len, &err), 0);
	assert_memory_equal(out, b.p, b.len);
	free(out);
	pol_gp_keep_free(kp);

	/* IPv6 needs the Vista section: refused on write. */
	fl.filters[0].dst.prefix.addr.family = AF_INET6;
	assert_int_equal(pol_gp_encode_filter(&fl, NULL, &out, &len, &err),
	    PA_E_NOTSUP);
	assert_non_null(strstr(err.what, "IPv6"));
	pol_gp_filterlist_clear(&fl);
}

static void
test_nfa_vectors(void **state)
{
	struct pol_rule r;
	struct pol_err err;
	struct pol_gp_keep *kp;
	struct blob b, t;
	char buf[PA_ADDRSTRLEN];
	uint8_t *out;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	hex(TV5, &b);
	assert_int_equal(pol_gp_decode_nfa(view(&b), &r, &err), 0);
	assert_int_equal(r.nauth, 1);
	assert_int_equal(r.auth[0].kind, POL_AUTH_KERBEROS);
	assert_int_equal(r.conntype, POL_CONN_ALL);
	assert_int_equal(r.tunnel.family, 0);
	assert_true(r.active);
	assert_int_equal(pol_gp_encode_nfa(&r, NULL, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);
	pol_gp_rule_clear(&r);

	hex(TV5B, &b);
	assert_int_equal(pol_gp_decode_nfa(view(&b), &r, &err), 0);
	assert_int_equal(r.auth[0].kind, POL_AUTH_PSK);
	assert_int_equal(r.auth[0].psk->len, 6);
	assert_memory_equal(r.auth[0].psk->p, "secret", 6);
	assert_int_equal(r.conntype, POL_CONN_LAN);
	assert_int_equal(r.tunnel.family, AF_INET);
	assert_string_equal(pa_addr_str(&r.tunnel, buf, sizeof(buf)),
	    "203.0.113.9");
	assert_int_equal(pol_gp_encode_nfa(&r, NULL, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);
	/* A key known only by reference cannot be written. */
	pa_secret_free(r.auth[0].psk);
	r.auth[0].psk = NULL;
	assert_int_equal(pol_gp_encode_nfa(&r, NULL, &out, &len, &err),
	    PA_E_NOTSUP);
	pol_gp_rule_clear(&r);

	/*
	 * The Vista trailer after the base part, the final 0x00 at the very
	 * end, Data-Length 0x2A (spec) or 0x46 (ipsec2k): both accepted, and
	 * kept byte for byte through the keep.
	 */
	hex(TV5, &b);
	hex(NFA_TRAILER, &t);
	memcpy(b.p + b.len - 1, t.p, t.len);
	b.len += t.len;
	b.p[b.len - 1] = 0;
	assert_int_equal(b.len, 63 + 28);
	assert_int_equal(pol_gp_decode_nfa(view(&b), &r, &err), 0);
	assert_int_equal(r.auth[0].kind, POL_AUTH_KERBEROS);
	guid("{116CA92D-D536-4A44-BDCE-17D8363ED949}", &r.id);
	assert_non_null(kp = pol_gp_keep_new());
	assert_int_equal(pol_gp_keep_add(kp, POL_GP_NFA, &r.id, view(&b)), 0);
	assert_int_equal(pol_gp_encode_nfa(&r, kp, &out, &len, &err), 0);
	assert_int_equal(len, b.len);
	assert_memory_equal(out, b.p, len);
	free(out);
	pol_gp_keep_free(kp);
	pol_gp_rule_clear(&r);
	b.p[16] = 0x46;
	assert_int_equal(pol_gp_decode_nfa(view(&b), &r, &err), 0);
	pol_gp_rule_clear(&r);
	/* A trailer that is not the Vista one is trailing garbage. */
	b.p[63 - 1] = 0x02;
	b.p[16] = 0x2A;
	assert_int_equal(pol_gp_decode_nfa(view(&b), &r, &err), PA_E_TRAILING);
}

static const struct {
	const char		*hex;
	enum pol_gp_type	 type;
} vectors[] = {
	{ TV1, POL_GP_POLICY }, { TV1B, POL_GP_POLICY },
	{ TV2, POL_GP_ISAKMP }, { TV3, POL_GP_NEGPOL },
	{ TV3B, POL_GP_NEGPOL }, { TV4, POL_GP_FILTER },
	{ TV4B, POL_GP_FILTER }, { TV5, POL_GP_NFA }, { TV5B, POL_GP_NFA },
};

/*
 * Every prefix of a valid blob fails cleanly, except the one that only
 * lacks the unused final byte, which the spec tells readers to tolerate.
 */
static void
test_truncation_sweep(void **state)
{
	struct pol_err err;
	struct blob b;
	struct pa_bytes v;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		hex(vectors[i].hex, &b);
		v = view(&b);
		assert_int_equal(decode_any(vectors[i].type, v, &err), 0);
		for (n = 0; n + 1 < b.len; n++) {
			v.len = n;
			if (decode_any(vectors[i].type, v, &err) == 0)
				fail_msg("vector %zu: prefix %zu of %zu "
				    "accepted", i, n, b.len);
			assert_true(err.what[0] != '\0');
		}
		v.len = b.len - 1;
		assert_int_equal(decode_any(vectors[i].type, v, &err), 0);
	}
}

static void
test_lying_lengths_and_types(void **state)
{
	struct pol_err err;
	struct blob b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		/* Data-Length one more than what is present. */
		hex(vectors[i].hex, &b);
		b.p[16] = (uint8_t)(b.len - 20 + 1);
		assert_int_not_equal(decode_any(vectors[i].type, view(&b),
		    &err), 0);
		/* An extra byte at the end is trailing data. */
		hex(vectors[i].hex, &b);
		b.p[b.len++] = 0;
		assert_int_not_equal(decode_any(vectors[i].type, view(&b),
		    &err), 0);
		/* Another blob type or an unknown GUID. */
		hex(vectors[i].hex, &b);
		assert_int_equal(decode_any((vectors[i].type + 1) % POL_GP_NTYPES,
		    view(&b), &err), PA_E_FORMAT);
		assert_non_null(strstr(err.what, "expected"));
		b.p[3] ^= 0xFF;
		assert_int_equal(decode_any(vectors[i].type, view(&b), &err),
		    PA_E_FORMAT);
		assert_non_null(strstr(err.what, "unknown type GUID"));
	}
	/* Counts that promise more than the blob holds. */
	hex(TV2, &b);
	b.p[80] = 2;
	assert_int_equal(decode_any(POL_GP_ISAKMP, view(&b), &err), PA_E_SHORT);
	assert_non_null(strstr(err.what, "Security-Method-Count 2"));
	hex(TV3, &b);
	b.p[20] = 0xFF;
	assert_int_not_equal(decode_any(POL_GP_NEGPOL, view(&b), &err), 0);
	hex(TV4B, &b);
	b.p[20] = 2;
	assert_int_not_equal(decode_any(POL_GP_FILTER, view(&b), &err), 0);
	/* A string length past the end. */
	hex(TV4B, &b);
	b.p[36] = 0x80;
	assert_int_not_equal(decode_any(POL_GP_FILTER, view(&b), &err), 0);
	assert_non_null(strstr(err.what, "description"));
	/* Data-Length shorter than the structure. */
	hex(TV5, &b);
	b.p[16] = 0x20;
	assert_int_equal(decode_any(POL_GP_NFA, view(&b), &err), PA_E_FORMAT);
	assert_non_null(strstr(err.what, "shorter"));
	hex(TV2, &b);
	b.p[16] = 0x40;
	assert_int_not_equal(decode_any(POL_GP_ISAKMP, view(&b), &err), 0);
	/* Unknown auth type and interface type. */
	hex(TV5, &b);
	b.p[24] = 9;
	assert_int_equal(decode_any(POL_GP_NFA, view(&b), &err), PA_E_FORMAT);
	assert_non_null(strstr(err.what, "unknown type 9"));
	/* A Vista filter section: empty is fine, filters are refused,
	 * a truncated one is named. */
	{
		static const char v2[] =
		    "3D CD FE 35 29 AE 73 43 8A 6A C5 D8 FA B2 FB 08"
		    "0C 00 00 00 00 00 00 00 00 00 00 00";
		struct blob t;

		hex(TV4B, &b);
		hex(v2, &t);
		memcpy(b.p + b.len - 1, t.p, t.len);	/* over the 0x00 */
		b.len += t.len - 1;
		b.p[b.len++] = 0;
		assert_int_equal(decode_any(POL_GP_FILTER, view(&b), &err), 0);
		b.p[b.len - 2] = 1;	/* Number-Of-Filters2 = 1 */
		assert_int_equal(decode_any(POL_GP_FILTER, view(&b), &err),
		    PA_E_NOTSUP);
		assert_non_null(strstr(err.what, "Vista"));
		b.len -= 6;
		assert_int_not_equal(decode_any(POL_GP_FILTER, view(&b), &err),
		    0);
		assert_non_null(strstr(err.what, "Vista"));
	}
	/* Policy blob with a Data-Length other than 4. */
	hex(TV1, &b);
	b.p[16] = 3;
	assert_int_equal(decode_any(POL_GP_POLICY, view(&b), &err),
	    PA_E_FORMAT);
	assert_int_equal(pol_gp_blob_type(b.p, b.len), POL_GP_POLICY);
}

static void
test_utf16(void **state)
{
	/* "a", U+00E9, U+20AC, U+1F600 (surrogate pair), NUL. */
	static const uint8_t u[] = { 'a', 0, 0xE9, 0, 0xAC, 0x20,
	    0x3D, 0xD8, 0x00, 0xDE, 0, 0 };
	static const uint8_t lone[] = { 0x00, 0xDC };
	struct pa_bytes v = { u, sizeof(u) };
	char *s;

	(void)state;
	assert_int_equal(pol_gp_utf16_to_utf8(v, &s), 0);
	assert_string_equal(s, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	free(s);
	v.p = lone;
	v.len = sizeof(lone);
	assert_int_equal(pol_gp_utf16_to_utf8(v, &s), PA_E_FORMAT);
	v.len = 1;
	assert_int_equal(pol_gp_utf16_to_utf8(v, &s), PA_E_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_vectors),
		cmocka_unit_test(test_isakmp_vector),
		cmocka_unit_test(test_negpol_vectors),
		cmocka_unit_test(test_negpol_defaults),
		cmocka_unit_test(test_filter_vectors),
		cmocka_unit_test(test_nfa_vectors),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_lying_lengths_and_types),
		cmocka_unit_test(test_utf16),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
