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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "pa_addr.h"
#include "config.h"

#define CFG_LINE_MAX	8192

#define K(n, v, d, e)	{ n, v, d, e }
const struct svc_config_key svc_config_keys[] = {
	K("policy_source", "local|directory", "local", "directory"),
	K("store", "PATH", "/etc/ipsec-agent/store.xml", "/tmp/store.xml"),
	K("secrets", "PATH", "/etc/ipsec-agent/secrets.xml", "/tmp/s.xml"),
	K("driver", "uesp|xfrm|null", "uesp", "xfrm"),
	K("audit_sink", "journald|syslog|none", "journald", "none"),
	K("audit_file", "PATH|\"\"", "/var/log/ipsec-agent/audit.jsonl", ""),
	K("audit_rotate_size", "BYTES[K|M|G]", "16M", "1M"),
	K("audit_rotate_keep", "1-99", "8", "3"),
	K("diagnostics", "0-7", "0", "7"),
	K("oakley_log", "on|off", "off", "on"),
	K("oakley_log_path", "PATH", "/var/log/ipsec-agent/oakley.log",
	    "/tmp/oakley.log"),
	K("oakley_log_size", "BYTES[K|M|G]", "16M", "1M"),
	K("control_socket", "PATH", "/run/ipsec-agent/control.sock",
	    "/tmp/c.sock"),
	K("admin_group", "GROUP", "root", "ipsec-admins"),
	K("control_mode", "0660|0666", "0660", "0666"),
	K("state_dir", "PATH", "/var/lib/ipsec-agent", "/tmp"),
	K("ike", "on|off", "on", "off"),
	K("ike_port", "1-65535", "500", "500"),
	K("ike_addresses", "ADDRESS...", "", "192.0.2.1 2001:db8::1"),
	K("natt_port", "1-65534|off", "4500", "off"),
	K("kerberos_keytab", "PATH", "", "/etc/krb5.keytab"),
	K("kerberos_principal", "PRINCIPAL", "", "HOSTA$"),
	K("kerberos_config", "PATH", "", "/etc/krb5.conf"),
	K("cert_file", "PATH", "", "/etc/ipsec-agent/host.pem"),
	K("key_file", "PATH", "", "/etc/ipsec-agent/host.key"),
	K("ca_file", "PATH", "", "/etc/ipsec-agent/ca.pem"),
	K("crl_file", "PATH", "", "/etc/ipsec-agent/crl.pem"),
	K("crl_check", "0|1|2", "1", "2"),
	K("crl_fetch", "yes|no", "yes", "no"),
	K("crl_fetch_timeout", "1-300", "15", "5"),
	K("crl_retry", "5-86400", "300", "60"),
	K("dpd", "5-3600", "30", "10"),
	K("dos_halfopen", "0-1000", "64", "100"),
	K("natt_keepalive", "1-3600", "20", "10"),
	K("soft_sa_lifetime", "1-86400", "300", "60"),
	K("stop_timeout", "1-300", "10", "5"),
	K("drop_privileges", "yes|no", "yes", "no"),
	K("log_level", "error|warning|info|debug", "info", "debug"),
	K("directory_uri", "URI...", "", "ldaps://dc1.example.test"),
	K("directory_domain", "DNSNAME", "", "ad.example.test"),
	K("directory_base", "DN", "", "DC=example,DC=test"),
	K("directory_computer", "DN|NAME$", "", "HOSTA$"),
	K("directory_bind", "gssapi|simple", "gssapi", "simple"),
	K("directory_keytab", "PATH", "/etc/krb5.keytab", "/etc/krb5.keytab"),
	K("directory_principal", "PRINCIPAL", "", "HOSTA$"),
	K("directory_bind_dn", "DN", "", "CN=agent,DC=example,DC=test"),
	K("directory_password_file", "PATH", "", "/etc/ipsec-agent/pw"),
	K("directory_starttls", "yes|no", "yes", "no"),
	K("directory_ca_file", "PATH", "", "/etc/ipsec-agent/dc-ca.pem"),
	K("directory_cache", "PATH|\"\"",
	    "/var/lib/ipsec-agent/directory-policy.cache", ""),
	K("directory_timeout", "1-300", "10", "5"),
	K("directory_min_poll", "1-86400", "60", "60"),
	K("directory_backoff_unit", "1-3600", "60", "10"),
	K("directory_insecure_plain", "yes|no", "no", "yes"),
};
#undef K
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

static int
parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 ||
	    strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return PA_E_INVAL;
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

static int
set_path(char *dst, size_t cap, const char *v, bool empty_ok)
{
	size_t len = strlen(v);

	if ((len == 0 && !empty_ok) || len >= cap)
		return PA_E_INVAL;
	if (len > 0 && v[0] != '/')
		return PA_E_INVAL;
	memcpy(dst, v, len + 1);
	return 0;
}

static int
set_text(char *dst, size_t cap, const char *v)
{
	if (*v == '\0' || strlen(v) >= cap)
		return PA_E_INVAL;
	memcpy(dst, v, strlen(v) + 1);
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

/* The directory_* keys. */
static int
set_directory(struct svc_config *c, const char *k, const char *v,
    const char *where, char *eb, size_t ec)
{
	uint64_t x;
	bool b;

	if (strcmp(k, "uri") == 0) {
		if (set_text(c->dir_uris, sizeof(c->dir_uris), v) != 0 ||
		    (strncmp(v, "ldap://", 7) != 0 &&
		    strncmp(v, "ldaps://", 8) != 0))
			return cfg_errf(eb, ec, where, "directory_uri: one or "
			    "more ldap:// or ldaps:// URIs, space separated");
	} else if (strcmp(k, "domain") == 0) {
		if (!dns_name_ok(v) || set_text(c->dir_domain,
		    sizeof(c->dir_domain), v) != 0)
			return cfg_errf(eb, ec, where, "directory_domain: the "
			    "domain's DNS name (e.g. ad.example.test), not "
			    "'%s'", v);
	} else if (strcmp(k, "base") == 0) {
		if (set_text(c->dir_base, sizeof(c->dir_base), v) != 0)
			return cfg_errf(eb, ec, where, "directory_base: the "
			    "domain DN is required");
	} else if (strcmp(k, "computer") == 0) {
		if (set_text(c->dir_computer, sizeof(c->dir_computer), v) != 0)
			return cfg_errf(eb, ec, where, "directory_computer: "
			    "this computer's DN or account name (HOST$)");
	} else if (strcmp(k, "bind") == 0) {
		if (strcmp(v, "gssapi") == 0)
			c->dir_bind = 0;
		else if (strcmp(v, "simple") == 0)
			c->dir_bind = 1;
		else
			return cfg_errf(eb, ec, where, "directory_bind must be "
			    "gssapi or simple, not '%s'", v);
	} else if (strcmp(k, "keytab") == 0) {
		if (set_path(c->dir_keytab, sizeof(c->dir_keytab), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "principal") == 0) {
		if (set_text(c->dir_principal, sizeof(c->dir_principal),
		    v) != 0)
			return cfg_errf(eb, ec, where, "directory_principal: "
			    "a principal name");
	} else if (strcmp(k, "bind_dn") == 0) {
		if (set_text(c->dir_bind_dn, sizeof(c->dir_bind_dn), v) != 0)
			return cfg_errf(eb, ec, where, "directory_bind_dn: a "
			    "DN");
	} else if (strcmp(k, "password_file") == 0) {
		if (set_path(c->dir_password_file,
		    sizeof(c->dir_password_file), v, false) != 0)
			goto badpath;
	} else if (strcmp(k, "starttls") == 0) {
		if (parse_bool(v, &b) != 0)
			return cfg_errf(eb, ec, where, "directory_starttls "
			    "must be yes or no, not '%s'", v);
		c->dir_starttls = b;
	} else if (strcmp(k, "ca_file") == 0) {
		if (set_path(c->dir_ca_file, sizeof(c->dir_ca_file), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "cache") == 0) {
		if (set_path(c->dir_cache, sizeof(c->dir_cache), v, true) != 0)
			goto badpath;
	} else if (strcmp(k, "timeout") == 0) {
		if (parse_uint(v, 300, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "directory_timeout must "
			    "be 1 to 300 seconds, not '%s'", v);
		c->dir_timeout_ms = (unsigned)x * 1000;
	} else if (strcmp(k, "min_poll") == 0) {
		if (parse_uint(v, 86400, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "directory_min_poll "
			    "must be 1 to 86400 seconds, not '%s'", v);
		c->dir_min_poll = (unsigned)x;
	} else if (strcmp(k, "backoff_unit") == 0) {
		if (parse_uint(v, 3600, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "directory_backoff_unit "
			    "must be 1 to 3600 seconds, not '%s'", v);
		c->dir_backoff_unit = (unsigned)x;
	} else if (strcmp(k, "insecure_plain") == 0) {
		if (parse_bool(v, &b) != 0)
			return cfg_errf(eb, ec, where, "directory_insecure_"
			    "plain must be yes or no, not '%s'", v);
		c->dir_insecure_plain = b;
	} else
		return cfg_errf(eb, ec, where, "unknown key 'directory_%s'", k);
	return 0;
badpath:
	return cfg_errf(eb, ec, where, "directory_%s must be an absolute "
	    "path, not '%s'", k, v);
}

int
svc_config_set(struct svc_config *c, const char *k, const char *v,
    const char *where, char *eb, size_t ec)
{
	uint64_t x;
	bool b;

	if (svc_config_key_find(k) == NULL)
		return cfg_errf(eb, ec, where, "unknown key '%s'", k);
	if (strcmp(k, "policy_source") == 0) {
		if (strcmp(v, "local") == 0)
			c->policy_source = AGENT_SRC_LOCAL;
		else if (strcmp(v, "directory") == 0)
			c->policy_source = AGENT_SRC_DIRECTORY;
		else
			return cfg_errf(eb, ec, where, "policy_source must be "
			    "local or directory, not '%s'", v);
	} else if (strcmp(k, "store") == 0) {
		if (set_path(c->store, sizeof(c->store), v, false) != 0)
			goto badpath;
	} else if (strcmp(k, "secrets") == 0) {
		if (set_path(c->secrets, sizeof(c->secrets), v, false) != 0)
			goto badpath;
	} else if (strcmp(k, "driver") == 0) {
		if (*v == '\0' || strlen(v) >= sizeof(c->driver))
			return cfg_errf(eb, ec, where, "driver: a backend "
			    "name is required");
		snprintf(c->driver, sizeof(c->driver), "%s", v);
	} else if (strcmp(k, "audit_sink") == 0) {
		if (strcmp(v, "journald") == 0)
			c->audit_sink = SVC_SINK_JOURNALD;
		else if (strcmp(v, "syslog") == 0)
			c->audit_sink = SVC_SINK_SYSLOG;
		else if (strcmp(v, "none") == 0)
			c->audit_sink = SVC_SINK_NONE;
		else
			return cfg_errf(eb, ec, where, "audit_sink must be "
			    "journald, syslog or none, not '%s'", v);
	} else if (strcmp(k, "audit_file") == 0) {
		if (set_path(c->audit_file, sizeof(c->audit_file), v,
		    true) != 0)
			goto badpath;
	} else if (strcmp(k, "audit_rotate_size") == 0 ||
	    strcmp(k, "oakley_log_size") == 0) {
		if (parse_size(v, &x) != 0 || (x != 0 && x < 4096))
			return cfg_errf(eb, ec, where, "%s must be 0 (never) "
			    "or at least 4096 bytes (suffix K, M, G allowed), "
			    "not '%s'", k, v);
		if (strcmp(k, "audit_rotate_size") == 0)
			c->audit_rotate_size = x;
		else
			c->oakley_log_size = x;
	} else if (strcmp(k, "audit_rotate_keep") == 0) {
		if (parse_uint(v, 99, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "audit_rotate_keep "
			    "must be 1 to 99, not '%s'", v);
		c->audit_rotate_keep = (unsigned)x;
	} else if (strcmp(k, "diagnostics") == 0) {
		if (parse_uint(v, 7, &x, 10) != 0)
			return cfg_errf(eb, ec, where, "diagnostics must be "
			    "0 to 7, not '%s'", v);
		c->diagnostics = (unsigned)x;
	} else if (strcmp(k, "oakley_log") == 0) {
		if (parse_bool(v, &b) != 0)
			return cfg_errf(eb, ec, where, "oakley_log must be "
			    "on or off, not '%s'", v);
		c->oakley_log = b;
	} else if (strcmp(k, "oakley_log_path") == 0) {
		if (set_path(c->oakley_log_path, sizeof(c->oakley_log_path),
		    v, false) != 0)
			goto badpath;
	} else if (strcmp(k, "control_socket") == 0) {
		if (strlen(v) >= 108 || set_path(c->control_socket,
		    sizeof(c->control_socket), v, false) != 0)
			return cfg_errf(eb, ec, where, "control_socket must "
			    "be an absolute path shorter than 108 bytes");
	} else if (strcmp(k, "admin_group") == 0) {
		if (*v == '\0' || strlen(v) >= sizeof(c->admin_group))
			return cfg_errf(eb, ec, where, "admin_group: a group "
			    "name is required");
		snprintf(c->admin_group, sizeof(c->admin_group), "%s", v);
	} else if (strcmp(k, "control_mode") == 0) {
		if (parse_uint(v, 0777, &x, 8) != 0 || (x & 0600) != 0600 ||
		    (x & 0111) != 0 || (x & 0066) == 0)
			return cfg_errf(eb, ec, where, "control_mode must be "
			    "octal, rw for owner and group, no execute "
			    "(0660 or 0666), not '%s'", v);
		c->control_mode = (unsigned)x;
	} else if (strcmp(k, "state_dir") == 0) {
		if (set_path(c->state_dir, sizeof(c->state_dir), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "ike") == 0) {
		if (parse_bool(v, &b) != 0)
			return cfg_errf(eb, ec, where, "ike must be on or "
			    "off, not '%s'", v);
		c->ike = b;
	} else if (strcmp(k, "ike_port") == 0) {
		if (parse_uint(v, 65535, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "ike_port must be 1 "
			    "to 65535, not '%s'", v);
		c->ike_port = (uint16_t)x;
	} else if (strcmp(k, "ike_addresses") == 0) {
		char buf[1024], *save = NULL, *tok;
		size_t n = 0;
		struct pa_addr ad;

		if (*v == '\0' || strlen(v) >= sizeof(buf))
			return cfg_errf(eb, ec, where, "ike_addresses: one or "
			    "more addresses, space separated");
		snprintf(buf, sizeof(buf), "%s", v);
		for (tok = strtok_r(buf, " \t", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t", &save), n++)
			if (pa_addr_parse(tok, &ad) != 0 || n >= 16)
				return cfg_errf(eb, ec, where, "ike_addresses: "
				    "'%s' is not an address (at most 16)", tok);
		snprintf(c->ike_addresses, sizeof(c->ike_addresses), "%s", v);
	} else if (strcmp(k, "natt_port") == 0) {
		if (strcmp(v, "off") == 0)
			c->natt_port = 0xffff;
		else if (parse_uint(v, 65534, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "natt_port must be 1 "
			    "to 65534 or off, not '%s'", v);
		else
			c->natt_port = (uint16_t)x;
	} else if (strcmp(k, "kerberos_keytab") == 0) {
		if (set_path(c->krb_keytab, sizeof(c->krb_keytab), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "kerberos_principal") == 0) {
		if (strpbrk(v, " \t") != NULL || set_text(c->krb_principal,
		    sizeof(c->krb_principal), v) != 0)
			return cfg_errf(eb, ec, where, "kerberos_principal: "
			    "a principal name without blanks (host/fqdn or "
			    "NAME$)");
	} else if (strcmp(k, "kerberos_config") == 0) {
		if (set_path(c->krb_config, sizeof(c->krb_config), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "cert_file") == 0) {
		if (set_path(c->cert_file, sizeof(c->cert_file), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "key_file") == 0) {
		if (set_path(c->key_file, sizeof(c->key_file), v,
		    false) != 0)
			goto badpath;
	} else if (strcmp(k, "ca_file") == 0) {
		if (set_path(c->ca_file, sizeof(c->ca_file), v, false) != 0)
			goto badpath;
	} else if (strcmp(k, "crl_file") == 0) {
		if (set_path(c->crl_file, sizeof(c->crl_file), v, true) != 0)
			goto badpath;
	} else if (strcmp(k, "crl_check") == 0) {
		if (parse_uint(v, 2, &x, 10) != 0)
			return cfg_errf(eb, ec, where, "crl_check must be 0 "
			    "(off), 1 (refuse what a CRL says is revoked) or 2 "
			    "(refuse also when no valid CRL), not '%s'", v);
		c->crl_check = (unsigned)x;
	} else if (strcmp(k, "crl_fetch") == 0) {
		if (parse_bool(v, &b) != 0)
			return cfg_errf(eb, ec, where, "crl_fetch must be yes "
			    "or no, not '%s'", v);
		c->crl_fetch = b;
	} else if (strcmp(k, "crl_fetch_timeout") == 0) {
		if (parse_uint(v, 300, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "crl_fetch_timeout must "
			    "be 1 to 300 seconds, not '%s'", v);
		c->crl_fetch_timeout = (unsigned)x;
	} else if (strcmp(k, "crl_retry") == 0) {
		if (parse_uint(v, 86400, &x, 10) != 0 || x < 5)
			return cfg_errf(eb, ec, where, "crl_retry must be 5 to "
			    "86400 seconds, not '%s'", v);
		c->crl_retry = (unsigned)x;
	} else if (strcmp(k, "dpd") == 0) {
		if (parse_uint(v, 3600, &x, 10) != 0 || x < 5)
			return cfg_errf(eb, ec, where, "dpd must be 5 to 3600 "
			    "seconds, not '%s'", v);
		c->dpd_ms = (unsigned)x * 1000;
	} else if (strcmp(k, "dos_halfopen") == 0) {
		if (parse_uint(v, 1000, &x, 10) != 0)
			return cfg_errf(eb, ec, where, "dos_halfopen must be "
			    "0 (off) to 1000, not '%s'", v);
		c->dos_halfopen = (unsigned)x;
	} else if (strcmp(k, "natt_keepalive") == 0) {
		if (parse_uint(v, 3600, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "natt_keepalive must be "
			    "1 to 3600 seconds, not '%s'", v);
		c->natt_keepalive_ms = (unsigned)x * 1000;
	} else if (strcmp(k, "soft_sa_lifetime") == 0) {
		if (parse_uint(v, 86400, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "soft_sa_lifetime must "
			    "be 1 to 86400 seconds, not '%s'", v);
		c->soft_sa_life_ms = (unsigned)x * 1000;
	} else if (strcmp(k, "stop_timeout") == 0) {
		if (parse_uint(v, 300, &x, 10) != 0 || x == 0)
			return cfg_errf(eb, ec, where, "stop_timeout must be "
			    "1 to 300 seconds, not '%s'", v);
		c->stop_timeout_ms = (unsigned)x * 1000;
	} else if (strcmp(k, "drop_privileges") == 0) {
		if (parse_bool(v, &b) != 0)
			return cfg_errf(eb, ec, where, "drop_privileges must "
			    "be yes or no, not '%s'", v);
		c->drop_privileges = b;
	} else if (strncmp(k, "directory_", 10) == 0) {
		return set_directory(c, k + 10, v, where, eb, ec);
	} else if (strcmp(k, "log_level") == 0) {
		if (strcmp(v, "error") == 0)
			c->log_level = 3;
		else if (strcmp(v, "warning") == 0)
			c->log_level = 4;
		else if (strcmp(v, "info") == 0)
			c->log_level = 6;
		else if (strcmp(v, "debug") == 0)
			c->log_level = 7;
		else
			return cfg_errf(eb, ec, where, "log_level must be "
			    "error, warning, info or debug, not '%s'", v);
	} else
		return cfg_errf(eb, ec, where, "unknown key '%s'", k);
	return 0;
badpath:
	return cfg_errf(eb, ec, where, "%s must be an absolute path, not '%s'",
	    k, v);
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
