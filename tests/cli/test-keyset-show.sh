#!/bin/bash
# test-keyset-show.sh: `keyset list` and `keyset show NAME [KEY [ITEM]]
# [--path|--value]` print what is in the keyset.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset list
[ ! -s "$T/out" ] || fail "keyset list without keysets printed $(cat "$T/out")"
expect_rc 0 trust keyset add beta
expect_rc 0 trust keyset add alpha
expect_rc 0 trust keyset list
[ "$(cat "$T/out")" = "$(printf 'alpha\nbeta')" ] || fail "keyset list: $(cat "$T/out")"
ks=$KEYS/alpha

expect_rc 0 trust keyset show alpha
head -n1 "$T/out" | grep -qx "keyset alpha ($ks)" || fail "show header: $(head -n1 "$T/out")"
for d in manifest manifest-ca pcr7data sudi-ca tpmpol-admin tpmpol-luks uefi-db uefi-kek uefi-pk \
	uki-limited uki-production uki-tpm; do
	grep -qx "$d/" "$T/out" || fail "show does not list $d"
done
grep -qx '  default/' "$T/out" || fail "show does not list project default"

expect_rc 0 trust keyset show alpha --path
[ "$(head -n1 "$T/out")" = "$ks" ] || fail "show --path first line"
grep -qx "$ks/uefi-kek" "$T/out" || fail "show --path misses uefi-kek"
[ "$(wc -l <"$T/out")" = 13 ] || fail "show --path: $(cat "$T/out")"

expect_rc 0 trust keyset show alpha uefi-pk guid --value
[ "$(cat "$T/out")" = "$(cat "$ks/uefi-pk/guid")" ] || fail "show guid --value"
expect_rc 0 trust keyset show alpha uefi-pk guid --path
[ "$(cat "$T/out")" = "$ks/uefi-pk/guid" ] || fail "show guid --path"
expect_rc 0 trust keyset show alpha uefi-pk guid
[ "$(cat "$T/out")" = "$(printf '%s\n%s' "$ks/uefi-pk/guid" "$(cat "$ks/uefi-pk/guid")")" ] || fail "show guid"
expect_rc 0 trust keyset show alpha uki-tpm cert.pem --value
cmp -s "$T/out" "$ks/uki-tpm/cert.pem" || fail "show cert.pem --value is not the file"
expect_rc 0 trust keyset show alpha uki-tpm --path
[ "$(cat "$T/out")" = "$(printf '%s\n' "$ks/uki-tpm/cert.pem" "$ks/uki-tpm/guid" "$ks/uki-tpm/privkey.pem")" ] ||
	fail "show KEY --path: $(cat "$T/out")"
# listing a key prints certs but not the private key, unless asked by name
expect_rc 0 trust keyset show alpha uki-tpm
grep -q 'BEGIN CERTIFICATE' "$T/out" || fail "show KEY does not print the cert"
grep -q 'PRIVATE KEY-----' "$T/out" && fail "show KEY prints the private key"
expect_rc 0 trust keyset show alpha uki-tpm privkey.pem --value
cmp -s "$T/out" "$ks/uki-tpm/privkey.pem" || fail "show privkey.pem --value"
expect_rc 0 trust keyset show alpha manifest:default uuid --value
[ "$(cat "$T/out")" = "$(cat "$ks/manifest/default/uuid")" ] || fail "show manifest:default uuid"
expect_rc 0 trust keyset show alpha pcr7data

expect_error 1 "keyset 'alpha': uefi-pk has no item 'nosuch'" trust keyset show alpha uefi-pk nosuch
expect_error 2 "item name 'a/b' must not contain '/'" trust keyset show alpha uefi-pk a/b
expect_error 2 "item name '..' must not start with '.'" trust keyset show alpha uefi-pk ..
rm -rf "$ks/uki-limited"
expect_error 1 "keyset 'alpha': key 'uki-limited' does not exist" trust keyset show alpha uki-limited
echo ok
