# shellcheck shell=bash
# test-efi-sign.sh: Authenticode interop both ways with sbsigntool. sbverify
# accepts what `trust sign efi` makes, `trust verify efi` accepts what sbsign
# makes, and both reject a one-byte change inside .linux and a signature by
# another certificate.
. "$(dirname "$0")/../lib.sh"

command -v sbsign >/dev/null && command -v sbverify >/dev/null || skip "sbsigntool is not installed (make deps)"
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -r "$stub" ] || skip "no systemd-stub at $stub (make deps)"

mkcert() { # NAME CN
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
		-subj "/CN=$2" -days 30 -addext extendedKeyUsage=codeSigning 2>/dev/null ||
		fail "openssl req failed"
}
mkcert a "Signer A"
mkcert b "Signer B"

# flip FILE OFFSET: xor one byte with 0x01
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf '%b' "\\x$(printf %02x $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# linux_offset FILE: a file offset 4 KiB into the .linux section
linux_offset() {
	local hex
	hex=$(objdump -h "$1" | awk '$2 == ".linux" { print $6 }')
	[ -n "$hex" ] && echo $((0x$hex + 4096))
}

# A UKI with a real .linux payload (any bytes do: nothing executes here).
head -c 300000 /dev/urandom >"$T/kernel"
printf 'initrd' >"$T/initrd"
printf 'ID=test\n' >"$T/os-release"
expect_rc 0 trust uki build --stub "$stub" --kernel "$T/kernel" --initrd "$T/initrd" \
	--cmdline "console=ttyS0" --os-release "$T/os-release" --output "$T/uki.efi"
off=$(linux_offset "$T/uki.efi")
[ -n "$off" ] || fail "no .linux section in the UKI"

# unsigned: refused, with one line naming the file
expect_error 1 "uki.efi: image is not signed" trust verify efi --cert "$T/a.pem" "$T/uki.efi"

# ours -> sbverify
expect_rc 0 trust sign efi --key "$T/a.key" --cert "$T/a.pem" --output "$T/ours.efi" "$T/uki.efi"
[ "$(stat -c %a "$T/ours.efi")" = 644 ] || fail "signed image mode $(stat -c %a "$T/ours.efi")"
sbverify --cert "$T/a.pem" "$T/ours.efi" >/dev/null 2>&1 || fail "sbverify rejects our signature"
expect_rc 0 trust verify efi --cert "$T/a.pem" "$T/ours.efi"
grep -q 'CN *= *Signer A\|CN=Signer A' "$T/out" || fail "verify does not name the signer: $(cat "$T/out")"
! sbverify --cert "$T/b.pem" "$T/ours.efi" >/dev/null 2>&1 || fail "sbverify accepts our signature with another cert"
expect_error 1 "ours.efi: no signature by .*Signer B" trust verify efi --cert "$T/b.pem" "$T/ours.efi"

# sbsign -> ours
sbsign --key "$T/a.key" --cert "$T/a.pem" --output "$T/theirs.efi" "$T/uki.efi" >/dev/null 2>&1 ||
	fail "sbsign failed"
expect_rc 0 trust verify efi --cert "$T/a.pem" "$T/theirs.efi"
expect_error 1 "no signature by" trust verify efi --cert "$T/b.pem" "$T/theirs.efi"

# both signatures cover the same Authenticode hash: the images differ only in
# the checksum and the certificate table
for f in ours theirs; do
	cp "$T/$f.efi" "$T/$f-flipped.efi"
	flip "$T/$f-flipped.efi" "$off"
	cmp -s "$T/$f.efi" "$T/$f-flipped.efi" && fail "flip did not change $f"
	! sbverify --cert "$T/a.pem" "$T/$f-flipped.efi" >/dev/null 2>&1 ||
		fail "sbverify accepts $f with a byte flipped in .linux"
	expect_error 1 "$f-flipped.efi: image digest does not match" \
		trust verify efi --cert "$T/a.pem" "$T/$f-flipped.efi"
done

# a signature by another key, checked against A: both refuse
expect_rc 0 trust sign efi --key "$T/b.key" --cert "$T/b.pem" --output "$T/by-b.efi" "$T/uki.efi"
! sbverify --cert "$T/a.pem" "$T/by-b.efi" >/dev/null 2>&1 || fail "sbverify accepts B's signature for A"
expect_error 1 "no signature by .*Signer A" trust verify efi --cert "$T/a.pem" "$T/by-b.efi"

# a db entry may be a CA: a signature by a leaf it issued verifies against it
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -subj "/CN=Test CA" \
	-days 30 -addext basicConstraints=critical,CA:TRUE 2>/dev/null || fail "openssl CA failed"
openssl req -newkey rsa:2048 -nodes -keyout "$T/leaf.key" -out "$T/leaf.csr" -subj "/CN=Leaf" 2>/dev/null &&
	openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-out "$T/leaf.pem" -days 30 2>/dev/null || fail "openssl leaf failed"
expect_rc 0 trust sign efi --key "$T/leaf.key" --cert "$T/leaf.pem" --output "$T/leaf.efi" "$T/uki.efi"
expect_rc 0 trust verify efi --cert "$T/ca.pem" "$T/leaf.efi"
sbverify --cert "$T/ca.pem" "$T/leaf.efi" >/dev/null 2>&1 || fail "sbverify rejects a leaf signature against its CA"
expect_rc 1 trust verify efi --cert "$T/a.pem" "$T/leaf.efi"

# re-signing replaces the signature rather than stacking a second one
expect_rc 0 trust sign efi --key "$T/b.key" --cert "$T/b.pem" --output "$T/resigned.efi" "$T/ours.efi"
expect_rc 0 trust verify efi --cert "$T/b.pem" "$T/resigned.efi"
expect_rc 1 trust verify efi --cert "$T/a.pem" "$T/resigned.efi"
cmp -s "$T/by-b.efi" "$T/resigned.efi" || {
	# the PKCS#7 signing time may differ; the sizes may not
	[ "$(stat -c %s "$T/by-b.efi")" = "$(stat -c %s "$T/resigned.efi")" ] ||
		fail "re-signing did not replace the old signature"
}

# odd-length input: padded to 8 bytes before the table, sbverify agrees
head -c 13 /dev/urandom >>"$T/uki.efi"
expect_rc 0 trust sign efi --key "$T/a.key" --cert "$T/a.pem" --output "$T/odd.efi" "$T/uki.efi"
sbverify --cert "$T/a.pem" "$T/odd.efi" >/dev/null 2>&1 || fail "sbverify rejects a padded image"

# the kernel as shipped (signed by its distribution) can be re-signed by us
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$kernel" ] && [ -r "$kernel" ]; then
	expect_rc 0 trust sign efi --key "$T/a.key" --cert "$T/a.pem" --output "$T/vmlinuz.efi" "$kernel"
	sbverify --cert "$T/a.pem" "$T/vmlinuz.efi" >/dev/null 2>&1 || fail "sbverify rejects the re-signed kernel"
fi

# usage errors and key/cert mismatch; nothing written on failure
expect_rc 2 trust sign efi --key "$T/a.key" --cert "$T/a.pem" "$T/uki.efi"
expect_rc 2 trust sign efi --key "$T/a.key" --output "$T/x.efi" "$T/uki.efi"
expect_rc 2 trust sign efi --keyset k --key "$T/a.key" --cert "$T/a.pem" --output "$T/x.efi" "$T/uki.efi"
expect_rc 2 trust sign pe --key "$T/a.key" --cert "$T/a.pem" --output "$T/x.efi" "$T/uki.efi"
expect_rc 2 trust verify efi "$T/ours.efi"
expect_error 1 "does not match the key" trust sign efi --key "$T/a.key" --cert "$T/b.pem" --output "$T/x.efi" "$T/uki.efi"
expect_error 1 "a.key: not a PEM certificate" trust verify efi --cert "$T/a.key" "$T/ours.efi"
expect_error 1 "not-there.efi: No such file" trust sign efi --key "$T/a.key" --cert "$T/a.pem" --output "$T/x.efi" "$T/not-there.efi"
[ -e "$T/x.efi" ] && fail "a failed sign left $T/x.efi"
for f in "$T"/*.tmp-*; do [ -e "$f" ] && fail "a temporary file was left behind: $f"; done

# keyset form: uki-<class>/{privkey,cert}.pem of a keyset
expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust sign efi --keyset snakeoil --class tpm --output "$T/tpm.efi" "$T/ours.efi"
sbverify --cert "$KEYS/snakeoil/uki-tpm/cert.pem" "$T/tpm.efi" >/dev/null 2>&1 || fail "sbverify rejects the uki-tpm signature"
expect_rc 1 trust verify efi --cert "$KEYS/snakeoil/uki-production/cert.pem" "$T/tpm.efi"
expect_rc 2 trust sign efi --keyset snakeoil --class bogus --output "$T/x.efi" "$T/ours.efi"
expect_rc 2 trust sign efi --keyset snakeoil --output "$T/x.efi" "$T/ours.efi"
expect_error 1 "keyset 'nope' does not exist" trust sign efi --keyset nope --class tpm --output "$T/x.efi" "$T/ours.efi"
echo ok
