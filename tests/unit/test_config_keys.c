/*
 * The configuration key table (svc_config_keys[]) and the parser agree:
 * every key of the table is accepted with its example value, and a key
 * missing from the table is refused as unknown; the limits of each key
 * (its type, range, words) are those its syntax shows; and
 * ipsec-agentd.conf(5) documents each key with the table's syntax and
 * default (tests/integration/man_drift.py checks the key names too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/config.h"

static void
test_every_key_parses(void **state)
{
	struct svc_config c;
	char eb[512];
	size_t i;

	(void)state;
	assert_true(svc_config_nkeys >= 40);
	for (i = 0; i < svc_config_nkeys; i++) {
		const struct svc_config_key *k = &svc_config_keys[i];

		svc_config_defaults(&c);
		eb[0] = '\0';
		if (svc_config_set(&c, k->name, k->example, "t", eb,
		    sizeof(eb)) != 0)
			fail_msg("%s = '%s': %s", k->name, k->example, eb);
		assert_ptr_equal(svc_config_key_find(k->name), k);
	}
}

static void
test_unknown_key_refused(void **state)
{
	struct svc_config c;
	char eb[512];

	(void)state;
	svc_config_defaults(&c);
	assert_int_not_equal(svc_config_set(&c, "directory_nonsense", "1",
	    "f:3", eb, sizeof(eb)), 0);
	assert_non_null(strstr(eb, "unknown key 'directory_nonsense'"));
	assert_int_not_equal(svc_config_set(&c, "ike_prot", "500", "f:4", eb,
	    sizeof(eb)), 0);
	assert_non_null(strstr(eb, "f:4: unknown key 'ike_prot'"));
	assert_null(svc_config_key_find("ike_prot"));
}

/* "5-3600", "0|1|2", "1-65534|off": the numbers a UINT key's syntax shows. */
static void
syntax_range(const char *values, uint64_t *lo, uint64_t *hi)
{
	char *end;

	*lo = strtoull(values, &end, 10);
	*hi = *lo;
	while (*end == '-' || (*end == '|' && end[1] >= '0' && end[1] <= '9'))
		*hi = strtoull(end + 1, &end, 10);
}

static int
try_set(const struct svc_config_key *k, const char *v)
{
	struct svc_config c;
	char eb[512];

	svc_config_defaults(&c);
	return svc_config_set(&c, k->name, v, "t", eb, sizeof(eb));
}

/* The table's limits are what its syntax column (and the man page) says. */
static void
test_limits_match_syntax(void **state)
{
	char v[32], words[128], *w, *save = NULL;
	uint64_t lo, hi;
	size_t i;

	(void)state;
	for (i = 0; i < svc_config_nkeys; i++) {
		const struct svc_config_key *k = &svc_config_keys[i];

		switch (k->type) {
		case SVC_CFG_UINT:
			syntax_range(k->values, &lo, &hi);
			if (lo != k->min || hi != k->max)
				fail_msg("%s: syntax %s, table %" PRIu64 "-%"
				    PRIu64, k->name, k->values, k->min,
				    k->max);
			snprintf(v, sizeof(v), "%" PRIu64, k->min);
			assert_int_equal(try_set(k, v), 0);
			snprintf(v, sizeof(v), "%" PRIu64, k->max);
			assert_int_equal(try_set(k, v), 0);
			snprintf(v, sizeof(v), "%" PRIu64, k->max + 1);
			if (try_set(k, v) == 0)
				fail_msg("%s = %s accepted", k->name, v);
			snprintf(v, sizeof(v), "%" PRIu64, k->min - 1);
			if (k->min > 0 && try_set(k, v) == 0)
				fail_msg("%s = %s accepted", k->name, v);
			break;
		case SVC_CFG_WORD:
			/* Each word the syntax shows is accepted. */
			snprintf(words, sizeof(words), "%s", k->values);
			for (w = strtok_r(words, "|", &save); w != NULL;
			    w = strtok_r(NULL, "|", &save))
				if (try_set(k, w) != 0)
					fail_msg("%s = %s refused", k->name, w);
			assert_int_not_equal(try_set(k, "nonsense"), 0);
			break;
		case SVC_CFG_PATH:
			assert_string_equal(k->values, k->min == 0 ?
			    "PATH|\"\"" : "PATH");
			assert_int_not_equal(try_set(k, "relative"), 0);
			assert_int_equal(try_set(k, ""), k->min == 0 ? 0 :
			    PA_E_INVAL);
			break;
		default:
			break;
		}
	}
}

/* s with roff's escapes of '-' and '"' as the man page writes them. */
static void
roff_escape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s != '\0' && n + 6 < cap; s++) {
		if (*s == '-')
			n += (size_t)snprintf(out + n, cap - n, "\\-");
		else if (*s == '"')
			n += (size_t)snprintf(out + n, cap - n, "\\(dq");
		else
			out[n++] = *s;
	}
	out[n] = '\0';
}

/*
 * ipsec-agentd.conf(5): each key as `.BI "KEY = " "SYNTAX"` with the
 * table's syntax, and `Default: \fBDEF\fR.` in its entry when it has one.
 */
static void
test_man_page_matches_table(void **state)
{
	const char *src = getenv("PA_SOURCE_DIR");
	char path[4096], want[512], esc[256], *man, *entry, *next;
	size_t i, len;
	FILE *f;

	(void)state;
	if (src == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/docs/man/ipsec-agentd.conf.5", src);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(man = calloc(1, 1 << 20));
	len = fread(man, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	for (i = 0; i < svc_config_nkeys; i++) {
		const struct svc_config_key *k = &svc_config_keys[i];

		roff_escape(k->values, esc, sizeof(esc));
		snprintf(want, sizeof(want), ".BI \"%s = \" \"%s\"\n", k->name,
		    esc);
		if ((entry = strstr(man, want)) == NULL)
			fail_msg("ipsec-agentd.conf(5) lacks %s", want);
		if (k->def[0] == '\0')
			continue;
		next = strstr(entry + 1, "\n.TP\n");
		roff_escape(k->def, esc, sizeof(esc));
		snprintf(want, sizeof(want), "Default: \\fB%s\\fR.", esc);
		entry = strstr(entry, want);
		if (entry == NULL || (next != NULL && entry > next))
			fail_msg("ipsec-agentd.conf(5): %s lacks %s", k->name,
			    want);
	}
	free(man);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_every_key_parses),
		cmocka_unit_test(test_unknown_key_refused),
		cmocka_unit_test(test_limits_match_syntax),
		cmocka_unit_test(test_man_page_matches_table),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
