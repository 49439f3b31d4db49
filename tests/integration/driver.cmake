# driver_shim/ integration tests (owner: D): the uesp driver between
# network namespaces, driven by a small host program (no IKE).
add_executable(uesp_peer ${CMAKE_CURRENT_LIST_DIR}/driver/uesp_peer.c)
target_link_libraries(uesp_peer PRIVATE pa_driver)
add_test(NAME uesp_netns
	COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/driver/uesp_netns.sh
		$<TARGET_FILE:uesp_peer>)
set_tests_properties(uesp_netns PROPERTIES LABELS integration TIMEOUT 180
	SKIP_RETURN_CODE 77)

# The xfrm backend against the kernel, in a private network namespace.
pa_test(test_xfrm SOURCES ${CMAKE_CURRENT_LIST_DIR}/driver/test_xfrm.c
	LIBS pa_driver PkgConfig::CMOCKA LABELS integration TIMEOUT 60)
set_tests_properties(test_xfrm PROPERTIES SKIP_RETURN_CODE 77)
add_executable(test_xfrm_state ${CMAKE_CURRENT_LIST_DIR}/driver/test_xfrm_state.c)
target_link_libraries(test_xfrm_state PRIVATE pa_driver)
add_test(NAME test_xfrm_state COMMAND test_xfrm_state)
set_tests_properties(test_xfrm_state PROPERTIES LABELS integration TIMEOUT 60
	SKIP_RETURN_CODE 77)
