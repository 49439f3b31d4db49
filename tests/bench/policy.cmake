# SPD benchmark (owner: A). Run by hand: build-*/tests/bench_spd
# (prints compile time for 1k/10k/100k filters and lookups per second).
# CTest runs the quick variant under the label "bench".
add_executable(bench_spd ${CMAKE_CURRENT_LIST_DIR}/bench_spd.c)
target_link_libraries(bench_spd PRIVATE pa_policy)
add_test(NAME bench_spd_quick COMMAND bench_spd --quick)
set_tests_properties(bench_spd_quick PROPERTIES LABELS bench TIMEOUT 120)
