# IKE integration: the engine against strongSwan's charon (IKEv1) in network
# namespaces (owner: IKE). Needs root, netns and charon; skips (77) if not.
add_executable(ike_peer ${CMAKE_CURRENT_LIST_DIR}/ike/ike_peer.c
	${CMAKE_SOURCE_DIR}/tests/lib/ike_onerule.c)
target_link_libraries(ike_peer PRIVATE pa_ike OpenSSL::Crypto)
target_include_directories(ike_peer PRIVATE ${CMAKE_SOURCE_DIR}/driver_shim/null
	${CMAKE_SOURCE_DIR}/tests/lib)
add_test(NAME ike_interop_strongswan
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/ike/interop.sh ${CMAKE_BINARY_DIR})
set_tests_properties(ike_interop_strongswan PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 180)
# Under the sanitizers the agent runs several times slower and ASan's
# quarantine holds freed memory: the flood is 5,000 pps there and the RSS
# bound is not checked (the release build checks both at 20,000 pps).
if(PA_SANITIZE)
	set(PA_FLOOD_ARGS 5000 30 sanitizer)
else()
	set(PA_FLOOD_ARGS 20000 30)
endif()
add_test(NAME ike_flood
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/ike/flood.sh ${CMAKE_BINARY_DIR}
	${PA_FLOOD_ARGS})
set_tests_properties(ike_flood PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 180 RUN_SERIAL TRUE)
# Refusals that explain themselves against charon (issue 15 item 5): both
# sides' offers in the Oakley log and 546/547, a wrong preshared key named.
add_test(NAME ike_refusal_strongswan
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/ike/refusal.sh ${CMAKE_BINARY_DIR})
set_tests_properties(ike_refusal_strongswan PROPERTIES LABELS integration
	SKIP_RETURN_CODE 77 TIMEOUT 180)
