# The mission end to end (issue 21): a Samba AD DC with its DNS, two
# members joined with adcli, GPOs assigning Windows' built-in IPsec
# policies, ipsec-agentd on both with the directory source and Kerberos
# IKE. The uesp driver here; the xfrm variant is the same script with
# "xfrm" in the full-kernel guest.
add_test(NAME mission_domain
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/mission/domain.sh uesp)
set_tests_properties(mission_domain PROPERTIES LABELS integration
	TIMEOUT 600 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
# Found by mission_domain: stop while a directory poll waits on a silent
# directory (it waited for the poll until stop_timeout ended the process).
add_test(NAME mission_stop_during_poll
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/mission/stop_poll.sh)
set_tests_properties(mission_stop_during_poll PROPERTIES LABELS integration
	TIMEOUT 60 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
