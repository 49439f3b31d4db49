# Packaging (owner: pkg): the configuration key table against the parser.
pa_test(test_config_keys
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config_keys.c
	LIBS pa_service pa_agent pa_driver PkgConfig::JANSSON PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
