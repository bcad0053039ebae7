#!/bin/bash
# test-keyset-add.sh: `keyset add` and `initkeyset` create the whole layout of
# the spec with the right modes, in the XDG data dir of the test only.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add --org "Acme Corp" --org "Acme Labs" prod
[ -s "$T/out" ] && fail "keyset add printed on stdout: $(cat "$T/out")"
ks=$KEYS/prod
[ -d "$ks" ] || fail "no keyset at $ks"
[ "$(stat -c %a "$ks")" = 750 ] || fail "keyset dir mode $(stat -c %a "$ks")"

# Exactly the spec's directories.
got=$(cd "$ks" && ls | tr '\n' ' ')
want="manifest manifest-ca pcr7data sudi-ca tpmpol-admin tpmpol-luks uefi-db uefi-kek uefi-pk uki-limited uki-production uki-tpm "
[ "$got" = "$want" ] || fail "keyset dirs: '$got'"

for d in manifest-ca sudi-ca uefi-pk uefi-kek uefi-db uki-production uki-tpm uki-limited \
	tpmpol-admin tpmpol-luks manifest/default; do
	[ "$(stat -c %a "$ks/$d/privkey.pem")" = 600 ] || fail "$d/privkey.pem mode"
	[ "$(stat -c %a "$ks/$d/cert.pem")" = 640 ] || fail "$d/cert.pem mode"
	head -n1 "$ks/$d/privkey.pem" | grep -qx -- '-----BEGIN PRIVATE KEY-----' ||
		fail "$d/privkey.pem is not PKCS#8 PEM"
	openssl pkey -in "$ks/$d/privkey.pem" -noout -text | grep -q 'Private-Key: (2048 bit' ||
		fail "$d: not an RSA-2048 key"
	# the key belongs to the cert
	[ "$(openssl pkey -in "$ks/$d/privkey.pem" -pubout)" = \
		"$(openssl x509 -in "$ks/$d/cert.pem" -noout -pubkey)" ] || fail "$d: key does not match cert"
done

# guid files where the spec marks them, and only there.
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
for d in uefi-pk uefi-kek uefi-db uki-production uki-tpm uki-limited; do
	[ -f "$ks/$d/guid" ] || fail "$d has no guid"
	grep -Eq "$uuid_re" "$ks/$d/guid" || fail "$d/guid is not a UUID: $(cat "$ks/$d/guid")"
	[ "$(stat -c %a "$ks/$d/guid")" = 640 ] || fail "$d/guid mode"
done
for d in manifest-ca sudi-ca tpmpol-admin tpmpol-luks; do
	[ -e "$ks/$d/guid" ] && fail "$d must not have a guid"
done
# all guids differ
[ "$(for g in "$ks"/*/guid; do cat "$g"; echo; done | sort -u | wc -l)" = 6 ] || fail "guids are not distinct"

# project default with its uuid and an empty sudi dir
grep -Eq "$uuid_re" "$ks/manifest/default/uuid" || fail "manifest/default/uuid"
[ -d "$ks/manifest/default/sudi" ] || fail "no manifest/default/sudi"
[ -z "$(ls -A "$ks/manifest/default/sudi")" ] || fail "sudi dir not empty"
[ -d "$ks/pcr7data" ] || fail "no pcr7data dir"

# initkeyset is the same operation
expect_rc 0 trust initkeyset --keysetname other --org "Other Org"
[ -f "$KEYS/other/uki-tpm/cert.pem" ] || fail "initkeyset made no keyset"
openssl x509 -in "$KEYS/other/uefi-db/cert.pem" -noout -subject | grep -q 'O = Other Org, OU = other, CN = UEFI DB' ||
	fail "initkeyset subject: $(openssl x509 -in "$KEYS/other/uefi-db/cert.pem" -noout -subject)"
# without --org: no O at all
expect_rc 0 trust keyset add plain
openssl x509 -in "$KEYS/plain/uefi-pk/cert.pem" -noout -subject -nameopt RFC2253 | grep -qx 'subject=CN=UEFI PK,OU=plain' ||
	fail "subject without --org: $(openssl x509 -in "$KEYS/plain/uefi-pk/cert.pem" -noout -subject -nameopt RFC2253)"

# keys are fresh per keyset
[ "$(openssl x509 -in "$KEYS/prod/uefi-pk/cert.pem" -noout -pubkey)" != \
	"$(openssl x509 -in "$KEYS/other/uefi-pk/cert.pem" -noout -pubkey)" ] || fail "keysets share a key"

expect_rc 0 trust keyset list
[ "$(cat "$T/out")" = "$(printf 'other\nplain\nprod')" ] || fail "keyset list: $(cat "$T/out")"
# nothing outside the test's XDG dirs
[ -z "$(ls -A "$HOME")" ] || fail "something was written to \$HOME: $(ls -A "$HOME")"
echo ok
