# The service (team member B): ipsec-agentd + ipseccmd, real daemon in a
# temp dir on the null driver.
add_test(NAME service_integration
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/service_test.sh)
set_tests_properties(service_integration PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# policy_source = directory against a real slapd (tests/lib/slapd.sh).
add_executable(svc_mkldif ${CMAKE_CURRENT_LIST_DIR}/service/svc_mkldif.c)
target_link_libraries(svc_mkldif PRIVATE pa_policy)
add_test(NAME service_directory
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/directory_test.sh
		$<TARGET_FILE:svc_mkldif>)
set_tests_properties(service_directory PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# Two daemons in two network namespaces negotiate (uesp driver, IKE, PSK).
add_test(NAME service_pair
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/pair_test.sh)
set_tests_properties(service_pair PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# The journald sink, against a stand-in socket in a private mount namespace.
add_test(NAME service_journal
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/journal_test.sh)
set_tests_properties(service_journal PROPERTIES LABELS integration
	TIMEOUT 60 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# The OpenMetrics checker of the metrics tests (tests/lib/openmetrics_check.py,
# prometheus_client's parser) refuses each defect of a sample.
add_test(NAME openmetrics_check
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/openmetrics_check_test.sh)
set_tests_properties(openmetrics_check PROPERTIES LABELS unit
	TIMEOUT 60 SKIP_RETURN_CODE 77)

# ipseccmd diag: every check passes on a healthy pair (uesp, IKE, MIT KDC),
# then each fails once for a real cause.
add_test(NAME service_diag
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/diag_test.sh)
set_tests_properties(service_diag PROPERTIES LABELS integration
	TIMEOUT 180 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# Troubleshooting keys: the real tshark decrypts a capture of two agents
# with the files the keylog wrote.
add_test(NAME service_keylog
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/keylog_test.sh)
set_tests_properties(service_keylog PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# One JSON style (issue 15, item 8): every --json output and control reply
# of the real daemon against the shipped JSON Schemas (packaging/schema).
add_test(NAME service_json_schema
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/json_schema_test.sh)
set_tests_properties(service_json_schema PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# ipseccmd monitor (issue 15, item 1): --count against a pair of agents
# carrying traffic, and driven in tmux (rates move, q and Ctrl-C restore).
add_test(NAME service_monitor
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/monitor_test.sh)
set_tests_properties(service_monitor PROPERTIES LABELS integration
	TIMEOUT 180 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# The daemon's metrics textfile for node_exporter (issue 15, item 3).
add_test(NAME service_metrics_textfile
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/service/metrics_test.sh)
set_tests_properties(service_metrics_textfile PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
