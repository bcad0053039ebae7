# shellcheck shell=bash
# tests/vm/lib.sh: QEMU + swtpm + OVMF harness shared by the VM suites (and
# reusable by anyone booting an EFI image under test). Source it after
# nothing else: it sources tests/lib.sh (temp XDG home, cleanup trap).
#
#   vm_require                 skip unless QEMU, swtpm, OVMF and mtools exist
#   vm_accel                   sets VM_ACCEL to kvm or tcg (probed once per test
#                              file) and prints it
#   vm_esp IMG EFI             FAT image holding EFI as \EFI\BOOT\BOOTX64.EFI
#   vm_boot LOG VARS ESP [QEMU ARGS...]
#                              boots OVMF (Secure Boot code) with a fresh swtpm
#                              (none if VM_TPM=0), ESP as a virtio disk (none if
#                              ""), stops as soon as LOG shows $VM_EXPECT (an
#                              extended regex) or "Access Denied", or after
#                              $VM_TIMEOUT seconds; sets VM_RESULT to
#                              expected|denied|timeout|exited; with VM_TPM_DIR
#                              set, the swtpm state lives there and carries
#                              over to the next boot (one machine)
#   vm_log_pcr7 LOG            the PCR7 the guest printed (lower-case hex)
#
# Every QEMU and swtpm run is bounded and killed by PID; nothing is left over.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
OVMF_VARS_TEMPLATE=${OVMF_VARS_TEMPLATE:-/usr/share/OVMF/OVMF_VARS_4M.fd}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_EXPECT=${VM_EXPECT:-'trust-vm: pcr7='}
VM_MEMORY=${VM_MEMORY:-1024}
VM_TPM=${VM_TPM:-1}
VM_DIR=$T/vm
mkdir -p "$VM_DIR"

vm_require() {
	local t
	for t in qemu-system-x86_64 swtpm mkfs.vfat mmd mcopy; do
		command -v "$t" >/dev/null || skip "$t is not installed (make deps)"
	done
	[ -r "$OVMF_CODE" ] || skip "no OVMF firmware at $OVMF_CODE (make deps)"
	[ -r "$OVMF_VARS_TEMPLATE" ] || skip "no OVMF vars template at $OVMF_VARS_TEMPLATE"
}

# _vm_wait_file PATH SECONDS: waits for PATH to exist.
_vm_wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# _vm_kill PID: TERM, then KILL after 3 s; reaps it.
_vm_kill() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		_ours "$pid" || break
		sleep 0.1
	done
	! _ours "$pid" || kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# vm_accel: /dev/kvm may exist yet be unable to run SMM firmware (nested
# virtualisation often lacks it): start OVMF under KVM and require BdsDxe
# to speak within 30 s, else use TCG. TRUST_VM_ACCEL=kvm|tcg overrides.
vm_accel() {
	local pid i vars=$VM_DIR/probe-vars.fd log=$VM_DIR/probe.log
	if [ -n "${TRUST_VM_ACCEL:-}" ]; then
		VM_ACCEL=$TRUST_VM_ACCEL
	fi
	if [ -n "${VM_ACCEL:-}" ]; then
		echo "$VM_ACCEL"
		return
	fi
	VM_ACCEL=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		cp "$OVMF_VARS_TEMPLATE" "$vars"
		: >"$log"
		timeout 40 qemu-system-x86_64 -accel kvm -machine q35,smm=on -m 256 -smp 1 \
			-global driver=cfi.pflash01,property=secure,value=on \
			-drive if=pflash,format=raw,unit=0,file="$OVMF_CODE",readonly=on \
			-drive if=pflash,format=raw,unit=1,file="$vars" \
			-display none -vga none -nodefaults -net none -no-reboot \
			-serial file:"$log" </dev/null >"$VM_DIR/probe.out" 2>&1 &
		pid=$!
		track_pid $pid
		for ((i = 0; i < 300; i++)); do
			if grep -aq BdsDxe "$log" 2>/dev/null; then
				VM_ACCEL=kvm
				break
			fi
			kill -0 $pid 2>/dev/null || break
			sleep 0.1
		done
		_vm_kill $pid
	fi
	echo "$VM_ACCEL"
}

# vm_esp IMG EFI: a bare FAT ESP with EFI as the removable-media boot path.
vm_esp() {
	local img=$1 efi=$2 kib
	kib=$((($(stat -c %s "$efi") / 1024 + 8192) / 1024 * 1024))
	rm -f "$img"
	mkfs.vfat -C "$img" $kib >/dev/null || fail "mkfs.vfat $img failed"
	mmd -i "$img" ::/EFI ::/EFI/BOOT || fail "mmd $img failed"
	mcopy -i "$img" "$efi" ::/EFI/BOOT/BOOTX64.EFI || fail "mcopy into $img failed"
}

# vm_boot LOG VARS ESP [QEMU ARGS...]: VARS is used as is (pass a copy).
vm_boot() {
	local log=$1 vars=$2 esp=$3 accel qpid spid='' dir i limit
	local -a extra=()
	shift 3
	[ -n "${VM_ACCEL:-}" ] || vm_accel >/dev/null
	accel=$VM_ACCEL
	if [ -n "${VM_TPM_DIR:-}" ]; then
		dir=$VM_TPM_DIR
		mkdir -p "$dir"
		rm -f "$dir/sock"
	else
		dir=$(mktemp -d "$VM_DIR/tpm.XXXXXX")
	fi
	: >"$log"
	if [ "$VM_TPM" = 1 ]; then
		swtpm socket --tpm2 --tpmstate dir="$dir" --ctrl type=unixio,path="$dir/sock" \
			--terminate >"$dir/swtpm.log" 2>&1 &
		spid=$!
		track_pid $spid
		_vm_wait_file "$dir/sock" 10 || fail "swtpm did not start: $(cat "$dir/swtpm.log")"
		extra+=(-chardev "socket,id=chrtpm,path=$dir/sock" -tpmdev "emulator,id=tpm0,chardev=chrtpm"
			-device "tpm-tis,tpmdev=tpm0")
	fi
	if [ -n "$esp" ]; then
		extra+=(-drive "if=none,id=esp,format=raw,file=$esp" -device "virtio-blk-pci,drive=esp")
	fi

	timeout --kill-after=5 "$VM_TIMEOUT" qemu-system-x86_64 -accel "$accel" \
		-machine q35,smm=on -m "$VM_MEMORY" -smp 1 \
		-global driver=cfi.pflash01,property=secure,value=on -global ICH9-LPC.disable_s3=1 \
		-drive if=pflash,format=raw,unit=0,file="$OVMF_CODE",readonly=on \
		-drive if=pflash,format=raw,unit=1,file="$vars" "${extra[@]}" \
		-display none -vga none -nodefaults -net none -no-reboot \
		-serial file:"$log" "$@" </dev/null >"$log.qemu" 2>&1 &
	qpid=$!
	track_pid $qpid

	VM_RESULT=timeout
	limit=$((VM_TIMEOUT * 5))
	for ((i = 0; i < limit; i++)); do
		if grep -aEq -- "$VM_EXPECT" "$log"; then
			VM_RESULT=expected
			break
		fi
		if grep -aq 'Access Denied' "$log"; then
			VM_RESULT=denied
			break
		fi
		if ! kill -0 $qpid 2>/dev/null; then
			# one last look: QEMU may have flushed the line as it exited
			if grep -aEq -- "$VM_EXPECT" "$log"; then VM_RESULT=expected
			elif grep -aq 'Access Denied' "$log"; then VM_RESULT=denied
			else VM_RESULT=exited; fi
			break
		fi
		sleep 0.2
	done
	_vm_kill $qpid
	[ -n "$spid" ] && _vm_kill "$spid"
	note "boot ($accel): $VM_RESULT after ~$((i / 5)) s"
	[ "$VM_RESULT" = exited ] && note "qemu: $(tail -n 3 "$log.qemu")"
	return 0
}

vm_log_pcr7() {
	grep -aoE 'trust-vm: pcr7=[0-9A-Fa-f]{64}' "$1" | tail -n 1 | cut -d= -f2 | tr 'A-F' 'a-f'
}
