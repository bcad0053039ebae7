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

# vm_build_images: the snakeoil images in $BUILD/images/snakeoil through
# images/build.sh, which rebuilds only the images older than their sources
# (after tests/images, nothing: stale images would test yesterday's initrd);
# its progress lines are printed. It builds from the repository's
# keysets/snakeoil, as tests/images does: the copy this file installs is
# newer than the images and would rebuild them.
vm_build_images() {
	mkdir -p "$T/no-keysets"
	XDG_DATA_HOME=$T/no-keysets BUILD=$BUILD TRUST=$TRUST "$TOP/images/build.sh" snakeoil default \
		>"$T/images.log" 2>&1 ||
		{ tail -n 20 "$T/images.log"; fail "images/build.sh snakeoil failed"; }
	grep -a 'up to date\|done in' "$T/images.log" | sed 's/^/  /'
}

# vm_boot VM LABEL REGEX: starts VM, waits until its console shows a line
# matching REGEX (grep -E) or the VM has stopped, stops it; the console of
# this boot is left in $T/console-LABEL, the matching line in $T/status,
# the seconds it took in BOOT_SECS. Fails if no line matched.
vm_boot() {
	local from start running
	from=$(console_size "$1")
	start=$(date +%s)
	expect_rc 0 trust vm start "$1"
	for _ in $(seq 900); do
		# whether it runs, before looking: a guest that prints its outcome
		# and powers off between the look and this check would be missed
		running=yes
		"$TRUST" vm info "$1" | grep -q '^state: *running' || running=no
		tail -c +$((from + 1)) "$VMS/$1/console.log" | tr -d '\r' | grep -a -m1 -E "$3" >"$T/status" && break
		[ $running = yes ] || break
		sleep 1
	done
	expect_rc 0 trust vm stop "$1" --timeout 120
	tail -c +$((from + 1)) "$VMS/$1/console.log" | tr -d '\r' >"$T/console-$2"
	[ -s "$T/status" ] || { tail -n 30 "$T/console-$2"; fail "$2: no outcome on the console"; }
	BOOT_SECS=$(($(date +%s) - start))
	note "$2 ($BOOT_SECS s): $(cat "$T/status")"
	assert_no_vm_processes
}

expect_rc 0 trust keyset add snakeoil

# fake_images DIR [MODE]: busybox images signed with the snakeoil keyset.
fake_images() {
	TRUST=$TRUST KEYSET=snakeoil bash "$TOP/tests/vm/fake-images.sh" "$@" ||
		fail "fake-images.sh $* failed"
}

# Within one `make check`, tests/run.sh gives the boot lane a directory in
# TRUST_TEST_SHARED and runs tests/images/test-package first: its `trust vm
# launch` of the snakeoil images (with the package's trust) is the one the
# suite checks, and a stopped copy of that fresh machine (disk, firmware
# variables, TPM state, SUDI cert) is kept there. A test that only needs
# such a machine gets a copy instead of a launch of its own (a launch is two
# boots of minutes under TCG). Run alone, or when the images changed since,
# it launches.
#   vm_share NAME IMAGES: keeps the launched, never started VM NAME (unless
#     the machine kept is already one of these images: NAME is its copy)
#   vm_launch_or_copy NAME IMAGES: $VMS/NAME, a launched machine
_vm_share_dir() { [ -n "${TRUST_TEST_SHARED:-}" ] && echo "$TRUST_TEST_SHARED/launched-vm"; }
# the images' identity: any rebuilt file changes it
_vm_images_stamp() { find "$1" -type f -printf '%P %s %T@\n' | sort | sha256sum | cut -d' ' -f1; }
vm_share() {
	local to
	to=$(_vm_share_dir) || return 0
	[ -d "$to" ] && [ "$(cat "$to/.images-stamp")" = "$(_vm_images_stamp "$2")" ] && return 0
	rm -rf "$to" "$to.new"
	cp -a --sparse=always "$VMS/$1" "$to.new" || fail "cannot keep a copy of vm $1 in $to"
	_vm_images_stamp "$2" >"$to.new/.images-stamp"
	mv "$to.new" "$to"
}
vm_launch_or_copy() {
	local from
	from=$(_vm_share_dir) || from=
	if [ -n "$from" ] && [ -d "$from" ] &&
		[ "$(cat "$from/.images-stamp")" = "$(_vm_images_stamp "$2")" ]; then
		mkdir -p "$VMS"
		cp -a --sparse=always "$from" "$VMS/$1" || fail "cannot copy the shared vm"
		rm -f "$VMS/$1/.images-stamp"
		note "vm $1: a copy of the machine tests/images/test-package launched (same serial and TPM)"
		return 0
	fi
	expect_rc 0 trust vm launch "$1" --project snakeoil:default --images "$2" --in-guest
	cat "$T/out"
}
