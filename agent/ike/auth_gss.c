/*
 * Kerberos (GSS-API) authentication for IKEv1 Main Mode:
 * draft-ietf-ipsec-isakmp-gss-auth-07 over MIT libgssapi_krb5.
 *
 * Readings chosen where the draft, Windows and racoon leave room (each is
 * repeated at the code it governs and in docs/kerberos.md):
 *  R1 Token payload body: we send the draft-07 layout (one vendor octet,
 *     0, then the token) because -07 added that octet "for Windows 2000
 *     compatibility"; we accept it and racoon's raw token alike.
 *  R2 GSS Identity Name: UTF-16LE without terminator (draft: "unicode";
 *     racoon: UTF-16LE); a trailing NUL is tolerated on receive; both
 *     16384 and 32001 are accepted.
 *  R3 HASH_I/HASH_R: GSS_Wrap with confidentiality when the context
 *     offers it (the draft's "strongest possible protection", as racoon)
 *     and the default QOP; the receiver unwraps and compares the digest.
 *  R4 "GSSi [| GSSi(n)...]": the token data of every token that side
 *     sent, in order, without the vendor octet.
 *  R5 Context flags: mutual + integrity + confidentiality requested; a
 *     context that completes without mutual or integrity is refused.
 *  R6 Acceptor: any key of the keytab (GSS_C_NO_NAME), so one machine
 *     keytab serves "host/<fqdn>" and "NAME$".
 *  R7 Peer check: by default any principal of our own realm (Windows
 *     accepts any domain member); names compare case-insensitively.
 */
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <openssl/asn1.h>
#include <openssl/crypto.h>

#include "auth_gss.h"
#include "pa_log.h"
#include "pa_secret.h"

#define GSS_CCNAME_MAX		64
#define GSS_MAX_STEPS		8
#define GSS_TRANSCRIPT_MAX	(4 * IKE_GSS_TOKEN_MAX)
#define GSS_MIN_MARGIN		60

/*
 * One set of tickets: the initiator credential over a private MEMORY
 * ccache and the acceptor credential over the keytab. Shared by the
 * owning ike_gss_cred and by the contexts started while it was current,
 * so a refresh never pulls credentials from under a negotiation.
 */
struct gss_gen {
	unsigned	 refs;
	krb5_context	 kctx;		/* to destroy the ccache */
	gss_cred_id_t	 init;
	gss_cred_id_t	 acc;
	char		 ccname[GSS_CCNAME_MAX];
	time_t		 expiry;
	uint32_t	 life;
};

struct ike_gss_cred {
	krb5_context	 kctx;
	char		*keytab;		/* "FILE:/path" */
	char		*ccfile;		/* persisted tickets, or NULL */
	char		*name;			/* "name@REALM" */
	const char	*realm;			/* into name */
	uint32_t	 margin_cfg;
	struct gss_gen	*gen;
	unsigned	 generation;
	unsigned	 pending;		/* async refreshes in flight */
	bool		 free_pending;		/* freed while one was */
};

struct gss_job;

/* A growable byte string with a hard cap. */
struct gss_bytes {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
};

struct ike_gss_ctx {
	enum ike_gss_role	 role;
	struct gss_gen		*gen;
	char			*realm;		/* our realm, for the default */
	gss_name_t		 target;
	gss_ctx_id_t		 gctx;
	OM_uint32		 flags;
	bool			 complete;
	bool			 dead;
	unsigned		 steps;
	char			**allow;
	size_t			 nallow;
	char			*peer;
	char			*local;
	struct gss_bytes	 out;		/* last token produced */
	struct gss_bytes	 sent;
	struct gss_bytes	 received;
	struct gss_job		*job;		/* owned by a worker job */
	bool			 cancelled;	/* freed while it was */
};

static atomic_uint	gss_ccache_seq;

static const char *const gss_fail_names[] = {
	[IKE_GSS_F_NONE] = "none",
	[IKE_GSS_F_KDC_UNREACHABLE] = "kdc-unreachable",
	[IKE_GSS_F_NO_SERVICE] = "no-service-principal",
	[IKE_GSS_F_NO_CLIENT] = "no-client-principal",
	[IKE_GSS_F_CLOCK_SKEW] = "clock-skew",
	[IKE_GSS_F_WRONG_KEYTAB] = "wrong-keytab",
	[IKE_GSS_F_NO_KEYTAB] = "no-keytab",
	[IKE_GSS_F_EXPIRED] = "expired",
	[IKE_GSS_F_NOT_ALLOWED] = "principal-not-allowed",
	[IKE_GSS_F_HASH] = "hash-mismatch",
	[IKE_GSS_F_TOKEN] = "bad-token",
	[IKE_GSS_F_CONFIG] = "config",
	[IKE_GSS_F_OTHER] = "other"
};

/* The first words of event 547's reason, per kind. */
static const char *const gss_fail_text[] = {
	[IKE_GSS_F_NONE] = "no error",
	[IKE_GSS_F_KDC_UNREACHABLE] = "KDC unreachable",
	[IKE_GSS_F_NO_SERVICE] = "no service principal for the peer",
	[IKE_GSS_F_NO_CLIENT] = "our principal is unknown to the KDC",
	[IKE_GSS_F_CLOCK_SKEW] = "clock skew too great",
	[IKE_GSS_F_WRONG_KEYTAB] = "wrong keytab (keys do not match the KDC's)",
	[IKE_GSS_F_NO_KEYTAB] = "no usable keytab",
	[IKE_GSS_F_EXPIRED] = "ticket expired",
	[IKE_GSS_F_NOT_ALLOWED] = "peer principal not allowed by the rule",
	[IKE_GSS_F_HASH] = "peer's hash failed the GSS check",
	[IKE_GSS_F_TOKEN] = "malformed or unexpected GSS token",
	[IKE_GSS_F_CONFIG] = "bad local configuration",
	[IKE_GSS_F_OTHER] = "GSS-API failure"
};

const char *
ike_gss_fail_name(enum ike_gss_fail f)
{
	if ((unsigned)f >= sizeof(gss_fail_names) / sizeof(gss_fail_names[0]))
		return "unknown";
	return gss_fail_names[f];
}

enum ike_gss_fail
ike_gss_classify(uint32_t major, uint32_t minor)
{
	switch ((krb5_error_code)minor) {
	case KRB5_KDC_UNREACH:
	case KRB5_REALM_CANT_RESOLVE:
	case KRB5_REALM_UNKNOWN:
		return IKE_GSS_F_KDC_UNREACHABLE;
	case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return IKE_GSS_F_NO_SERVICE;
	case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
		return IKE_GSS_F_NO_CLIENT;
	case KRB5KRB_AP_ERR_SKEW:
	case KRB5_KDCREP_SKEW:
	/* The acceptor's clock is behind the KDC's by more than the skew. */
	case KRB5KRB_AP_ERR_TKT_NYV:
		return IKE_GSS_F_CLOCK_SKEW;
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
	case KRB5KDC_ERR_PREAUTH_FAILED:
	case KRB5_PREAUTH_FAILED:
	case KRB5KRB_AP_ERR_BADKEYVER:
	case KRB5KRB_AP_ERR_MODIFIED:
	case KRB5KRB_AP_ERR_NOKEY:
	case KRB5_KT_KVNONOTFOUND:
	case KRB5_KT_NOTFOUND:
		return IKE_GSS_F_WRONG_KEYTAB;
	case KRB5_FCC_NOFILE:
	case KRB5_KT_END:
	case ENOENT:
	case EACCES:
		return IKE_GSS_F_NO_KEYTAB;
	case KRB5KRB_AP_ERR_TKT_EXPIRED:
		return IKE_GSS_F_EXPIRED;
	default:
		break;
	}
	switch (GSS_ROUTINE_ERROR(major)) {
	case GSS_S_CREDENTIALS_EXPIRED:
	case GSS_S_CONTEXT_EXPIRED:
		return IKE_GSS_F_EXPIRED;
	case GSS_S_DEFECTIVE_TOKEN:
	case GSS_S_BAD_MECH:
	case GSS_S_NO_CONTEXT:
		return IKE_GSS_F_TOKEN;
	case GSS_S_BAD_SIG:
		return IKE_GSS_F_HASH;
	case GSS_S_BAD_NAME:
	case GSS_S_BAD_NAMETYPE:
		return IKE_GSS_F_CONFIG;
	default:
		break;
	}
	if (GSS_SUPPLEMENTARY_INFO(major) &
	    (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN |
	    GSS_S_GAP_TOKEN))
		return IKE_GSS_F_TOKEN;
	return IKE_GSS_F_OTHER;
}

/* Append the library's text for a status to buf (NUL-terminated). */
static void
gss_status_text(OM_uint32 major, OM_uint32 minor, char *buf, size_t cap)
{
	OM_uint32 maj, min, more = 0;
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
	size_t used = 0;
	int code_type = minor != 0 ? GSS_C_MECH_CODE : GSS_C_GSS_CODE;
	OM_uint32 code = minor != 0 ? minor : major;
	int n;

	buf[0] = '\0';
	do {
		maj = gss_display_status(&min, code, code_type, GSS_C_NO_OID,
		    &more, &b);
		if (GSS_ERROR(maj))
			break;
		n = snprintf(buf + used, cap - used, "%s%.*s",
		    used > 0 ? "; " : "", (int)b.length, (const char *)b.value);
		(void)gss_release_buffer(&min, &b);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	} while (more != 0);
}

static int
gss_fail(struct ike_gss_err *err, enum ike_gss_fail kind, int pa,
    OM_uint32 major, OM_uint32 minor, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * Fill err: "Kerberos: <kind text>: <what> (<library text>)". Returns pa
 * so callers can write "return gss_fail(...)".
 */
static int
gss_fail(struct ike_gss_err *err, enum ike_gss_fail kind, int pa,
    OM_uint32 major, OM_uint32 minor, const char *fmt, ...)
{
	char what[256], lib[280];
	va_list ap;
	int n;

	if (err == NULL)
		return pa;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	lib[0] = '\0';
	if (major != 0 || minor != 0)
		gss_status_text(major, minor, lib, sizeof(lib));
	err->kind = kind;
	err->pa = pa;
	err->major = major;
	err->minor = minor;
	n = snprintf(err->text, sizeof(err->text), "Kerberos: %s: %s%s%s%s",
	    gss_fail_text[kind], what, lib[0] != '\0' ? " (" : "", lib,
	    lib[0] != '\0' ? ")" : "");
	if (n < 0)
		err->text[0] = '\0';
	return pa;
}

/* Same, for a krb5 library error (its own extended message). */
static int
krb_fail(struct ike_gss_err *err, krb5_context kctx, krb5_error_code kc,
    enum ike_gss_fail kind, const char *what, const char *arg)
{
	const char *msg;
	int rc;

	if (kind == IKE_GSS_F_NONE)
		kind = ike_gss_classify(0, (uint32_t)kc);
	msg = kctx != NULL ? krb5_get_error_message(kctx, kc) : NULL;
	rc = gss_fail(err, kind, PA_E_VERIFY, 0, 0, "%s %s%s%s%s", what, arg,
	    msg != NULL ? " (" : "", msg != NULL ? msg : "",
	    msg != NULL ? ")" : "");
	if (err != NULL)
		err->minor = (uint32_t)kc;
	if (msg != NULL)
		krb5_free_error_message(kctx, msg);
	return rc;
}

static void
err_clear(struct ike_gss_err *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
}

/* A non-const pointer for the GSS buffer API, which never writes input. */
static void *
gss_unconst(const void *p)
{
	return (void *)(uintptr_t)p;
}


/* ---- byte strings ----------------------------------------------------- */

static int
bytes_append(struct gss_bytes *b, const void *p, size_t n, size_t max)
{
	uint8_t *np;
	size_t ncap;

	if (n == 0)
		return 0;
	if (n > max || b->len > max - n)
		return PA_E_NOSPACE;
	if (b->len + n > b->cap) {
		ncap = b->cap == 0 ? 1024 : b->cap;
		while (ncap < b->len + n)
			ncap *= 2;
		if ((np = malloc(ncap)) == NULL)
			return PA_E_NOMEM;
		if (b->len > 0)
			memcpy(np, b->p, b->len);
		if (b->p != NULL) {
			pa_wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(&b->p[b->len], p, n);
	b->len += n;
	return 0;
}

static void
bytes_free(struct gss_bytes *b)
{
	if (b->p != NULL) {
		pa_wipe(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

static struct pa_bytes
bytes_view(const struct gss_bytes *b)
{
	struct pa_bytes v = { b->p, b->len };

	return v;
}

/* ---- credentials ------------------------------------------------------ */

static void
gen_unref(struct gss_gen *g)
{
	OM_uint32 min;
	krb5_ccache cc;

	if (g == NULL || --g->refs > 0)
		return;
	if (g->init != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &g->init);
	if (g->acc != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &g->acc);
	/* The MEMORY ccache outlives the GSS handle: destroy (wipes) it. */
	if (g->kctx != NULL) {
		if (g->ccname[0] != '\0' &&
		    krb5_cc_resolve(g->kctx, g->ccname, &cc) == 0)
			(void)krb5_cc_destroy(g->kctx, cc);
		krb5_free_context(g->kctx);
	}
	free(g);
}

static gss_name_t
import_name(const char *name, gss_OID type, OM_uint32 *maj, OM_uint32 *min)
{
	gss_buffer_desc b;
	gss_name_t n = GSS_C_NO_NAME;

	b.value = gss_unconst(name);
	b.length = strlen(name);
	*maj = gss_import_name(min, &b, type, &n);
	return GSS_ERROR(*maj) ? GSS_C_NO_NAME : n;
}

/*
 * Tickets kept by an earlier run: into the generation's private ccache,
 * if the file is ours alone (owner root or us, no group/other access)
 * and holds tickets of this very principal. Anything else is ignored:
 * the keytab and the KDC are then asked as without a file.
 */
static void
load_persisted(krb5_context kctx, const struct ike_gss_cred *cred,
    const char *memname)
{
	krb5_ccache file = NULL, mem = NULL;
	krb5_principal fp = NULL;
	char fname[4200], *pn = NULL;
	struct stat sb;

	if (cred->ccfile == NULL || stat(cred->ccfile, &sb) != 0)
		return;
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0 ||
	    (sb.st_uid != 0 && sb.st_uid != geteuid())) {
		log_warnx("Kerberos: ignoring %s: not a file of ours alone",
		    cred->ccfile);
		return;
	}
	(void)snprintf(fname, sizeof(fname), "FILE:%s", cred->ccfile);
	if (krb5_cc_resolve(kctx, fname, &file) != 0 ||
	    krb5_cc_get_principal(kctx, file, &fp) != 0 ||
	    krb5_unparse_name(kctx, fp, &pn) != 0 ||
	    strcmp(pn, cred->name) != 0 ||
	    krb5_cc_resolve(kctx, memname, &mem) != 0 ||
	    krb5_cc_initialize(kctx, mem, fp) != 0 ||
	    krb5_cc_copy_creds(kctx, file, mem) != 0)
		log_debug("%s: no usable tickets in %s", __func__,
		    cred->ccfile);
	if (pn != NULL)
		krb5_free_unparsed_name(kctx, pn);
	if (fp != NULL)
		krb5_free_principal(kctx, fp);
	if (mem != NULL)
		(void)krb5_cc_close(kctx, mem);
	if (file != NULL)
		(void)krb5_cc_close(kctx, file);
}

int
ike_gss_cred_save(struct ike_gss_cred *cred)
{
	krb5_context kctx;
	krb5_ccache mem = NULL, tmp = NULL;
	krb5_principal p = NULL;
	char tname[4210], tpath[4200];
	int rc = PA_E_SYS;

	if (cred == NULL || cred->ccfile == NULL || cred->gen == NULL)
		return 0;
	kctx = cred->gen->kctx;
	(void)snprintf(tpath, sizeof(tpath), "%s.new", cred->ccfile);
	(void)snprintf(tname, sizeof(tname), "FILE:%s", tpath);
	(void)unlink(tpath);
	/* MIT creates FILE ccaches 0600; the chmod makes sure. */
	if (krb5_cc_resolve(kctx, cred->gen->ccname, &mem) == 0 &&
	    krb5_cc_get_principal(kctx, mem, &p) == 0 &&
	    krb5_cc_resolve(kctx, tname, &tmp) == 0 &&
	    krb5_cc_initialize(kctx, tmp, p) == 0 &&
	    krb5_cc_copy_creds(kctx, mem, tmp) == 0 &&
	    chmod(tpath, 0600) == 0 && rename(tpath, cred->ccfile) == 0)
		rc = 0;
	if (rc != 0) {
		log_warn("Kerberos: keeping the tickets in %s", cred->ccfile);
		(void)unlink(tpath);
	}
	if (p != NULL)
		krb5_free_principal(kctx, p);
	if (tmp != NULL)
		(void)krb5_cc_close(kctx, tmp);
	if (mem != NULL)
		(void)krb5_cc_close(kctx, mem);
	return rc;
}

/*
 * Get a TGT for cred->name from the keytab into a new private ccache,
 * plus an acceptor credential over the keytab. Unexpired tickets a
 * previous run kept (ccache_file) are used first: no KDC is asked while
 * they last.
 */
static int
gen_new(const struct ike_gss_cred *cred, struct gss_gen **out,
    struct ike_gss_err *err)
{
	gss_key_value_element_desc iel[2], ael[1];
	gss_key_value_set_desc iset = { 2, iel }, aset = { 1, ael };
	gss_OID_set_desc mechs = { 1, gss_mech_krb5 };
	struct gss_gen *g = NULL;
	gss_name_t me = GSS_C_NO_NAME;
	OM_uint32 maj, min, life = 0;
	krb5_error_code kc;
	int rc;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0,
		    "out of memory");
	g->refs = 1;
	g->init = GSS_C_NO_CREDENTIAL;
	g->acc = GSS_C_NO_CREDENTIAL;
	if ((kc = krb5_init_context(&g->kctx)) != 0) {
		g->kctx = NULL;
		rc = krb_fail(err, NULL, kc, IKE_GSS_F_CONFIG,
		    "cannot read the Kerberos profile", "");
		goto out;
	}
	(void)snprintf(g->ccname, sizeof(g->ccname), "MEMORY:pa-ike-gss-%ld-%u",
	    (long)getpid(), atomic_fetch_add(&gss_ccache_seq, 1));
	load_persisted(g->kctx, cred, g->ccname);

	/* client_keytab: MIT gets the TGT from the keytab, no kinit. */
	iel[0].key = "client_keytab";
	iel[0].value = cred->keytab;
	iel[1].key = "ccache";
	iel[1].value = g->ccname;
	me = import_name(cred->name, GSS_KRB5_NT_PRINCIPAL_NAME, &maj, &min);
	if (me == GSS_C_NO_NAME) {
		rc = gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, maj, min,
		    "bad local principal %s", cred->name);
		goto out;
	}
	maj = gss_acquire_cred_from(&min, me, GSS_C_INDEFINITE, &mechs,
	    GSS_C_INITIATE, &iset, &g->init, NULL, &life);
	if (GSS_ERROR(maj)) {
		rc = gss_fail(err, ike_gss_classify(maj, min), PA_E_VERIFY,
		    maj, min, "getting a ticket for %s from %s", cred->name,
		    cred->keytab);
		goto out;
	}
	if (life == 0) {
		rc = gss_fail(err, IKE_GSS_F_EXPIRED, PA_E_VERIFY, 0, 0,
		    "ticket for %s has no lifetime left", cred->name);
		goto out;
	}
	/* R6: any principal of the keytab may be asked for. */
	ael[0].key = "keytab";
	ael[0].value = cred->keytab;
	maj = gss_acquire_cred_from(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
	    &mechs, GSS_C_ACCEPT, &aset, &g->acc, NULL, NULL);
	if (GSS_ERROR(maj)) {
		rc = gss_fail(err, ike_gss_classify(maj, min), PA_E_VERIFY,
		    maj, min, "acceptor credentials from %s", cred->keytab);
		goto out;
	}
	g->life = life;
	g->expiry = time(NULL) + (time_t)life;
	*out = g;
	g = NULL;
	rc = 0;
out:
	if (me != GSS_C_NO_NAME)
		(void)gss_release_name(&min, &me);
	gen_unref(g);
	return rc;
}

/* Check that the keytab exists and holds a key for the principal. */
static int
check_keytab(struct ike_gss_cred *cred, krb5_principal princ,
    struct ike_gss_err *err)
{
	krb5_keytab kt = NULL;
	krb5_keytab_entry ent;
	krb5_error_code kc;
	int rc = 0;

	if ((kc = krb5_kt_resolve(cred->kctx, cred->keytab, &kt)) != 0)
		return krb_fail(err, cred->kctx, kc, IKE_GSS_F_NO_KEYTAB,
		    "cannot open keytab", cred->keytab);
	kc = krb5_kt_get_entry(cred->kctx, kt, princ, 0, 0, &ent);
	if (kc == 0) {
		(void)krb5_free_keytab_entry_contents(cred->kctx, &ent);
	} else if (kc == KRB5_KT_NOTFOUND || kc == KRB5_KT_END) {
		rc = gss_fail(err, IKE_GSS_F_NO_KEYTAB, PA_E_NOENT, 0, 0,
		    "keytab %s has no key for %s", cred->keytab, cred->name);
		if (err != NULL)
			err->minor = (uint32_t)kc;
	} else {
		rc = krb_fail(err, cred->kctx, kc, IKE_GSS_F_NO_KEYTAB,
		    "cannot read keytab", cred->keytab);
	}
	(void)krb5_kt_close(cred->kctx, kt);
	return rc;
}

static void
cred_set_gen(struct ike_gss_cred *cred, struct gss_gen *g)
{
	gen_unref(cred->gen);
	cred->gen = g;
	cred->generation++;
}

int
ike_gss_cred_new(const struct ike_gss_cred_cfg *cfg, struct ike_gss_cred **out,
    struct ike_gss_err *err)
{
	struct ike_gss_cred *cred = NULL;
	struct gss_gen *g = NULL;
	krb5_principal princ = NULL;
	krb5_error_code kc;
	char ktname[4096], *at;
	int rc;

	err_clear(err);
	*out = NULL;
	if (cfg == NULL || cfg->principal == NULL ||
	    cfg->principal[0] == '\0' ||
	    strlen(cfg->principal) > IKE_GSS_NAME_MAX)
		return gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, 0, 0,
		    "no or too long local principal");
	if ((cred = calloc(1, sizeof(*cred))) == NULL)
		return gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0,
		    "out of memory");
	cred->margin_cfg = cfg->renew_margin;
	if (cfg->ccache_file != NULL &&
	    (cred->ccfile = strdup(cfg->ccache_file)) == NULL) {
		rc = gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0,
		    "out of memory");
		goto out;
	}
	if ((kc = krb5_init_context(&cred->kctx)) != 0) {
		cred->kctx = NULL;
		rc = krb_fail(err, NULL, kc, IKE_GSS_F_CONFIG,
		    "cannot read the Kerberos profile", "");
		goto out;
	}
	if ((kc = krb5_parse_name(cred->kctx, cfg->principal, &princ)) != 0) {
		rc = krb_fail(err, cred->kctx, kc, IKE_GSS_F_CONFIG,
		    "bad local principal", cfg->principal);
		goto out;
	}
	if ((kc = krb5_unparse_name(cred->kctx, princ, &at)) != 0) {
		rc = krb_fail(err, cred->kctx, kc, IKE_GSS_F_CONFIG,
		    "bad local principal", cfg->principal);
		goto out;
	}
	cred->name = strdup(at);
	krb5_free_unparsed_name(cred->kctx, at);
	if (cred->name == NULL) {
		rc = gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0,
		    "out of memory");
		goto out;
	}
	at = strrchr(cred->name, '@');
	cred->realm = at != NULL ? at + 1 : "";

	if (cfg->keytab != NULL) {
		if (strchr(cfg->keytab, ':') != NULL &&
		    strncmp(cfg->keytab, "FILE:", 5) != 0) {
			rc = gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, 0, 0,
			    "keytab must be a file: %s", cfg->keytab);
			goto out;
		}
		(void)snprintf(ktname, sizeof(ktname), "%s%s",
		    strncmp(cfg->keytab, "FILE:", 5) == 0 ? "" : "FILE:",
		    cfg->keytab);
	} else if ((kc = krb5_kt_default_name(cred->kctx, ktname,
	    sizeof(ktname))) != 0) {
		rc = krb_fail(err, cred->kctx, kc, IKE_GSS_F_NO_KEYTAB,
		    "no default keytab", "");
		goto out;
	}
	if ((cred->keytab = strdup(ktname)) == NULL) {
		rc = gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0,
		    "out of memory");
		goto out;
	}
	rc = check_keytab(cred, princ, err);
	krb5_free_principal(cred->kctx, princ);
	princ = NULL;
	if (rc != 0)
		goto out;
	if ((rc = gen_new(cred, &g, err)) != 0)
		goto out;
	cred_set_gen(cred, g);
	log_debug("%s: %s from %s, ticket life %u s", __func__, cred->name,
	    cred->keytab, g->life);
	*out = cred;
	cred = NULL;
	rc = 0;
out:
	if (princ != NULL)
		krb5_free_principal(cred->kctx, princ);
	ike_gss_cred_free(cred);
	return rc;
}

void
ike_gss_cred_free(struct ike_gss_cred *cred)
{
	if (cred == NULL)
		return;
	if (cred->pending > 0) {
		/* An async refresh still runs on it: free on dispatch. */
		cred->free_pending = true;
		return;
	}
	gen_unref(cred->gen);
	if (cred->kctx != NULL)
		krb5_free_context(cred->kctx);
	free(cred->keytab);
	free(cred->ccfile);
	free(cred->name);
	free(cred);
}

const char *
ike_gss_cred_name(const struct ike_gss_cred *cred)
{
	return cred->name;
}

const char *
ike_gss_cred_realm(const struct ike_gss_cred *cred)
{
	return cred->realm;
}

time_t
ike_gss_cred_expiry(const struct ike_gss_cred *cred)
{
	return cred->gen->expiry;
}

time_t
ike_gss_cred_refresh_at(const struct ike_gss_cred *cred)
{
	uint32_t margin = cred->margin_cfg;
	uint32_t life = cred->gen->life;

	if (margin == 0) {
		margin = life / 4;
		if (margin < GSS_MIN_MARGIN)
			margin = GSS_MIN_MARGIN;
	}
	if (margin > life)
		margin = life;
	return cred->gen->expiry - (time_t)margin;
}

int
ike_gss_cred_refresh(struct ike_gss_cred *cred, time_t now, bool force,
    struct ike_gss_err *err)
{
	struct gss_gen *g = NULL;
	int rc;

	err_clear(err);
	if (!force && now < ike_gss_cred_refresh_at(cred))
		return 0;
	if ((rc = gen_new(cred, &g, err)) != 0) {
		log_warnx("%s: %s: %s", __func__, cred->name,
		    err != NULL ? err->text : "failed");
		return rc;
	}
	cred_set_gen(cred, g);
	log_debug("%s: %s renewed, ticket life %u s", __func__, cred->name,
	    g->life);
	return 0;
}

const char *
ike_gss_cred_ccache(const struct ike_gss_cred *cred)
{
	return cred->gen->ccname;
}

unsigned
ike_gss_cred_generation(const struct ike_gss_cred *cred)
{
	return cred->generation;
}

/* ---- contexts --------------------------------------------------------- */

static void
ctx_free_allow(struct ike_gss_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nallow; i++)
		free(ctx->allow[i]);
	free(ctx->allow);
	ctx->allow = NULL;
	ctx->nallow = 0;
}

static bool	peer_allowed(const struct ike_gss_ctx *, const char *);

/*
 * Refuse a target the rule would refuse as a peer before asking the KDC
 * for it: the name often comes from the peer's unauthenticated GSS
 * Identity, which must not make us chase tickets in other realms.
 */
static int
check_target(struct ike_gss_cred *cred, struct ike_gss_ctx *ctx,
    const char *target, struct ike_gss_err *err)
{
	krb5_principal tp = NULL;
	char *full = NULL;
	krb5_error_code kc;
	int rc = 0;

	if ((kc = krb5_parse_name(cred->kctx, target, &tp)) != 0 ||
	    (kc = krb5_unparse_name(cred->kctx, tp, &full)) != 0)
		rc = krb_fail(err, cred->kctx, kc, IKE_GSS_F_CONFIG,
		    "bad peer name", target);
	else if (!peer_allowed(ctx, full))
		rc = gss_fail(err, IKE_GSS_F_NOT_ALLOWED, PA_E_PERM, 0, 0,
		    "%s", full);
	if (full != NULL)
		krb5_free_unparsed_name(cred->kctx, full);
	if (tp != NULL)
		krb5_free_principal(cred->kctx, tp);
	return rc;
}

int
ike_gss_ctx_new(struct ike_gss_cred *cred, const struct ike_gss_ctx_cfg *cfg,
    struct ike_gss_ctx **out, struct ike_gss_err *err)
{
	struct ike_gss_ctx *ctx = NULL;
	OM_uint32 maj = 0, min = 0;
	size_t i;
	int rc;

	err_clear(err);
	*out = NULL;
	if (cred == NULL || cfg == NULL ||
	    (cfg->nallow > 0 && cfg->allow == NULL) ||
	    (cfg->role != IKE_GSS_INITIATOR && cfg->role != IKE_GSS_RESPONDER))
		return gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, 0, 0,
		    "bad context arguments");
	if (cfg->role == IKE_GSS_INITIATOR && (cfg->target == NULL ||
	    cfg->target[0] == '\0' || strlen(cfg->target) > IKE_GSS_NAME_MAX))
		return gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, 0, 0,
		    "initiator without a valid peer name");
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0,
		    "out of memory");
	ctx->role = cfg->role;
	ctx->gctx = GSS_C_NO_CONTEXT;
	ctx->target = GSS_C_NO_NAME;
	ctx->gen = cred->gen;
	ctx->gen->refs++;
	if ((ctx->realm = strdup(cred->realm)) == NULL)
		goto nomem;
	if (cfg->nallow > 0) {
		if ((ctx->allow = calloc(cfg->nallow, sizeof(char *))) == NULL)
			goto nomem;
		for (i = 0; i < cfg->nallow; i++) {
			if (cfg->allow[i] == NULL)
				continue;
			if ((ctx->allow[ctx->nallow] = strdup(cfg->allow[i])) ==
			    NULL)
				goto nomem;
			ctx->nallow++;
		}
	}
	if (cfg->role == IKE_GSS_INITIATOR) {
		if (!cfg->target_hostbased &&
		    (rc = check_target(cred, ctx, cfg->target, err)) != 0)
			goto fail;
		ctx->target = import_name(cfg->target, cfg->target_hostbased ?
		    GSS_C_NT_HOSTBASED_SERVICE : GSS_KRB5_NT_PRINCIPAL_NAME,
		    &maj, &min);
		if (ctx->target == GSS_C_NO_NAME) {
			rc = gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, maj,
			    min, "bad peer name %s", cfg->target);
			goto fail;
		}
	}
	*out = ctx;
	return 0;
nomem:
	rc = gss_fail(err, IKE_GSS_F_OTHER, PA_E_NOMEM, 0, 0, "out of memory");
fail:
	ike_gss_ctx_free(ctx);
	return rc;
}

void
ike_gss_ctx_free(struct ike_gss_ctx *ctx)
{
	OM_uint32 min;

	if (ctx == NULL)
		return;
	if (ctx->job != NULL) {
		/* A worker steps it: free on dispatch. */
		ctx->cancelled = true;
		return;
	}
	if (ctx->gctx != GSS_C_NO_CONTEXT)
		(void)gss_delete_sec_context(&min, &ctx->gctx, GSS_C_NO_BUFFER);
	if (ctx->target != GSS_C_NO_NAME)
		(void)gss_release_name(&min, &ctx->target);
	gen_unref(ctx->gen);
	ctx_free_allow(ctx);
	free(ctx->realm);
	free(ctx->peer);
	free(ctx->local);
	bytes_free(&ctx->out);
	bytes_free(&ctx->sent);
	bytes_free(&ctx->received);
	free(ctx);
}

static char *
display_name(gss_name_t n)
{
	OM_uint32 maj, min;
	gss_buffer_desc b = GSS_C_EMPTY_BUFFER;
	char *s;

	maj = gss_display_name(&min, n, &b, NULL);
	if (GSS_ERROR(maj))
		return NULL;
	if (b.length == 0 || b.length > IKE_GSS_NAME_MAX ||
	    memchr(b.value, '\0', b.length) != NULL)
		s = NULL;
	else
		s = strndup(b.value, b.length);
	(void)gss_release_buffer(&min, &b);
	return s;
}

/* The realm part of a principal name, or "" if none. */
static const char *
name_realm(const char *name)
{
	const char *at = strrchr(name, '@');

	return at != NULL ? at + 1 : "";
}

/* R7: the rule's allow list, or any principal of our realm. */
static bool
peer_allowed(const struct ike_gss_ctx *ctx, const char *peer)
{
	size_t i;
	const char *a;

	if (ctx->nallow == 0)
		return ctx->realm[0] != '\0' &&
		    strcasecmp(name_realm(peer), ctx->realm) == 0;
	for (i = 0; i < ctx->nallow; i++) {
		a = ctx->allow[i];
		if (strcmp(a, "*") == 0)
			return true;
		if (strncmp(a, "*@", 2) == 0) {
			if (strcasecmp(name_realm(peer), a + 2) == 0)
				return true;
		} else if (strcasecmp(a, peer) == 0)
			return true;
	}
	return false;
}

/* After GSS_S_COMPLETE: flags, names, and the rule's allow list. */
static int
ctx_finish(struct ike_gss_ctx *ctx, struct ike_gss_err *err)
{
	OM_uint32 maj, min;
	gss_name_t src = GSS_C_NO_NAME, targ = GSS_C_NO_NAME;
	int rc;

	/* R5: the draft requires mutual authentication and integrity. */
	if ((ctx->flags & (GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG)) !=
	    (GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG))
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_VERIFY, 0, 0,
		    "context without mutual authentication or integrity "
		    "(flags 0x%x)", (unsigned)ctx->flags);
	maj = gss_inquire_context(&min, ctx->gctx, &src, &targ, NULL, NULL,
	    NULL, NULL, NULL);
	if (GSS_ERROR(maj))
		return gss_fail(err, ike_gss_classify(maj, min), PA_E_VERIFY,
		    maj, min, "cannot read the context's names");
	if (ctx->role == IKE_GSS_INITIATOR) {
		ctx->peer = display_name(targ);
		ctx->local = display_name(src);
	} else {
		ctx->peer = display_name(src);
		ctx->local = display_name(targ);
	}
	(void)gss_release_name(&min, &src);
	(void)gss_release_name(&min, &targ);
	if (ctx->peer == NULL || ctx->local == NULL) {
		rc = gss_fail(err, IKE_GSS_F_OTHER, PA_E_VERIFY, 0, 0,
		    "cannot read the context's names");
		goto fail;
	}
	if (!peer_allowed(ctx, ctx->peer)) {
		rc = gss_fail(err, IKE_GSS_F_NOT_ALLOWED, PA_E_PERM, 0, 0,
		    "%s", ctx->peer);
		goto fail;
	}
	ctx->complete = true;
	return 0;
fail:
	/* Never report a peer that was refused. */
	free(ctx->peer);
	ctx->peer = NULL;
	free(ctx->local);
	ctx->local = NULL;
	return rc;
}

static int
ctx_step(struct ike_gss_ctx *ctx, struct pa_bytes in, struct pa_bytes *out,
    bool *complete, struct ike_gss_err *err)
{
	gss_buffer_desc ib, ob = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	OM_uint32 maj, min, tmp, ret_flags = 0, req;
	const char *who;
	int rc;

	err_clear(err);
	out->p = NULL;
	out->len = 0;
	*complete = false;
	ctx->out.len = 0;
	if (ctx->dead || ctx->complete)
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_STATE, 0, 0,
		    "token after the GSS exchange %s",
		    ctx->dead ? "failed" : "completed");
	if (in.len > IKE_GSS_TOKEN_MAX || (in.len > 0 && in.p == NULL)) {
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_FORMAT, 0, 0,
		    "token of %zu bytes", in.len);
	}
	/* Only the initiator's first step has no input. */
	if (in.len == 0 && (ctx->role == IKE_GSS_RESPONDER || ctx->steps > 0)) {
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_FORMAT, 0, 0,
		    "empty token from the peer");
	}
	if (ctx->steps >= GSS_MAX_STEPS) {
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_STATE, 0, 0,
		    "more than %d GSS rounds", GSS_MAX_STEPS);
	}
	ctx->steps++;
	if ((rc = bytes_append(&ctx->received, in.p, in.len,
	    GSS_TRANSCRIPT_MAX)) != 0) {
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_TOKEN, rc, 0, 0,
		    "GSS tokens too large");
	}
	ib.value = gss_unconst(in.p);
	ib.length = in.len;
	if (ctx->role == IKE_GSS_INITIATOR) {
		/* R5 */
		req = GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG;
		maj = gss_init_sec_context(&min, ctx->gen->init, &ctx->gctx,
		    ctx->target, gss_mech_krb5, req, GSS_C_INDEFINITE,
		    GSS_C_NO_CHANNEL_BINDINGS, in.len > 0 ? &ib :
		    GSS_C_NO_BUFFER, NULL, &ob, &ret_flags, NULL);
		who = "initiating";
	} else {
		maj = gss_accept_sec_context(&min, &ctx->gctx, ctx->gen->acc,
		    &ib, GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &ob,
		    &ret_flags, NULL, NULL);
		if (src != GSS_C_NO_NAME)
			(void)gss_release_name(&tmp, &src);
		who = "accepting";
	}
	if (ob.length > IKE_GSS_TOKEN_MAX) {
		(void)gss_release_buffer(&tmp, &ob);
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_NOSPACE, 0, 0,
		    "own token of %zu bytes", (size_t)ob.length);
	}
	rc = bytes_append(&ctx->out, ob.value, ob.length, IKE_GSS_TOKEN_MAX);
	(void)gss_release_buffer(&tmp, &ob);
	if (rc != 0) {
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_OTHER, rc, 0, 0,
		    "out of memory");
	}
	if (GSS_ERROR(maj)) {
		/* An error token (KRB-ERROR) may be sent to tell the peer. */
		ctx->dead = true;
		*out = bytes_view(&ctx->out);
		return gss_fail(err, ike_gss_classify(maj, min), PA_E_VERIFY,
		    maj, min, "%s the security context", who);
	}
	if ((rc = bytes_append(&ctx->sent, ctx->out.p, ctx->out.len,
	    GSS_TRANSCRIPT_MAX)) != 0) {
		ctx->dead = true;
		return gss_fail(err, IKE_GSS_F_TOKEN, rc, 0, 0,
		    "GSS tokens too large");
	}
	ctx->flags = ret_flags;
	if (maj == GSS_S_COMPLETE) {
		if ((rc = ctx_finish(ctx, err)) != 0) {
			ctx->dead = true;
			return rc;
		}
		*complete = true;
		log_debug("%s: %s complete after %u step(s), peer %s",
		    __func__, who, ctx->steps, ctx->peer);
	}
	*out = bytes_view(&ctx->out);
	return 0;
}

int
ike_gss_ctx_step(struct ike_gss_ctx *ctx, struct pa_bytes in,
    struct pa_bytes *out, bool *complete, struct ike_gss_err *err)
{
	if (ctx->job != NULL) {
		err_clear(err);
		out->p = NULL;
		out->len = 0;
		*complete = false;
		return gss_fail(err, IKE_GSS_F_CONFIG, PA_E_STATE, 0, 0,
		    "context busy in a worker");
	}
	return ctx_step(ctx, in, out, complete, err);
}

/* While a worker steps the context, it reads as not complete and empty. */
bool
ike_gss_ctx_complete(const struct ike_gss_ctx *ctx)
{
	return ctx->job == NULL && ctx->complete;
}

const char *
ike_gss_ctx_peer(const struct ike_gss_ctx *ctx)
{
	return ike_gss_ctx_complete(ctx) ? ctx->peer : NULL;
}

const char *
ike_gss_ctx_local(const struct ike_gss_ctx *ctx)
{
	return ike_gss_ctx_complete(ctx) ? ctx->local : NULL;
}

struct pa_bytes
ike_gss_ctx_tokens_sent(const struct ike_gss_ctx *ctx)
{
	struct pa_bytes none = { NULL, 0 };

	return ctx->job == NULL ? bytes_view(&ctx->sent) : none;
}

struct pa_bytes
ike_gss_ctx_tokens_received(const struct ike_gss_ctx *ctx)
{
	struct pa_bytes none = { NULL, 0 };

	return ctx->job == NULL ? bytes_view(&ctx->received) : none;
}

int
ike_gss_hash_wrap(struct ike_gss_ctx *ctx, const uint8_t *digest, size_t len,
    struct wr *out, struct ike_gss_err *err)
{
	gss_buffer_desc in, ob = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	int conf = 0, rc;

	err_clear(err);
	if (!ctx->complete || ctx->dead || ctx->job != NULL)
		return gss_fail(err, IKE_GSS_F_TOKEN, PA_E_STATE, 0, 0,
		    "hash before the GSS exchange completed");
	if (digest == NULL || len == 0 || len > 64)
		return gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, 0, 0,
		    "bad digest length %zu", len);
	in.value = gss_unconst(digest);
	in.length = len;
	/* R3: confidentiality too when the mechanism offers it. */
	maj = gss_wrap(&min, ctx->gctx,
	    (ctx->flags & GSS_C_CONF_FLAG) != 0 ? 1 : 0, GSS_C_QOP_DEFAULT,
	    &in, &conf, &ob);
	if (GSS_ERROR(maj))
		return gss_fail(err, ike_gss_classify(maj, min), PA_E_CRYPTO,
		    maj, min, "wrapping our hash");
	if ((rc = wr_bytes(out, ob.value, ob.length)) != 0)
		(void)gss_fail(err, IKE_GSS_F_OTHER, rc, 0, 0,
		    "no room for a %zu-byte hash payload", (size_t)ob.length);
	(void)gss_release_buffer(&min, &ob);
	return rc;
}

int
ike_gss_hash_verify(struct ike_gss_ctx *ctx, struct pa_bytes wrapped,
    const uint8_t *expected, size_t len, struct ike_gss_err *err)
{
	gss_buffer_desc in, msg = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	int conf = 0, rc;

	err_clear(err);
	if (!ctx->complete || ctx->dead || ctx->job != NULL)
		return gss_fail(err, IKE_GSS_F_HASH, PA_E_STATE, 0, 0,
		    "hash before the GSS exchange completed");
	if (wrapped.len == 0 || wrapped.p == NULL ||
	    wrapped.len > IKE_GSS_TOKEN_MAX)
		return gss_fail(err, IKE_GSS_F_HASH, PA_E_FORMAT, 0, 0,
		    "hash payload of %zu bytes", wrapped.len);
	if (expected == NULL || len == 0)
		return gss_fail(err, IKE_GSS_F_CONFIG, PA_E_INVAL, 0, 0,
		    "no expected digest");
	in.value = gss_unconst(wrapped.p);
	in.length = wrapped.len;
	maj = gss_unwrap(&min, ctx->gctx, &in, &msg, &conf, NULL);
	if (GSS_ERROR(maj))
		return gss_fail(err, IKE_GSS_F_HASH, PA_E_VERIFY, maj, min,
		    "unwrapping %s's hash", ctx->peer);
	if (msg.length != len || CRYPTO_memcmp(msg.value, expected, len) != 0)
		rc = gss_fail(err, IKE_GSS_F_HASH, PA_E_VERIFY, 0, 0,
		    "%s's hash does not match this exchange", ctx->peer);
	else
		rc = 0;
	if (msg.value != NULL)
		pa_wipe(msg.value, msg.length);
	(void)gss_release_buffer(&min, &msg);
	return rc;
}

/* ---- worker threads --------------------------------------------------- */

#define GSS_ASYNC_MAX_THREADS	8
#define GSS_ASYNC_MAX_QUEUE	256

enum gss_job_kind {
	GSS_JOB_STEP,
	GSS_JOB_CRED_NEW,
	GSS_JOB_REFRESH
};

struct gss_job {
	struct gss_job		*next;
	enum gss_job_kind	 kind;
	void			*arg;
	/* GSS_JOB_STEP */
	struct ike_gss_ctx	*ctx;
	uint8_t			*in;
	size_t			 inlen;
	struct pa_bytes		 out;
	bool			 complete;
	ike_gss_step_cb		 step_cb;
	/* GSS_JOB_CRED_NEW (keytab may be NULL) and GSS_JOB_REFRESH */
	char			*keytab;
	char			*principal;
	char			*ccfile;
	uint32_t		 margin;
	struct ike_gss_cred	*cred;
	struct gss_gen		*gen;
	ike_gss_cred_cb		 cred_cb;
	/* result */
	int			 rc;
	struct ike_gss_err	 err;
};

struct ike_gss_async {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	struct gss_job		*queue;
	struct gss_job		*done;
	unsigned		 queued;	/* in queue */
	unsigned		 pending;	/* submitted, not dispatched */
	int			 efd;
	bool			 stop;
	pthread_t		 th[GSS_ASYNC_MAX_THREADS];
	unsigned		 nth;
};

static void
job_free(struct gss_job *j)
{
	if (j == NULL)
		return;
	if (j->in != NULL) {
		pa_wipe(j->in, j->inlen);
		free(j->in);
	}
	free(j->keytab);
	free(j->principal);
	free(j->ccfile);
	free(j);
}

static void
job_append(struct gss_job **head, struct gss_job *j)
{
	j->next = NULL;
	while (*head != NULL)
		head = &(*head)->next;
	*head = j;
}

/* In a worker: the part that may wait for the KDC. */
static void
job_run(struct gss_job *j)
{
	struct ike_gss_cred_cfg cfg;
	struct pa_bytes in;

	switch (j->kind) {
	case GSS_JOB_STEP:
		in.p = j->in;
		in.len = j->inlen;
		j->rc = ctx_step(j->ctx, in, &j->out, &j->complete, &j->err);
		break;
	case GSS_JOB_CRED_NEW:
		cfg.keytab = j->keytab;
		cfg.principal = j->principal;
		cfg.renew_margin = j->margin;
		cfg.ccache_file = j->ccfile;
		j->rc = ike_gss_cred_new(&cfg, &j->cred, &j->err);
		break;
	case GSS_JOB_REFRESH:
		/* Reads only the credential's immutable name and keytab. */
		err_clear(&j->err);
		j->rc = gen_new(j->cred, &j->gen, &j->err);
		break;
	}
}

static void *
async_worker(void *arg)
{
	struct ike_gss_async *a = arg;
	struct gss_job *j;
	uint64_t one = 1;

	pthread_mutex_lock(&a->mtx);
	for (;;) {
		while (!a->stop && a->queue == NULL)
			pthread_cond_wait(&a->cv, &a->mtx);
		if (a->stop)
			break;
		j = a->queue;
		a->queue = j->next;
		a->queued--;
		pthread_mutex_unlock(&a->mtx);
		job_run(j);
		pthread_mutex_lock(&a->mtx);
		job_append(&a->done, j);
		/* Wake the event loop; a full counter still wakes it. */
		(void)!write(a->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&a->mtx);
	return NULL;
}

int
ike_gss_async_new(unsigned nthreads, struct ike_gss_async **out)
{
	struct ike_gss_async *a;
	unsigned i;

	*out = NULL;
	if (nthreads == 0 || nthreads > GSS_ASYNC_MAX_THREADS)
		return PA_E_INVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return PA_E_NOMEM;
	if ((a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(a);
		return PA_E_SYS;
	}
	pthread_mutex_init(&a->mtx, NULL);
	pthread_cond_init(&a->cv, NULL);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&a->th[i], NULL, async_worker, a) != 0) {
			ike_gss_async_free(a);
			errno = EAGAIN;
			return PA_E_SYS;
		}
		a->nth++;
	}
	*out = a;
	return 0;
}

/* On the loop's thread: give a finished or dropped job's objects back. */
static void
job_finish(struct ike_gss_async *a, struct gss_job *j, bool call)
{
	struct ike_gss_cred *c;

	a->pending--;
	switch (j->kind) {
	case GSS_JOB_STEP:
		j->ctx->job = NULL;
		if (j->ctx->cancelled)
			ike_gss_ctx_free(j->ctx);
		else if (call)
			j->step_cb(j->arg, j->ctx, j->rc, j->out, j->complete,
			    &j->err);
		break;
	case GSS_JOB_CRED_NEW:
		if (call)
			j->cred_cb(j->arg, j->cred, j->rc, &j->err);
		else
			ike_gss_cred_free(j->cred);
		break;
	case GSS_JOB_REFRESH:
		c = j->cred;
		c->pending--;
		if (c->free_pending) {
			gen_unref(j->gen);
			if (c->pending == 0) {
				c->free_pending = false;
				ike_gss_cred_free(c);
			}
			break;
		}
		if (j->rc == 0) {
			cred_set_gen(c, j->gen);
			log_debug("%s: %s renewed, ticket life %u s", __func__,
			    c->name, c->gen->life);
		} else if (call)
			log_warnx("%s: %s: %s", __func__, c->name, j->err.text);
		if (call)
			j->cred_cb(j->arg, c, j->rc, &j->err);
		break;
	}
	job_free(j);
}

void
ike_gss_async_free(struct ike_gss_async *a)
{
	struct gss_job *j;
	unsigned i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mtx);
	for (i = 0; i < a->nth; i++)
		pthread_join(a->th[i], NULL);
	while ((j = a->done) != NULL) {
		a->done = j->next;
		job_finish(a, j, false);
	}
	while ((j = a->queue) != NULL) {
		a->queue = j->next;
		if (j->kind == GSS_JOB_REFRESH)
			j->rc = PA_E_STATE;	/* never ran: no gen */
		job_finish(a, j, false);
	}
	close(a->efd);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mtx);
	free(a);
}

int
ike_gss_async_fd(const struct ike_gss_async *a)
{
	return a->efd;
}

unsigned
ike_gss_async_pending(const struct ike_gss_async *a)
{
	return a->pending;
}

unsigned
ike_gss_async_dispatch(struct ike_gss_async *a)
{
	struct gss_job *list, *j;
	uint64_t cnt;
	unsigned n = 0;

	(void)!read(a->efd, &cnt, sizeof(cnt));
	pthread_mutex_lock(&a->mtx);
	list = a->done;
	a->done = NULL;
	pthread_mutex_unlock(&a->mtx);
	while ((j = list) != NULL) {
		list = j->next;
		job_finish(a, j, true);
		n++;
	}
	return n;
}

static int
async_submit(struct ike_gss_async *a, struct gss_job *j)
{
	pthread_mutex_lock(&a->mtx);
	if (a->queued >= GSS_ASYNC_MAX_QUEUE) {
		pthread_mutex_unlock(&a->mtx);
		return PA_E_AGAIN;
	}
	job_append(&a->queue, j);
	a->queued++;
	a->pending++;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mtx);
	return 0;
}

int
ike_gss_async_step(struct ike_gss_async *a, struct ike_gss_ctx *ctx,
    struct pa_bytes in, ike_gss_step_cb cb, void *arg)
{
	struct gss_job *j;
	int rc;

	if (ctx == NULL || cb == NULL || ctx->cancelled ||
	    (in.len > 0 && in.p == NULL))
		return PA_E_INVAL;
	if (ctx->job != NULL)
		return PA_E_STATE;
	if (in.len > IKE_GSS_TOKEN_MAX)
		return PA_E_FORMAT;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return PA_E_NOMEM;
	j->kind = GSS_JOB_STEP;
	j->ctx = ctx;
	j->step_cb = cb;
	j->arg = arg;
	if (in.len > 0) {
		if ((j->in = malloc(in.len)) == NULL) {
			job_free(j);
			return PA_E_NOMEM;
		}
		memcpy(j->in, in.p, in.len);
		j->inlen = in.len;
	}
	ctx->job = j;
	if ((rc = async_submit(a, j)) != 0) {
		ctx->job = NULL;
		job_free(j);
	}
	return rc;
}

int
ike_gss_async_cred_new(struct ike_gss_async *a,
    const struct ike_gss_cred_cfg *cfg, ike_gss_cred_cb cb, void *arg)
{
	struct gss_job *j;
	int rc;

	if (cfg == NULL || cfg->principal == NULL || cb == NULL)
		return PA_E_INVAL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return PA_E_NOMEM;
	j->kind = GSS_JOB_CRED_NEW;
	j->cred_cb = cb;
	j->arg = arg;
	j->margin = cfg->renew_margin;
	if ((j->principal = strdup(cfg->principal)) == NULL ||
	    (cfg->keytab != NULL &&
	    (j->keytab = strdup(cfg->keytab)) == NULL) ||
	    (cfg->ccache_file != NULL &&
	    (j->ccfile = strdup(cfg->ccache_file)) == NULL)) {
		job_free(j);
		return PA_E_NOMEM;
	}
	if ((rc = async_submit(a, j)) != 0)
		job_free(j);
	return rc;
}

int
ike_gss_async_refresh(struct ike_gss_async *a, struct ike_gss_cred *cred,
    ike_gss_cred_cb cb, void *arg)
{
	struct gss_job *j;
	int rc;

	if (cred == NULL || cb == NULL || cred->free_pending)
		return PA_E_INVAL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return PA_E_NOMEM;
	j->kind = GSS_JOB_REFRESH;
	j->cred = cred;
	j->cred_cb = cb;
	j->arg = arg;
	cred->pending++;
	if ((rc = async_submit(a, j)) != 0) {
		cred->pending--;
		job_free(j);
	}
	return rc;
}

/* ---- payload helpers -------------------------------------------------- */

/* Is b exactly one DER object [APPLICATION 0] (constructed)? */
static bool
is_gss_framed(struct pa_bytes b)
{
	const unsigned char *p = b.p;
	long len = 0;
	int tag = 0, xclass = 0, r;
	size_t hdr;

	if (b.len < 2 || b.len > IKE_GSS_TOKEN_MAX)
		return false;
	r = ASN1_get_object(&p, &len, &tag, &xclass, (long)b.len);
	if ((r & 0x80) != 0 || r != V_ASN1_CONSTRUCTED ||
	    xclass != V_ASN1_APPLICATION || tag != 0 || len < 0)
		return false;
	hdr = (size_t)(p - b.p);
	return hdr <= b.len && (size_t)len == b.len - hdr;
}

int
ike_gss_tok_encode(struct wr *out, enum ike_gss_tokfmt fmt, uint8_t vendor,
    struct pa_bytes token)
{
	if (token.len == 0 || token.p == NULL ||
	    token.len > IKE_GSS_TOKEN_MAX)
		return PA_E_INVAL;
	if (fmt == IKE_GSS_TOKFMT_VENDOR) {
		/* R1: draft-07 layout, vendor octet first. */
		if (wr_u8(out, vendor) != 0)
			return wr_error(out);
	} else if (fmt != IKE_GSS_TOKFMT_RAW)
		return PA_E_INVAL;
	if (wr_bytes(out, token.p, token.len) != 0)
		return wr_error(out);
	return 0;
}

int
ike_gss_tok_decode(struct pa_bytes body, struct ike_gss_tok *out)
{
	struct rd r;
	uint8_t vendor;
	int rc;

	memset(out, 0, sizeof(*out));
	if (body.len == 0)
		return PA_E_SHORT;
	if (body.len > IKE_GSS_TOKEN_MAX + 1)
		return PA_E_FORMAT;
	/* R1: racoon sends the bare token; Kerberos tokens are framed. */
	if (is_gss_framed(body)) {
		out->fmt = IKE_GSS_TOKFMT_RAW;
		out->token = body;
		return 0;
	}
	rd_init(&r, body.p, body.len);
	if ((rc = rd_u8(&r, &vendor)) != 0)
		return rc;
	if (rd_empty(&r))
		return PA_E_SHORT;
	out->fmt = IKE_GSS_TOKFMT_VENDOR;
	out->vendor = vendor;
	out->token = rd_rest(&r);
	return 0;
}

bool
ike_gss_id_attr_type(uint16_t type)
{
	type &= 0x7fff;
	return type == IKE_GSS_ATTR_ID || type == IKE_GSS_ATTR_ID_W2K;
}

/* One code point from UTF-8; strict (no overlongs, no surrogates). */
static int
utf8_next(struct rd *r, uint32_t *cp)
{
	uint8_t b0, b;
	uint32_t c, min;
	int n, i, rc;

	if ((rc = rd_u8(r, &b0)) != 0)
		return rc;
	if (b0 < 0x80) {
		*cp = b0;
		return 0;
	} else if ((b0 & 0xe0) == 0xc0) {
		n = 1; c = b0 & 0x1f; min = 0x80;
	} else if ((b0 & 0xf0) == 0xe0) {
		n = 2; c = b0 & 0x0f; min = 0x800;
	} else if ((b0 & 0xf8) == 0xf0) {
		n = 3; c = b0 & 0x07; min = 0x10000;
	} else
		return PA_E_FORMAT;
	for (i = 0; i < n; i++) {
		if ((rc = rd_u8(r, &b)) != 0)
			return PA_E_FORMAT;
		if ((b & 0xc0) != 0x80)
			return PA_E_FORMAT;
		c = c << 6 | (b & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return PA_E_FORMAT;
	*cp = c;
	return 0;
}

static bool
name_char_ok(uint32_t c)
{
	return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c < 0xa0);
}

int
ike_gss_id_attr_encode(struct wr *out, const char *name)
{
	struct rd r;
	uint32_t c;
	size_t off, start, before = out->len;
	int rc;

	if (name == NULL || name[0] == '\0' ||
	    strlen(name) > IKE_GSS_NAME_MAX)
		return PA_E_INVAL;
	/* TLV attribute: AF bit clear, type, length patched below. */
	if (wr_u16(out, IKE_GSS_ATTR_ID) != 0 || wr_reserve(out, 2, &off) != 0)
		return wr_error(out);
	start = out->len;
	rd_init(&r, name, strlen(name));
	while (!rd_empty(&r)) {
		if (utf8_next(&r, &c) != 0 || !name_char_ok(c)) {
			/* Leave the writer as it was. */
			out->len = before;
			return PA_E_INVAL;
		}
		if (c >= 0x10000) {
			c -= 0x10000;
			(void)wr_u16le(out, (uint16_t)(0xd800 | (c >> 10)));
			(void)wr_u16le(out, (uint16_t)(0xdc00 | (c & 0x3ff)));
		} else
			(void)wr_u16le(out, (uint16_t)c);
	}
	if ((rc = wr_error(out)) != 0)
		return rc;
	return wr_patch_u16(out, off, (uint16_t)(out->len - start));
}

static int
utf8_put(uint32_t c, char *buf, size_t cap, size_t *len)
{
	uint8_t tmp[4];
	size_t n;

	if (c < 0x80) {
		tmp[0] = (uint8_t)c;
		n = 1;
	} else if (c < 0x800) {
		tmp[0] = (uint8_t)(0xc0 | c >> 6);
		tmp[1] = (uint8_t)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		tmp[0] = (uint8_t)(0xe0 | c >> 12);
		tmp[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		tmp[2] = (uint8_t)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		tmp[0] = (uint8_t)(0xf0 | c >> 18);
		tmp[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
		tmp[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		tmp[3] = (uint8_t)(0x80 | (c & 0x3f));
		n = 4;
	}
	if (cap == 0 || *len + n > cap - 1)
		return PA_E_NOSPACE;
	memcpy(&buf[*len], tmp, n);
	*len += n;
	return 0;
}

int
ike_gss_id_decode(struct pa_bytes value, char *name, size_t cap)
{
	struct rd r;
	uint16_t u, lo;
	uint32_t c;
	size_t len = 0;
	int rc;

	if (cap > 0)
		name[0] = '\0';
	if (value.len == 0)
		return PA_E_SHORT;
	if (value.len % 2 != 0)
		return PA_E_FORMAT;
	rd_init(&r, value.p, value.len);
	while (!rd_empty(&r)) {
		if ((rc = rd_u16le(&r, &u)) != 0)
			return rc;
		if (u == 0) {
			/* R2: one terminating NUL is tolerated, at the end. */
			if (!rd_empty(&r) || len == 0)
				return PA_E_FORMAT;
			break;
		}
		if (u >= 0xdc00 && u <= 0xdfff)
			return PA_E_FORMAT;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (rd_u16le(&r, &lo) != 0 || lo < 0xdc00 ||
			    lo > 0xdfff)
				return PA_E_FORMAT;
			c = 0x10000 + ((uint32_t)(u - 0xd800) << 10) +
			    (uint32_t)(lo - 0xdc00);
		} else
			c = u;
		if (!name_char_ok(c))
			return PA_E_FORMAT;
		if ((rc = utf8_put(c, name, cap, &len)) != 0) {
			if (cap > 0)
				name[0] = '\0';
			return rc;
		}
	}
	if (len > IKE_GSS_NAME_MAX) {
		name[0] = '\0';
		return PA_E_NOSPACE;
	}
	name[len] = '\0';
	return 0;
}

void
ike_gss_audit_identity(const char *principal, char *buf, size_t cap)
{
	if (cap == 0)
		return;
	(void)snprintf(buf, cap, "Kerberos based Identity: %s",
	    principal != NULL ? principal : "");
}
