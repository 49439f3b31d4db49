/*
 * ISAKMP codec: see isakmp.h. Every read goes through struct rd; every
 * payload is parsed inside a child reader bounded by its declared length.
 */
#include <stdlib.h>
#include <string.h>

#include "isakmp.h"

int
isk_parse_hdr(const uint8_t *p, size_t len, struct isk_hdr *h,
    struct pa_bytes *body)
{
	struct rd r;
	int rc;

	memset(h, 0, sizeof(*h));
	rd_init(&r, p, len);
	if ((rc = rd_copy(&r, h->cky_i, 8)) != 0 ||
	    (rc = rd_copy(&r, h->cky_r, 8)) != 0 ||
	    (rc = rd_u8(&r, &h->np)) != 0 ||
	    (rc = rd_u8(&r, &h->version)) != 0 ||
	    (rc = rd_u8(&r, &h->exch)) != 0 ||
	    (rc = rd_u8(&r, &h->flags)) != 0 ||
	    (rc = rd_u32(&r, &h->msgid)) != 0 ||
	    (rc = rd_u32(&r, &h->len)) != 0)
		return rc;
	if ((h->version >> 4) != 1)
		return PA_E_NOTSUP;
	if (h->len < ISK_HDR_LEN || h->len > len)
		return PA_E_SHORT;
	if (h->len != len)
		return PA_E_TRAILING;
	*body = rd_rest(&r);
	return 0;
}

int
isk_parse_chain(struct pa_bytes body, uint8_t np, bool pad_ok,
    struct isk_msg *m)
{
	struct rd r, pl;
	uint8_t next, res;
	uint16_t plen;
	size_t off;
	int rc;

	memset(m, 0, sizeof(*m));
	m->body = body;
	rd_init(&r, body.p, body.len);
	while (np != ISK_PL_NONE) {
		off = r.off;
		if ((rc = rd_u8(&r, &next)) != 0 ||
		    (rc = rd_u8(&r, &res)) != 0 ||
		    (rc = rd_u16(&r, &plen)) != 0)
			return rc;
		if (plen < ISK_GEN_LEN)
			return PA_E_FORMAT;
		if ((rc = rd_sub(&r, plen - ISK_GEN_LEN, &pl)) != 0)
			return rc;
		if (m->npl == ISK_MAX_PAYLOADS)
			return PA_E_NOSPACE;
		m->pl[m->npl].type = np;
		m->pl[m->npl].body = rd_rest(&pl);
		m->pl[m->npl].off = off;
		m->pl[m->npl].len = plen;
		m->npl++;
		np = next;
	}
	m->end = r.off;
	if (!rd_empty(&r) && (!pad_ok || rd_left(&r) > 255))
		return PA_E_TRAILING;
	return 0;
}

const struct isk_payload *
isk_find(const struct isk_msg *m, uint8_t type, size_t *from)
{
	size_t i;

	for (i = from != NULL ? *from : 0; i < m->npl; i++)
		if (m->pl[i].type == type) {
			if (from != NULL)
				*from = i + 1;
			return &m->pl[i];
		}
	if (from != NULL)
		*from = m->npl;
	return NULL;
}

int
isk_span(const struct isk_msg *m, size_t idx, struct pa_bytes *out)
{
	struct rd r;
	size_t start;
	int rc;

	start = idx < m->npl ? m->pl[idx].off : m->end;
	if (start > m->end)
		return PA_E_INVAL;
	rd_init(&r, m->body.p, m->end);
	if ((rc = rd_skip(&r, start)) != 0)
		return rc;
	*out = rd_rest(&r);
	return 0;
}

bool
isk_payload_known(uint8_t t)
{
	switch (t) {
	case ISK_PL_SA: case ISK_PL_KE: case ISK_PL_ID: case ISK_PL_CERT:
	case ISK_PL_CR: case ISK_PL_HASH: case ISK_PL_SIG: case ISK_PL_NONCE:
	case ISK_PL_N: case ISK_PL_D: case ISK_PL_VID: case ISK_PL_ATTR:
	case ISK_PL_NATD: case ISK_PL_NATOA: case ISK_PL_GSS:
	case ISK_PL_NATD_DRAFT: case ISK_PL_NATOA_DRAFT: case ISK_PL_FRAG:
		return true;
	default:
		return false;
	}
}

int
isk_attr_next(struct rd *r, struct isk_attr *a)
{
	struct rd save = *r;
	uint16_t t, v;
	int rc;

	memset(a, 0, sizeof(*a));
	if (rd_empty(r))
		return PA_E_NOENT;
	if ((rc = rd_u16(r, &t)) != 0 || (rc = rd_u16(r, &v)) != 0)
		goto fail;
	a->type = t & 0x7fff;
	if (t & 0x8000) {
		a->tv = true;
		a->tv_val = v;
		return 0;
	}
	if ((rc = rd_bytes(r, v, &a->val)) != 0)
		goto fail;
	return 0;
fail:
	*r = save;
	return rc;
}

int
isk_attr_num(const struct isk_attr *a, uint64_t *v)
{
	struct rd r;
	uint8_t b;
	size_t i;

	if (a->tv) {
		*v = a->tv_val;
		return 0;
	}
	if (a->val.len == 0 || a->val.len > 8)
		return PA_E_FORMAT;
	*v = 0;
	rd_init(&r, a->val.p, a->val.len);
	for (i = 0; i < a->val.len; i++) {
		if (rd_u8(&r, &b) != 0)
			return PA_E_SHORT;
		*v = (*v << 8) | b;
	}
	return 0;
}

/* Validate an attribute list: every attribute complete, nothing left. */
static int
isk_attrs_check(struct pa_bytes b)
{
	struct isk_attr a;
	struct rd r;
	int rc;

	rd_init(&r, b.p, b.len);
	while ((rc = isk_attr_next(&r, &a)) == 0)
		;
	return rc == PA_E_NOENT ? 0 : rc;
}

/* One generic payload header of the expected type inside a nested chain. */
static int
isk_nested(struct rd *r, uint8_t *next, struct rd *body)
{
	uint8_t res;
	uint16_t plen;
	int rc;

	if ((rc = rd_u8(r, next)) != 0 || (rc = rd_u8(r, &res)) != 0 ||
	    (rc = rd_u16(r, &plen)) != 0)
		return rc;
	if (plen < ISK_GEN_LEN)
		return PA_E_FORMAT;
	return rd_sub(r, plen - ISK_GEN_LEN, body);
}

static int
isk_parse_prop(struct rd *pr, struct isk_sa *sa, struct isk_prop *p)
{
	struct rd xr;
	uint8_t spisz, ntr, next;
	uint16_t res2;
	size_t i;
	int rc;

	if ((rc = rd_u8(pr, &p->num)) != 0 || (rc = rd_u8(pr, &p->proto)) != 0 ||
	    (rc = rd_u8(pr, &spisz)) != 0 || (rc = rd_u8(pr, &ntr)) != 0 ||
	    (rc = rd_bytes(pr, spisz, &p->spi)) != 0)
		return rc;
	if (ntr == 0)
		return PA_E_FORMAT;
	p->xf_first = sa->nxf;
	next = ISK_PL_T;
	for (i = 0; i < ntr; i++) {
		struct isk_xform *x;

		if (next != ISK_PL_T)
			return PA_E_FORMAT;
		if ((rc = isk_nested(pr, &next, &xr)) != 0)
			return rc;
		if (sa->nxf == ISK_MAX_XFORMS)
			return PA_E_NOSPACE;
		x = &sa->xf[sa->nxf];
		if ((rc = rd_u8(&xr, &x->num)) != 0 ||
		    (rc = rd_u8(&xr, &x->id)) != 0 ||
		    (rc = rd_u16(&xr, &res2)) != 0)
			return rc;
		x->attrs = rd_rest(&xr);
		if ((rc = isk_attrs_check(x->attrs)) != 0)
			return rc;
		sa->nxf++;
	}
	if (next != ISK_PL_NONE)
		return PA_E_FORMAT;
	if (!rd_empty(pr))
		return PA_E_TRAILING;
	p->nxf = ntr;
	return 0;
}

int
isk_parse_sa(struct pa_bytes b, struct isk_sa *sa)
{
	struct rd r, pr;
	uint8_t next;
	int rc;

	memset(sa, 0, sizeof(*sa));
	rd_init(&r, b.p, b.len);
	if ((rc = rd_u32(&r, &sa->doi)) != 0)
		return rc;
	if (sa->doi != ISK_DOI_IPSEC)
		return PA_E_NOTSUP;
	if ((rc = rd_u32(&r, &sa->sit)) != 0)
		return rc;
	if (sa->sit != ISK_SIT_IDENTITY_ONLY)
		return PA_E_NOTSUP;
	next = ISK_PL_P;
	do {
		if (next != ISK_PL_P)
			return PA_E_FORMAT;
		if ((rc = isk_nested(&r, &next, &pr)) != 0)
			return rc;
		if (sa->nprops == ISK_MAX_PROPS)
			return PA_E_NOSPACE;
		if ((rc = isk_parse_prop(&pr, sa, &sa->props[sa->nprops])) != 0)
			return rc;
		sa->nprops++;
	} while (next != ISK_PL_NONE);
	if (!rd_empty(&r))
		return PA_E_TRAILING;
	return 0;
}

int
isk_parse_id(struct pa_bytes b, struct isk_id *id)
{
	struct rd r;
	int rc;

	memset(id, 0, sizeof(*id));
	rd_init(&r, b.p, b.len);
	if ((rc = rd_u8(&r, &id->type)) != 0 ||
	    (rc = rd_u8(&r, &id->proto)) != 0 ||
	    (rc = rd_u16(&r, &id->port)) != 0)
		return rc;
	id->data = rd_rest(&r);
	switch (id->type) {
	case ISK_ID_IPV4:
		return id->data.len == 4 ? 0 : PA_E_FORMAT;
	case ISK_ID_IPV4_SUBNET:
	case ISK_ID_IPV4_RANGE:
		return id->data.len == 8 ? 0 : PA_E_FORMAT;
	case ISK_ID_IPV6:
		return id->data.len == 16 ? 0 : PA_E_FORMAT;
	case ISK_ID_IPV6_SUBNET:
	case ISK_ID_IPV6_RANGE:
		return id->data.len == 32 ? 0 : PA_E_FORMAT;
	default:
		return id->data.len > 0 ? 0 : PA_E_FORMAT;
	}
}

int
isk_parse_cert(struct pa_bytes b, struct isk_cert *c)
{
	struct rd r;
	int rc;

	rd_init(&r, b.p, b.len);
	if ((rc = rd_u8(&r, &c->enc)) != 0)
		return rc;
	c->data = rd_rest(&r);
	return 0;
}

int
isk_parse_notify(struct pa_bytes b, struct isk_notify *n)
{
	struct rd r;
	uint8_t spisz;
	int rc;

	memset(n, 0, sizeof(*n));
	rd_init(&r, b.p, b.len);
	if ((rc = rd_u32(&r, &n->doi)) != 0 || (rc = rd_u8(&r, &n->proto)) != 0 ||
	    (rc = rd_u8(&r, &spisz)) != 0 || (rc = rd_u16(&r, &n->type)) != 0 ||
	    (rc = rd_bytes(&r, spisz, &n->spi)) != 0)
		return rc;
	n->data = rd_rest(&r);
	return 0;
}

int
isk_parse_delete(struct pa_bytes b, struct isk_delete *d)
{
	struct rd r;
	int rc;

	memset(d, 0, sizeof(*d));
	rd_init(&r, b.p, b.len);
	if ((rc = rd_u32(&r, &d->doi)) != 0 || (rc = rd_u8(&r, &d->proto)) != 0 ||
	    (rc = rd_u8(&r, &d->spi_size)) != 0 ||
	    (rc = rd_u16(&r, &d->nspi)) != 0)
		return rc;
	if (d->spi_size == 0 || d->nspi == 0)
		return PA_E_FORMAT;
	if ((rc = rd_bytes(&r, (size_t)d->spi_size * d->nspi, &d->spis)) != 0)
		return rc;
	return rd_empty(&r) ? 0 : PA_E_TRAILING;
}

int
isk_parse_natoa(struct pa_bytes b, struct isk_natoa *o)
{
	struct rd r;
	int rc;

	rd_init(&r, b.p, b.len);
	if ((rc = rd_u8(&r, &o->type)) != 0 || (rc = rd_skip(&r, 3)) != 0)
		return rc;
	o->addr = rd_rest(&r);
	if (o->type == ISK_ID_IPV4)
		return o->addr.len == 4 ? 0 : PA_E_FORMAT;
	if (o->type == ISK_ID_IPV6)
		return o->addr.len == 16 ? 0 : PA_E_FORMAT;
	return PA_E_FORMAT;
}

int
isk_parse_frag(struct pa_bytes b, struct isk_frag *f)
{
	struct rd r;
	int rc;

	rd_init(&r, b.p, b.len);
	if ((rc = rd_u16(&r, &f->id)) != 0 || (rc = rd_u8(&r, &f->num)) != 0 ||
	    (rc = rd_u8(&r, &f->flags)) != 0)
		return rc;
	if (f->num == 0)
		return PA_E_FORMAT;
	f->data = rd_rest(&r);
	return 0;
}

int
isk_check_payloads(const struct isk_msg *m)
{
	union {
		struct isk_sa		sa;
		struct isk_id		id;
		struct isk_cert		cert;
		struct isk_notify	n;
		struct isk_delete	d;
		struct isk_natoa	oa;
		struct isk_frag		f;
	} *u;
	size_t i;
	int rc = 0;

	if ((u = malloc(sizeof(*u))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < m->npl && rc == 0; i++) {
		const struct isk_payload *p = &m->pl[i];

		switch (p->type) {
		case ISK_PL_SA:
			rc = isk_parse_sa(p->body, &u->sa);
			break;
		case ISK_PL_ID:
			rc = isk_parse_id(p->body, &u->id);
			break;
		case ISK_PL_CERT:
		case ISK_PL_CR:
			rc = isk_parse_cert(p->body, &u->cert);
			break;
		case ISK_PL_N:
			rc = isk_parse_notify(p->body, &u->n);
			break;
		case ISK_PL_D:
			rc = isk_parse_delete(p->body, &u->d);
			break;
		case ISK_PL_NATOA:
		case ISK_PL_NATOA_DRAFT:
			rc = isk_parse_natoa(p->body, &u->oa);
			break;
		case ISK_PL_FRAG:
			rc = isk_parse_frag(p->body, &u->f);
			break;
		case ISK_PL_NONCE:
			rc = isk_check_nonce(p->body);
			break;
		case ISK_PL_P:
		case ISK_PL_T:
			rc = PA_E_FORMAT;	/* only inside an SA */
			break;
		case ISK_PL_KE:
		case ISK_PL_HASH:
		case ISK_PL_SIG:
		case ISK_PL_NATD:
		case ISK_PL_NATD_DRAFT:
			rc = p->body.len > 0 ? 0 : PA_E_FORMAT;
			break;
		default:
			break;
		}
	}
	free(u);
	return rc;
}

int
isk_check_nonce(struct pa_bytes b)
{
	return b.len >= 8 && b.len <= 256 ? 0 : PA_E_FORMAT;
}

static const struct {
	enum isk_vid	 vid;
	const char	*name;
	uint8_t		 bytes[16];
	size_t		 match;		/* bytes compared; longer VIDs allowed */
	bool		 exact;		/* length must be 16 */
} isk_vids[] = {
	{ ISK_VID_MS_NT5, "MS NT5 ISAKMPOAKLEY", { 0x1e, 0x2b, 0x51, 0x69,
	    0x05, 0x99, 0x1c, 0x7d, 0x7c, 0x96, 0xfc, 0xbf, 0xb5, 0x87,
	    0xe4, 0x61 }, 16, false },
	{ ISK_VID_NATT_RFC, "RFC 3947", { 0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03,
	    0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f },
	    16, true },
	{ ISK_VID_NATT_DRAFT02N, "draft-ietf-ipsec-nat-t-ike-02\\n", { 0x90,
	    0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81,
	    0xb5, 0xec, 0x42, 0x7b, 0x1f }, 16, true },
	{ ISK_VID_NATT_DRAFT02, "draft-ietf-ipsec-nat-t-ike-02", { 0xcd,
	    0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd, 0xb2,
	    0xfc, 0x68, 0xb6, 0xa4, 0x48 }, 16, true },
	{ ISK_VID_NATT_DRAFT03, "draft-ietf-ipsec-nat-t-ike-03", { 0x7d,
	    0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17, 0x9d,
	    0x92, 0x15, 0x52, 0x9d, 0x56 }, 16, true },
	{ ISK_VID_DPD, "DPD", { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1,
	    0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 }, 14, false },
	{ ISK_VID_FRAGMENTATION, "FRAGMENTATION", { 0x40, 0x48, 0xb7, 0xd5,
	    0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6,
	    0xc2, 0xd3 }, 16, false },
	{ ISK_VID_INITIAL_CONTACT, "Vid-Initial-Contact", { 0x26, 0x24, 0x4d,
	    0x38, 0xed, 0xdb, 0x61, 0xb3, 0x17, 0x2a, 0x36, 0xe3, 0xd0,
	    0xcf, 0xb8, 0x19 }, 16, true },
	{ ISK_VID_GSSAPI, "GSSAPI", { 0x62, 0x1b, 0x04, 0xbb, 0x09, 0x88,
	    0x2a, 0xc1, 0xe1, 0x59, 0x35, 0xfe, 0xfa, 0x24, 0xae, 0xee },
	    16, true },
	{ ISK_VID_XAUTH, "XAUTH", { 0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7,
	    0x12 }, 8, true },
	{ ISK_VID_OURS, "Linux IPsec Policy Agent 1", { 0xb6, 0x54, 0xb5,
	    0x6f, 0xaf, 0x67, 0x21, 0xb3, 0x80, 0x1e, 0x3e, 0xd8, 0x5a,
	    0x24, 0x86, 0x6f }, 16, true },
};

enum isk_vid
isk_vid_classify(struct pa_bytes b, uint32_t *version)
{
	struct rd r;
	size_t i;

	if (version != NULL)
		*version = 0;
	for (i = 0; i < sizeof(isk_vids) / sizeof(isk_vids[0]); i++) {
		if (b.len < isk_vids[i].match)
			continue;
		if (isk_vids[i].exact && b.len != isk_vids[i].match)
			continue;
		if (memcmp(b.p, isk_vids[i].bytes, isk_vids[i].match) != 0)
			continue;
		if (isk_vids[i].vid == ISK_VID_MS_NT5) {
			if (b.len != 20)
				continue;
			rd_init(&r, b.p, b.len);
			if (rd_skip(&r, 16) != 0 ||
			    (version != NULL && rd_u32(&r, version) != 0))
				continue;
		}
		return isk_vids[i].vid;
	}
	return ISK_VID_UNKNOWN;
}

const uint8_t *
isk_vid_bytes(enum isk_vid v)
{
	size_t i;

	for (i = 0; i < sizeof(isk_vids) / sizeof(isk_vids[0]); i++)
		if (isk_vids[i].vid == v)
			return isk_vids[i].bytes;
	return NULL;
}

const char *
isk_vid_name(enum isk_vid v)
{
	size_t i;

	for (i = 0; i < sizeof(isk_vids) / sizeof(isk_vids[0]); i++)
		if (isk_vids[i].vid == v)
			return isk_vids[i].name;
	return "unknown";
}

int
isk_hdr_write(struct wr *w, const struct isk_hdr *h, struct isk_chain *c)
{
	size_t start = w->len;

	wr_bytes(w, h->cky_i, 8);
	wr_bytes(w, h->cky_r, 8);
	wr_u8(w, ISK_PL_NONE);
	wr_u8(w, ISK_VERSION);
	wr_u8(w, h->exch);
	wr_u8(w, h->flags);
	wr_u32(w, h->msgid);
	wr_u32(w, ISK_HDR_LEN);
	c->np_off = start + 16;
	c->np_next = ISK_VERSION;
	c->open = true;
	return wr_error(w);
}

int
isk_hdr_close(struct wr *w, size_t hdr_off)
{
	if (w->len - hdr_off > UINT32_MAX)
		return PA_E_NOSPACE;
	return wr_patch_u32(w, hdr_off + 24, (uint32_t)(w->len - hdr_off));
}

void
isk_chain_init(struct isk_chain *c)
{
	memset(c, 0, sizeof(*c));
}

int
isk_pl_open(struct wr *w, struct isk_chain *c, uint8_t type, size_t *start)
{
	int rc;

	if (c->open && (rc = wr_patch_u16(w, c->np_off,
	    (uint16_t)((type << 8) | c->np_next))) != 0)
		return rc;
	*start = w->len;
	wr_u8(w, ISK_PL_NONE);
	wr_u8(w, 0);
	wr_u16(w, ISK_GEN_LEN);
	c->np_off = *start;
	c->np_next = 0;
	c->open = true;
	return wr_error(w);
}

int
isk_pl_close(struct wr *w, size_t start)
{
	int rc;

	if ((rc = wr_error(w)) != 0)
		return rc;
	if (w->len - start > UINT16_MAX)
		return PA_E_NOSPACE;
	return wr_patch_u16(w, start + 2, (uint16_t)(w->len - start));
}

int
isk_pl_data(struct wr *w, struct isk_chain *c, uint8_t type,
    const void *data, size_t len)
{
	size_t start;
	int rc;

	if ((rc = isk_pl_open(w, c, type, &start)) != 0)
		return rc;
	wr_bytes(w, data, len);
	return isk_pl_close(w, start);
}

int
isk_attr_tv(struct wr *w, uint16_t type, uint16_t val)
{
	wr_u16(w, (uint16_t)(0x8000 | type));
	wr_u16(w, val);
	return wr_error(w);
}

int
isk_attr_tlv(struct wr *w, uint16_t type, const void *p, size_t len)
{
	if (len > UINT16_MAX)
		return PA_E_INVAL;
	wr_u16(w, type & 0x7fff);
	wr_u16(w, (uint16_t)len);
	wr_bytes(w, p, len);
	return wr_error(w);
}

int
isk_attr_num_put(struct wr *w, uint16_t type, uint32_t val)
{
	if (val <= 0xffff)
		return isk_attr_tv(w, type, (uint16_t)val);
	wr_u16(w, type & 0x7fff);
	wr_u16(w, 4);
	wr_u32(w, val);
	return wr_error(w);
}

const char *
isk_exch_name(uint8_t e)
{
	switch (e) {
	case ISK_EXCH_BASE: return "Base";
	case ISK_EXCH_MAIN: return "Main Mode";
	case ISK_EXCH_AUTH_ONLY: return "Authentication Only";
	case ISK_EXCH_AGGRESSIVE: return "Aggressive Mode";
	case ISK_EXCH_INFO: return "Informational";
	case ISK_EXCH_TRANSACTION: return "Transaction";
	case ISK_EXCH_QUICK: return "Quick Mode";
	case ISK_EXCH_NEWGROUP: return "New Group Mode";
	default: return "unknown";
	}
}

const char *
isk_pl_name(uint8_t t)
{
	switch (t) {
	case ISK_PL_NONE: return "NONE";
	case ISK_PL_SA: return "SA";
	case ISK_PL_P: return "P";
	case ISK_PL_T: return "T";
	case ISK_PL_KE: return "KE";
	case ISK_PL_ID: return "ID";
	case ISK_PL_CERT: return "CERT";
	case ISK_PL_CR: return "CR";
	case ISK_PL_HASH: return "HASH";
	case ISK_PL_SIG: return "SIG";
	case ISK_PL_NONCE: return "NONCE";
	case ISK_PL_N: return "N";
	case ISK_PL_D: return "D";
	case ISK_PL_VID: return "VID";
	case ISK_PL_ATTR: return "ATTR";
	case ISK_PL_NATD: return "NAT-D";
	case ISK_PL_NATOA: return "NAT-OA";
	case ISK_PL_GSS: return "GSS";
	case ISK_PL_NATD_DRAFT: return "NAT-D(draft)";
	case ISK_PL_NATOA_DRAFT: return "NAT-OA(draft)";
	case ISK_PL_FRAG: return "FRAG";
	default: return "unknown";
	}
}

const char *
isk_notify_name(uint16_t t)
{
	static const char *const names[] = {
		NULL, "INVALID-PAYLOAD-TYPE", "DOI-NOT-SUPPORTED",
		"SITUATION-NOT-SUPPORTED", "INVALID-COOKIE",
		"INVALID-MAJOR-VERSION", "INVALID-MINOR-VERSION",
		"INVALID-EXCHANGE-TYPE", "INVALID-FLAGS",
		"INVALID-MESSAGE-ID", "INVALID-PROTOCOL-ID", "INVALID-SPI",
		"INVALID-TRANSFORM-ID", "ATTRIBUTES-NOT-SUPPORTED",
		"NO-PROPOSAL-CHOSEN", "BAD-PROPOSAL-SYNTAX",
		"PAYLOAD-MALFORMED", "INVALID-KEY-INFORMATION",
		"INVALID-ID-INFORMATION", "INVALID-CERT-ENCODING",
		"INVALID-CERTIFICATE", "CERT-TYPE-UNSUPPORTED",
		"INVALID-CERT-AUTHORITY", "INVALID-HASH-INFORMATION",
		"AUTHENTICATION-FAILED", "INVALID-SIGNATURE",
		"ADDRESS-NOTIFICATION", "NOTIFY-SA-LIFETIME",
		"CERTIFICATE-UNAVAILABLE", "UNSUPPORTED-EXCHANGE-TYPE",
		"UNEQUAL-PAYLOAD-LENGTHS",
	};

	if (t < sizeof(names) / sizeof(names[0]) && names[t] != NULL)
		return names[t];
	switch (t) {
	case ISK_N_CONNECTED: return "CONNECTED";
	case ISK_N_RESPONDER_LIFETIME: return "RESPONDER-LIFETIME";
	case ISK_N_REPLAY_STATUS: return "REPLAY-STATUS";
	case ISK_N_INITIAL_CONTACT: return "INITIAL-CONTACT";
	case ISK_N_R_U_THERE: return "R-U-THERE";
	case ISK_N_R_U_THERE_ACK: return "R-U-THERE-ACK";
	case ISK_N_MS_DOS_COOKIE: return "DOS-COOKIE";
	default: return "unknown";
	}
}
