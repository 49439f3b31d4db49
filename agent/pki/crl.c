/*
 * CRL distribution points: the cache, the refresh timers and the fetch
 * worker (crl.h). The cache directory holds, per distribution point, the
 * CRL as DER in <h>.crl and the URI in <h>.uri, where h is the first 32
 * hex digits of SHA-256 of the URI; both are written to a temporary file
 * and renamed, 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "pa_log.h"
#include "pa_time.h"

struct crl_ent {
	char		*uri;
	char		 h[33];		/* cache file name */
	uint8_t		*der;		/* NULL before the first fetch */
	size_t		 len;
	struct pki_crl_info info;	/* uri, last_error point into us */
	char		 err[160];
	uint64_t	 due_ms;	/* next fetch (monotonic), 0 = none */
	bool		 busy;		/* with the worker */
	bool		 fetchable;	/* a scheme we fetch */
};

/* A job for the worker and, once done, its result. */
struct crl_job {
	struct crl_job	*next;
	bool		 cas;		/* the domain's CAs, not a CRL */
	size_t		 ent;
	char		*uri;
	uint8_t		*body;
	size_t		 len;
	uint8_t		*ders[PKI_CAS_MAX];	/* cas */
	size_t		 lens[PKI_CAS_MAX];
	uint8_t		 kinds[PKI_CAS_MAX];
	size_t		 n;
	char		 err[160];
};

struct pki_crl {
	struct pki_crl_cfg	 cfg;
	char			*dir;
	struct crl_ent		 ents[PKI_CRL_MAX];
	size_t			 n;
	int			 efd;
	pthread_t		 th;
	bool			 th_up;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	bool			 stop;		/* under mtx */
	bool			 working;	/* a job under way, under mtx */
	bool			 orphan;	/* freed meanwhile, under mtx */
	struct crl_job		*todo, *done;	/* under mtx */
	/* The domain's CAs: the last set read, and a read queued. */
	uint8_t			*cas[PKI_CAS_MAX];
	size_t			 cas_len[PKI_CAS_MAX];
	uint8_t			 cas_kind[PKI_CAS_MAX];
	size_t			 ncas;
	bool			 cas_busy;
};

/* ---- parsing ------------------------------------------------------- */

static time_t
asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/*
 * What is kept must read back as it was taken: OpenSSL accepts some
 * encodings it does not write back (a fuzzer found one), and the cache and
 * IKE parse the DER again.
 */
static bool
der_reparses(const unsigned char *der, int len)
{
	const unsigned char *q = der;
	X509_CRL *chk;
	bool ok;

	chk = d2i_X509_CRL(NULL, &q, len);
	ok = chk != NULL && q == der + len;
	X509_CRL_free(chk);
	return ok;
}

int
pki_crl_parse(const uint8_t *body, size_t len, uint8_t **der,
    size_t *derlen, struct pki_crl_info *info)
{
	const unsigned char *p = body;
	unsigned char *out = NULL;
	X509_CRL *crl = NULL;
	BIO *b = NULL, *nb = NULL;
	STACK_OF(X509_REVOKED) *rev;
	int l, n;

	*der = NULL;
	*derlen = 0;
	if (len == 0 || len > INT32_MAX)
		return PA_E_FORMAT;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL ||
	    p != body + len) {
		X509_CRL_free(crl);
		crl = NULL;
		if ((b = BIO_new_mem_buf(body, (int)len)) != NULL)
			crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (crl == NULL || (l = i2d_X509_CRL(crl, &out)) <= 0 ||
	    !der_reparses(out, l)) {
		OPENSSL_free(out);
		X509_CRL_free(crl);
		return PA_E_FORMAT;
	}
	if ((*der = malloc((size_t)l)) == NULL) {
		OPENSSL_free(out);
		X509_CRL_free(crl);
		return PA_E_NOMEM;
	}
	memcpy(*der, out, (size_t)l);
	*derlen = (size_t)l;
	OPENSSL_free(out);
	info->this_update = asn1_time_t(X509_CRL_get0_lastUpdate(crl));
	info->next_update = asn1_time_t(X509_CRL_get0_nextUpdate(crl));
	rev = X509_CRL_get_REVOKED(crl);
	info->revoked = rev != NULL ? (size_t)sk_X509_REVOKED_num(rev) : 0;
	info->issuer[0] = '\0';
	if ((nb = BIO_new(BIO_s_mem())) != NULL) {
		if (X509_NAME_print_ex(nb, X509_CRL_get_issuer(crl), 0,
		    XN_FLAG_RFC2253) >= 0 && (n = BIO_read(nb, info->issuer,
		    (int)sizeof(info->issuer) - 1)) > 0)
			info->issuer[n] = '\0';
		BIO_free(nb);
	}
	X509_CRL_free(crl);
	return 0;
}

/* ---- the worker ---------------------------------------------------- */

struct sink {
	uint8_t	*p;
	size_t	 len;
	size_t	 max;
	bool	 over;
};

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	uint8_t *np;

	if (n > s->max - s->len) {
		s->over = true;
		return 0;
	}
	if ((np = realloc(s->p, s->len + n)) == NULL)
		return 0;
	memcpy(np + s->len, data, n);
	s->p = np;
	s->len += n;
	return n;
}

static void
fetch_http(const struct pki_crl_cfg *cfg, struct crl_job *j)
{
	struct sink s = { NULL, 0, cfg->max_bytes, false };
	CURL *c;
	CURLcode rc;
	long status = 0;

	if ((c = curl_easy_init()) == NULL) {
		snprintf(j->err, sizeof(j->err), "libcurl: no handle");
		return;
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, j->uri);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->timeout_s);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->timeout_s);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "ipsec-agent");
	rc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (s.over)
		snprintf(j->err, sizeof(j->err), "larger than %zu bytes",
		    cfg->max_bytes);
	else if (rc != CURLE_OK)
		snprintf(j->err, sizeof(j->err), "%s", curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(j->err, sizeof(j->err), "HTTP status %ld", status);
	if (j->err[0] != '\0') {
		free(s.p);
		return;
	}
	j->body = s.p;
	j->len = s.len;
}

static bool
scheme_ldap(const char *uri)
{
	return strncasecmp(uri, "ldap://", 7) == 0 ||
	    strncasecmp(uri, "ldaps://", 8) == 0;
}

static void
fetch(const struct pki_crl_cfg *cfg, struct crl_job *j)
{
	size_t i;

	if (j->cas) {
		if (cfg->cas_read(cfg->ldap_arg, j->ders, j->lens, j->kinds,
		    PKI_CAS_MAX, &j->n, j->err, sizeof(j->err)) != 0) {
			for (i = 0; i < j->n; i++)
				free(j->ders[i]);
			j->n = 0;
			if (j->err[0] == '\0')
				snprintf(j->err, sizeof(j->err), "failed");
		}
		return;
	}
	if (!scheme_ldap(j->uri)) {
		fetch_http(cfg, j);
		return;
	}
	if (cfg->ldap_read(cfg->ldap_arg, j->uri, &j->body, &j->len, j->err,
	    sizeof(j->err)) != 0 || j->len > cfg->max_bytes) {
		if (j->err[0] == '\0')
			snprintf(j->err, sizeof(j->err), "larger than %zu "
			    "bytes", cfg->max_bytes);
		free(j->body);
		j->body = NULL;
		j->len = 0;
	}
}

static void
jobs_free(struct crl_job *j)
{
	struct crl_job *next;
	size_t i;

	for (; j != NULL; j = next) {
		next = j->next;
		free(j->uri);
		free(j->body);
		for (i = 0; i < j->n; i++)
			free(j->ders[i]);
		free(j);
	}
}

static void	pki_free_all(struct pki_crl *);
static void	cas_load(struct pki_crl *);

static void *
worker(void *arg)
{
	struct pki_crl *p = arg;
	struct crl_job *j;
	uint64_t one = 1;
	bool orphan = false;

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		while (!p->stop && p->todo == NULL)
			pthread_cond_wait(&p->cv, &p->mtx);
		if (p->stop)
			break;
		j = p->todo;
		p->todo = j->next;
		p->working = true;
		pthread_mutex_unlock(&p->mtx);
		fetch(&p->cfg, j);
		pthread_mutex_lock(&p->mtx);
		p->working = false;
		j->next = p->done;
		p->done = j;
		/* EAGAIN: the counter is already set, read will see it. */
		(void)!write(p->efd, &one, sizeof(one));
	}
	orphan = p->orphan;
	pthread_mutex_unlock(&p->mtx);
	if (orphan)		/* pki_crl_free left the rest to us */
		pki_free_all(p);
	return NULL;
}

/* ---- the cache ----------------------------------------------------- */

static void
uri_hash(const char *uri, char out[33])
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	size_t i;

	(void)EVP_Digest(uri, strlen(uri), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
write_file(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096], tmp[4096];
	int fd, rc = PA_E_SYS;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0)
		return PA_E_SYS;
	if (write(fd, p, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = PA_E_SYS;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = PA_E_SYS;
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

/* The whole of a small regular file (at most max bytes), or NULL. */
static uint8_t *
read_file(const char *dir, const char *name, size_t max, size_t *len)
{
	char path[4096];
	struct stat st;
	uint8_t *b = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (size_t)st.st_size <= max &&
	    (b = malloc((size_t)st.st_size + 1)) != NULL) {
		if (read(fd, b, (size_t)st.st_size) == st.st_size) {
			*len = (size_t)st.st_size;
			b[*len] = '\0';
		} else {
			free(b);
			b = NULL;
		}
	}
	close(fd);
	return b;
}

static bool
scheme_fetchable(const struct pki_crl *p, const char *uri)
{
	return strncasecmp(uri, "http://", 7) == 0 ||
	    strncasecmp(uri, "https://", 8) == 0 ||
	    (scheme_ldap(uri) && p->cfg.ldap_read != NULL);
}

static struct crl_ent *
ent_add(struct pki_crl *p, const char *uri)
{
	struct crl_ent *e;

	if (p->n == PKI_CRL_MAX)
		return NULL;
	e = &p->ents[p->n];
	memset(e, 0, sizeof(*e));
	if ((e->uri = strdup(uri)) == NULL)
		return NULL;
	uri_hash(uri, e->h);
	e->fetchable = scheme_fetchable(p, uri);
	if (!e->fetchable)
		snprintf(e->err, sizeof(e->err), "not fetched: only http, "
		    "https and (with a directory) ldap distribution points "
		    "are");
	p->n++;
	return e;
}

/* When to fetch again a CRL that is valid until next (0: unknown). */
static uint64_t
due_after(const struct pki_crl *p, time_t next, uint64_t now_ms)
{
	int64_t left;

	if (next == 0)
		return now_ms + (uint64_t)p->cfg.refresh_s * 1000;
	left = (int64_t)next - pa_wall_s();
	if (left <= 0)
		return now_ms + (uint64_t)p->cfg.retry_s * 1000;
	return now_ms + (uint64_t)left * 1000;
}

static void
cache_load(struct pki_crl *p)
{
	struct dirent *d;
	struct crl_ent *e;
	uint8_t *uri, *body, *der;
	size_t ul, bl, dl;
	char name[40];
	DIR *dh;

	if ((dh = opendir(p->dir)) == NULL)
		return;
	while ((d = readdir(dh)) != NULL && p->n < PKI_CRL_MAX) {
		char h[33];

		if (strlen(d->d_name) != 36 ||
		    strcmp(d->d_name + 32, ".uri") != 0 ||
		    (uri = read_file(p->dir, d->d_name, PKI_CRL_URI_MAX,
		    &ul)) == NULL)
			continue;
		/* Only a URI that names its file (no NUL inside) is ours. */
		uri_hash((char *)uri, h);
		e = strlen((char *)uri) == ul && strncmp(h, d->d_name, 32) ==
		    0 ? ent_add(p, (char *)uri) : NULL;
		free(uri);
		if (e == NULL)
			continue;
		snprintf(name, sizeof(name), "%s.crl", e->h);
		if ((body = read_file(p->dir, name, p->cfg.max_bytes, &bl)) !=
		    NULL && pki_crl_parse(body, bl, &der, &dl, &e->info) == 0) {
			e->der = der;
			e->len = dl;
		}
		free(body);
		e->due_ms = e->fetchable ? (e->der != NULL ? due_after(p,
		    e->info.next_update, pa_now_ms()) : pa_now_ms()) : 0;
		log_info("crl: cached %s (%s)", e->uri, e->der != NULL ?
		    "a CRL" : "no CRL yet");
	}
	closedir(dh);
}

/* ---- the interface ------------------------------------------------- */

int
pki_crl_new(const struct pki_crl_cfg *cfg, struct pki_crl **out)
{
	struct pki_crl *p;

	*out = NULL;
	if (cfg->cache_dir == NULL || cfg->cache_dir[0] != '/')
		return PA_E_INVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PA_E_NOMEM;
	p->cfg = *cfg;
	p->efd = -1;
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (p->cfg.timeout_s == 0)
		p->cfg.timeout_s = 15;
	if (p->cfg.retry_s == 0)
		p->cfg.retry_s = 300;
	if (p->cfg.refresh_s == 0)
		p->cfg.refresh_s = 3600;
	if (p->cfg.max_bytes == 0)
		p->cfg.max_bytes = 16u << 20;
	if ((p->dir = strdup(cfg->cache_dir)) == NULL) {
		pki_crl_free(p);
		return PA_E_NOMEM;
	}
	if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
		log_warn("crl: cache directory %s", p->dir);
		pki_crl_free(p);
		return PA_E_SYS;
	}
	if (chmod(p->dir, 0700) != 0)
		log_warn("crl: chmod 0700 %s", p->dir);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pki_crl_free(p);
		return PA_E_SYS;
	}
	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		pki_crl_free(p);
		return PA_E_SYS;
	}
	if (pthread_create(&p->th, NULL, worker, p) != 0) {
		pki_crl_free(p);
		return PA_E_SYS;
	}
	p->th_up = true;
	cache_load(p);
	if (p->cfg.cas_read != NULL)
		cas_load(p);
	*out = p;
	return 0;
}

static void
pki_free_all(struct pki_crl *p)
{
	size_t i;

	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
	jobs_free(p->todo);
	jobs_free(p->done);
	if (p->efd >= 0)
		close(p->efd);
	for (i = 0; i < p->n; i++) {
		free(p->ents[i].uri);
		free(p->ents[i].der);
	}
	for (i = 0; i < p->ncas; i++)
		free(p->cas[i]);
	if (p->cfg.ldap_free != NULL)
		p->cfg.ldap_free(p->cfg.ldap_arg);
	free(p->dir);
	free(p);
}

void
pki_crl_free(struct pki_crl *p)
{
	if (p == NULL)
		return;
	if (p->th_up) {
		pthread_mutex_lock(&p->mtx);
		p->stop = true;
		pthread_cond_broadcast(&p->cv);
		if (p->working) {
			/* A read under way may take its timeout: not waited. */
			p->orphan = true;
			pthread_mutex_unlock(&p->mtx);
			(void)pthread_detach(p->th);
			return;
		}
		pthread_mutex_unlock(&p->mtx);
		pthread_join(p->th, NULL);
	}
	pki_free_all(p);
}

static void
ent_fetch(struct pki_crl *p, size_t i)
{
	struct crl_ent *e = &p->ents[i];
	struct crl_job *j;

	if (e->busy || !e->fetchable)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->uri = strdup(e->uri)) == NULL) {
		free(j);
		e->due_ms = pa_now_ms() + (uint64_t)p->cfg.retry_s * 1000;
		return;
	}
	j->ent = i;
	e->busy = true;
	e->due_ms = 0;
	pthread_mutex_lock(&p->mtx);
	j->next = p->todo;
	p->todo = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
}

void
pki_crl_want(struct pki_crl *p, const char *uri)
{
	struct crl_ent *e;
	char name[40];
	size_t i;

	if (p == NULL || !p->cfg.fetch_crls || uri == NULL ||
	    uri[0] == '\0' || strlen(uri) >= PKI_CRL_URI_MAX)
		return;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->ents[i].uri, uri) == 0)
			return;
	if ((e = ent_add(p, uri)) == NULL) {
		log_warnx("crl: more than %d distribution points; %s not "
		    "fetched", PKI_CRL_MAX, uri);
		return;
	}
	snprintf(name, sizeof(name), "%s.uri", e->h);
	if (write_file(p->dir, name, e->uri, strlen(e->uri)) != 0)
		log_warn("crl: cannot write %s/%s", p->dir, name);
	log_info("crl: new distribution point %s", uri);
	ent_fetch(p, p->n - 1);
}

/* The length of "scheme://host[:port]/" of uri, or 0. */
static size_t
origin_len(const char *uri)
{
	const char *h = strstr(uri, "://"), *slash;

	if (h == NULL || (slash = strchr(h + 3, '/')) == NULL)
		return 0;
	return (size_t)(slash - uri) + 1;
}

/*
 * A CRL's Freshest CRL extension (RFC 5280 5.2.6) names where its delta
 * CRLs are: they are fetched too, but only from where the CRL came from
 * (the same scheme, server and port), as the CRL is not verified yet here.
 */
static void
want_deltas(struct pki_crl *p, const char *from, const uint8_t *der,
    size_t len)
{
	STACK_OF(DIST_POINT) *dps;
	const unsigned char *q = der;
	X509_CRL *crl;
	char uri[PKI_CRL_URI_MAX];
	size_t ol = origin_len(from);
	int i, k, n;

	if (ol == 0 || (crl = d2i_X509_CRL(NULL, &q, (long)len)) == NULL)
		return;
	dps = X509_CRL_get_ext_d2i(crl, NID_freshest_crl, NULL, NULL);
	for (i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname);
		    k++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(
			    dp->distpoint->name.fullname, k);

			if (g->type != GEN_URI ||
			    (n = ASN1_STRING_length(g->d.ia5)) <= 0 ||
			    (size_t)n >= sizeof(uri))
				continue;
			memcpy(uri, ASN1_STRING_get0_data(g->d.ia5), (size_t)n);
			uri[n] = '\0';
			if (strlen(uri) != (size_t)n || origin_len(uri) != ol ||
			    strncasecmp(uri, from, ol) != 0) {
				log_warnx("crl: %s names a delta CRL elsewhere "
				    "(%.200s): not fetched", from, uri);
				continue;
			}
			pki_crl_want(p, uri);
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	X509_CRL_free(crl);
	ERR_clear_error();
}

/* A fetch finished: take the CRL, or note the error and retry later. */
static bool
job_done(struct pki_crl *p, struct crl_job *j)
{
	struct crl_ent *e = &p->ents[j->ent];
	struct pki_crl_info info;
	uint8_t *der = NULL;
	size_t dl;
	char name[40];
	uint64_t now = pa_now_ms();

	e->busy = false;
	if (j->err[0] == '\0' && pki_crl_parse(j->body, j->len, &der, &dl,
	    &info) != 0)
		snprintf(j->err, sizeof(j->err), "not a CRL");
	if (j->err[0] != '\0') {
		e->info.failures++;
		snprintf(e->err, sizeof(e->err), "%s", j->err);
		e->due_ms = now + (uint64_t)p->cfg.retry_s * 1000;
		log_warnx("crl: %s: %s (next try in %u s)", e->uri, e->err,
		    p->cfg.retry_s);
		return false;
	}
	snprintf(name, sizeof(name), "%s.crl", e->h);
	if (write_file(p->dir, name, der, dl) != 0)
		log_warn("crl: cannot write %s/%s", p->dir, name);
	free(e->der);
	e->der = der;
	e->len = dl;
	info.fetched = pa_wall_s();
	info.failures = 0;
	e->info = info;
	e->err[0] = '\0';
	e->due_ms = due_after(p, info.next_update, now);
	log_info("crl: %s: %zu revoked, issuer %s, next update %lld", e->uri,
	    info.revoked, info.issuer, (long long)info.next_update);
	want_deltas(p, e->uri, e->der, e->len);
	return true;
}

/* ---- the domain's CAs --------------------------------------------- */

/* The anchors, and the CAs that only build chains (AIA, NTAuth). */
#define CAS_FILE	"domain-cas.pem"
#define IMS_FILE	"domain-ims.pem"

/* One of the two cache files: the set's certificates of kind anchor or not. */
static bool
cas_save_file(struct pki_crl *p, const char *name, bool anchors)
{
	char path[4096], to[4096];
	BIO *b;
	size_t i;
	int ok = 1;

	snprintf(path, sizeof(path), "%s/.%s.tmp", p->dir, name);
	(void)unlink(path);
	if ((b = BIO_new_file(path, "w")) == NULL)
		return false;
	(void)chmod(path, 0600);
	for (i = 0; i < p->ncas && ok; i++) {
		const unsigned char *q = p->cas[i];
		X509 *x;

		if ((p->cas_kind[i] == PKI_CA_ROOT) != anchors)
			continue;
		x = d2i_X509(NULL, &q, (long)p->cas_len[i]);
		ok = x != NULL && PEM_write_bio_X509(b, x) == 1;
		X509_free(x);
	}
	if (BIO_flush(b) != 1)
		ok = 0;
	BIO_free(b);
	snprintf(to, sizeof(to), "%s/%s", p->dir, name);
	if (ok && rename(path, to) == 0)
		return true;
	(void)unlink(path);
	return false;
}

/* The set as PEM in the cache, so that a start without the directory has it. */
static void
cas_save(struct pki_crl *p)
{
	if (!cas_save_file(p, CAS_FILE, true))
		log_warnx("crl: cannot write %s/%s", p->dir, CAS_FILE);
	if (!cas_save_file(p, IMS_FILE, false))
		log_warnx("crl: cannot write %s/%s", p->dir, IMS_FILE);
	ERR_clear_error();
}

/* Add one cache file's certificates to the set, of the given kind. */
static void
cas_load_file(struct pki_crl *p, const char *name, uint8_t kind)
{
	char path[4096];
	unsigned char *der;
	BIO *b;
	X509 *x;
	int l;

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	if ((b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return;
	}
	while (p->ncas < PKI_CAS_MAX &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		der = NULL;
		if ((l = i2d_X509(x, &der)) > 0 &&
		    (p->cas[p->ncas] = malloc((size_t)l)) != NULL) {
			memcpy(p->cas[p->ncas], der, (size_t)l);
			p->cas_kind[p->ncas] = kind;
			p->cas_len[p->ncas++] = (size_t)l;
		}
		OPENSSL_free(der);
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(b);
}

static void
cas_load(struct pki_crl *p)
{
	cas_load_file(p, CAS_FILE, PKI_CA_ROOT);
	/* (the file keeps no finer kind than "not an anchor") */
	cas_load_file(p, IMS_FILE, PKI_CA_AIA);
	if (p->ncas > 0)
		log_info("crl: %zu domain CA(s) from the cache", p->ncas);
}

/* A read of the domain's CAs finished: a new set, or the old one kept. */
static bool
cas_done(struct pki_crl *p, struct crl_job *j)
{
	size_t i;

	p->cas_busy = false;
	if (j->err[0] != '\0') {
		log_warnx("crl: the domain's CAs: %s (the %zu known are kept)",
		    j->err, p->ncas);
		return false;
	}
	for (i = 0; i < p->ncas; i++)
		free(p->cas[i]);
	for (i = 0; i < j->n; i++) {
		p->cas[i] = j->ders[i];
		p->cas_len[i] = j->lens[i];
		p->cas_kind[i] = j->kinds[i];
	}
	p->ncas = j->n;
	j->n = 0;
	cas_save(p);
	return true;
}

void
pki_cas_refresh(struct pki_crl *p)
{
	struct crl_job *j;

	if (p == NULL || p->cfg.cas_read == NULL || p->cas_busy)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;
	j->cas = true;
	p->cas_busy = true;
	pthread_mutex_lock(&p->mtx);
	j->next = p->todo;
	p->todo = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
}

size_t
pki_cas(const struct pki_crl *p, struct pa_bytes *out, uint8_t *kinds,
    size_t cap)
{
	size_t i;

	for (i = 0; p != NULL && i < p->ncas && i < cap; i++) {
		out[i].p = p->cas[i];
		out[i].len = p->cas_len[i];
		if (kinds != NULL)
			kinds[i] = p->cas_kind[i];
	}
	return i;
}

void
pki_crl_dispatch(struct pki_crl *p)
{
	struct crl_job *list, *j, *rev = NULL;
	uint64_t v;
	bool changed = false;

	if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("crl: eventfd");
	pthread_mutex_lock(&p->mtx);
	list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mtx);
	while (list != NULL) {		/* in the order they finished */
		j = list;
		list = j->next;
		j->next = rev;
		rev = j;
	}
	for (j = rev; j != NULL; j = j->next) {
		if (j->cas) {
			if (cas_done(p, j) && p->cfg.on_cas != NULL)
				p->cfg.on_cas(p->cfg.arg);
		} else if (job_done(p, j))
			changed = true;
	}
	jobs_free(rev);
	if (changed && p->cfg.on_update != NULL)
		p->cfg.on_update(p->cfg.arg);
}

int
pki_crl_fd(const struct pki_crl *p)
{
	return p != NULL ? p->efd : -1;
}

int
pki_crl_next_timeout_ms(const struct pki_crl *p, uint64_t now_ms)
{
	uint64_t due = 0;
	size_t i;

	if (p == NULL)
		return -1;
	for (i = 0; i < p->n; i++)
		if (p->ents[i].due_ms != 0 && (due == 0 ||
		    p->ents[i].due_ms < due))
			due = p->ents[i].due_ms;
	if (due == 0)
		return -1;
	if (due <= now_ms)
		return 0;
	return due - now_ms > INT32_MAX ? INT32_MAX : (int)(due - now_ms);
}

void
pki_crl_run_timers(struct pki_crl *p, uint64_t now_ms)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		if (p->ents[i].due_ms != 0 && p->ents[i].due_ms <= now_ms)
			ent_fetch(p, i);
}

size_t
pki_crl_ders(const struct pki_crl *p, struct pa_bytes *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; p != NULL && i < p->n && n < cap; i++)
		if (p->ents[i].der != NULL) {
			out[n].p = p->ents[i].der;
			out[n].len = p->ents[i].len;
			n++;
		}
	return n;
}

size_t
pki_crl_count(const struct pki_crl *p)
{
	return p != NULL ? p->n : 0;
}

void
pki_crl_info(const struct pki_crl *p, size_t i, struct pki_crl_info *out)
{
	const struct crl_ent *e = &p->ents[i];

	*out = e->info;
	out->uri = e->uri;
	out->last_error = e->err;
}
