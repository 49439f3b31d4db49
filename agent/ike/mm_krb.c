/*
 * Kerberos (GSS-API, method 65001) for Main Mode: the engine's
 * credentials and worker threads, the phase 1 offers that include it, and
 * the SA payloads that carry the GSS Identity attribute. The method's
 * steps are in auth_krb.c, which hands a worker's results a callback;
 * auth_gss.c talks to MIT's GSS-API.
 *
 * Objects that a worker job refers to (struct ike_mm_krb) are kept on a
 * list of the engine's and checked against the live Main Mode SAs before
 * use, because the engine frees Main Mode SAs without telling us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_gss.h"
#include "ike_exch.h"
#include "ike_krb.h"

#define KRB_RETRY_MS	10000	/* after a credential failure */

struct ike_krb {
	struct ike_gss_async	*async;
	struct ike_gss_cred	*cred;
	bool			 pending;	/* a cred_new job runs */
	bool			 refreshing;
	bool			 failed;	/* the last cred_new failed */
	struct ike_gss_err	 err;
	uint64_t		 retry_at;
	/* Stands for a PSK when asking sel.c for Kerberos offers. */
	struct pa_secret	*dummy;
	struct ike_mm_krb	*list;
};

static struct ike_krb *
krb_state(struct ike *ike)
{
	struct ike_krb *k = ike->krb;

	if (k != NULL)
		return k;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	/*
	 * The krb5 profile is process-wide: set it before the first worker
	 * thread exists, never while one may read it.
	 */
	if (ike->cfg.krb_config != NULL)
		setenv("KRB5_CONFIG", ike->cfg.krb_config, 1);
	if ((k->dummy = pa_secret_new("-", 1)) == NULL ||
	    ike_gss_async_new(1, &k->async) != 0) {
		pa_secret_free(k->dummy);
		free(k);
		return NULL;
	}
	ike->krb = k;
	return k;
}

bool
ike_krb_configured(const struct ike *ike)
{
	return ike->cfg.krb_keytab != NULL || ike->cfg.krb_principal != NULL;
}

static bool
mm_alive(const struct ike *ike, const struct ike_mm *mm)
{
	const struct ike_mm *o;

	for (o = ike->mm_head; o != NULL; o = o->next)
		if (o == mm)
			return o->state != MM_DEAD;
	return false;
}

static void
entry_free(struct ike_mm_krb *e)
{
	ike_gss_ctx_free(e->ctx);	/* cancels a job on it */
	free(e->tok);
	pa_wipe(e, sizeof(*e));
	free(e);
}

/* Free the entries whose Main Mode SA is gone. */
static void
krb_gc(struct ike *ike)
{
	struct ike_krb *k = ike->krb;
	struct ike_mm_krb **pp, *e;

	if (k == NULL)
		return;
	for (pp = &k->list; (e = *pp) != NULL;) {
		if (mm_alive(ike, e->mm) && e->mm->krb == e) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		entry_free(e);
	}
}

/* Main Modes that waited for our tickets: MM #1, or no usable method. */
static void
mm_cred_done(struct ike *ike, struct ike_mm *mm, bool ok)
{
	const struct ike_gss_err *err = ike_krb_cred_error(ike);
	bool wait;

	if (!ok && err != NULL)
		/* 547 for Kerberos; then the rule's next method. */
		ike_audit_fail(ike, IKE_MM_MODE, &mm->peer, "Me", err->text);
	mm->noffers = ike_krb_p1_offers(ike, &mm->rule, mm->offers, 16, &wait);
	if (mm->noffers == 0 || ike->up.mm_send1(ike, mm) != 0) {
		if (ok || err == NULL)
			ike_audit_fail(ike, IKE_MM_MODE, &mm->peer, "Me",
			    "No usable authentication method");
		ike_mm_kill(ike, mm, "no usable authentication method");
	}
}

/* Main Modes that waited for our tickets go on (or give Kerberos up). */
static void
wake_waiters(struct ike *ike, bool ok)
{
	struct ike_mm *mm, *next;

	for (mm = ike->mm_head; mm != NULL; mm = next) {
		next = mm->next;
		if (mm->state == MM_I_CRED_WAIT)
			mm_cred_done(ike, mm, ok);
	}
}

static void
on_refresh(void *arg, struct ike_gss_cred *cred, int rc,
    const struct ike_gss_err *err)
{
	struct ike *ike = arg;
	struct ike_krb *k = ike->krb;

	(void)cred;
	k->refreshing = false;
	if (rc != 0) {
		ike_olog(ike, "Kerberos: renewing our tickets failed, the old "
		    "ones stay in use: %s", err->text);
		if (time(NULL) >= ike_gss_cred_expiry(k->cred)) {
			/* Expired and not renewed: like having none. */
			k->failed = true;
			k->err = *err;
			k->retry_at = ike_now() + KRB_RETRY_MS;
			ike_gss_cred_free(k->cred);
			k->cred = NULL;
		}
	} else {
		ike_olog(ike, "Kerberos: tickets renewed");
		(void)ike_gss_cred_save(k->cred);
	}
	wake_waiters(ike, k->cred != NULL);
}

static void
on_cred(void *arg, struct ike_gss_cred *cred, int rc,
    const struct ike_gss_err *err)
{
	struct ike *ike = arg;
	struct ike_krb *k = ike->krb;

	k->pending = false;
	if (rc == 0 && cred != NULL) {
		ike_gss_cred_free(k->cred);
		k->cred = cred;
		k->failed = false;
		ike_olog(ike, "Kerberos: tickets for %s obtained",
		    ike_gss_cred_name(cred));
		(void)ike_gss_cred_save(cred);
	} else {
		k->failed = true;
		k->err = *err;
		k->retry_at = ike_now() + KRB_RETRY_MS;
		ike_olog(ike, "%s", err->text);
	}
	wake_waiters(ike, k->cred != NULL);
}

static void
cred_start(struct ike *ike, struct ike_krb *k)
{
	struct ike_gss_cred_cfg cc;

	if (k->pending || (k->failed && ike_now() < k->retry_at))
		return;
	memset(&cc, 0, sizeof(cc));
	cc.keytab = ike->cfg.krb_keytab;
	cc.principal = ike->cfg.krb_principal;
	cc.ccache_file = ike->cfg.krb_ccache;
	if (ike_gss_async_cred_new(k->async, &cc, on_cred, ike) == 0)
		k->pending = true;
}

void
ike_krb_start(struct ike *ike)
{
	struct ike_krb *k;

	if (ike_krb_configured(ike) && (k = krb_state(ike)) != NULL &&
	    k->cred == NULL)
		cred_start(ike, k);
}

struct ike_gss_cred *
ike_krb_cred(struct ike *ike)
{
	struct ike_krb *k;

	if (!ike_krb_configured(ike) || (k = krb_state(ike)) == NULL)
		return NULL;
	if (k->cred == NULL) {
		cred_start(ike, k);
		return NULL;
	}
	/* Renewal before expiry; negotiations in flight keep the old ones. */
	if (!k->refreshing && time(NULL) >= ike_gss_cred_refresh_at(k->cred) &&
	    ike_gss_async_refresh(k->async, k->cred, on_refresh, ike) == 0)
		k->refreshing = true;
	/* Expired (renewal late or failing): wait for the renewal. */
	if (time(NULL) >= ike_gss_cred_expiry(k->cred))
		return NULL;
	return k->cred;
}

const struct ike_gss_err *
ike_krb_cred_error(const struct ike *ike)
{
	return ike->krb != NULL && ike->krb->failed ? &ike->krb->err : NULL;
}

int
ike_krb_fd(const struct ike *ike)
{
	return ike->krb != NULL ? ike_gss_async_fd(ike->krb->async) : -1;
}

void
ike_krb_dispatch(struct ike *ike)
{
	if (ike->krb == NULL)
		return;
	(void)ike_gss_async_dispatch(ike->krb->async);
	krb_gc(ike);
}

void
ike_krb_free(struct ike *ike)
{
	struct ike_krb *k;
	struct ike_mm_krb *e;
	struct ike_mm *mm;

	if (ike == NULL || (k = ike->krb) == NULL)
		return;
	for (mm = ike->mm_head; mm != NULL; mm = mm->next)
		mm->krb = NULL;
	while ((e = k->list) != NULL) {
		k->list = e->next;
		entry_free(e);
	}
	ike_gss_async_free(k->async);
	ike_gss_cred_free(k->cred);
	pa_secret_free(k->dummy);
	free(k);
	ike->krb = NULL;
}

size_t
ike_krb_p1_offers(struct ike *ike, const struct ike_rulecopy *rule,
    struct ike_p1 *out, size_t cap, bool *cred_wait)
{
	struct ike_rulecopy one;
	size_t a, i, k, n = 0;
	bool gss;

	*cred_wait = false;
	for (a = 0; a < rule->nauths && n < cap; a++) {
		gss = rule->auths[a] == ISK_AUTH_GSS;
		/* A shallow copy with this one method: never cleared. */
		one = *rule;
		one.nauths = 1;
		one.auths[0] = rule->auths[a];
		if (gss) {
			if (ike_krb_cred(ike) == NULL) {
				if (ike->krb != NULL && (ike->krb->pending ||
				    ike->krb->refreshing))
					*cred_wait = true;
				continue;
			}
			/* sel.c offers what the ISAKMP policy lists for a
			   method it can use; PSK with a stand-in key is the
			   same list. */
			one.auths[0] = ISK_AUTH_PSK;
			one.psk = ike->krb->dummy;
		}
		k = ike_p1_offers(ike, &one, out + n, cap - n);
		for (i = 0; gss && i < k; i++)
			out[n + i].auth = ISK_AUTH_GSS;
		n += k;
	}
	return n;
}

/* The GSS Identity attribute of a Kerberos transform (ike_p1_write_xform). */
static int
gss_id_attr(struct wr *w, const struct ike_p1 *p, void *arg)
{
	struct ike *ike = arg;

	if (p->auth != ISK_AUTH_GSS)
		return 0;
	if (ike->krb == NULL || ike->krb->cred == NULL)
		return PA_E_STATE;
	return ike_gss_id_attr_encode(w, ike_gss_cred_name(ike->krb->cred));
}

int
ike_krb_write_sa(struct ike *ike, struct wr *w, const struct ike_p1 *p,
    size_t n)
{
	return ike_p1_write_sa_with(w, p, n, gss_id_attr, ike);
}

int
ike_krb_write_xform(struct ike *ike, struct wr *w, const struct ike_p1 *p,
    uint8_t num)
{
	struct isk_chain xfs;

	isk_chain_init(&xfs);
	return ike_p1_write_xform(w, &xfs, p, num, gss_id_attr, ike);
}

bool
ike_krb_xform_gi(const struct isk_xform *x, struct pa_bytes *gi)
{
	struct isk_attr a;
	struct rd r;

	rd_init(&r, x->attrs.p, x->attrs.len);
	while (isk_attr_next(&r, &a) == 0)
		if (ike_gss_id_attr_type(a.type) && !a.tv) {
			*gi = a.val;
			return true;
		}
	return false;
}

struct ike_mm_krb *
ike_mm_krb_get(struct ike *ike, struct ike_mm *mm)
{
	struct ike_krb *k;
	struct ike_mm_krb *e;

	if (mm->krb != NULL)
		return mm->krb;
	if ((k = krb_state(ike)) == NULL)
		return NULL;
	krb_gc(ike);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->ike = ike;
	e->mm = mm;
	e->next = k->list;
	k->list = e;
	mm->krb = e;
	return e;
}

void
ike_mm_krb_free(struct ike *ike, struct ike_mm *mm)
{
	(void)ike;
	mm->krb = NULL;
	krb_gc(ike);
}

static void
on_step(void *arg, struct ike_gss_ctx *ctx, int rc, struct pa_bytes out,
    bool complete, const struct ike_gss_err *err)
{
	struct ike_mm_krb *e = arg;
	struct ike *ike = e->ike;

	(void)ctx;
	if (!mm_alive(ike, e->mm) || e->mm->krb != e) {
		krb_gc(ike);
		return;
	}
	/* A service ticket got as initiator: keep it for a restart. */
	if (rc == 0 && e->mm->initiator && ike->krb != NULL)
		(void)ike_gss_cred_save(ike->krb->cred);
	e->step_done(ike, e->mm, rc, out, complete, err);
}

int
ike_mm_krb_step_async(struct ike *ike, struct ike_mm *mm,
    ike_mm_krb_done_fn done)
{
	struct pa_bytes none = { NULL, 0 };

	if (ike->krb == NULL || mm->krb == NULL || mm->krb->ctx == NULL)
		return PA_E_STATE;
	mm->krb->step_done = done;
	return ike_gss_async_step(ike->krb->async, mm->krb->ctx, none, on_step,
	    mm->krb);
}

int
ike_krb_p1_from_xform(const struct isk_xform *x, struct ike_p1 *p)
{
	uint8_t buf[512];
	struct isk_xform c = *x;
	struct isk_attr a;
	struct rd r;
	struct wr w;
	int rc;

	/*
	 * sel.c reads every attribute as a number; the GSS Identity Name is
	 * a string, so hand it the transform without it.
	 */
	wr_init(&w, buf, sizeof(buf));
	rd_init(&r, x->attrs.p, x->attrs.len);
	while ((rc = isk_attr_next(&r, &a)) == 0) {
		if (ike_gss_id_attr_type(a.type) && !a.tv)
			continue;
		rc = a.tv ? isk_attr_tv(&w, a.type, a.tv_val) :
		    isk_attr_tlv(&w, a.type, a.val.p, a.val.len);
		if (rc != 0)
			return rc;
	}
	if (rc != PA_E_NOENT)
		return rc;
	if (w.err != 0)
		return w.err;
	c.attrs = (struct pa_bytes){ w.p, w.len };
	return ike_p1_from_xform(&c, p);
}
