# Directory policy benchmark (team member E): 10,000 filters from slapd,
# fetch + parse + compile; fails above 2 s or 64 MB peak RSS.
add_executable(bench_dir_policy ${CMAKE_CURRENT_LIST_DIR}/directory/bench_dir_policy.c)
target_link_libraries(bench_dir_policy PRIVATE pa_policy pa_ldap pa_common)
# Sanitizer builds measure, but the limits hold for optimised builds only.
if(PA_SANITIZE OR PA_FUZZ)
	set(dir_bench_limits nolimits)
else()
	set(dir_bench_limits limits)
endif()
add_test(NAME bench_directory
	COMMAND ${CMAKE_CURRENT_LIST_DIR}/directory/bench.sh $<TARGET_FILE:bench_dir_policy> 10000 ${dir_bench_limits})
set_tests_properties(bench_directory PROPERTIES LABELS bench
	SKIP_RETURN_CODE 77 TIMEOUT 300)
