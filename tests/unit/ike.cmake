# IKE engine unit tests (owner: IKE).
pa_test(test_ike_isakmp SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ike_isakmp.c
	LIBS pa_ike PkgConfig::CMOCKA LABELS unit TIMEOUT 60)
pa_test(test_ike_oakley SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ike_oakley.c
	LIBS pa_ike PkgConfig::CMOCKA OpenSSL::Crypto LABELS unit TIMEOUT 60)
pa_test(test_ike_engine SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ike_engine.c
	LIBS pa_ike PkgConfig::CMOCKA OpenSSL::Crypto LABELS unit TIMEOUT 60)
target_include_directories(test_ike_engine PRIVATE
	${CMAKE_SOURCE_DIR}/driver_shim/null)
