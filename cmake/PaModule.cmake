# pa_module(NAME DIR...): a static library of every .c under the given
# folders (recursively). Modules own their folders; adding a file needs no
# edit here. A module with no source yet still yields a (empty) library so
# that the edges of the dependency graph can be declared up front.
function(pa_module name)
	set(srcs)
	foreach(dir IN LISTS ARGN)
		file(GLOB_RECURSE found CONFIGURE_DEPENDS ${dir}/*.c)
		list(APPEND srcs ${found})
	endforeach()
	if(NOT srcs)
		set(empty ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.c)
		file(WRITE ${empty} "typedef int ${name}_empty_unit;\n")
		set(srcs ${empty})
	endif()
	add_library(${name} STATIC ${srcs})
endfunction()

# pa_test(NAME SOURCES... LIBS libs... LABELS labels...): a test binary
# registered with CTest.
function(pa_test name)
	cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
	add_executable(${name} ${T_SOURCES})
	target_link_libraries(${name} PRIVATE ${T_LIBS})
	add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 120)
	endif()
	set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}"
		TIMEOUT ${T_TIMEOUT}
		ENVIRONMENT "PA_SOURCE_DIR=${CMAKE_SOURCE_DIR};PA_BINARY_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# pa_fuzz(NAME SOURCES... LIBS libs... [CORPUS dir]): a libFuzzer harness
# (LLVMFuzzerTestOneInput). With -DPA_FUZZ=ON (clang) it is a real libFuzzer
# binary run by CTest for a bounded time (label fuzz); otherwise it is
# linked with tests/lib/fuzz_main.c and replays the seed corpus as a
# regression test (label unit).
set(PA_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz harness runs in CTest")
function(pa_fuzz name)
	cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
	if(PA_FUZZ)
		add_executable(${name} ${F_SOURCES})
		target_link_options(${name} PRIVATE -fsanitize=fuzzer)
		target_link_libraries(${name} PRIVATE ${F_LIBS})
		set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
		file(MAKE_DIRECTORY ${work})
		add_test(NAME ${name} COMMAND ${name} -max_total_time=${PA_FUZZ_SECONDS}
			-rss_limit_mb=1024 -timeout=10 ${work} ${F_CORPUS})
		set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 300)
	else()
		add_executable(${name} ${F_SOURCES}
			${CMAKE_SOURCE_DIR}/tests/lib/fuzz_main.c)
		target_link_libraries(${name} PRIVATE ${F_LIBS})
		add_test(NAME ${name} COMMAND ${name} ${F_CORPUS})
		# Every prefix of every seed: the merged corpora of the long
		# campaign take 100 s under ASan on a busy 2-core machine.
		set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300)
	endif()
endfunction()
