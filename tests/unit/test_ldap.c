/*
 * ldap/ against a real slapd (and MIT KDC) started by
 * tests/integration/directory/ldap.sh, which passes them in the
 * environment: failover, TLS verification (ldaps:// and StartTLS), the
 * refusal of a clear-text password, GSSAPI from a keytab without kinit,
 * paged searches, missing objects and timeouts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "dir.h"
#include "pa_time.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("environment %s not set (run through ldap.sh)", name);
	return v;
}

static struct pa_secret *
admin_pw(void)
{
	const char *pw = env("LDAP_ADMIN_PW");

	return pa_secret_new(pw, strlen(pw));
}

/* A simple bind as the directory admin, with pw, to the n URIs. */
static void
admin_cfg(struct dir_cfg *cfg, const char **uris, size_t n,
    struct pa_secret *pw)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->uris = uris;
	cfg->nuris = n;
	cfg->bind = DIR_BIND_SIMPLE;
	cfg->bind_dn = env("LDAP_ADMIN_DN");
	cfg->bind_pw = pw;
}

static void
test_failover_and_plain_refusal(void **state)
{
	const char *uris[3];
	struct dir_cfg cfg;
	struct pa_secret *pw = admin_pw();
	struct dir *d = NULL;
	char err[1024];

	(void)state;
	uris[0] = "ldap://127.0.0.1:1";		/* nothing listens */
	uris[1] = env("LDAP_URI");
	admin_cfg(&cfg, uris, 2, pw);
	cfg.timeout_ms = 2000;
	/* A password in clear is refused on every URI. */
	assert_int_equal(dir_open(&cfg, &d, err, sizeof(err)), PA_E_PERM);
	assert_non_null(strstr(err, "without TLS"));
	/* With StartTLS and the test CA: the second URI is used. */
	cfg.starttls = true;
	cfg.ca_file = env("LDAP_CA");
	assert_int_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	assert_string_equal(dir_uri(d), uris[1]);
	dir_close(d);
	/* All down: one reason per URI. */
	uris[1] = "ldap://127.0.0.1:2";
	assert_int_not_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	assert_non_null(strstr(err, "127.0.0.1:2"));
	pa_secret_free(pw);
}

static void
test_tls_verification(void **state)
{
	const char *uris[1];
	struct dir_cfg cfg;
	struct pa_secret *pw = admin_pw();
	struct dir *d = NULL;
	char err[1024];
	char *who = NULL;

	(void)state;
	uris[0] = env("LDAPS_URI");
	admin_cfg(&cfg, uris, 1, pw);
	cfg.timeout_ms = 2000;
	cfg.ca_file = env("LDAP_CA");
	assert_int_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	assert_int_equal(dir_whoami(d, &who), 0);
	assert_string_equal(who, "dn:cn=admin,dc=example,dc=test");
	free(who);
	dir_close(d);
	/* A server certificate from an unknown CA is refused. */
	cfg.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	assert_int_not_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	assert_null(d);
	/* StartTLS too. */
	uris[0] = env("LDAP_URI");
	cfg.starttls = true;
	assert_int_not_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "StartTLS"));
	pa_secret_free(pw);
}

static void
test_gssapi_from_keytab(void **state)
{
	const char *uris[1];
	struct dir_cfg cfg;
	struct dir *d = NULL;
	struct dir_result *res = NULL;
	char err[1024];
	char *who = NULL;
	const char *attrs[] = { "cn", NULL };
	char base[256];

	(void)state;
	if (getenv("HOST_KEYTAB") == NULL)
		skip();
	uris[0] = env("LDAP_URI");
	memset(&cfg, 0, sizeof(cfg));
	cfg.uris = uris;
	cfg.nuris = 1;
	cfg.bind = DIR_BIND_GSSAPI;
	cfg.client_keytab = env("HOST_KEYTAB");
	cfg.principal = env("HOST_PRINCIPAL");
	cfg.timeout_ms = 5000;
	if (dir_open(&cfg, &d, err, sizeof(err)) != 0)
		fail_msg("GSSAPI bind: %s", err);
	assert_int_equal(dir_whoami(d, &who), 0);
	assert_string_equal(who, "dn:cn=hosta,cn=computers,dc=example,dc=test");
	free(who);
	/* The machine may read the IPsec container. */
	snprintf(base, sizeof(base), "cn=IP Security,cn=System,%s",
	    env("LDAP_BASE"));
	assert_int_equal(dir_search(d, base, DIR_SCOPE_BASE, NULL, attrs,
	    &res), 0);
	assert_int_equal(res->n, 1);
	assert_string_equal(dir_record_str(&res->recs[0], "CN"), "IP Security");
	dir_result_free(res);
	dir_close(d);
	/* A keytab without the principal fails with a reason. */
	cfg.principal = "host/nobody.example.test";
	assert_int_not_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	assert_true(err[0] != '\0');
}

static void
test_paged_search_and_missing(void **state)
{
	const char *uris[1];
	struct dir_cfg cfg;
	struct pa_secret *pw = admin_pw();
	struct dir *d = NULL;
	struct dir_result *res = NULL;
	const char *attrs[] = { "cn", "description", NULL };
	char base[256], err[1024];
	long want = atol(env("PAGED_COUNT"));

	(void)state;
	uris[0] = env("LDAPS_URI");
	admin_cfg(&cfg, uris, 1, pw);
	cfg.ca_file = env("LDAP_CA");
	cfg.page_size = 100;
	assert_int_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	snprintf(base, sizeof(base), "cn=Paged,%s", env("LDAP_BASE"));
	assert_int_equal(dir_search(d, base, DIR_SCOPE_ONE,
	    "(objectClass=container)", attrs, &res), 0);
	assert_int_equal(res->n, want);
	assert_non_null(dir_record_attr(&res->recs[0], "cn"));
	dir_result_free(res);
	snprintf(base, sizeof(base), "cn=Nothing,%s", env("LDAP_BASE"));
	assert_int_equal(dir_search(d, base, DIR_SCOPE_BASE, NULL, attrs,
	    &res), PA_E_NOENT);
	assert_null(res);
	assert_non_null(strstr(dir_error(d), "No such object"));
	dir_close(d);
	pa_secret_free(pw);
}

/* A server that accepts TCP and never answers: the bind times out. */
static void
test_timeout(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct dir_cfg cfg;
	struct pa_secret *pw = admin_pw();
	struct dir *d = NULL;
	const char *uris[1];
	char uri[64], err[512];
	uint64_t t0, ms;
	int s;

	(void)state;
	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%u", ntohs(sa.sin_port));
	uris[0] = uri;
	memset(&cfg, 0, sizeof(cfg));
	cfg.uris = uris;
	cfg.nuris = 1;
	cfg.bind = DIR_BIND_SIMPLE;
	cfg.bind_dn = "cn=x";
	cfg.bind_pw = pw;
	cfg.insecure_plain = true;
	cfg.timeout_ms = 400;
	t0 = pa_now_ms();
	assert_int_not_equal(dir_open(&cfg, &d, err, sizeof(err)), 0);
	ms = pa_now_ms() - t0;
	assert_true(ms >= 300);
	assert_true(ms < 3000);
	close(s);
	pa_secret_free(pw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover_and_plain_refusal),
		cmocka_unit_test(test_tls_verification),
		cmocka_unit_test(test_gssapi_from_keytab),
		cmocka_unit_test(test_paged_search_and_missing),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
