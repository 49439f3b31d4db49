/*
 * Unit tests of `ipseccmd static` / `ipseccmd match` through
 * svc_static_main(): the example policy built in a few commands,
 * show (text and JSON), match, export/import, and every rejection with
 * the store file left byte-for-byte unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "lib/static_cmd.h"
#include "test_policy_util.h"

struct run {
	int	 rc;
	char	*out;
	char	*err;
};

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Run one command line ("static add ..." split on blanks, quotes kept). */
static struct run
run(struct tp_dir *d, const char *line)
{
	char *argv[40], *copy = strdup(line), *p = copy, *store, *sec;
	char *outp = tp_path(d, "out.txt"), *errp = tp_path(d, "err.txt");
	int argc = 0, so, se, fo, fe;
	struct run r;

	assert_non_null(copy);
	while (*p != '\0') {
		char *w = p, *q = p;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = q = p;
		while (*p != '\0' && *p != ' ') {
			if (*p == '"') {
				p++;
				while (*p != '\0' && *p != '"')
					*q++ = *p++;
				if (*p == '"')
					p++;
			} else
				*q++ = *p++;
		}
		if (*p == ' ')
			p++;
		*q = '\0';
		assert_true(argc < 39);
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	store = tp_path(d, "store.xml");
	sec = tp_path(d, "secrets.xml");
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	r.rc = svc_static_main(argc, argv, store, sec);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	r.out = tp_read(outp);
	r.err = tp_read(errp);
	free(outp);
	free(errp);
	free(store);
	free(sec);
	free(copy);
	return r;
}

/* Run and expect rc; on mismatch print what the command said. */
static void
expect(struct tp_dir *d, int rc, const char *line, const char *out_sub,
    const char *err_sub)
{
	struct run r = run(d, line);

	if (r.rc != rc || (out_sub && strstr(r.out, out_sub) == NULL) ||
	    (err_sub && strstr(r.err, err_sub) == NULL))
		fail_msg("'%s': rc %d (want %d)\nstdout: %s\nstderr: %s", line,
		    r.rc, rc, r.out, r.err);
	run_free(&r);
}

/* The example, in a handful of commands. */
static void
build_example(struct tp_dir *d)
{
	expect(d, 0, "static add filteraction name=RequireESP "
	    "action=negotiate qmsecmethods=\"ESP[3DES,SHA1]:3600s/100000kb\" "
	    "inpass=no soft=no", NULL, NULL);
	expect(d, 0, "static add filteraction name=Permit action=permit",
	    NULL, NULL);
	expect(d, 0, "static add filter filterlist=Net10 srcaddr=me "
	    "dstaddr=10.0.0.0 dstmask=255.255.255.0", NULL, NULL);
	expect(d, 0, "static add filter filterlist=ICMP10 srcaddr=me "
	    "dstaddr=10.0.0.0/24 protocol=icmp", NULL, NULL);
	expect(d, 0, "static add policy name=Corp assign=yes", NULL, NULL);
	expect(d, 0, "static add rule name=Secure10 policy=Corp "
	    "filterlist=Net10 filteraction=RequireESP psk=s3cret-key", NULL,
	    NULL);
	expect(d, 0, "static add rule name=PermitICMP policy=Corp "
	    "filterlist=ICMP10 filteraction=Permit", NULL, NULL);
}

static void
test_example_show_match(void **state)
{
	struct tp_dir *d = *state;
	struct run r;
	json_t *j;
	json_error_t je;
	char *sec;
	struct stat st;

	build_example(d);
	expect(d, 0, "static show all", "Assigned       : YES",
	    NULL);
	expect(d, 0, "static show policy name=Corp", "preshared key (hidden)",
	    NULL);
	r = run(d, "static show all");
	assert_null(strstr(r.out, "s3cret-key"));
	run_free(&r);
	expect(d, 0, "static show rule policy=Corp name=Secure10 "
	    "showsecrets=yes", "\"s3cret-key\"", NULL);
	/* The secrets file holds the key, mode 0600; the store does not. */
	sec = tp_path(d, "secrets.xml");
	assert_int_equal(stat(sec, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(sec);
	sec = tp_path(d, "store.xml");
	r.out = tp_read(sec);
	assert_null(strstr(r.out, "s3cret"));
	free(r.out);
	free(sec);

	/* JSON of every show parses and says what the text says. */
	r = run(d, "static show all --json");
	assert_int_equal(r.rc, 0);
	j = json_loads(r.out, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "policies")), 1);
	assert_true(json_is_true(json_object_get(json_array_get(
	    json_object_get(j, "policies"), 0), "assigned")));
	assert_int_equal(json_array_size(json_object_get(j, "filterlists")), 2);
	json_decref(j);
	run_free(&r);
	r = run(d, "static show filteraction name=RequireESP --json");
	j = json_loads(r.out, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(j,
	    "filteractions"), 0), "qmsecmethods"), 0),
	    "text")), "ESP[3DES,SHA1]:3600s/100000kb");
	json_decref(j);
	run_free(&r);
	expect(d, 0, "static show filterlist --json", "\"Net10\"", NULL);
	expect(d, 0, "static show rule policy=Corp --json", "\"Secure10\"",
	    NULL);
	expect(d, 0, "static show filter filterlist=Net10 --json",
	    "\"prefix\": 24", NULL);

	/* What-if. */
	expect(d, 0, "match src=192.168.1.1 dst=10.0.0.5 proto=tcp "
	    "dstport=22 myaddr=192.168.1.1", "Rule        : Secure10", NULL);
	expect(d, 0, "match src=192.168.1.1 dst=10.0.0.5 proto=icmp "
	    "myaddr=192.168.1.1", "Rule        : PermitICMP", NULL);
	expect(d, 0, "match src=10.0.0.5 dst=192.168.1.1 proto=udp srcport=53 "
	    "dstport=999 myaddr=192.168.1.1", "direction in", NULL);
	expect(d, 0, "match src=192.168.1.1 dst=8.8.8.8 proto=tcp "
	    "myaddr=192.168.1.1", "No filter matches", NULL);
	r = run(d, "match src=192.168.1.1 dst=10.0.0.5 proto=icmp "
	    "myaddr=192.168.1.1 --json");
	j = json_loads(r.out, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "action")),
	    "permit");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "other_matches")), 1);
	json_decref(j);
	run_free(&r);
}

static void
test_set_delete(void **state)
{
	struct tp_dir *d = *state;

	build_example(d);
	expect(d, 0, "static add policy name=Other", NULL, NULL);
	/* Assigning one unassigns the other. */
	expect(d, 0, "static set policy name=Other assign=yes "
	    "mmsecmethods=\"AES256-SHA256-14 3DES-SHA1-2\" mmlifetime=60",
	    NULL, NULL);
	expect(d, 0, "static show policy name=Corp", "Assigned       : no",
	    NULL);
	expect(d, 0, "static show policy name=Other",
	    "AES256-SHA256-14 3DES-SHA1-2", NULL);
	expect(d, 0, "static set filteraction name=RequireESP qmpfs=yes "
	    "pfsgroup=14 qmsecmethods=\"AH[SHA1]+ESP[AES128,SHA256]:300s "
	    "ESP[3DES,MD5]:50000k/600s\"", NULL, NULL);
	expect(d, 0, "static show filteraction name=RequireESP",
	    "AH[SHA1]+ESP[AES128,SHA256]:300s/100000kb (PFS)", NULL);
	expect(d, 0, "static show filteraction name=RequireESP",
	    "ESP[3DES,MD5]:600s/50000kb (PFS)", NULL);
	expect(d, 0, "static set rule policy=Corp name=Secure10 "
	    "newname=S10 kerberos=yes rootca=\"CN=Corp Root\" activate=no",
	    NULL, NULL);
	expect(d, 0, "static show rule policy=Corp name=S10",
	    "kerberos, certificate (CA \"CN=Corp Root\")", NULL);
	expect(d, 0, "static set filterlist name=Net10 newname=Servers", NULL,
	    NULL);
	expect(d, 0, "static show rule policy=Corp name=S10",
	    "Filter list  : Servers", NULL);
	/* set filter by GUID (from show --json). */
	{
		struct run r = run(d, "static show filter filterlist=Servers "
		    "--json");
		json_error_t je;
		json_t *j = json_loads(r.out, 0, &je);
		char *line = NULL;

		assert_non_null(j);
		assert_true(asprintf(&line, "static set filter filterlist="
		    "Servers guid=%s protocol=tcp dstport=8443 mirrored=no",
		    json_string_value(json_object_get(json_array_get(
		    json_object_get(j, "filters"), 0), "guid"))) > 0);
		expect(d, 0, line, NULL, NULL);
		expect(d, 0, "static show filterlist name=Servers",
		    "me port any -> 10.0.0.0/24 port 8443, tcp  {", NULL);
		/* Back to any protocol with the port still set: refused. */
		memcpy(strstr(line, "protocol=tcp"), "protocol=any", 12);
		expect(d, 1, line, NULL, "no ports");
		free(line);
		json_decref(j);
		run_free(&r);
		expect(d, 1, "static set filter filterlist=Servers guid="
		    "{00000000-0000-4000-8000-000000000000} dstport=1", NULL,
		    "is not in 'Servers'");
	}
	/* Delete filters by selector; the list then still exists. */
	expect(d, 0, "static add filter filterlist=Servers srcaddr=me "
	    "dstaddr=10.9.0.0/16 protocol=tcp dstport=443", NULL, NULL);
	expect(d, 0, "static delete filter filterlist=Servers "
	    "dstaddr=10.9.0.0/16", "deleted 1 filter", NULL);
	expect(d, 1, "static delete filter filterlist=Servers "
	    "dstaddr=10.9.0.0/16", NULL, "no filter");
	/* In use: refused; after the rule goes: fine. */
	expect(d, 1, "static delete filterlist name=Servers", NULL,
	    "used by rule 'S10'");
	expect(d, 1, "static delete filteraction name=Permit", NULL,
	    "used by rule");
	expect(d, 0, "static delete rule policy=Corp name=S10", NULL, NULL);
	expect(d, 0, "static delete filterlist name=Servers", NULL, NULL);
	expect(d, 0, "static delete policy name=Corp", NULL, NULL);
	expect(d, 1, "static show policy name=Corp", NULL, "no policy");
	expect(d, 0, "static delete policy all=yes", NULL, NULL);
	expect(d, 0, "static show all", "Filter action    : Permit", NULL);
}

/* Each rejection: non-zero exit, a precise message, the store intact. */
static void
test_rejections_leave_store(void **state)
{
	static const struct {
		int		 rc;
		const char	*line;
		const char	*msg;
	} bad[] = {
		{ 1, "static add filteraction name=X action=negotiate "
		    "qmsecmethods=\"ESP[RC4,SHA1]\"", "unknown ESP cipher "
		    "'RC4'" },
		{ 1, "static add filteraction name=X qmsecmethods="
		    "\"AH[SHA3]\"", "unknown AH algorithm 'SHA3'" },
		{ 1, "static set policy name=Corp mmsecmethods=\"3DES-SHA1-5\"",
		    "Diffie-Hellman group '5'" },
		{ 1, "static add filteraction name=X action=negotiate",
		    "needs qmsecmethods" },
		{ 1, "static add filter filterlist=Net10 srcaddr=me "
		    "dstaddr=10.0.0.0 dstmask=255.0.255.0", "not a prefix" },
		{ 1, "static add filter filterlist=Net10 srcaddr=me "
		    "dstaddr=10.0.0.1/24", "host bits" },
		{ 1, "static add filter filterlist=Net10 srcaddr=me "
		    "dstaddr=any protocol=icmp dstport=80", "no ports" },
		{ 1, "static add filter filterlist=Net10 srcaddr=fd00::1 "
		    "dstaddr=10.0.0.1", "mix IPv4 and IPv6" },
		{ 1, "static add rule name=R policy=Corp filterlist=Nope "
		    "filteraction=Permit", "filter list 'Nope' does not exist" },
		{ 1, "static add rule name=R policy=Nope filterlist=Net10 "
		    "filteraction=Permit", "policy 'Nope' does not exist" },
		{ 1, "static add policy name=Corp", "already exists" },
		{ 1, "static add rule name=Secure10 policy=Corp "
		    "filterlist=Net10 filteraction=Permit", "already has" },
		{ 1, "static add filter filterlist=Net10 srcaddr=me "
		    "dstaddr=no-such-host.invalid", "does not resolve" },
		{ 1, "static set policy name=Corp assign=maybe",
		    "expected yes or no" },
		{ 1, "static set policy name=Corp pollinginterval=0",
		    "expected a number" },
		{ 2, "static add policy name=Y colour=blue",
		    "unknown parameter 'colour'" },
		{ 2, "static add policy name=Y name=Z", "given twice" },
		{ 2, "static frobnicate policy name=Y", "unknown command" },
		{ 2, "static add filter filterlist=Net10 srcaddr=me",
		    "needs srcaddr= and dstaddr=" },
		{ 2, "match src=1.2.3.4", "needs src= and dst=" },
		{ 1, "match src=1.2.3.4 dst=fd00::1", "mix IPv4 and IPv6" },
		{ 1, "match src=1.2.3.4 dst=1.2.3.5 proto=icmp dstport=3",
		    "without ports" },
		{ 1, "static importpolicy file=/nonexistent.xml",
		    "cannot open" },
	};
	struct tp_dir *d = *state;
	char *store = tp_path(d, "store.xml"), *sec = tp_path(d, "secrets.xml");
	char *before, *sbefore, *after, *safter;
	size_t i;

	build_example(d);
	before = tp_read(store);
	sbefore = tp_read(sec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect(d, bad[i].rc, bad[i].line, NULL, bad[i].msg);
		after = tp_read(store);
		safter = tp_read(sec);
		assert_string_equal(before, after);
		assert_string_equal(sbefore, safter);
		free(after);
		free(safter);
	}
	free(before);
	free(sbefore);
	free(store);
	free(sec);
}

static void
test_bad_store_file(void **state)
{
	struct tp_dir *d = *state;
	char *store = tp_path(d, "store.xml"), *x, *p;
	char *before;

	/* Invalid XML: every command fails with file:line. */
	tp_write(store, "<ipsecStore xmlns=\"urn:ipsec-agent:policy:1\" "
	    "version=\"1\">\n<policy>\n");
	expect(d, 1, "static show all", NULL, "store.xml:");
	expect(d, 1, "static add policy name=A", NULL, "invalid XML");
	/* Two policies assigned in a hand-edited store. */
	x = tp_fixture("example.xml");
	p = strstr(x, "</ipsecStore>");
	*p = '\0';
	before = NULL;
	assert_true(asprintf(&before, "%s<policy id=\"{11111111-0000-4000-"
	    "8000-0000000000A5}\" name=\"Other\" assigned=\"yes\"><isakmp "
	    "id=\"{11111111-0000-4000-8000-0000000000A6}\"><method cipher="
	    "\"AES128\" hash=\"SHA256\" group=\"14\"/></isakmp></policy>"
	    "</ipsecStore>\n", x) > 0);
	tp_write(store, before);
	free(tp_copy_fixture(d, "example-secrets.xml", 0600));
	{
		/* svc_static_main reads secrets.xml from the test dir. */
		char *s = tp_path(d, "secrets.xml");
		char *e = tp_path(d, "example-secrets.xml");

		assert_int_equal(rename(e, s), 0);
		free(s);
		free(e);
	}
	expect(d, 1, "static add policy name=B", NULL, "at most one");
	x[0] = '\0';
	free(x);
	x = tp_read(store);
	assert_string_equal(x, before);
	free(x);
	free(before);
	free(store);
}

/* importpolicy of a file with duplicate GUIDs: refused, store intact. */
static void
test_import_duplicate_guid(void **state)
{
	struct tp_dir *d = *state;
	char *x = tp_fixture("example.xml"), *p, *imp = tp_path(d, "dup.xml");
	char *store = tp_path(d, "store.xml"), *before, *after, *line = NULL;

	build_example(d);
	/* No secrets file reference: the key goes inline. */
	p = strstr(x, "<auth kind=\"psk\" secret=\"corp-psk\"/>");
	assert_non_null(p);
	memcpy(p, "<auth kind=\"kerberos\"/>             ", 36);
	/* The second filter takes the first filter's GUID. */
	p = strstr(x, "000000000012}");
	assert_non_null(p);
	memcpy(p, "000000000011}", 13);
	tp_write(imp, x);
	before = tp_read(store);
	assert_true(asprintf(&line, "static importpolicy file=%s", imp) > 0);
	expect(d, 1, line, NULL, "duplicate GUID");
	after = tp_read(store);
	assert_string_equal(before, after);
	/* A name clash with a different object is refused too. */
	p = strstr(x, "000000000011}");
	memcpy(p, "000000000012}", 13);
	p = strstr(x, "name=\"Permit\"");
	assert_non_null(p);
	tp_write(imp, x);
	expect(d, 1, line, NULL, "already exists");
	free(after);
	after = tp_read(store);
	assert_string_equal(before, after);
	free(line);
	free(before);
	free(after);
	free(store);
	free(imp);
	free(x);
}

/* A binary key is shown in hex, never as raw bytes. */
static void
test_binary_key_shown_hex(void **state)
{
	struct tp_dir *d = *state;
	char *x = tp_source_file("tests/fuzz/corpus/policy_xml/"
	    "example-inline-key.xml"), *p;
	char *imp = tp_path(d, "bin.xml"), *line = NULL;

	p = strstr(x, "7333637265742d6b6579");
	assert_non_null(p);
	memcpy(p, "00ff0a22", 8);
	memmove(p + 8, p + 20, strlen(p + 20) + 1);
	tp_write(imp, x);
	assert_true(asprintf(&line, "static importpolicy file=%s", imp) > 0);
	expect(d, 0, line, NULL, NULL);
	expect(d, 0, "static show rule policy=Corp name=Secure10 "
	    "showsecrets=yes", "preshared key \"hex:00ff0a22\"", NULL);
	expect(d, 0, "static show rule policy=Corp name=Secure10 "
	    "showsecrets=yes --json", "\"key\": \"hex:00ff0a22\"", NULL);
	free(line);
	free(imp);
	free(x);
}

static void
test_export_import(void **state)
{
	struct tp_dir *d = *state;
	char *exp = tp_path(d, "export.xml"), *line = NULL, *a, *b;
	struct stat st;
	struct run r;

	build_example(d);
	r = run(d, "static show all --json");
	a = r.out;
	free(r.err);
	assert_true(asprintf(&line, "static exportpolicy file=%s", exp) > 0);
	expect(d, 0, line, "exported 1 policy", NULL);
	free(line);
	assert_int_equal(stat(exp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The export carries the key inline. */
	b = tp_read(exp);
	assert_non_null(strstr(b, "7333637265742d6b6579"));
	free(b);
	expect(d, 0, "static delete policy name=Corp", NULL, NULL);
	expect(d, 0, "static delete filteraction all=yes", NULL, NULL);
	expect(d, 0, "static delete filterlist all=yes", NULL, NULL);
	assert_true(asprintf(&line, "static importpolicy file=%s", exp) > 0);
	expect(d, 0, line, "5 objects added", NULL);
	/* Importing again replaces, never duplicates. */
	expect(d, 0, line, "0 objects added, 5 replaced", NULL);
	free(line);
	/* Import never assigns: assign again, then compare everything. */
	expect(d, 0, "static set policy name=Corp assign=yes", NULL, NULL);
	r = run(d, "static show all --json");
	b = r.out;
	free(r.err);
	assert_string_equal(a, b);
	free(a);
	free(b);
	expect(d, 0, "static show rule policy=Corp name=Secure10 "
	    "showsecrets=yes", "s3cret-key", NULL);
	free(exp);
}

/*
 * match myaddr= with a bad address names it: the message was printed from
 * the token after its buffer was freed (garbage, a use after free).
 */
static void
test_match_bad_myaddr_named(void **state)
{
	struct tp_dir *d = *state;

	expect(d, SVC_STATIC_ERR, "match src=192.0.2.1 dst=192.0.2.2 "
	    "myaddr=192.0.2.2,not-an-address", NULL,
	    "myaddr: 'not-an-address' is not an address");
}

/*
 * rootca= is an X.509 name, checked when the rule is written; netsh's
 * certmap:/excludecaname: options are flags, not part of the name.
 */
static void
test_rootca_is_a_name(void **state)
{
	struct tp_dir *d = *state;
	char *store, *x;

	build_example(d);
	expect(d, SVC_STATIC_ERR, "static set rule policy=Corp name=Secure10 "
	    "rootca=\"Org CA\"", NULL, "rootca=\"Org CA\" is not an X.509 "
	    "name");
	expect(d, SVC_STATIC_ERR, "static set rule policy=Corp name=Secure10 "
	    "rootca=\"XX=Org CA\"", NULL, "'XX' is not an attribute type");
	expect(d, SVC_STATIC_ERR, "static set rule policy=Corp name=Secure10 "
	    "rootca=\"CN=Org CA certmap:maybe\"", NULL,
	    "certmap: takes yes or no");
	expect(d, 0, "static set rule policy=Corp name=Secure10 "
	    "rootca=\"C=XX, O=Org, CN=Org CA certmap:yes excludecaname:no\"",
	    NULL, NULL);
	expect(d, 0, "static show rule policy=Corp name=Secure10",
	    "certificate (CA \"C=XX, O=Org, CN=Org CA\", mapped to a "
	    "computer account)", NULL);
	store = tp_path(d, "store.xml");
	x = tp_read(store);
	assert_non_null(x);
	assert_non_null(strstr(x, "ca=\"C=XX, O=Org, CN=Org CA\""));
	assert_non_null(strstr(x, "certmap=\"yes\""));
	assert_null(strstr(x, "excludecaname="));
	assert_null(strstr(x, "certmap:"));
	free(x);
	free(store);
	expect(d, 0, "static set rule policy=Corp name=Secure10 "
	    "rootca=\"/C=XX/O=Org/CN=Org CA\"", NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_example_show_match,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_set_delete, tp_setup,
		    tp_teardown),
		cmocka_unit_test_setup_teardown(test_rejections_leave_store,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_bad_store_file, tp_setup,
		    tp_teardown),
		cmocka_unit_test_setup_teardown(test_import_duplicate_guid,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_binary_key_shown_hex,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_match_bad_myaddr_named,
		    tp_setup, tp_teardown),
		cmocka_unit_test_setup_teardown(test_export_import, tp_setup,
		    tp_teardown),
		cmocka_unit_test_setup_teardown(test_rootca_is_a_name, tp_setup,
		    tp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
