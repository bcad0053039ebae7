#!/bin/bash
# test-new-uuid.sh: `new-uuid --keysetname K` writes a product uuid, keypair
# and manifest-ca-issued cert to $XDG_CONFIG_HOME/machine/trust/manifest/.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add prod
expect_rc 0 trust new-uuid --keysetname prod
out=$XDG_CONFIG_HOME/machine/trust/manifest
[ "$(cat "$T/out")" = "$out" ] || fail "new-uuid printed $(cat "$T/out"), want $out"
[ "$(ls "$out" | tr '\n' ' ')" = "cert.pem privkey.pem uuid " ] || fail "new-uuid wrote $(ls "$out")"
[ "$(stat -c %a "$out/privkey.pem")" = 600 ] || fail "privkey mode"
[ "$(stat -c %a "$out/cert.pem")" = 640 ] || fail "cert mode"
uuid=$(cat "$out/uuid")
echo "$uuid" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' || fail "uuid: $uuid"
openssl x509 -in "$out/cert.pem" -noout -subject | grep -qx "subject=CN = manifest PRODUCT:$uuid" ||
	fail "subject: $(openssl x509 -in "$out/cert.pem" -noout -subject)"
openssl verify -CAfile "$KEYS/prod/manifest-ca/cert.pem" "$out/cert.pem" >/dev/null ||
	fail "new-uuid cert does not verify by manifest-ca"
[ "$(openssl pkey -in "$out/privkey.pem" -pubout)" = "$(openssl x509 -in "$out/cert.pem" -noout -pubkey)" ] ||
	fail "key does not match cert"

# a second run does not replace the first
before=$(tree_snapshot "$XDG_CONFIG_HOME")
expect_error 1 "manifest already exists" trust new-uuid --keysetname prod
[ "$(tree_snapshot "$XDG_CONFIG_HOME")" = "$before" ] || fail "second new-uuid changed the config dir"

rm -rf "$out"
expect_error 1 "keyset 'nosuch' does not exist" trust new-uuid --keysetname nosuch
[ ! -e "$out" ] || fail "failed new-uuid left $out"
expect_rc 2 trust new-uuid
expect_rc 2 trust new-uuid --keysetname prod extra
[ -z "$(ls -A "$HOME")" ] || fail "something was written to \$HOME"
echo ok
