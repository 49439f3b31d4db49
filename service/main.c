/*
 * ipsec-agentd: the IPsec Policy Agent service.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/daemon.h"
#include "pa_version.h"

#define MAX_OVERRIDES	64

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ipsec-agentd [-f] [-t] [-c config] [-o key=value]...\n"
	    "       ipsec-agentd --clear | --version | --list-keys\n"
	    "  -c, --config FILE   configuration file (default "
	    "/etc/ipsec-agent/ipsec-agentd.conf;\n"
	    "                      built-in defaults if that is absent)\n"
	    "  -f, --foreground    stay in the foreground (systemd, tests)\n"
	    "  -o key=value        override a configuration key\n"
	    "  -t, --check         check the configuration and exit\n"
	    "      --clear         remove what a stopped or dead instance left\n"
	    "                      (it keeps blocking the traffic its policy\n"
	    "                      secured): traffic then flows in clear\n"
	    "      --list-keys     print every configuration key (one a line)\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          this text\n");
}

/* The parser's own table of keys: what ipsec-agentd.conf(5) documents. */
static void
list_keys(void)
{
	size_t i;

	for (i = 0; i < svc_config_nkeys; i++)
		printf("%s\t%s\t%s\n", svc_config_keys[i].name,
		    svc_config_keys[i].values, svc_config_keys[i].def);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 't' },
		{ "clear", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 }
	};
	const char *overrides[MAX_OVERRIDES];
	struct svc_opts o;
	int ch;

	memset(&o, 0, sizeof(o));
	o.overrides = overrides;
	while ((ch = getopt_long(argc, argv, "c:fo:thV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'o':
			if (o.noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "ipsec-agentd: too many -o\n");
				return 2;
			}
			overrides[o.noverrides++] = optarg;
			break;
		case 't':
			o.check_only = true;
			break;
		case 'C':
			o.clear_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ipsec-agentd %s\n", PA_VERSION);
			return 0;
		case 'K':
			list_keys();
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return svc_daemon_main(&o);
}
