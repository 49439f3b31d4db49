/*
 * The directory source's settings from the directory_* keys of the
 * configuration: the daemon's policy source and ipseccmd diag use them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dir_setup.h"
#include "pa_secret.h"

int
svc_dir_setup(const struct svc_config *c, struct svc_dir_setup *ds, char *eb,
    size_t ec)
{
	char *save = NULL, *tok;
	size_t n = 0;

	memset(ds, 0, sizeof(*ds));
	snprintf(ds->uris_buf, sizeof(ds->uris_buf), "%s", c->dir_uris);
	for (tok = strtok_r(ds->uris_buf, " \t", &save); tok != NULL &&
	    n < SVC_DIR_MAX_URIS; tok = strtok_r(NULL, " \t", &save))
		ds->uris[n++] = tok;
	ds->cfg.uris = ds->uris;
	ds->cfg.nuris = n;
	/* directory_uri wins over discovery by DNS SRV. */
	ds->cfg.domain = c->dir_domain[0] ? c->dir_domain : NULL;
	ds->cfg.starttls = c->dir_starttls;
	ds->cfg.ca_file = c->dir_ca_file[0] ? c->dir_ca_file : NULL;
	ds->cfg.bind = c->dir_bind == 1 ? POL_DIR_BIND_SIMPLE :
	    POL_DIR_BIND_GSSAPI;
	ds->cfg.keytab = c->dir_keytab;
	ds->cfg.principal = c->dir_principal[0] ? c->dir_principal : NULL;
	ds->cfg.bind_dn = c->dir_bind_dn[0] ? c->dir_bind_dn : NULL;
	ds->cfg.insecure_plain = c->dir_insecure_plain;
	ds->cfg.timeout_ms = c->dir_timeout_ms;
	ds->cfg.base = c->dir_base;
	if (strchr(c->dir_computer, '=') != NULL)
		ds->cfg.computer_dn = c->dir_computer;
	else
		ds->cfg.sam_account = c->dir_computer;
	ds->cfg.cache_path = c->dir_cache[0] ? c->dir_cache : NULL;
	ds->cfg.min_poll_sec = c->dir_min_poll;
	ds->cfg.backoff_unit_sec = c->dir_backoff_unit;
	ds->cfg.poll_spread_sec = c->dir_poll_spread == SVC_SPREAD_AUTO ? -1 :
	    (int32_t)c->dir_poll_spread;
	ds->cfg.notify = c->dir_notify;
	ds->cfg.notify_quiet_ms = c->dir_notify_quiet_ms;
	ds->cfg.notify_max_ms = c->dir_notify_max_ms;
	if (ds->cfg.bind == POL_DIR_BIND_SIMPLE) {
		char pw[1024];
		size_t len;
		FILE *f = fopen(c->dir_password_file, "re");

		if (f == NULL) {
			snprintf(eb, ec, "directory_password_file %s: %s",
			    c->dir_password_file, strerror(errno));
			return PA_E_SYS;
		}
		len = fread(pw, 1, sizeof(pw) - 1, f);
		fclose(f);
		while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
			len--;
		ds->pw = pa_secret_new(pw, len);
		pa_wipe(pw, sizeof(pw));
		if (ds->pw == NULL)
			return PA_E_NOMEM;
		ds->cfg.bind_pw = ds->pw;
	}
	return 0;
}
