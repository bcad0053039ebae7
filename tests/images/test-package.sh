#!/bin/bash
# test-package.sh: the main job from the Debian package, end to end, as a
# user who installed it does it: `make deb`, the package installed into a
# throw-away root (dpkg --root), then from a directory outside any checkout
# and with that root's /usr/bin/trust only:
#   trust keyset add snakeoil             (the bundled keyset, from the package)
#   trust image build --keyset snakeoil   (mkosi, the package's configurations and hooks)
#   trust vm launch demo --project snakeoil:default   (provisioned and installed from the host)
#   trust vm start demo --console
# The console must show what `make demo` shows: the SUDI cert issued for the
# VM's serial, the OS volume opened with the TPM-held passphrase, PCR7
# locked, the key dropped, the LUKS index refused after setup, the SUDI key
# held by the TPM. The installed disk is checked too (partitions, the
# production UKI as the ESP's boot loader, a LUKS2 volume labelled trust-os
# unlocked through the keyring). A second machine is launched the way a
# factory does it on hardware (--in-guest: the package's provisioning and
# installer images booted), and the two must be the same machine: partition
# table, LUKS2 settings, TPM NV layout and attributes, every secret refused
# to the host's reads. Then the VMs are deleted, the package purged, and the
# root must hold nothing it did not hold before; the user's keyset and
# images stay.
#
# Within `make check` this is the boot lane's first test: the images it
# builds are $BUILD/images/snakeoil, which tests/images and tests/vm then
# find up to date, so every VM test boots the trust the package ships; and
# the machine it launched in the guest is kept (never started) for the VM
# tests that only need a launched machine (tests/vm/vm-common.sh,
# vm_launch_or_copy), which boot it: the hardware path is booted there.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

[ -z "${TRUST_SANITIZED:-}" ] || skip "the package is built once, in the plain round"
[ "$(id -u)" = 0 ] || skip "image builds need root (mkosi, debootstrap)"
for tool in dpkg-buildpackage mkosi qemu-system-x86_64 swtpm; do
	command -v $tool >/dev/null || skip "$tool is not installed (make deps)"
done

BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
IMG=$BUILD/images/snakeoil
version=$(sed -n 's/^#define TRUST_VERSION "\(.*\)"/\1/p' "$TOP/trust/cli/version.h")

# --- the package, installed into a throw-away root ------------------------------------
make -s -C "$TOP" BUILD="$T/b" deb >"$T/make.log" 2>&1 || { tail -n 40 "$T/make.log"; fail "make deb failed"; }
deb=$T/b/deb/trust_${version}_amd64.deb
[ -s "$deb" ] || fail "make deb did not write $deb"
R=$T/root
deb_install "$deb" "$R"

# From here on, only the installed trust, in a directory of no checkout;
# BUILD is unset (its default is ./build), the mkosi package cache is the
# suite's own (a warm cache; downloads are not what this test is about).
TRUST=$R/usr/bin/trust
export TRUST_MKOSI_CACHE=$BUILD/mkosi-cache
unset BUILD
mkdir -p "$T/work"
cd "$T/work" || fail "cd $T/work"
git -C . rev-parse 2>/dev/null && fail "$T/work is inside a git checkout"

# vm-common.sh adds the snakeoil keyset with $TRUST (the installed one, from
# the package's /usr/share/trust/keysets) and deletes every VM on exit
# shellcheck source=tests/vm/vm-common.sh
. "$TOP/tests/vm/vm-common.sh"
cmp -s "$KEYS/snakeoil/uefi-db/cert.pem" "$R/usr/share/trust/keysets/snakeoil/uefi-db/cert.pem" ||
	fail "keyset add did not install the package's snakeoil keyset"

# --- the images --------------------------------------------------------------------------------
expect_rc 0 trust image build --keyset snakeoil --output "$IMG"
cat "$T/out"
for img in os install provision; do
	grep -q "^images: \[[1-3]/3\] $img: \(done in\|up to date\)" "$T/out" || fail "no progress line for $img"
	grep -qx keyset=snakeoil "$IMG/$img/build-info" || fail "$img: not built for snakeoil"
done
# the images carry the package's trust (the installer and the OS run it);
# tests/images/test-images checks the rest of them against a copy
[ -z "${TRUST_TEST_SHARED:-}" ] || cp "$TRUST" "$TRUST_TEST_SHARED/package-trust"
for img in os install provision; do
	zstd -dc "$IMG/$img/initrd-trust.img" 2>/dev/null | (mkdir -p "$T/i-$img" && cd "$T/i-$img" && cpio -id --quiet 2>/dev/null)
	f=$(find "$T/i-$img" -name trust -type f -perm -u+x | head -n 1)
	[ -n "$f" ] || fail "$img: no trust binary in initrd-trust.img"
	cmp -s "$f" "$TRUST" || fail "$img: the initrd's trust ($f) is not the package's"
done
[ -z "$(ls -A "$T/work")" ] || [ "$(ls -A "$T/work")" = build ] || fail "image build left in the cwd: $(ls -A "$T/work")"

# --- launch: from the host (the main job), and in the guest ---------------------------------
expect_rc 0 trust vm launch demo --project snakeoil:default --images "$IMG"
cat "$T/out"
grep -qx "vm 'demo' is ready: 'trust vm start demo'" "$T/out" || fail "launch said: $(cat "$T/out")"
for phase in provision install; do
	grep -Eq "^$phase +ok .*, on the host$" "$T/out" || fail "no host-side $phase line: $(cat "$T/out")"
done
D=$VMS/demo
# no guest ran during it, and the SUDI key went nowhere but the TPM
grep -aq "^=== trust vm: \(provision\|install\) ===" "$D/console.log" && fail "the launch booted a guest"
[ ! -e "$D/sudi" ] && [ ! -e "$D/trust-data.img" ] || fail "the SUDI key's file survived the launch"
serial=$(sed -n 's/^serial=//p' "$D/vm.conf")
[ -n "$serial" ] || fail "vm.conf has no serial"

expect_rc 0 trust vm launch guest --project snakeoil:default --images "$IMG" --in-guest
cat "$T/out"
grep -Eq "^provision +ok .*provisioned successfully, SUDI disk detached$" "$T/out" &&
	grep -Eq "^install +ok .*installed successfully$" "$T/out" || fail "launch --in-guest said: $(cat "$T/out")"
vm_share guest "$IMG" # never started: for tests/vm (a copy instead of a launch)

# the installed disks: pbf and sbf from provisioning, esp and the LUKS2 os
# volume from the installer
for vm in demo guest; do
	sfdisk -d "$VMS/$vm/os.img" >"$T/pt-$vm" 2>/dev/null || fail "$vm: the OS disk has no partition table"
	for p in pbf sbf esp os; do
		grep -q "name=\"$p\"" "$T/pt-$vm" || fail "$vm: the OS disk lacks partition $p"
	done
	dd if="$VMS/$vm/os.img" of="$T/esp" bs=512 skip="$(part_start "$T/pt-$vm" esp)" \
		count="$(part_size "$T/pt-$vm" esp)" status=none
	rm -f "$T/boot.efi"
	mcopy -n -i "$T/esp" ::/EFI/BOOT/BOOTX64.EFI "$T/boot.efi" || fail "$vm: the installed ESP has no BOOTX64.EFI"
	cmp -s "$T/boot.efi" "$IMG/os/uki-production.efi" || fail "$vm: the installed BOOTX64.EFI is not os/uki-production.efi"
	dd if="$VMS/$vm/os.img" of="$T/luks" bs=512 skip="$(part_start "$T/pt-$vm" os)" count=32768 status=none
	cryptsetup luksDump "$T/luks" >"$T/dump" 2>&1 || { cat "$T/dump"; fail "$vm: the os partition is not LUKS"; }
	grep -q '^Version:[[:space:]]*2' "$T/dump" || fail "$vm: the os volume is not LUKS2"
	grep -q '^Label:[[:space:]]*trust-os' "$T/dump" || fail "$vm: the os volume is not labelled trust-os"
	grep -q 'luks2-keyring' "$T/dump" && grep -q 'machine:luks' "$T/dump" ||
		{ cat "$T/dump"; fail "$vm: the os volume has no keyring token for machine:luks"; }
	# what must be equal between the two: no UUID, salt or digest
	grep -E '^(Version|Label|Flags):|^[[:space:]]+(offset|length|cipher|sector|Key|Key description|Priority|Cipher|Cipher key|PBKDF|Hash|Iterations|AF stripes|AF hash|Area offset|Area length|Digest ID|Keyslot):|^[[:space:]]+[0-9]+: ' \
		"$T/dump" | tr -s ' \t' ' ' >"$T/luks-$vm"
	sed -n 's/^[^:]*: \(start=.*\), uuid=[^,]*, \(name=.*\)$/\1 \2/p' "$T/pt-$vm" >"$T/layout-$vm"
	# pbf: the keyset's pcr7data, as provisioning copies it
	rm -rf "$T/pbf-$vm"
	mkdir -p "$T/pbf-$vm"
	dd if="$VMS/$vm/os.img" of="$T/pbf" bs=512 skip="$(part_start "$T/pt-$vm" pbf)" \
		count="$(part_size "$T/pt-$vm" pbf)" status=none
	debugfs -R "rdump /pcr7data $T/pbf-$vm" "$T/pbf" >/dev/null 2>&1
	diff -r "$KEYS/snakeoil/pcr7data" "$T/pbf-$vm/pcr7data" >"$T/diff" ||
		{ cat "$T/diff"; fail "$vm: the pbf partition does not hold the keyset's pcr7data"; }
	# the TPM: its NV indices (sizes aside: certificates and keys differ by
	# a byte or two), and every secret refused to a read from the host
	rm -rf "$T/tpm-$vm"
	cp -a "$VMS/$vm/tpm" "$T/tpm-$vm"
	start_swtpm "$T/tpm-$vm"
	expect_rc 0 trust tpm status
	awk '/^0x/ { print $1, $2, $5, $6 } /version:/' "$T/out" >"$T/nv-$vm"
	expect_rc 0 trust tpm check-locked --pcr7data "$KEYS/snakeoil/pcr7data"
	tail -n 1 "$T/out" | grep -qx "locked: the TPM refused every read" ||
		fail "$vm: the TPM released something to the host: $(cat "$T/out")"
	stop_swtpm
done
[ "$(wc -l <"$T/layout-demo")" = 4 ] || fail "partition layout not read: $(cat "$T/pt-demo")"
[ "$(wc -l <"$T/nv-demo")" -ge 9 ] || fail "NV layout not read: $(cat "$T/nv-demo")"
for what in layout luks nv; do
	diff "$T/$what-guest" "$T/$what-demo" >"$T/diff" ||
		{ cat "$T/diff"; fail "the host-side launch made another $what than the in-guest one"; }
done

# `vm start --console` shows the console until the VM ends: the status
# line, then `vm stop` (the power button) ends it
"$TRUST" vm start demo --console >"$T/console" 2>&1 </dev/null &
console=$!
track_pid $console
for _ in $(seq 600); do
	grep -a -m1 -E 'TRUST STATUS:|XXX FAIL XXX|Access Denied' "$T/console" | tr -d '\r' >"$T/status"
	[ -s "$T/status" ] && break
	kill -0 $console 2>/dev/null || break
	sleep 1
done
[ -s "$T/status" ] || { tail -n 30 "$T/console"; fail "vm start --console: no status line"; }
expect_rc 0 trust vm stop demo --timeout 120
grep -qx "vm 'demo' stopped" "$T/out" || fail "the OS did not power off on the button: $(cat "$T/out")"
for _ in $(seq 20); do kill -0 $console 2>/dev/null || break; sleep 0.5; done
kill -0 $console 2>/dev/null && fail "vm start --console still runs after the VM stopped"
wait $console || fail "vm start --console exited $?: $(tail -n 5 "$T/console")"
note "$(cat "$T/status")"
case $(cat "$T/status") in *"cert=\"CN = $serial, serialNumber = PID:"*" SN:$serial\""*) ;;
*) fail "the status line does not show this VM's SUDI cert (CN = $serial)" ;; esac
for want in volume=opened pcr7=locked luks-key=dropped luks-read=refused eventlog=match sudi-key=tpm; do
	grep -q " $want" "$T/status" || fail "the status line lacks $want"
done
grep -aq 'PRIVATE KEY' "$T/console" && fail "a private key on the console"

# --- delete, purge: only the user's data is left ---------------------------------------------
expect_rc 0 trust vm delete demo
expect_rc 0 trust vm delete guest
[ ! -e "$D" ] && [ ! -e "$VMS/guest" ] || fail "vm delete left $(ls -A "$VMS")"
assert_no_vm_processes
deb_purge "$R"
[ -s "$KEYS/snakeoil/uefi-pk/cert.pem" ] || fail "the purge took the user's keyset"
[ -s "$IMG/os/uki-production.efi" ] || fail "the purge took the user's images"
echo ok
