/*
 * The closed list of audit events and audit_emit(), with folding of
 * identical failure bursts: the first event of a burst reaches the sink at
 * once, the repeats within AUDIT_FOLD_WINDOW_MS are counted, and one more
 * record carrying "Repeated" = count follows when the window closes. An
 * event is never dropped without a count.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "pa_time.h"

#define AUDIT_MAX_FIELDS	24

struct audit_slot {
	bool			 used;
	enum audit_event	 ev;
	struct audit_field	 f[AUDIT_MAX_FIELDS];	/* owned copies */
	size_t			 n;
	uint64_t		 first_ms;
	uint64_t		 repeats;
};

struct audit {
	audit_sink_fn		 sink;
	void			*arg;
	pthread_mutex_t		 mtx;
	struct audit_slot	 slots[AUDIT_FOLD_SLOTS];
	uint64_t		 emitted;
	uint64_t		 folded;
	uint64_t		(*now)(void *);
	void			*now_arg;
};

static const struct {
	enum audit_event	 id;
	const char		*name;
} audit_names[] = {
	{ AUDIT_IKE_SA_ESTABLISHED, "IPSEC_LOGON_SUCCESS" },
	{ AUDIT_IKE_QM_SA_ENDED, "IPSEC_LOGOFF_QM" },
	{ AUDIT_IKE_MM_SA_ENDED, "IPSEC_LOGOFF_MM" },
	{ AUDIT_IKE_CERT_TRUST, "IPSEC_AUTH_FAIL_CERT_TRUST" },
	{ AUDIT_IKE_AUTH_FAILED, "IPSEC_AUTH_FAIL" },
	{ AUDIT_IKE_BAD_PROPOSAL, "IPSEC_ATTRIB_FAIL" },
	{ AUDIT_IKE_NEG_FAILED, "IPSEC_NEGOTIATION_FAIL" },
	{ AUDIT_IKE_NOTIFICATION, "IPSEC_IKE_NOTIFICATION" },
	{ AUDIT_PA_STARTED, "IPSEC_POLICY_START" },
	{ AUDIT_PA_DISABLED, "IPSEC_POLICY_DISABLED" },
	{ AUDIT_PA_POLICY_CHANGED, "IPSEC_POLICY_CHANGED" },
	{ AUDIT_PA_FAILURE, "IPSEC_POLICY_FAILURE" },
	{ AUDIT_DRV_BAD_SPI, "IPSEC_BAD_SPI_RECEIVED" },
	{ AUDIT_DRV_CLEARTEXT, "IPSEC_UNEXPECTED_CLEARTEXT" },
	{ AUDIT_DRV_AUTH_FAILURE, "IPSEC_AUTH_FAILURE" },
	{ AUDIT_DRV_BAD_SYNTAX, "IPSEC_BAD_PACKET_SYNTAX" },
	{ AUDIT_DRV_REPLAY, "IPSEC_REPLAY_DETECTED" },
	{ AUDIT_DRV_BLOCKED, "IPSEC_BLOCKED" },
	{ AUDIT_DRV_OUT_DROPPED, "IPSEC_OUTBOUND_DROPPED" },
	{ AUDIT_DRV_LEFTOVER, "IPSEC_BLOCK_STATE_FOUND" },
	{ AUDIT_CTL_CHANGE, "CONTROL_CHANGE" },
	{ AUDIT_CTL_DENIED, "CONTROL_ACCESS_DENIED" },
	{ AUDIT_SEALED, "IPSEC_AUDIT_SEALED" },
	{ AUDIT_CHAIN_BROKEN, "IPSEC_AUDIT_CHAIN_BROKEN" },
};

static uint64_t
audit_default_now(void *arg)
{
	(void)arg;
	return pa_now_ms();
}

struct audit *
audit_new(void)
{
	struct audit *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	pthread_mutex_init(&a->mtx, NULL);
	a->now = audit_default_now;
	return a;
}

static void
slot_clear(struct audit_slot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free((char *)(uintptr_t)s->f[i].key);
		free((char *)(uintptr_t)s->f[i].value);
	}
	memset(s, 0, sizeof(*s));
}

void
audit_free(struct audit *a)
{
	size_t i;

	if (a == NULL)
		return;
	audit_flush(a);
	for (i = 0; i < AUDIT_FOLD_SLOTS; i++)
		slot_clear(&a->slots[i]);
	pthread_mutex_destroy(&a->mtx);
	free(a);
}

void
audit_set_sink(struct audit *a, audit_sink_fn sink, void *arg)
{
	pthread_mutex_lock(&a->mtx);
	a->sink = sink;
	a->arg = arg;
	pthread_mutex_unlock(&a->mtx);
}

void
audit_set_clock(struct audit *a, uint64_t (*now_ms)(void *), void *arg)
{
	a->now = now_ms != NULL ? now_ms : audit_default_now;
	a->now_arg = now_ms != NULL ? arg : NULL;
}

int
audit_event_folds(enum audit_event ev)
{
	switch (ev) {
	case AUDIT_IKE_CERT_TRUST:
	case AUDIT_IKE_AUTH_FAILED:
	case AUDIT_IKE_BAD_PROPOSAL:
	case AUDIT_IKE_NEG_FAILED:
	case AUDIT_IKE_NOTIFICATION:
	case AUDIT_PA_FAILURE:
	case AUDIT_DRV_BAD_SPI:
	case AUDIT_DRV_CLEARTEXT:
	case AUDIT_DRV_AUTH_FAILURE:
	case AUDIT_DRV_BAD_SYNTAX:
	case AUDIT_DRV_REPLAY:
	case AUDIT_DRV_BLOCKED:
	case AUDIT_DRV_OUT_DROPPED:
	case AUDIT_CTL_DENIED:
		return 1;
	default:
		return 0;
	}
}

/* Hand an event to the sink (lock held). */
static void
sink_out(struct audit *a, enum audit_event ev, const struct audit_field *f,
    size_t n)
{
	a->emitted++;
	if (a->sink != NULL)
		a->sink(a->arg, ev, f, n);
}

/* The folded record of a slot, if it has repeats (lock held). */
static void
slot_emit_repeats(struct audit *a, struct audit_slot *s)
{
	struct audit_field f[AUDIT_MAX_FIELDS + 1];
	char cnt[24];

	if (s->repeats == 0)
		return;
	memcpy(f, s->f, s->n * sizeof(f[0]));
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)s->repeats);
	f[s->n].key = "Repeated";
	f[s->n].value = cnt;
	sink_out(a, s->ev, f, s->n + 1);
	s->repeats = 0;
}

static bool
slot_matches(const struct audit_slot *s, enum audit_event ev,
    const struct audit_field *f, size_t n)
{
	size_t i;

	if (!s->used || s->ev != ev || s->n != n)
		return false;
	for (i = 0; i < n; i++) {
		const char *k = f[i].key != NULL ? f[i].key : "";
		const char *v = f[i].value != NULL ? f[i].value : "";

		if (strcmp(s->f[i].key, k) != 0 || strcmp(s->f[i].value, v) != 0)
			return false;
	}
	return true;
}

/* Remember an event in slot s; false if out of memory (lock held). */
static bool
slot_fill(struct audit_slot *s, enum audit_event ev,
    const struct audit_field *f, size_t n, uint64_t now)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->used = true;
	s->ev = ev;
	s->first_ms = now;
	for (i = 0; i < n; i++) {
		s->f[i].key = strdup(f[i].key != NULL ? f[i].key : "");
		s->f[i].value = strdup(f[i].value != NULL ? f[i].value : "");
		s->n = i + 1;
		if (s->f[i].key == NULL || s->f[i].value == NULL) {
			slot_clear(s);
			return false;
		}
	}
	return true;
}

void
audit_emit(struct audit *a, enum audit_event ev,
    const struct audit_field *f, size_t n)
{
	struct audit_slot *s, *oldest = NULL, *free_slot = NULL;
	uint64_t now;
	size_t i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	if (!audit_event_folds(ev) || n > AUDIT_MAX_FIELDS) {
		sink_out(a, ev, f, n);
		goto out;
	}
	now = a->now(a->now_arg);
	for (i = 0; i < AUDIT_FOLD_SLOTS; i++) {
		s = &a->slots[i];
		if (slot_matches(s, ev, f, n)) {
			if (now - s->first_ms < AUDIT_FOLD_WINDOW_MS) {
				s->repeats++;
				a->folded++;
				goto out;
			}
			/* The window closed: report it, start a new one. */
			slot_emit_repeats(a, s);
			slot_clear(s);
			free_slot = s;
			break;
		}
		if (!s->used && free_slot == NULL)
			free_slot = s;
		if (s->used && (oldest == NULL || s->first_ms < oldest->first_ms))
			oldest = s;
	}
	if (free_slot == NULL) {
		/* Full: close the oldest window early, with its count. */
		slot_emit_repeats(a, oldest);
		slot_clear(oldest);
		free_slot = oldest;
	}
	sink_out(a, ev, f, n);
	(void)slot_fill(free_slot, ev, f, n, now);
out:
	pthread_mutex_unlock(&a->mtx);
}

void
audit_tick(struct audit *a, uint64_t now_ms)
{
	size_t i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	for (i = 0; i < AUDIT_FOLD_SLOTS; i++) {
		struct audit_slot *s = &a->slots[i];

		if (s->used && now_ms - s->first_ms >= AUDIT_FOLD_WINDOW_MS) {
			slot_emit_repeats(a, s);
			slot_clear(s);
		}
	}
	pthread_mutex_unlock(&a->mtx);
}

int
audit_next_timeout_ms(const struct audit *a, uint64_t now_ms)
{
	uint64_t best = UINT64_MAX, due;
	size_t i;

	if (a == NULL)
		return -1;
	/* Only slots with repeats need a timer; others expire lazily. */
	for (i = 0; i < AUDIT_FOLD_SLOTS; i++) {
		const struct audit_slot *s = &a->slots[i];

		if (!s->used || s->repeats == 0)
			continue;
		due = s->first_ms + AUDIT_FOLD_WINDOW_MS;
		if (due < best)
			best = due;
	}
	if (best == UINT64_MAX)
		return -1;
	return best <= now_ms ? 0 : (int)(best - now_ms);
}

void
audit_flush(struct audit *a)
{
	size_t i;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mtx);
	for (i = 0; i < AUDIT_FOLD_SLOTS; i++) {
		slot_emit_repeats(a, &a->slots[i]);
		slot_clear(&a->slots[i]);
	}
	pthread_mutex_unlock(&a->mtx);
}

uint64_t
audit_emitted(const struct audit *a)
{
	return a != NULL ? a->emitted : 0;
}

uint64_t
audit_folded(const struct audit *a)
{
	return a != NULL ? a->folded : 0;
}

const char *
audit_event_name(enum audit_event ev)
{
	size_t i;

	for (i = 0; i < sizeof(audit_names) / sizeof(audit_names[0]); i++)
		if (audit_names[i].id == ev)
			return audit_names[i].name;
	return "UNKNOWN";
}

int
audit_event_known(int id)
{
	return audit_event_name((enum audit_event)id)[0] != 'U';
}
