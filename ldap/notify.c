/*
 * Change notification: persistent searches that tell when entries change,
 * with what the server's root DSE advertises (dir.h, dir_notify_*).
 * RFC 4533 content synchronisation (refreshAndPersist) or Active
 * Directory's LDAP_SERVER_NOTIFICATION_OID. The controls are built with
 * libldap's BER encoder; the answers are read with ldap_result().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "dir_priv.h"

#define OID_SYNC_REQUEST	"1.3.6.1.4.1.4203.1.9.1.1"	/* RFC 4533 */
#define OID_AD_NOTIFY		"1.2.840.113556.1.4.528"
#define SYNC_REFRESH_AND_PERSIST	3

const char *
dir_notify_name(enum dir_notify_mech m)
{
	switch (m) {
	case DIR_NOTIFY_SYNC:
		return "syncrepl";
	case DIR_NOTIFY_AD:
		return "ad-notify";
	case DIR_NOTIFY_NONE:
		break;
	}
	return "none";
}

int
dir_notify_mech(struct dir *d, enum dir_notify_mech *out)
{
	static const char *const attrs[] = { "supportedControl", NULL };
	const struct dir_attr *a;
	struct dir_result *res = NULL;
	bool sync = false, ad = false;
	size_t i;
	int rc;

	*out = DIR_NOTIFY_NONE;
	if ((rc = dir_search(d, "", DIR_SCOPE_BASE, "(objectClass=*)", attrs,
	    &res)) != 0)
		return rc;
	a = res->n == 1 ? dir_record_attr(&res->recs[0], "supportedControl") :
	    NULL;
	for (i = 0; a != NULL && i < a->nvals; i++) {
		if (strcmp((const char *)a->vals[i].p, OID_SYNC_REQUEST) == 0)
			sync = true;
		else if (strcmp((const char *)a->vals[i].p, OID_AD_NOTIFY) == 0)
			ad = true;
	}
	dir_result_free(res);
	/* AD's control where the server is AD-like; else RFC 4533. */
	*out = ad ? DIR_NOTIFY_AD : sync ? DIR_NOTIFY_SYNC : DIR_NOTIFY_NONE;
	return 0;
}

/* The request control of mech (ldap_control_free). */
static int
notify_control(enum dir_notify_mech mech, LDAPControl **out)
{
	BerElement *ber = NULL;
	struct berval bv = { 0, NULL };
	int rc;

	*out = NULL;
	if (mech == DIR_NOTIFY_AD)
		return ldap_control_create(OID_AD_NOTIFY, 1, NULL, 0, out);
	/* syncRequestValue ::= SEQUENCE { mode ENUMERATED, ... } */
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL)
		return LDAP_NO_MEMORY;
	if (ber_printf(ber, "{e}", (ber_int_t)SYNC_REFRESH_AND_PERSIST) < 0 ||
	    ber_flatten2(ber, &bv, 0) < 0) {
		ber_free(ber, 1);
		return LDAP_ENCODING_ERROR;
	}
	rc = ldap_control_create(OID_SYNC_REQUEST, 1, &bv, 1, out);
	ber_free(ber, 1);
	return rc;
}

int
dir_notify_add(struct dir *d, enum dir_notify_mech mech, const char *base,
    enum dir_scope scope)
{
	/* Only that something changed matters: no attributes (RFC 4511). */
	static char *attrs[] = { "1.1", NULL };
	LDAPControl *ctrl = NULL, *ctrls[2] = { NULL, NULL };
	int rc, msgid, ls;

	if (mech == DIR_NOTIFY_NONE)
		return PA_E_NOTSUP;
	ls = scope == DIR_SCOPE_BASE ? LDAP_SCOPE_BASE :
	    scope == DIR_SCOPE_ONE ? LDAP_SCOPE_ONELEVEL : LDAP_SCOPE_SUBTREE;
	if ((rc = notify_control(mech, &ctrl)) != LDAP_SUCCESS) {
		dir_set_error(d, rc, "notification control");
		return PA_E_NOMEM;
	}
	ctrls[0] = ctrl;
	rc = ldap_search_ext(d->ld, base, ls, "(objectClass=*)", attrs, 0,
	    ctrls, NULL, NULL, 0, &msgid);
	ldap_control_free(ctrl);
	if (rc != LDAP_SUCCESS) {
		dir_set_error(d, rc, base);
		return rc == LDAP_SERVER_DOWN ? PA_E_AGAIN : PA_E_STATE;
	}
	return 0;
}

int
dir_fd(struct dir *d, int *fd)
{
	*fd = -1;
	if (ldap_get_option(d->ld, LDAP_OPT_DESC, fd) != LDAP_OPT_SUCCESS ||
	    *fd < 0)
		return PA_E_STATE;
	return 0;
}

int
dir_notify_read(struct dir *d, unsigned *changes)
{
	struct timeval zero = { 0, 0 };
	LDAPMessage *msg;
	char *dn;
	int t, err, rc;

	for (;;) {
		msg = NULL;
		t = ldap_result(d->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
		if (t == 0)
			return 0;	/* nothing more for now */
		if (t < 0) {
			(void)ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &err);
			dir_set_error(d, err, "change notification");
			return PA_E_AGAIN;
		}
		switch (t) {
		case LDAP_RES_SEARCH_ENTRY:
			/* An entry added, changed, moved or (syncrepl's
			 * refresh phase, or its delete) gone. */
			(*changes)++;
			if ((dn = ldap_get_dn(d->ld, msg)) != NULL) {
				snprintf(d->err, sizeof(d->err), "%s", dn);
				ldap_memfree(dn);
			}
			break;
		case LDAP_RES_SEARCH_RESULT:
			/* The server ended a persistent search. */
			rc = ldap_parse_result(d->ld, msg, &err, NULL, NULL,
			    NULL, NULL, 0);
			dir_set_error(d, rc != LDAP_SUCCESS ? rc : err,
			    "change notification ended");
			ldap_msgfree(msg);
			return PA_E_STATE;
		default:
			/* syncInfo intermediate messages, references. */
			break;
		}
		ldap_msgfree(msg);
	}
}
