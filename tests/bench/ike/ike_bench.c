/*
 * ike_bench: the initiator load of the handshake benchmark. Runs COUNT
 * Main Mode + Quick Mode handshakes (PSK, each with a Main Mode of its
 * own) against a responder, PARALLEL at a time, over the null driver, and
 * prints the rate and its own CPU time. SAs are kept (no deletes sent), so
 * successive runs grow the responder's SA count.
 *
 * usage: ike_bench --local A --remote B --psk S [--ike 3des-sha1-modp1024]
 *        [--esp aes128-sha1] [--count N] [--parallel P] [--port N]
 *        [--latency] [--timeout-ms T] [--transport]
 *        [--cert F --key F --ca F --ca-dn DN]
 *
 * --cert/--key/--ca/--ca-dn: RSA signatures instead of the PSK (the PSK
 * argument is still required and ignored), as ike_peer takes them.
 * --latency runs the handshakes one after the other and prints each one's
 * time (acquire to both Quick Mode SAs), the median and the worst;
 * a handshake not done within T ms (default 10000) counts as failed.
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike.h"
#include "ike_onerule.h"
#include "model.h"
#include "null_driver.h"
#include "pa_time.h"

static unsigned done;
/* --latency: the handshake in flight, and how many completed. */
static bool inflight;
static unsigned ldone;
static uint64_t done_at;

static void
on_qmsa(void *arg, const struct sa_id *in, const struct sa_id *out)
{
	(void)arg;
	(void)in;
	(void)out;
	done++;
	if (inflight) {
		inflight = false;
		ldone++;
		done_at = pa_now_ms();
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "psk", required_argument, NULL, 'k' },
		{ "ike", required_argument, NULL, 'i' },
		{ "esp", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "latency", no_argument, NULL, 'L' },
		{ "transport", no_argument, NULL, 'M' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'a' },
		{ "ca-dn", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct ike_onerule one;
	struct pa_addr local, remote;
	struct driver *drv;
	struct driver_cfg dc;
	struct ike_cfg cfg;
	struct ike *ike;
	struct ike_stats st;
	struct drv_sel pkt;
	const char *psk = NULL, *ikes = "aes128-sha1-modp2048",
	    *esps = "aes128-sha1";
	const char *certf = NULL, *keyf = NULL, *caf = NULL;
	char *cadn = NULL;
	unsigned count = 1000, parallel = 32, port = 500, started = 0;
	unsigned timeout_ms = 10000, lat_fail = 0, recorded = 0;
	bool latency = false, tunnel = true;
	uint64_t *lat = NULL, started_at = 0;
	uint64_t last_trace = 0;
	uint64_t t0, t1, deadline;
	double c0, c1;
	int opt;

	memset(&local, 0, sizeof(local));
	memset(&remote, 0, sizeof(remote));
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': if (pa_addr_parse(optarg, &local) != 0) return 2; break;
		case 'r': if (pa_addr_parse(optarg, &remote) != 0) return 2; break;
		case 'k': psk = optarg; break;
		case 'i': ikes = optarg; break;
		case 'e': esps = optarg; break;
		case 'n': count = (unsigned)atoi(optarg); break;
		case 'p': parallel = (unsigned)atoi(optarg); break;
		case 'P': port = (unsigned)atoi(optarg); break;
		case 'L': latency = true; break;
		case 'M': tunnel = false; break;
		case 'T': timeout_ms = (unsigned)atoi(optarg); break;
		case 'c': certf = optarg; break;
		case 'K': keyf = optarg; break;
		case 'a': caf = optarg; break;
		case 'd': cadn = optarg; break;
		default: return 2;
		}
	}
	if (psk == NULL || local.family == 0 || remote.family == 0 ||
	    ike_onerule_init(&one, "bench", &local, &remote, psk, ikes, esps,
	    0, tunnel) != 0) {
		fprintf(stderr, "usage: ike_bench --local A --remote B --psk S "
		    "[--ike C-H-G] [--esp C-H] [--count N] [--parallel P]\n");
		return 2;
	}
	if (certf != NULL) {
		pa_secret_free(one.auth.psk);
		one.auth.psk = NULL;
		one.auth.kind = POL_AUTH_CERT;
		one.auth.ca_dn = cadn;
	}
	memset(&dc, 0, sizeof(dc));
	if (null_driver_ops.open(&dc, NULL, NULL, &drv) != 0)
		return 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.drv_ops = &null_driver_ops;
	cfg.drv = drv;
	cfg.laddrs[0] = local;
	cfg.nladdrs = 1;
	cfg.port = (uint16_t)port;
	cfg.no_mm_reuse = true;
	cfg.unique_ids = true;
	cfg.cert_file = certf;
	cfg.key_file = keyf;
	cfg.ca_file = caf;
	cfg.on_qmsa = on_qmsa;
	cfg.max_halfopen = 100000;
	cfg.retrans_ms = 2000;
	if (ike_new(&cfg, &ike) != 0 || ike_set_policy(ike, &one.pol, NULL) != 0) {
		perror("ike_new");
		return 1;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = local;
	pkt.src.len = 32;
	pkt.dst.addr = remote;
	pkt.dst.len = 32;
	if (latency) {
		parallel = 1;
		if ((lat = calloc(count, sizeof(*lat))) == NULL)
			return 1;
	}
	t0 = pa_now_ms();
	c0 = cpu_s();
	deadline = t0 + 600000;
	while ((latency ? recorded + lat_fail < count : done < count) &&
	    pa_now_ms() < deadline) {
		struct pollfd pfd[8];
		int fds[8], t;
		size_t n, i;

		ike_stats(ike, &st);
		if (latency) {
			/* One at a time: the current one done, or given up. */
			if (ldone > recorded)
				lat[recorded++] = done_at - started_at;
			else if (inflight &&
			    pa_now_ms() - started_at > timeout_ms) {
				inflight = false;
				lat_fail++;
				ike_free(ike);
				if (ike_new(&cfg, &ike) != 0 ||
				    ike_set_policy(ike, &one.pol, NULL) != 0)
					break;
			}
		}
		while (!latency && started < count &&
		    started - done - st.negotiation_failures < parallel) {
			if (ike_acquire(ike, &pkt, 0, NULL) != 0)
				break;
			started++;
		}
		if (latency && !inflight && recorded + lat_fail < count) {
			if (ike_acquire(ike, &pkt, 0, NULL) != 0)
				break;
			inflight = true;
			started++;
			started_at = pa_now_ms();
		}
		if (latency && recorded + lat_fail >= count)
			break;
		n = ike_fds(ike, fds, 8);
		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		t = ike_next_timeout_ms(ike, pa_now_ms());
		if (t < 0 || t > 100)
			t = 100;
		if (poll(pfd, n, t) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			if ((pfd[i].revents & POLLIN) &&
			    ike_dispatch(ike, pfd[i].fd) != 0)
				break;
		ike_run_timers(ike, pa_now_ms());
		ike_stats(ike, &st);
		if (getenv("IKE_BENCH_TRACE") != NULL &&
		    pa_now_ms() / 5000 != last_trace) {
			last_trace = pa_now_ms() / 5000;
			fprintf(stderr, "started %u done %u failed %llu acquire "
			    "failures %llu retransmits %llu mm %llu\n", started,
			    done, (unsigned long long)st.negotiation_failures,
			    (unsigned long long)st.acquire_failures,
			    (unsigned long long)st.retransmits,
			    (unsigned long long)st.main_modes);
		}
		if (!latency && st.negotiation_failures > count / 10 + 10)
			break;
	}
	if (latency) {
		unsigned k;

		printf("latency_ms=");
		for (k = 0; k < recorded; k++)
			printf("%s%llu", k ? "," : "",
			    (unsigned long long)lat[k]);
		qsort(lat, recorded, sizeof(*lat), cmp_u64);
		printf(" handshakes=%u failed=%u median_ms=%llu max_ms=%llu\n",
		    recorded, lat_fail,
		    recorded ? (unsigned long long)lat[recorded / 2] : 0ULL,
		    recorded ? (unsigned long long)lat[recorded - 1] : 0ULL);
		free(lat);
		ike_free(ike);
		null_driver_ops.close(drv);
		ike_onerule_clear(&one);
		return recorded == count ? 0 : 1;
	}
	t1 = pa_now_ms();
	c1 = cpu_s();
	ike_stats(ike, &st);
	printf("handshakes=%u failures=%llu seconds=%.3f rate=%.1f "
	    "initiator_cpu_ms_per_hs=%.3f retransmits=%llu\n", done,
	    (unsigned long long)st.negotiation_failures, (t1 - t0) / 1000.0,
	    done * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1),
	    done > 0 ? (c1 - c0) * 1000.0 / done : 0.0,
	    (unsigned long long)st.retransmits);
	/* Keep the SAs on the responder: leave without deletes. */
	ike_free(ike);
	null_driver_ops.close(drv);
	ike_onerule_clear(&one);
	return done == count ? 0 : 1;
}
