/*
 * libFuzzer harness for the IKE engine's state machines: two engines (A
 * initiates, B responds; PSK, Main Mode + Quick Mode with PFS, null
 * drivers) run a real exchange over loopback, and the input says what an
 * attacker in the path does to the datagrams: flip a byte, cut the
 * datagram short, deliver it twice, or drop it, for the datagram with a
 * given number. So the fuzzer reaches every state of both roles with
 * well-formed neighbours, including the parsing of decrypted garbage.
 *
 * Input: 4-byte instructions [datagram number][operation][position, 2
 * bytes], applied in order. Invariants: no crash and no sanitizer report
 * (leaks included); an input without instructions completes with SAs
 * whose keys agree, so the harness also fails if the exchange breaks.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ike.h"
#include "ike_engine.h"
#include "ike_onerule.h"
#include "model.h"
#include "null_driver.h"
#include "pa_time.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct side {
	struct driver		*drv;
	struct ike		*ike;
	struct pa_addr		 addr;
	struct ike_onerule	 one;
	uint32_t		 rand;
};

static uint16_t port;

/* Deterministic cookies and nonces, so inputs replay the same way. */
static void
rand_hook(void *arg, uint8_t *buf, size_t len)
{
	struct side *s = arg;
	size_t i;

	for (i = 0; i < len; i++) {
		s->rand = s->rand * 1103515245U + 12345U;
		buf[i] = (uint8_t)(s->rand >> 16);
	}
}

static int
side_open(struct side *s, const char *me, const char *peer, uint32_t seed)
{
	struct driver_cfg dc;
	struct ike_cfg cfg;
	struct pa_addr p;

	memset(s, 0, sizeof(*s));
	s->rand = seed;
	if (pa_addr_parse(me, &s->addr) != 0 || pa_addr_parse(peer, &p) != 0)
		return -1;
	if (ike_onerule_init(&s->one, "fuzz", &s->addr, &p, "fuzz-psk",
	    "3des-sha1-modp1024", "aes128-sha1", POL_DH_MODP1024, false) != 0)
		return -1;
	memset(&dc, 0, sizeof(dc));
	if (null_driver_ops.open(&dc, NULL, NULL, &s->drv) != 0)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.drv_ops = &null_driver_ops;
	cfg.drv = s->drv;
	cfg.laddrs[0] = s->addr;
	cfg.nladdrs = 1;
	cfg.port = port;
	cfg.natt_port = (uint16_t)(port + 1);
	cfg.rand_hook = rand_hook;
	cfg.rand_arg = s;
	cfg.retrans_ms = 60000;		/* no retransmission during a run */
	if (ike_new(&cfg, &s->ike) != 0 ||
	    ike_set_policy(s->ike, &s->one.pol, NULL) != 0)
		return -1;
	/* The null drivers count SPIs from the same start: move B's on. */
	if (seed == 2) {
		struct sa_id id;
		uint32_t spi;
		int i;

		memset(&id, 0, sizeof(id));
		for (i = 0; i < 64; i++)
			if (null_driver_ops.spi_alloc(s->drv, &id, &spi) != 0)
				return -1;
	}
	return 0;
}

static void
side_close(struct side *s)
{
	ike_free(s->ike);
	if (s->drv != NULL)
		null_driver_ops.close(s->drv);
	ike_onerule_clear(&s->one);
}

/* A's outbound SA is B's inbound one with the same keys, and back. */
static void
check_keys(const struct side *a, const struct side *b)
{
	size_t i, j, pairs = 0;

	for (i = 0; i < null_sa_count(a->drv); i++) {
		const struct null_sa *x = null_sa_get(a->drv, i);

		for (j = 0; j < null_sa_count(b->drv); j++) {
			const struct null_sa *y = null_sa_get(b->drv, j);

			if (x->id.spi != y->id.spi ||
			    x->id.proto != y->id.proto ||
			    !pa_addr_eq(&x->id.dst, &y->id.dst))
				continue;
			if (x->params.inbound == y->params.inbound ||
			    x->params.enc_key_len != y->params.enc_key_len ||
			    memcmp(x->params.enc_key, y->params.enc_key,
			    x->params.enc_key_len) != 0 ||
			    memcmp(x->params.auth_key, y->params.auth_key,
			    x->params.auth_key_len) != 0)
				abort();
			pairs++;
		}
	}
	if (pairs != 2)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	struct side a, b, *sd[2] = { &a, &b };
	struct ike_stats sa, sb;
	struct drv_sel pkt;
	unsigned seen = 0, idle = 0;
	int rc = 0;

	if (port == 0)
		port = (uint16_t)(20000 + getpid() % 20000);
	if (side_open(&a, "127.0.0.1", "127.0.0.2", 1) != 0 ||
	    side_open(&b, "127.0.0.2", "127.0.0.1", 2) != 0)
		abort();
	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = a.addr;
	pkt.src.len = 32;
	pkt.dst.addr = b.addr;
	pkt.dst.len = 32;
	if (ike_acquire(a.ike, &pkt, 1, NULL) != 0)
		abort();
	/* Deliver until nothing moves (a mangled exchange stalls). */
	while (seen < 64 && idle < 2) {
		uint8_t buf[IKE_MAX_PKT];
		struct sockaddr_storage ss;
		struct pa_addr from;
		struct pollfd pfd[2 * IKE_MAX_SOCKS];
		int owner[2 * IKE_MAX_SOCKS], sock[2 * IKE_MAX_SOCKS];
		size_t n = 0, i, j, k;
		socklen_t sl;
		uint16_t fport;
		ssize_t got;

		for (i = 0; i < 2; i++)
			for (j = 0; j < sd[i]->ike->nsocks; j++) {
				pfd[n].fd = sd[i]->ike->socks[j].fd;
				pfd[n].events = POLLIN;
				owner[n] = (int)i;
				sock[n++] = (int)j;
			}
		if (poll(pfd, n, 1) <= 0) {
			idle++;
			continue;
		}
		idle = 0;
		for (i = 0; i < n; i++) {
			struct side *s = sd[owner[i]];
			size_t dlen;
			bool drop = false, twice = false;

			if (!(pfd[i].revents & POLLIN))
				continue;
			sl = sizeof(ss);
			got = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&ss, &sl);
			if (got <= 0 || pa_addr_from_sockaddr(
			    (struct sockaddr *)&ss, &from, &fport) != 0)
				continue;
			dlen = (size_t)got;
			for (k = 0; k + 4 <= len; k += 4) {
				size_t pos = (size_t)(in[k + 2] << 8 | in[k + 3]);

				if (in[k] != seen)
					continue;
				switch (in[k + 1] & 3) {
				case 0:
					if (dlen > 0)
						buf[pos % dlen] ^=
						    (uint8_t)(in[k + 1] | 1);
					break;
				case 1:
					if (dlen > 0)
						dlen = pos % dlen;
					break;
				case 2:
					twice = true;
					break;
				default:
					drop = true;
					break;
				}
			}
			seen++;
			if (drop)
				continue;
			ike_input(s->ike, sock[i], &from, fport, buf, dlen);
			if (twice)
				ike_input(s->ike, sock[i], &from, fport, buf,
				    dlen);
		}
		ike_run_timers(a.ike, pa_now_ms());
		ike_run_timers(b.ike, pa_now_ms());
	}
	ike_stats(a.ike, &sa);
	ike_stats(b.ike, &sb);
	if (sa.quick_modes >= 1 && sb.quick_modes >= 1)
		check_keys(&a, &b);
	else if (len < 4)
		abort();	/* nothing was done to it: it must complete */	/* nothing was done to it: it must complete */ //X
	side_close(&a);
	side_close(&b);
	return rc;
}
