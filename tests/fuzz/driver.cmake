# driver_shim/ fuzz harnesses (owner: D).
pa_fuzz(fuzz_esp SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_esp.c
	LIBS pa_driver OpenSSL::Crypto Threads::Threads
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/esp)
if(NOT PA_FUZZ)
	# Regenerates the seed corpus by hand; not a test.
	add_executable(fuzz_esp_seeds EXCLUDE_FROM_ALL
		${CMAKE_CURRENT_LIST_DIR}/fuzz_esp_seeds.c)
	target_link_libraries(fuzz_esp_seeds PRIVATE pa_driver
		OpenSSL::Crypto Threads::Threads)
endif()
# uesp packet sizes: reassembly, fragmentation, ICMP too big (frag.c).
pa_fuzz(fuzz_uesp_frag SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_uesp_frag.c
	LIBS pa_driver OpenSSL::Crypto Threads::Threads
	CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/uesp_frag)
