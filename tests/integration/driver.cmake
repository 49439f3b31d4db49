# driver_shim/ integration tests (owner: D): the uesp driver between
# network namespaces, driven by a small host program (no IKE).
add_executable(uesp_peer ${CMAKE_CURRENT_LIST_DIR}/driver/uesp_peer.c)
target_link_libraries(uesp_peer PRIVATE pa_driver)
add_test(NAME uesp_netns
	COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/driver/uesp_netns.sh
		$<TARGET_FILE:uesp_peer>)
set_tests_properties(uesp_netns PROPERTIES LABELS integration TIMEOUT 180
	SKIP_RETURN_CODE 77)
