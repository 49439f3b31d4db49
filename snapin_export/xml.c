/* Export/import of policy stores as XML (see exp_xml.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_xml.h"
#include "pa_secret.h"
#include "store_xml.h"

int
exp_xml_export(const struct pol_store *s, const char *path,
    struct pol_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = pol_store_format_xml(s, POL_XML_INLINE_KEYS, &buf, &len,
	    err)) != 0)
		return rc;
	rc = pol_write_atomic(path, buf, len, 0600, err);
	pa_wipe(buf, len);
	free(buf);
	return rc;
}

int
exp_xml_import(const char *path, const char *secrets_path,
    struct pol_store **out, struct pol_err *err)
{
	return pol_store_load_xml(path, secrets_path, out, err);
}

static int
name_clash(struct pol_err *err, const char *kind, const char *name)
{
	snprintf(err->where, sizeof(err->where), "%s '%s'", kind, name);
	snprintf(err->what, sizeof(err->what), "a different %s with this "
	    "name already exists", kind);
	return PA_E_EXIST;
}

/* Work on a copy so that a failure leaves dst as it was. */
int
exp_xml_merge(struct pol_store *dst, const struct pol_store *src,
    size_t *added, size_t *replaced, struct pol_err *err)
{
	struct pol_store *w = NULL, tmp;
	size_t i, nadd = 0, nrep = 0;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	if ((w = pol_store_dup(dst)) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < src->nfilterlists; i++) {
		const struct pol_filterlist *x = &src->filterlists[i];
		struct pol_filterlist *d = pol_store_filterlist_by_id(w, &x->id);
		struct pol_filterlist *byname = x->name ?
		    pol_store_filterlist_by_name(w, x->name) : NULL;

		if (byname != NULL && byname != d) {
			rc = name_clash(err, "filter list", x->name);
			goto out;
		}
		if (d != NULL) {
			pol_filterlist_clear(d);
			nrep++;
		} else if ((d = pol_store_add_filterlist(w)) == NULL) {
			rc = PA_E_NOMEM;
			goto out;
		} else
			nadd++;
		if ((rc = pol_filterlist_copy(d, x)) != 0)
			goto out;
	}
	for (i = 0; i < src->nfilteractions; i++) {
		const struct pol_filteraction *x = &src->filteractions[i];
		struct pol_filteraction *d = pol_store_filteraction_by_id(w,
		    &x->id);
		struct pol_filteraction *byname = x->name ?
		    pol_store_filteraction_by_name(w, x->name) : NULL;

		if (byname != NULL && byname != d) {
			rc = name_clash(err, "filter action", x->name);
			goto out;
		}
		if (d != NULL) {
			pol_filteraction_clear(d);
			nrep++;
		} else if ((d = pol_store_add_filteraction(w)) == NULL) {
			rc = PA_E_NOMEM;
			goto out;
		} else
			nadd++;
		if ((rc = pol_filteraction_copy(d, x)) != 0)
			goto out;
	}
	for (i = 0; i < src->npolicies; i++) {
		const struct pol_policy *x = &src->policies[i];
		struct pol_policy *d = pol_store_policy_by_id(w, &x->id);
		struct pol_policy *byname = x->name ?
		    pol_store_policy_by_name(w, x->name) : NULL;
		bool was_assigned = d != NULL && d->assigned;

		if (byname != NULL && byname != d) {
			rc = name_clash(err, "policy", x->name);
			goto out;
		}
		if (d != NULL) {
			pol_policy_clear(d);
			nrep++;
		} else if ((d = pol_store_add_policy(w)) == NULL) {
			rc = PA_E_NOMEM;
			goto out;
		} else
			nadd++;
		if ((rc = pol_policy_copy(d, x)) != 0)
			goto out;
		/* Importing never changes which policy is assigned. */
		d->assigned = was_assigned;
	}
	if ((rc = pol_store_resolve(w, err)) != 0)
		goto out;
	/* Swap the merged contents into dst. */
	tmp = *dst;
	*dst = *w;
	*w = tmp;
	if (pol_store_resolve(dst, err) != 0)
		rc = PA_E_STATE;	/* cannot happen: w resolved */
	if (added != NULL)
		*added = nadd;
	if (replaced != NULL)
		*replaced = nrep;
out:
	if (rc == PA_E_NOMEM && err->what[0] == '\0') {
		snprintf(err->where, sizeof(err->where), "import");
		snprintf(err->what, sizeof(err->what), "out of memory");
	}
	pol_store_free(w);
	return rc;
}
