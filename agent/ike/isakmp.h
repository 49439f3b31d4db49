/*
 * ISAKMP (RFC 2408) message codec with the IPsec DOI (RFC 2407) and IKE
 * (RFC 2409) numbers, NAT-T (RFC 3947) and the Windows extensions.
 *
 * Parsing: isk_parse_hdr() checks the fixed header against the datagram;
 * isk_parse_chain() walks the payload chain of a (decrypted) body through
 * child readers bounded by each payload's declared length and records
 * where every payload lies; the isk_parse_<payload>() functions decode one
 * payload body completely (trailing bytes are an error). Every view
 * returned borrows the bytes given to the parser.
 *
 * Generation: a struct isk_chain remembers where the previous payload's
 * Next Payload byte is, so payloads are appended with isk_pl_open() /
 * isk_pl_close() and lengths are patched by offset.
 */
#ifndef PA_IKE_ISAKMP_H
#define PA_IKE_ISAKMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"
#include "pa_err.h"

#define ISK_HDR_LEN		28
#define ISK_GEN_LEN		4
#define ISK_VERSION		0x10
#define ISK_MAX_MSG		65535

/* Exchange types. */
#define ISK_EXCH_BASE		1
#define ISK_EXCH_MAIN		2	/* identity protection */
#define ISK_EXCH_AUTH_ONLY	3
#define ISK_EXCH_AGGRESSIVE	4
#define ISK_EXCH_INFO		5
#define ISK_EXCH_TRANSACTION	6
#define ISK_EXCH_QUICK		32
#define ISK_EXCH_NEWGROUP	33

/* Header flags. */
#define ISK_FLAG_ENC		0x01
#define ISK_FLAG_COMMIT		0x02
#define ISK_FLAG_AUTHONLY	0x04

/* Payload types. */
#define ISK_PL_NONE		0
#define ISK_PL_SA		1
#define ISK_PL_P		2
#define ISK_PL_T		3
#define ISK_PL_KE		4
#define ISK_PL_ID		5
#define ISK_PL_CERT		6
#define ISK_PL_CR		7
#define ISK_PL_HASH		8
#define ISK_PL_SIG		9
#define ISK_PL_NONCE		10
#define ISK_PL_N		11
#define ISK_PL_D		12
#define ISK_PL_VID		13
#define ISK_PL_ATTR		14
#define ISK_PL_NATD		20
#define ISK_PL_NATOA		21
#define ISK_PL_GSS		129
#define ISK_PL_NATD_DRAFT	130
#define ISK_PL_NATOA_DRAFT	131
#define ISK_PL_FRAG		132

/* Notify message types. */
#define ISK_N_INVALID_PAYLOAD_TYPE	1
#define ISK_N_DOI_NOT_SUPPORTED		2
#define ISK_N_SITUATION_NOT_SUPPORTED	3
#define ISK_N_INVALID_COOKIE		4
#define ISK_N_INVALID_MAJOR_VERSION	5
#define ISK_N_INVALID_MINOR_VERSION	6
#define ISK_N_INVALID_EXCHANGE_TYPE	7
#define ISK_N_INVALID_FLAGS		8
#define ISK_N_INVALID_MESSAGE_ID	9
#define ISK_N_INVALID_PROTOCOL_ID	10
#define ISK_N_INVALID_SPI		11
#define ISK_N_INVALID_TRANSFORM_ID	12
#define ISK_N_ATTRIBUTES_NOT_SUPPORTED	13
#define ISK_N_NO_PROPOSAL_CHOSEN	14
#define ISK_N_BAD_PROPOSAL_SYNTAX	15
#define ISK_N_PAYLOAD_MALFORMED		16
#define ISK_N_INVALID_KEY_INFORMATION	17
#define ISK_N_INVALID_ID_INFORMATION	18
#define ISK_N_INVALID_CERT_ENCODING	19
#define ISK_N_INVALID_CERTIFICATE	20
#define ISK_N_CERT_TYPE_UNSUPPORTED	21
#define ISK_N_INVALID_CERT_AUTHORITY	22
#define ISK_N_INVALID_HASH_INFORMATION	23
#define ISK_N_AUTHENTICATION_FAILED	24
#define ISK_N_INVALID_SIGNATURE		25
#define ISK_N_UNSUPPORTED_EXCHANGE_TYPE	29
#define ISK_N_CONNECTED			16384
#define ISK_N_RESPONDER_LIFETIME	24576
#define ISK_N_REPLAY_STATUS		24577
#define ISK_N_INITIAL_CONTACT		24578
#define ISK_N_R_U_THERE			36136
#define ISK_N_R_U_THERE_ACK		36137
#define ISK_N_MS_DOS_COOKIE		40004	/* MS-IKEE 2.2.6: 8-byte cookie */

/* DOI, situation, protocol IDs. */
#define ISK_DOI_IPSEC		1
#define ISK_SIT_IDENTITY_ONLY	1
#define ISK_PROTO_ISAKMP	1
#define ISK_PROTO_AH		2
#define ISK_PROTO_ESP		3
#define ISK_PROTO_IPCOMP	4
#define ISK_KEY_IKE		1

/* Phase 1 attribute classes (RFC 2409 App. A). */
#define ISK_A1_ENC		1
#define ISK_A1_HASH		2
#define ISK_A1_AUTH		3
#define ISK_A1_GROUP		4
#define ISK_A1_GROUP_TYPE	5
#define ISK_A1_LIFE_TYPE	11
#define ISK_A1_LIFE_DUR		12
#define ISK_A1_PRF		13
#define ISK_A1_KEYLEN		14

#define ISK_ENC_DES		1
#define ISK_ENC_3DES		5
#define ISK_ENC_AES		7
#define ISK_HASH_MD5		1
#define ISK_HASH_SHA1		2
#define ISK_HASH_SHA256		4
#define ISK_AUTH_PSK		1
#define ISK_AUTH_DSS		2
#define ISK_AUTH_RSA		3
#define ISK_AUTH_GSS		65001
#define ISK_LIFE_SECONDS	1
#define ISK_LIFE_KB		2

/* Phase 2 (IPsec DOI) attribute types. */
#define ISK_A2_LIFE_TYPE	1
#define ISK_A2_LIFE_DUR		2
#define ISK_A2_GROUP		3
#define ISK_A2_ENCAP		4
#define ISK_A2_AUTH		5
#define ISK_A2_KEYLEN		6
#define ISK_A2_KEYROUNDS	7
#define ISK_A2_ESN		11

#define ISK_ENCAP_TUNNEL	1
#define ISK_ENCAP_TRANSPORT	2
#define ISK_ENCAP_UDP_TUNNEL	3
#define ISK_ENCAP_UDP_TRANSPORT	4
#define ISK_ENCAP_UDP_TUNNEL_DRAFT	61443
#define ISK_ENCAP_UDP_TRANSPORT_DRAFT	61444

#define ISK_AUTH_HMAC_MD5	1
#define ISK_AUTH_HMAC_SHA1	2
#define ISK_AUTH_HMAC_SHA256	5

#define ISK_AH_MD5		2
#define ISK_AH_SHA		3
#define ISK_AH_SHA256		5
#define ISK_ESP_DES		2
#define ISK_ESP_3DES		3
#define ISK_ESP_NULL		11
#define ISK_ESP_AES		12
#define ISK_ESP_AES_GCM_16	20	/* RFC 4106 8.1: Key Length required */

/* ID types. */
#define ISK_ID_IPV4		1
#define ISK_ID_FQDN		2
#define ISK_ID_USER_FQDN	3
#define ISK_ID_IPV4_SUBNET	4
#define ISK_ID_IPV6		5
#define ISK_ID_IPV6_SUBNET	6
#define ISK_ID_IPV4_RANGE	7
#define ISK_ID_IPV6_RANGE	8
#define ISK_ID_DER_DN		9
#define ISK_ID_DER_GN		10
#define ISK_ID_KEY_ID		11

/* Certificate encodings. */
#define ISK_CERT_X509_SIG	4

struct isk_hdr {
	uint8_t		cky_i[8];
	uint8_t		cky_r[8];
	uint8_t		np;
	uint8_t		version;
	uint8_t		exch;
	uint8_t		flags;
	uint32_t	msgid;
	uint32_t	len;
};

#define ISK_MAX_PAYLOADS	32

struct isk_payload {
	uint8_t		type;
	struct pa_bytes	body;		/* after the generic header */
	size_t		off;		/* of the generic header, in the body */
	size_t		len;		/* incl. the generic header */
};

/* A parsed payload chain. */
struct isk_msg {
	struct isk_payload	pl[ISK_MAX_PAYLOADS];
	size_t			npl;
	struct pa_bytes		body;	/* what was parsed (chain + padding) */
	size_t			end;	/* end of the last payload in body */
};

/*
 * Parse the fixed header of datagram p[0..len) (borrowed). The declared
 * length must equal len; *body receives the bytes after the header.
 * PA_E_NOTSUP for a major version other than 1.
 */
int	isk_parse_hdr(const uint8_t *p, size_t len, struct isk_hdr *,
	    struct pa_bytes *body) PA_MUST_USE;
/*
 * Walk the payload chain starting with type np. Bytes after the last
 * payload are an error unless pad_ok (a decrypted body: up to 255 bytes of
 * padding). PA_E_NOSPACE if more than ISK_MAX_PAYLOADS.
 */
int	isk_parse_chain(struct pa_bytes body, uint8_t np, bool pad_ok,
	    struct isk_msg *) PA_MUST_USE;
/* The first payload of that type at or after index *from (updated), or NULL. */
const struct isk_payload	*isk_find(const struct isk_msg *, uint8_t type,
	    size_t *from);
/* Bytes of the chain from payload idx (generic header incl.) to its end. */
int	isk_span(const struct isk_msg *, size_t idx, struct pa_bytes *)
	    PA_MUST_USE;
/* True for the payload types this codec knows. */
bool	isk_payload_known(uint8_t type);

/* Data attributes (TV or TLV). */
struct isk_attr {
	uint16_t	type;		/* without the AF bit */
	bool		tv;
	uint16_t	tv_val;
	struct pa_bytes	val;		/* TLV value */
};
/* Next attribute of r; PA_E_NOENT when r is empty. */
int	isk_attr_next(struct rd *, struct isk_attr *) PA_MUST_USE;
/* The attribute's value as a number (TV, or TLV of 1..8 bytes). */
int	isk_attr_num(const struct isk_attr *, uint64_t *) PA_MUST_USE;

/*
 * Enough for every offer a policy may hold (POL_MAX_OFFERS bundles of up
 * to two protocols, or POL_MAX_AUTHS x POL_MAX_METHODS Main Mode
 * transforms as a peer may send them), so a proposal we could have sent
 * is one we can read.
 */
#define ISK_MAX_PROPS		128
#define ISK_MAX_XFORMS		128

struct isk_xform {
	uint8_t		num;
	uint8_t		id;
	struct pa_bytes	attrs;		/* validated attribute list */
};

struct isk_prop {
	uint8_t		num;
	uint8_t		proto;
	struct pa_bytes	spi;
	size_t		xf_first;	/* index into isk_sa.xf */
	size_t		nxf;
};

struct isk_sa {
	uint32_t	doi;
	uint32_t	sit;
	struct isk_prop	props[ISK_MAX_PROPS];
	size_t		nprops;
	struct isk_xform xf[ISK_MAX_XFORMS];
	size_t		nxf;
};

struct isk_id {
	uint8_t		type;
	uint8_t		proto;
	uint16_t	port;
	struct pa_bytes	data;
};

struct isk_cert {
	uint8_t		enc;
	struct pa_bytes	data;
};

struct isk_notify {
	uint32_t	doi;
	uint8_t		proto;
	uint16_t	type;
	struct pa_bytes	spi;
	struct pa_bytes	data;
};

struct isk_delete {
	uint32_t	doi;
	uint8_t		proto;
	uint8_t		spi_size;
	uint16_t	nspi;
	struct pa_bytes	spis;		/* nspi * spi_size bytes */
};

struct isk_natoa {
	uint8_t		type;		/* ID_IPV4 or ID_IPV6 */
	struct pa_bytes	addr;
};

struct isk_frag {
	uint16_t	id;
	uint8_t		num;
	uint8_t		flags;
	struct pa_bytes	data;
};

int	isk_parse_sa(struct pa_bytes, struct isk_sa *) PA_MUST_USE;
int	isk_parse_id(struct pa_bytes, struct isk_id *) PA_MUST_USE;
int	isk_parse_cert(struct pa_bytes, struct isk_cert *) PA_MUST_USE;
int	isk_parse_notify(struct pa_bytes, struct isk_notify *) PA_MUST_USE;
int	isk_parse_delete(struct pa_bytes, struct isk_delete *) PA_MUST_USE;
int	isk_parse_natoa(struct pa_bytes, struct isk_natoa *) PA_MUST_USE;
int	isk_parse_frag(struct pa_bytes, struct isk_frag *) PA_MUST_USE;
/*
 * Decode every payload of a chain by its type (SA down to the attributes,
 * ID, CERT/CR, N, D, NAT-OA, FRAG, nonce size, non-empty KE/HASH/SIG/NAT-D);
 * unknown types are left to the caller.
 */
int	isk_check_payloads(const struct isk_msg *) PA_MUST_USE;
/* KE, NONCE, HASH, SIG, VID, NAT-D: the body is the data; nonce 8..256. */
int	isk_check_nonce(struct pa_bytes) PA_MUST_USE;

/* Vendor IDs. */
enum isk_vid {
	ISK_VID_UNKNOWN = 0,
	ISK_VID_MS_NT5,		/* + 4-byte version */
	ISK_VID_NATT_RFC,
	ISK_VID_NATT_DRAFT02N,
	ISK_VID_NATT_DRAFT02,
	ISK_VID_NATT_DRAFT03,
	ISK_VID_DPD,
	ISK_VID_FRAGMENTATION,	/* 16-byte prefix; suffix allowed */
	ISK_VID_INITIAL_CONTACT,
	ISK_VID_GSSAPI,
	ISK_VID_XAUTH,
	ISK_VID_OURS
};
/* Recognise a VID payload body; *version gets MS NT5's version (or 0). */
enum isk_vid	isk_vid_classify(struct pa_bytes, uint32_t *version);
/* The wire bytes of a VID we send (16 bytes; MS NT5 without version). */
const uint8_t	*isk_vid_bytes(enum isk_vid);
const char	*isk_vid_name(enum isk_vid);

/* Generation. */
struct isk_chain {
	size_t	np_off;		/* offset of the previous Next Payload byte */
	uint8_t	np_next;	/* the byte after it (version or reserved) */
	bool	open;		/* a payload of this chain is open */
};

/* Write the header (length patched by isk_hdr_close); starts the chain. */
int	isk_hdr_write(struct wr *, const struct isk_hdr *, struct isk_chain *)
	    PA_MUST_USE;
/* Patch the header's length to the bytes written so far. */
int	isk_hdr_close(struct wr *, size_t hdr_off) PA_MUST_USE;
/* Start a nested chain (proposals inside an SA, transforms inside one). */
void	isk_chain_init(struct isk_chain *);
/* Append a payload header of type to the chain; *start for isk_pl_close. */
int	isk_pl_open(struct wr *, struct isk_chain *, uint8_t type,
	    size_t *start) PA_MUST_USE;
int	isk_pl_close(struct wr *, size_t start) PA_MUST_USE;
/* A whole payload whose body is data. */
int	isk_pl_data(struct wr *, struct isk_chain *, uint8_t type,
	    const void *data, size_t len) PA_MUST_USE;

int	isk_attr_tv(struct wr *, uint16_t type, uint16_t val) PA_MUST_USE;
int	isk_attr_tlv(struct wr *, uint16_t type, const void *, size_t)
	    PA_MUST_USE;
/* TV if the value fits 16 bits, else a 4-byte TLV. */
int	isk_attr_num_put(struct wr *, uint16_t type, uint32_t val) PA_MUST_USE;

const char	*isk_exch_name(uint8_t);
const char	*isk_pl_name(uint8_t);
const char	*isk_notify_name(uint16_t);

#endif
