# shellcheck shell=sh
# images/initrd-lib.sh: what every image's /init shares (busybox sh, PID 1).
# Installed as /usr/lib/trust/initrd-lib.sh by mb-hooks/mkinitrd.

PATH=/usr/sbin:/usr/bin
export PATH
# No udev in these initrds: libdevmapper creates /dev/mapper nodes itself.
DM_DISABLE_UDEV=1
export DM_DISABLE_UDEV

say() { echo "trust-initrd: $*"; }

# phase NAME: prints "trust-phase: NAME SECONDS", SECONDS since the kernel
# started (/proc/uptime): `make bench` (tests/bench/bench-boot.sh) splits a
# boot's time at these lines.
phase() {
	_up=
	read -r _up _rest </proc/uptime
	echo "trust-phase: $1 ${_up:-unknown}"
}

power_off() {
	phase poweroff
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 5
}

# fail REASON: the line tests and `trust vm` wait for, then power off.
fail() {
	echo "XXX FAIL XXX $*"
	power_off
}

early_mounts() {
	mount -t proc -o nosuid,nodev,noexec proc /proc
	mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
	mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
	mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
	mkdir -p /run/cryptsetup
	# Keep kernel chatter (module loads, dm) off the console lines we print.
	echo 1 >/proc/sys/kernel/printk
	phase init
}

load_modules() {
	while read -r _m; do
		modprobe "$_m" || say "module $_m: not loaded"
	done </etc/trust/modules
}

# wait_for SECONDS CMD...: retries CMD every 0.1 s (disks appear
# asynchronously once their driver is loaded).
wait_for() {
	_tries=$(($1 * 10))
	shift
	while [ "$_tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_tries=$((_tries - 1))
	done
	return 1
}

# disk_by_serial SERIAL: /dev/vdX whose virtio serial is SERIAL (QEMU
# -device virtio-blk-pci,serial=SERIAL).
disk_by_serial() {
	for _d in /sys/block/*; do
		[ -r "$_d/serial" ] || continue
		[ "$(cat "$_d/serial")" = "$1" ] && echo "/dev/${_d##*/}" && return 0
	done
	return 1
}

# dev_by_label LABEL: the block device whose filesystem (or LUKS2) label is
# LABEL, compared without regard to case (FAT tools upper-case labels).
dev_by_label() {
	blkid -c /dev/null -o device -t LABEL="$1" 2>/dev/null | head -n1 | grep . && return 0
	_up=$(echo "$1" | tr '[:lower:]' '[:upper:]')
	blkid -c /dev/null -o device -t LABEL="$_up" 2>/dev/null | head -n1 | grep .
}

# partition DISK N: the device node of partition N of DISK.
partition() {
	case $1 in
	*[0-9]) echo "${1}p$2" ;;
	*) echo "$1$2" ;;
	esac
}
