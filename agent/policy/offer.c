/*
 * qmsecmethods: the text form of Quick Mode offers (see offer.h). The
 * input is an administrator's (ipseccmd), so the parser works on a
 * bounded copy and every rejection says what it did not understand
 * (fuzz_offers).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "offer.h"

#define OFFER_SPEC_MAX	4096	/* longer than any sane list of offers */
#define OFFER_PART_MAX	64

static int	bad(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
bad(char *what, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(what, cap, "qmsecmethods: ");
	if (n < 0 || (size_t)n >= cap)
		return PA_E_INVAL;
	va_start(ap, fmt);
	vsnprintf(what + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
	return PA_E_INVAL;
}

/* "AH[SHA1]", "ESP[3DES,SHA1]", "ESP[AESGCM128]" into o. */
static int
parse_part(const char *part, struct pol_qm_offer *o, char *what, size_t cap)
{
	char buf[OFFER_PART_MAX], *open, *close, *comma;

	if (strlen(part) >= sizeof(buf))
		return bad(what, cap, "'%.32s...' too long", part);
	strcpy(buf, part);
	if ((open = strchr(buf, '[')) == NULL ||
	    (close = strchr(open, ']')) == NULL || close[1] != '\0')
		return bad(what, cap, "'%s' is not AH[HASH], ESP[CIPHER,HASH] "
		    "or ESP[AESGCMnnn]", part);
	*open++ = '\0';
	*close = '\0';
	if (strcasecmp(buf, "AH") == 0) {
		if (o->ah)
			return bad(what, cap, "AH twice");
		o->ah = true;
		if (pol_integ_parse(open, &o->ah_integ) != 0 ||
		    o->ah_integ == POL_INTEG_NONE)
			return bad(what, cap, "unknown AH algorithm '%s' (MD5, "
			    "SHA1, SHA256)", open);
		return 0;
	}
	if (strcasecmp(buf, "ESP") != 0)
		return bad(what, cap, "unknown protocol '%s' (AH or ESP)", buf);
	if (o->esp)
		return bad(what, cap, "ESP twice");
	o->esp = true;
	if ((comma = strchr(open, ',')) != NULL)
		*comma++ = '\0';
	if (pol_esp_cipher_parse(open, &o->esp_cipher) != 0)
		return bad(what, cap, "unknown ESP cipher '%s' (NONE, DES, "
		    "3DES, AES128, AES192, AES256, AESGCM128, AESGCM192, "
		    "AESGCM256)", open);
	if (pol_esp_cipher_is_gcm(o->esp_cipher)) {
		/* Integrity is GCM's own: ESP[AESGCM128] or ...,NONE]. */
		o->esp_integ = POL_INTEG_NONE;
		if (comma != NULL && (pol_integ_parse(comma, &o->esp_integ) !=
		    0 || o->esp_integ != POL_INTEG_NONE))
			return bad(what, cap, "'%s': %s includes its "
			    "integrity (write ESP[%s])", part,
			    pol_esp_cipher_name(o->esp_cipher),
			    pol_esp_cipher_name(o->esp_cipher));
		return 0;
	}
	if (comma == NULL)
		return bad(what, cap, "ESP[%s] needs CIPHER,HASH", open);
	if (pol_integ_parse(comma, &o->esp_integ) != 0)
		return bad(what, cap, "unknown ESP integrity '%s' (NONE, MD5, "
		    "SHA1, SHA256)", comma);
	if (o->esp_cipher == POL_ESP_NONE && o->esp_integ == POL_INTEG_NONE)
		return bad(what, cap, "ESP[NONE,NONE] protects nothing");
	return 0;
}

/* "3600s/100000kb" (either order; k or kb). */
static int
parse_life(const char *s, struct pol_qm_offer *o, char *what, size_t cap)
{
	char buf[OFFER_PART_MAX], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return bad(what, cap, "lifetime '%.32s...' too long", s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		size_t n = strlen(tok);
		unsigned long long v;
		char *end;
		bool kb = false;

		if (n > 2 && strcasecmp(tok + n - 2, "kb") == 0) {
			kb = true;
			tok[n - 2] = '\0';
		} else if (n > 1 && (tok[n - 1] == 'k' || tok[n - 1] == 'K')) {
			kb = true;
			tok[n - 1] = '\0';
		} else if (n > 1 && (tok[n - 1] == 's' || tok[n - 1] == 'S'))
			tok[n - 1] = '\0';
		else
			return bad(what, cap, "lifetime '%s' needs a unit (s or "
			    "kb)", tok);
		errno = 0;
		v = strtoull(tok, &end, 10);
		if (*tok < '0' || *tok > '9' || *end != '\0' || errno != 0 ||
		    v == 0 || v > UINT32_MAX)
			return bad(what, cap, "bad lifetime '%s'", tok);
		if (kb)
			o->life_kb = (uint32_t)v;
		else
			o->life_sec = (uint32_t)v;
	}
	return 0;
}

int
pol_offers_parse(const char *spec, struct pol_qm_offer **out, size_t *nout,
    char *what, size_t cap)
{
	struct pol_qm_offer *v = NULL, *o;
	char *copy, *tok, *save = NULL;
	size_t n = 0;
	int rc = 0;

	if (strlen(spec) > OFFER_SPEC_MAX)
		return bad(what, cap, "longer than %d characters",
		    OFFER_SPEC_MAX);
	if ((copy = strdup(spec)) == NULL)
		return PA_E_NOMEM;
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *life, *plus, *part;

		if ((o = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			rc = PA_E_NOMEM;
			goto out;
		}
		v = o;
		o = &v[n++];
		memset(o, 0, sizeof(*o));
		o->life_sec = POL_DEFAULT_QM_LIFE_SEC;
		o->life_kb = POL_DEFAULT_QM_LIFE_KB;
		if ((life = strchr(tok, ':')) != NULL) {
			*life++ = '\0';
			if ((rc = parse_life(life, o, what, cap)) != 0)
				goto out;
		}
		for (part = tok; part != NULL; part = plus) {
			if ((plus = strchr(part, '+')) != NULL)
				*plus++ = '\0';
			if ((rc = parse_part(part, o, what, cap)) != 0)
				goto out;
		}
	}
	if (n == 0) {
		rc = bad(what, cap, "empty");
		goto out;
	}
	*out = v;
	*nout = n;
	v = NULL;
out:
	free(v);
	free(copy);
	return rc;
}

void
pol_offer_format(const struct pol_qm_offer *o, char *buf, size_t cap)
{
	char a[32] = "", e[48] = "";

	if (o->ah)
		snprintf(a, sizeof(a), "AH[%s]", pol_integ_name(o->ah_integ));
	if (o->esp && pol_esp_cipher_is_gcm(o->esp_cipher))
		snprintf(e, sizeof(e), "ESP[%s]",
		    pol_esp_cipher_name(o->esp_cipher));
	else if (o->esp)
		snprintf(e, sizeof(e), "ESP[%s,%s]",
		    pol_esp_cipher_name(o->esp_cipher),
		    pol_integ_name(o->esp_integ));
	snprintf(buf, cap, "%s%s%s:%us/%ukb%s", a, o->ah && o->esp ? "+" : "",
	    e, o->life_sec, o->life_kb, o->pfs ? " (PFS)" : "");
}
