/*
 * The driver's nftables table (libnftables, never the nft binary): one
 * table per TUN, rewritten as a whole in one transaction whenever the
 * filter list changes. It stays after close and after the process dies
 * (fail-closed, see driver.h); the next instance creates its own beside
 * it under the next free name and deletes the old one at settle().
 *
 *   ch_out (route, output):   exemptions, then per OUT filter in priority
 *                           order: permit -> return, block -> drop,
 *                           protect -> mark (policy routing to the TUN)
 *   ch_pre (filter, prerouting): the same marking for forwarded traffic
 *   ch_in, ch_fwd (filter):       decrypted packets (from the TUN) and
 *                           exemptions pass; per IN filter: permit ->
 *                           return, block -> drop, protect -> drop clear
 *                           text unless inpass
 */
#include <netinet/in.h>

#include <jansson.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_log.h"
#include "uesp_priv.h"

static struct nft_ctx *
uesp_nft_ctx(void)
{
	struct nft_ctx *n;

	if ((n = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		return NULL;
	if (nft_ctx_buffer_output(n) != 0 || nft_ctx_buffer_error(n) != 0) {
		nft_ctx_free(n);
		return NULL;
	}
	return n;
}

static int
uesp_nft_run(struct nft_ctx *n, const char *cmd)
{
	if (nft_run_cmd_from_buffer(n, cmd) != 0) {
		log_warnx("uesp: nftables: %s", nft_ctx_get_error_buffer(n));
		return PA_E_SYS;
	}
	return 0;
}

static void
uesp_nft_prefix(FILE *f, const char *dir, const struct pa_prefix *p)
{
	char b[PA_ADDRSTRLEN];

	if (p->addr.family == 0 || p->len == 0)
		return;
	fprintf(f, " %s %s %s/%u", p->addr.family == AF_INET ? "ip" : "ip6",
	    dir, pa_addr_str(&p->addr, b, sizeof(b)), p->len);
}

/* The match part of a rule for a selector. */
static void
uesp_nft_sel(FILE *f, const struct drv_sel *s)
{
	uint8_t fam = s->src.addr.family != 0 ? s->src.addr.family :
	    s->dst.addr.family;

	if (fam == AF_INET)
		fprintf(f, " meta nfproto ipv4");
	else if (fam == AF_INET6)
		fprintf(f, " meta nfproto ipv6");
	uesp_nft_prefix(f, "saddr", &s->src);
	uesp_nft_prefix(f, "daddr", &s->dst);
	if (s->proto != 0)
		fprintf(f, " meta l4proto %u", s->proto);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
	    s->proto == IPPROTO_SCTP || s->proto == IPPROTO_UDPLITE) {
		if (s->sport != 0)
			fprintf(f, " th sport %u", s->sport);
		if (s->dport != 0)
			fprintf(f, " th dport %u", s->dport);
	}
}

static void
uesp_nft_exempt(const struct driver *d, FILE *f, const char *chain)
{
	const char *t = d->table;

	fprintf(f, "add rule inet %s %s meta mark 0x%x return\n", t, chain,
	    d->bypass);
	fprintf(f, "add rule inet %s %s meta l4proto { esp, ah } return\n", t,
	    chain);
	fprintf(f, "add rule inet %s %s udp sport { %u, %u } return\n", t,
	    chain, d->cfg.ike_port, d->cfg.natt_port);
	fprintf(f, "add rule inet %s %s udp dport { %u, %u } return\n", t,
	    chain, d->cfg.ike_port, d->cfg.natt_port);
	fprintf(f, "add rule inet %s %s icmpv6 type { nd-neighbor-solicit, "
	    "nd-neighbor-advert, nd-router-solicit, nd-router-advert } "
	    "return\n", t, chain);
	if (d->cfg.exempt_kerberos) {
		fprintf(f, "add rule inet %s %s meta l4proto { tcp, udp } "
		    "th dport 88 return\n", t, chain);
		fprintf(f, "add rule inet %s %s meta l4proto { tcp, udp } "
		    "th sport 88 return\n", t, chain);
	}
	if (d->cfg.exempt_multicast)
		fprintf(f, "add rule inet %s %s fib daddr type { broadcast, "
		    "multicast } return\n", t, chain);
}

static void
uesp_nft_out_rule(const struct driver *d, FILE *f, const char *chain,
    const struct uesp_pol *pol)
{
	const char *t = d->table;
	unsigned mss;

	switch (pol->p.action) {
	case DRV_ACT_PERMIT:
		fprintf(f, "add rule inet %s %s", t, chain);
		uesp_nft_sel(f, &pol->p.sel);
		fprintf(f, " return\n");
		break;
	case DRV_ACT_BLOCK:
		fprintf(f, "add rule inet %s %s", t, chain);
		uesp_nft_sel(f, &pol->p.sel);
		fprintf(f, " counter name blocked drop\n");
		break;
	case DRV_ACT_PROTECT:
		/* TCP must fit the TUN's MTU: clamp the MSS of SYNs. */
		if (pol->p.sel.proto == 0 || pol->p.sel.proto == IPPROTO_TCP) {
			mss = d->mtu - (pol->p.sel.src.addr.family ==
			    AF_INET6 ? 60 : 40);
			fprintf(f, "add rule inet %s %s", t, chain);
			uesp_nft_sel(f, &pol->p.sel);
			fprintf(f, " tcp flags & (syn|rst) == syn tcp option "
			    "maxseg size > %u tcp option maxseg size set %u\n",
			    mss, mss);
		}
		fprintf(f, "add rule inet %s %s", t, chain);
		uesp_nft_sel(f, &pol->p.sel);
		fprintf(f, " meta mark set 0x%x return\n", d->mark);
		break;
	}
}

/*
 * Inbound: block and permit filters apply to decrypted packets (from the
 * TUN) too; a protect filter passes them and drops clear text.
 */
static void
uesp_nft_in_rule(const struct driver *d, FILE *f, const char *chain,
    const struct uesp_pol *pol)
{
	if (pol->p.action == DRV_ACT_PROTECT && !pol->p.inpass) {
		fprintf(f, "add rule inet %s %s iifname \"%s\"", d->table,
		    chain, d->ifname);
		uesp_nft_sel(f, &pol->p.sel);
		fprintf(f, " return\n");
	}
	fprintf(f, "add rule inet %s %s", d->table, chain);
	uesp_nft_sel(f, &pol->p.sel);
	switch (pol->p.action) {
	case DRV_ACT_PERMIT:
		fprintf(f, " return\n");
		break;
	case DRV_ACT_BLOCK:
		fprintf(f, " counter name blocked drop\n");
		break;
	case DRV_ACT_PROTECT:
		fprintf(f, pol->p.inpass ? " return\n" :
		    " counter name cleartext drop\n");
		break;
	}
}

static const char *const uesp_chains[] = { "ch_out", "ch_pre", "ch_in",
    "ch_fwd" };

/* The commands that make our table's rules what the filters say. */
static int
uesp_nft_script(struct driver *d, char **out)
{
	const char *const *chains = uesp_chains;
	const char *t = d->table;
	char *buf = NULL;
	size_t len = 0, i, c;
	FILE *f;

	*out = NULL;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return PA_E_NOMEM;
	for (c = 0; c < 4; c++)
		fprintf(f, "flush chain inet %s %s\n", t, chains[c]);
	uesp_nft_exempt(d, f, "ch_out");
	fprintf(f, "add rule inet %s ch_pre iifname \"%s\" return\n", t,
	    d->ifname);
	fprintf(f, "add rule inet %s ch_pre fib daddr type local return\n", t);
	uesp_nft_exempt(d, f, "ch_pre");
	for (c = 2; c < 4; c++)
		uesp_nft_exempt(d, f, chains[c]);
	for (i = 0; i < d->npols; i++) {
		const struct uesp_pol *pol = d->pols[i];

		if (pol->id.dir == DRV_DIR_OUT) {
			uesp_nft_out_rule(d, f, "ch_out", pol);
			uesp_nft_out_rule(d, f, "ch_pre", pol);
		} else {
			uesp_nft_in_rule(d, f, "ch_in", pol);
			uesp_nft_in_rule(d, f, "ch_fwd", pol);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return PA_E_NOMEM;
	}
	*out = buf;
	return 0;
}

int
uesp_nft_sync(struct driver *d)
{
	char *buf;
	int rc;

	if ((rc = uesp_nft_script(d, &buf)) != 0)
		return rc;
	rc = uesp_nft_run(d->nft, buf);
	free(buf);
	return rc;
}

/* Rules in a `list table` JSON answer, by chain; -1 = the chain is gone. */
static void
uesp_nft_count(json_t *arr, long *count)
{
	json_t *it, *o;
	const char *ch;
	size_t i, c;

	for (c = 0; c < 4; c++)
		count[c] = -1;
	json_array_foreach(arr, i, it) {
		bool rule = (o = json_object_get(it, "rule")) != NULL;

		if (!rule && (o = json_object_get(it, "chain")) == NULL)
			continue;
		if ((ch = json_string_value(json_object_get(o, rule ? "chain" :
		    "name"))) == NULL)
			continue;
		for (c = 0; c < 4; c++)
			if (strcmp(ch, uesp_chains[c]) == 0) {
				if (!rule && count[c] < 0)
					count[c] = 0;
				else if (rule && count[c] >= 0)
					count[c]++;
			}
	}
}

int
uesp_nft_check(struct driver *d, char *why, size_t cap)
{
	char cmd[128], *script = NULL, *p;
	long want[4] = { 0 }, have[4];
	json_t *root, *arr;
	json_error_t jerr;
	size_t c;
	int rc;

	snprintf(cmd, sizeof(cmd), "list table inet %s", d->table);
	(void)nft_ctx_get_output_buffer(d->nft);	/* as in counters */
	nft_ctx_output_set_flags(d->nft, NFT_CTX_OUTPUT_JSON);
	rc = nft_run_cmd_from_buffer(d->nft, cmd);
	nft_ctx_output_set_flags(d->nft, 0);
	if (rc != 0) {
		snprintf(why, cap, "nftables table inet %s is gone: filtered "
		    "traffic is not steered to the TUN device", d->table);
		return PA_E_NOENT;
	}
	if ((root = json_loads(nft_ctx_get_output_buffer(d->nft), 0,
	    &jerr)) == NULL || (arr = json_object_get(root, "nftables")) ==
	    NULL || !json_is_array(arr)) {
		json_decref(root);
		snprintf(why, cap, "nftables answered what we cannot read: "
		    "%.80s", jerr.text);
		return PA_E_FORMAT;
	}
	uesp_nft_count(arr, have);
	json_decref(root);
	if ((rc = uesp_nft_script(d, &script)) != 0)
		return rc;
	/* One "add rule inet TABLE CHAIN ..." line per rule. */
	for (p = script; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		char t[32], ch[16];

		if (sscanf(p, "add rule inet %31s %15s", t, ch) != 2)
			continue;
		for (c = 0; c < 4; c++)
			if (strcmp(ch, uesp_chains[c]) == 0)
				want[c]++;
	}
	free(script);
	for (c = 0; c < 4; c++)
		if (have[c] != want[c]) {
			if (have[c] < 0)
				snprintf(why, cap, "nftables chain %s of table "
				    "inet %s is gone", uesp_chains[c],
				    d->table);
			else
				snprintf(why, cap, "nftables chain %s of table "
				    "inet %s has %ld rules, the filters make "
				    "%ld", uesp_chains[c], d->table, have[c],
				    want[c]);
			return PA_E_INVAL;
		}
	snprintf(why, cap, "nftables table inet %s: %ld rules, as the "
	    "filters make", d->table, want[0] + want[1] + want[2] + want[3]);
	return 0;
}

int
uesp_nft_open(struct driver *d)
{
	char cmd[1024];
	size_t i, mine = UESP_NTABLES;
	int rc;

	if ((d->nft = uesp_nft_ctx()) == NULL ||
	    (d->nft_hk = uesp_nft_ctx()) == NULL)
		return PA_E_NOMEM;
	/* A table a previous instance left keeps blocking: ours takes the
	 * first free name, the others go at settle() or clear(). */
	for (i = 0; i < UESP_NTABLES; i++) {
		snprintf(cmd, sizeof(cmd), "list table inet %s",
		    d->tnames[i]);
		if (nft_run_cmd_from_buffer(d->nft, cmd) == 0)
			d->told[i] = true;
		else if (mine == UESP_NTABLES)
			mine = i;
	}
	if (mine == UESP_NTABLES) {
		log_warnx("uesp: %d nftables tables %s.. of earlier instances "
		    "that never settled are in place: they keep blocking; "
		    "remove them with ipsec-agentd --clear", UESP_NTABLES,
		    d->tnames[0]);
		return PA_E_EXIST;
	}
	snprintf(d->table, sizeof(d->table), "%s", d->tnames[mine]);
	snprintf(cmd, sizeof(cmd),
	    "table inet %1$s {\n"
	    " counter cleartext { }\n"
	    " counter blocked { }\n"
	    " chain ch_out { type route hook output priority mangle; "
	    "policy accept; }\n"
	    " chain ch_pre { type filter hook prerouting priority mangle; "
	    "policy accept; }\n"
	    " chain ch_in { type filter hook input priority filter; "
	    "policy accept; }\n"
	    " chain ch_fwd { type filter hook forward priority filter; "
	    "policy accept; }\n"
	    "}\n", d->table);
	if ((rc = uesp_nft_run(d->nft, cmd)) != 0)
		return rc;
	return uesp_nft_sync(d);
}

int
uesp_nft_drop_old(struct driver *d, bool all)
{
	char *buf = NULL;
	size_t len = 0, i;
	bool any = false;
	FILE *f;
	int rc;

	if (d->nft == NULL)
		return 0;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < UESP_NTABLES; i++)
		if (d->told[i] || (all && strcmp(d->tnames[i], d->table) ==
		    0)) {
			fprintf(f, "delete table inet %s\n", d->tnames[i]);
			any = true;
		}
	if (fclose(f) != 0) {
		free(buf);
		return PA_E_NOMEM;
	}
	rc = any ? uesp_nft_run(d->nft, buf) : 0;
	free(buf);
	if (rc == 0)
		memset(d->told, 0, sizeof(d->told));
	return rc;
}

/* Fail-closed: the table stays in the kernel (see driver.h, close). */
void
uesp_nft_close(struct driver *d)
{
	if (d->nft != NULL) {
		nft_ctx_free(d->nft);
		d->nft = NULL;
	}
	if (d->nft_hk != NULL) {
		nft_ctx_free(d->nft_hk);
		d->nft_hk = NULL;
	}
}

int
uesp_nft_counters(struct driver *d, bool hk, uint64_t *cleartext,
    uint64_t *blocked)
{
	struct nft_ctx *n = hk ? d->nft_hk : d->nft;
	char cmd[128];
	json_t *root, *arr, *it, *c;
	json_error_t jerr;
	const char *name;
	size_t i;
	int rc;

	snprintf(cmd, sizeof(cmd), "list counters table inet %s", d->table);
	/* The buffer keeps what earlier commands printed (the leftover
	 * tables listed at open): drop it before reading this answer. */
	(void)nft_ctx_get_output_buffer(n);
	nft_ctx_output_set_flags(n, NFT_CTX_OUTPUT_JSON);
	rc = nft_run_cmd_from_buffer(n, cmd);
	nft_ctx_output_set_flags(n, 0);
	if (rc != 0)
		return PA_E_SYS;
	root = json_loads(nft_ctx_get_output_buffer(n), 0, &jerr);
	if (root == NULL)
		return PA_E_FORMAT;
	rc = PA_E_FORMAT;
	if ((arr = json_object_get(root, "nftables")) == NULL ||
	    !json_is_array(arr))
		goto out;
	json_array_foreach(arr, i, it) {
		json_int_t pk;

		if ((c = json_object_get(it, "counter")) == NULL ||
		    (name = json_string_value(json_object_get(c, "name"))) ==
		    NULL || !json_is_integer(json_object_get(c, "packets")))
			continue;
		pk = json_integer_value(json_object_get(c, "packets"));
		if (pk < 0)
			continue;
		if (strcmp(name, "cleartext") == 0)
			*cleartext = (uint64_t)pk;
		else if (strcmp(name, "blocked") == 0)
			*blocked = (uint64_t)pk;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
