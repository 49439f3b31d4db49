/*
 * The SAs shared by the inbound ESP/AH fuzz harness and its seed
 * generator: fixed keys, so generated seeds decrypt in the harness.
 */
#ifndef FUZZ_ESP_COMMON_H
#define FUZZ_ESP_COMMON_H

#include <netinet/in.h>

#include <string.h>

#include "uesp/engine/uesp_engine.h"

#define FUZZ_ESP_NSA	5

/* First input byte: how the rest arrives. */
enum fuzz_esp_how {
	FUZZ_IP4 = 0,		/* IPv4 raw socket, header included */
	FUZZ_L4_ESP6,		/* IPv6 raw socket, ESP */
	FUZZ_L4_AH6,		/* IPv6 raw socket, AH */
	FUZZ_L4_UDP6,		/* IPv6 raw socket, UDP (NAT-T) */
	FUZZ_HOW_MAX
};

static inline void
fuzz_esp_sa(size_t i, bool v6, bool inbound, struct sa_id *id,
    struct sa_params *p)
{
	static const struct {
		uint8_t		proto;
		enum drv_enc	enc;
		uint8_t		ekl;
		enum drv_auth	auth;
		uint8_t		akl;
		enum drv_mode	mode;
		uint16_t	encap;
	} t[FUZZ_ESP_NSA] = {
		{ 50, DRV_ENC_AES_CBC, 16, DRV_AUTH_HMAC_SHA1_96, 20,
		    DRV_MODE_TUNNEL, 0 },
		{ 50, DRV_ENC_AES_GCM_16, 20, DRV_AUTH_NONE, 0,
		    DRV_MODE_TRANSPORT, 4500 },
		{ 51, DRV_ENC_NONE, 0, DRV_AUTH_HMAC_SHA256_128, 32,
		    DRV_MODE_TRANSPORT, 0 },
		/* No MAC: the decryption and trailer checks get fuzzed. */
		{ 50, DRV_ENC_AES_CBC, 16, DRV_AUTH_NONE, 0,
		    DRV_MODE_TRANSPORT, 0 },
		{ 50, DRV_ENC_NONE, 0, DRV_AUTH_HMAC_MD5_96, 16,
		    DRV_MODE_TUNNEL, 0 },
	};
	size_t k;

	memset(id, 0, sizeof(*id));
	memset(p, 0, sizeof(*p));
	id->src.family = id->dst.family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		id->src.a[0] = id->dst.a[0] = 0xfd;
		id->src.a[15] = 1;
		id->dst.a[15] = 2;
	} else {
		id->src.a[0] = id->dst.a[0] = 10;
		id->src.a[3] = 1;
		id->dst.a[3] = 2;
	}
	id->proto = t[i].proto;
	id->spi = 0x100 + (uint32_t)i;
	p->mode = t[i].mode;
	p->inbound = inbound;
	p->enc = t[i].enc;
	p->enc_key_len = t[i].ekl;
	p->auth = t[i].auth;
	p->auth_key_len = t[i].akl;
	for (k = 0; k < sizeof(p->enc_key); k++)
		p->enc_key[k] = (uint8_t)(k + 1);
	for (k = 0; k < sizeof(p->auth_key); k++)
		p->auth_key[k] = (uint8_t)(0x80 + k);
	p->replay_window = 64;
	p->encap_sport = p->encap_dport = t[i].encap;
}

#endif
