# Kerberos test infrastructure (team member F): the throwaway MIT KDC of
# tests/lib/kdc.sh, checked end to end. The two-agent Kerberos IKE test
# is kerberos_two_agents below.
add_test(NAME kerberos_kdc_selftest
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/kerberos/kdc_selftest.sh)
set_tests_properties(kerberos_kdc_selftest PROPERTIES LABELS integration
	TIMEOUT 60 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# test_gss_kdc (tests/unit/gss.cmake) with one slow case: credential
# renewal against a KDC that never answers runs in a worker thread for the
# ~18 s MIT waits, while the caller's event loop stays free.
add_test(NAME test_gss_hung_kdc COMMAND test_gss_kdc --hung-kdc)
set_tests_properties(test_gss_hung_kdc PROPERTIES LABELS integration
	TIMEOUT 90 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# The same contexts against an Active Directory KDC: Samba's AD DC in its
# own network namespace, machine accounts as a Windows join makes them.
add_test(NAME kerberos_samba_ad
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/kerberos/samba_ad.sh
	$<TARGET_FILE:test_gss_kdc>)
set_tests_properties(kerberos_samba_ad PROPERTIES LABELS integration
	TIMEOUT 180 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")

# Two ipsec-agentd in network namespaces authenticate each other with
# Kerberos against an MIT KDC on a third namespace: Quick Mode SAs and ping
# over ESP (both initiators), a stale keytab, a stopped KDC, and
# "Kerberos, then PSK" falling back (team member G).
add_test(NAME kerberos_two_agents
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/kerberos/two_agents.sh)
set_tests_properties(kerberos_two_agents PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
