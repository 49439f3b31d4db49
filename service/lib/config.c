/*
 * The configuration file parser. Lines are "key = value"; blank lines and
 * lines starting with '#' are ignored; a value may be quoted with double
 * quotes to keep leading or trailing blanks. Unknown keys, bad values and
 * repeated keys are errors with file:line.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "pa_addr.h"
#include "config.h"

#define CFG_LINE_MAX	8192

static bool	dns_name_ok(const char *);
static bool	no_blanks(const char *);
static bool	ldap_uri(const char *);

static const struct svc_config_word bool_words[] = {
	{ "on", 1 }, { "yes", 1 }, { "true", 1 }, { "1", 1 },
	{ "off", 0 }, { "no", 0 }, { "false", 0 }, { "0", 0 }, { NULL, 0 }
};
static const struct svc_config_word source_words[] = {
	{ "local", AGENT_SRC_LOCAL }, { "directory", AGENT_SRC_DIRECTORY },
	{ NULL, 0 }
};
static const struct svc_config_word sink_words[] = {
	{ "journald", SVC_SINK_JOURNALD }, { "syslog", SVC_SINK_SYSLOG },
	{ "none", SVC_SINK_NONE }, { NULL, 0 }
};
static const struct svc_config_word bind_words[] = {
	{ "gssapi", 0 }, { "simple", 1 }, { NULL, 0 }
};
static const struct svc_config_word level_words[] = {
	{ "error", 3 }, { "warning", 4 }, { "info", 6 }, { "debug", 7 },
	{ NULL, 0 }
};
static const struct svc_config_word off_words[] = {
	{ "off", 0xffff }, { NULL, 0 }
};
static const struct svc_config_word notify_words[] = {
	{ "auto", 1 }, { "off", 0 }, { NULL, 0 }
};
static const struct svc_config_word spread_words[] = {
	{ "auto", SVC_SPREAD_AUTO }, { NULL, 0 }
};

/* A key: name, syntax, default, example, type, field, then the rest. */
#define K(n, v, d, e, t, f, ...)					\
	{ .name = n, .values = v, .def = d, .example = e,		\
	  .type = SVC_CFG_##t, .off = offsetof(struct svc_config, f),	\
	  .size = sizeof(((struct svc_config *)0)->f), __VA_ARGS__ }
/* The error: "KEY must be ..., not 'VALUE'" or "KEY: ...". */
#define MUST(s)		.err = " must be " s, .err_value = true
#define WHAT(s)		.err = ": " s
#define ABSPATH		MUST("an absolute path")
#define BOOL(s)		.words = bool_words, MUST(s)
#define RANGE(a, b)	.min = a, .max = b

const struct svc_config_key svc_config_keys[] = {
	K("policy_source", "local|directory", "local", "directory", WORD,
	    policy_source, .words = source_words,
	    MUST("local or directory")),
	K("store", "PATH", "/etc/ipsec-agent/store.xml", "/tmp/store.xml",
	    PATH, store, .min = 1, ABSPATH),
	K("secrets", "PATH", "/etc/ipsec-agent/secrets.xml", "/tmp/s.xml",
	    PATH, secrets, .min = 1, ABSPATH),
	K("driver", "uesp|xfrm|null", "uesp", "xfrm", TEXT, driver,
	    WHAT("a backend name is required")),
	K("audit_sink", "journald|syslog|none", "journald", "none", WORD,
	    audit_sink, .words = sink_words,
	    MUST("journald, syslog or none")),
	K("audit_file", "PATH|\"\"", "/var/log/ipsec-agent/audit.jsonl", "",
	    PATH, audit_file, ABSPATH),
	K("audit_rotate_size", "BYTES[K|M|G]", "16M", "1M", SIZE,
	    audit_rotate_size, .min = 4096, MUST("0 (never) or at least 4096 "
	    "bytes (suffix K, M, G allowed)")),
	K("audit_rotate_keep", "1-99", "8", "3", UINT, audit_rotate_keep,
	    RANGE(1, 99), MUST("1 to 99")),
	K("diagnostics", "0-7", "0", "7", UINT, diagnostics, RANGE(0, 7),
	    MUST("0 to 7")),
	K("oakley_log", "on|off", "off", "on", WORD, oakley_log,
	    BOOL("on or off")),
	K("oakley_log_path", "PATH", "/var/log/ipsec-agent/oakley.log",
	    "/tmp/oakley.log", PATH, oakley_log_path, .min = 1, ABSPATH),
	K("oakley_log_size", "BYTES[K|M|G]", "16M", "1M", SIZE,
	    oakley_log_size, .min = 4096, MUST("0 (never) or at least 4096 "
	    "bytes (suffix K, M, G allowed)")),
	K("metrics_textfile", "PATH|\"\"", "",
	    "/var/lib/prometheus/node-exporter/ipsec.prom", PATH,
	    metrics_textfile, ABSPATH),
	K("metrics_interval", "1-3600", "15", "15", UINT, metrics_interval,
	    RANGE(1, 3600), MUST("1 to 3600 seconds")),
	K("control_socket", "PATH", "/run/ipsec-agent/control.sock",
	    "/tmp/c.sock", PATH, control_socket, RANGE(1, 107),
	    .err = " must be an absolute path shorter than 108 bytes"),
	K("admin_group", "GROUP", "root", "ipsec-admins", TEXT, admin_group,
	    WHAT("a group name is required")),
	K("control_mode", "0660|0666", "0660", "0666", MODE, control_mode,
	    MUST("octal, rw for owner and group, no execute (0660 or "
	    "0666)")),
	K("state_dir", "PATH", "/var/lib/ipsec-agent", "/tmp", PATH,
	    state_dir, .min = 1, ABSPATH),
	K("ike", "on|off", "on", "off", WORD, ike, BOOL("on or off")),
	K("ike_port", "1-65535", "500", "500", UINT, ike_port,
	    RANGE(1, 65535), MUST("1 to 65535")),
	K("ike_addresses", "ADDRESS...", "", "192.0.2.1 2001:db8::1", ADDRS,
	    ike_addresses, .max = 16,
	    WHAT("one or more addresses, space separated")),
	K("natt_port", "1-65534|off", "4500", "off", UINT, natt_port,
	    RANGE(1, 65534), .words = off_words, MUST("1 to 65534 or off")),
	K("kerberos_keytab", "PATH", "", "/etc/krb5.keytab", PATH, krb_keytab,
	    .min = 1, ABSPATH),
	K("kerberos_principal", "PRINCIPAL", "", "HOSTA$", TEXT,
	    krb_principal, .check = no_blanks, WHAT("a principal name "
	    "without blanks (host/fqdn or NAME$)")),
	K("kerberos_config", "PATH", "", "/etc/krb5.conf", PATH, krb_config,
	    .min = 1, ABSPATH),
	K("cert_file", "PATH", "", "/etc/ipsec-agent/host.pem", PATH,
	    cert_file, .min = 1, ABSPATH),
	K("key_file", "PATH", "", "/etc/ipsec-agent/host.key", PATH,
	    key_file, .min = 1, ABSPATH),
	K("ca_file", "PATH", "", "/etc/ipsec-agent/ca.pem", PATH, ca_file,
	    .min = 1, ABSPATH),
	K("crl_file", "PATH|\"\"", "", "/etc/ipsec-agent/crl.pem", PATH,
	    crl_file, ABSPATH),
	K("crl_check", "0|1|2", "1", "2", UINT, crl_check, RANGE(0, 2),
	    MUST("0 (off), 1 (refuse what a CRL says is revoked) or 2 "
	    "(refuse also when no valid CRL)")),
	K("crl_fetch", "yes|no", "yes", "no", WORD, crl_fetch,
	    BOOL("yes or no")),
	K("crl_fetch_timeout", "1-300", "15", "5", UINT, crl_fetch_timeout,
	    RANGE(1, 300), MUST("1 to 300 seconds")),
	K("crl_retry", "5-86400", "300", "60", UINT, crl_retry,
	    RANGE(5, 86400), MUST("5 to 86400 seconds")),
	K("dpd", "5-3600", "30", "10", UINT, dpd_ms, RANGE(5, 3600),
	    .mult = 1000, MUST("5 to 3600 seconds")),
	K("dos_halfopen", "0-1000", "64", "100", UINT, dos_halfopen,
	    RANGE(0, 1000), MUST("0 (off) to 1000")),
	K("natt_keepalive", "1-3600", "20", "10", UINT, natt_keepalive_ms,
	    RANGE(1, 3600), .mult = 1000, MUST("1 to 3600 seconds")),
	K("soft_sa_lifetime", "1-86400", "300", "60", UINT, soft_sa_life_ms,
	    RANGE(1, 86400), .mult = 1000, MUST("1 to 86400 seconds")),
	K("stop_timeout", "1-300", "10", "5", UINT, stop_timeout_ms,
	    RANGE(1, 300), .mult = 1000, MUST("1 to 300 seconds")),
	K("drop_privileges", "yes|no", "yes", "no", WORD, drop_privileges,
	    BOOL("yes or no")),
	K("log_level", "error|warning|info|debug", "info", "debug", WORD,
	    log_level, .words = level_words,
	    MUST("error, warning, info or debug")),
	K("directory_uri", "URI...", "", "ldaps://dc1.example.test", TEXT,
	    dir_uris, .check = ldap_uri, WHAT("one or more ldap:// or "
	    "ldaps:// URIs, space separated")),
	K("directory_domain", "DNSNAME", "", "ad.example.test", TEXT,
	    dir_domain, .check = dns_name_ok, WHAT("the domain's DNS name "
	    "(e.g. ad.example.test)"), .err_value = true),
	K("directory_base", "DN", "", "DC=example,DC=test", TEXT, dir_base,
	    WHAT("the domain DN is required")),
	K("directory_computer", "DN|NAME$", "", "HOSTA$", TEXT, dir_computer,
	    WHAT("this computer's DN or account name (HOST$)")),
	K("directory_bind", "gssapi|simple", "gssapi", "simple", WORD,
	    dir_bind, .words = bind_words, MUST("gssapi or simple")),
	K("directory_keytab", "PATH", "/etc/krb5.keytab", "/etc/krb5.keytab",
	    PATH, dir_keytab, .min = 1, ABSPATH),
	K("directory_principal", "PRINCIPAL", "", "HOSTA$", TEXT,
	    dir_principal, WHAT("a principal name")),
	K("directory_bind_dn", "DN", "", "CN=agent,DC=example,DC=test", TEXT,
	    dir_bind_dn, WHAT("a DN")),
	K("directory_password_file", "PATH", "", "/etc/ipsec-agent/pw", PATH,
	    dir_password_file, .min = 1, ABSPATH),
	K("directory_starttls", "yes|no", "yes", "no", WORD, dir_starttls,
	    BOOL("yes or no")),
	K("directory_ca_file", "PATH", "", "/etc/ipsec-agent/dc-ca.pem", PATH,
	    dir_ca_file, .min = 1, ABSPATH),
	K("directory_cache", "PATH|\"\"",
	    "/var/lib/ipsec-agent/directory-policy.cache", "", PATH, dir_cache,
	    ABSPATH),
	K("directory_timeout", "1-300", "10", "5", UINT, dir_timeout_ms,
	    RANGE(1, 300), .mult = 1000, MUST("1 to 300 seconds")),
	K("directory_min_poll", "1-86400", "60", "60", UINT, dir_min_poll,
	    RANGE(1, 86400), MUST("1 to 86400 seconds")),
	K("directory_backoff_unit", "1-3600", "60", "10", UINT,
	    dir_backoff_unit, RANGE(1, 3600), MUST("1 to 3600 seconds")),
	K("directory_insecure_plain", "yes|no", "no", "yes", WORD,
	    dir_insecure_plain, BOOL("yes or no")),
	K("directory_notify", "auto|off", "auto", "off", WORD, dir_notify,
	    .words = notify_words, MUST("auto or off")),
	K("directory_notify_quiet", "100-60000", "1500", "1000", UINT,
	    dir_notify_quiet_ms, RANGE(100, 60000),
	    MUST("100 to 60000 milliseconds")),
	K("directory_notify_max", "100-600000", "10000", "5000", UINT,
	    dir_notify_max_ms, RANGE(100, 600000),
	    MUST("100 to 600000 milliseconds")),
	K("directory_poll_spread", "0-86400|auto", "auto", "0", UINT,
	    dir_poll_spread, RANGE(0, 86400), .words = spread_words,
	    MUST("auto or 0 to 86400 seconds")),
};
#undef K
#undef MUST
#undef WHAT
#undef ABSPATH
#undef BOOL
#undef RANGE
const size_t svc_config_nkeys = sizeof(svc_config_keys) /
    sizeof(svc_config_keys[0]);

const struct svc_config_key *
svc_config_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < svc_config_nkeys; i++)
		if (strcmp(svc_config_keys[i].name, name) == 0)
			return &svc_config_keys[i];
	return NULL;
}

void
svc_config_defaults(struct svc_config *c)
{
	memset(c, 0, sizeof(*c));
	c->policy_source = AGENT_SRC_LOCAL;
	snprintf(c->store, sizeof(c->store), "/etc/ipsec-agent/store.xml");
	snprintf(c->secrets, sizeof(c->secrets), "/etc/ipsec-agent/secrets.xml");
	snprintf(c->driver, sizeof(c->driver), "uesp");
	c->audit_sink = SVC_SINK_JOURNALD;
	snprintf(c->audit_file, sizeof(c->audit_file),
	    "/var/log/ipsec-agent/audit.jsonl");
	c->audit_rotate_size = 16U << 20;
	c->audit_rotate_keep = 8;
	c->diagnostics = 0;
	c->oakley_log = false;
	snprintf(c->oakley_log_path, sizeof(c->oakley_log_path),
	    "/var/log/ipsec-agent/oakley.log");
	c->oakley_log_size = 16U << 20;
	c->metrics_interval = 15;
	snprintf(c->control_socket, sizeof(c->control_socket),
	    "/run/ipsec-agent/control.sock");
	snprintf(c->admin_group, sizeof(c->admin_group), "root");
	c->control_mode = 0660;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ipsec-agent");
	c->ike = true;
	c->stop_timeout_ms = 10000;
	c->dos_halfopen = SVC_DOS_HALFOPEN;
	c->crl_check = 1;
	c->crl_fetch = true;
	c->crl_fetch_timeout = 15;
	c->crl_retry = 300;
	c->log_level = 6;
	c->drop_privileges = true;
	snprintf(c->dir_keytab, sizeof(c->dir_keytab), "/etc/krb5.keytab");
	c->dir_starttls = true;
	snprintf(c->dir_cache, sizeof(c->dir_cache),
	    "/var/lib/ipsec-agent/directory-policy.cache");
	c->dir_timeout_ms = 10000;
	c->dir_notify = true;
	c->dir_notify_quiet_ms = 1500;
	c->dir_notify_max_ms = 10000;
	c->dir_poll_spread = SVC_SPREAD_AUTO;
}

static int
cfg_errf(char *eb, size_t ec, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
cfg_errf(char *eb, size_t ec, const char *where, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(eb, ec, "%s: ", where);
	if (n >= 0 && (size_t)n < ec) {
		va_start(ap, fmt);
		vsnprintf(eb + n, ec - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return PA_E_INVAL;
}

static int
parse_uint(const char *v, uint64_t max, uint64_t *out, int base)
{
	char *end;
	unsigned long long x;

	if (*v == '\0' || *v == '-' || isspace((unsigned char)*v))
		return PA_E_INVAL;
	errno = 0;
	x = strtoull(v, &end, base);
	if (errno != 0 || *end != '\0' || x > max)
		return PA_E_INVAL;
	*out = x;
	return 0;
}

/* "1048576", "64K", "16M", "1G". */
static int
parse_size(const char *v, uint64_t *out)
{
	char num[32];
	size_t len = strlen(v);
	uint64_t mul = 1, x;

	if (len == 0 || len >= sizeof(num))
		return PA_E_INVAL;
	memcpy(num, v, len + 1);
	switch (num[len - 1]) {
	case 'K': case 'k': mul = 1ULL << 10; num[--len] = '\0'; break;
	case 'M': case 'm': mul = 1ULL << 20; num[--len] = '\0'; break;
	case 'G': case 'g': mul = 1ULL << 30; num[--len] = '\0'; break;
	default: break;
	}
	if (parse_uint(num, UINT64_MAX / mul, &x, 10) != 0)
		return PA_E_INVAL;
	*out = x * mul;
	return 0;
}

/* A plausible DNS domain name: dot-separated labels of 1..63 letters,
 * digits, '-' or '_', 253 characters at most, no final dot. */
static bool
dns_name_ok(const char *v)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	size_t label;

	if (strlen(v) > 253)
		return false;
	for (;;) {
		label = strspn(v, ok);
		if (label == 0 || label > 63)
			return false;
		v += label;
		if (*v == '\0')
			return true;
		if (*v++ != '.')
			return false;
	}
}

/* A principal name: no blanks. */
static bool
no_blanks(const char *v)
{
	return strpbrk(v, " \t") == NULL;
}

/* The first of the URIs is ldap:// or ldaps://. */
static bool
ldap_uri(const char *v)
{
	return strncmp(v, "ldap://", 7) == 0 || strncmp(v, "ldaps://", 8) == 0;
}

/* ---- one parser per type: 0, or PA_E_INVAL for the key's error ---- */

/* x into a field of size bytes (bool, uint16_t, unsigned, uint64_t). */
static void
store_uint(void *f, size_t size, uint64_t x)
{
	bool b = x != 0;
	uint16_t u16 = (uint16_t)x;
	uint32_t u32 = (uint32_t)x;

	switch (size) {
	case sizeof(b):
		memcpy(f, &b, size);
		break;
	case sizeof(u16):
		memcpy(f, &u16, size);
		break;
	case sizeof(u32):
		memcpy(f, &u32, size);
		break;
	default:
		memcpy(f, &x, sizeof(x));
		break;
	}
}

static int
set_path(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	size_t len = strlen(v);

	(void)why;
	(void)wc;
	if (len < k->min || len >= k->size || (k->max != 0 && len > k->max) ||
	    (len > 0 && v[0] != '/'))
		return PA_E_INVAL;
	memcpy(f, v, len + 1);
	return 0;
}

static int
set_text(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	(void)why;
	(void)wc;
	if (*v == '\0' || strlen(v) >= k->size ||
	    (k->check != NULL && !k->check(v)))
		return PA_E_INVAL;
	memcpy(f, v, strlen(v) + 1);
	return 0;
}

static int
set_word(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	const struct svc_config_word *w;

	(void)why;
	(void)wc;
	for (w = k->words; w != NULL && w->name != NULL; w++)
		if (strcmp(v, w->name) == 0) {
			store_uint(f, k->size, w->value);
			return 0;
		}
	return PA_E_INVAL;
}

static int
set_uint(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	uint64_t x;

	if (k->words != NULL && set_word(k, f, v, why, wc) == 0)
		return 0;
	if (parse_uint(v, k->max, &x, 10) != 0 || x < k->min)
		return PA_E_INVAL;
	store_uint(f, k->size, x * (k->mult != 0 ? k->mult : 1));
	return 0;
}

static int
set_size(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	uint64_t x;

	(void)why;
	(void)wc;
	if (parse_size(v, &x) != 0 || (x != 0 && x < k->min))
		return PA_E_INVAL;
	store_uint(f, k->size, x);
	return 0;
}

static int
set_mode(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	uint64_t x;

	(void)why;
	(void)wc;
	if (parse_uint(v, 0777, &x, 8) != 0 || (x & 0600) != 0600 ||
	    (x & 0111) != 0 || (x & 0066) == 0)
		return PA_E_INVAL;
	store_uint(f, k->size, x);
	return 0;
}

/* Addresses, space separated; why names the first bad one. */
static int
set_addrs(const struct svc_config_key *k, void *f, const char *v,
    char *why, size_t wc)
{
	char buf[1024], *save = NULL, *tok;
	struct pa_addr ad;
	size_t n = 0;

	if (*v == '\0' || strlen(v) >= sizeof(buf) || strlen(v) >= k->size)
		return PA_E_INVAL;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save), n++)
		if (pa_addr_parse(tok, &ad) != 0 || n >= k->max) {
			snprintf(why, wc, "%s: '%s' is not an address (at most "
			    "%" PRIu64 ")", k->name, tok, k->max);
			return PA_E_INVAL;
		}
	memcpy(f, v, strlen(v) + 1);
	return 0;
}

int
svc_config_set(struct svc_config *c, const char *name, const char *v,
    const char *where, char *eb, size_t ec)
{
	static int (*const set[])(const struct svc_config_key *, void *,
	    const char *, char *, size_t) = {
		[SVC_CFG_PATH] = set_path,
		[SVC_CFG_TEXT] = set_text,
		[SVC_CFG_WORD] = set_word,
		[SVC_CFG_UINT] = set_uint,
		[SVC_CFG_SIZE] = set_size,
		[SVC_CFG_MODE] = set_mode,
		[SVC_CFG_ADDRS] = set_addrs,
	};
	const struct svc_config_key *k = svc_config_key_find(name);
	char why[1280] = "";	/* holds a whole ike_addresses token */

	if (k == NULL)
		return cfg_errf(eb, ec, where, "unknown key '%s'", name);
	if (set[k->type](k, (char *)c + k->off, v, why, sizeof(why)) == 0)
		return 0;
	if (why[0] != '\0')
		return cfg_errf(eb, ec, where, "%s", why);
	return cfg_errf(eb, ec, where, "%s%s%s%s%s", k->name, k->err,
	    k->err_value ? ", not '" : "", k->err_value ? v : "",
	    k->err_value ? "'" : "");
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

#define CFG_MAX_KEYS	64

int
svc_config_load(struct svc_config *c, const char *path, bool missing_ok,
    char *eb, size_t ec)
{
	char line[CFG_LINE_MAX], where[SVC_PATH_MAX + 32];
	char seen[CFG_MAX_KEYS][32];
	size_t nseen = 0, i;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(eb, ec, "%s: %s", path, strerror(errno));
		return PA_E_SYS;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *k, *v;
		size_t len = strlen(line);

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			rc = cfg_errf(eb, ec, where, "line too long");
			goto out;
		}
		if (memchr(line, '\0', len) != NULL || strlen(line) != len) {
			rc = cfg_errf(eb, ec, where, "NUL byte in line");
			goto out;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			rc = cfg_errf(eb, ec, where, "expected 'key = value'");
			goto out;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (*k == '\0') {
			rc = cfg_errf(eb, ec, where, "missing key before '='");
			goto out;
		}
		if (*v == '"') {
			size_t vl = strlen(v);

			if (vl < 2 || v[vl - 1] != '"') {
				rc = cfg_errf(eb, ec, where, "unterminated "
				    "quoted value");
				goto out;
			}
			v[vl - 1] = '\0';
			v++;
		}
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], k) == 0) {
				rc = cfg_errf(eb, ec, where, "key '%s' given "
				    "twice", k);
				goto out;
			}
		if ((rc = svc_config_set(c, k, v, where, eb, ec)) != 0)
			goto out;
		if (nseen < CFG_MAX_KEYS)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", k);
	}
	if (ferror(f)) {
		snprintf(eb, ec, "%s: read error", path);
		rc = PA_E_SYS;
	}
out:
	fclose(f);
	return rc;
}

int
svc_config_finish(struct svc_config *c, char *eb, size_t ec)
{
	struct group *gr;

	errno = 0;
	if ((gr = getgrnam(c->admin_group)) == NULL) {
		snprintf(eb, ec, "admin_group: no group named '%s'",
		    c->admin_group);
		return PA_E_INVAL;
	}
	c->admin_gid = gr->gr_gid;
	if (c->policy_source == AGENT_SRC_DIRECTORY &&
	    ((c->dir_uris[0] == '\0' && c->dir_domain[0] == '\0') ||
	    c->dir_base[0] == '\0' || c->dir_computer[0] == '\0')) {
		snprintf(eb, ec, "policy_source = directory needs "
		    "directory_uri or directory_domain, directory_base and "
		    "directory_computer");
		return PA_E_INVAL;
	}
	if (c->policy_source == AGENT_SRC_DIRECTORY && c->dir_bind == 1 &&
	    (c->dir_bind_dn[0] == '\0' || c->dir_password_file[0] == '\0')) {
		snprintf(eb, ec, "directory_bind = simple needs "
		    "directory_bind_dn and directory_password_file");
		return PA_E_INVAL;
	}
	if ((c->cert_file[0] != '\0') != (c->key_file[0] != '\0')) {
		snprintf(eb, ec, "cert_file and key_file go together (this "
		    "host's certificate and its private key)");
		return PA_E_INVAL;
	}
	if (c->cert_file[0] != '\0' && c->ca_file[0] == '\0' &&
	    c->policy_source != AGENT_SRC_DIRECTORY) {
		snprintf(eb, ec, "cert_file needs ca_file (the CA "
		    "certificates peers' chains are verified against) or "
		    "policy_source = directory (the domain's enterprise CAs)");
		return PA_E_INVAL;
	}
	if (c->oakley_log && c->oakley_log_path[0] == '\0') {
		snprintf(eb, ec, "oakley_log: on needs oakley_log_path");
		return PA_E_INVAL;
	}
	return 0;
}
