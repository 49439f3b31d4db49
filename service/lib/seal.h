/*
 * Forward-secure sealing of the audit file.
 *
 * At set-up a random 32-byte seed K(0) is drawn; the verification key is
 * that seed with the start time and the epoch length, shown once to the
 * administrator and kept off the host. The writer keeps only the key of the
 * current epoch, K(e), in the seal state file (root, 0600). At each epoch
 * boundary it seals the epoch with K(e), derives
 *	K(e+1) = SHA-256("pa-audit-seal evolve" || K(e))
 * replaces the state file and erases K(e). Every record carries its epoch
 * and seal = HMAC-SHA-256(K(epoch), record hash). Whoever takes the host at
 * time T holds K(e(T)) at best: records sealed in earlier epochs cannot be
 * re-sealed, and an epoch's last record (AUDIT_SEALED, naming the epoch
 * that follows) cannot be forged, so a cut or a rewrite before T shows.
 */
#ifndef PA_SVC_SEAL_H
#define PA_SVC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pa_err.h"

#define SVC_SEAL_KEY_LEN	32
#define SVC_SEAL_HEX		65	/* 64 hex digits + NUL */
#define SVC_SEAL_VKEY_MAX	128
/* The default epoch: a quarter of an hour, as journald's sealing. */
#define SVC_SEAL_INTERVAL_S	900
/* The seal state's name in the state directory. */
#define SVC_SEAL_FILE		"audit.seal"

/* The verification key: the seed, the start and the epoch length. */
struct svc_seal_vkey {
	uint8_t		seed[SVC_SEAL_KEY_LEN];
	uint64_t	start_s;	/* epoch 0 starts here (Unix seconds) */
	uint64_t	interval_s;
};

/* The writer's state: the key of one epoch and where it is kept. */
struct svc_seal {
	char		path[4096];
	uint8_t		key[SVC_SEAL_KEY_LEN];
	uint64_t	epoch;
	uint64_t	start_s;
	uint64_t	interval_s;
	/* The last epoch seal written (0/"" before the first). */
	uint64_t	sealed_seq;
	char		sealed_hash[SVC_SEAL_HEX];
};

/*
 * Create a new seal state file at path (0600, refusing an existing file
 * unless force) starting now, and write the verification key text
 * ("pa-seal1-<seed hex>-<start>-<interval>") into vkey.
 */
int	svc_seal_setup(const char *path, uint64_t interval_s, bool force,
	    char vkey[SVC_SEAL_VKEY_MAX], char *errbuf, size_t errcap)
	    PA_MUST_USE;
/*
 * Load the state file: PA_E_NOENT when it does not exist; an error
 * naming the problem when it is not root's, not 0600 or not well formed.
 */
int	svc_seal_load(const char *path, struct svc_seal *,
	    char *errbuf, size_t errcap) PA_MUST_USE;
/* Write the state back (temporary file, fsync, rename). */
int	svc_seal_save(const struct svc_seal *) PA_MUST_USE;
/* Erase the key in memory. */
void	svc_seal_wipe(struct svc_seal *);
/* The epoch of a time (ms since 1970) under start and interval. */
uint64_t	svc_seal_epoch_of(uint64_t start_s, uint64_t interval_s,
		    uint64_t ms);
/* Move the key forward to epoch to (>= the current one), erasing it. */
int	svc_seal_evolve(struct svc_seal *, uint64_t to) PA_MUST_USE;
/* seal = HMAC-SHA-256(key, the record's hash text), in hex. */
int	svc_seal_mac(const uint8_t key[SVC_SEAL_KEY_LEN], const char *hash,
	    char out[SVC_SEAL_HEX]) PA_MUST_USE;
/* Parse a verification key text. */
int	svc_seal_vkey_parse(const char *text, struct svc_seal_vkey *)
	    PA_MUST_USE;
/*
 * The key of epoch e from the seed (the verifier's side); cache is the key
 * of epoch *cache_epoch when *cache_epoch <= e (start from the seed when
 * it is UINT64_MAX), and is moved to e.
 */
int	svc_seal_key_at(const struct svc_seal_vkey *, uint64_t e,
	    uint8_t cache[SVC_SEAL_KEY_LEN], uint64_t *cache_epoch)
	    PA_MUST_USE;

#endif
