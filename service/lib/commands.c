/*
 * The control command table and its handlers. Read-only commands answer
 * questions; privileged ones change something and are audited (5700) with
 * the caller's uid. A caller who is neither root nor in the admin group
 * is refused ("access denied") and audited (5701).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "daemon_int.h"
#include "pa_buf.h"
#include "pa_log.h"
#include "pa_time.h"
#include "crl.h"
#include "spd.h"
#include "static_cmd.h"
#include "stats_names.h"

#define CMD_RO		(1U << 0)	/* read-only */
#define CMD_PRIV	(1U << 1)	/* changes state: audited */

struct cmd_ctx {
	struct svc_daemon	*d;
	const struct svc_peer	*peer;
	json_t			*args;	/* borrowed */
	char			 detail[256];	/* for the 5700 record */
};

typedef json_t	*(*cmd_fn)(struct cmd_ctx *);

struct cmd {
	const char	*name;
	unsigned	 flags;
	cmd_fn		 fn;
	const char	*help;
};

void *
svc_reply_error(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:i,s:b,s:s,s:s}", "version", SVC_JSON_VERSION,
	    "ok", 0, "error", msg, "code", code);
}

static json_t *
reply_ok(json_t *result)
{
	if (result == NULL)
		return svc_reply_error("internal", "out of memory");
	return json_pack("{s:i,s:b,s:o}", "version", SVC_JSON_VERSION, "ok", 1,
	    "result", result);
}

/* Helpers for building results. */
static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static const char *
addr_kind_str(const struct pol_endpoint *e, char *buf, size_t cap)
{
	switch (e->kind) {
	case POL_ADDR_ANY:
		return "any";
	case POL_ADDR_ME:
		return "me";
	case POL_ADDR_DNS:
		return e->dns != NULL ? e->dns : "dns";
	default:
		return pa_prefix_str(&e->prefix, buf, cap);
	}
}

static const char *
proto_str(uint8_t p, char *buf, size_t cap)
{
	switch (p) {
	case 0:
		return "any";
	case POL_PROTO_ICMP:
		return "icmp";
	case POL_PROTO_TCP:
		return "tcp";
	case POL_PROTO_UDP:
		return "udp";
	case POL_PROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(buf, cap, "%u", p);
		return buf;
	}
}

static const char *
auth_str(enum pol_auth_kind k)
{
	switch (k) {
	case POL_AUTH_PSK:
		return "psk";
	case POL_AUTH_CERT:
		return "cert";
	case POL_AUTH_KERBEROS:
		return "kerberos";
	default:
		return "unknown";
	}
}

static json_t *
status_json(struct svc_daemon *d)
{
	struct agent_info in;
	json_t *o, *hist;
	size_t i;

	agent_get_info(d->agent, &in);
	if ((hist = json_array()) == NULL)
		return NULL;
	for (i = 0; i < d->nhist; i++)
		json_array_append_new(hist, json_pack("{s:s,s:I}", "state",
		    svc_state_name(d->hist[i].state), "time",
		    (json_int_t)d->hist[i].wall));
	o = json_pack("{s:s,s:i,s:I,s:I,s:i,s:s,s:o,s:s,s:I,s:I,s:b,s:s,"
	    "s:b,s:I,s:I,s:I,s:i,s:b,s:o}",
	    "state", svc_state_name(d->state),
	    "state_code", (int)d->state,
	    "uptime", (json_int_t)((pa_now_ms() - d->start_ms) / 1000),
	    "started", (json_int_t)d->start_wall,
	    "pid", (int)getpid(),
	    "policy_source", in.source,
	    "policy", jstr_or_null(in.policy_name),
	    "policy_guid", in.policy_name != NULL ? in.policy_guid : "",
	    "policy_changed", (json_int_t)in.policy_changed,
	    "policy_version", (json_int_t)in.generation,
	    "policy_pending", in.pending,
	    "driver", in.driver,
	    "ike", in.ike,
	    "filters", (json_int_t)in.filters,
	    "mmsas", (json_int_t)in.mmsas,
	    "qmsas", (json_int_t)in.qmsas,
	    "diagnostics", (int)agent_diagnostics(d->agent),
	    "oakley_log", d->olog != NULL,
	    "transitions", hist);
	if (o != NULL)
		json_object_set_new(o, "dynamic_rules",
		    json_integer((json_int_t)in.dynamic_rules));
	if (o != NULL && in.dir_outcome != NULL)
		json_object_set_new(o, "directory", json_pack(
		    "{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:s}", "last_poll",
		    in.dir_outcome,
		    "uri", in.dir_uri != NULL ? in.dir_uri : "",
		    "fetched", (json_int_t)in.dir_fetched,
		    "next_poll_sec", (json_int_t)in.dir_next_poll,
		    "polled_at", (json_int_t)in.dir_polled_at,
		    "last_success", (json_int_t)in.dir_ok_at,
		    "last_change", (json_int_t)in.dir_changed_at,
		    "notify", in.dir_notify != NULL ? in.dir_notify : "off",
		    "poll_offset_sec", (json_int_t)in.dir_poll_offset,
		    "poll_cause", in.dir_cause != NULL ? in.dir_cause :
		    "start"));
	return o;
}

static json_t *
cmd_status(struct cmd_ctx *c)
{
	return reply_ok(status_json(c->d));
}

static json_t *
rule_json(const struct pol_rule *r)
{
	json_t *o, *auth = json_array();
	char tb[PA_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < r->nauth && auth != NULL; i++)
		json_array_append_new(auth, json_string(auth_str(r->auth[i].kind)));
	o = json_pack("{s:o,s:o,s:o,s:b,s:b,s:o}",
	    "name", jstr_or_null(r->name),
	    "filterlist", jstr_or_null(r->filterlist != NULL ?
		r->filterlist->name : NULL),
	    "filteraction", jstr_or_null(r->filteraction != NULL ?
		r->filteraction->name : NULL),
	    "active", r->active,
	    "default_response", r->default_response,
	    "auth", auth);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "action", json_string(r->filteraction != NULL ?
	    pol_action_name(r->filteraction->action) : "none"));
	json_object_set_new(o, "tunnel", pa_addr_is_unset(&r->tunnel) ?
	    json_null() : json_string(pa_addr_str(&r->tunnel, tb, sizeof(tb))));
	return o;
}

static json_t *
dynrule_json(const struct agent_dyn_rule *r)
{
	char sb[PA_PREFIXSTRLEN], db[PA_PREFIXSTRLEN], pb[8],
	    tb[PA_ADDRSTRLEN];

	return json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s,s:b,s:b,s:o}",
	    "name", r->name,
	    "src", addr_kind_str(&r->src, sb, sizeof(sb)),
	    "dst", addr_kind_str(&r->dst, db, sizeof(db)),
	    "proto", proto_str(r->proto, pb, sizeof(pb)),
	    "sport", (int)r->sport, "dport", (int)r->dport,
	    "mirrored", r->mirrored,
	    "action", pol_action_name(r->action),
	    "inpass", r->inpass, "soft", r->soft,
	    "tunnel", pa_addr_is_unset(&r->tunnel) ? json_null() :
		json_string(pa_addr_str(&r->tunnel, tb, sizeof(tb))));
}

static json_t *
policy_json(struct svc_daemon *d)
{
	const struct pol_policy *p = agent_policy(d->agent);
	struct agent_info in;
	json_t *o, *rules, *dyn, *mm;
	char gb[PA_GUIDSTRLEN];
	size_t i;

	agent_get_info(d->agent, &in);
	rules = json_array();
	dyn = json_array();
	mm = json_array();
	if (rules == NULL || dyn == NULL || mm == NULL)
		goto fail;
	for (i = 0; p != NULL && i < p->nrules; i++)
		json_array_append_new(rules, rule_json(&p->rules[i]));
	for (i = 0; p != NULL && i < p->isakmp.nmethods; i++) {
		const struct pol_mm_method *m = &p->isakmp.methods[i];

		json_array_append_new(mm, json_pack("{s:s,s:s,s:i}",
		    "cipher", pol_mm_cipher_name(m->cipher),
		    "hash", pol_integ_name(m->hash),
		    "dh_group", (int)m->dh_group));
	}
	for (i = 0; i < agent_dynamic_count(d->agent); i++)
		json_array_append_new(dyn,
		    dynrule_json(agent_dynamic_at(d->agent, i)));
	o = json_pack("{s:s,s:I,s:o,s:s,s:o,s:I,s:I,s:b,s:o,s:o,s:o}",
	    "source", in.source,
	    "applied", (json_int_t)in.applied_at,
	    "name", jstr_or_null(p != NULL ? p->name : NULL),
	    "guid", p != NULL ? pa_guid_str(&p->id, gb) : "",
	    "description", jstr_or_null(p != NULL ? p->description : NULL),
	    "changed", (json_int_t)(p != NULL ? p->changed : 0),
	    "policy_version", (json_int_t)in.generation,
	    "pending", in.pending,
	    "mm_methods", mm,
	    "rules", rules,
	    "dynamic_rules", dyn);
	/* Everything the policy in force says, offers and lifetimes too. */
	if (o != NULL && p != NULL)
		json_object_set_new(o, "in_force",
		    svc_static_policy_in_force(p));
	if (o != NULL && in.dir_outcome != NULL) {
		json_object_set_new(o, "directory", json_pack(
		    "{s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:s}",
		    "outcome", in.dir_outcome,
		    "uri", in.dir_uri,
		    "fetched", (json_int_t)in.dir_fetched,
		    "next_poll_sec", (json_int_t)in.dir_next_poll,
		    "polled_at", (json_int_t)in.dir_polled_at,
		    "last_success", (json_int_t)in.dir_ok_at,
		    "last_change", (json_int_t)in.dir_changed_at,
		    "notify", in.dir_notify != NULL ? in.dir_notify : "off",
		    "poll_offset_sec", (json_int_t)in.dir_poll_offset,
		    "poll_cause", in.dir_cause != NULL ? in.dir_cause :
		    "start"));
	}
	return o;
fail:
	json_decref(rules);
	json_decref(dyn);
	json_decref(mm);
	return NULL;
}

static json_t *
cmd_show_policy(struct cmd_ctx *c)
{
	return reply_ok(policy_json(c->d));
}

static void
spd_to_json(const struct pol_spd *spd, json_t *arr)
{
	size_t i, n = spd != NULL ? pol_spd_count(spd) : 0;

	for (i = 0; i < n; i++) {
		const struct pol_spd_entry *e = pol_spd_entry_at(spd, i);
		char sb[PA_PREFIXSTRLEN], db[PA_PREFIXSTRLEN], pb[8],
		    tb[PA_ADDRSTRLEN], wb[160];

		json_array_append_new(arr, json_pack(
		    "{s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:s,s:b,s:b,s:o,s:o,s:b,s:I,"
		    "s:s}",
		    "index", (int)e->index,
		    "dir", e->dir == POL_DIR_OUT ? "out" : "in",
		    "src", pa_prefix_str(&e->src, sb, sizeof(sb)),
		    "dst", pa_prefix_str(&e->dst, db, sizeof(db)),
		    "proto", proto_str(e->proto, pb, sizeof(pb)),
		    "sport", (int)e->sport, "dport", (int)e->dport,
		    "action", pol_action_name(e->action),
		    "inpass", e->inpass, "soft", e->soft,
		    "tunnel", pa_addr_is_unset(&e->tunnel) ? json_null() :
			json_string(pa_addr_str(&e->tunnel, tb, sizeof(tb))),
		    "rule", jstr_or_null(e->rule != NULL ? e->rule->name : NULL),
		    "dynamic", e->dynamic,
		    "weight", (json_int_t)e->weight,
		    "why", pol_spd_explain(e, wb, sizeof(wb))));
	}
}

static json_t *
filters_json(struct svc_daemon *d)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	spd_to_json(agent_spd(d->agent), arr);
	return json_pack("{s:o}", "filters", arr);
}

static json_t *
cmd_show_filters(struct cmd_ctx *c)
{
	return reply_ok(filters_json(c->d));
}

/* Seconds from wall-clock time t to now, 0 if t is in the future. */
static json_int_t
since(uint64_t t)
{
	int64_t now = pa_wall_s();

	return now > 0 && (uint64_t)now > t ? (json_int_t)((uint64_t)now - t) :
	    0;
}

static void
mmsa_cb(void *arg, const struct ike_mmsa_info *m)
{
	char ci[17], cr[17], lb[PA_ADDRSTRLEN], pb[PA_ADDRSTRLEN];
	json_t *o;

	pa_hex_encode(m->cky_i, 8, ci, sizeof(ci));
	pa_hex_encode(m->cky_r, 8, cr, sizeof(cr));
	o = json_pack(
	    "{s:s,s:s,s:b,s:b,s:s,s:s,s:i,s:s,s:s,s:i,s:s,s:i,s:I,s:i,s:s}",
	    "cookie_i", ci, "cookie_r", cr, "initiator", m->initiator,
	    "established", m->established,
	    "local", pa_addr_str(&m->local, lb, sizeof(lb)),
	    "peer", pa_addr_str(&m->peer, pb, sizeof(pb)),
	    "peer_port", (int)m->peer_port,
	    "cipher", pol_mm_cipher_name((enum pol_mm_cipher)m->cipher),
	    "hash", pol_integ_name((enum pol_integ)m->hash),
	    "dh_group", (int)m->dh_group,
	    "auth", auth_str((enum pol_auth_kind)m->auth),
	    "life_sec", (int)m->life_sec, "created", (json_int_t)m->created,
	    "qm_count", (int)m->qm_count, "peer_id", m->peer_id);
	if (o == NULL)
		return;
	json_object_set_new(o, "age_sec", json_integer(since(m->created)));
	json_object_set_new(o, "expires_in_sec",
	    json_integer((json_int_t)m->expires_in));
	json_array_append_new(arg, o);
}

struct qmsa_walk {
	const struct agent	*agent;
	json_t			*arr;
};

/*
 * A Quick Mode SA pair's traffic (the driver's counters of its SA in and
 * its SA out), age (since the driver added the inbound SA, or since the
 * negotiation began if the driver does not say) and seconds to the soft
 * lifetime, when the initiator or responder rekeys (0 once due).
 */
static void
qmsa_traffic(const struct agent *a, const struct ike_qmsa_info *q, json_t *o)
{
	struct sa_stats in, out;
	uint64_t added, rekey_at;
	int64_t now = pa_wall_s();

	if (agent_qmsa_stats(a, q, true, &in) != 0)
		memset(&in, 0, sizeof(in));
	if (agent_qmsa_stats(a, q, false, &out) != 0)
		memset(&out, 0, sizeof(out));
	added = in.add_time != 0 ? in.add_time : q->created;
	rekey_at = added + q->soft_sec;
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)in.bytes));
	json_object_set_new(o, "bytes_out",
	    json_integer((json_int_t)out.bytes));
	json_object_set_new(o, "packets_in",
	    json_integer((json_int_t)in.packets));
	json_object_set_new(o, "packets_out",
	    json_integer((json_int_t)out.packets));
	json_object_set_new(o, "age_sec", json_integer(since(added)));
	json_object_set_new(o, "soft_sec", json_integer((json_int_t)q->soft_sec));
	json_object_set_new(o, "rekey_in_sec", json_integer(now > 0 &&
	    rekey_at > (uint64_t)now ? (json_int_t)(rekey_at - (uint64_t)now) :
	    0));
}

static void
qmsa_cb(void *arg, const struct ike_qmsa_info *q)
{
	struct qmsa_walk *w = arg;
	char lb[PA_ADDRSTRLEN], pb[PA_ADDRSTRLEN], sb[PA_PREFIXSTRLEN],
	    db[PA_PREFIXSTRLEN], xb[8];
	json_t *o;

	o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:b,s:b,s:s,s:s,s:s,s:i,"
	    "s:I,s:I,s:I,s:I,s:i,s:i,s:I}",
	    "local", pa_addr_str(&q->local, lb, sizeof(lb)),
	    "peer", pa_addr_str(&q->peer, pb, sizeof(pb)),
	    "src", pa_prefix_str(&q->src, sb, sizeof(sb)),
	    "dst", pa_prefix_str(&q->dst, db, sizeof(db)),
	    "proto", proto_str(q->proto, xb, sizeof(xb)),
	    "sport", (int)q->sport, "dport", (int)q->dport,
	    "tunnel", q->tunnel, "ah", q->ah, "esp", q->esp,
	    "esp_cipher", pol_esp_cipher_name((enum pol_esp_cipher)q->esp_cipher),
	    "esp_integ", pol_integ_name((enum pol_integ)q->esp_integ),
	    "ah_integ", pol_integ_name((enum pol_integ)q->ah_integ),
	    "pfs_group", (int)q->pfs_group,
	    "spi_in", (json_int_t)q->spi_in, "spi_out", (json_int_t)q->spi_out,
	    "ah_spi_in", (json_int_t)q->ah_spi_in,
	    "ah_spi_out", (json_int_t)q->ah_spi_out,
	    "life_sec", (int)q->life_sec, "life_kb", (int)q->life_kb,
	    "created", (json_int_t)q->created);
	if (o == NULL)
		return;
	qmsa_traffic(w->agent, q, o);
	json_array_append_new(w->arr, o);
}

static json_t *
mmsas_json(struct svc_daemon *d)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	agent_foreach_mmsa(d->agent, mmsa_cb, arr);
	return json_pack("{s:o}", "mmsas", arr);
}

static json_t *
qmsas_json(struct svc_daemon *d)
{
	struct qmsa_walk w;
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	w.agent = d->agent;
	w.arr = arr;
	agent_foreach_qmsa(d->agent, qmsa_cb, &w);
	return json_pack("{s:o}", "qmsas", arr);
}

static json_t *
cmd_show_mmsas(struct cmd_ctx *c)
{
	return reply_ok(mmsas_json(c->d));
}

static json_t *
cmd_show_qmsas(struct cmd_ctx *c)
{
	return reply_ok(qmsas_json(c->d));
}

static json_t *
stats_json(struct svc_daemon *d)
{
	struct agent_stats st;

	agent_get_stats(d->agent, &st);
	return svc_stats_json(&st, audit_emitted(d->audit),
	    audit_folded(d->audit), svc_sinks_errors(d->sinks));
}

static json_t *
cmd_show_stats(struct cmd_ctx *c)
{
	return reply_ok(stats_json(c->d));
}

/* Move member key of a result object into o; frees the result. */
static void
take_member(json_t *o, const char *key, json_t *result)
{
	json_t *m = json_object_get(result, key);

	json_object_set_new(o, key, m != NULL ? json_incref(m) : json_array());
	json_decref(result);
}

static json_t *
cmd_show_all(struct cmd_ctx *c)
{
	json_t *o = json_object();

	if (o == NULL)
		return reply_ok(NULL);
	json_object_set_new(o, "status", status_json(c->d));
	json_object_set_new(o, "policy", policy_json(c->d));
	take_member(o, "filters", filters_json(c->d));
	take_member(o, "mmsas", mmsas_json(c->d));
	take_member(o, "qmsas", qmsas_json(c->d));
	json_object_set_new(o, "stats", stats_json(c->d));
	return reply_ok(o);
}

struct ev_acc {
	json_t	*arr;
};

static void
ev_cb(void *arg, void *rec)
{
	struct ev_acc *a = arg;

	json_array_append(a->arr, rec);
}

static json_t *
cmd_events(struct cmd_ctx *c)
{
	struct svc_daemon *d = c->d;
	json_t *jid = json_object_get(c->args, "id");
	json_t *jsince = json_object_get(c->args, "since");
	json_t *jmax = json_object_get(c->args, "max");
	json_t *jver = json_object_get(c->args, "verify");
	json_t *jkey = json_object_get(c->args, "key");
	struct ev_acc acc;
	struct svc_verify v;
	json_int_t id = 0, since = 0, max = 0;

	if (d->cfg.audit_file[0] == '\0')
		return svc_reply_error("no-audit-file", "no audit_file is "
		    "configured");
	if ((jid != NULL && (!json_is_integer(jid) ||
	    (id = json_integer_value(jid)) < 0 || id > 65535)) ||
	    (jsince != NULL && (!json_is_integer(jsince) ||
	    (since = json_integer_value(jsince)) < 0)) ||
	    (jmax != NULL && (!json_is_integer(jmax) ||
	    (max = json_integer_value(jmax)) < 0 || max > 100000)) ||
	    (jver != NULL && !json_is_boolean(jver)) ||
	    (jkey != NULL && !json_is_string(jkey)))
		return svc_reply_error("bad-args", "events: id, since (ms), "
		    "max are non-negative integers, verify a boolean, key a "
		    "string");
	audit_flush(d->audit);
	if (json_is_true(jver)) {
		struct svc_verify_opts o = {
			.expect_last = svc_sinks_last_seq(d->sinks),
			.expect_head = svc_sinks_head(d->sinks),
			.key = json_string_value(jkey),
		};
		int vrc = svc_audit_verify(d->cfg.audit_file,
		    d->cfg.audit_rotate_keep, &o, &v);

		if (vrc == PA_E_FORMAT)
			return svc_reply_error("bad-args", "key: not a "
			    "verification key (pa-seal1-...)");
		if (vrc != 0)
			return svc_reply_error("internal", "verify failed to "
			    "run");
		return reply_ok(json_pack("{s:b,s:I,s:I,s:I,s:s,s:s}",
		    "ok", v.ok, "records", (json_int_t)v.records,
		    "first_seq", (json_int_t)v.first_seq,
		    "last_seq", (json_int_t)v.last_seq, "verdict", v.what,
		    "file", d->cfg.audit_file));
	}
	if ((acc.arr = json_array()) == NULL)
		return reply_ok(NULL);
	if (svc_audit_query(d->cfg.audit_file, d->cfg.audit_rotate_keep,
	    (int)id, since, (size_t)(max > 0 ? max : 1000), ev_cb, &acc) != 0) {
		json_decref(acc.arr);
		return svc_reply_error("internal", "query failed");
	}
	return reply_ok(json_pack("{s:o}", "events", acc.arr));
}

static json_t *
cmd_reload(struct cmd_ctx *c)
{
	char eb[1024];

	if (svc_reload(c->d, eb, sizeof(eb)) != 0)
		return svc_reply_error("reload-failed", "%s", eb);
	return reply_ok(status_json(c->d));
}

static json_t *
cmd_service_stop(struct cmd_ctx *c)
{
	char reason[128];
	json_t *v = json_object_get(c->args, "clear");
	bool clear = v != NULL && json_is_true(v);

	if (v != NULL && !json_is_boolean(v))
		return svc_reply_error("bad-args", "clear: a boolean");
	snprintf(reason, sizeof(reason), "service stopped by uid %u%s",
	    (unsigned)c->peer->uid, clear ? " in clear" : "");
	snprintf(c->detail, sizeof(c->detail), "%s", clear ? "clear" :
	    "fail-closed");
	svc_request_stop(c->d, reason, clear);
	return reply_ok(json_pack("{s:s}", "state",
	    svc_state_name(c->d->state)));
}

static json_t *
cmd_service_pause(struct cmd_ctx *c)
{
	struct svc_daemon *d = c->d;

	if (d->state == SVC_PAUSED)
		return reply_ok(json_pack("{s:s}", "state", "PAUSED"));
	if (d->state != SVC_RUNNING)
		return svc_reply_error("bad-state", "cannot pause in state %s",
		    svc_state_name(d->state));
	svc_set_state(d, SVC_PAUSE_PENDING);
	if (agent_pause(d->agent) != 0) {
		svc_set_state(d, SVC_RUNNING);
		return svc_reply_error("failed", "pause failed");
	}
	svc_set_state(d, SVC_PAUSED);
	return reply_ok(json_pack("{s:s}", "state", "PAUSED"));
}

static json_t *
cmd_service_continue(struct cmd_ctx *c)
{
	struct svc_daemon *d = c->d;
	struct pol_err perr;
	int rc;

	memset(&perr, 0, sizeof(perr));
	if (d->state == SVC_RUNNING)
		return reply_ok(json_pack("{s:s}", "state", "RUNNING"));
	if (d->state != SVC_PAUSED)
		return svc_reply_error("bad-state", "cannot continue in state "
		    "%s", svc_state_name(d->state));
	svc_set_state(d, SVC_CONTINUE_PENDING);
	rc = agent_continue(d->agent, &perr);
	svc_set_state(d, SVC_RUNNING);
	if (rc != 0)
		return svc_reply_error("policy-rejected", "running, but the "
		    "queued change was rejected (old policy kept): %s: %s",
		    perr.where, perr.what);
	return reply_ok(json_pack("{s:s}", "state", "RUNNING"));
}

static int
parse_endpoint(const char *s, struct pol_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (s == NULL || strcmp(s, "any") == 0) {
		e->kind = POL_ADDR_ANY;
		return 0;
	}
	if (strcmp(s, "me") == 0) {
		e->kind = POL_ADDR_ME;
		return 0;
	}
	if (pa_prefix_parse(s, &e->prefix) != 0)
		return PA_E_INVAL;
	e->kind = e->prefix.len == pa_addr_bits(e->prefix.addr.family) ?
	    POL_ADDR_HOST : POL_ADDR_SUBNET;
	return 0;
}

static int
parse_proto(const char *s, uint8_t *p)
{
	char *end;
	unsigned long v;

	if (s == NULL || strcmp(s, "any") == 0)
		*p = 0;
	else if (strcmp(s, "tcp") == 0)
		*p = POL_PROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*p = POL_PROTO_UDP;
	else if (strcmp(s, "icmp") == 0)
		*p = POL_PROTO_ICMP;
	else if (strcmp(s, "icmpv6") == 0)
		*p = POL_PROTO_ICMPV6;
	else {
		v = strtoul(s, &end, 10);
		if (*s == '\0' || *end != '\0' || v > 255)
			return PA_E_INVAL;
		*p = (uint8_t)v;
	}
	return 0;
}

static const char *
opt_str(json_t *args, const char *k)
{
	json_t *v = json_object_get(args, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The keys of `dynamic add rule` (control.h). */
const char *const svc_dynamic_keys[] = { "name", "src", "dst", "proto",
    "sport", "dport", "mirrored", "action", "inpass", "soft", "tunnel",
    "auth", "psk", NULL };

static json_t *
cmd_dynamic_add(struct cmd_ctx *c)
{
	const char *const *known = svc_dynamic_keys;
	struct agent_dyn_rule r;
	struct pol_err perr;
	const char *key, *s;
	json_t *v;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&perr, 0, sizeof(perr));
	json_object_foreach(c->args, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (known[i] == NULL)
			return svc_reply_error("bad-args", "dynamic add: "
			    "unknown parameter '%.40s'", key);
		if (strcmp(key, "sport") == 0 || strcmp(key, "dport") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 65535)
				return svc_reply_error("bad-args", "%s must be "
				    "0 to 65535", key);
		} else if (strcmp(key, "mirrored") == 0 ||
		    strcmp(key, "inpass") == 0 || strcmp(key, "soft") == 0) {
			if (!json_is_boolean(v))
				return svc_reply_error("bad-args", "%s must be "
				    "yes or no", key);
		} else if (!json_is_string(v))
			return svc_reply_error("bad-args", "%s must be text",
			    key);
	}
	s = opt_str(c->args, "name");
	if (s == NULL || strlen(s) >= sizeof(r.name))
		return svc_reply_error("bad-args", "dynamic add: a name of 1 "
		    "to 63 characters is required");
	snprintf(r.name, sizeof(r.name), "%s", s);
	if (parse_endpoint(opt_str(c->args, "src"), &r.src) != 0 ||
	    parse_endpoint(opt_str(c->args, "dst"), &r.dst) != 0)
		return svc_reply_error("bad-args", "src and dst must be any, "
		    "me, an address or a prefix");
	if (parse_proto(opt_str(c->args, "proto"), &r.proto) != 0)
		return svc_reply_error("bad-args", "proto must be any, tcp, "
		    "udp, icmp, icmpv6 or 0-255");
	r.sport = (uint16_t)json_integer_value(json_object_get(c->args, "sport"));
	r.dport = (uint16_t)json_integer_value(json_object_get(c->args, "dport"));
	r.mirrored = json_object_get(c->args, "mirrored") == NULL ||
	    json_is_true(json_object_get(c->args, "mirrored"));
	r.inpass = json_is_true(json_object_get(c->args, "inpass"));
	r.soft = json_is_true(json_object_get(c->args, "soft"));
	s = opt_str(c->args, "action");
	if (s == NULL || pol_action_parse(s, &r.action) != 0)
		return svc_reply_error("bad-args", "action must be permit, "
		    "block or negotiate");
	if ((s = opt_str(c->args, "tunnel")) != NULL &&
	    pa_addr_parse(s, &r.tunnel) != 0)
		return svc_reply_error("bad-args", "tunnel must be an address");
	s = opt_str(c->args, "auth");
	if (s == NULL || strcmp(s, "kerberos") == 0)
		r.auth = POL_AUTH_KERBEROS;
	else if (strcmp(s, "cert") == 0)
		r.auth = POL_AUTH_CERT;
	else if (strcmp(s, "psk") == 0) {
		const char *k = opt_str(c->args, "psk");

		r.auth = POL_AUTH_PSK;
		if (k == NULL || strlen(k) >= sizeof(r.psk_ref))
			return svc_reply_error("bad-args", "auth psk needs "
			    "psk=NAME (a key name in the secrets file)");
		snprintf(r.psk_ref, sizeof(r.psk_ref), "%s", k);
	} else
		return svc_reply_error("bad-args", "auth must be kerberos, "
		    "cert or psk");
	if ((rc = agent_dynamic_add(c->d->agent, &r, &perr)) != 0)
		return svc_reply_error(rc == PA_E_EXIST ? "exists" : "rejected",
		    "%s: %s", perr.where[0] ? perr.where : r.name,
		    perr.what[0] ? perr.what : pa_strerror(rc));
	snprintf(c->detail, sizeof(c->detail), "dynamic add rule %s", r.name);
	return reply_ok(json_pack("{s:s,s:b}", "added", r.name, "queued",
	    agent_paused(c->d->agent)));
}

static json_t *
cmd_dynamic_delete(struct cmd_ctx *c)
{
	const char *name = opt_str(c->args, "name");
	int rc;

	if (json_is_true(json_object_get(c->args, "all"))) {
		if ((rc = agent_dynamic_flush(c->d->agent)) != 0)
			return svc_reply_error("failed", "%s", pa_strerror(rc));
		snprintf(c->detail, sizeof(c->detail), "dynamic delete all");
		return reply_ok(json_pack("{s:s}", "deleted", "all"));
	}
	if (name == NULL)
		return svc_reply_error("bad-args", "dynamic delete: name or "
		    "all is required");
	if ((rc = agent_dynamic_del(c->d->agent, name)) != 0)
		return svc_reply_error(rc == PA_E_NOENT ? "not-found" :
		    "failed", "%s: %s", name, rc == PA_E_NOENT ?
		    "no dynamic rule of that name" : pa_strerror(rc));
	snprintf(c->detail, sizeof(c->detail), "dynamic delete rule %.60s",
	    name);
	return reply_ok(json_pack("{s:s}", "deleted", name));
}

static json_t *
cmd_dynamic_show(struct cmd_ctx *c)
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return reply_ok(NULL);
	for (i = 0; i < agent_dynamic_count(c->d->agent); i++)
		json_array_append_new(arr,
		    dynrule_json(agent_dynamic_at(c->d->agent, i)));
	return reply_ok(json_pack("{s:o}", "rules", arr));
}

static json_t *
cmd_set_diagnostics(struct cmd_ctx *c)
{
	json_t *v = json_object_get(c->args, "level");

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 7)
		return svc_reply_error("bad-args", "diagnostics level must be "
		    "0 to 7");
	c->d->cfg.diagnostics = (unsigned)json_integer_value(v);
	agent_set_diagnostics(c->d->agent, c->d->cfg.diagnostics);
	snprintf(c->detail, sizeof(c->detail), "set diagnostics %u",
	    c->d->cfg.diagnostics);
	return reply_ok(json_pack("{s:i}", "diagnostics",
	    (int)c->d->cfg.diagnostics));
}

static json_t *
cmd_set_oakleylog(struct cmd_ctx *c)
{
	json_t *v = json_object_get(c->args, "on");

	if (!json_is_boolean(v))
		return svc_reply_error("bad-args", "oakleylog needs on or off");
	if (svc_oakley_set(c->d, json_is_true(v)) != 0)
		return svc_reply_error("failed", "oakley log %s: cannot open",
		    c->d->cfg.oakley_log_path);
	snprintf(c->detail, sizeof(c->detail), "set oakleylog %s",
	    json_is_true(v) ? "on" : "off");
	return reply_ok(json_pack("{s:b,s:s}", "oakley_log", json_is_true(v),
	    "path", c->d->cfg.oakley_log_path));
}

/*
 * Troubleshooting keys (set keylog on|off): root only, whatever the admin
 * group may do; audited as 5700 like every privileged command.
 */
static json_t *
cmd_set_keylog(struct cmd_ctx *c)
{
	json_t *v = json_object_get(c->args, "on");
	char dir[SVC_PATH_MAX + 16];
	bool on;
	int rc;

	if (!json_is_boolean(v))
		return svc_reply_error("bad-args", "keylog needs on or off");
	on = json_is_true(v);
	snprintf(c->detail, sizeof(c->detail), "set keylog %s", on ? "on" :
	    "off");
	if (c->peer->uid != 0)
		return svc_reply_error("access-denied", "the keylog writes the "
		    "traffic keys: root only");
	snprintf(dir, sizeof(dir), "%s/keylog", c->d->cfg.state_dir);
	if ((rc = agent_set_keylog(c->d->agent, on ? dir : NULL)) != 0)
		return svc_reply_error("failed", "keylog %s: %s", dir,
		    rc == PA_E_STATE ? "IKE does not run" : strerror(errno));
	if (on)
		log_warnx("troubleshooting keys ON: the keys of new SAs go to "
		    "%s (set keylog off)", dir);
	else
		log_info("troubleshooting keys off");
	return reply_ok(json_pack("{s:b,s:s}", "keylog", on, "dir", dir));
}

/*
 * match: which entry of the SPD in force (the assigned policy, whatever
 * its source, and the dynamic rules) a packet meets; the packet comes
 * parsed (ipseccmd resolved dir= with this host's addresses).
 */
static json_t *
cmd_match(struct cmd_ctx *c)
{
	const char *src = json_string_value(json_object_get(c->args, "src"));
	const char *dst = json_string_value(json_object_get(c->args, "dst"));
	const char *dir = json_string_value(json_object_get(c->args, "dir"));
	json_t *pr = json_object_get(c->args, "proto");
	json_t *sp = json_object_get(c->args, "sport");
	json_t *dp = json_object_get(c->args, "dport");
	struct pol_pkt k;
	json_t *v;

	memset(&k, 0, sizeof(k));
	if (src == NULL || dst == NULL || dir == NULL ||
	    pa_addr_parse(src, &k.src) != 0 || pa_addr_parse(dst, &k.dst) != 0 ||
	    k.src.family != k.dst.family || !json_is_integer(pr) ||
	    !json_is_integer(sp) || !json_is_integer(dp) ||
	    json_integer_value(pr) < 0 || json_integer_value(pr) > 255 ||
	    json_integer_value(sp) < 0 || json_integer_value(sp) > 65535 ||
	    json_integer_value(dp) < 0 || json_integer_value(dp) > 65535 ||
	    (strcmp(dir, "out") != 0 && strcmp(dir, "in") != 0))
		return svc_reply_error("bad-args", "match needs src, dst (one "
		    "family), proto 0-255, sport, dport 0-65535, dir out|in");
	k.proto = (uint8_t)json_integer_value(pr);
	k.sport = (uint16_t)json_integer_value(sp);
	k.dport = (uint16_t)json_integer_value(dp);
	k.dir = strcmp(dir, "out") == 0 ? POL_DIR_OUT : POL_DIR_IN;
	if ((v = svc_static_match_view(agent_policy(c->d->agent),
	    agent_spd(c->d->agent), &k)) == NULL)
		return svc_reply_error("failed", "out of memory");
	json_object_set_new(v, "source", json_string("service"));
	return reply_ok(v);
}

/*
 * show pki: the CRL distribution points the agent knows (from peers'
 * certificates) with each one's CRL and fetch state, and the domain's
 * enterprise CAs it trusts (read from the directory).
 */
static json_t *
pki_cas_json(struct svc_daemon *d)
{
	static const char *const kind[] = { "root", "aia", "ntauth" };
	struct pa_bytes v[PKI_CAS_MAX];
	uint8_t kinds[PKI_CAS_MAX];
	json_t *a = json_array();
	size_t i, n = agent_domain_cas(d->agent, v, kinds, PKI_CAS_MAX);

	for (i = 0; i < n && a != NULL; i++) {
		const unsigned char *p = v[i].p;
		X509 *x = d2i_X509(NULL, &p, (long)v[i].len);
		char subj[512] = "";
		int days = 0, secs = 0;

		if (x == NULL)
			continue;
		X509_NAME_oneline(X509_get_subject_name(x), subj,
		    sizeof(subj));
		if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
			days = 0;
		json_array_append_new(a, json_pack("{s:s,s:i,s:s}", "subject",
		    subj, "expires_in_days", days, "kind", kinds[i] < 3 ?
		    kind[kinds[i]] : "aia"));
		X509_free(x);
	}
	ERR_clear_error();
	return a;
}

static json_t *
cmd_show_pki(struct cmd_ctx *c)
{
	json_t *crls = json_array();
	size_t i, n = agent_crl_count(c->d->agent);

	for (i = 0; i < n && crls != NULL; i++) {
		struct pki_crl_info in;

		agent_crl_info(c->d->agent, i, &in);
		json_array_append_new(crls, json_pack("{s:s,s:s,s:I,s:I,s:I,"
		    "s:I,s:i,s:s}", "uri", in.uri, "issuer", in.issuer,
		    "this_update", (json_int_t)in.this_update, "next_update",
		    (json_int_t)in.next_update, "revoked",
		    (json_int_t)in.revoked, "fetched", (json_int_t)in.fetched,
		    "failures", (int)in.failures, "last_error",
		    in.last_error != NULL ? in.last_error : ""));
	}
	return reply_ok(json_pack("{s:o,s:o}", "crls", crls, "domain_cas",
	    pki_cas_json(c->d)));
}

/* ---- diag: what only the daemon can see ---- */

static void
diag_add(json_t *arr, const char *name, const char *result,
    const char *detail)
{
	json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", name,
	    "result", result, "detail", detail));
}

static void
diag_policy(const struct agent_info *in, json_t *arr)
{
	char b[512];
	int64_t now = (int64_t)time(NULL);

	if (in->policy_name == NULL)
		snprintf(b, sizeof(b), "source %s: no policy assigned (only "
		    "dynamic rules apply)", in->source);
	else
		snprintf(b, sizeof(b), "source %s: \"%s\", applied %llds ago",
		    in->source, in->policy_name,
		    (long long)(now - in->applied_at));
	diag_add(arr, "policy", in->policy_name != NULL ? "pass" : "warn", b);
	if (in->dir_outcome == NULL)
		return;
	if (in->dir_ok_at != 0)
		snprintf(b, sizeof(b), "last poll %llds ago: %s (%s); last read "
		    "of the directory %llds ago; next poll in %us",
		    (long long)(now - in->dir_polled_at), in->dir_outcome,
		    in->dir_uri != NULL ? in->dir_uri : "no server",
		    (long long)(now - in->dir_ok_at), in->dir_next_poll);
	else
		snprintf(b, sizeof(b), "last poll %llds ago: %s; the directory "
		    "has not been read since the start; next poll in %us",
		    (long long)(now - in->dir_polled_at), in->dir_outcome,
		    in->dir_next_poll);
	diag_add(arr, "policy_poll", strcmp(in->dir_outcome, "unreachable") ==
	    0 || strcmp(in->dir_outcome, "rejected") == 0 ||
	    strcmp(in->dir_outcome, "from-cache") == 0 ? "fail" : "pass", b);
}

/*
 * Certificates: the trust anchors there are (ca_file, the domain's roots),
 * the domain's CAs that expired, the CRL points whose fetches fail.
 */
static void
diag_pki(struct svc_daemon *d, json_t *arr)
{
	struct pa_bytes v[PKI_CAS_MAX];
	uint8_t kinds[PKI_CAS_MAX];
	char b[512];
	size_t i, n, roots = 0, ims = 0, expired = 0, failing = 0, ncrl;
	int days, secs;

	if (d->cfg.cert_file[0] == '\0') {
		diag_add(arr, "pki", "skip", "no cert_file: no certificate "
		    "authentication");
		return;
	}
	n = agent_domain_cas(d->agent, v, kinds, PKI_CAS_MAX);
	for (i = 0; i < n; i++) {
		const unsigned char *p = v[i].p;
		X509 *x = d2i_X509(NULL, &p, (long)v[i].len);

		if (kinds[i] == PKI_CA_ROOT)
			roots++;
		else
			ims++;
		if (x != NULL && ASN1_TIME_diff(&days, &secs, NULL,
		    X509_get0_notAfter(x)) && (days < 0 || secs < 0))
			expired++;
		X509_free(x);
	}
	ERR_clear_error();
	ncrl = agent_crl_count(d->agent);
	for (i = 0; i < ncrl; i++) {
		struct pki_crl_info in;

		agent_crl_info(d->agent, i, &in);
		if (in.failures > 0)
			failing++;
	}
	snprintf(b, sizeof(b), "%s; %zu enterprise root(s) and %zu issuing "
	    "CA(s) from the directory, %zu expired; %zu CRL point(s), %zu "
	    "failing", d->cfg.ca_file[0] != '\0' ? "ca_file set" :
	    "no ca_file", roots, ims, expired, ncrl, failing);
	diag_add(arr, "pki", d->cfg.ca_file[0] == '\0' && roots == 0 ? "fail" :
	    expired > 0 || failing > 0 ? "warn" : "pass", b);
}

static json_t *
cmd_diag(struct cmd_ctx *c)
{
	struct svc_daemon *d = c->d;
	struct agent_info in;
	json_t *arr = json_array();
	char why[512];
	uint64_t errs;
	int rc;

	if (arr == NULL)
		return svc_reply_error("failed", "out of memory");
	agent_get_info(d->agent, &in);
	rc = agent_driver_check(d->agent, why, sizeof(why));
	diag_add(arr, "driver", rc == 0 ? "pass" : "fail", why);
	if (!d->cfg.ike)
		diag_add(arr, "ike", "skip", "ike = no in the configuration");
	else {
		snprintf(why, sizeof(why), "IKE %s on UDP %u%s", in.ike ?
		    "listens" : "is not running", d->cfg.ike_port != 0 ?
		    d->cfg.ike_port : 500, d->cfg.natt_port != 0xffff ?
		    " and its NAT-T port" : "");
		diag_add(arr, "ike", in.ike ? "pass" : "fail", why);
	}
	diag_policy(&in, arr);
	diag_pki(d, arr);
	errs = svc_sinks_errors(d->sinks);
	snprintf(why, sizeof(why), "%llu audit records could not be written",
	    (unsigned long long)errs);
	diag_add(arr, "audit_sinks", errs == 0 ? "pass" : "fail", why);
	return reply_ok(json_pack("{s:s,s:o}", "state",
	    svc_state_name(d->state), "checks", arr));
}

static const struct cmd cmds[] = {
	{ "status", CMD_RO, cmd_status, "service state, policy, driver, SAs" },
	{ "show.all", CMD_RO, cmd_show_all, "everything below" },
	{ "show.policy", CMD_RO, cmd_show_policy, "the policy in force" },
	{ "show.filters", CMD_RO, cmd_show_filters, "the compiled filters" },
	{ "show.mmsas", CMD_RO, cmd_show_mmsas, "Main Mode SAs" },
	{ "show.qmsas", CMD_RO, cmd_show_qmsas, "Quick Mode SAs" },
	{ "show.stats", CMD_RO, cmd_show_stats, "IKE and IPsec statistics" },
	{ "show.pki", CMD_RO, cmd_show_pki, "CRLs and the domain's CAs" },
	{ "events", CMD_RO, cmd_events, "query or verify the audit file" },
	{ "dynamic.show", CMD_RO, cmd_dynamic_show, "dynamic rules" },
	{ "service.stop", CMD_PRIV, cmd_service_stop, "stop the service" },
	{ "service.pause", CMD_PRIV, cmd_service_pause, "pause" },
	{ "service.continue", CMD_PRIV, cmd_service_continue, "continue" },
	{ "reload", CMD_PRIV, cmd_reload, "reload configuration and policy" },
	{ "dynamic.add", CMD_PRIV, cmd_dynamic_add, "add a dynamic rule" },
	{ "dynamic.delete", CMD_PRIV, cmd_dynamic_delete,
	    "delete a dynamic rule" },
	{ "set.diagnostics", CMD_PRIV, cmd_set_diagnostics,
	    "driver event level 0-7" },
	{ "set.oakleylog", CMD_PRIV, cmd_set_oakleylog, "Oakley log on/off" },
	{ "set.keylog", CMD_PRIV, cmd_set_keylog,
	    "troubleshooting keys on/off (root)" },
	{ "diag", CMD_RO, cmd_diag, "self-test of what the daemon holds" },
	{ "match", CMD_RO, cmd_match, "which SPD entry in force a packet "
	    "meets" },
};

void
svc_audit_ctl(struct svc_daemon *d, enum audit_event ev, uid_t uid,
    const char *cmd, const char *result)
{
	char ub[24];
	struct audit_field f[3];
	size_t n = 2;

	snprintf(ub, sizeof(ub), "%u", (unsigned)uid);
	f[0].key = "Uid";
	f[0].value = ub;
	f[1].key = "Command";
	f[1].value = cmd;
	if (result != NULL) {
		f[2].key = "Result";
		f[2].value = result;
		n = 3;
	}
	audit_emit(d->audit, ev, f, n);
}

void *
svc_command(struct svc_daemon *d, const struct svc_peer *peer,
    const struct svc_ctl_req *req)
{
	struct cmd_ctx c;
	const struct cmd *cmd = NULL;
	json_t *reply, *ok;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, req->cmd) == 0)
			cmd = &cmds[i];
	if (!peer->admin) {
		svc_audit_ctl(d, AUDIT_CTL_DENIED, peer->uid, req->cmd, NULL);
		log_warnx("control: access denied to uid %u (pid %ld) for %s",
		    (unsigned)peer->uid, (long)peer->pid, req->cmd);
		return svc_reply_error("access-denied", "access denied");
	}
	if (cmd == NULL)
		return svc_reply_error("unknown-command", "unknown command "
		    "'%s'", req->cmd);
	if (d->state == SVC_STOP_PENDING || d->state == SVC_STOPPED)
		return svc_reply_error("stopping", "the service is stopping");
	memset(&c, 0, sizeof(c));
	c.d = d;
	c.peer = peer;
	c.args = req->args;
	reply = cmd->fn(&c);
	if (cmd->flags & CMD_PRIV) {
		ok = json_object_get(reply, "ok");
		svc_audit_ctl(d, AUDIT_CTL_CHANGE, peer->uid, c.detail[0] ?
		    c.detail : cmd->name, json_is_true(ok) ? "success" :
		    json_string_value(json_object_get(reply, "error")) != NULL ?
		    json_string_value(json_object_get(reply, "error")) :
		    "failure");
	}
	return reply;
}

/* For the metrics textfile (metrics.c): what show.stats and show.qmsas
 * answer. */
void *
svc_stats_result(struct svc_daemon *d)
{
	return stats_json(d);
}

void *
svc_qmsas_result(struct svc_daemon *d)
{
	return qmsas_json(d);
}
