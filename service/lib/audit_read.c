/*
 * Reading the hash-chained audit file: verification and queries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sinks.h"

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct rec_meta {
	uint64_t	seq;
	char		hash[SVC_HASH_HEX];
	char		prev[SVC_HASH_HEX];
	unsigned	file;		/* index into names */
	unsigned	line;
};

struct chain {
	struct rec_meta	*v;
	size_t		 n;
	size_t		 cap;
	char		 names[100][SVC_PATH_MAX + 8];
	unsigned	 nnames;
};

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

static void
rotated_name(const char *path, unsigned k, char *out, size_t cap)
{
	if (k == 0)
		snprintf(out, cap, "%s", path);
	else
		snprintf(out, cap, "%s.%u", path, k);
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
		m->seq = (uint64_t)json_integer_value(js);
		memcpy(m->hash, json_string_value(jh), SVC_HASH_HEX);
		memcpy(m->prev, json_string_value(jp), SVC_HASH_HEX);
		m->file = fi;
		m->line = lineno;
		json_decref(rec);
	}
out:
	free(line);
	fclose(f);
	return rc;
}

int
svc_audit_verify(const char *path, unsigned keep, uint64_t expect_last,
    struct svc_verify *out)
{
	struct chain *c;
	unsigned k;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PA_E_NOMEM;
	if (keep > 99)
		keep = 99;
	for (k = keep + 1; k-- > 0; ) {
		rotated_name(path, k, c->names[c->nnames], sizeof(c->names[0]));
		c->nnames++;
	}
	for (k = 0; k < c->nnames && out->ok; k++)
		if ((rc = read_file(c, k, out)) != 0)
			goto done;
	if (!out->ok)
		goto done;
	/* Order first: a swap is a reorder, not a removal. */
	for (i = 1; i < c->n; i++)
		if (c->v[i].seq <= c->v[i - 1].seq) {
			vfail(out, "%s:%u: REORDERED: record seq %llu comes "
			    "after seq %llu", c->names[c->v[i].file],
			    c->v[i].line, (unsigned long long)c->v[i].seq,
			    (unsigned long long)c->v[i - 1].seq);
			goto done;
		}
	for (i = 0; i < c->n; i++) {
		const struct rec_meta *m = &c->v[i], *p = i ? &c->v[i - 1] : NULL;

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
			goto done;
		}
		if (p != NULL && strcmp(m->prev, p->hash) != 0) {
			vfail(out, "%s:%u: ALTERED: record seq %llu (%s:%u) "
			    "was changed: the next record's chain link does "
			    "not match it", c->names[m->file], m->line,
			    (unsigned long long)p->seq, c->names[p->file],
			    p->line);
			goto done;
		}
		if (p == NULL && m->seq == 1 && strcmp(m->prev, ZERO_HASH) != 0) {
			vfail(out, "%s:%u: ALTERED: the first record has a "
			    "chain link", c->names[m->file], m->line);
			goto done;
		}
	}
	out->records = c->n;
	if (c->n > 0) {
		out->first_seq = c->v[0].seq;
		out->last_seq = c->v[c->n - 1].seq;
	}
	if (expect_last > out->last_seq) {
		if (out->last_seq + 1 == expect_last)
			vfail(out, "%s: REMOVED: the last record (seq %llu) "
			    "is missing", path, (unsigned long long)expect_last);
		else
			vfail(out, "%s: REMOVED: records seq %llu to %llu "
			    "are missing at the end", path,
			    (unsigned long long)(out->last_seq + 1),
			    (unsigned long long)expect_last);
		goto done;
	}
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
done:
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

		rotated_name(path, k, name, sizeof(name));
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
