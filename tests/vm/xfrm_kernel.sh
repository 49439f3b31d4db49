#!/usr/bin/env bash
# (in the guest) The xfrm backend's kernel tests, which skip on a host
# kernel without ESP/AH, must run and pass on the full kernel: a skip
# (77) here is a failure.
set -u
b=${PA_BINARY_DIR:?}
rc=0
for t in test_xfrm test_xfrm_state; do
	echo "== $t"
	"$b/tests/$t"
	r=$?
	[ $r = 0 ] || { echo "FAIL: $t exited $r (77: skipped)"; rc=1; }
done
exit $rc
