/*
 * The uesp backend's glue: the TUN device, policy routing, nftables
 * rules, raw sockets and the data threads around the engine in engine/.
 * Private to driver_shim/uesp/.
 */
#ifndef PA_UESP_PRIV_H
#define PA_UESP_PRIV_H

#include <net/if.h>

#include <pthread.h>
#include <stdatomic.h>

#include "driver.h"
#include "engine/uesp_engine.h"

#define UESP_DEF_IFNAME		"ipsec0"
#define UESP_DEF_MARK		0x50410000U	/* steer into the TUN */
#define UESP_DEF_TABLE		20545U
#define UESP_RULE_PRIO		100U
#define UESP_UNREACH_METRIC	4000000000U	/* fail-closed route */
#define UESP_NTABLES		8	/* nft table names: ours + leftovers */
#define UESP_DEF_MTU		1400U
#define UESP_DEF_QUEUE		16U
#define UESP_QUEUE_MS		30000U		/* held packets give up */
#define UESP_ACQ_RETRY_MS	5000U		/* re-raise an acquire */
#define UESP_ACQ_SLOTS		16		/* peers remembered per filter */
#define UESP_REASM_MS		30000U		/* fragments give up */
#define UESP_PMTU_MS		1000U		/* path MTU cache */

/* A packet held while its SAs are negotiated. */
struct uesp_qpkt {
	struct uesp_qpkt	*next;
	uint64_t		 t_ms;
	size_t			 len;
	uint8_t			 data[];
};

/* One installed filter. */
struct uesp_pol {
	struct spd_id		 id;
	struct spd_params	 p;
	uint64_t		 seq;		/* insertion order */
	/*
	 * Outbound PROTECT only, touched by the TX thread: the last acquire
	 * raised per destination (a filter such as "All IP traffic" covers
	 * many peers: one peer's negotiation must not hold back another's).
	 */
	struct {
		struct pa_addr	 dst;
		uint64_t	 ms;	/* 0 = free */
	}			 acq[UESP_ACQ_SLOTS];
	struct uesp_qpkt	*qhead;
	struct uesp_qpkt	**qtail;
	unsigned		 qlen;
};

enum uesp_ev_kind {
	UESP_EV_ACQUIRE = 1,
	UESP_EV_EXPIRE
};

struct uesp_ev {
	struct uesp_ev		*next;
	enum uesp_ev_kind	 kind;
	struct spd_id		 spd;
	struct drv_sel		 sel;
	uint32_t		 reqid;
	struct sa_id		 sa;
	uint64_t		 cookie;
	bool			 hard;
};

#define UESP_NDROP	(DRV_DROP_NO_SA + 1)
#define UESP_NRX	6

struct driver {
	struct driver_cfg	 cfg;
	char			 ifname[IFNAMSIZ];
	char			 table[32];		/* our nftables table */
	/* The names a table of ours may have: [0] pa_<if>, then pa_<if>_N;
	 * a previous instance's table keeps blocking beside ours until
	 * settle() (nftables cannot rename a table). */
	char			 tnames[UESP_NTABLES][32];
	bool			 told[UESP_NTABLES];	/* a leftover */
	bool			 cleared;	/* clear() ran: close keeps none */
	bool			 lo_routing;	/* found our rule/route at open */
	struct driver_events	 ev;
	void			*cbarg;
	uint32_t		 mark;
	uint32_t		 bypass;
	uint32_t		 rt_table;
	unsigned		 mtu;
	unsigned		 qmax;

	int			 tun;
	unsigned		 ifindex;
	int			 tx4, tx6;
	/*
	 * Copies of the IKE sockets on the NAT-T port (from socket_bypass):
	 * ESP-in-UDP leaves through them in UDP GSO aggregates; -1 = none.
	 */
	_Atomic int		 udp4, udp6;
	/* IKE's own descriptors and the socket's inode: when IKE closes
	 * its socket, the TX thread drops the copy (checked every 500 ms). */
	_Atomic int		 udp_orig[2];
	_Atomic unsigned long	 udp_ino[2];
	_Atomic bool		 gso_broken;	/* the kernel refused GSO */
	int			 rx[UESP_NRX];
	int			 evfd;		/* for the agent's loop */
	int			 wakefd;	/* TX: queued packets may go */
	int			 stopfd;
	pthread_t		 thr_tx, thr_rx;
	bool			 running;
	bool			 rules4, rules6;

	pthread_rwlock_t	 lock;		/* db and pols */
	struct uesp_sadb	*db;
	struct uesp_pol		**pols;		/* by priority, then seq */
	size_t			 npols, cappols;
	uint64_t		 polseq;

	pthread_mutex_t		 evlock;	/* evq and drop peers */
	struct uesp_ev		*evhead, **evtail;
	/* Drops by way ([0] in, [1] out) and reason; the last packet's peer
	 * and SA for the event. */
	struct uesp_droplast {
		struct pa_addr	peer;
		uint8_t		proto;
		uint32_t	spi;
	}			 drop_last[2][UESP_NDROP];
	_Atomic uint64_t	 drops[2][UESP_NDROP];
	uint64_t		 drops_told[2][UESP_NDROP];	/* control */

	_Atomic uint64_t	 queued, conf_sent, conf_recv, auth_sent,
				 auth_recv;
	_Atomic uint64_t	 nft_cleartext, nft_blocked;
	/* Data path shape, logged at close (debug level). */
	_Atomic uint64_t	 tun_reads, tso_segs, rx_batches, rx_pkts,
				 gro_writes, gro_segs, tun_writes,
				 gso_sends, gso_segs, rx_gso_segs;

	/* TX thread only: fragments from the TUN being reassembled, and
	 * the path MTU towards recent outer destinations. */
	struct uesp_reasm	*ra;
	struct uesp_pmtu {
		struct pa_addr	dst;
		unsigned	mtu;
		unsigned	real;	/* the path's, before adv */
		unsigned	adv_lo;	/* the MTUs our ICMP gave */
		unsigned	adv_hi;
		uint64_t	t_ms;
	}			 pmtu[8];
	unsigned		 pmtu_next;

	struct nft_ctx		*nft;		/* control thread */
	struct nft_ctx		*nft_hk;	/* housekeeping (RX thread) */
};

/* nl.c: rtnetlink (libmnl). */
int	uesp_nl_link_up(unsigned ifindex, unsigned mtu) PA_MUST_USE;
int	uesp_nl_rule(bool add, int family, uint32_t mark, uint32_t table,
	    uint32_t prio) PA_MUST_USE;
int	uesp_nl_route(bool add, int family, unsigned ifindex,
	    uint32_t table) PA_MUST_USE;
int	uesp_nl_unreach(bool add, bool excl, int family, uint32_t table)
	    PA_MUST_USE;

/* nft.c: the driver's own nftables table. */
int	uesp_nft_open(struct driver *) PA_MUST_USE;
/* Replace the rules with the current filter list (one transaction). */
int	uesp_nft_sync(struct driver *) PA_MUST_USE;
/* Is our table in the kernel, with the rules the filters make? */
int	uesp_nft_check(struct driver *, char *why, size_t cap) PA_MUST_USE;
void	uesp_nft_close(struct driver *);
/* Delete the leftover tables (settle), or every table of ours (clear). */
int	uesp_nft_drop_old(struct driver *, bool all) PA_MUST_USE;
/*
 * Read the drop counters, with the housekeeping thread's libnftables
 * context (hk) or the control thread's: a context is never shared.
 */
int	uesp_nft_counters(struct driver *, bool hk, uint64_t *cleartext,
	    uint64_t *blocked) PA_MUST_USE;

/* io.c: sockets, TUN and the data threads. */
int	uesp_io_open(struct driver *) PA_MUST_USE;
/* clear(): the routing rules and the fail-closed routes go. */
int	uesp_io_unroute(struct driver *) PA_MUST_USE;
int	uesp_io_start(struct driver *) PA_MUST_USE;
void	uesp_io_stop(struct driver *);
void	uesp_io_close(struct driver *);
/* Keep a copy of an IKE socket bound to the NAT-T port for GSO sends. */
void	uesp_io_udp_sock(struct driver *, int fd, int family);
void	uesp_post(struct driver *, struct uesp_ev *);
/* One packet dropped: dir its way, peer and SA (proto 0: none) if known. */
void	uesp_count_drop(struct driver *, enum drv_dir, enum drv_drop_reason,
	    const struct pa_addr *peer, uint8_t proto, uint32_t spi);
#define UESP_DIX(dir)	((dir) == DRV_DIR_OUT ? 1 : 0)
void	uesp_qfree(struct driver *, struct uesp_pol *, bool count);
/* Outbound filter for a packet selector (lock held), or NULL. */
struct uesp_pol	*uesp_pol_match(struct driver *, enum drv_dir,
	    const struct drv_sel *);

#endif
