/*
 * Audit sinks: journald/syslog and the hash-chained JSON-lines file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <systemd/sd-journal.h>

#include "pa_buf.h"
#include "pa_log.h"
#include "pa_time.h"
#include "sinks.h"

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* Prefix of our MESSAGE_IDs; the last 4 hex digits are the event ID. */
#define MSGID_PREFIX	"5e1c0a9d7b2f4c3e8a61d04b97f3"
#define MAX_LINE	(1U << 20)

struct svc_sinks {
	enum svc_audit_sink	 kind;
	char			*path;
	uint64_t		 rotate_size;
	unsigned		 keep;
	int			 fd;
	uint64_t		 size;
	uint64_t		 seq;
	char			 prev[SVC_HASH_HEX];
	uint64_t		 errors;
};

void
svc_audit_message_id(enum audit_event ev, char out[33])
{
	snprintf(out, 33, "%s%04x", MSGID_PREFIX, (unsigned)ev & 0xffff);
}

static int
sha256_hex(const void *p, size_t len, char out[SVC_HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return PA_E_CRYPTO;
	pa_hex_encode(md, mdlen, out, SVC_HASH_HEX);
	return 0;
}

int
svc_audit_record_hash(void *record, char out[SVC_HASH_HEX])
{
	json_t *copy;
	char *text;
	int rc;

	if ((copy = json_copy((json_t *)record)) == NULL)
		return PA_E_NOMEM;
	json_object_del(copy, "hash");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);
	json_decref(copy);
	if (text == NULL)
		return PA_E_NOMEM;
	rc = sha256_hex(text, strlen(text), out);
	free(text);
	return rc;
}

static void
rotated_name(const char *path, unsigned k, char *out, size_t cap)
{
	if (k == 0)
		snprintf(out, cap, "%s", path);
	else
		snprintf(out, cap, "%s.%u", path, k);
}

/* Remember the last record of a file as the chain head, if it has one. */
static void
resume_from(struct svc_sinks *s, const char *file)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((f = fopen(file, "re")) == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *rec, *jseq, *jh;

		if ((rec = json_loadb(line, (size_t)n, 0, NULL)) == NULL)
			continue;
		jseq = json_object_get(rec, "seq");
		jh = json_object_get(rec, "hash");
		if (json_is_integer(jseq) && json_is_string(jh) &&
		    strlen(json_string_value(jh)) == SVC_HASH_HEX - 1) {
			s->seq = (uint64_t)json_integer_value(jseq);
			snprintf(s->prev, sizeof(s->prev), "%s",
			    json_string_value(jh));
		}
		json_decref(rec);
	}
	free(line);
	fclose(f);
}

static int
open_file(struct svc_sinks *s)
{
	struct stat sb;

	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd < 0)
		return PA_E_SYS;
	if (fstat(s->fd, &sb) != 0)
		return PA_E_SYS;
	s->size = (uint64_t)sb.st_size;
	return 0;
}

static int
rotate(struct svc_sinks *s)
{
	char from[SVC_PATH_MAX + 8], to[SVC_PATH_MAX + 8];
	unsigned k;

	if (fsync(s->fd) != 0)
		log_warn("audit: fsync %s", s->path);
	close(s->fd);
	s->fd = -1;
	rotated_name(s->path, s->keep, to, sizeof(to));
	(void)unlink(to);
	for (k = s->keep; k > 0; k--) {
		rotated_name(s->path, k - 1, from, sizeof(from));
		rotated_name(s->path, k, to, sizeof(to));
		if (rename(from, to) != 0 && errno != ENOENT)
			log_warn("audit: rename %s", from);
	}
	return open_file(s);
}

int
svc_sinks_new(const struct svc_sinks_cfg *cfg, struct svc_sinks **out,
    char *eb, size_t ec)
{
	struct svc_sinks *s;
	char r1[SVC_PATH_MAX + 8];

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PA_E_NOMEM;
	s->kind = cfg->kind;
	s->fd = -1;
	s->rotate_size = cfg->rotate_size;
	s->keep = cfg->keep > 0 ? cfg->keep : 1;
	snprintf(s->prev, sizeof(s->prev), "%s", ZERO_HASH);
	if (s->kind == SVC_SINK_SYSLOG)
		openlog("ipsec-agentd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	if (cfg->file != NULL && cfg->file[0] != '\0') {
		if ((s->path = strdup(cfg->file)) == NULL) {
			free(s);
			return PA_E_NOMEM;
		}
		/* The chain continues from the newest record on disk. */
		rotated_name(s->path, 1, r1, sizeof(r1));
		resume_from(s, r1);
		resume_from(s, s->path);
		if (open_file(s) != 0) {
			snprintf(eb, ec, "audit_file: %s: %s", s->path,
			    strerror(errno));
			svc_sinks_free(s);
			return PA_E_SYS;
		}
	}
	*out = s;
	return 0;
}

void
svc_sinks_free(struct svc_sinks *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0) {
		(void)fsync(s->fd);
		close(s->fd);
	}
	free(s->path);
	free(s);
}

uint64_t
svc_sinks_last_seq(const struct svc_sinks *s)
{
	return s->seq;
}

uint64_t
svc_sinks_errors(const struct svc_sinks *s)
{
	return s->errors;
}

/* KEY=value for journald: upper case, [A-Z0-9_] only. */
static void
journal_key(const char *k, char *out, size_t cap)
{
	size_t i, n = 0;

	n = (size_t)snprintf(out, cap, "IPSEC_");
	for (i = 0; k[i] != '\0' && n + 1 < cap; i++) {
		char c = k[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
}

static void
sink_journal(enum audit_event ev, const struct audit_field *f, size_t n)
{
	struct iovec iov[40];
	char bufs[40][1200], msgid[33], msg[1100];
	size_t i, k = 0, mlen;

	svc_audit_message_id(ev, msgid);
	mlen = (size_t)snprintf(msg, sizeof(msg), "MESSAGE=%s (%d)",
	    audit_event_name(ev), (int)ev);
	for (i = 0; i < n && mlen < sizeof(msg); i++)
		mlen += (size_t)snprintf(msg + mlen, sizeof(msg) - mlen,
		    "%s %s: %s", i == 0 ? ":" : ";", f[i].key, f[i].value);
	snprintf(bufs[k], sizeof(bufs[k]), "MESSAGE_ID=%s", msgid);
	snprintf(bufs[k + 1], sizeof(bufs[k]), "PRIORITY=%d", LOG_NOTICE);
	snprintf(bufs[k + 2], sizeof(bufs[k]), "IPSEC_EVENT_ID=%d", (int)ev);
	snprintf(bufs[k + 3], sizeof(bufs[k]), "IPSEC_EVENT=%s",
	    audit_event_name(ev));
	snprintf(bufs[k + 4], sizeof(bufs[k]), "%s", msg);
	k += 5;
	for (i = 0; i < n && k < 40; i++, k++) {
		char key[64];

		journal_key(f[i].key, key, sizeof(key));
		snprintf(bufs[k], sizeof(bufs[k]), "%s=%s", key, f[i].value);
	}
	for (i = 0; i < k; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = strlen(bufs[i]);
	}
	(void)sd_journal_sendv(iov, (int)k);
}

static void
sink_syslog(enum audit_event ev, const struct audit_field *f, size_t n)
{
	char msg[2048], msgid[33];
	size_t i, j, len;

	svc_audit_message_id(ev, msgid);
	len = (size_t)snprintf(msg, sizeof(msg), "event=%d name=%s msgid=%s",
	    (int)ev, audit_event_name(ev), msgid);
	for (i = 0; i < n && len + 8 < sizeof(msg); i++) {
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
		    " %s=\"", f[i].key);
		for (j = 0; f[i].value[j] != '\0' && len + 4 < sizeof(msg);
		    j++) {
			unsigned char c = (unsigned char)f[i].value[j];

			if (c == '"' || c == '\\')
				msg[len++] = '\\';
			msg[len++] = c < 0x20 ? ' ' : (char)c;
		}
		if (len + 2 < sizeof(msg))
			msg[len++] = '"';
		msg[len] = '\0';
	}
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", msg);
}

static void
iso_time(uint64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%.20s.%03uZ", base, (unsigned)(ms % 1000));
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
file_append(struct svc_sinks *s, enum audit_event ev,
    const struct audit_field *f, size_t n)
{
	json_t *rec = NULL, *fields = NULL;
	char *text = NULL, ts[40], hash[SVC_HASH_HEX];
	uint64_t ms = wall_ms();
	size_t i, len, off;
	int rc = PA_E_NOMEM;

	if ((fields = json_object()) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (json_object_set_new(fields, f[i].key,
		    json_string(f[i].value)) != 0)
			goto out;
	iso_time(ms, ts, sizeof(ts));
	rec = json_pack("{s:I,s:s,s:I,s:i,s:s,s:O,s:s}",
	    "seq", (json_int_t)(s->seq + 1), "time", ts, "ms", (json_int_t)ms,
	    "id", (int)ev, "event", audit_event_name(ev), "fields", fields,
	    "prev", s->prev);
	if (rec == NULL)
		goto out;
	if ((rc = svc_audit_record_hash(rec, hash)) != 0)
		goto out;
	rc = PA_E_NOMEM;
	if (json_object_set_new(rec, "hash", json_string(hash)) != 0)
		goto out;
	if ((text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII)) == NULL)
		goto out;
	len = strlen(text);
	text[len++] = '\n';	/* over the NUL: written by length */
	if (s->rotate_size != 0 && s->size > 0 &&
	    s->size + len > s->rotate_size && (rc = rotate(s)) != 0)
		goto out;
	for (off = 0; off < len; ) {
		ssize_t w = write(s->fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = PA_E_SYS;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(s->fd) != 0) {
		rc = PA_E_SYS;
		goto out;
	}
	s->size += len;
	s->seq++;
	memcpy(s->prev, hash, sizeof(s->prev));
	rc = 0;
out:
	free(text);
	json_decref(fields);
	json_decref(rec);
	return rc;
}

void
svc_sinks_emit(void *arg, enum audit_event ev, const struct audit_field *f,
    size_t n)
{
	struct svc_sinks *s = arg;

	if (s->kind == SVC_SINK_JOURNALD)
		sink_journal(ev, f, n);
	else if (s->kind == SVC_SINK_SYSLOG)
		sink_syslog(ev, f, n);
	if (s->fd >= 0 && file_append(s, ev, f, n) != 0) {
		s->errors++;
		log_warn("audit: writing %s failed (record %s)", s->path,
		    audit_event_name(ev));
	}
}
