/*
 * RSA signature authentication with X.509 certificates (RFC 2409 5.1):
 * our credentials (certificate, private key, trusted CAs, loaded once by
 * ike_new), signing HASH_I/HASH_R (PKCS#1 v1.5 type 1 over the raw hash,
 * without DigestInfo, the IKEv1 convention), and checking a peer: its
 * certificate chains to a trusted CA named by the rule's authentication
 * method (by DN, RFC 4514 text), its ID names the certificate (DER DN
 * equal to the subject, or an IP address in subjectAltName), and its
 * signature verifies. Only OpenSSL parses certificates and names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ike_int.h"

#define IKE_MAX_CAS	32

struct ike_creds {
	X509		*cert;
	EVP_PKEY	*key;
	uint8_t		*cert_der;
	size_t		 cert_len;
	uint8_t		*dn_der;	/* our subject, for ID_DER_ASN1_DN */
	size_t		 dn_len;
	X509		*cas[IKE_MAX_CAS];
	size_t		 ncas;
};

void
ike_creds_free(struct ike_creds *c)
{
	size_t i;

	if (c == NULL)
		return;
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	free(c->cert_der);
	free(c->dn_der);
	for (i = 0; i < c->ncas; i++)
		X509_free(c->cas[i]);
	free(c);
}

static int
der_of(X509 *x, X509_NAME *n, uint8_t **out, size_t *len)
{
	unsigned char *p = NULL;
	int l;

	l = x != NULL ? i2d_X509(x, &p) : i2d_X509_NAME(n, &p);
	if (l <= 0)
		return PA_E_CRYPTO;
	if ((*out = malloc((size_t)l)) == NULL) {
		OPENSSL_free(p);
		return PA_E_NOMEM;
	}
	memcpy(*out, p, (size_t)l);
	*len = (size_t)l;
	OPENSSL_free(p);
	return 0;
}

int
ike_creds_load(const struct ike_cfg *cfg, struct ike_creds **out)
{
	struct ike_creds *c;
	BIO *b = NULL;
	X509 *x;
	int rc = PA_E_CRYPTO;

	*out = NULL;
	if (cfg->cert_file == NULL && cfg->ca_file == NULL)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PA_E_NOMEM;
	if (cfg->cert_file != NULL) {
		if ((b = BIO_new_file(cfg->cert_file, "r")) == NULL ||
		    (c->cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
			goto out;
		BIO_free(b);
		b = NULL;
		if (cfg->key_file == NULL ||
		    (b = BIO_new_file(cfg->key_file, "r")) == NULL ||
		    (c->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) ==
		    NULL || EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA ||
		    X509_check_private_key(c->cert, c->key) != 1)
			goto out;
		BIO_free(b);
		b = NULL;
		if ((rc = der_of(c->cert, NULL, &c->cert_der, &c->cert_len))
		    != 0 || (rc = der_of(NULL, X509_get_subject_name(c->cert),
		    &c->dn_der, &c->dn_len)) != 0)
			goto out;
		rc = PA_E_CRYPTO;
	}
	if (cfg->ca_file != NULL) {
		if ((b = BIO_new_file(cfg->ca_file, "r")) == NULL)
			goto out;
		while (c->ncas < IKE_MAX_CAS &&
		    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			c->cas[c->ncas++] = x;
		ERR_clear_error();	/* the end of the file */
		if (c->ncas == 0)
			goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	BIO_free(b);
	ike_creds_free(c);
	return rc;
}

bool
ike_creds_can_sign(const struct ike_creds *c)
{
	return c != NULL && c->cert != NULL && c->key != NULL && c->ncas > 0;
}

struct pa_bytes
ike_creds_cert(const struct ike_creds *c)
{
	struct pa_bytes b = { c->cert_der, c->cert_len };

	return b;
}

struct pa_bytes
ike_creds_dn(const struct ike_creds *c)
{
	struct pa_bytes b = { c->dn_der, c->dn_len };

	return b;
}

/* Does the CA's subject read as dn (RFC 4514, case-insensitive)? */
static bool
ca_named(X509 *ca, const char *dn)
{
	char buf[512];
	BIO *b;
	int n;

	if (dn == NULL || dn[0] == '\0')
		return true;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return false;
	n = X509_NAME_print_ex(b, X509_get_subject_name(ca), 0,
	    XN_FLAG_RFC2253);
	if (n < 0 || (n = BIO_read(b, buf, sizeof(buf) - 1)) < 0)
		n = 0;
	buf[n] = '\0';
	BIO_free(b);
	return strcasecmp(buf, dn) == 0;
}

int
ike_creds_ca_der(const struct ike_creds *c, const char *dn, uint8_t **out,
    size_t *len)
{
	size_t i;

	*out = NULL;
	*len = 0;
	if (c == NULL)
		return PA_E_NOENT;
	for (i = 0; i < c->ncas; i++)
		if (ca_named(c->cas[i], dn))
			return der_of(NULL, X509_get_subject_name(c->cas[i]),
			    out, len);
	return PA_E_NOENT;
}

int
ike_cert_sign(const struct ike_creds *c, const uint8_t *hash, size_t hl,
    uint8_t *sig, size_t cap, size_t *siglen)
{
	EVP_PKEY_CTX *ctx;
	size_t n = cap;
	int rc = PA_E_CRYPTO;

	if (!ike_creds_can_sign(c))
		return PA_E_NOENT;
	if ((ctx = EVP_PKEY_CTX_new(c->key, NULL)) == NULL)
		return PA_E_NOMEM;
	if (EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_sign(ctx, sig, &n, hash, hl) <= 0)
		goto out;
	*siglen = n;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static int
chain_ok(const struct ike_creds *c, X509 *peer, const char *const *dns,
    size_t ndns, char *why, size_t whylen)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	size_t i, n = 0;
	int rc = PA_E_PERM;

	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	/* The CAs the rule's certificate methods name (none: any). */
	for (i = 0; i < c->ncas; i++) {
		bool named = ndns == 0;
		size_t k;

		for (k = 0; k < ndns && !named; k++)
			named = ca_named(c->cas[i], dns[k]);
		if (named && X509_STORE_add_cert(st, c->cas[i]) == 1)
			n++;
	}
	if (n == 0) {
		snprintf(why, whylen, "no trusted CA named \"%s\"%s",
		    ndns > 0 ? dns[0] : "", ndns > 1 ? " or the others" : "");
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, st, peer, NULL) != 1)
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		snprintf(why, whylen, "certificate not trusted: %s",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

static bool
id_names_cert(X509 *x, const struct isk_id *id)
{
	uint8_t *dn = NULL;
	size_t dnlen;
	bool ok = false;

	if (id->type == ISK_ID_DER_DN) {
		if (der_of(NULL, X509_get_subject_name(x), &dn, &dnlen) != 0)
			return false;
		ok = dnlen == id->data.len &&
		    memcmp(dn, id->data.p, dnlen) == 0;
		free(dn);
		return ok;
	}
	if (id->type == ISK_ID_IPV4 || id->type == ISK_ID_IPV6)
		return X509_check_ip(x, id->data.p, id->data.len, 0) == 1;
	return false;
}

int
ike_cert_verify_peer(const struct ike_creds *c, const char *const *ca_dns,
    size_t nca, struct pa_bytes cert, const struct isk_id *id, const uint8_t *hash,
    size_t hl, struct pa_bytes sig, char *subject, size_t sublen, char *why,
    size_t whylen)
{
	const unsigned char *p = cert.p;
	X509 *x = NULL;
	EVP_PKEY *pk;
	EVP_PKEY_CTX *ctx = NULL;
	int rc;

	subject[0] = '\0';
	if (c == NULL || c->ncas == 0) {
		snprintf(why, whylen, "no trusted CAs configured");
		return PA_E_PERM;
	}
	if (cert.len > 16384 || (x = d2i_X509(NULL, &p, (long)cert.len)) ==
	    NULL || p != cert.p + cert.len) {
		snprintf(why, whylen, "malformed certificate");
		rc = PA_E_PERM;
		goto out;
	}
	X509_NAME_oneline(X509_get_subject_name(x), subject, (int)sublen);
	if ((rc = chain_ok(c, x, ca_dns, nca, why, whylen)) != 0)
		goto out;
	if (!id_names_cert(x, id)) {
		snprintf(why, whylen, "the peer's ID does not name its "
		    "certificate");
		rc = PA_E_VERIFY;
		goto out;
	}
	rc = PA_E_VERIFY;
	if ((pk = X509_get0_pubkey(x)) == NULL ||
	    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
	    (ctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_verify(ctx, sig.p, sig.len, hash, hl) != 1) {
		snprintf(why, whylen, "signature verification failed");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	return rc;
}
