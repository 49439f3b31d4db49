/*
 * `ipseccmd static ...` and `ipseccmd match ...`: the local policy store
 * edited with netsh-style key=value commands, shown as text or JSON, and
 * what-if matching against the assigned policy's SPD.
 *
 * Every modifying command loads the store, changes an in-memory copy,
 * checks the whole store (pol_store_resolve) and only then saves it
 * atomically; any failure leaves the files untouched.
 *
 * This file holds the entry point and the dispatch; static_int.h says
 * which file does what.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "static_int.h"

/* show, exportpolicy, importpolicy or an edit */
static int
static_run(struct cmd *c)
{
	if (strcmp(c->verb, "show") == 0)
		return svc_st_cmd_show(c);
	if (strcmp(c->verb, "exportpolicy") == 0)
		return svc_st_cmd_export(c);
	if (strcmp(c->verb, "importpolicy") == 0)
		return svc_st_cmd_import(c);
	return svc_st_edit(c);
}

int
svc_static_main(int argc, char **argv, const char *store_path,
    const char *secrets_path)
{
	struct cmd c;
	int rc, first, lockfd = -1;

	memset(&c, 0, sizeof(c));
	c.store_path = store_path;
	c.secrets_path = secrets_path;
	if (argc < 1 || store_path == NULL) {
		svc_st_usage();
		return SVC_STATIC_USAGE;
	}
	if (strcmp(argv[0], "match") == 0) {
		c.verb = "match";
		first = 1;
	} else if (strcmp(argv[0], "static") == 0) {
		if (argc < 2 || strcmp(argv[1], "help") == 0 ||
		    strcmp(argv[1], "--help") == 0) {
			svc_st_usage();
			return SVC_STATIC_USAGE;
		}
		c.verb = argv[1];
		first = 2;
		/* The object, unless the next word is already key=value. */
		if (argc > 2 && strchr(argv[2], '=') == NULL &&
		    strcmp(argv[2], "--json") != 0) {
			c.obj = argv[2];
			first = 3;
		}
		if (!svc_st_word_in(svc_static_verbs, c.verb, strlen(c.verb)) ||
		    (c.obj != NULL && !svc_st_word_in(svc_static_objects, c.obj,
		    strlen(c.obj))))
			return svc_st_fail(SVC_STATIC_USAGE, "unknown command "
			    "'static %s%s%s'", c.verb, c.obj ? " " : "",
			    c.obj ? c.obj : "");
	} else {
		svc_st_usage();
		return SVC_STATIC_USAGE;
	}
	if ((rc = svc_st_args_parse(&c, argc, argv, first)) != 0)
		return rc;
	/* Edits are read-modify-write: serialise them. Reads take the lock
	 * shared: an edit renames the store, then the secrets file. */
	if (strcmp(c.verb, "show") == 0 || strcmp(c.verb, "match") == 0 ||
	    strcmp(c.verb, "exportpolicy") == 0)
		svc_st_store_lock_shared(&c, &lockfd);
	else if ((rc = svc_st_store_lock(&c, &lockfd)) != 0)
		return rc;
	if (strcmp(c.verb, "match") == 0 && svc_st_arg(&c, "file") != NULL)
		rc = svc_st_match_load(&c, svc_st_arg(&c, "file"));
	else
		rc = svc_st_store_load(&c);
	if (rc != 0)
		goto out;
	rc = strcmp(c.verb,
	    "match") == 0 ? svc_st_cmd_match(&c) : static_run(&c);
	if (rc == 0 && c.modified)
		rc = svc_st_store_save(&c);
out:
	pol_store_free(c.store);
	if (lockfd != -1)
		close(lockfd);
	return rc;
}

