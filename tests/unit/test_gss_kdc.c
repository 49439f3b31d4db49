/*
 * agent/ike/auth_gss against a real MIT KDC started here with
 * tests/lib/kdc.sh: an initiator and a responder context in one process,
 * tokens carried through GSS token payload bodies as Main Mode would
 * carry them, HASH_I/HASH_R wrapped and checked, and every failure the
 * issue names (wrong keytab, stopped KDC, unknown service principal,
 * principal not allowed) with its event-547 text checked.
 *
 * Principals: HOSTA$ (an AD-style machine account), host/hostb and
 * host/hostc, and host/stale whose key is changed after its keytab was
 * written (a stale keytab). Exit 77 (skip) without the MIT KDC programs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <krb5/krb5.h>
#include <openssl/evp.h>

#include "auth_gss.h"
#include "pa_buf.h"

#define REALM		"EXAMPLE.TEST"
#define NAME_A		"HOSTA$@" REALM
#define NAME_B		"host/hostb.example.test@" REALM
#define NAME_C		"host/hostc.example.test@" REALM
#define NAME_STALE	"host/stale.example.test@" REALM

static struct {
	char	 src[4096];
	char	 dir[64];
	char	 kt_a[256];
	char	 kt_b[256];
	char	 kt_c[256];
	char	 kt_stale[256];
	char	 kt_b_stale[256];	/* hostb's good key + stale's old key */
	bool	 kdc_up;
} fx;

/* Payload bodies in flight (one message at a time). */
static uint8_t	body_buf[IKE_GSS_TOKEN_MAX + 1];

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static struct ike_gss_cred *
cred(const char *principal, const char *keytab)
{
	struct ike_gss_cred_cfg cfg = { keytab, principal, 0, NULL };
	struct ike_gss_cred *c = NULL;
	struct ike_gss_err err;
	int rc;

	rc = ike_gss_cred_new(&cfg, &c, &err);
	if (rc != 0)
		print_error("cred %s: %s\n", principal, err.text);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

/* Carry a token as Main Mode does: payload body out, payload body in. */
static struct pa_bytes
carry(struct pa_bytes tok)
{
	struct wr w;
	struct ike_gss_tok t;
	struct pa_bytes body, none = { NULL, 0 };

	if (tok.len == 0)
		return none;
	wr_init(&w, body_buf, sizeof(body_buf));
	assert_int_equal(ike_gss_tok_encode(&w, IKE_GSS_TOKFMT_VENDOR, 0, tok),
	    0);
	body.p = body_buf;
	body.len = w.len;
	assert_int_equal(ike_gss_tok_decode(body, &t), 0);
	assert_int_equal(t.fmt, IKE_GSS_TOKFMT_VENDOR);
	assert_int_equal(t.token.len, tok.len);
	return t.token;
}

struct pair {
	struct ike_gss_ctx	*i;
	struct ike_gss_ctx	*r;
	struct ike_gss_err	 ei;
	struct ike_gss_err	 er;
	int			 rc_i;
	int			 rc_r;
	unsigned		 msgs;	/* tokens exchanged */
};

static void
pair_free(struct pair *p)
{
	ike_gss_ctx_free(p->i);
	ike_gss_ctx_free(p->r);
	memset(p, 0, sizeof(*p));
}

static void
pair_start(struct pair *p, struct ike_gss_cred *ci, struct ike_gss_cred *cr,
    const char *target, const char *const *allow, size_t nallow)
{
	struct ike_gss_ctx_cfg icfg = { IKE_GSS_INITIATOR, target, false,
	    NULL, 0 };
	struct ike_gss_ctx_cfg rcfg = { IKE_GSS_RESPONDER, NULL, false,
	    allow, nallow };

	memset(p, 0, sizeof(*p));
	assert_int_equal(ike_gss_ctx_new(ci, &icfg, &p->i, &p->ei), 0);
	assert_int_equal(ike_gss_ctx_new(cr, &rcfg, &p->r, &p->er), 0);
}

/*
 * Alternate turns starting with the initiator until both sides are
 * complete or one fails. A side that fails with an error token hands it
 * to the other side (which then fails too, with the Kerberos reason).
 */
static int
pair_run(struct pair *p)
{
	struct pa_bytes msg = { NULL, 0 }, out;
	bool done_i = false, done_r = false, turn_i = true;
	int turns, rc;

	for (turns = 0; turns < 12 && !(done_i && done_r); turns++) {
		struct ike_gss_ctx *c = turn_i ? p->i : p->r;
		struct ike_gss_ctx *o = turn_i ? p->r : p->i;
		struct ike_gss_err *e = turn_i ? &p->ei : &p->er;
		struct ike_gss_err *oe = turn_i ? &p->er : &p->ei;
		int *prc = turn_i ? &p->rc_i : &p->rc_r;
		int *orc = turn_i ? &p->rc_r : &p->rc_i;
		bool *done = turn_i ? &done_i : &done_r;
		bool odone;

		turn_i = !turn_i;
		if (*done) {
			/* A complete side must not be sent more tokens. */
			assert_int_equal(msg.len, 0);
			continue;
		}
		rc = ike_gss_ctx_step(c, msg, &out, done, e);
		if (rc != 0) {
			*prc = rc;
			if (out.len > 0) {
				/* Tell the peer, as a KRB-ERROR would. */
				msg = carry(out);
				*orc = ike_gss_ctx_step(o, msg, &out, &odone,
				    oe);
			}
			return rc;
		}
		msg = carry(out);
		if (msg.len > 0)
			p->msgs++;
	}
	assert_true(done_i && done_r);
	return 0;
}

static void
digest(const char *label, struct pa_bytes tokens, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = 0;

	assert_non_null(md);
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(md, label, strlen(label)), 1);
	assert_int_equal(EVP_DigestUpdate(md, tokens.p, tokens.len), 1);
	assert_int_equal(EVP_DigestFinal_ex(md, out, &len), 1);
	assert_int_equal(len, 32);
	EVP_MD_CTX_free(md);
}

/* HASH_I and HASH_R as Main Mode computes them, both ways. */
static void
check_hashes(struct pair *p)
{
	uint8_t di[32], dr[32], buf[1024];
	struct wr w;
	struct pa_bytes wrapped;
	struct ike_gss_err err;
	struct pa_bytes si = ike_gss_ctx_tokens_sent(p->i);
	struct pa_bytes rr = ike_gss_ctx_tokens_received(p->r);
	struct pa_bytes sr = ike_gss_ctx_tokens_sent(p->r);
	struct pa_bytes ri = ike_gss_ctx_tokens_received(p->i);

	/* Both sides saw the same tokens. */
	assert_true(si.len > 0 && sr.len > 0);
	assert_int_equal(si.len, rr.len);
	assert_memory_equal(si.p, rr.p, si.len);
	assert_int_equal(sr.len, ri.len);
	assert_memory_equal(sr.p, ri.p, sr.len);

	/* HASH_I: I wraps prf(... | GSSi...), R checks its own copy. */
	digest("HASH_I", si, di);
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_hash_wrap(p->i, di, sizeof(di), &w, &err), 0);
	assert_true(w.len > sizeof(di));
	/* Wrapped with confidentiality: the digest is not in clear. */
	assert_null(memmem(buf, w.len, di, sizeof(di)));
	wrapped.p = buf;
	wrapped.len = w.len;
	digest("HASH_I", rr, dr);
	assert_int_equal(ike_gss_hash_verify(p->r, wrapped, dr, sizeof(dr),
	    &err), 0);

	/* HASH_R the other way. */
	digest("HASH_R", sr, dr);
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_hash_wrap(p->r, dr, sizeof(dr), &w, &err), 0);
	wrapped.len = w.len;
	digest("HASH_R", ri, di);
	assert_int_equal(ike_gss_hash_verify(p->i, wrapped, di, sizeof(di),
	    &err), 0);

	/* A hash over other data is refused. */
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_hash_wrap(p->r, dr, sizeof(dr), &w, &err), 0);
	wrapped.len = w.len;
	di[0] ^= 1;
	assert_int_equal(ike_gss_hash_verify(p->i, wrapped, di, sizeof(di),
	    &err), PA_E_VERIFY);
	assert_int_equal(err.kind, IKE_GSS_F_HASH);
	assert_non_null(strstr(err.text, "does not match"));
	di[0] ^= 1;

	/* A tampered wrap token is refused by GSS_Unwrap. */
	wr_init(&w, buf, sizeof(buf));
	assert_int_equal(ike_gss_hash_wrap(p->r, dr, sizeof(dr), &w, &err), 0);
	wrapped.len = w.len;
	buf[w.len - 1] ^= 0x40;
	assert_int_equal(ike_gss_hash_verify(p->i, wrapped, di, sizeof(di),
	    &err), PA_E_VERIFY);
	assert_int_equal(err.kind, IKE_GSS_F_HASH);
	assert_non_null(strstr(err.text, "unwrapping"));
}

static void
test_success_machine_account_to_host(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;
	char id[128];

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	assert_string_equal(ike_gss_cred_name(a), NAME_A);
	assert_string_equal(ike_gss_cred_realm(a), REALM);
	assert_int_equal(ike_gss_cred_generation(a), 1);
	assert_true(ike_gss_cred_expiry(a) > time(NULL));

	pair_start(&p, a, b, NAME_B, NULL, 0);
	assert_null(ike_gss_ctx_peer(p.i));
	assert_int_equal(pair_run(&p), 0);
	/* Kerberos with mutual auth: AP-REQ, AP-REP, one round trip. */
	assert_int_equal(p.msgs, 2);
	assert_string_equal(ike_gss_ctx_peer(p.r), NAME_A);
	assert_string_equal(ike_gss_ctx_local(p.r), NAME_B);
	assert_string_equal(ike_gss_ctx_peer(p.i), NAME_B);
	assert_string_equal(ike_gss_ctx_local(p.i), NAME_A);
	ike_gss_audit_identity(ike_gss_ctx_peer(p.r), id, sizeof(id));
	assert_string_equal(id, "Kerberos based Identity: HOSTA$@EXAMPLE.TEST");
	check_hashes(&p);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

/* The responder's machine-account name is a valid target too. */
static void
test_success_host_to_machine_account(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;
	static const char *const allow[] = { "hosta$@example.test",
	    "host/hostb.example.test@EXAMPLE.TEST" };

	(void)state;
	a = cred("HOSTA$@EXAMPLE.TEST", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	pair_start(&p, b, a, "HOSTA$", allow, 2);
	assert_int_equal(pair_run(&p), 0);
	assert_string_equal(ike_gss_ctx_peer(p.r), NAME_B);
	assert_string_equal(ike_gss_ctx_peer(p.i), NAME_A);
	check_hashes(&p);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

static void
test_hostbased_target(void **state)
{
	struct ike_gss_cred *a, *b;
	struct ike_gss_ctx_cfg icfg = { IKE_GSS_INITIATOR,
	    "host@hostb.example.test", true, NULL, 0 };
	struct ike_gss_ctx_cfg rcfg = { IKE_GSS_RESPONDER, NULL, false,
	    NULL, 0 };
	struct pair p;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	memset(&p, 0, sizeof(p));
	assert_int_equal(ike_gss_ctx_new(a, &icfg, &p.i, &p.ei), 0);
	assert_int_equal(ike_gss_ctx_new(b, &rcfg, &p.r, &p.er), 0);
	assert_int_equal(pair_run(&p), 0);
	assert_string_equal(ike_gss_ctx_peer(p.r), NAME_A);
	/* The service name resolves to the realm's principal. */
	assert_string_equal(ike_gss_ctx_peer(p.i), NAME_B);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

/* Our keytab no longer matches the KDC: no ticket, a precise reason. */
static void
test_wrong_keytab_initiator(void **state)
{
	struct ike_gss_cred_cfg cfg = { fx.kt_stale, "host/stale.example.test",
	    0, NULL };
	struct ike_gss_cred *c = NULL;
	struct ike_gss_err err;

	(void)state;
	assert_int_equal(ike_gss_cred_new(&cfg, &c, &err), PA_E_VERIFY);
	assert_null(c);
	assert_int_equal(err.kind, IKE_GSS_F_WRONG_KEYTAB);
	assert_non_null(strstr(err.text, "Kerberos: wrong keytab"));
	assert_non_null(strstr(err.text, NAME_STALE));
	print_message("547 reason: %s\n", err.text);
}

/* The responder holds an old key for the name the initiator asked for. */
static void
test_wrong_keytab_responder(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b_stale);
	pair_start(&p, a, b, NAME_STALE, NULL, 0);
	assert_int_not_equal(pair_run(&p), 0);
	assert_int_equal(p.rc_r, PA_E_VERIFY);
	assert_int_equal(p.er.kind, IKE_GSS_F_WRONG_KEYTAB);
	assert_non_null(strstr(p.er.text, "Kerberos: wrong keytab"));
	assert_null(ike_gss_ctx_peer(p.r));
	print_message("547 reason (responder): %s\n", p.er.text);
	/* The initiator, given the responder's KRB-ERROR, fails too. */
	assert_int_not_equal(p.rc_i, 0);
	print_message("547 reason (initiator): %s\n", p.ei.text);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

static void
test_no_keytab(void **state)
{
	char path[300];
	struct ike_gss_cred_cfg cfg = { path, "HOSTA$", 0, NULL };
	struct ike_gss_cred *c = NULL;
	struct ike_gss_err err;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/no-such.keytab", fx.dir);
	assert_int_not_equal(ike_gss_cred_new(&cfg, &c, &err), 0);
	assert_null(c);
	assert_int_equal(err.kind, IKE_GSS_F_NO_KEYTAB);
	assert_non_null(strstr(err.text, "no-such.keytab"));

	/* A keytab without our principal's key. */
	cfg.keytab = fx.kt_b;
	assert_int_equal(ike_gss_cred_new(&cfg, &c, &err), PA_E_NOENT);
	assert_int_equal(err.kind, IKE_GSS_F_NO_KEYTAB);
	assert_non_null(strstr(err.text, "has no key for " NAME_A));
}

static void
test_unknown_service_principal(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	pair_start(&p, a, b, "host/nosuch.example.test", NULL, 0);
	assert_int_equal(pair_run(&p), PA_E_VERIFY);
	assert_int_equal(p.rc_i, PA_E_VERIFY);
	assert_int_equal(p.ei.kind, IKE_GSS_F_NO_SERVICE);
	assert_non_null(strstr(p.ei.text,
	    "Kerberos: no service principal for the peer"));
	assert_non_null(strstr(p.ei.text, "not found in Kerberos database"));
	assert_int_equal(p.msgs, 0);
	print_message("547 reason: %s\n", p.ei.text);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

static void
test_principal_not_allowed(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;
	static const char *const only_c[] = { NAME_C };
	static const char *const other_realm[] = { "*@OTHER.TEST" };
	static const char *const any_realm[] = { "*@example.test" };

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);

	pair_start(&p, a, b, NAME_B, only_c, 1);
	assert_int_equal(pair_run(&p), PA_E_PERM);
	assert_int_equal(p.rc_r, PA_E_PERM);
	assert_int_equal(p.er.kind, IKE_GSS_F_NOT_ALLOWED);
	assert_string_equal(p.er.text, "Kerberos: peer principal not allowed "
	    "by the rule: " NAME_A);
	assert_null(ike_gss_ctx_peer(p.r));
	assert_false(ike_gss_ctx_complete(p.r));
	/* The dead context takes no more tokens and makes no hash. */
	{
		uint8_t d[20] = { 0 }, buf[256];
		struct wr w;
		struct ike_gss_err err;

		wr_init(&w, buf, sizeof(buf));
		assert_int_equal(ike_gss_hash_wrap(p.r, d, sizeof(d), &w,
		    &err), PA_E_STATE);
	}
	pair_free(&p);

	pair_start(&p, a, b, NAME_B, other_realm, 1);
	assert_int_equal(pair_run(&p), PA_E_PERM);
	assert_int_equal(p.er.kind, IKE_GSS_F_NOT_ALLOWED);
	pair_free(&p);

	pair_start(&p, a, b, NAME_B, any_realm, 1);
	assert_int_equal(pair_run(&p), 0);
	pair_free(&p);

	/*
	 * The initiator never asks the KDC for a peer the rule would
	 * refuse (the name may come from the peer's GSS Identity).
	 */
	{
		struct ike_gss_ctx_cfg icfg = { IKE_GSS_INITIATOR,
		    "host/evil.other.test@OTHER.TEST", false, NULL, 0 };
		struct ike_gss_ctx *c = NULL;
		struct ike_gss_err err;

		assert_int_equal(ike_gss_ctx_new(a, &icfg, &c, &err),
		    PA_E_PERM);
		assert_null(c);
		assert_int_equal(err.kind, IKE_GSS_F_NOT_ALLOWED);
		assert_string_equal(err.text, "Kerberos: peer principal not "
		    "allowed by the rule: host/evil.other.test@OTHER.TEST");
		icfg.allow = only_c;
		icfg.nallow = 1;
		icfg.target = NAME_B;
		assert_int_equal(ike_gss_ctx_new(a, &icfg, &c, &err),
		    PA_E_PERM);
		icfg.target = "host/hostc.example.test";
		assert_int_equal(ike_gss_ctx_new(a, &icfg, &c, &err), 0);
		ike_gss_ctx_free(c);
	}
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

/* Does the ccache of that name hold tickets? */
static bool
ccache_has_tickets(const char *name)
{
	krb5_context k;
	krb5_ccache cc;
	krb5_principal pr = NULL;
	bool has;

	assert_int_equal(krb5_init_context(&k), 0);
	assert_int_equal(krb5_cc_resolve(k, name, &cc), 0);
	has = krb5_cc_get_principal(k, cc, &pr) == 0;
	if (pr != NULL)
		krb5_free_principal(k, pr);
	krb5_cc_close(k, cc);
	krb5_free_context(k);
	return has;
}

/*
 * Renewal: nothing happens before the refresh time; at it, a new TGT
 * replaces the old one, and a negotiation started before completes.
 */
static void
test_renewal(void **state)
{
	struct ike_gss_cred *a, *b;
	struct ike_gss_err err;
	struct pair p;
	struct pa_bytes none = { NULL, 0 }, out;
	bool done;
	time_t exp1, at;
	char cc1[64], cc2[64];

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	exp1 = ike_gss_cred_expiry(a);
	at = ike_gss_cred_refresh_at(a);
	/* The KDC caps tickets at 10 min: renew a quarter before. */
	assert_true(exp1 - time(NULL) <= 600 && exp1 - time(NULL) > 500);
	assert_true(exp1 - at >= 140 && exp1 - at <= 150);
	(void)snprintf(cc1, sizeof(cc1), "%s", ike_gss_cred_ccache(a));
	assert_true(strncmp(cc1, "MEMORY:", 7) == 0);
	assert_true(ccache_has_tickets(cc1));
	assert_int_equal(ike_gss_cred_refresh(a, time(NULL), false, &err), 0);
	assert_int_equal(ike_gss_cred_generation(a), 1);

	/* Start a negotiation on the old tickets. */
	pair_start(&p, a, b, NAME_B, NULL, 0);
	assert_int_equal(ike_gss_ctx_step(p.i, none, &out, &done, &p.ei), 0);
	assert_false(done);
	assert_true(out.len > 0);
	p.msgs = 1;

	assert_int_equal(ike_gss_cred_refresh(a, at, false, &err), 0);
	assert_int_equal(ike_gss_cred_generation(a), 2);
	assert_true(ike_gss_cred_expiry(a) >= exp1);
	assert_true(ike_gss_cred_refresh_at(a) >= at);

	/* The old tickets still finish what they started. */
	{
		struct pa_bytes msg = carry(out), back;

		assert_int_equal(ike_gss_ctx_step(p.r, msg, &back, &done,
		    &p.er), 0);
		assert_true(done);
		msg = carry(back);
		assert_int_equal(ike_gss_ctx_step(p.i, msg, &out, &done,
		    &p.ei), 0);
		assert_true(done);
		assert_int_equal(out.len, 0);
	}
	check_hashes(&p);
	/* The old ccache lives as long as the context that uses it. */
	assert_string_not_equal(ike_gss_cred_ccache(a), cc1);
	(void)snprintf(cc2, sizeof(cc2), "%s", ike_gss_cred_ccache(a));
	assert_true(ccache_has_tickets(cc1));
	pair_free(&p);
	assert_false(ccache_has_tickets(cc1));
	assert_true(ccache_has_tickets(cc2));

	/* And the new ones work. */
	pair_start(&p, a, b, NAME_B, NULL, 0);
	assert_int_equal(pair_run(&p), 0);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
	/* Freed credentials leave no tickets behind. */
	assert_false(ccache_has_tickets(cc2));
}

/*
 * The machine password changes (new key and kvno written to the keytab,
 * as adcli/sssd do): credentials made before keep working, as acceptor
 * at once and as initiator after a refresh.
 */
static void
test_keytab_rotation(void **state)
{
	struct ike_gss_cred *a, *c;
	struct ike_gss_err err;
	struct pair p;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	c = cred("host/hostc.example.test", fx.kt_c);
	assert_int_equal(run("'%s/tests/lib/kdc.sh' kadmin '%s/kdc' ktadd -k "
	    "'%s' host/hostc.example.test >/dev/null 2>&1", fx.src, fx.dir,
	    fx.kt_c), 0);
	/* Fresh initiator: its ticket for hostc is under the new key. */
	pair_start(&p, a, c, NAME_C, NULL, 0);
	assert_int_equal(pair_run(&p), 0);
	pair_free(&p);
	/* hostc's old TGT still works; a refresh uses the new key. */
	assert_int_equal(ike_gss_cred_refresh(c, 0, true, &err), 0);
	pair_start(&p, c, a, NAME_A, NULL, 0);
	assert_int_equal(pair_run(&p), 0);
	assert_string_equal(ike_gss_ctx_peer(p.r), NAME_C);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(c);
}

/* Bad input to a context: a garbage token, a second first message. */
static void
test_bad_tokens(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;
	struct pa_bytes out, junk, none = { NULL, 0 };
	static const uint8_t garbage[] = { 0x60, 0x03, 0x06, 0x01, 0x00 };
	bool done;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	pair_start(&p, a, b, NAME_B, NULL, 0);
	junk.p = garbage;
	junk.len = sizeof(garbage);
	assert_int_equal(ike_gss_ctx_step(p.r, junk, &out, &done, &p.er),
	    PA_E_VERIFY);
	assert_int_equal(p.er.kind, IKE_GSS_F_TOKEN);
	/* Dead now. */
	assert_int_equal(ike_gss_ctx_step(p.r, junk, &out, &done, &p.er),
	    PA_E_STATE);
	/* A responder needs a token. */
	pair_free(&p);
	pair_start(&p, a, b, NAME_B, NULL, 0);
	assert_int_equal(ike_gss_ctx_step(p.r, none, &out, &done, &p.er),
	    PA_E_FORMAT);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

/*
 * Clock skew: a second KDC with its clock an hour off (libfaketime). The
 * initiator follows the KDC's clock (MIT kdc_timesync), the responder
 * keeps the real one, as when one host's clock is an hour off the
 * domain's. KDC behind: the authenticator is too old ("Clock skew too
 * great"); KDC ahead: the ticket starts in the future ("Ticket not yet
 * valid"). Both are reported as clock skew.
 */
static void
skew_case(const char *offset, const char *lib_text)
{
	char dir[128], conf[160], kt_a[200], kt_b[200];
	struct ike_gss_cred *a, *b;
	struct pair p;
	int rc;

	(void)snprintf(dir, sizeof(dir), "%s/skew", fx.dir);
	rc = run("'%s/tests/lib/kdc.sh' start '%s' -r SKEW.TEST -o %s "
	    "host/a.skew.test host/b.skew.test >/dev/null", fx.src, dir,
	    offset);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
	(void)snprintf(conf, sizeof(conf), "%s/krb5.conf", dir);
	(void)snprintf(kt_a, sizeof(kt_a), "%s/keytabs/host_a.skew.test.keytab",
	    dir);
	(void)snprintf(kt_b, sizeof(kt_b), "%s/keytabs/host_b.skew.test.keytab",
	    dir);
	setenv("KRB5_CONFIG", conf, 1);
	a = cred("host/a.skew.test", kt_a);
	b = cred("host/b.skew.test", kt_b);
	pair_start(&p, a, b, "host/b.skew.test", NULL, 0);
	rc = pair_run(&p);
	(void)run("'%s/tests/lib/kdc.sh' stop '%s'", fx.src, dir);
	(void)snprintf(conf, sizeof(conf), "%s/kdc/krb5.conf", fx.dir);
	setenv("KRB5_CONFIG", conf, 1);
	assert_int_equal(rc, PA_E_VERIFY);
	assert_int_equal(p.rc_r, PA_E_VERIFY);
	assert_int_equal(p.er.kind, IKE_GSS_F_CLOCK_SKEW);
	assert_non_null(strstr(p.er.text, "Kerberos: clock skew too great"));
	assert_non_null(strstr(p.er.text, lib_text));
	print_message("547 reason (KDC %s): %s\n", offset, p.er.text);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

static void
test_clock_skew(void **state)
{
	(void)state;
	skew_case("-1h", "Clock skew too great");
	skew_case("+1h", "Ticket not yet valid");
}

/* ---- off the event loop --------------------------------------------- */

struct acall {
	int			 calls;
	int			 rc;
	struct ike_gss_cred	*cred;
	struct ike_gss_ctx	*ctx;
	uint8_t			 tok[8192];
	size_t			 toklen;
	bool			 complete;
	struct ike_gss_err	 err;
};

static void
on_step(void *arg, struct ike_gss_ctx *ctx, int rc, struct pa_bytes out,
    bool complete, const struct ike_gss_err *err)
{
	struct acall *c = arg;

	c->calls++;
	c->rc = rc;
	c->ctx = ctx;
	assert_true(out.len <= sizeof(c->tok));
	if (out.len > 0)
		memcpy(c->tok, out.p, out.len);
	c->toklen = out.len;
	c->complete = complete;
	c->err = *err;
}

static void
on_cred(void *arg, struct ike_gss_cred *cred, int rc,
    const struct ike_gss_err *err)
{
	struct acall *c = arg;

	c->calls++;
	c->rc = rc;
	c->cred = cred;
	c->err = *err;
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll and dispatch, as the event loop does, until nothing is pending. */
static void
drain(struct ike_gss_async *a, int timeout_ms)
{
	uint64_t end = ms_now() + (uint64_t)timeout_ms;
	struct pollfd pfd = { ike_gss_async_fd(a), POLLIN, 0 };

	while (ike_gss_async_pending(a) > 0) {
		uint64_t now = ms_now();

		assert_true(now < end);
		if (poll(&pfd, 1, (int)(end - now)) > 0)
			(void)ike_gss_async_dispatch(a);
	}
}

static void
test_async(void **state)
{
	struct ike_gss_cred_cfg ca = { fx.kt_a, "HOSTA$", 0, NULL };
	struct ike_gss_cred_cfg cb = { fx.kt_b, "host/hostb.example.test", 0,
	    NULL };
	struct ike_gss_cred_cfg bad = { fx.kt_b, "HOSTA$", 0, NULL };
	struct ike_gss_async *a;
	struct acall r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, s = { 0 };
	struct ike_gss_cred *ci, *cr;
	struct ike_gss_err err;
	struct pa_bytes none = { NULL, 0 }, msg, out;
	struct pair p;
	bool done;

	(void)state;
	assert_int_equal(ike_gss_async_new(0, &a), PA_E_INVAL);
	assert_int_equal(ike_gss_async_new(2, &a), 0);
	assert_int_equal(ike_gss_async_cred_new(a, &ca, on_cred, &r1), 0);
	assert_int_equal(ike_gss_async_cred_new(a, &cb, on_cred, &r2), 0);
	assert_int_equal(ike_gss_async_cred_new(a, &bad, on_cred, &r3), 0);
	drain(a, 10000);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.rc, 0);
	assert_int_equal(r2.rc, 0);
	assert_int_equal(r3.calls, 1);
	assert_null(r3.cred);
	assert_int_equal(r3.err.kind, IKE_GSS_F_NO_KEYTAB);
	ci = r1.cred;
	cr = r2.cred;
	assert_string_equal(ike_gss_cred_name(ci), NAME_A);

	/* The initiator's steps in a worker, the responder's inline. */
	pair_start(&p, ci, cr, NAME_B, NULL, 0);
	assert_int_equal(ike_gss_async_step(a, p.i, none, on_step, &s), 0);
	/* Busy: the loop cannot touch it meanwhile. */
	assert_int_equal(ike_gss_ctx_step(p.i, none, &out, &done, &err),
	    PA_E_STATE);
	assert_int_equal(ike_gss_async_step(a, p.i, none, on_step, &s),
	    PA_E_STATE);
	assert_false(ike_gss_ctx_complete(p.i));
	drain(a, 10000);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.rc, 0);
	assert_ptr_equal(s.ctx, p.i);
	assert_false(s.complete);
	msg.p = s.tok;
	msg.len = s.toklen;
	assert_int_equal(ike_gss_ctx_step(p.r, carry(msg), &out, &done,
	    &p.er), 0);
	assert_true(done);
	msg = carry(out);
	assert_int_equal(ike_gss_async_step(a, p.i, msg, on_step, &s), 0);
	drain(a, 10000);
	assert_int_equal(s.calls, 2);
	assert_true(s.complete);
	assert_int_equal(s.toklen, 0);
	assert_string_equal(ike_gss_ctx_peer(p.i), NAME_B);
	check_hashes(&p);
	pair_free(&p);

	/* Renewal in a worker; the switch happens on dispatch. */
	memset(&r1, 0, sizeof(r1));
	assert_int_equal(ike_gss_async_refresh(a, ci, on_cred, &r1), 0);
	drain(a, 10000);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.rc, 0);
	assert_int_equal(ike_gss_cred_generation(ci), 2);

	/* Freed while in a worker: no callback, freed on dispatch. */
	memset(&s, 0, sizeof(s));
	pair_start(&p, ci, cr, NAME_B, NULL, 0);
	assert_int_equal(ike_gss_async_step(a, p.i, none, on_step, &s), 0);
	ike_gss_ctx_free(p.i);
	p.i = NULL;
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(ike_gss_async_refresh(a, cr, on_cred, &r2), 0);
	ike_gss_cred_free(cr);
	drain(a, 10000);
	assert_int_equal(s.calls, 0);
	assert_int_equal(r2.calls, 0);
	pair_free(&p);

	/* Jobs left at shutdown go back to their owners, no callback. */
	pair_start(&p, ci, ci, NAME_A, NULL, 0);
	assert_int_equal(ike_gss_async_step(a, p.i, none, on_step, &s), 0);
	ike_gss_async_free(a);
	assert_int_equal(s.calls, 0);
	pair_free(&p);
	ike_gss_cred_free(ci);
}

/*
 * A KDC that takes requests and never answers (a hung or black-holed
 * KDC, here a UDP socket nobody reads, with a profile that tries UDP
 * first): the renewal waits out the krb5 timeouts in a worker while the
 * event loop stays free, then reports the KDC unreachable. (A hung TCP
 * listener makes MIT wait about 25 s: the loop must never do that.)
 */
static void
blackhole_renewal(struct ike_gss_cred *cred)
{
	struct ike_gss_async *a;
	struct acall r = { 0 };
	struct sockaddr_in sin;
	struct pollfd pfd;
	char path[128], line[256], conf[160];
	FILE *f, *o;
	unsigned port = 0;
	uint64_t t0, t1;
	int s, one = 1;

	(void)snprintf(path, sizeof(path), "%s/kdc/env", fx.dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		(void)sscanf(line, "export KRB5_KDC_PORT=%u", &port);
	fclose(f);
	assert_true(port > 0 && port < 65536);
	/* The same profile, UDP first, 1 s per try. */
	(void)snprintf(path, sizeof(path), "%s/kdc/krb5.conf", fx.dir);
	(void)snprintf(conf, sizeof(conf), "%s/blackhole.conf", fx.dir);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(o = fopen(conf, "w"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "udp_preference_limit") != NULL)
			continue;
		if (strstr(line, "kdc_timeout") != NULL)
			(void)snprintf(line, sizeof(line), "\tkdc_timeout = 1\n");
		fputs(line, o);
	}
	fclose(f);
	fclose(o);
	setenv("KRB5_CONFIG", conf, 1);
	assert_true((s = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);

	assert_int_equal(ike_gss_async_new(1, &a), 0);
	t0 = ms_now();
	assert_int_equal(ike_gss_async_refresh(a, cred, on_cred, &r), 0);
	t1 = ms_now();
	assert_true(t1 - t0 < 100);
	/* Nothing yet: the worker waits for the KDC, the loop does not. */
	pfd.fd = ike_gss_async_fd(a);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 200), 0);
	drain(a, 30000);
	t1 = ms_now();
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.rc, PA_E_VERIFY);
	assert_int_equal(r.err.kind, IKE_GSS_F_KDC_UNREACHABLE);
	assert_int_equal(ike_gss_cred_generation(cred), 1);
	print_message("hung KDC: renewal failed after %llu ms in a worker: "
	    "%s\n", (unsigned long long)(t1 - t0), r.err.text);
	assert_true(t1 - t0 >= 1000);
	ike_gss_async_free(a);
	close(s);
	(void)snprintf(path, sizeof(path), "%s/kdc/krb5.conf", fx.dir);
	setenv("KRB5_CONFIG", path, 1);
}

/* --hung-kdc (slow: MIT waits ~18 s): renewal against a hung KDC. */
static void
test_hung_kdc(void **state)
{
	struct ike_gss_cred *a;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	assert_int_equal(run("'%s/tests/lib/kdc.sh' stop '%s/kdc'", fx.src,
	    fx.dir), 0);
	fx.kdc_up = false;
	blackhole_renewal(a);
	ike_gss_cred_free(a);
}

/* Last: the KDC goes away. */
static void
test_stopped_kdc(void **state)
{
	struct ike_gss_cred_cfg cfg = { fx.kt_a, "HOSTA$", 0, NULL };
	struct ike_gss_cred *a, *b, *c = NULL;
	struct ike_gss_err err;
	struct pair p;

	(void)state;
	a = cred("HOSTA$", fx.kt_a);
	b = cred("host/hostb.example.test", fx.kt_b);
	assert_int_equal(run("'%s/tests/lib/kdc.sh' stop '%s/kdc'", fx.src,
	    fx.dir), 0);
	fx.kdc_up = false;

	/* No TGT can be had. */
	assert_int_equal(ike_gss_cred_new(&cfg, &c, &err), PA_E_VERIFY);
	assert_null(c);
	assert_int_equal(err.kind, IKE_GSS_F_KDC_UNREACHABLE);
	assert_non_null(strstr(err.text, "Kerberos: KDC unreachable"));
	assert_non_null(strstr(err.text, "Cannot contact any KDC"));
	print_message("547 reason: %s\n", err.text);

	/* A TGT is held, but no service ticket for a new peer. */
	pair_start(&p, a, b, NAME_C, NULL, 0);
	assert_int_equal(pair_run(&p), PA_E_VERIFY);
	assert_int_equal(p.ei.kind, IKE_GSS_F_KDC_UNREACHABLE);
	assert_non_null(strstr(p.ei.text, "Kerberos: KDC unreachable"));
	pair_free(&p);

	/* Renewal fails and keeps the old tickets. */
	assert_int_equal(ike_gss_cred_refresh(a, 0, true, &err), PA_E_VERIFY);
	assert_int_equal(err.kind, IKE_GSS_F_KDC_UNREACHABLE);
	assert_int_equal(ike_gss_cred_generation(a), 1);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

/* ---- --ad: against Samba's AD KDC (tests/integration/kerberos) ------- */

static struct {
	char	realm[64];
	char	dns[64];
	char	a[96], b[96];		/* hosta$@REALM, hostb$@REALM */
} ad;

static void
ad_name(char *buf, size_t cap, const char *fmt, const char *x)
{
	(void)snprintf(buf, cap, fmt, x);
}

static void
test_ad_machine_to_machine(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;

	(void)state;
	a = cred("hosta$", fx.kt_a);
	b = cred("hostb$", fx.kt_b);
	assert_string_equal(ike_gss_cred_name(a), ad.a);
	pair_start(&p, a, b, ad.b, NULL, 0);
	assert_int_equal(pair_run(&p), 0);
	assert_int_equal(p.msgs, 2);
	assert_true(strcasecmp(ike_gss_ctx_peer(p.r), ad.a) == 0);
	assert_true(strcasecmp(ike_gss_ctx_peer(p.i), ad.b) == 0);
	check_hashes(&p);
	/* The AD ticket carries a PAC: the AP-REQ is much larger. */
	print_message("AD: AP-REQ %zu bytes, AP-REP %zu bytes\n",
	    ike_gss_ctx_tokens_sent(p.i).len, ike_gss_ctx_tokens_sent(p.r).len);
	assert_true(ike_gss_ctx_tokens_sent(p.i).len > 1000);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

static void
test_ad_spn_and_hostbased(void **state)
{
	struct ike_gss_cred *a, *b;
	struct ike_gss_ctx_cfg icfg = { IKE_GSS_INITIATOR, NULL, true,
	    NULL, 0 };
	struct ike_gss_ctx_cfg rcfg = { IKE_GSS_RESPONDER, NULL, false,
	    NULL, 0 };
	char spn[128], hb[128];
	struct pair p;

	(void)state;
	a = cred("hosta$", fx.kt_a);
	b = cred("hostb$", fx.kt_b);
	ad_name(spn, sizeof(spn), "host/hostb.%s", ad.dns);
	pair_start(&p, a, b, spn, NULL, 0);
	assert_int_equal(pair_run(&p), 0);
	assert_true(strcasecmp(ike_gss_ctx_peer(p.r), ad.a) == 0);
	check_hashes(&p);
	pair_free(&p);

	ad_name(hb, sizeof(hb), "host@hostb.%s", ad.dns);
	icfg.target = hb;
	memset(&p, 0, sizeof(p));
	assert_int_equal(ike_gss_ctx_new(a, &icfg, &p.i, &p.ei), 0);
	assert_int_equal(ike_gss_ctx_new(b, &rcfg, &p.r, &p.er), 0);
	assert_int_equal(pair_run(&p), 0);
	print_message("AD: host-based target is %s\n", ike_gss_ctx_peer(p.i));
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

/* The machine password changed after the keytab was written. */
static void
test_ad_stale_keytab(void **state)
{
	struct ike_gss_cred_cfg cfg = { fx.kt_c, "hostc$", 0, NULL };
	struct ike_gss_cred *c = NULL;
	struct ike_gss_err err;

	(void)state;
	assert_int_equal(ike_gss_cred_new(&cfg, &c, &err), PA_E_VERIFY);
	assert_null(c);
	print_message("AD 547 reason: %s\n", err.text);
	assert_int_equal(err.kind, IKE_GSS_F_WRONG_KEYTAB);
	assert_non_null(strstr(err.text, "Kerberos: wrong keytab"));
}

static void
test_ad_unknown_spn_and_not_allowed(void **state)
{
	struct ike_gss_cred *a, *b;
	struct pair p;
	char spn[128], only[96];
	const char *allow[1];

	(void)state;
	a = cred("hosta$", fx.kt_a);
	b = cred("hostb$", fx.kt_b);
	ad_name(spn, sizeof(spn), "host/nosuch.%s", ad.dns);
	pair_start(&p, a, b, spn, NULL, 0);
	assert_int_equal(pair_run(&p), PA_E_VERIFY);
	print_message("AD 547 reason: %s\n", p.ei.text);
	assert_int_equal(p.ei.kind, IKE_GSS_F_NO_SERVICE);
	pair_free(&p);

	ad_name(only, sizeof(only), "hostc$@%s", ad.realm);
	allow[0] = only;
	pair_start(&p, a, b, ad.b, allow, 1);
	assert_int_equal(pair_run(&p), PA_E_PERM);
	assert_int_equal(p.er.kind, IKE_GSS_F_NOT_ALLOWED);
	print_message("AD 547 reason: %s\n", p.er.text);
	pair_free(&p);
	ike_gss_cred_free(a);
	ike_gss_cred_free(b);
}

static int
setup_ad(void)
{
	const char *realm = getenv("PA_AD_REALM");
	const char *dns = getenv("PA_AD_DNS");
	const char *kt = getenv("PA_AD_KEYTABS");

	if (realm == NULL || dns == NULL || kt == NULL) {
		fprintf(stderr, "SKIP: --ad needs PA_AD_REALM, PA_AD_DNS, "
		    "PA_AD_KEYTABS (run tests/integration/kerberos/samba_ad.sh)\n");
		return 77;
	}
	(void)snprintf(ad.realm, sizeof(ad.realm), "%s", realm);
	(void)snprintf(ad.dns, sizeof(ad.dns), "%s", dns);
	ad_name(ad.a, sizeof(ad.a), "hosta$@%s", realm);
	ad_name(ad.b, sizeof(ad.b), "hostb$@%s", realm);
	(void)snprintf(fx.kt_a, sizeof(fx.kt_a), "%s/hosta.keytab", kt);
	(void)snprintf(fx.kt_b, sizeof(fx.kt_b), "%s/hostb.keytab", kt);
	(void)snprintf(fx.kt_c, sizeof(fx.kt_c), "%s/hostc.keytab", kt);
	setenv("KRB5CCNAME", "MEMORY:pa-test-unused", 1);
	return 0;
}

static void
keytab_path(char *buf, size_t cap, const char *file)
{
	(void)snprintf(buf, cap, "%s/kdc/keytabs/%s", fx.dir, file);
}

static int
setup_kdc(void)
{
	const char *src = getenv("PA_SOURCE_DIR");
	char conf[256];
	int rc;

	if (src == NULL) {
		fprintf(stderr,
		    "SKIP: PA_SOURCE_DIR not set (run from ctest)\n");
		return 77;
	}
	(void)snprintf(fx.src, sizeof(fx.src), "%s", src);
	(void)snprintf(fx.dir, sizeof(fx.dir), "/tmp/pa-gss-XXXXXX");
	if (mkdtemp(fx.dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = run("'%s/tests/lib/kdc.sh' start '%s/kdc' -r " REALM " -l 10m "
	    "'HOSTA$' host/hostb.example.test host/hostc.example.test "
	    "host/stale.example.test >/dev/null", fx.src, fx.dir);
	if (rc == 77) {
		fprintf(stderr, "SKIP: MIT KDC programs not installed\n");
		return 77;
	}
	if (rc != 0)
		return 1;
	fx.kdc_up = true;
	keytab_path(fx.kt_a, sizeof(fx.kt_a), "HOSTA$.keytab");
	keytab_path(fx.kt_b, sizeof(fx.kt_b), "host_hostb.example.test.keytab");
	keytab_path(fx.kt_c, sizeof(fx.kt_c), "host_hostc.example.test.keytab");
	keytab_path(fx.kt_stale, sizeof(fx.kt_stale),
	    "host_stale.example.test.keytab");
	(void)snprintf(fx.kt_b_stale, sizeof(fx.kt_b_stale),
	    "%s/b-stale.keytab", fx.dir);
	/* The KDC changes stale's key; the keytab keeps the old one. */
	if (run("'%s/tests/lib/kdc.sh' kadmin '%s/kdc' cpw -randkey "
	    "host/stale.example.test >/dev/null 2>&1", fx.src, fx.dir) != 0)
		return 1;
	if (run("printf 'rkt %s\\nrkt %s\\nwkt %s\\nquit\\n' | ktutil "
	    ">/dev/null", fx.kt_b, fx.kt_stale, fx.kt_b_stale) != 0)
		return 1;
	(void)snprintf(conf, sizeof(conf), "%s/kdc/krb5.conf", fx.dir);
	setenv("KRB5_CONFIG", conf, 1);
	/* Never touch the user's tickets. */
	setenv("KRB5CCNAME", "MEMORY:pa-test-unused", 1);
	return 0;
}

static void
teardown_kdc(void)
{
	const char *keep = getenv("PA_TEST_KEEP");

	if (fx.dir[0] == '\0')
		return;
	if (fx.kdc_up)
		(void)run("'%s/tests/lib/kdc.sh' stop '%s/kdc'", fx.src,
		    fx.dir);
	if (keep != NULL && strcmp(keep, "1") == 0)
		fprintf(stderr, "kept %s\n", fx.dir);
	else
		(void)run("rm -rf '%s'", fx.dir);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest slow[] = {
		cmocka_unit_test(test_hung_kdc),
	};
	const struct CMUnitTest ad_tests[] = {
		cmocka_unit_test(test_ad_machine_to_machine),
		cmocka_unit_test(test_ad_spn_and_hostbased),
		cmocka_unit_test(test_ad_stale_keytab),
		cmocka_unit_test(test_ad_unknown_spn_and_not_allowed),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_machine_account_to_host),
		cmocka_unit_test(test_success_host_to_machine_account),
		cmocka_unit_test(test_hostbased_target),
		cmocka_unit_test(test_wrong_keytab_initiator),
		cmocka_unit_test(test_wrong_keytab_responder),
		cmocka_unit_test(test_no_keytab),
		cmocka_unit_test(test_unknown_service_principal),
		cmocka_unit_test(test_principal_not_allowed),
		cmocka_unit_test(test_renewal),
		cmocka_unit_test(test_keytab_rotation),
		cmocka_unit_test(test_async),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_stopped_kdc),	/* keep last */
	};
	int rc;

	if (argc > 1 && strcmp(argv[1], "--ad") == 0) {
		if ((rc = setup_ad()) != 0)
			return rc;
		return cmocka_run_group_tests(ad_tests, NULL, NULL);
	}
	if ((rc = setup_kdc()) != 0) {
		teardown_kdc();
		return rc;
	}
	if (argc > 1 && strcmp(argv[1], "--hung-kdc") == 0)
		rc = cmocka_run_group_tests(slow, NULL, NULL);
	else
		rc = cmocka_run_group_tests(tests, NULL, NULL);
	teardown_kdc();
	return rc;
}
