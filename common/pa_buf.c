#include <string.h>

#include "pa_buf.h"

void
rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p == NULL ? 0 : len;
	r->off = 0;
}

size_t
rd_left(const struct rd *r)
{
	return r->len - r->off;
}

bool
rd_empty(const struct rd *r)
{
	return r->off == r->len;
}

struct pa_bytes
rd_rest(const struct rd *r)
{
	struct pa_bytes b = { r->p == NULL ? NULL : r->p + r->off, rd_left(r) };

	return b;
}

static int
rd_need(const struct rd *r, size_t n)
{
	return n > rd_left(r) ? PA_E_SHORT : 0;
}

int
rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_need(r, 1) != 0)
		return PA_E_SHORT;
	*v = r->p[r->off++];
	return 0;
}

int
rd_u16(struct rd *r, uint16_t *v)
{
	if (rd_need(r, 2) != 0)
		return PA_E_SHORT;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return 0;
}

int
rd_u32(struct rd *r, uint32_t *v)
{
	if (rd_need(r, 4) != 0)
		return PA_E_SHORT;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	    (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return 0;
}

int
rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (rd_need(r, 8) != 0 || rd_u32(r, &hi) != 0 || rd_u32(r, &lo) != 0)
		return PA_E_SHORT;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
rd_u16le(struct rd *r, uint16_t *v)
{
	if (rd_need(r, 2) != 0)
		return PA_E_SHORT;
	*v = (uint16_t)(r->p[r->off] | r->p[r->off + 1] << 8);
	r->off += 2;
	return 0;
}

int
rd_u32le(struct rd *r, uint32_t *v)
{
	if (rd_need(r, 4) != 0)
		return PA_E_SHORT;
	*v = r->p[r->off] | (uint32_t)r->p[r->off + 1] << 8 |
	    (uint32_t)r->p[r->off + 2] << 16 | (uint32_t)r->p[r->off + 3] << 24;
	r->off += 4;
	return 0;
}

int
rd_copy(struct rd *r, void *dst, size_t n)
{
	if (rd_need(r, n) != 0)
		return PA_E_SHORT;
	if (n > 0)
		memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

int
rd_bytes(struct rd *r, size_t n, struct pa_bytes *b)
{
	if (rd_need(r, n) != 0)
		return PA_E_SHORT;
	b->p = r->p + r->off;
	b->len = n;
	r->off += n;
	return 0;
}

int
rd_sub(struct rd *r, size_t n, struct rd *child)
{
	if (rd_need(r, n) != 0)
		return PA_E_SHORT;
	rd_init(child, r->p + r->off, n);
	r->off += n;
	return 0;
}

int
rd_skip(struct rd *r, size_t n)
{
	if (rd_need(r, n) != 0)
		return PA_E_SHORT;
	r->off += n;
	return 0;
}

int
rd_peek_u8(const struct rd *r, uint8_t *v)
{
	struct rd tmp = *r;

	return rd_u8(&tmp, v);
}

int
rd_peek_u16(const struct rd *r, uint16_t *v)
{
	struct rd tmp = *r;

	return rd_u16(&tmp, v);
}

void
wr_init(struct wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = buf == NULL ? 0 : cap;
	w->len = 0;
	w->err = 0;
}

static int
wr_room(struct wr *w, size_t n)
{
	if (w->err != 0)
		return w->err;
	if (n > w->cap - w->len) {
		w->err = PA_E_NOSPACE;
		return w->err;
	}
	return 0;
}

int
wr_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1) != 0)
		return w->err;
	w->p[w->len++] = v;
	return 0;
}

int
wr_u16(struct wr *w, uint16_t v)
{
	if (wr_room(w, 2) != 0)
		return w->err;
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
	return 0;
}

int
wr_u32(struct wr *w, uint32_t v)
{
	if (wr_room(w, 4) != 0)
		return w->err;
	w->p[w->len++] = (uint8_t)(v >> 24);
	w->p[w->len++] = (uint8_t)(v >> 16);
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)v;
	return 0;
}

int
wr_u64(struct wr *w, uint64_t v)
{
	if (wr_room(w, 8) != 0)
		return w->err;
	(void)wr_u32(w, (uint32_t)(v >> 32));
	return wr_u32(w, (uint32_t)v);
}

int
wr_u16le(struct wr *w, uint16_t v)
{
	if (wr_room(w, 2) != 0)
		return w->err;
	w->p[w->len++] = (uint8_t)v;
	w->p[w->len++] = (uint8_t)(v >> 8);
	return 0;
}

int
wr_u32le(struct wr *w, uint32_t v)
{
	if (wr_room(w, 4) != 0)
		return w->err;
	w->p[w->len++] = (uint8_t)v;
	w->p[w->len++] = (uint8_t)(v >> 8);
	w->p[w->len++] = (uint8_t)(v >> 16);
	w->p[w->len++] = (uint8_t)(v >> 24);
	return 0;
}

int
wr_bytes(struct wr *w, const void *b, size_t n)
{
	if (wr_room(w, n) != 0)
		return w->err;
	if (n > 0)
		memcpy(w->p + w->len, b, n);
	w->len += n;
	return 0;
}

int
wr_zero(struct wr *w, size_t n)
{
	if (wr_room(w, n) != 0)
		return w->err;
	if (n > 0)
		memset(w->p + w->len, 0, n);
	w->len += n;
	return 0;
}

int
wr_reserve(struct wr *w, size_t n, size_t *off)
{
	*off = w->len;
	return wr_zero(w, n);
}

static int
wr_patch_check(struct wr *w, size_t off, size_t n)
{
	if (w->err != 0)
		return w->err;
	if (off > w->len || n > w->len - off) {
		w->err = PA_E_INVAL;
		return w->err;
	}
	return 0;
}

int
wr_patch_u16(struct wr *w, size_t off, uint16_t v)
{
	if (wr_patch_check(w, off, 2) != 0)
		return w->err;
	w->p[off] = (uint8_t)(v >> 8);
	w->p[off + 1] = (uint8_t)v;
	return 0;
}

int
wr_patch_u32(struct wr *w, size_t off, uint32_t v)
{
	if (wr_patch_check(w, off, 4) != 0)
		return w->err;
	w->p[off] = (uint8_t)(v >> 24);
	w->p[off + 1] = (uint8_t)(v >> 16);
	w->p[off + 2] = (uint8_t)(v >> 8);
	w->p[off + 3] = (uint8_t)v;
	return 0;
}

int
wr_patch_u32le(struct wr *w, size_t off, uint32_t v)
{
	if (wr_patch_check(w, off, 4) != 0)
		return w->err;
	w->p[off] = (uint8_t)v;
	w->p[off + 1] = (uint8_t)(v >> 8);
	w->p[off + 2] = (uint8_t)(v >> 16);
	w->p[off + 3] = (uint8_t)(v >> 24);
	return 0;
}

int
wr_error(const struct wr *w)
{
	return w->err;
}

void
pa_hex_encode(const uint8_t *b, size_t n, char *out, size_t outcap)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (outcap == 0)
		return;
	for (i = 0; i < n && 2 * i + 2 < outcap; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * i] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pa_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = 0;
	int hi, lo;

	while (*s != '\0') {
		if (*s == ':' || *s == ' ') {
			s++;
			continue;
		}
		if ((hi = hexval(s[0])) < 0 || (lo = hexval(s[1])) < 0)
			return PA_E_FORMAT;
		if (n == cap)
			return PA_E_NOSPACE;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*outlen = n;
	return 0;
}
