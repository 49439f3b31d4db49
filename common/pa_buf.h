/*
 * Bounds-checked byte reader and writer: the only code that touches raw
 * offsets in untrusted bytes (packets, ipsecData blobs, control frames).
 *
 * A reader lives on the stack and borrows its bytes. Every read returns 0 or
 * a negative pa_err and leaves the cursor untouched on failure, so reads can
 * be chained and the first failure wins:
 *
 *	if ((rc = rd_u32(&r, &spi)) != 0 || (rc = rd_u32(&r, &seq)) != 0)
 *		goto out;
 *
 * Multi-byte reads come in network order (rd_u16, rd_u32, rd_u64) and
 * little-endian (rd_u16le, rd_u32le) for the Windows ipsecData blobs.
 *
 * A writer wraps a caller-owned buffer of fixed capacity. Writes past the
 * capacity fail with PA_E_NOSPACE and latch wr->err, so a sequence of
 * writes can be checked once at the end with wr_error().
 */
#ifndef PA_BUF_H
#define PA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_err.h"

/* A borrowed view of bytes; copy it to keep it past the owner's life. */
struct pa_bytes {
	const uint8_t	*p;
	size_t		 len;
};

struct rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

/* Start reading len bytes at p (borrowed). */
void	rd_init(struct rd *, const void *p, size_t len);
size_t	rd_left(const struct rd *);
bool	rd_empty(const struct rd *);
/* Bytes not yet read, as a borrowed view. */
struct pa_bytes	rd_rest(const struct rd *);

int	rd_u8(struct rd *, uint8_t *) PA_MUST_USE;
int	rd_u16(struct rd *, uint16_t *) PA_MUST_USE;
int	rd_u32(struct rd *, uint32_t *) PA_MUST_USE;
int	rd_u64(struct rd *, uint64_t *) PA_MUST_USE;
int	rd_u16le(struct rd *, uint16_t *) PA_MUST_USE;
int	rd_u32le(struct rd *, uint32_t *) PA_MUST_USE;
/* Copy n bytes out. */
int	rd_copy(struct rd *, void *dst, size_t n) PA_MUST_USE;
/* Borrow n bytes (valid as long as the reader's bytes are). */
int	rd_bytes(struct rd *, size_t n, struct pa_bytes *) PA_MUST_USE;
/* A child reader over the next n bytes; the parent skips them. */
int	rd_sub(struct rd *, size_t n, struct rd *child) PA_MUST_USE;
int	rd_skip(struct rd *, size_t n) PA_MUST_USE;
/* Look at the next byte(s) without consuming. */
int	rd_peek_u8(const struct rd *, uint8_t *) PA_MUST_USE;
int	rd_peek_u16(const struct rd *, uint16_t *) PA_MUST_USE;

struct wr {
	uint8_t		*p;
	size_t		 cap;
	size_t		 len;
	int		 err;	/* first error, latched */
};

/* Write into buf[0..cap) owned by the caller. */
void	wr_init(struct wr *, void *buf, size_t cap);
int	wr_u8(struct wr *, uint8_t);
int	wr_u16(struct wr *, uint16_t);
int	wr_u32(struct wr *, uint32_t);
int	wr_u64(struct wr *, uint64_t);
int	wr_u16le(struct wr *, uint16_t);
int	wr_u32le(struct wr *, uint32_t);
int	wr_bytes(struct wr *, const void *, size_t);
int	wr_zero(struct wr *, size_t);
/* Reserve n bytes to patch later; *off receives their offset. */
int	wr_reserve(struct wr *, size_t n, size_t *off);
/* Patch a reserved field at offset off (must lie inside what was written). */
int	wr_patch_u16(struct wr *, size_t off, uint16_t);
int	wr_patch_u32(struct wr *, size_t off, uint32_t);
int	wr_patch_u32le(struct wr *, size_t off, uint32_t);
/* The first error of any write so far, or 0. */
int	wr_error(const struct wr *) PA_MUST_USE;

/*
 * Hex helpers. pa_hex_decode accepts upper and lower case and optional
 * ':' or ' ' separators; *outlen receives the number of bytes written.
 */
void	pa_hex_encode(const uint8_t *, size_t, char *out, size_t outcap);
int	pa_hex_decode(const char *, uint8_t *out, size_t cap, size_t *outlen)
	    PA_MUST_USE;

#endif
