#!/bin/bash
# test-os-boot.sh: one machine through the three images under OVMF with
# Secure Boot on (the keyset's vars.fd) and one persistent swtpm:
# provision (SUDI cert/key from the trust-data disk, pbf/sbf on the target),
# install (LUKS2 OS volume keyed from the TPM, payload copied), then the
# installed OS from the target disk alone, which must print its status line
# with the SUDI cert's subject, the volume opened, PCR7 locked and the key
# dropped. Uses the harness of tests/vm/lib.sh.
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

vm_require
[ "$(id -u)" = 0 ] || skip "image builds need root (mkosi, debootstrap)"
command -v mkosi >/dev/null || skip "mkosi is not installed (make deps)"

BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
OUT=$BUILD/images/snakeoil
BUILD=$BUILD TRUST=$TRUST "$TOP/images/build.sh" snakeoil default >"$T/build.log" 2>&1 ||
	{ tail -n 30 "$T/build.log"; fail "images/build.sh snakeoil failed"; }

# The machine: its NVRAM, its TPM, its disks.
mkdir -p "$KEYS"
cp -R "$TOP/keysets/snakeoil" "$KEYS/snakeoil"
serial=$(trust sudi add snakeoil default) || fail "sudi add failed"
sudi=$KEYS/snakeoil/manifest/default/sudi/$serial
M=$VM_DIR/machine
mkdir -p "$M"
cp "$OUT/vars.fd" "$M/vars.fd"
export VM_TPM_DIR=$M/tpm
mkfs.vfat -C -n trust-data "$M/data.img" 8192 >/dev/null 2>&1 || fail "mkfs.vfat failed"
mcopy -i "$M/data.img" "$sudi/cert.pem" "$sudi/privkey.pem" ::/ || fail "mcopy failed"
truncate -s 2G "$M/target.img"
VM_TIMEOUT=${VM_TIMEOUT_PHASE:-400}
vm_accel >/dev/null
note "accelerator: $VM_ACCEL"

# phase NAME SUCCESS ESP [QEMU ARGS]: one boot until SUCCESS or a failure line.
phase() {
	local name=$1 ok=$2 esp=$3 log=$M/$1.log start
	shift 3
	start=$(date +%s)
	VM_EXPECT="$ok|XXX FAIL XXX"
	vm_boot "$log" "$M/vars.fd" "$esp" "$@"
	if ! grep -aq -- "$ok" "$log"; then
		tail -n 25 "$log" | tr -d '\r'
		fail "$name: no '$ok' (result: $VM_RESULT)"
	fi
	note "$name: '$ok' after $(($(date +%s) - start)) s"
}
target=(-drive "if=none,id=tgt,format=raw,file=$M/target.img"
	-device "virtio-blk-pci,drive=tgt,serial=trust-target")

vm_esp "$M/esp-provision.img" "$OUT/provision/uki-production.efi"
phase provision 'provisioned successfully' "$M/esp-provision.img" "${target[@]}" \
	-drive "if=none,id=data,format=raw,file=$M/data.img" -device virtio-blk-pci,drive=data
sfdisk -d "$M/target.img" >"$T/pt" 2>/dev/null || fail "provision left no partition table on the target"
for p in pbf sbf; do
	grep -q "name=\"$p\"" "$T/pt" || fail "provision did not make the $p partition"
done

vm_esp "$M/esp-install.img" "$OUT/install/uki-production.efi"
phase install 'installed successfully' "$M/esp-install.img" "${target[@]}" \
	-drive "if=none,id=pl,format=raw,readonly=on,file=$OUT/os/payload.img" \
	-device virtio-blk-pci,drive=pl,serial=trust-payload
sfdisk -d "$M/target.img" >"$T/pt" || fail "target has no partition table after install"
for p in pbf sbf esp os; do
	grep -q "name=\"$p\"" "$T/pt" || fail "target lacks partition $p after install"
done
start_of() { sed -n "/name=\"$1\"/s/.*start= *\([0-9]*\),.*/\1/p" "$T/pt"; }
size_of() { sed -n "/name=\"$1\"/s/.*size= *\([0-9]*\),.*/\1/p" "$T/pt"; }
dd if="$M/target.img" of="$T/esp" bs=512 skip="$(start_of esp)" count="$(size_of esp)" status=none
mcopy -n -i "$T/esp" ::/EFI/BOOT/BOOTX64.EFI "$T/boot.efi" || fail "installed ESP has no BOOTX64.EFI"
cmp -s "$T/boot.efi" "$OUT/os/uki-production.efi" || fail "installed BOOTX64.EFI is not os/uki-production.efi"
# The LUKS2 header (first 16 MiB) with its label and keyring token.
dd if="$M/target.img" of="$T/luks" bs=512 skip="$(start_of os)" count=32768 status=none
cryptsetup luksDump "$T/luks" >"$T/dump" 2>&1 || { cat "$T/dump"; fail "os partition is not LUKS"; }
grep -q '^Version:[[:space:]]*2' "$T/dump" || fail "os volume is not LUKS2"
grep -q '^Label:[[:space:]]*trust-os' "$T/dump" || fail "os volume is not labelled trust-os"
if ! grep -q 'luks2-keyring' "$T/dump" || ! grep -q 'machine:luks' "$T/dump"; then
	cat "$T/dump"
	fail "os volume has no keyring token for machine:luks"
fi

# The installed system, booted from the target disk alone.
phase os 'TRUST STATUS:' "$M/target.img"
line=$(grep -a 'TRUST STATUS:' "$M/os.log" | tail -n 1 | tr -d '\r')
note "$line"
case $line in *"cert=\"CN = $serial, serialNumber = PID:"*" SN:$serial\""*) ;;
*) fail "status line does not show this VM's SUDI cert (CN = $serial)" ;; esac
for want in volume=opened pcr7=locked luks-key=dropped; do
	case $line in *" $want"*) ;; *) fail "status line lacks $want" ;; esac
done
echo "ok"
