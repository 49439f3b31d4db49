/*
 * Message transport and crypto framing: the UDP sockets (500 and 4500 per
 * local address, the NAT-T one behind its non-ESP marker), sending, the
 * copy kept for retransmission, the socket and local address that reach a
 * peer, and the encryption of message bodies under a Main Mode SA's keys.
 * Above the SA table (ike_sa.h), below the exchanges.
 */
#include <sys/socket.h>
#include <linux/filter.h>
#include <linux/udp.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike_wire.h"
#include "pa_log.h"

int
ike_send(struct ike *ike, int sock, const struct pa_addr *peer, uint16_t port,
    const uint8_t *p, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (sock < 0 || (size_t)sock >= ike->nsocks)
		return PA_E_INVAL;
	pa_addr_to_sockaddr(peer, port, &ss, &sl);
	if (ike->socks[sock].natt) {
		/* RFC 3948 2.2: IKE on the NAT-T port after a non-ESP marker. */
		static const uint8_t marker[4];
		struct iovec iov[2];
		struct msghdr mh;

		iov[0].iov_base = (void *)(uintptr_t)marker;
		iov[0].iov_len = 4;
		iov[1].iov_base = (void *)(uintptr_t)p;
		iov[1].iov_len = len;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &ss;
		mh.msg_namelen = sl;
		mh.msg_iov = iov;
		mh.msg_iovlen = 2;
		if (sendmsg(ike->socks[sock].fd, &mh, 0) < 0) {
			ike->st.send_failures++;
			return PA_E_SYS;
		}
		return 0;
	}
	if (sendto(ike->socks[sock].fd, p, len, 0, (struct sockaddr *)&ss,
	    sl) < 0) {
		ike->st.send_failures++;
		return PA_E_SYS;
	}
	return 0;
}

int
ike_keep_tx(struct ike *ike, uint8_t **tx, size_t *txlen, uint64_t *at,
    uint32_t *n, const uint8_t *p, size_t len, bool arm)
{
	uint8_t *c;

	if ((c = malloc(len)) == NULL)
		return PA_E_NOMEM;
	memcpy(c, p, len);
	free(*tx);
	*tx = c;
	*txlen = len;
	*n = 0;
	*at = arm ? ike_now() + ike->cfg.retrans_ms : 0;
	ike_timer_note(ike, *at);
	return 0;
}

int
ike_encrypt_msg(struct ike_mm *mm, uint8_t *iv, struct wr *w, size_t hdr_off)
{
	size_t bl = oak_block_len(mm->p1.enc), body, pad;
	uint8_t *p;
	int rc;

	if ((rc = wr_error(w)) != 0)
		return rc;
	body = w->len - hdr_off - ISK_HDR_LEN;
	pad = (bl - body % bl) % bl;
	if ((rc = wr_zero(w, pad)) != 0)
		return rc;
	body += pad;
	if (body == 0)
		return PA_E_INVAL;
	p = w->p + hdr_off + ISK_HDR_LEN;
	if ((rc = oak_cbc(mm->p1.enc, mm->key, mm->p1.keylen, iv, p, body,
	    true)) != 0)
		return rc;
	return isk_hdr_close(w, hdr_off);
}

int
ike_decrypt_msg(struct ike_mm *mm, uint8_t *iv, const uint8_t *in, size_t len,
    uint8_t *out, size_t *outlen)
{
	size_t bl = oak_block_len(mm->p1.enc);

	if (bl == 0 || len == 0 || len % bl != 0 || len > IKE_MAX_PKT)
		return PA_E_FORMAT;
	memcpy(out, in, len);
	*outlen = len;
	return oak_cbc(mm->p1.enc, mm->key, mm->p1.keylen, iv, out, len, false);
}

/*
 * The NAT-T socket (RFC 3948) carries IKE behind a 4-byte non-ESP marker
 * (zero), one-byte 0xff NAT-keepalives, and ESP-in-UDP (a non-zero SPI
 * where the marker would be). ESP is the driver's:
 *  - a driver that reads ESP-in-UDP itself (uesp, from raw sockets that
 *    get their own copy) needs the ESP kept out of this socket, or a bulk
 *    transfer fills its buffer and IKE messages are lost: a classic BPF
 *    filter lets only marker-zero datagrams and keepalives in;
 *  - a driver whose kernel decapsulates (DRV_F_KERNEL_ENCAP, xfrm) needs
 *    UDP_ENCAP_ESPINUDP on the socket; the kernel then passes only IKE
 *    and keepalives up.
 * A UDP socket's filter sees the datagram from its UDP header (8 bytes)
 * on; "len" is the UDP header plus payload.
 */
static int
natt_sock_setup(struct ike *ike, int fd)
{
	static struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 8 + 1, 0, 2),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),	/* keepalive? */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xff, 3, 4),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 8 + 4, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),	/* the marker */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),	/* ours */
		BPF_STMT(BPF_RET | BPF_K, 0),		/* ESP, runts */
	};
	struct sock_fprog fp = { sizeof(prog) / sizeof(prog[0]), prog };
	int encap = UDP_ENCAP_ESPINUDP;

	if (ike->cfg.drv_ops->features & DRV_F_KERNEL_ENCAP)
		return setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap,
		    sizeof(encap)) == 0 ? 0 : PA_E_SYS;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == 0 ? 0 : PA_E_SYS;
}

int
ike_open_sock(struct ike *ike, const struct pa_addr *a, uint16_t port,
    bool natt)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ike_sock *s;
	int fd, one = 1;

	if (ike->nsocks == IKE_MAX_SOCKS)
		return PA_E_NOSPACE;
	pa_addr_to_sockaddr(a, port, &ss, &sl);
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return PA_E_SYS;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return PA_E_SYS;
	}
	/*
	 * A deep receive buffer (root may go past rmem_max), and the count
	 * of what the kernel still drops, reported with each datagram.
	 */
	{
		int sz = IKE_RCVBUF;

		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		    sizeof(sz)) != 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz,
			    sizeof(sz));
		(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one,
		    sizeof(one));
	}
	if (natt && natt_sock_setup(ike, fd) != 0) {
		int e = errno;

		log_warn("%s: NAT-T socket (port %u)", __func__, port);
		close(fd);
		errno = e;
		return PA_E_SYS;
	}
	/* IKE itself must never be caught by the filters it negotiates for. */
	if (ike->cfg.drv_ops->socket_bypass != NULL &&
	    ike->cfg.drv_ops->socket_bypass(ike->cfg.drv, fd, ss.ss_family)
	    != 0)
		log_warnx("%s: the driver could not exempt the IKE socket; "
		    "IKE traffic may be caught by IPsec filters", __func__);
	s = &ike->socks[ike->nsocks++];
	s->natt = natt;
	s->fd = fd;
	s->addr = *a;
	s->port = port;
	return 0;
}

/* The local address a packet from peer arrives at / leaves from. */
static int
sock_for_peer(struct ike *ike, const struct pa_addr *peer,
    struct pa_addr *local)
{
	struct sockaddr_storage ss, ls;
	socklen_t sl, ll = sizeof(ls);
	size_t i;
	int fd, idx = -1;
	uint16_t port;

	/* Ask the routing table which source address reaches the peer. */
	pa_addr_to_sockaddr(peer, ike->cfg.peer_port, &ss, &sl);
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ls, &ll) == 0 &&
	    pa_addr_from_sockaddr((struct sockaddr *)&ls, local, &port) == 0) {
		for (i = 0; i < ike->nsocks; i++) {
			if (ike->socks[i].natt)
				continue;
			if (pa_addr_eq(&ike->socks[i].addr, local)) {
				idx = (int)i;
				break;
			}
			if (idx < 0 && ike->socks[i].addr.family ==
			    local->family && pa_addr_is_unset(&ike->socks[i].addr))
				idx = (int)i;
		}
		/* Bound addresses: prefer one of ours in the family. */
		if (idx < 0)
			for (i = 0; i < ike->nsocks; i++)
				if (!ike->socks[i].natt &&
				    ike->socks[i].addr.family == peer->family) {
					idx = (int)i;
					*local = ike->socks[i].addr;
					break;
				}
	}
	close(fd);
	return idx;
}

static bool
addr_is_any(const struct pa_addr *a)
{
	static const uint8_t z[16];

	return memcmp(a->a, z, 16) == 0;
}

int
ike_sock_for_peer(struct ike *ike, const struct pa_addr *peer,
    struct pa_addr *local)
{
	int idx = sock_for_peer(ike, peer, local);

	if (idx >= 0 && addr_is_any(local))
		return -1;
	return idx;
}

int
ike_natt_sock(const struct ike *ike, int sock)
{
	size_t i;

	if (sock < 0 || (size_t)sock >= ike->nsocks)
		return -1;
	if (ike->socks[sock].natt)
		return sock;
	for (i = 0; i < ike->nsocks; i++)
		if (ike->socks[i].natt && pa_addr_eq(&ike->socks[i].addr,
		    &ike->socks[sock].addr))
			return (int)i;
	return -1;
}

void
ike_mm_hdr(const struct ike_mm *mm, struct isk_hdr *h, uint8_t exch,
    uint8_t flags, uint32_t msgid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->cky_i, mm->cky_i, 8);
	memcpy(h->cky_r, mm->cky_r, 8);
	h->exch = exch;
	h->flags = flags;
	h->msgid = msgid;
}

void
ike_notify_isakmp(struct wr *w, uint16_t type, const uint8_t cky_i[8],
    const uint8_t cky_r[8])
{
	wr_u32(w, ISK_DOI_IPSEC);
	wr_u8(w, ISK_PROTO_ISAKMP);
	wr_u8(w, 16);
	wr_u16(w, type);
	wr_bytes(w, cky_i, 8);
	wr_bytes(w, cky_r, 8);
}
