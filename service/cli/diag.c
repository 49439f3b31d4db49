/*
 * ipseccmd diag: a self-test in the spirit of `netdiag /test:ipsec`, one
 * line per check and a verdict. What only the daemon sees (its driver
 * against the kernel, IKE, the policy source, the audit sinks) comes from
 * its "diag" command; the rest is tested here with the daemon's own
 * configuration: the directory bind, the Kerberos keytab and KDC, the
 * clock against the KDC's, the certificate files and, given a peer, an IKE
 * answer from it. No secret is ever printed: keys are only used.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <krb5.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "dir.h"
#include "dir_conn.h"
#include "ipseccmd.h"
#include "lib/dir_setup.h"
#include "pa_addr.h"
#include "pa_secret.h"
#include "probe.h"

#define DIAG_CERT_WARN_DAYS	30
#define DIAG_SKEW_FAIL		300	/* Kerberos' default clockskew */
#define DIAG_SKEW_WARN		60
#define DIAG_PROBE_MS		3000

struct diag {
	json_t	*checks;
	int	 fails, warns;
};

static void
diag_add(struct diag *g, const char *name, const char *result,
    const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (strcmp(result, "fail") == 0)
		g->fails++;
	else if (strcmp(result, "warn") == 0)
		g->warns++;
	json_array_append_new(g->checks, json_pack("{s:s,s:s,s:s}", "name",
	    name, "result", result, "detail", detail));
}

/* ---- the service, through its control socket ---- */

/* What the daemon answered (st: its status, or NULL with rc why not). */
static void
diag_service(const struct cli *c, const struct cli_diag_in *in,
    struct diag *g)
{
	json_t *v;
	size_t i;

	if (in->status == NULL) {
		diag_add(g, "control_socket", "fail", "%s: %s", c->socket,
		    in->rc == CMD_EXIT_NOTRUNNING ? "nobody listens (the "
		    "service is not running)" : in->rc == CMD_EXIT_DENIED ?
		    "access denied (root or the admin group)" : "no answer");
		diag_add(g, "service", "fail", "not running: traffic that the "
		    "policy protects stays blocked (fail-closed) until it runs");
		return;
	}
	diag_add(g, "control_socket", "pass", "%s answers", c->socket);
	v = json_object_get(in->status, "state");
	diag_add(g, "service", json_is_string(v) &&
	    strcmp(json_string_value(v), "RUNNING") == 0 ? "pass" : "warn",
	    "%s, pid %lld, up %llds, driver %s", json_string_value(v),
	    (long long)json_integer_value(json_object_get(in->status, "pid")),
	    (long long)json_integer_value(json_object_get(in->status,
	    "uptime")), json_string_value(json_object_get(in->status,
	    "driver")));
	if (in->checks == NULL) {
		diag_add(g, "daemon_checks", "fail", "the service did not "
		    "answer its diag command");
		return;
	}
	json_array_foreach(json_object_get(in->checks, "checks"), i, v) {
		const char *r = json_string_value(json_object_get(v, "result"));

		diag_add(g, json_string_value(json_object_get(v, "name")),
		    r != NULL ? r : "fail", "%s", json_string_value(
		    json_object_get(v, "detail")));
	}
}

/* ---- the directory: bind as the daemon does, and ask who we are ---- */

static void
diag_directory(const struct svc_config *cfg, struct diag *g)
{
	struct svc_dir_setup ds;
	struct pol_dir_conn conn;
	struct dir_cfg dc;
	struct dir *dh = NULL;
	char srv[SVC_DIR_MAX_URIS][DIR_SRV_URI];
	const char *ptrs[SVC_DIR_MAX_URIS];
	char err[1024], *who = NULL;

	if (cfg->policy_source != 2) {
		diag_add(g, "directory", "skip", "policy_source is not "
		    "directory");
		return;
	}
	memset(&conn, 0, sizeof(conn));
	if (svc_dir_setup(cfg, &ds, err, sizeof(err)) != 0) {
		pa_secret_free(ds.pw);
		diag_add(g, "directory", "fail", "%s", err);
		return;
	}
	if (pol_dir_conn_copy(&ds.cfg, &conn) != 0) {
		pa_secret_free(ds.pw);
		diag_add(g, "directory", "fail", "out of memory");
		return;
	}
	pa_secret_free(ds.pw);
	err[0] = '\0';
	if (pol_dir_conn_now(&conn, &dc, srv, ptrs, err, sizeof(err)) != 0 ||
	    dir_open(&dc, &dh, err, sizeof(err)) != 0)
		diag_add(g, "directory", "fail", "%s", err[0] ? err :
		    "no directory server answered");
	else if (dir_whoami(dh, &who) != 0)
		diag_add(g, "directory", "fail", "%s: bound, but \"Who am I?\" "
		    "failed: %s", dir_uri(dh), dir_error(dh));
	else
		diag_add(g, "directory", "pass", "%s: bound as %s",
		    dir_uri(dh), who);
	free(who);
	dir_close(dh);
	pol_dir_conn_clear(&conn);
}

/* ---- Kerberos: a ticket from the keytab, and the KDC's clock ---- */

struct krb_try {
	const char	*keytab;
	const char	*principal;	/* NULL: the keytab's first */
	const char	*what;		/* "IKE" or "directory bind" */
};

static void
diag_krb_fail(struct diag *g, krb5_context ctx, krb5_error_code e,
    const struct krb_try *t)
{
	const char *m = krb5_get_error_message(ctx, e);

	switch (e) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
	case KRB5_REALM_UNKNOWN:
		diag_add(g, "kdc", "fail", "no KDC answered for the %s "
		    "keytab %s: %s", t->what, t->keytab, m);
		break;
	case KRB5KRB_AP_ERR_SKEW:
		diag_add(g, "kdc", "pass", "the KDC answered");
		diag_add(g, "clock_skew", "fail", "the KDC refused our clock "
		    "(more than its allowed skew, usually 5 min): %s", m);
		break;
	default:
		diag_add(g, "kdc", "pass", "the KDC answered");
		diag_add(g, "keytab", "fail", "%s keytab %s: no ticket: %s",
		    t->what, t->keytab, m);
		break;
	}
	krb5_free_error_message(ctx, m);
}

static void
diag_krb_one(struct diag *g, krb5_context ctx, const struct krb_try *t)
{
	krb5_keytab kt = NULL;
	krb5_principal princ = NULL;
	krb5_creds cr;
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code e;
	char *name = NULL;
	long long skew;

	memset(&cr, 0, sizeof(cr));
	if (access(t->keytab, R_OK) != 0) {
		diag_add(g, "keytab", "fail", "%s keytab %s: %s", t->what,
		    t->keytab, strerror(errno));
		return;
	}
	if ((e = krb5_kt_resolve(ctx, t->keytab, &kt)) != 0)
		goto fail;
	if (t->principal != NULL)
		e = krb5_parse_name(ctx, t->principal, &princ);
	else if ((e = krb5_kt_start_seq_get(ctx, kt, &cur)) == 0) {
		if ((e = krb5_kt_next_entry(ctx, kt, &ent, &cur)) == 0) {
			e = krb5_copy_principal(ctx, ent.principal, &princ);
			krb5_free_keytab_entry_contents(ctx, &ent);
		}
		krb5_kt_end_seq_get(ctx, kt, &cur);
	}
	if (e != 0)
		goto fail;
	if ((e = krb5_get_init_creds_keytab(ctx, &cr, princ, kt, 0, NULL,
	    NULL)) != 0) {
		diag_krb_fail(g, ctx, e, t);
		goto out;
	}
	(void)krb5_unparse_name(ctx, princ, &name);
	diag_add(g, "kdc", "pass", "the KDC of %.*s issued a ticket",
	    (int)princ->realm.length, princ->realm.data);
	diag_add(g, "keytab", "pass", "%s keytab %s: a ticket for %s", t->what,
	    t->keytab, name != NULL ? name : "its principal");
	/* The KDC stamps authtime with its own clock. */
	skew = (long long)cr.times.authtime - (long long)time(NULL);
	diag_add(g, "clock_skew", llabs(skew) > DIAG_SKEW_FAIL ? "fail" :
	    llabs(skew) > DIAG_SKEW_WARN ? "warn" : "pass", "the KDC's clock "
	    "is %+llds from ours (Kerberos allows 300 s)", skew);
	krb5_free_unparsed_name(ctx, name);
	krb5_free_cred_contents(ctx, &cr);
	goto out;
fail:
	diag_add(g, "keytab", "fail", "%s keytab %s: %s", t->what, t->keytab,
	    krb5_get_error_message(ctx, e));
out:
	if (princ != NULL)
		krb5_free_principal(ctx, princ);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
}

static void
diag_kerberos(const struct svc_config *cfg, struct diag *g)
{
	struct krb_try t;
	krb5_context ctx;

	memset(&t, 0, sizeof(t));
	if (cfg->krb_keytab[0] != '\0') {
		t.keytab = cfg->krb_keytab;
		t.principal = cfg->krb_principal[0] ? cfg->krb_principal : NULL;
		t.what = "IKE";
	} else if (cfg->policy_source == 2 && cfg->dir_bind != 1 &&
	    cfg->dir_keytab[0] != '\0') {
		t.keytab = cfg->dir_keytab;
		t.principal = cfg->dir_principal[0] ? cfg->dir_principal :
		    NULL;
		t.what = "directory bind";
	} else {
		diag_add(g, "kerberos", "skip", "no keytab in the "
		    "configuration (kerberos_keytab)");
		return;
	}
	if (cfg->krb_config[0] != '\0')
		setenv("KRB5_CONFIG", cfg->krb_config, 1);
	if (krb5_init_context(&ctx) != 0) {
		diag_add(g, "kdc", "fail", "cannot read the Kerberos "
		    "configuration %s", cfg->krb_config[0] ? cfg->krb_config :
		    "(the system's)");
		return;
	}
	diag_krb_one(g, ctx, &t);
	krb5_free_context(ctx);
}

/* ---- certificate files: validity now, and soon ---- */

static void
diag_cert_time(struct diag *g, const char *name, const char *file,
    X509 *x, int idx)
{
	char subj[256];
	int days = 0, secs = 0;

	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		diag_add(g, name, "fail", "%s #%d %s: not valid yet", file,
		    idx, subj);
		return;
	}
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) ||
	    days < 0 || secs < 0) {
		diag_add(g, name, "fail", "%s #%d %s: expired", file, idx,
		    subj);
		return;
	}
	diag_add(g, name, days < DIAG_CERT_WARN_DAYS ? "warn" : "pass",
	    "%s #%d %s: expires in %d days", file, idx, subj, days);
}

static void
diag_cert_file(struct diag *g, const char *name, const char *file)
{
	X509 *x;
	FILE *f;
	int n = 0;

	if (file[0] == '\0')
		return;
	if ((f = fopen(file, "re")) == NULL) {
		diag_add(g, name, "fail", "%s: %s", file, strerror(errno));
		return;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		diag_cert_time(g, name, file, x, ++n);
		X509_free(x);
	}
	ERR_clear_error();
	fclose(f);
	if (n == 0)
		diag_add(g, name, "fail", "%s: no PEM certificate in it", file);
}

/* Does the key file hold the private key of the certificate? */
static void
diag_key_match(const struct svc_config *cfg, struct diag *g)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	FILE *f;

	if (cfg->cert_file[0] == '\0' || cfg->key_file[0] == '\0')
		return;
	if ((f = fopen(cfg->key_file, "re")) == NULL) {
		diag_add(g, "private_key", errno == EACCES ? "skip" : "fail",
		    "%s: %s", cfg->key_file, strerror(errno));
		return;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if ((f = fopen(cfg->cert_file, "re")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	ERR_clear_error();
	if (k == NULL)
		diag_add(g, "private_key", "fail", "%s: not a PEM private key",
		    cfg->key_file);
	else if (x != NULL)
		diag_add(g, "private_key", X509_check_private_key(x, k) ?
		    "pass" : "fail", "%s %s the certificate's key",
		    cfg->key_file, X509_check_private_key(x, k) ? "holds" :
		    "does not hold");
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
}

static void
diag_certs(const struct svc_config *cfg, struct diag *g)
{
	if (cfg->cert_file[0] == '\0' && cfg->ca_file[0] == '\0') {
		diag_add(g, "certificates", "skip", "no certificate_file or "
		    "ca_file in the configuration");
		return;
	}
	diag_cert_file(g, "certificate", cfg->cert_file);
	diag_key_match(cfg, g);
	diag_cert_file(g, "ca_certificates", cfg->ca_file);
}

/* ---- a peer's IKE service ---- */

static void
diag_peer(const struct svc_config *cfg, const char *peer, struct diag *g)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pa_addr a;
	uint8_t cky[8], out[IKE_PROBE_MAX], in[4096];
	char what[256];
	size_t len;
	ssize_t n;
	struct pollfd pfd;
	int fd, left = DIAG_PROBE_MS;
	struct timespec t0, t1;
	unsigned port = cfg->ike_port != 0 ? cfg->ike_port : 500;

	if (pa_addr_parse(peer, &a) != 0) {
		diag_add(g, "ike_peer", "fail", "peer=%s: not an address",
		    peer);
		return;
	}
	pa_addr_to_sockaddr(&a, (uint16_t)port, &ss, &sl);
	if (RAND_bytes(cky, sizeof(cky)) != 1 ||
	    ike_probe_write(cky, out, sizeof(out), &len) != 0 ||
	    (fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		diag_add(g, "ike_peer", "fail", "cannot send the probe: %s",
		    strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    send(fd, out, len, 0) != (ssize_t)len) {
		diag_add(g, "ike_peer", "fail", "%s port %u: %s", peer,
		    port, strerror(errno));
		close(fd);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (left > 0 && poll(&pfd, 1, left) > 0) {
		n = recv(fd, in, sizeof(in), 0);
		if (n < 0 && errno == ECONNREFUSED) {
			diag_add(g, "ike_peer", "fail", "%s answered ICMP port "
			    "unreachable for UDP %u: no IKE service there",
			    peer, port);
			close(fd);
			return;
		}
		if (n > 0 && ike_probe_answer(in, (size_t)n, cky, what,
		    sizeof(what)) == 1) {
			diag_add(g, "ike_peer", "pass", "%s port %u: %s", peer,
			    port, what);
			close(fd);
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = DIAG_PROBE_MS - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
	close(fd);
	diag_add(g, "ike_peer", "fail", "%s port %u: no IKE answer in %d s "
	    "(no IKE service, or UDP %u blocked on the way)", peer,
	    port, DIAG_PROBE_MS / 1000, port);
}

/* ---- the command ---- */

static void
diag_print(const struct diag *g)
{
	json_t *v;
	size_t i;

	json_array_foreach(g->checks, i, v) {
		const char *r = json_string_value(json_object_get(v, "result"));
		char up[8];
		size_t k;

		for (k = 0; r[k] != '\0' && k < sizeof(up) - 1; k++)
			up[k] = (char)(r[k] >= 'a' && r[k] <= 'z' ? r[k] - 32 :
			    r[k]);
		up[k] = '\0';
		printf("%-16s %-4s  %s\n", json_string_value(json_object_get(v,
		    "name")), up, json_string_value(json_object_get(v,
		    "detail")));
	}
	printf("\n%s: %d failed, %d warnings\n", g->fails > 0 ? "FAILED" :
	    "PASSED", g->fails, g->warns);
}

int
cli_diag(struct cli *c, int argc, char **argv, const struct cli_diag_in *in)
{
	const char *config_error = in->config_error;
	struct diag g = { json_array(), 0, 0 };
	const char *peer = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "peer=", 5) == 0 && argv[i][5] != '\0')
			peer = argv[i] + 5;
		else {
			fprintf(stderr, "usage: ipseccmd diag [peer=ADDRESS]\n");
			json_decref(g.checks);
			return CMD_EXIT_USAGE;
		}
	}
	if (config_error != NULL)
		diag_add(&g, "config", "fail", "%s", config_error);
	else
		diag_add(&g, "config", "pass", "%s is valid",
		    c->config_path != NULL ? c->config_path :
		    SVC_CONFIG_DEFAULT);
	if (config_error == NULL) {
		diag_service(c, in, &g);
		diag_directory(&c->cfg, &g);
		diag_kerberos(&c->cfg, &g);
		diag_certs(&c->cfg, &g);
	}
	if (peer != NULL)
		diag_peer(&c->cfg, peer, &g);
	if (c->json) {
		json_t *o = json_pack("{s:i,s:s,s:i,s:i,s:o}", "version", 1,
		    "verdict", g.fails > 0 ? "failed" : "passed", "failed",
		    g.fails, "warnings", g.warns, "checks", g.checks);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		diag_print(&g);
		json_decref(g.checks);
	}
	return g.fails > 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}
