/*
 * `ipseccmd static`: the words it accepts, its messages and the key=value
 * arguments (parsing, lookup, typed values).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "static_int.h"

/* ---- the words this parser accepts (static_cmd.h) ---- */

const char *const svc_static_verbs[] = { "add", "set", "delete", "show",
    "exportpolicy", "importpolicy", NULL };
const char *const svc_static_objects[] = { "policy", "filterlist", "filter",
    "filteraction", "rule", "all", NULL };
const char *const svc_static_keys[] = {
	"action", "activate", "activatedefaultrule", "all", "assign", "base",
	"conntype", "description", "dir", "dst", "dstaddr", "dstmask",
	"dstport", "file", "filteraction", "filterlist", "format", "gpo",
	"gponame", "guid", "inpass", "kerberos", "link", "mirrored",
	"mmlifetime", "mmpfs", "mmsecmethods", "myaddr", "name", "newname",
	"pfsgroup", "policy", "pollinginterval", "proto", "protocol", "psk",
	"qmpermm", "qmpfs", "qmsecmethods", "rootca", "showsecrets", "soft",
	"src", "srcaddr", "srcmask", "srcport", "tunnel", NULL };

bool
svc_st_word_in(const char *const *tab, const char *w, size_t n)
{
	size_t i;

	for (i = 0; tab[i] != NULL; i++)
		if (strlen(tab[i]) == n && strncasecmp(tab[i], w, n) == 0)
			return true;
	return false;
}

/* ---- messages ---- */

int
svc_st_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipseccmd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return code;
}

int
svc_st_fail_err(const struct pol_err *err)
{
	if (err->where[0] != '\0')
		return svc_st_fail(SVC_STATIC_ERR, "%s: %s", err->where,
		    err->what);
	return svc_st_fail(SVC_STATIC_ERR, "%s", err->what);
}

int
svc_st_enomem(void)
{
	return svc_st_fail(SVC_STATIC_ERR, "out of memory");
}

void
svc_st_usage(void)
{
	fprintf(stderr,
	    "usage: ipseccmd static add|set|delete policy|filterlist|filter|"
	    "filteraction|rule key=value...\n"
	    "       ipseccmd static show all|policy|filterlist|filter|"
	    "filteraction|rule [name=N] [--json]\n"
	    "       ipseccmd static exportpolicy|importpolicy file=F "
	    "[format=xml|ldif]\n           (ldif export: base=DN [policy=P "
	    "gpo={GUID} gponame=N link=DN])\n       ipseccmd match src=A dst=B "
	    "[proto=P] [srcport=N] [dstport=N] [dir=out|in] [myaddr=A,B] "
	    "[--json]\n(docs/policy.md lists every key)\n");
}

/* ---- arguments ---- */

int
svc_st_args_parse(struct cmd *c, int argc, char **argv, int first)
{
	int i;
	size_t j;

	for (i = first; i < argc; i++) {
		const char *eq;
		struct kv *kv;

		if (strcmp(argv[i], "--json") == 0) {
			c->json = true;
			continue;
		}
		if ((eq = strchr(argv[i], '=')) == NULL || eq == argv[i])
			return svc_st_fail(SVC_STATIC_USAGE, "'%s': expected "
			    "key=value", argv[i]);
		if (!svc_st_word_in(svc_static_keys, argv[i],
		    (size_t)(eq - argv[i])))
			return svc_st_fail(SVC_STATIC_USAGE, "unknown "
			    "parameter '%.*s' for '%s %s'",
			    (int)(eq - argv[i]), argv[i], c->verb,
			    c->obj ? c->obj : "");
		if (c->nkv == MAXARGS)
			return svc_st_fail(SVC_STATIC_USAGE, "too many "
			    "arguments");
		kv = &c->kv[c->nkv++];
		kv->key = argv[i];
		kv->val = eq + 1;
		/* Only the authentication methods may repeat. */
		for (j = 0; j + 1 < c->nkv; j++) {
			size_t n = (size_t)(eq - argv[i]);

			if (strncasecmp(c->kv[j].key, kv->key, n + 1) == 0 &&
			    strncasecmp(kv->key, "rootca=", 7) != 0 &&
			    strncasecmp(kv->key, "psk=", 4) != 0 &&
			    strncasecmp(kv->key, "kerberos=", 9) != 0)
				return svc_st_fail(SVC_STATIC_USAGE, "'%.*s' "
				    "given twice", (int)n, kv->key);
		}
	}
	return 0;
}

bool
svc_st_keyeq(const struct kv *kv, const char *key)
{
	size_t n = strlen(key);

	return strncasecmp(kv->key, key, n) == 0 && kv->key[n] == '=';
}

/* The value of key, or NULL; marks it used. */
const char *
svc_st_arg(struct cmd *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nkv; i++)
		if (svc_st_keyeq(&c->kv[i], key)) {
			c->kv[i].used = true;
			return c->kv[i].val;
		}
	return NULL;
}

/* After a command has taken its arguments: anything left is unknown. */
int
svc_st_args_unused(struct cmd *c)
{
	size_t i;

	for (i = 0; i < c->nkv; i++)
		if (!c->kv[i].used)
			return svc_st_fail(SVC_STATIC_USAGE, "unknown "
			    "parameter '%.*s' for '%s %s'",
			    (int)(strchr(c->kv[i].key, '=') - c->kv[i].key),
			    c->kv[i].key, c->verb, c->obj ? c->obj : "");
	return 0;
}

int
svc_st_parse_yesno(const char *key, const char *v, bool *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "y") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "n") == 0) {
		*out = false;
		return 0;
	}
	return svc_st_fail(SVC_STATIC_ERR, "%s=%s: expected yes or no", key, v);
}

int
svc_st_parse_u32(const char *key, const char *v, uint32_t min, uint32_t max,
    uint32_t *out)
{
	unsigned long long n = 0;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n < min ||
	    n > max)
		return svc_st_fail(SVC_STATIC_ERR, "%s=%s: expected a number "
		    "from %u to %u", key, v, min, max);
	*out = (uint32_t)n;
	return 0;
}

int
svc_st_opt_yesno(struct cmd *c, const char *key, bool *out)
{
	const char *v = svc_st_arg(c, key);

	return v == NULL ? 0 : svc_st_parse_yesno(key, v, out) == 0 ? 0 :
	    SVC_STATIC_ERR;
}

int
svc_st_opt_u32(struct cmd *c, const char *key, uint32_t min, uint32_t max,
    uint32_t mult, uint32_t *out)
{
	const char *v = svc_st_arg(c, key);
	uint32_t n = 0;

	if (v == NULL)
		return 0;
	if (svc_st_parse_u32(key, v, min, max, &n) != 0)
		return SVC_STATIC_ERR;
	*out = n * mult;
	return 0;
}

int
svc_st_opt_str(struct cmd *c, const char *key, char **out)
{
	const char *v = svc_st_arg(c, key);
	char *d;

	if (v == NULL)
		return 0;
	if ((d = strdup(v)) == NULL)
		return svc_st_enomem();
	free(*out);
	*out = d;
	return 0;
}

const char *
svc_st_need(struct cmd *c, const char *key)
{
	const char *v = svc_st_arg(c, key);

	if (v == NULL || *v == '\0') {
		svc_st_fail(SVC_STATIC_USAGE, "'%s %s' needs %s=", c->verb,
		    c->obj, key);
		return NULL;
	}
	return v;
}

