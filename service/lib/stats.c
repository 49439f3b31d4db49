/*
 * Statistics. JSON keys are snake_case (the one JSON style, format version
 * 1); each counter keeps the display name of the Windows 2000 ipsecmon /
 * XP IP Security Monitor, which the text output shows, so an operator
 * finds the counter they know.
 */
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "stats_names.h"

struct stat_name {
	const char	*key;		/* JSON key */
	const char	*label;		/* ipsecmon's name */
	size_t		 off;
};

#define IKE(f, k, n)	{ k, n, offsetof(struct ike_stats, f) }
#define DRV(f, k, n)	{ k, n, offsetof(struct drv_stats, f) }
#define NONE(k, n)	{ k, n, 0 }

static const struct stat_name oakley[] = {
	IKE(main_modes, "main_modes", "Main Modes"),
	IKE(quick_modes, "quick_modes", "Quick Modes"),
	IKE(soft_associations, "soft_associations", "Soft Associations"),
	IKE(auth_failures, "authentication_failures",
	    "Authentication Failures"),
	IKE(negotiation_failures, "negotiation_failures",
	    "Negotiation Failures"),
	IKE(invalid_packets, "invalid_packets_received",
	    "Invalid Packets Received"),
	IKE(invalid_cookies, "invalid_cookies_received",
	    "Invalid Cookies Received"),
	IKE(active_acquire, "active_acquire", "Active Acquire"),
	IKE(active_receive, "active_receive", "Active Receive"),
	IKE(acquire_failures, "acquire_failures", "Acquire Failures"),
	IKE(receive_failures, "receive_failures", "Receive Failures"),
	IKE(send_failures, "send_failures", "Send Failures"),
	IKE(total_acquire, "total_acquire", "Total Acquire"),
	IKE(total_get_spi, "total_get_spi", "Total Get SPI"),
	IKE(get_spi_failures, "get_spi_failures", "Get SPI Failures"),
	IKE(key_additions, "key_additions", "Key Additions"),
	IKE(key_addition_failures, "key_addition_failures",
	    "Key Addition Failures"),
	IKE(retransmits, "retransmissions", "Retransmissions"),
	IKE(dropped_halfopen, "half_open_negotiations_refused",
	    "Half-open Negotiations Refused"),
	IKE(dos_cookies_sent, "dos_cookies_sent", "DoS Cookies Sent"),
	IKE(rx_overflows, "datagrams_dropped_receive_buffer",
	    "Datagrams Dropped (Receive Buffer)"),
	IKE(dh_precomputed, "key_pairs_made_ahead", "Key Pairs Made Ahead"),
	IKE(active_mmsas, "active_main_mode_sas", "Active Main Mode SAs"),
};

static const struct stat_name ipsec[] = {
	DRV(active_sas, "active_security_associations",
	    "Active Security Associations"),
	DRV(bad_spi, "bad_spi_packets", "Bad SPI Packets"),
	DRV(not_decrypted, "packets_not_decrypted", "Packets Not Decrypted"),
	DRV(not_authenticated, "packets_not_authenticated",
	    "Packets Not Authenticated"),
	DRV(replay, "packets_with_replay_detection",
	    "Packets With Replay Detection"),
	DRV(cleartext_drops, "unexpected_clear_text_packets",
	    "Unexpected Clear Text Packets"),
	DRV(blocked, "blocked_packets", "Blocked Packets"),
	DRV(queued, "packets_held_during_negotiation",
	    "Packets Held During Negotiation"),
	DRV(queue_drops, "held_packets_dropped", "Held Packets Dropped"),
	DRV(conf_bytes_sent, "confidential_sent_bytes",
	    "Confidential Bytes Sent"),
	DRV(conf_bytes_recv, "confidential_received_bytes",
	    "Confidential Bytes Received"),
	DRV(auth_bytes_sent, "authenticated_sent_bytes",
	    "Authenticated Bytes Sent"),
	DRV(auth_bytes_recv, "authenticated_received_bytes",
	    "Authenticated Bytes Received"),
};

/* Set by svc_stats_json from other sources; named here for the labels. */
static const struct stat_name ipsec_more[] = {
	NONE("key_additions", "Key Additions"),
	NONE("key_deletions", "Key Deletions"),
	NONE("rekeys", "Rekeys"),
	NONE("active_quick_mode_sas", "Active Quick Mode SAs"),
};

static const struct stat_name agent[] = {
	NONE("policy_applications", "Policy Applications"),
	NONE("policy_rejections", "Policy Rejections"),
	NONE("acquires_refused_while_paused",
	    "Acquires Refused While Paused"),
	NONE("driver_errors", "Driver Errors"),
	NONE("audit_records", "Audit Records"),
	NONE("audit_repeats_folded", "Audit Repeats Folded"),
	NONE("audit_write_errors", "Audit Write Errors"),
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
find_label(const struct stat_name *t, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].key, key) == 0)
			return t[i].label;
	return NULL;
}

const char *
svc_stats_label(const char *table, const char *key)
{
	const char *l = NULL;

	if (strcmp(table, "oakley") == 0)
		l = find_label(oakley, NELEM(oakley), key);
	else if (strcmp(table, "ipsec") == 0 &&
	    (l = find_label(ipsec, NELEM(ipsec), key)) == NULL)
		l = find_label(ipsec_more, NELEM(ipsec_more), key);
	else if (strcmp(table, "agent") == 0)
		l = find_label(agent, NELEM(agent), key);
	return l != NULL ? l : key;
}

static json_t *
table(const void *base, const struct stat_name *t, size_t n)
{
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)base + t[i].off, sizeof(v));
		json_object_set_new(o, t[i].key, json_integer((json_int_t)v));
	}
	return o;
}

static void
set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

void *
svc_stats_json(const struct agent_stats *st, uint64_t emitted,
    uint64_t folded, uint64_t errors)
{
	json_t *ok = table(&st->ike, oakley, NELEM(oakley));
	json_t *ip = table(&st->drv, ipsec, NELEM(ipsec));
	json_t *ag = json_object();

	if (ok == NULL || ip == NULL || ag == NULL) {
		json_decref(ok);
		json_decref(ip);
		json_decref(ag);
		return NULL;
	}
	/* IPsec SA bookkeeping is done by IKE's key operations. */
	set_u64(ip, "key_additions", st->ike.key_additions);
	set_u64(ip, "key_deletions", st->ike.key_deletions);
	set_u64(ip, "rekeys", st->rekeys);
	set_u64(ip, "active_quick_mode_sas", st->ike.active_qmsas);
	set_u64(ag, "policy_applications", st->policy_applied);
	set_u64(ag, "policy_rejections", st->policy_rejected);
	set_u64(ag, "acquires_refused_while_paused", st->acquires_refused);
	set_u64(ag, "driver_errors", st->driver_errors);
	set_u64(ag, "audit_records", emitted);
	set_u64(ag, "audit_repeats_folded", folded);
	set_u64(ag, "audit_write_errors", errors);
	return json_pack("{s:o,s:o,s:o}", "oakley", ok, "ipsec", ip,
	    "agent", ag);
}
