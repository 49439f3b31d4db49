# Control request parser (owner: B).
pa_fuzz(fuzz_control
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_control.c
	LIBS pa_service PkgConfig::JANSSON
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/control)

# The audit file reader (verify, query) and the configuration parser.
pa_fuzz(fuzz_audit_file
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_audit_file.c
	LIBS pa_service PkgConfig::JANSSON
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/audit_file)
pa_fuzz(fuzz_config
	SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c
	LIBS pa_service
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/config)
