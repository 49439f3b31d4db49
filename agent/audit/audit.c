#include <stdlib.h>

#include "audit.h"

struct audit {
	audit_sink_fn	 sink;
	void		*arg;
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
	{ AUDIT_CTL_CHANGE, "CONTROL_CHANGE" },
	{ AUDIT_CTL_DENIED, "CONTROL_ACCESS_DENIED" },
};

struct audit *
audit_new(void)
{
	return calloc(1, sizeof(struct audit));
}

void
audit_free(struct audit *a)
{
	free(a);
}

void
audit_set_sink(struct audit *a, audit_sink_fn sink, void *arg)
{
	a->sink = sink;
	a->arg = arg;
}

void
audit_emit(struct audit *a, enum audit_event ev,
    const struct audit_field *f, size_t n)
{
	if (a == NULL || a->sink == NULL)
		return;
	a->sink(a->arg, ev, f, n);
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
