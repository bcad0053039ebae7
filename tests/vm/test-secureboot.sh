# shellcheck shell=bash
# test-secureboot.sh: the proof of issue 4. OVMF with a keyset's PK/KEK/db
# written by `trust efivars enroll` boots UKIs built by `trust uki build` and
# signed by `trust sign efi` with Secure Boot enabled, and the PCR7 the guest
# reads from its TPM (swtpm) equals `trust computepcr7` for the signing
# class. An unsigned UKI and one signed by a key outside the keyset are
# refused by the firmware. The keyset is an HSM keyset (`keyset add
# --pkcs11`, SoftHSM2): PK, KEK, db and the UKI keys never leave the token.
. "$(dirname "$0")/lib.sh"

vm_require
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$kernel" ] && [ -r "$kernel" ] || skip "no readable kernel in /boot (linux-image-amd64; read as root)"
[ -r /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || skip "no systemd-stub (systemd-boot-efi)"

softhsm_token sbtest
expect_rc 0 trust keyset add --pkcs11 "$P11_URI" sbtest
[ -s "$KEYS/sbtest/uefi-pk/privkey.uri" ] && [ ! -e "$KEYS/sbtest/uki-production/privkey.pem" ] ||
	fail "sbtest's keys are not in the token"
expect_rc 0 trust computepcr7 sbtest
cp "$T/out" "$T/pcr7"
pcr7_of() { sed -n "s/^uki-$1: \([0-9a-f]\{64\}\)\$/\1/p" "$T/pcr7"; }
for c in production tpm limited; do
	[ -n "$(pcr7_of $c)" ] || fail "computepcr7 printed no uki-$c value: $(cat "$T/pcr7")"
done
[ "$(pcr7_of production)" != "$(pcr7_of tpm)" ] && [ "$(pcr7_of tpm)" != "$(pcr7_of limited)" ] ||
	fail "the three classes must predict different PCR7 values"

"$TOP/vm/busybox-initrd.sh" "$T/initrd.cpio" || fail "busybox initrd failed"
expect_rc 0 trust uki build --kernel "$kernel" --initrd "$T/initrd.cpio" \
	--cmdline "console=ttyS0 panic=-1" --output "$T/uki.efi"
expect_rc 0 trust efivars enroll --keyset sbtest --output "$T/vars.fd"
expect_rc 0 trust efivars list "$T/vars.fd"
grep -q 'CN=UKI Production' "$T/out" || fail "db does not list the uki-production cert"

vm_accel >/dev/null
note "accelerator: $VM_ACCEL"

# boot_uki NAME EFI: boots EFI with a fresh copy of the enrolled vars.
boot_uki() {
	cp "$T/vars.fd" "$T/vars-$1.fd"
	vm_esp "$T/esp-$1.img" "$2"
	vm_boot "$T/serial-$1.log" "$T/vars-$1.fd" "$T/esp-$1.img"
}

for c in production tpm limited; do
	expect_rc 0 trust sign efi --keyset sbtest --class $c --output "$T/uki-$c.efi" "$T/uki.efi"
	boot_uki $c "$T/uki-$c.efi"
	log=$T/serial-$c.log
	[ "$VM_RESULT" = expected ] || { tail -n 30 "$log"; fail "$c-signed UKI: boot $VM_RESULT"; }
	grep -aq 'EFI stub: UEFI Secure Boot is enabled' "$log" ||
		{ tail -n 30 "$log"; fail "$c-signed UKI booted without Secure Boot"; }
	got=$(vm_log_pcr7 "$log")
	[ "$got" = "$(pcr7_of $c)" ] || fail "$c: guest PCR7 $got, computepcr7 $(pcr7_of $c)"
	note "$c: Secure Boot enabled, PCR7 $got as predicted"
done

# Refusals: unsigned, and signed by a key the keyset does not hold.
boot_uki unsigned "$T/uki.efi"
[ "$VM_RESULT" = denied ] || { tail -n 20 "$T/serial-unsigned.log"; fail "unsigned UKI: $VM_RESULT, expected Access Denied"; }
grep -aq 'trust-vm:' "$T/serial-unsigned.log" && fail "unsigned UKI ran"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/outside.key" -out "$T/outside.pem" \
	-subj "/CN=Outside Key" -days 30 -addext extendedKeyUsage=codeSigning 2>/dev/null ||
	fail "openssl req failed"
expect_rc 0 trust sign efi --key "$T/outside.key" --cert "$T/outside.pem" --output "$T/uki-outside.efi" "$T/uki.efi"
expect_rc 0 trust verify efi --cert "$T/outside.pem" "$T/uki-outside.efi"
boot_uki outside "$T/uki-outside.efi"
[ "$VM_RESULT" = denied ] || { tail -n 20 "$T/serial-outside.log"; fail "outside-signed UKI: $VM_RESULT, expected Access Denied"; }
grep -aq 'trust-vm:' "$T/serial-outside.log" && fail "outside-signed UKI ran"
echo ok
