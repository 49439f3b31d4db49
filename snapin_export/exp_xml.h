/*
 * Export and import of whole policy stores as XML (the local store
 * format of agent/policy/policy.xsd, with preshared keys inline), the
 * counterpart of `netsh ipsec static exportpolicy/importpolicy`.
 */
#ifndef PA_EXPORT_XML_H
#define PA_EXPORT_XML_H

#include "model.h"

/*
 * Write every policy, filter list and filter action of the store to
 * path, atomically, mode 0600 (the file carries the preshared keys).
 */
int	exp_xml_export(const struct pol_store *, const char *path,
	    struct pol_err *err) PA_MUST_USE;

/*
 * Read an export file (validated like a store; keys inline or in
 * secrets_path, which may be NULL). *out is owned by the caller.
 */
int	exp_xml_import(const char *path, const char *secrets_path,
	    struct pol_store **out, struct pol_err *err) PA_MUST_USE;

/*
 * Merge an imported store into dst: objects whose GUID exists in dst
 * replace them, the others are added; imported policies are never
 * assigned. A name already used by a different object of the same kind
 * is refused (PA_E_EXIST). On any failure dst is left unchanged.
 * *added and *replaced count objects (may be NULL).
 */
int	exp_xml_merge(struct pol_store *dst, const struct pol_store *src,
	    size_t *added, size_t *replaced, struct pol_err *err) PA_MUST_USE;

#endif
