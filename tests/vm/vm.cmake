# Tests in the full-kernel guest (tests/vm, owner: xfrm). Each boots the
# guest (run.sh) and runs one script inside with the build tree at its
# host path. Label vm: `ctest -L vm` runs them, `ctest -L vm -R NAME` one;
# the ordinary runs exclude them (-LE 'fuzz|bench|vm'). Without a guest
# set up (tests/vm/setup.sh) they skip (77).
function(pa_vm_test name timeout script)
	set(dir ${CMAKE_CURRENT_SOURCE_DIR}/vm)
	math(EXPR guest "${timeout} - 10")
	add_test(NAME ${name} COMMAND bash ${dir}/run.sh -t ${guest} --
		PA_SOURCE_DIR=${CMAKE_SOURCE_DIR} PA_BINARY_DIR=${CMAKE_BINARY_DIR}
		bash ${dir}/${script} ${ARGN})
	set_tests_properties(${name} PROPERTIES LABELS vm TIMEOUT ${timeout}
		SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endfunction()

# test_xfrm and test_xfrm_state against a kernel with ESP and AH.
pa_vm_test(vm_xfrm_kernel 300 xfrm_kernel.sh)
# Two agents on xfrm: every bundle, first packet, fail-closed, clear.
pa_vm_test(vm_xfrm_agents 900 xfrm_agents.sh)
# Ours on xfrm against charon's kernel backend: ESP and AH transport.
pa_vm_test(vm_xfrm_strongswan 900 xfrm_strongswan.sh)
# Ours on xfrm against ours on uesp, each side initiating.
pa_vm_test(vm_xfrm_mixed 400 xfrm_mixed.sh)
# NAT-T through a NAT router namespace, both agents on xfrm (e2e/nat.sh).
pa_vm_test(vm_xfrm_nat 400 xfrm_e2e.sh e2e/nat.sh)
# AES-GCM and IPv6 through IKE, transport and tunnel, both agents on xfrm
# (e2e/gcm_pair.sh, e2e/ipv6_pair.sh).
pa_vm_test(vm_xfrm_gcm_ipv6 600 xfrm_e2e.sh e2e/gcm_pair.sh e2e/ipv6_pair.sh)
# Windows' built-in policies between two agents on xfrm (e2e/builtin_pair.sh).
pa_vm_test(vm_xfrm_builtin 900 xfrm_e2e.sh e2e/builtin_pair.sh)
# Site to site on xfrm: hosts behind two gateways (e2e/gateway.sh).
pa_vm_test(vm_xfrm_gateway 400 xfrm_e2e.sh e2e/gateway.sh)
# The mission on xfrm: a Samba AD DC, two members joined with adcli, the
# built-in policies from GPOs, Kerberos IKE, both members on xfrm
# (tests/integration/mission/domain.sh xfrm, deadlines x 10). 13 min in the
# emulated guest on a loaded machine: label vm_long, outside `ctest -L vm`
# as .ci/run calls it (-LE vm_long); run it with `ctest -L vm_long`.
add_test(NAME vm_mission_domain COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/vm/run.sh
	-m 2048 -t 2390 -- PA_SOURCE_DIR=${CMAKE_SOURCE_DIR}
	PA_BINARY_DIR=${CMAKE_BINARY_DIR} MS_SLOW=10
	bash ${CMAKE_SOURCE_DIR}/tests/integration/mission/domain.sh xfrm)
set_tests_properties(vm_mission_domain PROPERTIES LABELS vm_long TIMEOUT 2400
	SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# Rekey under a 64 MiB TCP transfer (SAs of 20,000 KB), both agents on xfrm
# (e2e/rekey.sh).
pa_vm_test(vm_xfrm_rekey 400 xfrm_e2e.sh e2e/rekey.sh)
