# CRL distribution points: the cache and the fetch worker (agent/pki).
pa_test(test_pki SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pki.c
	LIBS pa_pki OpenSSL::Crypto PkgConfig::CMOCKA LABELS unit)
