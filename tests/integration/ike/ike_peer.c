/*
 * ike_peer: run the IKE engine alone, on the null driver, from command
 * line options (the integration tests' stand-in for the daemon). Prints
 * one line per Main Mode / Quick Mode SA as it appears or goes away:
 *
 *   MMSA up peer=10.77.0.2 cipher=3DES hash=SHA1 group=2
 *   QMSA up esp_in=0x00000100 esp_out=0xc2f1a3b4 enc=3DES integ=SHA1
 *        mode=tunnel pfs=0 keys_in=<sha1 of keys> keys_out=<sha1>
 *   QMSA down esp_in=0x00000100
 *
 * SIGTERM: send deletes for everything (ike_shutdown) and exit 0.
 *
 * usage: ike_peer --local A --remote B --psk S [--ike 3des-sha1-modp1024]
 *        [--esp 3des-sha1] [--pfs GROUP] [--tunnel] [--local-ts CIDR
 *        --remote-ts CIDR] [--initiate] [--port N] [--olog] [--quiet]
 *
 * --cert F --key F --ca F [--ca-dn DN [--ca-dn DN2]]: RSA signatures
 * instead of the PSK; with two --ca-dn, two certificate methods in that
 * order, each naming its CA (F then holds both CAs). --crl F
 * --crl-check 0|1|2: revocation (ike_cfg.crl_file, crl_check).
 * --quiet prints nothing per SA (benchmarks: the report walks all SAs).
 * --driver NAME: a driver backend other than null (e.g. uesp, so that a
 * benchmark's RSS includes a real driver's SA state; root, in a netns).
 * With --olog, audit events go to stderr too, one line each:
 *   audit 547: Mode=...; Failure Reason=...
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "ike.h"
#include "ike_onerule.h"
#include "model.h"
#include "null_driver.h"
#include "pa_time.h"

static struct ike_onerule one;
static struct driver *drv;
static const struct driver_ops *dops = &null_driver_ops;
static bool want_olog;

static void
usage(void)
{
	fprintf(stderr, "usage: ike_peer --local A --remote B --psk S "
	    "[--ike C-H-G,..] [--esp C-H,..] [--pfs G] [--tunnel] "
	    "[--local-ts P --remote-ts P] [--initiate] [--port N]\n");
	exit(2);
}

static void
keys_digest(const struct sa_id *id, char *out)
{
	const struct null_sa *s = null_sa_find(drv, id);
	unsigned char md[20];
	unsigned int n;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	strcpy(out, "none");
	if (s == NULL || c == NULL)
		goto out;
	EVP_DigestInit_ex(c, EVP_sha1(), NULL);
	EVP_DigestUpdate(c, s->params.enc_key, s->params.enc_key_len);
	EVP_DigestUpdate(c, s->params.auth_key, s->params.auth_key_len);
	EVP_DigestFinal_ex(c, md, &n);
	for (n = 0; n < 6; n++)
		sprintf(out + 2 * n, "%02x", md[n]);
out:
	EVP_MD_CTX_free(c);
}

struct seen {
	uint32_t	spis[256];
	size_t		n;
	uint32_t	now[256];
	size_t		nnow;
	size_t		mm;
	size_t		mmnow;
};

static void
qm_cb(void *arg, const struct ike_qmsa_info *q)
{
	struct seen *s = arg;
	struct sa_id in, out;
	char kin[16], kout[16];
	size_t i;

	if (s->nnow < 256)
		s->now[s->nnow++] = q->spi_in;
	for (i = 0; i < s->n; i++)
		if (s->spis[i] == q->spi_in)
			return;
	if (s->n < 256)
		s->spis[s->n++] = q->spi_in;
	memset(&in, 0, sizeof(in));
	in.src = q->peer;
	in.dst = q->local;
	in.proto = 50;
	in.spi = q->spi_in;
	out = in;
	out.src = q->local;
	out.dst = q->peer;
	out.spi = q->spi_out;
	keys_digest(&in, kin);
	keys_digest(&out, kout);
	printf("QMSA up esp_in=0x%08x esp_out=0x%08x enc=%s integ=%s mode=%s "
	    "pfs=%u keys_in=%s keys_out=%s\n", q->spi_in, q->spi_out,
	    pol_esp_cipher_name((enum pol_esp_cipher)q->esp_cipher),
	    pol_integ_name((enum pol_integ)q->esp_integ),
	    q->tunnel ? "tunnel" : "transport", q->pfs_group, kin, kout);
	fflush(stdout);
}

static void
mm_cb(void *arg, const struct ike_mmsa_info *m)
{
	struct seen *s = arg;
	char a[PA_ADDRSTRLEN];

	if (!m->established)
		return;
	s->mmnow++;
	if (s->mmnow <= s->mm)
		return;
	s->mm = s->mmnow;
	printf("MMSA up peer=%s cipher=%s hash=%s group=%u\n",
	    pa_addr_str(&m->peer, a, sizeof(a)),
	    pol_mm_cipher_name((enum pol_mm_cipher)m->cipher),
	    pol_integ_name((enum pol_integ)m->hash), m->dh_group);
	fflush(stdout);
}

static void
report(struct ike *ike, struct seen *s)
{
	size_t i, j, k;

	s->nnow = 0;
	s->mmnow = 0;
	ike_foreach_mmsa(ike, mm_cb, s);
	if (s->mmnow < s->mm) {
		printf("MMSA down\n");
		s->mm = s->mmnow;
	}
	ike_foreach_qmsa(ike, qm_cb, s);
	for (i = 0; i < s->n;) {
		bool live = false;

		for (j = 0; j < s->nnow; j++)
			live |= s->now[j] == s->spis[i];
		if (live) {
			i++;
			continue;
		}
		printf("QMSA down esp_in=0x%08x\n", s->spis[i]);
		for (k = i; k + 1 < s->n; k++)
			s->spis[k] = s->spis[k + 1];
		s->n--;
	}
	fflush(stdout);
}

static void
olog(void *arg, const char *line)
{
	(void)arg;
	if (want_olog)
		fprintf(stderr, "oakley: %s\n", line);
}

static void
audit_line(void *arg, enum audit_event ev, const struct audit_field *f,
    size_t n)
{
	size_t i;

	(void)arg;
	fprintf(stderr, "audit %d:", (int)ev);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s %s=%s", i > 0 ? ";" : "", f[i].key,
		    f[i].value);
	fprintf(stderr, "\n");
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
		{ "pfs", required_argument, NULL, 'p' },
		{ "tunnel", no_argument, NULL, 't' },
		{ "local-ts", required_argument, NULL, 'L' },
		{ "remote-ts", required_argument, NULL, 'R' },
		{ "initiate", no_argument, NULL, 'I' },
		{ "port", required_argument, NULL, 'P' },
		{ "olog", no_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'a' },
		{ "ca-dn", required_argument, NULL, 'd' },
		{ "crl", required_argument, NULL, 'C' },
		{ "crl-check", required_argument, NULL, 'X' },
		{ "driver", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	char *ike_s = NULL, *esp_s = NULL, *lts = NULL, *rts = NULL,
	    *psk = NULL, *certf = NULL, *keyf = NULL, *caf = NULL, *cadn = NULL,
	    *cadn2 = NULL, *crlf = NULL;
	unsigned crl_check = 0;
	struct pa_addr local, remote;
	struct ike_cfg cfg;
	struct driver_cfg dc;
	struct ike *ike = NULL;
	struct seen seen;
	bool tunnel = false, initiate = false, quiet = false;
	unsigned pfs = 0, port = 500;
	sigset_t ss;
	int c, sfd;

	memset(&local, 0, sizeof(local));
	memset(&remote, 0, sizeof(remote));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': if (pa_addr_parse(optarg, &local) != 0) usage(); break;
		case 'r': if (pa_addr_parse(optarg, &remote) != 0) usage(); break;
		case 'k': psk = optarg; break;
		case 'i': ike_s = optarg; break;
		case 'e': esp_s = optarg; break;
		case 'p': pfs = (unsigned)atoi(optarg); break;
		case 't': tunnel = true; break;
		case 'L': lts = optarg; break;
		case 'R': rts = optarg; break;
		case 'I': initiate = true; break;
		case 'P': port = (unsigned)atoi(optarg); break;
		case 'o': want_olog = true; break;
		case 'q': quiet = true; break;
		case 'c': certf = optarg; break;
		case 'K': keyf = optarg; break;
		case 'a': caf = optarg; break;
		case 'd':
			if (cadn == NULL)
				cadn = optarg;
			else
				cadn2 = optarg;
			break;
		case 'C': crlf = optarg; break;
		case 'X': crl_check = (unsigned)atoi(optarg); break;
		case 'D':
			if ((dops = drv_lookup(optarg)) == NULL)
				usage();
			break;
		default: usage();
		}
	}
	if (psk == NULL || local.family == 0 || remote.family == 0)
		usage();
	if (ike_onerule_init(&one, "ike_peer rule", &local, &remote, psk,
	    ike_s != NULL ? ike_s : "3des-sha1-modp1024",
	    esp_s != NULL ? esp_s : "3des-sha1", pfs, tunnel) != 0)
		usage();
	if (lts != NULL) {
		one.flt.src.kind = POL_ADDR_SUBNET;
		if (pa_prefix_parse(lts, &one.flt.src.prefix) != 0)
			usage();
	}
	if (rts != NULL) {
		one.flt.dst.kind = POL_ADDR_SUBNET;
		if (pa_prefix_parse(rts, &one.flt.dst.prefix) != 0)
			usage();
	}
	if (certf != NULL) {
		pa_secret_free(one.auth.psk);
		one.auth.psk = NULL;
		one.auth.kind = POL_AUTH_CERT;
		one.auth.ca_dn = cadn;
		if (cadn2 != NULL) {
			/* The engine reads the rule's methods as an array. */
			struct pol_auth *two = calloc(2, sizeof(*two));

			if (two == NULL)
				return 1;
			two[0] = one.auth;
			two[1].kind = POL_AUTH_CERT;
			two[1].ca_dn = cadn2;
			one.rule.auth = two;
			one.rule.nauth = 2;
		}
	}

	memset(&dc, 0, sizeof(dc));
	if (dops->open(&dc, NULL, NULL, &drv) != 0) {
		fprintf(stderr, "cannot open the %s driver\n", dops->name);
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.drv_ops = dops;
	cfg.drv = drv;
	cfg.laddrs[0] = local;
	cfg.nladdrs = 1;
	cfg.port = (uint16_t)port;
	cfg.olog = olog;
	if (want_olog && (cfg.audit = audit_new()) != NULL)
		audit_set_sink(cfg.audit, audit_line, NULL);
	cfg.cert_file = certf;
	cfg.key_file = keyf;
	cfg.ca_file = caf;
	cfg.crl_file = crlf;
	cfg.crl_check = (uint8_t)crl_check;
	if (ike_new(&cfg, &ike) != 0) {
		perror("ike_new");
		return 1;
	}
	if (ike_set_policy(ike, &one.pol, NULL) != 0)
		return 1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	memset(&seen, 0, sizeof(seen));
	printf("READY\n");
	fflush(stdout);
	if (initiate) {
		struct drv_sel pkt;

		memset(&pkt, 0, sizeof(pkt));
		pkt.src.addr = local;
		pkt.src.len = 32;
		pkt.dst.addr = remote;
		pkt.dst.len = 32;
		if (lts != NULL) {
			pkt.src = one.flt.src.prefix;
			pkt.src.addr.a[3] |= 1;
			pkt.src.len = 32;
		}
		if (rts != NULL) {
			pkt.dst = one.flt.dst.prefix;
			pkt.dst.addr.a[3] |= 1;
			pkt.dst.len = 32;
		}
		if (ike_acquire(ike, &pkt, 1, NULL) != 0) {
			fprintf(stderr, "acquire failed\n");
			return 1;
		}
	}
	for (;;) {
		struct pollfd pfd[32 + 1];
		int fds[32], t;
		size_t n, i;

		n = ike_fds(ike, fds, 32);
		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		pfd[n].fd = sfd;
		pfd[n].events = POLLIN;
		t = ike_next_timeout_ms(ike, pa_now_ms());
		if (poll(pfd, n + 1, t) < 0 && errno != EINTR)
			break;
		if (pfd[n].revents & POLLIN) {
			ike_shutdown(ike);
			report(ike, &seen);
			printf("SHUTDOWN\n");
			break;
		}
		for (i = 0; i < n; i++)
			if ((pfd[i].revents & POLLIN) &&
			    ike_dispatch(ike, pfd[i].fd) != 0)
				fprintf(stderr, "dispatch error\n");
		ike_run_timers(ike, pa_now_ms());
		if (!quiet)
			report(ike, &seen);
	}
	fflush(stdout);
	ike_free(ike);
	audit_flush(cfg.audit);
	audit_free(cfg.audit);
	dops->close(drv);
	ike_onerule_clear(&one);
	return 0;
}
