/*
 * Statistics under their ipsecmon names. The keys are the display names
 * of the Windows 2000 ipsecmon / XP IP Security Monitor, so an operator
 * finds the counter they know.
 */
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "stats_names.h"

struct stat_name {
	const char	*name;
	size_t		 off;
};

#define IKE(f, n)	{ n, offsetof(struct ike_stats, f) }
#define DRV(f, n)	{ n, offsetof(struct drv_stats, f) }

static const struct stat_name oakley[] = {
	IKE(main_modes, "Main Modes"),
	IKE(quick_modes, "Quick Modes"),
	IKE(soft_associations, "Soft Associations"),
	IKE(auth_failures, "Authentication Failures"),
	IKE(negotiation_failures, "Negotiation Failures"),
	IKE(invalid_packets, "Invalid Packets Received"),
	IKE(invalid_cookies, "Invalid Cookies Received"),
	IKE(active_acquire, "Active Acquire"),
	IKE(active_receive, "Active Receive"),
	IKE(acquire_failures, "Acquire Failures"),
	IKE(receive_failures, "Receive Failures"),
	IKE(send_failures, "Send Failures"),
	IKE(total_acquire, "Total Acquire"),
	IKE(total_get_spi, "Total Get SPI"),
	IKE(get_spi_failures, "Get SPI Failures"),
	IKE(key_additions, "Key Additions"),
	IKE(key_addition_failures, "Key Addition Failures"),
	IKE(retransmits, "Retransmissions"),
	IKE(dropped_halfopen, "Half-open Negotiations Refused"),
	IKE(dos_cookies_sent, "DoS Cookies Sent"),
	IKE(rx_overflows, "Datagrams Dropped (Receive Buffer)"),
	IKE(dh_precomputed, "Key Pairs Made Ahead"),
	IKE(active_mmsas, "Active Main Mode SAs"),
};

static const struct stat_name ipsec[] = {
	DRV(active_sas, "Active Security Associations"),
	DRV(bad_spi, "Bad SPI Packets"),
	DRV(not_decrypted, "Packets Not Decrypted"),
	DRV(not_authenticated, "Packets Not Authenticated"),
	DRV(replay, "Packets With Replay Detection"),
	DRV(cleartext_drops, "Unexpected Clear Text Packets"),
	DRV(blocked, "Blocked Packets"),
	DRV(queued, "Packets Held During Negotiation"),
	DRV(queue_drops, "Held Packets Dropped"),
	DRV(conf_bytes_sent, "Confidential Bytes Sent"),
	DRV(conf_bytes_recv, "Confidential Bytes Received"),
	DRV(auth_bytes_sent, "Authenticated Bytes Sent"),
	DRV(auth_bytes_recv, "Authenticated Bytes Received"),
};

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
		json_object_set_new(o, t[i].name, json_integer((json_int_t)v));
	}
	return o;
}

void *
svc_stats_json(const struct agent_stats *st, uint64_t emitted,
    uint64_t folded, uint64_t errors)
{
	json_t *ok = table(&st->ike, oakley, sizeof(oakley) / sizeof(oakley[0]));
	json_t *ip = table(&st->drv, ipsec, sizeof(ipsec) / sizeof(ipsec[0]));

	if (ok == NULL || ip == NULL) {
		json_decref(ok);
		json_decref(ip);
		return NULL;
	}
	/* IPsec SA bookkeeping is done by IKE's key operations. */
	json_object_set_new(ip, "Key Additions",
	    json_integer((json_int_t)st->ike.key_additions));
	json_object_set_new(ip, "Key Deletions",
	    json_integer((json_int_t)st->ike.key_deletions));
	json_object_set_new(ip, "Rekeys", json_integer((json_int_t)st->rekeys));
	json_object_set_new(ip, "Active Quick Mode SAs",
	    json_integer((json_int_t)st->ike.active_qmsas));
	return json_pack("{s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
	    "oakley", ok, "ipsec", ip, "agent",
	    "Policy Applications", (json_int_t)st->policy_applied,
	    "Policy Rejections", (json_int_t)st->policy_rejected,
	    "Acquires Refused While Paused", (json_int_t)st->acquires_refused,
	    "Driver Errors", (json_int_t)st->driver_errors,
	    "Audit Records", (json_int_t)emitted,
	    "Audit Repeats Folded", (json_int_t)folded,
	    "Audit Write Errors", (json_int_t)errors);
}
