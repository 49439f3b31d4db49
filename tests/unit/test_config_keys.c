/*
 * The configuration key table (svc_config_keys[]) and the parser agree:
 * every key of the table is accepted with its example value, and a key
 * missing from the table is refused as unknown. ipsec-agentd.conf(5) is
 * checked against the same table (tests/integration/man_drift.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_every_key_parses),
		cmocka_unit_test(test_unknown_key_refused),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
