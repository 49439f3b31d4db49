#!/usr/bin/env bash
# setup.sh [CACHE] -- prepare the full-kernel guest the vm tests boot.
#
# The build machines run a kernel with XFRM netlink but no ESP/AH, so what
# the kernel itself must prove (the xfrm backend carrying packets) runs in
# a throw-away qemu guest booting Debian 12's own linux-image-amd64. This
# script (root, idempotent) installs qemu-system-x86, busybox-static and
# kmod when missing, fetches the kernel package with apt (never installed:
# unpacked with dpkg -x into CACHE/kroot, modules indexed with depmod -b)
# and builds the initramfs (mkinitrd.sh).
# CACHE: $PA_VM_CACHE, default /var/tmp/ipsec-pa-vm.
set -euo pipefail
cache=${1:-${PA_VM_CACHE:-/var/tmp/ipsec-pa-vm}}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root" >&2; exit 1; }

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx cpio ||
    missing+=(busybox-static)
command -v depmod >/dev/null && command -v modprobe >/dev/null ||
    missing+=(kmod)
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${missing[@]}" \
	    >/dev/null || { apt-get update -qq &&
	    apt-get install -y -qq --no-install-recommends "${missing[@]}" \
	    >/dev/null; }
fi

mkdir -p "$cache"
if ! ls "$cache"/kroot/boot/vmlinuz-* >/dev/null 2>&1; then
	# linux-image-amd64 is a meta package: take the image it names.
	img=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$img" ]; then
		apt-get update -qq
		img=$(apt-cache depends linux-image-amd64 |
		    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$img" ] || { echo "setup.sh: no linux-image-amd64" >&2; exit 1; }
	dl=$(mktemp -d "$cache/dl.XXXXXX")
	(cd "$dl" && apt-get download -qq "$img")
	rm -rf "$cache/kroot.new"
	mkdir -p "$cache/kroot.new"
	dpkg -x "$dl"/*.deb "$cache/kroot.new"
	rm -rf "$dl"
	depmod -b "$cache/kroot.new" "$(ls "$cache/kroot.new/lib/modules")"
	rm -rf "$cache/kroot"
	mv "$cache/kroot.new" "$cache/kroot"
fi
kver=$(ls "$cache/kroot/lib/modules" | head -1)
[ -s "$cache/initrd-$kver.gz" ] ||
    bash "$here/mkinitrd.sh" "$cache/kroot" "$kver" "$cache/initrd-$kver.gz"
echo "guest ready: $cache (kernel $kver)"
