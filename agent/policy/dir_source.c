/*
 * The directory policy source. See dir_source.h.
 *
 * One poll: bind (URIs in order) -> the computer's object -> the gPLink of
 * every container above it -> the GPOs in precedence order -> the first
 * one with an IPSEC assignment object -> the policy graph, read first
 * without the blobs: if the timestamps (whenChanged, modifyTimestamp,
 * entryCSN, uSNChanged), references and the assignment are what was
 * applied last, nothing else is read. Otherwise the graph is read with its
 * blobs and decoded; a valid policy is cached and handed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dir.h"
#include "dir_conn.h"
#include "dir_source.h"
#include "from_ldap.h"
#include "gpipsec.h"
#include "pa_log.h"
#include "pa_time.h"
#include "srv.h"

#define CACHE_MAGIC	"PA-DIR-CACHE 1\n"
#define CACHE_MAX	(256u * 1024 * 1024)

struct pol_dir_source {
	struct pol_dir_conn	 conn;	/* the settings, copied */
	struct dir_cfg		 ldap;	/* this poll's (servers by DNS SRV) */
	char			 srv_uris[DIR_SRV_MAX][DIR_SRV_URI];
	const char		*srv_ptrs[DIR_SRV_MAX];
	char			*base, *computer_dn, *sam_account, *cache_path;
	uint32_t		 min_poll, backoff_unit, backoff_min;
	/* What is in force. */
	bool			 in_force, from_cache;
	uint8_t			 fp[32];	/* of the graph in force */
	bool			 have_bad;
	uint8_t			 bad_fp[32];	/* last rejected graph */
	struct pol_dir_status	 cur;
	struct pol_gp_keep	*keep;
	int32_t			 spread;
	/* What to watch (dir_watch.h): of the last poll that reached the
	 * directory (tg), and of the poll under way (tg_new). */
	struct tg_list {
		struct pol_dir_target	*v;
		uint8_t			*prio;	/* order: graph first */
		size_t			 n;
	}			 tg, tg_new;
};

const char *
pol_dir_outcome_name(enum pol_dir_outcome o)
{
	switch (o) {
	case POL_DIR_UNCHANGED:
		return "unchanged";
	case POL_DIR_APPLIED:
		return "applied";
	case POL_DIR_FROM_CACHE:
		return "from-cache";
	case POL_DIR_UNASSIGNED:
		return "unassigned";
	case POL_DIR_UNREACHABLE:
		return "unreachable";
	case POL_DIR_REJECTED:
		return "rejected";
	}
	return "?";
}

static int
sdup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) != NULL ? 0 : PA_E_NOMEM;
}

/* ------------------------------------------------------------------ */
/* What to watch                                                       */

enum { TG_GRAPH = 0, TG_ASSIGN = 1, TG_GPO = 2, TG_SOM = 3 };

static void
tg_clear(struct tg_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].dn);
	free(l->v);
	free(l->prio);
	memset(l, 0, sizeof(*l));
}

/* Add dn (once: DNs compared normalized); out of memory only loses a
 * target, never the poll. */
static void
tg_add(struct tg_list *l, const char *dn, bool one_level, uint8_t prio)
{
	struct pol_dir_target *nv;
	uint8_t *np;
	size_t i;

	if (dn == NULL || *dn == '\0')
		return;
	for (i = 0; i < l->n; i++)
		if (l->v[i].one_level == one_level && dir_dn_eq(l->v[i].dn, dn))
			return;
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL)
		return;
	l->v = nv;
	if ((np = realloc(l->prio, (l->n + 1) * sizeof(*np))) == NULL)
		return;
	l->prio = np;
	if ((nv[l->n].dn = strdup(dn)) == NULL)
		return;
	nv[l->n].one_level = one_level;
	np[l->n] = prio;
	l->n++;
}

/* The poll reached the directory: its targets, most important first. */
static void
tg_commit(struct pol_dir_source *d)
{
	struct pol_dir_target t;
	uint8_t p;
	size_t i, j;

	for (i = 1; i < d->tg_new.n; i++)	/* insertion sort: stable */
		for (j = i; j > 0 && d->tg_new.prio[j - 1] >
		    d->tg_new.prio[j]; j--) {
			t = d->tg_new.v[j];
			d->tg_new.v[j] = d->tg_new.v[j - 1];
			d->tg_new.v[j - 1] = t;
			p = d->tg_new.prio[j];
			d->tg_new.prio[j] = d->tg_new.prio[j - 1];
			d->tg_new.prio[j - 1] = p;
		}
	tg_clear(&d->tg);
	d->tg = d->tg_new;
	memset(&d->tg_new, 0, sizeof(d->tg_new));
}

const struct pol_dir_target *
pol_dir_targets(const struct pol_dir_source *d, size_t *n)
{
	*n = d->tg.n;
	return d->tg.v;
}

uint32_t
pol_dir_poll_offset(const char *identity, uint32_t interval, int32_t spread)
{
	uint8_t dg[32];
	unsigned int dl;
	uint64_t h = 0, max;
	size_t i;

	if (spread < 0) {
		max = interval / 10;
		if (max > 1800)
			max = 1800;
	} else
		max = (uint64_t)spread;
	if (max == 0 || identity == NULL || EVP_Digest(identity,
	    strlen(identity), dg, &dl, EVP_sha256(), NULL) != 1)
		return 0;
	for (i = 0; i < 8; i++)
		h = h << 8 | dg[i];
	/* h / 2^64 scaled to [0, max]. */
	return (uint32_t)(((unsigned __int128)h * (max + 1)) >> 64);
}

int
pol_dir_new(const struct pol_dir_cfg *cfg, struct pol_dir_source **out)
{
	struct pol_dir_source *d;

	*out = NULL;
	if (cfg->base == NULL || (cfg->computer_dn == NULL &&
	    cfg->sam_account == NULL) ||
	    (cfg->nuris == 0 && cfg->domain == NULL))
		return PA_E_INVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return PA_E_NOMEM;
	if (pol_dir_conn_copy(cfg, &d->conn) != 0 ||
	    sdup(cfg->base, &d->base) != 0 ||
	    sdup(cfg->computer_dn, &d->computer_dn) != 0 ||
	    sdup(cfg->sam_account, &d->sam_account) != 0 ||
	    sdup(cfg->cache_path, &d->cache_path) != 0)
		goto fail;
	d->ldap = d->conn.ldap;
	d->min_poll = cfg->min_poll_sec ? cfg->min_poll_sec : 60;
	d->backoff_unit = cfg->backoff_unit_sec ? cfg->backoff_unit_sec : 60;
	d->spread = cfg->poll_spread_sec;
	*out = d;
	return 0;
fail:
	pol_dir_free(d);
	return PA_E_NOMEM;
}

void
pol_dir_free(struct pol_dir_source *d)
{
	if (d == NULL)
		return;
	pol_dir_conn_clear(&d->conn);
	free(d->base);
	free(d->computer_dn);
	free(d->sam_account);
	free(d->cache_path);
	pol_gp_keep_free(d->keep);
	tg_clear(&d->tg);
	tg_clear(&d->tg_new);
	free(d);
}

const struct pol_gp_keep *
pol_dir_keep(const struct pol_dir_source *d)
{
	return d->in_force ? d->keep : NULL;
}

static void	st_err(struct pol_dir_status *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
st_err(struct pol_dir_status *st, const char *where, const char *fmt, ...)
{
	va_list ap;

	snprintf(st->err.where, sizeof(st->err.where), "%s", where);
	va_start(ap, fmt);
	vsnprintf(st->err.what, sizeof(st->err.what), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Which policy applies                                                */

static int
find_computer(struct pol_dir_source *d, struct dir *c, char **dn,
    struct pol_dir_status *st)
{
	const char *attrs[] = { "cn", NULL };
	struct dir_result *res = NULL;
	char *esc, *filter;
	int rc;

	if (d->computer_dn != NULL)
		return (*dn = strdup(d->computer_dn)) ? 0 : PA_E_NOMEM;
	if ((esc = dir_filter_escape(d->sam_account)) == NULL)
		return PA_E_NOMEM;
	if (asprintf(&filter, "(sAMAccountName=%s)", esc) < 0) {
		free(esc);
		return PA_E_NOMEM;
	}
	free(esc);
	rc = dir_search(c, d->base, DIR_SCOPE_SUB, filter, attrs, &res);
	free(filter);
	if (rc != 0) {
		st_err(st, d->base, "looking up %s: %s", d->sam_account,
		    dir_error(c));
		return rc;
	}
	if (res->n != 1) {
		st_err(st, d->base, "%zu computer objects named %s",
		    res->n, d->sam_account);
		dir_result_free(res);
		return PA_E_NOENT;
	}
	*dn = strdup(res->recs[0].dn);
	dir_result_free(res);
	return *dn ? 0 : PA_E_NOMEM;
}

/* A single-entry base search; *rec is NULL (rc 0) when it does not exist. */
static int
read_one(struct dir *c, const char *dn, const char *const *attrs,
    struct dir_result **res)
{
	int rc;

	*res = NULL;
	rc = dir_search(c, dn, DIR_SCOPE_BASE, NULL, attrs, res);
	if (rc == PA_E_NOENT || rc == PA_E_PERM)
		return 0;	/* missing or not ours to read: no links */
	return rc;
}

/*
 * The DN of the assigned policy, or NULL (rc 0) when no GPO of this
 * computer carries an IPsec assignment.
 */
/* The containers from a computer's parent up to the domain, read. */
struct som_chain {
	struct dir_result	**res;	/* each container's record (owned) */
	struct pol_som		 *soms;	/* gPLink borrowed from res */
	size_t			  n;
};

static void
som_chain_free(struct som_chain *ch)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		dir_result_free(ch->res[i]);
	free(ch->res);
	free(ch->soms);
}

/* Read one more container (dn) at the end of the chain. */
static int
som_chain_add(struct som_chain *ch, struct dir *c, const char *dn,
    struct pol_dir_status *st)
{
	static const char *const som_attrs[] = { "gPLink", "gPOptions", NULL };
	struct dir_result **nr;
	struct pol_som *ns;
	const char *fl;
	int rc;

	if ((nr = realloc(ch->res, (ch->n + 1) * sizeof(*nr))) == NULL)
		return PA_E_NOMEM;
	ch->res = nr;
	if ((ns = realloc(ch->soms, (ch->n + 1) * sizeof(*ns))) == NULL)
		return PA_E_NOMEM;
	ch->soms = ns;
	if ((rc = read_one(c, dn, som_attrs,
	    &ch->res[ch->n])) != 0) {
		st_err(st, dn, "reading gPLink: %s", dir_error(c));
		return rc;
	}
	ns = &ch->soms[ch->n];
	ns->gplink = NULL;
	ns->gpoptions = 0;
	if (ch->res[ch->n] != NULL && ch->res[ch->n]->n == 1) {
		ns->gplink = dir_record_str(&ch->res[ch->n]->recs[0], "gPLink");
		if ((fl = dir_record_str(&ch->res[ch->n]->recs[0],
		    "gPOptions")) != NULL)
			ns->gpoptions = (unsigned)atoi(fl);
	}
	ch->n++;
	return 0;
}

/* Read the containers from the computer comp's parent up to the domain. */
static int
som_chain_read(struct som_chain *ch, struct pol_dir_source *d,
    struct dir *c, const char *comp, struct pol_dir_status *st)
{
	char *cur, *next;
	int rc;

	if ((cur = dir_dn_parent(comp)) == NULL) {
		st_err(st, comp, "malformed computer DN");
		return PA_E_FORMAT;
	}
	for (;;) {
		if (*cur == '\0') {
			st_err(st, comp, "the computer is not under %s",
			    d->base);
			rc = PA_E_FORMAT;
			break;
		}
		if ((rc = som_chain_add(ch, c, cur, st)) != 0)
			break;
		tg_add(&d->tg_new, cur, false, TG_SOM);
		if (dir_dn_eq(cur, d->base))
			break;
		if ((next = dir_dn_parent(cur)) == NULL) {
			rc = PA_E_NOMEM;
			break;
		}
		free(cur);
		cur = next;
	}
	free(cur);
	return rc;
}

/*
 * The policy a GPO assigns: its IPSEC object's ipsecOwnersReference into
 * *policy_dn (and st->gpo_dn), or none (*policy_dn stays NULL) when the
 * link dangles, the GPO's computer part is off or it assigns no policy.
 */
static int
gpo_policy(struct pol_dir_source *d, struct dir *c, const char *gpo,
    char **policy_dn, struct pol_dir_status *st)
{
	static const char *const gpo_attrs[] = { "flags", NULL };
	static const char *const ipsec_attrs[] = { "ipsecOwnersReference",
	    "ipsecName", NULL };
	struct dir_result *res = NULL;
	const char *ref, *fl;
	char *ipdn;
	bool off;
	int rc;

	if ((rc = read_one(c, gpo, gpo_attrs, &res)) != 0) {
		st_err(st, gpo, "reading the GPO: %s", dir_error(c));
		return rc;
	}
	off = res == NULL || res->n != 1 ||
	    ((fl = dir_record_str(&res->recs[0], "flags")) != NULL &&
	    ((unsigned)atoi(fl) & POL_GPO_MACHINE_OFF));
	if (res != NULL && res->n == 1)
		tg_add(&d->tg_new, gpo, false, TG_GPO);
	dir_result_free(res);
	res = NULL;
	if (off)
		return 0;	/* dangling link or computer part off */
	if ((ipdn = pol_gpo_ipsec_dn(gpo)) == NULL)
		return PA_E_NOMEM;
	rc = read_one(c, ipdn, ipsec_attrs, &res);
	if (rc == 0 && res != NULL && res->n == 1)
		tg_add(&d->tg_new, ipdn, false, TG_ASSIGN);
	free(ipdn);
	if (rc != 0) {
		st_err(st, gpo, "reading the IPsec assignment: %s",
		    dir_error(c));
		return rc;
	}
	if (res != NULL && res->n == 1 && (ref = dir_record_str(
	    &res->recs[0], "ipsecOwnersReference")) != NULL) {
		snprintf(st->gpo_dn, sizeof(st->gpo_dn), "%s", gpo);
		if ((*policy_dn = strdup(ref)) == NULL)
			rc = PA_E_NOMEM;
	}
	dir_result_free(res);
	return rc;
}

static int
find_assignment(struct pol_dir_source *d, struct dir *c, char **policy_dn,
    struct pol_dir_status *st)
{
	struct som_chain ch;
	char *comp = NULL, **gpos = NULL;
	size_t ngpos = 0, i;
	int rc;

	*policy_dn = NULL;
	memset(&ch, 0, sizeof(ch));
	if ((rc = find_computer(d, c, &comp, st)) != 0 ||
	    (rc = som_chain_read(&ch, d, c, comp, st)) != 0)
		goto out;
	if ((rc = pol_gpo_order(ch.soms, ch.n, &gpos, &ngpos)) != 0) {
		st_err(st, comp, "malformed gPLink above the computer");
		goto out;
	}
	for (i = 0; i < ngpos && rc == 0 && *policy_dn == NULL; i++)
		rc = gpo_policy(d, c, gpos[i], policy_dn, st);
out:
	som_chain_free(&ch);
	pol_strv_free(gpos, ngpos);
	free(comp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The policy graph                                                    */

/* The attribute lists without and with the blobs. */
static const char *const *
graph_attrs(bool with_data)
{
	static const char *nodata[32];
	size_t i, n = 0;

	if (with_data)
		return pol_ldap_attrs;
	if (nodata[0] == NULL)
		for (i = 0; pol_ldap_attrs[i] != NULL && n < 31; i++)
			if (strcasecmp(pol_ldap_attrs[i], "ipsecData") != 0)
				nodata[n++] = pol_ldap_attrs[i];
	return nodata;
}

static bool
have_dn(const struct dir_result *all, const char *dn)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (dir_dn_eq(all->recs[i].dn, dn))
			return true;
	return false;
}

/*
 * Read the objects named by dns (skipping those already in all) with
 * one search per parent container: (|(cn=a)(cn=b)...) one level below
 * it. Missing objects are simply absent (the decoder names them).
 */
static int
fetch_dns(struct dir *c, char **dns, size_t n, bool with_data,
    struct dir_result *all)
{
	struct dir_result *res = NULL;
	char *parent = NULL, *p2, *filter = NULL, *nf, *cn, *esc;
	bool *done;
	size_t i, j, k, flen;
	int rc = 0;

	if ((done = calloc(n + 1, sizeof(*done))) == NULL)
		return PA_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (done[i] || have_dn(all, dns[i])) {
			done[i] = true;
			continue;
		}
		if ((parent = dir_dn_parent(dns[i])) == NULL) {
			done[i] = true;
			continue;	/* malformed: reported as missing */
		}
		if ((filter = strdup("(|")) == NULL) {
			rc = PA_E_NOMEM;
			goto out;
		}
		flen = 2;
		for (j = i; j < n; j++) {
			if (done[j])
				continue;
			if ((p2 = dir_dn_parent(dns[j])) == NULL)
				continue;
			k = dir_dn_eq(p2, parent);
			free(p2);
			if (!k)
				continue;
			done[j] = true;
			if ((cn = dir_dn_rdn_value(dns[j])) == NULL)
				continue;
			esc = dir_filter_escape(cn);
			free(cn);
			if (esc == NULL) {
				rc = PA_E_NOMEM;
				goto out;
			}
			nf = realloc(filter, flen + strlen(esc) + 7);
			if (nf == NULL) {
				free(esc);
				rc = PA_E_NOMEM;
				goto out;
			}
			filter = nf;
			flen += (size_t)sprintf(filter + flen, "(cn=%s)", esc);
			free(esc);
		}
		strcpy(filter + flen, ")");
		rc = dir_search(c, parent, DIR_SCOPE_ONE, filter,
		    graph_attrs(with_data), &res);
		if (rc == PA_E_NOENT)
			rc = 0;
		if (rc != 0)
			goto out;
		for (j = 0; res != NULL && j < res->n; j++)
			if ((rc = dir_result_append(all, &res->recs[j])) != 0)
				goto out;
		dir_result_free(res);
		res = NULL;
		free(filter);
		filter = NULL;
		free(parent);
		parent = NULL;
	}
out:
	dir_result_free(res);
	free(filter);
	free(parent);
	free(done);
	return rc;
}

static int
strv_push(char ***v, size_t *n, const char *s)
{
	char **nv;

	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return PA_E_NOMEM;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return PA_E_NOMEM;
	(*n)++;
	return 0;
}

static int
push_attr(char ***v, size_t *n, const struct dir_record *r, const char *a)
{
	const struct dir_attr *at = dir_record_attr(r, a);
	size_t i;
	int rc;

	for (i = 0; at != NULL && i < at->nvals; i++)
		if ((rc = strv_push(v, n, (const char *)at->vals[i].p)) != 0)
			return rc;
	return 0;
}

/* Policy, then its ISAKMP object and rules, then their filter actions
 * and filter lists: three levels, a few searches each. */
static int
fetch_graph(struct dir *c, const char *policy_dn, bool with_data,
    struct dir_result **out)
{
	struct dir_result *all;
	char **dns = NULL;
	size_t ndns = 0, i, from;
	int rc;

	*out = NULL;
	if ((all = dir_result_new()) == NULL)
		return PA_E_NOMEM;
	if ((rc = strv_push(&dns, &ndns, policy_dn)) != 0 ||
	    (rc = fetch_dns(c, dns, ndns, with_data, all)) != 0)
		goto out;
	pol_strv_free(dns, ndns);
	dns = NULL;
	ndns = 0;
	for (i = 0; i < all->n; i++)
		if ((rc = push_attr(&dns, &ndns, &all->recs[i],
		    "ipsecISAKMPReference")) != 0 ||
		    (rc = push_attr(&dns, &ndns, &all->recs[i],
		    "ipsecNFAReference")) != 0)
			goto out;
	from = all->n;
	if ((rc = fetch_dns(c, dns, ndns, with_data, all)) != 0)
		goto out;
	pol_strv_free(dns, ndns);
	dns = NULL;
	ndns = 0;
	for (i = from; i < all->n; i++)
		if ((rc = push_attr(&dns, &ndns, &all->recs[i],
		    "ipsecNegotiationPolicyReference")) != 0 ||
		    (rc = push_attr(&dns, &ndns, &all->recs[i],
		    "ipsecFilterReference")) != 0)
			goto out;
	if ((rc = fetch_dns(c, dns, ndns, with_data, all)) != 0)
		goto out;
	*out = all;
	all = NULL;
out:
	pol_strv_free(dns, ndns);
	dir_result_free(all);
	return rc;
}

static int
cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/*
 * The fingerprint of a graph: the assignment, and per object its DN,
 * references and change stamps (not the blobs, which a change of them
 * also changes), independent of the order of the records.
 */
static int
fingerprint(const char *policy_dn, const struct dir_result *all,
    uint8_t out[static 32])
{
	static const char *const fields[] = { "ipsecISAKMPReference",
	    "ipsecNFAReference", "ipsecNegotiationPolicyReference",
	    "ipsecFilterReference", "ipsecOwnersReference", "whenChanged",
	    "modifyTimestamp", "entryCSN", "uSNChanged", NULL };
	EVP_MD_CTX *md = NULL;
	uint8_t *dg = NULL;
	char *n;
	size_t i, j, k;
	unsigned int len;
	int rc = PA_E_CRYPTO;

	if ((dg = calloc(all->n + 1, 32)) == NULL)
		return PA_E_NOMEM;
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < all->n; i++) {
		const struct dir_record *r = &all->recs[i];

		if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
			goto out;
		n = dir_dn_normalize(r->dn);
		EVP_DigestUpdate(md, n ? n : r->dn, strlen(n ? n : r->dn) + 1);
		free(n);
		for (j = 0; fields[j] != NULL; j++) {
			const struct dir_attr *a = dir_record_attr(r,
			    fields[j]);

			EVP_DigestUpdate(md, fields[j], strlen(fields[j]) + 1);
			for (k = 0; a != NULL && k < a->nvals; k++)
				EVP_DigestUpdate(md, a->vals[k].p,
				    a->vals[k].len + 1);
		}
		if (EVP_DigestFinal_ex(md, dg + 32 * i, &len) != 1)
			goto out;
	}
	qsort(dg, all->n, 32, cmp_digest);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, policy_dn, strlen(policy_dn) + 1) != 1 ||
	    EVP_DigestUpdate(md, dg, 32 * all->n) != 1 ||
	    EVP_DigestFinal_ex(md, out, &len) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(dg);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The cache: root-only file, SHA-256 of its content in the header      */

static int
sha256_hex(const void *p, size_t len, char hex[65])
{
	uint8_t dg[32];
	unsigned int dl;

	if (EVP_Digest(p, len, dg, &dl, EVP_sha256(), NULL) != 1)
		return PA_E_CRYPTO;
	pa_hex_encode(dg, sizeof(dg), hex, 65);
	return 0;
}

static int
cache_write(struct pol_dir_source *d, const struct dir_result *all,
    const struct pol_dir_status *st)
{
	char *ldif = NULL, *body = NULL, *tmp = NULL, hex[65];
	size_t llen, blen;
	FILE *f = NULL;
	int fd = -1, rc = PA_E_NOMEM, n;

	if (d->cache_path == NULL)
		return 0;
	if (strchr(st->policy_dn, '\n') != NULL ||
	    strchr(st->uri, '\n') != NULL)
		return PA_E_INVAL;
	if ((rc = dir_ldif_write(all, &ldif, &llen)) != 0)
		return rc;
	n = asprintf(&body, "fetched %lld\npolicy %s\nuri %s\n\n%s",
	    (long long)st->fetched, st->policy_dn, st->uri, ldif);
	if (n < 0) {
		body = NULL;
		rc = PA_E_NOMEM;
		goto out;
	}
	blen = (size_t)n;
	if ((rc = sha256_hex(body, blen, hex)) != 0)
		goto out;
	if (asprintf(&tmp, "%s.tmp", d->cache_path) < 0) {
		tmp = NULL;
		rc = PA_E_NOMEM;
		goto out;
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		rc = PA_E_SYS;
		goto out;
	}
	fd = -1;
	if (fprintf(f, "%ssha256 %s\n", CACHE_MAGIC, hex) < 0 ||
	    fwrite(body, 1, blen, f) != blen || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		rc = PA_E_SYS;
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = PA_E_SYS;
		goto out;
	}
	f = NULL;
	if (rename(tmp, d->cache_path) != 0) {
		rc = PA_E_SYS;
		goto out;
	}
	rc = 0;
out:
	if (rc == PA_E_SYS)
		log_warn("directory policy cache %s", d->cache_path);
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (rc != 0 && tmp != NULL)
		(void)unlink(tmp);
	free(tmp);
	free(body);
	free(ldif);
	return rc;
}

/* A header line "key value\n" of the cache: the value, NUL-terminated in
 * place; *p advanced. */
static char *
cache_line(char **p, const char *key)
{
	size_t kl = strlen(key);
	char *nl, *v;

	if (strncmp(*p, key, kl) != 0 || (*p)[kl] != ' ' ||
	    (nl = strchr(*p, '\n')) == NULL)
		return NULL;
	v = *p + kl + 1;
	*nl = '\0';
	*p = nl + 1;
	return v;
}

static int
cache_read(struct pol_dir_source *d, struct dir_result **all,
    struct pol_dir_status *st)
{
	struct stat sb;
	char *buf = NULL, *p, err[256];
	size_t hl;
	ssize_t got;
	int fd, rc = PA_E_FORMAT;

	*all = NULL;
	if ((fd = open(d->cache_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? PA_E_NOENT : PA_E_SYS;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return PA_E_SYS;
	}
	/* Root-only: ours, a plain file, nobody else may read or write. */
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0 || sb.st_size <= 0 ||
	    (size_t)sb.st_size > CACHE_MAX) {
		close(fd);
		st_err(st, d->cache_path, "cache is not a private file of "
		    "this user (mode %o, owner %u)", (unsigned)(sb.st_mode &
		    07777), (unsigned)sb.st_uid);
		return PA_E_PERM;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return PA_E_NOMEM;
	}
	got = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (got != sb.st_size)
		goto bad;
	buf[got] = '\0';
	if ((rc = pol_dir_cache_parse(buf, (size_t)got, &p, &st->fetched,
	    st->policy_dn, sizeof(st->policy_dn), st->uri,
	    sizeof(st->uri))) != 0) {
		st_err(st, d->cache_path, rc == PA_E_VERIFY ? "cache integrity "
		    "check failed" : "cache is malformed");
		goto out;
	}
	hl = strlen(p);
	if ((rc = dir_ldif_read(p, hl, all, err, sizeof(err))) != 0) {
		st_err(st, d->cache_path, "cache: %s", err);
		goto out;
	}
	rc = 0;
	goto out;
bad:
	st_err(st, d->cache_path, "cache is malformed");
	rc = PA_E_FORMAT;
out:
	free(buf);
	return rc;
}

int
pol_dir_cache_parse(char *buf, size_t len, char **ldif, int64_t *fetched,
    char *policy_dn, size_t dncap, char *uri, size_t uricap)
{
	char *p = buf, *hex, *v, calc[65];

	*ldif = NULL;
	if (strlen(buf) != len || strncmp(p, CACHE_MAGIC,
	    strlen(CACHE_MAGIC)) != 0)
		return PA_E_FORMAT;
	p += strlen(CACHE_MAGIC);
	if ((hex = cache_line(&p, "sha256")) == NULL || strlen(hex) != 64)
		return PA_E_FORMAT;
	if (sha256_hex(p, strlen(p), calc) != 0 ||
	    CRYPTO_memcmp(calc, hex, 64) != 0)
		return PA_E_VERIFY;
	if ((v = cache_line(&p, "fetched")) == NULL)
		return PA_E_FORMAT;
	*fetched = strtoll(v, NULL, 10);
	if ((v = cache_line(&p, "policy")) == NULL)
		return PA_E_FORMAT;
	snprintf(policy_dn, dncap, "%s", v);
	if ((v = cache_line(&p, "uri")) == NULL || *p != '\n')
		return PA_E_FORMAT;
	snprintf(uri, uricap, "%s", v);
	*ldif = p + 1;
	return 0;
}

bool
pol_dir_cache_is(const char *text)
{
	return strncmp(text, CACHE_MAGIC, strlen(CACHE_MAGIC)) == 0;
}

/* ------------------------------------------------------------------ */
/* The poll                                                            */

/* The wait until the next scheduled poll: the policy's interval (0 means
 * the default), at least min_poll, plus this host's offset (st). */
static uint32_t
next_interval(struct pol_dir_source *d, const struct pol_store *s,
    struct pol_dir_status *st)
{
	uint32_t v = POL_DEFAULT_POLL_SEC;

	if (s != NULL && s->npolicies == 1 && s->policies[0].poll_sec != 0)
		v = s->policies[0].poll_sec;
	if (v < d->min_poll)
		v = d->min_poll;
	st->poll_offset_sec = pol_dir_poll_offset(d->sam_account != NULL ?
	    d->sam_account : d->computer_dn, v, d->spread);
	return v + st->poll_offset_sec;
}

/*
 * No domain policy in force yet (start) and none to be had from the
 * directory: apply the cached last good one, if any (outcome FROM_CACHE;
 * st->err keeps why the directory could not be used).
 */
static int
use_cache(struct pol_dir_source *d, struct pol_store **changed_out,
    struct pol_dir_status *st)
{
	struct dir_result *all = NULL;
	struct pol_dir_status cs;
	struct pol_gp_keep *keep;
	struct pol_store *s = NULL;
	int rc;

	if (d->in_force || d->cache_path == NULL)
		return 0;
	memset(&cs, 0, sizeof(cs));
	if ((rc = cache_read(d, &all, &cs)) != 0) {
		if (rc != PA_E_NOENT)
			log_warnx("directory policy cache: %s: %s",
			    cs.err.where, cs.err.what);
		return rc == PA_E_NOMEM ? rc : 0;
	}
	if ((keep = pol_gp_keep_new()) == NULL) {
		dir_result_free(all);
		return PA_E_NOMEM;
	}
	rc = pol_from_records(all, cs.policy_dn, &s, keep, &cs.err);
	if (rc == 0)
		rc = fingerprint(cs.policy_dn, all, d->fp);
	dir_result_free(all);
	if (rc != 0) {
		log_warnx("directory policy cache rejected: %s: %s",
		    cs.err.where, cs.err.what);
		pol_gp_keep_free(keep);
		pol_store_free(s);
		return rc == PA_E_NOMEM ? rc : 0;
	}
	pol_gp_keep_free(d->keep);
	d->keep = keep;
	d->in_force = true;
	d->from_cache = true;
	st->outcome = POL_DIR_FROM_CACHE;
	st->in_force = true;
	st->from_cache = true;
	snprintf(st->policy_dn, sizeof(st->policy_dn), "%s", cs.policy_dn);
	snprintf(st->uri, sizeof(st->uri), "%s", cs.uri);
	st->fetched = cs.fetched;
	if (s->policies[0].name != NULL)
		snprintf(st->policy_name, sizeof(st->policy_name), "%s",
		    s->policies[0].name);
	st->changed = s->policies[0].changed;
	d->cur = *st;
	*changed_out = s;
	return 0;
}

/* Failure to reach or read the directory: back off ([MS-GPIPSEC]
 * 3.2.5.4: min(166, (n + 1)^2) units, from 0) and, if no domain policy
 * is in force yet, fall back to the cache. */
static int
fail_unreachable(struct pol_dir_source *d, struct pol_store **changed_out,
    struct pol_dir_status *st)
{
	uint32_t b;

	b = (d->backoff_min + 1) * (d->backoff_min + 1);
	d->backoff_min = b > 166 ? 166 : b;
	st->outcome = POL_DIR_UNREACHABLE;
	st->next_poll_sec = d->backoff_min * d->backoff_unit;
	return use_cache(d, changed_out, st);
}

/* Copy what is in force into a status that has no news. */
static void
keep_current(struct pol_dir_source *d, struct pol_dir_status *st)
{
	st->in_force = d->in_force;
	st->from_cache = d->from_cache;
	if (!d->in_force)
		return;
	memcpy(st->policy_dn, d->cur.policy_dn, sizeof(st->policy_dn));
	memcpy(st->policy_name, d->cur.policy_name, sizeof(st->policy_name));
	memcpy(st->uri, d->cur.uri, sizeof(st->uri));
	if (st->gpo_dn[0] == '\0')
		memcpy(st->gpo_dn, d->cur.gpo_dn, sizeof(st->gpo_dn));
	st->fetched = d->cur.fetched;
	st->changed = d->cur.changed;
}

/* With a domain and no URIs: this poll's URIs from DNS SRV. */
static int
discover(struct pol_dir_source *d, char *eb, size_t ec)
{
	int rc;

	if (d->conn.domain == NULL)
		return 0;
	d->ldap.uris = NULL;
	d->ldap.nuris = 0;
	if ((rc = pol_dir_conn_now(&d->conn, &d->ldap, d->srv_uris,
	    d->srv_ptrs, eb, ec)) != 0)
		log_warnx("directory: %s", eb);
	return rc;
}

/* No GPO assigns a policy: local policy applies. */
static void
poll_unassigned(struct pol_dir_source *d, struct pol_dir_status *st)
{
	st->outcome = d->in_force ? POL_DIR_UNASSIGNED : POL_DIR_UNCHANGED;
	if (d->in_force && d->cache_path != NULL)
		(void)unlink(d->cache_path);
	d->in_force = false;
	d->from_cache = false;
	d->have_bad = false;
	memset(&d->cur, 0, sizeof(d->cur));
	pol_gp_keep_free(d->keep);
	d->keep = NULL;
	d->backoff_min = 0;
	st->next_poll_sec = next_interval(d, NULL, st);
}

/* The policy's stamps (fp) are those of the one in force or of one
 * rejected: nothing to read. */
static bool
poll_unchanged(struct pol_dir_source *d, const uint8_t *fp,
    struct pol_dir_status *st)
{
	if (!(d->in_force && !d->from_cache &&
	    memcmp(fp, d->fp, sizeof(d->fp)) == 0) &&
	    !(d->have_bad && memcmp(fp, d->bad_fp, sizeof(d->bad_fp)) == 0))
		return false;
	st->outcome = POL_DIR_UNCHANGED;
	keep_current(d, st);
	if (d->cur.next_poll_sec != 0) {
		st->next_poll_sec = d->cur.next_poll_sec;
		st->poll_offset_sec = d->cur.poll_offset_sec;
	} else
		st->next_poll_sec = next_interval(d, NULL, st);
	return true;
}

/* One bad object rejects the policy (stamps fp); the old one stays. */
static int
poll_rejected(struct pol_dir_source *d, const uint8_t *fp,
    struct pol_store **changed_out, struct pol_dir_status *st)
{
	int rc;

	log_warnx("directory policy rejected: %s: %s", st->err.where,
	    st->err.what);
	st->outcome = POL_DIR_REJECTED;
	d->have_bad = true;
	memcpy(d->bad_fp, fp, sizeof(d->bad_fp));
	st->policy_dn[0] = '\0';
	st->next_poll_sec = next_interval(d, NULL, st);
	/* At start the last good policy is the cached one. */
	if ((rc = use_cache(d, changed_out, st)) != 0)
		return rc;
	if (st->outcome == POL_DIR_REJECTED)
		keep_current(d, st);
	return 0;
}

/* The policy s read from all (stamps fp) is in force now; keep is d's. */
static void
poll_applied(struct pol_dir_source *d, const struct dir_result *all,
    const uint8_t *fp, const struct pol_store *s, struct pol_gp_keep *keep,
    struct pol_dir_status *st)
{
	st->fetched = pa_wall_s();
	st->changed = s->policies[0].changed;
	if (s->policies[0].name != NULL)
		snprintf(st->policy_name, sizeof(st->policy_name), "%s",
		    s->policies[0].name);
	st->outcome = POL_DIR_APPLIED;
	st->in_force = true;
	st->next_poll_sec = next_interval(d, s, st);
	if (cache_write(d, all, st) != 0)
		log_warnx("directory policy: cannot write the cache %s",
		    d->cache_path);
	memcpy(d->fp, fp, sizeof(d->fp));
	d->have_bad = false;
	d->in_force = true;
	d->from_cache = false;
	pol_gp_keep_free(d->keep);
	d->keep = keep;
	d->cur = *st;
}

int
pol_dir_poll(struct pol_dir_source *d, struct pol_store **changed_out,
    struct pol_dir_status *st)
{
	struct dir *c = NULL;
	struct dir_result *all = NULL;
	struct pol_store *s = NULL;
	struct pol_gp_keep *keep = NULL;
	char *policy_dn = NULL, *p, errbuf[1024];
	uint8_t fp[32];
	bool reached = false;
	size_t i;
	int rc;

	*changed_out = NULL;
	memset(st, 0, sizeof(*st));
	tg_clear(&d->tg_new);
	if ((rc = discover(d, errbuf, sizeof(errbuf))) != 0 ||
	    (rc = dir_open(&d->ldap, &c, errbuf, sizeof(errbuf))) != 0) {
		st_err(st, "directory", "%s", errbuf);
		rc = fail_unreachable(d, changed_out, st);
		if (st->outcome == POL_DIR_UNREACHABLE)
			keep_current(d, st);
		return rc == PA_E_NOMEM ? rc : 0;
	}
	if ((rc = find_assignment(d, c, &policy_dn, st)) != 0)
		goto unreachable;
	reached = true;
	if (policy_dn == NULL) {
		poll_unassigned(d, st);
		goto out;
	}
	snprintf(st->policy_dn, sizeof(st->policy_dn), "%s", policy_dn);
	snprintf(st->uri, sizeof(st->uri), "%s", dir_uri(c));
	/* First the graph without blobs: has anything changed? */
	if ((rc = fetch_graph(c, policy_dn, false, &all)) != 0) {
		st_err(st, policy_dn, "reading the policy: %s", dir_error(c));
		goto unreachable;
	}
	if ((rc = fingerprint(policy_dn, all, fp)) != 0)
		goto out;
	/* The containers of the policy's objects, to watch. */
	if ((p = dir_dn_parent(policy_dn)) != NULL)
		tg_add(&d->tg_new, p, true, TG_GRAPH);
	free(p);
	for (i = 0; i < all->n; i++) {
		if ((p = dir_dn_parent(all->recs[i].dn)) != NULL)
			tg_add(&d->tg_new, p, true, TG_GRAPH);
		free(p);
	}
	dir_result_free(all);
	all = NULL;
	d->backoff_min = 0;
	if (poll_unchanged(d, fp, st))
		goto out;
	if ((rc = fetch_graph(c, policy_dn, true, &all)) != 0) {
		st_err(st, policy_dn, "reading the policy: %s", dir_error(c));
		goto unreachable;
	}
	/* The stamps may have moved between the two reads. */
	if ((rc = fingerprint(policy_dn, all, fp)) != 0)
		goto out;
	if ((keep = pol_gp_keep_new()) == NULL) {
		rc = PA_E_NOMEM;
		goto out;
	}
	if ((rc = pol_from_records(all, policy_dn, &s, keep, &st->err)) != 0) {
		if (rc != PA_E_NOMEM)
			rc = poll_rejected(d, fp, changed_out, st);
		goto out;
	}
	poll_applied(d, all, fp, s, keep, st);
	keep = NULL;
	*changed_out = s;
	s = NULL;
	goto out;
unreachable:
	if (rc == PA_E_NOMEM)
		goto out;
	if (st->err.what[0] == '\0')
		st_err(st, dir_uri(c), "%s", dir_error(c));
	dir_close(c);
	c = NULL;
	rc = fail_unreachable(d, changed_out, st);
	if (st->outcome == POL_DIR_UNREACHABLE)
		keep_current(d, st);
out:
	if (reached && rc == 0 && st->outcome != POL_DIR_UNREACHABLE)
		tg_commit(d);
	pol_gp_keep_free(keep);
	pol_store_free(s);
	dir_result_free(all);
	free(policy_dn);
	dir_close(c);
	return rc == PA_E_NOMEM ? rc : 0;
}
