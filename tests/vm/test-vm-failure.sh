# shellcheck shell=bash
# test-vm-failure.sh: a failed or interrupted `trust vm launch` says which
# phase failed, shows the console tail, and leaves nothing behind (no state
# directory, no temporary directory, no QEMU or swtpm) unless
# --keep-on-failure; the firmware refusing an unsigned image is reported as
# such; the disk that carried the SUDI key never survives a failure.
# Real OVMF + swtpm + QEMU with busybox images (fake-images.sh).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/vm-common.sh
. "$(dirname "$0")/vm-common.sh"

nothing_left() {
	[ -z "$(ls -A "$VMS" 2>/dev/null)" ] || fail "$1: left in $VMS: $(ls -A "$VMS")"
	assert_no_vm_processes
}

# wait_bounded PID SECONDS: `wait PID`, but fails instead of waiting for ever.
wait_bounded() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "pid $1 still runs after $2 s: $(tr '\0' ' ' <"/proc/$1/cmdline")"
	wait "$1"
}

# --- the installer reports XXX FAIL XXX -------------------------------------
note "installer failure"
fake_images "$T/fail" fail-install
expect_rc 1 trust vm launch bad --project snakeoil:default --timeout 300 --images "$T/fail" --in-guest
grep -q "^trust: vm 'bad': install failed: the guest reported 'XXX FAIL XXX'" "$T/err" ||
	fail "no phase in the error: $(cat "$T/err")"
grep -q "XXX FAIL XXX installer told to fail" "$T/err" || fail "no console tail: $(cat "$T/err")"
grep -Eq "^provision +ok" "$T/out" || fail "provision progress missing: $(cat "$T/out")"
nothing_left "failed launch"

# --- unsigned provisioning image: the firmware refuses it --------------------
note "unsigned provisioning image"
fake_images "$T/unsigned" unsigned
expect_rc 1 trust vm launch bad --project snakeoil:default --timeout 300 --images "$T/unsigned" --in-guest --keep-on-failure
grep -q "provision failed: the firmware refused .*Access Denied" "$T/err" ||
	fail "refusal not reported: $(cat "$T/err")"
[ -d "$VMS/bad" ] || fail "--keep-on-failure did not keep the VM"
[ ! -e "$VMS/bad/trust-data.img" ] || fail "--keep-on-failure kept the SUDI disk"
! grep -rlq "PRIVATE KEY" "$VMS/bad" 2>/dev/null || fail "--keep-on-failure kept a private key"
assert_no_vm_processes
expect_rc 0 trust vm info bad
expect_rc 0 trust vm delete bad
nothing_left "delete after a kept failure"

# --- signed by a key outside the keyset: refused as well ---------------------
note "foreign-signed image"
fake_images "$T/foreign" foreign
expect_rc 1 trust vm launch bad --project snakeoil:default --timeout 300 --images "$T/foreign" --in-guest
grep -q "provision failed: the firmware refused .*Access Denied" "$T/err" ||
	fail "foreign signature not refused: $(cat "$T/err")"
nothing_left "foreign-signed image"

# --- interrupted launch: SIGTERM while the provisioning image boots ---------
# The provisioning image never finishes, so the signal lands in that phase
# however slow the machine is.
note "SIGTERM during launch"
fake_images "$T/hang" hang-provision
# wait_booted PID: until the launch's provisioning guest says it hangs
wait_booted() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qs "fake: provision hangs" "$VMS"/.tmp-*/console.log && return 0
		kill -0 "$1" 2>/dev/null || fail "the launch ended early: $(cat "$T/intr.out")"
		sleep 0.1
	done
	fail "the provisioning guest did not boot within 300 s: $(cat "$T/intr.out")"
}
"$TRUST" vm launch intr --project snakeoil:default --timeout 300 --images "$T/hang" --in-guest >"$T/intr.out" 2>&1 &
pid=$!
track_pid $pid
wait_booted $pid
[ -n "$(vm_pids)" ] || fail "no QEMU/swtpm while the guest runs: $(cat "$T/intr.out")"
kill -TERM $pid
rc=0
wait_bounded $pid 120 || rc=$?
[ $rc = 1 ] || fail "interrupted launch exited $rc: $(cat "$T/intr.out")"
grep -q "provision failed: interrupted" "$T/intr.out" || fail "$(cat "$T/intr.out")"
nothing_left "interrupted launch"

# --- killed launch (SIGKILL): QEMU and swtpm die with it, the next launch
# clears the temporary directory -------------------------------------------
note "SIGKILL during launch"
"$TRUST" vm launch killed --project snakeoil:default --timeout 300 --images "$T/hang" --in-guest >"$T/intr.out" 2>&1 &
pid=$!
track_pid $pid
wait_booted $pid
kill -KILL $pid
wait_bounded $pid 10 2>/dev/null || true
for _ in $(seq 100); do
	[ -z "$(vm_pids)" ] && break
	sleep 0.1
done
assert_no_vm_processes
# the SUDI disk the killed launch left: held open across the cleanup, so its
# contents can be read after the unlink
data=$(ls "$VMS"/.tmp-killed-*/trust-data.img 2>/dev/null) ||
	fail "a SIGKILLed launch left no SUDI disk (nothing to test): $(ls -A "$VMS")"
exec 9<"$data"
grep -aq "PRIVATE KEY" "/proc/$$/fd/9" || fail "$data holds no private key (nothing to test)"
expect_error 1 "images directory .*/nope: No such file or directory" \
	trust vm launch x --project snakeoil:default --timeout 300 --images "$T/nope"
expect_rc 0 trust vm list
[ -z "$(ls -A "$VMS")" ] || fail "left after SIGKILL: $(ls -A "$VMS")"
[ "$(tr -d '\0' <"/proc/$$/fd/9" | wc -c)" = 0 ] ||
	fail "the killed launch's SUDI disk was removed without being overwritten"
exec 9<&-
echo ok
