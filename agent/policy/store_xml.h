/*
 * The local XML policy store (libxml2, validated against policy.xsd).
 *
 * A store file holds many policies, the filter lists and filter actions
 * they share, and marks at most one policy assigned. Preshared keys are
 * not in the store file: rules reference them by name in a secrets file
 * readable by root only (see docs/policy.md for both formats).
 */
#ifndef PA_POLICY_STORE_XML_H
#define PA_POLICY_STORE_XML_H

#include "model.h"

/*
 * Load and validate a store. secrets_path may be NULL (PSK rules then fail
 * to load if they reference a key). On error *err says file:line and what
 * is wrong, and nothing is returned. *out is owned by the caller.
 */
int	pol_store_load_xml(const char *path, const char *secrets_path,
	    struct pol_store **out, struct pol_err *err) PA_MUST_USE;
/* The same from memory; name is used in error messages. */
int	pol_store_parse_xml(const void *buf, size_t len, const char *name,
	    const char *secrets_path, struct pol_store **out,
	    struct pol_err *err) PA_MUST_USE;
/*
 * Save atomically (temporary file, fsync, rename, fsync of the directory),
 * the store with mode 0644 and the secrets file with mode 0600. A failed
 * save leaves both files as they were.
 */
int	pol_store_save_xml(const struct pol_store *, const char *path,
	    const char *secrets_path, struct pol_err *err) PA_MUST_USE;

/*
 * The embedded default store shipped inside the binary: the three
 * built-in Windows policies (Client (Respond Only), Server (Request
 * Security), Secure Server (Require Security)) as templates, none assigned.
 */
int	pol_store_builtin(struct pol_store **out, struct pol_err *err)
	    PA_MUST_USE;

/* ---- additive ---- */

#include <stddef.h>
#include <sys/types.h>

/* The XML namespace of store and secrets documents. */
#define POL_XML_NS		"urn:ipsec-agent:policy:1"
/* Format flag: write preshared keys inline (<key>hex</key>, for export
 * files created mode 0600) instead of references to the secrets file. */
#define POL_XML_INLINE_KEYS	0x1U

/* The embedded schema (policy.xsd), NUL-terminated; static storage. */
const char	*pol_store_xsd(size_t *len);

/*
 * Serialise a store into a new buffer (*buf, caller frees with free()).
 * Without POL_XML_INLINE_KEYS, a PSK is written as a reference: its
 * psk_ref, or "rule-{GUID}-N" when it has none (the secrets file written
 * by pol_store_save_xml() uses the same names).
 */
int	pol_store_format_xml(const struct pol_store *, unsigned flags,
	    char **buf, size_t *len, struct pol_err *err) PA_MUST_USE;

/*
 * Write a file atomically: a temporary file in the same directory with
 * the given mode, fsync, rename over path, fsync of the directory. On
 * failure the old file is untouched and the temporary one removed.
 */
int	pol_write_atomic(const char *path, const void *buf, size_t len,
	    mode_t mode, struct pol_err *err) PA_MUST_USE;

#endif
