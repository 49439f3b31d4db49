# IKE <-> driver glue unit tests (owner: H): the NAT-T socket's filter.
pa_test(test_ike_natt SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ike_natt.c
	LIBS pa_ike PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
target_include_directories(test_ike_natt PRIVATE
	${CMAKE_SOURCE_DIR}/driver_shim/null)
