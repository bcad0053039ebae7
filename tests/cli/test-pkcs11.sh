#!/bin/bash
# Keyset keys in a PKCS#11 token (SoftHSM2): `keyset add --pkcs11` makes the
# ten keys of the table in the token (labels = item names), so no private key
# of theirs is in any file of the keyset; every command that signs uses the
# token: sign efi (sbverify), keyset pcr7data (signatures verify with the
# pubkeys), sudi add and project add (certificates chain to the CAs),
# efivars sign-update (openssl cms verifies it against the KEK). `keyset
# import-key` moves a file key of another keyset into a token. A wrong PIN,
# no PIN, a missing object, a label already in the token and a PIN in the
# URI each get one line and write nothing. tests/vm/test-secureboot.sh boots
# UKIs of an HSM keyset under Secure Boot.
. "$(dirname "$0")/../lib.sh"
command -v sbverify >/dev/null || skip "sbverify is not installed (make deps)"
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -r "$STUB" ] || skip "no systemd-stub (systemd-boot-efi)"
softhsm_token trust-test

expect_rc 0 trust keyset add --pkcs11 "$P11_URI" hsm
KS=$KEYS/hsm
ITEMS="manifest-ca sudi-ca uefi-pk uefi-kek uefi-db uki-production uki-tpm uki-limited tpmpol-admin tpmpol-luks"
for i in $ITEMS; do
	[ -s "$KS/$i/cert.pem" ] || fail "$i: no cert.pem"
	[ ! -e "$KS/$i/privkey.pem" ] || fail "$i: a privkey.pem in a token keyset"
	grep -qx "pkcs11:token=trust-test;object=$i;type=private?module-path=$P11_MODULE" \
		"$KS/$i/privkey.uri" || fail "$i: privkey.uri: $(cat "$KS/$i/privkey.uri")"
done
# shellcheck disable=SC2046 # the item directories
if grep -rl 'PRIVATE KEY' $(for i in $ITEMS; do echo "$KS/$i"; done) "$KS/pcr7data" >"$T/keyfiles"; then
	fail "private key material in files: $(cat "$T/keyfiles")"
fi
if command -v pkcs11-tool >/dev/null; then
	pkcs11-tool --module "$P11_MODULE" --token-label trust-test --login --pin 1234 \
		--list-objects --type privkey >"$T/objects" 2>/dev/null || fail "pkcs11-tool"
	[ "$(grep -c '^Private Key Object; RSA' "$T/objects")" = 10 ] ||
		fail "the token holds: $(cat "$T/objects")"
	grep -A8 'label: *uefi-pk$' "$T/objects" | grep -q 'Access: *sensitive' ||
		fail "uefi-pk is not sensitive in the token: $(cat "$T/objects")"
fi
expect_rc 0 trust keyset show hsm --json
json_check "
keys = {d['name']: d.get('key') for d in j['dirs']}
for i in args[0].split():
    assert keys[i] == 'pkcs11', (i, keys)
assert 'key' not in [d for d in j['dirs'] if d['name'] == 'pcr7data'][0]
" "$ITEMS"
expect_rc 0 trust keyset show hsm
grep -q "^  (private key in a token: pkcs11:token=trust-test;object=uefi-db;" "$T/out" ||
	fail "keyset show does not say where uefi-db's key is: $(cat "$T/out")"

# sign efi with the token's uki-production key: sbverify agrees
expect_rc 0 trust sign efi --keyset hsm --class production --output "$T/signed.efi" "$STUB"
sbverify --cert "$KS/uki-production/cert.pem" "$T/signed.efi" >/dev/null 2>&1 ||
	fail "sbverify refuses the token-signed image"
if sbverify --cert "$KS/uki-tpm/cert.pem" "$T/signed.efi" >/dev/null 2>&1; then
	fail "sbverify accepts the image with the wrong certificate"
fi

# pcr7data: the signed policies verify with the keyset's policy pubkeys,
# which are the token keys' (their certificates' public keys)
pub() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | od -An -tx1 | tr -d ' \n'; }
pem_pub() { openssl pkey -pubin -in "$1" -outform DER | od -An -tx1 | tr -d ' \n'; }
[ "$(pub "$KS/tpmpol-luks/cert.pem")" = "$(pem_pub "$KS/pcr7data/policy-2/pubkeys/luks-hsm.pem")" ] ||
	fail "pubkeys/luks-hsm.pem is not tpmpol-luks's key"
[ "$(pub "$KS/tpmpol-admin/cert.pem")" = "$(pem_pub "$KS/pcr7data/policy-2/pubkeys/tpmpass-hsm.pem")" ] ||
	fail "pubkeys/tpmpass-hsm.pem is not tpmpol-admin's key"
swapname() { # the pair-swapped hex entry name of a PCR7 file
	local h
	h=$(xxd -p -c 64 "$1" | sed 's/\(..\)\(..\)/\2\1/g')
	echo "${h:0:2}/${h:2}"
}
P2=$KS/pcr7data/policy-2
n=0
for lim in "$P2"/*/*/pcr_limited.bin; do
	d=$(dirname "$lim")
	expect_rc 0 trust tpm-policy-gen --pcr7-production "$d/pcr_prod.bin" --pcr7-tpm "$d/pcr_tpm.bin" \
		--luks-policy-file "$T/luks.policy" --passwd-policy-file "$T/passwd.policy"
	openssl dgst -sha256 -verify "$P2/pubkeys/luks-hsm.pem" \
		-signature "$P2/$(swapname "$d/pcr_prod.bin")/tpm_luks.policy.signed" "$T/luks.policy" \
		>/dev/null 2>&1 || fail "$d: the luks policy signature does not verify"
	openssl dgst -sha256 -verify "$P2/pubkeys/tpmpass-hsm.pem" \
		-signature "$P2/$(swapname "$d/pcr_tpm.bin")/tpm_passwd.policy.signed" "$T/passwd.policy" \
		>/dev/null 2>&1 || fail "$d: the passwd policy signature does not verify"
	n=$((n + 1))
done
[ $n -ge 1 ] || fail "no entry in the token keyset's pcr7data"

# sudi add (sudi-ca in the token) and project add (manifest-ca)
expect_rc 0 trust sudi add hsm default m-1
openssl verify -CAfile "$KS/sudi-ca/cert.pem" "$KS/manifest/default/sudi/m-1/cert.pem" \
	>/dev/null || fail "the SUDI cert does not chain to the token's sudi CA"
expect_rc 0 trust project add hsm prod2
openssl verify -CAfile "$KS/manifest-ca/cert.pem" "$KS/manifest/prod2/cert.pem" >/dev/null ||
	fail "the project cert does not chain to the token's manifest CA"

# efivars sign-update with the token's KEK: openssl cms verifies it
expect_rc 0 trust efivars sign-update --keyset hsm --var db --append --output "$T/db.auth" \
	"$KS/uki-limited/cert.pem"
auth_cms "$T/db.auth" db
openssl cms -verify -binary -inform DER -in "$T/ci.der" -content "$T/msg" \
	-CAfile "$KS/uefi-kek/cert.pem" -partial_chain -purpose any -out /dev/null 2>"$T/cms" ||
	fail "the db update is not signed by the token's KEK: $(cat "$T/cms")"

# --- refusals: one line, nothing written -------------------------------------
TRUST_PKCS11_PIN=0000 expect_error 1 "token 'trust-test': login refused" \
	trust sign efi --keyset hsm --class production --output "$T/wrong-pin.efi" "$STUB"
[ ! -e "$T/wrong-pin.efi" ] || fail "a wrong PIN left an output"
(
	unset TRUST_PKCS11_PIN
	expect_error 1 "no PIN \(set \\\$TRUST_PKCS11_PIN, or pin-source in the URI\)" \
		trust sign efi --keyset hsm --class production --output "$T/no-pin.efi" "$STUB"
) || exit 1
[ ! -e "$T/no-pin.efi" ] || fail "no PIN left an output"
sed -i 's/object=uki-tpm/object=missing/' "$KS/uki-tpm/privkey.uri"
expect_error 1 "uki-tpm/privkey.uri: token 'trust-test': no private key 'missing'" \
	trust sign efi --keyset hsm --class tpm --output "$T/missing.efi" "$STUB"
[ ! -e "$T/missing.efi" ] || fail "a missing object left an output"
before=$(tree_snapshot "$KEYS")
expect_error 1 "keyset 'hsm2': manifest-ca: token 'trust-test': a private key 'manifest-ca' is there already" \
	trust keyset add --pkcs11 "$P11_URI" hsm2
[ "$(tree_snapshot "$KEYS")" = "$before" ] || fail "a refused keyset add left files"
# a keyset add that fails half-way takes its keys out of the token again:
# uefi-db's label is taken, after four keys were made
if command -v pkcs11-tool >/dev/null; then
	softhsm2-util --init-token --free --label third --pin 1234 --so-pin 5678 >/dev/null ||
		fail "softhsm2-util --init-token third"
	pkcs11-tool --module "$P11_MODULE" --token-label third --login --pin 1234 --keypairgen \
		--key-type rsa:2048 --label uefi-db >/dev/null 2>&1 || fail "pkcs11-tool --keypairgen"
	expect_error 1 "keyset 'hsm4': uefi-db: token 'third': a private key 'uefi-db' is there already" \
		trust keyset add --pkcs11 "pkcs11:token=third?module-path=$P11_MODULE" hsm4
	[ ! -e "$KEYS/hsm4" ] || fail "a failed keyset add left hsm4"
	pkcs11-tool --module "$P11_MODULE" --token-label third --login --pin 1234 --list-objects \
		2>/dev/null | sed -n 's/^ *label: *//p' | sort -u >"$T/third"
	[ "$(cat "$T/third")" = uefi-db ] || fail "the failed keyset add left in the token: $(cat "$T/third")"
fi
expect_error 2 "pin-value: a PIN does not belong in a URI" \
	trust keyset add --pkcs11 "pkcs11:token=trust-test?pin-value=1234" hsm3
expect_error 2 "unknown path attribute 'tokn'" trust keyset add --pkcs11 "pkcs11:tokn=x" hsm3
expect_error 1 "token 'nope': not found in PKCS#11 module" \
	trust keyset add --pkcs11 "pkcs11:token=nope?module-path=$P11_MODULE" hsm3
[ ! -e "$KEYS/hsm3" ] || fail "a refused keyset add made hsm3"

# --- import-key: a file keyset's key moves into a second token ---------------
softhsm2-util --init-token --free --label second --pin 1234 --so-pin 5678 >/dev/null ||
	fail "softhsm2-util --init-token second"
U2="pkcs11:token=second?module-path=$P11_MODULE"
expect_rc 0 trust keyset add soft
cp "$KEYS/soft/uki-limited/privkey.pem" "$T/limited.pem"
TRUST_PKCS11_PIN=0000 expect_error 1 "token 'second': login refused" \
	trust keyset import-key soft uki-limited "$U2"
cmp -s "$KEYS/soft/uki-limited/privkey.pem" "$T/limited.pem" || fail "a refused import touched the PEM"
[ ! -e "$KEYS/soft/uki-limited/privkey.uri" ] || fail "a refused import wrote privkey.uri"
expect_error 1 "item 'pcr7data': not a key of a keyset" trust keyset import-key soft pcr7data "$U2"
# the PIN from a pin-source file instead of the environment
printf '1234\n' >"$T/pin"
(
	unset TRUST_PKCS11_PIN
	expect_rc 0 trust keyset import-key soft uki-limited "$U2&pin-source=$T/pin"
) || exit 1
[ ! -e "$KEYS/soft/uki-limited/privkey.pem" ] || fail "import-key left the PEM"
grep -q "^pkcs11:token=second;object=uki-limited;type=private?module-path=.*&pin-source=" \
	"$KEYS/soft/uki-limited/privkey.uri" || fail "privkey.uri: $(cat "$KEYS/soft/uki-limited/privkey.uri")"
(
	unset TRUST_PKCS11_PIN
	expect_rc 0 trust sign efi --keyset soft --class limited --output "$T/limited.efi" "$STUB"
) || exit 1
sbverify --cert "$KEYS/soft/uki-limited/cert.pem" "$T/limited.efi" >/dev/null 2>&1 ||
	fail "sbverify refuses the image signed with the imported key"
expect_error 1 "privkey.uri: the key is in a token already" \
	trust keyset import-key soft uki-limited "$U2"
echo ok
