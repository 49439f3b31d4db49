# Kerberos IKE payload decoders (agent/ike/auth_gss.c, team member F).
# Built from the source like tests/unit/gss.cmake, so that the harness does
# not depend on the rest of the IKE engine. First byte: even = GSS token
# payload body, odd = GSS Identity Name value.
pa_fuzz(fuzz_gss_payload SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_gss_payload.c
	${CMAKE_SOURCE_DIR}/agent/ike/auth_gss.c
	LIBS pa_common PkgConfig::GSSAPI OpenSSL::Crypto
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/gss_payload)
target_include_directories(fuzz_gss_payload PRIVATE ${CMAKE_SOURCE_DIR}/agent/ike)
