#!/bin/sh
# busybox-initrd.sh: builds a minimal initrd (newc cpio) around busybox-static,
# enough to boot a kernel under QEMU and report from inside the guest.
#   vm/busybox-initrd.sh OUTPUT [INIT]
# INIT is a shell script run as /init by busybox sh (default: mount proc and
# sysfs, print "trust-vm: pcr7=<hex>" from the TPM's sha256 bank, or
# "trust-vm: pcr7=none", then power off). No root needed: the /dev/console
# node the kernel needs is written into the archive directly.
set -eu
out=${1:?usage: busybox-initrd.sh OUTPUT [INIT]}
init=${2:-}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "busybox-initrd.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	ldd "$busybox" >/dev/null 2>&1 && { echo "busybox-initrd.sh: $busybox is not static" >&2; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/busybox-initrd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
if [ -n "$init" ]; then
	cp "$init" "$root/init"
else
	cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
# The TPM driver may probe after init starts: wait a little for it.
i=0
while [ ! -r /sys/class/tpm/tpm0/pcr-sha256/7 ] && [ $i -lt 50 ]; do
	/bin/busybox sleep 0.1
	i=$((i + 1))
done
if [ -r /sys/class/tpm/tpm0/pcr-sha256/7 ]; then
	echo "trust-vm: pcr7=$(/bin/busybox cat /sys/class/tpm/tpm0/pcr-sha256/7)"
else
	echo "trust-vm: pcr7=none"
fi
/bin/busybox poweroff -f
INIT
fi
chmod 0755 "$root/init"

(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$tmp/files.cpio"

# A second archive holding only dev/console (char 5:1, 0600): newc header
# fields are 8 hex digits each (magic, ino, mode, uid, gid, nlink, mtime,
# filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check).
newc() { # name mode rdevmajor rdevminor
	namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		1 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$1"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	[ $pad -gt 0 ] && head -c $pad /dev/zero
	return 0
}
{
	newc dev/console $((0020000 | 0600)) 5 1
	newc TRAILER!!! 0 0 0
} >"$tmp/console.cpio"
cat "$tmp/files.cpio" "$tmp/console.cpio" >"$tmp/out"
mv "$tmp/out" "$out"
