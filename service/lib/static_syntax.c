/*
 * `ipseccmd static`: the syntax of values (Main and Quick Mode methods,
 * endpoints) and the one-line text of offers, endpoints and filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "offer.h"

#include "static_int.h"

/* ---- algorithm syntax ---- */

/* "3DES-SHA1-2 AES128-SHA256-14": Main Mode methods. */
int
svc_st_parse_mmsec(const char *spec, struct pol_isakmp *k)
{
	struct pol_mm_method *v = NULL, *m;
	char *copy, *tok, *save = NULL;
	size_t n = 0;
	int rc = 0;

	if ((copy = strdup(spec)) == NULL)
		return svc_st_enomem();
	for (tok = strtok_r(copy, " ,", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,", &save)) {
		char *h, *g;
		uint32_t grp = 0;

		if ((m = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			rc = svc_st_enomem();
			goto out;
		}
		v = m;
		m = &v[n++];
		memset(m, 0, sizeof(*m));
		if ((h = strchr(tok, '-')) == NULL ||
		    (g = strchr(h + 1, '-')) == NULL) {
			rc = svc_st_fail(SVC_STATIC_ERR, "mmsecmethods: '%s' "
			    "is not CIPHER-HASH-GROUP (e.g. 3DES-SHA1-2)", tok);
			goto out;
		}
		*h++ = '\0';
		*g++ = '\0';
		if (pol_mm_cipher_parse(tok, &m->cipher) != 0) {
			rc = svc_st_fail(SVC_STATIC_ERR, "mmsecmethods: "
			    "unknown cipher '%s' (DES, 3DES, AES128, AES192, "
			    "AES256)", tok);
			goto out;
		}
		if (pol_integ_parse(h, &m->hash) != 0 ||
		    m->hash == POL_INTEG_NONE) {
			rc = svc_st_fail(SVC_STATIC_ERR, "mmsecmethods: "
			    "unknown hash '%s' (MD5, SHA1, SHA256)", h);
			goto out;
		}
		if (svc_st_parse_u32("mmsecmethods group", g, 1, 65535,
		    &grp) != 0 || !pol_dh_group_valid((uint16_t)grp)) {
			rc = svc_st_fail(SVC_STATIC_ERR, "mmsecmethods: "
			    "unsupported Diffie-Hellman group '%s' (1, 2, 14, "
			    "19, 20)", g);
			goto out;
		}
		m->dh_group = (uint16_t)grp;
	}
	if (n == 0) {
		rc = svc_st_fail(SVC_STATIC_ERR, "mmsecmethods: empty");
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
int
svc_st_parse_qmsec(const char *spec, struct pol_filteraction *fa)
{
	struct pol_qm_offer *v = NULL;
	char what[256];
	size_t n = 0;
	int rc;

	if ((rc = pol_offers_parse(spec, &v, &n, what, sizeof(what))) != 0)
		return rc == PA_E_NOMEM ? svc_st_enomem() :
		    svc_st_fail(SVC_STATIC_ERR, "%s", what);
	free(fa->offers);
	fa->offers = v;
	fa->noffers = n;
	return 0;
}

void
svc_st_fmt_offer(const struct pol_qm_offer *o, char *buf, size_t cap)
{
	pol_offer_format(o, buf, cap);
}

/* ---- addresses ---- */

/*
 * "me", "any", an address, "addr/len", with an optional mask ("/len" or
 * a dotted mask), or a DNS name (resolved now; the name is kept).
 */
int
svc_st_parse_endpoint(const char *key, const char *v, const char *mask,
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
			return svc_st_fail(SVC_STATIC_ERR, "%smask: no mask on "
			    "%s", key, v);
		return 0;
	}
	if (strchr(v, '/') != NULL || pa_addr_parse(v, &m) == 0) {
		if ((rc = pa_prefix_parse(v, &e->prefix)) != 0)
			return svc_st_fail(SVC_STATIC_ERR, "%saddr=%s: %s",
			    key, v, rc == PA_E_INVAL ? "the mask is not a "
			    "prefix or host bits are set" : "not an address or "
			    "prefix");
		if (mask != NULL) {
			if (strchr(v, '/') != NULL)
				return svc_st_fail(SVC_STATIC_ERR, "%saddr has "
				    "a prefix length and %smask is given", key,
				    key);
			if (strchr(mask, '.') != NULL ||
			    strchr(mask, ':') != NULL) {
				if (pa_addr_parse(mask, &m) != 0 ||
				    m.family != e->prefix.addr.family)
					return svc_st_fail(SVC_STATIC_ERR,
					    "%smask=%s: not a mask of the "
					    "address family", key, mask);
				if (pa_mask_to_len(&m, &len) != 0)
					return svc_st_fail(SVC_STATIC_ERR,
					    "%smask=%s: the mask is not a "
					    "prefix", key, mask);
			} else {
				uint32_t l = 0;

				if (svc_st_parse_u32(key, mask, 0, pa_addr_bits(
				    e->prefix.addr.family), &l) != 0)
					return SVC_STATIC_ERR;
				len = (uint8_t)l;
			}
			snprintf(buf, sizeof(buf), "%s/%u", v, (unsigned)len);
			if (pa_prefix_parse(buf, &e->prefix) != 0)
				return svc_st_fail(SVC_STATIC_ERR, "%saddr=%s "
				    "%smask=%s: host bits are set beyond the "
				    "mask", key, v, key, mask);
		}
		e->kind = e->prefix.len ==
		    pa_addr_bits(e->prefix.addr.family) ? POL_ADDR_HOST :
		    POL_ADDR_SUBNET;
		return 0;
	}
	{
		char why[160];

		if (!pol_dns_name_ok(v, why, sizeof(why)))
			return svc_st_fail(SVC_STATIC_ERR, "%saddr=%s: %s",
			    key, v, why);
	}
	if (mask != NULL)
		return svc_st_fail(SVC_STATIC_ERR, "%smask: no mask on a DNS "
		    "name", key);
	e->kind = POL_ADDR_DNS;
	if ((e->dns = strdup(v)) == NULL)
		return svc_st_enomem();
	return 0;
}

void
svc_st_fmt_endpoint(const struct pol_endpoint *e, char *buf, size_t cap)
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

void
svc_st_fmt_filter(const struct pol_filter *f, char *buf, size_t cap)
{
	char s[256], d[256], p[8], sp[8] = "any", dp[8] = "any";

	svc_st_fmt_endpoint(&f->src, s, sizeof(s));
	svc_st_fmt_endpoint(&f->dst, d, sizeof(d));
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

