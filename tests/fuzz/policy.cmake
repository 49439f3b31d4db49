# The XML policy store loader (owner: A).
pa_fuzz(fuzz_policy_xml SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_policy_xml.c
	LIBS pa_policy CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/policy_xml)
# qmsecmethods, the Quick Mode offers an administrator types (ipseccmd).
pa_fuzz(fuzz_offers SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_offers.c
	LIBS pa_policy CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/offers)
