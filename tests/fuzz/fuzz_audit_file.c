/*
 * libFuzzer harness for the audit file reader: the bytes are an audit
 * file (JSON lines); svc_audit_verify() must give a verdict and
 * svc_audit_query() must return records, whatever the file holds, with
 * and without a verification key (seals checked). The bytes' first line
 * is also tried as a verification key text. The file lives in a memfd,
 * named through /proc/self/fd.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/seal.h"
#include "lib/sinks.h"

#define ZERO64 \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* Epochs of 60 s from 1.8e9 s back: a hostile epoch must not hang it. */
#define KEY	"pa-seal1-" ZERO64 "-1799990000-60"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
count(void *arg, void *rec)
{
	if (!json_is_object((json_t *)rec))
		abort();
	(*(size_t *)arg)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct svc_verify v;
	struct svc_seal_vkey vk;
	char path[64], text[SVC_SEAL_VKEY_MAX];
	size_t n = 0, line;
	int fd, k;

	if ((fd = memfd_create("audit", MFD_CLOEXEC)) < 0)
		return 0;
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (k = 0; k < 2; k++) {
		struct svc_verify_opts o = { .key = k ? KEY : NULL,
		    .now_ms = 1800000000000ULL, .expect_last = k ? 3 : 0,
		    .expect_head = k ? ZERO64 : NULL };

		if (svc_audit_verify(path, 0, &o, &v) != 0)
			continue;
		if (v.what[0] == '\0' && v.records > 0)
			abort();
		if (v.ok && v.records > 0 && v.first_seq > v.last_seq)
			abort();
	}
	line = len < sizeof(text) ? len : sizeof(text) - 1;
	memcpy(text, data, line);
	text[line] = '\0';
	if (svc_seal_vkey_parse(text, &vk) == 0 && vk.interval_s == 0)
		abort();
	if (svc_audit_query(path, 0, 0, 0, 0, count, &n) != 0)
		n = 0;
	close(fd);
	return 0;
}
