/*
 * The IPsec policy model, mirroring the directory object model of
 * [MS-GPIPSEC] one to one so that a policy travels XML <-> directory
 * without loss (GUIDs kept):
 *
 *   pol_policy      ipsecPolicy            -> one pol_isakmp, ordered rules
 *   pol_isakmp      ipsecISAKMPPolicy      (Main Mode offers)
 *   pol_rule        ipsecNFA               -> filter list, filter action, auth
 *   pol_filteraction ipsecNegotiationPolicy (permit/block/negotiate + offers)
 *   pol_filterlist  ipsecFilter            (a list of pol_filter)
 *
 * A pol_store holds many policies and the filter lists and filter actions
 * they share (by GUID); at most one policy is assigned. Objects reference
 * each other by GUID; pol_store_resolve() checks every reference.
 *
 * Ownership: every pointer inside a store is owned by the store and freed
 * by pol_store_free(). Strings are UTF-8, heap-allocated, NULL = absent.
 */
#ifndef PA_POLICY_MODEL_H
#define PA_POLICY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_addr.h"
#include "pa_err.h"
#include "pa_guid.h"
#include "pa_secret.h"

/* Windows defaults ([MS-GPIPSEC], ../docs/policy.md). */
/*
 * What one object may hold, as the XSD says (policy.xsd maxOccurs; a test
 * compares them): a filter action's offers, a rule's authentication
 * methods, the ISAKMP policy's security methods. Every source (XML,
 * ipsecData blobs, ipseccmd) is held to them by pol_check_*; nothing
 * beyond them is ever cut off silently.
 */
#define POL_MAX_OFFERS			64
#define POL_MAX_AUTHS			16
#define POL_MAX_METHODS			64

#define POL_DEFAULT_POLL_SEC		10800	/* 180 min */
#define POL_DEFAULT_MM_LIFE_SEC		28800	/* 480 min */
#define POL_DEFAULT_QM_LIFE_SEC		3600
#define POL_DEFAULT_QM_LIFE_KB		100000
#define POL_DEFAULT_QM_IDLE_SEC		300
/* pol_isakmp.options bits ([MS-GPIPSEC] ISAKMP-Options). */
#define POL_ISAKMP_OPT_CERTMAP		0x1
#define POL_ISAKMP_OPT_NO_CERTREQ	0x2

/* Main Mode encryption (IKE attribute values of RFC 2409 App. A). */
enum pol_mm_cipher {
	POL_MM_DES = 1,
	POL_MM_3DES = 5,
	POL_MM_AES128 = 0x7001,		/* AES-CBC, key length 128 */
	POL_MM_AES192 = 0x7002,
	POL_MM_AES256 = 0x7003
};

/* Integrity / hash algorithms (Main Mode hash, AH, ESP auth). */
enum pol_integ {
	POL_INTEG_NONE = 0,
	POL_INTEG_MD5 = 1,
	POL_INTEG_SHA1 = 2,
	POL_INTEG_SHA256 = 3
};

/* ESP ciphers. */
enum pol_esp_cipher {
	POL_ESP_NONE = 0,		/* ESP with null encryption */
	POL_ESP_DES = 1,
	POL_ESP_3DES = 2,
	POL_ESP_AES128 = 3,
	POL_ESP_AES192 = 4,
	POL_ESP_AES256 = 5,
	/*
	 * AES-GCM with a 16-octet ICV (RFC 4106): integrity is part of the
	 * cipher, so an offer with one of these has esp_integ NONE. Not
	 * expressible in an ipsecData blob ([MS-GPIPSEC]): see gpipsec.h.
	 */
	POL_ESP_AESGCM128 = 6,
	POL_ESP_AESGCM192 = 7,
	POL_ESP_AESGCM256 = 8
};

/* True for the AES-GCM ciphers (combined mode, integrity implied). */
static inline bool
pol_esp_cipher_is_gcm(enum pol_esp_cipher c)
{
	return c == POL_ESP_AESGCM128 || c == POL_ESP_AESGCM192 ||
	    c == POL_ESP_AESGCM256;
}

/*
 * Diffie-Hellman groups by their IKE wire number: 1 (MODP-768),
 * 2 (MODP-1024), 14 (MODP-2048), 19 (ECP-256), 20 (ECP-384).
 * 0 in a Quick Mode offer means "no PFS".
 */
#define POL_DH_MODP768		1
#define POL_DH_MODP1024		2
#define POL_DH_MODP2048		14
#define POL_DH_ECP256		19
#define POL_DH_ECP384		20

struct pol_mm_method {
	enum pol_mm_cipher	cipher;
	enum pol_integ		hash;		/* MD5, SHA1 or SHA256 */
	uint16_t		dh_group;	/* wire number */
	uint32_t		life_sec;	/* 0 = the ISAKMP policy's */
	uint32_t		life_kb;	/* 0 = none */
	uint32_t		qm_limit;	/* 0 = unlimited */
};

/*
 * Values the policy did not give, which took their defaults (bits of a
 * "defaulted" member; `show policy` says where each value came from).
 */
#define POL_DEF_POLL		0x01	/* pol_policy.poll_sec */
#define POL_DEF_MM_LIFE		0x02	/* pol_isakmp.mm_life_sec */
#define POL_DEF_QM_LIFE_SEC	0x04	/* pol_qm_offer.life_sec */
#define POL_DEF_QM_LIFE_KB	0x08	/* pol_qm_offer.life_kb */

struct pol_isakmp {
	struct pa_guid		 id;
	char			*name;		/* descriptive only */
	bool			 master_pfs;	/* forces qm_per_mm = 1 */
	uint32_t		 qm_per_mm;	/* 0 = unlimited */
	uint32_t		 mm_life_sec;	/* default 28800 */
	/*
	 * ISAKMP-Options of the blob ([MS-GPIPSEC] 2.2.1.2.1): bit 1 asks
	 * every certificate method for certificate-to-account mapping (how
	 * Windows 2000 to 2003 store it), bit 2 leaves the CA names out of
	 * certificate requests.
	 */
	uint32_t		 options;
	uint8_t			 defaulted;	/* POL_DEF_MM_LIFE */
	struct pol_mm_method	*methods;	/* in preference order */
	size_t			 nmethods;
};

/* One Quick Mode offer: AH, ESP, or an AH+ESP bundle. */
struct pol_qm_offer {
	bool			ah;
	enum pol_integ		ah_integ;	/* MD5, SHA1, SHA256 */
	bool			esp;
	enum pol_esp_cipher	esp_cipher;
	enum pol_integ		esp_integ;	/* NONE allowed if cipher != NONE */
	uint32_t		life_sec;	/* default 3600 */
	uint32_t		life_kb;	/* default 100000 */
	bool			pfs;		/* quick mode PFS for this offer */
	uint8_t			defaulted;	/* POL_DEF_QM_LIFE_* */
};

enum pol_action {
	POL_ACT_PERMIT = 1,
	POL_ACT_BLOCK = 2,
	POL_ACT_NEGOTIATE = 3
};

struct pol_filteraction {
	struct pa_guid		 id;
	char			*name;
	char			*description;
	enum pol_action		 action;
	bool			 inpass;	/* accept unsecured, respond secured */
	bool			 soft;		/* fall back to clear (non-IPsec peers) */
	bool			 default_response; /* type GUID = default response */
	uint16_t		 pfs_group;	/* QM PFS group; 0 = MM's group */
	struct pol_qm_offer	*offers;	/* in preference order */
	size_t			 noffers;
	int64_t			 changed;	/* seconds since epoch, 0 unknown */
};

enum pol_addr_kind {
	POL_ADDR_ANY = 0,
	POL_ADDR_ME = 1,	/* "my IP address": expanded at compile */
	POL_ADDR_HOST = 2,	/* prefix.len = full length */
	POL_ADDR_SUBNET = 3,
	POL_ADDR_DNS = 4	/* name kept; resolved addresses in resolved[] */
};

struct pol_endpoint {
	enum pol_addr_kind	 kind;
	struct pa_prefix	 prefix;	/* HOST and SUBNET */
	char			*dns;		/* DNS: the name as typed */
	struct pa_addr		*resolved;	/* DNS: addresses at load time */
	size_t			 nresolved;
};

/* IP protocol numbers used by name; any other 1..255 is allowed. */
#define POL_PROTO_ANY	0
#define POL_PROTO_ICMP	1
#define POL_PROTO_TCP	6
#define POL_PROTO_UDP	17
#define POL_PROTO_ICMPV6 58

struct pol_filter {
	struct pa_guid		 id;
	char			*description;
	struct pol_endpoint	 src;
	struct pol_endpoint	 dst;
	uint8_t			 proto;		/* 0 = any */
	uint16_t		 sport;		/* 0 = any; TCP/UDP only */
	uint16_t		 dport;
	bool			 mirrored;
};

struct pol_filterlist {
	struct pa_guid		 id;
	char			*name;
	char			*description;
	struct pol_filter	*filters;
	size_t			 nfilters;
	int64_t			 changed;
};

enum pol_auth_kind {
	POL_AUTH_PSK = 1,	/* Auth-Type values of the NFA blob */
	POL_AUTH_CERT = 3,
	POL_AUTH_KERBEROS = 5
};

struct pol_auth {
	enum pol_auth_kind	 kind;
	char			*ca_dn;		/* CERT: the CA's name (pa_dn.h forms) */
	/*
	 * CERT: netsh's rootca= options certmap:yes / excludecaname:yes;
	 * certmap: the peer's certificate must map to an enabled computer
	 * account in the directory (docs/pki.md). excludecaname is stored.
	 */
	bool			 certmap;
	bool			 excludecaname;
	struct pa_secret	*psk;		/* PSK: the key (never printed) */
	char			*psk_ref;	/* PSK: name in the secrets file, or NULL */
};

enum pol_conntype {
	POL_CONN_ALL = 0,
	POL_CONN_LAN = 1,
	POL_CONN_REMOTE = 2
};

struct pol_rule {
	struct pa_guid		 id;
	char			*name;
	char			*description;
	struct pa_guid		 filterlist_id;	/* nil for the default response rule */
	struct pa_guid		 filteraction_id;
	struct pol_auth		*auth;		/* in preference order */
	size_t			 nauth;
	struct pa_addr		 tunnel;	/* unset (family 0) = transport */
	enum pol_conntype	 conntype;
	bool			 active;
	bool			 default_response; /* the policy's default response rule */
	int64_t			 changed;
	/* Resolved by pol_store_resolve(); borrowed from the store. */
	const struct pol_filterlist	*filterlist;
	const struct pol_filteraction	*filteraction;
};

struct pol_policy {
	struct pa_guid		 id;
	char			*name;
	char			*description;
	uint32_t		 poll_sec;	/* default 10800 */
	uint8_t			 defaulted;	/* POL_DEF_POLL */
	bool			 activate_default_rule;
	bool			 assigned;
	struct pol_isakmp	 isakmp;
	struct pol_rule		*rules;		/* ordered */
	size_t			 nrules;
	int64_t			 changed;
};

struct pol_store {
	struct pol_policy	*policies;
	size_t			 npolicies;
	struct pol_filterlist	*filterlists;
	size_t			 nfilterlists;
	struct pol_filteraction	*filteractions;
	size_t			 nfilteractions;
};

/*
 * An error report: where and what. Filled by loaders, codecs and
 * validators; `where` is "file:line", a DN or an object name.
 */
struct pol_err {
	char	where[512];
	char	what[512];
};
/* Set *err to where and what (NULL stands for ""), both truncated to fit. */
void	pol_err_set(struct pol_err *, const char *where, const char *what);

struct pol_store	*pol_store_new(void);
void	pol_store_free(struct pol_store *);		/* NULL is a no-op */
/* Deep copy (secrets included); NULL on allocation failure. */
struct pol_store	*pol_store_dup(const struct pol_store *);

/*
 * Check the whole store: references resolve (and set the rules' borrowed
 * pointers), GUIDs are unique, at most one policy is assigned, algorithms
 * and ports are consistent. On failure fill *err and return PA_E_REF,
 * PA_E_EXIST, PA_E_INVAL ...; the store is then not fit for use.
 */
int	pol_store_resolve(struct pol_store *, struct pol_err *) PA_MUST_USE;

/* Lookups; NULL if absent. */
const struct pol_policy	*pol_store_assigned(const struct pol_store *);
struct pol_policy	*pol_store_policy_by_name(struct pol_store *, const char *);
struct pol_filterlist	*pol_store_filterlist_by_id(struct pol_store *,
	    const struct pa_guid *);
struct pol_filteraction	*pol_store_filteraction_by_id(struct pol_store *,
	    const struct pa_guid *);

/* Names for display and for the XML/CLI syntax, and the reverse. */
const char	*pol_mm_cipher_name(enum pol_mm_cipher);	/* "3DES" */
const char	*pol_integ_name(enum pol_integ);		/* "SHA1" */
const char	*pol_esp_cipher_name(enum pol_esp_cipher);	/* "AES128" */
const char	*pol_action_name(enum pol_action);		/* "negotiate" */
int	pol_mm_cipher_parse(const char *, enum pol_mm_cipher *) PA_MUST_USE;
int	pol_integ_parse(const char *, enum pol_integ *) PA_MUST_USE;
int	pol_esp_cipher_parse(const char *, enum pol_esp_cipher *) PA_MUST_USE;
int	pol_action_parse(const char *, enum pol_action *) PA_MUST_USE;
bool	pol_dh_group_valid(uint16_t);

/*
 * Object helpers (additive). *_clear() frees what an object owns and
 * zeroes it; *_copy() deep-copies into caller storage (dst is zeroed on
 * failure, PA_E_NOMEM). The *_add_*() functions append one zeroed element
 * and return it (NULL on allocation failure); appending or removing moves
 * array elements, so the rules' borrowed pointers must be refreshed with
 * pol_store_resolve() before the store is used again.
 */
void	pol_endpoint_clear(struct pol_endpoint *);
void	pol_filter_clear(struct pol_filter *);
void	pol_filterlist_clear(struct pol_filterlist *);
void	pol_filteraction_clear(struct pol_filteraction *);
void	pol_auth_clear(struct pol_auth *);
void	pol_rule_clear(struct pol_rule *);
void	pol_isakmp_clear(struct pol_isakmp *);
void	pol_policy_clear(struct pol_policy *);
int	pol_endpoint_copy(struct pol_endpoint *, const struct pol_endpoint *)
	    PA_MUST_USE;
int	pol_filter_copy(struct pol_filter *, const struct pol_filter *)
	    PA_MUST_USE;
int	pol_filterlist_copy(struct pol_filterlist *,
	    const struct pol_filterlist *) PA_MUST_USE;
int	pol_filteraction_copy(struct pol_filteraction *,
	    const struct pol_filteraction *) PA_MUST_USE;
int	pol_auth_copy(struct pol_auth *, const struct pol_auth *) PA_MUST_USE;
int	pol_rule_copy(struct pol_rule *, const struct pol_rule *) PA_MUST_USE;
int	pol_isakmp_copy(struct pol_isakmp *, const struct pol_isakmp *)
	    PA_MUST_USE;
int	pol_policy_copy(struct pol_policy *, const struct pol_policy *)
	    PA_MUST_USE;

struct pol_policy	*pol_store_add_policy(struct pol_store *);
struct pol_filterlist	*pol_store_add_filterlist(struct pol_store *);
struct pol_filteraction	*pol_store_add_filteraction(struct pol_store *);
struct pol_rule		*pol_policy_add_rule(struct pol_policy *);
struct pol_filter	*pol_filterlist_add_filter(struct pol_filterlist *);
struct pol_auth		*pol_rule_add_auth(struct pol_rule *);
struct pol_qm_offer	*pol_filteraction_add_offer(struct pol_filteraction *);
struct pol_mm_method	*pol_isakmp_add_method(struct pol_isakmp *);
/* Remove (and clear) element i; out of range is a no-op. */
void	pol_store_remove_policy(struct pol_store *, size_t);
void	pol_store_remove_filterlist(struct pol_store *, size_t);
void	pol_store_remove_filteraction(struct pol_store *, size_t);
void	pol_policy_remove_rule(struct pol_policy *, size_t);
void	pol_filterlist_remove_filter(struct pol_filterlist *, size_t);

/* Lookups by name (exact match, first one) or GUID; NULL if absent. */
struct pol_filterlist	*pol_store_filterlist_by_name(struct pol_store *,
	    const char *);
struct pol_filteraction	*pol_store_filteraction_by_name(struct pol_store *,
	    const char *);
struct pol_policy	*pol_store_policy_by_id(struct pol_store *,
	    const struct pa_guid *);
struct pol_rule		*pol_policy_rule_by_name(struct pol_policy *,
	    const char *);

/*
 * Windows defaults for a new object, with a fresh GUID (and, for a
 * policy, a fresh ISAKMP GUID and the default Main Mode offers).
 */
int	pol_policy_init(struct pol_policy *, const char *name) PA_MUST_USE;
int	pol_filterlist_init(struct pol_filterlist *, const char *name)
	    PA_MUST_USE;
int	pol_filteraction_init(struct pol_filteraction *, const char *name)
	    PA_MUST_USE;
int	pol_rule_init(struct pol_rule *, const char *name) PA_MUST_USE;
int	pol_filter_init(struct pol_filter *) PA_MUST_USE;

/* Names of the remaining enumerations, and the reverse. */
const char	*pol_addr_kind_name(enum pol_addr_kind);	/* "me" */
const char	*pol_auth_kind_name(enum pol_auth_kind);	/* "psk" */
const char	*pol_conntype_name(enum pol_conntype);		/* "lan" */
int	pol_auth_kind_parse(const char *, enum pol_auth_kind *) PA_MUST_USE;
int	pol_conntype_parse(const char *, enum pol_conntype *) PA_MUST_USE;
/* "any", "icmp", "tcp", "udp", "icmpv6" or a number 0..255. */
int	pol_proto_parse(const char *, uint8_t *) PA_MUST_USE;
/* Protocol name or decimal into buf (>= 8 bytes); returns buf. */
const char	*pol_proto_str(uint8_t, char *buf, size_t cap);
/* Whether a protocol carries ports (TCP, UDP). */
bool	pol_proto_has_ports(uint8_t);

/*
 * Whether text is a host name a DNS endpoint may carry (RFC 1123 labels
 * of letters, digits and hyphens, 1-63 each, 253 in all; the last label
 * not all digits, RFC 3696 §2). False, with the reason in why, for
 * anything else, in particular a mistyped address such as 10.66.1 (which
 * the resolver would take as 10.66.0.1) or 10.66.1.300.
 */
bool	pol_dns_name_ok(const char *text, char *why, size_t whycap);

/*
 * Resolve DNS filter endpoints again (getaddrinfo), replacing resolved[];
 * a name that does not resolve is an error naming it. Done by the service
 * at load; the XML store keeps the last resolution.
 */
int	pol_store_resolve_names(struct pol_store *, struct pol_err *)
	    PA_MUST_USE;

#endif
