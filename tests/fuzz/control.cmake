# Control request parser (owner: B).
pa_fuzz(fuzz_control
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_control.c
	LIBS pa_service PkgConfig::JANSSON
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/control)
