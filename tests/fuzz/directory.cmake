# Directory policy (team member E): the ipsecData codec harness.
pa_fuzz(fuzz_gpipsec SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_gpipsec.c
	LIBS pa_policy CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/gpipsec)
