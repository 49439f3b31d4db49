/*
 * The uesp crypto engine: SAs, ESP (RFC 4303) and AH (RFC 4302)
 * encapsulation and decapsulation in transport and tunnel mode, ESP-in-UDP
 * (RFC 3948), anti-replay, lifetimes and drop accounting. No I/O, no
 * threads of its own: the TUN/socket glue in ../ calls it.
 *
 * Threads: an SA is used by one data thread per direction at a time (its
 * EVP contexts are not shared); counters are atomic so the control thread
 * may read them at any time. Table changes (uesp_sadb_*) need the caller's
 * write lock, lookups and packet processing its read lock.
 *
 * Packets in: untrusted bytes, read only through struct rd.
 * Packets out: written through struct wr into a caller-owned buffer.
 */
#ifndef PA_UESP_ENGINE_H
#define PA_UESP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "pa_addr.h"
#include "pa_buf.h"
#include "pa_err.h"

#define UESP_REPLAY_MIN		1024	/* a nonzero window is at least this */
#define UESP_REPLAY_MAX		4096
#define UESP_MAX_OVERHEAD	192	/* outer IPv6 + UDP + AH + ESP worst */
#define UESP_MAX_PKT		65535

struct uesp_sa;
struct uesp_sadb;

/* What a lifetime check or a packet crossed (raised once each). */
enum uesp_life {
	UESP_LIFE_OK = 0,
	UESP_LIFE_SOFT,
	UESP_LIFE_HARD
};

/* Create an SA: fetches the algorithms and keys its EVP contexts once. */
int	uesp_sa_new(const struct sa_id *, const struct sa_params *,
	    uint64_t now_ms, struct uesp_sa **) PA_MUST_USE;
/* Wipe keys and free; NULL is a no-op. */
void	uesp_sa_free(struct uesp_sa *);
const struct sa_id	*uesp_sa_id(const struct uesp_sa *);
/* Parameters as given to uesp_sa_new, with the keys wiped. */
const struct sa_params	*uesp_sa_params(const struct uesp_sa *);
void	uesp_sa_stats(const struct uesp_sa *, struct sa_stats *);
/* The effective replay window in packets (0 = off). */
uint32_t	uesp_sa_replay_window(const struct uesp_sa *);
/* Set the next outbound sequence number (tests: wrap-around). */
void	uesp_sa_set_seq(struct uesp_sa *, uint32_t next);
/*
 * Time lifetimes against now. Returns the event to raise, once each:
 * SOFT when the soft limit is first crossed, HARD when the hard one is.
 * After HARD the SA refuses all packets.
 */
enum uesp_life	uesp_sa_life_check(struct uesp_sa *, uint64_t now_ms);
bool	uesp_sa_dead(const struct uesp_sa *);

/*
 * Outbound: protect the IP packet pkt (as read from the TUN) with esp
 * and/or ah (either may be NULL, not both; both = AH over ESP), giving the
 * complete outer IP packet (and UDP header for NAT-T) in out. *life
 * receives a byte-lifetime event crossed by this packet, if any.
 */
int	uesp_encap(struct uesp_sa *esp, struct uesp_sa *ah,
	    const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
	    size_t *outlen, enum uesp_life *life) PA_MUST_USE;

/* An inbound ESP/AH packet with its outer header already taken apart. */
struct uesp_rx {
	struct pa_addr	src;
	struct pa_addr	dst;
	uint8_t		proto;		/* 50 or 51 */
	uint16_t	ip_id;		/* IPv4 identification (AH ICV) */
	uint8_t		tos;
	uint8_t		ttl;
	bool		udp;		/* arrived ESP-in-UDP */
	uint16_t	sport;
	uint16_t	dport;
	struct pa_bytes	payload;	/* from the ESP/AH header on */
};

/*
 * Take apart a received IPv4 packet (header included, as IPv4 raw sockets
 * deliver it) carrying ESP, AH, or UDP to natt_port with ESP inside.
 * PA_E_AGAIN: well-formed but not ours (IKE with a non-ESP marker, NAT-T
 * keepalive, other port); PA_E_SHORT/PA_E_FORMAT: garbage; PA_E_NOTSUP:
 * fragments and AH with IP options.
 */
int	uesp_rx_parse_ip4(const uint8_t *, size_t, uint16_t natt_port,
	    struct uesp_rx *) PA_MUST_USE;
/*
 * ESP-in-UDP payloads longer than this may be an unsegmented UDP GSO
 * aggregate (several ESP packets of one sendmsg with UDP_SEGMENT, as a
 * raw socket receives them over veth); the sender aggregates only above.
 */
#define UESP_GSO_MIN	2048
/*
 * The length of the first ESP packet in p: up to where the next one of
 * the same aggregate starts (4-byte aligned, with the same SPI and the
 * sequence number + 1), or all of p. Each piece is then checked (ICV,
 * replay) on its own; a wrong cut only makes pieces that are dropped.
 */
size_t	uesp_rx_gso_seg(struct pa_bytes p);
/*
 * The same for a transport payload delivered without its IP header (IPv6
 * raw sockets), proto being 50, 51 or 17 (UDP).
 */
int	uesp_rx_parse_l4(uint8_t proto, const struct pa_addr *src,
	    const struct pa_addr *dst, const uint8_t *, size_t,
	    uint16_t natt_port, struct uesp_rx *) PA_MUST_USE;

/* The verdict on one inbound packet. */
struct uesp_verdict {
	enum drv_drop_reason	 why;	/* when uesp_decap failed */
	struct uesp_sa		*sa;	/* last SA applied, or NULL; valid
					   while the caller holds its lock */
	enum uesp_life		 life;	/* byte-lifetime event crossed */
	struct uesp_sa		*life_sa;
};

/*
 * Inbound: find the SA by SPI, check replay, verify the ICV in constant
 * time, decrypt, strip AH/ESP layers (AH over ESP allowed), check the
 * inner packet against the SA's selectors, and write the inner IP packet
 * to out. On failure returns a negative pa_err and v->why says which drop
 * counter it belongs to.
 */
int	uesp_decap(struct uesp_sadb *, const struct uesp_rx *, uint8_t *out,
	    size_t cap, size_t *outlen, struct uesp_verdict *v) PA_MUST_USE;

/* SA table: inbound by (SPI, proto), outbound by reqid/selector. */
struct uesp_sadb	*uesp_sadb_new(void);
/* Frees the table and every SA in it. */
void	uesp_sadb_free(struct uesp_sadb *);
/* Takes ownership of sa on success only. */
int	uesp_sadb_add(struct uesp_sadb *, struct uesp_sa *) PA_MUST_USE;
/* Unlink and return the SA (caller frees), or NULL. */
struct uesp_sa	*uesp_sadb_remove(struct uesp_sadb *, const struct sa_id *);
struct uesp_sa	*uesp_sadb_find(struct uesp_sadb *, const struct sa_id *);
struct uesp_sa	*uesp_sadb_by_spi(struct uesp_sadb *, uint8_t proto,
	    uint32_t spi);
/*
 * The newest live outbound SA of proto for reqid (if reqid is nonzero) or
 * whose selectors cover the packet selector.
 */
struct uesp_sa	*uesp_sadb_out(struct uesp_sadb *, uint8_t proto,
	    uint32_t reqid, const struct drv_sel *pkt);
size_t	uesp_sadb_count(const struct uesp_sadb *);
/* Visit every SA (e.g. lifetime checks); stop when fn returns nonzero. */
int	uesp_sadb_foreach(struct uesp_sadb *,
	    int (*fn)(struct uesp_sa *, void *), void *arg);

/*
 * Selectors of an IP packet (addresses, protocol, ports; ICMP type/code
 * in sport/dport). *hlen receives the IP header length (IPv6: to the
 * upper-layer header).
 */
int	uesp_pkt_sel(const uint8_t *, size_t, struct drv_sel *,
	    size_t *hlen) PA_MUST_USE;
/* Does the packet selector (host prefixes) fall under filter sel? */
bool	uesp_sel_match(const struct drv_sel *filter, const struct drv_sel *pkt);

/* The Internet checksum (RFC 1071) of n bytes plus a partial sum. */
uint16_t	uesp_cksum(const uint8_t *, size_t, uint32_t sum);

/*
 * Complete a partial checksum (virtio NEEDS_CSUM): sum pkt from start to
 * the end, store it at start + off.
 */
int	uesp_csum_complete(uint8_t *pkt, size_t len, uint16_t start,
	    uint16_t off) PA_MUST_USE;
/*
 * Cut a TCP segment larger than the MTU (TSO from the TUN) into packets
 * of mss payload bytes, each built in seg (cap bytes) and handed to fn;
 * a nonzero return from fn stops the split and is returned.
 */
int	uesp_tso_split(const uint8_t *pkt, size_t len, uint16_t mss,
	    uint8_t *seg, size_t cap,
	    int (*fn)(void *, const uint8_t *, size_t), void *arg) PA_MUST_USE;

/*
 * Reassembly of the fragments the local stack wrote to the TUN (IPv4, and
 * IPv6 with the fragment header right after the fixed one): at most 16
 * datagrams at a time, each dropped timeout_ms after its first fragment;
 * overlaps drop the datagram (RFC 5722). One context per thread.
 */
struct uesp_reasm;
struct uesp_reasm	*uesp_reasm_new(uint32_t timeout_ms);
void	uesp_reasm_free(struct uesp_reasm *);
/*
 * 0: not a fragment (pass pkt on as it is); 1: the datagram is whole in
 * *whole (valid until the next call); PA_E_AGAIN: held; another negative
 * pa_err: dropped (malformed, overlap, no room).
 */
int	uesp_reasm_add(struct uesp_reasm *, const uint8_t *pkt, size_t len,
	    uint64_t now_ms, const uint8_t **whole, size_t *wlen) PA_MUST_USE;
/* Drop datagrams older than the timeout; how many went. */
unsigned	uesp_reasm_expire(struct uesp_reasm *, uint64_t now_ms);
/*
 * Hand an outer packet to fn whole if it fits mtu, else as IPv4 or IPv6
 * fragments of at most mtu bytes each (RFC 4303 3.3.4: fragmentation
 * after encapsulation). PA_E_PERM: IPv4 with DF set.
 */
int	uesp_frag_out(const uint8_t *pkt, size_t len, size_t mtu,
	    int (*fn)(void *, const uint8_t *, size_t), void *arg) PA_MUST_USE;
/* May this (inner) packet not be fragmented on its way: IPv4 DF, or IPv6
 * larger than the minimum MTU 1280? */
bool	uesp_pkt_df(const uint8_t *pkt, size_t len);
/*
 * ICMP "fragmentation needed" (IPv4, type 3 code 4) or ICMPv6 "packet too
 * big" for pkt with this MTU, as if from its destination to its source,
 * to write back into the TUN.
 */
int	uesp_icmp_too_big(const uint8_t *pkt, size_t len, uint32_t mtu,
	    uint8_t *out, size_t cap, size_t *olen) PA_MUST_USE;

#endif
