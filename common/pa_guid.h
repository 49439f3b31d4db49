/*
 * GUIDs as Windows stores them. The 16 bytes are kept in the binary layout
 * of the ipsecData blobs (Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4),
 * so a blob's GUID is copied as is; text is "{XXXXXXXX-XXXX-...}" upper case.
 */
#ifndef PA_GUID_H
#define PA_GUID_H

#include <stdbool.h>
#include <stdint.h>

#include "pa_err.h"

#define PA_GUIDSTRLEN	39	/* braces, 36 characters, NUL */

struct pa_guid {
	uint8_t	b[16];
};

/* Accepts with or without braces, any case. */
int	pa_guid_parse(const char *, struct pa_guid *) PA_MUST_USE;
/* Upper case with braces, into buf of at least PA_GUIDSTRLEN; returns buf. */
const char	*pa_guid_str(const struct pa_guid *, char *buf);
/* A random (version 4) GUID from the OpenSSL RNG. */
int	pa_guid_generate(struct pa_guid *) PA_MUST_USE;
bool	pa_guid_eq(const struct pa_guid *, const struct pa_guid *);
bool	pa_guid_is_nil(const struct pa_guid *);

#endif
