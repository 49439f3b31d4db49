/*
 * Forward-secure sealing of the audit file: the key chain and its state
 * file. The construction is in seal.h; the primitives are OpenSSL's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pa_buf.h"
#include "seal.h"

#define EVOLVE_LABEL	"pa-audit-seal evolve"
#define VKEY_PREFIX	"pa-seal1-"
/* An epoch number beyond this is a broken clock or a broken file. */
#define EPOCH_MAX	(UINT64_C(1) << 40)

static int
evolve_once(uint8_t key[SVC_SEAL_KEY_LEN])
{
	uint8_t in[sizeof(EVOLVE_LABEL) - 1 + SVC_SEAL_KEY_LEN];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok;

	memcpy(in, EVOLVE_LABEL, sizeof(EVOLVE_LABEL) - 1);
	memcpy(in + sizeof(EVOLVE_LABEL) - 1, key, SVC_SEAL_KEY_LEN);
	ok = EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == SVC_SEAL_KEY_LEN;
	if (ok)
		memcpy(key, md, SVC_SEAL_KEY_LEN);
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(md, sizeof(md));
	return ok ? 0 : PA_E_CRYPTO;
}

uint64_t
svc_seal_epoch_of(uint64_t start_s, uint64_t interval_s, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (interval_s == 0 || s < start_s)
		return 0;
	return (s - start_s) / interval_s;
}

int
svc_seal_mac(const uint8_t key[SVC_SEAL_KEY_LEN], const char *hash,
    char out[SVC_SEAL_HEX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key,
	    SVC_SEAL_KEY_LEN, (const unsigned char *)hash, strlen(hash), mac,
	    sizeof(mac), &maclen) == NULL || maclen != 32)
		return PA_E_CRYPTO;
	pa_hex_encode(mac, maclen, out, SVC_SEAL_HEX);
	return 0;
}

void
svc_seal_wipe(struct svc_seal *s)
{
	OPENSSL_cleanse(s->key, sizeof(s->key));
}

int
svc_seal_evolve(struct svc_seal *s, uint64_t to)
{
	int rc;

	if (to < s->epoch || to > EPOCH_MAX)
		return PA_E_INVAL;
	while (s->epoch < to) {
		if ((rc = evolve_once(s->key)) != 0)
			return rc;
		s->epoch++;
	}
	return 0;
}

int
svc_seal_save(const struct svc_seal *s)
{
	char tmp[sizeof(s->path) + 8], khex[SVC_SEAL_HEX];
	json_t *j;
	char *text;
	size_t len, off;
	int fd, rc = PA_E_SYS;

	pa_hex_encode(s->key, sizeof(s->key), khex, sizeof(khex));
	j = json_pack("{s:i,s:I,s:s,s:I,s:I,s:I,s:s}", "version", 1,
	    "epoch", (json_int_t)s->epoch, "key", khex,
	    "start", (json_int_t)s->start_s,
	    "interval", (json_int_t)s->interval_s,
	    "sealed_seq", (json_int_t)s->sealed_seq,
	    "sealed_hash", s->sealed_hash);
	OPENSSL_cleanse(khex, sizeof(khex));
	if (j == NULL)
		return PA_E_NOMEM;
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (text == NULL)
		return PA_E_NOMEM;
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), "%s.new", s->path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	for (off = 0; off < len; ) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			(void)unlink(tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, s->path) != 0) {
		(void)unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int
svc_seal_setup(const char *path, uint64_t interval_s, bool force,
    char vkey[SVC_SEAL_VKEY_MAX], char *eb, size_t ec)
{
	struct svc_seal s;
	struct stat sb;
	char shex[SVC_SEAL_HEX];
	int rc;

	memset(&s, 0, sizeof(s));
	if (interval_s < 10 || interval_s > 7 * 86400) {
		snprintf(eb, ec, "the epoch length must be 10 s to 7 days");
		return PA_E_INVAL;
	}
	if (strlen(path) >= sizeof(s.path)) {
		snprintf(eb, ec, "%s: path too long", path);
		return PA_E_INVAL;
	}
	if (!force && lstat(path, &sb) == 0) {
		snprintf(eb, ec, "%s exists: sealing is set up already (a new "
		    "key makes the old verification key useless for what "
		    "follows; use --force to replace it)", path);
		return PA_E_EXIST;
	}
	snprintf(s.path, sizeof(s.path), "%s", path);
	if (RAND_priv_bytes(s.key, sizeof(s.key)) != 1) {
		snprintf(eb, ec, "no random bytes for the seed");
		return PA_E_CRYPTO;
	}
	s.start_s = (uint64_t)time(NULL);
	s.interval_s = interval_s;
	pa_hex_encode(s.key, sizeof(s.key), shex, sizeof(shex));
	snprintf(vkey, SVC_SEAL_VKEY_MAX, VKEY_PREFIX "%s-%" PRIu64 "-%" PRIu64,
	    shex, s.start_s, s.interval_s);
	OPENSSL_cleanse(shex, sizeof(shex));
	/*
	 * The state starts at epoch 0 with the seed itself; the writer moves
	 * it forward before it seals anything later.
	 */
	rc = svc_seal_save(&s);
	svc_seal_wipe(&s);
	if (rc != 0) {
		OPENSSL_cleanse(vkey, SVC_SEAL_VKEY_MAX);
		snprintf(eb, ec, "%s: %s", path, strerror(errno));
	}
	return rc;
}

static int
json_u64(json_t *o, const char *k, uint64_t *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return PA_E_FORMAT;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int
svc_seal_load(const char *path, struct svc_seal *s, char *eb, size_t ec)
{
	struct stat sb;
	json_t *j = NULL, *jk, *jh;
	json_error_t jerr;
	size_t klen = 0;
	int fd, rc = PA_E_FORMAT;

	memset(s, 0, sizeof(*s));
	if (strlen(path) >= sizeof(s->path))
		return PA_E_INVAL;
	snprintf(s->path, sizeof(s->path), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return PA_E_NOENT;
		snprintf(eb, ec, "%s: %s", path, strerror(errno));
		return PA_E_SYS;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		snprintf(eb, ec, "%s: must be a regular file of this user "
		    "with mode 0600", path);
		close(fd);
		return PA_E_PERM;
	}
	j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	if (j == NULL) {
		snprintf(eb, ec, "%s: not a seal state (%s)", path, jerr.text);
		return PA_E_FORMAT;
	}
	jk = json_object_get(j, "key");
	jh = json_object_get(j, "sealed_hash");
	if (json_u64(j, "epoch", &s->epoch) != 0 ||
	    json_u64(j, "start", &s->start_s) != 0 ||
	    json_u64(j, "interval", &s->interval_s) != 0 ||
	    json_u64(j, "sealed_seq", &s->sealed_seq) != 0 ||
	    !json_is_string(jk) || !json_is_string(jh) ||
	    strlen(json_string_value(jh)) >= sizeof(s->sealed_hash) ||
	    pa_hex_decode(json_string_value(jk), s->key, sizeof(s->key),
	    &klen) != 0 || klen != sizeof(s->key) || s->interval_s == 0 ||
	    s->epoch > EPOCH_MAX) {
		snprintf(eb, ec, "%s: not a well-formed seal state", path);
		svc_seal_wipe(s);
		goto out;
	}
	snprintf(s->sealed_hash, sizeof(s->sealed_hash), "%s",
	    json_string_value(jh));
	rc = 0;
out:
	/*
	 * The key's hex text lives in the parsed object, in memory jansson
	 * allocated for it: wipe it before it is freed.
	 */
	if (json_is_string(jk))
		OPENSSL_cleanse((void *)(uintptr_t)json_string_value(jk),
		    strlen(json_string_value(jk)));
	json_decref(j);
	return rc;
}

int
svc_seal_vkey_parse(const char *text, struct svc_seal_vkey *k)
{
	char hex[SVC_SEAL_HEX];
	const char *p, *q;
	char *end;
	size_t len = 0;
	unsigned long long v;

	memset(k, 0, sizeof(*k));
	if (strncmp(text, VKEY_PREFIX, strlen(VKEY_PREFIX)) != 0)
		return PA_E_FORMAT;
	p = text + strlen(VKEY_PREFIX);
	if ((q = strchr(p, '-')) == NULL || (size_t)(q - p) != 64)
		return PA_E_FORMAT;
	memcpy(hex, p, 64);
	hex[64] = '\0';
	if (pa_hex_decode(hex, k->seed, sizeof(k->seed), &len) != 0 ||
	    len != sizeof(k->seed)) {
		OPENSSL_cleanse(hex, sizeof(hex));
		return PA_E_FORMAT;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	p = q + 1;
	if (*p < '0' || *p > '9')
		return PA_E_FORMAT;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || *end != '-')
		return PA_E_FORMAT;
	k->start_s = v;
	p = end + 1;
	if (*p < '0' || *p > '9')
		return PA_E_FORMAT;
	v = strtoull(p, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return PA_E_FORMAT;
	k->interval_s = v;
	return 0;
}

int
svc_seal_key_at(const struct svc_seal_vkey *k, uint64_t e,
    uint8_t cache[SVC_SEAL_KEY_LEN], uint64_t *cache_epoch)
{
	int rc;

	if (e > EPOCH_MAX)
		return PA_E_INVAL;
	if (*cache_epoch == UINT64_MAX || *cache_epoch > e) {
		memcpy(cache, k->seed, SVC_SEAL_KEY_LEN);
		*cache_epoch = 0;
	}
	while (*cache_epoch < e) {
		if ((rc = evolve_once(cache)) != 0)
			return rc;
		(*cache_epoch)++;
	}
	return 0;
}
