# shellcheck shell=bash
# vm-common.sh: sourced by tests/vm/test-vm-*.sh after ../lib.sh. Checks
# that QEMU/OVMF/swtpm are there, installs the snakeoil keyset, and makes
# sure that every VM the test launched is stopped and every QEMU/swtpm it
# started is gone when the test ends, also when it fails: `trust vm delete`
# for each VM, then a kill by pid of anything still running in the test's
# state tree (found through /proc/PID/cwd, which is the VM's directory).
for tool in qemu-system-x86_64 swtpm mkfs.vfat mcopy cpio sfdisk openssl; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
done
[ -r /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || skip "OVMF is not installed (make deps)"
[ "$(id -u)" = 0 ] || skip "building the busybox initrd needs root (mknod /dev/console)"

VMS=$XDG_STATE_HOME/machine/trust/vms

# vm_pids: pids of live (non-zombie) processes whose cwd is in the state tree.
vm_pids() {
	local p cwd st
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		case $cwd in "$XDG_STATE_HOME"/*) ;; *) continue ;; esac
		st=$(sed 's/.*) \(.\).*/\1/' "$p/stat" 2>/dev/null) || continue
		[ "$st" = Z ] || echo "${p#/proc/}"
	done
}

_vm_cleanup() {
	local n p
	if [ -d "$VMS" ]; then
		for n in "$VMS"/*; do
			[ -d "$n" ] && "$TRUST" vm delete "${n##*/}" >/dev/null 2>&1
		done
	fi
	for p in $(vm_pids); do kill -9 "$p" 2>/dev/null || true; done
}
on_exit _vm_cleanup

# assert_no_vm_processes: fails if any QEMU/swtpm of this test still runs.
assert_no_vm_processes() {
	local left
	left=$(vm_pids)
	[ -z "$left" ] || fail "processes left running: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-60; echo; done)"
}

# console_size NAME: the console log's size now, to wait for new output only.
console_size() { stat -c %s "$VMS/$1/console.log" 2>/dev/null || echo 0; }

# wait_console NAME PATTERN SECONDS [FROM]: waits for PATTERN in the VM's
# console log, in what was written after byte FROM (default 0).
wait_console() {
	local log=$VMS/$1/console.log from=${4:-0}
	for _ in $(seq $(($3 * 2))); do
		tail -c +$((from + 1)) "$log" 2>/dev/null | grep -aq -- "$2" && return 0
		sleep 0.5
	done
	echo "--- console of $1"; tail -n 30 "$log" 2>/dev/null
	fail "vm $1: no '$2' on the console within $3 s"
}

expect_rc 0 trust keyset add snakeoil

# fake_images DIR [MODE]: busybox images signed with the snakeoil keyset.
fake_images() {
	TRUST=$TRUST KEYSET=snakeoil bash "$TOP/tests/vm/fake-images.sh" "$@" ||
		fail "fake-images.sh $* failed"
}
