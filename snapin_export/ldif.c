/*
 * LDIF export/import of policies (see exp_ldif.h): the files only (the
 * options, an atomic write, a bounded read) around pol_ldif_write() and
 * pol_ldif_read() of agent/policy/store_ldif.c, which share the decoder
 * of the directory source, so what imports is what the agent would apply
 * from the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir_source.h"
#include "exp_ldif.h"
#include "store_ldif.h"
#include "pa_secret.h"

#define LDIF_MAX	(256u * 1024 * 1024)

int
exp_ldif_export(const struct pol_store *s, const struct exp_ldif_opts *o,
    const char *path, struct pol_err *err)
{
	const struct pol_policy *p = NULL;
	struct pol_ldif_opts lo;
	struct pa_guid gpo;
	char *text = NULL, *tmp = NULL;
	size_t len, i;
	int fd = -1, rc;

	memset(err, 0, sizeof(*err));
	if (o == NULL || o->base == NULL) {
		pol_err_set(err, path, "no directory base DN (base=)");
		return PA_E_INVAL;
	}
	if (o->policy != NULL) {
		for (i = 0; i < s->npolicies; i++)
			if (s->policies[i].name != NULL &&
			    strcmp(s->policies[i].name, o->policy) == 0)
				p = &s->policies[i];
		if (p == NULL) {
			pol_err_set(err, o->policy, "no such policy");
			return PA_E_NOENT;
		}
	}
	memset(&lo, 0, sizeof(lo));
	lo.base = o->base;
	lo.gpo_name = o->gpo_name;
	lo.link_dn = o->link_dn;
	if (o->gpo != NULL) {
		if (pa_guid_parse(o->gpo, &gpo) != 0) {
			pol_err_set(err, o->gpo, "not a GUID");
			return PA_E_INVAL;
		}
		lo.gpo = &gpo;
	}
	if ((rc = pol_ldif_write(s, p, NULL, &lo, &text, &len, err)) != 0)
		return rc;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		rc = PA_E_NOMEM;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 ||
	    write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		pol_err_set(err, path, strerror(errno));
		rc = PA_E_SYS;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		pol_err_set(err, path, strerror(errno));
		rc = PA_E_SYS;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		pol_err_set(err, path, strerror(errno));
		rc = PA_E_SYS;
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	if (text != NULL) {
		pa_wipe(text, len);
		free(text);
	}
	return rc;
}

int
exp_ldif_import(const char *path, struct pol_store **out,
    struct pol_err *err)
{
	return exp_ldif_import_cache(path, out, NULL, 0, err);
}

int
exp_ldif_import_cache(const char *path, struct pol_store **out,
    char *policy_dn, size_t dncap, struct pol_err *err)
{
	char *ldif, uri[512], dn[1024];
	int64_t fetched;
	struct stat sb;
	char *buf = NULL;
	ssize_t got;
	int fd, rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pol_err_set(err, path, strerror(errno));
		return PA_E_SYS;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > LDIF_MAX) {
		close(fd);
		pol_err_set(err, path, "not a regular file of sane size");
		return PA_E_INVAL;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return PA_E_NOMEM;
	}
	got = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (got != sb.st_size) {
		pol_err_set(err, path, "short read");
		rc = PA_E_SYS;
		goto out;
	}
	buf[got] = '\0';
	ldif = buf;
	dn[0] = '\0';
	/* The directory source's cache: its header checked and left out. */
	if (pol_dir_cache_is(buf) && (rc = pol_dir_cache_parse(buf,
	    (size_t)got, &ldif, &fetched, dn, sizeof(dn), uri,
	    sizeof(uri))) != 0) {
		pol_err_set(err, path, rc == PA_E_VERIFY ? "directory cache: "
		    "its SHA-256 does not match its content" :
		    "directory cache: malformed header");
		goto out;
	}
	if (policy_dn != NULL && dncap > 0)
		snprintf(policy_dn, dncap, "%s", dn);
	rc = pol_ldif_read(ldif, strlen(ldif), out, NULL, err);
out:
	pa_wipe(buf, (size_t)sb.st_size);
	free(buf);
	return rc;
}
