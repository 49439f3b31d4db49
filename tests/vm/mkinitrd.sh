#!/usr/bin/env bash
# mkinitrd.sh KROOT KVER OUT -- the guest's first stage: a busybox
# initramfs that loads virtio, 9p and overlayfs from KROOT, mounts the
# host's / (9p, read-only) as the lower layer of an overlay on tmpfs, and
# switches to it, running the script named by pavm_init= on the kernel
# command line (guest-init.sh).
set -euo pipefail
kroot=$1 kver=$2 out=$3
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w"/bin "$w"/dev "$w"/proc "$w"/sys "$w"/mods "$w"/lower \
    "$w"/rw "$w"/root
cp /bin/busybox "$w/bin/"
for applet in sh mount insmod mkdir switch_root echo poweroff; do
	ln -s busybox "$w/bin/$applet"
done
# The modules and what they need, in load order, without duplicates.
n=0
modprobe -d "$kroot" -S "$kver" --show-depends -a virtio_pci 9pnet_virtio \
    9p overlay | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
while read -r ko; do
	n=$((n + 1))
	cp "$ko" "$w/mods/$(printf %02d "$n")-$(basename "$ko")"
done
cat > "$w/init" <<'EOI'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for ko in /mods/*.ko; do insmod "$ko" || echo "initrd: $ko failed"; done
opts=trans=virtio,version=9p2000.L,msize=512000
if ! mount -t 9p -o "$opts,ro,cache=loose" hostroot /lower; then
	echo "initrd: cannot mount the host's root"; poweroff -f
fi
mount -t tmpfs -o size=80% tmpfs /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
    overlay /root; then
	echo "initrd: overlay failed"; poweroff -f
fi
for m in /proc /sys /dev; do mount --move "$m" "/root$m"; done
exec switch_root /root /bin/bash "$pavm_init"
EOI
chmod 755 "$w/init"
(cd "$w" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$out"
