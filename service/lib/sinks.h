/*
 * Audit sinks: journald or syslog with structured fields (one stable
 * MESSAGE_ID per event type), and an append-only JSON-lines file whose
 * records are hash-chained, fsync'ed and rotated by size.
 *
 * A record is one line, a JSON object:
 *   {"seq":N,"time":"...Z","ms":epoch-ms,"id":541,"event":"NAME",
 *    "fields":{...},"prev":"<hex>","hash":"<hex>"}
 * hash = SHA-256 of the canonical text of the record without "hash"
 * (jansson, compact, keys sorted), which includes "prev", the hash of the
 * record before (64 zeros for seq 1). Rotation renames file -> file.1 ->
 * file.2 ... and the chain continues across files.
 */
#ifndef PA_SVC_SINKS_H
#define PA_SVC_SINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "config.h"

#define SVC_HASH_HEX	65

struct svc_sinks_cfg {
	enum svc_audit_sink	 kind;
	const char		*file;		/* NULL or "" = no file */
	uint64_t		 rotate_size;	/* 0 = never */
	unsigned		 keep;		/* rotated files kept, >= 1 */
	/* The seal state (seal.h); sealing when it exists. NULL = never. */
	const char		*seal_file;
	/* The wall clock in ms (tests); NULL = the system's. */
	uint64_t		(*clock)(void);
};

struct svc_sinks;

/* Open the file (resuming its chain) and the system sink. */
int	svc_sinks_new(const struct svc_sinks_cfg *, struct svc_sinks **out,
	    char *errbuf, size_t errcap) PA_MUST_USE;
void	svc_sinks_free(struct svc_sinks *);
/* An audit_sink_fn; arg is the struct svc_sinks *. */
void	svc_sinks_emit(void *arg, enum audit_event,
	    const struct audit_field *, size_t n);
/* The last record written: its sequence number (0 = none) and hash. */
uint64_t	svc_sinks_last_seq(const struct svc_sinks *);
/* The hash of the last record written (64 zeros before the first). */
const char	*svc_sinks_head(const struct svc_sinks *);
/* Sealing is on (the seal state file was found at start). */
bool	svc_sinks_sealing(const struct svc_sinks *);
/* Seal an epoch that ended; the ms until the next one ends (-1: none). */
void	svc_sinks_tick(struct svc_sinks *);
int	svc_sinks_next_ms(const struct svc_sinks *);
/* Records that could not be written to the file. */
uint64_t	svc_sinks_errors(const struct svc_sinks *);
/* The journald MESSAGE_ID of an event (32 hex digits + NUL). */
void	svc_audit_message_id(enum audit_event, char out[33]);

/* What the verifier is told besides the files. */
struct svc_verify_opts {
	uint64_t	 expect_last;	/* the writer's last seq; 0 = unknown */
	const char	*expect_head;	/* its hash; NULL = unknown */
	const char	*key;		/* verification key text; NULL = none */
	uint64_t	 now_ms;	/* wall clock; 0 = now */
};

struct svc_verify {
	bool		ok;
	uint64_t	records;
	uint64_t	first_seq;
	uint64_t	last_seq;
	char		what[768];	/* the verdict, naming file:line and seq */
	char		seal_note[128];	/* with a key: what the seals cover */
};

/*
 * Verify the chain of path.keep ... path.1, path. With the writer's last
 * seq and hash, a cut or rewritten tail shows; with the verification key,
 * every seal is checked and every epoch must end in its seal record, so a
 * cut, a shorter chain, a rewritten prefix or a re-hashed edit made with
 * anything less than the key of the epochs concerned shows (seal.h).
 * PA_E_FORMAT: the key text is not a verification key.
 */
int	svc_audit_verify(const char *path, unsigned keep,
	    const struct svc_verify_opts *, struct svc_verify *) PA_MUST_USE;

/*
 * Query records (oldest first) with id (0 = any) and ms >= since_ms; calls
 * fn with each parsed record (a borrowed jansson json_t *). Stops early
 * after max records from the end when max > 0 (the newest max).
 */
int	svc_audit_query(const char *path, unsigned keep, int id,
	    int64_t since_ms, size_t max,
	    void (*fn)(void *, void *record), void *arg) PA_MUST_USE;

/* Canonical text and hash of a record (for tests): hex into out. */
int	svc_audit_record_hash(void *record, char out[SVC_HASH_HEX])
	    PA_MUST_USE;

#endif
