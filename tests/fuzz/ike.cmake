# ISAKMP parser fuzz harness (owner: IKE).
pa_fuzz(fuzz_isakmp SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_isakmp.c
	LIBS pa_ike CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/isakmp)
