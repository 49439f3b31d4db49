/*
 * Unit tests of the service: configuration parser, control request parser
 * (with a truncation sweep), audit folding, the hash-chained audit file
 * (rotation, resume, verification), and the agent core on the null driver
 * (SPD applied as a difference, dynamic rules, pause queue, bad reload,
 * stop, driver drop events by diagnostics level).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "agent.h"
#include "audit.h"
#include "lib/config.h"
#include "lib/control.h"
#include "lib/seal.h"
#include "lib/sinks.h"
#include "null/null_driver.h"

/* ---- helpers ---- */

static char tmpdir[256];

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_service.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_tmp(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- configuration ---- */

static void
test_config_ok(void **state)
{
	struct svc_config c;
	char path[300], eb[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
	write_file(path,
	    "# all keys\n"
	    "policy_source = directory\n"
	    "store = /x/store.xml\n"
	    "secrets = \"/x/secrets.xml\"\n"
	    "driver = null\n"
	    "audit_sink = syslog\n"
	    "audit_file = /x/a.jsonl\n"
	    "audit_rotate_size = 64K\n"
	    "audit_rotate_keep = 3\n"
	    "diagnostics = 7\n"
	    "oakley_log = on\n"
	    "oakley_log_path = /x/oakley.log\n"
	    "control_socket = /x/ctl.sock\n"
	    "admin_group = root\n"
	    "control_mode = 0666\n"
	    "state_dir = /x/state\n"
	    "ike = off\n"
	    "ike_port = 5000\n"
	    "natt_port = off\n"
	    "stop_timeout = 3\n"
	    "log_level = debug\n"
	    "directory_uri = ldap://127.0.0.1:1 ldaps://dc.example.test\n"
	    "directory_base = DC=example,DC=test\n"
	    "directory_computer = HOSTA$\n"
	    "directory_bind = simple\n"
	    "directory_bind_dn = cn=admin,dc=example,dc=test\n"
	    "directory_password_file = /x/pw\n"
	    "directory_timeout = 3\n"
	    "directory_min_poll = 1\n"
	    "kerberos_keytab = /x/krb5.keytab\n"
	    "kerberos_principal = HOSTA$\n"
	    "kerberos_config = /x/krb5.conf\n"
	    "cert_file = /x/host.pem\n"
	    "key_file = /x/host.key\n"
	    "ca_file = /x/ca.pem\n"
	    "dpd = 45\n"
	    "natt_keepalive = 2\n"
	    "dos_halfopen = 50\n"
	    "soft_sa_lifetime = 60\n"
	    "\n");
	svc_config_defaults(&c);
	assert_int_equal(svc_config_load(&c, path, false, eb, sizeof(eb)), 0);
	assert_int_equal(svc_config_finish(&c, eb, sizeof(eb)), 0);
	assert_int_equal(c.policy_source, AGENT_SRC_DIRECTORY);
	assert_string_equal(c.secrets, "/x/secrets.xml");
	assert_string_equal(c.driver, "null");
	assert_int_equal(c.audit_sink, SVC_SINK_SYSLOG);
	assert_int_equal(c.audit_rotate_size, 65536);
	assert_int_equal(c.audit_rotate_keep, 3);
	assert_int_equal(c.diagnostics, 7);
	assert_true(c.oakley_log);
	assert_int_equal(c.control_mode, 0666);
	assert_int_equal(c.admin_gid, 0);
	assert_false(c.ike);
	assert_int_equal(c.ike_port, 5000);
	assert_int_equal(c.natt_port, 0xffff);
	assert_int_equal(c.stop_timeout_ms, 3000);
	assert_int_equal(c.log_level, 7);
	assert_string_equal(c.dir_computer, "HOSTA$");
	assert_int_equal(c.dir_bind, 1);
	assert_int_equal(c.dir_timeout_ms, 3000);
	assert_string_equal(c.krb_keytab, "/x/krb5.keytab");
	assert_string_equal(c.krb_principal, "HOSTA$");
	assert_string_equal(c.krb_config, "/x/krb5.conf");
	assert_string_equal(c.cert_file, "/x/host.pem");
	assert_string_equal(c.key_file, "/x/host.key");
	assert_string_equal(c.ca_file, "/x/ca.pem");
	assert_int_equal(c.dpd_ms, 45000);
	assert_int_equal(c.natt_keepalive_ms, 2000);
	assert_int_equal(c.dos_halfopen, 50);
	assert_int_equal(c.soft_sa_life_ms, 60000);
	/* A certificate without its key, or without CAs, is refused. */
	write_file(path, "cert_file = /x/host.pem\n");
	svc_config_defaults(&c);
	assert_int_equal(svc_config_load(&c, path, false, eb, sizeof(eb)), 0);
	assert_int_not_equal(svc_config_finish(&c, eb, sizeof(eb)), 0);
	assert_non_null(strstr(eb, "cert_file and key_file"));
	write_file(path, "cert_file = /x/h.pem\nkey_file = /x/h.key\n");
	svc_config_defaults(&c);
	assert_int_equal(svc_config_load(&c, path, false, eb, sizeof(eb)), 0);
	assert_int_not_equal(svc_config_finish(&c, eb, sizeof(eb)), 0);
	assert_non_null(strstr(eb, "needs ca_file"));
	/* Directory without its keys is refused at the end. */
	write_file(path, "policy_source = directory\n");
	svc_config_defaults(&c);
	assert_int_equal(svc_config_load(&c, path, false, eb, sizeof(eb)), 0);
	assert_int_not_equal(svc_config_finish(&c, eb, sizeof(eb)), 0);
	assert_non_null(strstr(eb, "directory_uri"));
}

static void
test_config_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} t[] = {
		{ "diagnostics = 8\n", ":1: diagnostics must be 0 to 7" },
		{ "\n\nfoo = bar\n", ":3: unknown key 'foo'" },
		{ "driver = a\ndriver = b\n", ":2: key 'driver' given twice" },
		{ "just words\n", ":1: expected 'key = value'" },
		{ " = x\n", ":1: missing key" },
		{ "store = relative.xml\n", ":1: store must be an absolute path" },
		{ "control_mode = 0777\n", ":1: control_mode must be octal" },
		{ "control_mode = 0600\n", ":1: control_mode must be octal" },
		{ "audit_rotate_size = 100\n", ":1: audit_rotate_size" },
		{ "audit_rotate_size = 5X\n", ":1: audit_rotate_size" },
		{ "secrets = \"/x\n", ":1: unterminated quoted value" },
		{ "policy_source = ldap\n", ":1: policy_source must be local" },
		{ "oakley_log = maybe\n", ":1: oakley_log must be on or off" },
		{ "ike_port = 0\n", ":1: ike_port must be 1 to 65535" },
		{ "ike_port = 70000\n", ":1: ike_port" },
		{ "diagnostics = -1\n", ":1: diagnostics" },
		{ "diagnostics = \n", ":1: diagnostics" },
		{ "audit_sink = file\n", ":1: audit_sink must be" },
		{ "stop_timeout = 0\n", ":1: stop_timeout" },
		{ "directory_uri = http://x\n", ":1: directory_uri" },
		{ "directory_bind = kerberos\n", ":1: directory_bind must" },
		{ "directory_frob = 1\n", ":1: unknown key 'directory_frob'" },
		{ "directory_timeout = 0\n", ":1: directory_timeout" },
		{ "drop_privileges = perhaps\n", ":1: drop_privileges" },
		{ "kerberos_keytab = k.keytab\n", ":1: kerberos_keytab must" },
		{ "kerberos_principal = a b\n", ":1: kerberos_principal" },
		{ "kerberos_config = \n", ":1: kerberos_config must" },
		{ "cert_file = host.pem\n", ":1: cert_file must" },
		{ "key_file = \n", ":1: key_file must" },
		{ "ca_file = ca\n", ":1: ca_file must" },
		{ "dpd = 0\n", ":1: dpd must be 5 to 3600" },
		{ "dpd = 3601\n", ":1: dpd must" },
		{ "dpd = 30s\n", ":1: dpd must" },
		{ "natt_keepalive = 0\n", ":1: natt_keepalive must be 1 to" },
		{ "natt_keepalive = 3601\n", ":1: natt_keepalive must" },
		{ "dos_halfopen = 1001\n", ":1: dos_halfopen must be 0" },
		{ "soft_sa_lifetime = 0\n", ":1: soft_sa_lifetime must" },
	};
	struct svc_config c;
	char path[300], eb[1024];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		write_file(path, t[i].text);
		svc_config_defaults(&c);
		eb[0] = '\0';
		assert_int_not_equal(svc_config_load(&c, path, false, eb,
		    sizeof(eb)), 0);
		if (strstr(eb, t[i].want) == NULL || strstr(eb, path) != eb)
			fail_msg("case %zu: got '%s', want '%s'", i, eb,
			    t[i].want);
	}
	/* A missing file: error unless missing_ok; unknown group. */
	svc_config_defaults(&c);
	assert_int_not_equal(svc_config_load(&c, "/nonexistent/x.conf", false,
	    eb, sizeof(eb)), 0);
	assert_int_equal(svc_config_load(&c, "/nonexistent/x.conf", true,
	    eb, sizeof(eb)), 0);
	assert_int_equal(svc_config_set(&c, "admin_group",
	    "no-such-group-here", "-o", eb, sizeof(eb)), 0);
	assert_int_not_equal(svc_config_finish(&c, eb, sizeof(eb)), 0);
	assert_non_null(strstr(eb, "no group named 'no-such-group-here'"));
}

/* ---- control requests ---- */

static void
test_ctl_parse(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "\"status\"", "{}", "{\"cmd\":1}",
		"{\"cmd\":\"\"}", "{\"cmd\":\"Status\"}", "{\"cmd\":\"a b\"}",
		"{\"cmd\":\"status\",\"args\":[]}",
		"{\"cmd\":\"status\",\"extra\":1}",
		"{\"cmd\":\"status\",\"cmd\":\"show.all\"}",
		"{\"cmd\":\"sta\\u0000tus\"}",
		"{\"cmd\":\"status\"} {}",
		"{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	const char *good = "{\"cmd\":\"dynamic.add\",\"args\":{\"name\":\"x\"}}";
	struct svc_ctl_req req;
	char eb[256], *big;
	size_t i, len;

	(void)state;
	assert_int_equal(svc_ctl_parse(good, strlen(good), &req, eb,
	    sizeof(eb)), 0);
	assert_string_equal(req.cmd, "dynamic.add");
	assert_string_equal(json_string_value(json_object_get(req.args,
	    "name")), "x");
	svc_ctl_req_clear(&req);
	assert_int_equal(svc_ctl_parse("{\"cmd\":\"status\"}", 16, &req, eb,
	    sizeof(eb)), 0);
	assert_true(json_is_object((json_t *)req.args));
	svc_ctl_req_clear(&req);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb[0] = '\0';
		if (svc_ctl_parse(bad[i], strlen(bad[i]), &req, eb,
		    sizeof(eb)) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(eb[0] != '\0');
		assert_null(req.args);
	}
	/* Every truncation of a valid request fails cleanly. */
	len = strlen(good);
	for (i = 0; i < len; i++)
		assert_int_equal(svc_ctl_parse(good, i, &req, eb, sizeof(eb)),
		    PA_E_FORMAT);
	/* Over the size limit, even if well formed. */
	big = malloc(SVC_CTL_MAX_REQ + 32);
	assert_non_null(big);
	memset(big, ' ', SVC_CTL_MAX_REQ + 32);
	memcpy(big, good, len);
	assert_int_equal(svc_ctl_parse(big, SVC_CTL_MAX_REQ + 32, &req, eb,
	    sizeof(eb)), PA_E_FORMAT);
	assert_non_null(strstr(eb, "too large"));
	free(big);
}

/* ---- audit folding ---- */

struct capture {
	enum audit_event	ev[64];
	char			repeated[64][24];
	size_t			n;
};

static void
capture_sink(void *arg, enum audit_event ev, const struct audit_field *f,
    size_t n)
{
	struct capture *c = arg;
	size_t i;

	if (c->n >= 64)
		return;
	c->ev[c->n] = ev;
	c->repeated[c->n][0] = '\0';
	for (i = 0; i < n; i++)
		if (strcmp(f[i].key, "Repeated") == 0)
			snprintf(c->repeated[c->n], 24, "%s", f[i].value);
	c->n++;
}

static uint64_t fake_now;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void
test_audit_fold(void **state)
{
	struct audit_field fa[2] = { { "Peer Identity", "10.0.0.1" },
	    { "Filter", "f" } };
	struct audit_field fb[2] = { { "Peer Identity", "10.0.0.2" },
	    { "Filter", "f" } };
	struct audit_field ok[1] = { { "Mode", "Main Mode" } };
	struct capture cap;
	struct audit *a;
	size_t i;

	(void)state;
	memset(&cap, 0, sizeof(cap));
	assert_non_null(a = audit_new());
	audit_set_sink(a, capture_sink, &cap);
	audit_set_clock(a, fake_clock, NULL);
	fake_now = 1000;
	for (i = 0; i < 5; i++)
		audit_emit(a, AUDIT_IKE_AUTH_FAILED, fa, 2);
	audit_emit(a, AUDIT_IKE_AUTH_FAILED, fb, 2);
	for (i = 0; i < 3; i++)
		audit_emit(a, AUDIT_IKE_SA_ESTABLISHED, ok, 1);
	/* First of each burst at once; successes never folded. */
	assert_int_equal(cap.n, 5);
	assert_int_equal(cap.ev[0], AUDIT_IKE_AUTH_FAILED);
	assert_int_equal(audit_folded(a), 4);
	assert_int_equal(audit_next_timeout_ms(a, 1000),
	    AUDIT_FOLD_WINDOW_MS);
	audit_tick(a, 1000 + AUDIT_FOLD_WINDOW_MS - 1);
	assert_int_equal(cap.n, 5);
	audit_tick(a, 1000 + AUDIT_FOLD_WINDOW_MS);
	assert_int_equal(cap.n, 6);
	assert_string_equal(cap.repeated[5], "4");
	assert_int_equal(audit_next_timeout_ms(a, 1000 + AUDIT_FOLD_WINDOW_MS),
	    -1);
	/* After the window, a repeat starts a new burst. */
	fake_now = 1000 + AUDIT_FOLD_WINDOW_MS + 1;
	audit_emit(a, AUDIT_IKE_AUTH_FAILED, fa, 2);
	audit_emit(a, AUDIT_IKE_AUTH_FAILED, fa, 2);
	assert_int_equal(cap.n, 7);
	/* Flush (stop) reports the pending count. */
	audit_flush(a);
	assert_int_equal(cap.n, 8);
	assert_string_equal(cap.repeated[7], "1");
	/* More distinct bursts than slots: the oldest closes with its count. */
	memset(&cap, 0, sizeof(cap));
	for (i = 0; i < AUDIT_FOLD_SLOTS + 1; i++) {
		char peer[16];
		struct audit_field f[1] = { { "Peer", peer } };

		snprintf(peer, sizeof(peer), "p%zu", i);
		fake_now = 100000 + i;
		audit_emit(a, AUDIT_DRV_BAD_SPI, f, 1);
		audit_emit(a, AUDIT_DRV_BAD_SPI, f, 1);
	}
	/* 33 firsts, plus the oldest's count evicted early. */
	assert_int_equal(cap.n, AUDIT_FOLD_SLOTS + 2);
	audit_free(a);	/* flushes the rest */
	assert_int_equal(cap.n, 64 > 2 * AUDIT_FOLD_SLOTS + 2 ?
	    2 * AUDIT_FOLD_SLOTS + 2 : 64);
	/* NULL audit is allowed. */
	audit_emit(NULL, AUDIT_PA_FAILURE, NULL, 0);
}

/* ---- hash-chained audit file ---- */

static void
emit_n(struct svc_sinks *s, size_t n, size_t base)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char v[32];
		struct audit_field f[2] = { { "Reason", v },
		    { "Pad", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" } };

		snprintf(v, sizeof(v), "record %zu", base + i);
		svc_sinks_emit(s, AUDIT_PA_POLICY_CHANGED, f, 2);
	}
}

static void
test_audit_chain(void **state)
{
	struct svc_sinks_cfg sc = { SVC_SINK_NONE, NULL, 4096, 5, NULL, NULL };
	struct svc_sinks *s;
	struct svc_verify v;
	struct svc_verify_opts o40 = { .expect_last = 40 };
	struct svc_verify_opts o43 = { .expect_last = 43 };
	struct svc_verify_opts o44 = { .expect_last = 44 };
	struct svc_verify_opts o0 = { 0 };
	char path[300], p1[310], eb[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.jsonl", tmpdir);
	sc.file = path;
	assert_int_equal(svc_sinks_new(&sc, &s, eb, sizeof(eb)), 0);
	emit_n(s, 40, 0);
	assert_int_equal(svc_sinks_last_seq(s), 40);
	assert_int_equal(svc_sinks_errors(s), 0);
	svc_sinks_free(s);
	/* Rotated by size: path.1 exists, chain intact across files. */
	snprintf(p1, sizeof(p1), "%s.1", path);
	assert_int_equal(access(p1, F_OK), 0);
	assert_int_equal(svc_audit_verify(path, 5, &o40, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.records, 40);
	assert_int_equal(v.first_seq, 1);
	/* Resume after a restart: the chain continues. */
	assert_int_equal(svc_sinks_new(&sc, &s, eb, sizeof(eb)), 0);
	assert_int_equal(svc_sinks_last_seq(s), 40);
	emit_n(s, 3, 40);
	svc_sinks_free(s);
	assert_int_equal(svc_audit_verify(path, 5, &o43, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.last_seq, 43);
	/* The writer knows 44 were written: the tail was cut. */
	assert_int_equal(svc_audit_verify(path, 5, &o44, &v), 0);
	assert_false(v.ok);
	assert_non_null(strstr(v.what, "REMOVED: the last record (seq 44)"));
	/* Tamper inside a rotated file. */
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "sed -i '2s/record /RECORD /' '%s'",
		    p1);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(svc_audit_verify(path, 5, &o0, &v), 0);
	assert_false(v.ok);
	assert_non_null(strstr(v.what, ".1:2: ALTERED"));
	/* Missing file: no records, not an error. */
	snprintf(path, sizeof(path), "%s/none.jsonl", tmpdir);
	assert_int_equal(svc_audit_verify(path, 5, &o0, &v), 0);
	assert_true(v.ok);
	assert_int_equal(v.records, 0);
}

/* ---- forward-secure sealing of the audit file ---- */

static uint64_t seal_ms;

static uint64_t
seal_clock(void)
{
	return seal_ms;
}

static void
sh(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* Verify dir/audit.jsonl with key at the fake clock + later ms. */
static bool
seal_verify(const char *dir, const char *key, uint64_t later,
    uint64_t expect_last, struct svc_verify *v)
{
	char path[400];
	struct svc_verify_opts o = { .key = key, .now_ms = seal_ms + later,
	    .expect_last = expect_last };

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	assert_int_equal(svc_audit_verify(path, 5, &o, v), 0);
	return v->ok;
}

/*
 * Rewrite dir/audit.jsonl as someone without the old keys would: record
 * seq edit gets new text, every hash and link after it recomputed; seals
 * kept (they cannot be made).
 */
static void
rehash_from(const char *dir, uint64_t edit)
{
	char path[400], tmp[410], prev[SVC_HASH_HEX] = { 0 };
	char *line = NULL;
	size_t cap = 0;
	FILE *in, *out;

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_non_null(in = fopen(path, "r"));
	assert_non_null(out = fopen(tmp, "w"));
	while (getline(&line, &cap, in) > 0) {
		json_t *r = json_loads(line, 0, NULL);
		char h[SVC_HASH_HEX], *text;
		uint64_t seq;

		assert_non_null(r);
		seq = (uint64_t)json_integer_value(json_object_get(r, "seq"));
		if (seq == edit)
			json_object_set_new(json_object_get(r, "fields"),
			    "Reason", json_string("forged"));
		if (prev[0] != '\0' && seq > edit)
			json_object_set_new(r, "prev", json_string(prev));
		assert_int_equal(svc_audit_record_hash(r, h), 0);
		json_object_set_new(r, "hash", json_string(h));
		memcpy(prev, h, sizeof(prev));
		text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENSURE_ASCII);
		fprintf(out, "%s\n", text);
		free(text);
		json_decref(r);
	}
	free(line);
	fclose(in);
	fclose(out);
	assert_int_equal(rename(tmp, path), 0);
}

static void
test_audit_seal(void **state)
{
	struct svc_sinks_cfg sc = { SVC_SINK_NONE, NULL, 0, 5, NULL,
	    seal_clock };
	struct svc_sinks *s;
	struct svc_seal st;
	struct svc_verify v;
	char dir[300], path[400], seal[400], vkey[SVC_SEAL_VKEY_MAX];
	char bad[SVC_SEAL_VKEY_MAX], eb[256], work[300];
	uint64_t t0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/seal", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	snprintf(seal, sizeof(seal), "%s/audit.seal", dir);
	sc.file = path;
	sc.seal_file = seal;
	assert_int_equal(svc_seal_setup(seal, 60, false, vkey, eb,
	    sizeof(eb)), 0);
	/* Set up already: refused without force. */
	assert_int_equal(svc_seal_setup(seal, 60, false, bad, eb, sizeof(eb)),
	    PA_E_EXIST);
	assert_int_equal(svc_seal_load(seal, &st, eb, sizeof(eb)), 0);
	t0 = st.start_s * 1000;
	svc_seal_wipe(&st);

	/* Epoch 0: 5 records; epoch 1: 3; idle to epoch 4: 2, then stop. */
	seal_ms = t0 + 1000;
	assert_int_equal(svc_sinks_new(&sc, &s, eb, sizeof(eb)), 0);
	assert_true(svc_sinks_sealing(s));
	emit_n(s, 5, 0);
	seal_ms = t0 + 61000;
	emit_n(s, 3, 5);		/* epoch 0 sealed first: seq 6 */
	seal_ms = t0 + 245000;
	svc_sinks_tick(s);		/* epoch 1 sealed: seq 10 */
	emit_n(s, 2, 8);
	assert_int_equal(svc_sinks_errors(s), 0);
	svc_sinks_free(s);		/* seq 13 seals the stop */
	assert_true(seal_verify(dir, vkey, 0, 13, &v));
	assert_int_equal(v.records, 13);
	assert_non_null(strstr(v.what, "seals valid from seq 1 (epochs 0 to "
	    "4), sealed at the stop"));
	/* Days later, still fine: the stop was sealed. */
	assert_true(seal_verify(dir, vkey, 86400000, 0, &v));
	/* The key now on disk is of the epoch after the stop. */
	assert_int_equal(svc_seal_load(seal, &st, eb, sizeof(eb)), 0);
	assert_int_equal(st.epoch, 5);
	assert_int_equal(st.sealed_seq, 13);
	svc_seal_wipe(&st);
	/* A wrong key: every seal fails. */
	snprintf(bad, sizeof(bad), "%s", vkey);
	bad[10] = bad[10] == '0' ? '1' : '0';
	assert_false(seal_verify(dir, bad, 0, 0, &v));
	assert_non_null(strstr(v.what, ":1: ALTERED: record seq 1 does not "
	    "carry a valid seal of epoch 0"));
	snprintf(work, sizeof(work), "%s/w", tmpdir);

	/* A cut tail (the last 4 records): the chain ends unsealed. */
	sh("rm -rf %s && cp -a %s %s && sed -i '10,$d' %s/audit.jsonl", work,
	    dir, work, work);
	assert_false(seal_verify(work, vkey, 3600000, 0, &v));
	assert_non_null(strstr(v.what, "REMOVED: the chain ends in epoch 1 "));
	/* A shorter valid chain (the first 3 records). */
	sh("rm -rf %s && cp -a %s %s && sed -i '4,$d' %s/audit.jsonl", work,
	    dir, work, work);
	assert_false(seal_verify(work, vkey, 3600000, 0, &v));
	assert_non_null(strstr(v.what, "REMOVED: the chain ends in epoch 0 "));
	/* An edit, re-hashed to the end: the seal no longer matches. */
	sh("rm -rf %s && cp -a %s %s", work, dir, work);
	rehash_from(work, 2);
	assert_false(seal_verify(work, vkey, 0, 0, &v));
	assert_non_null(strstr(v.what, ":2: ALTERED: record seq 2 does not "
	    "carry a valid seal of epoch 0"));
	/* Without the key only the hash chain is checked: it passes. */
	assert_true(seal_verify(work, NULL, 0, 0, &v));

	/*
	 * Whoever holds the current key (read from the seal state) cuts the
	 * file after seq 3 and restarts the service: the epochs cut away
	 * cannot be sealed again, and the service reports the gap at start.
	 */
	sh("rm -rf %s && cp -a %s %s && sed -i '4,$d' %s/audit.jsonl", work,
	    dir, work, work);
	{
		struct svc_sinks_cfg wc = sc;
		char wp[400], ws[400];

		snprintf(wp, sizeof(wp), "%s/audit.jsonl", work);
		snprintf(ws, sizeof(ws), "%s/audit.seal", work);
		wc.file = wp;
		wc.seal_file = ws;
		seal_ms = t0 + 400000;
		assert_int_equal(svc_sinks_new(&wc, &s, eb, sizeof(eb)), 0);
		emit_n(s, 2, 100);
		svc_sinks_free(s);
		sh("grep -q 'IPSEC_AUDIT_CHAIN_BROKEN.*ends at seq 3 but seq "
		    "13 was sealed' %s", wp);
	}
	assert_false(seal_verify(work, vkey, 0, 0, &v));
	assert_non_null(strstr(v.what, "REMOVED: at seq 4 the service found "
	    "its chain did not reach what it had sealed"));

	/*
	 * An unclean stop (the file and state as a kill -9 leaves them): the
	 * next start seals the epoch left open and the chain verifies.
	 */
	sh("rm -rf %s && cp -a %s %s", work, dir, work);
	{
		struct svc_sinks_cfg wc = sc;
		char wp[400], ws[400];

		snprintf(wp, sizeof(wp), "%s/audit.jsonl", work);
		snprintf(ws, sizeof(ws), "%s/audit.seal", work);
		wc.file = wp;
		wc.seal_file = ws;
		seal_ms = t0 + 400000;		/* epoch 6 */
		assert_int_equal(svc_sinks_new(&wc, &s, eb, sizeof(eb)), 0);
		emit_n(s, 2, 200);
		sh("cp %s %s.crash && cp %s %s.crash", wp, wp, ws, ws);
		svc_sinks_free(s);
		sh("mv %s.crash %s && mv %s.crash %s", wp, wp, ws, ws);
		seal_ms = t0 + 600000;		/* epoch 10 */
		assert_int_equal(svc_sinks_new(&wc, &s, eb, sizeof(eb)), 0);
		emit_n(s, 1, 300);
		svc_sinks_free(s);
		sh("grep -q 'resumed after an unclean stop' %s", wp);
	}
	assert_true(seal_verify(work, vkey, 0, 0, &v));

	/* Rotation keeps the chain and the seals. */
	sh("rm -rf %s && mkdir %s", work, work);
	{
		struct svc_sinks_cfg wc = sc;
		char wp[400], ws[400];

		snprintf(wp, sizeof(wp), "%s/audit.jsonl", work);
		snprintf(ws, sizeof(ws), "%s/audit.seal", work);
		wc.file = wp;
		wc.seal_file = ws;
		wc.rotate_size = 4096;
		assert_int_equal(svc_seal_setup(ws, 60, false, vkey, eb,
		    sizeof(eb)), 0);
		assert_int_equal(svc_seal_load(ws, &st, eb, sizeof(eb)), 0);
		t0 = st.start_s * 1000;
		svc_seal_wipe(&st);
		seal_ms = t0;
		assert_int_equal(svc_sinks_new(&wc, &s, eb, sizeof(eb)), 0);
		emit_n(s, 20, 0);
		seal_ms = t0 + 60000;
		emit_n(s, 20, 20);
		svc_sinks_free(s);
		sh("test -f %s.2", wp);
	}
	assert_true(seal_verify(work, vkey, 0, 0, &v));
	assert_int_equal(v.last_seq, 42);
	/* A seal state of the wrong mode is refused at start. */
	sh("chmod 0644 %s/audit.seal", work);
	{
		struct svc_sinks_cfg wc = sc;
		char wp[400], ws[400];

		snprintf(wp, sizeof(wp), "%s/audit.jsonl", work);
		snprintf(ws, sizeof(ws), "%s/audit.seal", work);
		wc.file = wp;
		wc.seal_file = ws;
		assert_int_equal(svc_sinks_new(&wc, &s, eb, sizeof(eb)),
		    PA_E_PERM);
		assert_non_null(strstr(eb, "mode 0600"));
	}
	/* Not a key. */
	{
		struct svc_verify_opts o = { .key = "pa-seal1-zz" };

		assert_int_equal(svc_audit_verify(path, 5, &o, &v),
		    PA_E_FORMAT);
	}
}

/* ---- agent core on the null driver ---- */

struct events {
	int	ids[256];
	size_t	n;
	char	last614[512];	/* the last 614's Reason */
};

static void
ev_sink(void *arg, enum audit_event ev, const struct audit_field *f,
    size_t n)
{
	struct events *e = arg;

	if (ev == AUDIT_PA_DISABLED && n > 1)
		snprintf(e->last614, sizeof(e->last614), "%s", f[1].value);
	if (e->n < 256)
		e->ids[e->n++] = (int)ev;
}

static size_t
count_ev(const struct events *e, int id)
{
	size_t i, k = 0;

	for (i = 0; i < e->n; i++)
		k += e->ids[i] == id;
	return k;
}

static void
store_path(char *out, size_t cap)
{
	const char *src = getenv("PA_SOURCE_DIR");

	snprintf(out, cap, "%s/tests/integration/service/store.xml",
	    src != NULL ? src : ".");
}

static struct agent *
agent_up(struct audit *au, const char *store)
{
	struct agent_cfg ac;
	struct pol_err err;
	struct agent *a = NULL;

	memset(&ac, 0, sizeof(ac));
	ac.audit = au;
	ac.driver = "null";
	ac.source = AGENT_SRC_LOCAL;
	ac.store_path = store;
	ac.diagnostics = 1;
	ac.ike = false;
	if (agent_new(&ac, &a, &err) != 0)
		fail_msg("agent_new: %s: %s", err.where, err.what);
	if (agent_start(a, &err) != 0)
		fail_msg("agent_start: %s: %s", err.where, err.what);
	return a;
}

static struct agent_dyn_rule
dyn_rule(const char *name, const char *dst, enum pol_action act)
{
	struct agent_dyn_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.src.kind = POL_ADDR_ANY;
	r.dst.kind = POL_ADDR_SUBNET;
	assert_int_equal(pa_prefix_parse(dst, &r.dst.prefix), 0);
	r.proto = POL_PROTO_TCP;
	r.dport = 25;
	r.mirrored = true;
	r.action = act;
	return r;
}

static void
test_agent_core(void **state)
{
	struct events ev;
	struct audit *au;
	struct agent *a;
	struct driver *d;
	struct agent_info in;
	struct pol_err err;
	struct agent_dyn_rule r;
	char store[512], bad[300], copy[300], cmd[900];
	size_t base, adds, dels;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	assert_non_null(au = audit_new());
	audit_set_sink(au, ev_sink, &ev);
	store_path(store, sizeof(store));
	snprintf(copy, sizeof(copy), "%s/store.xml", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", store, copy);
	assert_int_equal(system(cmd), 0);
	a = agent_up(au, copy);
	d = agent_driver(a);
	assert_non_null(d);
	assert_int_equal(count_ev(&ev, AUDIT_PA_STARTED), 1);
	base = null_policy_count(d);
	assert_true(base > 0);
	assert_int_equal(base, pol_spd_count(agent_spd(a)));
	agent_get_info(a, &in);
	assert_string_equal(in.policy_name, "SvcTest");
	assert_string_equal(in.driver, "null");

	/* A reload of the same policy changes nothing in the driver. */
	adds = null_calls(d, NULL_OP_POLICY_ADD);
	dels = null_calls(d, NULL_OP_POLICY_DEL);
	assert_int_equal(agent_reload(a, &err), 0);
	assert_int_equal(null_calls(d, NULL_OP_POLICY_ADD), adds);
	assert_int_equal(null_calls(d, NULL_OP_POLICY_DEL), dels);
	assert_int_equal(count_ev(&ev, AUDIT_PA_POLICY_CHANGED), 1);

	/* Dynamic add installs only the new filters (mirrored: 4). */
	r = dyn_rule("smtp", "10.99.0.0/16", POL_ACT_BLOCK);
	assert_int_equal(agent_dynamic_add(a, &r, &err), 0);
	assert_int_equal(null_calls(d, NULL_OP_POLICY_DEL), dels);
	assert_int_equal(null_policy_count(d), pol_spd_count(agent_spd(a)));
	assert_true(null_policy_count(d) > base);
	assert_int_equal(agent_dynamic_add(a, &r, &err), PA_E_EXIST);
	adds = null_calls(d, NULL_OP_POLICY_ADD);

	/* Paused: the change is queued, then applied by continue. */
	assert_int_equal(agent_pause(a), 0);
	r = dyn_rule("smtp2", "10.98.0.0/16", POL_ACT_PERMIT);
	assert_int_equal(agent_dynamic_add(a, &r, &err), 0);
	assert_int_equal(null_calls(d, NULL_OP_POLICY_ADD), adds);
	agent_get_info(a, &in);
	assert_true(in.pending);
	assert_int_equal(agent_continue(a, &err), 0);
	assert_true(null_calls(d, NULL_OP_POLICY_ADD) > adds);
	assert_int_equal(null_policy_count(d), pol_spd_count(agent_spd(a)));
	agent_get_info(a, &in);
	assert_false(in.pending);
	assert_int_equal(in.dynamic_rules, 2);

	/* Delete removes only that rule's filters. */
	adds = null_calls(d, NULL_OP_POLICY_ADD);
	assert_int_equal(agent_dynamic_del(a, "smtp"), 0);
	assert_int_equal(null_calls(d, NULL_OP_POLICY_ADD), adds);
	assert_int_equal(null_policy_count(d), pol_spd_count(agent_spd(a)));
	assert_int_equal(agent_dynamic_del(a, "smtp"), PA_E_NOENT);
	assert_int_equal(agent_dynamic_flush(a), 0);
	assert_int_equal(null_policy_count(d), base);

	/* A bad policy on reload: rejected whole, old kept, 616. */
	snprintf(bad, sizeof(bad), "%s/store.xml", tmpdir);
	write_file(bad, "<ipsecStore xmlns=\"urn:ipsec-agent:policy:1\" "
	    "version=\"1\"><policy");
	assert_int_not_equal(agent_reload(a, &err), 0);
	assert_true(err.what[0] != '\0');
	assert_int_equal(count_ev(&ev, AUDIT_PA_FAILURE), 1);
	assert_int_equal(null_policy_count(d), base);
	agent_get_info(a, &in);
	assert_string_equal(in.policy_name, "SvcTest");

	/* Driver drops become events by diagnostics level (1 = errors). */
	{
		struct pa_addr peer;
		int fds[8];

		assert_int_equal(pa_addr_parse("10.0.0.9", &peer), 0);
		assert_int_equal(null_inject_drop(d, DRV_DROP_BAD_SPI, &peer, 3),
		    0);
		assert_int_equal(null_inject_drop(d, DRV_DROP_REPLAY, &peer, 2),
		    0);
		assert_true(agent_fds(a, fds, 8) >= 1);
		agent_dispatch(a, fds[0]);
		assert_int_equal(count_ev(&ev, AUDIT_DRV_BAD_SPI), 1);
		assert_int_equal(count_ev(&ev, AUDIT_DRV_REPLAY), 0);
		agent_set_diagnostics(a, 3);
		assert_int_equal(null_inject_drop(d, DRV_DROP_REPLAY, &peer, 2),
		    0);
		agent_dispatch(a, fds[0]);
		assert_int_equal(count_ev(&ev, AUDIT_DRV_REPLAY), 1);
	}

	/* Stop: flush, 614, idempotent. */
	agent_stop(a, "test stop", false);
	assert_null(agent_driver(a));
	assert_int_equal(count_ev(&ev, AUDIT_PA_DISABLED), 1);
	agent_stop(a, "again", false);
	assert_int_equal(count_ev(&ev, AUDIT_PA_DISABLED), 1);
	agent_free(a);
	audit_free(au);
}

/* A dynamic negotiate rule with auth=psk takes its key from the secrets
 * file; a missing key name refuses the rule. */
static void
test_agent_dynamic_psk(void **state)
{
	struct agent_cfg ac;
	struct pol_err err;
	struct agent *a = NULL;
	struct agent_dyn_rule r;
	char secrets[300];
	const struct pol_spd *spd;
	size_t i, found = 0;

	(void)state;
	snprintf(secrets, sizeof(secrets), "%s/secrets.xml", tmpdir);
	write_file(secrets, "<ipsecSecrets xmlns=\"urn:ipsec-agent:policy:1\" "
	    "version=\"1\"><psk name=\"k&amp;1\">6b6579</psk></ipsecSecrets>");
	assert_int_equal(chmod(secrets, 0600), 0);
	memset(&ac, 0, sizeof(ac));
	ac.driver = "null";
	ac.source = AGENT_SRC_LOCAL;
	ac.store_path = "/nonexistent/store.xml";
	ac.secrets_path = secrets;
	assert_int_equal(agent_new(&ac, &a, &err), 0);
	assert_int_equal(agent_start(a, &err), 0);
	r = dyn_rule("esp", "10.97.0.0/16", POL_ACT_NEGOTIATE);
	r.auth = POL_AUTH_PSK;
	snprintf(r.psk_ref, sizeof(r.psk_ref), "k&1");
	if (agent_dynamic_add(a, &r, &err) != 0)
		fail_msg("%s: %s", err.where, err.what);
	spd = agent_spd(a);
	for (i = 0; i < pol_spd_count(spd); i++) {
		const struct pol_spd_entry *e = pol_spd_entry_at(spd, i);

		assert_true(e->dynamic);
		assert_int_equal(e->rule->nauth, 1);
		assert_non_null(e->rule->auth[0].psk);
		assert_int_equal(e->rule->auth[0].psk->len, 3);
		assert_memory_equal(e->rule->auth[0].psk->p, "key", 3);
		found++;
	}
	assert_true(found > 0);
	r = dyn_rule("esp2", "10.96.0.0/16", POL_ACT_NEGOTIATE);
	r.auth = POL_AUTH_PSK;
	snprintf(r.psk_ref, sizeof(r.psk_ref), "nokey");
	assert_int_not_equal(agent_dynamic_add(a, &r, &err), 0);
	assert_int_equal(agent_dynamic_count(a), 1);
	agent_free(a);
}

/*
 * A filter action's offers are alternatives (Windows' "Request Security
 * (Optional)": ESP, ESP, AH, AH): the driver filter's template is the
 * first offer only, with reqid 0, never the union (which demanded AH and
 * ESP of every packet, so nothing Quick Mode negotiated ever served it).
 */
static void
test_agent_offers_are_alternatives(void **state)
{
	static const struct {
		const char	*offers;
		bool		 ah, esp;
	} cases[] = {
		{ "<offer esp=\"AES128\" espIntegrity=\"SHA1\"/>"
		    "<offer ah=\"SHA1\"/>", false, true },
		{ "<offer ah=\"SHA1\"/>"
		    "<offer esp=\"AES128\" espIntegrity=\"SHA1\"/>", true,
		    false },
		{ "<offer ah=\"SHA1\" esp=\"AES128\" espIntegrity=\"SHA1\"/>"
		    "<offer esp=\"3DES\" espIntegrity=\"SHA1\"/>", true,
		    true },
	};
	char store[512], copy[300], cmd[1400];
	struct agent *a;
	struct driver *d;
	size_t c, i, protect;

	(void)state;
	store_path(store, sizeof(store));
	snprintf(copy, sizeof(copy), "%s/alt.xml", tmpdir);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		snprintf(cmd, sizeof(cmd), "sed 's|<offer esp=\"AES128\" "
		    "espIntegrity=\"SHA1\" lifeSeconds=\"3600\"|%s<x |' '%s'"
		    " | sed 's|<x *$||; s|^ *lifeKilobytes=\"100000\"/>||' "
		    "> '%s'", cases[c].offers, store, copy);
		assert_int_equal(system(cmd), 0);
		a = agent_up(NULL, copy);
		d = agent_driver(a);
		protect = 0;
		for (i = 0; i < null_policy_count(d); i++) {
			const struct null_policy *p = null_policy_get(d, i);

			if (p->params.action != DRV_ACT_PROTECT)
				continue;
			protect++;
			assert_int_equal(p->params.want_ah, cases[c].ah);
			assert_int_equal(p->params.want_esp, cases[c].esp);
			assert_int_equal(p->params.reqid, 0);
		}
		assert_true(protect > 0);
		agent_free(a);
	}
}

/*
 * Start: what a previous instance left goes only once this instance's
 * filters are in (settle after the last add); stop is fail-closed unless
 * the administrator asked for clear, and 614 says which.
 */
static void
test_agent_fail_closed(void **state)
{
	struct events ev;
	struct audit *au;
	struct agent *a;
	struct driver *d;
	char store[512];
	size_t i, last_add = 0, settle = 0;
	int round;

	(void)state;
	store_path(store, sizeof(store));
	for (round = 0; round < 2; round++) {
		memset(&ev, 0, sizeof(ev));
		assert_non_null(au = audit_new());
		audit_set_sink(au, ev_sink, &ev);
		a = agent_up(au, store);
		d = agent_driver(a);
		assert_int_equal(null_calls(d, NULL_OP_SETTLE), 1);
		for (i = 0; i < null_log_len(d); i++) {
			if (null_log_get(d, i)->op == NULL_OP_POLICY_ADD)
				last_add = i;
			if (null_log_get(d, i)->op == NULL_OP_SETTLE)
				settle = i;
		}
		assert_true(last_add > 0 && settle > last_add);
		assert_int_equal(null_calls(d, NULL_OP_CLEAR), 0);
		agent_stop(a, "test", round == 1);
		assert_int_equal(count_ev(&ev, AUDIT_PA_DISABLED), 1);
		assert_non_null(strstr(ev.last614, round == 1 ?
		    "traffic flows in clear" : "fail-closed"));
		agent_free(a);
		audit_free(au);
	}
}

static void
test_agent_bad_config(void **state)
{
	struct agent_cfg ac;
	struct pol_err err;
	struct agent *a = NULL;

	(void)state;
	memset(&ac, 0, sizeof(ac));
	ac.driver = "nosuch";
	ac.source = AGENT_SRC_LOCAL;
	assert_int_equal(agent_new(&ac, &a, &err), PA_E_NOENT);
	assert_null(a);
	assert_non_null(strstr(err.what, "unknown driver backend 'nosuch'"));
	assert_non_null(strstr(err.what, "null"));
	ac.driver = "null";
	ac.source = AGENT_SRC_DIRECTORY;
	assert_int_equal(agent_new(&ac, &a, &err), PA_E_INVAL);
	assert_non_null(strstr(err.what, "directory_uri"));
	/* No store file: the embedded default, nothing assigned. */
	ac.source = AGENT_SRC_LOCAL;
	ac.store_path = "/nonexistent/store.xml";
	assert_int_equal(agent_new(&ac, &a, &err), 0);
	assert_int_equal(agent_start(a, &err), 0);
	assert_null(agent_policy(a));
	{
		struct agent_info in;

		agent_get_info(a, &in);
		assert_string_equal(in.source, "local (embedded default)");
		assert_int_equal(in.filters, 0);
	}
	agent_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_ok),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_ctl_parse),
		cmocka_unit_test(test_audit_fold),
		cmocka_unit_test(test_audit_chain),
		cmocka_unit_test(test_audit_seal),
		cmocka_unit_test(test_agent_core),
		cmocka_unit_test(test_agent_dynamic_psk),
		cmocka_unit_test(test_agent_offers_are_alternatives),
		cmocka_unit_test(test_agent_fail_closed),
		cmocka_unit_test(test_agent_bad_config),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
