# The service and the agent core (owner: B).
pa_test(test_service
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_service.c
	LIBS pa_service pa_agent pa_driver PkgConfig::JANSSON PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
