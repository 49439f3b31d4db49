/*
 * Two IKE engines in one process, on loopback UDP (127.0.0.1 and
 * 127.0.0.2, same port), each over its own null driver: Main Mode and
 * Quick Mode with preshared keys in both roles, and what each side hands
 * its driver must agree (SPIs, algorithms, keys, selectors). Also: wrong
 * PSK, proposal order, tunnel mode with PFS and an AH+ESP bundle, delete
 * propagation, soft-expiry rekey, Aggressive Mode refused, a Main Mode #1
 * flood kept bounded, garbage input. Kerberos (GSS-API) Main Mode against
 * a real MIT KDC started by tests/lib/kdc.sh: both roles, a wrong keytab,
 * a stopped KDC, and "Kerberos, then PSK" falling back.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "auth_gss.h"
#include "ike.h"
#include "ike_engine.h"
#include "ike_krb.h"
#include "isakmp.h"
#include "model.h"
#include "null_driver.h"
#include "pa_time.h"
#include "spd.h"

struct side {
	struct driver		*drv;
	struct ike		*ike;
	struct audit		*audit;
	struct pa_addr		 addr;
	unsigned		 ev[6000];	/* audit events by id */
	/* Policy (borrowed by the engine). */
	struct pol_policy	 pol;
	struct pol_rule		 rule;
	struct pol_auth		 auth;
	struct pol_filterlist	 fl;
	struct pol_filter	 flt;
	struct pol_filteraction	 fa;
	struct pol_qm_offer	 offers[2];
	struct pol_mm_method	 methods[2];
	char			 log[64][160];
	size_t			 nlog;
	struct pol_auth		 auths[2];
	char			 reason[512];	/* last 547's */
	char			 ident[512];	/* last 541's peer identity */
};

static uint16_t port;

static void
sink(void *arg, enum audit_event ev, const struct audit_field *f, size_t n)
{
	struct side *s = arg;
	size_t i;

	if ((unsigned)ev < 6000)
		s->ev[ev]++;
	for (i = 0; i < n; i++) {
		if (strcmp(f[i].key, "Mode") == 0 &&
		    strstr(f[i].value, "Main Mode") == NULL)
			break;		/* only Main Mode's 541 and 547 */
		if (ev == AUDIT_IKE_NEG_FAILED &&
		    strcmp(f[i].key, "Failure Reason") == 0)
			snprintf(s->reason, sizeof(s->reason), "%s",
			    f[i].value);
		if (ev == AUDIT_IKE_SA_ESTABLISHED &&
		    strcmp(f[i].key, "Peer Identity") == 0)
			snprintf(s->ident, sizeof(s->ident), "%s", f[i].value);
	}
	/* No field may carry key material: a crude check for long hex. */
	for (i = 0; i < n; i++)
		assert_null(strstr(f[i].value, "secret-psk"));
}

static void
olog(void *arg, const char *line)
{
	struct side *s = arg;

	assert_null(strstr(line, "secret-psk"));
	if (s->nlog < 64)
		snprintf(s->log[s->nlog++], sizeof(s->log[0]), "%s", line);
}

static void
setup_policy(struct side *s, const struct pa_addr *me,
    const struct pa_addr *peer, const char *psk)
{
	memset(&s->pol, 0, sizeof(s->pol));
	s->methods[0] = (struct pol_mm_method){ POL_MM_3DES, POL_INTEG_SHA1,
	    POL_DH_MODP1024, 0, 0, 0 };
	s->methods[1] = (struct pol_mm_method){ POL_MM_AES128,
	    POL_INTEG_SHA256, POL_DH_MODP2048, 0, 0, 0 };
	s->pol.isakmp.methods = s->methods;
	s->pol.isakmp.nmethods = 2;
	s->pol.isakmp.mm_life_sec = 28800;
	s->offers[0] = (struct pol_qm_offer){ false, POL_INTEG_NONE, true,
	    POL_ESP_3DES, POL_INTEG_SHA1, 3600, 100000, false, 0 };
	s->offers[1] = (struct pol_qm_offer){ false, POL_INTEG_NONE, true,
	    POL_ESP_AES128, POL_INTEG_SHA256, 3600, 100000, false, 0 };
	memset(&s->fa, 0, sizeof(s->fa));
	s->fa.name = (char *)(uintptr_t)"Require Security";
	s->fa.action = POL_ACT_NEGOTIATE;
	s->fa.offers = s->offers;
	s->fa.noffers = 2;
	memset(&s->flt, 0, sizeof(s->flt));
	s->flt.src.kind = POL_ADDR_HOST;
	s->flt.src.prefix.addr = *me;
	s->flt.src.prefix.len = 32;
	s->flt.dst.kind = POL_ADDR_HOST;
	s->flt.dst.prefix.addr = *peer;
	s->flt.dst.prefix.len = 32;
	s->flt.mirrored = true;
	memset(&s->fl, 0, sizeof(s->fl));
	s->fl.filters = &s->flt;
	s->fl.nfilters = 1;
	memset(&s->auth, 0, sizeof(s->auth));
	s->auth.kind = POL_AUTH_PSK;
	s->auth.psk = pa_secret_new(psk, strlen(psk));
	memset(&s->rule, 0, sizeof(s->rule));
	s->rule.name = (char *)(uintptr_t)"peer rule";
	s->rule.auth = &s->auth;
	s->rule.nauth = 1;
	s->rule.active = true;
	s->rule.filterlist = &s->fl;
	s->rule.filteraction = &s->fa;
	s->pol.rules = &s->rule;
	s->pol.nrules = 1;
	s->pol.name = (char *)(uintptr_t)"test";
}

static void
on_expire(void *arg, const struct sa_id *id, uint64_t cookie, bool hard)
{
	struct side *s = arg;

	ike_expire(s->ike, id, cookie, hard);
}

static const struct driver_events drv_ev = { .expire = on_expire };

static const char *cert_file, *key_file, *ca_file;
static const char *krb_keytab, *krb_principal, *krb_ccache;
static uint32_t dpd_ms;
static uint32_t dos_halfopen;
static uint32_t soft_sa_ms;


/* The driver the next side_open() gives its engine (test_gcm_no_driver). */
static const struct driver_ops *side_ops = &null_driver_ops;

static void
side_open(struct side *s, const char *addr, const char *peer, const char *psk,
    uint32_t halfopen)
{
	struct ike_cfg cfg;
	struct driver_cfg dc;
	struct pa_addr p;

	memset(s, 0, sizeof(*s));
	memset(&dc, 0, sizeof(dc));
	assert_int_equal(pa_addr_parse(addr, &s->addr), 0);
	assert_int_equal(pa_addr_parse(peer, &p), 0);
	assert_int_equal(null_driver_ops.open(&dc, &drv_ev, s, &s->drv), 0);
	s->audit = audit_new();
	audit_set_sink(s->audit, sink, s);
	memset(&cfg, 0, sizeof(cfg));
	cfg.audit = s->audit;
	cfg.drv_ops = side_ops;
	cfg.drv = s->drv;
	cfg.laddrs[0] = s->addr;
	cfg.nladdrs = 1;
	cfg.port = port;
	cfg.natt_port = (uint16_t)(port + 1);
	cfg.olog = olog;
	cfg.olog_arg = s;
	cfg.retrans_ms = 200;
	cfg.max_halfopen = halfopen;
	cfg.dpd_ms = dpd_ms;
	cfg.dos_halfopen = dos_halfopen;
	cfg.soft_sa_ms = soft_sa_ms;
	cfg.cert_file = cert_file;
	cfg.key_file = key_file;
	cfg.ca_file = ca_file;
	cfg.krb_keytab = krb_keytab;
	cfg.krb_principal = krb_principal;
	cfg.krb_ccache = krb_ccache;
	assert_int_equal(ike_new(&cfg, &s->ike), 0);
	/* Give the two drivers different SPI ranges. */
	if (strcmp(addr, "127.0.0.2") == 0) {
		struct sa_id id;
		uint32_t spi;
		int i;

		memset(&id, 0, sizeof(id));
		for (i = 0; i < 64; i++)
			assert_int_equal(null_driver_ops.spi_alloc(s->drv, &id,
			    &spi), 0);
	}
	setup_policy(s, &s->addr, &p, psk);
	assert_int_equal(ike_set_policy(s->ike, &s->pol, NULL), 0);
}

static void
side_close(struct side *s)
{
	ike_krb_free(s->ike);
	ike_free(s->ike);
	null_driver_ops.close(s->drv);
	audit_free(s->audit);
	pa_secret_free(s->auth.psk);
}

/* Run both engines until done(a, b) or timeout; returns done's value. */
static bool
pump(struct side *a, struct side *b, bool (*done)(struct side *, struct side *),
    unsigned ms)
{
	uint64_t end = pa_now_ms() + ms;
	struct side *s[2] = { a, b };

	while (!done(a, b)) {
		struct pollfd pfd[8];
		int fds[4], owner[8], t, ta, tb;
		size_t n = 0, k, i, j;
		uint64_t now = pa_now_ms();

		if (now >= end)
			return false;
		for (i = 0; i < 2; i++) {
			k = ike_fds(s[i]->ike, fds, 3);
			/* The Kerberos workers' fd, unless ike_fds has it. */
			if (ike_krb_fd(s[i]->ike) >= 0 &&
			    (k == 0 || fds[k - 1] != ike_krb_fd(s[i]->ike)))
				fds[k++] = ike_krb_fd(s[i]->ike);
			for (j = 0; j < k; j++) {
				pfd[n].fd = fds[j];
				pfd[n].events = POLLIN;
				owner[n++] = (int)i;
			}
		}
		ta = ike_next_timeout_ms(a->ike, now);
		tb = ike_next_timeout_ms(b->ike, now);
		t = (int)(end - now);
		if (ta >= 0 && ta < t)
			t = ta;
		if (tb >= 0 && tb < t)
			t = tb;
		if (t > 50)
			t = 50;
		if (poll(pfd, n, t) < 0 && errno != EINTR)
			return false;
		for (i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (pfd[i].fd == ike_krb_fd(s[owner[i]]->ike))
				ike_krb_dispatch(s[owner[i]]->ike);
			else
				assert_int_equal(ike_dispatch(s[owner[i]]->ike,
				    pfd[i].fd), 0);
		}
		ike_run_timers(a->ike, pa_now_ms());
		ike_run_timers(b->ike, pa_now_ms());
	}
	return true;
}

static bool
both_qm(struct side *a, struct side *b)
{
	struct ike_stats sa, sb;

	ike_stats(a->ike, &sa);
	ike_stats(b->ike, &sb);
	return sa.quick_modes >= 1 && sb.quick_modes >= 1;
}

static bool
both_two_qm(struct side *a, struct side *b)
{
	struct ike_stats sa, sb;

	ike_stats(a->ike, &sa);
	ike_stats(b->ike, &sb);
	return sa.quick_modes >= 2 && sb.quick_modes >= 2;
}

static bool
auth_failed(struct side *a, struct side *b)
{
	struct ike_stats sa, sb;

	ike_stats(a->ike, &sa);
	ike_stats(b->ike, &sb);
	return sb.auth_failures >= 1 && sa.negotiation_failures >= 1;
}

static bool
b_has_no_sas(struct side *a, struct side *b)
{
	(void)a;
	return null_sa_count(b->drv) == 0;
}

static bool
b_failed(struct side *a, struct side *b)
{
	struct ike_stats sb;

	(void)a;
	ike_stats(b->ike, &sb);
	return sb.negotiation_failures >= 1;
}

/* An acquire for traffic from a to the address peer: ike_acquire's rc. */
static int
acquire_to(struct side *a, const char *peer)
{
	struct drv_sel pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = a->addr;
	pkt.src.len = 32;
	assert_int_equal(pa_addr_parse(peer, &pkt.dst.addr), 0);
	pkt.dst.len = 32;
	return ike_acquire(a->ike, &pkt, 0, NULL);
}

static void
acquire(struct side *a, struct side *b)
{
	struct drv_sel pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = a->addr;
	pkt.src.len = 32;
	pkt.dst.addr = b->addr;
	pkt.dst.len = 32;
	assert_int_equal(ike_acquire(a->ike, &pkt, 7, NULL), 0);
}

/* The initiator's outbound SA is the responder's inbound one, same keys. */
static void
check_pair(struct side *a, struct side *b, uint8_t proto)
{
	size_t i, j, matched = 0;

	for (i = 0; i < null_sa_count(a->drv); i++) {
		const struct null_sa *x = null_sa_get(a->drv, i);

		if (x->id.proto != proto)
			continue;
		for (j = 0; j < null_sa_count(b->drv); j++) {
			const struct null_sa *y = null_sa_get(b->drv, j);

			if (y->id.proto != proto || y->id.spi != x->id.spi ||
			    !pa_addr_eq(&x->id.src, &y->id.src))
				continue;
			assert_true(pa_addr_eq(&x->id.src, &y->id.src));
			assert_true(pa_addr_eq(&x->id.dst, &y->id.dst));
			assert_true(x->params.inbound != y->params.inbound);
			assert_int_equal(x->params.enc, y->params.enc);
			assert_int_equal(x->params.auth, y->params.auth);
			assert_int_equal(x->params.enc_key_len,
			    y->params.enc_key_len);
			assert_int_equal(x->params.auth_key_len,
			    y->params.auth_key_len);
			assert_memory_equal(x->params.enc_key,
			    y->params.enc_key, x->params.enc_key_len);
			assert_memory_equal(x->params.auth_key,
			    y->params.auth_key, x->params.auth_key_len);
			assert_int_equal(x->params.mode, y->params.mode);
			assert_true(pa_addr_eq(&x->params.sel.src.addr,
			    &y->params.sel.src.addr));
			matched++;
		}
	}
	assert_int_equal(matched, 2);
}

/* What s's driver decides for a TCP packet from src to dst. */
static const struct null_policy *
winner(struct side *s, enum drv_dir dir, const struct pa_addr *src,
    const struct pa_addr *dst)
{
	struct drv_sel pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = *src;
	pkt.src.len = 32;
	pkt.dst.addr = *dst;
	pkt.dst.len = 32;
	pkt.proto = 6;
	pkt.sport = 40000;
	pkt.dport = 80;
	return null_policy_winner(s->drv, dir, &pkt);
}

/* An outbound SA of side's driver (the one an expiry is injected into). */
static const struct null_sa *
outbound_sa(struct side *side)
{
	const struct null_sa *s = NULL;
	size_t i;

	for (i = 0; i < null_sa_count(side->drv); i++) {
		s = null_sa_get(side->drv, i);
		if (!s->params.inbound)
			break;
	}
	assert_non_null(s);
	return s;
}

/*
 * s's driver sends its traffic to peer through its SAs, and takes
 * peer's through them (and, with inpass, in clear too: an SA the
 * default response rule answered): an SA entry both ways with exactly
 * the negotiated bundle and the reqid every SA of s carries.
 */
static void
check_entries(struct side *s, struct side *peer, bool ah, bool esp,
    bool inpass)
{
	const struct null_policy *o, *i;
	size_t k;

	o = winner(s, DRV_DIR_OUT, &s->addr, &peer->addr);
	i = winner(s, DRV_DIR_IN, &peer->addr, &s->addr);
	assert_non_null(o);
	assert_non_null(i);
	assert_int_equal(o->params.action, DRV_ACT_PROTECT);
	assert_int_equal(i->params.action, DRV_ACT_PROTECT);
	assert_int_equal(o->params.want_ah, ah);
	assert_int_equal(o->params.want_esp, esp);
	assert_int_equal(i->params.want_ah, ah);
	assert_int_equal(i->params.want_esp, esp);
	assert_int_equal(i->params.inpass, inpass);
	assert_false(o->params.inpass);
	assert_true(null_sa_count(s->drv) > 0);
	for (k = 0; k < null_sa_count(s->drv); k++) {
		const struct null_sa *x = null_sa_get(s->drv, k);

		assert_int_equal(x->params.reqid, o->params.reqid);
		assert_int_equal(x->id.proto, esp ? DRV_PROTO_ESP :
		    DRV_PROTO_AH);
	}
	assert_int_equal(i->params.reqid, o->params.reqid);
}

/*
 * Offers are alternatives (ESP, or else AH): Quick Mode chooses ESP, and
 * both sides' drivers enforce ESP alone, in both directions, through SA
 * entries with the SAs' reqid; a responder under the default response
 * rule (no filter of its own) secures its replies the same way. A rekey
 * shares its flow's entry; the entry goes with the flow's last SA.
 */
static void
test_sa_entries(void **state)
{
	struct side a, b;
	const struct null_sa *s = NULL;
	size_t npol;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
		side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
		a.offers[1] = b.offers[1] = (struct pol_qm_offer){ true,
		    POL_INTEG_SHA1, false, POL_ESP_NONE, POL_INTEG_NONE, 3600,
		    100000, false, 0 };
		if (round == 1) {
			/* B: Windows' "Client (Respond Only)". */
			b.rule.filterlist = NULL;
			b.rule.default_response = true;
			b.pol.activate_default_rule = true;
		}
		acquire(&a, &b);
		assert_true(pump(&a, &b, both_qm, 5000));
		check_entries(&a, &b, false, true, false);
		/* B answered under its default response rule. */
		check_entries(&b, &a, false, true, round == 1);
		/* A rekey: new SAs of the same reqid, the same entry. */
		npol = null_policy_count(a.drv);
		s = outbound_sa(&a);
		assert_int_equal(null_inject_expire(a.drv, &s->id, false), 0);
		assert_int_equal(null_driver_ops.dispatch(a.drv), 0);
		assert_true(pump(&a, &b, both_two_qm, 5000));
		assert_int_equal(null_sa_count(a.drv), 4);
		assert_int_equal(null_policy_count(a.drv), npol);
		check_entries(&a, &b, false, true, false);
		check_entries(&b, &a, false, true, round == 1);
		/* Gone with the last SA of the flow, on both sides. */
		ike_shutdown(a.ike);
		assert_int_equal(null_policy_count(a.drv), 0);
		assert_true(pump(&a, &b, b_has_no_sas, 3000));
		assert_null(winner(&b, DRV_DIR_OUT, &b.addr, &a.addr));
		assert_null(winner(&b, DRV_DIR_IN, &a.addr, &b.addr));
		side_close(&a);
		side_close(&b);
	}
}

/*
 * A hard expiry on our side takes the pair away on the peer's side too
 * (a Delete for our inbound SPI): the peer stops sending into an SA we
 * no longer have (on xfrm it would until its own half died).
 */
static void
test_hard_expiry_tells_peer(void **state)
{
	struct side a, b;
	const struct null_sa *s;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	assert_true(null_sa_count(b.drv) > 0);
	s = outbound_sa(&a);
	assert_int_equal(null_inject_expire(a.drv, &s->id, true), 0);
	assert_int_equal(null_driver_ops.dispatch(a.drv), 0);
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_true(pump(&a, &b, b_has_no_sas, 3000));
	side_close(&a);
	side_close(&b);
}

/* What `show qmsas` / `show mmsas` read (ike_foreach_qmsa/mmsa). */
struct sa_seen {
	struct ike_qmsa_info	qm;
	struct ike_mmsa_info	mm;
	unsigned		nqm, nmm;
};

static void
seen_qm(void *arg, const struct ike_qmsa_info *in)
{
	struct sa_seen *s = arg;

	s->qm = *in;
	s->nqm++;
}

static void
seen_mm(void *arg, const struct ike_mmsa_info *in)
{
	struct sa_seen *s = arg;

	s->mm = *in;
	s->nmm++;
}

/*
 * The SA info names the driver's SAs (the sa_id agent_qmsa_stats builds
 * finds the inbound and the outbound SA, with their traffic), carries the
 * soft lifetime given to the driver (initiator 90%, responder 95%), and a
 * Main Mode SA's seconds to expiry.
 */
static void
test_sa_info(void **state)
{
	struct side a, b;
	struct side *sides[2] = { &a, &b };
	struct sa_seen seen;
	struct sa_id id;
	struct sa_stats st;
	const struct null_sa *sa;
	size_t i;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	for (i = 0; i < 2; i++) {
		memset(&seen, 0, sizeof(seen));
		ike_foreach_qmsa(sides[i]->ike, seen_qm, &seen);
		ike_foreach_mmsa(sides[i]->ike, seen_mm, &seen);
		assert_int_equal(seen.nqm, 1);
		assert_int_equal(seen.nmm, 1);
		assert_int_equal(seen.qm.soft_sec, i == 0 ? 3240 : 3420);
		assert_true(seen.mm.expires_in > 0);
		assert_true(seen.mm.expires_in <= seen.mm.life_sec);
		memset(&id, 0, sizeof(id));
		id.src = seen.qm.peer;
		id.dst = seen.qm.local;
		id.proto = DRV_PROTO_ESP;
		id.spi = seen.qm.spi_in;
		assert_non_null(sa = null_sa_find(sides[i]->drv, &id));
		assert_true(sa->params.inbound);
		assert_int_equal(sa->params.life.soft_sec, seen.qm.soft_sec);
		assert_int_equal(null_sa_traffic(sides[i]->drv, &id, 840, 10), 0);
		assert_int_equal(null_driver_ops.sa_query(sides[i]->drv, &id,
		    &st), 0);
		assert_int_equal(st.bytes, 840);
		assert_int_equal(st.packets, 10);
		id.src = seen.qm.local;
		id.dst = seen.qm.peer;
		id.spi = seen.qm.spi_out;
		assert_non_null(sa = null_sa_find(sides[i]->drv, &id));
		assert_false(sa->params.inbound);
	}
	side_close(&a);
	side_close(&b);
}

static void
test_psk_transport(void **state)
{
	struct side a, b;
	const struct null_sa *s0;
	struct ike_stats st;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	assert_int_equal(null_sa_count(a.drv), 2);
	assert_int_equal(null_sa_count(b.drv), 2);
	check_pair(&a, &b, DRV_PROTO_ESP);
	/* Inbound first, with the first offer (3DES/SHA1), transport. */
	s0 = null_sa_get(a.drv, 0);
	assert_true(s0->params.inbound);
	assert_int_equal(s0->params.enc, DRV_ENC_3DES_CBC);
	assert_int_equal(s0->params.auth, DRV_AUTH_HMAC_SHA1_96);
	assert_int_equal(s0->params.enc_key_len, 24);
	assert_int_equal(s0->params.mode, DRV_MODE_TRANSPORT);
	assert_int_equal(s0->params.life.hard_sec, 3600);
	assert_int_equal(s0->params.life.hard_bytes, 100000ULL * 1024);
	assert_int_equal(s0->params.reqid, 7);
	assert_true(null_sa_get(b.drv, 0)->params.inbound);
	assert_int_equal(a.ev[AUDIT_IKE_SA_ESTABLISHED], 2);	/* MM + QM */
	assert_int_equal(b.ev[AUDIT_IKE_SA_ESTABLISHED], 2);
	ike_stats(a.ike, &st);
	assert_int_equal(st.main_modes, 1);
	assert_int_equal(st.active_mmsas, 1);
	assert_int_equal(st.active_qmsas, 1);
	assert_int_equal(st.key_additions, 2);
	assert_int_equal(st.active_acquire, 0);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 0);
	/* A second acquire reuses the Main Mode SA. */
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_two_qm, 5000));
	ike_stats(a.ike, &st);
	assert_int_equal(st.main_modes, 1);
	assert_int_equal(null_sa_count(b.drv), 4);
	/* Shutdown: deletes reach the peer, which drops its SAs. */
	ike_shutdown(a.ike);
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_true(pump(&a, &b, b_has_no_sas, 3000));
	assert_int_equal(b.ev[AUDIT_IKE_QM_SA_ENDED], 2);
	assert_int_equal(b.ev[AUDIT_IKE_MM_SA_ENDED], 1);
	side_close(&a);
	side_close(&b);
}

static void
test_order_tunnel_pfs_bundle(void **state)
{
	struct side a, b;
	const struct null_sa *s;
	size_t i, ah = 0, esp = 0;
	struct ike_stats st;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	/* B prefers AES128/SHA256/MODP-2048: its order wins as responder. */
	{
		struct pol_mm_method t = b.methods[0];

		b.methods[0] = b.methods[1];
		b.methods[1] = t;
	}
	/* Tunnel mode between the two, PFS, AH[SHA1]+ESP[AES256,SHA256]. */
	a.rule.tunnel = b.addr;
	b.rule.tunnel = a.addr;
	a.offers[0] = (struct pol_qm_offer){ true, POL_INTEG_SHA1, true,
	    POL_ESP_AES256, POL_INTEG_SHA256, 600, 0, true, 0 };
	b.offers[1] = a.offers[0];
	b.offers[1].life_sec = 300;
	a.fa.pfs_group = POL_DH_MODP2048;
	b.fa.pfs_group = POL_DH_MODP2048;
	a.flt.src.kind = POL_ADDR_SUBNET;
	assert_int_equal(pa_prefix_parse("10.1.0.0/16", &a.flt.src.prefix), 0);
	a.flt.dst.kind = POL_ADDR_SUBNET;
	assert_int_equal(pa_prefix_parse("10.2.0.0/16", &a.flt.dst.prefix), 0);
	b.flt.src = a.flt.dst;
	b.flt.dst = a.flt.src;
	{
		struct drv_sel pkt;

		memset(&pkt, 0, sizeof(pkt));
		assert_int_equal(pa_prefix_parse("10.1.2.3/32", &pkt.src), 0);
		assert_int_equal(pa_prefix_parse("10.2.3.4/32", &pkt.dst), 0);
		assert_int_equal(ike_acquire(a.ike, &pkt, 0, NULL), 0);
	}
	assert_true(pump(&a, &b, both_qm, 8000));
	assert_int_equal(null_sa_count(a.drv), 4);
	assert_int_equal(null_sa_count(b.drv), 4);
	check_pair(&a, &b, DRV_PROTO_ESP);
	check_pair(&a, &b, DRV_PROTO_AH);
	for (i = 0; i < 4; i++) {
		s = null_sa_get(b.drv, i);
		assert_int_equal(s->params.mode, DRV_MODE_TUNNEL);
		assert_int_equal(s->params.inbound, i < 2);
		if (s->id.proto == DRV_PROTO_AH) {
			ah++;
			assert_int_equal(s->params.auth, DRV_AUTH_HMAC_SHA1_96);
		} else {
			esp++;
			assert_int_equal(s->params.enc, DRV_ENC_AES_CBC);
			assert_int_equal(s->params.enc_key_len, 32);
			assert_int_equal(s->params.auth,
			    DRV_AUTH_HMAC_SHA256_128);
			assert_int_equal(s->params.auth_key_len, 32);
			assert_int_equal(s->params.sel.src.len, 16);
		}
		assert_int_equal(s->params.life.hard_sec, 300);
		assert_int_equal(null_sa_get(a.drv, i)->params.life.hard_sec,
		    300);
	}
	assert_int_equal(ah, 2);
	assert_int_equal(esp, 2);
	/* A proposed 600 s, B's offer 1: 300 s, told by RESPONDER-LIFETIME. */
	{
		size_t k;
		bool seen = false;

		for (k = 0; k < a.nlog; k++)
			seen |= strstr(a.log[k], "RESPONDER-LIFETIME: 300s") !=
			    NULL;
		assert_true(seen);
	}
	/* The Main Mode used B's first choice among what A offered. */
	{
		struct ike_stats sa;

		ike_stats(a.ike, &sa);
		assert_int_equal(sa.main_modes, 1);
	}
	/* Soft expiry on the initiator starts a rekey: a second SA pair. */
	s = null_sa_get(a.drv, 0);
	assert_int_equal(null_inject_expire(a.drv, &s->id, false), 0);
	assert_int_equal(null_driver_ops.dispatch(a.drv), 0);
	assert_true(pump(&a, &b, both_two_qm, 8000));
	ike_stats(a.ike, &st);
	assert_int_equal(st.main_modes, 1);
	assert_int_equal(null_sa_count(a.drv), 8);
	assert_int_equal(null_sa_count(b.drv), 8);
	/* A hard expiry removes the old pair (the driver dropped one SA). */
	s = null_sa_get(a.drv, 0);
	assert_int_equal(null_inject_expire(a.drv, &s->id, true), 0);
	assert_int_equal(null_driver_ops.dispatch(a.drv), 0);
	assert_int_equal(null_sa_count(a.drv), 4);
	assert_int_equal(a.ev[AUDIT_IKE_QM_SA_ENDED], 1);
	side_close(&a);
	side_close(&b);
}

static void
test_wrong_psk(void **state)
{
	struct side a, b;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "other-secret", 0);
	acquire(&a, &b);
	assert_true(pump(&a, &b, auth_failed, 5000));
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_int_equal(null_sa_count(b.drv), 0);
	assert_int_equal(b.ev[AUDIT_IKE_AUTH_FAILED], 1);
	assert_int_equal(b.ev[AUDIT_IKE_SA_ESTABLISHED], 0);
	side_close(&a);
	side_close(&b);
}

static void
test_no_proposal(void **state)
{
	struct side a, b;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	b.methods[0].dh_group = POL_DH_ECP256;
	b.methods[1].dh_group = POL_DH_ECP384;
	acquire(&a, &b);
	assert_true(pump(&a, &b, b_failed, 5000));
	assert_int_equal(b.ev[AUDIT_IKE_BAD_PROPOSAL], 1);
	assert_int_equal(b.ev[AUDIT_IKE_NEG_FAILED], 1);
	side_close(&a);
	side_close(&b);
}

/*
 * AES-GCM (RFC 4106) as ESP transform 20 with its key length: both sides
 * agree on the key size they both offer, the SAs carry AES_GCM_16 with
 * no HMAC and key + 4-octet salt of KEYMAT (the same bytes both ways);
 * a different key size is not a match (the Key Length attribute counts).
 */
static void
test_gcm(void **state)
{
	static const struct {
		enum pol_esp_cipher	c;
		uint8_t			keylen;
	} sizes[] = {
		{ POL_ESP_AESGCM128, 20 }, { POL_ESP_AESGCM192, 28 },
		{ POL_ESP_AESGCM256, 36 },
	};
	struct side a, b;
	const struct null_sa *s;
	size_t k, i;

	(void)state;
	for (k = 0; k < 3; k++) {
		side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
		side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
		/* A: GCM of this size first; B: the other sizes, then it. */
		a.offers[0] = (struct pol_qm_offer){ false, POL_INTEG_NONE,
		    true, sizes[k].c, POL_INTEG_NONE, 3600, 100000, false, 0 };
		b.offers[0] = a.offers[0];
		b.offers[0].esp_cipher = sizes[(k + 1) % 3].c;
		b.offers[1] = a.offers[0];
		acquire(&a, &b);
		assert_true(pump(&a, &b, both_qm, 5000));
		check_pair(&a, &b, DRV_PROTO_ESP);
		for (i = 0; i < null_sa_count(a.drv); i++) {
			s = null_sa_get(a.drv, i);
			assert_int_equal(s->params.enc, DRV_ENC_AES_GCM_16);
			assert_int_equal(s->params.enc_key_len,
			    sizes[k].keylen);
			assert_int_equal(s->params.auth, DRV_AUTH_NONE);
			assert_int_equal(s->params.auth_key_len, 0);
		}
		side_close(&a);
		side_close(&b);
	}
	/* GCM-128 against GCM-256 and 3DES only: no proposal chosen. */
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	a.offers[0] = (struct pol_qm_offer){ false, POL_INTEG_NONE, true,
	    POL_ESP_AESGCM128, POL_INTEG_NONE, 3600, 100000, false, 0 };
	a.offers[1] = a.offers[0];
	b.offers[0] = a.offers[0];
	b.offers[0].esp_cipher = POL_ESP_AESGCM256;
	acquire(&a, &b);
	assert_true(pump(&a, &b, b_failed, 5000));
	assert_int_equal(b.ev[AUDIT_IKE_BAD_PROPOSAL], 1);
	assert_int_equal(null_sa_count(a.drv), 0);
	side_close(&a);
	side_close(&b);
}

/*
 * A driver without DRV_F_GCM: its engine neither proposes nor accepts
 * AES-GCM (and says so in the Oakley log); with the other side offering
 * GCM first, both settle on the next offer, AES-CBC.
 */
static void
test_gcm_no_driver(void **state)
{
	struct driver_ops nogcm = null_driver_ops;
	struct side a, b;
	size_t round, i, k;
	bool said;

	(void)state;
	nogcm.features &= ~DRV_F_GCM;
	for (round = 0; round < 2; round++) {
		/* Round 0: the initiator's driver lacks GCM; 1: the responder's. */
		side_ops = round == 0 ? &nogcm : &null_driver_ops;
		side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
		side_ops = round == 1 ? &nogcm : &null_driver_ops;
		side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
		side_ops = &null_driver_ops;
		a.offers[0] = (struct pol_qm_offer){ false, POL_INTEG_NONE,
		    true, POL_ESP_AESGCM128, POL_INTEG_NONE, 3600, 100000,
		    false, 0 };
		b.offers[0] = a.offers[0];
		acquire(&a, &b);
		assert_true(pump(&a, &b, both_qm, 5000));
		check_pair(&a, &b, DRV_PROTO_ESP);
		for (i = 0; i < null_sa_count(a.drv); i++)
			assert_int_equal(null_sa_get(a.drv, i)->params.enc,
			    DRV_ENC_AES_CBC);
		said = false;
		for (k = 0; k < (round == 0 ? a.nlog : b.nlog); k++)
			said |= strstr(round == 0 ? a.log[k] : b.log[k],
			    "the driver has no AES-GCM") != NULL;
		assert_true(said);
		side_close(&a);
		side_close(&b);
	}
}

static int
raw_sock(void)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000003);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
raw_send(int fd, const uint8_t *p, size_t n)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(0x7f000002);
	assert_int_equal(sendto(fd, p, n, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), (ssize_t)n);
}

static void
drain(struct side *b)
{
	int fds[4];
	size_t k, i;
	struct pollfd pfd;

	k = ike_fds(b->ike, fds, 4);
	for (i = 0; i < k; i++) {
		pfd.fd = fds[i];
		pfd.events = POLLIN;
		while (poll(&pfd, 1, 100) > 0)
			assert_int_equal(ike_dispatch(b->ike, fds[i]), 0);
	}
}

/* MM #1 offering what B accepts (3DES/SHA1/PSK/MODP-1024). */
static size_t
mm1(uint8_t *buf, size_t cap, uint8_t exch, uint32_t seq)
{
	char hex[512];
	size_t n;

	snprintf(hex, sizeof(hex),
	    "%08x00000000 0000000000000000 01 10 %02x 00 00000000 00000054"
	    "00 00 0038 00000001 00000001"
	    "00 00 002c 01 01 00 01"
	    "00 00 0024 01 01 0000"
	    "8001 0005 8002 0002 8003 0001 8004 0002 800b 0001"
	    "000c 0004 00007080", seq + 1, exch);
	assert_int_equal(pa_hex_decode(hex, buf, cap, &n), 0);
	assert_int_equal(n, 0x54);
	return n;
}

static void
test_bad_input(void **state)
{
	struct side b;
	struct ike_stats st;
	uint8_t buf[512];
	size_t n, i;
	int fd;

	(void)state;
	side_open(&b, "127.0.0.2", "127.0.0.3", "secret-psk", 10);
	fd = raw_sock();
	/* Aggressive Mode: refused with a notify, counted, audited. */
	n = mm1(buf, sizeof(buf), ISK_EXCH_AGGRESSIVE, 0);
	raw_send(fd, buf, n);
	drain(&b);
	{
		uint8_t r[256];
		struct isk_hdr h;
		struct pa_bytes body;
		ssize_t k = recv(fd, r, sizeof(r), MSG_DONTWAIT);

		assert_true(k > 0);
		assert_int_equal(isk_parse_hdr(r, (size_t)k, &h, &body), 0);
		assert_int_equal(h.exch, ISK_EXCH_INFO);
	}
	assert_int_equal(b.ev[AUDIT_IKE_NEG_FAILED], 1);
	/* Garbage, truncations of a valid MM #1, unknown exchange. */
	n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, 1000);
	for (i = 0; i < n; i++)
		raw_send(fd, buf, i);
	buf[18] = 77;
	raw_send(fd, buf, n);
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.invalid_packets, 2 + n);	/* + the AM */
	assert_int_equal(st.active_receive, 0);
	/* All that garbage: one rate-limited report (550). */
	assert_int_equal(b.ev[AUDIT_IKE_NOTIFICATION], 1);
	/* An unknown payload type (50) after the SA: INVALID-PAYLOAD-TYPE. */
	n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, 2000);
	buf[28] = 50;
	buf[n] = 0;
	buf[n + 1] = 0;
	buf[n + 2] = 0;
	buf[n + 3] = 4;
	buf[27] = (uint8_t)(n + 4);
	raw_send(fd, buf, n + 4);
	drain(&b);
	{
		uint8_t r[256];
		struct isk_hdr h;
		struct pa_bytes body;
		struct isk_msg m;
		struct isk_notify nt;
		ssize_t k = recv(fd, r, sizeof(r), MSG_DONTWAIT);

		assert_true(k > 0);
		assert_int_equal(isk_parse_hdr(r, (size_t)k, &h, &body), 0);
		assert_int_equal(isk_parse_chain(body, h.np, false, &m), 0);
		assert_int_equal(isk_parse_notify(m.pl[0].body, &nt), 0);
		assert_int_equal(nt.type, ISK_N_INVALID_PAYLOAD_TYPE);
	}
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 0);
	/* A flood of MM #1: at most max_halfopen (10) half-open SAs. */
	for (i = 0; i < 50; i++) {
		n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, (uint32_t)i);
		raw_send(fd, buf, n);
	}
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 10);
	assert_int_equal(st.dropped_halfopen, 40);
	assert_int_equal(b.ev[AUDIT_IKE_NOTIFICATION], 2);	/* + the DoS one */
	/* A retransmitted MM #1 is answered again, not a new SA. */
	n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, 3);
	raw_send(fd, buf, n);
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 10);
	assert_true(st.retransmits >= 1);
	close(fd);
	side_close(&b);
}

/*
 * DoS-cookie mode: B (threshold 5 half-open) takes a flood of MM #1 from
 * A's address. The first 5 get state; the rest get a stateless
 * DOS-COOKIE notify and no state. MM #1 sent again with a valid cookie
 * gets state (return routability proved); a forged cookie is refused.
 * Then A's own negotiation goes through the cookie round trip and
 * completes. One rate-limited 550 for the DoS mode (and one for the
 * invalid input).
 */
static void
test_dos_cookies(void **state)
{
	struct side a, b;
	struct ike_stats st, sa;
	struct sockaddr_in sin;
	struct isk_hdr h;
	struct pa_bytes body;
	struct isk_msg m;
	struct isk_notify nt;
	uint8_t buf[512], r[512], ck[8], cki[8];
	size_t n, i, notes = 0;
	ssize_t k;
	int fd;

	(void)state;
	dos_halfopen = 3;	/* below the per-source limit */
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 100);
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 100);
	dos_halfopen = 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	for (i = 0; i < 50; i++) {
		n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, (uint32_t)i);
		raw_send(fd, buf, n);
	}
	drain(&b);
	/* Half-open Main Modes cost no Diffie-Hellman work, not even ahead. */
	for (i = 0; i < IKE_DHPOOL_GROUPS; i++)
		assert_int_equal(b.ike->dhpool[i].group, 0);
	assert_false(ike_dh_wanted(b.ike));
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 3);
	assert_int_equal(st.dos_cookies_sent, 47);
	assert_int_equal(st.dropped_halfopen, 0);
	assert_int_equal(b.ev[AUDIT_IKE_NOTIFICATION], 1);
	/* The answers: 3 MM #2, 47 notifies carrying an 8-byte cookie. */
	memset(ck, 0, sizeof(ck));
	memset(cki, 0, sizeof(cki));
	for (i = 0; i < 50; i++) {
		k = recv(fd, r, sizeof(r), MSG_DONTWAIT);
		assert_true(k > 0);
		assert_int_equal(isk_parse_hdr(r, (size_t)k, &h, &body), 0);
		if (h.exch != ISK_EXCH_INFO)
			continue;
		assert_int_equal(isk_parse_chain(body, h.np, false, &m), 0);
		assert_int_equal(isk_parse_notify(m.pl[0].body, &nt), 0);
		assert_int_equal(nt.type, ISK_N_MS_DOS_COOKIE);
		assert_int_equal(nt.data.len, 8);
		assert_memory_equal(nt.data.p, h.cky_r, 8);
		if (notes++ == 0) {
			memcpy(ck, nt.data.p, 8);
			memcpy(cki, h.cky_i, 8);
		}
	}
	assert_int_equal(notes, 47);
	/* A forged cookie: no state, counted. */
	n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, 0);
	memcpy(buf, cki, 8);
	memcpy(buf + 8, ck, 8);
	buf[15] ^= 1;
	raw_send(fd, buf, n);
	/* The cookie with another CKY-I: no state either. */
	buf[15] ^= 1;
	buf[7] ^= 1;
	raw_send(fd, buf, n);
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 3);
	assert_int_equal(st.invalid_cookies, 2);
	/* The right cookie: state is created, past the DoS threshold. */
	buf[7] ^= 1;
	raw_send(fd, buf, n);
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, 4);
	k = recv(fd, r, sizeof(r), MSG_DONTWAIT);
	while (k > 0 && isk_parse_hdr(r, (size_t)k, &h, &body) == 0 &&
	    h.exch != ISK_EXCH_MAIN)
		k = recv(fd, r, sizeof(r), MSG_DONTWAIT);
	assert_true(k > 0);
	assert_memory_equal(h.cky_r, ck, 8);	/* MM #2 under our cookie */
	/* A real initiator follows the cookie and completes. */
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	ike_stats(b.ike, &st);
	ike_stats(a.ike, &sa);
	assert_int_equal(st.dos_cookies_sent, 48);
	assert_int_equal(sa.main_modes, 1);
	/* Still one for the DoS mode; one for the forged cookies. */
	assert_int_equal(b.ev[AUDIT_IKE_NOTIFICATION], 2);
	check_pair(&a, &b, DRV_PROTO_ESP);
	close(fd);
	side_close(&a);
	side_close(&b);
}

/*
 * Below the DoS threshold, one address holds at most IKE_HALFOPEN_PER_SRC
 * half-open Main Modes without a cookie: the rest of its MM #1 are
 * answered with cookies, and another address is still heard. Then a
 * burst of MM #1 past the threshold rate turns cookies on for everyone,
 * though few are half-open (requests that make no state count too).
 */
static void
test_dos_per_source(void **state)
{
	struct side b;
	struct ike_stats st;
	struct sockaddr_in sin;
	uint8_t buf[512];
	size_t n, i;
	int fd, fd2;

	(void)state;
	dos_halfopen = 64;
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 100);
	dos_halfopen = 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	fd2 = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0 && fd2 >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_addr.s_addr = htonl(0x7f000003);
	assert_int_equal(bind(fd2, (struct sockaddr *)&sin, sizeof(sin)), 0);
	for (i = 0; i < 10; i++) {
		n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, (uint32_t)i);
		raw_send(fd, buf, n);
	}
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, IKE_HALFOPEN_PER_SRC);
	assert_int_equal(st.dos_cookies_sent, 10 - IKE_HALFOPEN_PER_SRC);
	n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, 100);
	raw_send(fd2, buf, n);
	drain(&b);
	ike_stats(b.ike, &st);
	/* Not a cookie: its request is looked at (it has no rule here). */
	assert_int_equal(st.dos_cookies_sent, 10 - IKE_HALFOPEN_PER_SRC);
	/*
	 * 200 more from the second address within a few milliseconds: past
	 * 64 a second (in this second or, across a boundary, the next), the
	 * rest is answered with cookies though none makes state (no rule).
	 */
	for (i = 0; i < 200; i++) {
		n = mm1(buf, sizeof(buf), ISK_EXCH_MAIN, 200 + (uint32_t)i);
		raw_send(fd2, buf, n);
	}
	drain(&b);
	ike_stats(b.ike, &st);
	assert_int_equal(st.active_receive, IKE_HALFOPEN_PER_SRC);
	assert_true(st.dos_cookies_sent >= 10 - IKE_HALFOPEN_PER_SRC + 200 -
	    2 * 64);
	close(fd);
	close(fd2);
	side_close(&b);
}

static bool
never(struct side *a, struct side *b)
{
	(void)a;
	(void)b;
	return false;
}

/* Mangled copies fed by pump_mangled(), per side. */
static size_t mangled[2];

/* Feed side s one mangled copy of a datagram from (from, fport). */
static void
feed(struct side *s, int sock, const struct pa_addr *from, uint16_t fport,
    const uint8_t *p, size_t n, size_t *count)
{
	ike_input(s->ike, sock, from, fport, p, n);
	(*count)++;
}

/*
 * Every proper prefix of a datagram: as cut (the ISAKMP length then lies
 * about the size), and with the length patched to the cut so that the
 * parsers reach the payloads. Cuts of an encrypted Main Mode message
 * (MM #5/#6) that leave whole cipher blocks are left out: they decrypt
 * to garbage that fails HASH_I/HASH_R, which is an authentication
 * failure and ends the negotiation by design (test_wrong_psk); such a
 * message cannot come from anyone but an on-path attacker.
 */
static void
feed_truncations(struct side *s, int sock, const struct pa_addr *from,
    uint16_t fport, const uint8_t *p, size_t n, size_t *count)
{
	uint8_t c[IKE_MAX_PKT];
	size_t k;
	bool enc_mm = n >= 28 && p[18] == ISK_EXCH_MAIN &&
	    (p[19] & ISK_FLAG_ENC);

	for (k = 0; k < n; k++) {
		feed(s, sock, from, fport, p, k, count);
		if (k < 28 || (enc_mm && (k - 28) % 8 == 0))
			continue;
		memcpy(c, p, k);
		c[24] = (uint8_t)(k >> 24);
		c[25] = (uint8_t)(k >> 16);
		c[26] = (uint8_t)(k >> 8);
		c[27] = (uint8_t)k;
		feed(s, sock, from, fport, c, k, count);
	}
}

/*
 * pump(), but every datagram reaches its side only after all its
 * truncations, and again (as a duplicate) followed by them: none of that
 * may move a negotiation on, back, or off course.
 */
static bool
pump_mangled(struct side *a, struct side *b,
    bool (*done)(struct side *, struct side *), unsigned ms)
{
	uint64_t end = pa_now_ms() + ms;
	struct side *sd[2] = { a, b };

	mangled[0] = mangled[1] = 0;
	while (!done(a, b)) {
		uint8_t buf[IKE_MAX_PKT];
		struct sockaddr_storage ss;
		struct pa_addr from;
		struct pollfd pfd[8];
		int owner[8], sock[8];
		size_t n = 0, i, j;
		socklen_t sl;
		uint16_t fport;
		ssize_t k;

		if (pa_now_ms() >= end)
			return false;
		for (i = 0; i < 2; i++)
			for (j = 0; j < sd[i]->ike->nsocks; j++) {
				pfd[n].fd = sd[i]->ike->socks[j].fd;
				pfd[n].events = POLLIN;
				owner[n] = (int)i;
				sock[n++] = (int)j;
			}
		if (poll(pfd, n, 20) < 0 && errno != EINTR)
			return false;
		for (i = 0; i < n; i++) {
			struct side *s = sd[owner[i]];

			if (!(pfd[i].revents & POLLIN))
				continue;
			sl = sizeof(ss);
			k = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&ss, &sl);
			if (k <= 0 || pa_addr_from_sockaddr(
			    (struct sockaddr *)&ss, &from, &fport) != 0)
				continue;
			feed_truncations(s, sock[i], &from, fport, buf,
			    (size_t)k, &mangled[owner[i]]);
			ike_input(s->ike, sock[i], &from, fport, buf, (size_t)k);
			ike_input(s->ike, sock[i], &from, fport, buf, (size_t)k);
			feed_truncations(s, sock[i], &from, fport, buf,
			    (size_t)k, &mangled[owner[i]]);
		}
		ike_run_timers(a->ike, pa_now_ms());
		ike_run_timers(b->ike, pa_now_ms());
	}
	return true;
}

/*
 * Bad input at every step of a real exchange: each message of Main Mode
 * and Quick Mode (with PFS) reaches its side only after every truncation
 * of it, lying-length and length-patched, and then again with them. The
 * negotiation completes with the same keys on both sides, nothing fails,
 * and every mangled copy is counted.
 */
static void
test_every_truncation(void **state)
{
	struct side a, b;
	struct ike_stats sa, sb;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	a.fa.pfs_group = b.fa.pfs_group = POL_DH_MODP1024;
	a.offers[0].pfs = b.offers[0].pfs = true;
	acquire(&a, &b);
	assert_true(pump_mangled(&a, &b, both_qm, 20000));
	check_pair(&a, &b, DRV_PROTO_ESP);
	ike_stats(a.ike, &sa);
	ike_stats(b.ike, &sb);
	assert_int_equal(sa.negotiation_failures, 0);
	assert_int_equal(sb.negotiation_failures, 0);
	assert_int_equal(sa.auth_failures + sb.auth_failures, 0);
	assert_int_equal(a.ev[AUDIT_IKE_NEG_FAILED] + b.ev[AUDIT_IKE_NEG_FAILED],
	    0);
	assert_true(mangled[0] > 1000 && mangled[1] > 1000);
	/* Each mangled copy was refused and counted as such. */
	assert_true(sa.invalid_packets + sa.invalid_cookies >= mangled[0]);
	assert_true(sb.invalid_packets + sb.invalid_cookies >= mangled[1]);
	side_close(&a);
	side_close(&b);
}

/*
 * Quick Mode IDs from a filter with a protocol and a port: A's filter is
 * "me -> B, UDP, to port 5001", B's the same traffic written from its
 * side ("me, UDP port 5001 -> A"), both mirrored. The IDs carry UDP and
 * the port, B's SPD finds its rule by them, and both sides' SAs select
 * exactly that traffic. Traffic to another port has no rule at A.
 */
static void
test_proto_port_ids(void **state)
{
	struct side a, b;
	struct pol_spd *spd;
	struct pol_err err;
	struct drv_sel pkt;
	const struct null_sa *x;
	size_t i;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	a.flt.proto = b.flt.proto = 17;
	a.flt.dport = 5001;
	b.flt.sport = 5001;
	b.rule.filterlist_id.b[0] = 1;
	assert_int_equal(pol_spd_compile(&b.pol, &b.addr, 1, &spd, &err), 0);
	assert_int_equal(ike_set_policy(b.ike, &b.pol, spd), 0);
	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = a.addr;
	pkt.src.len = 32;
	pkt.dst.addr = b.addr;
	pkt.dst.len = 32;
	pkt.proto = 17;
	pkt.sport = 40000;
	pkt.dport = 5001;
	assert_int_equal(ike_acquire(a.ike, &pkt, 3, NULL), 0);
	assert_true(pump(&a, &b, both_qm, 5000));
	check_pair(&a, &b, DRV_PROTO_ESP);
	for (i = 0; i < null_sa_count(b.drv); i++) {
		x = null_sa_get(b.drv, i);
		assert_int_equal(x->params.sel.proto, 17);
		/* In: A (any port) -> B:5001; out: B:5001 -> A. */
		assert_int_equal(x->params.sel.sport,
		    x->params.inbound ? 0 : 5001);
		assert_int_equal(x->params.sel.dport,
		    x->params.inbound ? 5001 : 0);
	}
	pkt.dport = 5002;
	assert_int_not_equal(ike_acquire(a.ike, &pkt, 3, NULL), 0);
	side_close(&a);
	side_close(&b);
	pol_spd_free(spd);
}

/*
 * A message on the NAT-T port with the cookies of an established Main
 * Mode SA (they are on the wire) but no valid HASH must not move the SA
 * there: B keeps sending to A's port 500.
 */
static void
test_float_needs_auth(void **state)
{
	struct side a, b;
	struct sockaddr_in sin;
	struct ike_stats st;
	struct ike_mm *mm;
	uint8_t pkt[4 + 28 + 32];
	uint64_t inv;
	int fd, sock;
	uint16_t pport;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	mm = b.ike->mm_head;
	assert_non_null(mm);
	sock = mm->sock;
	pport = mm->peer_port;
	assert_false(b.ike->socks[sock].natt);
	ike_stats(b.ike, &st);
	inv = st.invalid_packets;
	memset(pkt, 0, sizeof(pkt));		/* non-ESP marker */
	memcpy(pkt + 4, mm->cky_i, 8);
	memcpy(pkt + 12, mm->cky_r, 8);
	pkt[4 + 16] = ISK_PL_HASH;
	pkt[4 + 17] = 0x10;
	pkt[4 + 18] = ISK_EXCH_QUICK;
	pkt[4 + 19] = ISK_FLAG_ENC;
	pkt[4 + 23] = 7;			/* message ID */
	pkt[4 + 27] = 28 + 32;
	memset(pkt + 32, 0x5a, 32);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_addr.s_addr = htonl(0x7f000002);
	sin.sin_port = htons((uint16_t)(port + 1));
	assert_int_equal(sendto(fd, pkt, sizeof(pkt), 0,
	    (struct sockaddr *)&sin, sizeof(sin)), (ssize_t)sizeof(pkt));
	drain(&b);
	ike_stats(b.ike, &st);
	assert_true(st.invalid_packets > inv);
	assert_int_equal(mm->sock, sock);
	assert_int_equal(mm->peer_port, pport);
	close(fd);
	side_close(&a);
	side_close(&b);
}

/*
 * Diffie-Hellman key pairs made ahead (dhpool.c): the first Main Mode
 * makes its keys as it goes and starts a pool for its group; the loop
 * fills it while idle; the next Main Mode (master key PFS: a Main Mode
 * per Quick Mode) takes its key pairs ready-made on both sides, each
 * once, and still agrees on keys.
 */
static void
test_dh_ahead(void **state)
{
	struct side a, b;
	struct ike_stats sa, sb;
	struct oak_dh *k1, *k2;
	struct pa_bytes p1, p2;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	a.pol.isakmp.master_pfs = true;
	assert_int_equal(ike_next_timeout_ms(a.ike, pa_now_ms()), -1);
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	ike_stats(a.ike, &sa);
	ike_stats(b.ike, &sb);
	assert_int_equal(sa.dh_precomputed, 0);
	assert_int_equal(sb.dh_precomputed, 0);
	/* Each side has a pool for the group now; while one is short the
	 * loop is asked to come back at once (ike_next_timeout_ms 0). */
	assert_int_equal(a.ike->dhpool[0].group, a.ike->mm_head->p1.group);
	assert_int_equal(b.ike->dhpool[0].group, a.ike->mm_head->p1.group);
	assert_int_equal(ike_next_timeout_ms(a.ike, pa_now_ms()) == 0,
	    ike_dh_wanted(a.ike));
	(void)pump(&a, &b, never, 300);
	assert_false(ike_dh_wanted(a.ike));
	assert_false(ike_dh_wanted(b.ike));
	assert_int_equal(a.ike->dhpool[0].n, IKE_DHPOOL_KEYS);
	acquire(&a, &b);
	/* Quick Mode completes: the HASHes under the new keys agree. */
	assert_true(pump(&a, &b, both_two_qm, 5000));
	assert_int_equal(null_sa_count(b.drv), 4);
	ike_stats(a.ike, &sa);
	ike_stats(b.ike, &sb);
	assert_int_equal(sa.main_modes, 2);
	assert_int_equal(sa.dh_precomputed, 1);
	assert_int_equal(sb.dh_precomputed, 1);
	/* Two takes are two different key pairs. */
	assert_int_equal(ike_dh_get(a.ike, a.ike->dhpool[0].group, &k1), 0);
	assert_int_equal(ike_dh_get(a.ike, a.ike->dhpool[0].group, &k2), 0);
	p1 = oak_dh_pub(k1);
	p2 = oak_dh_pub(k2);
	assert_int_equal(p1.len, p2.len);
	assert_memory_not_equal(p1.p, p2.p, p1.len);
	oak_dh_free(k1);
	oak_dh_free(k2);
	side_close(&a);
	side_close(&b);
}

static bool
log_has(const struct side *s, const char *what)
{
	size_t i;

	for (i = 0; i < s->nlog; i++)
		if (strstr(s->log[i], what) != NULL)
			return true;
	return false;
}

/*
 * As initiator, an MM #2 choosing a transform we did not offer (here
 * DES-MD5-DH1, hand-made from A's MM #1 as B's answer): the refusal names
 * what the responder chose and our offers (Oakley log, 546, 547).
 */
static void
test_responder_choice_not_offered(void **state)
{
	struct side a, b;
	struct ike_p1 p1;
	struct isk_hdr h;
	struct isk_chain c;
	struct pollfd pfd;
	uint8_t in[IKE_MAX_PKT], out[512];
	struct wr w;
	size_t sa;
	ssize_t n;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	acquire(&a, &b);
	pfd.fd = b.ike->socks[0].fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	n = recv(pfd.fd, in, sizeof(in), 0);
	assert_true(n >= ISK_HDR_LEN);
	memset(&h, 0, sizeof(h));
	memcpy(h.cky_i, in, 8);
	memset(h.cky_r, 0x5a, 8);
	h.version = 0x10;
	h.exch = ISK_EXCH_MAIN;
	memset(&p1, 0, sizeof(p1));
	p1 = (struct ike_p1){ .enc = ISK_ENC_DES, .keylen = 8,
	    .hash = ISK_HASH_MD5, .auth = ISK_AUTH_PSK, .group = 1,
	    .life_sec = 28800 };
	wr_init(&w, out, sizeof(out));
	assert_int_equal(isk_hdr_write(&w, &h, &c), 0);
	assert_int_equal(isk_pl_open(&w, &c, ISK_PL_SA, &sa), 0);
	assert_int_equal(ike_p1_write_sa(&w, &p1, 1), 0);
	assert_int_equal(isk_pl_close(&w, sa), 0);
	assert_int_equal(isk_hdr_close(&w, 0), 0);
	ike_input(a.ike, 0, &b.addr, port, out, w.len);
	assert_true(log_has(&a, "MM #2 from 127.0.0.2: the responder chose "
	    "DES-MD5-PSK-DH1 life 28800s, not one of our offers 3DES-SHA1"));
	assert_int_equal(a.ev[AUDIT_IKE_BAD_PROPOSAL], 1);
	assert_non_null(strstr(a.reason, "Responder chose a transform that "
	    "was not offered: it chose DES-MD5-PSK-DH1 life 28800s; our "
	    "offers 3DES-SHA1-PSK-DH"));
	side_close(&a);
	side_close(&b);
}

/*
 * The responder picks the rule for a peer's Quick Mode IDs as its SPD
 * decides their traffic (most specific filter first), not by rule order.
 * B lists first a broad rule (any <-> any, 3DES only), then one for A
 * (AES-128 only); A offers AES-128 only. With its SPD, B takes A's rule;
 * by rule order alone it would take the broad one and refuse. When B's
 * filter for A permits in clear, B refuses to negotiate, and says why.
 */
static void
test_responder_spd(void **state)
{
	struct side a, b;
	struct pol_rule rules[2];
	struct pol_filterlist fl_any;
	struct pol_filter f_any;
	struct pol_filteraction fa_3des, fa_permit;
	struct pol_spd *spd;
	struct pol_err err;
	struct ike_stats st;
	const struct null_sa *sa;
	int mode;

	(void)state;
	for (mode = 0; mode < 3; mode++) {
		side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
		side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
		a.fa.offers = &a.offers[1];		/* AES-128 only */
		a.fa.noffers = 1;
		b.fa.offers = &b.offers[1];
		b.fa.noffers = 1;
		memset(&f_any, 0, sizeof(f_any));
		f_any.src.kind = POL_ADDR_ANY;
		f_any.dst.kind = POL_ADDR_ANY;
		f_any.mirrored = true;
		memset(&fl_any, 0, sizeof(fl_any));
		fl_any.filters = &f_any;
		fl_any.nfilters = 1;
		fa_3des = b.fa;
		fa_3des.offers = &b.offers[0];		/* 3DES only */
		fa_permit = b.fa;
		fa_permit.action = POL_ACT_PERMIT;
		rules[0] = b.rule;
		rules[0].name = (char *)(uintptr_t)"broad";
		rules[0].filterlist = &fl_any;
		rules[0].filteraction = &fa_3des;
		rules[0].filterlist_id.b[0] = 1;	/* compiled: has one */
		rules[1] = b.rule;
		rules[1].filterlist_id.b[0] = 2;
		rules[1].name = (char *)(uintptr_t)"for A";
		if (mode == 2)
			rules[1].filteraction = &fa_permit;
		b.pol.rules = rules;
		b.pol.nrules = 2;
		spd = NULL;
		if (mode != 1)
			assert_int_equal(pol_spd_compile(&b.pol, &b.addr, 1,
			    &spd, &err), 0);
		assert_int_equal(ike_set_policy(b.ike, &b.pol, spd), 0);
		acquire(&a, &b);
		if (mode == 0) {
			assert_true(pump(&a, &b, both_qm, 5000));
			check_pair(&a, &b, DRV_PROTO_ESP);
			sa = null_sa_get(b.drv, 0);
			assert_int_equal(sa->params.enc, DRV_ENC_AES_CBC);
			assert_int_equal(sa->params.enc_key_len, 16);
		} else {
			assert_true(pump(&a, &b, b_failed, 5000));
			assert_int_equal(null_sa_count(b.drv), 0);
			ike_stats(a.ike, &st);
			assert_int_equal(st.quick_modes, 0);
			assert_true(log_has(&b, mode == 1 ?
			    "no proposal chosen (rule \"broad\")" :
			    "permits the traffic in clear"));
		}
		side_close(&a);
		side_close(&b);
		pol_spd_free(spd);
	}
}

/*
 * B has no rule for A, only the default response rule (activated): it
 * answers with that rule's offers. A uses master key PFS: every Quick
 * Mode gets a Main Mode of its own.
 */
static void
test_default_response_master_pfs(void **state)
{
	struct side a, b;
	struct ike_stats st;

	(void)state;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	b.rule.filterlist = NULL;
	b.rule.default_response = true;
	b.pol.activate_default_rule = true;
	a.pol.isakmp.master_pfs = true;
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	check_pair(&a, &b, DRV_PROTO_ESP);
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_two_qm, 5000));
	ike_stats(a.ike, &st);
	assert_int_equal(st.main_modes, 2);
	side_close(&a);
	side_close(&b);
	/* Without activating the default response rule, B refuses. */
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	b.rule.filterlist = NULL;
	b.rule.default_response = true;
	acquire(&a, &b);
	assert_true(pump(&a, &b, b_failed, 5000));
	assert_int_equal(null_sa_count(b.drv), 0);
	side_close(&a);
	side_close(&b);
}

static bool
dpd_acked(struct side *a, struct side *b)
{
	struct ike_stats sa, sb;

	ike_stats(a->ike, &sa);
	ike_stats(b->ike, &sb);
	return sa.dpd_acks >= 2 && sb.dpd_acks >= 2;
}

/* Run one engine alone until done(s) or timeout. */
static bool
pump1(struct side *s, bool (*done)(struct side *), unsigned ms)
{
	uint64_t end = pa_now_ms() + ms;

	while (!done(s)) {
		struct pollfd pfd[4];
		int fds[4], t;
		size_t n, i;

		if (pa_now_ms() >= end)
			return false;
		n = ike_fds(s->ike, fds, 4);
		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		t = ike_next_timeout_ms(s->ike, pa_now_ms());
		if (t < 0 || t > 50)
			t = 50;
		if (poll(pfd, n, t) < 0 && errno != EINTR)
			return false;
		for (i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				assert_int_equal(ike_dispatch(s->ike, pfd[i].fd),
				    0);
		ike_run_timers(s->ike, pa_now_ms());
	}
	return true;
}

static bool
peer_dead(struct side *s)
{
	struct ike_stats st;

	ike_stats(s->ike, &st);
	return st.dpd_dead_peers >= 1;
}

static bool
soft_started(struct side *s)
{
	struct ike_stats st;

	ike_stats(s->ike, &st);
	return st.soft_associations >= 1;
}

static bool
a_neg_failed(struct side *s)
{
	return s->ev[AUDIT_IKE_NEG_FAILED] > 0;
}

/* Install s's compiled SPD in its driver as the agent core does. */
static struct pol_spd *
install_spd(struct side *s)
{
	struct pol_spd *spd = NULL;
	struct pol_err err;
	struct spd_id id;
	struct spd_params p;
	size_t i;

	assert_int_equal(pol_spd_compile(&s->pol, &s->addr, 1, &spd, &err), 0);
	for (i = 0; i < pol_spd_count(spd); i++) {
		const struct pol_spd_entry *e = pol_spd_entry_at(spd, i);

		memset(&p, 0, sizeof(p));
		p.sel.src = e->src;
		p.sel.dst = e->dst;
		p.sel.proto = e->proto;
		p.sel.sport = e->sport;
		p.sel.dport = e->dport;
		p.action = e->action == POL_ACT_NEGOTIATE ? DRV_ACT_PROTECT :
		    e->action == POL_ACT_BLOCK ? DRV_ACT_BLOCK : DRV_ACT_PERMIT;
		p.priority = pol_spd_prio(e, POL_PRIO_FILTER);
		p.inpass = e->inpass;
		p.want_esp = true;
		id.index = (uint32_t)i + 1;
		id.dir = e->dir == POL_DIR_OUT ? DRV_DIR_OUT : DRV_DIR_IN;
		assert_int_equal(null_driver_ops.policy_add(s->drv, &id, &p), 0);
	}
	assert_int_equal(ike_set_policy(s->ike, &s->pol, spd), 0);
	return spd;
}

/*
 * Soft associations only for a peer that was asked and stayed silent
 * (KB 234580). A peer that does not answer MM #1: after soft_sa_ms its
 * flow passes in clear. A local failure (Kerberos is the rule's only
 * method and this host has no usable credentials: nothing is ever sent)
 * is a 547 with the local reason and no soft association: the traffic
 * stays held.
 */
static void
test_soft_only_when_asked(void **state)
{
	struct side a;
	struct ike_stats st;

	(void)state;
	soft_sa_ms = 300;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	a.fa.soft = true;
	assert_int_equal(acquire_to(&a, "127.0.0.2"), 0);
	assert_true(pump1(&a, soft_started, 3000));
	assert_int_equal(null_policy_count(a.drv), 2);
	side_close(&a);

	krb_keytab = "/nonexistent/krb5.keytab";
	krb_principal = "host/a.example.test";
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	krb_keytab = krb_principal = NULL;
	memset(&a.auths[0], 0, sizeof(a.auths[0]));
	a.auths[0].kind = POL_AUTH_KERBEROS;
	a.rule.auth = a.auths;
	a.rule.nauth = 1;
	a.fa.soft = true;
	/*
	 * The first acquire fetches tickets in a worker and fails; the next
	 * ones, until Kerberos is retried, fail before anything is sent.
	 * Many soft_sa_ms later: the old engine fell back to clear.
	 */
	assert_int_equal(acquire_to(&a, "127.0.0.2"), 0);
	assert_true(pump1(&a, a_neg_failed, 3000));
	assert_int_not_equal(acquire_to(&a, "127.0.0.2"), 0);
	assert_false(pump1(&a, soft_started, 2000));
	assert_int_equal(a.ev[AUDIT_IKE_NEG_FAILED] > 0, true);
	assert_non_null(strstr(a.reason, "Kerberos"));
	ike_stats(a.ike, &st);
	assert_int_equal(st.soft_associations, 0);
	assert_int_equal(null_policy_count(a.drv), 0);
	side_close(&a);
	soft_sa_ms = 0;
}

/*
 * A soft association stands just ahead of the filter that allows it,
 * never above a stricter one: rule "SMB" (TCP 445 to the peer, ESP
 * required, no fallback) is more specific than rule "All" (everything to
 * the peer, fallback allowed). When the peer stays silent, "All"'s flow
 * passes in clear, but TCP 445 is still held for negotiation (the old
 * soft association sat above every filter and let it out in clear).
 */
static void
test_soft_scoped(void **state)
{
	static struct pol_rule rules[2];
	static struct pol_filter smbf;
	static struct pol_filterlist smbl;
	static struct pol_filteraction strict;
	struct side a;
	struct pol_spd *spd;
	const struct null_policy *w;
	struct drv_sel pkt;

	(void)state;
	soft_sa_ms = 300;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	a.fa.soft = true;
	a.fa.inpass = true;
	strict = a.fa;
	strict.soft = false;
	strict.inpass = false;
	smbf = a.flt;
	smbf.proto = 6;
	smbf.dport = 445;
	smbl.filters = &smbf;
	smbl.nfilters = 1;
	rules[0] = a.rule;
	rules[0].name = (char *)(uintptr_t)"SMB";
	rules[0].filterlist = &smbl;
	rules[0].filteraction = &strict;
	rules[0].filterlist_id.b[15] = 1;	/* the SPD compiles them */
	rules[1] = a.rule;
	rules[1].name = (char *)(uintptr_t)"All";
	rules[1].filterlist_id.b[15] = 2;
	a.pol.rules = rules;
	a.pol.nrules = 2;
	spd = install_spd(&a);
	/* An ICMP packet raises the acquire under "All". */
	memset(&pkt, 0, sizeof(pkt));
	pkt.src.addr = a.addr;
	pkt.src.len = 32;
	assert_int_equal(pa_addr_parse("127.0.0.2", &pkt.dst.addr), 0);
	pkt.dst.len = 32;
	pkt.proto = 1;
	assert_int_equal(ike_acquire(a.ike, &pkt, 0, NULL), 0);
	assert_true(pump1(&a, soft_started, 3000));
	w = winner(&a, DRV_DIR_OUT, &a.addr, &pkt.dst.addr);	/* TCP 80 */
	assert_non_null(w);
	assert_int_equal(w->params.action, DRV_ACT_PERMIT);
	pkt.proto = 6;
	pkt.sport = 40000;
	pkt.dport = 445;
	w = null_policy_winner(a.drv, DRV_DIR_OUT, &pkt);
	assert_non_null(w);
	assert_int_equal(w->params.action, DRV_ACT_PROTECT);
	/* And the way in: clear TCP 445 from the peer is not let in. */
	pkt.src.addr = pkt.dst.addr;
	pkt.dst.addr = a.addr;
	pkt.sport = 445;
	pkt.dport = 40000;
	w = null_policy_winner(a.drv, DRV_DIR_IN, &pkt);
	assert_non_null(w);
	assert_int_equal(w->params.action, DRV_ACT_PROTECT);
	assert_false(w->params.inpass);
	side_close(&a);
	pol_spd_free(spd);
	soft_sa_ms = 0;
}

static void
test_dpd(void **state)
{
	struct side a, b;
	struct ike_stats st;

	(void)state;
	dpd_ms = 100;
	side_open(&a, "127.0.0.1", "127.0.0.2", "secret-psk", 0);
	side_open(&b, "127.0.0.2", "127.0.0.1", "secret-psk", 0);
	dpd_ms = 0;
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	/* Both offered DPD: probes are answered while both live. */
	assert_true(pump(&a, &b, dpd_acked, 5000));
	assert_int_equal(null_sa_count(a.drv), 2);
	/* B vanishes without a word: A finds out and drops the SAs. */
	side_close(&b);
	assert_true(pump1(&a, peer_dead, 5000));
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_int_equal(a.ev[AUDIT_IKE_QM_SA_ENDED], 1);
	assert_int_equal(a.ev[AUDIT_IKE_MM_SA_ENDED], 1);
	ike_stats(a.ike, &st);
	assert_int_equal(st.active_mmsas, 0);
	assert_int_equal(st.active_qmsas, 0);
	side_close(&a);
}

/* A throw-away PKI: CA 1 (trusted), CA 2 (not), host certificates. */
static char pki[64];
static EVP_PKEY *ca1_key, *ca2_key;
static X509 *ca1, *ca2;

static X509 *
mkcert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca,
    long from_days, long to_days)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"Policy Agent Tests", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) :
	    n);
	if (ca) {
		X509V3_CTX ctx;
		X509_EXTENSION *e;

		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
		    "critical,CA:TRUE");
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

static void
write_pem(const char *name, X509 *x, EVP_PKEY *k)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", pki, name);
	f = fopen(path, "w");
	assert_non_null(f);
	if (x != NULL)
		assert_int_equal(PEM_write_X509(f, x), 1);
	if (k != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
		    NULL), 1);
	fclose(f);
}

/* host.pem/.key for one side, signed by issuer, valid days [from, to]. */
static void
mkhost(const char *tag, X509 *issuer, EVP_PKEY *ikey, long from, long to)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509 *x;
	char n[64];

	assert_non_null(k);
	x = mkcert(k, tag, issuer, ikey, false, from, to);
	snprintf(n, sizeof(n), "%s.pem", tag);
	write_pem(n, x, NULL);
	snprintf(n, sizeof(n), "%s.key", tag);
	write_pem(n, NULL, k);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int
pki_setup(void **state)
{
	(void)state;
	snprintf(pki, sizeof(pki), "/tmp/ike-pki-XXXXXX");
	if (mkdtemp(pki) == NULL)
		return -1;
	ca1_key = EVP_RSA_gen(2048);
	ca2_key = EVP_RSA_gen(2048);
	ca1 = mkcert(ca1_key, "IKE Test CA 1", NULL, ca1_key, true, -1, 30);
	ca2 = mkcert(ca2_key, "IKE Test CA 2", NULL, ca2_key, true, -1, 30);
	write_pem("ca.pem", ca1, NULL);
	{
		/* Both CAs in one file: the rule names which one it trusts. */
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path), "%s/cas.pem", pki);
		f = fopen(path, "w");
		PEM_write_X509(f, ca2);
		PEM_write_X509(f, ca1);
		fclose(f);
	}
	mkhost("hostA", ca1, ca1_key, -1, 30);
	mkhost("hostB", ca1, ca1_key, -1, 30);
	mkhost("rogue", ca2, ca2_key, -1, 30);
	mkhost("expired", ca1, ca1_key, -10, -1);
	return 0;
}

static int
pki_teardown(void **state)
{
	char cmd[128];

	(void)state;
	X509_free(ca1);
	X509_free(ca2);
	EVP_PKEY_free(ca1_key);
	EVP_PKEY_free(ca2_key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	return system(cmd) == 0 ? 0 : -1;
}

static char pa_cert[128], pa_key[128], pb_cert[128], pb_key[128], p_cas[128];

static void
cert_sides(struct side *a, struct side *b, const char *bname)
{
	snprintf(pa_cert, sizeof(pa_cert), "%s/hostA.pem", pki);
	snprintf(pa_key, sizeof(pa_key), "%s/hostA.key", pki);
	snprintf(pb_cert, sizeof(pb_cert), "%s/%s.pem", pki, bname);
	snprintf(pb_key, sizeof(pb_key), "%s/%s.key", pki, bname);
	snprintf(p_cas, sizeof(p_cas), "%s/cas.pem", pki);
	cert_file = pa_cert;
	key_file = pa_key;
	ca_file = p_cas;
	side_open(a, "127.0.0.1", "127.0.0.2", "unused-secret", 0);
	cert_file = pb_cert;
	key_file = pb_key;
	side_open(b, "127.0.0.2", "127.0.0.1", "unused-secret", 0);
	cert_file = key_file = ca_file = NULL;
	a->auth.kind = POL_AUTH_CERT;
	a->auth.ca_dn = (char *)(uintptr_t)"CN=IKE Test CA 1,O=Policy Agent Tests";
	pa_secret_free(a->auth.psk);
	pa_secret_free(b->auth.psk);
	a->auth.psk = NULL;
	b->auth = a->auth;
}

static bool
a_cert_failed(struct side *a, struct side *b)
{
	struct ike_stats sa;

	(void)b;
	ike_stats(a->ike, &sa);
	return sa.cert_failures >= 1 && sa.negotiation_failures >= 1;
}

static void
test_cert(void **state)
{
	struct side a, b;

	(void)state;
	cert_sides(&a, &b, "hostB");
	acquire(&a, &b);
	assert_true(pump(&a, &b, both_qm, 5000));
	check_pair(&a, &b, DRV_PROTO_ESP);
	assert_int_equal(a.ev[AUDIT_IKE_SA_ESTABLISHED], 2);
	assert_int_equal(b.ev[AUDIT_IKE_SA_ESTABLISHED], 2);
	side_close(&a);
	side_close(&b);
}

static void
test_cert_untrusted(void **state)
{
	struct side a, b;

	(void)state;
	cert_sides(&a, &b, "rogue");		/* CA 2: not the rule's CA */
	acquire(&a, &b);
	assert_true(pump(&a, &b, a_cert_failed, 5000));
	assert_int_equal(a.ev[AUDIT_IKE_CERT_TRUST], 1);
	assert_int_equal(null_sa_count(a.drv), 0);
	side_close(&a);
	side_close(&b);
	cert_sides(&a, &b, "expired");
	acquire(&a, &b);
	assert_true(pump(&a, &b, a_cert_failed, 5000));
	assert_int_equal(a.ev[AUDIT_IKE_CERT_TRUST], 1);
	side_close(&a);
	side_close(&b);
}

/* ---- Kerberos (GSS-API) against a real MIT KDC --------------------- */

#define KRB_REALM	"EXAMPLE.TEST"
#define KRB_A		"host/a.example.test@" KRB_REALM
#define KRB_B		"host/b.example.test@" KRB_REALM
#define KRB_STALE	"host/stale.example.test@" KRB_REALM
#define KRB_C		"host/c.example.test@" KRB_REALM
#define KRB_D		"host/d.example.test@" KRB_REALM

static struct {
	bool	up;
	char	src[512];
	char	dir[64];
	char	kt_a[160], kt_b[160], kt_c[160], kt_d[160], kt_stale[160];
} kx;

static int
krb_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
krb_run(const char *fmt, ...)
{
	char cmd[2048];
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

static int
krb_setup(void **state)
{
	const char *src = getenv("PA_SOURCE_DIR");
	char conf[160];
	int rc;

	(void)state;
	if (src == NULL)
		return 0;	/* the tests skip */
	snprintf(kx.src, sizeof(kx.src), "%s", src);
	snprintf(kx.dir, sizeof(kx.dir), "/tmp/pa-krbG-XXXXXX");
	if (mkdtemp(kx.dir) == NULL)
		return -1;
	rc = krb_run("'%s/tests/lib/kdc.sh' start '%s/kdc' -r " KRB_REALM
	    " host/a.example.test host/b.example.test host/c.example.test"
	    " host/d.example.test"
	    " host/stale.example.test"
	    " >/dev/null", kx.src, kx.dir);
	if (rc == 77)
		return 0;	/* no MIT KDC here: the tests skip */
	if (rc != 0)
		return -1;
	kx.up = true;
	snprintf(kx.kt_a, sizeof(kx.kt_a),
	    "%s/kdc/keytabs/host_a.example.test.keytab", kx.dir);
	snprintf(kx.kt_b, sizeof(kx.kt_b),
	    "%s/kdc/keytabs/host_b.example.test.keytab", kx.dir);
	snprintf(kx.kt_c, sizeof(kx.kt_c),
	    "%s/kdc/keytabs/host_c.example.test.keytab", kx.dir);
	snprintf(kx.kt_d, sizeof(kx.kt_d),
	    "%s/kdc/keytabs/host_d.example.test.keytab", kx.dir);
	snprintf(kx.kt_stale, sizeof(kx.kt_stale),
	    "%s/kdc/keytabs/host_stale.example.test.keytab", kx.dir);
	/* The KDC changes stale's key; its keytab keeps the old one. */
	if (krb_run("'%s/tests/lib/kdc.sh' kadmin '%s/kdc' cpw -randkey "
	    "host/stale.example.test >/dev/null 2>&1", kx.src, kx.dir) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/kdc/krb5.conf", kx.dir);
	setenv("KRB5_CONFIG", conf, 1);
	setenv("KRB5CCNAME", "MEMORY:pa-test-unused", 1);
	setenv("KRB5RCACHEDIR", kx.dir, 1);
	return 0;
}

static int
krb_teardown(void **state)
{
	(void)state;
	if (kx.up)
		(void)krb_run("'%s/tests/lib/kdc.sh' stop '%s/kdc' "
		    ">/dev/null 2>&1", kx.src, kx.dir);
	if (kx.dir[0] != '\0')
		(void)krb_run("rm -rf '%s'", kx.dir);
	return 0;
}

/* One side with Kerberos (then PSK when psk_too) as its rule's methods. */
static void
krb_side(struct side *s, const char *addr, const char *peer,
    const char *keytab, const char *principal, bool psk_too)
{
	krb_keytab = keytab;
	krb_principal = principal;
	side_open(s, addr, peer, "secret-psk", 100);
	krb_keytab = krb_principal = NULL;
	memset(&s->auths[0], 0, sizeof(s->auths[0]));
	s->auths[0].kind = POL_AUTH_KERBEROS;
	s->auths[1] = s->auth;
	s->rule.auth = s->auths;
	s->rule.nauth = psk_too ? 2 : 1;
}

static bool
a_failed(struct side *a, struct side *b)
{
	struct ike_stats sa;

	(void)b;
	ike_stats(a->ike, &sa);
	return sa.negotiation_failures >= 1;
}

static bool
both_failed(struct side *a, struct side *b)
{
	struct ike_stats sa, sb;

	ike_stats(a->ike, &sa);
	ike_stats(b->ike, &sb);
	return sa.negotiation_failures >= 1 && sb.negotiation_failures >= 1;
}

/* On failure, what each engine said (the Oakley log, the last 547). */
static void
krb_dump(const struct side *a, const struct side *b)
{
	const struct side *s[2] = { a, b };
	size_t i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < s[k]->nlog; i++)
			fprintf(stderr, "%c: %s\n", (int)('a' + k), s[k]->log[i]);
		fprintf(stderr, "%c: last 547: %s\n", (int)('a' + k),
		    s[k]->reason);
	}
}

static bool
krb_pump(struct side *a, struct side *b,
    bool (*done)(struct side *, struct side *), unsigned ms)
{
	if (pump(a, b, done, ms))
		return true;
	krb_dump(a, b);
	return false;
}

static bool
has_log(const struct side *s, const char *what)
{
	size_t i;

	for (i = 0; i < s->nlog; i++)
		if (strstr(s->log[i], what) != NULL)
			return true;
	return false;
}

static bool
both_have_tickets(struct side *a, struct side *b)
{
	return has_log(a, "Kerberos: tickets for") &&
	    has_log(b, "Kerberos: tickets for");
}

/*
 * The phase 1 SA payload as Main Mode reads it with Kerberos offered
 * (tests/fuzz/corpus/krb_sa/mm1_kerberos_psk_w2k: a Kerberos transform
 * with a GSS Identity, a PSK one, a Kerberos one with the Windows 2000
 * attribute number and a trailing NUL), then every truncation of it.
 */
static void
test_krb_sa_payload(void **state)
{
	static struct isk_sa sa;
	uint8_t buf[1024];
	char path[600], name[IKE_GSS_NAME_MAX + 1];
	struct ike_p1 p1;
	struct pa_bytes gi;
	const char *src = getenv("PA_SOURCE_DIR");
	size_t n, cut, i;
	FILE *f;

	(void)state;
	if (src == NULL)
		skip();
	snprintf(path, sizeof(path),
	    "%s/tests/fuzz/corpus/krb_sa/mm1_kerberos_psk_w2k", src);
	assert_non_null(f = fopen(path, "rb"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(isk_parse_sa((struct pa_bytes){ buf, n }, &sa), 0);
	assert_int_equal(sa.nxf, 3);
	assert_int_equal(ike_krb_p1_from_xform(&sa.xf[0], &p1), 0);
	assert_int_equal(p1.auth, ISK_AUTH_GSS);
	assert_int_equal(p1.keylen, 16);
	assert_int_equal(p1.group, 14);
	assert_true(ike_krb_xform_gi(&sa.xf[0], &gi));
	assert_int_equal(ike_gss_id_decode(gi, name, sizeof(name)), 0);
	assert_string_equal(name, "host/a.example.test@EXAMPLE.TEST");
	assert_int_equal(ike_krb_p1_from_xform(&sa.xf[1], &p1), 0);
	assert_int_equal(p1.auth, ISK_AUTH_PSK);
	assert_false(ike_krb_xform_gi(&sa.xf[1], &gi));
	assert_int_equal(ike_krb_p1_from_xform(&sa.xf[2], &p1), 0);
	assert_true(ike_krb_xform_gi(&sa.xf[2], &gi));
	assert_int_equal(ike_gss_id_decode(gi, name, sizeof(name)), 0);
	assert_string_equal(name, "HOSTA$@EXAMPLE.TEST");
	for (cut = 0; cut < n; cut++) {
		if (isk_parse_sa((struct pa_bytes){ buf, cut }, &sa) != 0)
			continue;
		for (i = 0; i < sa.nxf; i++) {
			if (ike_krb_p1_from_xform(&sa.xf[i], &p1) != 0)
				memset(&p1, 0, sizeof(p1));
			if (ike_krb_xform_gi(&sa.xf[i], &gi))
				assert_true(gi.len <= sa.xf[i].attrs.len);
		}
	}
}

/* Both roles: Main Mode with Kerberos, then Quick Mode, keys agree. */
static void
test_krb_both_ways(void **state)
{
	struct side a, b;
	int dir;

	(void)state;
	if (!kx.up)
		skip();
	for (dir = 0; dir < 2; dir++) {
		krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, false);
		krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_b, KRB_B, false);
		if (dir == 0)
			acquire(&a, &b);
		else
			acquire(&b, &a);
		assert_true(krb_pump(&a, &b, both_qm, 10000));
		check_pair(&a, &b, DRV_PROTO_ESP);
		assert_int_equal(a.ev[AUDIT_IKE_NEG_FAILED], 0);
		assert_int_equal(b.ev[AUDIT_IKE_NEG_FAILED], 0);
		/* The Main Mode 541 names the peer as Windows does. */
		assert_non_null(strstr(a.ident,
		    "Kerberos based Identity: " KRB_B));
		assert_non_null(strstr(b.ident,
		    "Kerberos based Identity: " KRB_A));
		side_close(&a);
		side_close(&b);
	}
}

/* A keytab whose keys the KDC no longer has: 547 says so, no SA. */
static void
test_krb_wrong_keytab(void **state)
{
	struct side a, b;

	(void)state;
	if (!kx.up)
		skip();
	/* Initiator with the stale keytab. */
	krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_stale, KRB_STALE, false);
	krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_b, KRB_B, false);
	acquire(&a, &b);
	assert_true(krb_pump(&a, &b, a_failed, 10000));
	assert_non_null(strstr(a.reason, "Kerberos: wrong keytab"));
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_int_equal(null_sa_count(b.drv), 0);
	side_close(&a);
	side_close(&b);
	/* Responder with the stale keytab: it cannot do Kerberos at all. */
	krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, false);
	krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_stale, KRB_STALE, false);
	acquire(&a, &b);
	assert_true(krb_pump(&a, &b, both_failed, 10000));
	assert_non_null(strstr(b.reason, "Kerberos: wrong keytab"));
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_int_equal(null_sa_count(b.drv), 0);
	side_close(&a);
	side_close(&b);
}

/*
 * The responder's keytab goes stale after it got its own tickets (its
 * key changes at the KDC): the AP-REQ names a key version it does not
 * have. Both sides' 547 say "wrong keytab": the responder's from
 * accepting, the initiator's from the KRB-ERROR token sent with the
 * AUTHENTICATION-FAILED notify.
 */
static void
test_krb_acceptor_stale(void **state)
{
	struct side a, b;

	(void)state;
	if (!kx.up)
		skip();
	krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, false);
	krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_c, KRB_C, false);
	ike_krb_start(a.ike);
	ike_krb_start(b.ike);
	assert_true(krb_pump(&a, &b, both_have_tickets, 10000));
	assert_int_equal(krb_run("'%s/tests/lib/kdc.sh' kadmin '%s/kdc' cpw "
	    "-randkey host/c.example.test >/dev/null 2>&1", kx.src, kx.dir), 0);
	acquire(&a, &b);
	assert_true(krb_pump(&a, &b, both_failed, 10000));
	if (strstr(a.reason, "wrong keytab") == NULL)
		krb_dump(&a, &b);
	assert_non_null(strstr(b.reason, "Kerberos: wrong keytab"));
	assert_non_null(strstr(a.reason, "AUTHENTICATION-FAILED: Kerberos: "
	    "wrong keytab"));
	assert_int_equal(null_sa_count(a.drv), 0);
	assert_int_equal(null_sa_count(b.drv), 0);
	side_close(&a);
	side_close(&b);
}

/*
 * The responder's principal is deleted from the KDC after it got its
 * tickets: the initiator's service ticket request fails in the middle of
 * Main Mode (547 "no service principal for the peer") and, the rule
 * being "Kerberos, then PSK", a new Main Mode with the PSK brings the
 * SAs up for the traffic that waited.
 */
static void
test_krb_no_service_fallback(void **state)
{
	struct side a, b;

	(void)state;
	if (!kx.up)
		skip();
	krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, true);
	krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_d, KRB_D, true);
	ike_krb_start(a.ike);
	ike_krb_start(b.ike);
	assert_true(krb_pump(&a, &b, both_have_tickets, 10000));
	assert_int_equal(krb_run("'%s/tests/lib/kdc.sh' kadmin '%s/kdc' "
	    "delprinc -force host/d.example.test >/dev/null 2>&1", kx.src,
	    kx.dir), 0);
	acquire(&a, &b);
	assert_true(krb_pump(&a, &b, both_qm, 10000));
	check_pair(&a, &b, DRV_PROTO_ESP);
	if (strstr(a.reason, "no service principal") == NULL)
		krb_dump(&a, &b);
	assert_non_null(strstr(a.reason,
	    "Kerberos: no service principal for the peer"));
	assert_non_null(strstr(a.ident, "Preshared key"));
	assert_true(has_log(&a, "trying the rule's next method"));
	side_close(&a);
	side_close(&b);
}

/*
 * The KDC stops after both sides got their tickets: the initiator cannot
 * get a service ticket. Kerberos alone: 547 "KDC unreachable", no SA.
 * "Kerberos, then PSK": the same 547, then PSK brings the SAs up. Last
 * in the group: the KDC stays down.
 */
static void
test_krb_kdc_stopped(void **state)
{
	struct side a, b;
	struct ike_stats st;
	struct stat sb;
	char ccfile[300], ccfile_b[300];
	int round;

	(void)state;
	if (!kx.up)
		skip();
	/*
	 * Tickets kept in a file (root-only) by each side's run while the
	 * KDC was up: the TGT and, for the initiator, the peer's service
	 * ticket.
	 */
	snprintf(ccfile, sizeof(ccfile), "%s/krb5cc_a", kx.dir);
	snprintf(ccfile_b, sizeof(ccfile_b), "%s/krb5cc_b", kx.dir);
	krb_ccache = ccfile;
	krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, false);
	krb_ccache = ccfile_b;
	krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_b, KRB_B, false);
	krb_ccache = NULL;
	acquire(&a, &b);
	assert_true(krb_pump(&a, &b, both_qm, 15000));
	side_close(&a);
	side_close(&b);
	assert_int_equal(stat(ccfile, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	for (round = 0; round < 2; round++) {
		bool psk = round == 1;

		krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, psk);
		krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_b, KRB_B, psk);
		if (round == 0) {
			ike_krb_start(a.ike);
			ike_krb_start(b.ike);
			assert_true(krb_pump(&a, &b, both_have_tickets, 10000));
			assert_int_equal(krb_run("'%s/tests/lib/kdc.sh' stop "
			    "'%s/kdc' >/dev/null 2>&1", kx.src, kx.dir), 0);
			kx.up = false;
		} else {
			/* New credentials need the KDC: it is down. */
			ike_krb_start(a.ike);
			ike_krb_start(b.ike);
		}
		acquire(&a, &b);
		if (!psk) {
			assert_true(krb_pump(&a, &b, a_failed, 10000));
			if (strstr(a.reason, "Kerberos: KDC unreachable") == NULL)
				krb_dump(&a, &b);
			assert_non_null(strstr(a.reason,
			    "Kerberos: KDC unreachable"));
			assert_int_equal(null_sa_count(a.drv), 0);
		} else {
			assert_true(krb_pump(&a, &b, both_qm, 15000));
			check_pair(&a, &b, DRV_PROTO_ESP);
			assert_non_null(strstr(a.reason,
			    "Kerberos: KDC unreachable"));
			ike_stats(a.ike, &st);
			assert_true(st.negotiation_failures >= 1);
			assert_non_null(strstr(a.ident, "Preshared key"));
		}
		side_close(&a);
		side_close(&b);
	}
	/*
	 * Both restart while the KDC is down: the kept tickets carry
	 * Kerberos Main Mode and Quick Mode (the first round above, without
	 * them, failed with "KDC unreachable").
	 */
	krb_ccache = ccfile;
	krb_side(&a, "127.0.0.1", "127.0.0.2", kx.kt_a, KRB_A, false);
	krb_ccache = ccfile_b;
	krb_side(&b, "127.0.0.2", "127.0.0.1", kx.kt_b, KRB_B, false);
	krb_ccache = NULL;
	acquire(&a, &b);
	if (!krb_pump(&a, &b, both_qm, 15000))
		krb_dump(&a, &b);
	assert_true(both_qm(&a, &b));
	assert_non_null(strstr(a.ident, "Kerberos"));
	side_close(&a);
	side_close(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_transport),
		cmocka_unit_test(test_sa_info),
		cmocka_unit_test(test_sa_entries),
		cmocka_unit_test(test_hard_expiry_tells_peer),
		cmocka_unit_test(test_soft_only_when_asked),
		cmocka_unit_test(test_soft_scoped),
		cmocka_unit_test(test_order_tunnel_pfs_bundle),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_responder_choice_not_offered),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_gcm),
		cmocka_unit_test(test_gcm_no_driver),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_dos_cookies),
		cmocka_unit_test(test_dos_per_source),
		cmocka_unit_test(test_dpd),
		cmocka_unit_test(test_default_response_master_pfs),
		cmocka_unit_test(test_dh_ahead),
		cmocka_unit_test(test_responder_spd),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_float_needs_auth),
		cmocka_unit_test(test_proto_port_ids),
	};
	const struct CMUnitTest cert_tests[] = {
		cmocka_unit_test(test_cert),
		cmocka_unit_test(test_cert_untrusted),
	};
	const struct CMUnitTest krb_tests[] = {
		cmocka_unit_test(test_krb_sa_payload),
		cmocka_unit_test(test_krb_both_ways),
		cmocka_unit_test(test_krb_wrong_keytab),
		cmocka_unit_test(test_krb_acceptor_stale),
		cmocka_unit_test(test_krb_no_service_fallback),
		cmocka_unit_test(test_krb_kdc_stopped),
	};
	int rc;

	port = (uint16_t)(20000 + getpid() % 20000);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rc |= cmocka_run_group_tests(cert_tests, pki_setup, pki_teardown);
	rc |= cmocka_run_group_tests(krb_tests, krb_setup, krb_teardown);
	return rc;
}
