#!/bin/bash
# test-efi-verify-json.sh: `verify efi --json` prints one JSON line with the
# image, the cert and the cert's subject as openssl spells it (one with '"'
# and '\' in it), the same as the text line; a signature that does not
# verify prints nothing on stdout.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add --org 'Q"uote\Back' odd
cert=$KEYS/odd/uki-production/cert.pem
expect_rc 0 trust sign efi --keyset odd --class production --output "$T/mini.efi" \
	"$TOP/tests/data/efi/mini.efi"
subject=$(openssl x509 -in "$cert" -noout -subject -nameopt compat | sed 's/^subject=//')
case $subject in *'O=Q"uote\Back/'*) ;; *) fail "openssl reads the subject as $subject" ;; esac

json_text verify efi --cert "$cert" "$T/mini.efi"
expect_rc 0 trust verify efi --json --cert "$cert" "$T/mini.efi"
json_check '
assert j == {"image": args[0], "cert": args[1], "subject": args[2], "verified": True}, j
assert text == "%s: signature by %s verifies\n" % (args[0], args[2]), text' \
	"$T/mini.efi" "$cert" "$subject"

expect_error 1 "mini.efi: no signature by .*UEFI PK" \
	trust verify efi --json --cert "$KEYS/odd/uefi-pk/cert.pem" "$T/mini.efi"
no_stdout "verify efi --json with another cert"
expect_error 1 "mini.efi: image is not signed" \
	trust verify efi --json --cert "$cert" "$TOP/tests/data/efi/mini.efi"
no_stdout "verify efi --json of an unsigned image"
expect_rc 2 trust verify efi --json "$T/mini.efi"
no_stdout "verify efi --json without --cert"
echo ok
