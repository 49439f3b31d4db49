/*
 * The codec against blobs Windows itself wrote: the default domain IPsec
 * objects in Samba's provision.ldif (Debian package samba-ad-provision),
 * read at test time with libldap's LDIF reader. Each blob must decode,
 * and come back byte for byte through the keep; the decoded meaning must
 * be what Microsoft documents for the built-in filter actions. Skips (77)
 * when the package is not installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldap.h>
#include <ldif.h>

#include "gpipsec.h"
#include "model.h"

#define PROVISION	"/usr/share/samba/setup/provision.ldif"

static int failures;

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s: check failed: %s\n",	\
		    __FILE__, __LINE__, dn, #c);			\
		failures++;						\
	}								\
} while (0)

static struct berval *
attr(LDIFRecord *lr, const char *name)
{
	int i;

	for (i = 0; lr->lrop_mods != NULL && lr->lrop_mods[i] != NULL; i++)
		if (strcasecmp(lr->lrop_mods[i]->mod_type, name) == 0 &&
		    lr->lrop_mods[i]->mod_bvalues != NULL)
			return lr->lrop_mods[i]->mod_bvalues[0];
	return NULL;
}

static int
guid_attr(LDIFRecord *lr, const char *name, struct pa_guid *g)
{
	struct berval *bv = attr(lr, name);
	char buf[64];

	if (bv == NULL || bv->bv_len >= sizeof(buf))
		return -1;
	memcpy(buf, bv->bv_val, bv->bv_len);
	buf[bv->bv_len] = '\0';
	return pa_guid_parse(buf, g);
}

static void
check_record(LDIFRecord *lr, int *nblobs)
{
	const char *dn = lr->lr_dn.bv_val;
	struct berval *data = attr(lr, "ipsecData"), *dtype;
	struct pa_bytes v;
	struct pol_err err;
	struct pol_gp_keep *kp;
	struct pa_guid id, type, action;
	uint8_t *out = NULL;
	size_t len = 0;
	int t, rc = -1;

	if (data == NULL)
		return;
	(*nblobs)++;
	v.p = (const uint8_t *)data->bv_val;
	v.len = data->bv_len;
	dtype = attr(lr, "ipsecDataType");
	CHECK(dtype != NULL && dtype->bv_len == 3 &&
	    memcmp(dtype->bv_val, "598", 3) == 0);
	CHECK(guid_attr(lr, "ipsecID", &id) == 0);
	t = pol_gp_blob_type(v.p, v.len);
	if (strstr(dn, "6A1F5C6F") != NULL) {
		/* The "Version Information Object": not an NFA blob. */
		CHECK(t < 0);
		return;
	}
	CHECK(t >= 0);
	kp = pol_gp_keep_new();
	CHECK(kp != NULL && pol_gp_keep_add(kp, t, &id, v) == 0);
	memset(&err, 0, sizeof(err));
	switch (t) {
	case POL_GP_POLICY: {
		struct pol_policy p;

		memset(&p, 0, sizeof(p));
		p.id = id;
		rc = pol_gp_decode_policy(v, &p, &err);
		CHECK(p.poll_sec == 10800);
		if (rc == 0)
			rc = pol_gp_encode_policy(&p, kp, &out, &len, &err);
		break;
	}
	case POL_GP_ISAKMP: {
		struct pol_isakmp k;

		memset(&k, 0, sizeof(k));
		k.id = id;
		rc = pol_gp_decode_isakmp(v, &k, &err);
		/* Windows' defaults: 3DES/SHA1/2, 3DES/MD5/2, DES/SHA1/1,
		 * DES/MD5/1, 480 minutes. */
		CHECK(rc != 0 || (k.nmethods == 4 &&
		    k.methods[0].cipher == POL_MM_3DES &&
		    k.methods[0].hash == POL_INTEG_SHA1 &&
		    k.methods[0].dh_group == 2 &&
		    k.methods[1].hash == POL_INTEG_MD5 &&
		    k.methods[2].cipher == POL_MM_DES &&
		    k.methods[3].dh_group == 1 &&
		    k.methods[3].life_sec == 28800 &&
		    k.mm_life_sec == 28800));
		if (rc == 0)
			rc = pol_gp_encode_isakmp(&k, kp, &out, &len, &err);
		pol_gp_isakmp_clear(&k);
		break;
	}
	case POL_GP_NFA: {
		struct pol_rule r;

		memset(&r, 0, sizeof(r));
		r.id = id;
		rc = pol_gp_decode_nfa(v, &r, &err);
		CHECK(rc != 0 || (r.nauth == 1 &&
		    r.auth[0].kind == POL_AUTH_KERBEROS && r.active));
		if (rc == 0)
			rc = pol_gp_encode_nfa(&r, kp, &out, &len, &err);
		pol_gp_rule_clear(&r);
		break;
	}
	case POL_GP_NEGPOL: {
		struct pol_filteraction fa;

		memset(&fa, 0, sizeof(fa));
		fa.id = id;
		CHECK(guid_attr(lr, "iPSECNegotiationPolicyType", &type) == 0);
		CHECK(guid_attr(lr, "iPSECNegotiationPolicyAction",
		    &action) == 0);
		rc = pol_gp_decode_negpol(v, &type, &action, &fa, &err);
		if (rc == 0 && strstr(dn, "7238523F") != NULL) {
			/* Require Security: ESP 3DES/SHA1, 3DES/MD5,
			 * DES/SHA1, DES/MD5; accept unsecured inbound; no
			 * fallback to clear; no PFS. */
			CHECK(fa.action == POL_ACT_NEGOTIATE && fa.inpass);
			CHECK(!fa.soft);
			CHECK(fa.noffers == 4);
			CHECK(fa.noffers == 4 &&
			    fa.offers[0].esp_cipher == POL_ESP_3DES &&
			    fa.offers[0].esp_integ == POL_INTEG_SHA1 &&
			    fa.offers[1].esp_cipher == POL_ESP_3DES &&
			    fa.offers[1].esp_integ == POL_INTEG_MD5 &&
			    fa.offers[2].esp_cipher == POL_ESP_DES &&
			    fa.offers[3].esp_integ == POL_INTEG_MD5 &&
			    !fa.offers[0].pfs && !fa.offers[0].ah &&
			    fa.offers[0].life_sec == 900);
		}
		if (rc == 0 && strstr(dn, "72385233") != NULL) {
			/* Request Security (Optional): falls back to clear,
			 * and offers AH as well. */
			CHECK(fa.soft && fa.inpass);
			CHECK(fa.noffers == 4 && fa.offers[2].ah &&
			    fa.offers[2].ah_integ == POL_INTEG_SHA1 &&
			    !fa.offers[2].esp);
		}
		if (rc == 0 && strstr(dn, "7238523B") != NULL)
			CHECK(fa.action == POL_ACT_PERMIT && fa.noffers == 0);
		if (rc == 0 && strstr(dn, "59319BDF") != NULL)
			CHECK(fa.default_response && fa.noffers == 6);
		if (rc == 0)
			rc = pol_gp_encode_negpol(&fa, kp, &out, &len, &err);
		pol_gp_filteraction_clear(&fa);
		break;
	}
	case POL_GP_FILTER: {
		struct pol_filterlist fl;

		memset(&fl, 0, sizeof(fl));
		fl.id = id;
		rc = pol_gp_decode_filter(v, &fl, &err);
		/* All IP Traffic / All ICMP Traffic: Me <-> Any, mirrored. */
		CHECK(rc != 0 || (fl.nfilters == 1 &&
		    fl.filters[0].src.kind == POL_ADDR_ME &&
		    fl.filters[0].dst.kind == POL_ADDR_ANY &&
		    fl.filters[0].mirrored));
		if (rc == 0 && strstr(dn, "72385235") != NULL)
			CHECK(fl.filters[0].proto == 1 &&
			    strcmp(fl.filters[0].description, "ICMP") == 0);
		if (rc == 0)
			rc = pol_gp_encode_filter(&fl, kp, &out, &len, &err);
		pol_gp_filterlist_clear(&fl);
		break;
	}
	}
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", dn, err.what);
	CHECK(rc == 0);
	CHECK(rc != 0 || (len == v.len && memcmp(out, v.p, len) == 0));
	free(out);
	pol_gp_keep_free(kp);
}

int
main(void)
{
	LDIFFP *fp;
	LDIFRecord lr;
	struct berval rbuf = { 0, NULL };
	unsigned long lineno = 0;
	char *raw = NULL, *copy;
	int max = 0, nblobs = 0;

	if (access(PROVISION, R_OK) != 0) {
		printf("SKIP: %s not installed (apt-get install "
		    "samba-ad-provision)\n", PROVISION);
		return 77;
	}
	if ((fp = ldif_open(PROVISION, "r")) == NULL) {
		perror(PROVISION);
		return 1;
	}
	while (ldif_read_record(fp, &lineno, &raw, &max) > 0) {
		/* The parser writes into its buffer: give it a copy. */
		copy = strdup(raw);
		rbuf.bv_val = copy;
		rbuf.bv_len = copy != NULL ? strlen(copy) : 0;
		ber_memfree(raw);
		raw = NULL;
		max = 0;
		if (copy == NULL)
			break;
		memset(&lr, 0, sizeof(lr));
		/* Not every record of the file is an IPsec one; those that
		 * libldap cannot parse (templates) are skipped. */
		if (strstr(rbuf.bv_val, "ipsecData") != NULL &&
		    ldap_parse_ldif_record(&rbuf, lineno, &lr, "test",
		    LDIF_DEFAULT_ADD | LDIF_NO_CONTROLS) == LDAP_SUCCESS) {
			check_record(&lr, &nblobs);
			ldap_ldif_record_done(&lr);
		}
		free(copy);
	}
	ldif_close(fp);
	printf("%d Windows-written blobs checked, %d failures\n", nblobs,
	    failures);
	if (nblobs < 20)
		failures++;
	return failures == 0 ? 0 : 1;
}
