# The house (issue 18): no file-level circle among the production objects
# (their symbols, read with nm), no production function over 120 lines or
# cyclomatic complexity 40 (pmccabe) but the table-like ones named in
# tests/house/size-allow.txt.
add_test(NAME house_cycles
	COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/house/cycles.py ${CMAKE_BINARY_DIR})
set_tests_properties(house_cycles PROPERTIES LABELS unit TIMEOUT 120)
add_test(NAME house_size
	COMMAND bash ${CMAKE_SOURCE_DIR}/tests/house/size.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(house_size PROPERTIES LABELS unit TIMEOUT 120)
