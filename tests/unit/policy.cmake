# agent/policy: model, XML store, SPD (owner: A).
pa_test(test_policy
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy.c
		${CMAKE_CURRENT_LIST_DIR}/test_policy_util.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 60)
pa_test(test_policy_spd
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy_spd.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 60)
# static_cmd.c is built in directly (it needs only pa_export and
# pa_policy), so this test does not depend on the rest of pa_service.
file(GLOB PA_STATIC_CMD_SRC ${CMAKE_SOURCE_DIR}/service/lib/static_*.c)
pa_test(test_policy_cli
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy_cli.c
		${CMAKE_CURRENT_LIST_DIR}/test_policy_util.c
		${PA_STATIC_CMD_SRC}
	LIBS pa_export pa_policy PkgConfig::JANSSON PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
target_include_directories(test_policy_cli PRIVATE ${CMAKE_SOURCE_DIR}/service)
# The built-in templates against the objects Windows writes (Samba's
# provision.ldif); skips (77) without samba-ad-provision.
pa_test(test_policy_builtin
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy_builtin.c
	LIBS pa_policy PkgConfig::LDAP LABELS unit TIMEOUT 60)
set_tests_properties(test_policy_builtin PROPERTIES SKIP_RETURN_CODE 77)
