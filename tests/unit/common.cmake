
pa_test(test_common SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_common.c
	LIBS pa_common PkgConfig::CMOCKA LABELS unit)

