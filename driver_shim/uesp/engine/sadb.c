/*
 * The SA table. Every SA is in a hash of (protocol, SPI), where inbound
 * packets and the agent's find/remove by SA id look; outbound SAs with a
 * reqid are also in a hash of reqids, newest first, where outbound
 * packets look; and all are in a list (newest first) for walks and for
 * outbound lookups by selector. No operation walks the whole table
 * except those walks, so adding, finding and removing an SA and the
 * packet lookups cost the same with 10 SAs as with 100,000.
 */
#include <stdlib.h>

#include "uesp_int.h"

#define UESP_SADB_BUCKETS	8192

struct uesp_sadb {
	struct uesp_sa	*bucket[UESP_SADB_BUCKETS];	/* by SPI */
	struct uesp_sa	*rq[UESP_SADB_BUCKETS];		/* outbound, reqid */
	struct uesp_sa	*all;
	size_t		 count;
	uint64_t	 gen;
};

static size_t
uesp_sadb_hash(uint8_t proto, uint32_t spi)
{
	uint32_t h = spi * 2654435761U ^ proto;

	return (h ^ h >> 16) % UESP_SADB_BUCKETS;
}

static size_t
uesp_sadb_rqhash(uint32_t reqid)
{
	uint32_t h = reqid * 2654435761U;

	return (h ^ h >> 16) % UESP_SADB_BUCKETS;
}

/* Outbound SAs that packets find by reqid. */
static bool
uesp_sadb_in_rq(const struct uesp_sa *sa)
{
	return !sa->p.inbound && sa->p.reqid != 0;
}

struct uesp_sadb *
uesp_sadb_new(void)
{
	return calloc(1, sizeof(struct uesp_sadb));
}

void
uesp_sadb_free(struct uesp_sadb *db)
{
	struct uesp_sa *sa, *n;

	if (db == NULL)
		return;
	for (sa = db->all; sa != NULL; sa = n) {
		n = sa->all_next;
		uesp_sa_free(sa);
	}
	free(db);
}

static bool
uesp_sa_id_eq(const struct sa_id *a, const struct sa_id *b)
{
	return a->spi == b->spi && a->proto == b->proto &&
	    pa_addr_eq(&a->dst, &b->dst);
}

struct uesp_sa *
uesp_sadb_find(struct uesp_sadb *db, const struct sa_id *id)
{
	struct uesp_sa *sa;

	for (sa = db->bucket[uesp_sadb_hash(id->proto, id->spi)]; sa != NULL;
	    sa = sa->next)
		if (uesp_sa_id_eq(&sa->id, id))
			return sa;
	return NULL;
}

int
uesp_sadb_add(struct uesp_sadb *db, struct uesp_sa *sa)
{
	size_t h;

	if (uesp_sadb_find(db, &sa->id) != NULL)
		return PA_E_EXIST;
	/* Inbound SPIs must be unique per protocol: we look up by SPI. */
	if (sa->p.inbound &&
	    uesp_sadb_by_spi(db, sa->id.proto, sa->id.spi) != NULL)
		return PA_E_EXIST;
	h = uesp_sadb_hash(sa->id.proto, sa->id.spi);
	sa->next = db->bucket[h];
	db->bucket[h] = sa;
	if (uesp_sadb_in_rq(sa)) {
		h = uesp_sadb_rqhash(sa->p.reqid);
		sa->rq_next = db->rq[h];
		db->rq[h] = sa;
	}
	sa->all_prev = NULL;
	sa->all_next = db->all;
	if (db->all != NULL)
		db->all->all_prev = sa;
	db->all = sa;
	sa->gen = ++db->gen;
	db->count++;
	return 0;
}

struct uesp_sa *
uesp_sadb_remove(struct uesp_sadb *db, const struct sa_id *id)
{
	struct uesp_sa **pp, *sa;

	if ((sa = uesp_sadb_find(db, id)) == NULL)
		return NULL;
	for (pp = &db->bucket[uesp_sadb_hash(sa->id.proto, sa->id.spi)];
	    *pp != sa; pp = &(*pp)->next)
		;
	*pp = sa->next;
	if (uesp_sadb_in_rq(sa)) {
		for (pp = &db->rq[uesp_sadb_rqhash(sa->p.reqid)]; *pp != sa;
		    pp = &(*pp)->rq_next)
			;
		*pp = sa->rq_next;
	}
	if (sa->all_prev != NULL)
		sa->all_prev->all_next = sa->all_next;
	else
		db->all = sa->all_next;
	if (sa->all_next != NULL)
		sa->all_next->all_prev = sa->all_prev;
	sa->next = sa->rq_next = sa->all_next = sa->all_prev = NULL;
	db->count--;
	return sa;
}

struct uesp_sa *
uesp_sadb_by_spi(struct uesp_sadb *db, uint8_t proto, uint32_t spi)
{
	struct uesp_sa *sa;

	for (sa = db->bucket[uesp_sadb_hash(proto, spi)]; sa != NULL;
	    sa = sa->next)
		if (sa->p.inbound && sa->id.spi == spi && sa->id.proto == proto)
			return sa;
	return NULL;
}

struct uesp_sa *
uesp_sadb_out(struct uesp_sadb *db, uint8_t proto, uint32_t reqid,
    const struct drv_sel *pkt)
{
	struct uesp_sa *sa;

	if (reqid != 0) {
		for (sa = db->rq[uesp_sadb_rqhash(reqid)]; sa != NULL;
		    sa = sa->rq_next)
			if (sa->p.reqid == reqid && sa->id.proto == proto &&
			    !uesp_sa_dead(sa))
				return sa;
		return NULL;
	}
	for (sa = db->all; sa != NULL; sa = sa->all_next) {
		if (sa->p.inbound || sa->id.proto != proto || uesp_sa_dead(sa))
			continue;
		if (uesp_sel_match(&sa->p.sel, pkt))
			return sa;
	}
	return NULL;
}

size_t
uesp_sadb_count(const struct uesp_sadb *db)
{
	return db->count;
}

int
uesp_sadb_foreach(struct uesp_sadb *db, int (*fn)(struct uesp_sa *, void *),
    void *arg)
{
	struct uesp_sa *sa, *n;
	int rc;

	for (sa = db->all; sa != NULL; sa = n) {
		n = sa->all_next;
		if ((rc = fn(sa, arg)) != 0)
			return rc;
	}
	return 0;
}
