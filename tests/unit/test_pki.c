/*
 * agent/pki/crl.c without a web server: the cache directory as the agent
 * finds it at start (its own files, foreign and garbled ones), the
 * schemes it does not fetch, and a fetch that fails (connection refused
 * on the loopback) coming back through the worker with a retry planned.
 * Fetching over HTTP for real is e2e_crl_fetch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crl.h"
#include "pa_time.h"

static char dir[64];

static void
put(const char *name, const void *p, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* The cache's file name of a URI: 32 hex digits of its SHA-256. */
static void
hname(const char *uri, const char *ext, char *out, size_t cap)
{
	unsigned char md[32];
	unsigned int n = 0;
	size_t i;

	assert_int_equal(EVP_Digest(uri, strlen(uri), md, &n, EVP_sha256(),
	    NULL), 1);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, cap - 2 * i, "%02x", md[i]);
	snprintf(out + 32, cap - 32, "%s", ext);
}

static uint8_t *
fixture(size_t *len)
{
	char path[512];
	uint8_t *b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/crl/two-revoked.der",
	    getenv("PA_SOURCE_DIR") != NULL ? getenv("PA_SOURCE_DIR") : ".");
	assert_non_null(f = fopen(path, "rb"));
	assert_non_null(b = malloc(65536));
	*len = fread(b, 1, 65536, f);
	fclose(f);
	assert_true(*len > 100);
	return b;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_pki.XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pki_crl *
open_cache(void)
{
	struct pki_crl_cfg cfg;
	struct pki_crl *p = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cache_dir = dir;
	cfg.fetch_crls = true;
	cfg.retry_s = 77;
	cfg.timeout_s = 3;
	assert_int_equal(pki_crl_new(&cfg, &p), 0);
	return p;
}

static void
test_cache_reloaded(void **state)
{
	const char *good = "http://192.0.2.1/ca.crl";
	const char *bad = "http://192.0.2.1/garbled.crl";
	struct pki_crl_info in;
	struct pa_bytes v[4];
	struct pki_crl *p;
	struct stat st;
	char n[64];
	uint8_t *crl;
	size_t len, i, found = 0;

	(void)state;
	crl = fixture(&len);
	hname(good, ".uri", n, sizeof(n));
	put(n, good, strlen(good));
	hname(good, ".crl", n, sizeof(n));
	put(n, crl, len);
	hname(bad, ".uri", n, sizeof(n));
	put(n, bad, strlen(bad));
	hname(bad, ".crl", n, sizeof(n));
	put(n, "not a CRL", 9);
	/* A URI that does not name its file is not ours. */
	put("00112233445566778899aabbccddeeff.uri", good, strlen(good));
	put("notes.txt", "x", 1);
	p = open_cache();
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(pki_crl_count(p), 2);
	for (i = 0; i < 2; i++) {
		pki_crl_info(p, i, &in);
		if (strcmp(in.uri, good) == 0) {
			assert_int_equal(in.revoked, 2);
			assert_string_equal(in.issuer, "CN=Seed CA");
			assert_true(in.this_update > 0);
			found++;
		} else {
			assert_string_equal(in.uri, bad);
			assert_int_equal(in.this_update, 0);
		}
	}
	assert_int_equal(found, 1);
	/* Only the CRL that parsed is handed to IKE, as it was written. */
	assert_int_equal(pki_crl_ders(p, v, 4), 1);
	assert_int_equal(v[0].len, len);
	assert_memory_equal(v[0].p, crl, len);
	pki_crl_free(p);
	free(crl);
}

static void
test_other_schemes_remembered_not_fetched(void **state)
{
	const char *ldap = "ldap:///CN=CA,CN=CDP,CN=Public%20Key%20Services?"
	    "certificateRevocationList?base?objectClass=cRLDistributionPoint";
	struct pki_crl_info in;
	struct pki_crl *p;
	char n[64], path[160];

	(void)state;
	p = open_cache();
	pki_crl_want(p, ldap);
	pki_crl_want(p, ldap);
	pki_crl_want(p, "");
	assert_int_equal(pki_crl_count(p), 1);
	pki_crl_info(p, 0, &in);
	assert_non_null(strstr(in.last_error, "only http, https and"));
	assert_int_equal(pki_crl_next_timeout_ms(p, pa_now_ms()), -1);
	hname(ldap, ".uri", n, sizeof(n));
	snprintf(path, sizeof(path), "%s/%s", dir, n);
	assert_int_equal(access(path, F_OK), 0);
	pki_crl_free(p);
	/* Remembered across a restart. */
	p = open_cache();
	assert_int_equal(pki_crl_count(p), 1);
	pki_crl_free(p);
}

static int	updates;

static void
on_update(void *arg)
{
	(void)arg;
	updates++;
}

/* An ldap:// point goes to ldap_read, in the worker, and its CRL is taken. */
static int
ldap_read(void *arg, const char *url, uint8_t **body, size_t *len,
    char *err, size_t errcap)
{
	(void)arg;
	(void)err;
	(void)errcap;
	if (strncmp(url, "ldap:///CN=Seed", 15) != 0)
		return PA_E_INVAL;
	*body = fixture(len);
	return 0;
}

static void
test_ldap_points_read_by_the_caller(void **state)
{
	struct pki_crl_cfg cfg;
	struct pki_crl_info in;
	struct pa_bytes v[2];
	struct pollfd pfd;
	struct pki_crl *p = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.cache_dir = dir;
	cfg.fetch_crls = true;
	cfg.ldap_read = ldap_read;
	cfg.on_update = on_update;
	assert_int_equal(pki_crl_new(&cfg, &p), 0);
	updates = 0;
	pki_crl_want(p, "ldap:///CN=Seed CA,CN=CDP?certificateRevocationList");
	pfd.fd = pki_crl_fd(p);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	pki_crl_dispatch(p);
	assert_int_equal(updates, 1);
	pki_crl_info(p, 0, &in);
	assert_string_equal(in.last_error, "");
	assert_int_equal(in.revoked, 2);
	assert_int_equal(pki_crl_ders(p, v, 2), 1);
	pki_crl_free(p);
}

static void
test_failed_fetch_is_retried(void **state)
{
	struct pki_crl_info in;
	struct pollfd pfd;
	struct pki_crl *p;
	int t;

	(void)state;
	p = open_cache();
	/* Port 9 on the loopback: refused at once. */
	pki_crl_want(p, "http://127.0.0.1:9/none.crl");
	pfd.fd = pki_crl_fd(p);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	pki_crl_dispatch(p);
	pki_crl_info(p, 0, &in);
	assert_int_equal(in.failures, 1);
	assert_true(in.last_error[0] != '\0');
	assert_int_equal(in.this_update, 0);
	t = pki_crl_next_timeout_ms(p, pa_now_ms());
	assert_true(t > 70000 && t <= 77000);
	pki_crl_free(p);
}

/* The domain's CAs: one certificate (a self-signed one made here). */
static volatile int	cas_calls, cas_fail, cas_sleep_ms;
static volatile int	freed;	/* written by the worker */

static int
cas_read(void *arg, uint8_t **ders, size_t *lens, uint8_t *kinds, size_t max,
    size_t *n, char *err, size_t errcap)
{
	EVP_PKEY *k = NULL;
	X509 *x;
	unsigned char *der = NULL;
	int l;

	(void)arg;
	cas_calls++;
	if (cas_sleep_ms > 0)
		usleep((useconds_t)cas_sleep_ms * 1000);
	if (cas_fail) {
		snprintf(err, errcap, "directory down");
		return PA_E_AGAIN;
	}
	assert_true(max >= 2);
	assert_non_null(k = EVP_RSA_gen(1024));
	assert_non_null(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"Domain Root", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_true((l = i2d_X509(x, &der)) > 0);
	assert_non_null(ders[0] = malloc((size_t)l));
	memcpy(ders[0], der, (size_t)l);
	lens[0] = (size_t)l;
	kinds[0] = PKI_CA_ROOT;
	/* The same certificate again, as read from CN=AIA: not an anchor. */
	assert_non_null(ders[1] = malloc((size_t)l));
	memcpy(ders[1], der, (size_t)l);
	lens[1] = (size_t)l;
	kinds[1] = PKI_CA_AIA;
	*n = 2;
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	return 0;
}

static void
ldap_free(void *arg)
{
	(void)arg;
	freed++;
}

static struct pki_crl *
open_cas(void)
{
	struct pki_crl_cfg cfg;
	struct pki_crl *p = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cache_dir = dir;
	cfg.cas_read = cas_read;
	cfg.ldap_free = ldap_free;
	cfg.on_cas = on_update;
	assert_int_equal(pki_crl_new(&cfg, &p), 0);
	return p;
}

static void
wait_dispatch(struct pki_crl *p)
{
	struct pollfd pfd = { .fd = pki_crl_fd(p), .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 10000), 1);
	pki_crl_dispatch(p);
}

static void
test_domain_cas_read_cached_and_kept(void **state)
{
	struct pa_bytes v[4];
	uint8_t kinds[4];
	struct pki_crl *p;
	char path[160];
	struct stat st;

	(void)state;
	cas_calls = cas_fail = cas_sleep_ms = updates = freed = 0;
	p = open_cas();
	assert_int_equal(pki_cas(p, v, kinds, 4), 0);
	pki_cas_refresh(p);
	pki_cas_refresh(p);		/* one read at a time */
	wait_dispatch(p);
	assert_int_equal(cas_calls, 1);
	assert_int_equal(updates, 1);
	assert_int_equal(pki_cas(p, v, kinds, 4), 2);
	assert_int_equal(kinds[0], PKI_CA_ROOT);
	assert_int_equal(kinds[1], PKI_CA_AIA);
	snprintf(path, sizeof(path), "%s/domain-cas.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/domain-ims.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The directory down: the set read last stays. */
	cas_fail = 1;
	pki_cas_refresh(p);
	wait_dispatch(p);
	assert_int_equal(updates, 1);
	assert_int_equal(pki_cas(p, v, NULL, 4), 2);
	pki_crl_free(p);
	assert_int_equal(freed, 1);
	/* A start without the directory has it from the cache, anchors
	 * apart from the others. */
	p = open_cas();
	memset(kinds, 0xff, sizeof(kinds));
	assert_int_equal(pki_cas(p, v, kinds, 4), 2);
	assert_int_equal(kinds[0], PKI_CA_ROOT);
	assert_int_not_equal(kinds[1], PKI_CA_ROOT);
	pki_crl_free(p);
}

static void
test_free_does_not_wait_for_a_read(void **state)
{
	struct pki_crl *p;
	uint64_t t0;
	int i;

	(void)state;
	cas_calls = cas_fail = updates = freed = 0;
	cas_sleep_ms = 1500;
	p = open_cas();
	pki_cas_refresh(p);
	for (i = 0; i < 200 && cas_calls == 0; i++)
		usleep(5000);
	assert_int_equal(cas_calls, 1);
	t0 = pa_now_ms();
	pki_crl_free(p);	/* the worker frees the rest when done */
	assert_true(pa_now_ms() - t0 < 1000);
	assert_int_equal(freed, 0);
	for (i = 0; i < 400 && freed == 0; i++)
		usleep(10000);
	assert_int_equal(freed, 1);
	cas_sleep_ms = 0;
}

static void
test_relative_cache_refused(void **state)
{
	struct pki_crl_cfg cfg;
	struct pki_crl *p = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.cache_dir = "crl";
	assert_int_equal(pki_crl_new(&cfg, &p), PA_E_INVAL);
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cache_reloaded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_schemes_remembered_not_fetched, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ldap_points_read_by_the_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_fetch_is_retried,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_domain_cas_read_cached_and_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_free_does_not_wait_for_a_read, setup, teardown),
		cmocka_unit_test(test_relative_cache_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
