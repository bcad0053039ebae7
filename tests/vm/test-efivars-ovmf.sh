# shellcheck shell=bash
# test-efivars-ovmf.sh: real OVMF takes trust's signed variable updates,
# keeps them, and refuses a foreign one by itself.
#   boot:  a production-signed UKI whose initrd carries the trust binary and
#          two payloads; the guest prints PCR7, writes a dbx append signed by
#          another keyset's KEK straight into efivarfs (the firmware must
#          refuse it: no trust in between), then runs `trust efivars apply
#          --efivarfs` with the keyset's dbx update revoking uki-limited;
#   host:  the vars file (the machine's NVRAM) holds the revocation and not
#          the foreign entry.
# What the next boots measure and refuse after such an update is proven on
# an installed machine, end to end, in test-vm-provisioned.sh.
. "$(dirname "$0")/lib.sh"

vm_require
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$kernel" ] && [ -r "$kernel" ] || skip "no readable kernel in /boot (linux-image-amd64; read as root)"
[ -r /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || skip "no systemd-stub (systemd-boot-efi)"

expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust keyset add foreign
ks=$KEYS/snakeoil
expect_rc 0 trust efivars sign-update --keyset snakeoil --var dbx --append \
	--output "$T/revoke.auth" "$ks/uki-limited/cert.pem"
foreign_hash=$(printf '%064d' 42)
expect_rc 0 trust efivars sign-update --keyset foreign --var dbx --append \
	--output "$T/foreign.auth" "sha256:$foreign_hash"
expect_rc 0 trust computepcr7 snakeoil
before=$(sed -n 's/^uki-production: //p' "$T/out")
[ -n "$before" ] || fail "computepcr7: $(cat "$T/out")"

# --- the guest: busybox, plus trust with its libraries and the payloads ------
cat >"$T/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox insmod /efivarfs.ko 2>/dev/null
/bin/busybox mount -t efivarfs efivarfs /sys/firmware/efi/efivars
i=0
while [ ! -r /sys/class/tpm/tpm0/pcr-sha256/7 ] && [ $i -lt 50 ]; do
	/bin/busybox sleep 0.1
	i=$((i + 1))
done
echo "trust-vm: pcr7=$(/bin/busybox cat /sys/class/tpm/tpm0/pcr-sha256/7 2>/dev/null || echo none)"
dbx=/sys/firmware/efi/efivars/dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f
if [ -d /payload ]; then
	# the firmware's own check: attributes | payload in one write, no trust
	{ /bin/busybox printf '\147\000\000\000'; /bin/busybox cat /payload/foreign.auth; } >/tmp/raw
	/bin/busybox dd if=/tmp/raw of=$dbx bs=65536 conv=notrunc 2>/dev/null
	echo "trust-vm: raw-foreign rc=$?"
	/usr/bin/trust efivars apply --efivarfs /sys/firmware/efi/efivars /payload/revoke.auth
	echo "trust-vm: apply rc=$?"
fi
echo "trust-vm: done"
/bin/busybox poweroff -f
EOF
"$TOP/vm/busybox-initrd.sh" "$T/base.cpio" "$T/init" >/dev/null || fail "busybox initrd failed"
groot=$T/guest-root
mkdir -p "$groot/usr/bin" "$groot/payload"
cp "$TRUST" "$groot/usr/bin/trust"
for lib in $(ldd "$TRUST" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }'); do
	mkdir -p "$groot$(dirname "$lib")"
	cp -L "$lib" "$groot$lib"
done
[ -e "$groot/lib64/ld-linux-x86-64.so.2" ] || { mkdir -p "$groot/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$groot/lib64/"; }
cp "$T/revoke.auth" "$T/foreign.auth" "$groot/payload/"
# efivarfs is a module in Debian's kernel (none when it is built in)
kver=${kernel##*/vmlinuz-}
mod=$(find "/lib/modules/$kver" -name efivarfs.ko 2>/dev/null | head -n 1)
[ -z "$mod" ] || cp "$mod" "$groot/efivarfs.ko"
(cd "$groot" && find . | cpio -o -H newc --quiet) >"$T/extra.cpio" || fail "cpio failed"

expect_rc 0 trust uki build --kernel "$kernel" --initrd "$T/base.cpio" --initrd "$T/extra.cpio" \
	--cmdline "console=ttyS0 quiet panic=-1" --output "$T/uki.efi"
expect_rc 0 trust sign efi --keyset snakeoil --class production --output "$T/uki-production.efi" "$T/uki.efi"
expect_rc 0 trust efivars enroll --keyset snakeoil --output "$T/vars.fd"
vm_esp "$T/esp-production.img" "$T/uki-production.efi"
VM_MEMORY=512
VM_EXPECT='trust-vm: done'

# --- the boot: updates through efivarfs ----------------------------------------------
vm_boot "$T/boot.log" "$T/vars.fd" "$T/esp-production.img"
[ "$VM_RESULT" = expected ] || { tail -n 30 "$T/boot.log"; fail "boot: $VM_RESULT"; }
tr -d '\r' <"$T/boot.log" | grep -a '^trust-vm:\|efivars\|revoke.auth' | sed 's/^/  guest: /'
[ "$(vm_log_pcr7 "$T/boot.log")" = "$before" ] || fail "boot: PCR7 is not computepcr7's"
grep -aq 'trust-vm: raw-foreign rc=0' "$T/boot.log" && fail "the firmware took a dbx update signed by a foreign KEK"
grep -aq 'trust-vm: raw-foreign rc=' "$T/boot.log" || fail "boot: the raw write did not run"
grep -aq 'trust-vm: apply rc=0' "$T/boot.log" || { tail -n 20 "$T/boot.log"; fail "efivars apply --efivarfs failed in the guest"; }
grep -aq 'revoke.auth: dbx (append), signed by .*CN=UEFI KEK: applied' "$T/boot.log" ||
	fail "apply did not report the update"

# --- the NVRAM now --------------------------------------------------------------------
expect_rc 0 trust efivars list "$T/vars.fd" --json
grep -q '"name":"dbx".*CN=UKI Limited' "$T/out" || fail "dbx in NVRAM does not hold the revocation: $(cat "$T/out")"
grep -q "$foreign_hash" "$T/out" && fail "the foreign dbx entry reached the NVRAM"

echo ok
