# Packaging (owner: pkg). man_drift: the man pages and the bash completion
# against the parsers' own tables (--list-keys, --list-commands).
if(TARGET ipsec-agentd AND TARGET ipseccmd)
	add_test(NAME man_drift
		COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/man_drift.py
			$<TARGET_FILE:ipsec-agentd> $<TARGET_FILE:ipseccmd>
			${CMAKE_SOURCE_DIR}/docs/man
			${CMAKE_SOURCE_DIR}/packaging/completion/ipseccmd)
	set_tests_properties(man_drift PROPERTIES LABELS unit TIMEOUT 120)
endif()

# A SIGTERM sent while ipsec-agentd starts runs the stop sequence once it
# is running (service/lib/daemon.c blocks the signals first).
if(TARGET ipsec-agentd)
	add_test(NAME pkg_sigterm
		COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/pkg_sigterm.sh
			$<TARGET_FILE:ipsec-agentd>)
	set_tests_properties(pkg_sigterm PROPERTIES LABELS integration
		TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()

# Privilege drop under a bounding set a service manager already narrowed.
if(TARGET ipsec-agentd AND TARGET ipseccmd)
	add_test(NAME pkg_caps
		COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/pkg_caps.sh
			$<TARGET_FILE:ipsec-agentd> $<TARGET_FILE:ipseccmd>)
	set_tests_properties(pkg_caps PROPERTIES LABELS integration
		TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()

# README "Join a domain": adcli join against a throwaway Samba AD DC, then
# the agent applies the domain policy through /etc/krb5.keytab (in a
# private /etc overlay). .ci/package.sh runs it on the installed package.
if(TARGET ipsec-agentd AND TARGET ipseccmd)
	add_test(NAME pkg_join
		COMMAND bash ${CMAKE_SOURCE_DIR}/tests/package/join_test.sh
			$<TARGET_FILE:ipsec-agentd> $<TARGET_FILE:ipseccmd>)
	set_tests_properties(pkg_join PROPERTIES LABELS integration
		TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()

# The journald message catalog against the audit events (one entry each).
add_test(NAME catalog_drift COMMAND bash
	${CMAKE_CURRENT_LIST_DIR}/catalog_drift.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(catalog_drift PROPERTIES LABELS unit TIMEOUT 60)
