/*
 * The built-in templates (pol_store_builtin) against what Windows wrote:
 * the IPsec objects of Samba's provision.ldif (Debian package
 * samba-ad-provision), decoded with agent/policy/gpipsec.c. Checks every
 * object's identity, the rules' references and owners, and every offer.
 * Skips (77) when the file is not installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldap.h>
#include <ldif.h>

#include "gpipsec.h"
#include "model.h"
#include "store_xml.h"

#define PROVISION	"/usr/share/samba/setup/provision.ldif"

static int	failures;
static int	checked;

#define CHECK(c, ...) do {						\
	checked++;							\
	if (!(c)) {							\
		fprintf(stderr, "check failed: %s: ", #c);		\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		failures++;						\
	}								\
} while (0)

static struct berval **
vals(LDIFRecord *lr, const char *name)
{
	int i;

	for (i = 0; lr->lrop_mods != NULL && lr->lrop_mods[i] != NULL; i++)
		if (strcasecmp(lr->lrop_mods[i]->mod_type, name) == 0)
			return lr->lrop_mods[i]->mod_bvalues;
	return NULL;
}

/* The GUID inside "CN=ipsecXxx{GUID},..." or a bare "{GUID}". */
static int
guid_of(const struct berval *bv, struct pa_guid *g)
{
	char buf[40];
	const char *p = memchr(bv->bv_val, '{', bv->bv_len);

	if (p == NULL || (size_t)(p - bv->bv_val) + 38 > bv->bv_len)
		return -1;
	memcpy(buf, p, 38);
	buf[38] = '\0';
	return pa_guid_parse(buf, g);
}

static const struct pol_rule *
rule_by_id(const struct pol_store *s, const struct pa_guid *id,
    const struct pol_policy **owner)
{
	size_t i, j;

	for (i = 0; i < s->npolicies; i++)
		for (j = 0; j < s->policies[i].nrules; j++)
			if (pa_guid_eq(&s->policies[i].rules[j].id, id)) {
				*owner = &s->policies[i];
				return &s->policies[i].rules[j];
			}
	return NULL;
}

static void
check_record(struct pol_store *s, LDIFRecord *lr)
{
	const char *dn = lr->lr_dn.bv_val;
	struct berval **data = vals(lr, "ipsecData"), **id = vals(lr,
	    "ipsecID"), **ref;
	struct pa_bytes v;
	struct pa_guid g, r;
	struct pol_err err;
	char gs[PA_GUIDSTRLEN];
	size_t i;

	if (data == NULL || id == NULL || guid_of(id[0], &g) != 0)
		return;
	v.p = (const uint8_t *)data[0]->bv_val;
	v.len = data[0]->bv_len;
	pa_guid_str(&g, gs);
	if (strncasecmp(dn, "CN=ipsecPolicy", 14) == 0) {
		struct pol_policy *p = pol_store_policy_by_id(s, &g);

		CHECK(p != NULL, "policy %s", gs);
		if (p == NULL)
			return;
		ref = vals(lr, "ipsecISAKMPReference");
		CHECK(ref && guid_of(ref[0], &r) == 0 &&
		    pa_guid_eq(&r, &p->isakmp.id), "%s ISAKMP", gs);
		ref = vals(lr, "ipsecNFAReference");
		for (i = 0; ref != NULL && ref[i] != NULL; i++) {
			const struct pol_policy *o = NULL;

			CHECK(guid_of(ref[i], &r) == 0 &&
			    rule_by_id(s, &r, &o) != NULL && o == p,
			    "%s rule %zu", gs, i);
		}
		CHECK(i == p->nrules, "%s: %zu rules, Windows %zu", gs,
		    p->nrules, i);
	} else if (strncasecmp(dn, "CN=ipsecISAKMPPolicy", 20) == 0) {
		struct pol_isakmp k;
		const struct pol_isakmp *b = NULL;

		for (i = 0; i < s->npolicies; i++)
			if (pa_guid_eq(&s->policies[i].isakmp.id, &g))
				b = &s->policies[i].isakmp;
		CHECK(b != NULL, "ISAKMP %s", gs);
		memset(&k, 0, sizeof(k));
		if (b == NULL || pol_gp_decode_isakmp(v, &k, &err) != 0)
			return;
		CHECK(k.nmethods == b->nmethods && k.mm_life_sec ==
		    b->mm_life_sec && k.master_pfs == b->master_pfs &&
		    k.qm_per_mm == b->qm_per_mm, "ISAKMP %s", gs);
		for (i = 0; i < k.nmethods && i < b->nmethods; i++)
			CHECK(k.methods[i].cipher == b->methods[i].cipher &&
			    k.methods[i].hash == b->methods[i].hash &&
			    k.methods[i].dh_group == b->methods[i].dh_group,
			    "ISAKMP %s method %zu", gs, i);
		pol_gp_isakmp_clear(&k);
	} else if (strncasecmp(dn, "CN=ipsecNFA", 11) == 0) {
		const struct pol_policy *o = NULL;
		const struct pol_rule *rule = rule_by_id(s, &g, &o);

		if (vals(lr, "ipsecNegotiationPolicyReference") == NULL)
			return;		/* the version information object */
		CHECK(rule != NULL, "rule %s", gs);
		if (rule == NULL)
			return;
		ref = vals(lr, "ipsecNegotiationPolicyReference");
		CHECK(guid_of(ref[0], &r) == 0 &&
		    pa_guid_eq(&r, &rule->filteraction_id), "%s action", gs);
		ref = vals(lr, "ipsecFilterReference");
		if (ref == NULL)
			CHECK(rule->default_response &&
			    pa_guid_is_nil(&rule->filterlist_id),
			    "%s: no filter list: default response", gs);
		else
			CHECK(guid_of(ref[0], &r) == 0 &&
			    pa_guid_eq(&r, &rule->filterlist_id),
			    "%s filter list", gs);
		ref = vals(lr, "ipsecOwnersReference");
		CHECK(ref && guid_of(ref[0], &r) == 0 &&
		    pa_guid_eq(&r, &o->id), "%s owner", gs);
		CHECK(rule->nauth == 1 && rule->auth[0].kind ==
		    POL_AUTH_KERBEROS && rule->active, "%s auth", gs);
	} else if (strncasecmp(dn, "CN=ipsecNegotiationPolicy", 25) == 0) {
		struct pol_filteraction fa;
		const struct pol_filteraction *b =
		    pol_store_filteraction_by_id(s, &g);
		struct pa_guid type, action;
		struct berval **t = vals(lr, "iPSECNegotiationPolicyType");
		struct berval **a = vals(lr, "iPSECNegotiationPolicyAction");

		CHECK(b != NULL, "filter action %s", gs);
		if (b == NULL || t == NULL || a == NULL ||
		    guid_of(t[0], &type) != 0 || guid_of(a[0], &action) != 0)
			return;
		memset(&fa, 0, sizeof(fa));
		if (pol_gp_decode_negpol(v, &type, &action, &fa, &err) != 0) {
			CHECK(0, "%s: %s", gs, err.what);
			return;
		}
		CHECK(fa.action == b->action && fa.inpass == b->inpass &&
		    fa.soft == b->soft && fa.default_response ==
		    b->default_response && fa.noffers == b->noffers,
		    "filter action %s (%s)", gs, b->name);
		for (i = 0; i < fa.noffers && i < b->noffers; i++) {
			const struct pol_qm_offer *x = &fa.offers[i];
			const struct pol_qm_offer *y = &b->offers[i];

			CHECK(x->ah == y->ah && x->esp == y->esp &&
			    (!x->ah || x->ah_integ == y->ah_integ) &&
			    (!x->esp || (x->esp_cipher == y->esp_cipher &&
			    x->esp_integ == y->esp_integ)) &&
			    x->life_sec == y->life_sec &&
			    x->life_kb == y->life_kb && x->pfs == y->pfs,
			    "%s (%s) offer %zu", gs, b->name, i);
		}
		pol_gp_filteraction_clear(&fa);
	} else if (strncasecmp(dn, "CN=ipsecFilter", 14) == 0) {
		struct pol_filterlist fl;
		const struct pol_filterlist *b =
		    pol_store_filterlist_by_id(s, &g);

		CHECK(b != NULL, "filter list %s", gs);
		memset(&fl, 0, sizeof(fl));
		if (b == NULL || pol_gp_decode_filter(v, &fl, &err) != 0)
			return;
		CHECK(fl.nfilters == b->nfilters, "%s filters", gs);
		for (i = 0; i < fl.nfilters && i < b->nfilters; i++)
			CHECK(fl.filters[i].src.kind == b->filters[i].src.kind &&
			    fl.filters[i].dst.kind == b->filters[i].dst.kind &&
			    fl.filters[i].proto == b->filters[i].proto &&
			    fl.filters[i].mirrored == b->filters[i].mirrored,
			    "%s filter %zu", gs, i);
		pol_gp_filterlist_clear(&fl);
	}
}

int
main(void)
{
	struct pol_store *s = NULL;
	struct pol_err err;
	LDIFFP *fp;
	LDIFRecord lr;
	struct berval rbuf;
	unsigned long lineno = 0;
	char *raw = NULL, *copy;
	int max = 0;

	if (access(PROVISION, R_OK) != 0) {
		printf("SKIP: %s not installed (samba-ad-provision)\n",
		    PROVISION);
		return 77;
	}
	if (pol_store_builtin(&s, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		return 1;
	}
	if ((fp = ldif_open(PROVISION, "r")) == NULL) {
		perror(PROVISION);
		return 1;
	}
	while (ldif_read_record(fp, &lineno, &raw, &max) > 0) {
		copy = strdup(raw);
		ber_memfree(raw);
		raw = NULL;
		max = 0;
		if (copy == NULL)
			break;
		rbuf.bv_val = copy;
		rbuf.bv_len = strlen(copy);
		memset(&lr, 0, sizeof(lr));
		if (strstr(copy, "ipsecData") != NULL &&
		    ldap_parse_ldif_record(&rbuf, lineno, &lr, "builtin",
		    LDIF_DEFAULT_ADD | LDIF_NO_CONTROLS) == LDAP_SUCCESS) {
			check_record(s, &lr);
			ldap_ldif_record_done(&lr);
		}
		free(copy);
	}
	ldif_close(fp);
	pol_store_free(s);
	printf("%d checks against Windows' objects, %d failed\n", checked,
	    failures);
	return failures == 0 && checked > 50 ? 0 : 1;
}
