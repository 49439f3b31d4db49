# Directory policy (team member E): ipsecData codec, LDAP client, directory
# source. Unit tests run without servers; see tests/integration/directory.cmake
# for the slapd/KDC ones.
pa_test(test_gpipsec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gpipsec.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
# Blobs Windows wrote (Samba's provision.ldif, read at test time).
pa_test(test_gpipsec_samba SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gpipsec_samba.c
	LIBS pa_policy PkgConfig::LDAP LABELS unit TIMEOUT 30)
set_tests_properties(test_gpipsec_samba PROPERTIES SKIP_RETURN_CODE 77)
# Records <-> model: gPLink, GPO precedence, LDIF export/import, rejection.
pa_test(test_ldap_gpo SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ldap_gpo.c
	LIBS pa_export pa_policy pa_ldap PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
# Domain controllers by DNS SRV (ldap/srv.c): answer parsing, RFC 2782
# order, URIs, truncation and corruption sweeps.
pa_test(test_ldap_srv SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ldap_srv.c
	LIBS pa_ldap PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
# Spread of scheduled polls (issue 19): bound, per host, over a fleet.
pa_test(test_dir_spread SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dir_spread.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
