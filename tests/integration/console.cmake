# The web console (issue 20): the Cockpit page driven in headless chromium
# through cockpit-ws, against two agents in network namespaces.
add_test(NAME console_browser
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/console/console_test.sh)
set_tests_properties(console_browser PROPERTIES LABELS integration
	TIMEOUT 240 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# ipseccmd static's readers wait for an edit between its two renames
# (found by console_browser).
add_test(NAME static_read_lock
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/console/store_read_lock.sh)
set_tests_properties(static_read_lock PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
