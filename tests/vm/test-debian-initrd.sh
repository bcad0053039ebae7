# shellcheck shell=bash
# test-debian-initrd.sh: Debian's own initrd in a real boot. The os image
# also has an initrd made by update-initramfs inside the image with trust's
# initramfs-tools integration (mb-hooks/initramfs-tools), in a second
# production UKI. On a machine made by `trust vm launch` (in make check a
# copy of test-package's), that UKI replaces the ESP's BOOTX64.EFI:
#   - production-signed, it boots: init-premount/trust releases the secrets
#     and locks PCR7, local-top/trust opens the OS volume, init-bottom/trust
#     hands /priv/factory/secure to the OS; the status line says so, as for
#     the hand-made initrd (and none of that initrd's lines are on the
#     console: this boot ran initramfs-tools' /init);
#   - the same initrd signed for the tpm class: setup refuses, the machine
#     powers off by itself and the OS never runs.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/vm-common.sh
. "$(dirname "$0")/vm-common.sh"

command -v mkosi >/dev/null || skip "mkosi is not installed (make deps)"
for tool in unmkinitramfs zstd; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
done
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
IMG=$BUILD/images/snakeoil
vm_build_images

# --- the initrd: Debian's, with trust's parts -------------------------------------
uki=$IMG/os/uki-production-initramfs-tools.efi
[ -f "$uki" ] || fail "the os image has no $uki"
unmkinitramfs "$IMG/os/initrd-initramfs-tools.img" "$T/x" || fail "unmkinitramfs failed"
R=$T/x
[ -d "$T/x/main" ] && R=$T/x/main
grep -q 'run_scripts /scripts/init-premount' "$R/init" || fail "the initrd's /init is not initramfs-tools'"
[ -e "$R/usr/lib/trust/initrd-lib.sh" ] && fail "the initrd holds the hand-made initrd's parts"
for s in init-premount local-top init-bottom; do
	grep -q "/scripts/$s/trust" "$R/scripts/$s/ORDER" || fail "scripts/$s/ORDER does not run trust"
done
[ -x "$R/usr/bin/trust" ] || fail "the initrd has no /usr/bin/trust"
diff -r "$TOP/keysets/snakeoil/pcr7data" "$R/pcr7data" >/dev/null || fail "/pcr7data is not the keyset's"
grep -qx 'TRUST_VOLUME_LABEL=trust-os' "$R/etc/trust/initramfs.conf" ||
	fail "/etc/trust/initramfs.conf: $(cat "$R/etc/trust/initramfs.conf" 2>&1)"
cmdline=$(cat "$IMG/os/cmdline-initramfs-tools.txt")
for arg in root=/dev/mapper/trust-os panic=-1; do
	case " $cmdline " in *" $arg "*) ;; *) fail "the UKI's command line lacks $arg: $cmdline" ;; esac
done
expect_rc 0 trust verify efi --cert "$TOP/keysets/snakeoil/uki-production/cert.pem" "$uki"

# --- the machine, booting that UKI ------------------------------------------------
vm_launch_or_copy deb "$IMG"
D=$VMS/deb
sfdisk -d "$D/os.img" >"$T/pt" || fail "the VM's disk has no partition table"
esp_off=$(($(part_start "$T/pt" esp) * 512))
[ "$esp_off" -gt 0 ] || fail "no esp partition: $(cat "$T/pt")"
mcopy -o -i "$D/os.img@@$esp_off" "$uki" ::/EFI/BOOT/BOOTX64.EFI || fail "cannot install the UKI"

vm_boot deb production 'TRUST STATUS:|powering off|Kernel panic|ALERT!|Access Denied'
want=$(openssl x509 -in "$D/sudi-cert.pem" -noout -subject -nameopt oneline,-esc_msb)
want=${want#subject=}
grep -qF "TRUST STATUS: cert=\"$want\"" "$T/status" || fail "production: $(cat "$T/status")"
for field in volume=opened pcr7=locked luks-key=dropped luks-read=refused eventlog=match sudi-key=tpm; do
	grep -q " $field" "$T/status" || fail "production boot lacks $field: $(cat "$T/status")"
done
grep -q 'trust-phase:\|trust-initrd:' "$T/console-production" &&
	fail "the hand-made initrd ran: $(grep -m1 'trust-phase:\|trust-initrd:' "$T/console-production")"
grep -q 'PRIVATE KEY' "$T/console-production" && fail "the console shows a private key"

# --- signed for another class: setup refuses, the machine powers off -------------
"$TRUST" uki build --kernel "$IMG/os/vmlinuz" --initrd "$IMG/os/initrd-initramfs-tools.img" \
	--cmdline "@$IMG/os/cmdline-initramfs-tools.txt" --output "$T/unsigned.efi" >/dev/null ||
	fail "uki build failed"
expect_rc 0 trust sign efi --keyset snakeoil --class tpm --output "$T/tpm.efi" "$T/unsigned.efi"
mcopy -o -i "$D/os.img@@$esp_off" "$T/tpm.efi" ::/EFI/BOOT/BOOTX64.EFI || fail "cannot install the UKI"
# (the guest kernel's "Power down": it powered itself off, before vm_boot's
# `vm stop` could press the button)
vm_boot deb tpm 'TRUST STATUS:|reboot: Power down|Kernel panic|ALERT!|Access Denied'
grep -q 'reboot: Power down' "$T/status" || fail "tpm class: $(cat "$T/status")"
grep -q '^trust: setup failed (exit [0-9]*): powering off' "$T/console-tpm" ||
	{ tail -n 20 "$T/console-tpm"; fail "tpm class: the initrd did not say why it powered off"; }
grep -B2 '^trust: setup failed' "$T/console-tpm" | sed 's/^/#   /'
grep -q 'TRUST STATUS' "$T/console-tpm" && fail "tpm class: the OS ran"
grep -q 'PRIVATE KEY' "$T/console-tpm" && fail "tpm class: the console shows a private key"

expect_rc 0 trust vm delete deb
assert_no_vm_processes
echo ok
