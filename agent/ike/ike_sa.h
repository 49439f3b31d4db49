/*
 * The SA table of agent/ike/ (private): the engine's state (struct ike),
 * Main Mode and Quick Mode SAs and their table (sa.c), the driver's SA
 * entries (bundle.c). It calls nothing above it; what the layers below
 * must call above them goes through struct ike_up.
 */
#ifndef PA_IKE_SA_H
#define PA_IKE_SA_H

#include "ike_base.h"
#include "ike_policy.h"
#include "oakley.h"

#define IKE_NONCE_LEN		32
#define IKE_MAX_PKT		8192
/*
 * Reading under load: datagrams taken per recvmmsg() and per dispatch,
 * and the receive buffer asked for (a flood of small datagrams fills the
 * kernel's default 208 KiB in a few milliseconds).
 */
#define IKE_RX_BATCH		32
#define IKE_RX_BUDGET		256
#define IKE_RCVBUF		(8 << 20)
/* Half-open responder Main Modes one address may hold without a cookie. */
#define IKE_HALFOPEN_PER_SRC	4
#define IKE_HASH_BUCKETS	4096
#define IKE_MAX_SOCKS		(2 * IKE_MAX_LADDRS)
#define IKE_KEEPALIVE_MS	20000	/* NAT-T keepalive, as Windows */
/* Main Mode states. */
enum ike_mm_state {
	MM_I_SA_SENT = 1,	/* sent #1, waiting for #2 */
	MM_I_KE_SENT,		/* sent #3, waiting for #4 */
	MM_I_ID_SENT,		/* sent #5, waiting for #6 */
	MM_R_SA_SENT,		/* sent #2, waiting for #3 */
	MM_R_KE_SENT,		/* sent #4, waiting for #5 */
	MM_DONE,
	MM_DEAD,		/* deleted, freed at the next timer run */
	/* Kerberos (GSS-API) initiator: waiting for a worker thread. */
	MM_I_CRED_WAIT,		/* our tickets, before MM #1 */
	MM_I_GSS_WAIT,		/* the first GSS step (service ticket), before #3 */
	/* Certificate-to-account mapping: the peer's ID and proof are good,
	 * the directory is asked (ike_certmap_done goes on). */
	MM_R_MAP_WAIT,		/* then MM #6 */
	MM_I_MAP_WAIT		/* then established */
};
enum ike_qm_state {
	QM_I_SENT = 1,		/* sent #1, waiting for #2 */
	QM_R_SENT,		/* sent #2, waiting for #3 */
	QM_I_OUTWAIT,		/* sent #3, outbound SAs due at out_at */
	QM_DONE,
	QM_DEAD
};
struct ike_qm;
struct ike_mm {
	struct ike_mm		*hnext;		/* hash chain by cky_i */
	struct ike_mm		*next;		/* all MM SAs */
	struct ike_mm		*prev;
	struct ike		*ike;
	uint8_t			 cky_i[8];
	uint8_t			 cky_r[8];
	bool			 initiator;
	enum ike_mm_state	 state;
	int			 sock;		/* index into ike->socks */
	struct pa_addr		 local;
	struct pa_addr		 peer;
	uint16_t		 peer_port;
	struct ike_p1		 p1;
	struct ike_rulecopy	 rule;
	struct ike_p1		 offers[16];	/* initiator: what MM #1 offered */
	size_t			 noffers;
	/* Negotiation state, freed once established. */
	struct oak_dh		*dh;
	uint8_t			*sai_b;		/* initiator's SA body */
	size_t			 sai_len;
	uint8_t			*gxi, *gxr;
	size_t			 gx_len;
	uint8_t			*ni, *nr;
	size_t			 ni_len, nr_len;
	/* Keys. */
	uint8_t			 skeyid[OAK_MAX_HASH];
	uint8_t			 skeyid_d[OAK_MAX_HASH];
	uint8_t			 skeyid_a[OAK_MAX_HASH];
	uint8_t			 skeyid_e[OAK_MAX_HASH];
	uint8_t			 key[OAK_MAX_KEY];
	uint8_t			 iv[OAK_MAX_BLOCK];	/* phase 1 chain */
	bool			 keyed;
	/* Retransmission and duplicate replay. */
	uint8_t			*tx;
	size_t			 txlen;
	uint64_t		 retx_at;	/* 0 = none */
	uint32_t		 retx_n;
	uint8_t			 rx_digest[20];	/* last message handled */
	bool			 rx_valid;
	/* Initiator: when MM #1 first left (monotonic ms), 0 = not yet. */
	uint64_t		 sent1_at;
	/* Lifetime. */
	uint64_t		 expire_at;	/* monotonic ms */
	uint64_t		 created;	/* wall seconds */
	uint32_t		 qm_count;
	struct ike_qm		*qms;		/* its Quick Mode SAs (mnext chain) */
	/* Peer. */
	char			 peer_id[128];
	/* Certificates: the peer's, for later revocation checks (or NULL). */
	struct ike_peer_certs	*peer_certs;
	bool			 peer_ms;	/* sent the MS NT5 VID */
	uint32_t		 peer_ms_ver;
	bool			 peer_natt;
	bool			 peer_dpd;
	/*
	 * Sent our VID ("Linux IPsec Policy Agent 1"): as responder it adds
	 * its inbound SAs before it sends QM #2, so our outbound SAs need
	 * not wait for QM #3 to arrive.
	 */
	bool			 peer_ours;
	/* Where the last encrypted message claiming this SA came from. */
	int			 rx_sock;
	uint16_t		 rx_port;
	uint8_t			 natt;		/* NAT-T spoken: 0, 1 RFC, 2 draft */
	bool			 nat_local;	/* we are behind a NAT */
	bool			 nat_peer;	/* the peer is */
	uint64_t		 keepalive_at;	/* next NAT-T keepalive, 0 = none */
	uint64_t		 dpd_at;	/* next DPD action, 0 = none */
	uint32_t		 dpd_seq;	/* last R-U-THERE sequence sent */
	uint32_t		 dpd_missed;	/* probes without an answer */
	bool			 initial_contact_sent;
	/* Certificate-to-account mapping under way (id 0: none). */
	uint64_t		 map_id;
	bool			 map_ic;	/* the peer sent INITIAL-CONTACT */
	char			 peer_account[320];	/* mapped to, or "" */
	/* Kerberos (GSS-API) negotiation state, or NULL (mm_krb.c). */
	struct ike_mm_krb	*krb;
};
struct ike_qm {
	struct ike_qm		*next;
	struct ike_qm		*prev;
	struct ike_qm		*mnext;		/* chain of qm->mm */
	struct ike_mm		*mm;		/* NULL once the MM SA is gone */
	uint8_t			 cky_i[8];	/* of the MM SA it came from */
	uint8_t			 cky_r[8];
	uint32_t		 msgid;
	bool			 initiator;
	enum ike_qm_state	 state;
	struct pa_addr		 local;
	struct pa_addr		 peer;
	struct ike_rulecopy	*rule;		/* initiator / selected rule */
	struct ike_ts		 ts_l;		/* local side (IDci for initiator) */
	struct ike_ts		 ts_r;
	bool			 ids_sent;	/* IDs in the exchange */
	uint32_t		 reqid;
	struct ike_p2		 p2;
	uint32_t		 esp_in, esp_out;	/* SPIs, host order */
	uint32_t		 ah_in, ah_out;
	uint8_t			 iv[OAK_MAX_BLOCK];
	struct oak_dh		*dh;
	uint8_t			*ni, *nr;
	size_t			 ni_len, nr_len;
	uint8_t			*gxy;
	size_t			 gxy_len;
	uint8_t			*tx;
	size_t			 txlen;
	uint64_t		 retx_at;
	uint32_t		 retx_n;
	uint8_t			 rx_digest[20];
	bool			 rx_valid;
	uint64_t		 created;
	uint64_t		 cookie;	/* tag handed to the driver */
	bool			 installed;
	bool			 rekeyed;	/* a successor was started */
	uint64_t		 done_at;	/* monotonic ms, when established */
	uint64_t		 t1_at;		/* initiator: QM #1 sent (ms) */
	uint64_t		 out_at;	/* QM_I_OUTWAIT: add outbound then */
	struct ike_bundle	*bundle;	/* its SA entry (bundle.c), or NULL */
};
/* A request waiting for a Main Mode SA to a peer. */
struct ike_pending {
	struct ike_pending	*next;
	struct ike_mm		*mm;		/* only for this MM SA (or NULL) */
	struct pa_addr		 peer;
	struct ike_ts		 ts_l;
	struct ike_ts		 ts_r;
	uint32_t		 reqid;
	struct ike_rulecopy	 rule;
	uint64_t		 since;		/* monotonic ms */
	bool			 soft_done;	/* soft association reported */
};
struct ike_sock {
	bool		natt;		/* the NAT-T port: non-ESP marker */
	int		fd;
	uint32_t	ovfl;		/* the kernel's drop count (SO_RXQ_OVFL) */
	struct pa_addr	addr;
	uint16_t	port;
};
/* Diffie-Hellman key pairs made ahead, per group (dhpool.c). */
#define IKE_DHPOOL_GROUPS	4
#define IKE_DHPOOL_KEYS		8
struct ike_dhpool {
	uint16_t		 group;		/* 0 = slot unused */
	unsigned		 n;
	struct oak_dh		*keys[IKE_DHPOOL_KEYS];
};
/*
 * Calls up: the layers below (SA table, transport, exchanges, methods)
 * reach what is above them only through these, which ike_new fills in.
 */
struct ike_up {
	/* engine.c: start the requests waiting for this MM SA. */
	void	(*mm_ready)(struct ike *, struct ike_mm *);
	/* engine.c: ike_start_negotiation (QM now, or MM first). */
	int	(*start_negotiation)(struct ike *, const struct pa_addr *peer,
		    const struct ike_ts *l, const struct ike_ts *r,
		    uint32_t reqid, const struct ike_rulecopy *);
	/* main_mode.c, for the authentication methods and mm_krb.c. */
	int	(*mm_initiate)(struct ike *, const struct pa_addr *peer,
		    const struct ike_rulecopy *, struct ike_mm **);
	void	(*mm_fail)(struct ike *, struct ike_mm *, const char *point,
		    const char *reason);
	int	(*mm_send1)(struct ike *, struct ike_mm *);
	int	(*mm_send3)(struct ike *, struct ike_mm *);
};
struct ike {
	struct ike_up		 up;
	struct ike_cfg		 cfg;
	const struct pol_policy	*pol;
	const struct pol_spd	*spd;
	struct ike_sock		 socks[IKE_MAX_SOCKS];
	size_t			 nsocks;
	struct ike_mm		*mm_head;
	struct ike_mm		*mm_hash[IKE_HASH_BUCKETS];
	struct ike_qm		*qm_head;
	struct ike_pending	*pending;
	struct ike_stats	 st;
	struct ike_creds	*creds;		/* certificates, or NULL */
	bool			 paused;
	uint64_t		 next_cookie;
	uint32_t		 next_reqid;
	uint64_t		 next_map_id;	/* certmap requests */
	uint64_t		 last_dos_audit;
	uint8_t			*rxbuf;		/* IKE_RX_BATCH datagrams */
	/* New MM #1 without a cookie: this second's count, the last's. */
	uint64_t		 mm1_sec;
	uint32_t		 mm1_cur;
	uint32_t		 mm1_prev;
	void			*dos_mac;	/* EVP_MAC_CTX keyed with dos_secret */
	uint8_t			 dos_secret[32];	/* DoS cookies' key */
	uint64_t		 last_bad_audit;	/* invalid input report */
	uint64_t		 bad_reported;		/* count at that report */
	/*
	 * Timers: no deadline is earlier than timer_due (0 = none). Setting
	 * a deadline notes it (ike_timer_note); the tables are walked only
	 * when timer_due has come, which then recomputes it.
	 */
	uint64_t		 timer_due;
	/* Kerberos: credentials and worker threads, or NULL (mm_krb.c). */
	struct ike_krb		*krb;
	/* Soft associations in force (soft.c). */
	struct ike_soft		*soft;
	uint32_t		 next_soft_index;
	/* SA entries in the driver (bundle.c). */
	struct ike_bundle	*bundles;
	uint32_t		 next_bundle_index;
	struct ike_dhpool	 dhpool[IKE_DHPOOL_GROUPS];
	/* Troubleshooting keys (keylog.c), or NULL: off. */
	struct ike_keylog	*keylog;
};
/* keylog.c: append an ESP SA's / a Main Mode's keys if the keylog is on. */
void	ike_keylog_sa(struct ike *, const struct sa_id *,
	    const struct sa_params *);
void	ike_keylog_mm(struct ike *, const struct ike_mm *);
void	ike_keylog_free(struct ike *);		/* off */
struct ike_mm	*ike_mm_new(struct ike *, bool initiator);
void	ike_mm_hash_add(struct ike *, struct ike_mm *);
struct ike_mm	*ike_mm_find(struct ike *, const uint8_t cky_i[8],
	    const uint8_t cky_r[8]);
struct ike_mm	*ike_mm_find_peer(struct ike *, const struct pa_addr *peer,
	    bool established);
void	ike_mm_kill(struct ike *, struct ike_mm *, const char *why);
/* Unlink and free (engine.c, for DEAD SAs at the timer run and at the end). */
void	ike_mm_free(struct ike *, struct ike_mm *);
void	ike_qm_free(struct ike *, struct ike_qm *);
/* The driver's SA of a Quick Mode, inbound or outbound, ESP or AH. */
void	ike_qm_sa_id(const struct ike_qm *, bool in, uint8_t proto,
	    struct sa_id *);
void	ike_mm_scrub(struct ike_mm *);
struct ike_qm	*ike_qm_new(struct ike *, struct ike_mm *, bool initiator);
/* The Filter field of 541 and 542 for a Quick Mode SA. */
void	ike_qm_filter_text(const struct ike_qm *, char *out, size_t cap);
struct ike_qm	*ike_qm_find(struct ike *, const struct ike_mm *, uint32_t msgid);
void	ike_qm_kill(struct ike *, struct ike_qm *, bool del_sas,
	    const char *why);
void	ike_qm_scrub(struct ike_qm *);
/* A deadline (monotonic ms) was set somewhere: run timers by then. */
void	ike_timer_note(struct ike *, uint64_t at);
/*
 * SA entries (bundle.c): the driver filters that send the flow of a Quick
 * Mode through its SAs. hold: before the Quick Mode's first SA goes in
 * (it may take the reqid of an entry the flow already has); release: when
 * the Quick Mode ends (the entry goes with its last Quick Mode).
 */
struct ike_bundle;
int		ike_bundle_hold(struct ike *, struct ike_qm *) PA_MUST_USE;
void		ike_bundle_release(struct ike *, struct ike_qm *);
void		ike_bundle_free_all(struct ike *);

#endif
