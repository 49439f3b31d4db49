/*
 * Troubleshooting keys (ipseccmd set keylog on): the keys of each ESP SA
 * and each Main Mode negotiated while it is on, appended to two files in
 * Wireshark's formats, so that a capture can be decrypted as `ip xfrm
 * state` allows for kernel SAs:
 *
 *   DIR/esp_sa                   the ESP SAs table (Protocols > ESP)
 *   DIR/ikev1_decryption_table   the IKEv1 table (Protocols > ISAKMP)
 *
 * Opt-in and off at every start; the directory is the service's own
 * (0700, root) and the files are created 0600, never followed through a
 * link. Whoever reads them can read the traffic: the service audits each
 * switch (5700).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ike_sa.h"
#include "pa_buf.h"
#include "pa_log.h"

struct ike_keylog {
	int	esp;	/* DIR/esp_sa */
	int	ike;	/* DIR/ikev1_decryption_table */
};

static int
keylog_open(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
}

void
ike_keylog_free(struct ike *ike)
{
	if (ike->keylog != NULL) {
		close(ike->keylog->esp);
		close(ike->keylog->ike);
		free(ike->keylog);
		ike->keylog = NULL;
	}
}

int
ike_keylog(struct ike *ike, const char *dir)
{
	struct ike_keylog *k;
	struct stat st;

	ike_keylog_free(ike);
	if (dir == NULL)
		return 0;
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    lstat(dir, &st) != 0)
		return PA_E_SYS;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		errno = EPERM;
		return PA_E_SYS;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return PA_E_NOMEM;
	k->esp = keylog_open(dir, "esp_sa");
	k->ike = keylog_open(dir, "ikev1_decryption_table");
	if (k->esp < 0 || k->ike < 0) {
		int e = errno;

		if (k->esp >= 0)
			close(k->esp);
		if (k->ike >= 0)
			close(k->ike);
		free(k);
		errno = e;
		return PA_E_SYS;
	}
	ike->keylog = k;
	return 0;
}

static void
keylog_write(int fd, const char *line, size_t len)
{
	if (write(fd, line, len) != (ssize_t)len)
		log_warn("keylog: write");
}

/* Wireshark's names (its ESP SA table's choices). */
static const char *
keylog_enc(const struct sa_params *p)
{
	switch (p->enc) {
	case DRV_ENC_NONE:
		return "NULL";
	case DRV_ENC_DES_CBC:
		return "DES-CBC [RFC2405]";
	case DRV_ENC_3DES_CBC:
		return "TripleDES-CBC [RFC2451]";
	case DRV_ENC_AES_CBC:
		return "AES-CBC [RFC3602]";
	case DRV_ENC_AES_GCM_16:
		return "AES-GCM with 16 octet ICV [RFC4106]";
	}
	return NULL;
}

static const char *
keylog_auth(const struct sa_params *p)
{
	switch (p->auth) {
	case DRV_AUTH_NONE:
		return "NULL";
	case DRV_AUTH_HMAC_MD5_96:
		return "HMAC-MD5-96 [RFC2403]";
	case DRV_AUTH_HMAC_SHA1_96:
		return "HMAC-SHA-1-96 [RFC2404]";
	case DRV_AUTH_HMAC_SHA256_128:
		return "HMAC-SHA-256-128 [RFC4868]";
	}
	return NULL;
}

void
ike_keylog_sa(struct ike *ike, const struct sa_id *id,
    const struct sa_params *p)
{
	char line[512], src[PA_ADDRSTRLEN], dst[PA_ADDRSTRLEN];
	char ek[2 * sizeof(p->enc_key) + 1], ak[2 * sizeof(p->auth_key) + 1];
	const char *enc = keylog_enc(p), *auth = keylog_auth(p);
	int n;

	if (ike->keylog == NULL || id->proto != DRV_PROTO_ESP || enc == NULL ||
	    auth == NULL)
		return;
	pa_hex_encode(p->enc_key, p->enc_key_len, ek, sizeof(ek));
	pa_hex_encode(p->auth_key, p->auth_key_len, ak, sizeof(ak));
	n = snprintf(line, sizeof(line), "\"%s\",\"%s\",\"%s\",\"0x%08x\","
	    "\"%s\",\"%s%s\",\"%s\",\"%s%s\"\n",
	    id->dst.family == AF_INET6 ? "IPv6" : "IPv4",
	    pa_addr_str(&id->src, src, sizeof(src)),
	    pa_addr_str(&id->dst, dst, sizeof(dst)), id->spi, enc,
	    p->enc_key_len > 0 ? "0x" : "", ek, auth,
	    p->auth_key_len > 0 ? "0x" : "", ak);
	if (n > 0 && (size_t)n < sizeof(line))
		keylog_write(ike->keylog->esp, line, (size_t)n);
	pa_wipe(ek, sizeof(ek));
	pa_wipe(ak, sizeof(ak));
	pa_wipe(line, sizeof(line));
}

void
ike_keylog_mm(struct ike *ike, const struct ike_mm *mm)
{
	char line[256], ck[17], key[2 * OAK_MAX_KEY + 1];
	size_t klen = mm->p1.keylen;	/* what oak_enc_key made */
	int n;

	if (ike->keylog == NULL || klen == 0 || klen > OAK_MAX_KEY)
		return;
	pa_hex_encode(mm->cky_i, sizeof(mm->cky_i), ck, sizeof(ck));
	pa_hex_encode(mm->key, klen, key, sizeof(key));
	/* Byte fields of a Wireshark table are written as bare hex. */
	n = snprintf(line, sizeof(line), "%s,%s\n", ck, key);
	if (n > 0 && (size_t)n < sizeof(line))
		keylog_write(ike->keylog->ike, line, (size_t)n);
	pa_wipe(key, sizeof(key));
	pa_wipe(line, sizeof(line));
}
