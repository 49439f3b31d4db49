# driver_shim/ benchmark (owner: D): label bench, not run by default CI
# (ctest -L bench).
add_executable(uesp_bench ${CMAKE_CURRENT_LIST_DIR}/esp/uesp_bench.c)
target_link_libraries(uesp_bench PRIVATE pa_driver OpenSSL::Crypto
	Threads::Threads)
add_test(NAME bench_uesp
	COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/esp/bench_uesp.sh
		$<TARGET_FILE:uesp_peer> $<TARGET_FILE:uesp_bench>)
set_tests_properties(bench_uesp PROPERTIES LABELS bench TIMEOUT 300
	SKIP_RETURN_CODE 77)
# Memory of the uesp driver's SA state: uesp_sa_mem [N] [cbc|gcm].
add_executable(uesp_sa_mem ${CMAKE_CURRENT_LIST_DIR}/esp/uesp_sa_mem.c)
target_link_libraries(uesp_sa_mem PRIVATE pa_driver OpenSSL::Crypto
	Threads::Threads)
target_include_directories(uesp_sa_mem PRIVATE
	${CMAKE_SOURCE_DIR}/driver_shim/uesp/engine)
