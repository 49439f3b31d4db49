#!/bin/bash
# guest-init.sh -- second stage, PID 1 in the guest. / is the host's /
# under a tmpfs overlay: the build tree and every tool are at the host's
# paths, and writes stay in the guest. $pavm_out (a read-write 9p share,
# mounted at the same path as on the host) holds the command (cmd); its
# output goes to log and the console, its status to rc. Then power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
for f in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 \
    stderr:/proc/self/fd/2; do
	ln -sfn "${f#*:}" "/dev/${f%%:*}"
done
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/lock /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "$pavm_out"
# Modules from the unpacked package, loaded on demand (esp4, ah4, ...).
mkdir -p /lib/modules
ln -sfn "$pavm_kmods" "/lib/modules/$(uname -r)"
hostname ipsec-pa-vm
modprobe -a tun veth 2>/dev/null
ip link set lo up
echo 1 > /proc/sys/kernel/printk
cd "$pavm_out" && bash ./cmd > >(tee "$pavm_out/log" > /dev/ttyS0) 2>&1
echo $? > "$pavm_out/rc"
sync
umount "$pavm_out"
echo o > /proc/sysrq-trigger
sleep 10
