# What a CRL distribution point sends back (agent/pki).
pa_fuzz(fuzz_crl
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_crl.c
	LIBS pa_pki
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/crl)
