
pa_test(test_common SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_common.c
	LIBS pa_common PkgConfig::CMOCKA LABELS unit)

# rootca= names read and compared as X.509 names (common/pa_dn.c).
pa_test(test_dn SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_dn.c
	LIBS pa_common PkgConfig::CMOCKA LABELS unit)
