# ISAKMP parser fuzz harness (owner: IKE).
pa_fuzz(fuzz_isakmp SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_isakmp.c
	LIBS pa_ike CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/isakmp)
# The engine's state machines: a real exchange between two engines with
# the input mangling the datagrams in flight (owner: IKE).
pa_fuzz(fuzz_ike_exchange SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_ike_exchange.c
	${CMAKE_SOURCE_DIR}/tests/lib/ike_onerule.c
	LIBS pa_ike CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/ike_exchange)
target_include_directories(fuzz_ike_exchange PRIVATE
	${CMAKE_SOURCE_DIR}/driver_shim/null ${CMAKE_SOURCE_DIR}/tests/lib)
# What ipseccmd diag reads after its IKE probe (owner: service).
pa_fuzz(fuzz_ike_probe SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_ike_probe.c
	LIBS pa_ike CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/ike_probe)
