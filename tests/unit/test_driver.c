/* Unit tests of driver_shim/: the registry and the null backend. */
#include <poll.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "driver.h"
#include "null/null_driver.h"

struct recorder {
	int		acquires;
	struct spd_id	acq_spd;
	struct drv_sel	acq_sel;
	uint32_t	acq_reqid;
	int		expires;
	bool		exp_hard;
	uint64_t	exp_cookie;
	int		drops;
	uint64_t	drop_count;
	enum drv_drop_reason drop_reason;
	struct driver	*d;	/* for re-entrant calls from a callback */
};

static void
rec_acquire(void *arg, const struct spd_id *spd, const struct drv_sel *sel,
    uint32_t reqid)
{
	struct recorder *r = arg;
	uint32_t spi;

	r->acquires++;
	r->acq_spd = *spd;
	r->acq_sel = *sel;
	r->acq_reqid = reqid;
	/* Calling back into the driver from a callback must be safe. */
	assert_int_equal(null_driver_ops.spi_alloc(r->d,
	    &(struct sa_id){ .proto = DRV_PROTO_ESP }, &spi), 0);
}

static void
rec_expire(void *arg, const struct sa_id *sa, uint64_t cookie, bool hard)
{
	struct recorder *r = arg;

	(void)sa;
	r->expires++;
	r->exp_hard = hard;
	r->exp_cookie = cookie;
}

static void
rec_drop(void *arg, const struct drv_drop *dr)
{
	struct recorder *r = arg;

	r->drops++;
	r->drop_reason = dr->reason;
	r->drop_count += dr->count;
}

static const struct driver_events rec_events = {
	.acquire = rec_acquire,
	.expire = rec_expire,
	.drop = rec_drop,
};

static int
setup(void **state)
{
	static struct recorder rec;
	struct driver_cfg cfg;

	memset(&rec, 0, sizeof(rec));
	memset(&cfg, 0, sizeof(cfg));
	if (null_driver_ops.open(&cfg, &rec_events, &rec, &rec.d) != 0)
		return -1;
	*state = &rec;
	return 0;
}

static int
teardown(void **state)
{
	struct recorder *rec = *state;

	null_driver_ops.close(rec->d);
	return 0;
}

static struct sa_id
mk_sa(const char *src, const char *dst, uint32_t spi)
{
	struct sa_id id;

	memset(&id, 0, sizeof(id));
	assert_int_equal(pa_addr_parse(src, &id.src), 0);
	assert_int_equal(pa_addr_parse(dst, &id.dst), 0);
	id.proto = DRV_PROTO_ESP;
	id.spi = spi;
	return id;
}

static bool
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

static void
test_registry(void **state)
{
	const char *const *names;
	size_t i;

	(void)state;
	assert_ptr_equal(drv_lookup("null"), &null_driver_ops);
	assert_null(drv_lookup("nul"));
	assert_null(drv_lookup(""));
	assert_null(drv_lookup(NULL));
	assert_null(drv_lookup("NULL"));
	names = drv_names();
	for (i = 0; names[i] != NULL; i++) {
		const struct driver_ops *ops = drv_lookup(names[i]);

		assert_non_null(ops);
		assert_string_equal(ops->name, names[i]);
		/* Every backend implements every operation. */
		assert_non_null(ops->open);
		assert_non_null(ops->close);
		assert_non_null(ops->spi_alloc);
		assert_non_null(ops->sa_add);
		assert_non_null(ops->sa_del);
		assert_non_null(ops->sa_query);
		assert_non_null(ops->policy_add);
		assert_non_null(ops->policy_del);
		assert_non_null(ops->flush);
		assert_non_null(ops->event_fd);
		assert_non_null(ops->dispatch);
		assert_non_null(ops->stats);
		assert_non_null(ops->socket_bypass);
	}
	assert_true(i >= 1);
}

static void
test_null_spis_are_sequential(void **state)
{
	struct recorder *rec = *state;
	struct sa_id id = mk_sa("10.0.0.1", "10.0.0.2", 0);
	uint32_t a, b;

	assert_int_equal(null_driver_ops.spi_alloc(rec->d, &id, &a), 0);
	assert_int_equal(null_driver_ops.spi_alloc(rec->d, &id, &b), 0);
	assert_int_equal(a, NULL_SPI_FIRST);
	assert_int_equal(b, NULL_SPI_FIRST + 1);
	assert_int_equal(null_calls(rec->d, NULL_OP_SPI_ALLOC), 2);
	assert_int_equal(null_log_len(rec->d), 2);
	assert_int_equal(null_log_get(rec->d, 1)->sa.spi, b);
	assert_null(null_log_get(rec->d, 2));
}

static void
test_null_sa_lifecycle(void **state)
{
	struct recorder *rec = *state;
	struct sa_id id = mk_sa("10.0.0.1", "10.0.0.2", 0x1234);
	struct sa_params p;
	struct sa_stats st;
	struct drv_stats ds;
	const struct null_sa *s;

	memset(&p, 0, sizeof(p));
	p.mode = DRV_MODE_TRANSPORT;
	p.enc = DRV_ENC_AES_CBC;
	p.enc_key_len = 16;
	p.auth = DRV_AUTH_HMAC_SHA1_96;
	p.auth_key_len = 20;
	p.cookie = 77;
	assert_int_equal(null_driver_ops.sa_add(rec->d, &id, &p), 0);
	assert_int_equal(null_driver_ops.sa_add(rec->d, &id, &p), PA_E_EXIST);
	assert_int_equal(null_log_get(rec->d, 1)->rc, PA_E_EXIST);
	assert_int_equal(null_sa_count(rec->d), 1);
	s = null_sa_find(rec->d, &id);
	assert_non_null(s);
	assert_int_equal(s->params.cookie, 77);
	assert_int_equal(s->params.enc, DRV_ENC_AES_CBC);

	assert_int_equal(null_sa_traffic(rec->d, &id, 1500, 3), 0);
	assert_int_equal(null_driver_ops.sa_query(rec->d, &id, &st), 0);
	assert_int_equal(st.bytes, 1500);
	assert_int_equal(st.packets, 3);
	assert_true(st.use_time >= st.add_time);
	assert_int_equal(null_driver_ops.stats(rec->d, &ds), 0);
	assert_int_equal(ds.active_sas, 1);
	assert_int_equal(ds.conf_bytes_sent, 1500);

	assert_int_equal(null_driver_ops.sa_del(rec->d, &id), 0);
	assert_int_equal(null_driver_ops.sa_del(rec->d, &id), PA_E_NOENT);
	assert_int_equal(null_driver_ops.sa_query(rec->d, &id, &st),
	    PA_E_NOENT);
	assert_int_equal(null_sa_count(rec->d), 0);
	assert_int_equal(null_calls(rec->d, NULL_OP_SA_DEL), 2);

	id.proto = 17;
	assert_int_equal(null_driver_ops.sa_add(rec->d, &id, &p), PA_E_INVAL);
}

static void
test_null_policies_and_flush(void **state)
{
	struct recorder *rec = *state;
	struct spd_id a = { .index = 1, .dir = DRV_DIR_OUT };
	struct spd_id b = { .index = 1, .dir = DRV_DIR_IN };
	struct spd_params p;
	struct sa_id id = mk_sa("10.0.0.1", "10.0.0.2", 0x99);
	struct sa_params sp;

	memset(&p, 0, sizeof(p));
	memset(&sp, 0, sizeof(sp));
	p.action = DRV_ACT_PROTECT;
	p.priority = 10;
	assert_int_equal(null_driver_ops.policy_add(rec->d, &a, &p), 0);
	assert_int_equal(null_driver_ops.policy_add(rec->d, &b, &p), 0);
	assert_int_equal(null_driver_ops.policy_add(rec->d, &b, &p),
	    PA_E_EXIST);
	assert_int_equal(null_policy_count(rec->d), 2);
	assert_int_equal(null_policy_find(rec->d, &b)->params.priority, 10);
	assert_int_equal(null_driver_ops.policy_del(rec->d, &a), 0);
	assert_int_equal(null_driver_ops.policy_del(rec->d, &a), PA_E_NOENT);
	assert_int_equal(null_policy_get(rec->d, 0)->id.dir, DRV_DIR_IN);
	p.action = 0;
	assert_int_equal(null_driver_ops.policy_add(rec->d, &a, &p),
	    PA_E_INVAL);

	assert_int_equal(null_driver_ops.sa_add(rec->d, &id, &sp), 0);
	assert_int_equal(null_driver_ops.flush(rec->d), 0);
	assert_int_equal(null_policy_count(rec->d), 0);
	assert_int_equal(null_sa_count(rec->d), 0);
}

static void
test_null_injected_failure(void **state)
{
	struct recorder *rec = *state;
	struct sa_id id = mk_sa("10.0.0.1", "10.0.0.2", 0);
	uint32_t spi = 0;

	assert_int_equal(null_driver_ops.socket_bypass(rec->d, 3, AF_INET), 0);
	assert_int_equal(null_driver_ops.socket_bypass(rec->d, 3, 99),
	    PA_E_INVAL);
	assert_int_equal(null_calls(rec->d, NULL_OP_SOCKET_BYPASS), 2);
	null_fail_next(rec->d, NULL_OP_SPI_ALLOC, PA_E_SYS);
	assert_int_equal(null_driver_ops.spi_alloc(rec->d, &id, &spi),
	    PA_E_SYS);
	/* Once only. */
	assert_int_equal(null_driver_ops.spi_alloc(rec->d, &id, &spi), 0);
	assert_int_equal(spi, NULL_SPI_FIRST);
}

static void
test_null_events(void **state)
{
	struct recorder *rec = *state;
	struct spd_id spd = { .index = 5, .dir = DRV_DIR_OUT };
	struct drv_sel sel;
	struct sa_id id = mk_sa("10.0.0.1", "10.0.0.2", 0x4242);
	struct sa_params sp;
	struct pa_addr peer;
	struct drv_stats ds;
	int fd = null_driver_ops.event_fd(rec->d);

	memset(&sel, 0, sizeof(sel));
	memset(&sp, 0, sizeof(sp));
	sel.proto = 1;
	sp.cookie = 0xfeed;
	assert_true(fd >= 0);
	assert_false(readable(fd));
	assert_int_equal(null_driver_ops.sa_add(rec->d, &id, &sp), 0);

	assert_int_equal(null_inject_acquire(rec->d, &spd, &sel, 9), 0);
	assert_int_equal(null_inject_expire(rec->d, &id, false), 0);
	assert_int_equal(pa_addr_parse("10.0.0.3", &peer), 0);
	assert_int_equal(null_inject_drop(rec->d, DRV_DROP_REPLAY, &peer, 4),
	    0);
	assert_true(readable(fd));
	assert_int_equal(rec->acquires, 0);
	assert_int_equal(null_driver_ops.dispatch(rec->d), 0);
	assert_false(readable(fd));
	assert_int_equal(rec->acquires, 1);
	assert_int_equal(rec->acq_spd.index, 5);
	assert_int_equal(rec->acq_sel.proto, 1);
	assert_int_equal(rec->acq_reqid, 9);
	assert_int_equal(rec->expires, 1);
	assert_false(rec->exp_hard);
	assert_int_equal(rec->exp_cookie, 0xfeed);
	assert_int_equal(null_sa_count(rec->d), 1);	/* soft keeps it */
	assert_int_equal(rec->drops, 1);
	assert_int_equal(rec->drop_reason, DRV_DROP_REPLAY);
	assert_int_equal(rec->drop_count, 4);
	assert_int_equal(null_driver_ops.stats(rec->d, &ds), 0);
	assert_int_equal(ds.replay, 4);
	/* The acquire callback allocated an SPI re-entrantly. */
	assert_int_equal(null_calls(rec->d, NULL_OP_SPI_ALLOC), 1);

	assert_int_equal(null_inject_expire(rec->d, &id, true), 0);
	assert_int_equal(null_driver_ops.dispatch(rec->d), 0);
	assert_true(rec->exp_hard);
	assert_int_equal(null_sa_count(rec->d), 0);	/* hard removes it */
	/* Nothing pending: dispatch is a no-op. */
	assert_int_equal(null_driver_ops.dispatch(rec->d), 0);
	assert_int_equal(rec->expires, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test_setup_teardown(test_null_spis_are_sequential,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sa_lifecycle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_policies_and_flush,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_injected_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_events,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("driver", tests, NULL, NULL);
}
