# shellcheck shell=bash
# test-vm-lifecycle.sh: `trust vm` end to end against real OVMF (Secure Boot
# on) + swtpm + QEMU with small busybox images (fake-images.sh): launch runs
# provision and install, the guest finds the SUDI cert issued for the VM's
# serial on the trust-data disk, the disk is gone afterwards, start boots
# the installed disk, stop presses the power button (QMP), the TPM state
# survives stop + start, two VMs run side by side, delete leaves nothing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/vm-common.sh
. "$(dirname "$0")/vm-common.sh"

IMG=$T/images
fake_images "$IMG" ok

# --- launch ---------------------------------------------------------------
expect_rc 0 trust vm launch v1 --project snakeoil:default --images "$IMG" --in-guest
cat "$T/out"
for phase in prepare provision install launch; do
	grep -Eq "^$phase +ok +[0-9]+\.[0-9]s" "$T/out" || fail "no progress line for $phase"
done
D=$VMS/v1
serial=$(sed -n 's/^serial=//p' "$D/vm.conf")
[ -n "$serial" ] || fail "no serial in vm.conf"
for f in OVMF_VARS.fd os.img vm.conf sudi-cert.pem console.log tpm/tpm2-00.permall; do
	[ -s "$D/$f" ] || fail "state dir lacks $f"
done
[ "$(stat -c %a "$D")" = 700 ] || fail "state dir is not 0700"
[ ! -e "$D/trust-data.img" ] || fail "the SUDI disk was not detached"
! grep -rlq "PRIVATE KEY" "$D" 2>/dev/null || fail "a private key was left in the state dir"
[ "$(ls -A "$VMS")" = v1 ] || fail "$VMS holds more than v1: $(ls -A "$VMS")"
assert_no_vm_processes

# Secure Boot was on with the keyset's keys: the guest's PCR7 is the one
# computepcr7 predicts for a production-signed UKI (trust vm adds nothing
# that PCR7 measures), and it saw the SUDI cert issued for this serial
grep -aq "UEFI Secure Boot is enabled" "$D/console.log" || fail "Secure Boot was not enabled"
expect_rc 0 trust computepcr7 snakeoil
want=$(sed -n 's/^uki-production: //p' "$T/out")
got=$(grep -a -m1 -o 'pcr7=[0-9A-Fa-f]*' "$D/console.log" | cut -d= -f2 | tr 'A-F' 'a-f')
[ -n "$want" ] || fail "computepcr7 printed no production value"
[ "$got" = "$want" ] || fail "guest PCR7 '$got', computepcr7 production '$want'"
sed -n '/fake: sudi cert begin/,/fake: sudi cert end/p' "$D/console.log" | tr -d '\r' |
	sed -n '/BEGIN CERT/,/END CERT/p' >"$T/guest.pem"
cmp -s "$T/guest.pem" "$D/sudi-cert.pem" || fail "the guest's SUDI cert differs from the issued one"
openssl x509 -in "$T/guest.pem" -noout -subject -nameopt RFC2253 >"$T/subj"
grep -q "CN=$serial" "$T/subj" || fail "SUDI CN is not the serial: $(cat "$T/subj")"
openssl verify -CAfile "$KEYS/snakeoil/sudi-ca/cert.pem" "$T/guest.pem" >/dev/null ||
	fail "the SUDI cert is not issued by the keyset's sudi-ca"

# --- list / info ----------------------------------------------------------
expect_rc 0 trust vm list --json
grep -q "\"name\":\"v1\",\"state\":\"stopped\"" "$T/out" || fail "list --json: $(cat "$T/out")"
expect_rc 0 trust vm info v1 --json
grep -q "\"serial\":\"$serial\"" "$T/out" || fail "info --json: $(cat "$T/out")"
grep -q '"qemu_pid":0' "$T/out" || fail "info --json shows a pid for a stopped vm"

# --- the VM's TPM state, seen from the host: mark it before booting -------
if command -v tpm2_nvdefine >/dev/null; then
	start_swtpm "$D/tpm"
	tpm2_nvdefine 0x1500016 -C o -s 8 -a "ownerread|ownerwrite" >/dev/null
	printf 'trustvm1' | tpm2_nvwrite 0x1500016 -C o -i - >/dev/null
	stop_swtpm
	marked=1
else
	note "tpm2-tools missing: TPM persistence only checked by file"
	marked=0
fi

# --- start / console / stop -------------------------------------------------
expect_rc 0 trust vm start v1
expect_rc 0 trust vm info v1 --json
grep -q '"state":"running"' "$T/out" || fail "info after start: $(cat "$T/out")"
expect_error 1 "vm 'v1' is already running" trust vm start v1
timeout 120 "$TRUST" vm console v1 </dev/null >"$T/console-out" 2>&1 &
cons=$!
track_pid $cons
wait_console v1 "waiting for the power button" 120
grep -aq "data disk absent" "$D/console.log" || fail "the SUDI disk is still attached after launch"
expect_rc 0 trust vm stop v1
grep -qx "vm 'v1' stopped" "$T/out" || fail "stop: $(cat "$T/out")"
grep -aq "fake-os: power button pressed" "$D/console.log" || fail "stop did not press the power button"
wait $cons || fail "vm console did not end with the VM"
grep -aq "fake-os: power button pressed" "$T/console-out" || fail "vm console showed nothing live"
assert_no_vm_processes
if [ -e "$D/qemu.pid" ] || [ -e "$D/swtpm.pid" ]; then fail "pid files left after stop"; fi
expect_rc 0 trust vm stop v1
grep -q "was not running" "$T/out" || fail "second stop: $(cat "$T/out")"

# --- TPM state survives, a second VM side by side ---------------------------
[ -s "$D/tpm/tpm2-00.permall" ] || fail "TPM state lost on stop"
expect_rc 0 trust vm launch v2 --project snakeoil:default --serial vm-two-0002 --images "$IMG" --in-guest
grep -q "^serial=vm-two-0002$" "$VMS/v2/vm.conf" || fail "--serial not used"
cmp -s "$VMS/v1/sudi-cert.pem" "$VMS/v2/sudi-cert.pem" && fail "two VMs share a SUDI cert"
c1=$(console_size v1)
expect_rc 0 trust vm start v1
expect_rc 0 trust vm start v2
wait_console v1 "waiting for the power button" 120 "$c1"
wait_console v2 "waiting for the power button" 120
expect_rc 0 trust vm list
grep -Eq '^v1 +running' "$T/out" || fail "list: $(cat "$T/out")"
grep -Eq '^v2 +running' "$T/out" || fail "list: $(cat "$T/out")"
# the power-button fallback: --timeout 0 goes straight to QMP quit
expect_rc 0 trust vm stop v2 --timeout 0
grep -qx "vm 'v2' stopped (forced: --timeout 0)" "$T/out" || fail "stop --timeout 0: $(cat "$T/out")"
expect_rc 0 trust vm info v1 --json
grep -q '"state":"running"' "$T/out" || fail "stopping v2 stopped v1"
[ "$(grep -ac 'fake-os: booted' "$D/console.log")" = 2 ] || fail "v1 did not boot twice"
expect_rc 0 trust vm stop v1
if [ $marked = 1 ]; then
	# two boots and two stops later, the index written before is still there
	start_swtpm "$D/tpm"
	[ "$(tpm2_nvread 0x1500016 -C o -s 8)" = trustvm1 ] || fail "the VM's TPM state was not kept"
	stop_swtpm
fi

# --- delete -----------------------------------------------------------------
expect_rc 0 trust vm delete v1
expect_rc 0 trust vm delete v2
[ -z "$(ls -A "$VMS")" ] || fail "delete left: $(ls -A "$VMS")"
assert_no_vm_processes
expect_error 1 "vm 'v1' does not exist" trust vm info v1
echo ok
