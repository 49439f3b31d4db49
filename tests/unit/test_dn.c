/*
 * Unit tests of common/pa_dn.c: rootca= names in the usual string forms
 * compared as X.509 names with a CA subject built as certificates carry
 * it (PrintableString, X.500 order C, O, CN); what is not a name refused
 * with a reason; netsh's certmap:/excludecaname: options split off.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pa_dn.h"

/* The subject "openssl req -subj /C=XX/O=Org/CN=Org CA" writes. */
static X509_NAME *
ca_subject(const char *c, const char *o, const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	assert_non_null(n);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)c, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)o, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	return n;
}

static void
test_dn_forms_match(void **state)
{
	static const char *const same[] = {
		"CN=Org CA,O=Org,C=XX",		/* OpenSSL's RFC 2253 */
		"CN=Org CA, O=Org, C=XX",	/* RFC 4514 with spaces */
		"C=XX, O=Org, CN=Org CA",	/* reverse (Windows) order */
		"/C=XX/O=Org/CN=Org CA",	/* OpenSSL oneline */
		"cn=org ca,o=ORG,c=xx",		/* case of types and values */
		"  CN = Org   CA ; O=Org;C=XX ",	/* spacing, ";" */
		"commonName=Org CA, organizationName=Org, countryName=XX",
		"2.5.4.3=Org CA, 2.5.4.10=Org, 2.5.4.6=XX",
		"CN=\"Org CA\", O=Org, C=XX",	/* quoted value */
		"CN=Org\\20CA, O=Org, C=XX",	/* hex escape */
		"CN=Org CA, O=Org, C=XX certmap:yes excludecaname:no",
	};
	X509_NAME *ca = ca_subject("XX", "Org", "Org CA");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (!pa_dn_matches(ca, same[i]))
			fail_msg("'%s' does not match the CA", same[i]);
	X509_NAME_free(ca);
}

static void
test_dn_other_names_do_not_match(void **state)
{
	static const char *const other[] = {
		"CN=Other CA, O=Org, C=XX",
		"CN=Org CA, O=Org",			/* C missing */
		"CN=Org CA, O=Org, C=XX, OU=Unit",	/* one more */
		"O=Org, CN=Org CA, C=XX",		/* neither order */
		"CN=Org CA, OU=Org, C=XX",		/* other type */
		"CN=OrgCA, O=Org, C=XX",		/* a space is not nothing */
		"not a name",
		"",
	};
	X509_NAME *ca = ca_subject("XX", "Org", "Org CA");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (pa_dn_matches(ca, other[i]))
			fail_msg("'%s' matches the CA", other[i]);
	X509_NAME_free(ca);
}

static void
test_dn_escapes(void **state)
{
	X509_NAME *ca = ca_subject("XX", "Org, Inc.", "A/B \"CA\"");

	(void)state;
	assert_true(pa_dn_matches(ca, "CN=A/B \\\"CA\\\", O=Org\\, Inc., C=XX"));
	assert_true(pa_dn_matches(ca, "CN=\"A/B \\\"CA\\\"\", O=\"Org, Inc.\", C=XX"));
	assert_true(pa_dn_matches(ca, "/C=XX/O=Org, Inc./CN=A\\/B \"CA\""));
	assert_false(pa_dn_matches(ca, "CN=A/B \\\"CA\\\", O=Org, Inc., C=XX"));
	X509_NAME_free(ca);
}

static void
test_dn_refused_with_reason(void **state)
{
	static const struct {
		const char	*text;
		const char	*why;
	} bad[] = {
		{ "", "empty" },
		{ "   ", "empty" },
		{ "Org CA", "TYPE=value" },
		{ "CN=", "empty value" },
		{ "=Org", "type is missing" },
		{ "XX=foo", "not an attribute type" },
		{ "sha256=foo", "not an attribute type" },
		{ "CN=a,,O=b", "TYPE=value" },
		{ "CN=a,", "ends with a separator" },
		{ "CN=\"unterminated", "not closed" },
		{ "CN=\"a\"b", "after the closing quote" },
		{ "CN=a\"b", "quote inside" },
		{ "CN=a\\", "lone backslash" },
		{ "C=USA", "not valid" },
		{ "CN=#0403616263", "hex" },
	};
	X509_NAME *n;
	char why[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		n = NULL;
		if (pa_dn_parse(bad[i].text, &n, why, sizeof(why)) !=
		    PA_E_INVAL)
			fail_msg("'%s' was accepted", bad[i].text);
		assert_null(n);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("'%s': reason '%s' lacks '%s'", bad[i].text,
			    why, bad[i].why);
	}
}

static void
test_dn_rootca_options(void **state)
{
	struct pa_dn_opts o;
	char *name, why[100];

	(void)state;
	assert_int_equal(pa_dn_rootca_split("C=US, O=MSFT, CN=Root "
	    "certmap:yes excludecaname:no", &name, &o, why, sizeof(why)), 0);
	assert_string_equal(name, "C=US, O=MSFT, CN=Root");
	assert_true(o.certmap_set && o.certmap);
	assert_true(o.excludecaname_set && !o.excludecaname);
	free(name);
	assert_int_equal(pa_dn_rootca_split(" CN=Root  EXCLUDECANAME:YES ",
	    &name, &o, why, sizeof(why)), 0);
	assert_string_equal(name, "CN=Root");
	assert_false(o.certmap_set);
	assert_true(o.excludecaname_set && o.excludecaname);
	free(name);
	assert_int_equal(pa_dn_rootca_split("CN=Root certmap:maybe", &name,
	    &o, why, sizeof(why)), PA_E_INVAL);
	assert_non_null(strstr(why, "yes or no"));
	assert_int_equal(pa_dn_rootca_split("CN=Root certmap:no certmap:yes",
	    &name, &o, why, sizeof(why)), PA_E_INVAL);
	assert_non_null(strstr(why, "twice"));
	/* An escaped trailing space is the value's, not spacing. */
	assert_int_equal(pa_dn_rootca_split("CN=a\\  ", &name, &o, why,
	    sizeof(why)), 0);
	assert_string_equal(name, "CN=a\\ ");
	free(name);
	/* Not an option: stays in the name (and the name then checks). */
	assert_int_equal(pa_dn_rootca_split("CN=Root certmap", &name, &o, why,
	    sizeof(why)), 0);
	assert_string_equal(name, "CN=Root certmap");
	free(name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dn_forms_match),
		cmocka_unit_test(test_dn_other_names_do_not_match),
		cmocka_unit_test(test_dn_escapes),
		cmocka_unit_test(test_dn_refused_with_reason),
		cmocka_unit_test(test_dn_rootca_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
