#!/bin/bash
# unit_test.sh: the installed package's systemd unit, for real, where
# systemd is not PID 1: a container (systemd-nspawn) boots this host's own
# /usr and a copy-on-write /etc (an overlay: nothing written reaches the
# host) with systemd as PID 1 and a private network, and runs
# unit_check.sh as a oneshot unit; its ok/FAIL lines come back in a bound
# directory. Needs root, systemd-nspawn and the package installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v systemd-nspawn >/dev/null || { echo "SKIP: no systemd-nspawn"; exit 77; }
[ -f /lib/systemd/system/ipsec-agentd.service ] ||
    { echo "FAIL: the package is not installed"; exit 1; }
w=$(mktemp -d /tmp/pkg-unit.XXXXXX)
# nspawn leaves its (empty) mount point behind: ours to remove if it made it.
nsroot=/run/systemd/nspawn-root
had_nsroot=0
[ ! -e $nsroot ] || had_nsroot=1
cleanup() {
	rm -rf "$w"
	[ "$had_nsroot" = 1 ] || rmdir $nsroot 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$w/etc/systemd/system" "$w/out" "$w/bin"
cp "$here/unit_check.sh" "$w/bin/"
cat > "$w/etc/systemd/system/pkg-check.service" <<EOU
[Unit]
Description=ipsec-agent package check
[Service]
Type=oneshot
ExecStart=/pkgcheck/unit_check.sh
EOU
rc=0
timeout 300 systemd-nspawn -q -D / --volatile=yes --private-network \
    --register=no --keep-unit --link-journal=no -M "pkgunit$$" \
    --bind="$w/out:/out" --bind-ro="$w/bin:/pkgcheck" \
    --overlay="/etc:$w/etc:/etc" \
    -b systemd.unit=pkg-check.service > "$w/console.log" 2>&1 || rc=$?
if [ ! -s "$w/out/result" ]; then
	echo "FAIL: the container produced no result (nspawn exit $rc)"
	tail -30 "$w/console.log"
	exit 1
fi
cat "$w/out/result"
if grep -q '^FAIL' "$w/out/result"; then
	echo "--- log"; cat "$w/out/log" 2>/dev/null
	echo "--- journal of ipsec-agentd"; tail -30 "$w/out/journal.txt"
	exit 1
fi
echo "all $(grep -c '^ok' "$w/out/result") unit checks passed (systemd $(systemctl --version | awk 'NR==1{print $2}') in a container)"
