/*
 * The three built-in policies of a Windows domain, as templates:
 * Client (Respond Only), Server (Request Security), Secure Server
 * (Require Security), with the filter lists and filter actions they
 * share. Identities, references and offers are those of the objects
 * Windows writes into every domain (as found in the 22 Windows-written
 * blobs of Samba's provision.ldif, decoded by gpipsec.c); names of rules
 * and all descriptions are ours.
 */
#include <stdio.h>
#include <string.h>

#include "store_xml.h"

#define G_POL_SERVER	"{72385230-70FA-11D1-864C-14A300000000}"
#define G_MM_SERVER	"{72385231-70FA-11D1-864C-14A300000000}"
#define G_POL_CLIENT	"{72385236-70FA-11D1-864C-14A300000000}"
#define G_MM_CLIENT	"{72385237-70FA-11D1-864C-14A300000000}"
#define G_POL_SECURE	"{7238523C-70FA-11D1-864C-14A300000000}"
#define G_MM_SECURE	"{7238523D-70FA-11D1-864C-14A300000000}"

#define G_FL_ALLIP	"{7238523A-70FA-11D1-864C-14A300000000}"
#define G_FL_ICMP	"{72385235-70FA-11D1-864C-14A300000000}"
#define G_F_ALLIP	"{6CA65488-B188-41F7-8371-685AE6CC8CAD}"
#define G_F_ICMP	"{75AB3231-1DEB-45B8-8A57-49A520D5AA51}"

#define G_FA_PERMIT	"{7238523B-70FA-11D1-864C-14A300000000}"
#define G_FA_REQUEST	"{72385233-70FA-11D1-864C-14A300000000}"
#define G_FA_REQUIRE	"{7238523F-70FA-11D1-864C-14A300000000}"
#define G_FA_DR_SERVER	"{59319BDF-5EE3-11D2-ACE8-0060B0ECCA17}"
#define G_FA_DR_CLIENT	"{59319C01-5EE3-11D2-ACE8-0060B0ECCA17}"
#define G_FA_DR_SECURE	"{59319BF0-5EE3-11D2-ACE8-0060B0ECCA17}"

#define G_R_SRV_IP	"{72385232-70FA-11D1-864C-14A300000000}"
#define G_R_SRV_ICMP	"{594272E2-071D-11D3-AD22-0060B0ECCA17}"
#define G_R_SRV_DR	"{59319BE2-5EE3-11D2-ACE8-0060B0ECCA17}"
#define G_R_CLI_DR	"{59319C04-5EE3-11D2-ACE8-0060B0ECCA17}"
#define G_R_SEC_IP	"{7238523E-70FA-11D1-864C-14A300000000}"
#define G_R_SEC_ICMP	"{594272FD-071D-11D3-AD22-0060B0ECCA17}"
#define G_R_SEC_DR	"{59319BF3-5EE3-11D2-ACE8-0060B0ECCA17}"

#define ESP(c, i, life)	{ false, POL_INTEG_NONE, true, (c), (i), (life), \
			    POL_DEFAULT_QM_LIFE_KB, false, 0 }
#define AH(i, life)	{ true, (i), false, POL_ESP_NONE, POL_INTEG_NONE, \
			    (life), POL_DEFAULT_QM_LIFE_KB, false, 0 }

/* Request Security (Optional). */
static const struct pol_qm_offer request_offers[] = {
	ESP(POL_ESP_3DES, POL_INTEG_SHA1, 900),
	ESP(POL_ESP_DES, POL_INTEG_SHA1, 900),
	AH(POL_INTEG_SHA1, 300),
	AH(POL_INTEG_MD5, 300),
};
/* Require Security. */
static const struct pol_qm_offer require_offers[] = {
	ESP(POL_ESP_3DES, POL_INTEG_SHA1, 900),
	ESP(POL_ESP_3DES, POL_INTEG_MD5, 900),
	ESP(POL_ESP_DES, POL_INTEG_SHA1, 900),
	ESP(POL_ESP_DES, POL_INTEG_MD5, 900),
};
/* The default response rules' actions. */
static const struct pol_qm_offer response_offers[] = {
	ESP(POL_ESP_3DES, POL_INTEG_SHA1, 3600),
	ESP(POL_ESP_3DES, POL_INTEG_MD5, 3600),
	ESP(POL_ESP_DES, POL_INTEG_SHA1, 3600),
	ESP(POL_ESP_DES, POL_INTEG_MD5, 3600),
	AH(POL_INTEG_SHA1, 3600),
	AH(POL_INTEG_MD5, 3600),
};

#define NOFFERS(a)	(a), (sizeof(a) / sizeof((a)[0]))

static int
guid(const char *s, struct pa_guid *g)
{
	return pa_guid_parse(s, g);
}

static int
add_filterlist(struct pol_store *s, const char *id, const char *fid,
    const char *name, const char *desc, uint8_t proto)
{
	struct pol_filterlist *fl;
	struct pol_filter *f;
	int rc;

	if ((fl = pol_store_add_filterlist(s)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid(id, &fl->id)) != 0)
		return rc;
	if ((fl->name = strdup(name)) == NULL ||
	    (fl->description = strdup(desc)) == NULL ||
	    (f = pol_filterlist_add_filter(fl)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid(fid, &f->id)) != 0)
		return rc;
	f->src.kind = POL_ADDR_ME;
	f->dst.kind = POL_ADDR_ANY;
	f->proto = proto;
	f->mirrored = true;
	return 0;
}

static int
add_action(struct pol_store *s, const char *id, const char *name,
    const char *desc, enum pol_action act, bool inpass, bool soft,
    bool dr, const struct pol_qm_offer *offers, size_t noffers)
{
	struct pol_filteraction *fa;
	size_t i;
	int rc;

	if ((fa = pol_store_add_filteraction(s)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid(id, &fa->id)) != 0)
		return rc;
	if ((fa->name = strdup(name)) == NULL ||
	    (fa->description = strdup(desc)) == NULL)
		return PA_E_NOMEM;
	fa->action = act;
	fa->inpass = inpass;
	fa->soft = soft;
	fa->default_response = dr;
	for (i = 0; i < noffers; i++) {
		struct pol_qm_offer *o = pol_filteraction_add_offer(fa);

		if (o == NULL)
			return PA_E_NOMEM;
		*o = offers[i];
	}
	return 0;
}

static int
add_rule(struct pol_policy *p, const char *id, const char *name,
    const char *fl, const char *fa, bool dr)
{
	struct pol_rule *r;
	struct pol_auth *a;
	int rc;

	if ((r = pol_policy_add_rule(p)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid(id, &r->id)) != 0 ||
	    (fl != NULL && (rc = guid(fl, &r->filterlist_id)) != 0) ||
	    (rc = guid(fa, &r->filteraction_id)) != 0)
		return rc;
	if ((r->name = strdup(name)) == NULL ||
	    (a = pol_rule_add_auth(r)) == NULL)
		return PA_E_NOMEM;
	a->kind = POL_AUTH_KERBEROS;
	r->active = true;
	r->default_response = dr;
	r->conntype = POL_CONN_ALL;
	return 0;
}

static int
add_policy(struct pol_store *s, const char *id, const char *mmid,
    const char *name, const char *desc, struct pol_policy **out)
{
	struct pol_policy *p;
	int rc;

	if ((p = pol_store_add_policy(s)) == NULL)
		return PA_E_NOMEM;
	if ((rc = pol_policy_init(p, name)) != 0)
		return rc;
	if ((rc = guid(id, &p->id)) != 0 ||
	    (rc = guid(mmid, &p->isakmp.id)) != 0)
		return rc;
	if ((p->description = strdup(desc)) == NULL)
		return PA_E_NOMEM;
	p->activate_default_rule = true;
	*out = p;
	return 0;
}

int
pol_store_builtin(struct pol_store **out, struct pol_err *err)
{
	struct pol_store *s;
	struct pol_policy *p;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if ((s = pol_store_new()) == NULL)
		return PA_E_NOMEM;
	if ((rc = add_filterlist(s, G_FL_ALLIP, G_F_ALLIP, "All IP Traffic",
	    "Every IP packet between this computer and any other",
	    POL_PROTO_ANY)) != 0 ||
	    (rc = add_filterlist(s, G_FL_ICMP, G_F_ICMP, "All ICMP Traffic",
	    "Every ICMP packet between this computer and any other",
	    POL_PROTO_ICMP)) != 0)
		goto out;
	if ((rc = add_action(s, G_FA_PERMIT, "Permit",
	    "Let the traffic pass without security", POL_ACT_PERMIT, false,
	    false, false, NULL, 0)) != 0 ||
	    (rc = add_action(s, G_FA_REQUEST, "Request Security (Optional)",
	    "Ask for security; talk in clear to peers without IPsec",
	    POL_ACT_NEGOTIATE, true, true, false,
	    NOFFERS(request_offers))) != 0 ||
	    (rc = add_action(s, G_FA_REQUIRE, "Require Security",
	    "Insist on ESP; accept a clear first packet, answer secured",
	    POL_ACT_NEGOTIATE, true, false, false,
	    NOFFERS(require_offers))) != 0 ||
	    (rc = add_action(s, G_FA_DR_SERVER, "Default Response (Server)",
	    "Answer peers that ask for security", POL_ACT_NEGOTIATE, false,
	    false, true, NOFFERS(response_offers))) != 0 ||
	    (rc = add_action(s, G_FA_DR_CLIENT, "Default Response (Client)",
	    "Answer peers that ask for security", POL_ACT_NEGOTIATE, false,
	    false, true, NOFFERS(response_offers))) != 0 ||
	    (rc = add_action(s, G_FA_DR_SECURE,
	    "Default Response (Secure Server)",
	    "Answer peers that ask for security", POL_ACT_NEGOTIATE, false,
	    false, true, NOFFERS(response_offers))) != 0)
		goto out;

	if ((rc = add_policy(s, G_POL_CLIENT, G_MM_CLIENT,
	    "Client (Respond Only)",
	    "Send in clear; secure only what a peer asks to secure, through "
	    "the default response rule", &p)) != 0 ||
	    (rc = add_rule(p, G_R_CLI_DR, "Default Response", NULL,
	    G_FA_DR_CLIENT, true)) != 0)
		goto out;
	if ((rc = add_policy(s, G_POL_SERVER, G_MM_SERVER,
	    "Server (Request Security)",
	    "Ask every peer for security (Kerberos); fall back to clear for "
	    "peers that do not answer", &p)) != 0 ||
	    (rc = add_rule(p, G_R_SRV_IP, "All IP Traffic", G_FL_ALLIP,
	    G_FA_REQUEST, false)) != 0 ||
	    (rc = add_rule(p, G_R_SRV_ICMP, "All ICMP Traffic", G_FL_ICMP,
	    G_FA_PERMIT, false)) != 0 ||
	    (rc = add_rule(p, G_R_SRV_DR, "Default Response", NULL,
	    G_FA_DR_SERVER, true)) != 0)
		goto out;
	if ((rc = add_policy(s, G_POL_SECURE, G_MM_SECURE,
	    "Secure Server (Require Security)",
	    "Require security (Kerberos) for all IP traffic; never talk in "
	    "clear except ICMP", &p)) != 0 ||
	    (rc = add_rule(p, G_R_SEC_IP, "All IP Traffic", G_FL_ALLIP,
	    G_FA_REQUIRE, false)) != 0 ||
	    (rc = add_rule(p, G_R_SEC_ICMP, "All ICMP Traffic", G_FL_ICMP,
	    G_FA_PERMIT, false)) != 0 ||
	    (rc = add_rule(p, G_R_SEC_DR, "Default Response", NULL,
	    G_FA_DR_SECURE, true)) != 0)
		goto out;
	if ((rc = pol_store_resolve(s, err)) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	if (rc != 0 && err->what[0] == '\0') {
		snprintf(err->where, sizeof(err->where), "built-in store");
		snprintf(err->what, sizeof(err->what), "%s", pa_strerror(rc));
	}
	pol_store_free(s);
	return rc;
}
