/*
 * Loading the local XML store: libxml2 parse (no network, no entity
 * substitution, no DTD), validation against the embedded policy.xsd, then
 * a walk of the tree into the model with "file:line: what" errors, the
 * secrets file, and the store-wide checks of pol_store_resolve().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "pa_buf.h"
#include "check.h"
#include "store_xml.h"

#define XML_MAX_FILE	(64U * 1024 * 1024)
#define XML_PARSE_FLAGS	(XML_PARSE_NONET | XML_PARSE_NOERROR | \
			    XML_PARSE_NOWARNING)

struct secret_ent {
	char			*name;
	struct pa_secret	*key;
};

struct load {
	const char		*name;		/* file name for messages */
	struct pol_err		*err;
	const char		*secrets_path;
	bool			 secrets_loaded;
	struct secret_ent	*secrets;
	size_t			 nsecrets;
	/* Lines of objects, for store-wide errors. */
	long			*rule_line;	/* per policy, per rule */
	size_t			 nrule_line;
};

static int
lerr(struct load *l, long line, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
lerr(struct load *l, long line, int rc, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		snprintf(l->err->where, sizeof(l->err->where), "%s:%ld",
		    l->name, line);
	else
		snprintf(l->err->where, sizeof(l->err->where), "%s", l->name);
	va_start(ap, fmt);
	vsnprintf(l->err->what, sizeof(l->err->what), fmt, ap);
	va_end(ap);
	return rc;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* ---- schema ---- */

static xmlSchemaPtr	 pol_schema;
static pthread_once_t	 pol_schema_once = PTHREAD_ONCE_INIT;

static void
schema_init(void)
{
	xmlSchemaParserCtxtPtr pc;
	const char *xsd;
	size_t len;

	xsd = pol_store_xsd(&len);
	if ((pc = xmlSchemaNewMemParserCtxt(xsd, (int)len)) == NULL)
		return;
	xmlSchemaSetParserStructuredErrors(pc, NULL, NULL);
	pol_schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
}

struct verr {
	int	seen;
	long	line;
	char	msg[400];
};

#if LIBXML_VERSION >= 21200
static void
schema_error(void *arg, const xmlError *e)
#else
static void
schema_error(void *arg, xmlErrorPtr e)
#endif
{
	struct verr *v = arg;

	if (v->seen++ > 0 || e == NULL)
		return;
	v->line = e->line;
	snprintf(v->msg, sizeof(v->msg), "%s",
	    e->message ? e->message : "invalid");
	chomp(v->msg);
}

#if LIBXML_VERSION >= 21200
static void
parse_error(void *arg, const xmlError *e)
#else
static void
parse_error(void *arg, xmlErrorPtr e)
#endif
{
	xmlParserCtxtPtr pc = arg;

	if (pc != NULL && pc->_private != NULL)
		schema_error(pc->_private, e);
}

static int
parse_and_validate(struct load *l, const void *buf, size_t len,
    const char *root, xmlDocPtr *out)
{
	xmlParserCtxtPtr pc = NULL;
	xmlSchemaValidCtxtPtr vc = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr top;
	struct verr v;
	int rc = 0;

	*out = NULL;
	if (len > XML_MAX_FILE || len > INT_MAX)
		return lerr(l, 0, PA_E_FORMAT, "file too large");
	pthread_once(&pol_schema_once, schema_init);
	if (pol_schema == NULL)
		return lerr(l, 0, PA_E_NOMEM, "cannot load the store schema");
	if ((pc = xmlNewParserCtxt()) == NULL)
		return lerr(l, 0, PA_E_NOMEM, "out of memory");
	/* Keep the first error (the last one is often just "end of data"). */
	memset(&v, 0, sizeof(v));
	pc->_private = &v;
	pc->sax->serror = parse_error;
	doc = xmlCtxtReadMemory(pc, buf, (int)len, l->name, NULL,
	    XML_PARSE_FLAGS);
	if (doc == NULL || !pc->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(pc);

		if (!v.seen) {
			v.line = e ? e->line : 0;
			snprintf(v.msg, sizeof(v.msg), "%s", e && e->message ?
			    e->message : "not well-formed XML");
			chomp(v.msg);
		}
		rc = lerr(l, v.line, PA_E_FORMAT, "invalid XML: %s", v.msg);
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		rc = lerr(l, 1, PA_E_FORMAT, "a DOCTYPE is not allowed");
		goto out;
	}
	if ((top = xmlDocGetRootElement(doc)) == NULL ||
	    top->ns == NULL || top->ns->href == NULL ||
	    strcmp((const char *)top->ns->href, POL_XML_NS) != 0 ||
	    strcmp((const char *)top->name, root) != 0) {
		rc = lerr(l, top ? xmlGetLineNo(top) : 0, PA_E_FORMAT,
		    "the document element must be <%s xmlns=\"%s\">",
		    root, POL_XML_NS);
		goto out;
	}
	if ((vc = xmlSchemaNewValidCtxt(pol_schema)) == NULL) {
		rc = lerr(l, 0, PA_E_NOMEM, "out of memory");
		goto out;
	}
	memset(&v, 0, sizeof(v));
	xmlSchemaSetValidStructuredErrors(vc, schema_error, &v);
	if (xmlSchemaValidateDoc(vc, doc) != 0) {
		rc = lerr(l, v.line, PA_E_FORMAT, "does not match the "
		    "schema: %s", v.seen ? v.msg : "invalid");
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	xmlSchemaFreeValidCtxt(vc);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(pc);
	return rc;
}

/* ---- attribute helpers ---- */

/* A copy of attribute `name` in our allocator, or NULL if absent. */
static int
attr_str(xmlNodePtr n, const char *name, char **out)
{
	xmlChar *v;

	*out = NULL;
	if ((v = xmlGetNoNsProp(n, (const xmlChar *)name)) == NULL)
		return 0;
	*out = strdup((const char *)v);
	xmlFree(v);
	return *out == NULL ? PA_E_NOMEM : 0;
}

static bool
attr_has(xmlNodePtr n, const char *name)
{
	return xmlHasNsProp(n, (const xmlChar *)name, NULL) != NULL;
}

static int
attr_u64(struct load *l, xmlNodePtr n, const char *name, uint64_t max,
    uint64_t def, uint64_t *out)
{
	char *s = NULL, *end;
	unsigned long long v;
	int rc;

	*out = def;
	if ((rc = attr_str(n, name, &s)) != 0 || s == NULL)
		return rc;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > max)
		rc = lerr(l, xmlGetLineNo(n), PA_E_INVAL,
		    "%s=\"%s\" is not a number up to %llu", name, s,
		    (unsigned long long)max);
	else
		*out = v;
	free(s);
	return rc;
}

static int
attr_u32(struct load *l, xmlNodePtr n, const char *name, uint32_t def,
    uint32_t *out)
{
	uint64_t v;
	int rc;

	if ((rc = attr_u64(l, n, name, UINT32_MAX, def, &v)) == 0)
		*out = (uint32_t)v;
	return rc;
}

static int
attr_i64(struct load *l, xmlNodePtr n, const char *name, int64_t *out)
{
	char *s = NULL, *end;
	long long v;
	int rc;

	*out = 0;
	if ((rc = attr_str(n, name, &s)) != 0 || s == NULL)
		return rc;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0)
		rc = lerr(l, xmlGetLineNo(n), PA_E_INVAL,
		    "%s=\"%s\" is not a number", name, s);
	else
		*out = v;
	free(s);
	return rc;
}

static int
attr_yesno(struct load *l, xmlNodePtr n, const char *name, bool def,
    bool *out)
{
	char *s = NULL;
	int rc;

	*out = def;
	if ((rc = attr_str(n, name, &s)) != 0 || s == NULL)
		return rc;
	if (strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "no") == 0)
		*out = false;
	else
		rc = lerr(l, xmlGetLineNo(n), PA_E_INVAL,
		    "%s=\"%s\": expected yes or no", name, s);
	free(s);
	return rc;
}

static int
attr_guid(struct load *l, xmlNodePtr n, const char *name, bool required,
    struct pa_guid *out)
{
	char *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = attr_str(n, name, &s)) != 0)
		return rc;
	if (s == NULL)
		return required ? lerr(l, xmlGetLineNo(n), PA_E_FORMAT,
		    "missing %s", name) : 0;
	if (pa_guid_parse(s, out) != 0)
		rc = lerr(l, xmlGetLineNo(n), PA_E_FORMAT,
		    "%s=\"%s\" is not a GUID", name, s);
	free(s);
	return rc;
}

/* Parse an enumerated attribute through a model parse function. */
static int
attr_enum(struct load *l, xmlNodePtr n, const char *name,
    int (*parse)(const char *, int *), const char *what, bool required,
    int *out)
{
	char *s = NULL;
	int rc;

	if ((rc = attr_str(n, name, &s)) != 0)
		return rc;
	if (s == NULL)
		return required ? lerr(l, xmlGetLineNo(n), PA_E_FORMAT,
		    "missing %s", name) : 0;
	if (parse(s, out) != 0)
		rc = lerr(l, xmlGetLineNo(n), PA_E_INVAL,
		    "unknown %s '%s'", what, s);
	free(s);
	return rc;
}

static int
p_mm_cipher(const char *s, int *v)
{
	enum pol_mm_cipher x;
	int rc;

	if ((rc = pol_mm_cipher_parse(s, &x)) == 0)
		*v = (int)x;
	return rc;
}

static int
p_integ(const char *s, int *v)
{
	enum pol_integ x;
	int rc;

	if ((rc = pol_integ_parse(s, &x)) == 0)
		*v = (int)x;
	return rc;
}

static int
p_esp(const char *s, int *v)
{
	enum pol_esp_cipher x;
	int rc;

	if ((rc = pol_esp_cipher_parse(s, &x)) == 0)
		*v = (int)x;
	return rc;
}

static int
p_action(const char *s, int *v)
{
	enum pol_action x;
	int rc;

	if ((rc = pol_action_parse(s, &x)) == 0)
		*v = (int)x;
	return rc;
}

static int
p_auth(const char *s, int *v)
{
	enum pol_auth_kind x;
	int rc;

	if ((rc = pol_auth_kind_parse(s, &x)) == 0)
		*v = (int)x;
	return rc;
}

static int
p_conn(const char *s, int *v)
{
	enum pol_conntype x;
	int rc;

	if ((rc = pol_conntype_parse(s, &x)) == 0)
		*v = (int)x;
	return rc;
}

static int
p_addrkind(const char *s, int *v)
{
	static const char *names[] = { "any", "me", "host", "subnet", "dns" };
	size_t i;

	for (i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0) {
			*v = (int)i;	/* enum pol_addr_kind order */
			return 0;
		}
	return PA_E_INVAL;
}

static bool
is_el(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static int
el_text(xmlNodePtr n, char **out)
{
	xmlChar *v;

	*out = NULL;
	if ((v = xmlNodeGetContent(n)) == NULL)
		return (*out = strdup("")) == NULL ? PA_E_NOMEM : 0;
	*out = strdup((const char *)v);
	xmlFree(v);
	return *out == NULL ? PA_E_NOMEM : 0;
}

static int
el_hex(struct load *l, xmlNodePtr n, struct pa_secret **out)
{
	char *s = NULL;
	uint8_t *b = NULL;
	size_t cap, blen = 0;
	int rc;

	*out = NULL;
	if ((rc = el_text(n, &s)) != 0)
		return rc;
	cap = strlen(s) / 2 + 1;
	if ((b = malloc(cap)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	if (pa_hex_decode(s, b, cap, &blen) != 0 || blen == 0) {
		rc = lerr(l, xmlGetLineNo(n), PA_E_FORMAT,
		    "a key must be non-empty hex");
		goto out;
	}
	if ((*out = pa_secret_new(b, blen)) == NULL)
		rc = PA_E_NOMEM;
out:
	if (b != NULL) {
		pa_wipe(b, cap);
		free(b);
	}
	if (s != NULL) {
		pa_wipe(s, strlen(s));
		free(s);
	}
	return rc;
}

/* ---- secrets file ---- */

static void
secrets_free(struct load *l)
{
	size_t i;

	for (i = 0; i < l->nsecrets; i++) {
		free(l->secrets[i].name);
		pa_secret_free(l->secrets[i].key);
	}
	free(l->secrets);
	l->secrets = NULL;
	l->nsecrets = 0;
}

static int
read_file(struct load *l, const char *path, bool secret, char **buf,
    size_t *len)
{
	struct stat st;
	char *b = NULL;
	size_t off = 0;
	ssize_t n;
	int fd, rc = 0;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return lerr(l, 0, PA_E_SYS, "cannot open: %s",
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		rc = lerr(l, 0, PA_E_SYS, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = lerr(l, 0, PA_E_INVAL, "not a regular file");
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		rc = lerr(l, 0, PA_E_PERM, "secrets file is accessible by "
		    "group or others (mode %04o); it must be 0600",
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (secret && st.st_uid != 0 && st.st_uid != geteuid()) {
		rc = lerr(l, 0, PA_E_PERM, "secrets file is owned by uid %u, "
		    "not by root or this user", (unsigned)st.st_uid);
		goto out;
	}
	if ((size_t)st.st_size > XML_MAX_FILE) {
		rc = lerr(l, 0, PA_E_FORMAT, "file too large");
		goto out;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, b + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = lerr(l, 0, PA_E_SYS, "read failed: %s",
			    n == 0 ? "file shrank" : strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	b = NULL;
out:
	if (b != NULL) {
		pa_wipe(b, (size_t)st.st_size);
		free(b);
	}
	close(fd);
	return rc;
}

static int
secrets_load(struct load *l)
{
	const char *oldname = l->name;
	xmlDocPtr doc = NULL;
	xmlNodePtr n;
	char *buf = NULL;
	size_t len = 0, i;
	int rc;

	l->secrets_loaded = true;
	l->name = l->secrets_path;
	if ((rc = read_file(l, l->secrets_path, true, &buf, &len)) != 0)
		goto out;
	if ((rc = parse_and_validate(l, buf, len, "ipsecSecrets", &doc)) != 0)
		goto out;
	for (n = xmlDocGetRootElement(doc)->children; n != NULL; n = n->next) {
		struct secret_ent *v;
		char *name = NULL;

		if (!is_el(n, "psk"))
			continue;
		if ((rc = attr_str(n, "name", &name)) != 0)
			goto out;
		for (i = 0; name != NULL && i < l->nsecrets; i++)
			if (strcmp(l->secrets[i].name, name) == 0) {
				rc = lerr(l, xmlGetLineNo(n), PA_E_EXIST,
				    "secret '%s' defined twice", name);
				free(name);
				goto out;
			}
		if (name == NULL || (v = realloc(l->secrets,
		    (l->nsecrets + 1) * sizeof(*v))) == NULL) {
			free(name);
			rc = name ? PA_E_NOMEM : lerr(l, xmlGetLineNo(n),
			    PA_E_FORMAT, "psk without a name");
			goto out;
		}
		l->secrets = v;
		v[l->nsecrets].name = name;
		v[l->nsecrets].key = NULL;
		l->nsecrets++;
		if ((rc = el_hex(l, n, &v[l->nsecrets - 1].key)) != 0)
			goto out;
	}
out:
	if (buf != NULL) {
		pa_wipe(buf, len);
		free(buf);
	}
	xmlFreeDoc(doc);
	l->name = oldname;
	if (rc != 0 && l->err->where[0] == '\0')
		lerr(l, 0, rc, "cannot read secrets file");
	return rc;
}

/* ---- the walk ---- */

static int
load_endpoint(struct load *l, xmlNodePtr n, struct pol_endpoint *e,
    const char *side)
{
	char what[sizeof(l->err->what)];
	char *addr = NULL;
	uint64_t plen;
	xmlNodePtr c;
	int kind = 0, rc;
	long line = xmlGetLineNo(n);

	if ((rc = attr_enum(l, n, "kind", p_addrkind, "address kind", true,
	    &kind)) != 0)
		return rc;
	e->kind = (enum pol_addr_kind)kind;
	if ((rc = attr_str(n, "address", &addr)) != 0)
		return rc;
	switch (e->kind) {
	case POL_ADDR_ANY:
	case POL_ADDR_ME:
		if (addr != NULL || attr_has(n, "prefix") ||
		    attr_has(n, "dns") || n->children != NULL) {
			rc = lerr(l, line, PA_E_INVAL, "%s of kind %s takes no "
			    "address, prefix or name", side,
			    pol_addr_kind_name(e->kind));
			goto out;
		}
		break;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		if (addr == NULL || pa_addr_parse(addr, &e->prefix.addr) != 0) {
			rc = lerr(l, line, PA_E_INVAL, "%s: %s is not an IPv4 "
			    "or IPv6 address", side, addr ? addr : "(none)");
			goto out;
		}
		if (e->kind == POL_ADDR_SUBNET && !attr_has(n, "prefix")) {
			rc = lerr(l, line, PA_E_INVAL, "%s: a subnet needs a "
			    "prefix length", side);
			goto out;
		}
		if ((rc = attr_u64(l, n, "prefix",
		    pa_addr_bits(e->prefix.addr.family),
		    pa_addr_bits(e->prefix.addr.family), &plen)) != 0)
			goto out;
		e->prefix.len = (uint8_t)plen;
		if (attr_has(n, "dns")) {
			rc = lerr(l, line, PA_E_INVAL, "%s: dns on an address",
			    side);
			goto out;
		}
		break;
	case POL_ADDR_DNS:
		if (addr != NULL || attr_has(n, "prefix")) {
			rc = lerr(l, line, PA_E_INVAL, "%s: a DNS endpoint "
			    "takes no address or prefix", side);
			goto out;
		}
		if ((rc = attr_str(n, "dns", &e->dns)) != 0)
			goto out;
		for (c = n->children; c != NULL; c = c->next) {
			struct pa_addr a, *v;
			char *t = NULL;

			if (!is_el(c, "resolved"))
				continue;
			if ((rc = el_text(c, &t)) != 0)
				goto out;
			rc = pa_addr_parse(t, &a);
			if (rc != 0) {
				rc = lerr(l, xmlGetLineNo(c), PA_E_INVAL,
				    "resolved address '%s' is not an address",
				    t);
				free(t);
				goto out;
			}
			free(t);
			if ((v = realloc(e->resolved, (e->nresolved + 1) *
			    sizeof(*v))) == NULL) {
				rc = PA_E_NOMEM;
				goto out;
			}
			e->resolved = v;
			v[e->nresolved++] = a;
		}
		break;
	}
	if ((rc = pol_check_endpoint(e, side, what, sizeof(what))) != 0)
		rc = lerr(l, line, rc, "%s", what);
out:
	free(addr);
	return rc;
}

static int
load_filter(struct load *l, xmlNodePtr n, struct pol_filter *f)
{
	uint64_t v;
	xmlNodePtr c;
	int rc;
	char what[sizeof(l->err->what)];

	if ((rc = attr_guid(l, n, "id", true, &f->id)) != 0 ||
	    (rc = attr_u64(l, n, "protocol", 255, 0, &v)) != 0)
		return rc;
	f->proto = (uint8_t)v;
	if ((rc = attr_u64(l, n, "srcport", 65535, 0, &v)) != 0)
		return rc;
	f->sport = (uint16_t)v;
	if ((rc = attr_u64(l, n, "dstport", 65535, 0, &v)) != 0)
		return rc;
	f->dport = (uint16_t)v;
	if ((rc = attr_yesno(l, n, "mirrored", true, &f->mirrored)) != 0)
		return rc;
	for (c = n->children; c != NULL; c = c->next) {
		if (is_el(c, "description"))
			rc = el_text(c, &f->description);
		else if (is_el(c, "source"))
			rc = load_endpoint(l, c, &f->src, "source");
		else if (is_el(c, "destination"))
			rc = load_endpoint(l, c, &f->dst, "destination");
		if (rc != 0)
			return rc;
	}
	if ((rc = pol_check_filter(f, what, sizeof(what))) != 0)
		return lerr(l, xmlGetLineNo(n), rc, "%s", what);
	return 0;
}

static int
load_filterlist(struct load *l, xmlNodePtr n, struct pol_filterlist *fl)
{
	xmlNodePtr c;
	int rc;

	if ((rc = attr_guid(l, n, "id", true, &fl->id)) != 0 ||
	    (rc = attr_str(n, "name", &fl->name)) != 0 ||
	    (rc = attr_i64(l, n, "changed", &fl->changed)) != 0)
		return rc;
	for (c = n->children; c != NULL; c = c->next) {
		struct pol_filter *f;

		if (is_el(c, "description")) {
			if ((rc = el_text(c, &fl->description)) != 0)
				return rc;
		} else if (is_el(c, "filter")) {
			if ((f = pol_filterlist_add_filter(fl)) == NULL)
				return PA_E_NOMEM;
			if ((rc = load_filter(l, c, f)) != 0)
				return rc;
		}
	}
	return 0;
}

static int
load_offer(struct load *l, xmlNodePtr n, struct pol_qm_offer *o)
{
	char what[sizeof(l->err->what)];
	int v = 0, rc;

	if (attr_has(n, "ah")) {
		o->ah = true;
		if ((rc = attr_enum(l, n, "ah", p_integ, "AH algorithm", true,
		    &v)) != 0)
			return rc;
		o->ah_integ = (enum pol_integ)v;
	}
	if (attr_has(n, "esp")) {
		o->esp = true;
		if ((rc = attr_enum(l, n, "esp", p_esp, "ESP cipher", true,
		    &v)) != 0)
			return rc;
		o->esp_cipher = (enum pol_esp_cipher)v;
		v = POL_INTEG_NONE;
		if ((rc = attr_enum(l, n, "espIntegrity", p_integ,
		    "ESP integrity algorithm", false, &v)) != 0)
			return rc;
		o->esp_integ = (enum pol_integ)v;
	} else if (attr_has(n, "espIntegrity"))
		return lerr(l, xmlGetLineNo(n), PA_E_INVAL,
		    "espIntegrity without esp");
	if ((rc = attr_u32(l, n, "lifeSeconds", POL_DEFAULT_QM_LIFE_SEC,
	    &o->life_sec)) != 0 ||
	    (rc = attr_u32(l, n, "lifeKilobytes", POL_DEFAULT_QM_LIFE_KB,
	    &o->life_kb)) != 0 ||
	    (rc = attr_yesno(l, n, "pfs", false, &o->pfs)) != 0)
		return rc;
	o->defaulted = (uint8_t)((attr_has(n, "lifeSeconds") ? 0 :
	    POL_DEF_QM_LIFE_SEC) | (attr_has(n, "lifeKilobytes") ? 0 :
	    POL_DEF_QM_LIFE_KB));
	if ((rc = pol_check_offer(o, what, sizeof(what))) != 0)
		return lerr(l, xmlGetLineNo(n), rc, "%s", what);
	return 0;
}

static int
load_filteraction(struct load *l, xmlNodePtr n, struct pol_filteraction *fa)
{
	char what[sizeof(l->err->what)];
	uint64_t g;
	xmlNodePtr c;
	int v = 0, rc;

	if ((rc = attr_guid(l, n, "id", true, &fa->id)) != 0 ||
	    (rc = attr_str(n, "name", &fa->name)) != 0 ||
	    (rc = attr_enum(l, n, "action", p_action, "action", true,
	    &v)) != 0)
		return rc;
	fa->action = (enum pol_action)v;
	if ((rc = attr_yesno(l, n, "inpass", false, &fa->inpass)) != 0 ||
	    (rc = attr_yesno(l, n, "soft", false, &fa->soft)) != 0 ||
	    (rc = attr_yesno(l, n, "defaultResponse", false,
	    &fa->default_response)) != 0 ||
	    (rc = attr_u64(l, n, "pfsGroup", 65535, 0, &g)) != 0 ||
	    (rc = attr_i64(l, n, "changed", &fa->changed)) != 0)
		return rc;
	fa->pfs_group = (uint16_t)g;
	for (c = n->children; c != NULL; c = c->next) {
		struct pol_qm_offer *o;

		if (is_el(c, "description")) {
			if ((rc = el_text(c, &fa->description)) != 0)
				return rc;
		} else if (is_el(c, "offer")) {
			if ((o = pol_filteraction_add_offer(fa)) == NULL)
				return PA_E_NOMEM;
			if ((rc = load_offer(l, c, o)) != 0)
				return rc;
		}
	}
	if ((rc = pol_check_filteraction(fa, what, sizeof(what))) != 0)
		return lerr(l, xmlGetLineNo(n), rc, "filter action '%s': %s",
		    fa->name, what);
	return 0;
}

static int
load_isakmp(struct load *l, xmlNodePtr n, struct pol_isakmp *k)
{
	char what[sizeof(l->err->what)];
	xmlNodePtr c;
	int rc;

	if ((rc = attr_guid(l, n, "id", true, &k->id)) != 0 ||
	    (rc = attr_str(n, "name", &k->name)) != 0 ||
	    (rc = attr_yesno(l, n, "masterPfs", false, &k->master_pfs)) != 0 ||
	    (rc = attr_u32(l, n, "qmPerMm", 0, &k->qm_per_mm)) != 0 ||
	    (rc = attr_u32(l, n, "mmLifeSeconds", POL_DEFAULT_MM_LIFE_SEC,
	    &k->mm_life_sec)) != 0 ||
	    (rc = attr_u32(l, n, "options", 0, &k->options)) != 0)
		return rc;
	if (!attr_has(n, "mmLifeSeconds"))
		k->defaulted |= POL_DEF_MM_LIFE;
	for (c = n->children; c != NULL; c = c->next) {
		struct pol_mm_method *m;
		uint64_t g;
		int v = 0;

		if (!is_el(c, "method"))
			continue;
		if ((m = pol_isakmp_add_method(k)) == NULL)
			return PA_E_NOMEM;
		if ((rc = attr_enum(l, c, "cipher", p_mm_cipher,
		    "Main Mode cipher", true, &v)) != 0)
			return rc;
		m->cipher = (enum pol_mm_cipher)v;
		if ((rc = attr_enum(l, c, "hash", p_integ, "Main Mode hash",
		    true, &v)) != 0)
			return rc;
		m->hash = (enum pol_integ)v;
		if ((rc = attr_u64(l, c, "group", 65535, 0, &g)) != 0 ||
		    (rc = attr_u32(l, c, "lifeSeconds", 0, &m->life_sec)) != 0 ||
		    (rc = attr_u32(l, c, "lifeKilobytes", 0,
		    &m->life_kb)) != 0 ||
		    (rc = attr_u32(l, c, "qmLimit", 0, &m->qm_limit)) != 0)
			return rc;
		m->dh_group = (uint16_t)g;
		if ((rc = pol_check_mm_method(m, what, sizeof(what))) != 0)
			return lerr(l, xmlGetLineNo(c), rc, "%s", what);
	}
	if ((rc = pol_check_isakmp(k, what, sizeof(what))) != 0)
		return lerr(l, xmlGetLineNo(n), rc, "%s", what);
	return 0;
}

static const struct secret_ent *
secret_find(const struct load *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nsecrets; i++)
		if (strcmp(l->secrets[i].name, name) == 0)
			return &l->secrets[i];
	return NULL;
}

static int
load_auth(struct load *l, xmlNodePtr n, struct pol_auth *a)
{
	char what[sizeof(l->err->what)];
	const struct secret_ent *se;
	xmlNodePtr c;
	long line = xmlGetLineNo(n);
	int v = 0, rc;

	if ((rc = attr_enum(l, n, "kind", p_auth, "authentication kind",
	    true, &v)) != 0)
		return rc;
	a->kind = (enum pol_auth_kind)v;
	if ((rc = attr_str(n, "ca", &a->ca_dn)) != 0 ||
	    (rc = attr_str(n, "secret", &a->psk_ref)) != 0 ||
	    (rc = attr_yesno(l, n, "certmap", false, &a->certmap)) != 0 ||
	    (rc = attr_yesno(l, n, "excludecaname", false,
	    &a->excludecaname)) != 0)
		return rc;
	for (c = n->children; c != NULL; c = c->next)
		if (is_el(c, "key") && (rc = el_hex(l, c, &a->psk)) != 0)
			return rc;
	if (a->kind != POL_AUTH_CERT && a->ca_dn != NULL)
		return lerr(l, line, PA_E_INVAL, "ca= on %s authentication",
		    pol_auth_kind_name(a->kind));
	if (a->kind != POL_AUTH_PSK && (a->psk_ref != NULL || a->psk != NULL))
		return lerr(l, line, PA_E_INVAL, "a key on %s authentication",
		    pol_auth_kind_name(a->kind));
	if (a->kind == POL_AUTH_PSK && a->psk == NULL && a->psk_ref != NULL) {
		/*
		 * Never the reference itself in the message: it is meant to
		 * be a name, but an administrator who wrote the key there
		 * would find it in replies, logs and the audit.
		 */
		if (l->secrets_path == NULL)
			return lerr(l, line, PA_E_NOENT, "the preshared key "
			    "named by this rule is in a secrets file, but none "
			    "was given");
		if (!l->secrets_loaded && (rc = secrets_load(l)) != 0)
			return rc;
		if ((se = secret_find(l, a->psk_ref)) == NULL)
			return lerr(l, line, PA_E_NOENT, "the preshared key "
			    "named by this rule is not in %s (give the name of "
			    "a key there, not the key)", l->secrets_path);
		if ((a->psk = pa_secret_dup(se->key)) == NULL)
			return PA_E_NOMEM;
	}
	if ((rc = pol_check_auth(a, what, sizeof(what))) != 0)
		return lerr(l, line, rc, "%s", what);
	return 0;
}

static int
load_rule(struct load *l, xmlNodePtr n, struct pol_rule *r)
{
	char what[sizeof(l->err->what)];
	char *tun = NULL;
	xmlNodePtr c;
	int v = POL_CONN_ALL, rc;

	if ((rc = attr_guid(l, n, "id", true, &r->id)) != 0 ||
	    (rc = attr_str(n, "name", &r->name)) != 0 ||
	    (rc = attr_guid(l, n, "filterList", false,
	    &r->filterlist_id)) != 0 ||
	    (rc = attr_guid(l, n, "filterAction", true,
	    &r->filteraction_id)) != 0 ||
	    (rc = attr_enum(l, n, "connection", p_conn, "connection type",
	    false, &v)) != 0)
		return rc;
	r->conntype = (enum pol_conntype)v;
	if ((rc = attr_yesno(l, n, "active", true, &r->active)) != 0 ||
	    (rc = attr_yesno(l, n, "defaultResponse", false,
	    &r->default_response)) != 0 ||
	    (rc = attr_i64(l, n, "changed", &r->changed)) != 0 ||
	    (rc = attr_str(n, "tunnel", &tun)) != 0)
		return rc;
	if (tun != NULL) {
		rc = pa_addr_parse(tun, &r->tunnel);
		if (rc != 0)
			rc = lerr(l, xmlGetLineNo(n), PA_E_INVAL,
			    "tunnel '%s' is not an address", tun);
		free(tun);
		if (rc != 0)
			return rc;
	}
	for (c = n->children; c != NULL; c = c->next) {
		struct pol_auth *a;

		if (is_el(c, "description")) {
			if ((rc = el_text(c, &r->description)) != 0)
				return rc;
		} else if (is_el(c, "auth")) {
			if ((a = pol_rule_add_auth(r)) == NULL)
				return PA_E_NOMEM;
			if ((rc = load_auth(l, c, a)) != 0)
				return rc;
		}
	}
	if ((rc = pol_check_rule(r, what, sizeof(what))) != 0)
		return lerr(l, xmlGetLineNo(n), rc, "rule '%s': %s",
		    r->name ? r->name : "", what);
	return 0;
}

static int
load_policy(struct load *l, xmlNodePtr n, struct pol_policy *p)
{
	char what[sizeof(l->err->what)];
	xmlNodePtr c;
	int rc;

	if ((rc = attr_guid(l, n, "id", true, &p->id)) != 0 ||
	    (rc = attr_str(n, "name", &p->name)) != 0 ||
	    (rc = attr_yesno(l, n, "assigned", false, &p->assigned)) != 0 ||
	    (rc = attr_u32(l, n, "pollSeconds", POL_DEFAULT_POLL_SEC,
	    &p->poll_sec)) != 0 ||
	    (rc = attr_yesno(l, n, "activateDefaultRule", false,
	    &p->activate_default_rule)) != 0 ||
	    (rc = attr_i64(l, n, "changed", &p->changed)) != 0)
		return rc;
	if (!attr_has(n, "pollSeconds"))
		p->defaulted |= POL_DEF_POLL;
	for (c = n->children; c != NULL; c = c->next) {
		struct pol_rule *r;
		long *lines;

		if (is_el(c, "description")) {
			if ((rc = el_text(c, &p->description)) != 0)
				return rc;
		} else if (is_el(c, "isakmp")) {
			if ((rc = load_isakmp(l, c, &p->isakmp)) != 0)
				return rc;
		} else if (is_el(c, "rule")) {
			if ((r = pol_policy_add_rule(p)) == NULL)
				return PA_E_NOMEM;
			if ((lines = realloc(l->rule_line, (l->nrule_line + 1) *
			    sizeof(*lines))) == NULL)
				return PA_E_NOMEM;
			l->rule_line = lines;
			lines[l->nrule_line++] = xmlGetLineNo(c);
			if ((rc = load_rule(l, c, r)) != 0)
				return rc;
		}
	}
	if ((rc = pol_check_policy(p, what, sizeof(what))) != 0)
		return lerr(l, xmlGetLineNo(n), rc, "policy '%s': %s",
		    p->name, what);
	return 0;
}

/*
 * Store-wide checks with line numbers: the references, the assignment
 * and GUID uniqueness (the rest of pol_store_resolve() is re-checked
 * there without lines).
 */
static int
load_refs(struct load *l, struct pol_store *s, xmlNodePtr root)
{
	const struct pol_policy *assigned = NULL;
	char g[PA_GUIDSTRLEN];
	xmlNodePtr c;
	size_t i, j, k = 0;

	for (i = 0, c = root->children; c != NULL; c = c->next) {
		if (!is_el(c, "policy"))
			continue;
		if (i >= s->npolicies)
			break;
		if (s->policies[i].assigned) {
			if (assigned != NULL)
				return lerr(l, xmlGetLineNo(c), PA_E_INVAL,
				    "policy '%s' is assigned, but '%s' already "
				    "is: at most one policy may be assigned",
				    s->policies[i].name, assigned->name);
			assigned = &s->policies[i];
		}
		i++;
	}
	for (i = 0; i < s->npolicies; i++)
		for (j = 0; j < s->policies[i].nrules; j++, k++) {
			const struct pol_rule *r = &s->policies[i].rules[j];
			long line = k < l->nrule_line ? l->rule_line[k] : 0;

			if (!pa_guid_is_nil(&r->filterlist_id) &&
			    pol_store_filterlist_by_id(s,
			    &r->filterlist_id) == NULL)
				return lerr(l, line, PA_E_REF, "rule '%s' "
				    "refers to filter list %s, which does not "
				    "exist", r->name ? r->name : "",
				    pa_guid_str(&r->filterlist_id, g));
			if (pol_store_filteraction_by_id(s,
			    &r->filteraction_id) == NULL)
				return lerr(l, line, PA_E_REF, "rule '%s' "
				    "refers to filter action %s, which does "
				    "not exist", r->name ? r->name : "",
				    pa_guid_str(&r->filteraction_id, g));
		}
	return 0;
}

int
pol_store_parse_xml(const void *buf, size_t len, const char *name,
    const char *secrets_path, struct pol_store **out, struct pol_err *err)
{
	struct load l;
	struct pol_store *s = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, c;
	uint64_t version;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	memset(&l, 0, sizeof(l));
	l.name = name != NULL ? name : "(memory)";
	l.err = err;
	l.secrets_path = secrets_path;
	if ((rc = parse_and_validate(&l, buf, len, "ipsecStore", &doc)) != 0)
		goto out;
	root = xmlDocGetRootElement(doc);
	if ((rc = attr_u64(&l, root, "version", UINT32_MAX, 0,
	    &version)) != 0)
		goto out;
	if (version != 1) {
		rc = lerr(&l, xmlGetLineNo(root), PA_E_NOTSUP,
		    "store version %llu is not supported (1 is)",
		    (unsigned long long)version);
		goto out;
	}
	if ((s = pol_store_new()) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	for (c = root->children; c != NULL; c = c->next) {
		if (is_el(c, "filterList")) {
			struct pol_filterlist *fl = pol_store_add_filterlist(s);

			rc = fl ? load_filterlist(&l, c, fl) : PA_E_NOMEM;
		} else if (is_el(c, "filterAction")) {
			struct pol_filteraction *fa =
			    pol_store_add_filteraction(s);

			rc = fa ? load_filteraction(&l, c, fa) : PA_E_NOMEM;
		} else if (is_el(c, "policy")) {
			struct pol_policy *p = pol_store_add_policy(s);

			rc = p ? load_policy(&l, c, p) : PA_E_NOMEM;
		}
		if (rc != 0)
			goto out;
	}
	if ((rc = load_refs(&l, s, root)) != 0)
		goto out;
	if ((rc = pol_store_resolve(s, err)) != 0) {
		char where[sizeof(err->where)];

		/* Keep the object path, prefixed by the file. */
		snprintf(where, sizeof(where), "%s", err->where);
		snprintf(err->where, sizeof(err->where), "%.200s: %.300s", l.name,
		    where);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	if (rc == PA_E_NOMEM && err->what[0] == '\0')
		lerr(&l, 0, rc, "out of memory");
	secrets_free(&l);
	free(l.rule_line);
	pol_store_free(s);
	xmlFreeDoc(doc);
	return rc;
}

int
pol_store_load_xml(const char *path, const char *secrets_path,
    struct pol_store **out, struct pol_err *err)
{
	struct load l;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	memset(&l, 0, sizeof(l));
	l.name = path;
	l.err = err;
	if ((rc = read_file(&l, path, false, &buf, &len)) != 0)
		return rc;
	rc = pol_store_parse_xml(buf, len, path, secrets_path, out, err);
	free(buf);
	return rc;
}
