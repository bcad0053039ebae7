#!/bin/bash
# test-efi-uki-alignment.sh: `trust uki build` pads every added section to
# the stub's FileAlignment, so it takes only what the PE/COFF spec allows
# (§3.4.2: a power of two from 512 to 64 KiB, at most SectionAlignment).
# Stubs are copies of the real systemd-stub with the fields patched; a
# refused one gives one line and no output file.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -r "$stub" ] || skip "no systemd-stub at $stub (make deps)"
command -v objdump >/dev/null || skip "binutils is not installed (make deps)"

le32() { printf '%08x' "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/' | xxd -r -p; }
# patched OUT SECTION_ALIGNMENT FILE_ALIGNMENT: the stub with both fields set
# (optional header at e_lfanew + 24; the fields at +32 and +36).
opt=$(($(od -An -tu4 -j60 -N4 "$stub") + 24))
patched() {
	cp "$stub" "$1"
	le32 "$2" | dd of="$1" bs=1 seek=$((opt + 32)) conv=notrunc status=none
	le32 "$3" | dd of="$1" bs=1 seek=$((opt + 36)) conv=notrunc status=none
}
head -c 100000 /dev/urandom >"$T/kernel"
head -c 3000 /dev/urandom >"$T/initrd"
build() { # build STUB: a UKI into $T/uki.efi (at most 64 MiB written)
	rm -f "$T/uki.efi"
	(ulimit -f 65536 && exec "$TRUST" uki build --stub "$1" --kernel "$T/kernel" \
		--initrd "$T/initrd" --cmdline "quiet" --output "$T/uki.efi")
}

# what the stub ships with, and the bounds themselves, are accepted
for a in "$(od -An -tu4 -j$((opt + 32)) -N4 "$stub") $(od -An -tu4 -j$((opt + 36)) -N4 "$stub")" \
	"512 512" "4096 4096" "65536 65536" "65536 512"; do
	# shellcheck disable=SC2086 # two numbers
	patched "$T/stub" $a
	expect_rc 0 build "$T/stub"
	objdump -h "$T/uki.efi" >/dev/null || fail "objdump cannot read the UKI of alignments $a"
done

# refused: above 64 KiB, below 512, above SectionAlignment, not a power of two
refused() { # refused SECTION_ALIGNMENT FILE_ALIGNMENT CAUSE
	patched "$T/stub" "$1" "$2"
	expect_error 1 "^trust: uki build: $T/stub: $3" build "$T/stub"
	[ ! -e "$T/uki.efi" ] || fail "refused stub ($1 $2): an output was written"
}
why="is not a power of two from 512 to 64 KiB and at most SectionAlignment"
refused $((128 << 10)) $((128 << 10)) "FileAlignment 0x20000 $why 0x20000"
refused 4096 256 "FileAlignment 0x100 $why 0x1000"
refused 512 4096 "FileAlignment 0x1000 $why 0x200"
refused $((1 << 29)) $((1 << 29)) "FileAlignment 0x20000000 $why 0x20000000"
refused 4096 768 "file alignment 0x300 is not a power of two"
echo ok
