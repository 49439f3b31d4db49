/*
 * libFuzzer harness for the audit file reader: the bytes are an audit
 * file (JSON lines); svc_audit_verify() must give a verdict and
 * svc_audit_query() must return records, whatever the file holds. The
 * file lives in a memfd, named through /proc/self/fd.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/sinks.h"

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
	char path[64];
	size_t n = 0;
	int fd;

	if ((fd = memfd_create("audit", MFD_CLOEXEC)) < 0)
		return 0;
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (svc_audit_verify(path, 0, 0, &v) == 0) {
		if (v.what[0] == '\0' && v.records > 0)
			abort();
		if (v.ok && v.records > 0 && v.first_seq > v.last_seq)
			abort();
	}
	if (svc_audit_query(path, 0, 0, 0, 0, count, &n) != 0)
		n = 0;
	close(fd);
	return 0;
}
