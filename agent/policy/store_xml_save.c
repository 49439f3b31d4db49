/*
 * Writing the local XML store and its secrets file (libxml2 tree API),
 * atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "pa_buf.h"
#include "store_xml.h"

static int
serr(struct pol_err *err, const char *where, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
serr(struct pol_err *err, const char *where, int rc, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->where, sizeof(err->where), "%s", where);
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- building the tree; every helper latches the first failure ---- */

struct out {
	xmlNsPtr	ns;
	int		rc;
};

static xmlNodePtr
el(struct out *o, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	if (o->rc != 0 || parent == NULL)
		return NULL;
	if ((n = xmlNewChild(parent, o->ns, (const xmlChar *)name, NULL)) ==
	    NULL)
		o->rc = PA_E_NOMEM;
	return n;
}

static void
el_text(struct out *o, xmlNodePtr parent, const char *name, const char *text)
{
	if (o->rc != 0 || parent == NULL || text == NULL)
		return;
	if (xmlNewTextChild(parent, o->ns, (const xmlChar *)name,
	    (const xmlChar *)text) == NULL)
		o->rc = PA_E_NOMEM;
}

static void
at(struct out *o, xmlNodePtr n, const char *name, const char *val)
{
	if (o->rc != 0 || n == NULL || val == NULL)
		return;
	if (xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)val) == NULL)
		o->rc = PA_E_NOMEM;
}

static void
at_u(struct out *o, xmlNodePtr n, const char *name, unsigned long long v)
{
	char b[24];

	snprintf(b, sizeof(b), "%llu", v);
	at(o, n, name, b);
}

static void
at_changed(struct out *o, xmlNodePtr n, int64_t v)
{
	char b[24];

	if (v == 0)
		return;
	snprintf(b, sizeof(b), "%lld", (long long)v);
	at(o, n, "changed", b);
}

static void
at_yn(struct out *o, xmlNodePtr n, const char *name, bool v)
{
	at(o, n, name, v ? "yes" : "no");
}

static void
at_guid(struct out *o, xmlNodePtr n, const char *name,
    const struct pa_guid *g)
{
	char b[PA_GUIDSTRLEN];

	at(o, n, name, pa_guid_str(g, b));
}

static void
at_addr(struct out *o, xmlNodePtr n, const char *name,
    const struct pa_addr *a)
{
	char b[PA_ADDRSTRLEN];

	at(o, n, name, pa_addr_str(a, b, sizeof(b)));
}

/* The name a PSK has in the secrets file. */
static void
psk_name(const struct pol_rule *r, size_t i, char *buf, size_t cap)
{
	char g[PA_GUIDSTRLEN];

	if (r->auth[i].psk_ref != NULL)
		snprintf(buf, cap, "%s", r->auth[i].psk_ref);
	else
		snprintf(buf, cap, "rule-%s-%zu", pa_guid_str(&r->id, g), i + 1);
}

static void
hex_text(struct out *o, xmlNodePtr parent, const char *name,
    const struct pa_secret *k, xmlNodePtr *made)
{
	char *hex;
	size_t cap = k->len * 2 + 1;

	*made = NULL;
	if (o->rc != 0)
		return;
	if ((hex = malloc(cap)) == NULL) {
		o->rc = PA_E_NOMEM;
		return;
	}
	pa_hex_encode(k->p, k->len, hex, cap);
	if ((*made = xmlNewTextChild(parent, o->ns, (const xmlChar *)name,
	    (const xmlChar *)hex)) == NULL)
		o->rc = PA_E_NOMEM;
	pa_wipe(hex, cap);
	free(hex);
}

static void
put_endpoint(struct out *o, xmlNodePtr parent, const char *name,
    const struct pol_endpoint *e)
{
	xmlNodePtr n = el(o, parent, name);
	char b[PA_ADDRSTRLEN];
	size_t i;

	at(o, n, "kind", pol_addr_kind_name(e->kind));
	switch (e->kind) {
	case POL_ADDR_HOST:
		at_addr(o, n, "address", &e->prefix.addr);
		break;
	case POL_ADDR_SUBNET:
		at_addr(o, n, "address", &e->prefix.addr);
		at_u(o, n, "prefix", e->prefix.len);
		break;
	case POL_ADDR_DNS:
		at(o, n, "dns", e->dns);
		for (i = 0; i < e->nresolved; i++)
			el_text(o, n, "resolved",
			    pa_addr_str(&e->resolved[i], b, sizeof(b)));
		break;
	default:
		break;
	}
}

static void
put_filterlist(struct out *o, xmlNodePtr root, const struct pol_filterlist *fl)
{
	xmlNodePtr n = el(o, root, "filterList"), f;
	size_t i;

	at_guid(o, n, "id", &fl->id);
	at(o, n, "name", fl->name);
	at_changed(o, n, fl->changed);
	el_text(o, n, "description", fl->description);
	for (i = 0; i < fl->nfilters; i++) {
		const struct pol_filter *x = &fl->filters[i];

		f = el(o, n, "filter");
		at_guid(o, f, "id", &x->id);
		if (x->proto != 0)
			at_u(o, f, "protocol", x->proto);
		if (x->sport != 0)
			at_u(o, f, "srcport", x->sport);
		if (x->dport != 0)
			at_u(o, f, "dstport", x->dport);
		at_yn(o, f, "mirrored", x->mirrored);
		el_text(o, f, "description", x->description);
		put_endpoint(o, f, "source", &x->src);
		put_endpoint(o, f, "destination", &x->dst);
	}
}

static void
put_filteraction(struct out *o, xmlNodePtr root,
    const struct pol_filteraction *fa)
{
	xmlNodePtr n = el(o, root, "filterAction"), f;
	size_t i;

	at_guid(o, n, "id", &fa->id);
	at(o, n, "name", fa->name);
	at(o, n, "action", pol_action_name(fa->action));
	at_yn(o, n, "inpass", fa->inpass);
	at_yn(o, n, "soft", fa->soft);
	if (fa->default_response)
		at_yn(o, n, "defaultResponse", true);
	if (fa->pfs_group != 0)
		at_u(o, n, "pfsGroup", fa->pfs_group);
	at_changed(o, n, fa->changed);
	el_text(o, n, "description", fa->description);
	for (i = 0; i < fa->noffers; i++) {
		const struct pol_qm_offer *x = &fa->offers[i];

		f = el(o, n, "offer");
		if (x->ah)
			at(o, f, "ah", pol_integ_name(x->ah_integ));
		if (x->esp) {
			at(o, f, "esp", pol_esp_cipher_name(x->esp_cipher));
			if (!pol_esp_cipher_is_gcm(x->esp_cipher))
				at(o, f, "espIntegrity",
				    pol_integ_name(x->esp_integ));
		}
		at_u(o, f, "lifeSeconds", x->life_sec);
		at_u(o, f, "lifeKilobytes", x->life_kb);
		at_yn(o, f, "pfs", x->pfs);
	}
}

static void
put_rule(struct out *o, xmlNodePtr p, const struct pol_rule *r,
    unsigned flags)
{
	xmlNodePtr n = el(o, p, "rule"), a, k;
	char name[256];
	size_t i;

	at_guid(o, n, "id", &r->id);
	at(o, n, "name", r->name);
	if (!pa_guid_is_nil(&r->filterlist_id))
		at_guid(o, n, "filterList", &r->filterlist_id);
	at_guid(o, n, "filterAction", &r->filteraction_id);
	if (r->tunnel.family != 0)
		at_addr(o, n, "tunnel", &r->tunnel);
	at(o, n, "connection", pol_conntype_name(r->conntype));
	at_yn(o, n, "active", r->active);
	if (r->default_response)
		at_yn(o, n, "defaultResponse", true);
	at_changed(o, n, r->changed);
	el_text(o, n, "description", r->description);
	for (i = 0; i < r->nauth; i++) {
		const struct pol_auth *x = &r->auth[i];

		a = el(o, n, "auth");
		at(o, a, "kind", pol_auth_kind_name(x->kind));
		if (x->kind == POL_AUTH_CERT)
			at(o, a, "ca", x->ca_dn);
		if (x->kind == POL_AUTH_CERT && x->certmap)
			at(o, a, "certmap", "yes");
		if (x->kind == POL_AUTH_CERT && x->excludecaname)
			at(o, a, "excludecaname", "yes");
		if (x->kind != POL_AUTH_PSK)
			continue;
		if ((flags & POL_XML_INLINE_KEYS) && x->psk != NULL) {
			at(o, a, "secret", x->psk_ref);
			hex_text(o, a, "key", x->psk, &k);
		} else {
			psk_name(r, i, name, sizeof(name));
			at(o, a, "secret", name);
		}
	}
}

static void
put_policy(struct out *o, xmlNodePtr root, const struct pol_policy *p,
    unsigned flags)
{
	xmlNodePtr n = el(o, root, "policy"), k, m;
	size_t i;

	at_guid(o, n, "id", &p->id);
	at(o, n, "name", p->name);
	at_yn(o, n, "assigned", p->assigned);
	at_u(o, n, "pollSeconds", p->poll_sec);
	at_yn(o, n, "activateDefaultRule", p->activate_default_rule);
	at_changed(o, n, p->changed);
	el_text(o, n, "description", p->description);
	k = el(o, n, "isakmp");
	at_guid(o, k, "id", &p->isakmp.id);
	at(o, k, "name", p->isakmp.name);
	at_yn(o, k, "masterPfs", p->isakmp.master_pfs);
	at_u(o, k, "qmPerMm", p->isakmp.qm_per_mm);
	at_u(o, k, "mmLifeSeconds", p->isakmp.mm_life_sec);
	if (p->isakmp.options != 0)
		at_u(o, k, "options", p->isakmp.options);
	for (i = 0; i < p->isakmp.nmethods; i++) {
		const struct pol_mm_method *x = &p->isakmp.methods[i];

		m = el(o, k, "method");
		at(o, m, "cipher", pol_mm_cipher_name(x->cipher));
		at(o, m, "hash", pol_integ_name(x->hash));
		at_u(o, m, "group", x->dh_group);
		if (x->life_sec != 0)
			at_u(o, m, "lifeSeconds", x->life_sec);
		if (x->life_kb != 0)
			at_u(o, m, "lifeKilobytes", x->life_kb);
		if (x->qm_limit != 0)
			at_u(o, m, "qmLimit", x->qm_limit);
	}
	for (i = 0; i < p->nrules; i++)
		put_rule(o, n, &p->rules[i], flags);
}

static int
new_doc(const char *root_name, xmlDocPtr *doc, struct out *o)
{
	xmlNodePtr root;

	memset(o, 0, sizeof(*o));
	if ((*doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL ||
	    (root = xmlNewNode(NULL, (const xmlChar *)root_name)) == NULL) {
		xmlFreeDoc(*doc);
		*doc = NULL;
		return PA_E_NOMEM;
	}
	xmlDocSetRootElement(*doc, root);
	if ((o->ns = xmlNewNs(root, (const xmlChar *)POL_XML_NS, NULL)) ==
	    NULL)
		return PA_E_NOMEM;
	xmlSetNs(root, o->ns);
	at(o, root, "version", "1");
	return o->rc;
}

static int
dump(xmlDocPtr doc, char **buf, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;

	*buf = NULL;
	*len = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &n, "UTF-8", 1);
	if (mem == NULL || n < 0)
		return PA_E_NOMEM;
	if ((*buf = malloc((size_t)n + 1)) == NULL) {
		xmlFree(mem);
		return PA_E_NOMEM;
	}
	memcpy(*buf, mem, (size_t)n);
	(*buf)[n] = '\0';
	*len = (size_t)n;
	pa_wipe(mem, (size_t)n);	/* may hold inline keys */
	xmlFree(mem);
	return 0;
}

int
pol_store_format_xml(const struct pol_store *s, unsigned flags, char **buf,
    size_t *len, struct pol_err *err)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	struct out o;
	size_t i;
	int rc;

	memset(err, 0, sizeof(*err));
	*buf = NULL;
	*len = 0;
	if ((rc = new_doc("ipsecStore", &doc, &o)) != 0)
		goto out;
	root = xmlDocGetRootElement(doc);
	for (i = 0; i < s->nfilterlists; i++)
		put_filterlist(&o, root, &s->filterlists[i]);
	for (i = 0; i < s->nfilteractions; i++)
		put_filteraction(&o, root, &s->filteractions[i]);
	for (i = 0; i < s->npolicies; i++)
		put_policy(&o, root, &s->policies[i], flags);
	if ((rc = o.rc) != 0 || (rc = dump(doc, buf, len)) != 0)
		goto out;
out:
	if (rc != 0)
		serr(err, "store", rc, "cannot serialise: %s",
		    pa_strerror(rc));
	xmlFreeDoc(doc);
	return rc;
}

/* The secrets document; *any says whether there was a key at all. */
static int
format_secrets(const struct pol_store *s, char **buf, size_t *len,
    bool *any)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, k;
	struct out o;
	char name[256];
	size_t i, j, a;
	int rc;

	*any = false;
	if ((rc = new_doc("ipsecSecrets", &doc, &o)) != 0)
		goto out;
	root = xmlDocGetRootElement(doc);
	for (i = 0; i < s->npolicies; i++)
		for (j = 0; j < s->policies[i].nrules; j++) {
			const struct pol_rule *r = &s->policies[i].rules[j];

			for (a = 0; a < r->nauth; a++) {
				if (r->auth[a].kind != POL_AUTH_PSK ||
				    r->auth[a].psk == NULL)
					continue;
				psk_name(r, a, name, sizeof(name));
				/* Shared references are written once. */
				if (r->auth[a].psk_ref != NULL) {
					xmlNodePtr c;
					bool dup = false;

					for (c = root->children; c != NULL;
					    c = c->next) {
						xmlChar *v = xmlGetNoNsProp(c,
						    (const xmlChar *)"name");

						if (v != NULL && strcmp(
						    (const char *)v, name) == 0)
							dup = true;
						xmlFree(v);
					}
					if (dup)
						continue;
				}
				hex_text(&o, root, "psk", r->auth[a].psk, &k);
				at(&o, k, "name", name);
				*any = true;
			}
		}
	if ((rc = o.rc) != 0)
		goto out;
	rc = dump(doc, buf, len);
out:
	xmlFreeDoc(doc);
	return rc;
}

int
pol_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct pol_err *err)
{
	char *tmp = NULL, *dircopy = NULL;
	const uint8_t *p = buf;
	size_t off = 0;
	ssize_t n;
	int fd = -1, dfd = -1, rc = 0;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) == -1) {
		tmp = NULL;
		return serr(err, path, PA_E_NOMEM, "out of memory");
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		rc = serr(err, path, PA_E_SYS, "cannot create a temporary "
		    "file: %s", strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, mode) == -1) {
		rc = serr(err, path, PA_E_SYS, "chmod: %s", strerror(errno));
		goto out;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = serr(err, path, PA_E_SYS, "write: %s",
			    strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		rc = serr(err, path, PA_E_SYS, "fsync: %s", strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = serr(err, path, PA_E_SYS, "close: %s", strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		rc = serr(err, path, PA_E_SYS, "rename: %s", strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if ((dircopy = strdup(path)) != NULL &&
	    (dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dircopy);
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	return rc;
}

int
pol_store_save_xml(const struct pol_store *s, const char *path,
    const char *secrets_path, struct pol_err *err)
{
	char *xml = NULL, *sec = NULL;
	size_t xlen = 0, slen = 0;
	bool any = false;
	int rc;

	memset(err, 0, sizeof(*err));
	if ((rc = pol_store_format_xml(s, 0, &xml, &xlen, err)) != 0)
		goto out;
	if ((rc = format_secrets(s, &sec, &slen, &any)) != 0) {
		serr(err, path, rc, "cannot serialise the secrets");
		goto out;
	}
	if (any && secrets_path == NULL) {
		rc = serr(err, path, PA_E_INVAL, "the store has preshared "
		    "keys but no secrets file was given");
		goto out;
	}
	if (secrets_path != NULL && (rc = pol_write_atomic(secrets_path, sec,
	    slen, 0600, err)) != 0)
		goto out;
	rc = pol_write_atomic(path, xml, xlen, 0644, err);
out:
	free(xml);
	if (sec != NULL) {
		pa_wipe(sec, slen);
		free(sec);
	}
	return rc;
}
