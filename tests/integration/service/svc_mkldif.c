/*
 * svc_mkldif STORE.xml BASE GPO-GUID LINK-DN: print directory-ready LDIF
 * of the store's assigned policy, with a GPO carrying it and a gPLink on
 * LINK-DN (for the service's directory test).
 */
#include <stdio.h>
#include <stdlib.h>

#include "from_ldap.h"
#include "store_xml.h"

int
main(int argc, char **argv)
{
	struct pol_store *st = NULL;
	struct pol_ldif_opts o;
	struct pol_err err;
	struct pa_guid g;
	char *text = NULL;
	size_t len;

	if (argc != 5) {
		fprintf(stderr, "usage: svc_mkldif STORE BASE GPO-GUID LINK-DN\n");
		return 2;
	}
	if (pa_guid_parse(argv[3], &g) != 0) {
		fprintf(stderr, "bad GUID %s\n", argv[3]);
		return 2;
	}
	if (pol_store_load_xml(argv[1], NULL, &st, &err) != 0 ||
	    pol_store_resolve(st, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		pol_store_free(st);
		return 1;
	}
	o.base = argv[2];
	o.gpo = &g;
	o.gpo_name = "Service test GPO";
	o.link_dn = argv[4];
	if (pol_ldif_write(st, NULL, NULL, &o, &text, &len, &err) != 0) {
		fprintf(stderr, "%s: %s\n", err.where, err.what);
		pol_store_free(st);
		return 1;
	}
	fwrite(text, 1, len, stdout);
	free(text);
	pol_store_free(st);
	return 0;
}
