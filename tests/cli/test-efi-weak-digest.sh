#!/bin/bash
# test-efi-weak-digest.sh: `trust verify efi` takes Authenticode signatures
# made with SHA-256, -384 or -512 only. MD5 and SHA-1 ones (signed by
# osslsigncode, an independent signer, with the right key) are refused with
# one line naming the digest: a collision would let a second image carry
# the signature.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
command -v osslsigncode >/dev/null || skip "osslsigncode is not installed (make deps)"
img=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -r "$img" ] || skip "no $img (make deps)"

expect_rc 0 trust keyset add snakeoil
key=$KEYS/snakeoil/uki-production/privkey.pem
cert=$KEYS/snakeoil/uki-production/cert.pem
for h in md5 sha1 sha256 sha384 sha512; do
	osslsigncode sign -h "$h" -key "$key" -certs "$cert" -in "$img" -out "$T/$h.efi" >/dev/null ||
		fail "osslsigncode -h $h failed"
done
for h in sha256 sha384 sha512; do
	expect_rc 0 trust verify efi --cert "$cert" "$T/$h.efi"
done
expect_error 1 "^trust: $T/md5.efi: signature 1: MD5 digest refused \(only SHA-256, SHA-384 and SHA-512 are accepted\)$" \
	trust verify efi --cert "$cert" "$T/md5.efi"
expect_error 1 "^trust: $T/sha1.efi: signature 1: SHA1 digest refused \(only SHA-256, SHA-384 and SHA-512 are accepted\)$" \
	trust verify efi --cert "$cert" "$T/sha1.efi"
# our own signer re-signs with SHA-256: accepted again
expect_rc 0 trust sign efi --keyset snakeoil --class production --output "$T/resigned.efi" "$T/sha1.efi"
expect_rc 0 trust verify efi --cert "$cert" "$T/resigned.efi"
echo ok
