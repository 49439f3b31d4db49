/*
 * The packet driver interface: one ops table per backend, chosen by name.
 * The driver knows packets, filters and SAs, not policies or IKE: the agent
 * hands it compiled filters and keyed SAs; it hands back events through the
 * callbacks given to open().
 *
 * Backends: "uesp" (userspace ESP/AH over TUN), "xfrm" (Linux XFRM over
 * netlink), "null" (records calls, for tests). An unknown name is a
 * startup error; never fall back quietly.
 *
 * All functions return 0 or a negative pa_err.
 */
#ifndef PA_DRIVER_H
#define PA_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_addr.h"
#include "pa_err.h"

/* Feature bits (agent branches on these, never on the backend's name). */
#define DRV_F_ESP		(1U << 0)
#define DRV_F_AH		(1U << 1)
#define DRV_F_UDPENCAP		(1U << 2)	/* ESP-in-UDP, RFC 3948 */
#define DRV_F_TUNNEL		(1U << 3)
#define DRV_F_TRANSPORT		(1U << 4)
#define DRV_F_GCM		(1U << 5)
#define DRV_F_QUEUE		(1U << 6)	/* holds packets during acquire */
#define DRV_F_BYTE_LIFETIME	(1U << 7)
/*
 * ESP-in-UDP is taken off the IKE NAT-T socket by the kernel: the agent
 * sets UDP_ENCAP_ESPINUDP on that socket (xfrm). Without it the backend
 * reads ESP-in-UDP itself (uesp: raw sockets) and the agent only keeps
 * that traffic out of its own socket.
 */
#define DRV_F_KERNEL_ENCAP	(1U << 8)

enum drv_proto {
	DRV_PROTO_ESP = 50,
	DRV_PROTO_AH = 51
};

enum drv_mode {
	DRV_MODE_TRANSPORT = 1,
	DRV_MODE_TUNNEL = 2
};

enum drv_enc {
	DRV_ENC_NONE = 0,	/* ESP NULL */
	DRV_ENC_DES_CBC,
	DRV_ENC_3DES_CBC,
	DRV_ENC_AES_CBC,	/* key length from enc_key_len: 16/24/32 */
	DRV_ENC_AES_GCM_16	/* key_len 16/24/32 + 4 salt bytes */
};

enum drv_auth {
	DRV_AUTH_NONE = 0,
	DRV_AUTH_HMAC_MD5_96,
	DRV_AUTH_HMAC_SHA1_96,
	DRV_AUTH_HMAC_SHA256_128
};

/* Identifies one SA (one direction). */
struct sa_id {
	struct pa_addr	src;		/* outer source */
	struct pa_addr	dst;		/* outer destination */
	uint8_t		proto;		/* enum drv_proto */
	uint32_t	spi;		/* host order */
};

struct sa_lifetime {
	uint64_t	soft_bytes;	/* 0 = none */
	uint64_t	hard_bytes;
	uint32_t	soft_sec;	/* after add; 0 = none */
	uint32_t	hard_sec;
	uint32_t	idle_sec;	/* hard expire after no traffic; 0 = none */
};

/* Traffic selectors (inner addresses), as negotiated in Quick Mode. */
struct drv_sel {
	struct pa_prefix	src;
	struct pa_prefix	dst;
	uint8_t			proto;	/* 0 = any */
	uint16_t		sport;	/* 0 = any */
	uint16_t		dport;
};

struct sa_params {
	enum drv_mode		mode;
	bool			inbound;	/* true: we receive with this SA */
	enum drv_enc		enc;
	uint8_t			enc_key[36];	/* incl. GCM salt */
	uint8_t			enc_key_len;
	enum drv_auth		auth;
	uint8_t			auth_key[64];
	uint8_t			auth_key_len;
	struct drv_sel		sel;
	struct sa_lifetime	life;
	uint32_t		replay_window;	/* packets; 0 = off */
	/* NAT-T (RFC 3948): UDP encapsulation ports, 0 = none. */
	uint16_t		encap_sport;
	uint16_t		encap_dport;
	uint32_t		reqid;		/* ties SAs of one bundle/policy */
	uint64_t		cookie;		/* the agent's tag, echoed in events */
};

struct sa_stats {
	uint64_t	bytes;
	uint64_t	packets;
	uint64_t	add_time;	/* wall-clock seconds */
	uint64_t	use_time;	/* last packet, 0 = never */
	uint64_t	replay_drops;
	uint64_t	auth_drops;
	uint64_t	decrypt_drops;
};

enum drv_action {
	DRV_ACT_PERMIT = 1,
	DRV_ACT_BLOCK = 2,
	DRV_ACT_PROTECT = 3	/* negotiate: needs SAs of the template */
};

enum drv_dir {
	DRV_DIR_OUT = 1,
	DRV_DIR_IN = 2
};

/* Identifies one filter (policy) entry this agent installed. */
struct spd_id {
	uint32_t	index;		/* unique per agent, stable across diffs */
	enum drv_dir	dir;
};

/*
 * A filter entry. Two kinds are installed through the same call:
 *  - a policy filter (from the compiled SPD): PROTECT means "negotiate":
 *    a packet it wins with no SA of its bundle and reqid is held and raises
 *    an acquire; the bundle is that of the filter action's first offer
 *    (the one the agent proposes first), never the union of the offers;
 *  - an SA entry (installed by IKE for the selectors a Quick Mode
 *    negotiated, in either role, for as long as the SA lives): PROTECT with
 *    exactly the negotiated bundle (ESP, AH or AH+ESP), mode, tunnel
 *    endpoints and the reqid of its SAs, at a priority just ahead of the
 *    filter it was negotiated under.
 * Entries may overlap, and two entries may have identical selectors and
 * direction (an SA entry over a host-to-host filter, a soft association
 * over either): the lowest priority number wins; on a tie the entry added
 * first wins. Removing the winner uncovers the next one in one step (no
 * packet sees neither).
 */
struct spd_params {
	struct drv_sel		sel;
	enum drv_action		action;
	uint32_t		priority;	/* lower = matched first */
	bool			inpass;		/* accept inbound clear text too */
	/* PROTECT: the SA bundle, ESP and/or AH (AH outside ESP). */
	enum drv_mode		mode;
	bool			want_ah;
	bool			want_esp;
	/*
	 * Tunnel mode outer addresses, as this direction's packets carry
	 * them (out: ours -> peer; in: peer -> ours). Our side may be unset:
	 * "this host's address towards the peer" (the backend finds it).
	 */
	struct pa_addr		tunnel_src;
	struct pa_addr		tunnel_dst;
	/* PROTECT: only SAs with this reqid serve the entry (sa_params.reqid).
	 * Policy filters carry 0: no SA has it, so their packets always raise
	 * an acquire unless an SA entry wins first. */
	uint32_t		reqid;
};

enum drv_drop_reason {
	DRV_DROP_BAD_SPI = 1,
	DRV_DROP_REPLAY,
	DRV_DROP_ICV,
	DRV_DROP_DECRYPT,	/* bad padding, truncated */
	DRV_DROP_CLEARTEXT,	/* clear text where secured */
	DRV_DROP_BLOCKED,	/* a block filter */
	DRV_DROP_QUEUE_FULL,
	DRV_DROP_SYNTAX,
	DRV_DROP_TOO_BIG,	/* out: exceeds the path MTU, DF set (ICMP sent) */
	DRV_DROP_NO_SA		/* out: an SA vanished under the packet */
};

/* Packets dropped since the last report, for one reason and peer. */
struct drv_drop {
	enum drv_drop_reason	reason;
	enum drv_dir		dir;	/* the packet's way: in from, out to peer */
	struct pa_addr		peer;	/* unset: not known */
	uint8_t			proto;	/* DRV_PROTO_* of spi, 0: none */
	uint32_t		spi;	/* the SA concerned, 0: none/not known */
	uint64_t		count;
};

/* Callbacks the driver raises from dispatch(); arg is open()'s cbarg. */
struct driver_events {
	/* A packet needs SAs matching this filter: negotiate them. */
	void	(*acquire)(void *arg, const struct spd_id *,
		    const struct drv_sel *pkt, uint32_t reqid);
	/* Soft (rekey now) or hard (gone) expiry of an SA. */
	void	(*expire)(void *arg, const struct sa_id *, uint64_t cookie,
		    bool hard);
	/* Packets dropped (borrowed, valid during the call). */
	void	(*drop)(void *arg, const struct drv_drop *);
	/*
	 * open() found state that a previous instance left behind (it died,
	 * failed to start, or stopped fail-closed); what says what, for the
	 * audit. That state keeps blocking until settle() or clear().
	 */
	void	(*leftover)(void *arg, const char *what);
};

struct driver_cfg {
	const char	*ifname;	/* uesp: TUN name, default "ipsec0" */
	uint32_t	 fwmark;	/* uesp: mark for steering, 0 = default */
	uint32_t	 table;		/* uesp: routing table, 0 = default */
	uint16_t	 ike_port;	/* exempt; default 500 */
	uint16_t	 natt_port;	/* exempt / encap; default 4500 */
	bool		 exempt_kerberos;
	bool		 exempt_multicast;
	unsigned	 queue_len;	/* packets held per acquire, 0 = default */
	unsigned	 threads;	/* uesp crypto workers, 0 = auto */
};

/* Backends' global counters (ipsecmon statistics). */
struct drv_stats {
	uint64_t	active_sas;
	uint64_t	bad_spi;
	uint64_t	not_decrypted;
	uint64_t	not_authenticated;
	uint64_t	replay;
	uint64_t	cleartext_drops;
	uint64_t	blocked;
	uint64_t	queued;
	uint64_t	queue_drops;
	uint64_t	conf_bytes_sent;
	uint64_t	conf_bytes_recv;
	uint64_t	auth_bytes_sent;
	uint64_t	auth_bytes_recv;
	/* Outbound packets not sent for another reason than a block filter or
	 * the acquire queue (too big with DF, SA gone). */
	uint64_t	out_dropped;
};

struct driver;

struct driver_ops {
	const char	*name;
	uint32_t	 features;
	/*
	 * Open. What a previous instance left stays in force (reported
	 * through events.leftover) until settle(): there is no moment at
	 * start when protected traffic could pass in clear.
	 */
	int	(*open)(const struct driver_cfg *, const struct driver_events *,
		    void *cbarg, struct driver **);
	/*
	 * Close, fail-closed: the SAs are removed, and every flow that a
	 * PROTECT or BLOCK filter covers stays blocked both ways (PERMIT
	 * filters stay too) after the call and after the process ends, until
	 * the next open() + settle(), or clear(). A process that dies without
	 * calling close() leaves the same guarantee: what a backend keeps in
	 * the kernel while it runs must already block on its own.
	 */
	void	(*close)(struct driver *);
	/*
	 * Remove everything this agent and any previous instance installed,
	 * so that traffic flows as if there were no IPsec: only when an
	 * administrator asks for it (a stop "in clear", package removal).
	 */
	int	(*clear)(struct driver *);
	/*
	 * The agent's first SPD is installed: remove what a previous instance
	 * left (see open), keeping what this instance installed since.
	 */
	int	(*settle)(struct driver *);
	int	(*spi_alloc)(struct driver *, const struct sa_id *, uint32_t *spi);
	int	(*sa_add)(struct driver *, const struct sa_id *,
		    const struct sa_params *);
	int	(*sa_del)(struct driver *, const struct sa_id *);
	int	(*sa_query)(struct driver *, const struct sa_id *,
		    struct sa_stats *);
	int	(*policy_add)(struct driver *, const struct spd_id *,
		    const struct spd_params *);
	int	(*policy_del)(struct driver *, const struct spd_id *);
	/* Remove every SA and filter this instance installed (tests; a stop
	 * goes through close or clear). */
	int	(*flush)(struct driver *);
	int	(*event_fd)(struct driver *);	/* poll for readability, or -1 */
	int	(*dispatch)(struct driver *);	/* drain events -> callbacks */
	int	(*stats)(struct driver *, struct drv_stats *);
	/*
	 * Let all traffic of a socket (the IKE sockets) bypass IPsec,
	 * whatever the filters say; family is AF_INET or AF_INET6, fd is
	 * borrowed. May be NULL in an older backend: check before calling.
	 */
	int	(*socket_bypass)(struct driver *, int fd, int family);
	/*
	 * Self-test (ipseccmd diag): does what the kernel holds now agree
	 * with what this instance installed? 0 if so; why says what was
	 * found either way. May be NULL: check before calling.
	 */
	int	(*check)(struct driver *, char *why, size_t cap);
};

/* The backend of that name, or NULL if there is none. */
const struct driver_ops	*drv_lookup(const char *name);
/* Names of all backends, NULL-terminated, for usage and errors. */
const char *const	*drv_names(void);

#endif
