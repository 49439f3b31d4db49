# Kerberos IKE authentication cost (owner: F). Run by hand:
#   PA_SOURCE_DIR=$PWD build-*/tests/bench_gss
# CTest runs the quick variant under the label "bench".
add_executable(bench_gss ${CMAKE_CURRENT_LIST_DIR}/bench_gss.c
	${CMAKE_SOURCE_DIR}/agent/ike/auth_gss.c)
target_include_directories(bench_gss PRIVATE ${CMAKE_SOURCE_DIR}/agent/ike)
target_link_libraries(bench_gss PRIVATE pa_common PkgConfig::GSSAPI
	OpenSSL::Crypto)
add_test(NAME bench_gss_quick COMMAND bench_gss --quick)
set_tests_properties(bench_gss_quick PROPERTIES LABELS bench TIMEOUT 120
	SKIP_RETURN_CODE 77
	ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
