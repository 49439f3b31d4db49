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
#include <gssapi/gssapi_ext.h>
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

static void
gss_msg(OM_uint32 major, OM_uint32 minor, char *buf, size_t cap)
{
	OM_uint32 min2, ctx = 0;
	gss_buffer_desc b;
	size_t n = 0;

	buf[0] = '\0';
	do {
		if (gss_display_status(&min2, major, GSS_C_GSS_CODE,
		    GSS_C_NO_OID, &ctx, &b) != GSS_S_COMPLETE)
			break;
		n += (size_t)snprintf(buf + n, cap > n ? cap - n : 0, "%.*s; ",
		    (int)b.length, (const char *)b.value);
		gss_release_buffer(&min2, &b);
	} while (ctx != 0 && n < cap);
	ctx = 0;
	if (minor != 0 && gss_display_status(&min2, minor, GSS_C_MECH_CODE,
	    GSS_C_NO_OID, &ctx, &b) == GSS_S_COMPLETE) {
		snprintf(buf + n, cap > n ? cap - n : 0, "%.*s",
		    (int)b.length, (const char *)b.value);
		gss_release_buffer(&min2, &b);
	}
}

/*
 * Machine credentials straight from the keytab: gss_acquire_cred_from()
 * with a client_keytab and a private MEMORY ccache, so the initial ticket
 * is fetched by the mechanism when needed (no kinit, no shared ccache).
 */
static int
dir_gss_creds(struct dir *d, const struct dir_cfg *cfg)
{
	gss_key_value_element_desc el[2];
	gss_key_value_set_desc store;
	gss_name_t name = GSS_C_NO_NAME;
	gss_buffer_desc nb;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 major, minor;
	char cc[64], msg[256];

	if (cfg->client_keytab == NULL) {
		snprintf(d->err, sizeof(d->err), "GSSAPI bind needs a "
		    "client keytab");
		return PA_E_INVAL;
	}
	snprintf(cc, sizeof(cc), "MEMORY:pa-dir-%p", (void *)d);
	if ((d->ccache = strdup(cc)) == NULL)
		return PA_E_NOMEM;
	el[0].key = "client_keytab";
	el[0].value = cfg->client_keytab;
	el[1].key = "ccache";
	el[1].value = d->ccache;
	store.count = 2;
	store.elements = el;
	if (cfg->principal != NULL) {
		nb.value = (void *)(uintptr_t)cfg->principal;
		nb.length = strlen(cfg->principal);
		major = gss_import_name(&minor, &nb,
		    (gss_OID)(uintptr_t)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
		if (GSS_ERROR(major)) {
			gss_msg(major, minor, msg, sizeof(msg));
			snprintf(d->err, sizeof(d->err), "principal %s: %s",
			    cfg->principal, msg);
			return PA_E_INVAL;
		}
	}
	major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE,
	    GSS_C_NO_OID_SET, GSS_C_INITIATE, &store, &cred, NULL, NULL);
	if (name != GSS_C_NO_NAME)
		gss_release_name(&minor, &name);
	if (GSS_ERROR(major)) {
		gss_msg(major, minor, msg, sizeof(msg));
		snprintf(d->err, sizeof(d->err), "credentials from keytab %s: "
		    "%s", cfg->client_keytab, msg);
		return PA_E_VERIFY;
	}
	d->gss_cred = cred;
	return 0;
}

static void
dir_gss_release(struct dir *d)
{
	OM_uint32 minor;
	gss_cred_id_t cred = d->gss_cred;
	krb5_context ctx;
	krb5_ccache cc;

	if (cred != NULL)
		gss_release_cred(&minor, &cred);
	d->gss_cred = NULL;
	if (d->ccache != NULL && krb5_init_context(&ctx) == 0) {
		if (krb5_cc_resolve(ctx, d->ccache, &cc) == 0)
			krb5_cc_destroy(ctx, cc);
		krb5_free_context(ctx);
	}
	free(d->ccache);
	d->ccache = NULL;
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
		if (d->gss_cred == NULL && (rc = dir_gss_creds(d, cfg)) != 0)
			return rc;
		if (ldap_set_option(d->ld, LDAP_OPT_X_SASL_GSS_CREDS,
		    d->gss_cred) != LDAP_OPT_SUCCESS) {
			snprintf(d->err, sizeof(d->err), "%s: cannot hand the "
			    "GSSAPI credentials to libldap", uri);
			return PA_E_STATE;
		}
		rc = ldap_sasl_interactive_bind_s(d->ld, NULL, "GSSAPI", NULL,
		    NULL, LDAP_SASL_QUIET, dir_sasl_interact, NULL);
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
