# driver_shim/ unit tests (owner: D).
pa_test(test_driver SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_driver.c
	LIBS pa_driver PkgConfig::CMOCKA LABELS unit TIMEOUT 30)
pa_test(test_uesp SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_uesp.c
	LIBS pa_driver OpenSSL::Crypto Threads::Threads PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
# uesp packet sizes: fragmentation after encapsulation, reassembly, ICMP too big.
pa_test(test_uesp_mtu SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_uesp_mtu.c
	LIBS pa_driver OpenSSL::Crypto Threads::Threads PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
