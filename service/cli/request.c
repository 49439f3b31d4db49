/*
 * ipseccmd's requests to the daemon and the printing of their results
 * (--json or a text printer), for every command file of the CLI.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ipseccmd.h"
#include "lib/control.h"
#include "pa_err.h"

void
cli_json_print(void *j)
{
	if (json_is_object((json_t *)j))
		json_object_set_new(j, "version",
		    json_integer(SVC_JSON_VERSION));
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
}

int
cli_request(struct cli *c, const char *cmd, void *args, void **result)
{
	json_t *req, *reply = NULL, *ok;
	int rc;

	*result = NULL;
	if (args == NULL)
		args = json_object();
	req = json_pack("{s:s,s:o}", "cmd", cmd, "args", args);
	if (req == NULL) {
		fprintf(stderr, "ipseccmd: out of memory\n");
		return CMD_EXIT_FAIL;
	}
	rc = svc_ctl_call(c->socket, req, c->timeout_ms, (void **)&reply);
	json_decref(req);
	if (rc != 0) {
		if (rc == PA_E_SYS && (errno == ENOENT || errno == ECONNREFUSED)) {
			fprintf(stderr, "ipseccmd: the service is not running "
			    "(%s)\n", c->socket);
			return CMD_EXIT_NOTRUNNING;
		}
		if (rc == PA_E_SYS && errno == EACCES) {
			fprintf(stderr, "ipseccmd: access denied (%s)\n",
			    c->socket);
			return CMD_EXIT_DENIED;
		}
		fprintf(stderr, "ipseccmd: %s: %s\n", c->socket,
		    rc == PA_E_SYS ? strerror(errno) : pa_strerror(rc));
		return CMD_EXIT_FAIL;
	}
	ok = json_object_get(reply, "ok");
	if (!json_is_true(ok)) {
		const char *code = json_string_value(json_object_get(reply,
		    "code"));

		if (c->json)
			cli_json_print(reply);
		fprintf(stderr, "ipseccmd: %s\n", json_string_value(
		    json_object_get(reply, "error")) != NULL ?
		    json_string_value(json_object_get(reply, "error")) :
		    "failed");
		rc = code != NULL && strcmp(code, "access-denied") == 0 ?
		    CMD_EXIT_DENIED : CMD_EXIT_FAIL;
		json_decref(reply);
		return rc;
	}
	*result = json_incref(json_object_get(reply, "result"));
	json_decref(reply);
	return CMD_EXIT_OK;
}

int
cli_call(struct cli *c, const char *cmd, void *args, void (*printer)(void *))
{
	json_t *res;
	int rc;

	if ((rc = cli_request(c, cmd, args, (void **)&res)) != 0)
		return rc;
	if (c->json)
		cli_json_print(res);
	else if (printer != NULL)
		printer(res);
	json_decref(res);
	return CMD_EXIT_OK;
}
