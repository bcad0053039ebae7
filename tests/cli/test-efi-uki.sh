# shellcheck shell=bash
# test-efi-uki.sh: `trust uki build` puts .osrel .cmdline .uname .linux
# .initrd after the stub's own sections, 4 KiB aligned, with the inputs'
# exact bytes (objdump/objcopy from binutils are the independent readers).
. "$(dirname "$0")/../lib.sh"

stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -r "$stub" ] || skip "no systemd-stub at $stub (make deps)"
command -v objdump >/dev/null || skip "binutils is not installed (make deps)"

# A fake bzImage: setup header "HdrS" at 0x202, protocol 2.15, kernel_version
# pointer (minus 0x200) at 0x20e -> "6.1.0-test (builder) #1".
head -c 200000 /dev/urandom >"$T/kernel"
printf 'HdrS\x0f\x02' | dd of="$T/kernel" bs=1 seek=$((0x202)) conv=notrunc status=none
printf '\x00\x10' | dd of="$T/kernel" bs=1 seek=$((0x20e)) conv=notrunc status=none
printf '6.1.0-test (builder) #1\0' | dd of="$T/kernel" bs=1 seek=$((0x1200)) conv=notrunc status=none
head -c 1001 /dev/urandom >"$T/initrd1" # not a multiple of 4: padded when followed by another
head -c 5000 /dev/urandom >"$T/initrd2"
printf 'ID=trust-test\nVERSION_ID=1\n' >"$T/os-release"
printf 'root=/dev/vda quiet\n' >"$T/cmdline"

expect_rc 0 trust uki build --stub "$stub" --kernel "$T/kernel" --initrd "$T/initrd1" \
	--initrd "$T/initrd2" --cmdline @"$T/cmdline" --os-release "$T/os-release" --output "$T/uki.efi"
[ -s "$T/out" ] && fail "uki build printed on stdout"

objdump -h "$T/uki.efi" >"$T/sections" || fail "objdump cannot read the UKI"
names=$(awk '$1 ~ /^[0-9]+$/ { print $2 }' "$T/sections" | tr '\n' ' ')
stub_names=$(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/ { print $2 }' | tr '\n' ' ')
[ "$names" = "$stub_names.osrel .cmdline .uname .linux .initrd " ] || fail "sections: $names"

# VMAs: 4 KiB aligned, increasing, past everything the stub maps
stub_end=$(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/ { print $4, $3 }' | while read -r vma size; do
	echo $((0x$vma + 0x$size)); done | sort -n | tail -n 1)
prev=$stub_end
for s in .osrel .cmdline .uname .linux .initrd; do
	vma=$(awk -v s=$s '$2 == s { print $4 }' "$T/sections")
	v=$((0x$vma))
	[ $((v % 4096)) = 0 ] || fail "$s VMA $vma is not 4 KiB aligned"
	[ "$v" -ge "$prev" ] || fail "$s VMA $vma overlaps what precedes it"
	size=$(awk -v s=$s '$2 == s { print $3 }' "$T/sections")
	prev=$((v + 0x$size))
done
# SizeOfImage covers the last section
soi=$(objdump -p "$T/uki.efi" | awk '$1 == "SizeOfImage" { print $2 }')
[ $((0x$soi)) -ge "$prev" ] || fail "SizeOfImage $soi does not cover the sections"

# contents
sec() { objcopy -O binary --only-section="$1" "$T/uki.efi" "$T/sec" && cat "$T/sec"; }
sec .linux | cmp -s - "$T/kernel" || fail ".linux differs from the kernel"
sec .osrel | cmp -s - "$T/os-release" || fail ".osrel differs"
[ "$(sec .cmdline)" = "root=/dev/vda quiet" ] || fail ".cmdline: '$(sec .cmdline)'"
[ "$(sec .uname)" = "6.1.0-test" ] || fail ".uname: '$(sec .uname)'"
{ cat "$T/initrd1"; head -c 3 /dev/zero; cat "$T/initrd2"; } >"$T/initrds"
sec .initrd | cmp -s - "$T/initrds" || fail ".initrd is not the padded concatenation"

# inline cmdline; a kernel without a setup header gets no .uname
head -c 5000 /dev/urandom >"$T/plain-kernel"
expect_rc 0 trust uki build --stub "$stub" --kernel "$T/plain-kernel" --initrd "$T/initrd1" \
	--cmdline "console=ttyS0" --os-release "$T/os-release" --output "$T/uki2.efi"
names=$(objdump -h "$T/uki2.efi" | awk '$1 ~ /^[0-9]+$/ { print $2 }' | tr '\n' ' ')
[ "$names" = "$stub_names.osrel .cmdline .linux .initrd " ] || fail "sections without uname: $names"

# errors: one line, nothing written
expect_error 1 "uki.efi: stub already has a .osrel section" trust uki build --stub "$T/uki.efi" \
	--kernel "$T/kernel" --initrd "$T/initrd1" --cmdline x --output "$T/bad.efi"
expect_error 1 "no-kernel: No such file" trust uki build --stub "$stub" --kernel "$T/no-kernel" \
	--initrd "$T/initrd1" --cmdline x --output "$T/bad.efi"
expect_error 1 "initrd1: no MZ signature" trust uki build --stub "$T/initrd1" --kernel "$T/kernel" \
	--initrd "$T/initrd1" --cmdline x --output "$T/bad.efi"
expect_error 1 "pe-sections-past-eof.efi: section table lies past the end" trust uki build \
	--stub "$TOP/tests/data/efi/pe-sections-past-eof.efi" --kernel "$T/kernel" \
	--initrd "$T/initrd1" --cmdline x --output "$T/bad.efi"
: >"$T/empty"
expect_error 1 "empty" trust uki build --stub "$stub" --kernel "$T/empty" --initrd "$T/initrd1" \
	--cmdline x --output "$T/bad.efi"
[ -e "$T/bad.efi" ] && fail "a failed build left output"
expect_rc 2 trust uki build --stub "$stub" --kernel "$T/kernel" --cmdline x --output "$T/bad.efi"
expect_rc 2 trust uki build --kernel "$T/kernel" --initrd "$T/initrd1" --cmdline x
expect_rc 2 trust uki make
expect_rc 0 trust uki --help
echo ok
