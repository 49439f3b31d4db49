/*
 * A minimal front end over svc_static_main() for static_cli.sh, so the
 * store commands are tested end to end even in a build whose ipseccmd
 * does not (yet) link them: static_cli [--store P] [--secrets P] ARGS...
 */
#include <stdio.h>
#include <string.h>

#include "lib/static_cmd.h"

int
main(int argc, char **argv)
{
	const char *store = "/etc/ipsec-agent/store.xml";
	const char *secrets = "/etc/ipsec-agent/secrets.xml";
	int i = 1;

	while (i + 1 < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--store") == 0)
			store = argv[i + 1];
		else if (strcmp(argv[i], "--secrets") == 0)
			secrets = argv[i + 1];
		else
			break;
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: static_cli [--store P] [--secrets P] "
		    "static|match ...\n");
		return 2;
	}
	return svc_static_main(argc - i, argv + i, store, secrets);
}
