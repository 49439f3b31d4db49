# IKE engine unit tests (owner: IKE).
pa_test(test_ike_isakmp SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ike_isakmp.c
	LIBS pa_ike PkgConfig::CMOCKA LABELS unit TIMEOUT 60)
