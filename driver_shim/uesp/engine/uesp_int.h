/*
 * Engine internals shared by sa.c, esp.c, ah.c, ip.c and sadb.c. Not for
 * use outside driver_shim/uesp/engine/.
 */
#ifndef PA_UESP_INT_H
#define PA_UESP_INT_H

#include <openssl/evp.h>

#include <pthread.h>
#include <stdatomic.h>

#include "uesp_engine.h"

#define UESP_ICV_MAX		16

struct uesp_sa {
	struct sa_id		 id;
	struct sa_params	 p;		/* keys wiped after setup */
	struct uesp_sa		*next;		/* sadb hash chain (SPI) */
	struct uesp_sa		*rq_next;	/* sadb outbound reqid chain */
	struct uesp_sa		*all_next;	/* sadb list, newest first */
	struct uesp_sa		*all_prev;
	uint64_t		 gen;		/* sadb insertion order */

	EVP_CIPHER_CTX		*cctx;
	EVP_CIPHER_CTX		*ivctx;		/* outbound CBC: IV generator */
	EVP_MAC_CTX		*mctx;
	bool			 aead;
	size_t			 iv_len;	/* on the wire */
	size_t			 block;		/* padding alignment */
	size_t			 icv_len;
	uint8_t			 salt[4];	/* GCM */

	_Atomic uint64_t	 seq;		/* next outbound seq (32 bits) */
	pthread_mutex_t		 rlock;		/* replay window */
	uint32_t		 window;	/* 0 = off */
	uint32_t		 top;		/* highest seq accepted */

	uint64_t		 add_ms;
	uint64_t		 add_wall;
	_Atomic uint64_t	 bytes;
	_Atomic uint64_t	 packets;
	_Atomic uint64_t	 use_wall;
	_Atomic uint64_t	 use_ms;
	_Atomic uint64_t	 replay_drops;
	_Atomic uint64_t	 auth_drops;
	_Atomic uint64_t	 decrypt_drops;
	_Atomic int		 soft_fired;
	_Atomic int		 hard_fired;

	/*
	 * Inbound: the replay window's ring, ring bits (a power of two >=
	 * window) long, bit (seq mod ring). None outbound, or without a
	 * window: a pair of SAs costs a few hundred bytes less.
	 */
	uint32_t		 ring;
	uint64_t		 bitmap[];
};

/* sa.c */
int	uesp_sa_icv(struct uesp_sa *, const uint8_t *, size_t,
	    const uint8_t *, size_t, const uint8_t *, size_t,
	    uint8_t icv[static UESP_ICV_MAX]) PA_MUST_USE;
int	uesp_sa_cipher(struct uesp_sa *, const uint8_t *iv,
	    const uint8_t *aad, size_t aadlen, const uint8_t *in, uint8_t *out,
	    size_t len, uint8_t *tag) PA_MUST_USE;
enum uesp_life	uesp_sa_exhausted(struct uesp_sa *);
bool	uesp_replay_check(struct uesp_sa *, uint32_t seq);
bool	uesp_replay_update(struct uesp_sa *, uint32_t seq);
enum uesp_life	uesp_sa_account(struct uesp_sa *, size_t bytes);
int	uesp_sa_next_seq(struct uesp_sa *, uint32_t *) PA_MUST_USE;
int	uesp_random(void *, size_t) PA_MUST_USE;
/* The IV for outbound packet seq (CBC): unpredictable, never repeated. */
int	uesp_sa_iv(struct uesp_sa *, uint32_t seq, uint8_t *iv) PA_MUST_USE;

/* ip.c */
uint16_t	uesp_cksum(const uint8_t *, size_t, uint32_t sum);
uint32_t	uesp_cksum_add(const uint8_t *, size_t, uint32_t sum);
uint16_t	uesp_cksum_fold(uint32_t sum);
uint16_t	uesp_next_ip_id(void);
/* A bounds-checked pointer to n bytes at off inside what w has written. */
uint8_t	*uesp_wr_at(struct wr *, size_t off, size_t n);
/* Write an IPv4/IPv6 header (no options); total length patched later
 * with uesp_ip_finish(). */
int	uesp_ip_hdr(struct wr *, const struct pa_addr *src,
	    const struct pa_addr *dst, uint8_t proto, uint16_t id,
	    uint8_t tos, uint8_t ttl) PA_MUST_USE;
/* Patch the length (and IPv4 checksum) of the header at offset 0. */
int	uesp_ip_finish(struct wr *, uint8_t family) PA_MUST_USE;

/* The fixed header of an IP packet to protect (read through struct rd). */
struct uesp_iphdr {
	uint8_t		family;
	struct pa_addr	src;
	struct pa_addr	dst;
	uint8_t		proto;		/* IPv6: next header of the fixed one */
	uint8_t		tos;
	uint8_t		ttl;
	uint16_t	id;
	bool		frag;		/* IPv4 fragment */
	bool		opts;		/* IPv4 options / IPv6 extensions */
	size_t		hlen;		/* bytes before payload */
	struct pa_bytes	payload;	/* after the fixed header + options */
};
int	uesp_ip_parse(const uint8_t *, size_t, struct uesp_iphdr *)
	    PA_MUST_USE;

/*
 * What an outbound packet becomes under one SA, before AH or ESP adds
 * its header: transport mode keeps the packet's own addresses and
 * protects its payload (PA_E_NOTSUP for a fragment, IP options or the
 * other family), tunnel mode protects the whole packet between the SA's
 * addresses. src, dst and body view the packet, the SA or ih.
 */
struct uesp_outer {
	struct uesp_iphdr	 ih;
	const struct pa_addr	*src;
	const struct pa_addr	*dst;
	struct pa_bytes		 body;
	uint16_t		 id;
	uint8_t			 nh;	/* next header after AH/ESP */
	uint8_t			 tos;
	uint8_t			 ttl;
};
int	uesp_outer(const struct uesp_sa *, const uint8_t *pkt, size_t len,
	    struct uesp_outer *) PA_MUST_USE;

/* esp.c, ah.c: one layer each. */
int	uesp_esp_out(struct uesp_sa *, const uint8_t *pkt, size_t len,
	    struct wr *) PA_MUST_USE;
int	uesp_ah_out(struct uesp_sa *, const uint8_t *pkt, size_t len,
	    struct wr *) PA_MUST_USE;
/*
 * One inbound layer; rx->payload starts at the ESP/AH header. On success
 * the inner IP packet (tunnel mode, or transport with the header rebuilt)
 * is written to w, or for AH over ESP *nh is 50 and *rest views the ESP
 * packet. PA_E_AGAIN: a valid dummy packet (next header 59) to drop
 * silently.
 */
int	uesp_esp_in(struct uesp_sa *, const struct uesp_rx *, struct wr *,
	    enum drv_drop_reason *) PA_MUST_USE;
int	uesp_ah_in(struct uesp_sa *, const struct uesp_rx *, struct wr *,
	    uint8_t *nh, struct pa_bytes *rest,
	    enum drv_drop_reason *) PA_MUST_USE;

#endif
