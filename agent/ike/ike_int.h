/*
 * Inside the IKE engine: the SA database (Main Mode and Quick Mode SAs) and
 * the functions the exchange files share. Private to agent/ike/.
 *
 * Layering: engine.c owns sockets, timers and the SA tables; main_mode.c,
 * quick_mode.c and info.c implement the exchanges on top of them; sel.c
 * chooses rules and proposals from the policy model; oakley.c and isakmp.c
 * know nothing of SAs.
 */
#ifndef PA_IKE_INT_H
#define PA_IKE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "ike.h"
#include "isakmp.h"
#include "model.h"
#include "oakley.h"
#include "pa_addr.h"
#include "pa_buf.h"
#include "pa_secret.h"

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
	MM_I_GSS_WAIT		/* the first GSS step (service ticket), before #3 */
};

enum ike_qm_state {
	QM_I_SENT = 1,		/* sent #1, waiting for #2 */
	QM_R_SENT,		/* sent #2, waiting for #3 */
	QM_I_OUTWAIT,		/* sent #3, outbound SAs due at out_at */
	QM_DONE,
	QM_DEAD
};

/* Phase 1 transform values (negotiated or offered). */
struct ike_p1 {
	uint16_t	enc;		/* ISK_ENC_* */
	uint16_t	keylen;		/* bytes */
	uint16_t	hash;		/* ISK_HASH_* */
	uint16_t	auth;		/* ISK_AUTH_* */
	uint16_t	group;
	uint32_t	life_sec;
	uint32_t	life_kb;
	uint32_t	qm_limit;
};

/* One side of a Quick Mode selector. */
struct ike_ts {
	struct pa_prefix	net;
	uint8_t			proto;
	uint16_t		port;
};

/* What one Quick Mode SA bundle uses. */
struct ike_p2 {
	bool			ah;
	uint16_t		ah_integ;	/* enum pol_integ */
	bool			esp;
	uint16_t		esp_cipher;	/* enum pol_esp_cipher */
	uint16_t		esp_integ;	/* enum pol_integ */
	uint16_t		group;		/* PFS, 0 = none */
	uint32_t		life_sec;
	uint32_t		life_kb;
	bool			tunnel;
	uint8_t			propnum;	/* the proposal number chosen */
	uint8_t			natt;		/* UDP encapsulation: 0, 1 RFC, 2 draft */
	bool			life_cut;	/* shorter than the peer proposed */
};

/* A copy of what a rule says, kept by negotiations (policy may change). */
struct ike_rulecopy {
	char			 name[64];
	struct pa_guid		 id;
	struct pa_secret	*psk;		/* first PSK auth method, or NULL */
	uint16_t		 auths[POL_MAX_AUTHS];	/* ISK_AUTH_*, in order */
	size_t			 nauths;
	/*
	 * The CA each certificate method names (RFC 2253 text), or NULL
	 * when it takes any trusted CA; parallel to auths (NULL for other
	 * methods). A peer's certificate is good under any of them.
	 */
	char			*ca_dns[POL_MAX_AUTHS];
	struct pol_qm_offer	*offers;	/* all of the filter action's */
	size_t			 noffers;
	uint16_t		 pfs_group;	/* 0 = MM group */
	bool			 tunnel;
	struct pa_addr		 tunnel_peer;
	bool			 soft;
	bool			 inpass;	/* accept inbound clear text */
	bool			 master_pfs;
	uint32_t		 qm_per_mm;
	/*
	 * Where what is negotiated under this rule stands in the driver
	 * (pol_spd_prio of the filter entry that chose the rule): its SA
	 * entries and its soft associations. default_rule: the default
	 * response rule chose it (no filter; see pol_spd_prio_default).
	 */
	uint32_t		 prio_sa;
	uint32_t		 prio_soft;
	bool			 default_rule;
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
};

/* dhpool.c */
/* A fresh key pair for the group, ready-made if the pool has one. */
int	ike_dh_get(struct ike *, uint16_t group, struct oak_dh **) PA_MUST_USE;
/* Is a pool below its size (then ike_run_timers() makes a key)? */
bool	ike_dh_wanted(const struct ike *);
/* Make one key pair for a pool below its size. */
void	ike_dh_refill(struct ike *);
void	ike_dh_free_all(struct ike *);

/* engine.c */
/*
 * A message of this Main Mode SA passed its HASH: the peer is alive
 * (DPD), and if it came from the NAT-T port while we still send to 500,
 * we follow it there.
 */
void	ike_mm_authentic(struct ike *, struct ike_mm *);
/* One datagram received on socket index sock (ike_dispatch's body). */
void	ike_input(struct ike *, int sock, const struct pa_addr *from,
	    uint16_t port, const uint8_t *, size_t);
void	ike_olog(struct ike *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	ike_rand(struct ike *, void *, size_t) PA_MUST_USE;
int	ike_send(struct ike *, int sock, const struct pa_addr *peer,
	    uint16_t port, const uint8_t *, size_t) PA_MUST_USE;
/* Keep a copy of what was sent for retransmission; arms the timer. */
int	ike_keep_tx(struct ike *, uint8_t **tx, size_t *txlen, uint64_t *at,
	    uint32_t *n, const uint8_t *, size_t, bool arm) PA_MUST_USE;
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
/* The soft lifetime (rekey) of a Quick Mode's SAs, seconds after add. */
uint32_t	ike_qm_soft_sec(const struct ike_qm *);
/* The Filter field of 541 and 542 for a Quick Mode SA. */
void	ike_qm_filter_text(const struct ike_qm *, char *out, size_t cap);
struct ike_qm	*ike_qm_find(struct ike *, const struct ike_mm *, uint32_t msgid);
void	ike_qm_kill(struct ike *, struct ike_qm *, bool del_sas,
	    const char *why);
void	ike_qm_scrub(struct ike_qm *);
void	ike_audit(struct ike *, int event, const char *const *kv, size_t n);
void	ike_audit_fail(struct ike *, const char *mode, const struct pa_addr *peer,
	    const char *point, const char *reason);
uint64_t	ike_now(void);
/* A deadline (monotonic ms) was set somewhere: run timers by then. */
void	ike_timer_note(struct ike *, uint64_t at);
/* The socket (index) and local address to reach peer from, or -1. */
int	ike_sock_for_peer(struct ike *, const struct pa_addr *peer,
	    struct pa_addr *local);
/* Open socket a:port (the NAT-T port when natt) into ike->socks. */
int	ike_open_sock(struct ike *, const struct pa_addr *, uint16_t port,
	    bool natt) PA_MUST_USE;
/* The NAT-T socket with the address of socket sock, or -1. */
int	ike_natt_sock(const struct ike *, int sock);
/* SHA-1 of a datagram, for duplicate detection. */
void	ike_digest(const uint8_t *, size_t, uint8_t out[20]);
/* QM with peer now if an MM SA is up, else queue it and start Main Mode. */
int	ike_start_negotiation(struct ike *, const struct pa_addr *peer,
	    const struct ike_ts *l, const struct ike_ts *r, uint32_t reqid,
	    const struct ike_rulecopy *) PA_MUST_USE;
/* Start pending negotiations waiting for this (now established) MM SA. */
void	ike_mm_ready(struct ike *, struct ike_mm *);

/* Encrypted message helpers (engine.c). */
int	ike_encrypt_msg(struct ike_mm *, uint8_t *iv, struct wr *, size_t hdr_off)
	    PA_MUST_USE;
int	ike_decrypt_msg(struct ike_mm *, uint8_t *iv, const uint8_t *in, size_t len,
	    uint8_t *out, size_t *outlen) PA_MUST_USE;

/* bytes.c */
/* A copy of n bytes (malloc(1) for none), or NULL. */
uint8_t	*ike_dup_bytes(const uint8_t *, size_t);
/* Borrow bytes [off, off+n) of what a writer holds. */
int	ike_wr_view(const struct wr *, size_t off, size_t n, struct pa_bytes *)
	    PA_MUST_USE;

/* main_mode.c */
#define IKE_MM_MODE	"Key Exchange Mode (Main Mode)"
int	ike_mm_initiate(struct ike *, const struct pa_addr *peer,
	    const struct ike_rulecopy *, struct ike_mm **) PA_MUST_USE;
void	ike_mm_input(struct ike *, int sock, const struct pa_addr *from,
	    uint16_t port, const struct isk_hdr *, struct pa_bytes body,
	    const uint8_t *pkt, size_t len);
/* An unprotected informational for a Main Mode SA being negotiated. */
void	ike_mm_plain_notify(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body);
/* For the authentication methods (ike_auth.h): */
/* End a Main Mode: 547 (point: "Me" or "Peer"), then the method's retry. */
void	ike_mm_fail(struct ike *, struct ike_mm *, const char *point,
	    const char *reason);
/* Initiator: MM #1 with mm->offers / MM #3 (KE, Ni and the method's). */
int	ike_mm_send1(struct ike *, struct ike_mm *) PA_MUST_USE;
int	ike_mm_send3(struct ike *, struct ike_mm *) PA_MUST_USE;

/* quick_mode.c */
int	ike_qm_initiate(struct ike *, struct ike_mm *, const struct ike_ts *l,
	    const struct ike_ts *r, uint32_t reqid, const struct ike_rulecopy *)
	    PA_MUST_USE;
void	ike_qm_input(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body, const uint8_t *pkt, size_t len);
void	ike_qm_expire(struct ike *, const struct sa_id *, uint64_t cookie,
	    bool hard);

/* info.c */
void	ike_info_input(struct ike *, struct ike_mm *, const struct isk_hdr *,
	    struct pa_bytes body, const uint8_t *pkt, size_t len);
/* Unprotected notify (before keys exist). */
/*
 * An unprotected notify (ISAKMP SPI = CKY-I | spi_cky_r, optional data)
 * under a header with cookies cky_i | hdr_cky_r, into buf.
 */
int	ike_notify_plain_msg(uint8_t *buf, size_t cap, const uint8_t cky_i[8],
	    const uint8_t hdr_cky_r[8], const uint8_t spi_cky_r[8],
	    uint16_t type, const uint8_t *data, size_t dlen, size_t *len)
	    PA_MUST_USE;
void	ike_notify_plain(struct ike *, int sock, const struct pa_addr *peer,
	    uint16_t port, const uint8_t cky_i[8], const uint8_t cky_r[8],
	    uint16_t type);
/* Protected informational with one notify or delete. */
void	ike_notify_prot(struct ike *, struct ike_mm *, uint8_t proto,
	    uint16_t type, const uint8_t *spi, size_t spilen);
/* R-U-THERE with sequence number seq (RFC 3706). */
void	ike_dpd_send(struct ike *, struct ike_mm *, uint32_t seq);
/* The peer of mm showed it is alive (any authenticated message). */
void	ike_dpd_alive(struct ike *, struct ike_mm *);
void	ike_delete_send(struct ike *, struct ike_mm *, uint8_t proto,
	    const uint8_t *spis, size_t spi_size, size_t nspi);

/* auth_cert.c: RSA signatures with X.509 certificates. */
struct ike_creds;
int	ike_creds_load(const struct ike_cfg *, struct ike_creds **) PA_MUST_USE;
void	ike_creds_free(struct ike_creds *);
bool	ike_creds_can_sign(const struct ike_creds *);
struct pa_bytes	ike_creds_cert(const struct ike_creds *);	/* DER */
/* The CA certificates after ours in cert_file (DER), sent after it. */
#define IKE_MAX_CHAIN	8
size_t	ike_creds_nchain(const struct ike_creds *);
struct pa_bytes	ike_creds_chain(const struct ike_creds *, size_t i);
struct pa_bytes	ike_creds_dn(const struct ike_creds *);	/* DER subject */
/* DER DN of the trusted CA named dn (RFC 4514), for CR payloads. */
int	ike_creds_ca_der(const struct ike_creds *, const char *dn, uint8_t **,
	    size_t *) PA_MUST_USE;
int	ike_cert_sign(const struct ike_creds *, const uint8_t *hash, size_t hl,
	    uint8_t *sig, size_t cap, size_t *siglen) PA_MUST_USE;
/*
 * Check a peer: cert chains to a trusted CA, with the intermediate CA
 * certificates im it sent, and a CA of that chain is named by one of
 * ca_dns (any when nca is 0; else PA_E_PERM: event 544), the ID names the
 * cert and the signature over hash verifies (else PA_E_VERIFY: event
 * 545). subject gets the cert's subject.
 */
int	ike_cert_verify_peer(const struct ike_creds *,
	    const char *const *ca_dns, size_t nca, struct pa_bytes cert,
	    const struct pa_bytes *im, size_t nim,
	    const struct isk_id *, const uint8_t *hash,
	    size_t hl, struct pa_bytes sig, char *subject, size_t sublen,
	    char *why, size_t whylen) PA_MUST_USE;

/*
 * mm_krb.c: Kerberos (GSS-API, method 65001) for Main Mode; see ike_krb.h
 * for the engine's public part.
 */
struct ike_gss_cred;
struct ike_gss_ctx;
struct ike_gss_err;
/* Is Kerberos configured (a keytab or a principal in ike_cfg)? */
bool	ike_krb_configured(const struct ike *);
/* Our credentials when ready, else NULL (and their acquisition started). */
struct ike_gss_cred	*ike_krb_cred(struct ike *);
/* The last credential failure, or NULL when there was none. */
const struct ike_gss_err	*ike_krb_cred_error(const struct ike *);
/*
 * The rule's methods as phase 1 offers, in the rule's order, Kerberos
 * included when our credentials are ready (*cred_wait set when they are
 * being fetched and the rule wants Kerberos).
 */
size_t	ike_krb_p1_offers(struct ike *, const struct ike_rulecopy *,
	    struct ike_p1 *, size_t cap, bool *cred_wait);
/* An SA payload body for offers, with our GSS Identity in GSS ones. */
int	ike_krb_write_sa(struct ike *, struct wr *, const struct ike_p1 *,
	    size_t n) PA_MUST_USE;
/* One transform (the responder's choice) with our GSS Identity. */
int	ike_krb_write_xform(struct ike *, struct wr *, const struct ike_p1 *,
	    uint8_t num) PA_MUST_USE;
/* ike_p1_from_xform() for transforms that may carry a GSS Identity. */
int	ike_krb_p1_from_xform(const struct isk_xform *, struct ike_p1 *)
	    PA_MUST_USE;
/* The raw GSS Identity value of a transform, if it has one. */
bool	ike_krb_xform_gi(const struct isk_xform *, struct pa_bytes *);
/* Per Main Mode state: made on demand, freed with ike_mm_krb_free. */
struct ike_mm_krb	*ike_mm_krb_get(struct ike *, struct ike_mm *);
void	ike_mm_krb_free(struct ike *, struct ike_mm *);
/* What a worker's GSS step for a Main Mode ends with. */
typedef void	(*ike_mm_krb_done_fn)(struct ike *, struct ike_mm *, int rc,
		    struct pa_bytes out, bool complete,
		    const struct ike_gss_err *);
/* What a Main Mode negotiating with Kerberos keeps (mm->krb). */
struct ike_mm_krb {
	struct ike_mm_krb	*next;		/* all of the engine's */
	struct ike		*ike;
	struct ike_mm		*mm;		/* checked against the live list */
	struct ike_gss_ctx	*ctx;
	/* GSS Identity values exactly as sent (UTF-16LE), for the hashes. */
	uint8_t			 gi_i[512];
	size_t			 gi_i_len;
	uint8_t			 gi_r[512];
	size_t			 gi_r_len;
	uint8_t			*tok;		/* token for our next message */
	size_t			 toklen;
	ike_mm_krb_done_fn	 step_done;	/* the running step's */
};
/* Start the initiator's first GSS step in a worker thread; done then. */
int	ike_mm_krb_step_async(struct ike *, struct ike_mm *,
	    ike_mm_krb_done_fn done) PA_MUST_USE;

/* sel.c: rules and proposals from the policy model. */
int	ike_rule_for_peer(const struct ike *, const struct pa_addr *peer,
	    struct ike_rulecopy *) PA_MUST_USE;
/*
 * As responder: the rule for a peer's Quick Mode IDs (remote -> local).
 * With a compiled SPD, the entry that holds their traffic decides, as
 * for the driver's packets (most specific filter first; a permit or block
 * filter refuses; a tunnel rule only for its own peer); without one, the
 * first rule whose filter holds them. Then the default response rule if
 * activated. *why says why not (a static string).
 */
int	ike_rule_for_ids(const struct ike *, const struct pa_addr *peer,
	    const struct ike_ts *remote, const struct ike_ts *local,
	    struct ike_rulecopy *, const char **why) PA_MUST_USE;
int	ike_rule_for_pkt(const struct ike *, const struct drv_sel *pkt,
	    const struct pol_spd_entry *, struct ike_rulecopy *,
	    struct ike_ts *l, struct ike_ts *r) PA_MUST_USE;
void	ike_rulecopy_clear(struct ike_rulecopy *);
/*
 * Leave out the AES-GCM offers of c (for a driver without DRV_F_GCM);
 * returns how many went.
 */
size_t	ike_rulecopy_drop_gcm(struct ike_rulecopy *c);
int	ike_rulecopy_dup(struct ike_rulecopy *, const struct ike_rulecopy *)
	    PA_MUST_USE;
/* The ISAKMP policy's methods as phase 1 offers. */
size_t	ike_p1_offers(const struct ike *, const struct ike_rulecopy *,
	    struct ike_p1 *, size_t cap);
int	ike_p1_from_xform(const struct isk_xform *, struct ike_p1 *) PA_MUST_USE;
bool	ike_p1_eq(const struct ike_p1 *, const struct ike_p1 *);
const char	*ike_p1_str(const struct ike_p1 *, char *, size_t);
/* Write an SA payload body (DOI onwards) for phase 1 offers. */
int	ike_p1_write_sa(struct wr *, const struct ike_p1 *, size_t n) PA_MUST_USE;
/* Phase 2: write proposals for the rule's offers / a chosen bundle. */
int	ike_p2_write_sa(struct wr *, const struct ike_rulecopy *, uint16_t mm_group,
	    uint32_t esp_spi, uint32_t ah_spi, bool tunnel, uint8_t natt)
	    PA_MUST_USE;
int	ike_p2_write_one(struct wr *, const struct ike_p2 *, uint8_t propnum,
	    uint32_t esp_spi, uint32_t ah_spi) PA_MUST_USE;
/*
 * Responder: choose the first of our offers (in order) that one of the
 * peer's proposals matches. *esp_out / *ah_out get the peer's SPIs.
 */
int	ike_p2_select(const struct isk_sa *, const struct ike_rulecopy *,
	    uint16_t mm_group, bool tunnel, struct ike_p2 *, uint32_t *esp_out,
	    uint32_t *ah_out, char *why, size_t whylen) PA_MUST_USE;
/* Initiator: parse the responder's choice and check it was offered. */
int	ike_p2_accept(const struct isk_sa *, const struct ike_rulecopy *,
	    uint16_t mm_group, bool tunnel, struct ike_p2 *, uint32_t *esp_out,
	    uint32_t *ah_out) PA_MUST_USE;
const char	*ike_p2_str(const struct ike_p2 *, char *, size_t);

/* IDs. */
int	ike_ts_write(struct wr *, const struct ike_ts *) PA_MUST_USE;
int	ike_ts_from_id(const struct isk_id *, struct ike_ts *) PA_MUST_USE;
bool	ike_ts_eq(const struct ike_ts *, const struct ike_ts *);
/* An ID as text for logs and audit events (address, prefix or name). */
int	ike_id_text(const struct isk_id *, char *, size_t);

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

/* QM_I_OUTWAIT: out_at has come: add the outbound SAs (quick_mode.c). */
void		ike_qm_out_due(struct ike *, struct ike_qm *);

/*
 * Soft associations (soft.c): the flow of a request whose peer was asked
 * and did not answer passes in clear through two driver PERMIT filters
 * (out and in) at prio, just ahead of the negotiate filter that allows it
 * (a stricter filter still wins), until soft_sa_life_ms has passed or a
 * Quick Mode SA with that peer is established.
 */
struct ike_soft;
void		ike_soft_start(struct ike *, const struct pa_addr *peer,
		    uint32_t prio, const struct ike_ts *l,
		    const struct ike_ts *r);
void		ike_soft_end_peer(struct ike *, const struct pa_addr *peer,
		    const char *why);
void		ike_soft_run(struct ike *, uint64_t now);
uint64_t	ike_soft_next(const struct ike *);
void		ike_soft_free_all(struct ike *);

#endif
