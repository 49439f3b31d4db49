/*
 * What the engine tells and draws: the clock, the Oakley log, audit
 * events (547 from one place), random bytes (a test hook may stand in)
 * and the digest used to spot retransmissions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "ike_sa.h"
#include "pa_time.h"

uint64_t
ike_now(void)
{
	return pa_now_ms();
}

void
ike_olog(struct ike *ike, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (ike->cfg.olog == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ike->cfg.olog(ike->cfg.olog_arg, line);
}

int
ike_rand(struct ike *ike, void *p, size_t n)
{
	if (ike->cfg.rand_hook != NULL) {
		ike->cfg.rand_hook(ike->cfg.rand_arg, p, n);
		return 0;
	}
	return oak_random(p, n);
}

void
ike_audit(struct ike *ike, int event, const char *const *kv, size_t n)
{
	struct audit_field f[16];
	size_t i;

	for (i = 0; i < n / 2 && i < 16; i++) {
		f[i].key = kv[2 * i];
		f[i].value = kv[2 * i + 1] != NULL ? kv[2 * i + 1] : "";
	}
	audit_emit(ike->cfg.audit, (enum audit_event)event, f, i);
}

void
ike_audit_fail(struct ike *ike, const char *mode, const struct pa_addr *peer,
    const char *point, const char *reason)
{
	char pa[PA_ADDRSTRLEN], pid[80];
	const char *kv[12];

	snprintf(pid, sizeof(pid), "Peer IP Address: %s",
	    pa_addr_str(peer, pa, sizeof(pa)));
	kv[0] = "Mode"; kv[1] = mode;
	kv[2] = "Filter"; kv[3] = "";
	kv[4] = "Peer Identity"; kv[5] = pid;
	kv[6] = "Failure Point"; kv[7] = point;
	kv[8] = "Failure Reason"; kv[9] = reason;
	kv[10] = "Extra Status"; kv[11] = "";
	ike_audit(ike, AUDIT_IKE_NEG_FAILED, kv, 12);
	ike->st.negotiation_failures++;
}

void
ike_digest(const uint8_t *p, size_t len, uint8_t out[20])
{
	struct pa_bytes b = { p, len };

	if (oak_hash(ISK_HASH_SHA1, &b, 1, out) != 0)
		memset(out, 0, 20);
}
