# Kerberos (GSS-API) authentication for IKE: agent/ike/auth_gss.c.
# The source is compiled into the tests directly (with the same flags as
# pa_ike) so that these tests do not depend on the rest of the IKE engine.
set(PA_GSS_SRC ${CMAKE_SOURCE_DIR}/agent/ike/auth_gss.c)

# Pure payload helpers and error mapping; no KDC.
pa_test(test_gss_codec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gss_codec.c
	${PA_GSS_SRC}
	LIBS pa_common PkgConfig::GSSAPI OpenSSL::Crypto PkgConfig::CMOCKA
	LABELS unit TIMEOUT 30)
target_include_directories(test_gss_codec PRIVATE ${CMAKE_SOURCE_DIR}/agent/ike)

# Initiator and responder contexts against a real MIT KDC (tests/lib/kdc.sh).
pa_test(test_gss_kdc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_gss_kdc.c
	${PA_GSS_SRC}
	LIBS pa_common PkgConfig::GSSAPI OpenSSL::Crypto PkgConfig::CMOCKA
	LABELS unit TIMEOUT 60)
target_include_directories(test_gss_kdc PRIVATE ${CMAKE_SOURCE_DIR}/agent/ike)
set_tests_properties(test_gss_kdc PROPERTIES SKIP_RETURN_CODE 77)

