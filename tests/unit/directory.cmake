# Directory policy (team member E): ipsecData codec, LDAP client, directory
# source. Unit tests run without servers; see tests/integration/directory.cmake
# for the slapd/KDC ones.
pa_test(test_gpipsec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gpipsec.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
