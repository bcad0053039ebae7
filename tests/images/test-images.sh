#!/bin/bash
# test-images.sh: builds the three images for the snakeoil keyset (`trust
# image build`, what `make images KEYSET=snakeoil` runs; an up-to-date build
# is reused) and
# checks what they are made of: signatures (sbverify), initrd contents (trust
# runs from the initrd's own tree, /pcr7data resolves the production PCR7,
# /manifestCA.pem), the command line, the recorded PCR7, the payload disk.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || skip "image builds need root (mkosi, debootstrap)"
command -v mkosi >/dev/null || skip "mkosi is not installed (make deps)"
for t in sbverify objcopy zstd cpio sfdisk mcopy debugfs; do
	command -v $t >/dev/null || skip "$t is not installed (make deps)"
done

KS=$TOP/keysets/snakeoil
mkdir -p "$KEYS"
ln -s "$KS" "$KEYS/snakeoil"
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
OUT=$BUILD/images/snakeoil
note "building (or reusing) $OUT"
BUILD=$BUILD "$TRUST" image build --keyset snakeoil >"$T/build.log" 2>&1 ||
	{ tail -n 30 "$T/build.log"; fail "trust image build --keyset snakeoil failed"; }
cat "$T/build.log"
for img in os install provision; do
	grep -q "^images: \[[1-3]/3\] $img: \(up to date\|done in\)" "$T/build.log" ||
		fail "no progress line for $img"
done

classes_of() {
	case $1 in
	os) echo production tpm limited ;;
	*) echo production ;;
	esac
}

# The PCR7 values trust predicts for the keyset.
trust computepcr7 snakeoil >"$T/pcr7" || fail "computepcr7 snakeoil failed"

for img in provision install os; do
	d=$OUT/$img
	for f in vmlinuz initrd-base.img initrd-trust.img cmdline.txt vars.fd build-info; do
		[ -s "$d/$f" ] || fail "$img: $f missing"
	done
	grep -qx keyset=snakeoil "$d/build-info" || fail "$img: built for another keyset"

	for class in $(classes_of "$img"); do
		uki=$d/uki-$class.efi
		[ -s "$uki" ] || fail "$img: uki-$class.efi missing"
		# Signed by exactly the right uki-* key.
		for other in production tpm limited; do
			if sbverify --cert "$KS/uki-$other/cert.pem" "$uki" >"$T/sbv" 2>&1; then
				[ "$other" = "$class" ] || fail "$img: uki-$class.efi verifies with uki-$other"
			else
				[ "$other" != "$class" ] || { cat "$T/sbv"; fail "$img: uki-$class.efi does not verify with uki-$class"; }
			fi
		done
		# Recorded PCR7 = trust computepcr7.
		want=$(sed -n "s/^uki-$class: //p" "$T/pcr7")
		[ -n "$want" ] || fail "computepcr7 printed no uki-$class value"
		[ "$(cat "$d/pcr7-$class.txt")" = "$want" ] ||
			fail "$img: pcr7-$class.txt $(cat "$d/pcr7-$class.txt") != computepcr7 $want"
	done
	for other in production tpm limited; do
		case " $(classes_of "$img") " in *" $other "*) continue ;; esac
		[ ! -e "$d/uki-$other.efi" ] || fail "$img: unexpected uki-$other.efi"
	done

	# The UKI's sections are what the directory says (all classes share them).
	uki=$d/uki-production.efi
	objcopy -O binary --only-section=.cmdline "$uki" "$T/cmdline" || fail "$img: no .cmdline"
	objcopy -O binary --only-section=.initrd "$uki" "$T/initrd" || fail "$img: no .initrd"
	objcopy -O binary --only-section=.linux "$uki" "$T/linux" || fail "$img: no .linux"
	want=$(grep -v '^#' "$TOP/images/$img/cmdline" | tr -s '\n' ' ' | sed 's/ *$//')
	got=$(tr -d '\0' <"$T/cmdline")
	[ "$got" = "$want" ] || fail "$img: UKI cmdline '$got', configured '$want'"
	[ "$(cat "$d/cmdline.txt")" = "$want" ] || fail "$img: cmdline.txt differs from images/$img/cmdline"
	# trust uki build starts each archive at a 4-byte boundary (zero padding).
	cp "$d/initrd-base.img" "$T/initrd.want"
	pad=$(((4 - $(stat -c %s "$T/initrd.want") % 4) % 4))
	head -c "$pad" /dev/zero >>"$T/initrd.want"
	cat "$d/initrd-trust.img" >>"$T/initrd.want"
	cmp -s -n "$(stat -c %s "$T/initrd.want")" "$T/initrd" "$T/initrd.want" ||
		fail "$img: the UKI's .initrd is not initrd-base.img + initrd-trust.img"
	cmp -s -n "$(stat -c %s "$d/vmlinuz")" "$T/linux" "$d/vmlinuz" || fail "$img: the UKI's .linux is not vmlinuz"

	# Unpack both archives into one tree, as the kernel does.
	root=$T/initrd-$img
	mkdir -p "$root"
	for part in base trust; do
		(cd "$root" && zstd -dc "$d/initrd-$part.img" | cpio -idm --quiet 2>/dev/null) ||
			fail "$img: initrd-$part.img is not a zstd newc archive"
	done
	[ -x "$root/init" ] || fail "$img: initrd has no /init"
	[ -c "$root/dev/console" ] || fail "$img: initrd has no /dev/console"
	[ -x "$root/usr/bin/trust" ] || fail "$img: initrd has no /usr/bin/trust"
	# the trust that built the images (in make check, the package's)
	builder=$TRUST
	[ -f "${TRUST_TEST_SHARED:-/nonexistent}/package-trust" ] &&
		! cmp -s "$root/usr/bin/trust" "$TRUST" && builder=$TRUST_TEST_SHARED/package-trust
	cmp -s "$root/usr/bin/trust" "$builder" || fail "$img: the initrd's trust is not $builder"
	# trust runs inside the initrd's own tree: every library it needs is there.
	chroot "$root" /usr/bin/trust --version >"$T/ver" 2>&1 ||
		{ cat "$T/ver"; fail "$img: trust does not run from the initrd (missing library?)"; }
	ls "$root"/usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 >/dev/null 2>&1 ||
		fail "$img: initrd lacks libtss2-tcti-device.so.0 (loaded at run time by tctildr)"
	# libcryptsetup too is opened at run time (by trust): a volume check on
	# a file that is no LUKS volume gets as far as libcryptsetup's answer,
	# which names the file (in this chroot, without /dev, that answer is
	# about its RNG; a library that cannot be loaded is named instead).
	: >"$root/.not-luks"
	# shellcheck disable=SC2016 # expanded by the inner shell
	keyctl session - sh -c 'keyctl add user machine:luks x @s >/dev/null &&
		chroot "$1" /usr/bin/trust volume check --device /.not-luks --keyring session' _ "$root" \
		>"$T/vol" 2>&1 && fail "$img: a volume check on an empty file passed"
	rm -f "$root/.not-luks"
	grep -q '^trust: volume check: /\.not-luks: ' "$T/vol" ||
		fail "$img: trust cannot use libcryptsetup in the initrd: $(grep trust: "$T/vol")"
	chroot "$root" /bin/sh -c 'echo ok' >/dev/null 2>&1 || fail "$img: initrd has no working /bin/sh"
	cmp -s "$root/manifestCA.pem" "$KS/manifest-ca/cert.pem" || fail "$img: /manifestCA.pem is not the keyset's manifest-ca cert"
	[ -d "$root/pcr7data" ] || fail "$img: initrd has no /pcr7data"
	trust pcr7data lookup "$root/pcr7data" --pcr7 "$(cat "$d/pcr7-production.txt")" >"$T/lookup" ||
		fail "$img: the initrd's /pcr7data does not resolve the production PCR7"
	grep -qx 'key_type: production' "$T/lookup" || fail "$img: /pcr7data: production PCR7 is not a production entry"
	grep -qx 'key: snakeoil' "$T/lookup" || fail "$img: /pcr7data: entry is not snakeoil's"
	# Every module the image loads is in the initrd with its dependencies.
	kver=$(cat "$root/etc/trust/kernel")
	while read -r m; do
		grep -q "/${m//_/[-_]}\.ko:" "$root/usr/lib/modules/$kver/modules.dep" ||
			fail "$img: module $m not in the initrd"
	done <"$root/etc/trust/modules"
	# install formats the OS volume with cryptsetup; os opens it only through
	# `trust volume open` (which checks the header first), so its initrd must
	# not carry a cryptsetup that would open any volume labelled trust-os.
	case $img in install) tools="cryptsetup keyctl" ;; os) tools=keyctl ;; *) tools= ;; esac
	for b in $tools; do
		chroot "$root" "/usr/sbin/$b" --version >/dev/null 2>&1 ||
			chroot "$root" "/usr/bin/$b" --version >/dev/null 2>&1 ||
			fail "$img: $b does not run from the initrd"
	done
	case $img in
	install | os)
		grep -q 'dm-crypt.ko:' "$root/usr/lib/modules/$kver/modules.dep" || fail "$img: no dm-crypt module"
		;;
	esac
	if [ "$img" = os ]; then
		[ -z "$(find "$root" -name cryptsetup ! -type d)" ] ||
			fail "os: the initrd carries cryptsetup; only trust volume open may open the OS volume"
	fi
	note "$img: $(classes_of "$img") signed and checked"
done

# The vars all images carry are the same enrolled store.
for img in provision install os; do
	cmp -s "$OUT/vars.fd" "$OUT/$img/vars.fd" || fail "$img/vars.fd differs from vars.fd"
done

# Payload disk: GPT trust-esp (the os production UKI as BOOTX64.EFI) + trust-root.
P=$OUT/os/payload.img
[ -s "$P" ] || fail "os/payload.img missing"
sfdisk -d "$P" >"$T/pt" || fail "payload.img has no partition table"
grep -q 'name="trust-esp"' "$T/pt" || fail "payload.img: no trust-esp partition"
grep -q 'name="trust-root"' "$T/pt" || fail "payload.img: no trust-root partition"
dd if="$P" of="$T/esp" bs=512 skip="$(part_start "$T/pt" trust-esp)" count="$(part_size "$T/pt" trust-esp)" status=none
mcopy -n -i "$T/esp" ::/EFI/BOOT/BOOTX64.EFI "$T/bootx64.efi" || fail "payload ESP has no \\EFI\\BOOT\\BOOTX64.EFI"
cmp -s "$T/bootx64.efi" "$OUT/os/uki-production.efi" || fail "payload ESP's BOOTX64.EFI is not os/uki-production.efi"
dd if="$P" of="$T/root" bs=512 skip="$(part_start "$T/pt" trust-root)" count="$(part_size "$T/pt" trust-root)" status=none
for f in /usr/bin/trust /usr/lib/trust/trust-status /etc/systemd/system/trust-status.service \
	/usr/lib/trust/trust-update /etc/systemd/system/multi-user.target.wants/trust-update.service \
	/priv/factory/secure /sbin/init; do
	debugfs -R "stat $f" "$T/root" 2>/dev/null | grep -q '^Inode:' || fail "payload root: $f missing"
done
debugfs -R "stat /usr/lib/modules" "$T/root" 2>/dev/null | grep -q '^Inode:' &&
	fail "payload root: /usr/lib/modules should be left out"
debugfs -R "cat /usr/lib/trust/pcr7-production.txt" "$T/root" 2>/dev/null >"$T/rootpcr" || true
[ "$(cat "$T/rootpcr")" = "$(cat "$OUT/os/pcr7-production.txt")" ] ||
	fail "payload root: /usr/lib/trust/pcr7-production.txt is not the production PCR7"
note "payload.img: ESP and root checked"
echo "ok"
