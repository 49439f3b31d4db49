# ipseccmd static/match end to end (owner: A). static_cli runs the script
# against the real ipseccmd (skips (77) while it lacks the static
# commands); static_cli_lib against a thin front end over the same
# svc_static_main(), so the commands are covered either way.
# static_cmd.c and the static_*.c it is split into (service/lib/static_int.h).
file(GLOB PA_STATIC_CMD_SRC ${CMAKE_SOURCE_DIR}/service/lib/static_*.c)
add_executable(static_cli_front ${CMAKE_CURRENT_LIST_DIR}/static_cli.c
	${PA_STATIC_CMD_SRC})
target_include_directories(static_cli_front PRIVATE ${CMAKE_SOURCE_DIR}/service)
target_link_libraries(static_cli_front PRIVATE pa_export pa_policy
	PkgConfig::JANSSON)
add_test(NAME static_cli_lib
	COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/static_cli.sh
		$<TARGET_FILE:static_cli_front>)
set_tests_properties(static_cli_lib PROPERTIES LABELS integration
	TIMEOUT 120 SKIP_RETURN_CODE 77)
if(TARGET ipseccmd)
	add_test(NAME static_cli
		COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/static_cli.sh
			$<TARGET_FILE:ipseccmd>)
	set_tests_properties(static_cli PROPERTIES LABELS integration
		TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
