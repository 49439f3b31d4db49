#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_onerule.h"

static const struct {
	const char	*name;
	uint16_t	 group;
} groups[] = {
	{ "modp768", 1 }, { "modp1024", 2 }, { "modp2048", 14 },
	{ "ecp256", 19 }, { "ecp384", 20 }
};

static int
parse_mm(struct ike_onerule *o, char *s)
{
	char *tok, *save = NULL, *h, *g;
	size_t n = 0, i;

	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct pol_mm_method *m = &o->methods[n];

		if (n == IKE_ONERULE_MAX || (h = strchr(tok, '-')) == NULL ||
		    (g = strchr(h + 1, '-')) == NULL)
			return -1;
		*h++ = '\0';
		*g++ = '\0';
		if (pol_mm_cipher_parse(tok, &m->cipher) != 0 ||
		    pol_integ_parse(h, &m->hash) != 0)
			return -1;
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (strcmp(g, groups[i].name) == 0)
				m->dh_group = groups[i].group;
		if (m->dh_group == 0)
			return -1;
		n++;
	}
	o->pol.isakmp.methods = o->methods;
	o->pol.isakmp.nmethods = n;
	return n > 0 ? 0 : -1;
}

static int
parse_esp(struct ike_onerule *o, char *s, bool pfs)
{
	char *tok, *save = NULL, *h;
	size_t n = 0;

	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct pol_qm_offer *q = &o->offers[n];

		if (n == IKE_ONERULE_OFFERS || (h = strchr(tok, '-')) == NULL)
			return -1;
		*h++ = '\0';
		q->esp = true;
		if (pol_esp_cipher_parse(tok, &q->esp_cipher) != 0 ||
		    pol_integ_parse(h, &q->esp_integ) != 0)
			return -1;
		q->life_sec = 3600;
		q->pfs = pfs;
		n++;
	}
	o->fa.offers = o->offers;
	o->fa.noffers = n;
	return n > 0 ? 0 : -1;
}

int
ike_onerule_init(struct ike_onerule *o, const char *name,
    const struct pa_addr *local, const struct pa_addr *remote,
    const char *psk, const char *ike, const char *esp, unsigned pfs,
    bool tunnel)
{
	char *is = strdup(ike), *es = strdup(esp);
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (is == NULL || es == NULL || parse_mm(o, is) != 0 ||
	    parse_esp(o, es, pfs != 0) != 0)
		goto out;
	o->pol.name = (char *)(uintptr_t)name;
	o->pol.isakmp.mm_life_sec = 28800;
	o->fa.action = POL_ACT_NEGOTIATE;
	o->fa.pfs_group = (uint16_t)pfs;
	o->flt.mirrored = true;
	o->flt.src.kind = POL_ADDR_HOST;
	o->flt.src.prefix.addr = *local;
	o->flt.src.prefix.len = pa_addr_bits(local->family);
	o->flt.dst.kind = POL_ADDR_HOST;
	o->flt.dst.prefix.addr = *remote;
	o->flt.dst.prefix.len = pa_addr_bits(remote->family);
	o->fl.filters = &o->flt;
	o->fl.nfilters = 1;
	o->auth.kind = POL_AUTH_PSK;
	o->auth.psk = pa_secret_new(psk, strlen(psk));
	o->rule.name = (char *)(uintptr_t)name;
	o->rule.auth = &o->auth;
	o->rule.nauth = 1;
	o->rule.active = true;
	o->rule.filterlist = &o->fl;
	o->rule.filteraction = &o->fa;
	if (tunnel)
		o->rule.tunnel = *remote;
	o->pol.rules = &o->rule;
	o->pol.nrules = 1;
	rc = o->auth.psk != NULL ? 0 : -1;
out:
	free(is);
	free(es);
	return rc;
}

void
ike_onerule_clear(struct ike_onerule *o)
{
	pa_secret_free(o->auth.psk);
	o->auth.psk = NULL;
}
