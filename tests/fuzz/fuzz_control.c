/*
 * libFuzzer harness for the control request parser (svc_ctl_parse): any
 * bytes must give either a well-formed request (a-z. command, object args)
 * or PA_E_FORMAT with a reason, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/control.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct svc_ctl_req req;
	char eb[256];
	size_t i, n;

	eb[0] = '\0';
	if (svc_ctl_parse(data, len, &req, eb, sizeof(eb)) != 0) {
		if (eb[0] == '\0' || req.args != NULL)
			abort();
		return 0;
	}
	n = strlen(req.cmd);
	if (n == 0 || n > SVC_CTL_CMD_MAX || !json_is_object((json_t *)req.args))
		abort();
	for (i = 0; i < n; i++)
		if (!((req.cmd[i] >= 'a' && req.cmd[i] <= 'z') ||
		    req.cmd[i] == '.'))
			abort();
	/* What the daemon does with args: walk and re-encode them. */
	{
		char *text = json_dumps(req.args, JSON_COMPACT);

		free(text);
	}
	svc_ctl_req_clear(&req);
	return 0;
}
