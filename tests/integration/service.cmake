# The service (team member B): ipsec-agentd + ipseccmd, real daemon in a
# temp dir on the null driver.
add_test(NAME service_integration
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/service_test.sh)
set_tests_properties(service_integration PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
