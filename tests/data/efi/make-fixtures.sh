#!/bin/bash
# make-fixtures.sh: regenerates the small PE and OVMF vars fixtures in this
# directory (committed; rerun only to change them). Every file is built
# byte by byte here so that each corruption is explicit.
#   mini.efi                   valid minimal PE32+ (headers + one .text section)
#   pe-truncated-header.efi    ends inside the PE header
#   pe-sections-past-eof.efi   claims 30 sections: the table runs past EOF
#   pe-section-data-past-eof.efi  .text raw data runs past EOF
#   pe-cert-overlap.efi        certificate table overlaps the .text section
#   pe-bad-dirs.efi            NumberOfRvaAndSizes larger than the optional header
#   vars-small.fd              valid, empty authenticated variable store in a 16 KiB file
#   vars-full.fd               the same store with no room left for PK
#   vars-record-past-end.fd    a record whose DataSize runs past the store
#   vars-bad-record.fd         garbage where the first record should start
set -eu
cd "$(dirname "$0")"

# put FILE OFFSET BYTES VALUE: little-endian integer at OFFSET
put() {
	local f=$1 off=$2 n=$3 v=$4 i s=
	for ((i = 0; i < n; i++)); do s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 0xff))); done
	printf '%b' "$s" | dd of="$f" bs=1 seek=$((off)) conv=notrunc status=none
}
putstr() { printf '%s' "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none; }
zeros() { head -c $(($2)) /dev/zero >"$1"; }
ffs() { head -c $(($2)) /dev/zero | tr '\0' '\377' >"$1"; }

mini() {
	local f=$1 opt=$((0x58))
	zeros "$f" 0x400
	putstr "$f" 0 MZ
	put "$f" 0x3c 4 0x40          # e_lfanew
	putstr "$f" 0x40 "PE"
	put "$f" 0x44 2 0x8664        # Machine x86-64
	put "$f" 0x46 2 1             # NumberOfSections
	put "$f" 0x54 2 240           # SizeOfOptionalHeader
	put "$f" 0x56 2 0x2022        # Characteristics
	put "$f" $opt 2 0x20b         # PE32+
	put "$f" $((opt + 4)) 4 0x200 # SizeOfCode
	put "$f" $((opt + 16)) 4 0x1000 # AddressOfEntryPoint
	put "$f" $((opt + 20)) 4 0x1000 # BaseOfCode
	put "$f" $((opt + 32)) 4 0x1000 # SectionAlignment
	put "$f" $((opt + 36)) 4 0x200  # FileAlignment
	put "$f" $((opt + 56)) 4 0x2000 # SizeOfImage
	put "$f" $((opt + 60)) 4 0x200  # SizeOfHeaders
	put "$f" $((opt + 68)) 2 10     # Subsystem: EFI application
	put "$f" $((opt + 108)) 4 16    # NumberOfRvaAndSizes
	local s=$((opt + 240))
	putstr "$f" $s .text
	put "$f" $((s + 8)) 4 0x200    # VirtualSize
	put "$f" $((s + 12)) 4 0x1000  # VirtualAddress
	put "$f" $((s + 16)) 4 0x200   # SizeOfRawData
	put "$f" $((s + 20)) 4 0x200   # PointerToRawData
	put "$f" $((s + 36)) 4 0x60000020
	# a body: ret, then a recognisable pattern
	put "$f" 0x200 1 0xc3
	putstr "$f" 0x210 "trust test fixture .text section"
}

mini mini.efi
head -c $((0x50)) mini.efi >pe-truncated-header.efi
cp mini.efi pe-sections-past-eof.efi && put pe-sections-past-eof.efi 0x46 2 30
cp mini.efi pe-section-data-past-eof.efi && put pe-section-data-past-eof.efi $((0x148 + 16)) 4 0x10000
cp mini.efi pe-cert-overlap.efi
put pe-cert-overlap.efi $((0x58 + 112 + 4 * 8)) 4 0x200
put pe-cert-overlap.efi $((0x58 + 112 + 4 * 8 + 4)) 4 0x200
cp mini.efi pe-bad-dirs.efi && put pe-bad-dirs.efi $((0x58 + 108)) 4 17

# OVMF-style vars: FV header (0x48), authenticated store header (28 bytes).
vars() {
	local f=$1 store_size=$2
	ffs "$f" 0x4000
	zeros "$f.hdr" 0x48
	dd if="$f.hdr" of="$f" conv=notrunc status=none
	rm -f "$f.hdr"
	put "$f" 0x10 4 0xfff12b8d; put "$f" 0x14 4 0x4c8b7696; put "$f" 0x18 4 0x47278ba9; put "$f" 0x1c 4 0x504f5b07
	put "$f" 0x20 8 0x4000        # FvLength
	putstr "$f" 0x28 _FVH
	put "$f" 0x2c 4 0x0004feff    # Attributes
	put "$f" 0x30 2 0x48          # HeaderLength
	put "$f" 0x37 1 2             # Revision
	# store header: gEfiAuthenticatedVariableGuid, Size, Format, State
	put "$f" 0x48 4 0xaaf32c78; put "$f" 0x4c 4 0x439a947b; put "$f" 0x50 4 0x142e80a1; put "$f" 0x54 4 0x9277c34e
	put "$f" 0x58 4 "$store_size"
	put "$f" 0x5c 1 0x5a
	put "$f" 0x5d 1 0xfe
	put "$f" 0x5e 6 0
}
vars vars-small.fd 0x3fb8
vars vars-full.fd 0x100
vars vars-record-past-end.fd 0x800
put vars-record-past-end.fd 0x64 2 0x55aa
put vars-record-past-end.fd 0x66 1 0x3f
put vars-record-past-end.fd $((0x64 + 36)) 4 4       # NameSize
put vars-record-past-end.fd $((0x64 + 40)) 4 0x10000 # DataSize
vars vars-bad-record.fd 0x800
put vars-bad-record.fd 0x64 2 0x1234
