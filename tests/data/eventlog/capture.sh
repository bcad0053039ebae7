#!/bin/bash
# capture.sh: makes the event log fixtures next to it from real OVMF boots
# (Debian 12's ovmf and kernel, swtpm) of a UKI signed with the snakeoil
# keyset: NAME.bin is /sys/kernel/security/tpm0/binary_bios_measurements as
# the guest read it, NAME.pcr7 the guest's /sys/class/tpm/tpm0/pcr-sha256/7.
#   production, tpm, limited   each class, vars as `efivars enroll` writes them
#   production-dbx             production after a dbx update revoking
#                              uki-limited (dbx-revoke-limited.auth, kept)
# Run as root from the source tree: bash tests/data/eventlog/capture.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/../../vm/lib.sh"
vm_require
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
"$TRUST" keyset add snakeoil >/dev/null
ks=$KEYS/snakeoil

cat >"$T/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t securityfs securityfs /sys/kernel/security
i=0
while [ ! -r /sys/class/tpm/tpm0/pcr-sha256/7 ] && [ $i -lt 50 ]; do
	/bin/busybox sleep 0.1
	i=$((i + 1))
done
echo "trust-vm: pcr7=$(/bin/busybox cat /sys/class/tpm/tpm0/pcr-sha256/7)"
echo "trust-eventlog-begin"
/bin/busybox base64 /sys/kernel/security/tpm0/binary_bios_measurements
echo "trust-eventlog-end"
/bin/busybox poweroff -f
INIT
"$TOP/vm/busybox-initrd.sh" "$T/initrd.cpio" "$T/init" >/dev/null
"$TRUST" uki build --kernel "$kernel" --initrd "$T/initrd.cpio" \
	--cmdline "console=ttyS0 quiet loglevel=0 panic=-1" --output "$T/uki.efi" >/dev/null
"$TRUST" efivars enroll --keyset snakeoil --output "$T/vars.fd"
"$TRUST" efivars sign-update --keyset snakeoil --var dbx --append --timestamp 2026-11-30T00:00:00Z \
	--output "$here/dbx-revoke-limited.auth" "$ks/uki-limited/cert.pem"
cp "$T/vars.fd" "$T/vars-dbx.fd"
"$TRUST" efivars apply "$here/dbx-revoke-limited.auth" --vars "$T/vars-dbx.fd" >/dev/null
VM_EXPECT=trust-eventlog-end
VM_MEMORY=512

capture() { # NAME CLASS VARS
	"$TRUST" sign efi --keyset snakeoil --class "$2" --output "$T/$1.efi" "$T/uki.efi" >/dev/null
	vm_esp "$T/$1.img" "$T/$1.efi"
	cp "$3" "$T/$1.fd"
	vm_boot "$T/$1.log" "$T/$1.fd" "$T/$1.img"
	[ "$VM_RESULT" = expected ] || { tail -n 20 "$T/$1.log"; fail "$1: boot $VM_RESULT"; }
	tr -d '\r' <"$T/$1.log" | sed -n '/^trust-eventlog-begin$/,/^trust-eventlog-end$/p' |
		sed '1d;$d' | base64 -d >"$here/$1.bin"
	vm_log_pcr7 "$T/$1.log" >"$here/$1.pcr7"
	echo "$1: $(stat -c %s "$here/$1.bin") bytes, PCR7 $(cat "$here/$1.pcr7")"
}
capture production production "$T/vars.fd"
capture tpm tpm "$T/vars.fd"
capture limited limited "$T/vars.fd"
capture production-dbx production "$T/vars-dbx.fd"
