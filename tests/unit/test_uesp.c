/*
 * Unit tests of the uesp engine: known-answer vectors for the primitives
 * as keyed by the SA code, an independent re-derivation of the ESP wire
 * format, round trips of every algorithm/mode/family/encapsulation, and
 * the failure paths (replay, forged ICV, bad padding, unknown SPI, every
 * truncation, lifetimes, sequence exhaustion).
 */
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pa_buf.h"
#include "pa_time.h"
#include "uesp/engine/uesp_int.h"

static uint8_t	obuf[UESP_MAX_PKT];
static uint8_t	ibuf[UESP_MAX_PKT];

static void
hex(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	assert_int_equal(pa_hex_decode(s, out, n, &got), 0);
	assert_int_equal(got, n);
}

static struct sa_id
mk_id(uint8_t proto, uint32_t spi, bool v6)
{
	struct sa_id id;

	memset(&id, 0, sizeof(id));
	assert_int_equal(pa_addr_parse(v6 ? "fd00::1" : "10.9.0.1", &id.src),
	    0);
	assert_int_equal(pa_addr_parse(v6 ? "fd00::2" : "10.9.0.2", &id.dst),
	    0);
	id.proto = proto;
	id.spi = spi;
	return id;
}

static void
fill_keys(struct sa_params *p)
{
	size_t i;

	switch (p->enc) {
	case DRV_ENC_DES_CBC: p->enc_key_len = 8; break;
	case DRV_ENC_3DES_CBC: p->enc_key_len = 24; break;
	case DRV_ENC_AES_CBC: p->enc_key_len = 16; break;
	case DRV_ENC_AES_GCM_16: p->enc_key_len = 20; break;
	case DRV_ENC_NONE: p->enc_key_len = 0; break;
	}
	switch (p->auth) {
	case DRV_AUTH_HMAC_MD5_96: p->auth_key_len = 16; break;
	case DRV_AUTH_HMAC_SHA1_96: p->auth_key_len = 20; break;
	case DRV_AUTH_HMAC_SHA256_128: p->auth_key_len = 32; break;
	case DRV_AUTH_NONE: p->auth_key_len = 0; break;
	}
	for (i = 0; i < sizeof(p->enc_key); i++)
		p->enc_key[i] = (uint8_t)(0x11 + i * 7);
	for (i = 0; i < sizeof(p->auth_key); i++)
		p->auth_key[i] = (uint8_t)(0xa0 ^ i * 3);
}

/* An outbound/inbound pair with the same keys. */
static void
mk_pair(uint8_t proto, enum drv_enc enc, enum drv_auth auth,
    enum drv_mode mode, bool v6, uint16_t encap, struct uesp_sa **out,
    struct uesp_sa **in)
{
	struct sa_id id = mk_id(proto, 0x1000 + proto, v6);
	struct sa_params p;

	memset(&p, 0, sizeof(p));
	p.mode = mode;
	p.enc = enc;
	p.auth = auth;
	p.replay_window = 64;
	p.encap_sport = encap;
	p.encap_dport = encap;
	fill_keys(&p);
	assert_int_equal(uesp_sa_new(&id, &p, pa_now_ms(), out), 0);
	p.inbound = true;
	assert_int_equal(uesp_sa_new(&id, &p, pa_now_ms(), in), 0);
}

/* A UDP packet 10.9.0.1:1234 -> 10.9.0.2:5678 (or the IPv6 pair). */
static size_t
mk_inner(uint8_t *buf, size_t cap, bool v6, size_t payload)
{
	struct pa_addr s, d;
	struct wr w;
	size_t i, hl, ul;
	uint32_t sum;
	uint16_t c;

	assert_int_equal(pa_addr_parse(v6 ? "fd00::1" : "10.9.0.1", &s), 0);
	assert_int_equal(pa_addr_parse(v6 ? "fd00::2" : "10.9.0.2", &d), 0);
	wr_init(&w, buf, cap);
	assert_int_equal(uesp_ip_hdr(&w, &s, &d, IPPROTO_UDP, 0x4242, 0, 61),
	    0);
	wr_u16(&w, 1234);
	wr_u16(&w, 5678);
	wr_u16(&w, (uint16_t)(8 + payload));
	wr_u16(&w, 0);
	for (i = 0; i < payload; i++)
		wr_u8(&w, (uint8_t)(i * 13));
	assert_int_equal(uesp_ip_finish(&w, s.family), 0);
	/*
	 * A valid UDP checksum: transport-mode ESP-in-UDP recomputes it after
	 * decapsulation (RFC 3948 3.1.2), which must give the same bytes
	 * when the addresses did not change.
	 */
	hl = v6 ? 40 : 20;
	ul = w.len - hl;
	sum = uesp_cksum_add(&buf[v6 ? 8 : 12], v6 ? 32 : 8, 0);
	sum += IPPROTO_UDP + (uint32_t)ul;
	c = uesp_cksum(&buf[hl], ul, sum);
	if (c == 0)
		c = 0xffff;
	buf[hl + 6] = (uint8_t)(c >> 8);
	buf[hl + 7] = (uint8_t)c;
	return w.len;
}

/* Take an encapsulated packet apart as the raw sockets would. */
static int
rx_of(const uint8_t *pkt, size_t len, bool v6, struct uesp_rx *rx)
{
	struct pa_addr s, d;
	struct rd r;
	uint8_t nh;
	int rc;

	if (!v6)
		return uesp_rx_parse_ip4(pkt, len, 4500, rx);
	rd_init(&r, pkt, len);
	if ((rc = rd_skip(&r, 6)) != 0 || (rc = rd_u8(&r, &nh)) != 0 ||
	    (rc = rd_skip(&r, 1)) != 0)
		return rc;
	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	s.family = d.family = AF_INET6;
	if ((rc = rd_copy(&r, s.a, 16)) != 0 || (rc = rd_copy(&r, d.a, 16)) != 0)
		return rc;
	return uesp_rx_parse_l4(nh, &s, &d, rd_rest(&r).p, rd_left(&r), 4500,
	    rx);
}

static struct uesp_sadb *
db_with(struct uesp_sa *in)
{
	struct uesp_sadb *db = uesp_sadb_new();

	assert_non_null(db);
	assert_int_equal(uesp_sadb_add(db, in), 0);
	return db;
}

/* ---- known answers ---- */

/*
 * The SA table at scale: 20,000 pairs (outbound SPIs chosen by "peers"
 * may equal inbound ones), then every third pair removed. Each lookup
 * (by id, by inbound SPI, outbound by reqid, newest first) answers
 * exactly what a list would; removed SAs are gone from all of them.
 */
static void
test_sadb_many(void **state)
{
	enum { N = 20000 };
	struct uesp_sadb *db = uesp_sadb_new();
	struct uesp_sa *sa, *old, *sas[2 * N];
	struct sa_params p;
	struct sa_id id;
	size_t i;

	(void)state;
	assert_non_null(db);
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.enc = DRV_ENC_AES_GCM_16;
	fill_keys(&p);
	for (i = 0; i < N; i++) {
		id = mk_id(DRV_PROTO_ESP, 0x10000 + (uint32_t)i, false);
		p.inbound = true;
		p.reqid = (uint32_t)i + 1;
		assert_int_equal(uesp_sa_new(&id, &p, 0, &sas[2 * i]), 0);
		assert_int_equal(uesp_sadb_add(db, sas[2 * i]), 0);
		/* The peer's SPI for our outbound SA: the same number. */
		id = mk_id(DRV_PROTO_ESP, 0x10000 + (uint32_t)i, false);
		id.dst = id.src;
		p.inbound = false;
		assert_int_equal(uesp_sa_new(&id, &p, 0, &sas[2 * i + 1]), 0);
		assert_int_equal(uesp_sadb_add(db, sas[2 * i + 1]), 0);
	}
	assert_int_equal(uesp_sadb_count(db), 2 * N);
	/* The same id twice, and an inbound SPI twice, are refused. */
	assert_int_equal(uesp_sadb_add(db, sas[0]), PA_E_EXIST);
	for (i = 0; i < N; i += 3) {
		assert_ptr_equal(uesp_sadb_remove(db, uesp_sa_id(sas[2 * i])),
		    sas[2 * i]);
		assert_ptr_equal(uesp_sadb_remove(db,
		    uesp_sa_id(sas[2 * i + 1])), sas[2 * i + 1]);
	}
	for (i = 0; i < N; i++) {
		bool gone = i % 3 == 0;

		assert_ptr_equal(uesp_sadb_find(db, uesp_sa_id(sas[2 * i])),
		    gone ? NULL : sas[2 * i]);
		assert_ptr_equal(uesp_sadb_find(db,
		    uesp_sa_id(sas[2 * i + 1])), gone ? NULL : sas[2 * i + 1]);
		assert_ptr_equal(uesp_sadb_by_spi(db, DRV_PROTO_ESP,
		    0x10000 + (uint32_t)i), gone ? NULL : sas[2 * i]);
		assert_ptr_equal(uesp_sadb_out(db, DRV_PROTO_ESP,
		    (uint32_t)i + 1, NULL), gone ? NULL : sas[2 * i + 1]);
		if (gone) {
			uesp_sa_free(sas[2 * i]);
			uesp_sa_free(sas[2 * i + 1]);
		}
	}
	assert_int_equal(uesp_sadb_count(db), 2 * (N - (N + 2) / 3));
	/* A rekey: the newer outbound SA of a reqid wins, then the older. */
	old = sas[3];
	id = *uesp_sa_id(old);
	id.spi = 0x7fff0000;
	p.inbound = false;
	p.reqid = 2;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	assert_int_equal(uesp_sadb_add(db, sa), 0);
	assert_ptr_equal(uesp_sadb_out(db, DRV_PROTO_ESP, 2, NULL), sa);
	assert_ptr_equal(uesp_sadb_remove(db, &id), sa);
	uesp_sa_free(sa);
	assert_ptr_equal(uesp_sadb_out(db, DRV_PROTO_ESP, 2, NULL), old);
	uesp_sadb_free(db);
}

static void
test_kat_aes_cbc_rfc3602(void **state)
{
	struct sa_id id = mk_id(DRV_PROTO_ESP, 1, false);
	struct sa_params p;
	struct uesp_sa *sa;
	uint8_t iv[16], pt[16], ct[16], out[16];

	(void)state;
	/* RFC 3602 section 4, Case #1. */
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.enc = DRV_ENC_AES_CBC;
	p.enc_key_len = 16;
	hex("06a9214036b8a15b512e03d534120006", p.enc_key, 16);
	hex("3dafba429d9eb430b422da802c9fac41", iv, 16);
	memcpy(pt, "Single block msg", 16);
	hex("e353779c1079aeb82708942dbe77181a", ct, 16);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	assert_int_equal(uesp_sa_cipher(sa, iv, NULL, 0, pt, out, 16, NULL),
	    0);
	assert_memory_equal(out, ct, 16);
	uesp_sa_free(sa);
	p.inbound = true;
	hex("06a9214036b8a15b512e03d534120006", p.enc_key, 16);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	assert_int_equal(uesp_sa_cipher(sa, iv, NULL, 0, ct, out, 16, NULL),
	    0);
	assert_memory_equal(out, pt, 16);
	uesp_sa_free(sa);
}

static void
test_kat_aes_gcm(void **state)
{
	struct sa_id id = mk_id(DRV_PROTO_ESP, 1, false);
	struct sa_params p;
	struct uesp_sa *sa;
	uint8_t iv[8], pt[16], ct[16], tag[16], out[16], t[16];

	(void)state;
	/* GCM specification (McGrew/Viega) Test Case 2: K=0, IV=0, P=0. */
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.enc = DRV_ENC_AES_GCM_16;
	p.enc_key_len = 20;		/* key 0^16, salt 0^4 */
	memset(iv, 0, sizeof(iv));
	memset(pt, 0, sizeof(pt));
	hex("0388dace60b6a392f328c2b971b2fe78", ct, 16);
	hex("ab6e47d42cec13bdf53a67b21257bddf", tag, 16);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	assert_int_equal(uesp_sa_cipher(sa, iv, NULL, 0, pt, out, 16, t), 0);
	assert_memory_equal(out, ct, 16);
	assert_memory_equal(t, tag, 16);
	uesp_sa_free(sa);
	p.inbound = true;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	assert_int_equal(uesp_sa_cipher(sa, iv, NULL, 0, ct, out, 16, tag), 0);
	assert_memory_equal(out, pt, 16);
	tag[0] ^= 1;
	assert_int_equal(uesp_sa_cipher(sa, iv, NULL, 0, ct, out, 16, tag),
	    PA_E_VERIFY);
	uesp_sa_free(sa);
}

static void
test_kat_hmac_rfc2202(void **state)
{
	struct sa_id id = mk_id(DRV_PROTO_AH, 1, false);
	struct sa_params p;
	struct uesp_sa *sa;
	uint8_t icv[UESP_ICV_MAX], want[20];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TRANSPORT;
	p.auth = DRV_AUTH_HMAC_SHA1_96;
	p.auth_key_len = 20;
	memset(p.auth_key, 0x0b, 20);
	hex("b617318655057264e28bc0b6fb378c8ef146be00", want, 20);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	/* Split across pieces: same MAC as one piece. */
	assert_int_equal(uesp_sa_icv(sa, (const uint8_t *)"Hi ", 3,
	    (const uint8_t *)"The", 3, (const uint8_t *)"re", 2, icv), 0);
	assert_memory_equal(icv, want, 12);
	/* The context is re-keyed per packet: the second MAC is the same. */
	assert_int_equal(uesp_sa_icv(sa, (const uint8_t *)"Hi There", 8,
	    NULL, 0, NULL, 0, icv), 0);
	assert_memory_equal(icv, want, 12);
	uesp_sa_free(sa);

	p.auth = DRV_AUTH_HMAC_MD5_96;
	p.auth_key_len = 16;
	memset(p.auth_key, 0x0b, 16);
	hex("9294727a3638bb1c13f48ef8158bfc9d", want, 16);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), 0);
	assert_int_equal(uesp_sa_icv(sa, (const uint8_t *)"Hi There", 8,
	    NULL, 0, NULL, 0, icv), 0);
	assert_memory_equal(icv, want, 12);
	uesp_sa_free(sa);
}

static void
test_bad_params_rejected(void **state)
{
	struct sa_id id = mk_id(DRV_PROTO_ESP, 1, false);
	struct sa_params p;
	struct uesp_sa *sa = NULL;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	/* ESP with neither cipher nor MAC. */
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), PA_E_INVAL);
	p.enc = DRV_ENC_AES_CBC;
	p.enc_key_len = 15;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), PA_E_INVAL);
	p.enc = DRV_ENC_AES_GCM_16;
	p.enc_key_len = 20;
	p.auth = DRV_AUTH_HMAC_SHA1_96;
	p.auth_key_len = 20;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), PA_E_INVAL);
	id.proto = DRV_PROTO_AH;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), PA_E_INVAL);
	id.proto = 17;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &sa), PA_E_INVAL);
	assert_null(sa);
}

/*
 * The ESP bytes re-derived with OpenSSL's one-shot calls, independently
 * of the engine: SPI, sequence, IV, AES-CBC(payload | 1..n | n | 17),
 * HMAC-SHA1 truncated to 96 bits over everything before it.
 */
static void
test_esp_wire_format(void **state)
{
	struct uesp_sa *out, *in;
	uint8_t inner[256], plain[256], mac[20], enc_key[16], auth_key[20];
	struct sa_params kp;
	EVP_CIPHER_CTX *c;
	enum uesp_life life;
	size_t ilen, olen, ctlen, i;
	unsigned maclen = 0;
	int n, f;

	(void)state;
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA1_96,
	    DRV_MODE_TRANSPORT, false, 0, &out, &in);
	memset(&kp, 0, sizeof(kp));
	kp.enc = DRV_ENC_AES_CBC;
	kp.auth = DRV_AUTH_HMAC_SHA1_96;
	fill_keys(&kp);
	memcpy(enc_key, kp.enc_key, 16);
	memcpy(auth_key, kp.auth_key, 20);
	ilen = mk_inner(inner, sizeof(inner), false, 37);
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	/* IPv4 header: proto 50, same addresses, valid length. */
	assert_int_equal(obuf[9], IPPROTO_ESP);
	assert_int_equal(obuf[2] << 8 | obuf[3], olen);
	assert_memory_equal(&obuf[12], &inner[12], 8);
	assert_int_equal(uesp_cksum(obuf, 20, 0), 0);
	/* SPI, seq 1. */
	assert_int_equal(obuf[20] << 24 | obuf[21] << 16 | obuf[22] << 8 |
	    obuf[23], 0x1000 + DRV_PROTO_ESP);
	assert_int_equal(obuf[27], 1);
	ctlen = olen - 20 - 8 - 16 - 12;
	assert_int_equal(ctlen % 16, 0);
	/* ICV */
	HMAC(EVP_sha1(), auth_key, 20, &obuf[20], olen - 20 - 12, mac, &maclen);
	assert_memory_equal(mac, &obuf[olen - 12], 12);
	/* Decrypt */
	c = EVP_CIPHER_CTX_new();
	assert_non_null(c);
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_128_cbc(), NULL, enc_key,
	    &obuf[28]), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_DecryptUpdate(c, plain, &n, &obuf[44],
	    (int)ctlen), 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, plain + n, &f), 1);
	EVP_CIPHER_CTX_free(c);
	assert_memory_equal(plain, &inner[20], ilen - 20);
	for (i = 0; i < plain[ctlen - 2]; i++)
		assert_int_equal(plain[ilen - 20 + i], i + 1);
	assert_int_equal(ilen - 20 + plain[ctlen - 2] + 2, ctlen);
	assert_int_equal(plain[ctlen - 1], IPPROTO_UDP);
	uesp_sa_free(out);
	uesp_sa_free(in);
}

/* ---- round trips ---- */

struct combo {
	uint8_t		proto;
	enum drv_enc	enc;
	enum drv_auth	auth;
};

static const struct combo combos[] = {
	{ DRV_PROTO_ESP, DRV_ENC_NONE, DRV_AUTH_HMAC_SHA1_96 },
	{ DRV_PROTO_ESP, DRV_ENC_DES_CBC, DRV_AUTH_HMAC_MD5_96 },
	{ DRV_PROTO_ESP, DRV_ENC_3DES_CBC, DRV_AUTH_HMAC_SHA1_96 },
	{ DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA1_96 },
	{ DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA256_128 },
	{ DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_NONE },
	{ DRV_PROTO_ESP, DRV_ENC_AES_GCM_16, DRV_AUTH_NONE },
	{ DRV_PROTO_AH, DRV_ENC_NONE, DRV_AUTH_HMAC_MD5_96 },
	{ DRV_PROTO_AH, DRV_ENC_NONE, DRV_AUTH_HMAC_SHA1_96 },
	{ DRV_PROTO_AH, DRV_ENC_NONE, DRV_AUTH_HMAC_SHA256_128 },
};

static void
roundtrip_one(const struct combo *c, enum drv_mode mode, bool v6,
    uint16_t encap, size_t payload)
{
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[2048];
	size_t ilen, olen, dlen;
	struct sa_stats st;

	mk_pair(c->proto, c->enc, c->auth, mode, v6, encap, &out, &in);
	db = db_with(in);
	ilen = mk_inner(inner, sizeof(inner), v6, payload);
	assert_int_equal(uesp_encap(c->proto == DRV_PROTO_ESP ? out : NULL,
	    c->proto == DRV_PROTO_AH ? out : NULL, inner, ilen, obuf,
	    sizeof(obuf), &olen, &life), 0);
	assert_int_equal(rx_of(obuf, olen, v6, &rx), 0);
	assert_int_equal(rx.udp, encap != 0);
	assert_int_equal(rx.proto, c->proto);
	assert_int_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen, &v),
	    0);
	assert_ptr_equal(v.sa, in);
	assert_int_equal(dlen, ilen);
	if (mode == DRV_MODE_TUNNEL)
		assert_memory_equal(ibuf, inner, ilen);
	else if (v6) {
		/* Transport IPv6: the hop limit comes from the outer header. */
		assert_memory_equal(ibuf, inner, 7);
		assert_memory_equal(&ibuf[8], &inner[8], ilen - 8);
	} else {
		/* Transport IPv4: TTL and TOS come from the outer header. */
		assert_memory_equal(&ibuf[12], &inner[12], ilen - 12);
		assert_int_equal(uesp_cksum(ibuf, 20, 0), 0);
	}
	/* The same packet again is a replay. */
	assert_int_not_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen,
	    &v), 0);
	assert_int_equal(v.why, DRV_DROP_REPLAY);
	uesp_sa_stats(in, &st);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.bytes, ilen);
	assert_int_equal(st.replay_drops, 1);
	uesp_sa_stats(out, &st);
	assert_int_equal(st.packets, 1);
	uesp_sa_free(out);
	uesp_sadb_free(db);
}

static void
test_roundtrip_all(void **state)
{
	size_t i, m, f, e;
	static const size_t sizes[] = { 0, 1, 13, 1400 };

	(void)state;
	for (i = 0; i < sizeof(combos) / sizeof(combos[0]); i++)
		for (m = DRV_MODE_TRANSPORT; m <= DRV_MODE_TUNNEL; m++)
			for (f = 0; f < 2; f++)
				for (e = 0; e < 2; e++) {
					if (e && combos[i].proto == DRV_PROTO_AH)
						continue;
					roundtrip_one(&combos[i], m, f, e ? 4500 : 0,
					    sizes[(i + m + f + e) % 4]);
				}
}

static void
test_ah_over_esp(void **state)
{
	struct uesp_sa *eo, *ei, *ao, *ai;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[512];
	size_t ilen, olen, dlen, f;

	(void)state;
	for (f = 0; f < 2; f++) {
		mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA1_96,
		    DRV_MODE_TUNNEL, f, 0, &eo, &ei);
		mk_pair(DRV_PROTO_AH, DRV_ENC_NONE, DRV_AUTH_HMAC_SHA256_128,
		    DRV_MODE_TRANSPORT, f, 0, &ao, &ai);
		db = db_with(ei);
		assert_int_equal(uesp_sadb_add(db, ai), 0);
		ilen = mk_inner(inner, sizeof(inner), f, 100);
		assert_int_equal(uesp_encap(eo, ao, inner, ilen, obuf,
		    sizeof(obuf), &olen, &life), 0);
		assert_int_equal(rx_of(obuf, olen, f, &rx), 0);
		assert_int_equal(rx.proto, DRV_PROTO_AH);
		assert_int_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen,
		    &v), 0);
		assert_int_equal(dlen, ilen);
		assert_memory_equal(ibuf, inner, ilen);
		assert_ptr_equal(v.sa, ei);
		uesp_sa_free(eo);
		uesp_sa_free(ao);
		uesp_sadb_free(db);
	}
}

/* ---- failures ---- */

static void
test_replay_window(void **state)
{
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[128];
	static uint8_t pkts[1200][200];
	static size_t lens[1200];
	size_t ilen, dlen, i;

	(void)state;
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_GCM_16, DRV_AUTH_NONE,
	    DRV_MODE_TUNNEL, false, 0, &out, &in);
	assert_int_equal(uesp_sa_replay_window(in), UESP_REPLAY_MIN);
	db = db_with(in);
	ilen = mk_inner(inner, sizeof(inner), false, 20);
	for (i = 0; i < 1200; i++)
		assert_int_equal(uesp_encap(out, NULL, inner, ilen, pkts[i],
		    sizeof(pkts[i]), &lens[i], &life), 0);
#define DECAP(k) (rx_of(pkts[k], lens[k], false, &rx) == 0 ? \
	uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen, &v) : -99)
	/* Newest first, then older ones inside the window, out of order. */
	assert_int_equal(DECAP(1100), 0);
	assert_int_equal(DECAP(1099), 0);
	assert_int_equal(DECAP(500), 0);
	assert_int_equal(DECAP(77), 0);		/* seq 78: 1101-78 < 1024 */
	assert_int_equal(DECAP(500), PA_E_VERIFY);
	assert_int_equal(v.why, DRV_DROP_REPLAY);
	assert_int_equal(DECAP(76), PA_E_VERIFY);	/* seq 77: outside */
	assert_int_equal(v.why, DRV_DROP_REPLAY);
	assert_int_equal(DECAP(1199), 0);
	assert_int_equal(DECAP(1101), 0);
	assert_int_equal(DECAP(1100), PA_E_VERIFY);
	assert_int_equal(DECAP(175), PA_E_VERIFY);	/* slid out */
#undef DECAP
	uesp_sa_free(out);
	uesp_sadb_free(db);
}

static void
test_forged_icv_and_ciphertext(void **state)
{
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[256], pkt[512];
	size_t ilen, olen, dlen, i, c;
	struct sa_stats st;
	static const struct combo cs[] = {
		{ DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA1_96 },
		{ DRV_PROTO_ESP, DRV_ENC_AES_GCM_16, DRV_AUTH_NONE },
		{ DRV_PROTO_AH, DRV_ENC_NONE, DRV_AUTH_HMAC_SHA1_96 },
	};

	(void)state;
	for (c = 0; c < 3; c++) {
		mk_pair(cs[c].proto, cs[c].enc, cs[c].auth, DRV_MODE_TUNNEL,
		    false, 0, &out, &in);
		db = db_with(in);
		ilen = mk_inner(inner, sizeof(inner), false, 50);
		assert_int_equal(uesp_encap(cs[c].proto == DRV_PROTO_ESP ? out :
		    NULL, cs[c].proto == DRV_PROTO_AH ? out : NULL, inner,
		    ilen, obuf, sizeof(obuf), &olen, &life), 0);
		/* Flip one bit of every byte after the SPI/seq in turn. */
		for (i = 20 + (cs[c].proto == DRV_PROTO_AH ? 12 : 8); i < olen;
		    i++) {
			memcpy(pkt, obuf, olen);
			pkt[i] ^= 0x40;
			assert_int_equal(rx_of(pkt, olen, false, &rx), 0);
			assert_int_equal(uesp_decap(db, &rx, ibuf,
			    sizeof(ibuf), &dlen, &v), PA_E_VERIFY);
			assert_int_equal(v.why, DRV_DROP_ICV);
		}
		uesp_sa_stats(in, &st);
		assert_int_equal(st.auth_drops, olen -
		    (20 + (cs[c].proto == DRV_PROTO_AH ? 12 : 8)));
		assert_int_equal(st.packets, 0);
		/* The genuine packet still passes: nothing was poisoned. */
		assert_int_equal(rx_of(obuf, olen, false, &rx), 0);
		assert_int_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen,
		    &v), 0);
		uesp_sa_free(out);
		uesp_sadb_free(db);
	}
}

/*
 * Give the tampered IPv4 ESP packet in obuf a valid HMAC-SHA1-96 ICV
 * (key from kp): decap must still drop it, as undecryptable.
 */
static void
forged_dropped(struct uesp_sadb *db, const struct sa_params *kp, size_t olen)
{
	struct uesp_rx rx;
	struct uesp_verdict v;
	uint8_t mac[20];
	unsigned maclen;
	size_t dlen;

	HMAC(EVP_sha1(), kp->auth_key, 20, &obuf[20], olen - 20 - 12, mac,
	    &maclen);
	memcpy(&obuf[olen - 12], mac, 12);
	assert_int_equal(rx_of(obuf, olen, false, &rx), 0);
	assert_int_not_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen,
	    &v), 0);
	assert_int_equal(v.why, DRV_DROP_DECRYPT);
}

static void
test_bad_padding(void **state)
{
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	enum uesp_life life;
	struct sa_params kp;
	uint8_t inner[256];
	size_t ilen, olen;
	struct sa_stats st;

	(void)state;
	/* ESP-NULL + HMAC: we can forge a valid ICV over bad padding. */
	mk_pair(DRV_PROTO_ESP, DRV_ENC_NONE, DRV_AUTH_HMAC_SHA1_96,
	    DRV_MODE_TUNNEL, false, 0, &out, &in);
	memset(&kp, 0, sizeof(kp));
	kp.auth = DRV_AUTH_HMAC_SHA1_96;
	fill_keys(&kp);
	db = db_with(in);
	ilen = mk_inner(inner, sizeof(inner), false, 1);	/* 29 bytes */
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	/* 29 + 2 -> pad 1 to 32: trailer ... 01 01 04 before the ICV. */
	assert_int_equal(obuf[olen - 12 - 1], IPPROTO_IPIP);
	assert_int_equal(obuf[olen - 12 - 2], 1);
	assert_int_equal(obuf[olen - 12 - 3], 1);
	obuf[olen - 12 - 3] = 7;	/* pad byte must be 1 */
	forged_dropped(db, &kp, olen);
	/* Pad length beyond the payload. */
	obuf[olen - 12 - 3] = 1;
	obuf[olen - 12 - 2] = 200;
	forged_dropped(db, &kp, olen);
	uesp_sa_stats(in, &st);
	assert_int_equal(st.decrypt_drops, 2);
	uesp_sa_free(out);
	uesp_sadb_free(db);
}

static void
test_truncations(void **state)
{
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[256], *cut;
	size_t ilen, olen, dlen, n, c;
	int rc;

	(void)state;
	for (c = 0; c < sizeof(combos) / sizeof(combos[0]); c++) {
		bool v6 = c % 2;

		mk_pair(combos[c].proto, combos[c].enc, combos[c].auth,
		    c % 3 ? DRV_MODE_TUNNEL : DRV_MODE_TRANSPORT, v6,
		    combos[c].proto == DRV_PROTO_ESP && c % 4 == 0 ? 4500 : 0,
		    &out, &in);
		db = db_with(in);
		ilen = mk_inner(inner, sizeof(inner), v6, 40);
		assert_int_equal(uesp_encap(combos[c].proto == DRV_PROTO_ESP ?
		    out : NULL, combos[c].proto == DRV_PROTO_AH ? out : NULL,
		    inner, ilen, obuf, sizeof(obuf), &olen, &life), 0);
		for (n = 0; n < olen; n++) {
			/* An exact-size copy so ASan sees any over-read. */
			cut = malloc(n + 1);
			assert_non_null(cut);
			memcpy(cut, obuf, n);
			rc = rx_of(cut, n, v6, &rx) == 0 ? uesp_decap(db, &rx,
			    ibuf, sizeof(ibuf), &dlen, &v) : -1;
			/*
			 * Without integrity (CBC, no MAC) a cut at a block
			 * boundary may decrypt to a plausible trailer by
			 * chance; everything else must fail.
			 */
			if (combos[c].auth != DRV_AUTH_NONE ||
			    combos[c].enc == DRV_ENC_AES_GCM_16)
				assert_int_not_equal(rc, 0);
			/* And a truncated ESP/AH inside an intact header. */
			if (!v6 && n >= 20 && n < olen) {
				struct uesp_rx rx2;

				if (rx_of(obuf, olen, false, &rx2) == 0 &&
				    rx2.payload.len > olen - n) {
					rx2.payload.len -= olen - n;
					rc = uesp_decap(db, &rx2, ibuf,
					    sizeof(ibuf), &dlen, &v);
					if (combos[c].auth != DRV_AUTH_NONE ||
					    combos[c].enc == DRV_ENC_AES_GCM_16)
						assert_int_not_equal(rc, 0);
				}
			}
			free(cut);
		}
		/* Failures left no trace: the genuine packet passes. */
		assert_int_equal(rx_of(obuf, olen, v6, &rx), 0);
		rc = uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen, &v);
		if (combos[c].auth != DRV_AUTH_NONE ||
		    combos[c].enc == DRV_ENC_AES_GCM_16)
			assert_int_equal(rc, 0);
		uesp_sa_free(out);
		uesp_sadb_free(db);
	}
}

static void
test_unknown_spi_and_wrong_dst(void **state)
{
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[128];
	size_t ilen, olen, dlen;

	(void)state;
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA1_96,
	    DRV_MODE_TUNNEL, false, 0, &out, &in);
	db = db_with(in);
	ilen = mk_inner(inner, sizeof(inner), false, 10);
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	obuf[23] ^= 0xff;	/* SPI */
	assert_int_equal(rx_of(obuf, olen, false, &rx), 0);
	assert_int_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen, &v),
	    PA_E_NOENT);
	assert_int_equal(v.why, DRV_DROP_BAD_SPI);
	obuf[23] ^= 0xff;
	assert_int_equal(rx_of(obuf, olen, false, &rx), 0);
	rx.dst.a[3] = 99;
	assert_int_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen, &v),
	    PA_E_NOENT);
	assert_int_equal(v.why, DRV_DROP_BAD_SPI);
	/* An outbound SA is never used to receive. */
	assert_int_equal(uesp_encap(in, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), PA_E_STATE);
	uesp_sa_free(out);
	uesp_sadb_free(db);
}

static void
test_selector_enforced(void **state)
{
	struct sa_id id = mk_id(DRV_PROTO_ESP, 0x777, false);
	struct sa_params p;
	struct uesp_sa *out, *in;
	struct uesp_sadb *db;
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	uint8_t inner[128];
	size_t ilen, olen, dlen;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.enc = DRV_ENC_AES_GCM_16;
	fill_keys(&p);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &out), 0);
	p.inbound = true;
	/* The receiver only accepts TCP. */
	p.sel.proto = IPPROTO_TCP;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &in), 0);
	db = db_with(in);
	ilen = mk_inner(inner, sizeof(inner), false, 10);
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(rx_of(obuf, olen, false, &rx), 0);
	assert_int_equal(uesp_decap(db, &rx, ibuf, sizeof(ibuf), &dlen, &v),
	    PA_E_PERM);
	assert_int_equal(v.why, DRV_DROP_BLOCKED);
	uesp_sa_free(out);
	uesp_sadb_free(db);
}

static void
test_lifetimes(void **state)
{
	struct sa_id id = mk_id(DRV_PROTO_ESP, 0x555, false);
	struct sa_params p;
	struct uesp_sa *sa;
	enum uesp_life life;
	uint8_t inner[256];
	size_t ilen, olen;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.enc = DRV_ENC_AES_GCM_16;
	fill_keys(&p);
	p.life.soft_bytes = 250;
	p.life.hard_bytes = 500;
	p.life.soft_sec = 10;
	p.life.hard_sec = 20;
	assert_int_equal(uesp_sa_new(&id, &p, 1000, &sa), 0);
	ilen = mk_inner(inner, sizeof(inner), false, 72);	/* 100 bytes */
	assert_int_equal(uesp_encap(sa, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(life, UESP_LIFE_OK);
	assert_int_equal(uesp_encap(sa, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(life, UESP_LIFE_OK);
	assert_int_equal(uesp_encap(sa, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(life, UESP_LIFE_SOFT);		/* 300 >= 250 */
	assert_int_equal(uesp_encap(sa, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(life, UESP_LIFE_OK);		/* once only */
	assert_int_equal(uesp_encap(sa, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(life, UESP_LIFE_HARD);		/* 500 */
	assert_true(uesp_sa_dead(sa));
	assert_int_equal(uesp_encap(sa, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), PA_E_STATE);
	uesp_sa_free(sa);

	p.life.soft_bytes = p.life.hard_bytes = 0;
	fill_keys(&p);
	assert_int_equal(uesp_sa_new(&id, &p, 1000, &sa), 0);
	assert_int_equal(uesp_sa_life_check(sa, 10999), UESP_LIFE_OK);
	assert_int_equal(uesp_sa_life_check(sa, 11000), UESP_LIFE_SOFT);
	assert_int_equal(uesp_sa_life_check(sa, 12000), UESP_LIFE_OK);
	assert_int_equal(uesp_sa_life_check(sa, 21000), UESP_LIFE_HARD);
	assert_int_equal(uesp_sa_life_check(sa, 22000), UESP_LIFE_OK);
	assert_true(uesp_sa_dead(sa));
	uesp_sa_free(sa);
}

static void
test_sequence_exhaustion(void **state)
{
	struct uesp_sa *out, *in;
	enum uesp_life life;
	uint8_t inner[128];
	size_t ilen, olen;

	(void)state;
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_CBC, DRV_AUTH_HMAC_SHA1_96,
	    DRV_MODE_TUNNEL, false, 0, &out, &in);
	ilen = mk_inner(inner, sizeof(inner), false, 10);
	uesp_sa_set_seq(out, UINT32_MAX);
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), PA_E_STATE);
	assert_int_equal(life, UESP_LIFE_HARD);
	assert_true(uesp_sa_dead(out));
	uesp_sa_free(out);
	uesp_sa_free(in);
}

static void
test_rx_parse_udp(void **state)
{
	struct uesp_sa *out, *in;
	struct uesp_rx rx;
	enum uesp_life life;
	uint8_t inner[128], pkt[128];
	size_t ilen, olen;

	(void)state;
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_GCM_16, DRV_AUTH_NONE,
	    DRV_MODE_TUNNEL, false, 4500, &out, &in);
	ilen = mk_inner(inner, sizeof(inner), false, 10);
	assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf, sizeof(obuf),
	    &olen, &life), 0);
	assert_int_equal(obuf[9], IPPROTO_UDP);
	assert_int_equal(uesp_rx_parse_ip4(obuf, olen, 4500, &rx), 0);
	assert_true(rx.udp);
	assert_int_equal(rx.sport, 4500);
	/* Another port: not ours. */
	assert_int_equal(uesp_rx_parse_ip4(obuf, olen, 4501, &rx), PA_E_AGAIN);
	/* The non-ESP marker: IKE. */
	memcpy(pkt, obuf, olen);
	memset(&pkt[28], 0, 4);
	assert_int_equal(uesp_rx_parse_ip4(pkt, olen, 4500, &rx), PA_E_AGAIN);
	/* A NAT-T keepalive (one 0xff byte). */
	pkt[2] = 0;
	pkt[3] = 29;
	pkt[24] = 0;
	pkt[25] = 9;
	pkt[28] = 0xff;
	assert_int_equal(uesp_rx_parse_ip4(pkt, 29, 4500, &rx), PA_E_AGAIN);
	/* UDP length past the packet. */
	pkt[25] = 200;
	assert_int_equal(uesp_rx_parse_ip4(pkt, 29, 4500, &rx), PA_E_SHORT);
	/* A fragment. */
	memcpy(pkt, obuf, olen);
	pkt[6] = 0x20;
	assert_int_equal(uesp_rx_parse_ip4(pkt, olen, 4500, &rx), PA_E_NOTSUP);
	uesp_sa_free(out);
	uesp_sa_free(in);
}

/*
 * A UDP GSO aggregate (ESP packets of one SA back to back, as a raw
 * socket receives them over veth) is cut back into the ESP packets; a
 * single packet and every truncation stay within bounds.
 */
static void
test_rx_gso_cut(void **state)
{
	static uint8_t agg[UESP_MAX_PKT];
	struct uesp_sa *out, *in;
	enum uesp_life life;
	struct pa_bytes rest, one;
	struct rd r;
	uint8_t inner[1500];
	size_t ilen, olen, off[8], len[8], alen = 0, n, k, cut;

	(void)state;
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_GCM_16, DRV_AUTH_NONE,
	    DRV_MODE_TUNNEL, false, 4500, &out, &in);
	for (k = 0; k < 8; k++) {
		/* Seven of one size, then a shorter one. */
		ilen = mk_inner(inner, sizeof(inner), false,
		    k < 7 ? 1200 : 300);
		assert_int_equal(uesp_encap(out, NULL, inner, ilen, obuf,
		    sizeof(obuf), &olen, &life), 0);
		assert_true(olen > 28);
		off[k] = alen;
		len[k] = olen - 28;		/* IPv4 + UDP headers */
		memcpy(&agg[alen], &obuf[28], len[k]);
		alen += len[k];
	}
	assert_true(alen > UESP_GSO_MIN);
	rest.p = agg;
	rest.len = alen;
	for (k = 0; k < 8; k++) {
		n = uesp_rx_gso_seg(rest);
		assert_int_equal(n, len[k]);
		rd_init(&r, rest.p, rest.len);
		assert_int_equal(rd_bytes(&r, n, &one), 0);
		assert_memory_equal(one.p, &agg[off[k]], len[k]);
		rest = rd_rest(&r);
	}
	assert_int_equal(rest.len, 0);
	/* One packet alone: all of it. */
	one.p = agg;
	one.len = len[0];
	assert_int_equal(uesp_rx_gso_seg(one), len[0]);
	/* Another SA's packet next: no cut found, one piece (which then
	 * fails its ICV and is dropped). */
	agg[off[1]] ^= 0x80;
	one.len = alen;
	assert_int_equal(uesp_rx_gso_seg(one), alen);
	agg[off[1]] ^= 0x80;
	/* Every truncation: the cut is within the bytes and the pieces
	 * add up to them. */
	for (cut = 0; cut <= alen; cut++) {
		size_t sum = 0, pieces = 0;

		rest.p = agg;
		rest.len = cut;
		while (rest.len > 0) {
			n = uesp_rx_gso_seg(rest);
			assert_true(n > 0 && n <= rest.len);
			rd_init(&r, rest.p, rest.len);
			assert_int_equal(rd_bytes(&r, n, &one), 0);
			rest = rd_rest(&r);
			sum += n;
			pieces++;
		}
		assert_int_equal(sum, cut);
		assert_true(pieces <= 8);
	}
	uesp_sa_free(out);
	uesp_sa_free(in);
}

static void
test_selectors(void **state)
{
	uint8_t inner[128];
	struct drv_sel ps, f;
	size_t ilen, hl;

	(void)state;
	ilen = mk_inner(inner, sizeof(inner), false, 4);
	assert_int_equal(uesp_pkt_sel(inner, ilen, &ps, &hl), 0);
	assert_int_equal(hl, 20);
	assert_int_equal(ps.proto, IPPROTO_UDP);
	assert_int_equal(ps.sport, 1234);
	assert_int_equal(ps.dport, 5678);
	memset(&f, 0, sizeof(f));
	assert_true(uesp_sel_match(&f, &ps));
	assert_int_equal(pa_prefix_parse("10.9.0.0/24", &f.dst), 0);
	assert_true(uesp_sel_match(&f, &ps));
	f.dport = 5679;
	assert_false(uesp_sel_match(&f, &ps));
	f.dport = 5678;
	f.proto = IPPROTO_TCP;
	assert_false(uesp_sel_match(&f, &ps));
	f.proto = 0;
	assert_int_equal(pa_prefix_parse("10.9.1.0/24", &f.dst), 0);
	assert_false(uesp_sel_match(&f, &ps));
	assert_int_equal(pa_prefix_parse("fd00::/8", &f.dst), 0);
	assert_false(uesp_sel_match(&f, &ps));
	ilen = mk_inner(inner, sizeof(inner), true, 4);
	assert_int_equal(uesp_pkt_sel(inner, ilen, &ps, &hl), 0);
	assert_int_equal(hl, 40);
	assert_true(uesp_sel_match(&f, &ps));
	for (hl = 0; hl < 40; hl++)
		assert_int_not_equal(uesp_pkt_sel(inner, hl, &ps, &ilen), 0);
}

static void
test_sadb(void **state)
{
	struct uesp_sa *o1, *i1, *o2, *i2, *x;
	struct uesp_sadb *db = uesp_sadb_new();
	struct drv_sel ps;
	struct sa_params p;
	struct sa_id id;

	(void)state;
	memset(&ps, 0, sizeof(ps));
	mk_pair(DRV_PROTO_ESP, DRV_ENC_AES_GCM_16, DRV_AUTH_NONE,
	    DRV_MODE_TUNNEL, false, 0, &o1, &i1);
	id = mk_id(DRV_PROTO_ESP, 0x2000, false);
	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TUNNEL;
	p.enc = DRV_ENC_AES_GCM_16;
	fill_keys(&p);
	assert_int_equal(uesp_sa_new(&id, &p, 0, &o2), 0);
	p.inbound = true;
	assert_int_equal(uesp_sa_new(&id, &p, 0, &i2), 0);
	/* Outbound SAs go to the peer: another (dst, SPI) than ours. */
	o1->id.spi = 0x3001;
	o2->id.spi = 0x3002;
	assert_int_equal(uesp_sadb_add(db, o1), 0);
	assert_int_equal(uesp_sadb_add(db, i1), 0);
	assert_int_equal(uesp_sadb_add(db, o1), PA_E_EXIST);
	assert_ptr_equal(uesp_sadb_out(db, DRV_PROTO_ESP, 0, &ps), o1);
	assert_int_equal(uesp_sadb_add(db, o2), 0);
	/* Rekey: the newest outbound SA wins. */
	assert_ptr_equal(uesp_sadb_out(db, DRV_PROTO_ESP, 0, &ps), o2);
	assert_null(uesp_sadb_out(db, DRV_PROTO_AH, 0, &ps));
	assert_int_equal(uesp_sadb_add(db, i2), 0);
	assert_ptr_equal(uesp_sadb_by_spi(db, DRV_PROTO_ESP, 0x2000), i2);
	assert_ptr_equal(uesp_sadb_by_spi(db, DRV_PROTO_ESP, 0x1000 + 50), i1);
	assert_null(uesp_sadb_by_spi(db, DRV_PROTO_AH, 0x2000));
	assert_int_equal(uesp_sadb_count(db), 4);
	x = uesp_sadb_remove(db, &id);
	assert_ptr_equal(x, i2);
	uesp_sa_free(x);
	assert_null(uesp_sadb_remove(db, &id));
	assert_null(uesp_sadb_by_spi(db, DRV_PROTO_ESP, 0x2000));
	id.spi = 0x3002;
	x = uesp_sadb_remove(db, &id);
	assert_ptr_equal(x, o2);
	uesp_sa_free(x);
	assert_ptr_equal(uesp_sadb_out(db, DRV_PROTO_ESP, 0, &ps), o1);
	assert_int_equal(uesp_sadb_count(db), 2);
	uesp_sadb_free(db);
}

/* ---- TCP segmentation (TSO from the TUN) ---- */

struct segs {
	size_t	n;
	uint8_t	pkt[8][1600];
	size_t	len[8];
};

static int
seg_cb(void *arg, const uint8_t *p, size_t len)
{
	struct segs *s = arg;

	assert_true(s->n < 8 && len <= sizeof(s->pkt[0]));
	memcpy(s->pkt[s->n], p, len);
	s->len[s->n++] = len;
	return 0;
}

/* TCP checksum check: the sum over pseudo header + segment is 0. */
static bool
tcp_ok(const uint8_t *p, size_t len)
{
	uint8_t ph[12];
	size_t tl = len - 20;

	memset(ph, 0, sizeof(ph));
	memcpy(ph, &p[12], 8);
	ph[9] = IPPROTO_TCP;
	ph[10] = (uint8_t)(tl >> 8);
	ph[11] = (uint8_t)tl;
	return uesp_cksum(&p[20], tl, uesp_cksum_add(ph, 12, 0)) == 0;
}

static void
test_tso_split(void **state)
{
	static uint8_t big[4096], seg[2048];
	static struct segs s;
	struct pa_addr a, b;
	struct wr w;
	size_t i, len;

	(void)state;
	assert_int_equal(pa_addr_parse("10.9.0.1", &a), 0);
	assert_int_equal(pa_addr_parse("10.9.0.2", &b), 0);
	wr_init(&w, big, sizeof(big));
	assert_int_equal(uesp_ip_hdr(&w, &a, &b, IPPROTO_TCP, 100, 0, 64), 0);
	wr_u16(&w, 1000); wr_u16(&w, 80);
	wr_u32(&w, 0xfffffff0);			/* seq wraps */
	wr_u32(&w, 77);
	wr_u8(&w, 0x50); wr_u8(&w, 0x18 | 0x01 | 0x80);	/* ACK PSH FIN CWR */
	wr_u16(&w, 512); wr_u32(&w, 0);
	for (i = 0; i < 2500; i++)
		wr_u8(&w, (uint8_t)i);
	assert_int_equal(uesp_ip_finish(&w, AF_INET), 0);
	len = w.len;
	memset(&s, 0, sizeof(s));
	assert_int_equal(uesp_tso_split(big, len, 1000, seg, sizeof(seg),
	    seg_cb, &s), 0);
	assert_int_equal(s.n, 3);
	for (i = 0; i < 3; i++) {
		const uint8_t *p = s.pkt[i];
		size_t pl = i < 2 ? 1000 : 500;
		uint32_t seq = 0xfffffff0 + (uint32_t)(i * 1000);

		assert_int_equal(s.len[i], 40 + pl);
		assert_int_equal(p[2] << 8 | p[3], 40 + pl);
		assert_int_equal(p[4] << 8 | p[5], 100 + i);	/* IP id */
		assert_int_equal(uesp_cksum(p, 20, 0), 0);
		assert_true(tcp_ok(p, s.len[i]));
		assert_int_equal((uint32_t)p[24] << 24 | (uint32_t)p[25] << 16 |
		    (uint32_t)p[26] << 8 | p[27], seq);
		/* FIN/PSH only on the last; CWR only on the first. */
		assert_int_equal(p[33] & 0x09, i == 2 ? 0x09 : 0);
		assert_int_equal(p[33] & 0x80, i == 0 ? 0x80 : 0);
		assert_int_equal(p[40], (uint8_t)(i * 1000));
	}
	/* Truncations fail cleanly (or give fewer, well-formed pieces). */
	for (i = 0; i < 60; i++) {
		memset(&s, 0, sizeof(s));
		assert_int_not_equal(uesp_tso_split(big, i, 1000, seg,
		    sizeof(seg), seg_cb, &s), 0);
	}
	assert_int_equal(uesp_tso_split(big, len, 0, seg, sizeof(seg), seg_cb,
	    &s), PA_E_INVAL);
	/* A partial checksum completed (virtio NEEDS_CSUM). */
	memcpy(seg, s.pkt[0], 0);
	memcpy(seg, big, 1040);
	seg[2] = 1040 >> 8;
	seg[3] = 1040 & 0xff;
	seg[36] = seg[37] = 0;
	{
		uint8_t ph[12];

		memset(ph, 0, sizeof(ph));
		memcpy(ph, &seg[12], 8);
		ph[9] = IPPROTO_TCP;
		ph[10] = 1020 >> 8;
		ph[11] = 1020 & 0xff;
		i = (uint16_t)~uesp_cksum(ph, 12, 0);
		seg[36] = (uint8_t)(i >> 8);
		seg[37] = (uint8_t)i;
	}
	assert_int_equal(uesp_csum_complete(seg, 1040, 20, 16), 0);
	assert_true(tcp_ok(seg, 1040));
	assert_int_equal(uesp_csum_complete(seg, 1040, 1030, 16), PA_E_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_aes_cbc_rfc3602),
		cmocka_unit_test(test_kat_aes_gcm),
		cmocka_unit_test(test_kat_hmac_rfc2202),
		cmocka_unit_test(test_bad_params_rejected),
		cmocka_unit_test(test_esp_wire_format),
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_ah_over_esp),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_sadb_many),
		cmocka_unit_test(test_forged_icv_and_ciphertext),
		cmocka_unit_test(test_bad_padding),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_unknown_spi_and_wrong_dst),
		cmocka_unit_test(test_selector_enforced),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_sequence_exhaustion),
		cmocka_unit_test(test_rx_parse_udp),
		cmocka_unit_test(test_rx_gso_cut),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_sadb),
		cmocka_unit_test(test_tso_split),
	};

	return cmocka_run_group_tests_name("uesp", tests, NULL, NULL);
}
