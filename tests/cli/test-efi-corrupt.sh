# shellcheck shell=bash
# test-efi-corrupt.sh: the corrupt-file fixtures of tests/data/efi (evil
# headers) fail cleanly: exit 1, one line naming the file and the cause, no
# output file, no crash (this also runs under ASan+UBSan).
. "$(dirname "$0")/../lib.sh"

d=$TOP/tests/data/efi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -subj /CN=t -days 3 \
	2>/dev/null || fail "openssl req failed"

check_pe() { # FIXTURE PATTERN
	expect_error 1 "$1: $2" trust verify efi --cert "$T/c.pem" "$d/$1"
	expect_error 1 "$1: $2" trust sign efi --key "$T/k.pem" --cert "$T/c.pem" --output "$T/out.efi" "$d/$1"
	[ -e "$T/out.efi" ] && fail "signing $1 wrote output"
	return 0
}
check_pe pe-truncated-header.efi "PE header at 0x40 lies past the end of the file"
check_pe pe-sections-past-eof.efi "section table lies past the end of the file"
check_pe pe-section-data-past-eof.efi "section 0 \(.text\) lies past the end of the file"
check_pe pe-cert-overlap.efi "certificate table at 0x200 overlaps the headers or sections"
check_pe pe-bad-dirs.efi "17 data directories do not fit in the optional header"
head -c 10 "$d/mini.efi" >"$T/tiny.efi"
expect_error 1 "tiny.efi: truncated MS-DOS header" trust verify efi --cert "$T/c.pem" "$T/tiny.efi"

# the valid sibling of those fixtures signs and verifies
expect_rc 0 trust sign efi --key "$T/k.pem" --cert "$T/c.pem" --output "$T/mini.efi" "$d/mini.efi"
expect_rc 0 trust verify efi --cert "$T/c.pem" "$T/mini.efi"
# a certificate table whose WIN_CERTIFICATE length lies
cp "$T/mini.efi" "$T/badlen.efi"
printf '\xff\xff\x00\x00' | dd of="$T/badlen.efi" bs=1 seek=$((0x400)) conv=notrunc status=none
expect_error 1 "badlen.efi: WIN_CERTIFICATE at table offset 0 has bad length" \
	trust verify efi --cert "$T/c.pem" "$T/badlen.efi"
# a PKCS#7 blob that is garbage
cp "$T/mini.efi" "$T/garbage.efi"
head -c 64 /dev/zero | dd of="$T/garbage.efi" bs=1 seek=$((0x408)) conv=notrunc status=none
expect_error 1 "garbage.efi: signature 1 is not a PKCS#7 SignedData" \
	trust verify efi --cert "$T/c.pem" "$T/garbage.efi"

expect_error 1 "vars-record-past-end.fd: variable record at 0x64 runs past the store" \
	trust efivars list "$d/vars-record-past-end.fd"
expect_error 1 "vars-bad-record.fd: corrupt variable record at 0x64" trust efivars list "$d/vars-bad-record.fd"
expect_rc 0 trust efivars list "$d/vars-full.fd"
[ -s "$T/out" ] && fail "an empty store lists variables"
expect_error 1 "mini.efi: no firmware volume signature" trust efivars list "$d/mini.efi"
echo ok
