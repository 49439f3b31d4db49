/*
 * The xfrm backend against the kernel's XFRM netlink, in a private
 * network namespace (unshare): policies with templates, priorities,
 * block/allow and the IKE bypass; identical selectors stacked by priority;
 * SPI allocation; acquire events; close fail-closed (policies stay), the
 * leftover report at the next open, settle and clear removing exactly
 * what is ours, leaving others' policies.
 * Needs CAP_SYS_ADMIN/CAP_NET_ADMIN: otherwise exit 77 (skip).
 *
 * Kernel output is checked with iproute2 ("ip xfrm ..."), an
 * independent reader of the same netlink objects.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "driver.h"

static const struct driver_ops	*ops;

struct acq {
	int		n;
	struct spd_id	spd;
	struct drv_sel	sel;
	uint32_t	reqid;
};

static void
on_acquire(void *arg, const struct spd_id *spd, const struct drv_sel *sel,
    uint32_t reqid)
{
	struct acq *a = arg;

	a->n++;
	a->spd = *spd;
	a->sel = *sel;
	a->reqid = reqid;
}

static char	leftover[256];

static void
on_leftover(void *arg, const char *what)
{
	(void)arg;
	snprintf(leftover, sizeof(leftover), "%s", what);
}

static const struct driver_events evs = { .acquire = on_acquire,
	.leftover = on_leftover };

/* Output of a shell command (iproute2) into buf. */
static const char *
sh(char *buf, size_t cap, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static struct spd_params
mk_pol(enum drv_action act, const char *src, const char *dst, uint8_t proto,
    uint32_t prio)
{
	struct spd_params p;

	memset(&p, 0, sizeof(p));
	p.action = act;
	if (src != NULL)
		assert_int_equal(pa_prefix_parse(src, &p.sel.src), 0);
	if (dst != NULL)
		assert_int_equal(pa_prefix_parse(dst, &p.sel.dst), 0);
	p.sel.proto = proto;
	p.priority = prio;
	p.mode = DRV_MODE_TRANSPORT;
	p.want_esp = true;
	p.reqid = 7;
	return p;
}

static void
test_policies(void **state)
{
	static char out[65536];
	struct driver *d;
	struct driver_cfg cfg;
	struct spd_id o = { 1, DRV_DIR_OUT }, i = { 1, DRV_DIR_IN };
	struct spd_id b = { 2, DRV_DIR_OUT }, t = { 3, DRV_DIR_IN };
	struct spd_params p;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(ops->open(&cfg, &evs, NULL, &d), 0);
	/* The IKE bypass: UDP 500/4500 both ways, v4 and v6. */
	sh(out, sizeof(out), "ip xfrm policy");
	assert_int_equal(count(out, "proto udp sport 500"), 2);
	assert_int_equal(count(out, "proto udp dport 4500"), 2);

	p = mk_pol(DRV_ACT_PROTECT, "10.1.0.0/24", "10.2.0.0/24", 6, 5);
	assert_int_equal(ops->policy_add(d, &o, &p), 0);
	assert_int_equal(ops->policy_add(d, &o, &p), PA_E_EXIST);
	p = mk_pol(DRV_ACT_PROTECT, "10.2.0.0/24", "10.1.0.0/24", 6, 5);
	p.want_ah = true;
	assert_int_equal(ops->policy_add(d, &i, &p), 0);
	p = mk_pol(DRV_ACT_BLOCK, NULL, "10.3.0.1/32", 0, 1);
	assert_int_equal(ops->policy_add(d, &b, &p), 0);
	p = mk_pol(DRV_ACT_PROTECT, "fd00:2::/64", "fd00:1::/64", 0, 9);
	p.mode = DRV_MODE_TUNNEL;
	assert_int_equal(pa_addr_parse("fd00::2", &p.tunnel_src), 0);
	assert_int_equal(pa_addr_parse("fd00::1", &p.tunnel_dst), 0);
	assert_int_equal(ops->policy_add(d, &t, &p), 0);
	/* In: the peer's side (source) is needed, ours may be unset. */
	p.tunnel_src.family = 0;
	t.index = 4;
	assert_int_equal(ops->policy_add(d, &t, &p), PA_E_INVAL);
	t.index = 3;
	/* Out with our side unset (the kernel picks the address). */
	p = mk_pol(DRV_ACT_PROTECT, "10.5.0.0/24", "10.6.0.0/24", 0, 9);
	p.mode = DRV_MODE_TUNNEL;
	assert_int_equal(pa_addr_parse("10.99.0.2", &p.tunnel_dst), 0);
	t.index = 5;
	t.dir = DRV_DIR_OUT;
	assert_int_equal(ops->policy_add(d, &t, &p), 0);
	t.index = 3;
	t.dir = DRV_DIR_IN;

	sh(out, sizeof(out), "ip xfrm policy");
	assert_non_null(strstr(out, "src 10.1.0.0/24 dst 10.2.0.0/24 proto tcp "
	    "\n\tdir out priority 1346371605"));	/* 0x50400010 + 5 */
	assert_non_null(strstr(out, "proto esp reqid 1342177287 mode "
	    "transport"));				/* 0x50000007 */
	assert_non_null(strstr(out, "proto ah reqid 1342177287 mode "
	    "transport"));
	assert_non_null(strstr(out, "dst 10.3.0.1/32 \n\tdir out action block "
	    "priority 1346371601"));
	assert_non_null(strstr(out, "dir fwd priority 1346371609"));
	assert_non_null(strstr(out, "tmpl src fd00::2 dst fd00::1\n\t\tproto "
	    "esp reqid 1342177287 mode tunnel"));

	assert_int_equal(ops->policy_del(d, &b), 0);
	assert_int_equal(ops->policy_del(d, &b), PA_E_NOENT);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_null(strstr(out, "10.3.0.1"));
	assert_non_null(strstr(out, "tmpl src 0.0.0.0 dst 10.99.0.2"));
	assert_int_equal(ops->policy_del(d, &t), 0);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_null(strstr(out, "fd00:1::"));

	/* Close is fail-closed: the policies stay; clear removes them. */
	ops->close(d);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_non_null(strstr(out, "src 10.1.0.0/24 dst 10.2.0.0/24"));
	assert_int_equal(ops->open(&cfg, &evs, NULL, &d), 0);
	assert_int_equal(ops->clear(d), 0);
	ops->close(d);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_string_equal(out, "");
}

/* Identical selectors and direction stack: the lower priority wins, and
 * removing it uncovers the other (the kernel alone would replace). */
static void
test_stacking(void **state)
{
	static char out[65536];
	struct driver *d;
	struct spd_id f = { 1, DRV_DIR_OUT }, e = { 2, DRV_DIR_OUT };
	struct spd_params p;

	(void)state;
	assert_int_equal(ops->open(NULL, &evs, NULL, &d), 0);
	p = mk_pol(DRV_ACT_PROTECT, "10.99.0.1/32", "10.99.0.2/32", 0, 50);
	p.reqid = 0;
	assert_int_equal(ops->policy_add(d, &f, &p), 0);
	p.priority = 40;
	p.reqid = 0x1001;
	p.want_ah = true;
	assert_int_equal(ops->policy_add(d, &e, &p), 0);
	sh(out, sizeof(out), "ip xfrm policy list dir out "
	    "src 10.99.0.1/32 dst 10.99.0.2/32");
	assert_int_equal(count(out, "dir out"), 2);
	assert_non_null(strstr(out, "reqid 1342177280"));	/* filter */
	assert_non_null(strstr(out, "reqid 1342181377"));	/* 0x1001 */
	assert_int_equal(ops->policy_del(d, &e), 0);
	sh(out, sizeof(out), "ip xfrm policy list dir out "
	    "src 10.99.0.1/32 dst 10.99.0.2/32");
	assert_int_equal(count(out, "dir out"), 1);
	assert_non_null(strstr(out, "reqid 1342177280"));
	assert_int_equal(ops->clear(d), 0);
	ops->close(d);
}

static void
test_flush_is_ours_only(void **state)
{
	static char out[65536];
	struct driver *a, *b;
	struct spd_id o = { 1, DRV_DIR_OUT }, o2 = { 2, DRV_DIR_OUT };
	struct spd_params p, q;

	(void)state;
	assert_int_equal(system("ip xfrm policy add src 10.9.0.0/16 "
	    "dst 10.8.0.0/16 dir out priority 1000 action block"), 0);
	assert_int_equal(ops->open(NULL, &evs, NULL, &a), 0);
	p = mk_pol(DRV_ACT_PROTECT, "10.1.0.0/24", "10.2.0.0/24", 0, 5);
	q = mk_pol(DRV_ACT_BLOCK, "10.1.0.0/24", "10.4.0.0/24", 0, 5);
	assert_int_equal(ops->policy_add(a, &o, &p), 0);
	assert_int_equal(ops->policy_add(a, &o2, &q), 0);
	/* A second instance after a crash: the first one's state is
	 * reported and stays until settle(), then what the new policy
	 * does not have goes. */
	leftover[0] = '\0';
	assert_int_equal(ops->open(NULL, &evs, NULL, &b), 0);
	assert_non_null(strstr(leftover, "2 policies"));
	sh(out, sizeof(out), "ip xfrm policy");
	assert_non_null(strstr(out, "10.2.0.0/24"));
	assert_non_null(strstr(out, "10.4.0.0/24"));
	assert_int_equal(ops->policy_add(b, &o, &p), 0);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_int_equal(count(out, "dst 10.2.0.0/24"), 1);	/* replaced */
	assert_int_equal(ops->settle(b), 0);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_non_null(strstr(out, "10.2.0.0/24"));
	assert_null(strstr(out, "10.4.0.0/24"));
	assert_non_null(strstr(out, "10.8.0.0/16"));
	assert_int_equal(ops->flush(b), 0);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_null(strstr(out, "10.2.0.0/24"));
	assert_non_null(strstr(out, "sport 500"));	/* bypass kept */
	assert_int_equal(ops->clear(b), 0);
	ops->close(b);
	ops->close(a);
	sh(out, sizeof(out), "ip xfrm policy");
	assert_non_null(strstr(out, "10.8.0.0/16"));
	assert_null(strstr(out, "sport 500"));
	assert_int_equal(system("ip xfrm policy flush"), 0);
}

/* A block policy stops a plain socket, not one given the bypass. */
static void
test_socket_bypass(void **state)
{
	struct driver *d;
	struct spd_id o = { 9, DRV_DIR_OUT };
	struct spd_params p;
	struct sockaddr_in sin;
	int plain, ike;

	(void)state;
	assert_int_equal(ops->open(NULL, &evs, NULL, &d), 0);
	p = mk_pol(DRV_ACT_BLOCK, NULL, "10.99.0.2/32", 17, 1);
	assert_int_equal(ops->policy_add(d, &o, &p), 0);
	plain = socket(AF_INET, SOCK_DGRAM, 0);
	ike = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(plain >= 0 && ike >= 0);
	assert_int_equal(ops->socket_bypass(d, ike, AF_INET), 0);
	assert_int_equal(ops->socket_bypass(d, ike, 99), PA_E_INVAL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(500);
	sin.sin_addr.s_addr = htonl(0x0a630002);
	assert_int_equal(sendto(plain, "x", 1, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(sendto(ike, "x", 1, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), 1);
	close(plain);
	close(ike);
	assert_int_equal(ops->clear(d), 0);
	ops->close(d);
}

static void
test_spi_alloc(void **state)
{
	static char out[65536];
	char want[64];
	struct driver *d;
	struct sa_id id;
	uint32_t s1 = 0, s2 = 0;

	(void)state;
	assert_int_equal(ops->open(NULL, &evs, NULL, &d), 0);
	memset(&id, 0, sizeof(id));
	assert_int_equal(pa_addr_parse("10.1.0.2", &id.src), 0);
	assert_int_equal(pa_addr_parse("10.1.0.1", &id.dst), 0);
	id.proto = DRV_PROTO_ESP;
	assert_int_equal(ops->spi_alloc(d, &id, &s1), 0);
	assert_int_equal(ops->spi_alloc(d, &id, &s2), 0);
	assert_true(s1 >= 0x100 && s2 >= 0x100);
	assert_int_not_equal(s1, s2);
	sh(out, sizeof(out), "ip xfrm state");
	snprintf(want, sizeof(want), "spi 0x%08x", s1);
	assert_non_null(strstr(out, want));
	ops->close(d);
	sh(out, sizeof(out), "ip xfrm state");
	assert_null(strstr(out, want));
}

static void
test_acquire(void **state)
{
	static char out[65536];
	struct driver *d;
	struct acq a;
	struct spd_id o = { 42, DRV_DIR_OUT };
	struct spd_params p;
	struct sockaddr_in sin;
	struct pollfd pfd;
	int s;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(ops->open(NULL, &evs, &a, &d), 0);
	p = mk_pol(DRV_ACT_PROTECT, "10.99.0.1/32", "10.99.0.2/32", 17, 5);
	assert_int_equal(ops->policy_add(d, &o, &p), 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9999);
	sin.sin_addr.s_addr = htonl(0x0a630002);
	/* The kernel has no SA: it asks us (and drops or holds it). */
	(void)sendto(s, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
	close(s);
	pfd.fd = ops->event_fd(d);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(ops->dispatch(d), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.spd.index, 42);
	assert_int_equal(a.spd.dir, DRV_DIR_OUT);
	assert_int_equal(a.reqid, 7);
	assert_int_equal(a.sel.proto, 17);
	assert_int_equal(a.sel.dport, 9999);
	assert_int_equal(a.sel.dst.addr.a[3], 2);
	/* The acquire left a larval state (SPI 0): close removes it too. */
	sh(out, sizeof(out), "ip xfrm state");
	assert_non_null(strstr(out, "spi 0x00000000"));
	ops->close(d);
	sh(out, sizeof(out), "ip xfrm state");
	assert_string_equal(out, "");
	assert_int_equal(ops->open(NULL, &evs, &a, &d), 0);
	assert_int_equal(ops->clear(d), 0);
	ops->close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_stacking),
		cmocka_unit_test(test_flush_is_ours_only),
		cmocka_unit_test(test_socket_bypass),
		cmocka_unit_test(test_spi_alloc),
		cmocka_unit_test(test_acquire),
	};

	if (unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: no private network namespace: %s\n",
		    strerror(errno));
		return 77;
	}
	if (system("ip link set lo up && ip link add dummy0 type veth peer name dummy1 && "
	    "ip addr add 10.99.0.1/24 dev dummy0 && ip link set dummy0 up && "
	    "ip link set dummy1 up")
	    != 0) {
		printf("SKIP: cannot set up the namespace (iproute2?)\n");
		return 77;
	}
	ops = drv_lookup("xfrm");
	return cmocka_run_group_tests_name("xfrm", tests, NULL, NULL);
}
