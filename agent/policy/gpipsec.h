/*
 * The ipsecData codec: the five blob types of [MS-GPIPSEC] 2.2.1
 * (ipsecPolicy, ipsecISAKMPPolicy, ipsecNFA, ipsecNegotiationPolicy,
 * ipsecFilter) to and from the policy model of model.h.
 *
 * Every blob is framed the same way: a 16-byte type GUID, a u32 LE
 * Data-Length, Data-Length bytes of payload, and one trailing byte that is
 * not counted. All integers are little-endian. The readings chosen where
 * the specification is ambiguous are written next to the code that uses
 * them (gpipsec.c) and summed up in docs/directory.md.
 *
 * Decoders read untrusted bytes only through struct rd. On failure they
 * return a negative pa_err and fill err->what with the reason (the caller,
 * who knows the object, fills err->where with its DN); the output object is
 * then left cleared (nothing to free).
 *
 * Lossless round trip. The model does not carry every byte of a blob
 * (Windows leaves uninitialised fill bytes in unused fields, the rule
 * trailer of Vista, DNS-server "special" markers ...). A struct pol_gp_keep
 * remembers the original blob of every object decoded; the encoders take it
 * and write the original bytes whenever the model object still means what
 * the original meant (same canonical encoding), and a fresh canonical blob
 * otherwise. So directory -> model -> directory gives the same bytes, and
 * a changed object is written in the base form every Windows reads.
 */
#ifndef PA_POLICY_GPIPSEC_H
#define PA_POLICY_GPIPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_buf.h"
#include "pa_err.h"
#include "pa_guid.h"

struct pol_err;
struct pol_filteraction;
struct pol_filterlist;
struct pol_isakmp;
struct pol_policy;
struct pol_rule;

/* The blob types, also the index of their type GUID. */
enum pol_gp_type {
	POL_GP_POLICY = 0,	/* ipsecPolicy */
	POL_GP_ISAKMP = 1,	/* ipsecISAKMPPolicy */
	POL_GP_NFA = 2,		/* ipsecNFA (a rule) */
	POL_GP_NEGPOL = 3,	/* ipsecNegotiationPolicy (a filter action) */
	POL_GP_FILTER = 4,	/* ipsecFilter (a filter list) */
	POL_GP_NTYPES = 5
};

/* ipsecDataType: 256 per the spec; 598 (0x256) is what Windows wrote in
 * the default domain objects (Samba's provision data). Both are read. */
#define POL_GP_DATATYPE		256
#define POL_GP_DATATYPE_WIN	598

/* LDAP class name ("ipsecNFA") and type GUID of a blob type. */
const char	*pol_gp_class(enum pol_gp_type);
const struct pa_guid	*pol_gp_type_guid(enum pol_gp_type);
/* The type of a blob from its first 16 bytes; -1 if none of the five. */
int	pol_gp_blob_type(const uint8_t *, size_t);

/* iPSECNegotiationPolicyType / iPSECNegotiationPolicyAction GUIDs. */
extern const struct pa_guid	pol_gp_negtype_standard;
extern const struct pa_guid	pol_gp_negtype_default;
extern const struct pa_guid	pol_gp_action_block;
extern const struct pa_guid	pol_gp_action_permit;
extern const struct pa_guid	pol_gp_action_secure;
extern const struct pa_guid	pol_gp_action_inpass;

/*
 * Decoders. The object's GUID, names and references come from LDAP
 * attributes and are not touched here, except where noted. The output is
 * written only on success; on failure it is cleared and err->what says why.
 *
 * pol_gp_decode_policy: p->poll_sec.
 * pol_gp_decode_isakmp: everything but id and name.
 * pol_gp_decode_nfa: auth, tunnel, conntype, active.
 * pol_gp_decode_negpol: offers and soft; action, inpass and
 *     default_response come from the two GUID attributes passed in.
 * pol_gp_decode_filter: filters (not id, name, description).
 * Objects passed in must be zeroed (or cleared) and receive owned memory,
 * released with the matching pol_gp_*_clear() or by pol_store_free().
 */
int	pol_gp_decode_policy(struct pa_bytes, struct pol_policy *,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_decode_isakmp(struct pa_bytes, struct pol_isakmp *,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_decode_nfa(struct pa_bytes, struct pol_rule *,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_decode_negpol(struct pa_bytes, const struct pa_guid *type,
	    const struct pa_guid *action, struct pol_filteraction *,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_decode_filter(struct pa_bytes, struct pol_filterlist *,
	    struct pol_err *) PA_MUST_USE;

/* Release what a decoder put into an object and zero it. */
void	pol_gp_isakmp_clear(struct pol_isakmp *);
void	pol_gp_rule_clear(struct pol_rule *);
void	pol_gp_filteraction_clear(struct pol_filteraction *);
void	pol_gp_filterlist_clear(struct pol_filterlist *);

/* Original blobs by (type, object GUID), for the lossless round trip. */
struct pol_gp_keep;

struct pol_gp_keep	*pol_gp_keep_new(void);
void	pol_gp_keep_free(struct pol_gp_keep *);		/* NULL is a no-op */
/* Remember a copy of blob for the object id (replaces an older one). */
int	pol_gp_keep_add(struct pol_gp_keep *, enum pol_gp_type,
	    const struct pa_guid *id, struct pa_bytes blob) PA_MUST_USE;
/* The remembered blob (borrowed, valid until the keep changes), or NULL. */
const struct pa_bytes	*pol_gp_keep_get(const struct pol_gp_keep *,
	    enum pol_gp_type, const struct pa_guid *id);
/* A deep copy; NULL on allocation failure. pol_gp_keep_dup(NULL) = new. */
struct pol_gp_keep	*pol_gp_keep_dup(const struct pol_gp_keep *);

/*
 * Encoders: a new blob in *out (malloc'd, caller frees) of *outlen bytes.
 * keep may be NULL (always canonical). A model value that the blob format
 * cannot express (AES, SHA-256, an IPv6 filter, a PSK known only by
 * reference ...) fails with PA_E_NOTSUP and err->what naming it.
 */
int	pol_gp_encode_policy(const struct pol_policy *,
	    const struct pol_gp_keep *, uint8_t **out, size_t *outlen,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_encode_isakmp(const struct pol_isakmp *,
	    const struct pol_gp_keep *, uint8_t **out, size_t *outlen,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_encode_nfa(const struct pol_rule *, const struct pol_gp_keep *,
	    uint8_t **out, size_t *outlen, struct pol_err *) PA_MUST_USE;
int	pol_gp_encode_negpol(const struct pol_filteraction *,
	    const struct pol_gp_keep *, uint8_t **out, size_t *outlen,
	    struct pol_err *) PA_MUST_USE;
int	pol_gp_encode_filter(const struct pol_filterlist *,
	    const struct pol_gp_keep *, uint8_t **out, size_t *outlen,
	    struct pol_err *) PA_MUST_USE;

/* The iPSECNegotiationPolicyAction / Type GUIDs for a filter action. */
const struct pa_guid	*pol_gp_negpol_action(const struct pol_filteraction *);
const struct pa_guid	*pol_gp_negpol_type(const struct pol_filteraction *);

/*
 * UTF-16LE <-> UTF-8 helpers used by the codec and by tests. The UTF-16
 * text ends at the first NUL unit or at the end of the bytes. Invalid
 * surrogates are an error (PA_E_FORMAT). *out is malloc'd.
 */
int	pol_gp_utf16_to_utf8(struct pa_bytes, char **out) PA_MUST_USE;

#endif
