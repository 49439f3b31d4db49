/*
 * Unit tests (no DNS server) of the domain controller discovery by SRV
 * (ldap/srv.c): parsing a real-shaped answer with name compression, the
 * RFC 2782 order, URI building, the bounds, and every truncation and
 * single-byte corruption of the answer (each copied to a buffer of its
 * exact length, so that ASan sees any read past it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "srv.h"

#define QNAME	"_ldap._tcp.dc._msdcs.ad.example.test"

/*
 * Answer to SRV : dc1 (0 100 389), dc2 (0 50 389), dc3 (10 0 3268),
 * "." (5 0 389), dc4 (0 100 1389, uncompressed), and an A record for dc1
 * in the additional section. The same bytes are fuzz_srv's seed
 * tests/fuzz/corpus/srv/five_srv.bin.
 */
static const uint8_t answer[] = {
	0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
	0x05, 0x5f, 0x6c, 0x64, 0x61, 0x70, 0x04, 0x5f, 0x74, 0x63, 0x70, 0x02,
	0x64, 0x63, 0x06, 0x5f, 0x6d, 0x73, 0x64, 0x63, 0x73, 0x02, 0x61, 0x64,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x21, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x58, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x64, 0x01, 0x85,
	0x03, 0x64, 0x63, 0x31, 0xc0, 0x21, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x58, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x32, 0x01, 0x85,
	0x03, 0x64, 0x63, 0x32, 0xc0, 0x21, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x58, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x0c, 0xc4,
	0x03, 0x64, 0x63, 0x33, 0xc0, 0x21, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x58, 0x00, 0x07, 0x00, 0x05, 0x00, 0x00, 0x01, 0x85,
	0x00, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00,
	0x1b, 0x00, 0x00, 0x00, 0x64, 0x05, 0x6d, 0x03, 0x64, 0x63, 0x34, 0x02,
	0x61, 0x64, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74,
	0x65, 0x73, 0x74, 0x00, 0x03, 0x64, 0x63, 0x31, 0xc0, 0x21, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x04, 0x7f, 0x00, 0x00, 0x01,
};

/* What Samba's AD DC (4.17, internal DNS) answered for $QNAME: one SRV
 * record and the zone's SOA (fuzz_srv's seed samba_ad.bin). */
static const uint8_t samba_answer[] = {
	0x5a, 0x5a, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
	0x05, 0x5f, 0x6c, 0x64, 0x61, 0x70, 0x04, 0x5f, 0x74, 0x63, 0x70, 0x02,
	0x64, 0x63, 0x06, 0x5f, 0x6d, 0x73, 0x64, 0x63, 0x73, 0x02, 0x61, 0x64,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x21, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01,
	0x00, 0x00, 0x03, 0x84, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x64, 0x01, 0x85,
	0x03, 0x64, 0x63, 0x31, 0xc0, 0x21, 0xc0, 0x1a, 0x00, 0x06, 0x00, 0x01,
	0x00, 0x00, 0x0e, 0x10, 0x00, 0x23, 0xc0, 0x48, 0x0a, 0x68, 0x6f, 0x73,
	0x74, 0x6d, 0x61, 0x73, 0x74, 0x65, 0x72, 0xc0, 0x21, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x03, 0x84, 0x00, 0x00, 0x02, 0x58, 0x00, 0x01, 0x51,
	0x80, 0x00, 0x00, 0x0e, 0x10,
};

static void
test_parse(void **state)
{
	struct dir_srv v[DIR_SRV_MAX];
	size_t n;

	(void)state;
	assert_int_equal(dir_srv_parse(answer, sizeof(answer), QNAME, v,
	    DIR_SRV_MAX, &n), 0);
	assert_int_equal(n, 4);		/* "." is no service */
	assert_string_equal(v[0].target, "dc1.ad.example.test");
	assert_int_equal(v[0].prio, 0);
	assert_int_equal(v[0].weight, 100);
	assert_int_equal(v[0].port, 389);
	assert_string_equal(v[1].target, "dc2.ad.example.test");
	assert_int_equal(v[1].weight, 50);
	assert_string_equal(v[2].target, "dc3.ad.example.test");
	assert_int_equal(v[2].prio, 10);
	assert_int_equal(v[2].port, 3268);
	assert_string_equal(v[3].target, "dc4.ad.example.test");
	assert_int_equal(v[3].port, 1389);
	/* Owner matched without regard to case; any owner with NULL. */
	assert_int_equal(dir_srv_parse(answer, sizeof(answer),
	    "_LDAP._TCP.DC._MSDCS.AD.EXAMPLE.TEST", v, DIR_SRV_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(dir_srv_parse(answer, sizeof(answer), NULL, v,
	    DIR_SRV_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(dir_srv_parse(answer, sizeof(answer),
	    "_ldap._tcp.example.test", v, DIR_SRV_MAX, &n), 0);
	assert_int_equal(n, 0);
	/* At most max records. */
	assert_int_equal(dir_srv_parse(answer, sizeof(answer), QNAME, v, 2,
	    &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].target, "dc2.ad.example.test");
}

static void
test_parse_samba(void **state)
{
	struct dir_srv v[DIR_SRV_MAX];
	char uri[DIR_SRV_URI];
	size_t n;

	(void)state;
	assert_int_equal(dir_srv_parse(samba_answer, sizeof(samba_answer),
	    QNAME, v, DIR_SRV_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].prio, 0);
	assert_int_equal(v[0].weight, 100);
	assert_int_equal(dir_srv_uri(&v[0], uri, sizeof(uri)), 0);
	assert_string_equal(uri, "ldap://dc1.ad.example.test:389");
}

static void
test_order_and_uris(void **state)
{
	static const char *want[] = {
		"ldap://dc1.ad.example.test:389",
		"ldap://dc4.ad.example.test:1389",
		"ldap://dc2.ad.example.test:389",
		"ldap://dc3.ad.example.test:3268",
	};
	struct dir_srv v[DIR_SRV_MAX];
	char uri[DIR_SRV_URI];
	size_t n, i;

	(void)state;
	assert_int_equal(dir_srv_parse(answer, sizeof(answer), QNAME, v,
	    DIR_SRV_MAX, &n), 0);
	dir_srv_sort(v, n);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_int_equal(dir_srv_uri(&v[i], uri, sizeof(uri)), 0);
		assert_string_equal(uri, want[i]);
	}
	assert_int_equal(dir_srv_uri(&v[0], uri, 10), PA_E_NOSPACE);
}

static void
test_sort(void **state)
{
	struct dir_srv v[6];
	static const struct { uint16_t prio, weight; const char *t; } in[] = {
		{ 20, 5, "e" }, { 10, 0, "d" }, { 10, 60, "a" },
		{ 10, 0, "dd" }, { 10, 30, "b" }, { 0, 0, "first" },
	};
	static const char *want[] = { "first", "a", "b", "d", "dd", "e" };
	size_t i;

	(void)state;
	memset(v, 0, sizeof(v));
	for (i = 0; i < 6; i++) {
		v[i].prio = in[i].prio;
		v[i].weight = in[i].weight;
		snprintf(v[i].target, sizeof(v[i].target), "%s", in[i].t);
	}
	dir_srv_sort(v, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(v[i].target, want[i]);
	dir_srv_sort(v, 0);
}

/* Parses a copy of exactly len bytes. */
static int
parse_copy(const uint8_t *p, size_t len, struct dir_srv *v, size_t *n)
{
	uint8_t *b = malloc(len ? len : 1);
	int rc;

	assert_non_null(b);
	memcpy(b, p, len);
	rc = dir_srv_parse(b, len, QNAME, v, DIR_SRV_MAX, n);
	free(b);
	return rc;
}

/* Every prefix of a fails cleanly, or parses to what all of a gives (when
 * only records after the answer section are cut). */
static void
sweep(const uint8_t *a, size_t alen)
{
	struct dir_srv full[DIR_SRV_MAX], v[DIR_SRV_MAX];
	size_t nfull, n, len, i;

	assert_int_equal(dir_srv_parse(a, alen, QNAME, full, DIR_SRV_MAX,
	    &nfull), 0);
	for (len = 0; len < alen; len++) {
		n = 99;
		if (parse_copy(a, len, v, &n) == 0) {
			assert_int_equal(n, nfull);
			for (i = 0; i < n; i++)
				assert_memory_equal(&v[i], &full[i],
				    sizeof(v[i]));
		} else
			assert_int_equal(n, 0);
	}
}

static void
test_truncation(void **state)
{
	(void)state;
	sweep(answer, sizeof(answer));
	sweep(samba_answer, sizeof(samba_answer));
}

static void
test_corruption(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0,
	    0xff };
	struct dir_srv v[DIR_SRV_MAX];
	uint8_t buf[sizeof(answer)];
	size_t n, i, j;

	(void)state;
	for (i = 0; i < sizeof(answer); i++)
		for (j = 0; j < sizeof(vals); j++) {
			memcpy(buf, answer, sizeof(buf));
			buf[i] = vals[j];
			if (parse_copy(buf, sizeof(buf), v, &n) == 0)
				assert_true(n <= DIR_SRV_MAX);
			else
				assert_int_equal(n, 0);
		}
}

static void
test_malformed(void **state)
{
	struct dir_srv v[DIR_SRV_MAX];
	uint8_t buf[sizeof(answer)];
	size_t n;

	(void)state;
	/* NXDOMAIN. */
	memcpy(buf, answer, sizeof(buf));
	buf[3] = (buf[3] & 0xf0) | 3;
	assert_int_equal(dir_srv_parse(buf, sizeof(buf), QNAME, v,
	    DIR_SRV_MAX, &n), PA_E_NOENT);
	assert_int_equal(n, 0);
	/* The first target a pointer to itself (at 0x48). */
	memcpy(buf, answer, sizeof(buf));
	assert_int_equal(buf[0x48], 3);
	buf[0x48] = 0xc0;
	buf[0x49] = 0x48;
	assert_int_equal(dir_srv_parse(buf, sizeof(buf), QNAME, v,
	    DIR_SRV_MAX, &n), PA_E_FORMAT);
	assert_int_equal(n, 0);
	/* More bytes announced than there are. */
	memcpy(buf, answer, sizeof(buf));
	buf[7] = 9;
	assert_int_not_equal(dir_srv_parse(buf, sizeof(buf), QNAME, v,
	    DIR_SRV_MAX, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_lookup_bad_domain(void **state)
{
	static const char *bad[] = { "", ".", "a..b", "a b.test",
	    "-x/.test", "ex\\032.test" };
	char uris[2][DIR_SRV_URI], eb[256];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb[0] = '\0';
		assert_int_equal(dir_srv_lookup(bad[i], uris, 2, &n, eb,
		    sizeof(eb)), PA_E_INVAL);
		assert_int_equal(n, 0);
		assert_non_null(strstr(eb, "not a DNS domain name"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_samba),
		cmocka_unit_test(test_order_and_uris),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_lookup_bad_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
