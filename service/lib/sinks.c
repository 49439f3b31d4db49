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
#include "seal.h"
#include "sinks.h"

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
	/* Forward-secure sealing, when its state file exists. */
	bool			 sealing;
	struct svc_seal		 seal;
	/* The newest record on disk: its epoch, and whether it seals one. */
	bool			 last_sealed;
	uint64_t		 last_epoch;
	int			 last_close;	/* 0, CLOSE_NEXT or CLOSE_STOP */
	/* Seen while resuming: the record last sealed, the oldest seq. */
	bool			 sealed_seen;
	uint64_t		 min_seq;
	uint64_t		(*clock)(void);
};

#define CLOSE_NEXT	1
#define CLOSE_STOP	2

static uint64_t	wall_ms(void);
static int	file_append(struct svc_sinks *, enum audit_event,
		    const struct audit_field *, size_t);
static void	sink_system(struct svc_sinks *, enum audit_event,
		    const struct audit_field *, size_t);
static int	seal_close(struct svc_sinks *, uint64_t next, bool stop,
		    const char *reason);
static void	seal_start(struct svc_sinks *, bool sealed_seen,
		    uint64_t min_seq);

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
	json_object_del(copy, "seal");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);
	json_decref(copy);
	if (text == NULL)
		return PA_E_NOMEM;
	rc = sha256_hex(text, strlen(text), out);
	free(text);
	return rc;
}

void
svc_audit_rotated_name(const char *path, unsigned k, char *out, size_t cap)
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
			json_t *je = json_object_get(rec, "epoch");
			json_t *jn = json_object_get(json_object_get(rec,
			    "fields"), "Next Epoch");

			s->seq = (uint64_t)json_integer_value(jseq);
			snprintf(s->prev, sizeof(s->prev), "%s",
			    json_string_value(jh));
			if (s->min_seq == 0 || s->seq < s->min_seq)
				s->min_seq = s->seq;
			if (s->sealing && s->seq == s->seal.sealed_seq &&
			    strcmp(s->prev, s->seal.sealed_hash) == 0)
				s->sealed_seen = true;
			s->last_sealed = json_is_integer(je) &&
			    json_is_string(json_object_get(rec, "seal"));
			s->last_epoch = s->last_sealed ?
			    (uint64_t)json_integer_value(je) : 0;
			s->last_close = 0;
			if (s->last_sealed && json_integer_value(json_object_get(
			    rec, "id")) == AUDIT_SEALED && json_is_string(jn))
				s->last_close = strcmp(json_string_value(jn),
				    "stopped") == 0 ? CLOSE_STOP : CLOSE_NEXT;
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
	svc_audit_rotated_name(s->path, s->keep, to, sizeof(to));
	(void)unlink(to);
	for (k = s->keep; k > 0; k--) {
		svc_audit_rotated_name(s->path, k - 1, from, sizeof(from));
		svc_audit_rotated_name(s->path, k, to, sizeof(to));
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
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PA_E_NOMEM;
	s->kind = cfg->kind;
	s->fd = -1;
	s->clock = cfg->clock != NULL ? cfg->clock : wall_ms;
	s->rotate_size = cfg->rotate_size;
	s->keep = cfg->keep > 0 ? cfg->keep : 1;
	snprintf(s->prev, sizeof(s->prev), "%s", SVC_ZERO_HASH);
	if (s->kind == SVC_SINK_SYSLOG)
		openlog("ipsec-agentd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	if (cfg->file != NULL && cfg->file[0] != '\0') {
		if ((s->path = strdup(cfg->file)) == NULL) {
			free(s);
			return PA_E_NOMEM;
		}
		if (cfg->seal_file != NULL && cfg->seal_file[0] != '\0') {
			rc = svc_seal_load(cfg->seal_file, &s->seal, eb, ec);
			if (rc != 0 && rc != PA_E_NOENT) {
				svc_sinks_free(s);
				return rc;
			}
			s->sealing = rc == 0;
		}
		/* The chain continues from the newest record on disk. */
		svc_audit_rotated_name(s->path, 1, r1, sizeof(r1));
		resume_from(s, r1);
		resume_from(s, s->path);
		if (open_file(s) != 0) {
			snprintf(eb, ec, "audit_file: %s: %s", s->path,
			    strerror(errno));
			s->sealing = false;
			svc_sinks_free(s);
			return PA_E_SYS;
		}
		if (s->sealing)
			seal_start(s, s->sealed_seen, s->min_seq);
	}
	*out = s;
	return 0;
}

void
svc_sinks_free(struct svc_sinks *s)
{
	if (s == NULL)
		return;
	/* A stop seals the epoch: nothing can be added to it afterwards. */
	if (s->sealing && s->fd >= 0 &&
	    seal_close(s, 0, true, "service stopped") != 0)
		log_warn("audit: sealing the stop in %s failed", s->path);
	svc_seal_wipe(&s->seal);
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

/*
 * The syslog priority of an event: failures (the folding kinds, a
 * previous instance's block state) are warnings, a broken audit chain an
 * error, the rest (successes, changes, starts and stops) notices.
 */
static int
event_priority(enum audit_event ev)
{
	if (ev == AUDIT_CHAIN_BROKEN)
		return LOG_ERR;
	if (audit_event_folds(ev) || ev == AUDIT_DRV_LEFTOVER)
		return LOG_WARNING;
	return LOG_NOTICE;
}

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static int
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
	snprintf(bufs[k + 1], sizeof(bufs[k]), "PRIORITY=%d",
	    event_priority(ev));
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
	if (sd_journal_sendv(iov, (int)k) < 0)
		return PA_E_SYS;
	/* sd_journal_sendv() reports success when journald's socket is not
	 * there at all (nothing was written): that is a lost record too. */
	if (access(JOURNAL_SOCKET, F_OK) != 0)
		return PA_E_NOENT;
	return 0;
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
	syslog(LOG_AUTHPRIV | event_priority(ev), "%s", msg);
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

static void
sink_system(struct svc_sinks *s, enum audit_event ev,
    const struct audit_field *f, size_t n)
{
	if (s->kind == SVC_SINK_JOURNALD) {
		/* A journal that refuses the record: counted, not lost silently. */
		if (sink_journal(ev, f, n) != 0)
			s->errors++;
	} else if (s->kind == SVC_SINK_SYSLOG)
		sink_syslog(ev, f, n);
}

static int
file_append(struct svc_sinks *s, enum audit_event ev,
    const struct audit_field *f, size_t n)
{
	json_t *rec = NULL, *fields = NULL;
	char *text = NULL, ts[40], hash[SVC_HASH_HEX], seal[SVC_SEAL_HEX];
	uint64_t ms = s->clock();
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
	if (s->sealing && json_object_set_new(rec, "epoch",
	    json_integer((json_int_t)s->seal.epoch)) != 0)
		goto out;
	if ((rc = svc_audit_record_hash(rec, hash)) != 0)
		goto out;
	if (s->sealing && (rc = svc_seal_mac(s->seal.key, hash, seal)) != 0)
		goto out;
	rc = PA_E_NOMEM;
	if (json_object_set_new(rec, "hash", json_string(hash)) != 0)
		goto out;
	if (s->sealing && json_object_set_new(rec, "seal",
	    json_string(seal)) != 0)
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
	s->last_sealed = s->sealing;
	s->last_epoch = s->seal.epoch;
	s->last_close = 0;
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

	svc_sinks_tick(s);
	sink_system(s, ev, f, n);
	if (s->fd >= 0 && file_append(s, ev, f, n) != 0) {
		s->errors++;
		log_warn("audit: writing %s failed (record %s)", s->path,
		    audit_event_name(ev));
	}
}

/*
 * Seal the current epoch: its last record (AUDIT_SEALED, naming the epoch
 * that follows or "stopped"), sealed with its key, also sent to the
 * system sink as a checkpoint off the file; then the key moves on to next
 * (the epoch after this one when stopping) and the old one is erased. A
 * record that cannot be written keeps the key, to try again.
 */
static int
seal_close(struct svc_sinks *s, uint64_t next, bool stop, const char *reason)
{
	char ep[24], nx[24], hs[24], head[SVC_HASH_HEX];
	struct audit_field f[5];
	int rc;

	snprintf(ep, sizeof(ep), "%" PRIu64, s->seal.epoch);
	if (stop)
		snprintf(nx, sizeof(nx), "stopped");
	else
		snprintf(nx, sizeof(nx), "%" PRIu64, next);
	snprintf(hs, sizeof(hs), "%" PRIu64, s->seq);
	memcpy(head, s->prev, sizeof(head));
	f[0] = (struct audit_field){ "Epoch", ep };
	f[1] = (struct audit_field){ "Next Epoch", nx };
	f[2] = (struct audit_field){ "Head Sequence", hs };
	f[3] = (struct audit_field){ "Head Hash", head };
	f[4] = (struct audit_field){ "Reason", reason };
	sink_system(s, AUDIT_SEALED, f, 5);
	if (s->fd < 0 || (rc = file_append(s, AUDIT_SEALED, f, 5)) != 0)
		return PA_E_SYS;
	s->last_close = stop ? CLOSE_STOP : CLOSE_NEXT;
	s->seal.sealed_seq = s->seq;
	memcpy(s->seal.sealed_hash, s->prev, sizeof(s->seal.sealed_hash));
	if ((rc = svc_seal_evolve(&s->seal, stop ? s->seal.epoch + 1 : next))
	    != 0)
		return rc;
	return svc_seal_save(&s->seal);
}

static uint64_t
seal_now_epoch(const struct svc_sinks *s)
{
	return svc_seal_epoch_of(s->seal.start_s, s->seal.interval_s,
	    s->clock());
}

void
svc_sinks_tick(struct svc_sinks *s)
{
	uint64_t e;

	if (s == NULL || !s->sealing)
		return;
	e = seal_now_epoch(s);
	if (e <= s->seal.epoch)
		return;
	if (seal_close(s, e, false, "epoch ended") != 0) {
		s->errors++;
		log_warn("audit: sealing epoch %" PRIu64 " in %s failed",
		    s->seal.epoch, s->path);
	}
}

int
svc_sinks_next_ms(const struct svc_sinks *s)
{
	uint64_t now, end;

	if (s == NULL || !s->sealing)
		return -1;
	now = s->clock();
	end = (s->seal.start_s + (s->seal.epoch + 1) * s->seal.interval_s) *
	    1000;
	/*
	 * An epoch that could not be sealed (the file cannot be written) is
	 * tried again a second later, not in a busy loop.
	 */
	return end > now ? (int)(end - now > 3600000 ? 3600000 : end - now) :
	    1000;
}

bool
svc_sinks_sealing(const struct svc_sinks *s)
{
	return s != NULL && s->sealing;
}

const char *
svc_sinks_head(const struct svc_sinks *s)
{
	return s->prev;
}

/*
 * Sealing starts: a chain that does not reach the record last sealed is
 * reported (records were removed, or the file was replaced); the epochs
 * the service did not run are skipped, after sealing the one an unclean
 * stop left open.
 */
static void
seal_start(struct svc_sinks *s, bool sealed_seen, uint64_t min_seq)
{
	char why[256];
	uint64_t e = seal_now_epoch(s);

	if (s->seal.sealed_seq > 0 && !sealed_seen &&
	    (min_seq == 0 || min_seq <= s->seal.sealed_seq)) {
		struct audit_field f[1];

		if (s->seq < s->seal.sealed_seq)
			snprintf(why, sizeof(why), "the audit file ends at "
			    "seq %" PRIu64 " but seq %" PRIu64 " was sealed: "
			    "records were removed or the file replaced",
			    s->seq, s->seal.sealed_seq);
		else
			snprintf(why, sizeof(why), "record seq %" PRIu64
			    " is not the one that was sealed: the file was "
			    "rewritten", s->seal.sealed_seq);
		log_warn("audit: %s: %s", s->path, why);
		f[0] = (struct audit_field){ "Reason", why };
		sink_system(s, AUDIT_CHAIN_BROKEN, f, 1);
		if (file_append(s, AUDIT_CHAIN_BROKEN, f, 1) != 0)
			s->errors++;
	}
	if (e <= s->seal.epoch)
		return;
	if (s->last_sealed && s->last_close != CLOSE_STOP) {
		if (seal_close(s, e, false, "resumed after an unclean stop")
		    != 0) {
			s->errors++;
			log_warn("audit: sealing epoch %" PRIu64 " failed",
			    s->seal.epoch);
		}
		return;
	}
	if (svc_seal_evolve(&s->seal, e) != 0 || svc_seal_save(&s->seal) != 0)
		log_warn("audit: moving the seal key on in %s failed",
		    s->seal.path);
}
