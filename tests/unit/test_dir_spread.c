/*
 * The spread of scheduled directory polls (issue 19): pol_dir_poll_offset
 * stays within its bound (a tenth of the interval, at most 1800 s, by
 * default; the configured bound otherwise; 0 = none), is fixed per host,
 * differs between hosts, and 1,000 hosts fill the window evenly enough
 * that N hosts with interval T do not poll at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dir_source.h"

static void
test_bounds(void **state)
{
	char host[32];
	uint32_t o;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(host, sizeof(host), "HOST%04d$", i);
		/* default: 10 % of 10800 s = 1080 s */
		o = pol_dir_poll_offset(host, 10800, -1);
		assert_true(o <= 1080);
		/* default capped at 30 min for long intervals */
		o = pol_dir_poll_offset(host, 86400, -1);
		assert_true(o <= 1800);
		/* configured bound */
		o = pol_dir_poll_offset(host, 10800, 60);
		assert_true(o <= 60);
		/* off */
		assert_int_equal(pol_dir_poll_offset(host, 10800, 0), 0);
		/* an interval under 10 s: a tenth is 0 */
		assert_int_equal(pol_dir_poll_offset(host, 9, -1), 0);
	}
	assert_int_equal(pol_dir_poll_offset(NULL, 10800, -1), 0);
}

static void
test_per_host(void **state)
{
	uint32_t a, b;

	(void)state;
	a = pol_dir_poll_offset("HOSTA$", 10800, -1);
	b = pol_dir_poll_offset("HOSTB$", 10800, -1);
	/* fixed for a host (restarts keep the slot), different between two */
	assert_int_equal(a, pol_dir_poll_offset("HOSTA$", 10800, -1));
	assert_int_not_equal(a, b);
	/* the SHA-256 of the name, scaled: these are the values */
	assert_int_equal(a, pol_dir_poll_offset("HOSTA$", 10800, 1080));
}

/* 1,000 hosts over a 1080 s window: every tenth of it gets 50 to 150 of
 * them (a uniform spread gives 100 each), so no slot takes the fleet. */
static void
test_fleet_spread(void **state)
{
	unsigned bins[10] = { 0 };
	char host[32];
	uint32_t o;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(host, sizeof(host), "HOST%04d$", i);
		o = pol_dir_poll_offset(host, 10800, -1);
		bins[o * 10 / 1081]++;
	}
	for (i = 0; i < 10; i++) {
		print_message("slot %d: %u hosts\n", i, bins[i]);
		assert_in_range(bins[i], 50, 150);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_per_host),
		cmocka_unit_test(test_fleet_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
