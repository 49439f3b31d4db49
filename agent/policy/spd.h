/*
 * The compiled security policy database (SPD): what the driver shim and
 * the IKE engine consume.
 *
 * pol_spd_compile() expands a policy: mirrored filters become two
 * directions, "my IP address" becomes one entry per local address, DNS
 * filters one per resolved address; entries are ordered most specific
 * first by a documented weight (docs/policy.md) with deterministic ties.
 * pol_spd_match() answers which entry wins for a packet, without a
 * linear scan.
 *
 * An SPD is immutable once compiled and borrows the store it was compiled
 * from: keep the store alive (and unchanged) as long as the SPD.
 */
#ifndef PA_POLICY_SPD_H
#define PA_POLICY_SPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

enum pol_dir {
	POL_DIR_OUT = 1,	/* from this host (src = local side) */
	POL_DIR_IN = 2
};

struct pol_spd_entry {
	uint32_t			 index;		/* position, 0 = wins first */
	uint64_t			 weight;	/* larger = more specific */
	enum pol_dir			 dir;
	struct pa_prefix		 src;
	struct pa_prefix		 dst;
	uint8_t				 proto;		/* 0 = any */
	uint16_t			 sport;		/* 0 = any */
	uint16_t			 dport;
	enum pol_action			 action;
	bool				 inpass;
	bool				 soft;
	struct pa_addr			 tunnel;	/* unset = transport */
	/* Borrowed from the store. */
	const struct pol_policy		*policy;
	const struct pol_rule		*rule;
	const struct pol_filteraction	*filteraction;
	const struct pol_filter		*filter;
	bool				 dynamic;	/* from `dynamic add` */
};

/* A packet's selectors, for matching. */
struct pol_pkt {
	enum pol_dir		dir;
	struct pa_addr		src;
	struct pa_addr		dst;
	uint8_t			proto;
	uint16_t		sport;		/* 0 if the protocol has none */
	uint16_t		dport;
};

struct pol_spd;

/*
 * Compile the given policy (may be NULL: empty SPD) with this host's
 * addresses. The rules' filterlist/filteraction pointers must be resolved.
 * *out is owned by the caller (pol_spd_free).
 */
int	pol_spd_compile(const struct pol_policy *, const struct pa_addr *myaddrs,
	    size_t nmyaddrs, struct pol_spd **out, struct pol_err *) PA_MUST_USE;
void	pol_spd_free(struct pol_spd *);
size_t	pol_spd_count(const struct pol_spd *);
const struct pol_spd_entry	*pol_spd_entry_at(const struct pol_spd *, size_t);
/* The winning entry for a packet, or NULL (no filter: traffic permitted). */
const struct pol_spd_entry	*pol_spd_match(const struct pol_spd *,
	    const struct pol_pkt *);

/* ---- additive ---- */

/*
 * The SPD of an effective policy plus the in-memory "dynamic" policy of
 * `ipseccmd dynamic add rule` (either may be NULL). Entries from the
 * dynamic policy have dynamic = true; on a full weight tie a dynamic
 * entry wins over a static one. Both policies must stay alive and
 * unchanged as long as the SPD.
 */
int	pol_spd_compile_set(const struct pol_policy *effective,
	    const struct pol_policy *dynamic, const struct pa_addr *myaddrs,
	    size_t nmyaddrs, struct pol_spd **out, struct pol_err *)
	    PA_MUST_USE;

/* Parts of an entry's weight (docs/policy.md), most significant first. */
struct pol_spd_weight {
	unsigned	addr;		/* 0..256: src + dst prefix, scaled */
	unsigned	proto;		/* 1 if a protocol is given */
	unsigned	ports;		/* 0..2: ports given */
	unsigned	action;		/* block 2, permit 1, negotiate 0 */
};
void	pol_spd_weight_split(uint64_t weight, struct pol_spd_weight *);
/*
 * Driver priorities (lower = matched first; the driver shim's
 * spd_params.priority). They depend on an entry's weight alone, not on
 * its position, so an entry that survives a recompile keeps its priority.
 * What the agent installs for a filter entry stands in three slots, in
 * this order: an SA entry for a flow negotiated under the filter
 * (POL_PRIO_SA), a soft association for one of its flows (POL_PRIO_SOFT),
 * then the filter itself; so a more specific filter still wins over all
 * three, and a less specific one loses to them. On a full weight tie a
 * dynamic entry's slots come first. The default response rule has no
 * filter: what it negotiates stands after every filter
 * (pol_spd_prio_default), so an explicit filter always decides first.
 */
enum pol_prio_slot {
	POL_PRIO_SA = 0,
	POL_PRIO_SOFT = 1,
	POL_PRIO_FILTER = 2
};
#define POL_PRIO_BASE		1000U
#define POL_PRIO_DEFAULT_BASE	40000U	/* after every filter's slots */
uint32_t	pol_spd_prio(const struct pol_spd_entry *, enum pol_prio_slot);
/* An SA entry the default response rule negotiated, by its selectors. */
uint32_t	pol_spd_prio_default(const struct pa_prefix *src,
		    const struct pa_prefix *dst, uint8_t proto, uint16_t sport,
		    uint16_t dport);

/* "addr 256 (src /32, dst /24), proto 1, ports 0, action block" in buf. */
const char	*pol_spd_explain(const struct pol_spd_entry *, char *buf,
	    size_t cap);
const char	*pol_dir_name(enum pol_dir);	/* "out", "in" */

/* This host's addresses (getifaddrs, loopback and link-local IPv6
 * excluded), for "my IP address". *out is malloc'd; caller frees. */
int	pol_local_addrs(struct pa_addr **out, size_t *n) PA_MUST_USE;

#endif
