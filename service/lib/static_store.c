/*
 * `ipseccmd static`: the store on disk (load, lock, check and save) and
 * exportpolicy/importpolicy.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exp_ldif.h"
#include "exp_xml.h"
#include "store_xml.h"

#include "static_int.h"

/* ---- store I/O ---- */

int
svc_st_store_load(struct cmd *c)
{
	struct pol_err err;
	struct stat st;

	if (stat(c->store_path, &st) == -1 && errno == ENOENT) {
		if ((c->store = pol_store_new()) == NULL)
			return svc_st_enomem();
		return 0;
	}
	if (pol_store_load_xml(c->store_path, c->secrets_path, &c->store,
	    &err) != 0)
		return svc_st_fail_err(&err);
	return 0;
}

/* Create the store's directory if needed (mode 0755). */
static int
store_mkdir(const char *path)
{
	char *dir;
	int rc = 0;

	if ((dir = strdup(path)) == NULL)
		return svc_st_enomem();
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST)
		rc = svc_st_fail(SVC_STATIC_ERR, "%s: %s", path,
		    strerror(errno));
	free(dir);
	return rc;
}

/* An exclusive lock on "<store>.lock", held until the command ends. */
int
svc_st_store_lock(struct cmd *c, int *fd)
{
	char *path = NULL;
	int rc;

	*fd = -1;
	if ((rc = store_mkdir(c->store_path)) != 0)
		return rc;
	if (asprintf(&path, "%s.lock", c->store_path) == -1)
		return svc_st_enomem();
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(*fd, LOCK_EX) == -1) {
		rc = svc_st_fail(SVC_STATIC_ERR, "%s: %s", path,
		    strerror(errno));
		if (*fd != -1)
			close(*fd);
		*fd = -1;
	}
	free(path);
	return rc;
}

/*
 * A shared lock on "<store>.lock" for a reader. An edit replaces the store
 * and then its secrets file, each by rename: a reader between the two would
 * see a rule whose preshared key is not there yet (or is gone already).
 * Without the lock file (no edit ever ran here) or the right to open it,
 * the reader goes on unlocked, as before.
 */
void
svc_st_store_lock_shared(struct cmd *c, int *fd)
{
	char *path = NULL;

	*fd = -1;
	if (asprintf(&path, "%s.lock", c->store_path) == -1)
		return;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd != -1 && flock(*fd, LOCK_SH) == -1) {
		close(*fd);
		*fd = -1;
	}
	free(path);
}

int
svc_st_store_save(struct cmd *c)
{
	struct pol_err err;

	/* The whole store must hold before anything is written. */
	if (pol_store_resolve(c->store, &err) != 0)
		return svc_st_fail_err(&err);
	if (store_mkdir(c->store_path) != 0)
		return SVC_STATIC_ERR;
	if (pol_store_save_xml(c->store, c->store_path, c->secrets_path,
	    &err) != 0)
		return svc_st_fail_err(&err);
	return 0;
}


/* ---- export / import ---- */

/* format=xml (default) or format=ldif; PA_E_INVAL for anything else. */
static int
arg_format(struct cmd *c, bool *ldif)
{
	const char *fmt = svc_st_arg(c, "format");

	*ldif = false;
	if (fmt == NULL || strcasecmp(fmt, "xml") == 0)
		return 0;
	if (strcasecmp(fmt, "ldif") == 0) {
		*ldif = true;
		return 0;
	}
	return svc_st_fail(SVC_STATIC_USAGE, "format must be xml or ldif, not "
	    "'%s'", fmt);
}

int
svc_st_cmd_export(struct cmd *c)
{
	const char *file = svc_st_arg(c, "file");
	struct exp_ldif_opts lo;
	struct pol_err err;
	bool ldif;
	int rc;

	if (file == NULL || *file == '\0')
		return svc_st_fail(SVC_STATIC_USAGE, "'exportpolicy' needs "
		    "file=");
	if ((rc = arg_format(c, &ldif)) != 0)
		return rc;
	if (ldif) {
		memset(&lo, 0, sizeof(lo));
		lo.base = svc_st_arg(c, "base");
		lo.policy = svc_st_arg(c, "policy");
		lo.gpo = svc_st_arg(c, "gpo");
		lo.gpo_name = svc_st_arg(c, "gponame");
		lo.link_dn = svc_st_arg(c, "link");
		if (lo.base == NULL || *lo.base == '\0')
			return svc_st_fail(SVC_STATIC_USAGE, "'exportpolicy "
			    "format=ldif' needs base= (the domain DN, e.g. "
			    "base=DC=corp,DC=example)");
		if ((rc = svc_st_args_unused(c)) != 0)
			return rc;
		if (exp_ldif_export(c->store, &lo, file, &err) != 0)
			return svc_st_fail_err(&err);
		printf("exported policy %s%s%s as LDIF to %s\n",
		    lo.policy != NULL ? "'" : "(the assigned one)",
		    lo.policy != NULL ? lo.policy : "",
		    lo.policy != NULL ? "'" : "", file);
		return 0;
	}
	if ((rc = svc_st_args_unused(c)) != 0)
		return rc;
	if (exp_xml_export(c->store, file, &err) != 0)
		return svc_st_fail_err(&err);
	printf("exported %zu polic%s, %zu filter list%s, %zu filter "
	    "action%s to %s\n", c->store->npolicies,
	    c->store->npolicies == 1 ? "y" : "ies", c->store->nfilterlists,
	    c->store->nfilterlists == 1 ? "" : "s", c->store->nfilteractions,
	    c->store->nfilteractions == 1 ? "" : "s", file);
	return 0;
}

int
svc_st_cmd_import(struct cmd *c)
{
	const char *file = svc_st_arg(c, "file");
	struct pol_store *in = NULL;
	struct pol_err err;
	size_t added = 0, replaced = 0;
	bool ldif;
	int rc;

	if (file == NULL || *file == '\0')
		return svc_st_fail(SVC_STATIC_USAGE, "'importpolicy' needs "
		    "file=");
	if ((rc = arg_format(c, &ldif)) != 0 ||
	    (rc = svc_st_args_unused(c)) != 0)
		return rc;
	if (ldif ? exp_ldif_import(file, &in, &err) != 0 :
	    exp_xml_import(file, c->secrets_path, &in, &err) != 0)
		return svc_st_fail_err(&err);
	rc = exp_xml_merge(c->store, in, &added, &replaced, &err);
	pol_store_free(in);
	if (rc != 0)
		return svc_st_fail_err(&err);
	c->modified = true;
	printf("imported from %s: %zu object%s added, %zu replaced\n", file,
	    added, added == 1 ? "" : "s", replaced);
	return 0;
}

