# shellcheck shell=bash
# test-efivars-update.sh: signed Secure Boot variable updates.
# - `efivars sign-update` payloads have the spec's layout and their
#   signature verifies with openssl cms over the bytes the spec says it
#   covers (rebuilt here in shell);
# - efitools (sign-efi-sig-list, an independent implementation) payloads are
#   accepted by `efivars apply`, and ours by the same rules;
# - apply refuses, with one line and the vars file untouched: a foreign
#   key, a KEK update signed by a db key, a replacing update not newer than
#   the stored one, truncated and corrupt payloads;
# - append drops entries already there; an empty replacing update deletes;
# - `computepcr7 --update` equals the prediction for the dbx apply leaves
#   (`computepcr7 --dbx`), and names the class a revoked cert refuses;
# - --efivarfs DIR writes attributes | payload and nothing when refused.
. "$(dirname "$0")/../lib.sh"

template=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -r "$template" ] || skip "no OVMF vars template at $template (make deps)"
command -v sign-efi-sig-list >/dev/null || skip "no sign-efi-sig-list (efitools; make deps)"

expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust keyset add other
ks=$KEYS/snakeoil
expect_rc 0 trust efivars enroll --keyset snakeoil --output "$T/vars.fd"

# --- layout and signature ---------------------------------------------------
expect_rc 0 trust efivars sign-update --keyset snakeoil --var dbx --append \
	--output "$T/dbx.auth" "$ks/uki-limited/cert.pem"
f=$T/dbx.auth
[ "$(head -c 16 "$f" | od -An -tx1 | tr -d ' \n')" = "00000000000000000000000000000000" ] ||
	fail "an append payload's EFI_TIME is not zero"
hdr=$(od -An -tx1 -j16 -N40 "$f" | tr -d ' \n')
[ "${hdr:8:8}" = "0002f10e" ] || fail "WIN_CERTIFICATE revision/type: ${hdr:8:8}"
[ "${hdr:16:32}" = "9dd2af4adf68ee498aa9347d375665a7" ] || fail "CertType is not the PKCS7 GUID"
# sd.der, data.esl; msg, the signed bytes ("dbx" UTF-16LE | image security
# GUID | 0x67 | time | data); ci.der, the SignedData in a ContentInfo
auth_cms "$f" dbx
[ "$(head -c 2 "$T/sd.der" | od -An -tx1 | tr -d ' ')" = "3082" ] || fail "CertData is not a DER SEQUENCE"
# the bare SignedData (version 1 after the SEQUENCE header), as efitools
[ "$(od -An -tx1 -j4 -N3 "$T/sd.der" | tr -d ' \n')" = "020101" ] || fail "CertData is not a bare SignedData"
# the data: one X509 list owned by the KEK's guid holding the limited cert
openssl x509 -in "$ks/uki-limited/cert.pem" -outform DER -out "$T/limited.der"
cmp -s <(tail -c "$(stat -c %s "$T/limited.der")" "$T/data.esl") "$T/limited.der" ||
	fail "the data does not end with the uki-limited certificate"
openssl cms -verify -binary -inform DER -in "$T/ci.der" -content "$T/msg" -noverify \
	-out /dev/null 2>"$T/cms" || fail "openssl cms does not verify the payload: $(cat "$T/cms")"
openssl cms -verify -binary -inform DER -in "$T/ci.der" -content "$T/msg" \
	-CAfile "$ks/uefi-kek/cert.pem" -partial_chain -purpose any -out /dev/null 2>"$T/cms" ||
	fail "the payload is not signed by the keyset's KEK: $(cat "$T/cms")"
printf 'X' >>"$T/msg"
if openssl cms -verify -binary -inform DER -in "$T/ci.der" -content "$T/msg" -noverify \
	-out /dev/null 2>/dev/null; then fail "openssl cms verifies a changed message"; fi

# --- apply: ours and efitools' ----------------------------------------------
cp "$T/vars.fd" "$T/v.fd"
expect_rc 0 trust efivars apply "$T/dbx.auth" --vars "$T/v.fd"
grep -q "dbx.auth: dbx (append), signed by .*CN=UEFI KEK: applied" "$T/out" || fail "apply: $(cat "$T/out")"
expect_rc 0 trust efivars list "$T/v.fd"
grep -A1 '^dbx ' "$T/out" | grep -q 'CN=UKI Limited' || fail "dbx does not hold the limited cert"
# appending the same entry again changes nothing but the record
expect_rc 0 trust efivars apply "$T/dbx.auth" --vars "$T/v.fd"
grep -q '  dbx: 966 bytes' "$T/out" || fail "a duplicate append grew dbx: $(cat "$T/out")"

cert-to-efi-sig-list -g 11111111-2222-3333-4444-555555555555 "$ks/uki-tpm/cert.pem" "$T/tpm.esl" >/dev/null
sign-efi-sig-list -a -k "$ks/uefi-kek/privkey.pem" -c "$ks/uefi-kek/cert.pem" dbx "$T/tpm.esl" \
	"$T/efitools-dbx.auth" >/dev/null
expect_rc 0 trust efivars apply "$T/efitools-dbx.auth" --vars "$T/v.fd"
expect_rc 0 trust efivars list "$T/v.fd" --json
grep -q '"owner":"11111111-2222-3333-4444-555555555555","subject":"[^"]*CN=UKI TPM"' "$T/out" ||
	fail "efitools' dbx append was not applied: $(cat "$T/out")"
sign-efi-sig-list -t "2030-01-02 03:04:05" -k "$ks/uefi-kek/privkey.pem" -c "$ks/uefi-kek/cert.pem" \
	db "$T/tpm.esl" "$T/efitools-db.auth" >/dev/null
expect_rc 0 trust efivars apply "$T/efitools-db.auth" --vars "$T/v.fd"
expect_rc 0 trust efivars list "$T/v.fd"
[ "$(awk '/^[^ ]/ { in_db = $1 == "db" } in_db && /^  x509/' "$T/out" | wc -l)" = 1 ] ||
	fail "efitools' db replacement left $(cat "$T/out")"

# --- refusals: one line, nothing written ---------------------------------------
refused() { # PATTERN FILE.auth...: apply to a copy is refused, the copy unchanged
	local pat=$1
	shift
	cp "$T/v.fd" "$T/before.fd"
	expect_error 1 "$pat" trust efivars apply "$@" --vars "$T/v.fd"
	cmp -s "$T/before.fd" "$T/v.fd" || fail "a refused apply changed the vars file ($pat)"
}
expect_rc 0 trust efivars sign-update --keyset other --var dbx --append --output "$T/foreign.auth" \
	"sha256:$(printf '%064d' 1)"
refused "foreign.auth: the signer is not a PK or KEK certificate" "$T/foreign.auth"
# all or nothing: a good payload before a bad one is not kept either
refused "foreign.auth: the signer is not" "$T/dbx.auth" "$T/foreign.auth"
# KEK takes PK's signature (or a cert PK issued, as firmware chains: the
# keyset's KEK is one), not db's
sign-efi-sig-list -k "$ks/uefi-db/privkey.pem" -c "$ks/uefi-db/cert.pem" KEK "$T/tpm.esl" \
	"$T/kek-by-db.auth" >/dev/null
refused "kek-by-db.auth: the signer is not the PK certificate" "$T/kek-by-db.auth"
sign-efi-sig-list -a -k "$ks/uefi-db/privkey.pem" -c "$ks/uefi-db/cert.pem" db "$T/tpm.esl" \
	"$T/db-by-db.auth" >/dev/null
refused "db-by-db.auth: the signer is not a PK or KEK" "$T/db-by-db.auth"
# older and equal timestamps than the stored db (2030-01-02 03:04:05)
for ts in 2030-01-02T03:04:04Z 2030-01-02T03:04:05Z; do
	expect_rc 0 trust efivars sign-update --keyset snakeoil --var db --timestamp "$ts" \
		--output "$T/old-db.auth" "$ks/uki-production/cert.pem"
	refused "old-db.auth: timestamp $ts is not later than db's 2030-01-02T03:04:05Z" "$T/old-db.auth"
done
head -c 30 "$T/dbx.auth" >"$T/short.auth"
refused "short.auth: offset 0: truncated" "$T/short.auth"
{ head -c 20 "$T/dbx.auth"; printf '\x00\x01'; tail -c +23 "$T/dbx.auth"; } >"$T/rev.auth"
refused "rev.auth: offset 20: WIN_CERTIFICATE revision 0x0100" "$T/rev.auth"
{ head -c 16 "$T/dbx.auth"; printf '\xff\xff\x00\x00'; tail -c +21 "$T/dbx.auth"; } >"$T/len.auth"
refused "len.auth: offset 16: WIN_CERTIFICATE length 65535 does not fit" "$T/len.auth"
cp "$T/dbx.auth" "$T/flip.auth"
printf '\x00' | dd of="$T/flip.auth" bs=1 seek=$(($(stat -c %s "$T/flip.auth") - 40)) conv=notrunc status=none
refused "flip.auth: the signature covers none of PK, KEK, db, dbx" "$T/flip.auth"
expect_error 1 "efivars apply: $T/missing.auth: No such file" trust efivars apply "$T/missing.auth" --vars "$T/v.fd"
expect_error 2 "needs one of --vars and --efivarfs" trust efivars apply "$T/dbx.auth"
expect_error 2 "--var must be PK, KEK, db or dbx, not 'dbt'" \
	trust efivars sign-update --keyset snakeoil --var dbt --output "$T/x.auth"
expect_error 1 "'sha256:12': expected sha256: and 64 hex digits" \
	trust efivars sign-update --keyset snakeoil --var dbx --append --output "$T/x.auth" sha256:12
[ ! -e "$T/x.auth" ] || fail "a refused sign-update left its output"
# setup mode: a store without PK takes no signed update
cp "$template" "$T/empty.fd"
expect_error 1 "no PK is enrolled" trust efivars apply "$T/dbx.auth" --vars "$T/empty.fd"

# --- KEK rotation by PK, deletion by an empty update ----------------------------
expect_rc 0 trust efivars sign-update --keyset snakeoil --var KEK --output "$T/kek.auth" \
	"$KEYS/other/uefi-kek/cert.pem"
expect_rc 0 trust efivars apply "$T/kek.auth" --vars "$T/v.fd"
expect_rc 0 trust efivars list "$T/v.fd" --json
grep -q '"name":"KEK".*"subject":"[^"]*OU=other/CN=UEFI KEK"' "$T/out" || fail "KEK not replaced"
# now the other keyset's KEK signs db updates; the snakeoil KEK still does
# only because the snakeoil PK issued it (firmware accepts chains to PK)
expect_rc 0 trust efivars apply "$T/foreign.auth" --vars "$T/v.fd"
expect_rc 0 trust efivars sign-update --keyset snakeoil --var dbx --append --output "$T/s2.auth" \
	"sha256:$(printf '%064d' 2)"
expect_rc 0 trust efivars apply "$T/s2.auth" --vars "$T/v.fd"
expect_rc 0 trust efivars sign-update --keyset other --var dbx --output "$T/del.auth"
expect_rc 0 trust efivars apply "$T/del.auth" --vars "$T/v.fd"
grep -q '  dbx: absent' "$T/out" || fail "an empty update did not delete dbx: $(cat "$T/out")"

# --- computepcr7 --update ------------------------------------------------------
expect_rc 0 trust computepcr7 snakeoil --update "$T/dbx.auth"
grep -qx 'uki-limited: refused (dbx holds its certificate)' "$T/out" || fail "limited not refused: $(cat "$T/out")"
prod=$(awk '$1 == "uki-production:" { print $2 }' "$T/out")
expect_rc 0 trust computepcr7 snakeoil --dbx "$T/data.esl"
grep -qx "uki-production: $prod" "$T/out" || fail "--update and --dbx disagree: $prod vs $(cat "$T/out")"
expect_rc 0 trust computepcr7 snakeoil
grep -q "$prod" "$T/out" && fail "the dbx update did not change the production PCR7"
expect_rc 0 trust computepcr7 snakeoil --update "$T/dbx.auth" --json
grep -q '"uki-limited":null' "$T/out" || fail "--json: $(cat "$T/out")"
expect_error 1 "uki-limited: refused by the firmware after the updates \(dbx holds its certificate\)" \
	trust computepcr7 snakeoil --update "$T/dbx.auth" --events --class limited
expect_error 1 "foreign.auth: the signer is not a PK or KEK" trust computepcr7 snakeoil --update "$T/foreign.auth"

# --- efivarfs ---------------------------------------------------------------------
d=$T/efivars
mkdir "$d"
pk=$d/PK-8be4df61-93ca-11d2-aa0d-00e098032b8c kek=$d/KEK-8be4df61-93ca-11d2-aa0d-00e098032b8c
for k in pk kek; do
	cert-to-efi-sig-list -g "$(cat "$ks/uefi-$k/guid")" "$ks/uefi-$k/cert.pem" "$T/$k.esl" >/dev/null
done
{ printf '\x27\0\0\0'; cat "$T/pk.esl"; } >"$pk"
{ printf '\x27\0\0\0'; cat "$T/kek.esl"; } >"$kek"
before=$(tree_snapshot "$d")
expect_error 1 "foreign.auth: the signer is not a PK or KEK" trust efivars apply "$T/foreign.auth" --efivarfs "$d"
[ "$(tree_snapshot "$d")" = "$before" ] || fail "a refused update was written to efivarfs"
expect_rc 0 trust efivars apply --efivarfs "$d" "$T/dbx.auth"
dbx=$d/dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f
cmp -s "$dbx" <(printf '\x67\0\0\0'; cat "$T/dbx.auth") || fail "efivarfs file is not attributes | payload"
grep -q '  dbx: 2393 bytes' "$T/out" || fail "apply --efivarfs: $(cat "$T/out")"
