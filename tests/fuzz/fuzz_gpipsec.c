/*
 * libFuzzer harness of the ipsecData codec: the first byte picks the blob
 * type (and, for filter actions, the action), the rest is the blob. Every
 * accepted blob must re-encode, decode again to the same canonical bytes,
 * and come back byte for byte through the keep.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpipsec.h"
#include "model.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct pa_guid *const actions[4] = {
	&pol_gp_action_secure, &pol_gp_action_inpass, &pol_gp_action_permit,
	&pol_gp_action_block
};

static void
check_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_err err;
	struct pa_bytes v;
	struct pol_gp_keep *kp;
	struct pa_guid id;
	uint8_t *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	int type;

	if (size < 1)
		return 0;
	type = data[0] % POL_GP_NTYPES;
	v.p = data + 1;
	v.len = size - 1;
	memset(&id, 0x5A, sizeof(id));
	if ((kp = pol_gp_keep_new()) == NULL ||
	    pol_gp_keep_add(kp, (enum pol_gp_type)type, &id, v) != 0) {
		pol_gp_keep_free(kp);
		return 0;
	}
	switch (type) {
	case POL_GP_POLICY: {
		struct pol_policy p;

		memset(&p, 0, sizeof(p));
		p.id = id;
		if (pol_gp_decode_policy(v, &p, &err) != 0)
			break;
		if (pol_gp_encode_policy(&p, kp, &out, &len, &err) != 0)
			abort();
		check_same(out, len, v.p, v.len);
		break;
	}
	case POL_GP_ISAKMP: {
		struct pol_isakmp k;

		memset(&k, 0, sizeof(k));
		k.id = id;
		if (pol_gp_decode_isakmp(v, &k, &err) != 0)
			break;
		if (pol_gp_encode_isakmp(&k, kp, &out, &len, &err) != 0)
			abort();
		check_same(out, len, v.p, v.len);
		free(out);
		out = NULL;
		if (pol_gp_encode_isakmp(&k, NULL, &out, &len, &err) == 0) {
			struct pol_isakmp k2;
			struct pa_bytes c = { out, len };

			memset(&k2, 0, sizeof(k2));
			k2.id = id;
			if (pol_gp_decode_isakmp(c, &k2, &err) != 0 ||
			    pol_gp_encode_isakmp(&k2, NULL, &out2, &len2,
			    &err) != 0)
				abort();
			check_same(out, len, out2, len2);
			pol_gp_isakmp_clear(&k2);
		}
		pol_gp_isakmp_clear(&k);
		break;
	}
	case POL_GP_NFA: {
		struct pol_rule r;

		memset(&r, 0, sizeof(r));
		r.id = id;
		if (pol_gp_decode_nfa(v, &r, &err) != 0)
			break;
		if (pol_gp_encode_nfa(&r, kp, &out, &len, &err) != 0)
			abort();
		check_same(out, len, v.p, v.len);
		pol_gp_rule_clear(&r);
		break;
	}
	case POL_GP_NEGPOL: {
		struct pol_filteraction fa;
		const struct pa_guid *act = actions[size % 4];

		memset(&fa, 0, sizeof(fa));
		fa.id = id;
		if (pol_gp_decode_negpol(v, &pol_gp_negtype_standard, act, &fa,
		    &err) != 0)
			break;
		if (pol_gp_encode_negpol(&fa, kp, &out, &len, &err) != 0)
			abort();
		check_same(out, len, v.p, v.len);
		pol_gp_filteraction_clear(&fa);
		break;
	}
	case POL_GP_FILTER: {
		struct pol_filterlist fl;

		memset(&fl, 0, sizeof(fl));
		fl.id = id;
		if (pol_gp_decode_filter(v, &fl, &err) != 0)
			break;
		if (pol_gp_encode_filter(&fl, kp, &out, &len, &err) != 0)
			abort();
		check_same(out, len, v.p, v.len);
		pol_gp_filterlist_clear(&fl);
		break;
	}
	}
	free(out);
	free(out2);
	pol_gp_keep_free(kp);
	return 0;
}
