# Directory policy (team member E): real slapd + MIT KDC tests. Each script
# starts its servers on free loopback ports and skips (77) without them.
add_executable(test_ldap ${CMAKE_SOURCE_DIR}/tests/unit/test_ldap.c)
target_link_libraries(test_ldap PRIVATE pa_ldap pa_common PkgConfig::CMOCKA)
add_test(NAME directory_ldap
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/ldap.sh $<TARGET_FILE:test_ldap>)
set_tests_properties(directory_ldap PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 120)

add_executable(test_ldap_policy ${CMAKE_SOURCE_DIR}/tests/unit/test_ldap_policy.c)
target_link_libraries(test_ldap_policy PRIVATE pa_policy pa_ldap pa_common
	OpenSSL::Crypto PkgConfig::CMOCKA)
add_test(NAME directory_policy
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/policy.sh $<TARGET_FILE:test_ldap_policy>)
set_tests_properties(directory_policy PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 120)

# The policy Windows ships ("Secure Server"), objects from samba-ad-provision.
add_executable(test_ldap_windows ${CMAKE_SOURCE_DIR}/tests/unit/test_ldap_windows.c)
target_link_libraries(test_ldap_windows PRIVATE pa_policy pa_ldap pa_common
	PkgConfig::CMOCKA)
add_test(NAME directory_windows
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/windows.sh $<TARGET_FILE:test_ldap_windows>)
set_tests_properties(directory_windows PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 120)
# The same against a real AD (Samba AD DC in a private network namespace).
add_test(NAME directory_samba_ad
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/samba_ad.sh $<TARGET_FILE:test_ldap_windows>)
set_tests_properties(directory_samba_ad PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 180)
# Change notification (issue 19): slapd with syncprov, ipsec-agentd.
add_test(NAME directory_notify
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/notify.sh $<TARGET_FILE:svc_mkldif>)
set_tests_properties(directory_notify PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 180
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
# Two slapd providers replicating each other, one killed mid-change (issue 19).
add_test(NAME directory_failover
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/failover.sh $<TARGET_FILE:svc_mkldif>)
set_tests_properties(directory_failover PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 180
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
