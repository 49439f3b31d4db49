/*
 * Single-core ceilings for the uesp data path, 1400-byte packets:
 * raw OpenSSL EVP (cipher + HMAC, or AEAD) and the uesp engine's
 * encapsulation and decapsulation (ESP tunnel mode over UDP).
 */
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pa_buf.h"
#include "uesp/engine/uesp_engine.h"

#define PKT	1400
#define N	100000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
report(const char *what, double t, size_t n)
{
	printf("%-40s %8.0f Mbit/s (%.2f us/packet)\n", what,
	    (double)n * PKT * 8 / t / 1e6, t * 1e6 / (double)n);
}

static void
evp_ceiling(void)
{
	static uint8_t buf[PKT + 64], mac[64];
	uint8_t key[32] = { 1 }, iv[16] = { 2 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *mc = EVP_MAC_CTX_new(m);
	OSSL_PARAM prm[2] = { OSSL_PARAM_construct_utf8_string("digest",
	    (char *)(uintptr_t)"SHA1", 0), OSSL_PARAM_construct_end() };
	size_t i, ml;
	double t;
	int n;

	EVP_EncryptInit_ex2(c, EVP_aes_128_cbc(), key, iv, NULL);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_MAC_init(mc, key, 20, prm);
	t = now();
	for (i = 0; i < N; i++) {
		EVP_EncryptInit_ex2(c, NULL, NULL, iv, NULL);
		EVP_EncryptUpdate(c, buf, &n, buf, PKT);
		EVP_MAC_init(mc, NULL, 0, NULL);
		EVP_MAC_update(mc, buf, PKT);
		EVP_MAC_final(mc, mac, &ml, sizeof(mac));
	}
	report("EVP aes-128-cbc + hmac-sha1", now() - t, N);
	EVP_EncryptInit_ex2(c, EVP_aes_128_gcm(), key, iv, NULL);
	t = now();
	for (i = 0; i < N; i++) {
		EVP_EncryptInit_ex2(c, NULL, NULL, iv, NULL);
		EVP_EncryptUpdate(c, NULL, &n, buf, 8);
		EVP_EncryptUpdate(c, buf, &n, buf, PKT);
		EVP_EncryptFinal_ex(c, mac, &n);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, mac);
	}
	report("EVP aes-128-gcm", now() - t, N);
	EVP_CIPHER_CTX_free(c);
	EVP_MAC_CTX_free(mc);
	EVP_MAC_free(m);
}

static int
engine(const char *label, enum drv_enc enc, enum drv_auth auth)
{
	static uint8_t inner[PKT], out[PKT + 256], dec[PKT + 256];
	struct sa_id id;
	struct sa_params p;
	struct uesp_sa *o, *in;
	struct uesp_sadb *db = uesp_sadb_new();
	struct uesp_rx rx;
	struct uesp_verdict v;
	enum uesp_life life;
	struct wr w;
	char what[80];
	size_t i, olen, dlen;
	double t;

	memset(&id, 0, sizeof(id));
	memset(&p, 0, sizeof(p));
	if (pa_addr_parse("10.0.0.1", &id.src) != 0 ||
	    pa_addr_parse("10.0.0.2", &id.dst) != 0)
		return 1;
	id.proto = DRV_PROTO_ESP;
	id.spi = 0x100;
	p.mode = DRV_MODE_TUNNEL;
	p.enc = enc;
	p.enc_key_len = enc == DRV_ENC_AES_GCM_16 ? 20 : 16;
	p.auth = auth;
	p.auth_key_len = auth == DRV_AUTH_NONE ? 0 : 20;
	p.encap_sport = p.encap_dport = 4500;
	p.replay_window = 1024;
	if (uesp_sa_new(&id, &p, 0, &o) != 0)
		return 1;
	p.inbound = true;
	if (uesp_sa_new(&id, &p, 0, &in) != 0 || uesp_sadb_add(db, in) != 0)
		return 1;
	/* An IPv4 UDP packet of PKT bytes. */
	wr_init(&w, inner, sizeof(inner));
	wr_u8(&w, 0x45); wr_u8(&w, 0); wr_u16(&w, PKT); wr_u32(&w, 0);
	wr_u8(&w, 64); wr_u8(&w, 17); wr_u16(&w, 0);
	wr_bytes(&w, id.src.a, 4); wr_bytes(&w, id.dst.a, 4);
	wr_zero(&w, PKT - 20);
	t = now();
	for (i = 0; i < N; i++)
		if (uesp_encap(o, NULL, inner, PKT, out, sizeof(out), &olen,
		    &life) != 0)
			return 1;
	snprintf(what, sizeof(what), "uesp encap %s", label);
	report(what, now() - t, N);
	t = now();
	for (i = 0; i < N; i++) {
		/* Re-encapsulate so every packet is new to the window. */
		if (uesp_encap(o, NULL, inner, PKT, out, sizeof(out), &olen,
		    &life) != 0 ||
		    uesp_rx_parse_ip4(out, olen, 4500, &rx) != 0 ||
		    uesp_decap(db, &rx, dec, sizeof(dec), &dlen, &v) != 0)
			return 1;
	}
	snprintf(what, sizeof(what), "uesp encap+decap %s", label);
	report(what, now() - t, N);
	uesp_sa_free(o);
	uesp_sadb_free(db);
	return 0;
}

int
main(void)
{
	evp_ceiling();
	if (engine("aes128-cbc/sha1", DRV_ENC_AES_CBC,
	    DRV_AUTH_HMAC_SHA1_96) != 0 ||
	    engine("aes128-gcm", DRV_ENC_AES_GCM_16, DRV_AUTH_NONE) != 0) {
		printf("engine failed\n");
		return 1;
	}
	return 0;
}
