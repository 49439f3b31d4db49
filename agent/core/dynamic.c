/*
 * Dynamic rules (`ipseccmd dynamic add rule`) as a policy of their own,
 * kept in memory only, as ipsecpol's dynamic mode did.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "agent_int.h"
#include "pa_secret.h"
#include "store_xml.h"

static void
dyn_err(struct pol_err *err, const char *where, const char *what)
{
	if (err == NULL)
		return;
	snprintf(err->where, sizeof(err->where), "%s", where);
	snprintf(err->what, sizeof(err->what), "%s", what);
}

static int
endpoint_check(const struct pol_endpoint *e)
{
	switch (e->kind) {
	case POL_ADDR_ANY:
	case POL_ADDR_ME:
		return 0;
	case POL_ADDR_HOST:
	case POL_ADDR_SUBNET:
		return e->prefix.addr.family == AF_INET ||
		    e->prefix.addr.family == AF_INET6 ? 0 : PA_E_INVAL;
	default:
		return PA_E_NOTSUP;
	}
}

int
agent_dyn_check(const struct agent_dyn_rule *r, struct pol_err *err)
{
	size_t i, len = strnlen(r->name, sizeof(r->name));

	if (len == 0 || len == sizeof(r->name)) {
		dyn_err(err, "dynamic rule", "name must have 1 to 63 characters");
		return PA_E_INVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)r->name[i];

		if (c < 0x20 || c == 0x7f) {
			dyn_err(err, "dynamic rule", "control character in name");
			return PA_E_INVAL;
		}
	}
	if (endpoint_check(&r->src) != 0 || endpoint_check(&r->dst) != 0) {
		dyn_err(err, r->name, "source and destination must be any, me, "
		    "an address or a subnet");
		return PA_E_INVAL;
	}
	if (r->src.kind != POL_ADDR_ANY && r->dst.kind != POL_ADDR_ANY &&
	    r->src.kind != POL_ADDR_ME && r->dst.kind != POL_ADDR_ME &&
	    r->src.prefix.addr.family != r->dst.prefix.addr.family) {
		dyn_err(err, r->name, "source and destination differ in family");
		return PA_E_INVAL;
	}
	if ((r->sport != 0 || r->dport != 0) && r->proto != POL_PROTO_TCP &&
	    r->proto != POL_PROTO_UDP) {
		dyn_err(err, r->name, "ports need protocol tcp or udp");
		return PA_E_INVAL;
	}
	if (r->action != POL_ACT_PERMIT && r->action != POL_ACT_BLOCK &&
	    r->action != POL_ACT_NEGOTIATE) {
		dyn_err(err, r->name, "action must be permit, block or negotiate");
		return PA_E_INVAL;
	}
	if (r->action == POL_ACT_NEGOTIATE && r->auth == POL_AUTH_PSK &&
	    r->psk_ref[0] == '\0') {
		dyn_err(err, r->name, "psk authentication needs a key name");
		return PA_E_INVAL;
	}
	return 0;
}

static int
guid_new(struct pa_guid *g)
{
	return pa_guid_generate(g);
}

static int
endpoint_copy(struct pol_endpoint *dst, const struct pol_endpoint *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->prefix = src->prefix;
	return 0;
}

/* Default Quick Mode offers of a negotiate action: ESP AES128/SHA1, 3DES/SHA1. */
static int
offers_default(struct pol_filteraction *fa)
{
	static const enum pol_esp_cipher ciphers[] = {
		POL_ESP_AES128, POL_ESP_3DES
	};
	struct pol_qm_offer *o;
	size_t i;

	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		if ((o = pol_filteraction_add_offer(fa)) == NULL)
			return PA_E_NOMEM;
		o->esp = true;
		o->esp_cipher = ciphers[i];
		o->esp_integ = POL_INTEG_SHA1;
		o->life_sec = POL_DEFAULT_QM_LIFE_SEC;
		o->life_kb = POL_DEFAULT_QM_LIFE_KB;
	}
	return 0;
}

static int
isakmp_default(struct pol_isakmp *ik)
{
	static const struct {
		enum pol_mm_cipher	c;
		enum pol_integ		h;
		uint16_t		g;
	} m[] = {
		{ POL_MM_AES128, POL_INTEG_SHA1, POL_DH_MODP2048 },
		{ POL_MM_3DES, POL_INTEG_SHA1, POL_DH_MODP1024 },
	};
	struct pol_mm_method *mm;
	size_t i;
	int rc;

	if ((rc = guid_new(&ik->id)) != 0)
		return rc;
	ik->mm_life_sec = POL_DEFAULT_MM_LIFE_SEC;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if ((mm = pol_isakmp_add_method(ik)) == NULL)
			return PA_E_NOMEM;
		mm->cipher = m[i].c;
		mm->hash = m[i].h;
		mm->dh_group = m[i].g;
	}
	return 0;
}

static int
dyn_add_rule(struct pol_store *st, struct pol_policy *p,
    const struct agent_dyn_rule *r)
{
	struct pol_filterlist *fl;
	struct pol_filteraction *fa;
	struct pol_filter *f;
	struct pol_rule *rule;
	struct pol_auth *au;
	int rc;

	if ((fl = pol_store_add_filterlist(st)) == NULL ||
	    (fa = pol_store_add_filteraction(st)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid_new(&fl->id)) != 0 || (rc = guid_new(&fa->id)) != 0)
		return rc;
	if ((fl->name = strdup(r->name)) == NULL ||
	    (fa->name = strdup(r->name)) == NULL)
		return PA_E_NOMEM;
	if ((f = pol_filterlist_add_filter(fl)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid_new(&f->id)) != 0)
		return rc;
	(void)endpoint_copy(&f->src, &r->src);
	(void)endpoint_copy(&f->dst, &r->dst);
	f->proto = r->proto;
	f->sport = r->sport;
	f->dport = r->dport;
	f->mirrored = r->mirrored;
	fa->action = r->action;
	fa->inpass = r->inpass;
	fa->soft = r->soft;
	if (r->action == POL_ACT_NEGOTIATE && (rc = offers_default(fa)) != 0)
		return rc;
	if ((rule = pol_policy_add_rule(p)) == NULL)
		return PA_E_NOMEM;
	if ((rc = guid_new(&rule->id)) != 0)
		return rc;
	if ((rule->name = strdup(r->name)) == NULL)
		return PA_E_NOMEM;
	rule->filterlist_id = fl->id;
	rule->filteraction_id = fa->id;
	rule->tunnel = r->tunnel;
	rule->conntype = POL_CONN_ALL;
	rule->active = true;
	if (r->action == POL_ACT_NEGOTIATE) {
		if ((au = pol_rule_add_auth(rule)) == NULL)
			return PA_E_NOMEM;
		au->kind = r->auth != 0 ? r->auth : POL_AUTH_KERBEROS;
		if (au->kind == POL_AUTH_PSK &&
		    (au->psk_ref = strdup(r->psk_ref)) == NULL)
			return PA_E_NOMEM;
	}
	return 0;
}

/* s appended to buf; with esc, XML-escaped (&, <, >, "). */
static int
xml_append(char **buf, size_t *len, size_t *cap, const char *s, bool esc)
{
	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		char one[2] = { *s, '\0' };
		size_t rl;

		switch (esc ? *s : '\0') {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = one; break;
		}
		rl = strlen(rep);
		if (*len + rl + 1 > *cap) {
			size_t nc = (*cap + rl + 1) * 2;
			char *nb = realloc(*buf, nc);

			if (nb == NULL)
				return PA_E_NOMEM;
			*buf = nb;
			*cap = nc;
		}
		memcpy(*buf + *len, rep, rl + 1);
		*len += rl;
	}
	return 0;
}

/*
 * The preshared keys that dynamic rules name, from the secrets file: the
 * store loader reads that file (and checks its owner and mode), so a
 * one-rule-per-key store is parsed with it and the keys are copied over.
 */
static int
fill_psks(struct pol_store *st, const char *secrets_path, struct pol_err *err)
{
	static const char head[] =
	    "<ipsecStore xmlns=\"urn:ipsec-agent:policy:1\" version=\"1\">"
	    "<filterList id=\"{00000000-0000-4000-8000-000000000004}\" "
	    "name=\"p\"><filter id=\"{00000000-0000-4000-8000-000000000005}\">"
	    "<source kind=\"any\"/><destination kind=\"any\"/></filter>"
	    "</filterList>"
	    "<filterAction id=\"{00000000-0000-4000-8000-000000000001}\" "
	    "name=\"p\" action=\"permit\"/>"
	    "<policy id=\"{00000000-0000-4000-8000-000000000002}\" name=\"p\">"
	    "<isakmp id=\"{00000000-0000-4000-8000-000000000003}\">"
	    "<method cipher=\"3DES\" hash=\"SHA1\" group=\"2\"/></isakmp>";
	struct pol_store *keys = NULL;
	struct pol_policy *p = &st->policies[0];
	char *buf = NULL, id[256];
	size_t len = 0, cap = 0, i, j, k = 0, need = 0;
	int rc = 0;

	for (i = 0; i < p->nrules; i++)
		for (j = 0; j < p->rules[i].nauth; j++)
			if (p->rules[i].auth[j].psk_ref != NULL)
				need++;
	if (need == 0)
		return 0;
	if (secrets_path == NULL) {
		if (err != NULL) {
			snprintf(err->where, sizeof(err->where), "dynamic rule");
			snprintf(err->what, sizeof(err->what), "psk needs a "
			    "secrets file");
		}
		return PA_E_NOENT;
	}
	if ((rc = xml_append(&buf, &len, &cap, head, false)) != 0)
		goto out;
	for (i = 0; i < p->nrules; i++)
		for (j = 0; j < p->rules[i].nauth; j++) {
			if (p->rules[i].auth[j].psk_ref == NULL)
				continue;
			snprintf(id, sizeof(id), "<rule id=\"{00000000-0000-4000-"
			    "8000-%012zx}\" filterList=\"{00000000-0000-4000-"
			    "8000-000000000004}\" filterAction=\"{00000000-0000-"
			    "4000-8000-000000000001}\"><auth kind=\"psk\" "
			    "secret=\"", 0x100 + k++);
			if ((rc = xml_append(&buf, &len, &cap, id, false)) != 0 ||
			    (rc = xml_append(&buf, &len, &cap,
			    p->rules[i].auth[j].psk_ref, true)) != 0 ||
			    (rc = xml_append(&buf, &len, &cap, "\"/></rule>",
			    false)) != 0)
				goto out;
		}
	if ((rc = xml_append(&buf, &len, &cap, "</policy></ipsecStore>",
	    false)) != 0)
		goto out;
	if ((rc = pol_store_parse_xml(buf, len, "dynamic rules", secrets_path,
	    &keys, err)) != 0)
		goto out;
	for (i = 0, k = 0; i < p->nrules; i++)
		for (j = 0; j < p->rules[i].nauth; j++) {
			struct pol_auth *au = &p->rules[i].auth[j];
			const struct pol_rule *kr;

			if (au->psk_ref == NULL)
				continue;
			kr = k < keys->policies[0].nrules ?
			    &keys->policies[0].rules[k] : NULL;
			k++;
			if (kr == NULL || kr->nauth == 0 ||
			    kr->auth[0].psk == NULL) {
				rc = PA_E_NOENT;
				goto out;
			}
			pa_secret_free(au->psk);
			if ((au->psk = pa_secret_dup(kr->auth[0].psk)) == NULL) {
				rc = PA_E_NOMEM;
				goto out;
			}
		}
out:
	pol_store_free(keys);
	free(buf);
	return rc;
}

int
agent_dyn_build_keys(const struct agent_dyn_rule *rules, size_t n,
    const char *secrets_path, struct pol_store **out, struct pol_err *err)
{
	int rc;

	if ((rc = agent_dyn_build(rules, n, out, err)) != 0 || *out == NULL)
		return rc;
	if ((rc = fill_psks(*out, secrets_path, err)) != 0) {
		pol_store_free(*out);
		*out = NULL;
	}
	return rc;
}

int
agent_dyn_build(const struct agent_dyn_rule *rules, size_t n,
    struct pol_store **out, struct pol_err *err)
{
	struct pol_store *st = NULL;
	struct pol_policy *p;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((st = pol_store_new()) == NULL ||
	    (p = pol_store_add_policy(st)) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	if ((rc = guid_new(&p->id)) != 0)
		goto out;
	if ((p->name = strdup("Dynamic")) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	p->assigned = true;
	p->poll_sec = POL_DEFAULT_POLL_SEC;
	if ((rc = isakmp_default(&p->isakmp)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = agent_dyn_check(&rules[i], err)) != 0)
			goto out;
		/* Adding filter lists moves the policy array: re-fetch. */
		if ((rc = dyn_add_rule(st, &st->policies[0], &rules[i])) != 0)
			goto out;
	}
	if ((rc = pol_store_resolve(st, err)) != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	if (rc == PA_E_NOMEM)
		dyn_err(err, "dynamic rules", "out of memory");
	pol_store_free(st);
	return rc;
}
