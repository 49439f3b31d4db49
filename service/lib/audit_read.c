/*
 * Reading the hash-chained audit file: verification and queries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "seal.h"
#include "sinks.h"


struct rec_meta {
	uint64_t	seq;
	char		hash[SVC_HASH_HEX];
	char		prev[SVC_HASH_HEX];
	unsigned	file;		/* index into names */
	unsigned	line;
	bool		sealed;		/* carries epoch and seal */
	uint64_t	epoch;
	char		seal[SVC_SEAL_HEX];
	int		id;		/* the event ID */
	int		close;		/* 0, CLOSE_NEXT, CLOSE_STOP */
	uint64_t	next;		/* CLOSE_NEXT: the epoch that follows */
};

#define CLOSE_NEXT	1
#define CLOSE_STOP	2

struct chain {
	struct rec_meta	*v;
	size_t		 n;
	size_t		 cap;
	char		 names[100][SVC_PATH_MAX + 8];
	unsigned	 nnames;
};

static uint64_t
wall_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
vfail(struct svc_verify *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
vfail(struct svc_verify *out, const char *fmt, ...)
{
	va_list ap;

	out->ok = false;
	va_start(ap, fmt);
	vsnprintf(out->what, sizeof(out->what), fmt, ap);
	va_end(ap);
}

static bool
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/*
 * The seal of a record, if it has one: its epoch and seal, and for the
 * record that ends an epoch, what follows. False: present but malformed.
 */
static bool
read_seal(json_t *rec, struct rec_meta *m)
{
	json_t *je = json_object_get(rec, "epoch");
	json_t *jsl = json_object_get(rec, "seal");
	json_t *jn;
	const char *nx;
	char *end;

	m->id = (int)json_integer_value(json_object_get(rec, "id"));
	if (je == NULL && jsl == NULL)
		return true;
	if (!json_is_integer(je) || json_integer_value(je) < 0 ||
	    !json_is_string(jsl) || !is_hex64(json_string_value(jsl)))
		return false;
	m->sealed = true;
	m->epoch = (uint64_t)json_integer_value(je);
	memcpy(m->seal, json_string_value(jsl), SVC_SEAL_HEX);
	if (json_integer_value(json_object_get(rec, "id")) != AUDIT_SEALED)
		return true;
	jn = json_object_get(json_object_get(rec, "fields"), "Next Epoch");
	if (!json_is_string(jn))
		return false;
	nx = json_string_value(jn);
	if (strcmp(nx, "stopped") == 0) {
		m->close = CLOSE_STOP;
		return true;
	}
	if (*nx < '0' || *nx > '9')
		return false;
	errno = 0;
	m->next = strtoull(nx, &end, 10);
	if (errno != 0 || *end != '\0' || m->next <= m->epoch)
		return false;
	m->close = CLOSE_NEXT;
	return true;
}

/* Read one file's records into c; a bad record fails with where/what. */
static int
read_file(struct chain *c, unsigned fi, struct svc_verify *out)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = 0;

	if ((f = fopen(c->names[fi], "re")) == NULL)
		return errno == ENOENT ? 0 : PA_E_SYS;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *rec, *js, *jh, *jp;
		struct rec_meta *m;
		char calc[SVC_HASH_HEX];

		lineno++;
		rec = json_loadb(line, (size_t)n, 0, NULL);
		js = json_object_get(rec, "seq");
		jh = json_object_get(rec, "hash");
		jp = json_object_get(rec, "prev");
		if (rec == NULL || !json_is_integer(js) ||
		    json_integer_value(js) < 1 || !json_is_string(jh) ||
		    !json_is_string(jp) || !is_hex64(json_string_value(jh)) ||
		    !is_hex64(json_string_value(jp))) {
			json_decref(rec);
			vfail(out, "%s:%u: ALTERED: not a well-formed audit "
			    "record", c->names[fi], lineno);
			goto out;
		}
		if (svc_audit_record_hash(rec, calc) != 0) {
			json_decref(rec);
			rc = PA_E_NOMEM;
			goto out;
		}
		if (strcmp(calc, json_string_value(jh)) != 0) {
			vfail(out, "%s:%u: ALTERED: record seq %lld does not "
			    "match its hash", c->names[fi], lineno,
			    (long long)json_integer_value(js));
			json_decref(rec);
			goto out;
		}
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 256;
			struct rec_meta *v = realloc(c->v, nc * sizeof(*v));

			if (v == NULL) {
				json_decref(rec);
				rc = PA_E_NOMEM;
				goto out;
			}
			c->v = v;
			c->cap = nc;
		}
		m = &c->v[c->n++];
		memset(m, 0, sizeof(*m));
		m->seq = (uint64_t)json_integer_value(js);
		memcpy(m->hash, json_string_value(jh), SVC_HASH_HEX);
		memcpy(m->prev, json_string_value(jp), SVC_HASH_HEX);
		m->file = fi;
		m->line = lineno;
		if (!read_seal(rec, m)) {
			vfail(out, "%s:%u: ALTERED: record seq %llu has a "
			    "malformed seal", c->names[fi], lineno,
			    (unsigned long long)m->seq);
			json_decref(rec);
			goto out;
		}
		json_decref(rec);
	}
out:
	free(line);
	fclose(f);
	return rc;
}

static void
epoch_end_text(const struct svc_seal_vkey *k, uint64_t e, char *out,
    size_t cap)
{
	time_t t = (time_t)(k->start_s + (e + 1) * k->interval_s);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Where check_seals() is in the chain. */
struct seal_walk {
	const struct svc_seal_vkey *k;
	const struct rec_meta	*first;	/* the first sealed record */
	const struct rec_meta	*ps;	/* the sealed record before */
	uint64_t		 e_now;	/* the epoch now */
	uint64_t		 kep;	/* the epoch key is of */
	uint8_t			 key[SVC_SEAL_KEY_LEN];
};

/* One record m (of file f) after sealing began, as check_seals() says. */
static bool
seal_ok(struct seal_walk *w, const struct rec_meta *m, const char *f,
    struct svc_verify *out)
{
	const struct rec_meta *first = w->first;
	char mac[SVC_SEAL_HEX];

	if (!m->sealed) {
		vfail(out, "%s:%u: ALTERED: record seq %llu is "
		    "not sealed, although sealing began at seq "
		    "%llu", f, m->line,
		    (unsigned long long)m->seq,
		    (unsigned long long)first->seq);
		return false;
	}
	if (m->id == AUDIT_CHAIN_BROKEN) {
		vfail(out, "%s:%u: REMOVED: at seq %llu the service "
		    "found its chain did not reach what it had sealed "
		    "(records removed or the file replaced while it "
		    "was stopped)", f, m->line,
		    (unsigned long long)m->seq);
		return false;
	}
	if (m->epoch > w->e_now + 1) {
		vfail(out, "%s:%u: ALTERED: record seq %llu is sealed "
		    "in epoch %llu, which has not begun (now %llu)", f,
		    m->line, (unsigned long long)m->seq,
		    (unsigned long long)m->epoch,
		    (unsigned long long)w->e_now);
		return false;
	}
	if (w->ps != NULL && m->epoch < w->ps->epoch) {
		vfail(out, "%s:%u: ALTERED: record seq %llu is sealed "
		    "in epoch %llu, before the record ahead of it "
		    "(epoch %llu)", f, m->line,
		    (unsigned long long)m->seq,
		    (unsigned long long)m->epoch,
		    (unsigned long long)w->ps->epoch);
		return false;
	}
	if (w->ps != NULL && m->epoch == w->ps->epoch && w->ps->close != 0) {
		vfail(out, "%s:%u: ALTERED: record seq %llu follows the "
		    "seal of its own epoch %llu", f, m->line,
		    (unsigned long long)m->seq,
		    (unsigned long long)m->epoch);
		return false;
	}
	if (w->ps != NULL && m->epoch > w->ps->epoch && w->ps->close == 0) {
		vfail(out, "%s:%u: REMOVED: epoch %llu has no seal "
		    "record: records after seq %llu were removed or "
		    "replaced (the next record, seq %llu, is sealed in "
		    "epoch %llu)", f, m->line,
		    (unsigned long long)w->ps->epoch,
		    (unsigned long long)w->ps->seq,
		    (unsigned long long)m->seq,
		    (unsigned long long)m->epoch);
		return false;
	}
	if (w->ps != NULL && m->epoch > w->ps->epoch &&
	    w->ps->close == CLOSE_NEXT && w->ps->next != m->epoch) {
		vfail(out, "%s:%u: REMOVED: the seal of epoch %llu "
		    "names epoch %llu as the next, but record seq %llu "
		    "is sealed in epoch %llu: records were removed",
		    f, m->line, (unsigned long long)w->ps->epoch,
		    (unsigned long long)w->ps->next,
		    (unsigned long long)m->seq,
		    (unsigned long long)m->epoch);
		return false;
	}
	if (svc_seal_key_at(w->k, m->epoch, w->key, &w->kep) != 0 ||
	    svc_seal_mac(w->key, m->hash, mac) != 0) {
		vfail(out, "%s:%u: cannot compute the seal", f,
		    m->line);
		return false;
	}
	if (CRYPTO_memcmp(mac, m->seal, 64) != 0) {
		vfail(out, "%s:%u: ALTERED: record seq %llu does not "
		    "carry a valid seal of epoch %llu: it was written "
		    "or rewritten without that epoch's key", f,
		    m->line, (unsigned long long)m->seq,
		    (unsigned long long)m->epoch);
		return false;
	}
	return true;
}

/* After the last record: the newest epoch is sealed or still running. */
static bool
seal_end_ok(const struct chain *c, const struct seal_walk *w,
    uint64_t now_ms, struct svc_verify *out)
{
	char when[32];

	if (w->ps == NULL) {
		epoch_end_text(w->k, 0, when, sizeof(when));
		if (w->e_now == 0) {
			snprintf(out->seal_note, sizeof(out->seal_note),
			    "no sealed record yet");
			return true;
		}
		vfail(out, "%s: REMOVED: no record is sealed, although the "
		    "key's first epoch ended at %s: the sealed records were "
		    "removed, or the service has not started since sealing "
		    "was set up", c->names[c->nnames - 1], when);
		return false;
	}
	if (w->ps->close != CLOSE_STOP) {
		uint64_t open_e = w->ps->close == CLOSE_NEXT ? w->ps->next :
		    w->ps->epoch;
		uint64_t grace = svc_seal_epoch_of(w->k->start_s,
		    w->k->interval_s, now_ms > 120000 ? now_ms - 120000 : 0);

		if (grace > open_e) {
			epoch_end_text(w->k, open_e, when, sizeof(when));
			vfail(out, "%s:%u: REMOVED: the chain ends in epoch "
			    "%llu (it ended at %s) without its seal: records "
			    "after seq %llu were removed, or the service died "
			    "and has not run since", c->names[w->ps->file],
			    w->ps->line, (unsigned long long)open_e, when,
			    (unsigned long long)w->ps->seq);
			return false;
		}
	}
	snprintf(out->seal_note, sizeof(out->seal_note), "seals valid from "
	    "seq %llu (epochs %llu to %llu)%s",
	    (unsigned long long)w->first->seq,
	    (unsigned long long)w->first->epoch,
	    (unsigned long long)w->ps->epoch, w->ps->close == CLOSE_STOP ? ", "
	    "sealed at the stop" : "");
	return true;
}

/*
 * With the verification key: every record from the first sealed one on is
 * sealed with the key of its epoch, epochs never go back, and an epoch
 * ends only in its seal record, which names the epoch that follows (or
 * the stop). The newest epoch must be sealed, or still be running.
 */
static bool
check_seals(struct chain *c, const struct svc_seal_vkey *k, uint64_t now_ms,
    struct svc_verify *out)
{
	struct seal_walk w;
	bool ok = false;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.k = k;
	w.kep = UINT64_MAX;
	w.e_now = svc_seal_epoch_of(k->start_s, k->interval_s, now_ms);
	for (i = 0; i < c->n; i++) {
		const struct rec_meta *m = &c->v[i];

		if (!m->sealed && w.first == NULL)
			continue;
		if (w.first == NULL)
			w.first = m;
		if (!seal_ok(&w, m, c->names[m->file], out))
			goto out;
		w.ps = m;
	}
	ok = seal_end_ok(c, &w, now_ms, out);
out:
	OPENSSL_cleanse(w.key, sizeof(w.key));
	return ok;
}

/* The chain: in order, no record missing, each linked to the one before. */
static bool
chain_ok(const struct chain *c, struct svc_verify *out)
{
	size_t i;

	/* Order first: a swap is a reorder, not a removal. */
	for (i = 1; i < c->n; i++)
		if (c->v[i].seq <= c->v[i - 1].seq) {
			vfail(out, "%s:%u: REORDERED: record seq %llu comes "
			    "after seq %llu", c->names[c->v[i].file],
			    c->v[i].line, (unsigned long long)c->v[i].seq,
			    (unsigned long long)c->v[i - 1].seq);
			return false;
		}
	for (i = 0; i < c->n; i++) {
		const struct rec_meta *m = &c->v[i],
		    *p = i ? &c->v[i - 1] : NULL;

		if (p != NULL && m->seq != p->seq + 1) {
			if (m->seq == p->seq + 2)
				vfail(out, "%s:%u: REMOVED: record seq %llu is "
				    "missing before this record",
				    c->names[m->file], m->line,
				    (unsigned long long)(p->seq + 1));
			else
				vfail(out, "%s:%u: REMOVED: records seq "
				    "%llu to %llu are missing before this "
				    "record", c->names[m->file], m->line,
				    (unsigned long long)(p->seq + 1),
				    (unsigned long long)(m->seq - 1));
			return false;
		}
		if (p != NULL && strcmp(m->prev, p->hash) != 0) {
			vfail(out, "%s:%u: ALTERED: record seq %llu (%s:%u) "
			    "was changed: the next record's chain link does "
			    "not match it", c->names[m->file], m->line,
			    (unsigned long long)p->seq, c->names[p->file],
			    p->line);
			return false;
		}
		if (p == NULL && m->seq == 1 &&
		    strcmp(m->prev, SVC_ZERO_HASH) != 0) {
			vfail(out, "%s:%u: ALTERED: the first record has a "
			    "chain link", c->names[m->file], m->line);
			return false;
		}
	}
	return true;
}

/* What the service last wrote (expect_last, expect_head) is there. */
static bool
chain_end_ok(const struct chain *c, const char *path,
    const struct svc_verify_opts *o, struct svc_verify *out)
{
	uint64_t expect_last = o->expect_last;

	if (expect_last > out->last_seq) {
		if (out->last_seq + 1 == expect_last)
			vfail(out, "%s: REMOVED: the last record (seq %llu) "
			    "is missing", path,
			    (unsigned long long)expect_last);
		else
			vfail(out, "%s: REMOVED: records seq %llu to %llu "
			    "are missing at the end", path,
			    (unsigned long long)(out->last_seq + 1),
			    (unsigned long long)expect_last);
		return false;
	}
	if (o->expect_head != NULL && c->n > 0 &&
	    c->v[c->n - 1].seq == expect_last &&
	    strcmp(c->v[c->n - 1].hash, o->expect_head) != 0) {
		vfail(out, "%s:%u: ALTERED: the last record (seq %llu) is not "
		    "the one the service wrote: the file was rewritten",
		    c->names[c->v[c->n - 1].file], c->v[c->n - 1].line,
		    (unsigned long long)expect_last);
		return false;
	}
	return true;
}

/* out->what for a chain that verified. */
static void
verify_text(const struct chain *c, const struct svc_verify_opts *o,
    struct svc_verify *out)
{
	if (c->n == 0)
		snprintf(out->what, sizeof(out->what), "no records");
	else if (out->first_seq == 1)
		snprintf(out->what, sizeof(out->what), "OK: %llu records, "
		    "seq 1 to %llu, chain intact", (unsigned long long)c->n,
		    (unsigned long long)out->last_seq);
	else
		snprintf(out->what, sizeof(out->what), "OK: %llu records, "
		    "seq %llu to %llu, chain intact (older records rotated "
		    "away)", (unsigned long long)c->n,
		    (unsigned long long)out->first_seq,
		    (unsigned long long)out->last_seq);
	if (o->key != NULL && c->n > 0) {
		size_t len = strlen(out->what);

		snprintf(out->what + len, sizeof(out->what) - len, ", %s",
		    out->seal_note);
	}
}

int
svc_audit_verify(const char *path, unsigned keep,
    const struct svc_verify_opts *o, struct svc_verify *out)
{
	struct svc_seal_vkey vk;
	struct chain *c;
	uint64_t now_ms = o->now_ms != 0 ? o->now_ms : wall_ms_now();
	unsigned k;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	if (o->key != NULL && svc_seal_vkey_parse(o->key, &vk) != 0)
		return PA_E_FORMAT;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		OPENSSL_cleanse(&vk, sizeof(vk));
		return PA_E_NOMEM;
	}
	if (keep > 99)
		keep = 99;
	for (k = keep + 1; k-- > 0; ) {
		svc_audit_rotated_name(path, k, c->names[c->nnames],
		    sizeof(c->names[0]));
		c->nnames++;
	}
	for (k = 0; k < c->nnames && out->ok; k++)
		if ((rc = read_file(c, k, out)) != 0)
			goto done;
	if (!out->ok)
		goto done;
	if (!chain_ok(c, out))
		goto done;
	out->records = c->n;
	if (c->n > 0) {
		out->first_seq = c->v[0].seq;
		out->last_seq = c->v[c->n - 1].seq;
	}
	if (!chain_end_ok(c, path, o, out))
		goto done;
	if (o->key != NULL && !check_seals(c, &vk, now_ms, out))
		goto done;
	verify_text(c, o, out);
done:
	OPENSSL_cleanse(&vk, sizeof(vk));
	free(c->v);
	free(c);
	return rc;
}

int
svc_audit_query(const char *path, unsigned keep, int id, int64_t since_ms,
    size_t max, void (*fn)(void *, void *), void *arg)
{
	json_t *all;
	char name[SVC_PATH_MAX + 8];
	unsigned k;
	size_t i, start;

	if ((all = json_array()) == NULL)
		return PA_E_NOMEM;
	if (keep > 99)
		keep = 99;
	for (k = keep + 1; k-- > 0; ) {
		FILE *f;
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		svc_audit_rotated_name(path, k, name, sizeof(name));
		if ((f = fopen(name, "re")) == NULL)
			continue;
		while ((n = getline(&line, &cap, f)) > 0) {
			json_t *rec = json_loadb(line, (size_t)n, 0, NULL);
			json_t *jid = json_object_get(rec, "id");
			json_t *jms = json_object_get(rec, "ms");

			if (rec == NULL || !json_is_integer(jid) ||
			    !json_is_integer(jms) ||
			    (id != 0 && json_integer_value(jid) != id) ||
			    json_integer_value(jms) < since_ms) {
				json_decref(rec);
				continue;
			}
			if (json_array_append_new(all, rec) != 0)
				break;
		}
		free(line);
		fclose(f);
	}
	start = max > 0 && json_array_size(all) > max ?
	    json_array_size(all) - max : 0;
	for (i = start; i < json_array_size(all); i++)
		fn(arg, json_array_get(all, i));
	json_decref(all);
	return 0;
}
