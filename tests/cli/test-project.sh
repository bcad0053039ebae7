#!/bin/bash
# test-project.sh: `project add/list` make products with their own uuid,
# keypair and manifest-ca-issued cert, and a sudi/ dir.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add prod
expect_rc 0 trust keyset add other
ks=$KEYS/prod
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

expect_rc 0 trust project add prod widget
[ "$(cat "$T/out")" = "$ks/manifest/widget" ] || fail "project add printed $(cat "$T/out")"
p=$ks/manifest/widget
[ "$(ls "$p" | tr '\n' ' ')" = "cert.pem privkey.pem sudi uuid " ] || fail "project holds $(ls "$p")"
[ "$(stat -c %a "$p")" = 750 ] || fail "project dir mode"
[ "$(stat -c %a "$p/privkey.pem")" = 600 ] || fail "project privkey mode"
[ "$(stat -c %a "$p/cert.pem")" = 640 ] || fail "project cert mode"
uuid=$(cat "$p/uuid")
echo "$uuid" | grep -Eq "$uuid_re" || fail "project uuid: $uuid"
[ "$uuid" != "$(cat "$ks/manifest/default/uuid")" ] || fail "project uuid equals default's"
openssl x509 -in "$p/cert.pem" -noout -subject | grep -qx "subject=CN = manifest PRODUCT:$uuid" ||
	fail "project subject: $(openssl x509 -in "$p/cert.pem" -noout -subject)"
openssl x509 -in "$p/cert.pem" -noout -ext extendedKeyUsage | grep -q 'Code Signing' || fail "project EKU"
openssl verify -CAfile "$ks/manifest-ca/cert.pem" "$p/cert.pem" >/dev/null || fail "project cert does not verify by manifest-ca"
openssl verify -CAfile "$KEYS/other/manifest-ca/cert.pem" "$p/cert.pem" >/dev/null 2>&1 &&
	fail "project cert verifies by another keyset's manifest-ca"

expect_rc 0 trust project add prod gadget
expect_rc 0 trust project list prod
[ "$(cat "$T/out")" = "$(printf 'default\ngadget\nwidget')" ] || fail "project list: $(cat "$T/out")"
expect_rc 0 trust project list other
[ "$(cat "$T/out")" = default ] || fail "project list other: $(cat "$T/out")"

before=$(tree_snapshot "$ks")
expect_error 1 "keyset 'prod': project 'widget' already exists" trust project add prod widget
[ "$(tree_snapshot "$ks")" = "$before" ] || fail "refused project add changed the keyset"

# show finds it as manifest:PROJECT
expect_rc 0 trust keyset show prod manifest:widget uuid --value
[ "$(cat "$T/out")" = "$uuid" ] || fail "show manifest:widget uuid: $(cat "$T/out")"
echo ok
