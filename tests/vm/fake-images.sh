#!/bin/bash
# fake-images.sh OUTDIR [MODE]: a small images directory for the `trust vm`
# machinery tests, in the layout of images/README.md that `trust vm launch
# --images` reads (vars.fd, provision/ and install/uki-production.efi,
# os/payload.img), made of the host's Debian
# kernel and a busybox initrd instead of mkosi images, so the tests boot real
# OVMF + swtpm + QEMU in seconds. Each UKI's /init plays one phase:
#   provision: mounts the `trust-data` disk, prints the SUDI cert it found,
#              prints "provisioned successfully" (or XXX FAIL XXX), powers off;
#   install:   copies the `trust-payload` disk (GPT, an ESP holding the OS
#              UKI) onto the `trust-target` disk, prints "installed
#              successfully", powers off;
#   os:        prints a status line, powers off on the ACPI power button.
# MODE: ok (default), fail-install (the installer reports XXX FAIL XXX),
# hang-provision (provisioning never ends: for interrupting a launch),
# unsigned (the provisioning UKI left unsigned), foreign (it is signed by a
# key outside the keyset): the firmware must refuse both.
set -eu
out=$1
mode=${2:-ok}
TRUST=${TRUST:-trust}
kver=$(find /lib/modules -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -V | tail -n1)
kernel=/boot/vmlinuz-$kver
mods=/lib/modules/$kver/kernel
for f in "$kernel" /bin/busybox; do
	[ -r "$f" ] || { echo "fake-images: $f missing (make deps)" >&2; exit 77; }
done
mkdir -p "$out"
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- initrd: busybox, a few modules, one /init for all roles -------------
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,mnt,lib/modules,etc}
cp /bin/busybox "$root/bin/busybox"
mknod -m 600 "$root/dev/console" c 5 1
for m in virtio/virtio virtio/virtio_ring virtio/virtio_pci_legacy_dev \
	virtio/virtio_pci_modern_dev virtio/virtio_pci; do
	cp "$mods/drivers/$m.ko" "$root/lib/modules/"
done
cp "$mods/drivers/block/virtio_blk.ko" "$mods/fs/fat/fat.ko" "$mods/fs/fat/vfat.ko" \
	"$mods/fs/nls/nls_cp437.ko" "$mods/fs/nls/nls_ascii.ko" \
	"$mods/drivers/acpi/button.ko" "$mods/drivers/input/evdev.ko" "$root/lib/modules/"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk \
	fat vfat nls_cp437 nls_ascii button evdev; do
	insmod /lib/modules/$m.ko || echo "fake: insmod $m failed"
done
role=$(sed -n 's/.*trust\.role=\([a-z-]*\).*/\1/p' /proc/cmdline)
die() { echo "XXX FAIL XXX $* (disks: $(ls /sys/block | tr '\n' ' '))"; sync; poweroff -f; }
disk() { # disk SERIAL: the /dev node of the virtio disk with that serial
	for _ in $(seq 50); do
		for b in /sys/block/vd*; do
			[ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${b##*/}"; return 0; }
		done
		sleep 0.1
	done
	return 1
}
if [ -e /dev/tpm0 ]; then
	echo "fake: tpm present, pcr7=$(tr -d ' \n' </sys/class/tpm/tpm0/pcr-sha256/7)"
else
	echo "fake: no tpm"
fi
case $role in
provision)
	if grep -q trust.hang /proc/cmdline; then
		echo "fake: provision hangs"
		while :; do sleep 60; done
	fi
	d=$(disk trust-data) || die "no trust-data disk"
	mount -t vfat -o ro "$d" /mnt || die "cannot mount $d"
	[ -s /mnt/privkey.pem ] || die "no SUDI private key on trust-data"
	echo "fake: sudi cert begin"
	cat /mnt/cert.pem
	echo "fake: sudi cert end"
	umount /mnt
	echo "provisioned successfully"
	;;
install)
	grep -q trust.fail /proc/cmdline && die "installer told to fail"
	d=$(disk trust-target) || die "no trust-target disk"
	p=$(disk trust-payload) || die "no trust-payload disk"
	dd if="$p" of="$d" bs=1M conv=fsync 2>/dev/null || die "cannot write $d"
	echo "installed successfully"
	;;
os)
	echo "fake-os: booted, data disk $(disk trust-data >/dev/null && echo present || echo absent)"
	# the ACPI power button (QMP system_powerdown) powers off
	for e in /sys/class/input/event*; do
		if grep -q "Power Button" "$e/device/name" 2>/dev/null; then
			echo "fake-os: waiting for the power button"
			head -c 1 "/dev/input/${e##*/}" >/dev/null
			echo "fake-os: power button pressed"
		fi
	done
	;;
*) die "unknown role '$role'" ;;
esac
sync
poweroff -f
EOF
chmod 755 "$root/init"
mkinitrd() { (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"; }
mkinitrd "$root" "$work/initrd"

# --- UKI assembly and keys: trust's own commands ---------------------------
# Signed by the keyset's uki-production key, firmware vars enrolled with the
# keyset (KEYSET, default snakeoil, must be installed).
KEYSET=${KEYSET:-snakeoil}
mkuki() { # mkuki CMDLINE OUT INITRD
	"$TRUST" uki build --kernel "$kernel" --initrd "$3" --cmdline "$1" --output "$2" >/dev/null
}
sign() { # sign IN OUT
	"$TRUST" sign efi --keyset "$KEYSET" --class production --output "$2" "$1" >/dev/null
}
mkdir -p "$out/provision" "$out/install" "$out/os"
rm -f "$out/vars.fd"
"$TRUST" efivars enroll --keyset "$KEYSET" --output "$out/vars.fd" >/dev/null

base="console=ttyS0 panic=-1 loglevel=4"
# the payload: a GPT disk with one ESP holding the OS UKI, what the installer copies
mkuki "$base trust.role=os" "$work/os.unsigned" "$work/initrd"
sign "$work/os.unsigned" "$work/os.efi"
truncate -s 24M "$out/os/payload.img"
printf 'label: gpt\nstart=2048, size=40960, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n' |
	sfdisk -q "$out/os/payload.img"
mkfs.vfat -C "$work/esp.img" 20480 >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/os.efi" ::/EFI/BOOT/BOOTX64.EFI
dd if="$work/esp.img" of="$out/os/payload.img" bs=512 seek=2048 conv=notrunc,sparse status=none
fail='' hang=''
if [ "$mode" = fail-install ]; then fail=" trust.fail"; fi
if [ "$mode" = hang-provision ]; then hang=" trust.hang"; fi

mkuki "$base trust.role=provision$hang" "$work/provision.unsigned" "$work/initrd"
mkuki "$base trust.role=install$fail" "$work/install.unsigned" "$work/initrd"
case $mode in
unsigned) cp "$work/provision.unsigned" "$out/provision/uki-production.efi" ;;
foreign)
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/foreign.key" -out "$work/foreign.pem" \
		-subj "/CN=not in the keyset" -days 1 2>/dev/null
	"$TRUST" sign efi --key "$work/foreign.key" --cert "$work/foreign.pem" \
		--output "$out/provision/uki-production.efi" "$work/provision.unsigned" >/dev/null
	;;
*) sign "$work/provision.unsigned" "$out/provision/uki-production.efi" ;;
esac
sign "$work/install.unsigned" "$out/install/uki-production.efi"
cp "$work/os.efi" "$out/os/uki-production.efi"
