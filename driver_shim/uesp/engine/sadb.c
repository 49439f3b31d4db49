/*
 * The SA table: a hash of SPIs for inbound lookups, and a list (newest
 * first) for outbound lookups by reqid or selector and for walks.
 */
#include <stdlib.h>

#include "uesp_int.h"

#define UESP_SADB_BUCKETS	1024

struct uesp_sadb {
	struct uesp_sa	*bucket[UESP_SADB_BUCKETS];
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

	for (sa = db->all; sa != NULL; sa = sa->all_next)
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
	if (sa->p.inbound) {
		h = uesp_sadb_hash(sa->id.proto, sa->id.spi);
		sa->next = db->bucket[h];
		db->bucket[h] = sa;
	}
	sa->all_next = db->all;
	db->all = sa;
	sa->gen = ++db->gen;
	db->count++;
	return 0;
}

struct uesp_sa *
uesp_sadb_remove(struct uesp_sadb *db, const struct sa_id *id)
{
	struct uesp_sa **pp, *sa;

	for (pp = &db->all; (sa = *pp) != NULL; pp = &sa->all_next)
		if (uesp_sa_id_eq(&sa->id, id))
			break;
	if (sa == NULL)
		return NULL;
	*pp = sa->all_next;
	if (sa->p.inbound) {
		for (pp = &db->bucket[uesp_sadb_hash(sa->id.proto,
		    sa->id.spi)]; *pp != NULL; pp = &(*pp)->next)
			if (*pp == sa) {
				*pp = sa->next;
				break;
			}
	}
	sa->next = sa->all_next = NULL;
	db->count--;
	return sa;
}

struct uesp_sa *
uesp_sadb_by_spi(struct uesp_sadb *db, uint8_t proto, uint32_t spi)
{
	struct uesp_sa *sa;

	for (sa = db->bucket[uesp_sadb_hash(proto, spi)]; sa != NULL;
	    sa = sa->next)
		if (sa->id.spi == spi && sa->id.proto == proto)
			return sa;
	return NULL;
}

struct uesp_sa *
uesp_sadb_out(struct uesp_sadb *db, uint8_t proto, uint32_t reqid,
    const struct drv_sel *pkt)
{
	struct uesp_sa *sa;

	for (sa = db->all; sa != NULL; sa = sa->all_next) {
		if (sa->p.inbound || sa->id.proto != proto || uesp_sa_dead(sa))
			continue;
		if (reqid != 0 ? sa->p.reqid == reqid :
		    uesp_sel_match(&sa->p.sel, pkt))
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
