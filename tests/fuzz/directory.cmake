# Directory policy (team member E): the ipsecData codec harness.
pa_fuzz(fuzz_gpipsec SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_gpipsec.c
	LIBS pa_policy CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/gpipsec)
pa_fuzz(fuzz_gpipsec_ldif SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_gpipsec_ldif.c
	LIBS pa_policy pa_ldap OpenSSL::Crypto
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/gpipsec_ldif)
# Domain controllers by DNS SRV: the answer parser.
pa_fuzz(fuzz_srv SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_srv.c
	LIBS pa_ldap CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/srv)
