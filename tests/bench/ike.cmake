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
