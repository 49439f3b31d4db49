/*
 * The engine's two entry points: protect an outbound packet with its
 * SA(s), and strip the ESP/AH layers of an inbound one.
 */
#include <netinet/in.h>

#include <string.h>

#include "uesp_int.h"

static void
uesp_life_merge(enum uesp_life *life, struct uesp_sa **life_sa,
    enum uesp_life ev, struct uesp_sa *sa)
{
	if (ev > *life) {
		*life = ev;
		if (life_sa != NULL)
			*life_sa = sa;
	}
}

int
uesp_encap(struct uesp_sa *esp, struct uesp_sa *ah, const uint8_t *pkt,
    size_t len, uint8_t *out, size_t cap, size_t *outlen,
    enum uesp_life *life)
{
	static _Thread_local uint8_t tmp[UESP_MAX_PKT];
	struct wr w, w2;
	int rc;

	*life = UESP_LIFE_OK;
	*outlen = 0;
	if (esp == NULL && ah == NULL)
		return PA_E_INVAL;
	if ((esp != NULL && (esp->p.inbound || uesp_sa_dead(esp) ||
	    esp->id.proto != DRV_PROTO_ESP)) ||
	    (ah != NULL && (ah->p.inbound || uesp_sa_dead(ah) ||
	    ah->id.proto != DRV_PROTO_AH)))
		return PA_E_STATE;
	if (esp != NULL && ah != NULL) {
		if (esp->p.encap_dport != 0)
			return PA_E_NOTSUP;	/* AH cannot cross NAT */
		wr_init(&w, tmp, sizeof(tmp));
		if ((rc = uesp_esp_out(esp, pkt, len, &w)) != 0)
			goto out;
		wr_init(&w2, out, cap);
		if ((rc = uesp_ah_out(ah, tmp, w.len, &w2)) != 0)
			goto out;
		*outlen = w2.len;
	} else if (esp != NULL) {
		wr_init(&w, out, cap);
		if ((rc = uesp_esp_out(esp, pkt, len, &w)) != 0)
			goto out;
		*outlen = w.len;
	} else {
		wr_init(&w, out, cap);
		if ((rc = uesp_ah_out(ah, pkt, len, &w)) != 0)
			goto out;
		*outlen = w.len;
	}
	if (esp != NULL)
		uesp_life_merge(life, NULL, uesp_sa_account(esp, len), esp);
	if (ah != NULL)
		uesp_life_merge(life, NULL, uesp_sa_account(ah, len), ah);
out:
	if (rc == PA_E_STATE) {
		/* Sequence numbers used up: hard expiry. */
		if (esp != NULL)
			uesp_life_merge(life, NULL, uesp_sa_exhausted(esp), esp);
		if (ah != NULL)
			uesp_life_merge(life, NULL, uesp_sa_exhausted(ah), ah);
	}
	return rc;
}

int
uesp_decap(struct uesp_sadb *db, const struct uesp_rx *rx, uint8_t *out,
    size_t cap, size_t *outlen, struct uesp_verdict *v)
{
	struct uesp_rx cur = *rx;
	struct uesp_sa *sas[2] = { NULL, NULL };
	struct drv_sel ps;
	struct pa_bytes rest;
	struct wr w;
	struct rd r;
	uint32_t spi;
	uint8_t nh;
	size_t layer, hl, i;
	int rc;

	memset(v, 0, sizeof(*v));
	v->why = DRV_DROP_SYNTAX;
	*outlen = 0;
	wr_init(&w, out, cap);
	for (layer = 0; layer < 2; layer++) {
		struct uesp_sa *sa;

		rd_init(&r, cur.payload.p, cur.payload.len);
		if ((cur.proto == DRV_PROTO_AH && (rc = rd_skip(&r, 4)) != 0) ||
		    (rc = rd_u32(&r, &spi)) != 0)
			return rc;
		sa = uesp_sadb_by_spi(db, cur.proto, spi);
		if (sa == NULL || !sa->p.inbound || uesp_sa_dead(sa) ||
		    !pa_addr_eq(&sa->id.dst, &cur.dst)) {
			v->why = DRV_DROP_BAD_SPI;
			return PA_E_NOENT;
		}
		v->sa = sas[layer] = sa;
		if (cur.proto == DRV_PROTO_ESP) {
			if ((rc = uesp_esp_in(sa, &cur, &w, &v->why)) != 0)
				return rc;
			break;
		}
		if ((rc = uesp_ah_in(sa, &cur, &w, &nh, &rest, &v->why)) != 0)
			return rc;
		if (nh != IPPROTO_ESP)
			break;
		cur.proto = DRV_PROTO_ESP;
		cur.payload = rest;
	}
	v->why = DRV_DROP_SYNTAX;
	if (layer == 2)
		return PA_E_FORMAT;
	if ((rc = uesp_pkt_sel(out, w.len, &ps, &hl)) != 0)
		return rc;
	/* The packet must be one the SA was negotiated for. */
	if (!uesp_sel_match(&v->sa->p.sel, &ps)) {
		v->why = DRV_DROP_BLOCKED;
		return PA_E_PERM;
	}
	for (i = 0; i < 2 && sas[i] != NULL; i++)
		uesp_life_merge(&v->life, &v->life_sa,
		    uesp_sa_account(sas[i], w.len), sas[i]);
	*outlen = w.len;
	return 0;
}
