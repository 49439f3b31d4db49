# rootca= names (common/pa_dn.c): what an administrator types for the CA.
pa_fuzz(fuzz_dn SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_dn.c
	LIBS pa_common CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/dn)
