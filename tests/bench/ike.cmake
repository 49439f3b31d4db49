# IKE handshake benchmark (owner: IKE): not a test; run
# tests/bench/ike/bench.sh BUILD_DIR as root.
add_executable(ike_bench ${CMAKE_CURRENT_LIST_DIR}/ike/ike_bench.c
	${CMAKE_SOURCE_DIR}/tests/lib/ike_onerule.c)
target_link_libraries(ike_bench PRIVATE pa_ike)
target_include_directories(ike_bench PRIVATE ${CMAKE_SOURCE_DIR}/driver_shim/null
	${CMAKE_SOURCE_DIR}/tests/lib)

# The attacker of the flood test and benchmark (tests/integration/ike/
# flood_test.sh, tests/bench/ike/flood_bench.sh).
add_executable(ike_flood ${CMAKE_CURRENT_LIST_DIR}/ike/ike_flood.c)

# The responder's DH floor (key pair + derivation with the engine's code)
# that tests/bench/run-all.sh sets beside each responder's CPU.
add_executable(dh_floor ${CMAKE_CURRENT_LIST_DIR}/ike/dh_floor.c)
target_link_libraries(dh_floor PRIVATE pa_ike)
target_include_directories(dh_floor PRIVATE ${CMAKE_SOURCE_DIR}/agent/ike)

# The whole benchmark table (tests/bench/run-all.sh), quick mode: one run
# of each section, a smoke test of the command (label bench only; the
# figures of a quick run are not for quoting).
add_test(NAME bench_all_quick
	COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run-all.sh --quick
		--build ${CMAKE_BINARY_DIR}
		--raw ${CMAKE_CURRENT_BINARY_DIR}/bench-all-quick-raw.txt)
set_tests_properties(bench_all_quick PROPERTIES LABELS bench TIMEOUT 600
	SKIP_RETURN_CODE 77)
