# shellcheck shell=bash
# test-vm-provisioned.sh: the whole story with the real images of the
# snakeoil keyset (images/build.sh, reused when up to date; in make check a
# copy of the machine tests/images/test-package launched): `trust vm
# launch` provisions (SUDI cert/key into the TPM) and installs (LUKS2 OS
# volume whose passphrase the TPM holds); the first boot's initrd runs
# `trust setup` and the OS reports the SUDI cert issued for this VM's serial
# (CN = serial, issued by the keyset's sudi-ca), the volume opened with the
# TPM-held passphrase, PCR7 locked, the key dropped and a read of the LUKS
# index after setup refused by the TPM; the same OS signed tpm reads the
# admin password only, signed limited gets nothing; unsigned and
# foreign-signed UKIs are refused by the firmware. The first boot is an
# attestation (`trust vm attest`: the OS quotes its PCRs for a fresh nonce,
# bound to its SUDI, verified against the keyset); with an extra db entry in
# its firmware variables it is refused, and the difference named. Then a
# firmware key update on this installed machine, end to end (below), after
# which attestation holds again (the rollout's pcr7data); every boot after
# the first is a stop + start in which the TPM state is kept. Delete leaves
# nothing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/vm-common.sh
. "$(dirname "$0")/vm-common.sh"

command -v mkosi >/dev/null || skip "mkosi is not installed (make deps)"
IMG=$BUILD/images/snakeoil
note "building (or reusing) $IMG"
vm_build_images
for f in vars.fd provision/uki-production.efi install/uki-production.efi os/payload.img \
	os/uki-tpm.efi os/uki-limited.efi os/vmlinuz os/initrd-base.img os/initrd-trust.img; do
	[ -s "$IMG/$f" ] || fail "images/build.sh did not make $IMG/$f"
done

# --- launch: provision + install ---------------------------------------------
vm_launch_or_copy p1 "$IMG" # in make check, test-package's launch
vm_share p1 "$IMG" # for test-disk-swap, before its first start
D=$VMS/p1
serial=$(sed -n 's/^serial=//p' "$D/vm.conf")
openssl verify -CAfile "$KEYS/snakeoil/sudi-ca/cert.pem" "$D/sudi-cert.pem" >/dev/null ||
	fail "the VM's SUDI cert is not issued by the keyset's sudi-ca"
want_subject=$(openssl x509 -in "$D/sudi-cert.pem" -noout -subject -nameopt oneline,-esc_msb)
want_subject=${want_subject#subject=}
case $want_subject in *"CN = $serial"*) ;; *) fail "SUDI subject lacks CN = $serial: $want_subject" ;; esac

# boot_status NAME [PATTERN]: boots the installed OS, waits for its status
# line (or a failure) and, after a status line, for PATTERN too; stops the
# VM. The status line is left in $T/status, the boot's console in $T/boot.
boot_status() {
	local from
	from=$(console_size "$1")
	expect_rc 0 trust vm start "$1"
	for _ in $(seq 900); do
		# whether it runs, before looking: a guest that prints its line and
		# powers off between the look and this check would be missed
		running=yes
		"$TRUST" vm info "$1" | grep -q '^state: *running' || running=no
		tail -c +$((from + 1)) "$VMS/$1/console.log" | tr -d '\r' >"$T/boot"
		if grep -a -m1 -E 'TRUST STATUS:|XXX FAIL XXX|Access Denied' "$T/boot" >"$T/status"; then
			grep -q 'TRUST STATUS: cert=' "$T/status" || break
			[ -z "${2:-}" ] || grep -aq -- "$2" "$T/boot" && break
		fi
		[ $running = yes ] || break
		sleep 1
	done
	# the OS powers off on the power button; the firmware's boot menu
	# after a refusal does not, so that one goes straight to QMP quit
	if grep -q 'Access Denied' "$T/status"; then
		expect_rc 0 trust vm stop "$1" --timeout 0
	else
		expect_rc 0 trust vm stop "$1" --timeout 120
		# a booted OS powers off on the button (no 120 s wait, no kill);
		# the initrd of a refused class powers off on its own
		if grep -q 'TRUST STATUS: cert=' "$T/status"; then
			grep -qx "vm '$1' stopped" "$T/out" || {
				tail -c +$((from + 1)) "$VMS/$1/console.log" | tr -d '\r' | tail -n 15
				fail "$1: the OS did not power off on the button: $(cat "$T/out")"
			}
		fi
	fi
	[ -s "$T/status" ] || { tail -n 30 "$VMS/$1/console.log"; fail "$1: no status line"; }
	note "$1: $(cat "$T/status")"
}

# attest_status NAME: `trust vm attest NAME` (which boots and stops the VM)
# verifies; the boot's console and status line as boot_status leaves them.
attest_status() {
	local from
	from=$(console_size "$1")
	expect_rc 0 trust vm attest "$1"
	grep -Eq "^vm '$1': verified: serial $serial, product [0-9a-f-]{36}, boot class production \(PCR7 locked by setup\)$" \
		"$T/out" || fail "$1: vm attest said: $(cat "$T/out")"
	[ ! -s "$T/err" ] || fail "$1: vm attest printed: $(cat "$T/err")"
	note "$1: $(tail -n 1 "$T/out")"
	tail -c +$((from + 1)) "$VMS/$1/console.log" | tr -d '\r' >"$T/boot"
	grep -a -m1 'TRUST STATUS:' "$T/boot" >"$T/status" || fail "$1: no status line"
	grep -aq 'TRUST ATTEST END' "$T/boot" || fail "$1: no attestation on the console"
	assert_no_vm_processes
}

check_released() {
	grep -q 'TRUST STATUS:' "$T/status" || fail "$1: $(cat "$T/status")"
	grep -qF "cert=\"$want_subject\"" "$T/status" ||
		fail "$1: the guest's server.crt is not the VM's SUDI cert ($want_subject): $(cat "$T/status")"
	grep -q ' volume=opened' "$T/status" || fail "$1: OS volume not opened from the TPM passphrase"
	grep -q ' pcr7=locked' "$T/status" || fail "$1: PCR7 not locked after setup"
	grep -q ' luks-key=dropped' "$T/status" || fail "$1: LUKS key left in the keyring"
	# the initrd's read of the OS passphrase index after setup: refused by the TPM
	grep -q ' luks-read=refused' "$T/status" || fail "$1: LUKS index not refused after setup"
	# the OS's own event log is the keyset's production boot
	grep -q ' eventlog=match' "$T/status" || fail "$1: the event log does not match the keyset"
	# the initrd's tpm load-key moved the SUDI key into the TPM
	grep -q ' sudi-key=tpm' "$T/status" || fail "$1: the SUDI key is not held by the TPM"
}

# --- first boot: an attestation ---------------------------------------------
attest_status p1
check_released "first boot"
assert_no_vm_processes

# An extra db entry in the machine's firmware (an authenticated append, as
# the KEK holder can make): PCR7 is no value of the keyset, setup refuses
# and powers off, so the OS never answers; vm attest says so and names the
# entry. The variables are then put back.
cp "$D/OVMF_VARS.fd" "$T/vars.orig"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/x.key" -out "$T/x.pem" \
	-subj /CN=extra-db-entry -days 1 2>/dev/null || fail "openssl req"
expect_rc 0 trust efivars sign-update --keyset snakeoil --var db --append --output "$T/x.auth" \
	"$T/x.pem"
expect_rc 0 trust efivars apply "$T/x.auth" --vars "$D/OVMF_VARS.fd"
expect_rc 1 trust vm attest p1
grep -q "^trust: vm 'p1': not attested: the boot failed before the OS could answer: XXX FAIL XXX trust setup (exit 1): .*does not match any signed policy" \
	"$T/err" || fail "extra db entry: $(cat "$T/err")"
grep -q "^trust: vm 'p1': its firmware variables differ from keyset 'snakeoil''s: db: the firmware holds 1 entry the keyset does not predict: x509 /CN=extra-db-entry" \
	"$T/err" || fail "extra db entry not named: $(cat "$T/err")"
note "extra db entry: $(grep 'differ from' "$T/err")"
assert_no_vm_processes
cp "$T/vars.orig" "$D/OVMF_VARS.fd"

# --- security matrix: the same OS, signed otherwise, on the same machine ------
sfdisk -d "$D/os.img" >"$T/pt" || fail "the installed disk has no partition table"
off=$(part_start "$T/pt" esp)
[ -n "$off" ] || fail "no partition named esp on the installed disk: $(cat "$T/pt")"
cp "$D/os.img" "$T/os.orig" --sparse=always
boot_as() { # boot_as UKI: the installed disk with UKI as the firmware's boot path
	cp --sparse=always "$T/os.orig" "$D/os.img"
	mcopy -o -i "$D/os.img@@$((off * 512))" "$1" ::/EFI/BOOT/BOOTX64.EFI ||
		fail "cannot replace BOOTX64.EFI"
	boot_status p1
}
# tpm-signed (maintenance): setup refused, the TPM refuses the luks index but
# gives the admin password (which the TPM took as the owner's), then locks
boot_as "$IMG/os/uki-tpm.efi"
grep -q 'TRUST STATUS: setup=refused luks-read=refused admin-password=read locked=yes' \
	"$T/status" || fail "tpm-signed OS: $(cat "$T/status")"
# limited-signed: nothing at all
boot_as "$IMG/os/uki-limited.efi"
grep -q 'TRUST STATUS: setup=refused luks-read=refused admin-password=refused locked=yes' \
	"$T/status" || fail "limited-signed OS: $(cat "$T/status")"
"$TRUST" uki build --kernel "$IMG/os/vmlinuz" --initrd "$IMG/os/initrd-base.img" \
	--initrd "$IMG/os/initrd-trust.img" --cmdline "@$IMG/os/cmdline.txt" \
	--output "$T/unsigned.efi" >/dev/null || fail "uki build failed"
boot_as "$T/unsigned.efi"
grep -q 'Access Denied' "$T/status" || fail "unsigned OS not refused: $(cat "$T/status")"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/f.key" -out "$T/f.pem" -subj /CN=foreign \
	-days 1 2>/dev/null
"$TRUST" sign efi --key "$T/f.key" --cert "$T/f.pem" --output "$T/foreign.efi" "$T/unsigned.efi" \
	>/dev/null || fail "sign efi failed"
boot_as "$T/foreign.efi"
grep -q 'Access Denied' "$T/status" || fail "foreign-signed OS not refused: $(cat "$T/status")"

# --- a firmware key update on this machine (issue 13) -------------------------
# The keyset signs a dbx update that revokes uki-limited and rolls it out:
# pcr7data entries for each class's post-update PCR7 next to the old ones,
# shipped in a new production UKI (the os UKI with that pcr7data over its
# own, as an image rebuild would ship it). The machine boots it with the
# update staged on its ESP: setup releases (the pre-update entries) and
# trust-update.service applies the update through efivarfs, while a payload
# signed by another keyset's KEK is refused. On the next boot PCR7 is what
# `computepcr7 --update` predicted and setup still releases (the rollout
# entries); a limited-signed UKI is refused by the firmware. Then the policy
# version bump: the old PCR7 opens nothing on this machine's TPM, and the
# machine boots and releases with the re-signed entries.
for tool in tpm2_pcrextend tpm2_nvwrite; do
	command -v $tool >/dev/null || fail "$tool is not installed (tpm2-tools: make deps)"
done
KS=$KEYS/snakeoil
expect_rc 0 trust efivars sign-update --keyset snakeoil --var dbx --append \
	--output "$T/revoke.auth" "$KS/uki-limited/cert.pem"
expect_rc 0 trust keyset add foreign
expect_rc 0 trust efivars sign-update --keyset foreign --var dbx --append \
	--output "$T/foreign.auth" "sha256:$(printf '%064d' 7)"
expect_rc 0 trust computepcr7 snakeoil
before=$(sed -n 's/^uki-production: //p' "$T/out")
expect_rc 0 trust computepcr7 snakeoil --update "$T/revoke.auth"
after=$(sed -n 's/^uki-production: //p' "$T/out")
expect_rc 0 trust keyset rollout snakeoil "$T/revoke.auth"
grep -qx "uki-production: $after" "$T/out" || fail "rollout: $(cat "$T/out")"

# ship_uki OUT: the os image's production UKI with the keyset's pcr7data now
ship_uki() {
	rm -rf "$T/ship" && mkdir "$T/ship" && cp -R "$KS/pcr7data" "$T/ship/pcr7data"
	(cd "$T/ship" && find . | cpio -o -H newc --quiet) >"$T/pcr7data.cpio" || fail "cpio failed"
	"$TRUST" uki build --kernel "$IMG/os/vmlinuz" --initrd "$IMG/os/initrd-base.img" \
		--initrd "$IMG/os/initrd-trust.img" --initrd "$T/pcr7data.cpio" \
		--cmdline "@$IMG/os/cmdline.txt" --output "$T/ship.efi" >/dev/null || fail "uki build failed"
	expect_rc 0 trust sign efi --keyset snakeoil --class production --output "$1" "$T/ship.efi"
}
esp() { echo "$D/os.img@@$((off * 512))"; }
ship_uki "$T/rollout.efi"
cp --sparse=always "$T/os.orig" "$D/os.img"
mcopy -o -i "$(esp)" "$T/rollout.efi" ::/EFI/BOOT/BOOTX64.EFI || fail "cannot install the UKI"
mmd -i "$(esp)" ::/EFI/trust ::/EFI/trust/updates || fail "mmd failed"
mcopy -i "$(esp)" "$T/revoke.auth" "$T/foreign.auth" ::/EFI/trust/updates/ || fail "cannot stage"

# initrd_pcr7: the PCR7 the firmware measured, as the initrd printed it
initrd_pcr7() { sed -n 's/.*trust-initrd: pcr7 \([0-9A-Fa-f]\{64\}\).*/\1/p' "$T/boot" | tr 'A-F' 'a-f'; }
boot_status p1 'TRUST UPDATE: revoke.auth'
check_released "boot with the update staged"
[ "$(initrd_pcr7)" = "$before" ] || fail "PCR7 before the update: $(initrd_pcr7), not $before"
grep -aq 'TRUST UPDATE: revoke.auth: applied' "$T/boot" ||
	fail "the OS did not apply the update: $(grep -a 'TRUST UPDATE' "$T/boot")"
grep -aq 'TRUST UPDATE: foreign.auth: refused: .*the signer is not a PK or KEK' "$T/boot" ||
	fail "the foreign payload: $(grep -a 'TRUST UPDATE: foreign' "$T/boot")"
note "$(grep -a 'TRUST UPDATE:' "$T/boot" | sed 's/.*TRUST UPDATE/TRUST UPDATE/' | paste -sd';')"
mdir -b -i "$(esp)" ::/EFI/trust/updates >"$T/staged" || fail "mdir failed"
grep -q 'FOREIGN.AUTH\|foreign.auth' "$T/staged" && ! grep -qi 'revoke.auth' "$T/staged" ||
	fail "the ESP should keep only the refused payload: $(cat "$T/staged")"
mdel -i "$(esp)" ::/EFI/trust/updates/foreign.auth || fail "mdel failed"
expect_rc 0 trust efivars list "$D/OVMF_VARS.fd" --json
grep -q '"name":"dbx".*CN=UKI Limited' "$T/out" || fail "the machine's dbx lacks the revocation"
grep -q "$(printf '%064d' 7)" "$T/out" && fail "the foreign entry reached the machine's dbx"

attest_status p1
check_released "boot after the update"
[ "$(initrd_pcr7)" = "$after" ] ||
	fail "PCR7 after the update: $(initrd_pcr7), computepcr7 --update said $after"
note "PCR7 after the dbx update: $after, as predicted; released by the rollout entries"

mcopy -o -i "$(esp)" "$IMG/os/uki-limited.efi" ::/EFI/BOOT/BOOTX64.EFI || fail "mcopy failed"
boot_status p1
grep -q 'Access Denied' "$T/status" || fail "limited-signed OS after the revocation: $(cat "$T/status")"

# The policy version bump, as the owner does it (the admin password from a
# tpm-class boot), on this machine's TPM while it is off: PCR7 is replayed
# from `computepcr7 --events` (the firmware can no longer measure the old
# value: its dbx has changed). check-locked exits 0 when every read is
# refused, 3 when one is possible.
tpm_replay() { # tpm_replay CLASS [--update F]: a "boot" of this machine's TPM
	pcr7_replay "$D/tpm" snakeoil --class "$@"
}
tpm_replay production
expect_rc 3 trust tpm check-locked --pcr7data "$KS/pcr7data"
tpm_replay tpm --update "$T/revoke.auth"
expect_rc 0 trust tpm admin-password --pcr7data "$KS/pcr7data" --output "$T/admin"
printf %s "$(cat "$T/admin")" >"$T/admin.pw" # (tpm2-tools keeps a newline)
printf 0002 | tpm2_nvwrite -C o -P "file:$T/admin.pw" -i- 0x01500020 >/dev/null ||
	fail "bumping the policy version"
expect_rc 0 trust keyset rollout snakeoil "$T/revoke.auth" --policy-version 0002
tpm_replay production
expect_rc 0 trust tpm check-locked --pcr7data "$KS/pcr7data"
tpm_replay production --update "$T/revoke.auth"
expect_rc 3 trust tpm check-locked --pcr7data "$KS/pcr7data"
stop_swtpm
note "after the bump the pre-update PCR7 opens nothing, the post-update one does"
ship_uki "$T/bumped.efi"
mcopy -o -i "$(esp)" "$T/bumped.efi" ::/EFI/BOOT/BOOTX64.EFI || fail "mcopy failed"
boot_status p1
check_released "boot after the policy version bump"

# --- delete -------------------------------------------------------------------
expect_rc 0 trust vm delete p1
[ -z "$(ls -A "$VMS")" ] || fail "delete left: $(ls -A "$VMS")"
assert_no_vm_processes
echo ok
