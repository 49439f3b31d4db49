/*
 * `ipseccmd static ...` and `ipseccmd match ...`: the local policy store
 * edited with netsh-style key=value commands, shown as text or JSON, and
 * what-if matching against the assigned policy's SPD.
 *
 * Every modifying command loads the store, changes an in-memory copy,
 * checks the whole store (pol_store_resolve) and only then saves it
 * atomically; any failure leaves the files untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "exp_ldif.h"
#include "exp_xml.h"
#include "pa_buf.h"
#include "model.h"
#include "offer.h"
#include "spd.h"
#include "static_cmd.h"
#include "store_xml.h"

#define MAXARGS		32

struct kv {
	const char	*key;
	const char	*val;
	bool		 used;
};

struct cmd {
	const char	*verb;		/* add, set, delete, show, ... */
	const char	*obj;		/* policy, filterlist, ... */
	struct kv	 kv[MAXARGS];
	size_t		 nkv;
	bool		 json;
	const char	*store_path;
	const char	*secrets_path;
	struct pol_store *store;
	bool		 modified;
};

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

static bool
word_in(const char *const *tab, const char *w, size_t n)
{
	size_t i;

	for (i = 0; tab[i] != NULL; i++)
		if (strlen(tab[i]) == n && strncasecmp(tab[i], w, n) == 0)
			return true;
	return false;
}

/* ---- messages ---- */

static int
fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipseccmd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return code;
}

static int
fail_err(const struct pol_err *err)
{
	if (err->where[0] != '\0')
		return fail(SVC_STATIC_ERR, "%s: %s", err->where, err->what);
	return fail(SVC_STATIC_ERR, "%s", err->what);
}

static int
enomem(void)
{
	return fail(SVC_STATIC_ERR, "out of memory");
}

/* ---- arguments ---- */

static int
args_parse(struct cmd *c, int argc, char **argv, int first)
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
			return fail(SVC_STATIC_USAGE, "'%s': expected "
			    "key=value", argv[i]);
		if (!word_in(svc_static_keys, argv[i], (size_t)(eq - argv[i])))
			return fail(SVC_STATIC_USAGE, "unknown parameter '%.*s' "
			    "for '%s %s'", (int)(eq - argv[i]), argv[i],
			    c->verb, c->obj ? c->obj : "");
		if (c->nkv == MAXARGS)
			return fail(SVC_STATIC_USAGE, "too many arguments");
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
				return fail(SVC_STATIC_USAGE, "'%.*s' given "
				    "twice", (int)n, kv->key);
		}
	}
	return 0;
}

static bool
keyeq(const struct kv *kv, const char *key)
{
	size_t n = strlen(key);

	return strncasecmp(kv->key, key, n) == 0 && kv->key[n] == '=';
}

/* The value of key, or NULL; marks it used. */
static const char *
arg(struct cmd *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nkv; i++)
		if (keyeq(&c->kv[i], key)) {
			c->kv[i].used = true;
			return c->kv[i].val;
		}
	return NULL;
}

/* After a command has taken its arguments: anything left is unknown. */
static int
args_unused(struct cmd *c)
{
	size_t i;

	for (i = 0; i < c->nkv; i++)
		if (!c->kv[i].used)
			return fail(SVC_STATIC_USAGE, "unknown parameter '%.*s' "
			    "for '%s %s'", (int)(strchr(c->kv[i].key, '=') -
			    c->kv[i].key), c->kv[i].key, c->verb,
			    c->obj ? c->obj : "");
	return 0;
}

static int
parse_yesno(const char *key, const char *v, bool *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "y") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "n") == 0) {
		*out = false;
		return 0;
	}
	return fail(SVC_STATIC_ERR, "%s=%s: expected yes or no", key, v);
}

static int
parse_u32(const char *key, const char *v, uint32_t min, uint32_t max,
    uint32_t *out)
{
	unsigned long long n = 0;
	char *end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n < min ||
	    n > max)
		return fail(SVC_STATIC_ERR, "%s=%s: expected a number from %u "
		    "to %u", key, v, min, max);
	*out = (uint32_t)n;
	return 0;
}

static int
opt_yesno(struct cmd *c, const char *key, bool *out)
{
	const char *v = arg(c, key);

	return v == NULL ? 0 : parse_yesno(key, v, out) == 0 ? 0 :
	    SVC_STATIC_ERR;
}

static int
opt_u32(struct cmd *c, const char *key, uint32_t min, uint32_t max,
    uint32_t mult, uint32_t *out)
{
	const char *v = arg(c, key);
	uint32_t n = 0;

	if (v == NULL)
		return 0;
	if (parse_u32(key, v, min, max, &n) != 0)
		return SVC_STATIC_ERR;
	*out = n * mult;
	return 0;
}

static int
opt_str(struct cmd *c, const char *key, char **out)
{
	const char *v = arg(c, key);
	char *d;

	if (v == NULL)
		return 0;
	if ((d = strdup(v)) == NULL)
		return enomem();
	free(*out);
	*out = d;
	return 0;
}

static const char *
need(struct cmd *c, const char *key)
{
	const char *v = arg(c, key);

	if (v == NULL || *v == '\0') {
		fail(SVC_STATIC_USAGE, "'%s %s' needs %s=", c->verb, c->obj,
		    key);
		return NULL;
	}
	return v;
}

/* ---- algorithm syntax ---- */

/* "3DES-SHA1-2 AES128-SHA256-14": Main Mode methods. */
static int
parse_mmsec(const char *spec, struct pol_isakmp *k)
{
	struct pol_mm_method *v = NULL, *m;
	char *copy, *tok, *save = NULL;
	size_t n = 0;
	int rc = 0;

	if ((copy = strdup(spec)) == NULL)
		return enomem();
	for (tok = strtok_r(copy, " ,", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,", &save)) {
		char *h, *g;
		uint32_t grp = 0;

		if ((m = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			rc = enomem();
			goto out;
		}
		v = m;
		m = &v[n++];
		memset(m, 0, sizeof(*m));
		if ((h = strchr(tok, '-')) == NULL ||
		    (g = strchr(h + 1, '-')) == NULL) {
			rc = fail(SVC_STATIC_ERR, "mmsecmethods: '%s' is not "
			    "CIPHER-HASH-GROUP (e.g. 3DES-SHA1-2)", tok);
			goto out;
		}
		*h++ = '\0';
		*g++ = '\0';
		if (pol_mm_cipher_parse(tok, &m->cipher) != 0) {
			rc = fail(SVC_STATIC_ERR, "mmsecmethods: unknown "
			    "cipher '%s' (DES, 3DES, AES128, AES192, AES256)",
			    tok);
			goto out;
		}
		if (pol_integ_parse(h, &m->hash) != 0 ||
		    m->hash == POL_INTEG_NONE) {
			rc = fail(SVC_STATIC_ERR, "mmsecmethods: unknown hash "
			    "'%s' (MD5, SHA1, SHA256)", h);
			goto out;
		}
		if (parse_u32("mmsecmethods group", g, 1, 65535, &grp) != 0 ||
		    !pol_dh_group_valid((uint16_t)grp)) {
			rc = fail(SVC_STATIC_ERR, "mmsecmethods: unsupported "
			    "Diffie-Hellman group '%s' (1, 2, 14, 19, 20)", g);
			goto out;
		}
		m->dh_group = (uint16_t)grp;
	}
	if (n == 0) {
		rc = fail(SVC_STATIC_ERR, "mmsecmethods: empty");
		goto out;
	}
	free(k->methods);
	k->methods = v;
	k->nmethods = n;
	v = NULL;
out:
	free(v);
	free(copy);
	return rc;
}

/* qmsecmethods (offer.h) into fa's offers; returns 0 or an exit code. */
static int
parse_qmsec(const char *spec, struct pol_filteraction *fa)
{
	struct pol_qm_offer *v = NULL;
	char what[256];
	size_t n = 0;
	int rc;

	if ((rc = pol_offers_parse(spec, &v, &n, what, sizeof(what))) != 0)
		return rc == PA_E_NOMEM ? enomem() :
		    fail(SVC_STATIC_ERR, "%s", what);
	free(fa->offers);
	fa->offers = v;
	fa->noffers = n;
	return 0;
}

static void
fmt_offer(const struct pol_qm_offer *o, char *buf, size_t cap)
{
	pol_offer_format(o, buf, cap);
}

/* ---- addresses ---- */

/*
 * "me", "any", an address, "addr/len", with an optional mask ("/len" or
 * a dotted mask), or a DNS name (resolved now; the name is kept).
 */
static int
parse_endpoint(const char *key, const char *v, const char *mask,
    struct pol_endpoint *e)
{
	struct pa_addr m;
	char buf[PA_PREFIXSTRLEN + 8];
	uint8_t len;
	int rc;

	pol_endpoint_clear(e);
	if (strcasecmp(v, "me") == 0 || strcasecmp(v, "any") == 0) {
		e->kind = strcasecmp(v, "me") == 0 ? POL_ADDR_ME :
		    POL_ADDR_ANY;
		if (mask != NULL)
			return fail(SVC_STATIC_ERR, "%smask: no mask on %s",
			    key, v);
		return 0;
	}
	if (strchr(v, '/') != NULL || pa_addr_parse(v, &m) == 0) {
		if ((rc = pa_prefix_parse(v, &e->prefix)) != 0)
			return fail(SVC_STATIC_ERR, "%saddr=%s: %s", key, v,
			    rc == PA_E_INVAL ? "the mask is not a prefix or "
			    "host bits are set" : "not an address or prefix");
		if (mask != NULL) {
			if (strchr(v, '/') != NULL)
				return fail(SVC_STATIC_ERR, "%saddr has a "
				    "prefix length and %smask is given", key,
				    key);
			if (strchr(mask, '.') != NULL ||
			    strchr(mask, ':') != NULL) {
				if (pa_addr_parse(mask, &m) != 0 ||
				    m.family != e->prefix.addr.family)
					return fail(SVC_STATIC_ERR, "%smask=%s:"
					    " not a mask of the address "
					    "family", key, mask);
				if (pa_mask_to_len(&m, &len) != 0)
					return fail(SVC_STATIC_ERR, "%smask=%s:"
					    " the mask is not a prefix", key,
					    mask);
			} else {
				uint32_t l = 0;

				if (parse_u32(key, mask, 0, pa_addr_bits(
				    e->prefix.addr.family), &l) != 0)
					return SVC_STATIC_ERR;
				len = (uint8_t)l;
			}
			snprintf(buf, sizeof(buf), "%s/%u", v, (unsigned)len);
			if (pa_prefix_parse(buf, &e->prefix) != 0)
				return fail(SVC_STATIC_ERR, "%saddr=%s %smask="
				    "%s: host bits are set beyond the mask",
				    key, v, key, mask);
		}
		e->kind = e->prefix.len ==
		    pa_addr_bits(e->prefix.addr.family) ? POL_ADDR_HOST :
		    POL_ADDR_SUBNET;
		return 0;
	}
	{
		char why[160];

		if (!pol_dns_name_ok(v, why, sizeof(why)))
			return fail(SVC_STATIC_ERR, "%saddr=%s: %s", key, v,
			    why);
	}
	if (mask != NULL)
		return fail(SVC_STATIC_ERR, "%smask: no mask on a DNS name",
		    key);
	e->kind = POL_ADDR_DNS;
	if ((e->dns = strdup(v)) == NULL)
		return enomem();
	return 0;
}

static void
fmt_endpoint(const struct pol_endpoint *e, char *buf, size_t cap)
{
	char p[PA_PREFIXSTRLEN], a[PA_ADDRSTRLEN];
	size_t i, off;

	switch (e->kind) {
	case POL_ADDR_ANY:
		snprintf(buf, cap, "any");
		break;
	case POL_ADDR_ME:
		snprintf(buf, cap, "me");
		break;
	case POL_ADDR_HOST:
		snprintf(buf, cap, "%s", pa_addr_str(&e->prefix.addr, a,
		    sizeof(a)));
		break;
	case POL_ADDR_SUBNET:
		snprintf(buf, cap, "%s", pa_prefix_str(&e->prefix, p,
		    sizeof(p)));
		break;
	case POL_ADDR_DNS:
		off = (size_t)snprintf(buf, cap, "%s (", e->dns);
		for (i = 0; i < e->nresolved && off < cap; i++)
			off += (size_t)snprintf(buf + off, cap - off, "%s%s",
			    i ? " " : "", pa_addr_str(&e->resolved[i], a,
			    sizeof(a)));
		if (off < cap)
			snprintf(buf + off, cap - off, ")");
		break;
	}
}

static void
fmt_filter(const struct pol_filter *f, char *buf, size_t cap)
{
	char s[256], d[256], p[8], sp[8] = "any", dp[8] = "any";

	fmt_endpoint(&f->src, s, sizeof(s));
	fmt_endpoint(&f->dst, d, sizeof(d));
	if (f->sport)
		snprintf(sp, sizeof(sp), "%u", (unsigned)f->sport);
	if (f->dport)
		snprintf(dp, sizeof(dp), "%u", (unsigned)f->dport);
	if (pol_proto_has_ports(f->proto))
		snprintf(buf, cap, "%s port %s -> %s port %s, %s%s", s, sp, d,
		    dp, pol_proto_str(f->proto, p, sizeof(p)),
		    f->mirrored ? ", mirrored" : "");
	else
		snprintf(buf, cap, "%s -> %s, %s%s", s, d,
		    pol_proto_str(f->proto, p, sizeof(p)),
		    f->mirrored ? ", mirrored" : "");
}

/* ---- store I/O ---- */

static int
store_load(struct cmd *c)
{
	struct pol_err err;
	struct stat st;

	if (stat(c->store_path, &st) == -1 && errno == ENOENT) {
		if ((c->store = pol_store_new()) == NULL)
			return enomem();
		return 0;
	}
	if (pol_store_load_xml(c->store_path, c->secrets_path, &c->store,
	    &err) != 0)
		return fail_err(&err);
	return 0;
}

/* Create the store's directory if needed (mode 0755). */
static int
store_mkdir(const char *path)
{
	char *dir;
	int rc = 0;

	if ((dir = strdup(path)) == NULL)
		return enomem();
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST)
		rc = fail(SVC_STATIC_ERR, "%s: %s", path, strerror(errno));
	free(dir);
	return rc;
}

/* An exclusive lock on "<store>.lock", held until the command ends. */
static int
store_lock(struct cmd *c, int *fd)
{
	char *path = NULL;
	int rc;

	*fd = -1;
	if ((rc = store_mkdir(c->store_path)) != 0)
		return rc;
	if (asprintf(&path, "%s.lock", c->store_path) == -1)
		return enomem();
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(*fd, LOCK_EX) == -1) {
		rc = fail(SVC_STATIC_ERR, "%s: %s", path, strerror(errno));
		if (*fd != -1)
			close(*fd);
		*fd = -1;
	}
	free(path);
	return rc;
}

static int
store_save(struct cmd *c)
{
	struct pol_err err;

	/* The whole store must hold before anything is written. */
	if (pol_store_resolve(c->store, &err) != 0)
		return fail_err(&err);
	if (store_mkdir(c->store_path) != 0)
		return SVC_STATIC_ERR;
	if (pol_store_save_xml(c->store, c->store_path, c->secrets_path,
	    &err) != 0)
		return fail_err(&err);
	return 0;
}

/* ---- finding and naming objects ---- */

static int
parse_guid(const char *id, struct pa_guid *g)
{
	if (pa_guid_parse(id, g) != 0)
		return fail(SVC_STATIC_ERR, "guid=%s: not a GUID", id);
	return 0;
}

/*
 * name= or guid= choosing the object to change or delete: *id and *g are
 * set when guid= is given, else *name is.
 */
static int
name_or_guid(struct cmd *c, const char **name, const char **id,
    struct pa_guid *g)
{
	*name = arg(c, "name");
	*id = arg(c, "guid");
	if (*id != NULL)
		return parse_guid(*id, g);
	if (*name == NULL)
		return fail(SVC_STATIC_USAGE, "'%s %s' needs name= or guid=",
		    c->verb, c->obj);
	return 0;
}

/* The name in key=, or NULL after saying that it is missing. */
static const char *
ref_name(struct cmd *c, const char *key)
{
	const char *name = arg(c, key);

	if (name == NULL)
		fail(SVC_STATIC_USAGE, "'%s %s' needs %s=", c->verb, c->obj,
		    key);
	return name;
}

/* obj as looked up by name, or NULL after saying that it does not exist. */
static void *
ref_found(void *obj, const char *kind, const char *name)
{
	if (obj == NULL)
		fail(SVC_STATIC_ERR, "%s '%s' does not exist", kind, name);
	return obj;
}

/*
 * newname=nn for set: *name becomes a copy of nn unless nn is empty or
 * names another object (holder, as looked up by nn) than self.
 */
static int
rename_to(const char *nn, const void *holder, const void *self, char **name)
{
	char *d;

	if (*nn == '\0' || (holder != NULL && holder != self))
		return fail(SVC_STATIC_ERR, "newname=%s: empty or already "
		    "used", nn);
	if ((d = strdup(nn)) == NULL)
		return enomem();
	free(*name);
	*name = d;
	return 0;
}

/* ---- policy ---- */

static int
find_policy(struct cmd *c, struct pol_policy **out)
{
	const char *name, *id;
	struct pa_guid g;
	int rc;

	*out = NULL;
	if ((rc = name_or_guid(c, &name, &id, &g)) != 0)
		return rc;
	*out = id != NULL ? pol_store_policy_by_id(c->store, &g) :
	    pol_store_policy_by_name(c->store, name);
	if (*out == NULL)
		return fail(SVC_STATIC_ERR, "policy '%s' does not exist",
		    id ? id : name);
	return 0;
}

/* Keys shared by add and set policy. */
static int
policy_opts(struct cmd *c, struct pol_policy *p)
{
	const char *v;
	bool assign = p->assigned;
	size_t i;
	int rc;

	if ((rc = opt_str(c, "description", &p->description)) != 0 ||
	    (rc = opt_yesno(c, "mmpfs", &p->isakmp.master_pfs)) != 0 ||
	    (rc = opt_u32(c, "qmpermm", 0, 1000000, 1,
	    &p->isakmp.qm_per_mm)) != 0 ||
	    (rc = opt_u32(c, "mmlifetime", 1, 71582788, 60,
	    &p->isakmp.mm_life_sec)) != 0 ||
	    (rc = opt_yesno(c, "activatedefaultrule",
	    &p->activate_default_rule)) != 0 ||
	    (rc = opt_u32(c, "pollinginterval", 1, 71582788, 60,
	    &p->poll_sec)) != 0 ||
	    (rc = opt_yesno(c, "assign", &assign)) != 0)
		return rc;
	if ((v = arg(c, "mmsecmethods")) != NULL &&
	    (rc = parse_mmsec(v, &p->isakmp)) != 0)
		return rc;
	if (p->isakmp.master_pfs)
		p->isakmp.qm_per_mm = 1;
	if (assign && !p->assigned)
		for (i = 0; i < c->store->npolicies; i++)
			c->store->policies[i].assigned = false;
	p->assigned = assign;
	return 0;
}

static int
add_policy(struct cmd *c)
{
	const char *name = need(c, "name");
	struct pol_policy *p, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (pol_store_policy_by_name(c->store, name) != NULL)
		return fail(SVC_STATIC_ERR, "policy '%s' already exists", name);
	if (pol_policy_init(&tmp, name) != 0)
		return enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((p = pol_store_add_policy(c->store)) == NULL) {
		pol_policy_clear(&tmp);
		return enomem();
	}
	*p = tmp;
	if ((rc = policy_opts(c, p)) != 0)
		return rc;
	if ((rc = args_unused(c)) != 0)
		return rc;
	c->modified = true;
	return 0;
}

static int
set_policy(struct cmd *c)
{
	struct pol_policy *p;
	const char *nn;
	int rc;

	if ((rc = find_policy(c, &p)) != 0)
		return rc;
	if ((nn = arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_store_policy_by_name(c->store, nn), p, &p->name)) != 0)
		return rc;
	if ((rc = policy_opts(c, p)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	p->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

static int
delete_policy(struct cmd *c)
{
	const char *all = arg(c, "all");
	struct pol_policy *p;
	int rc;

	if (all != NULL) {
		bool yes = false;

		if (parse_yesno("all", all, &yes) != 0 || !yes)
			return SVC_STATIC_USAGE;
		if ((rc = args_unused(c)) != 0)
			return rc;
		while (c->store->npolicies > 0)
			pol_store_remove_policy(c->store, 0);
		c->modified = true;
		return 0;
	}
	if ((rc = find_policy(c, &p)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	pol_store_remove_policy(c->store, (size_t)(p - c->store->policies));
	c->modified = true;
	return 0;
}

/* ---- filter lists and filters ---- */

static struct pol_filterlist *
find_filterlist(struct cmd *c, const char *key)
{
	const char *name;

	if ((name = ref_name(c, key)) == NULL)
		return NULL;
	return ref_found(pol_store_filterlist_by_name(c->store, name),
	    "filter list", name);
}

static int
add_filterlist(struct cmd *c)
{
	const char *name = need(c, "name");
	struct pol_filterlist *fl, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (pol_store_filterlist_by_name(c->store, name) != NULL)
		return fail(SVC_STATIC_ERR, "filter list '%s' already exists",
		    name);
	if (pol_filterlist_init(&tmp, name) != 0)
		return enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((fl = pol_store_add_filterlist(c->store)) == NULL) {
		pol_filterlist_clear(&tmp);
		return enomem();
	}
	*fl = tmp;
	if ((rc = opt_str(c, "description", &fl->description)) != 0 ||
	    (rc = args_unused(c)) != 0)
		return rc;
	c->modified = true;
	return 0;
}

static int
set_filterlist(struct cmd *c)
{
	struct pol_filterlist *fl;
	const char *nn;
	int rc;

	if ((fl = find_filterlist(c, "name")) == NULL)
		return SVC_STATIC_ERR;
	if ((nn = arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_store_filterlist_by_name(c->store, nn), fl, &fl->name)) != 0)
		return rc;
	if ((rc = opt_str(c, "description", &fl->description)) != 0 ||
	    (rc = args_unused(c)) != 0)
		return rc;
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

/* A rule using the object with this GUID, for refusing deletions. */
static int
in_use(struct cmd *c, const struct pa_guid *id, const char *kind,
    const char *name)
{
	size_t i, j;

	for (i = 0; i < c->store->npolicies; i++)
		for (j = 0; j < c->store->policies[i].nrules; j++) {
			const struct pol_rule *r =
			    &c->store->policies[i].rules[j];

			if (pa_guid_eq(&r->filterlist_id, id) ||
			    pa_guid_eq(&r->filteraction_id, id))
				return fail(SVC_STATIC_ERR, "%s '%s' is used by "
				    "rule '%s' of policy '%s'; delete or change "
				    "the rule first", kind, name,
				    r->name ? r->name : "",
				    c->store->policies[i].name);
		}
	return 0;
}

/*
 * Before deleting n filter actions (acts) or filter lists from index
 * first: no unknown parameters, and none of them used by a rule.
 */
static int
deletable(struct cmd *c, bool acts, size_t first, size_t n)
{
	const struct pol_store *s = c->store;
	size_t i;
	int rc;

	if ((rc = args_unused(c)) != 0)
		return rc;
	for (i = first; i < first + n; i++)
		if ((rc = acts ? in_use(c, &s->filteractions[i].id,
		    "filter action", s->filteractions[i].name) :
		    in_use(c, &s->filterlists[i].id, "filter list",
		    s->filterlists[i].name)) != 0)
			return rc;
	c->modified = true;
	return 0;
}

/* delete filterlist name=N, or all=: every one (if no rule uses any). */
static int
delete_filterlist(struct cmd *c)
{
	struct pol_filterlist *fl;
	size_t first = 0, n = c->store->nfilterlists;
	int rc;

	if (arg(c, "all") == NULL) {
		if ((fl = find_filterlist(c, "name")) == NULL)
			return SVC_STATIC_ERR;
		first = (size_t)(fl - c->store->filterlists);
		n = 1;
	}
	if ((rc = deletable(c, false, first, n)) != 0)
		return rc;
	while (n-- > 0)
		pol_store_remove_filterlist(c->store, first);
	return 0;
}

/* Filter selectors from key=value; for add, defaults fill the rest. */
static int
filter_opts(struct cmd *c, struct pol_filter *f)
{
	const char *sa = arg(c, "srcaddr"), *da = arg(c, "dstaddr");
	const char *sm = arg(c, "srcmask"), *dm = arg(c, "dstmask");
	const char *pr = arg(c, "protocol");
	uint32_t port = 0;
	int rc;

	if (sa != NULL && (rc = parse_endpoint("src", sa, sm, &f->src)) != 0)
		return rc;
	if (sa == NULL && sm != NULL)
		return fail(SVC_STATIC_USAGE, "srcmask without srcaddr");
	if (da != NULL && (rc = parse_endpoint("dst", da, dm, &f->dst)) != 0)
		return rc;
	if (da == NULL && dm != NULL)
		return fail(SVC_STATIC_USAGE, "dstmask without dstaddr");
	if (pr != NULL && pol_proto_parse(pr, &f->proto) != 0)
		return fail(SVC_STATIC_ERR, "protocol=%s: expected any, icmp, "
		    "tcp, udp or a number 0-255", pr);
	if ((rc = opt_u32(c, "srcport", 0, 65535, 1, &port)) != 0)
		return rc;
	if (arg(c, "srcport") != NULL)
		f->sport = (uint16_t)port;
	if ((rc = opt_u32(c, "dstport", 0, 65535, 1, &port)) != 0)
		return rc;
	if (arg(c, "dstport") != NULL)
		f->dport = (uint16_t)port;
	if ((rc = opt_yesno(c, "mirrored", &f->mirrored)) != 0 ||
	    (rc = opt_str(c, "description", &f->description)) != 0)
		return rc;
	if ((f->sport || f->dport) && !pol_proto_has_ports(f->proto)) {
		char p[8];

		return fail(SVC_STATIC_ERR, "a port on protocol %s, which has "
		    "no ports (only tcp and udp have)",
		    pol_proto_str(f->proto, p, sizeof(p)));
	}
	if ((f->src.kind == POL_ADDR_DNS || f->dst.kind == POL_ADDR_DNS)) {
		struct pol_store one;
		struct pol_filterlist fl;
		struct pol_err err;

		/* Resolve the names now (they are kept with the results). */
		memset(&one, 0, sizeof(one));
		memset(&fl, 0, sizeof(fl));
		fl.filters = f;
		fl.nfilters = 1;
		one.filterlists = &fl;
		one.nfilterlists = 1;
		if (pol_store_resolve_names(&one, &err) != 0)
			return fail_err(&err);
	}
	return 0;
}

static int
add_filter(struct cmd *c)
{
	struct pol_filterlist *fl;
	const char *name = need(c, "filterlist");
	struct pol_filter f, *slot;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (arg(c, "srcaddr") == NULL || arg(c, "dstaddr") == NULL)
		return fail(SVC_STATIC_USAGE, "'add filter' needs srcaddr= "
		    "and dstaddr=");
	for (size_t i = 0; i < c->nkv; i++)
		if (keyeq(&c->kv[i], "srcaddr") || keyeq(&c->kv[i], "dstaddr"))
			c->kv[i].used = false;
	if (pol_filter_init(&f) != 0)
		return enomem();
	if ((rc = filter_opts(c, &f)) != 0 || (rc = args_unused(c)) != 0)
		goto out;
	/* netsh creates the filter list when it does not exist. */
	if ((fl = pol_store_filterlist_by_name(c->store, name)) == NULL) {
		struct pol_filterlist tmp;

		if (pol_filterlist_init(&tmp, name) != 0 ||
		    (fl = pol_store_add_filterlist(c->store)) == NULL) {
			rc = enomem();
			goto out;
		}
		*fl = tmp;
	}
	if ((slot = pol_filterlist_add_filter(fl)) == NULL) {
		rc = enomem();
		goto out;
	}
	*slot = f;
	memset(&f, 0, sizeof(f));
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
out:
	pol_filter_clear(&f);
	return rc;
}

static bool
endpoint_eq(const struct pol_endpoint *a, const struct pol_endpoint *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == POL_ADDR_HOST || a->kind == POL_ADDR_SUBNET)
		return a->prefix.len == b->prefix.len &&
		    pa_addr_eq(&a->prefix.addr, &b->prefix.addr);
	if (a->kind == POL_ADDR_DNS)
		return strcasecmp(a->dns, b->dns) == 0;
	return true;
}

/*
 * delete filter / set filter: the filters of a list chosen by guid= or
 * by the selectors given (srcaddr= dstaddr= protocol= srcport= dstport=).
 */
static int
select_filters(struct cmd *c, struct pol_filterlist *fl, bool *sel,
    size_t *nsel)
{
	const char *id = arg(c, "guid");
	struct pol_endpoint se, de;
	const char *sa = arg(c, "srcaddr"), *da = arg(c, "dstaddr");
	const char *sm = arg(c, "srcmask"), *dm = arg(c, "dstmask");
	const char *pr = arg(c, "protocol");
	const char *sp = arg(c, "srcport"), *dp = arg(c, "dstport");
	uint8_t proto = 0;
	uint32_t sport = 0, dport = 0;
	struct pa_guid g;
	size_t i;
	int rc = 0;

	memset(&se, 0, sizeof(se));
	memset(&de, 0, sizeof(de));
	*nsel = 0;
	if (id != NULL) {
		if ((rc = parse_guid(id, &g)) != 0)
			return rc;
		for (i = 0; i < fl->nfilters; i++)
			if ((sel[i] = pa_guid_eq(&fl->filters[i].id, &g)))
				(*nsel)++;
		goto done;
	}
	if (sa == NULL && da == NULL && pr == NULL && sp == NULL && dp == NULL)
		return fail(SVC_STATIC_USAGE, "'%s filter' needs guid= or "
		    "selectors (srcaddr= dstaddr= protocol= srcport= "
		    "dstport=)", c->verb);
	/* Compare by the parsed form, without resolving DNS names. */
	if ((sa && (rc = parse_endpoint("src", sa, sm, &se)) != 0) ||
	    (da && (rc = parse_endpoint("dst", da, dm, &de)) != 0))
		goto out;
	if (pr != NULL && pol_proto_parse(pr, &proto) != 0) {
		rc = fail(SVC_STATIC_ERR, "protocol=%s: not a protocol", pr);
		goto out;
	}
	if ((sp && (rc = parse_u32("srcport", sp, 0, 65535, &sport)) != 0) ||
	    (dp && (rc = parse_u32("dstport", dp, 0, 65535, &dport)) != 0))
		goto out;
	for (i = 0; i < fl->nfilters; i++) {
		const struct pol_filter *f = &fl->filters[i];

		sel[i] = (!sa || endpoint_eq(&f->src, &se)) &&
		    (!da || endpoint_eq(&f->dst, &de)) &&
		    (!pr || f->proto == proto) &&
		    (!sp || f->sport == sport) && (!dp || f->dport == dport);
		if (sel[i])
			(*nsel)++;
	}
done:
	if (*nsel == 0)
		rc = fail(SVC_STATIC_ERR, "no filter of '%s' matches", fl->name);
out:
	pol_endpoint_clear(&se);
	pol_endpoint_clear(&de);
	return rc;
}

static int
delete_filter(struct cmd *c)
{
	struct pol_filterlist *fl;
	bool *sel = NULL;
	size_t nsel, i;
	int rc;

	if ((fl = find_filterlist(c, "filterlist")) == NULL)
		return SVC_STATIC_ERR;
	if ((sel = calloc(fl->nfilters + 1, sizeof(*sel))) == NULL)
		return enomem();
	if ((rc = select_filters(c, fl, sel, &nsel)) != 0 ||
	    (rc = args_unused(c)) != 0)
		goto out;
	for (i = fl->nfilters; i-- > 0;)
		if (sel[i])
			pol_filterlist_remove_filter(fl, i);
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
	printf("deleted %zu filter%s from '%s'\n", nsel, nsel == 1 ? "" : "s",
	    fl->name);
out:
	free(sel);
	return rc;
}

static int
set_filter(struct cmd *c)
{
	struct pol_filterlist *fl;
	const char *id = arg(c, "guid");
	struct pa_guid g;
	size_t i;
	int rc;

	if ((fl = find_filterlist(c, "filterlist")) == NULL)
		return SVC_STATIC_ERR;
	if (id == NULL)
		return fail(SVC_STATIC_USAGE, "'set filter' needs guid= "
		    "(see show filterlist)");
	if ((rc = parse_guid(id, &g)) != 0)
		return rc;
	for (i = 0; i < fl->nfilters; i++)
		if (pa_guid_eq(&fl->filters[i].id, &g))
			break;
	if (i == fl->nfilters)
		return fail(SVC_STATIC_ERR, "filter %s is not in '%s'", id,
		    fl->name);
	if ((rc = filter_opts(c, &fl->filters[i])) != 0 ||
	    (rc = args_unused(c)) != 0)
		return rc;
	fl->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

/* ---- filter actions ---- */

static int
filteraction_opts(struct cmd *c, struct pol_filteraction *fa)
{
	const char *v;
	bool qmpfs = false, have_pfs;
	uint32_t grp = fa->pfs_group;
	size_t i;
	int rc;

	if ((v = arg(c, "action")) != NULL &&
	    pol_action_parse(v, &fa->action) != 0)
		return fail(SVC_STATIC_ERR, "action=%s: expected permit, block "
		    "or negotiate", v);
	if ((v = arg(c, "qmsecmethods")) != NULL &&
	    (rc = parse_qmsec(v, fa)) != 0)
		return rc;
	have_pfs = arg(c, "qmpfs") != NULL;
	if (have_pfs)
		for (i = 0; i < fa->noffers; i++)
			qmpfs |= fa->offers[i].pfs;
	if ((rc = opt_yesno(c, "qmpfs", &qmpfs)) != 0 ||
	    (rc = opt_yesno(c, "inpass", &fa->inpass)) != 0 ||
	    (rc = opt_yesno(c, "soft", &fa->soft)) != 0 ||
	    (rc = opt_str(c, "description", &fa->description)) != 0 ||
	    (rc = opt_u32(c, "pfsgroup", 0, 65535, 1, &grp)) != 0)
		return rc;
	if (grp != 0 && !pol_dh_group_valid((uint16_t)grp))
		return fail(SVC_STATIC_ERR, "pfsgroup=%u: unsupported group "
		    "(1, 2, 14, 19, 20)", grp);
	fa->pfs_group = (uint16_t)grp;
	if (have_pfs)
		for (i = 0; i < fa->noffers; i++)
			fa->offers[i].pfs = qmpfs;
	if (fa->action == POL_ACT_NEGOTIATE && fa->noffers == 0)
		return fail(SVC_STATIC_ERR, "action=negotiate needs "
		    "qmsecmethods= (e.g. \"ESP[3DES,SHA1]\")");
	return 0;
}

static struct pol_filteraction *
find_filteraction(struct cmd *c, const char *key)
{
	const char *name;

	if ((name = ref_name(c, key)) == NULL)
		return NULL;
	return ref_found(pol_store_filteraction_by_name(c->store, name),
	    "filter action", name);
}

static int
add_filteraction(struct cmd *c)
{
	const char *name = need(c, "name");
	struct pol_filteraction *fa, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if (pol_store_filteraction_by_name(c->store, name) != NULL)
		return fail(SVC_STATIC_ERR, "filter action '%s' already "
		    "exists", name);
	if (pol_filteraction_init(&tmp, name) != 0)
		return enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((fa = pol_store_add_filteraction(c->store)) == NULL) {
		pol_filteraction_clear(&tmp);
		return enomem();
	}
	*fa = tmp;
	if ((rc = filteraction_opts(c, fa)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	c->modified = true;
	return 0;
}

static int
set_filteraction(struct cmd *c)
{
	struct pol_filteraction *fa;
	const char *nn;
	int rc;

	if ((fa = find_filteraction(c, "name")) == NULL)
		return SVC_STATIC_ERR;
	if ((nn = arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_store_filteraction_by_name(c->store, nn), fa, &fa->name)) != 0)
		return rc;
	if ((rc = filteraction_opts(c, fa)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	fa->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

/* delete filteraction name=N, or all=: every one (if no rule uses any). */
static int
delete_filteraction(struct cmd *c)
{
	struct pol_filteraction *fa;
	size_t first = 0, n = c->store->nfilteractions;
	int rc;

	if (arg(c, "all") == NULL) {
		if ((fa = find_filteraction(c, "name")) == NULL)
			return SVC_STATIC_ERR;
		first = (size_t)(fa - c->store->filteractions);
		n = 1;
	}
	if ((rc = deletable(c, true, first, n)) != 0)
		return rc;
	while (n-- > 0)
		pol_store_remove_filteraction(c->store, first);
	return 0;
}

/* ---- rules ---- */

/* Authentication methods in the order typed: kerberos= psk= rootca=. */
static int
rule_auth(struct cmd *c, struct pol_rule *r)
{
	struct pol_auth *v = NULL;
	size_t n = 0, i;
	bool any = false;
	int rc = 0;

	for (i = 0; i < c->nkv; i++) {
		struct kv *kv = &c->kv[i];
		struct pol_auth a;
		bool yes = false;

		memset(&a, 0, sizeof(a));
		if (keyeq(kv, "kerberos")) {
			kv->used = any = true;
			if (parse_yesno("kerberos", kv->val, &yes) != 0) {
				rc = SVC_STATIC_ERR;
				goto out;
			}
			if (!yes)
				continue;
			a.kind = POL_AUTH_KERBEROS;
		} else if (keyeq(kv, "psk")) {
			kv->used = any = true;
			if (kv->val[0] == '\0') {
				rc = fail(SVC_STATIC_ERR, "psk= is empty");
				goto out;
			}
			a.kind = POL_AUTH_PSK;
			if ((a.psk = pa_secret_new(kv->val,
			    strlen(kv->val))) == NULL) {
				rc = enomem();
				goto out;
			}
		} else if (keyeq(kv, "rootca")) {
			kv->used = any = true;
			if (kv->val[0] == '\0') {
				rc = fail(SVC_STATIC_ERR, "rootca= is empty");
				goto out;
			}
			a.kind = POL_AUTH_CERT;
			if ((a.ca_dn = strdup(kv->val)) == NULL) {
				rc = enomem();
				goto out;
			}
		} else
			continue;
		{
			struct pol_auth *nv = realloc(v, (n + 1) * sizeof(*v));

			if (nv == NULL) {
				pol_auth_clear(&a);
				rc = enomem();
				goto out;
			}
			v = nv;
			v[n++] = a;
		}
	}
	if (!any)
		return 0;
	for (i = 0; i < r->nauth; i++)
		pol_auth_clear(&r->auth[i]);
	free(r->auth);
	r->auth = v;
	r->nauth = n;
	v = NULL;
	n = 0;
out:
	for (i = 0; i < n; i++)
		pol_auth_clear(&v[i]);
	free(v);
	return rc;
}

static int
rule_opts(struct cmd *c, struct pol_rule *r)
{
	const char *v;
	struct pol_filterlist *fl;
	struct pol_filteraction *fa;
	int rc;

	if (arg(c, "filterlist") != NULL) {
		if ((fl = find_filterlist(c, "filterlist")) == NULL)
			return SVC_STATIC_ERR;
		r->filterlist_id = fl->id;
	}
	if (arg(c, "filteraction") != NULL) {
		if ((fa = find_filteraction(c, "filteraction")) == NULL)
			return SVC_STATIC_ERR;
		r->filteraction_id = fa->id;
	}
	if ((v = arg(c, "tunnel")) != NULL) {
		if (*v == '\0' || strcasecmp(v, "none") == 0)
			memset(&r->tunnel, 0, sizeof(r->tunnel));
		else if (pa_addr_parse(v, &r->tunnel) != 0)
			return fail(SVC_STATIC_ERR, "tunnel=%s: not an IPv4 or "
			    "IPv6 address", v);
	}
	if ((v = arg(c, "conntype")) != NULL &&
	    pol_conntype_parse(v, &r->conntype) != 0)
		return fail(SVC_STATIC_ERR, "conntype=%s: expected all, lan or "
		    "remote", v);
	if ((rc = opt_yesno(c, "activate", &r->active)) != 0 ||
	    (rc = opt_str(c, "description", &r->description)) != 0 ||
	    (rc = rule_auth(c, r)) != 0)
		return rc;
	return 0;
}

static struct pol_rule *
find_rule(struct cmd *c, struct pol_policy *p)
{
	const char *name, *id;
	struct pa_guid g;
	size_t i;

	if (name_or_guid(c, &name, &id, &g) != 0)
		return NULL;
	if (id == NULL) {
		struct pol_rule *r = pol_policy_rule_by_name(p, name);

		if (r != NULL)
			return r;
	} else
		for (i = 0; i < p->nrules; i++)
			if (pa_guid_eq(&p->rules[i].id, &g))
				return &p->rules[i];
	fail(SVC_STATIC_ERR, "policy '%s' has no rule '%s'", p->name,
	    id ? id : name);
	return NULL;
}

static struct pol_policy *
rule_policy(struct cmd *c)
{
	const char *name;

	if ((name = ref_name(c, "policy")) == NULL)
		return NULL;
	return ref_found(pol_store_policy_by_name(c->store, name), "policy",
	    name);
}

static int
add_rule(struct cmd *c)
{
	const char *name = need(c, "name");
	struct pol_policy *p;
	struct pol_rule *r, tmp;
	int rc;

	if (name == NULL)
		return SVC_STATIC_USAGE;
	if ((p = rule_policy(c)) == NULL)
		return SVC_STATIC_ERR;
	if (arg(c, "filterlist") == NULL || arg(c, "filteraction") == NULL)
		return fail(SVC_STATIC_USAGE, "'add rule' needs filterlist= "
		    "and filteraction=");
	if (pol_policy_rule_by_name(p, name) != NULL)
		return fail(SVC_STATIC_ERR, "policy '%s' already has a rule "
		    "'%s'", p->name, name);
	if (pol_rule_init(&tmp, name) != 0)
		return enomem();
	tmp.changed = (int64_t)time(NULL);
	if ((r = pol_policy_add_rule(p)) == NULL) {
		pol_rule_clear(&tmp);
		return enomem();
	}
	*r = tmp;
	if ((rc = rule_opts(c, r)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	/* netsh's default: Kerberos when no method is given. */
	if (r->nauth == 0) {
		struct pol_auth *a = pol_rule_add_auth(r);

		if (a == NULL)
			return enomem();
		a->kind = POL_AUTH_KERBEROS;
	}
	c->modified = true;
	return 0;
}

static int
set_rule(struct cmd *c)
{
	struct pol_policy *p;
	struct pol_rule *r;
	const char *nn;
	int rc;

	if ((p = rule_policy(c)) == NULL || (r = find_rule(c, p)) == NULL)
		return SVC_STATIC_ERR;
	if ((nn = arg(c, "newname")) != NULL && (rc = rename_to(nn,
	    pol_policy_rule_by_name(p, nn), r, &r->name)) != 0)
		return rc;
	if ((rc = rule_opts(c, r)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	r->changed = (int64_t)time(NULL);
	c->modified = true;
	return 0;
}

static int
delete_rule(struct cmd *c)
{
	struct pol_policy *p;
	struct pol_rule *r;
	const char *all;
	int rc;

	if ((p = rule_policy(c)) == NULL)
		return SVC_STATIC_ERR;
	if ((all = arg(c, "all")) != NULL) {
		size_t i;

		if ((rc = args_unused(c)) != 0)
			return rc;
		/* The default response rule stays. */
		for (i = p->nrules; i-- > 0;)
			if (!p->rules[i].default_response)
				pol_policy_remove_rule(p, i);
		c->modified = true;
		return 0;
	}
	if ((r = find_rule(c, p)) == NULL)
		return SVC_STATIC_ERR;
	if ((rc = args_unused(c)) != 0)
		return rc;
	pol_policy_remove_rule(p, (size_t)(r - p->rules));
	c->modified = true;
	return 0;
}

/* ---- show: text ---- */

/* A key as typed if it is printable ASCII, else "hex:..." (malloc'd). */
static char *
key_text(const struct pa_secret *k)
{
	size_t i, cap = k->len * 2 + 5;
	bool plain = true;
	char *s;

	for (i = 0; i < k->len; i++)
		if (k->p[i] < 0x20 || k->p[i] > 0x7e || k->p[i] == '"')
			plain = false;
	if ((s = malloc(cap)) == NULL)
		return NULL;
	if (plain) {
		memcpy(s, k->p, k->len);
		s[k->len] = '\0';
	} else {
		memcpy(s, "hex:", 4);
		pa_hex_encode(k->p, k->len, s + 4, cap - 4);
	}
	return s;
}

static void
show_auth_text(const struct pol_auth *a, bool keys)
{
	switch (a->kind) {
	case POL_AUTH_KERBEROS:
		printf("kerberos");
		break;
	case POL_AUTH_CERT:
		printf("certificate (CA \"%s\")", a->ca_dn ? a->ca_dn : "");
		break;
	case POL_AUTH_PSK:
		if (keys && a->psk != NULL) {
			char *t = key_text(a->psk);

			printf("preshared key \"%s\"", t ? t : "?");
			if (t != NULL) {
				pa_wipe(t, strlen(t));
				free(t);
			}
		} else
			printf("preshared key (hidden)");
		break;
	}
}

static void
show_filterlist_text(const struct pol_filterlist *fl)
{
	char g[PA_GUIDSTRLEN], f[600];
	size_t i;

	printf("Filter list      : %s\n", fl->name ? fl->name : "");
	printf("  GUID           : %s\n", pa_guid_str(&fl->id, g));
	if (fl->description)
		printf("  Description    : %s\n", fl->description);
	printf("  Filters        : %zu\n", fl->nfilters);
	for (i = 0; i < fl->nfilters; i++) {
		fmt_filter(&fl->filters[i], f, sizeof(f));
		printf("    %zu. %s  %s\n", i + 1, f,
		    pa_guid_str(&fl->filters[i].id, g));
	}
}

static void
show_filteraction_text(const struct pol_filteraction *fa)
{
	char g[PA_GUIDSTRLEN], o[96];
	size_t i;

	printf("Filter action    : %s\n", fa->name ? fa->name : "");
	printf("  GUID           : %s\n", pa_guid_str(&fa->id, g));
	if (fa->description)
		printf("  Description    : %s\n", fa->description);
	printf("  Action         : %s\n", pol_action_name(fa->action));
	if (fa->action == POL_ACT_NEGOTIATE) {
		printf("  Inbound pass-through (inpass): %s\n",
		    fa->inpass ? "yes" : "no");
		printf("  Fall back to clear (soft)    : %s\n",
		    fa->soft ? "yes" : "no");
		if (fa->pfs_group)
			printf("  QM PFS group   : %u\n",
			    (unsigned)fa->pfs_group);
		for (i = 0; i < fa->noffers; i++) {
			fmt_offer(&fa->offers[i], o, sizeof(o));
			printf("  Method %zu       : %s\n", i + 1, o);
		}
	}
}

static void
show_rule_text(const struct pol_rule *r, size_t n, bool keys)
{
	char g[PA_GUIDSTRLEN], a[PA_ADDRSTRLEN];
	size_t i;

	printf("  Rule %zu: %s%s\n", n, r->name ? r->name : "",
	    r->default_response ? " (default response)" : "");
	printf("    GUID         : %s\n", pa_guid_str(&r->id, g));
	if (r->description)
		printf("    Description  : %s\n", r->description);
	printf("    Active       : %s\n", r->active ? "yes" : "no");
	printf("    Filter list  : %s\n", r->filterlist ?
	    r->filterlist->name : "(none)");
	printf("    Filter action: %s%s%s%s\n", r->filteraction ?
	    r->filteraction->name : "?", r->filteraction ? " (" : "",
	    r->filteraction ? pol_action_name(r->filteraction->action) : "",
	    r->filteraction ? ")" : "");
	printf("    Tunnel       : %s\n", r->tunnel.family ?
	    pa_addr_str(&r->tunnel, a, sizeof(a)) : "none (transport)");
	printf("    Connection   : %s\n", pol_conntype_name(r->conntype));
	printf("    Authentication:");
	for (i = 0; i < r->nauth; i++) {
		printf(i ? ", " : " ");
		show_auth_text(&r->auth[i], keys);
	}
	printf("\n");
}

static void
show_policy_text(const struct pol_policy *p, bool keys)
{
	char g[PA_GUIDSTRLEN];
	size_t i;

	printf("Policy           : %s\n", p->name);
	printf("  GUID           : %s\n", pa_guid_str(&p->id, g));
	if (p->description)
		printf("  Description    : %s\n", p->description);
	printf("  Assigned       : %s\n", p->assigned ? "YES" : "no");
	printf("  Polling        : %u minutes\n", p->poll_sec / 60);
	printf("  Default response rule: %s\n",
	    p->activate_default_rule ? "active" : "inactive");
	if (p->isakmp.qm_per_mm)
		snprintf(g, sizeof(g), "%u", p->isakmp.qm_per_mm);
	else
		snprintf(g, sizeof(g), "unlimited");
	printf("  Main Mode      : lifetime %u minutes, QM per MM %s, "
	    "master PFS %s\n", p->isakmp.mm_life_sec / 60, g,
	    p->isakmp.master_pfs ? "yes" : "no");
	printf("  MM methods     :");
	for (i = 0; i < p->isakmp.nmethods; i++)
		printf(" %s-%s-%u", pol_mm_cipher_name(p->isakmp.methods[i].
		    cipher), pol_integ_name(p->isakmp.methods[i].hash),
		    (unsigned)p->isakmp.methods[i].dh_group);
	printf("\n  Rules          : %zu\n", p->nrules);
	for (i = 0; i < p->nrules; i++)
		show_rule_text(&p->rules[i], i + 1, keys);
}

/* ---- show: JSON ---- */

static json_t *
guid_json(const struct pa_guid *g)
{
	char b[PA_GUIDSTRLEN];

	return json_string(pa_guid_str(g, b));
}

static json_t *
endpoint_json(const struct pol_endpoint *e)
{
	json_t *o = json_object(), *r;
	char b[PA_ADDRSTRLEN];
	size_t i;

	json_object_set_new(o, "kind", json_string(pol_addr_kind_name(
	    e->kind)));
	if (e->kind == POL_ADDR_HOST || e->kind == POL_ADDR_SUBNET) {
		json_object_set_new(o, "address", json_string(pa_addr_str(
		    &e->prefix.addr, b, sizeof(b))));
		json_object_set_new(o, "prefix", json_integer(e->prefix.len));
	}
	if (e->kind == POL_ADDR_DNS) {
		json_object_set_new(o, "dns", json_string(e->dns));
		r = json_array();
		for (i = 0; i < e->nresolved; i++)
			json_array_append_new(r, json_string(pa_addr_str(
			    &e->resolved[i], b, sizeof(b))));
		json_object_set_new(o, "resolved", r);
	}
	return o;
}

static json_t *
filterlist_json(const struct pol_filterlist *fl)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	json_object_set_new(o, "guid", guid_json(&fl->id));
	json_object_set_new(o, "name", json_string(fl->name ? fl->name : ""));
	if (fl->description)
		json_object_set_new(o, "description",
		    json_string(fl->description));
	for (i = 0; i < fl->nfilters; i++) {
		const struct pol_filter *f = &fl->filters[i];
		json_t *x = json_object();

		json_object_set_new(x, "guid", guid_json(&f->id));
		json_object_set_new(x, "src", endpoint_json(&f->src));
		json_object_set_new(x, "dst", endpoint_json(&f->dst));
		json_object_set_new(x, "protocol", json_integer(f->proto));
		json_object_set_new(x, "srcport", json_integer(f->sport));
		json_object_set_new(x, "dstport", json_integer(f->dport));
		json_object_set_new(x, "mirrored", json_boolean(f->mirrored));
		if (f->description)
			json_object_set_new(x, "description",
			    json_string(f->description));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "filters", a);
	return o;
}

static json_t *
filteraction_json(const struct pol_filteraction *fa)
{
	json_t *o = json_object(), *a = json_array();
	char b[96];
	size_t i;

	json_object_set_new(o, "guid", guid_json(&fa->id));
	json_object_set_new(o, "name", json_string(fa->name ? fa->name : ""));
	if (fa->description)
		json_object_set_new(o, "description",
		    json_string(fa->description));
	json_object_set_new(o, "action", json_string(pol_action_name(
	    fa->action)));
	json_object_set_new(o, "inpass", json_boolean(fa->inpass));
	json_object_set_new(o, "soft", json_boolean(fa->soft));
	json_object_set_new(o, "pfsgroup", json_integer(fa->pfs_group));
	for (i = 0; i < fa->noffers; i++) {
		const struct pol_qm_offer *q = &fa->offers[i];
		json_t *x = json_object();

		fmt_offer(q, b, sizeof(b));
		json_object_set_new(x, "text", json_string(b));
		if (q->ah)
			json_object_set_new(x, "ah", json_string(
			    pol_integ_name(q->ah_integ)));
		if (q->esp) {
			json_object_set_new(x, "esp", json_string(
			    pol_esp_cipher_name(q->esp_cipher)));
			json_object_set_new(x, "espIntegrity", json_string(
			    pol_integ_name(q->esp_integ)));
		}
		json_object_set_new(x, "lifeSeconds",
		    json_integer(q->life_sec));
		json_object_set_new(x, "lifeKilobytes",
		    json_integer(q->life_kb));
		json_object_set_new(x, "pfs", json_boolean(q->pfs));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "qmsecmethods", a);
	return o;
}

static json_t *
rule_json(const struct pol_rule *r, bool keys)
{
	json_t *o = json_object(), *a = json_array();
	char b[PA_ADDRSTRLEN];
	size_t i;

	json_object_set_new(o, "guid", guid_json(&r->id));
	json_object_set_new(o, "name", json_string(r->name ? r->name : ""));
	if (r->description)
		json_object_set_new(o, "description",
		    json_string(r->description));
	json_object_set_new(o, "active", json_boolean(r->active));
	json_object_set_new(o, "defaultResponse",
	    json_boolean(r->default_response));
	json_object_set_new(o, "filterlist", r->filterlist ?
	    json_string(r->filterlist->name) : json_null());
	json_object_set_new(o, "filteraction", r->filteraction ?
	    json_string(r->filteraction->name) : json_null());
	json_object_set_new(o, "tunnel", r->tunnel.family ?
	    json_string(pa_addr_str(&r->tunnel, b, sizeof(b))) : json_null());
	json_object_set_new(o, "conntype", json_string(pol_conntype_name(
	    r->conntype)));
	for (i = 0; i < r->nauth; i++) {
		const struct pol_auth *x = &r->auth[i];
		json_t *j = json_object();

		json_object_set_new(j, "kind", json_string(pol_auth_kind_name(
		    x->kind)));
		if (x->kind == POL_AUTH_CERT)
			json_object_set_new(j, "ca", json_string(x->ca_dn));
		if (x->kind == POL_AUTH_PSK && keys && x->psk != NULL) {
			char *t = key_text(x->psk);

			json_object_set_new(j, "key", t ? json_string(t) :
			    json_null());
			if (t != NULL) {
				pa_wipe(t, strlen(t));
				free(t);
			}
		}
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "auth", a);
	return o;
}

static json_t *
policy_json(const struct pol_policy *p, bool keys)
{
	json_t *o = json_object(), *m = json_array(), *r = json_array();
	char b[64];
	size_t i;

	json_object_set_new(o, "guid", guid_json(&p->id));
	json_object_set_new(o, "name", json_string(p->name));
	if (p->description)
		json_object_set_new(o, "description",
		    json_string(p->description));
	json_object_set_new(o, "assigned", json_boolean(p->assigned));
	json_object_set_new(o, "pollingSeconds", json_integer(p->poll_sec));
	json_object_set_new(o, "activateDefaultRule",
	    json_boolean(p->activate_default_rule));
	json_object_set_new(o, "mmLifetimeSeconds",
	    json_integer(p->isakmp.mm_life_sec));
	json_object_set_new(o, "qmPerMm", json_integer(p->isakmp.qm_per_mm));
	json_object_set_new(o, "masterPfs",
	    json_boolean(p->isakmp.master_pfs));
	for (i = 0; i < p->isakmp.nmethods; i++) {
		snprintf(b, sizeof(b), "%s-%s-%u",
		    pol_mm_cipher_name(p->isakmp.methods[i].cipher),
		    pol_integ_name(p->isakmp.methods[i].hash),
		    (unsigned)p->isakmp.methods[i].dh_group);
		json_array_append_new(m, json_string(b));
	}
	json_object_set_new(o, "mmsecmethods", m);
	for (i = 0; i < p->nrules; i++)
		json_array_append_new(r, rule_json(&p->rules[i], keys));
	json_object_set_new(o, "rules", r);
	return o;
}

static int
json_out(json_t *j)
{
	int rc;

	if (j == NULL)
		return enomem();
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
	return rc == 0 ? 0 : fail(SVC_STATIC_ERR, "cannot write JSON");
}

static int
cmd_show(struct cmd *c)
{
	const char *name = NULL, *pol;
	bool keys = false, all;
	struct pol_err err;
	json_t *j = NULL, *a;
	size_t i;
	int rc, n = 0;

	if ((rc = opt_yesno(c, "showsecrets", &keys)) != 0)
		return rc;
	if (c->obj == NULL || strcmp(c->obj, "all") == 0) {
		if ((rc = args_unused(c)) != 0)
			return rc;
		if (c->json) {
			j = json_object();
			a = json_array();
			for (i = 0; i < c->store->npolicies; i++)
				json_array_append_new(a, policy_json(
				    &c->store->policies[i], keys));
			json_object_set_new(j, "policies", a);
			a = json_array();
			for (i = 0; i < c->store->nfilterlists; i++)
				json_array_append_new(a, filterlist_json(
				    &c->store->filterlists[i]));
			json_object_set_new(j, "filterlists", a);
			a = json_array();
			for (i = 0; i < c->store->nfilteractions; i++)
				json_array_append_new(a, filteraction_json(
				    &c->store->filteractions[i]));
			json_object_set_new(j, "filteractions", a);
			return json_out(j);
		}
		for (i = 0; i < c->store->npolicies; i++) {
			show_policy_text(&c->store->policies[i], keys);
			printf("\n");
		}
		for (i = 0; i < c->store->nfilterlists; i++) {
			show_filterlist_text(&c->store->filterlists[i]);
			printf("\n");
		}
		for (i = 0; i < c->store->nfilteractions; i++) {
			show_filteraction_text(&c->store->filteractions[i]);
			printf("\n");
		}
		if (c->store->npolicies + c->store->nfilterlists +
		    c->store->nfilteractions == 0)
			printf("The store is empty.\n");
		return 0;
	}
	(void)err;
	if (strcmp(c->obj, "filter") == 0) {
		/* show filter filterlist=NAME: the filters of one list */
		struct pol_filterlist *fl = find_filterlist(c, "filterlist");

		if (fl == NULL)
			return SVC_STATIC_ERR;
		if ((rc = args_unused(c)) != 0)
			return rc;
		if (c->json)
			return json_out(filterlist_json(fl));
		show_filterlist_text(fl);
		return 0;
	}
	name = arg(c, "name");
	all = name == NULL || strcasecmp(name, "all") == 0;
	if (arg(c, "all") != NULL)
		all = true;
	pol = arg(c, "policy");
	if ((rc = args_unused(c)) != 0)
		return rc;
	a = json_array();
	if (strcmp(c->obj, "policy") == 0) {
		for (i = 0; i < c->store->npolicies; i++) {
			const struct pol_policy *p = &c->store->policies[i];

			if (!all && strcmp(p->name, name) != 0)
				continue;
			n++;
			if (c->json)
				json_array_append_new(a, policy_json(p, keys));
			else
				show_policy_text(p, keys);
		}
	} else if (strcmp(c->obj, "filterlist") == 0) {
		for (i = 0; i < c->store->nfilterlists; i++) {
			const struct pol_filterlist *fl =
			    &c->store->filterlists[i];

			if (!all && (fl->name == NULL ||
			    strcmp(fl->name, name) != 0))
				continue;
			n++;
			if (c->json)
				json_array_append_new(a, filterlist_json(fl));
			else
				show_filterlist_text(fl);
		}
	} else if (strcmp(c->obj, "filteraction") == 0) {
		for (i = 0; i < c->store->nfilteractions; i++) {
			const struct pol_filteraction *fa =
			    &c->store->filteractions[i];

			if (!all && (fa->name == NULL ||
			    strcmp(fa->name, name) != 0))
				continue;
			n++;
			if (c->json)
				json_array_append_new(a, filteraction_json(fa));
			else
				show_filteraction_text(fa);
		}
	} else if (strcmp(c->obj, "rule") == 0) {
		for (i = 0; i < c->store->npolicies; i++) {
			const struct pol_policy *p = &c->store->policies[i];
			size_t k;

			if (pol != NULL && strcmp(p->name, pol) != 0)
				continue;
			for (k = 0; k < p->nrules; k++) {
				const struct pol_rule *r = &p->rules[k];

				if (!all && (r->name == NULL ||
				    strcmp(r->name, name) != 0))
					continue;
				n++;
				if (c->json) {
					json_t *x = rule_json(r, keys);

					json_object_set_new(x, "policy",
					    json_string(p->name));
					json_array_append_new(a, x);
				} else {
					printf("Policy %s\n", p->name);
					show_rule_text(r, k + 1, keys);
				}
			}
		}
	} else {
		json_decref(a);
		return fail(SVC_STATIC_USAGE, "show what? (all, policy, "
		    "filterlist, filter, filteraction, rule)");
	}
	if (!all && n == 0) {
		json_decref(a);
		return fail(SVC_STATIC_ERR, "no %s named '%s'", c->obj, name);
	}
	if (c->json)
		return json_out(a);
	json_decref(a);
	return 0;
}

/* ---- export / import ---- */

/* format=xml (default) or format=ldif; PA_E_INVAL for anything else. */
static int
arg_format(struct cmd *c, bool *ldif)
{
	const char *fmt = arg(c, "format");

	*ldif = false;
	if (fmt == NULL || strcasecmp(fmt, "xml") == 0)
		return 0;
	if (strcasecmp(fmt, "ldif") == 0) {
		*ldif = true;
		return 0;
	}
	return fail(SVC_STATIC_USAGE, "format must be xml or ldif, not '%s'",
	    fmt);
}

static int
cmd_export(struct cmd *c)
{
	const char *file = arg(c, "file");
	struct exp_ldif_opts lo;
	struct pol_err err;
	bool ldif;
	int rc;

	if (file == NULL || *file == '\0')
		return fail(SVC_STATIC_USAGE, "'exportpolicy' needs file=");
	if ((rc = arg_format(c, &ldif)) != 0)
		return rc;
	if (ldif) {
		memset(&lo, 0, sizeof(lo));
		lo.base = arg(c, "base");
		lo.policy = arg(c, "policy");
		lo.gpo = arg(c, "gpo");
		lo.gpo_name = arg(c, "gponame");
		lo.link_dn = arg(c, "link");
		if (lo.base == NULL || *lo.base == '\0')
			return fail(SVC_STATIC_USAGE, "'exportpolicy "
			    "format=ldif' needs base= (the domain DN, e.g. "
			    "base=DC=corp,DC=example)");
		if ((rc = args_unused(c)) != 0)
			return rc;
		if (exp_ldif_export(c->store, &lo, file, &err) != 0)
			return fail_err(&err);
		printf("exported policy %s%s%s as LDIF to %s\n",
		    lo.policy != NULL ? "'" : "(the assigned one)",
		    lo.policy != NULL ? lo.policy : "",
		    lo.policy != NULL ? "'" : "", file);
		return 0;
	}
	if ((rc = args_unused(c)) != 0)
		return rc;
	if (exp_xml_export(c->store, file, &err) != 0)
		return fail_err(&err);
	printf("exported %zu polic%s, %zu filter list%s, %zu filter "
	    "action%s to %s\n", c->store->npolicies,
	    c->store->npolicies == 1 ? "y" : "ies", c->store->nfilterlists,
	    c->store->nfilterlists == 1 ? "" : "s", c->store->nfilteractions,
	    c->store->nfilteractions == 1 ? "" : "s", file);
	return 0;
}

static int
cmd_import(struct cmd *c)
{
	const char *file = arg(c, "file");
	struct pol_store *in = NULL;
	struct pol_err err;
	size_t added = 0, replaced = 0;
	bool ldif;
	int rc;

	if (file == NULL || *file == '\0')
		return fail(SVC_STATIC_USAGE, "'importpolicy' needs file=");
	if ((rc = arg_format(c, &ldif)) != 0 || (rc = args_unused(c)) != 0)
		return rc;
	if (ldif ? exp_ldif_import(file, &in, &err) != 0 :
	    exp_xml_import(file, c->secrets_path, &in, &err) != 0)
		return fail_err(&err);
	rc = exp_xml_merge(c->store, in, &added, &replaced, &err);
	pol_store_free(in);
	if (rc != 0)
		return fail_err(&err);
	c->modified = true;
	printf("imported from %s: %zu object%s added, %zu replaced\n", file,
	    added, added == 1 ? "" : "s", replaced);
	return 0;
}

/* ---- static ---- */

static int
static_run(struct cmd *c)
{
	static const struct {
		const char	*verb;
		const char	*obj;
		int		(*fn)(struct cmd *);
	} tab[] = {
		{ "add", "policy", add_policy },
		{ "add", "filterlist", add_filterlist },
		{ "add", "filter", add_filter },
		{ "add", "filteraction", add_filteraction },
		{ "add", "rule", add_rule },
		{ "set", "policy", set_policy },
		{ "set", "filterlist", set_filterlist },
		{ "set", "filter", set_filter },
		{ "set", "filteraction", set_filteraction },
		{ "set", "rule", set_rule },
		{ "delete", "policy", delete_policy },
		{ "delete", "filterlist", delete_filterlist },
		{ "delete", "filter", delete_filter },
		{ "delete", "filteraction", delete_filteraction },
		{ "delete", "rule", delete_rule },
	};
	size_t i;

	if (strcmp(c->verb, "show") == 0)
		return cmd_show(c);
	if (strcmp(c->verb, "exportpolicy") == 0)
		return cmd_export(c);
	if (strcmp(c->verb, "importpolicy") == 0)
		return cmd_import(c);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].verb, c->verb) == 0 && c->obj != NULL &&
		    strcmp(tab[i].obj, c->obj) == 0)
			return tab[i].fn(c);
	return fail(SVC_STATIC_USAGE, "unknown command 'static %s%s%s'",
	    c->verb, c->obj ? " " : "", c->obj ? c->obj : "");
}

static void
static_usage(void)
{
	fprintf(stderr,
	    "usage: ipseccmd static add|set|delete policy|filterlist|filter|"
	    "filteraction|rule key=value...\n"
	    "       ipseccmd static show all|policy|filterlist|filter|"
	    "filteraction|rule [name=N] [--json]\n"
	    "       ipseccmd static exportpolicy|importpolicy file=F [format=xml|ldif]\n"
	    "           (ldif export: base=DN [policy=P gpo={GUID} gponame=N link=DN])\n"
	    "       ipseccmd match src=A dst=B [proto=P] [srcport=N] "
	    "[dstport=N] [dir=out|in] [myaddr=A,B] [--json]\n"
	    "(docs/policy.md lists every key)\n");
}

/* ---- match ---- */

static int
parse_myaddrs(const char *v, struct pa_addr **out, size_t *n)
{
	char *copy, *tok, *save = NULL;
	struct pa_addr *a = NULL, *na;
	size_t k = 0;

	if ((copy = strdup(v)) == NULL)
		return enomem();
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((na = realloc(a, (k + 1) * sizeof(*a))) == NULL) {
			free(a);
			free(copy);
			return enomem();
		}
		a = na;
		if (pa_addr_parse(tok, &a[k]) != 0) {
			free(a);
			free(copy);
			return fail(SVC_STATIC_ERR, "myaddr: '%s' is not an "
			    "address", tok);
		}
		k++;
	}
	free(copy);
	*out = a;
	*n = k;
	return 0;
}

static bool
is_local(const struct pa_addr *a, const struct pa_addr *my, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pa_addr_eq(a, &my[i]))
			return true;
	return false;
}

static bool
entry_matches(const struct pol_spd_entry *e, const struct pol_pkt *k)
{
	bool ports = pol_proto_has_ports(k->proto);

	return e->dir == k->dir && e->src.addr.family == k->src.family &&
	    pa_prefix_contains(&e->src, &k->src) &&
	    pa_prefix_contains(&e->dst, &k->dst) &&
	    (e->proto == 0 || e->proto == k->proto) &&
	    (e->sport == 0 || (ports && e->sport == k->sport)) &&
	    (e->dport == 0 || (ports && e->dport == k->dport));
}

static void
fmt_entry(const struct pol_spd_entry *e, char *buf, size_t cap)
{
	char s[PA_PREFIXSTRLEN], d[PA_PREFIXSTRLEN], p[8];

	snprintf(buf, cap, "#%u %s %s -> %s %s sport %u dport %u",
	    e->index, pol_dir_name(e->dir), pa_prefix_str(&e->src, s,
	    sizeof(s)), pa_prefix_str(&e->dst, d, sizeof(d)),
	    pol_proto_str(e->proto, p, sizeof(p)), (unsigned)e->sport,
	    (unsigned)e->dport);
}

static int
cmd_match(struct cmd *c)
{
	const char *src = arg(c, "src"), *dst = arg(c, "dst");
	const char *pr = arg(c, "proto"), *dir = arg(c, "dir");
	const char *my = arg(c, "myaddr");
	const struct pol_policy *p;
	const struct pol_spd_entry *e;
	struct pa_addr *addrs = NULL;
	struct pol_spd *spd = NULL;
	struct pol_err err;
	struct pol_pkt k;
	size_t naddrs = 0, i, nother = 0;
	uint32_t port = 0;
	char why[256], ent[256], f[600], o[96];
	int rc;

	memset(&k, 0, sizeof(k));
	if (pr == NULL)
		pr = arg(c, "protocol");
	if (src == NULL || dst == NULL) {
		static_usage();
		return fail(SVC_STATIC_USAGE, "'match' needs src= and dst=");
	}
	if (pa_addr_parse(src, &k.src) != 0 || pa_addr_parse(dst, &k.dst) != 0)
		return fail(SVC_STATIC_ERR, "src= and dst= must be IPv4 or "
		    "IPv6 addresses");
	if (k.src.family != k.dst.family)
		return fail(SVC_STATIC_ERR, "src= and dst= mix IPv4 and IPv6");
	if (pr != NULL && pol_proto_parse(pr, &k.proto) != 0)
		return fail(SVC_STATIC_ERR, "proto=%s: expected any, icmp, tcp, "
		    "udp or a number 0-255", pr);
	if ((rc = opt_u32(c, "srcport", 0, 65535, 1, &port)) != 0)
		return rc;
	k.sport = arg(c, "srcport") ? (uint16_t)port : 0;
	if ((rc = opt_u32(c, "dstport", 0, 65535, 1, &port)) != 0)
		return rc;
	k.dport = arg(c, "dstport") ? (uint16_t)port : 0;
	if ((k.sport || k.dport) && !pol_proto_has_ports(k.proto))
		return fail(SVC_STATIC_ERR, "a port on a protocol without "
		    "ports (only tcp and udp have)");
	if ((rc = args_unused(c)) != 0)
		return rc;
	if (my != NULL)
		rc = parse_myaddrs(my, &addrs, &naddrs);
	else if (pol_local_addrs(&addrs, &naddrs) != 0)
		rc = fail(SVC_STATIC_ERR, "cannot list this host's addresses");
	if (rc != 0)
		return rc;
	if (dir != NULL) {
		if (strcasecmp(dir, "out") == 0)
			k.dir = POL_DIR_OUT;
		else if (strcasecmp(dir, "in") == 0)
			k.dir = POL_DIR_IN;
		else {
			rc = fail(SVC_STATIC_ERR, "dir=%s: expected out or in",
			    dir);
			goto out;
		}
	} else
		k.dir = is_local(&k.dst, addrs, naddrs) &&
		    !is_local(&k.src, addrs, naddrs) ? POL_DIR_IN : POL_DIR_OUT;
	if ((p = pol_store_assigned(c->store)) == NULL) {
		if (c->json)
			rc = json_out(json_pack("{s:b,s:s}", "matched", 0,
			    "reason", "no policy is assigned"));
		else
			printf("No policy is assigned: no filter applies, the "
			    "traffic passes in clear.\n");
		goto out;
	}
	/* DNS filters: resolve now, as the service does when it loads. */
	if (pol_store_resolve_names(c->store, &err) != 0)
		fprintf(stderr, "ipseccmd: warning: %s: %s; using the "
		    "addresses of the last resolution\n", err.where, err.what);
	if (pol_spd_compile(p, addrs, naddrs, &spd, &err) != 0) {
		rc = fail_err(&err);
		goto out;
	}
	e = pol_spd_match(spd, &k);
	/* What else matched, for the explanation (not the data path). */
	for (i = 0; e != NULL && i < pol_spd_count(spd); i++)
		if (i != e->index && entry_matches(pol_spd_entry_at(spd, i), &k))
			nother++;
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "policy", json_string(p->name));
		json_object_set_new(j, "direction", json_string(
		    pol_dir_name(k.dir)));
		json_object_set_new(j, "matched", json_boolean(e != NULL));
		if (e != NULL) {
			fmt_entry(e, ent, sizeof(ent));
			fmt_filter(e->filter, f, sizeof(f));
			pol_spd_explain(e, why, sizeof(why));
			json_object_set_new(j, "entry", json_string(ent));
			json_object_set_new(j, "index", json_integer(e->index));
			json_object_set_new(j, "weight",
			    json_integer((json_int_t)e->weight));
			json_object_set_new(j, "rule", json_string(
			    e->rule->name ? e->rule->name : ""));
			json_object_set_new(j, "filterlist", json_string(
			    e->rule->filterlist->name ?
			    e->rule->filterlist->name : ""));
			json_object_set_new(j, "filter", json_string(f));
			json_object_set_new(j, "filterGuid",
			    guid_json(&e->filter->id));
			json_object_set_new(j, "filteraction", json_string(
			    e->filteraction->name));
			json_object_set_new(j, "action", json_string(
			    pol_action_name(e->action)));
			json_object_set_new(j, "why", json_string(why));
			json_object_set_new(j, "otherMatches",
			    json_integer((json_int_t)nother));
		}
		rc = json_out(j);
		goto out;
	}
	printf("Policy      : %s (%zu SPD entries, direction %s)\n", p->name,
	    pol_spd_count(spd), pol_dir_name(k.dir));
	if (e == NULL) {
		printf("No filter matches: the traffic passes in clear.\n");
		goto out;
	}
	fmt_entry(e, ent, sizeof(ent));
	fmt_filter(e->filter, f, sizeof(f));
	printf("Entry       : %s\n", ent);
	printf("Rule        : %s\n", e->rule->name ? e->rule->name : "");
	printf("Filter list : %s\n", e->rule->filterlist->name ?
	    e->rule->filterlist->name : "");
	printf("Filter      : %s\n", f);
	printf("Action      : %s (filter action '%s')\n",
	    pol_action_name(e->action), e->filteraction->name);
	for (i = 0; i < e->filteraction->noffers; i++) {
		fmt_offer(&e->filteraction->offers[i], o, sizeof(o));
		printf("  offer %zu   : %s\n", i + 1, o);
	}
	printf("Why         : %s; it outranks %zu other matching entr%s\n",
	    pol_spd_explain(e, why, sizeof(why)), nother,
	    nother == 1 ? "y" : "ies");
out:
	pol_spd_free(spd);
	free(addrs);
	return rc;
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
		static_usage();
		return SVC_STATIC_USAGE;
	}
	if (strcmp(argv[0], "match") == 0) {
		c.verb = "match";
		first = 1;
	} else if (strcmp(argv[0], "static") == 0) {
		if (argc < 2 || strcmp(argv[1], "help") == 0 ||
		    strcmp(argv[1], "--help") == 0) {
			static_usage();
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
		if (!word_in(svc_static_verbs, c.verb, strlen(c.verb)) ||
		    (c.obj != NULL && !word_in(svc_static_objects, c.obj,
		    strlen(c.obj))))
			return fail(SVC_STATIC_USAGE, "unknown command 'static "
			    "%s%s%s'", c.verb, c.obj ? " " : "",
			    c.obj ? c.obj : "");
	} else {
		static_usage();
		return SVC_STATIC_USAGE;
	}
	if ((rc = args_parse(&c, argc, argv, first)) != 0)
		return rc;
	/* Edits are read-modify-write: serialise them (reads need no lock,
	 * the store is replaced by rename). */
	if (strcmp(c.verb, "show") != 0 && strcmp(c.verb, "match") != 0 &&
	    strcmp(c.verb, "exportpolicy") != 0 &&
	    (rc = store_lock(&c, &lockfd)) != 0)
		return rc;
	if ((rc = store_load(&c)) != 0)
		goto out;
	rc = strcmp(c.verb, "match") == 0 ? cmd_match(&c) : static_run(&c);
	if (rc == 0 && c.modified)
		rc = store_save(&c);
out:
	pol_store_free(c.store);
	if (lockfd != -1)
		close(lockfd);
	return rc;
}
