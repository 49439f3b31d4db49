/*
 * Connecting and binding: URIs in order, TLS with CA verification (ldaps://
 * or StartTLS), SASL/GSSAPI from a client keytab without kinit, or a simple
 * bind; a timeout on every call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <sasl/sasl.h>

#include "dir_priv.h"
#include "pa_log.h"

#define DIR_DEFAULT_TIMEOUT_MS	10000
#define DIR_DEFAULT_PAGE	500

void
dir_set_error(struct dir *d, int rc, const char *what)
{
	char *diag = NULL;

	if (d->ld != NULL)
		(void)ldap_get_option(d->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	snprintf(d->err, sizeof(d->err), "%s: %s: %s%s%s", d->uri ? d->uri :
	    "?", what, ldap_err2string(rc), diag && *diag ? " (" : "",
	    diag && *diag ? diag : "");
	if (diag != NULL && *diag)
		strncat(d->err, ")", sizeof(d->err) - strlen(d->err) - 1);
	ldap_memfree(diag);
}

const char *
dir_uri(const struct dir *d)
{
	return d->uri;
}

const char *
dir_error(const struct dir *d)
{
	return d->err;
}

/*
 * Machine credentials straight from the keytab, without kinit: an initial
 * ticket is fetched with the keytab's key (krb5_get_init_creds_keytab) into
 * a private MEMORY ccache of this connection, which the GSSAPI mechanism
 * is pointed at, for this thread only, during the bind
 * (gss_krb5_ccache_name). libldap cannot take a gss_cred_id_t before the
 * SASL context exists, so gss_acquire_cred_from() cannot be handed over.
 */
static int
dir_krb5_tgt(struct dir *d, const struct dir_cfg *cfg)
{
	krb5_context ctx = NULL;
	krb5_keytab kt = NULL;
	krb5_principal princ = NULL;
	krb5_get_init_creds_opt *opt = NULL;
	krb5_creds creds;
	krb5_ccache cc = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code kerr;
	const char *msg;
	char name[64];
	bool have_creds = false;
	int rc = PA_E_VERIFY;

	memset(&creds, 0, sizeof(creds));
	if (cfg->client_keytab == NULL) {
		snprintf(d->err, sizeof(d->err), "GSSAPI bind needs a "
		    "client keytab");
		return PA_E_INVAL;
	}
	if ((kerr = krb5_init_context(&ctx)) != 0) {
		snprintf(d->err, sizeof(d->err), "krb5 init failed (%d)",
		    (int)kerr);
		return PA_E_STATE;
	}
	if ((kerr = krb5_kt_resolve(ctx, cfg->client_keytab, &kt)) != 0)
		goto kfail;
	if (cfg->principal != NULL) {
		if ((kerr = krb5_parse_name(ctx, cfg->principal, &princ)) != 0)
			goto kfail;
	} else {
		/* The keytab's first entry, as a host does by default. */
		if ((kerr = krb5_kt_start_seq_get(ctx, kt, &cur)) != 0)
			goto kfail;
		kerr = krb5_kt_next_entry(ctx, kt, &ent, &cur);
		if (kerr == 0) {
			kerr = krb5_copy_principal(ctx, ent.principal, &princ);
			krb5_free_keytab_entry_contents(ctx, &ent);
		}
		krb5_kt_end_seq_get(ctx, kt, &cur);
		if (kerr != 0)
			goto kfail;
	}
	if ((kerr = krb5_get_init_creds_opt_alloc(ctx, &opt)) != 0 ||
	    (kerr = krb5_get_init_creds_keytab(ctx, &creds, princ, kt, 0,
	    NULL, opt)) != 0)
		goto kfail;
	have_creds = true;
	snprintf(name, sizeof(name), "MEMORY:pa-dir-%p", (void *)d);
	if ((d->ccache = strdup(name)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	if ((kerr = krb5_cc_resolve(ctx, d->ccache, &cc)) != 0 ||
	    (kerr = krb5_cc_initialize(ctx, cc, princ)) != 0 ||
	    (kerr = krb5_cc_store_cred(ctx, cc, &creds)) != 0)
		goto kfail;
	rc = 0;
	goto out;
kfail:
	msg = krb5_get_error_message(ctx, kerr);
	snprintf(d->err, sizeof(d->err), "%s: initial ticket from keytab %s "
	    "for %s: %s", d->uri ? d->uri : "?", cfg->client_keytab,
	    cfg->principal ? cfg->principal : "its first principal", msg);
	krb5_free_error_message(ctx, msg);
out:
	if (have_creds)
		krb5_free_cred_contents(ctx, &creds);
	if (cc != NULL)
		krb5_cc_close(ctx, cc);
	if (opt != NULL)
		krb5_get_init_creds_opt_free(ctx, opt);
	if (princ != NULL)
		krb5_free_principal(ctx, princ);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	krb5_free_context(ctx);
	return rc;
}

static void
dir_gss_release(struct dir *d)
{
	krb5_context ctx;
	krb5_ccache cc;

	if (d->ccache != NULL && krb5_init_context(&ctx) == 0) {
		if (krb5_cc_resolve(ctx, d->ccache, &cc) == 0)
			krb5_cc_destroy(ctx, cc);
		krb5_free_context(ctx);
	}
	free(d->ccache);
	d->ccache = NULL;
}

/* The SASL/GSSAPI bind with the connection's ccache as this thread's
 * default for the duration of the call. */
static int
dir_gss_bind(struct dir *d, int (*interact)(LDAP *, unsigned, void *,
    void *))
{
	OM_uint32 major, minor;
	const char *old = NULL;
	char *saved = NULL;
	int rc;

	major = gss_krb5_ccache_name(&minor, d->ccache, &old);
	if (GSS_ERROR(major))
		return LDAP_LOCAL_ERROR;
	if (old != NULL)
		saved = strdup(old);
	rc = ldap_sasl_interactive_bind_s(d->ld, NULL, "GSSAPI", NULL, NULL,
	    LDAP_SASL_QUIET, interact, NULL);
	(void)gss_krb5_ccache_name(&minor, saved, NULL);
	free(saved);
	return rc;
}

/* No prompts: every SASL interaction gets its default (empty). */
static int
dir_sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *i = in;

	(void)ld;
	(void)flags;
	(void)defaults;
	for (; i != NULL && i->id != SASL_CB_LIST_END; i++) {
		i->result = i->defresult ? i->defresult : "";
		i->len = (unsigned)strlen(i->result);
	}
	return LDAP_SUCCESS;
}

static bool
dir_uri_tls(const char *uri)
{
	return strncasecmp(uri, "ldaps://", 8) == 0;
}

static int
dir_try(struct dir *d, const struct dir_cfg *cfg, const char *uri)
{
	struct timeval tv;
	struct berval cred;
	int rc, v, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	bool tls = dir_uri_tls(uri), ldapi;

	ldapi = strncasecmp(uri, "ldapi://", 8) == 0;
	free(d->uri);
	if ((d->uri = strdup(uri)) == NULL)
		return PA_E_NOMEM;
	if ((rc = ldap_initialize(&d->ld, uri)) != LDAP_SUCCESS) {
		dir_set_error(d, rc, "bad URI");
		return PA_E_INVAL;
	}
	tv.tv_sec = d->timeout_ms / 1000;
	tv.tv_usec = (d->timeout_ms % 1000) * 1000;
	v = LDAP_VERSION3;
	if (ldap_set_option(d->ld, LDAP_OPT_PROTOCOL_VERSION, &v) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(d->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(d->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(d->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(d->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON) !=
	    LDAP_OPT_SUCCESS) {
		snprintf(d->err, sizeof(d->err), "%s: cannot set options",
		    uri);
		return PA_E_STATE;
	}
	if (tls || cfg->starttls) {
		if ((cfg->ca_file != NULL && ldap_set_option(d->ld,
		    LDAP_OPT_X_TLS_CACERTFILE, cfg->ca_file) !=
		    LDAP_OPT_SUCCESS) ||
		    ldap_set_option(d->ld, LDAP_OPT_X_TLS_REQUIRE_CERT,
		    &demand) != LDAP_OPT_SUCCESS ||
		    ldap_set_option(d->ld, LDAP_OPT_X_TLS_NEWCTX, &zero) !=
		    LDAP_OPT_SUCCESS) {
			snprintf(d->err, sizeof(d->err), "%s: cannot set up "
			    "TLS (CA file %s)", uri, cfg->ca_file ?
			    cfg->ca_file : "system");
			return PA_E_STATE;
		}
	}
	if (cfg->starttls && !tls && !ldapi) {
		if ((rc = ldap_start_tls_s(d->ld, NULL, NULL)) != LDAP_SUCCESS) {
			dir_set_error(d, rc, "StartTLS");
			return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ?
			    PA_E_AGAIN : PA_E_VERIFY;
		}
		tls = true;
	}
	switch (cfg->bind) {
	case DIR_BIND_SIMPLE:
		if (!tls && !ldapi && !cfg->insecure_plain) {
			snprintf(d->err, sizeof(d->err), "%s: refusing a "
			    "password bind without TLS", uri);
			return PA_E_PERM;
		}
		cred.bv_val = cfg->bind_pw ? (char *)cfg->bind_pw->p : NULL;
		cred.bv_len = cfg->bind_pw ? cfg->bind_pw->len : 0;
		rc = ldap_sasl_bind_s(d->ld, cfg->bind_dn, LDAP_SASL_SIMPLE,
		    &cred, NULL, NULL, NULL);
		break;
	case DIR_BIND_GSSAPI:
		/* Without TLS the SASL layer must seal (as AD requires). */
		if (!tls && !ldapi && ldap_set_option(d->ld,
		    LDAP_OPT_X_SASL_SECPROPS, "minssf=56") != LDAP_OPT_SUCCESS) {
			snprintf(d->err, sizeof(d->err), "%s: cannot require "
			    "SASL sealing", uri);
			return PA_E_STATE;
		}
		if (d->ccache == NULL && (rc = dir_krb5_tgt(d, cfg)) != 0)
			return rc;
		rc = dir_gss_bind(d, dir_sasl_interact);
		break;
	case DIR_BIND_ANON:
		cred.bv_val = NULL;
		cred.bv_len = 0;
		rc = ldap_sasl_bind_s(d->ld, NULL, LDAP_SASL_SIMPLE, &cred,
		    NULL, NULL, NULL);
		break;
	default:
		return PA_E_INVAL;
	}
	if (rc != LDAP_SUCCESS) {
		dir_set_error(d, rc, "bind");
		return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ||
		    rc == LDAP_CONNECT_ERROR ? PA_E_AGAIN : PA_E_VERIFY;
	}
	return 0;
}

int
dir_open(const struct dir_cfg *cfg, struct dir **out, char *errbuf,
    size_t errcap)
{
	struct dir *d;
	size_t i, n = 0;
	int rc = PA_E_INVAL;

	*out = NULL;
	if (errbuf != NULL && errcap > 0)
		errbuf[0] = '\0';
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return PA_E_NOMEM;
	d->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms :
	    DIR_DEFAULT_TIMEOUT_MS;
	d->page_size = cfg->page_size ? cfg->page_size : DIR_DEFAULT_PAGE;
	if (cfg->nuris == 0)
		snprintf(d->err, sizeof(d->err), "no directory URI configured");
	for (i = 0; i < cfg->nuris; i++) {
		d->err[0] = '\0';
		if ((rc = dir_try(d, cfg, cfg->uris[i])) == 0) {
			*out = d;
			return 0;
		}
		log_debug("%s: %s", __func__, d->err);
		if (errbuf != NULL && errcap > n)
			n += (size_t)snprintf(errbuf + n, errcap - n, "%s%s",
			    n ? "; " : "", d->err);
		if (d->ld != NULL)
			ldap_unbind_ext_s(d->ld, NULL, NULL);
		d->ld = NULL;
	}
	if (errbuf != NULL && n == 0)
		snprintf(errbuf, errcap, "%s", d->err);
	dir_close(d);
	return rc;
}

void
dir_close(struct dir *d)
{
	if (d == NULL)
		return;
	if (d->ld != NULL)
		ldap_unbind_ext_s(d->ld, NULL, NULL);
	dir_gss_release(d);
	free(d->uri);
	free(d);
}

int
dir_whoami(struct dir *d, char **out)
{
	struct berval *id = NULL;
	struct timeval tv;
	int rc;

	*out = NULL;
	(void)tv;
	if ((rc = ldap_whoami_s(d->ld, &id, NULL, NULL)) != LDAP_SUCCESS) {
		dir_set_error(d, rc, "who am I");
		return PA_E_VERIFY;
	}
	*out = strndup(id && id->bv_val ? id->bv_val : "",
	    id ? id->bv_len : 0);
	ber_bvfree(id);
	return *out != NULL ? 0 : PA_E_NOMEM;
}
