#!/bin/bash
# bench-boot.sh: where a developer's wait goes, in one run on this machine.
#
#   bare boot:  OVMF (snakeoil PK/KEK/db, Secure Boot on) -> a signed UKI of
#               the host kernel -> a busybox init that prints PCR7 and powers
#               off (vm/busybox-initrd.sh): the emulator's floor for one boot.
#   launch:     `trust vm launch` with the snakeoil images: prepare, then
#               provision and install on the host (its own progress lines).
#   first boot: `trust vm start` until the OS's TRUST STATUS line.
#   launch --in-guest: the hardware path, for comparison: the provisioning
#               boot and the install boot.
#
# Each boot of the real images is split at the guest's own clock: the
# images' initrds print "trust-phase: NAME SECONDS-SINCE-KERNEL-START"
# (images/initrd-lib.sh), the OS's status line carries journald's
# "[ SECONDS]". So firmware (+ the stub, + QEMU's start and exit) is the
# boot's wall time minus the guest time of its last line; kernel = until the
# initrd's init; initrd = init until power-off or switch-root; userspace =
# switch-root until the status line; copy = the installer's partitioning and
# LUKS2 format plus both copies. Prints launch + first boot as a ratio to the
# bare boot (issue 17's goal: <= 3.5x), for both launches.
# TRUST_BENCH_BOOT=no skips it.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export TRUST=$BUILD/trust
if [ "${TRUST_BENCH_BOOT:-yes}" = no ]; then
	echo "boot: skipped (TRUST_BENCH_BOOT=no)"
	exit 0
fi
for tool in qemu-system-x86_64 swtpm mkosi mkfs.vfat mcopy; do
	command -v $tool >/dev/null || { echo "boot: $tool missing, skipped"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "boot: needs root, skipped"; exit 0; }
kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
[ -r "$kernel" ] || { echo "boot: no readable kernel in /boot, skipped"; exit 0; }
# shellcheck source=tests/vm/lib.sh
. "$TOP/tests/vm/lib.sh"
VMS=$XDG_STATE_HOME/machine/trust/vms
on_exit "\"$TRUST\" vm delete bench >/dev/null 2>&1; \"$TRUST\" vm delete bench-guest >/dev/null 2>&1"

IMG=$BUILD/images/snakeoil
# (the repository's keysets/snakeoil, as make images builds them)
mkdir -p "$T/no-keysets"
XDG_DATA_HOME=$T/no-keysets BUILD=$BUILD TRUST=$TRUST "$TOP/images/build.sh" snakeoil default \
	>"$T/images.log" 2>&1 || { tail -n 20 "$T/images.log"; echo "boot: images/build.sh failed"; exit 1; }
"$TRUST" keyset add snakeoil >/dev/null
vm_accel >/dev/null
VM_MEMORY=2048 # as trust vm runs its machines

# --- bare boot -----------------------------------------------------------------
cat >"$T/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
read -r up rest </proc/uptime
echo "trust-phase: init $up"
i=0
while [ ! -r /sys/class/tpm/tpm0/pcr-sha256/7 ] && [ $i -lt 50 ]; do
	/bin/busybox sleep 0.1
	i=$((i + 1))
done
echo "trust-vm: pcr7=$(/bin/busybox cat /sys/class/tpm/tpm0/pcr-sha256/7 2>/dev/null || echo none)"
/bin/busybox poweroff -f
EOF
"$TOP/vm/busybox-initrd.sh" "$T/initrd.cpio" "$T/init" >/dev/null
"$TRUST" uki build --kernel "$kernel" --initrd "$T/initrd.cpio" --cmdline "console=ttyS0 quiet panic=-1" \
	--output "$T/bare.efi" >/dev/null
"$TRUST" sign efi --keyset snakeoil --class production --output "$T/bare-signed.efi" "$T/bare.efi" >/dev/null
"$TRUST" efivars enroll --keyset snakeoil --output "$T/vars.fd" >/dev/null
vm_esp "$T/esp.img" "$T/bare-signed.efi"
s=$EPOCHREALTIME
vm_boot "$T/bare.log" "$T/vars.fd" "$T/esp.img" >/dev/null
e=$EPOCHREALTIME
[ "$VM_RESULT" = expected ] || { tail -n 20 "$T/bare.log"; echo "boot: bare boot $VM_RESULT"; exit 1; }
bare=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')
bare_init=$(tr -d '\r' <"$T/bare.log" | sed -n 's/^trust-phase: init \([0-9.]*\)$/\1/p')

# --- launch (on the host) and first boot; launch --in-guest ----------------------
# launch_timed NAME [OPTION]: `trust vm launch`; its wall time in $launch
launch_timed() {
	local s e
	s=$EPOCHREALTIME
	"$TRUST" vm launch "$1" --project snakeoil:default --images "$IMG" ${2:+"$2"} >"$T/launch-$1.out" 2>&1 ||
		{ cat "$T/launch-$1.out"; echo "boot: vm launch $1 ${2:-} failed"; exit 1; }
	e=$EPOCHREALTIME
	launch=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')
}
launch_timed bench
launch_host=$launch
LOG=$VMS/bench/console.log
from=$(stat -c %s "$LOG")
s=$EPOCHREALTIME
"$TRUST" vm start bench >/dev/null
status=
for _ in $(seq 600); do
	status=$(tail -c +$((from + 1)) "$LOG" | tr -d '\r' | grep -a -m1 -E 'TRUST STATUS:|XXX FAIL XXX') && break
	sleep 0.1
done
e=$EPOCHREALTIME
"$TRUST" vm stop bench --timeout 120 >/dev/null || true
case $status in *"TRUST STATUS:"*) ;; *) tail -n 20 "$LOG"; echo "boot: no status line: $status"; exit 1 ;; esac
first=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')
tr -d '\r' <"$LOG" >"$T/console-bench"
launch_timed bench-guest --in-guest
launch_guest=$launch
tr -d '\r' <"$VMS/bench-guest/console.log" >"$T/console-bench-guest"

# secs VM PHASE: the seconds of a progress line of `trust vm launch VM`
secs() { sed -n "s/^\(.*\) ok *\([0-9.]*\)s.*/\1 \2/p" "$T/launch-$1.out" | awk -v p="$2" '$1 == p { print $2 }'; }
# at VM BOOT NAME: the guest time of trust-phase NAME in the console section
# BOOT ("=== trust vm: provision|install|start ===", vm_console_mark) of VM
at() {
	awk -v want="$2" -v name="$3" '
		/^=== trust vm: / { boot = $4 }
		boot == want && $1 == "trust-phase:" && $2 == name { print $3; exit }' "$T/console-$1"
}
status_at=$(sed -n 's/^\[ *\([0-9.]*\)\] trust-status.*TRUST STATUS:.*/\1/p' "$T/console-bench" | tail -n 1)
report() { # report LABEL WALL KERNEL INITRD_END [USERSPACE_END]
	awk -v n="$1" -v w="$2" -v k="$3" -v ie="$4" -v ue="${5:-}" 'BEGIN {
		last = ue != "" ? ue : ie
		printf "boot: %-11s %6.1f s  firmware+stub+qemu %5.1f s, kernel %5.1f s, initrd %5.1f s", n, w, w - last, k, ie - k
		if (ue != "") printf ", userspace %5.1f s", ue - ie
		printf "\n"
	}'
}
note_missing() { echo "boot: (no trust-phase lines in the $1 boot: images older than images/initrd-lib.sh's phase?)"; }
ratio() { awk -v l="$2" -v f="$first" -v b="$bare" -v n="$1" 'BEGIN {
	printf "boot: %s + first boot %.1f s = %.2fx the bare boot (%.1f s; goal: <= 3.5x)\n", n, l + f, (l + f) / b, b
}'; }
echo "boot: accelerator $VM_ACCEL, $(nproc) CPUs"
printf 'boot: bare        %6.1f s  firmware+stub+qemu %5.1f s, kernel until init %s s\n' "$bare" \
	"$(awk -v w="$bare" -v k="${bare_init:-0}" 'BEGIN { print w - k }')" "${bare_init:-?}"
printf 'boot: launch      %6.1f s  on the host (prepare %s s, provision %s s, install %s s)\n' "$launch_host" \
	"$(secs bench prepare)" "$(secs bench provision)" "$(secs bench install)"
if [ -n "$(at bench start switch-root)" ] && [ -n "$status_at" ]; then
	report "first boot" "$first" "$(at bench start init)" "$(at bench start switch-root)" "$status_at"
else
	note_missing "first"
	printf 'boot: first boot  %6.1f s\n' "$first"
fi
prov=$(secs bench-guest provision)
inst=$(secs bench-guest install)
printf 'boot: launch --in-guest %6.1f s  (prepare %s s, provision %s s, install %s s)\n' "$launch_guest" \
	"$(secs bench-guest prepare)" "$prov" "$inst"
if [ -n "$(at bench-guest provision init)" ] && [ -n "$(at bench-guest install copied)" ]; then
	report provision "$prov" "$(at bench-guest provision init)" "$(at bench-guest provision poweroff)"
	report install "$inst" "$(at bench-guest install init)" "$(at bench-guest install poweroff)"
	awk -v a="$(at bench-guest install copy)" -v b="$(at bench-guest install copied)" \
		'BEGIN { printf "boot:   (install copy: partitions, LUKS2 format, ESP and root: %.1f s)\n", b - a }'
else
	note_missing "launch --in-guest"
fi
ratio "launch (on the host)" "$launch_host"
ratio "launch --in-guest" "$launch_guest"
