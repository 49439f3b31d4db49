/*
 * The IKE engine's NAT-T socket and the driver: with a driver that reads
 * ESP-in-UDP itself (null, like uesp) the engine's UDP socket on the NAT-T
 * port lets in only IKE behind the zero non-ESP marker and NAT-keepalives
 * (a BPF filter), so ESP never fills it; with a driver whose kernel
 * decapsulates (DRV_F_KERNEL_ENCAP) the socket carries UDP_ENCAP_ESPINUDP.
 * Loopback only, no privileges.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/udp.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ike.h"
#include "null_driver.h"

static uint16_t port;

struct fixture {
	struct driver	*drv;
	struct ike	*ike;
	int		 natt_fd;	/* the engine's, borrowed */
	int		 cli;		/* our sender */
};

static const struct driver_events no_events;

static void
fx_open(struct fixture *fx, const struct driver_ops *ops)
{
	struct driver_cfg dc;
	struct ike_cfg cfg;
	struct sockaddr_in sin;
	socklen_t sl;
	int fds[8];
	size_t n, i;

	memset(fx, 0, sizeof(*fx));
	memset(&dc, 0, sizeof(dc));
	assert_int_equal(ops->open(&dc, &no_events, NULL, &fx->drv), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.drv_ops = ops;
	cfg.drv = fx->drv;
	assert_int_equal(pa_addr_parse("127.0.0.1", &cfg.laddrs[0]), 0);
	cfg.nladdrs = 1;
	cfg.port = port;
	cfg.natt_port = (uint16_t)(port + 1);
	assert_int_equal(ike_new(&cfg, &fx->ike), 0);
	n = ike_fds(fx->ike, fds, 8);
	fx->natt_fd = -1;
	for (i = 0; i < n; i++) {
		sl = sizeof(sin);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&sin,
		    &sl), 0);
		if (ntohs(sin.sin_port) == port + 1)
			fx->natt_fd = fds[i];
	}
	assert_true(fx->natt_fd >= 0);
	fx->cli = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fx->cli >= 0);
}

static void
fx_close(struct fixture *fx, const struct driver_ops *ops)
{
	close(fx->cli);
	ike_free(fx->ike);
	ops->close(fx->drv);
}

static void
send_to_natt(struct fixture *fx, const uint8_t *p, size_t len)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)(port + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fx->cli, p, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), (ssize_t)len);
}

/* The next datagram on the engine's socket within 1 s; -1 if none. */
static ssize_t
recv_natt(struct fixture *fx, uint8_t *buf, size_t cap, int wait_ms)
{
	struct pollfd pfd = { fx->natt_fd, POLLIN, 0 };

	if (poll(&pfd, 1, wait_ms) != 1)
		return -1;
	return recv(fx->natt_fd, buf, cap, MSG_DONTWAIT);
}

static void
test_natt_filter(void **state)
{
	static const uint8_t esp[24] = { 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1 };
	static const uint8_t esp_zero_seq[8] = { 0, 0, 0, 9 };
	static const uint8_t keepalive[1] = { 0xff };
	static const uint8_t not_keepalive[1] = { 0x00 };
	static const uint8_t runt[3] = { 0, 0, 0 };
	uint8_t ike[40], buf[128];
	struct fixture fx;
	ssize_t n;
	size_t i;

	(void)state;
	fx_open(&fx, &null_driver_ops);
	memset(ike, 0, sizeof(ike));
	for (i = 4; i < sizeof(ike); i++)
		ike[i] = (uint8_t)i;
	/* Interleaved: only the keepalive and the marked IKE get through. */
	for (i = 0; i < 50; i++)
		send_to_natt(&fx, esp, sizeof(esp));
	send_to_natt(&fx, esp_zero_seq, sizeof(esp_zero_seq));
	send_to_natt(&fx, not_keepalive, sizeof(not_keepalive));
	send_to_natt(&fx, runt, sizeof(runt));
	send_to_natt(&fx, keepalive, sizeof(keepalive));
	send_to_natt(&fx, esp, sizeof(esp));
	send_to_natt(&fx, ike, sizeof(ike));
	n = recv_natt(&fx, buf, sizeof(buf), 1000);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], 0xff);
	n = recv_natt(&fx, buf, sizeof(buf), 1000);
	assert_int_equal(n, (ssize_t)sizeof(ike));
	assert_memory_equal(buf, ike, sizeof(ike));
	/* Nothing else was queued: the ESP never reached the engine. */
	assert_int_equal(recv_natt(&fx, buf, sizeof(buf), 0), -1);
	fx_close(&fx, &null_driver_ops);
}

static int
kenc_open(const struct driver_cfg *c, const struct driver_events *e,
    void *arg, struct driver **d)
{
	return null_driver_ops.open(c, e, arg, d);
}

static void
test_natt_kernel_encap(void **state)
{
	struct driver_ops kops = null_driver_ops;
	struct fixture fx;
	uint8_t ike[40], buf[128];
	socklen_t sl;
	int v = 0;

	(void)state;
	kops.features |= DRV_F_KERNEL_ENCAP;
	kops.open = kenc_open;
	fx_open(&fx, &kops);
	sl = sizeof(v);
	assert_int_equal(getsockopt(fx.natt_fd, IPPROTO_UDP, UDP_ENCAP, &v,
	    &sl), 0);
	assert_int_equal(v, UDP_ENCAP_ESPINUDP);
	/* IKE behind the marker still reaches the engine. */
	memset(ike, 0, sizeof(ike));
	ike[10] = 7;
	send_to_natt(&fx, ike, sizeof(ike));
	assert_int_equal(recv_natt(&fx, buf, sizeof(buf), 1000),
	    (ssize_t)sizeof(ike));
	assert_memory_equal(buf, ike, sizeof(ike));
	fx_close(&fx, &kops);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_natt_filter),
		cmocka_unit_test(test_natt_kernel_encap),
	};

	port = (uint16_t)(30000 + getpid() % 20000);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
