/*
 * Certificate revocation lists fetched from the distribution points the
 * certificates name (RFC 5280 4.2.1.13): HTTP through libcurl, LDAP
 * through the caller (the directory client, bound as the machine), kept
 * in a root-only cache directory across restarts and fetched again when
 * their nextUpdate comes.
 *
 * The IKE engine asks for a distribution point (pki_crl_want) when it
 * verified a peer's chain; one worker thread fetches, the caller's thread
 * takes the result (pki_crl_dispatch on the event fd), checks that it is
 * a CRL, writes it to the cache and calls on_update. The CRL's signature
 * is checked where it is used (OpenSSL's verification, against the CA
 * that issued it): a forged or garbled CRL revokes nothing.
 */
#ifndef PA_PKI_CRL_H
#define PA_PKI_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pa_buf.h"
#include "pa_err.h"

#define PKI_CRL_MAX		256	/* distribution points remembered */
#define PKI_CAS_MAX		32	/* the domain's enterprise CAs */
/*
 * Where a domain CA certificate comes from: CN=Certification Authorities
 * (the enterprise roots: trust anchors), CN=AIA and NTAuthCertificates
 * (issuing CAs: they only help build a chain up to an anchor).
 */
enum pki_ca_kind {
	PKI_CA_ROOT = 0,
	PKI_CA_AIA = 1,
	PKI_CA_NTAUTH = 2
};
#define PKI_CRL_URI_MAX		1024

struct pki_crl_cfg {
	const char	*cache_dir;	/* created 0700 when missing */
	bool		 fetch_crls;	/* no: pki_crl_want does nothing */
	unsigned	 timeout_s;	/* one fetch; 0 = 15 */
	unsigned	 retry_s;	/* after a failed fetch; 0 = 300 */
	unsigned	 refresh_s;	/* a CRL without nextUpdate; 0 = 3600 */
	size_t		 max_bytes;	/* one CRL; 0 = 16 MiB */
	/*
	 * The directory, used only in the worker thread: ldap_read reads
	 * what an ldap:// or ldaps:// URL names into *body (malloc'd);
	 * cas_read reads the domain's enterprise CA certificates (DER,
	 * malloc'd, *n of them, at most max, each with its enum pki_ca_kind)
	 * for pki_cas_refresh. They say
	 * why not in err. ldap_arg is theirs, freed with ldap_free when the
	 * cache is freed (or, if a read is under way then, when it ends).
	 * NULL ldap_read: such points are not fetched; NULL cas_read: no
	 * domain CAs.
	 */
	int		(*ldap_read)(void *ldap_arg, const char *url,
			    uint8_t **body, size_t *len, char *err,
			    size_t errcap);
	int		(*cas_read)(void *ldap_arg, uint8_t **ders,
			    size_t *lens, uint8_t *kinds, size_t max,
			    size_t *n, char *err, size_t errcap);
	void		*ldap_arg;
	void		(*ldap_free)(void *ldap_arg);
	/* A new set of domain CAs was read (not called when a read fails). */
	void		(*on_cas)(void *arg);
	/* The set of CRLs at hand changed (a fetch brought a new one). */
	void		(*on_update)(void *arg);
	void		*arg;
};

/* What show and the tests see of a distribution point. */
struct pki_crl_info {
	const char	*uri;
	char		 issuer[256];	/* RFC 2253, or "" before a fetch */
	time_t		 this_update;	/* 0: no CRL yet */
	time_t		 next_update;	/* 0: none in the CRL */
	size_t		 revoked;	/* entries in the CRL */
	time_t		 fetched;	/* wall clock of the last success */
	unsigned	 failures;	/* in a row */
	const char	*last_error;	/* "" after a success */
};

struct pki_crl;

int	pki_crl_new(const struct pki_crl_cfg *, struct pki_crl **out)
	    PA_MUST_USE;
/* NULL is a no-op. Does not wait for a fetch under way (it ends alone). */
void	pki_crl_free(struct pki_crl *);
/*
 * Fetch uri (http://, https://, and ldap:// or ldaps:// with ldap_read)
 * unless it is known: now, and from then on when its CRL's nextUpdate
 * comes. Other schemes are remembered with an error (shown), not fetched.
 */
void	pki_crl_want(struct pki_crl *, const char *uri);
/* The CRLs at hand (DER, owned by the cache, valid until the next call). */
size_t	pki_crl_ders(const struct pki_crl *, struct pa_bytes *out, size_t cap);
size_t	pki_crl_count(const struct pki_crl *);
/*
 * Read the domain's CAs again (one read at a time). The last set read is
 * kept in the cache (domain-cas.pem, the anchors, and domain-ims.pem,
 * the others) and is what pki_cas gives (DER, owned by the cache, valid
 * until the next dispatch; kinds may be NULL); a failed read keeps it.
 */
void	pki_cas_refresh(struct pki_crl *);
size_t	pki_cas(const struct pki_crl *, struct pa_bytes *out,
	    uint8_t *kinds, size_t cap);
void	pki_crl_info(const struct pki_crl *, size_t i, struct pki_crl_info *);

/* Event loop: the worker's event fd, its results, the refresh timers. */
int	pki_crl_fd(const struct pki_crl *);
void	pki_crl_dispatch(struct pki_crl *);
int	pki_crl_next_timeout_ms(const struct pki_crl *, uint64_t now_ms);
void	pki_crl_run_timers(struct pki_crl *, uint64_t now_ms);

/*
 * A fetched body as a CRL: DER, or PEM ("-----BEGIN X509 CRL-----").
 * On success *der (malloc'd) holds it as DER. Exposed for the fuzzer.
 */
int	pki_crl_parse(const uint8_t *body, size_t len, uint8_t **der,
	    size_t *derlen, struct pki_crl_info *) PA_MUST_USE;

#endif
