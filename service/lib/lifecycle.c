/*
 * ipsec-agentd: the service's state and what changes it, below the
 * commands (commands.c) and the event loop (daemon.c): state names and
 * transitions, configuration loading and reload, the stop request, the
 * Oakley log, directory creation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon_int.h"
#include "pa_log.h"
#include "pa_time.h"

static const char *const state_names[] = {
	[SVC_STOPPED] = "STOPPED",
	[SVC_START_PENDING] = "START_PENDING",
	[SVC_STOP_PENDING] = "STOP_PENDING",
	[SVC_RUNNING] = "RUNNING",
	[SVC_CONTINUE_PENDING] = "CONTINUE_PENDING",
	[SVC_PAUSE_PENDING] = "PAUSE_PENDING",
	[SVC_PAUSED] = "PAUSED",
};

const char *
svc_state_name(enum svc_state s)
{
	if ((unsigned)s < sizeof(state_names) / sizeof(state_names[0]) &&
	    state_names[s] != NULL)
		return state_names[s];
	return "UNKNOWN";
}

void
svc_set_state(struct svc_daemon *d, enum svc_state s)
{
	enum svc_state old = d->state;

	d->state = s;
	if (d->nhist == SVC_HISTORY) {
		memmove(d->hist, d->hist + 1, sizeof(d->hist[0]) *
		    (SVC_HISTORY - 1));
		d->nhist--;
	}
	d->hist[d->nhist].state = s;
	d->hist[d->nhist].wall = pa_wall_s();
	d->nhist++;
	if (old != 0)
		log_info("service state %s -> %s", svc_state_name(old),
		    svc_state_name(s));
	if (d->agent != NULL && s != SVC_STOPPED) {
		struct agent_info in;

		agent_get_info(d->agent, &in);
		(void)sd_notifyf(0, "STATUS=%s: policy %s (%s), %zu filters, "
		    "driver %s", svc_state_name(s), in.policy_name != NULL ?
		    in.policy_name : "none assigned", in.source, in.filters,
		    in.driver);
	} else
		(void)sd_notifyf(0, "STATUS=%s", svc_state_name(s));
}

int
svc_mkdir_p(const char *path, mode_t mode)
{
	char buf[SVC_PATH_MAX];
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return PA_E_INVAL;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return PA_E_SYS;
		buf[i] = path[i];
	}
	return 0;
}

/* mkdir -p of the directory holding path, with mode for new ones. */
int
svc_mkdir_parent_mode(const char *path, mode_t mode)
{
	char buf[SVC_PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	if ((slash = strrchr(buf, '/')) == NULL || slash == buf)
		return 0;
	*slash = '\0';
	return svc_mkdir_p(buf, mode);
}

int
svc_mkdir_parent(const char *path)
{
	return svc_mkdir_parent_mode(path, 0750);
}

/*
 * The Oakley log past oakley_log_size: kept as PATH.sav (the one before
 * it goes), as Windows keeps oakley.log.sav, and PATH starts afresh.
 */
static void
oakley_rotate(struct svc_daemon *d)
{
	char sav[SVC_PATH_MAX + 8];

	snprintf(sav, sizeof(sav), "%s.sav", d->cfg.oakley_log_path);
	fclose(d->olog);
	d->olog = NULL;
	if (rename(d->cfg.oakley_log_path, sav) != 0)
		log_warn("oakley log: rename to %s", sav);
	d->olog = fopen(d->cfg.oakley_log_path, "ae");
	d->olog_size = 0;
	if (d->olog == NULL) {
		log_warn("oakley log %s", d->cfg.oakley_log_path);
		return;
	}
	(void)fchmod(fileno(d->olog), 0640);
	svc_oakley_line(d, "Oakley log continued (the earlier lines are in "
	    "the .sav file)");
}

void
svc_oakley_line(void *arg, const char *line)
{
	struct svc_daemon *d = arg;
	struct timespec ts;
	struct tm tm;
	char when[32];
	int n;

	if (d->olog == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	n = fprintf(d->olog, "%s.%03ldZ %s\n", when, ts.tv_nsec / 1000000,
	    line);
	fflush(d->olog);
	if (n > 0)
		d->olog_size += (uint64_t)n;
	if (d->cfg.oakley_log_size != 0 &&
	    d->olog_size >= d->cfg.oakley_log_size)
		oakley_rotate(d);
}

int
svc_oakley_set(struct svc_daemon *d, bool on)
{
	struct stat st;

	d->cfg.oakley_log = on;
	if (!on) {
		if (d->olog != NULL) {
			svc_oakley_line(d, "Oakley log switched off");
			fclose(d->olog);
		}
		d->olog = NULL;
		return 0;
	}
	if (d->olog != NULL)
		return 0;
	if (svc_mkdir_parent(d->cfg.oakley_log_path) != 0)
		return PA_E_SYS;
	/* Afresh on the first open of this service start, appended after. */
	d->olog = fopen(d->cfg.oakley_log_path, d->olog_opened ? "ae" : "we");
	if (d->olog == NULL)
		return PA_E_SYS;
	if (!d->olog_opened)
		(void)fchmod(fileno(d->olog), 0640);
	d->olog_size = fstat(fileno(d->olog), &st) == 0 && st.st_size > 0 ?
	    (uint64_t)st.st_size : 0;
	d->olog_opened = true;
	svc_oakley_line(d, "Oakley log started");
	return 0;
}

int
svc_load_config(struct svc_daemon *d, struct svc_config *c, char *eb, size_t ec)
{
	size_t i;
	int rc;

	svc_config_defaults(c);
	if ((rc = svc_config_load(c, d->config_path,
	    d->opts.config_path == NULL, eb, ec)) != 0)
		return rc;
	for (i = 0; i < d->opts.noverrides; i++) {
		char key[64], where[80];
		const char *o = d->opts.overrides[i], *eq = strchr(o, '=');

		snprintf(where, sizeof(where), "-o %.60s", o);
		if (eq == NULL || (size_t)(eq - o) >= sizeof(key) || eq == o) {
			snprintf(eb, ec, "%s: expected key=value", where);
			return PA_E_INVAL;
		}
		memcpy(key, o, (size_t)(eq - o));
		key[eq - o] = '\0';
		if ((rc = svc_config_set(c, key, eq + 1, where, eb, ec)) != 0)
			return rc;
	}
	return svc_config_finish(c, eb, ec);
}

int
svc_reload(struct svc_daemon *d, char *eb, size_t ec)
{
	struct svc_config nc;
	struct pol_err perr;
	int rc;

	memset(&perr, 0, sizeof(perr));
	(void)sd_notify(0, "RELOADING=1");
	if ((rc = svc_load_config(d, &nc, eb, ec)) != 0) {
		struct audit_field f[1] = { { "Reason", eb } };

		audit_emit(d->audit, AUDIT_PA_FAILURE, f, 1);
		log_warnx("reload: configuration rejected, keeping the old "
		    "one: %s", eb);
		goto out;
	}
	if (strcmp(nc.driver, d->cfg.driver) != 0 ||
	    strcmp(nc.control_socket, d->cfg.control_socket) != 0 ||
	    strcmp(nc.state_dir, d->cfg.state_dir) != 0 ||
	    strcmp(nc.audit_file, d->cfg.audit_file) != 0 ||
	    nc.policy_source != d->cfg.policy_source ||
	    nc.ike != d->cfg.ike || nc.ike_port != d->cfg.ike_port ||
	    strcmp(nc.krb_keytab, d->cfg.krb_keytab) != 0 ||
	    strcmp(nc.krb_principal, d->cfg.krb_principal) != 0 ||
	    strcmp(nc.krb_config, d->cfg.krb_config) != 0 ||
	    strcmp(nc.cert_file, d->cfg.cert_file) != 0 ||
	    strcmp(nc.key_file, d->cfg.key_file) != 0 ||
	    strcmp(nc.ca_file, d->cfg.ca_file) != 0 ||
	    strcmp(nc.crl_file, d->cfg.crl_file) != 0 ||
	    nc.crl_check != d->cfg.crl_check ||
	    nc.crl_fetch != d->cfg.crl_fetch ||
	    nc.crl_fetch_timeout != d->cfg.crl_fetch_timeout ||
	    nc.crl_retry != d->cfg.crl_retry ||
	    nc.dpd_ms != d->cfg.dpd_ms ||
	    nc.natt_keepalive_ms != d->cfg.natt_keepalive_ms ||
	    nc.dos_halfopen != d->cfg.dos_halfopen ||
	    nc.soft_sa_life_ms != d->cfg.soft_sa_life_ms)
		log_warnx("reload: driver, socket, state and audit paths, "
		    "policy source, IKE ports, IKE credentials and dpd take "
		    "effect at the next start");
	if ((strcmp(nc.store, d->cfg.store) != 0 ||
	    strcmp(nc.secrets, d->cfg.secrets) != 0) &&
	    agent_set_store_paths(d->agent, nc.store, nc.secrets) == 0) {
		snprintf(d->cfg.store, sizeof(d->cfg.store), "%s", nc.store);
		snprintf(d->cfg.secrets, sizeof(d->cfg.secrets), "%s",
		    nc.secrets);
	}
	d->cfg.diagnostics = nc.diagnostics;
	agent_set_diagnostics(d->agent, nc.diagnostics);
	d->cfg.log_level = nc.log_level;
	log_set_level((enum pa_log_level)nc.log_level);
	if (nc.oakley_log != d->cfg.oakley_log ||
	    strcmp(nc.oakley_log_path, d->cfg.oakley_log_path) != 0) {
		(void)svc_oakley_set(d, false);
		snprintf(d->cfg.oakley_log_path, sizeof(d->cfg.oakley_log_path),
		    "%s", nc.oakley_log_path);
		if (nc.oakley_log && svc_oakley_set(d, true) != 0)
			log_warn("oakley log %s", d->cfg.oakley_log_path);
	}
	if ((rc = agent_reload(d->agent, &perr)) != 0) {
		snprintf(eb, ec, "policy rejected, old policy kept: %s: %s",
		    perr.where, perr.what);
		log_warnx("reload: %s", eb);
		goto out;
	}
	log_info("reload: configuration and policy reloaded");
out:
	(void)sd_notify(0, "READY=1");
	return rc;
}

void
svc_request_stop(struct svc_daemon *d, const char *reason, bool clear)
{
	if (d->state == SVC_STOP_PENDING || d->state == SVC_STOPPED)
		return;
	snprintf(d->stop_reason, sizeof(d->stop_reason), "%s", reason);
	d->stop_clear = clear;
	svc_set_state(d, SVC_STOP_PENDING);
	(void)sd_notify(0, "STOPPING=1");
}
