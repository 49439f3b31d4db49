# Kerberos in Main Mode (agent/ike/mm_krb.c, team member G): the phase 1
# SA payload as read when Kerberos is offered (GSS Identity attribute).
pa_fuzz(fuzz_krb_sa SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_krb_sa.c
	LIBS pa_ike CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/krb_sa)
target_include_directories(fuzz_krb_sa PRIVATE ${CMAKE_SOURCE_DIR}/agent/ike)
