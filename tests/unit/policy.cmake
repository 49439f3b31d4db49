# agent/policy: model, XML store, SPD (owner: A).
pa_test(test_policy
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy.c
		${CMAKE_CURRENT_LIST_DIR}/test_policy_util.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 60)
pa_test(test_policy_spd
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy_spd.c
	LIBS pa_policy PkgConfig::CMOCKA LABELS unit TIMEOUT 60)
pa_test(test_policy_cli
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_policy_cli.c
		${CMAKE_CURRENT_LIST_DIR}/test_policy_util.c
	LIBS pa_service PkgConfig::JANSSON PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
