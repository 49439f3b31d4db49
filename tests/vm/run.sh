#!/usr/bin/env bash
# run.sh [-m MIB] [-t SECONDS] -- COMMAND...
#
# Run COMMAND (a shell command line) as root in a throw-away guest booting
# the full kernel prepared by setup.sh (same $PA_VM_CACHE); the host's
# files are visible at their own paths. Prints the command's output and
# exits with its status: 77 (skip) when no guest is set up here, 125 when
# the guest died or ran out of time. qemu runs with TCG (any host);
# PA_VM_ACCEL="-enable-kvm" PA_VM_CPU=host where real VMX/SVM exists.
set -u
mem=1024 tmo=600
while [ $# -gt 0 ]; do
	case $1 in
	-m) mem=$2; shift 2 ;;
	-t) tmo=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
cache=${PA_VM_CACHE:-/var/tmp/ipsec-pa-vm}
kver=$(ls "$cache/kroot/lib/modules" 2>/dev/null | head -1)
if [ -z "$kver" ] || [ ! -s "$cache/initrd-$kver.gz" ] ||
    ! command -v qemu-system-x86_64 >/dev/null; then
	echo "SKIP: no guest set up in $cache (bash tests/vm/setup.sh)"
	exit 77
fi
out=$(mktemp -d /tmp/ipsec-pa-vm.XXXXXX)
printf '%s\n' "$*" > "$out/cmd"
# shellcheck disable=SC2086
timeout -k 5 "$tmo" qemu-system-x86_64 \
    ${PA_VM_ACCEL:--accel tcg,thread=multi} -cpu "${PA_VM_CPU:-max}" \
    -smp "${PA_VM_SMP:-2}" -m "$mem" -nodefaults -no-user-config \
    -display none -no-reboot -serial file:"$out/console" \
    -kernel "$cache/kroot/boot/vmlinuz-$kver" \
    -initrd "$cache/initrd-$kver.gz" \
    -append "console=ttyS0 loglevel=4 panic=-1 rdinit=/init pavm_init=$here/guest-init.sh pavm_out=$out pavm_kmods=$cache/kroot/lib/modules/$kver" \
    -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=out,path="$out",security_model=passthrough,multidevs=remap \
    -device virtio-9p-pci,fsdev=out,mount_tag=out
qrc=$?
cat "$out/log" 2>/dev/null
rc=$(cat "$out/rc" 2>/dev/null || echo 125)
if [ "$qrc" != 0 ] || [ "$rc" = 125 ]; then
	echo "run.sh: qemu exit $qrc, guest status $rc; console tail:"
	tail -30 "$out/console" 2>/dev/null
	[ "$rc" != 0 ] || rc=125
fi
if [ -n "${PA_TEST_KEEP:-}" ]; then
	echo "run.sh: kept $out" >&2
else
	rm -rf "$out"
fi
exit "$rc"
