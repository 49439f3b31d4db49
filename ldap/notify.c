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
	if (mech == DIR_NOTIFY_SYNC && d->nrefreshing >=
	    sizeof(d->refreshing) / sizeof(d->refreshing[0])) {
		ldap_control_free(ctrl);
		snprintf(d->err, sizeof(d->err), "%s: too many searches", base);
		return PA_E_NOTSUP;
	}
	rc = ldap_search_ext(d->ld, base, ls, "(objectClass=*)", attrs, 0,
	    ctrls, NULL, NULL, 0, &msgid);
	ldap_control_free(ctrl);
	if (rc != LDAP_SUCCESS) {
		dir_set_error(d, rc, base);
		return rc == LDAP_SERVER_DOWN ? PA_E_AGAIN : PA_E_STATE;
	}
	/* Its refresh phase (the present content) is not a change. */
	if (mech == DIR_NOTIFY_SYNC)
		d->refreshing[d->nrefreshing++] = msgid;
	return 0;
}

static bool
refreshing(const struct dir *d, int msgid)
{
	size_t i;

	for (i = 0; i < d->nrefreshing; i++)
		if (d->refreshing[i] == msgid)
			return true;
	return false;
}

/*
 * A syncInfo intermediate message (RFC 4533 2.5): does it end the
 * refresh phase (refreshDelete or refreshPresent with refreshDone, which
 * defaults to TRUE)? Read with libldap's BER decoder.
 */
static bool
sync_refresh_done(struct dir *d, LDAPMessage *msg)
{
	struct berval *data = NULL;
	BerElement *ber = NULL;
	ber_tag_t tag;
	ber_len_t len;
	ber_int_t done = 1;
	char *oid = NULL;
	bool r = false;

	if (ldap_parse_intermediate(d->ld, msg, &oid, &data, NULL, 0) !=
	    LDAP_SUCCESS || oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 ||
	    data == NULL || (ber = ber_init(data)) == NULL)
		goto out;
	tag = ber_peek_tag(ber, &len);
	if (tag != LDAP_TAG_SYNC_REFRESH_DELETE &&
	    tag != LDAP_TAG_SYNC_REFRESH_PRESENT)
		goto out;
	if (ber_scanf(ber, "{" /*}*/) == LBER_ERROR)
		goto out;
	tag = ber_peek_tag(ber, &len);
	if (tag == LDAP_TAG_SYNC_COOKIE) {
		if (ber_scanf(ber, "x") == LBER_ERROR)
			goto out;
		tag = ber_peek_tag(ber, &len);
	}
	if (tag == LBER_BOOLEAN && ber_get_boolean(ber, &done) == LBER_ERROR)
		goto out;
	r = done != 0;
out:
	if (ber != NULL)
		ber_free(ber, 1);
	ber_bvfree(data);
	ldap_memfree(oid);
	return r;
}

static void
refresh_end(struct dir *d, int msgid)
{
	size_t i;

	for (i = 0; i < d->nrefreshing; i++)
		if (d->refreshing[i] == msgid) {
			d->refreshing[i] = d->refreshing[--d->nrefreshing];
			return;
		}
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
			/* An entry added, changed, moved or gone (not the
			 * content RFC 4533's refresh phase sends). */
			if (refreshing(d, ldap_msgid(msg)))
				break;
			(*changes)++;
			break;
		case LDAP_RES_SEARCH_RESULT:
			/* The server ended a persistent search. */
			rc = ldap_parse_result(d->ld, msg, &err, NULL, NULL,
			    NULL, NULL, 0);
			dir_set_error(d, rc != LDAP_SUCCESS ? rc : err,
			    "change notification ended");
			ldap_msgfree(msg);
			return PA_E_STATE;
		case LDAP_RES_INTERMEDIATE:
			if (refreshing(d, ldap_msgid(msg)) &&
			    sync_refresh_done(d, msg))
				refresh_end(d, ldap_msgid(msg));
			break;
		default:
			/* references */
			break;
		}
		ldap_msgfree(msg);
	}
}
