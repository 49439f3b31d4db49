/*
 * ipseccmd monitor: a live view in the spirit of the Windows IP Security
 * Monitor (ipsecmon) and top. Each refresh asks the daemon for show.all
 * (one snapshot: status, statistics, Main and Quick Mode SAs) and draws a
 * header (service state, driver, policy source), the counters with their
 * rate per second since the previous refresh, then the SAs with their
 * traffic, age and time to rekey or expiry.
 *
 * On a terminal: the alternate screen, no cursor, no line wrap, keys read
 * without echo; 'q' or Ctrl-C quits and restores all of it; space or 'r'
 * refreshes at once, and so does a new window size. Elsewhere (a pipe, a file): plain frames separated by
 * a blank line, no escapes. --count N stops after N refreshes.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ipseccmd.h"
#include "lib/stats_names.h"
#include "pa_time.h"

#define MON_LABEL_MIN	20	/* counter label width, 80 columns */
#define MON_LABEL_MAX	34	/* the longest ipsecmon name */

static volatile sig_atomic_t mon_stop, mon_resized;

static void
mon_signal(int sig)
{
	if (sig == SIGWINCH)
		mon_resized = 1;
	else
		mon_stop = 1;
}

struct mon {
	struct cli	*c;
	double		 interval;	/* seconds */
	long		 count;		/* 0: until quit */
	bool		 tty;		/* stdout and stdin are a terminal */
	struct termios	 saved;
	bool		 raw;
	json_t		*prev;		/* the previous show.all */
	uint64_t	 prev_ms;
	int		 rows, cols;
	int		 label;		/* counter label width */
};

/* ---- the terminal ---- */

static void
term_size(struct mon *m)
{
	struct winsize ws;

	m->rows = 24;
	m->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		m->rows = ws.ws_row;
		m->cols = ws.ws_col;
	}
}

static void
term_enter(struct mon *m)
{
	struct termios t;

	if (!m->tty)
		return;
	if (tcgetattr(STDIN_FILENO, &m->saved) == 0) {
		t = m->saved;
		/* Keys one at a time, not echoed; Ctrl-C still signals. */
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		m->raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
	}
	/* Alternate screen, cursor hidden, no autowrap. */
	fputs("\033[?1049h\033[?25l\033[?7l", stdout);
	fflush(stdout);
}

static void
term_leave(struct mon *m)
{
	if (!m->tty)
		return;
	fputs("\033[?7h\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (m->raw)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &m->saved);
	m->raw = false;
}

/* ---- formatting ---- */

/* A count in at most 8 characters: exact below ten million, else k/M/G/T. */
static void
human(double v, char *buf, size_t cap)
{
	static const char sfx[] = "kMGTP";
	size_t i = 0;

	if (v < 1e7) {
		snprintf(buf, cap, v < 100 && v != (double)(long long)v ? "%.1f" :
		    "%.0f",
		    v);
		return;
	}
	v /= 1000;
	while (v >= 1000 && i + 1 < sizeof(sfx) - 1) {
		v /= 1000;
		i++;
	}
	snprintf(buf, cap, "%.1f%c", v, sfx[i]);
}

static void
dur(long long s, char *buf, size_t cap)
{
	if (s < 0)
		snprintf(buf, cap, "-");
	else if (s < 60)
		snprintf(buf, cap, "%llds", s);
	else if (s < 3600)
		snprintf(buf, cap, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, cap, "%lldh%02lldm", s / 3600, (s / 60) % 60);
	else
		snprintf(buf, cap, "%lldd%02lldh", s / 86400, (s / 3600) % 24);
}

static long long
iv(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *
sv(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

/* "v/s" of key between the previous and this refresh; "-" at first. */
static void
rate(double prev, double now, double dt, bool have, char *buf, size_t cap)
{
	char h[16];

	if (!have || dt <= 0 || now < prev) {
		snprintf(buf, cap, "-");
		return;
	}
	human((now - prev) / dt, h, sizeof(h));
	snprintf(buf, cap, "%s/s", h);
}

/* ---- the frame ---- */

struct cell {
	char	text[64];
};

/*
 * The counters of one table worth showing: the ones that are not zero,
 * and those every administrator looks at.
 */
static bool
counter_shown(const char *key, long long v)
{
	static const char *const always[] = { "main_modes", "quick_modes",
	    "active_main_mode_sas", "active_quick_mode_sas",
	    "authentication_failures", "negotiation_failures",
	    "confidential_sent_bytes", "confidential_received_bytes",
	    "authenticated_sent_bytes", "authenticated_received_bytes",
	    "packets_not_decrypted", "packets_not_authenticated",
	    "bad_spi_packets", "rekeys", NULL };
	size_t i;

	if (v != 0)
		return true;
	for (i = 0; always[i] != NULL; i++)
		if (strcmp(always[i], key) == 0)
			return true;
	return false;
}

static size_t
table_cells(const struct mon *m, json_t *now, json_t *prev, double dt,
    const char *table, struct cell *out, size_t cap)
{
	json_t *t = json_object_get(now, table), *p = json_object_get(prev,
	    table), *v;
	const char *k;
	size_t n = 0;

	json_object_foreach(t, k, v) {
		json_t *pv = json_object_get(p, k);
		char val[16], r[24];

		if (n == cap || !counter_shown(k, json_integer_value(v)))
			continue;
		human((double)json_integer_value(v), val, sizeof(val));
		rate((double)json_integer_value(pv),
		    (double)json_integer_value(v), dt, pv != NULL, r,
		    sizeof(r));
		snprintf(out[n].text, sizeof(out[n].text), "%-*.*s %8s %9s",
		    m->label, m->label, svc_stats_label(table, k), val, r);
		n++;
	}
	return n;
}

/* Two tables side by side under their titles. */
static void
two_columns(const struct mon *m, FILE *f, const char *lt, struct cell *l,
    size_t nl, const char *rt, struct cell *r, size_t nr)
{
	int w = m->label + 1 + 8 + 1 + 9;
	size_t i;

	if (lt != NULL)
		fprintf(f, "%-*.*s     total      rate  %-*.*s     total      "
		    "rate\n", m->label, m->label, lt, m->label, m->label, rt);
	for (i = 0; i < nl || i < nr; i++)
		fprintf(f, "%-*s  %s\n", w, i < nl ? l[i].text : "",
		    i < nr ? r[i].text : "");
}

static void
frame_header(struct mon *m, FILE *f, json_t *st)
{
	char host[64] = "", tb[32], up[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)gethostname(host, sizeof(host) - 1);
	gmtime_r(&now, &tm);
	strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M:%S UTC", &tm);
	dur(iv(st, "uptime"), up, sizeof(up));
	fprintf(f, "IPsec Monitor  %s  %s  every %gs%s\n", host, tb,
	    m->interval, m->tty ? "  (q quits, space refreshes)" : "");
	fprintf(f, "Service %s  up %s  driver %s  IKE %s  policy source %s\n",
	    sv(st, "state"), up, sv(st, "driver"),
	    json_is_true(json_object_get(st, "ike")) ? "on" : "off",
	    sv(st, "policy_source"));
	fprintf(f, "Policy %s (version %lld%s)  filters %lld  dynamic rules "
	    "%lld  MM SAs %lld  QM SAs %lld\n",
	    json_is_string(json_object_get(st, "policy")) ? sv(st, "policy") :
	    "(none assigned)", iv(st, "policy_version"),
	    json_is_true(json_object_get(st, "policy_pending")) ?
	    ", change queued" : "", iv(st, "filters"), iv(st, "dynamic_rules"),
	    iv(st, "mmsas"), iv(st, "qmsas"));
}

static void
frame_mmsas(FILE *f, json_t *all)
{
	json_t *a = json_object_get(all, "mmsas"), *v;
	size_t i;

	fprintf(f, "\nMain Mode SAs: %zu\n", json_array_size(a));
	if (json_array_size(a) > 0)
		fprintf(f, "  %-17s %-17s %-5s %-18s %4s %7s %8s\n", "peer",
		    "local", "auth", "offer", "QMs", "age", "expires");
	json_array_foreach(a, i, v) {
		char offer[40], age[16], exp[16];

		snprintf(offer, sizeof(offer), "%s-%s-%lld", sv(v, "cipher"),
		    sv(v, "hash"), iv(v, "dh_group"));
		dur(iv(v, "age_sec"), age, sizeof(age));
		dur(json_is_true(json_object_get(v, "established")) ?
		    iv(v, "expires_in_sec") : -1, exp, sizeof(exp));
		fprintf(f, "  %-17s %-17s %-5s %-18s %4lld %7s %8s\n",
		    sv(v, "peer"), sv(v, "local"), sv(v, "auth"), offer,
		    iv(v, "qm_count"), age, exp);
	}
}

/* The same SA pair in the previous snapshot (by its inbound SPI). */
static json_t *
prev_qmsa(json_t *prev, json_t *sa)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(prev, "qmsas"), i, v)
		if (iv(v, "spi_in") == iv(sa, "spi_in") &&
		    strcmp(sv(v, "peer"), sv(sa, "peer")) == 0)
			return v;
	return NULL;
}

static void
frame_qmsas(FILE *f, json_t *all, json_t *prev, double dt)
{
	json_t *a = json_object_get(all, "qmsas"), *v;
	size_t i;

	fprintf(f, "\nQuick Mode SAs: %zu\n", json_array_size(a));
	if (json_array_size(a) > 0)
		fprintf(f, "  %-17s %-37s %-19s %s\n", "peer", "traffic",
		    "protection", "SPI in/out");
	json_array_foreach(a, i, v) {
		json_t *p = prev_qmsa(prev, v);
		char sel[64], prot[40], bi[16], bo[16], pi[16], po[16],
		    ri[24], ro[24], age[16], rk[16];

		snprintf(sel, sizeof(sel), "%s -> %s %s", sv(v, "src"),
		    sv(v, "dst"), sv(v, "proto"));
		snprintf(prot, sizeof(prot), "%s%s%s%s%s",
		    json_is_true(json_object_get(v, "ah")) ? "AH " : "",
		    json_is_true(json_object_get(v, "esp")) ? "ESP " : "",
		    json_is_true(json_object_get(v, "esp")) ?
		    sv(v, "esp_cipher") : "", json_is_true(json_object_get(v,
		    "esp")) ? "/" : "", json_is_true(json_object_get(v,
		    "esp")) ? sv(v, "esp_integ") : sv(v, "ah_integ"));
		fprintf(f, "  %-17s %-37s %-19s %08llx/%08llx%s\n",
		    sv(v, "peer"), sel, prot,
		    (unsigned long long)iv(v, "spi_in"),
		    (unsigned long long)iv(v, "spi_out"),
		    json_is_true(json_object_get(v, "tunnel")) ? " tunnel" :
		    "");
		human((double)iv(v, "bytes_in"), bi, sizeof(bi));
		human((double)iv(v, "bytes_out"), bo, sizeof(bo));
		human((double)iv(v, "packets_in"), pi, sizeof(pi));
		human((double)iv(v, "packets_out"), po, sizeof(po));
		rate((double)iv(p, "bytes_in"), (double)iv(v, "bytes_in"), dt,
		    p != NULL, ri, sizeof(ri));
		rate((double)iv(p, "bytes_out"), (double)iv(v, "bytes_out"),
		    dt, p != NULL, ro, sizeof(ro));
		dur(iv(v, "age_sec"), age, sizeof(age));
		dur(iv(v, "rekey_in_sec"), rk, sizeof(rk));
		fprintf(f, "    in %s B %s pkts %s B  out %s B %s pkts %s B  "
		    "age %s  rekey in %s\n", bi, pi, ri, bo, po, ro, age, rk);
	}
}

/* One frame of the snapshot all into a buffer (*out, *len). */
static int
frame(struct mon *m, json_t *all, double dt, char **out, size_t *len)
{
	struct cell l[40], r[40], a[16];
	size_t nl, nr, na;
	FILE *f = open_memstream(out, len);
	json_t *st = json_object_get(all, "stats");
	json_t *pst = json_object_get(m->prev, "stats");

	if (f == NULL)
		return -1;
	frame_header(m, f, json_object_get(all, "status"));
	fprintf(f, "\n");
	/* Labels as wide as two columns in the window allow. */
	term_size(m);
	m->label = m->tty ? (m->cols - 2) / 2 - 19 : MON_LABEL_MAX;
	if (m->label < MON_LABEL_MIN)
		m->label = MON_LABEL_MIN;
	if (m->label > MON_LABEL_MAX)
		m->label = MON_LABEL_MAX;
	nl = table_cells(m, st, pst, dt, "oakley", l, 40);
	nr = table_cells(m, st, pst, dt, "ipsec", r, 40);
	two_columns(m, f, "Oakley (IKE)", l, nl, "IPsec", r, nr);
	na = table_cells(m, st, pst, dt, "agent", a, 16);
	if (na > 0) {
		fprintf(f, "Agent\n");
		two_columns(m, f, NULL, a, (na + 1) / 2, NULL,
		    a + (na + 1) / 2, na / 2);
	}
	frame_mmsas(f, all);
	frame_qmsas(f, all, m->prev, dt);
	return fclose(f) == 0 ? 0 : -1;
}

/* Write the frame: on a terminal from the top, clipped to the window. */
static void
show(struct mon *m, const char *buf)
{
	const char *p = buf, *nl;
	int row = 0;

	if (!m->tty) {
		fputs(buf, stdout);
		fputs("\n", stdout);
		fflush(stdout);
		return;
	}
	term_size(m);
	fputs("\033[H", stdout);
	while (*p != '\0' && (nl = strchr(p, '\n')) != NULL) {
		if (row == m->rows - 1 && nl[1] != '\0') {
			fputs("... (more: make the window taller)\033[K\n",
			    stdout);
			break;
		}
		fwrite(p, 1, (size_t)(nl - p), stdout);
		fputs("\033[K\r\n", stdout);
		row++;
		p = nl + 1;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

/*
 * Wait for the next refresh: the interval, a key (q: quit, space or r:
 * now), or a signal. Returns true to go on.
 */
static bool
wait_next(struct mon *m)
{
	uint64_t until = pa_now_ms() + (uint64_t)(m->interval * 1000);
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char ch;

	while (!mon_stop) {
		uint64_t now = pa_now_ms();
		int n;

		if (now >= until || mon_resized) {
			mon_resized = 0;	/* a new size: draw again */
			return true;
		}
		n = poll(&pfd, m->raw ? 1 : 0, (int)(until - now));
		if (n < 0 && errno != EINTR)
			return false;
		if (n <= 0 || !(pfd.revents & POLLIN))
			continue;
		if (read(STDIN_FILENO, &ch, 1) != 1)
			continue;
		if (ch == 'q' || ch == 'Q')
			return false;
		if (ch == ' ' || ch == 'r' || ch == 'R')
			return true;
	}
	return false;
}

static int
mon_args(struct mon *m, int argc, char **argv)
{
	int i;
	char *end;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			m->interval = strtod(argv[++i], &end);
			if (*end != '\0' || !(m->interval >= 0.1 &&
			    m->interval <= 3600))
				return -1;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			m->count = strtol(argv[++i], &end, 10);
			if (*end != '\0' || m->count < 1)
				return -1;
		} else
			return -1;
	}
	return 0;
}

int
cli_monitor(struct cli *c, int argc, char **argv)
{
	struct sigaction sa;
	struct mon m;
	long n = 0;
	int rc = CMD_EXIT_OK;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.interval = 2;
	if (mon_args(&m, argc, argv) != 0) {
		fprintf(stderr, "usage: ipseccmd monitor [--interval SECONDS "
		    "(0.1-3600)] [--count N]\n");
		return CMD_EXIT_USAGE;
	}
	if (c->json) {
		fprintf(stderr, "ipseccmd: monitor has no --json (use show "
		    "all --json)\n");
		return CMD_EXIT_USAGE;
	}
	m.tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mon_signal;	/* no SA_RESTART: poll() returns */
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGWINCH, &sa, NULL);
	term_enter(&m);
	while (!mon_stop) {
		json_t *all = NULL;
		uint64_t now;
		char *buf = NULL;
		size_t len = 0;

		if ((rc = cli_request(c, "show.all", NULL, (void **)&all)) != 0)
			break;
		now = pa_now_ms();
		if (frame(&m, all, m.prev != NULL ?
		    (double)(now - m.prev_ms) / 1000 : 0, &buf, &len) == 0)
			show(&m, buf);
		free(buf);
		json_decref(m.prev);
		m.prev = all;
		m.prev_ms = now;
		if (m.count > 0 && ++n >= m.count)
			break;
		if (!wait_next(&m))
			break;
	}
	term_leave(&m);
	if (rc != CMD_EXIT_OK && m.tty)	/* said on the alternate screen */
		fprintf(stderr, "ipseccmd: monitor: no answer from the "
		    "service (exit %d)\n", rc);
	json_decref(m.prev);
	return rc;
}
