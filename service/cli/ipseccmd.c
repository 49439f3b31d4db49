/*
 * ipseccmd: the administrator's command line, over the control socket of
 * ipsec-agentd. Usage is generated from the subcommand table.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lib/control.h"
#include "ipseccmd.h"
#include "pa_addr.h"
#include "pa_time.h"
#include "spd.h"
#include "lib/seal.h"
#include "lib/sinks.h"
#include "lib/static_cmd.h"
#include "pa_version.h"


#define DEFAULT_TIMEOUT_MS	15000

struct subcmd {
	const char	*name;
	int		(*fn)(struct cli *, int argc, char **argv);
	const char	*args;
	const char	*help;
	/* The words accepted after the name (NULL: none or key=value); a
	 * word not here is refused before fn runs (for options: every
	 * argument starting with "--"). --list-commands prints them. */
	const char *const *words;
	bool		 options;
};

static int	cmd_show(struct cli *, int, char **);
static int	cmd_service(struct cli *, int, char **);
static int	cmd_dynamic(struct cli *, int, char **);
static int	cmd_set(struct cli *, int, char **);
static int	cmd_events(struct cli *, int, char **);
static int	cmd_reload(struct cli *, int, char **);
static int	cmd_static(struct cli *, int, char **);
static int	cmd_diag(struct cli *, int, char **);
static int	cmd_match(struct cli *, int, char **);

static const char *const show_words[] = { "all", "policy", "filters",
    "mmsas", "qmsas", "stats", "events", "pki", NULL };
static const char *const service_words[] = { "start", "stop", "pause",
    "continue", "status", NULL };
static const char *const dynamic_words[] = { "add", "delete", "show", NULL };
static const char *const set_words[] = { "diagnostics", "oakleylog",
    "keylog", NULL };
static const char *const events_words[] = { "--id", "--since", "--max",
    "--key", "--setup-keys", "--force", "--interval",
    "--verify", "--file", "--json", NULL };
/* Third words, for --list-commands (the functions below check them). */
static const char *const monitor_words[] = { "--interval", "--count",
    NULL };
static const char *const words3[] = { "service stop clear",
    "show stats --format=openmetrics",
    "dynamic add rule", "dynamic delete rule", "dynamic delete all", NULL };

static const struct subcmd subcmds[] = {
	{ "show", cmd_show,
	    "all|policy|filters|mmsas|qmsas|stats|events|pki",
	    "show what the agent holds", show_words, false },
	{ "service", cmd_service, "start|stop [clear]|pause|continue|status",
	    "control the service (Windows states)", service_words, false },
	{ "dynamic", cmd_dynamic,
	    "add rule NAME key=value... | delete rule NAME | delete all | show",
	    "dynamic (memory-only) rules", dynamic_words, false },
	{ "set", cmd_set, "diagnostics 0-7 | oakleylog on|off | keylog on|off",
	    "runtime settings", set_words, false },
	{ "events", cmd_events,
	    "[--id N] [--since T] [--max N] [--verify [--key KEY]] "
	    "[--file PATH] | --setup-keys [--interval S] [--force]",
	    "query or verify the audit file", events_words, true },
	{ "reload", cmd_reload, "", "reload configuration and policy", NULL,
	    false },
	{ "static", cmd_static, "...", "edit the local policy store",
	    svc_static_verbs, false },
	{ "match", cmd_match, "[--file PATH] src= dst= ...",
	    "which filter of the policy in force (or of a file) matches a "
	    "packet", NULL, false },
	{ "diag", cmd_diag, "[peer=ADDRESS]",
	    "self-test: configuration, service, driver, policy, directory, "
	    "Kerberos, certificates, a peer's IKE", NULL, false },
	{ "monitor", cli_monitor, "[--interval S] [--count N]",
	    "live view: counters with rates, SAs with traffic (q quits)",
	    monitor_words, true },
};

#define NSUBCMDS	(sizeof(subcmds) / sizeof(subcmds[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ipseccmd [-c config] [--socket PATH] [--store PATH] "
	    "[--secrets PATH]\n                [--json] [--timeout MS] "
	    "command ...\n       ipseccmd help [command] | command ? | "
	    "--version | --list-commands | --list-keys\n\ncommands:\n");
	for (i = 0; i < NSUBCMDS; i++)
		fprintf(f, "  %-8s %s\n           %s\n", subcmds[i].name,
		    subcmds[i].args, subcmds[i].help);
	fprintf(f, "\ndynamic add rule keys: src= dst= (any|me|addr|prefix) "
	    "proto= sport= dport=\n  action=permit|block|negotiate "
	    "mirrored=yes|no inpass=yes|no soft=yes|no\n  tunnel=ADDR "
	    "auth=kerberos|cert|psk psk=NAME\n"
	    "events --since: seconds since the epoch, or -Ns/-Nm/-Nh (ago)\n"
	    "exit status: 0 ok, 1 refused or failed, 2 usage, 3 service not "
	    "running, 4 access denied\n");
}

static bool
word_in(const char *const *tab, const char *w)
{
	size_t i;

	for (i = 0; tab[i] != NULL; i++)
		if (strcmp(tab[i], w) == 0)
			return true;
	return false;
}

/* The word table of sc refuses what it does not list. */
static bool
words_ok(const struct subcmd *sc, int argc, char **argv)
{
	int k;

	if (sc->words == NULL || (argc >= 2 && (strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0)))
		return true;	/* the command prints its own usage */
	if (!sc->options)
		return argc < 2 || word_in(sc->words, argv[1]);
	for (k = 1; k < argc; k++)
		if (strncmp(argv[k], "--", 2) == 0 &&
		    !word_in(sc->words, argv[k]))
			return false;
	return true;
}

/* Every command path the parsers accept: ipseccmd(8) and the completion
 * are checked against this (test man_drift). */
static void
list_commands(void)
{
	size_t i, j, k;

	for (i = 0; i < NSUBCMDS; i++) {
		printf("%s\n", subcmds[i].name);
		for (j = 0; subcmds[i].words != NULL &&
		    subcmds[i].words[j] != NULL; j++)
			printf("%s %s\n", subcmds[i].name, subcmds[i].words[j]);
	}
	for (j = 0; svc_static_verbs[j] != NULL; j++)
		for (k = 0; svc_static_objects[k] != NULL; k++) {
			const char *v = svc_static_verbs[j];
			const char *o = svc_static_objects[k];

			if (strstr(v, "policy") != NULL ||
			    (strcmp(o, "all") == 0 && strcmp(v, "show") != 0))
				continue;	/* export/import: no object */
			printf("static %s %s\n", v, o);
		}
	for (j = 0; words3[j] != NULL; j++)
		printf("%s\n", words3[j]);
	printf("help\n");
}

static void
help_list(const char *what, const char *const *tab)
{
	size_t j, col;

	printf("%s:", what);
	col = strlen(what) + 1;
	for (j = 0; tab[j] != NULL; j++) {
		if (col + strlen(tab[j]) + 1 > 76) {
			printf("\n   ");
			col = 3;
		}
		printf(" %s", tab[j]);
		col += strlen(tab[j]) + 1;
	}
	printf("\n");
}

/*
 * ipseccmd help [COMMAND], ipseccmd ? and COMMAND ? | COMMAND help: from
 * the tables the parser checks (the words after a command, the static
 * verbs, objects and keys, the dynamic rule keys), so it cannot drift.
 */
static int
help(const char *name)
{
	const struct subcmd *sc = NULL;
	size_t k;

	if (name == NULL) {
		usage(stdout);
		return CMD_EXIT_OK;
	}
	for (k = 0; k < NSUBCMDS; k++)
		if (strcmp(subcmds[k].name, name) == 0)
			sc = &subcmds[k];
	if (sc == NULL) {
		fprintf(stderr, "ipseccmd: unknown command '%s'\n\n", name);
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	printf("usage: ipseccmd %s %s\n  %s\n", sc->name, sc->args, sc->help);
	if (strcmp(sc->name, "static") == 0 || strcmp(sc->name, "match") == 0) {
		if (strcmp(sc->name, "static") == 0) {
			help_list("verbs", svc_static_verbs);
			help_list("objects", svc_static_objects);
		}
		help_list("keys (key=value)", svc_static_keys);
	} else if (sc->words != NULL)
		help_list(sc->options ? "options" : "words", sc->words);
	if (strcmp(sc->name, "dynamic") == 0)
		help_list("add rule keys (key=value)", svc_dynamic_keys);
	return CMD_EXIT_OK;
}

/* "static KEY" (static and match) and "dynamic KEY" (dynamic add rule). */
static void
list_keys(void)
{
	size_t j;

	for (j = 0; svc_static_keys[j] != NULL; j++)
		printf("static %s\n", svc_static_keys[j]);
	for (j = 0; svc_dynamic_keys[j] != NULL; j++)
		if (strcmp(svc_dynamic_keys[j], "name") != 0)
			printf("dynamic %s\n", svc_dynamic_keys[j]);
}

/* show stats --format=openmetrics: the statistics and the SAs, as text. */
static int
show_openmetrics(struct cli *c)
{
	void *stats = NULL, *qmsas = NULL;
	int rc;

	if ((rc = cli_request(c, "show.stats", NULL, &stats)) != 0)
		return rc;
	if ((rc = cli_request(c, "show.qmsas", NULL, &qmsas)) != 0) {
		json_decref(stats);
		return rc;
	}
	print_openmetrics(stats, qmsas);
	json_decref(stats);
	json_decref(qmsas);
	return CMD_EXIT_OK;
}

static int
cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char	*what;
		const char	*cmd;
		void		(*pr)(void *);
	} t[] = {
		{ "all", "show.all", print_all },
		{ "policy", "show.policy", print_policy },
		{ "filters", "show.filters", print_filters },
		{ "mmsas", "show.mmsas", print_mmsas },
		{ "qmsas", "show.qmsas", print_qmsas },
		{ "stats", "show.stats", print_stats },
		{ "pki", "show.pki", print_pki },
		{ "events", "events", print_events },
	};
	size_t i;

	if (argc == 3 && strcmp(argv[1], "stats") == 0 &&
	    strcmp(argv[2], "--format=openmetrics") == 0)
		return show_openmetrics(c);
	if (argc != 2)
		goto bad;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(argv[1], t[i].what) == 0)
			return cli_call(c, t[i].cmd, NULL, t[i].pr);
bad:
	fprintf(stderr, "usage: ipseccmd show all|policy|filters|mmsas|qmsas|pki|"
	    "stats|events\n       ipseccmd show stats --format=openmetrics\n");
	return CMD_EXIT_USAGE;
}

/* The ipsec-agentd next to this binary, or $PA_AGENTD, or from PATH. */
static void
agentd_path(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (getenv("PA_AGENTD") != NULL) {
		snprintf(out, cap, "%s", getenv("PA_AGENTD"));
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(out, cap, "%s/ipsec-agentd", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, cap, "ipsec-agentd");
}

/* cli_request() with its messages on stderr silenced: a quiet probe. */
static int
cli_request_quiet(struct cli *c, const char *cmd, void **result)
{
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null",
	    O_WRONLY | O_CLOEXEC);
	int rc;

	if (devnull >= 0)
		(void)dup2(devnull, STDERR_FILENO);
	rc = cli_request(c, cmd, NULL, result);
	if (saved >= 0) {
		(void)dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	return rc;
}

static int
service_start(struct cli *c)
{
	char path[PATH_MAX + 16];
	json_t *res = NULL;
	pid_t pid;
	int st, rc;

	/* Quietly probe: running already? */
	rc = cli_request_quiet(c, "status", (void **)&res);
	if (rc == CMD_EXIT_OK) {
		fprintf(stderr, "ipseccmd: the service is already running "
		    "(%s)\n", json_string_value(json_object_get(res, "state")));
		json_decref(res);
		return CMD_EXIT_OK;
	}
	if (rc != CMD_EXIT_NOTRUNNING)
		return rc;
	agentd_path(path, sizeof(path));
	if ((pid = fork()) < 0) {
		perror("ipseccmd: fork");
		return CMD_EXIT_FAIL;
	}
	if (pid == 0) {
		if (c->config_path != NULL)
			execlp(path, path, "-c", c->config_path, (char *)NULL);
		else
			execlp(path, path, (char *)NULL);
		fprintf(stderr, "ipseccmd: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	/* ipsec-agentd returns once it is RUNNING, or has failed. */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("ipseccmd: waitpid");
			return CMD_EXIT_FAIL;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "ipseccmd: the service failed to start\n");
		return CMD_EXIT_FAIL;
	}
	return cli_call(c, "status", NULL, print_status);
}

/*
 * After stop: wait until the daemon removed its socket, which it does
 * last, once SAs are deleted, the driver emptied and the audit flushed.
 * Watches the directory with inotify; no sleeping.
 */
static int
wait_stopped(struct cli *c)
{
	uint64_t deadline = pa_now_ms() + (uint64_t)c->timeout_ms;
	char dir[PATH_MAX], buf[4096];
	struct stat sb;
	char *slash;
	int fd, rc = CMD_EXIT_FAIL;

	snprintf(dir, sizeof(dir), "%s", c->socket);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0 ||
	    inotify_add_watch(fd, dir, IN_DELETE | IN_DELETE_SELF) < 0) {
		perror("ipseccmd: inotify");
		goto out;
	}
	while (stat(c->socket, &sb) == 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = pa_now_ms();

		if (now >= deadline) {
			fprintf(stderr, "ipseccmd: the service did not stop "
			    "within %d ms\n", c->timeout_ms);
			goto out;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) > 0)
			while (read(fd, buf, sizeof(buf)) > 0)
				;
	}
	rc = CMD_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
cmd_service(struct cli *c, int argc, char **argv)
{
	int rc;

	if (argc == 3 && strcmp(argv[1], "stop") == 0 &&
	    strcmp(argv[2], "clear") == 0) {
		/* The administrator asks for clear: every filter goes. */
		if ((rc = cli_call(c, "service.stop", json_pack("{s:b}",
		    "clear", 1), NULL)) != 0)
			return rc;
		if ((rc = wait_stopped(c)) == 0 && !c->json)
			printf("state: STOPPED (IPsec filters removed: traffic "
			    "flows in clear)\n");
		return rc;
	}
	if (argc != 2)
		goto bad;
	if (strcmp(argv[1], "start") == 0)
		return service_start(c);
	if (strcmp(argv[1], "status") == 0)
		return cli_call(c, "status", NULL, print_status);
	if (strcmp(argv[1], "pause") == 0)
		return cli_call(c, "service.pause", NULL, print_status);
	if (strcmp(argv[1], "continue") == 0)
		return cli_call(c, "service.continue", NULL, print_status);
	if (strcmp(argv[1], "stop") == 0) {
		if ((rc = cli_call(c, "service.stop", NULL, NULL)) != 0)
			return rc;
		if ((rc = wait_stopped(c)) == 0 && !c->json)
			printf("state: STOPPED (fail-closed: traffic the policy "
			    "secures or blocks stays blocked until the next "
			    "start; 'ipseccmd service stop clear' or "
			    "'ipsec-agentd --clear' removes it)\n");
		return rc;
	}
bad:
	fprintf(stderr, "usage: ipseccmd service start|stop [clear]|pause|"
	    "continue|status\n");
	return CMD_EXIT_USAGE;
}

static int
yesno(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "off") == 0 ||
	    strcmp(v, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
dynamic_add(struct cli *c, int argc, char **argv)
{
	json_t *args = json_object();
	int i, b;

	if (args == NULL)
		return CMD_EXIT_FAIL;
	json_object_set_new(args, "name", json_string(argv[0]));
	for (i = 1; i < argc; i++) {
		char key[32];
		const char *eq = strchr(argv[i], '=');
		char *end;
		long v;

		if (eq == NULL || eq == argv[i] ||
		    (size_t)(eq - argv[i]) >= sizeof(key)) {
			fprintf(stderr, "ipseccmd: expected key=value: %s\n",
			    argv[i]);
			goto bad;
		}
		memcpy(key, argv[i], (size_t)(eq - argv[i]));
		key[eq - argv[i]] = '\0';
		eq++;
		if (strcmp(key, "sport") == 0 || strcmp(key, "dport") == 0) {
			v = strtol(eq, &end, 10);
			if (*eq == '\0' || *end != '\0' || v < 0 || v > 65535) {
				fprintf(stderr, "ipseccmd: %s: not a port\n",
				    argv[i]);
				goto bad;
			}
			json_object_set_new(args, key, json_integer(v));
		} else if (strcmp(key, "mirrored") == 0 ||
		    strcmp(key, "inpass") == 0 || strcmp(key, "soft") == 0) {
			if (yesno(eq, &b) != 0) {
				fprintf(stderr, "ipseccmd: %s: yes or no\n",
				    argv[i]);
				goto bad;
			}
			json_object_set_new(args, key, json_boolean(b));
		} else
			json_object_set_new(args, key, json_string(eq));
	}
	return cli_call(c, "dynamic.add", args, NULL);
bad:
	json_decref(args);
	return CMD_EXIT_USAGE;
}

static int
cmd_dynamic(struct cli *c, int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "add") == 0 &&
	    strcmp(argv[2], "rule") == 0)
		return dynamic_add(c, argc - 3, argv + 3);
	if (argc == 4 && strcmp(argv[1], "delete") == 0 &&
	    strcmp(argv[2], "rule") == 0)
		return cli_call(c, "dynamic.delete",
		    json_pack("{s:s}", "name", argv[3]), NULL);
	if (argc == 3 && strcmp(argv[1], "delete") == 0 &&
	    strcmp(argv[2], "all") == 0)
		return cli_call(c, "dynamic.delete",
		    json_pack("{s:b}", "all", 1), NULL);
	if (argc == 2 && strcmp(argv[1], "show") == 0)
		return cli_call(c, "dynamic.show", NULL, print_dynamic);
	fprintf(stderr, "usage: ipseccmd dynamic add rule NAME key=value... | "
	    "delete rule NAME | delete all | show\n");
	return CMD_EXIT_USAGE;
}

static void
print_keylog(void *res)
{
	json_t *r = res;

	if (json_is_true(json_object_get(r, "keylog")))
		printf("Troubleshooting keys on: the keys of SAs negotiated from "
		    "now on are appended to\n  %s/esp_sa (Wireshark: ESP SAs)\n"
		    "  %s/ikev1_decryption_table (Wireshark: ISAKMP IKEv1)\n"
		    "Anyone who reads them can read the traffic: set keylog off "
		    "and delete them when done.\n",
		    json_string_value(json_object_get(r, "dir")),
		    json_string_value(json_object_get(r, "dir")));
	else
		printf("Troubleshooting keys off (the files stay: delete them)\n");
}

static int
cmd_set(struct cli *c, int argc, char **argv)
{
	char *end;
	long v;
	int b;

	if (argc == 3 && strcmp(argv[1], "diagnostics") == 0) {
		v = strtol(argv[2], &end, 10);
		if (*argv[2] != '\0' && *end == '\0' && v >= 0 && v <= 7)
			return cli_call(c, "set.diagnostics",
			    json_pack("{s:i}", "level", (int)v), NULL);
	}
	if (argc == 3 && strcmp(argv[1], "oakleylog") == 0 &&
	    yesno(argv[2], &b) == 0)
		return cli_call(c, "set.oakleylog",
		    json_pack("{s:b}", "on", b), NULL);
	if (argc == 3 && strcmp(argv[1], "keylog") == 0 &&
	    yesno(argv[2], &b) == 0)
		return cli_call(c, "set.keylog", json_pack("{s:b}", "on", b),
		    print_keylog);
	fprintf(stderr, "usage: ipseccmd set diagnostics 0-7 | set oakleylog "
	    "on|off | set keylog on|off\n");
	return CMD_EXIT_USAGE;
}

/* "1700000000" (epoch seconds), "-30s", "-5m", "-2h", "-1d" (ago). */
static int
parse_since(const char *s, int64_t *ms)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (*s == '-') {
		v = strtoll(s + 1, &end, 10);
		if (end == s + 1 || v < 0)
			return -1;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		if (end[1] != '\0')
			return -1;
		*ms = (pa_wall_s() - (int64_t)v * mul) * 1000;
		return 0;
	}
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0)
		return -1;
	*ms = (int64_t)v * 1000;
	return 0;
}

struct local_acc {
	json_t	*arr;
};

static void
local_cb(void *arg, void *rec)
{
	json_array_append(((struct local_acc *)arg)->arr, rec);
}

/*
 * Print the events (or with verify, the verdict) in res, which is taken;
 * a failed verification is a failure.
 */
static int
events_show(struct cli *c, json_t *res, bool verify)
{
	int rc;

	if (c->json)
		cli_json_print(res);
	else if (verify)
		print_verify(res);
	else
		print_events(res);
	rc = verify && !json_is_true(json_object_get(res, "ok")) ?
	    CMD_EXIT_FAIL : CMD_EXIT_OK;
	json_decref(res);
	return rc;
}

/* Without a daemon: read the file directly (--file). */
static int
events_local(struct cli *c, const char *file, int id, int64_t since,
    long max, bool verify, const char *key)
{
	json_t *res;
	struct svc_verify v;
	struct svc_verify_opts o = { .key = key };
	struct local_acc acc;
	int vrc;

	if (verify) {
		if ((vrc = svc_audit_verify(file, c->cfg.audit_rotate_keep, &o,
		    &v)) != 0) {
			fprintf(stderr, "ipseccmd: %s: %s\n", file,
			    vrc == PA_E_FORMAT ? "not a verification key "
			    "(pa-seal1-...)" : "cannot verify");
			return CMD_EXIT_FAIL;
		}
		res = json_pack("{s:b,s:I,s:I,s:I,s:s,s:s}", "ok", v.ok,
		    "records", (json_int_t)v.records,
		    "first_seq", (json_int_t)v.first_seq,
		    "last_seq", (json_int_t)v.last_seq, "verdict", v.what,
		    "file", file);
	} else {
		if ((acc.arr = json_array()) == NULL)
			return CMD_EXIT_FAIL;
		if (svc_audit_query(file, c->cfg.audit_rotate_keep, id, since,
		    (size_t)(max > 0 ? max : 1000), local_cb, &acc) != 0) {
			json_decref(acc.arr);
			return CMD_EXIT_FAIL;
		}
		res = json_pack("{s:o}", "events", acc.arr);
	}
	if (res == NULL)
		return CMD_EXIT_FAIL;
	return events_show(c, res, verify);
}

/*
 * Set up forward-secure sealing: the seal state in the state directory,
 * the verification key shown once.
 */
static int
events_setup_keys(struct cli *c, uint64_t interval, bool force)
{
	char path[SVC_PATH_MAX + 16], vkey[SVC_SEAL_VKEY_MAX], eb[512];

	snprintf(path, sizeof(path), "%s/%s", c->cfg.state_dir,
	    SVC_SEAL_FILE);
	if (svc_seal_setup(path, interval, force, vkey, eb, sizeof(eb)) != 0) {
		fprintf(stderr, "ipseccmd: %s\n", eb);
		return CMD_EXIT_FAIL;
	}
	printf("Sealing is set up: %s (epochs of %llu s).\n\n"
	    "The verification key (write it down and keep it OFF this host; "
	    "it is shown\nonce and not stored here):\n\n    %s\n\n"
	    "Check the audit file with: ipseccmd events --verify --key KEY\n"
	    "The service seals from its next start.\n", path,
	    (unsigned long long)interval, vkey);
	OPENSSL_cleanse(vkey, sizeof(vkey));
	return CMD_EXIT_OK;
}

/* What `ipseccmd events` was asked. */
struct events_opts {
	const char	*file, *key;
	uint64_t	 interval;
	bool		 setup, force, verify;
	int64_t		 since;
	long		 id, max;
};

/* The options of events into o; -1 on anything it does not take. */
static int
events_args(struct cli *c, int argc, char **argv, struct events_opts *o)
{
	char *end;
	long v;
	int i;

	memset(o, 0, sizeof(*o));
	o->interval = SVC_SEAL_INTERVAL_S;
	for (i = 1; i < argc; i++) {
		bool more = i + 1 < argc;

		if (strcmp(argv[i], "--verify") == 0)
			o->verify = true;
		else if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (strcmp(argv[i], "--id") == 0 && more) {
			o->id = strtol(argv[++i], &end, 10);
			if (*end != '\0' || o->id <= 0 || o->id > 65535)
				return -1;
		} else if (strcmp(argv[i], "--max") == 0 && more) {
			o->max = strtol(argv[++i], &end, 10);
			if (*end != '\0' || o->max <= 0 || o->max > 100000)
				return -1;
		} else if (strcmp(argv[i], "--since") == 0 && more) {
			if (parse_since(argv[++i], &o->since) != 0)
				return -1;
		} else if (strcmp(argv[i], "--file") == 0 && more)
			o->file = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && more)
			o->key = argv[++i];
		else if (strcmp(argv[i], "--setup-keys") == 0)
			o->setup = true;
		else if (strcmp(argv[i], "--force") == 0)
			o->force = true;
		else if (strcmp(argv[i], "--interval") == 0 && more) {
			v = strtol(argv[++i], &end, 10);
			if (*end != '\0' || v < 10 || v > 7 * 86400)
				return -1;
			o->interval = (uint64_t)v;
		} else
			return -1;
	}
	return o->key != NULL && !o->verify && !o->setup ? -1 : 0;
}

/* events through the daemon, or from the configured file without one. */
static int
events_daemon(struct cli *c, const struct events_opts *o)
{
	json_t *args, *res;
	int rc;

	if ((args = json_object()) == NULL)
		return CMD_EXIT_FAIL;
	if (o->id != 0)
		json_object_set_new(args, "id", json_integer(o->id));
	if (o->since != 0)
		json_object_set_new(args, "since", json_integer(o->since));
	if (o->max != 0)
		json_object_set_new(args, "max", json_integer(o->max));
	if (o->verify)
		json_object_set_new(args, "verify", json_true());
	if (o->key != NULL)
		json_object_set_new(args, "key", json_string(o->key));
	if ((rc = cli_request(c, "events", args, (void **)&res)) != 0) {
		/* No daemon: read the configured file directly. */
		if (rc == CMD_EXIT_NOTRUNNING && c->cfg.audit_file[0] != '\0') {
			fprintf(stderr, "ipseccmd: reading %s directly\n",
			    c->cfg.audit_file);
			return events_local(c, c->cfg.audit_file, (int)o->id,
			    o->since, o->max, o->verify, o->key);
		}
		return rc;
	}
	return events_show(c, res, o->verify);
}

static int
cmd_events(struct cli *c, int argc, char **argv)
{
	struct events_opts o;

	if (events_args(c, argc, argv, &o) != 0) {
		fprintf(stderr, "usage: ipseccmd events [--id N] [--since T] "
		    "[--max N] [--json] [--verify [--key KEY]] [--file PATH]\n"
		    "       ipseccmd events --setup-keys [--interval SECONDS] "
		    "[--force]\n");
		return CMD_EXIT_USAGE;
	}
	if (o.setup)
		return events_setup_keys(c, o.interval, o.force);
	if (o.file != NULL)
		return events_local(c, o.file, (int)o.id, o.since, o.max,
		    o.verify, o.key);
	return events_daemon(c, &o);
}

static int
cmd_reload(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: ipseccmd reload\n");
		return CMD_EXIT_USAGE;
	}
	return cli_call(c, "reload", NULL, print_status);
}

static int
cmd_static(struct cli *c, int argc, char **argv)
{
	char **av = NULL;
	int rc, i;

	/* The global --json was taken off argv: hand it on. */
	if (c->json) {
		if ((av = calloc((size_t)argc + 2, sizeof(*av))) == NULL) {
			fprintf(stderr, "ipseccmd: out of memory\n");
			return CMD_EXIT_FAIL;
		}
		for (i = 0; i < argc; i++)
			av[i] = argv[i];
		av[argc] = (char *)"--json";
		rc = svc_static_main(argc + 1, av, c->store, c->secrets);
		free(av);
	} else
		rc = svc_static_main(argc, argv, c->store, c->secrets);
	if (rc == 0 && strcmp(argv[0], "static") == 0 && argc > 1 &&
	    strcmp(argv[1], "show") != 0 &&
	    strcmp(argv[1], "exportpolicy") != 0) {
		/* Ask a running daemon to pick the change up (none: fine). */
		json_t *res = NULL;
		int r;

		r = cli_request_quiet(c, "reload", (void **)&res);
		json_decref(res);
		if (r != CMD_EXIT_OK && r != CMD_EXIT_NOTRUNNING)
			fprintf(stderr, "ipseccmd: saved, but the running "
			    "service did not reload it (see ipseccmd events "
			    "--id 616)\n");
	}
	return rc;
}

/*
 * match: against the policy in force, through the daemon (whatever the
 * policy's source); with --file PATH (or file=PATH) against a store, an
 * LDIF export or the directory cache; with --store, or when the service
 * is not running (said on stderr), against the local store.
 */
static int
cmd_match(struct cli *c, int argc, char **argv)
{
	char **av, fb[PATH_MAX + 8];
	struct pol_pkt k;
	json_t *res = NULL;
	bool json = c->json, file = false;
	int i, n = 0, rc;

	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL)
		return CMD_EXIT_FAIL;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
			snprintf(fb, sizeof(fb), "file=%s", argv[++i]);
			av[n++] = fb;
			file = true;
			continue;
		}
		file = file || strncmp(argv[i], "file=", 5) == 0;
		av[n++] = argv[i];
	}
	if (file || c->store_given) {
		rc = cmd_static(c, n, av);
		free(av);
		return rc;
	}
	if ((rc = svc_static_match_packet(n, av, &k, &json)) != 0) {
		free(av);
		return rc;
	}
	json = json || c->json;
	{
		char sb[PA_ADDRSTRLEN], db[PA_ADDRSTRLEN];

		rc = cli_request(c, "match", json_pack(
		    "{s:s,s:s,s:i,s:i,s:i,s:s}", "src", pa_addr_str(&k.src,
		    sb, sizeof(sb)), "dst", pa_addr_str(&k.dst, db,
		    sizeof(db)), "proto", (int)k.proto, "sport", (int)k.sport,
		    "dport", (int)k.dport, "dir", k.dir == POL_DIR_OUT ?
		    "out" : "in"), (void **)&res);
	}
	if (rc == CMD_EXIT_NOTRUNNING) {
		fprintf(stderr, "ipseccmd: matching against the store %s "
		    "instead\n", c->store);
		rc = cmd_static(c, n, av);
		free(av);
		return rc;
	}
	free(av);
	if (rc != CMD_EXIT_OK)
		return rc;
	return svc_static_match_print(res, json) == 0 ? CMD_EXIT_OK :
	    CMD_EXIT_FAIL;
}

/* The configuration's error, for diag (which runs without one). */
static const char *diag_config_error;

/* The daemon's configuration tells where its socket is. */
static int
load_config(struct cli *c, const char *command, char *eb, size_t ec)
{
	svc_config_defaults(&c->cfg);
	if (svc_config_load(&c->cfg, c->config_path != NULL ? c->config_path :
	    SVC_CONFIG_DEFAULT, c->config_path == NULL, eb, ec) == 0)
		return 0;
	if (strcmp(command, "diag") != 0)
		return PA_E_INVAL;
	/* A bad configuration is diag's first finding. */
	svc_config_defaults(&c->cfg);
	diag_config_error = eb;
	return 0;
}

static int
cmd_diag(struct cli *c, int argc, char **argv)
{
	struct cli_diag_in in = { diag_config_error, 0, NULL, NULL };
	int rc;

	if (diag_config_error == NULL &&
	    (in.rc = cli_request_quiet(c, "status", &in.status)) == 0)
		(void)cli_request_quiet(c, "diag", &in.checks);
	rc = cli_diag(c, argc, argv, &in);
	json_decref(in.status);
	json_decref(in.checks);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli c;
	char eb[8192];
	int i;
	size_t k;

	memset(&c, 0, sizeof(c));
	c.argv0 = argv[0];
	c.timeout_ms = DEFAULT_TIMEOUT_MS;
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--json") == 0)
			c.json = true;
		else if ((strcmp(o, "-c") == 0 || strcmp(o, "--config") == 0) &&
		    i + 1 < argc)
			c.config_path = argv[++i];
		else if (strcmp(o, "--socket") == 0 && i + 1 < argc)
			c.socket = argv[++i];
		else if (strcmp(o, "--store") == 0 && i + 1 < argc) {
			c.store = argv[++i];
			c.store_given = true;
		}
		else if (strcmp(o, "--secrets") == 0 && i + 1 < argc)
			c.secrets = argv[++i];
		else if (strcmp(o, "--timeout") == 0 && i + 1 < argc) {
			c.timeout_ms = atoi(argv[++i]);
			if (c.timeout_ms <= 0) {
				usage(stderr);
				return CMD_EXIT_USAGE;
			}
		} else if (strcmp(o, "--version") == 0 || strcmp(o, "-V") == 0) {
			printf("ipseccmd %s\n", PA_VERSION);
			return CMD_EXIT_OK;
		} else if (strcmp(o, "--list-commands") == 0) {
			list_commands();
			return CMD_EXIT_OK;
		} else if (strcmp(o, "--list-keys") == 0) {
			list_keys();
			return CMD_EXIT_OK;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return CMD_EXIT_OK;
		} else {
			usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "?") == 0)
		return help(i + 1 < argc ? argv[i + 1] : NULL);
	if (i + 1 < argc && (strcmp(argv[i + 1], "?") == 0 ||
	    strcmp(argv[i + 1], "help") == 0))
		return help(argv[i]);
	if (load_config(&c, argv[i], eb, sizeof(eb)) != 0) {
		fprintf(stderr, "ipseccmd: %s\n", eb);
		return CMD_EXIT_USAGE;
	}
	if (c.socket == NULL)
		c.socket = c.cfg.control_socket;
	/* The store the daemon reads, unless told otherwise. */
	if (c.store == NULL)
		c.store = c.cfg.store;
	if (c.secrets == NULL)
		c.secrets = c.cfg.secrets;
	/* --json may also follow the command words. */
	for (k = (size_t)i; k < (size_t)argc; k++)
		if (strcmp(argv[k], "--json") == 0) {
			c.json = true;
			memmove(&argv[k], &argv[k + 1],
			    sizeof(argv[0]) * ((size_t)argc - k));
			argc--;
			k--;
		}
	for (k = 0; k < NSUBCMDS; k++)
		if (strcmp(subcmds[k].name, argv[i]) == 0) {
			if (!words_ok(&subcmds[k], argc - i, argv + i)) {
				fprintf(stderr, "usage: ipseccmd %s %s\n",
				    subcmds[k].name, subcmds[k].args);
				return CMD_EXIT_USAGE;
			}
			return subcmds[k].fn(&c, argc - i, argv + i);
		}
	fprintf(stderr, "ipseccmd: unknown command '%s'\n\n", argv[i]);
	usage(stderr);
	return CMD_EXIT_USAGE;
}
