#!/usr/bin/env bash
# (in the guest) e2e scripts written for the agents' pair, run with both
# agents on the xfrm driver (t_driver=xfrm, read by tests/lib/agent.sh):
# each named script must pass (a skip is a failure here).
set -u
src=${PA_SOURCE_DIR:?}
export t_driver=xfrm
rc=0
for s; do
	echo "== $s (driver xfrm)"
	bash "$src/tests/integration/$s"
	r=$?
	[ $r = 0 ] || { echo "FAIL: $s on xfrm exited $r"; rc=1; }
done
exit $rc
