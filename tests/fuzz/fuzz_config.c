/*
 * libFuzzer harness for the configuration parser: any file content gives
 * either a configuration or an error naming file:line, never a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct svc_config c;
	char path[64], eb[1024];
	int fd;

	if ((fd = memfd_create("conf", MFD_CLOEXEC)) < 0)
		return 0;
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	svc_config_defaults(&c);
	eb[0] = '\0';
	if (svc_config_load(&c, path, false, eb, sizeof(eb)) != 0) {
		/* An error always says where. */
		if (strncmp(eb, path, strlen(path)) != 0)
			abort();
	} else if (c.diagnostics > 7 || c.driver[0] == '\0' ||
	    c.store[0] != '/')
		abort();
	close(fd);
	return 0;
}
