/*
 * Kerberos IKE authentication cost against a real MIT KDC on loopback
 * (tests/lib/kdc.sh): credentials from the keytab (AS exchange), a full
 * initiator/responder context with a fresh service ticket (TGS + AP-REQ +
 * AP-REP), the same with the service ticket cached, and HASH wrap+unwrap.
 * Usage: bench_gss [--quick]. Exit 77 without the MIT KDC programs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth_gss.h"
#include "pa_buf.h"

static char	src[4096], dir[64];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
sh(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static void
die(const char *what, const struct ike_gss_err *err)
{
	fprintf(stderr, "bench_gss: %s: %s\n", what,
	    err != NULL ? err->text : "failed");
	exit(1);
}

static struct ike_gss_cred *
cred(const char *name, const char *kt)
{
	struct ike_gss_cred_cfg cfg = { kt, name, 0, NULL };
	struct ike_gss_cred *c;
	struct ike_gss_err err;

	if (ike_gss_cred_new(&cfg, &c, &err) != 0)
		die("cred", &err);
	return c;
}

/* One whole exchange plus HASH_I both ways; returns on success only. */
static void
exchange(struct ike_gss_cred *a, struct ike_gss_cred *b)
{
	struct ike_gss_ctx_cfg icfg = { IKE_GSS_INITIATOR,
	    "host/hostb.example.test", false, NULL, 0 };
	struct ike_gss_ctx_cfg rcfg = { IKE_GSS_RESPONDER, NULL, false,
	    NULL, 0 };
	struct ike_gss_ctx *i = NULL, *r = NULL;
	struct ike_gss_err err;
	struct pa_bytes none = { NULL, 0 }, t1, t2, t3, w;
	uint8_t d[32] = { 1 }, buf[512];
	struct wr wr;
	bool di, dr;

	if (ike_gss_ctx_new(a, &icfg, &i, &err) != 0 ||
	    ike_gss_ctx_new(b, &rcfg, &r, &err) != 0 ||
	    ike_gss_ctx_step(i, none, &t1, &di, &err) != 0 ||
	    ike_gss_ctx_step(r, t1, &t2, &dr, &err) != 0 ||
	    ike_gss_ctx_step(i, t2, &t3, &di, &err) != 0 || !di || !dr)
		die("exchange", &err);
	wr_init(&wr, buf, sizeof(buf));
	if (ike_gss_hash_wrap(i, d, sizeof(d), &wr, &err) != 0)
		die("wrap", &err);
	w.p = buf;
	w.len = wr.len;
	if (ike_gss_hash_verify(r, w, d, sizeof(d), &err) != 0)
		die("verify", &err);
	ike_gss_ctx_free(i);
	ike_gss_ctx_free(r);
}

int
main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	int n = quick ? 20 : 300, k, rc;
	char cmd[8192], kta[256], ktb[256], conf[256];
	struct ike_gss_cred *a, *b;
	const char *s = getenv("PA_SOURCE_DIR");
	double t0, t;

	(void)snprintf(src, sizeof(src), "%s", s != NULL ? s : ".");
	(void)snprintf(dir, sizeof(dir), "/tmp/pa-gssb-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	(void)snprintf(cmd, sizeof(cmd), "'%s/tests/lib/kdc.sh' start "
	    "'%s/kdc' 'HOSTA$' host/hostb.example.test >/dev/null", src, dir);
	if ((rc = sh(cmd)) != 0) {
		fprintf(stderr, "bench_gss: %s\n", rc == 77 ?
		    "SKIP: MIT KDC not installed" : "kdc.sh failed");
		return rc == 77 ? 77 : 1;
	}
	(void)snprintf(conf, sizeof(conf), "%s/kdc/krb5.conf", dir);
	setenv("KRB5_CONFIG", conf, 1);
	(void)snprintf(kta, sizeof(kta), "%s/kdc/keytabs/HOSTA$.keytab", dir);
	(void)snprintf(ktb, sizeof(ktb),
	    "%s/kdc/keytabs/host_hostb.example.test.keytab", dir);

	t0 = now_s();
	for (k = 0; k < n; k++)
		ike_gss_cred_free(cred("HOSTA$", kta));
	t = now_s() - t0;
	printf("cred_new (AS exchange from keytab): %.3f ms each (%d)\n",
	    t * 1e3 / n, n);

	b = cred("host/hostb.example.test", ktb);
	t0 = now_s();
	for (k = 0; k < n; k++) {
		a = cred("HOSTA$", kta);
		exchange(a, b);
		ike_gss_cred_free(a);
	}
	t = now_s() - t0;
	printf("cold exchange (AS + TGS + AP-REQ/REP + hash): %.3f ms each\n",
	    t * 1e3 / n);

	a = cred("HOSTA$", kta);
	t0 = now_s();
	for (k = 0; k < n * 5; k++)
		exchange(a, b);
	t = now_s() - t0;
	printf("warm exchange (cached ticket, AP-REQ/REP + hash): %.3f ms "
	    "each, %.0f/s\n", t * 1e3 / (n * 5), (n * 5) / t);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);

	(void)snprintf(cmd, sizeof(cmd), "'%s/tests/lib/kdc.sh' stop '%s/kdc';"
	    " rm -rf '%s'", src, dir, dir);
	(void)sh(cmd);
	return 0;
}
