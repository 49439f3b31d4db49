/*
 * The IKEv1 engine (the "Oakley" service): Main Mode and Quick Mode as
 * initiator and responder, turning policy into keyed SA pairs handed to
 * the driver shim.
 *
 * Single-threaded and event driven: the service polls ike_fds() for
 * readability, calls ike_dispatch() for each readable fd, and calls
 * ike_run_timers() when ike_next_timeout_ms() has elapsed. No function
 * blocks.
 *
 * Policy is borrowed: ike_set_policy() keeps the pointers until the next
 * call (or ike_free()); the caller keeps the store and SPD alive and
 * unchanged meanwhile. Negotiations in flight keep working on copies of
 * what they selected (algorithms, PSK, selectors), so a policy change never
 * leaves a dangling pointer inside an SA.
 *
 * All fallible functions return 0 or a negative enum pa_err.
 */
#ifndef PA_IKE_H
#define PA_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_addr.h"
#include "pa_err.h"

struct audit;
struct driver;
struct driver_ops;
struct drv_sel;
struct pol_policy;
struct pol_spd;
struct pol_spd_entry;
struct sa_id;
struct pa_bytes;

#define IKE_PORT		500
#define IKE_NATT_PORT		4500
#define IKE_MAX_LADDRS		16

/*
 * What identifies a peer certificate to the directory: the names its
 * subjectAltName gives (dNSName, the Microsoft UPN) and the values of
 * altSecurityIdentities that name it, in AD's forms
 * ("X509:<I>issuer<SR>serial", "X509:<SKI>hex", "X509:<I>issuer<S>subject";
 * DNs in the certificate's own order, RFC 4514 escaping).
 */
#define IKE_CERTMAP_NAMES	4
#define IKE_CERTMAP_LEN		512
struct ike_certmap_req {
	uint64_t	id;
	uint8_t		cky_i[8];
	uint8_t		cky_r[8];
	char		subject[256];		/* for messages */
	char		dns[IKE_CERTMAP_NAMES][256];
	size_t		ndns;
	char		upn[IKE_CERTMAP_NAMES][256];
	size_t		nupn;
	char		alt[IKE_CERTMAP_NAMES][IKE_CERTMAP_LEN];
	size_t		nalt;
};
/* The directory's answer: rc 0 and the account, or why not. */
struct ike_certmap_ans {
	uint64_t	id;
	uint8_t		cky_i[8];
	uint8_t		cky_r[8];
	int		rc;
	char		account[320];		/* "NAME$ (its DN)" */
	char		why[256];
};

struct ike_cfg {
	struct audit		*audit;		/* may be NULL */
	const struct driver_ops	*drv_ops;	/* required */
	struct driver		*drv;		/* required, opened by the caller */
	/*
	 * Local addresses to listen on (one UDP socket per address and
	 * port). nladdrs = 0: bind the wildcard of each family.
	 */
	struct pa_addr		 laddrs[IKE_MAX_LADDRS];
	size_t			 nladdrs;
	uint16_t		 port;		/* 0 = 500 */
	uint16_t		 natt_port;	/* 0 = 4500; IKE_NO_NATT disables */
	uint16_t		 peer_port;	/* where peers listen; 0 = port */
	/* Oakley log: one line per negotiation step, never key material. */
	void			(*olog)(void *arg, const char *line);
	void			*olog_arg;
	/* Retransmission: first after retrans_ms, doubling, retrans_max times. */
	uint32_t		 retrans_ms;	/* 0 = 1000 */
	uint32_t		 retrans_max;	/* 0 = 4 */
	/*
	 * Dead peer detection (RFC 3706) with peers that send the DPD VID:
	 * R-U-THERE every dpd_ms (0 = 30 s) while the Main Mode SA lives;
	 * after retrans_max + 1 unanswered probes (retrans_ms apart) the
	 * peer is declared dead and its SAs are removed.
	 */
	uint32_t		 dpd_ms;
	/* NAT-T keepalive interval behind a NAT (RFC 3948 2.3); 0 = 20 s. */
	uint32_t		 keepalive_ms;
	uint32_t		 soft_sa_ms;	/* soft association after; 0 = 3000 */
	/*
	 * How long a soft association lets its flow pass in clear (driver
	 * PERMIT filters) before the agent tries to secure it again; 0 =
	 * 300 s (Windows: a soft SA ends after 5 minutes idle).
	 */
	uint32_t		 soft_sa_life_ms;
	uint32_t		 max_halfopen;	/* responder MM half-open cap; 0 = 1000 */
	/*
	 * DoS-cookie mode (Windows' EnableDOSProtect, off by default as in
	 * 2000/XP/2003): with this many half-open responder Main Modes or
	 * more, MM #1 without a valid responder cookie is answered with a
	 * stateless NOTIFY_DOS_COOKIE; 0 = off.
	 */
	uint32_t		 dos_halfopen;
	/*
	 * Test hook: when set, all random bytes the engine draws (cookies,
	 * nonces, DH private values are excluded) come from here.
	 */
	void			(*rand_hook)(void *arg, uint8_t *buf, size_t len);
	void			*rand_arg;
	/*
	 * RSA signature authentication (PEM files, read by ike_new): this
	 * host's certificate and private key, and the trusted CA
	 * certificates (several may follow each other in ca_file). A rule's
	 * certificate method names its CA by DN; NULL: no certificates.
	 */
	const char		*cert_file;
	const char		*key_file;
	const char		*ca_file;
	/*
	 * Revocation: PEM CRLs (several may follow each other in crl_file;
	 * NULL: none) and how strictly they are applied, Windows' three
	 * levels: 0 no check; 1 refuse a certificate a CRL of its issuer
	 * lists (a missing or stale CRL is no reason); 2 refuse also when
	 * no valid CRL of an issuer in the chain is at hand.
	 */
	const char		*crl_file;
	uint8_t			 crl_check;
	/*
	 * The CRL distribution points (URIs) of a peer chain that verified
	 * (at level 2, but for a CRL not at hand), for the caller to fetch
	 * and hand back with ike_set_crls; NULL: not asked.
	 */
	void			(*crl_want)(void *arg, const char *uri);
	void			*crl_arg;
	/*
	 * Certificate-to-account mapping (a rule's certmap): look the
	 * peer's certificate up in the directory and answer later with
	 * ike_certmap_done (same id and cookies). 0: asked; else the Main
	 * Mode is refused at once. NULL: no directory, so a rule that asks
	 * for mapping refuses every certificate.
	 */
	int			(*certmap)(void *arg,
				    const struct ike_certmap_req *);
	void			*certmap_arg;
	/*
	 * Kerberos (GSS-API, method 65001) authentication: the host keytab
	 * (NULL: /etc/krb5.keytab), the principal this host acts as
	 * (NULL: host/<fqdn> from the keytab; "NAME$" for an AD machine
	 * account) and the krb5.conf to use (NULL: the system's).
	 */
	const char		*krb_keytab;
	const char		*krb_principal;
	const char		*krb_config;
	/*
	 * Where our Kerberos tickets are kept between runs (root-only), so
	 * that a restart while the KDC is down still has the TGT and the
	 * service tickets of the peers: NULL = memory only.
	 */
	const char		*krb_ccache;
	/*
	 * Benchmarks and tests: every acquire is a negotiation of its own,
	 * with a Main Mode SA of its own (no reuse of an established or
	 * pending one with the same peer, and no merging of an acquire into
	 * a negotiation already under way for the same flow).
	 */
	bool			 no_mm_reuse;
	/*
	 * Benchmarks: with PSK, each Main Mode names itself by a fresh FQDN
	 * ID ("mm-<cookie>") instead of its address, so that a peer that
	 * merges SAs by identity (strongSwan's IKEv1 reauth detection) keeps
	 * them apart.
	 */
	bool			 unique_ids;
	/* Called after an SA pair was added to the driver (tests, core). */
	void			(*on_qmsa)(void *arg, const struct sa_id *in,
				    const struct sa_id *out);
	void			*on_arg;
};
#define IKE_NO_NATT		0xffff

/* Oakley statistics, with the names of the Windows IP Security Monitor. */
struct ike_stats {
	uint64_t	main_modes;		/* "Oakley Main Modes" (established) */
	uint64_t	quick_modes;		/* "Oakley Quick Modes" (established) */
	uint64_t	soft_associations;	/* "Soft Associations" */
	uint64_t	auth_failures;		/* "Authentication Failures" */
	uint64_t	cert_failures;		/* certificate not trusted (544) */
	uint64_t	active_acquire;		/* "Active Acquire" (in progress) */
	uint64_t	active_receive;		/* "Active Receive" (half-open as responder) */
	uint64_t	acquire_failures;	/* "Acquire Failures" */
	uint64_t	receive_failures;	/* "Receive Failures" */
	uint64_t	send_failures;		/* "Send Failures" */
	uint64_t	negotiation_failures;	/* "Negotiation Failures" */
	uint64_t	invalid_cookies;	/* "Invalid Cookies Received" */
	uint64_t	invalid_packets;	/* "Invalid Packets Received" */
	uint64_t	total_acquire;		/* "Total Acquire" */
	uint64_t	total_get_spi;		/* "Total Get SPI" */
	uint64_t	get_spi_failures;	/* "Get SPI Failures" */
	uint64_t	key_additions;		/* "Key Additions" */
	uint64_t	key_addition_failures;	/* "Key Addition Failures" */
	uint64_t	key_deletions;		/* "Key Deletions" */
	uint64_t	retransmits;
	uint64_t	dpd_probes;		/* R-U-THERE sent */
	uint64_t	dpd_acks;		/* R-U-THERE-ACK received */
	uint64_t	dpd_dead_peers;		/* peers declared dead */
	uint64_t	dropped_halfopen;	/* MM #1 refused: half-open cap */
	uint64_t	active_mmsas;		/* established now */
	uint64_t	active_qmsas;		/* SA pairs established now */
	uint64_t	dos_cookies_sent;	/* stateless MM #1 answers */
	uint64_t	rx_overflows;		/* datagrams the kernel dropped:
						   receive buffer full */
	uint64_t	dh_precomputed;		/* DH key pairs taken ready-made */
};

/* A Main Mode SA, for `show mmsas`. Strings are copies. */
struct ike_mmsa_info {
	uint8_t		cky_i[8];
	uint8_t		cky_r[8];
	bool		initiator;
	bool		established;
	struct pa_addr	local;
	struct pa_addr	peer;
	uint16_t	peer_port;
	uint16_t	cipher;		/* enum pol_mm_cipher */
	uint16_t	hash;		/* enum pol_integ */
	uint16_t	dh_group;
	uint16_t	auth;		/* enum pol_auth_kind */
	uint32_t	life_sec;
	uint64_t	created;	/* wall-clock seconds */
	uint32_t	expires_in;	/* seconds to the hard lifetime;
					   0 = not established */
	uint32_t	qm_count;	/* Quick Modes done under it */
	char		peer_id[128];	/* the peer's ID, as text */
};

/* A Quick Mode SA pair, for `show qmsas`. */
struct ike_qmsa_info {
	uint8_t		cky_i[8];	/* the Main Mode SA it came from */
	uint8_t		cky_r[8];
	struct pa_addr	local;
	struct pa_addr	peer;
	struct pa_prefix src;		/* selectors, local side first */
	struct pa_prefix dst;
	uint8_t		proto;
	uint16_t	sport;
	uint16_t	dport;
	bool		tunnel;
	bool		ah;
	bool		esp;
	uint16_t	esp_cipher;	/* enum pol_esp_cipher */
	uint16_t	esp_integ;	/* enum pol_integ */
	uint16_t	ah_integ;
	uint16_t	pfs_group;	/* 0 = none */
	uint32_t	spi_in;		/* ESP's (or AH's if no ESP), host order */
	uint32_t	spi_out;
	uint32_t	ah_spi_in;
	uint32_t	ah_spi_out;
	uint32_t	life_sec;
	uint32_t	life_kb;
	uint32_t	soft_sec;	/* rekey: soft lifetime after add */
	uint64_t	created;	/* wall-clock seconds */
};

struct ike;

/* Open sockets and set up; *out is freed with ike_free(). */
int	ike_new(const struct ike_cfg *, struct ike **out) PA_MUST_USE;
/* Free everything, without sending anything (see ike_shutdown). NULL ok. */
void	ike_free(struct ike *);

/*
 * Use this policy and its compiled SPD (both borrowed until the next call
 * or ike_free; either may be NULL for "no policy": respond to nothing).
 * Established SAs stay; new negotiations use the new policy.
 */
int	ike_set_policy(struct ike *, const struct pol_policy *,
	    const struct pol_spd *) PA_MUST_USE;

/* The fds to poll for input; returns how many (writes at most cap). */
size_t	ike_fds(const struct ike *, int *fds, size_t cap);
/* Read and handle what is pending on fd (one of ike_fds()). */
int	ike_dispatch(struct ike *, int fd) PA_MUST_USE;
/* Milliseconds until the next timer is due (0 = now), or -1 if none. */
int	ike_next_timeout_ms(const struct ike *, uint64_t now_ms);
/* Run due timers (retransmits, lifetimes, soft SAs); now on pa_now_ms(). */
void	ike_run_timers(struct ike *, uint64_t now_ms);

/*
 * Initiator: a packet matched a negotiate filter (the driver's acquire).
 * pkt holds the packet's selectors (src = this host's side). entry may be
 * NULL, in which case the SPD of ike_set_policy() is matched. Reuses an
 * established Main Mode SA with the peer or starts one.
 */
int	ike_acquire(struct ike *, const struct drv_sel *pkt, uint32_t reqid,
	    const struct pol_spd_entry *entry) PA_MUST_USE;
/* The SPD entry that decides an outbound packet of these selectors. */
const struct pol_spd_entry	*ike_spd_match_out(const struct pol_spd *,
	    const struct drv_sel *pkt);
/* The driver reports an SA expiring: soft starts a rekey, hard deletes. */
void	ike_expire(struct ike *, const struct sa_id *, uint64_t cookie,
	    bool hard);
/* Start Main Mode with peer (`ipseccmd` asking to negotiate). */
int	ike_initiate(struct ike *, const struct pa_addr *peer) PA_MUST_USE;
/* Paused: incoming IKE is dropped and acquires are refused. */
void	ike_pause(struct ike *, bool paused);
/* Send deletes for every SA, remove them from the driver, forget them. */
void	ike_shutdown(struct ike *);
/*
 * The CRLs fetched from distribution points (DER), replacing the last
 * set. With revocation checking on, an established Main Mode SA whose
 * peer certificate one of them lists ends at once, with its Quick Mode
 * SAs (Delete sent, 543 audited); returns how many ended.
 */
size_t	ike_set_crls(struct ike *, const struct pa_bytes *ders, size_t n);
/* The answer to a certmap request: its Main Mode goes on or fails. */
void	ike_certmap_done(struct ike *, const struct ike_certmap_ans *);
/*
 * Troubleshooting keys: from now on append the keys of each new ESP SA and
 * Main Mode to dir/esp_sa and dir/ikev1_decryption_table, Wireshark's ESP
 * SA and IKEv1 decryption tables (dir: created 0700; refused unless it is
 * ours and closed to others); NULL turns it off (keylog.c).
 */
int	ike_keylog(struct ike *, const char *dir) PA_MUST_USE;
/*
 * The domain's CA certificates (DER, from the directory), replacing the
 * last set (needs cert_file): those with anchor[i] are trusted beside
 * ca_file's (the enterprise roots); the others only help build a peer's
 * chain up to an anchor (issuing CAs from AIA and NTAuth), as the CAs the
 * peer sends do. Returns how many anchors are in force.
 */
size_t	ike_set_domain_cas(struct ike *, const struct pa_bytes *ders,
	    const bool *anchor, size_t n);
/* How many of the domain's CAs only help build chains. */
size_t	ike_domain_ims(const struct ike *);

void	ike_stats(const struct ike *, struct ike_stats *);
/* Call fn for each SA; fn's info is valid during the call only. */
void	ike_foreach_mmsa(const struct ike *,
	    void (*fn)(void *, const struct ike_mmsa_info *), void *arg);
void	ike_foreach_qmsa(const struct ike *,
	    void (*fn)(void *, const struct ike_qmsa_info *), void *arg);

#endif
