# shellcheck shell=bash
# test-disk-swap.sh: the disk-swap attack on TPM auto-unlock, on one machine
# made by `trust vm launch` with the real snakeoil images. The attacker
# replaces the installed OS volume (the `os` partition of the VM's disk) by a
# LUKS2 volume labelled trust-os of their own whose root's /sbin/init prints
# /priv/factory/secure/server.key, the SUDI key `trust setup` released:
#   (a) cipher_null keyslot and data (a forged header, tests/vm/luks2-forge.py:
#       the keyslot then yields the volume key for any passphrase);
#   (b) a real aes-xts-plain64 volume under another passphrase.
# First the same machine boots (a) under the initrd as it was before
# `trust volume open` (cryptsetup open --token-only, the keyring token), to
# measure whether cryptsetup alone stops it; then (a) and (b) under the real
# os initrd must power off with "OS volume refused" and the reason, and the
# console must never show a line of the SUDI key; the genuine volume put
# back must still boot (volume=opened, key dropped, PCR7 locked).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/vm-common.sh
. "$(dirname "$0")/vm-common.sh"

command -v mkosi >/dev/null || skip "mkosi is not installed (make deps)"
for tool in cryptsetup python3 mkfs.ext4 zstd keyctl; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
done
[ -x /bin/busybox ] || skip "/bin/busybox is missing (busybox-static, make deps)"
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
IMG=$BUILD/images/snakeoil
declare -A took
t0=$(date +%s)
note "building (or reusing) $IMG"
vm_build_images
took[images]=$(($(date +%s) - t0))

# --- the machine ----------------------------------------------------------------
t0=$(date +%s)
vm_launch_or_copy swap "$IMG"
took[launch]=$(($(date +%s) - t0))
D=$VMS/swap
serial=$(sed -n 's/^serial=//p' "$D/vm.conf")
[ -n "$serial" ] || fail "no serial in vm.conf"
# `trust vm launch` wipes the SUDI key once it is in the TPM: the host has
# only the cert. The key's PEM body lines are learnt from the attack that
# shows it (the legacy boot), checked against the cert.
: >"$T/key-lines"
sfdisk -d "$D/os.img" >"$T/pt" || fail "the VM's disk has no partition table"
os_off=$(($(part_start "$T/pt" os) * 512)) os_len=$(($(part_size "$T/pt" os) * 512))
esp_off=$(($(part_start "$T/pt" esp) * 512))
[ "$os_off" -gt 0 ] && [ "$esp_off" -gt 0 ] || fail "no esp/os partitions: $(cat "$T/pt")"
cp --sparse=always "$D/os.img" "$T/genuine.img"

# --- the attacker's volumes -----------------------------------------------------
# A root whose init shows the secure dir the initrd hands over, then powers off.
mkdir -p "$T/root/bin" "$T/root/sbin" "$T/root/dev" "$T/root/proc" "$T/root/sys" "$T/root/run"
cp /bin/busybox "$T/root/bin/busybox"
cat >"$T/root/sbin/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox echo "EVIL ROOT: the swapped-in /sbin/init runs; the secure dir holds:"
/bin/busybox ls /priv/factory/secure
/bin/busybox cat /priv/factory/secure/server.key
/bin/busybox echo "EVIL ROOT: end"
/bin/busybox sync
/bin/busybox poweroff -f
EOF
chmod 0755 "$T/root/sbin/init"
# 4 KiB blocks: the data segment luksFormat makes on a file has 4 KiB sectors
mkfs.ext4 -q -F -b 4096 -L evil-root -d "$T/root" "$T/root.img" 16M || fail "mkfs.ext4 failed"
printf 'the attacker knows this one' >"$T/attacker"
# evil_volume IMG [luksFormat options]: LUKS2 labelled trust-os, as the
# installer makes it (its keyring token too: the old initrd unlocked through it)
evil_volume() {
	local img=$1
	shift
	truncate -s 48M "$img"
	cryptsetup luksFormat --batch-mode --type luks2 --label trust-os --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file "$T/attacker" "$@" "$img" >/dev/null ||
		fail "luksFormat $img failed"
	cryptsetup token add --key-description machine:luks --key-slot 0 "$img" ||
		fail "token add $img failed"
}
# (a) cipher_null. cryptsetup 2.6 cannot make it: luksFormat --cipher
# cipher_null-ecb checks the cipher through device-mapper (absent here) and
# would give the keyslot aes-xts-plain64 anyway; the header is forged.
truncate -s 48M "$T/null-try.img"
if cryptsetup luksFormat --batch-mode --type luks2 --cipher cipher_null-ecb --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 --key-file "$T/attacker" "$T/null-try.img" \
	>"$T/null-try.log" 2>&1 </dev/null; then
	note "host luksFormat --cipher cipher_null-ecb: $(cryptsetup luksDump "$T/null-try.img" |
		grep -i 'cipher:' | tr -s ' \t' ' ' | tr '\n' ';')"
else
	note "host luksFormat --cipher cipher_null-ecb refused: $(tr '\n' ' ' <"$T/null-try.log")"
fi
evil_volume "$T/null.img"
python3 "$TOP/tests/vm/luks2-forge.py" null "$T/null.img" || fail "luks2-forge.py null failed"
data_off=$(cryptsetup luksDump "$T/null.img" | sed -n 's/^[[:space:]]*offset: \([0-9]*\) \[bytes\]/\1/p')
[ "$data_off" = 16777216 ] || fail "unexpected data offset '$data_off'"
dd if="$T/root.img" of="$T/null.img" bs=1M seek=16 conv=notrunc status=none
cryptsetup luksDump "$T/null.img" | grep -q 'cipher_null-ecb' || fail "no cipher_null in (a)"
# (b) aes-xts-plain64 under the attacker's passphrase, the same root inside
# (encrypted without device-mapper; the forge checks its XTS against the keyslot)
evil_volume "$T/aes.img" --sector-size 512
python3 "$TOP/tests/vm/luks2-forge.py" encrypt "$T/aes.img" "$T/attacker" "$T/root.img" ||
	fail "luks2-forge.py encrypt failed"
for v in null aes; do
	[ "$(stat -c %s "$T/$v.img")" -le "$os_len" ] || fail "$v.img does not fit the os partition"
done

# swap_in IMG: the genuine disk with IMG written over its os partition
swap_in() {
	cp --sparse=always "$T/genuine.img" "$D/os.img"
	[ -z "${1:-}" ] || dd if="$1" of="$D/os.img" bs=1M seek="$os_off" oflag=seek_bytes \
		conv=notrunc status=none || fail "cannot write $1 over the os partition"
}

# boot NAME: boots the machine once (vm_boot), its console in
# $T/console-NAME, its outcome line in $T/status
boot() {
	vm_boot swap "$1" 'TRUST STATUS:|XXX FAIL XXX|EVIL ROOT: end|Access Denied'
	took[$1]=$BOOT_SECS
}
# key_shown NAME: whether the console of boot NAME shows a private key: a PEM
# marker, a PEM body line (64 base64 characters), a line of the SUDI key
key_shown() {
	grep -q 'PRIVATE KEY' "$T/console-$1" || grep -Eq '^[A-Za-z0-9+/]{64}$' "$T/console-$1" ||
		{ [ -s "$T/key-lines" ] && grep -qF -f "$T/key-lines" "$T/console-$1"; }
}

# --- (0) cryptsetup alone: the os initrd as it was, signed like it --------------
# Its /init (the volume part of images/os/init before trust volume open) and
# cryptsetup + blkid from the host (Debian 12 as the image) in a third archive.
L=$T/legacy
mkdir -p "$L/usr/sbin" "$L/usr/lib/x86_64-linux-gnu"
cat >"$L/init" <<'EOF'
#!/bin/sh
. /usr/lib/trust/initrd-lib.sh
early_mounts
mkdir -p /run/trust
trust setup 2>/run/setup.err || { cat /run/setup.err; fail "trust setup failed"; }
load_modules
echo "LEGACY INITRD: cryptsetup open --token-only"
wait_for 10 dev_by_label trust-os >/dev/null || fail "no LUKS2 volume labelled trust-os"
vol=$(dev_by_label trust-os)
cryptsetup open --token-only "$vol" trust-os || fail "$vol: cannot open the OS volume from the keyring"
echo "LEGACY INITRD: cryptsetup opened $vol with the keyring key"
if keyid=$(keyctl search @u user machine:luks 2>/dev/null); then
	keyctl invalidate "$keyid" || fail "cannot drop machine:luks from the keyring"
fi
mount -t ext4 /dev/mapper/trust-os /sysroot || fail "cannot mount the OS root"
[ -x /sysroot/sbin/init ] || [ -L /sysroot/sbin/init ] || fail "the OS root has no /sbin/init"
if grep -q ' /priv/factory/secure ' /proc/mounts; then
	mkdir -p /sysroot/priv/factory/secure
	mount --move /priv/factory/secure /sysroot/priv/factory/secure ||
		fail "cannot hand /priv/factory/secure to the OS"
fi
for m in dev proc sys run; do
	mount --move "/$m" "/sysroot/$m" || fail "cannot move /$m to the OS root"
done
exec switch_root /sysroot /sbin/init
EOF
chmod 0755 "$L/init"
for a in initrd-base initrd-trust; do
	zstd -dc "$IMG/os/$a.img" | cpio -t --quiet 2>/dev/null
done | sed 's|^\./||' >"$T/initrd-files"
grep -qx usr/bin/trust "$T/initrd-files" || fail "cannot list the os initrd ($(wc -l <"$T/initrd-files") files)"
for b in /usr/sbin/cryptsetup /usr/sbin/blkid; do
	cp "$b" "$L$b"
	for lib in $(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		name=usr/lib/x86_64-linux-gnu/${lib##*/}
		grep -qx "$name" "$T/initrd-files" || cp -L "$lib" "$L/$name"
	done
done
(cd "$L" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | zstd -q >"$T/legacy.img"
"$TRUST" uki build --kernel "$IMG/os/vmlinuz" --initrd "$IMG/os/initrd-base.img" \
	--initrd "$IMG/os/initrd-trust.img" --initrd "$T/legacy.img" --cmdline "@$IMG/os/cmdline.txt" \
	--output "$T/legacy-unsigned.efi" >/dev/null || fail "uki build (legacy) failed"
expect_rc 0 trust sign efi --keyset snakeoil --class production --output "$T/legacy.efi" \
	"$T/legacy-unsigned.efi"
swap_in "$T/null.img"
mcopy -o -i "$D/os.img@@$esp_off" "$T/legacy.efi" ::/EFI/BOOT/BOOTX64.EFI ||
	fail "cannot install the legacy UKI"
boot legacy
grep -q 'LEGACY INITRD' "$T/console-legacy" || fail "the legacy initrd did not run"
if grep -q 'LEGACY INITRD: cryptsetup opened' "$T/console-legacy"; then
	grep -q 'EVIL ROOT: end' "$T/status" ||
		fail "legacy: cryptsetup opened the volume but the attacker's root did not run: $(cat "$T/status")"
	sed -n '/-----BEGIN .*PRIVATE KEY-----/,/-----END .*PRIVATE KEY-----/p' "$T/console-legacy" \
		>"$T/leaked.pem"
	openssl pkey -in "$T/leaked.pem" -pubout >"$T/leaked.pub" 2>/dev/null ||
		fail "legacy: the attacker's init ran but printed no private key"
	openssl x509 -in "$D/sudi-cert.pem" -noout -pubkey >"$T/sudi.pub"
	cmp -s "$T/leaked.pub" "$T/sudi.pub" || fail "legacy: the key shown is not the VM's SUDI key"
	grep -v '^-----' "$T/leaked.pem" | awk 'length($0) >= 16' >"$T/key-lines"
	legacy="cryptsetup alone OPENED the cipher_null volume with the keyring key: the attacker's /sbin/init printed the SUDI key (its public key matches sudi-cert.pem)"
elif grep -q 'XXX FAIL XXX' "$T/status"; then
	legacy="cryptsetup alone refused the cipher_null volume"
	grep -B3 'XXX FAIL XXX' "$T/console-legacy" | sed 's/^/#   /'
else
	fail "legacy boot: no clear outcome: $(cat "$T/status")"
fi
note "measured: $legacy"

# --- (a), (b): the real os initrd refuses both, shows no key ---------------------
swap_in "$T/null.img"
boot null
grep -q 'XXX FAIL XXX OS volume refused' "$T/status" || fail "(a) cipher_null: $(cat "$T/status")"
grep -q 'keyslot 0 uses cipher_null-ecb\|data segment uses cipher_null-ecb' "$T/status" ||
	fail "(a) refused for another reason: $(cat "$T/status")"
grep -q 'EVIL ROOT' "$T/console-null" && fail "(a): the attacker's init ran"
key_shown null && fail "(a): the console shows the SUDI key"

swap_in "$T/aes.img"
boot aes
grep -q 'XXX FAIL XXX OS volume refused' "$T/status" || fail "(b) aes-xts: $(cat "$T/status")"
grep -q 'the passphrase opens no keyslot' "$T/status" ||
	fail "(b) refused for another reason: $(cat "$T/status")"
grep -q 'EVIL ROOT' "$T/console-aes" && fail "(b): the attacker's init ran"
key_shown aes && fail "(b): the console shows the SUDI key"

# --- the genuine volume still boots ----------------------------------------------
swap_in ""
boot genuine
want_subject=$(openssl x509 -in "$D/sudi-cert.pem" -noout -subject -nameopt oneline,-esc_msb)
want_subject=${want_subject#subject=}
grep -qF "TRUST STATUS: cert=\"$want_subject\"" "$T/status" || fail "genuine: $(cat "$T/status")"
for want in volume=opened pcr7=locked luks-key=dropped luks-read=refused; do
	grep -q " $want" "$T/status" || fail "genuine boot lacks $want: $(cat "$T/status")"
done
key_shown genuine && fail "genuine: the console shows the SUDI key"

expect_rc 0 trust vm delete swap
assert_no_vm_processes
note "timings (s): images ${took[images]}, launch ${took[launch]}, boots: legacy ${took[legacy]}, null ${took[null]}, aes ${took[aes]}, genuine ${took[genuine]}"
echo ok
