/*
 * RSA signature authentication with X.509 certificates (RFC 2409 5.1):
 * our credentials (certificate, private key, trusted CAs, loaded once by
 * ike_new), signing HASH_I/HASH_R (PKCS#1 v1.5 type 1 over the raw hash,
 * without DigestInfo, the IKEv1 convention), and checking a peer: its
 * certificate chains to a trusted CA named by the rule's authentication
 * method (by DN, RFC 4514 text), its ID names the certificate (DER DN
 * equal to the subject, or an IP address in subjectAltName), and its
 * signature verifies. Only OpenSSL parses certificates and names.
 *
 * At the end, the method for Main Mode (ike_auth.h): certificate requests
 * in MM #3 / #4, our DER subject as ID and our certificates and signature
 * in MM #5 / #6, SKEYID as for signatures (RFC 2409 5.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ike_auth.h"
#include "ike_sa.h"
#include "pa_dn.h"

#define IKE_MAX_CAS	32
#define IKE_MAX_CRLS	64

struct ike_creds {
	X509		*cert;
	EVP_PKEY	*key;
	uint8_t		*cert_der;
	size_t		 cert_len;
	/* The CA certificates after ours in cert_file, sent with it. */
	uint8_t		*im_der[IKE_MAX_CHAIN];
	size_t		 im_len[IKE_MAX_CHAIN];
	size_t		 nim;
	uint8_t		*dn_der;	/* our subject, for ID_DER_ASN1_DN */
	size_t		 dn_len;
	X509		*cas[IKE_MAX_CAS];
	size_t		 ncas;
	X509_CRL	*crls[IKE_MAX_CRLS];
	size_t		 ncrls;
	/* From the distribution points (ike_set_crls), replaced as a whole. */
	X509_CRL	*fetched[IKE_MAX_CRLS];
	size_t		 nfetched;
	/* The domain's enterprise CAs (ike_set_domain_cas), the same way. */
	X509		*dcas[IKE_MAX_CAS];
	size_t		 ndcas;
	/* Its issuing CAs (AIA, NTAuth): chain material, not anchors. */
	X509		*dims[IKE_MAX_CAS];
	size_t		 ndims;
	uint8_t		 crl_check;	/* ike_cfg.crl_check */
};

/* A peer's certificate and the further ones it sent (ike_policy.h). */
struct ike_peer_certs {
	X509		*leaf;
	STACK_OF(X509)	*untrusted;
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
	for (i = 0; i < c->nim; i++)
		free(c->im_der[i]);
	for (i = 0; i < c->ncas; i++)
		X509_free(c->cas[i]);
	for (i = 0; i < c->ncrls; i++)
		X509_CRL_free(c->crls[i]);
	for (i = 0; i < c->nfetched; i++)
		X509_CRL_free(c->fetched[i]);
	for (i = 0; i < c->ndcas; i++)
		X509_free(c->dcas[i]);
	for (i = 0; i < c->ndims; i++)
		X509_free(c->dims[i]);
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
		/* Intermediate CAs after ours: the chain we send. */
		while (c->nim < IKE_MAX_CHAIN &&
		    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			rc = der_of(x, NULL, &c->im_der[c->nim],
			    &c->im_len[c->nim]);
			X509_free(x);
			if (rc != 0)
				goto out;
			c->nim++;
		}
		rc = PA_E_CRYPTO;
		ERR_clear_error();	/* the end of the file */
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
	c->crl_check = cfg->crl_check;
	if (cfg->crl_file != NULL && cfg->crl_file[0] != '\0') {
		X509_CRL *crl;

		BIO_free(b);
		if ((b = BIO_new_file(cfg->crl_file, "r")) == NULL)
			goto out;
		while (c->ncrls < IKE_MAX_CRLS &&
		    (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL)
			c->crls[c->ncrls++] = crl;
		ERR_clear_error();	/* the end of the file */
		if (c->ncrls == 0)
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
	return c != NULL && c->cert != NULL && c->key != NULL &&
	    c->ncas + c->ndcas > 0;
}

size_t
ike_creds_nchain(const struct ike_creds *c)
{
	return c != NULL ? c->nim : 0;
}

struct pa_bytes
ike_creds_chain(const struct ike_creds *c, size_t i)
{
	struct pa_bytes b = { NULL, 0 };

	if (c != NULL && i < c->nim) {
		b.p = c->im_der[i];
		b.len = c->im_len[i];
	}
	return b;
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

/*
 * Is the CA's subject the name dn (a rootca= value: any usual form, either
 * RDN order, case and spacing ignored; pa_dn.h)? A dn that does not read
 * as a name (a policy written before names were checked) is compared as
 * before, with OpenSSL's RFC 2253 text, case-insensitively.
 */
static bool
ca_named(X509 *ca, const char *dn)
{
	char buf[512];
	BIO *b;
	int n;

	if (dn == NULL || dn[0] == '\0')
		return true;
	if (pa_dn_matches(X509_get_subject_name(ca), dn))
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
	for (i = 0; i < c->ncas + c->ndcas; i++) {
		X509 *ca = i < c->ncas ? c->cas[i] : c->dcas[i - c->ncas];

		if (ca_named(ca, dn))
			return der_of(NULL, X509_get_subject_name(ca), out,
			    len);
	}
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

/* The subject of x as RFC 2253 text. */
static void
subject_text(X509 *x, char *out, size_t cap)
{
	BIO *b;
	int n = 0;

	out[0] = '\0';
	if (x == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_read(b, out, (int)cap - 1)) < 0)
		n = 0;
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/*
 * Level 1 of revocation checking: a CRL that is missing, not yet or no
 * longer valid, or whose issuer cannot be found is no reason to refuse;
 * only a certificate a valid CRL lists is (X509_V_ERR_CERT_REVOKED).
 */
static int
crl_lenient(int ok, X509_STORE_CTX *ctx)
{
	if (ok)
		return ok;
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
		return 1;
	default:
		return 0;
	}
}

/* CRLs apply at level 1 and 2; at 1 only "revoked" refuses. */
static void
store_crls(const struct ike_creds *c, X509_STORE *st, uint8_t level)
{
	size_t i;

	if (level == 0)
		return;
	for (i = 0; i < c->ncrls; i++)
		(void)X509_STORE_add_crl(st, c->crls[i]);
	for (i = 0; i < c->nfetched; i++)
		(void)X509_STORE_add_crl(st, c->fetched[i]);
	/* Delta CRLs (fetched beside their base) count too. */
	(void)X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS);
	if (level == 1)
		X509_STORE_set_verify_cb(st, crl_lenient);
}

/* A verification failure that only a CRL at hand would lift. */
static bool
crl_missing(int err)
{
	return err == X509_V_ERR_UNABLE_TO_GET_CRL ||
	    err == X509_V_ERR_CRL_NOT_YET_VALID ||
	    err == X509_V_ERR_CRL_HAS_EXPIRED ||
	    err == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER ||
	    err == X509_V_ERR_DIFFERENT_CRL_SCOPE;
}

/*
 * Verify peer with the further certificates it sent (untrusted) up to a
 * trusted CA, revocation at the given level. Returns the context (the
 * caller frees it and its store) with ok set, or NULL when out of memory.
 */
static X509_STORE_CTX *
verify(const struct ike_creds *c, X509 *peer, STACK_OF(X509) *untrusted,
    uint8_t level, bool *ok)
{
	X509_STORE *st;
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *all;
	size_t i;

	*ok = false;
	/* What the peer sent, then the domain's issuing CAs (shallow). */
	if ((all = untrusted != NULL ? sk_X509_dup(untrusted) :
	    sk_X509_new_null()) == NULL)
		return NULL;
	for (i = 0; i < c->ndims; i++)
		(void)sk_X509_push(all, c->dims[i]);
	if ((st = X509_STORE_new()) == NULL) {
		sk_X509_free(all);
		return NULL;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL) {
		X509_STORE_free(st);
		sk_X509_free(all);
		return NULL;
	}
	for (i = 0; i < c->ncas; i++)
		(void)X509_STORE_add_cert(st, c->cas[i]);
	for (i = 0; i < c->ndcas; i++)
		(void)X509_STORE_add_cert(st, c->dcas[i]);
	store_crls(c, st, level);
	if (X509_STORE_CTX_init(ctx, st, peer, all) != 1) {
		X509_STORE_CTX_free(ctx);
		X509_STORE_free(st);
		sk_X509_free(all);
		return NULL;
	}
	*ok = X509_verify_cert(ctx) == 1;
	return ctx;
}

static void
verify_free(X509_STORE_CTX *ctx)
{
	X509_STORE *st;
	STACK_OF(X509) *all;

	if (ctx == NULL)
		return;
	st = X509_STORE_CTX_get0_store(ctx);
	all = X509_STORE_CTX_get0_untrusted(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(all);	/* verify()'s shallow copy */
}

/*
 * The distribution points (full-name URIs) of the certificates of a
 * verified chain below its root, handed to want(): where their CRLs are.
 */
static void
chain_cdps(STACK_OF(X509) *chain, void (*want)(void *, const char *),
    void *arg)
{
	STACK_OF(DIST_POINT) *dps;
	char uri[1024];
	int k, i, j, n;

	for (k = 0; chain != NULL && k + 1 < sk_X509_num(chain); k++) {
		dps = X509_get_ext_d2i(sk_X509_value(chain, k),
		    NID_crl_distribution_points, NULL, NULL);
		for (i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
			DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
			GENERAL_NAMES *gns;

			if (dp->distpoint == NULL || dp->distpoint->type != 0)
				continue;	/* only a full name */
			gns = dp->distpoint->name.fullname;
			for (j = 0; j < sk_GENERAL_NAME_num(gns); j++) {
				GENERAL_NAME *g = sk_GENERAL_NAME_value(gns,
				    j);

				if (g->type != GEN_URI)
					continue;
				n = ASN1_STRING_length(g->d.ia5);
				if (n <= 0 || (size_t)n >= sizeof(uri))
					continue;
				memcpy(uri, ASN1_STRING_get0_data(g->d.ia5),
				    (size_t)n);
				uri[n] = '\0';
				if (strlen(uri) == (size_t)n)
					want(arg, uri);
			}
		}
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	}
}

/* The certificates the peer sent after its own, parsed. */
static STACK_OF(X509) *
untrusted_of(const struct pa_bytes *im, size_t nim)
{
	STACK_OF(X509) *sk;
	size_t i;

	if ((sk = sk_X509_new_null()) == NULL)
		return NULL;
	for (i = 0; i < nim; i++) {
		const unsigned char *p = im[i].p;
		X509 *x;

		if (im[i].len > 16384 ||
		    (x = d2i_X509(NULL, &p, (long)im[i].len)) == NULL)
			continue;	/* not a certificate: not used */
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			return NULL;
		}
	}
	return sk;
}

/*
 * Build and verify the peer's chain: the trusted CAs are the anchors, the
 * further certificates it sent may fill the gap; then one of the CAs in
 * the verified chain (the issuer or any above it, the root too) must be
 * one the rule's certificate methods name (any when ndns is 0). The
 * distribution points of a chain that verifies (but for a CRL not at
 * hand) go to want.
 */
static int
chain_ok(const struct ike_creds *c, X509 *peer, STACK_OF(X509) *untrusted,
    const char *const *dns, size_t ndns, const struct ike_crl_want *cw,
    char *why, size_t whylen)
{
	X509_STORE_CTX *ctx, *plain;
	STACK_OF(X509) *chain;
	char subj[256];
	size_t i, k;
	int rc = PA_E_PERM, depth, err;
	bool ok, pok;

	if ((ctx = verify(c, peer, untrusted, c->crl_check, &ok)) == NULL)
		return PA_E_NOMEM;
	err = X509_STORE_CTX_get_error(ctx);
	if (cw != NULL && cw->fn != NULL && (ok || crl_missing(err))) {
		/* Known good but for the CRL: only then is it asked for. */
		plain = ok ? NULL : verify(c, peer, untrusted, 0, &pok);
		if (ok || pok)
			chain_cdps(X509_STORE_CTX_get0_chain(ok ? ctx : plain),
			    cw->fn, cw->arg);
		verify_free(plain);
	}
	if (!ok) {
		depth = X509_STORE_CTX_get_error_depth(ctx);
		subject_text(X509_STORE_CTX_get_current_cert(ctx), subj,
		    sizeof(subj));
		snprintf(why, whylen, "certificate not trusted: %s (chain "
		    "element %d%s%s)", X509_verify_cert_error_string(err),
		    depth, subj[0] != '\0' ? ", " : "", subj);
		goto out;
	}
	if (ndns > 0) {
		chain = X509_STORE_CTX_get0_chain(ctx);
		for (k = 1; chain != NULL && k < (size_t)sk_X509_num(chain);
		    k++)
			for (i = 0; i < ndns; i++)
				if (ca_named(sk_X509_value(chain, (int)k),
				    dns[i]))
					goto named;
		snprintf(why, whylen, "the certificate's chain has no CA named "
		    "\"%s\"%s", dns[0], ndns > 1 ? " or the others" : "");
		goto out;
	}
named:
	rc = 0;
out:
	verify_free(ctx);
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
    size_t nca, struct pa_bytes cert, const struct pa_bytes *im, size_t nim,
    const struct isk_id *id, const uint8_t *hash,
    size_t hl, struct pa_bytes sig, const struct ike_crl_want *cw,
    struct ike_peer_certs **keep, char *subject, size_t sublen, char *why,
    size_t whylen)
{
	const unsigned char *p = cert.p;
	STACK_OF(X509) *untrusted = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk;
	EVP_PKEY_CTX *ctx = NULL;
	int rc;

	subject[0] = '\0';
	if (keep != NULL)
		*keep = NULL;
	if (c == NULL || c->ncas + c->ndcas == 0) {
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
	if ((untrusted = untrusted_of(im, nim)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	if ((rc = chain_ok(c, x, untrusted, ca_dns, nca, cw, why, whylen)) !=
	    0)
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
	/* Kept for the revocation checks while its SAs live. */
	if (keep != NULL && (*keep = calloc(1, sizeof(**keep))) != NULL) {
		(*keep)->leaf = x;
		(*keep)->untrusted = untrusted;
		x = NULL;
		untrusted = NULL;
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(x);
	return rc;
}

void
ike_peer_certs_free(struct ike_peer_certs *pc)
{
	if (pc == NULL)
		return;
	X509_free(pc->leaf);
	sk_X509_pop_free(pc->untrusted, X509_free);
	free(pc);
}

/* A name in the certificate's own order, RFC 4514 escaping: AD's form. */
static int
name_ad(X509_NAME *n, char *out, size_t cap)
{
	BIO *b;
	int k = -1;

	out[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return PA_E_NOMEM;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >=
	    0)
		k = BIO_read(b, out, (int)cap - 1);
	BIO_free(b);
	if (k <= 0 || (size_t)k >= cap - 1)
		return PA_E_NOSPACE;	/* none, or maybe cut */
	out[k] = '\0';
	return 0;
}

static void
hex_upper(const uint8_t *p, size_t n, bool reverse, char *out, size_t cap)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i, k = 0;

	for (i = 0; i < n && k + 2 < cap; i++) {
		uint8_t c = p[reverse ? n - 1 - i : i];

		out[k++] = hx[c >> 4];
		out[k++] = hx[c & 15];
	}
	out[k] = '\0';
}

/* The subjectAltName's dNSNames and Microsoft UPNs (otherName). */
static void
mapreq_sans(X509 *x, struct ike_certmap_req *r)
{
	GENERAL_NAMES *sans;
	const GENERAL_NAME *g;
	ASN1_OBJECT *upn = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1);
	const ASN1_STRING *v;
	int i;

	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		g = sk_GENERAL_NAME_value(sans, i);
		v = NULL;
		if (g->type == GEN_DNS && r->ndns < IKE_CERTMAP_NAMES)
			v = g->d.dNSName;
		else if (g->type == GEN_OTHERNAME && upn != NULL &&
		    OBJ_cmp(g->d.otherName->type_id, upn) == 0 &&
		    g->d.otherName->value->type == V_ASN1_UTF8STRING &&
		    r->nupn < IKE_CERTMAP_NAMES)
			v = g->d.otherName->value->value.utf8string;
		/* Text without NULs that fits, else not a name to look up. */
		if (v == NULL || v->length <= 0 || (size_t)v->length >= 256 ||
		    memchr(v->data, '\0', (size_t)v->length) != NULL)
			continue;
		if (g->type == GEN_DNS)
			snprintf(r->dns[r->ndns++], 256, "%.*s", v->length,
			    (const char *)v->data);
		else
			snprintf(r->upn[r->nupn++], 256, "%.*s", v->length,
			    (const char *)v->data);
	}
	GENERAL_NAMES_free(sans);
	ASN1_OBJECT_free(upn);
}

int
ike_peer_certs_mapreq(const struct ike_peer_certs *pc,
    struct ike_certmap_req *r)
{
	char iss[240], sub[240], hex[130];
	const ASN1_OCTET_STRING *ski;
	ASN1_INTEGER *sn;
	BIGNUM *bn;
	uint8_t sb[64];
	int n;

	r->ndns = r->nupn = r->nalt = 0;
	r->subject[0] = '\0';
	if (pc == NULL || pc->leaf == NULL)
		return PA_E_INVAL;
	subject_text(pc->leaf, r->subject, sizeof(r->subject));
	mapreq_sans(pc->leaf, r);
	if (name_ad(X509_get_issuer_name(pc->leaf), iss, sizeof(iss)) != 0)
		iss[0] = '\0';
	/* Strong forms first: issuer and serial (bytes reversed), SKI. */
	sn = X509_get_serialNumber(pc->leaf);
	if (iss[0] != '\0' && sn != NULL &&
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL) {
		/* RFC 5280 allows 20 octets; anything longer is not mapped. */
		n = BN_num_bytes(bn) <= (int)sizeof(sb) ? BN_bn2bin(bn, sb) :
		    0;
		BN_free(bn);
		if (n > 0 && (size_t)n <= sizeof(sb)) {
			hex_upper(sb, (size_t)n, true, hex, sizeof(hex));
			snprintf(r->alt[r->nalt++], IKE_CERTMAP_LEN,
			    "X509:<I>%s<SR>%s", iss, hex);
		}
	}
	if ((ski = X509_get0_subject_key_id(pc->leaf)) != NULL &&
	    ski->length > 0 && ski->length <= 64) {
		hex_upper(ski->data, (size_t)ski->length, false, hex,
		    sizeof(hex));
		snprintf(r->alt[r->nalt++], IKE_CERTMAP_LEN, "X509:<SKI>%s",
		    hex);
	}
	if (iss[0] != '\0' && name_ad(X509_get_subject_name(pc->leaf), sub,
	    sizeof(sub)) == 0)
		snprintf(r->alt[r->nalt++], IKE_CERTMAP_LEN, "X509:<I>%s<S>%s",
		    iss, sub);
	ERR_clear_error();
	return 0;
}

/*
 * Is the peer's certificate, which verified when its Main Mode did,
 * revoked by a CRL at hand now? Only "revoked" counts: a CRL that is
 * missing or stale, or a certificate that expired meanwhile, ends no SA.
 */
bool
ike_peer_certs_revoked(const struct ike_creds *c,
    const struct ike_peer_certs *pc)
{
	X509_STORE_CTX *ctx;
	bool ok, revoked = false;

	if (c == NULL || pc == NULL || c->crl_check == 0)
		return false;
	if ((ctx = verify(c, pc->leaf, pc->untrusted, 1, &ok)) == NULL)
		return false;
	if (!ok)
		revoked = X509_STORE_CTX_get_error(ctx) ==
		    X509_V_ERR_CERT_REVOKED;
	verify_free(ctx);
	ERR_clear_error();
	return revoked;
}

int
ike_creds_set_domain_cas(struct ike_creds *c, const struct pa_bytes *ders,
    const bool *anchor, size_t n)
{
	X509 *v[IKE_MAX_CAS], *w[IKE_MAX_CAS], *x;
	size_t i, k = 0, m = 0;

	if (c == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		const unsigned char *p = ders[i].p;
		bool a = anchor == NULL || anchor[i];

		if ((a ? k : m) >= IKE_MAX_CAS || ders[i].len > 16384 ||
		    (x = d2i_X509(NULL, &p, (long)ders[i].len)) == NULL)
			continue;
		if (a)
			v[k++] = x;
		else
			w[m++] = x;
	}
	ERR_clear_error();
	for (i = 0; i < c->ndcas; i++)
		X509_free(c->dcas[i]);
	for (i = 0; i < c->ndims; i++)
		X509_free(c->dims[i]);
	memcpy(c->dcas, v, k * sizeof(v[0]));
	c->ndcas = k;
	memcpy(c->dims, w, m * sizeof(w[0]));
	c->ndims = m;
	return (int)k;
}

size_t
ike_creds_ndims(const struct ike_creds *c)
{
	return c != NULL ? c->ndims : 0;
}

int
ike_creds_set_crls(struct ike_creds *c, const struct pa_bytes *ders,
    size_t n)
{
	X509_CRL *v[IKE_MAX_CRLS];
	size_t i, k = 0;

	if (c == NULL)
		return 0;
	for (i = 0; i < n && k < IKE_MAX_CRLS; i++) {
		const unsigned char *p = ders[i].p;

		if ((v[k] = d2i_X509_CRL(NULL, &p, (long)ders[i].len)) != NULL)
			k++;
	}
	ERR_clear_error();
	for (i = 0; i < c->nfetched; i++)
		X509_CRL_free(c->fetched[i]);
	memcpy(c->fetched, v, k * sizeof(v[0]));
	c->nfetched = k;
	return 0;
}

/* ---- The Main Mode method ------------------------------------------ */

/* A certificate method of the rule takes any trusted CA. */
static bool
rulecopy_any_ca(const struct ike_rulecopy *r)
{
	size_t i;

	for (i = 0; i < r->nauths; i++)
		if (r->auths[i] == ISK_AUTH_RSA && r->ca_dns[i] == NULL)
			return true;
	return false;
}

/*
 * The CAs the rule's certificate methods name, each once; none when one
 * of them takes any trusted CA (then *any).
 */
static size_t
rule_cas(const struct ike_rulecopy *r, const char **out, bool *any)
{
	size_t i, k, n = 0;

	*any = rulecopy_any_ca(r);
	if (*any)
		return 0;
	for (i = 0; i < r->nauths; i++) {
		if (r->auths[i] != ISK_AUTH_RSA || r->ca_dns[i] == NULL)
			continue;
		for (k = 0; k < n && strcmp(out[k], r->ca_dns[i]) != 0; k++)
			;
		if (k == n)
			out[n++] = r->ca_dns[i];
	}
	return n;
}

/*
 * Certificate requests (RSA signature auth): one naming each CA the rule's
 * certificate methods name, or one without a name when any trusted CA
 * will do.
 */
static int
cr_write(struct ike *ike, struct ike_mm *mm, struct wr *w, struct isk_chain *c)
{
	const char *cas[POL_MAX_AUTHS];
	uint8_t *dn;
	size_t dnlen, cr, n, k;
	bool any;
	int rc = 0;

	n = rule_cas(&mm->rule, cas, &any);
	for (k = 0; k < (n > 0 ? n : 1) && rc == 0; k++) {
		dn = NULL;
		dnlen = 0;
		if (n > 0 && ike_creds_ca_der(ike->creds, cas[k], &dn,
		    &dnlen) != 0)
			dnlen = 0;
		if ((rc = isk_pl_open(w, c, ISK_PL_CR, &cr)) == 0) {
			wr_u8(w, ISK_CERT_X509_SIG);
			if (dnlen > 0)
				wr_bytes(w, dn, dnlen);
			rc = isk_pl_close(w, cr);
		}
		free(dn);
	}
	return rc;
}

/* ID_DER_ASN1_DN: our certificate's subject. */
static int
cert_write_id(struct ike *ike, struct ike_mm *mm, struct wr *w)
{
	(void)mm;
	wr_u8(w, ISK_ID_DER_DN);
	wr_u8(w, 0);
	wr_u16(w, 0);
	wr_bytes(w, ike_creds_dn(ike->creds).p, ike_creds_dn(ike->creds).len);
	return 0;
}

/* Our certificate, then the intermediate CAs above it, then SIG. */
static int
cert_write_proof(struct ike *ike, struct ike_mm *mm, struct wr *w,
    struct isk_chain *c, const uint8_t *hash, size_t hl)
{
	uint8_t sig[1024];
	size_t k, cp, siglen;
	int rc;

	(void)mm;
	for (k = 0; k <= ike_creds_nchain(ike->creds); k++) {
		struct pa_bytes cb = k == 0 ? ike_creds_cert(ike->creds) :
		    ike_creds_chain(ike->creds, k - 1);

		if ((rc = isk_pl_open(w, c, ISK_PL_CERT, &cp)) != 0)
			return rc;
		wr_u8(w, ISK_CERT_X509_SIG);
		wr_bytes(w, cb.p, cb.len);
		if ((rc = isk_pl_close(w, cp)) != 0)
			return rc;
	}
	if ((rc = ike_cert_sign(ike->creds, hash, hl, sig, sizeof(sig),
	    &siglen)) != 0)
		return rc;
	return isk_pl_data(w, c, ISK_PL_SIG, sig, siglen);
}

/*
 * The peer's certificates (the first X.509 signature certificate is its
 * own, the further ones may be CAs of its chain) and signature.
 */
static int
cert_check(struct ike *ike, struct ike_mm *mm, const struct isk_msg *m,
    const struct isk_id *id, struct pa_bytes proof, const uint8_t *want,
    size_t hl, char *why, size_t whylen)
{
	const struct isk_payload *cp;
	struct isk_cert cert;
	struct pa_bytes im[IKE_MAX_CHAIN], leaf = { NULL, 0 };
	struct ike_crl_want cw;
	const char *cas[POL_MAX_AUTHS];
	size_t cf = 0, nim = 0, nca;
	bool any;

	while ((cp = isk_find(m, ISK_PL_CERT, &cf)) != NULL) {
		if (isk_parse_cert(cp->body, &cert) != 0 ||
		    cert.enc != ISK_CERT_X509_SIG)
			continue;
		if (leaf.p == NULL)
			leaf = cert.data;
		else if (nim < IKE_MAX_CHAIN)
			im[nim++] = cert.data;
	}
	if (leaf.p == NULL) {
		snprintf(why, whylen, "no certificate from the peer");
		return PA_E_PERM;
	}
	nca = rule_cas(&mm->rule, cas, &any);
	cw.fn = ike->cfg.crl_want;
	cw.arg = ike->cfg.crl_arg;
	ike_peer_certs_free(mm->peer_certs);
	return ike_cert_verify_peer(ike->creds, cas, nca, leaf, im, nim, id,
	    want, hl, proof, &cw, &mm->peer_certs, mm->peer_id,
	    sizeof(mm->peer_id), why, whylen);
}

static void
cert_identity(const struct ike_mm *mm, bool established, const char *pa,
    char *out, size_t cap)
{
	snprintf(out, cap, "Certificate based Identity. Peer Subject %s. Peer "
	    "IP Address: %s%s%s", established || mm->peer_id[0] != '\0' ?
	    mm->peer_id : "(unknown)", pa, mm->peer_account[0] != '\0' ?
	    ". Peer Account: " : "", mm->peer_account);
}

/* Why certificates cannot authenticate now (547), or NULL. */
static const char *
cert_unusable(struct ike *ike, bool initiator)
{
	const struct ike_creds *c = ike->creds;

	(void)initiator;
	if (c == NULL || c->cert == NULL || c->key == NULL)
		return "no certificate of ours to authenticate with (cert_file, "
		    "key_file)";
	if (c->ncas + c->ndcas == 0)
		return "no trusted CA (ca_file, or the domain's enterprise CAs "
		    "read from the directory)";
	return NULL;
}

const struct ike_auth_ops ike_auth_cert = {
	.method		= ISK_AUTH_RSA,
	.unusable	= cert_unusable,
	.proof_pl	= ISK_PL_SIG,
	.bad_proof	= "bad signature",
	.write_ke	= cr_write,
	.write_id	= cert_write_id,
	.write_proof	= cert_write_proof,
	.check		= cert_check,
	.identity	= cert_identity,
};
