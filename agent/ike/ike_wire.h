/*
 * Message transport and crypto framing (transport.c, private): sockets,
 * sending, the copy kept for retransmission, encrypted bodies. Above the
 * SA table, below the exchanges.
 */
#ifndef PA_IKE_WIRE_H
#define PA_IKE_WIRE_H

#include "ike_sa.h"

int	ike_send(struct ike *, int sock, const struct pa_addr *peer,
	    uint16_t port, const uint8_t *, size_t) PA_MUST_USE;
/* Keep a copy of what was sent for retransmission; arms the timer. */
int	ike_keep_tx(struct ike *, uint8_t **tx, size_t *txlen, uint64_t *at,
	    uint32_t *n, const uint8_t *, size_t, bool arm) PA_MUST_USE;
/* The socket (index) and local address to reach peer from, or -1. */
int	ike_sock_for_peer(struct ike *, const struct pa_addr *peer,
	    struct pa_addr *local);
/* Open socket a:port (the NAT-T port when natt) into ike->socks. */
int	ike_open_sock(struct ike *, const struct pa_addr *, uint16_t port,
	    bool natt) PA_MUST_USE;
/* The NAT-T socket with the address of socket sock, or -1. */
int	ike_natt_sock(const struct ike *, int sock);
int	ike_encrypt_msg(struct ike_mm *, uint8_t *iv, struct wr *, size_t hdr_off)
	    PA_MUST_USE;
int	ike_decrypt_msg(struct ike_mm *, uint8_t *iv, const uint8_t *in, size_t len,
	    uint8_t *out, size_t *outlen) PA_MUST_USE;

/* An ISAKMP header under mm's cookies. */
void	ike_mm_hdr(const struct ike_mm *, struct isk_hdr *, uint8_t exch,
	    uint8_t flags, uint32_t msgid);
/*
 * A Notification payload body (RFC 2408 3.14) for the ISAKMP SA: DOI,
 * protocol ISAKMP, its SPI CKY-I | CKY-R, type (the writer keeps errors).
 */
void	ike_notify_isakmp(struct wr *, uint16_t type, const uint8_t cky_i[8],
	    const uint8_t cky_r[8]);

#endif
