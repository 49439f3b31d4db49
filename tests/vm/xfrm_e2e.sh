#!/usr/bin/env bash
# (in the guest) e2e scripts written for the agents' pair, run with both
# agents on the xfrm driver (t_driver=xfrm, read by tests/lib/agent.sh):
# each named script must pass (a skip is a failure here).
set -u
src=${PA_SOURCE_DIR:?}
export t_driver=xfrm
# (the pair scripts of e2e_gcm_pair and e2e_ipv6_pair read E2E_DRIVER)
export E2E_DRIVER=xfrm
# The kernel retries a packet held during an acquire at 0.1 s, doubling;
# IKE in the (emulated) guest takes seconds, so a first packet may only go
# at 6.3 or 12.7 s: scripts that wait for it read t_first_wait.
export t_first_wait=60
rc=0
for s; do
	echo "== $s (driver xfrm)"
	bash "$src/tests/integration/$s"
	r=$?
	[ $r = 0 ] || { echo "FAIL: $s on xfrm exited $r"; rc=1; }
done
exit $rc
