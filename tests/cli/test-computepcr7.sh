#!/bin/bash
# test-computepcr7.sh: PCR7 prediction for the snakeoil keyset against an
# independent replay: signature lists built by sbsiglist, UEFI_VARIABLE_DATA
# built with printf, hashes and PCR extends with openssl.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
command -v sbsiglist >/dev/null || skip "sbsiglist (sbsigntool) is not installed"

trust keyset add snakeoil >/dev/null
KS=$KEYS/snakeoil
W=$T/w
mkdir -p "$W"

# guid_bytes GUID: the 16 bytes as hex in EFI's mixed-endian order.
guid_bytes() {
	local g=${1//-/}
	echo "${g:6:2}${g:4:2}${g:2:2}${g:0:2}${g:10:2}${g:8:2}${g:14:2}${g:12:2}${g:16:16}"
}
u64le() { printf '%016x' "$1" | fold -w2 | tac | tr -d '\n'; }
utf16le() { printf '%s' "$1" | iconv -f ascii -t utf-16le | xxd -p | tr -d '\n'; }
sha() { openssl dgst -sha256 -binary | xxd -p -c 64; }
# var_digest VENDOR_GUID NAME DATAFILE: sha256 of UEFI_VARIABLE_DATA.
var_digest() {
	local len
	len=$(stat -c %s "$3")
	{
		echo "$(guid_bytes "$1")$(u64le ${#2})$(u64le "$len")$(utf16le "$2")" | xxd -r -p
		cat "$3"
	} | sha
}
GLOBAL=8be4df61-93ca-11d2-aa0d-00e098032b8c
IMGSEC=d719b2cb-3d3a-4596-a3bc-dad00e67656f

esl_of() { # esl_of KEYDIR OUT
	openssl x509 -in "$KS/$1/cert.pem" -outform der -out "$W/$1.der"
	sbsiglist --owner "$(cat "$KS/$1/guid")" --type x509 --output "$2" "$W/$1.der"
}
esl_of uefi-pk "$W/pk.esl"
esl_of uefi-kek "$W/kek.esl"
: >"$W/db.esl"
for k in uefi-db uki-production uki-tpm uki-limited; do
	esl_of $k "$W/$k.esl"
	cat "$W/$k.esl" >>"$W/db.esl"
	tail -c +29 "$W/$k.esl" >"$W/$k.esd" # owner GUID || DER, after the 28-byte list header
done
printf '\001' >"$W/sb"
: >"$W/empty"

expect_rc 0 trust computepcr7 snakeoil
cp "$T/out" "$W/pcrs"
[ "$(wc -l <"$W/pcrs")" = 3 ] || fail "expected three PCR7 lines"
grep -Eq '^uki-production: [0-9a-f]{64}$' "$W/pcrs" || fail "bad output: $(cat "$W/pcrs")"

for class in production tpm limited; do
	expect_rc 0 trust computepcr7 snakeoil --events --class $class
	cp "$T/out" "$W/ev-$class"
	names=$(awk '{print $1}' "$W/ev-$class" | tr '\n' ' ')
	[ "$names" = "SecureBoot PK KEK db dbx separator authority " ] || fail "event names: $names"
	# Replay: extend 32 zero bytes with every digest, in order.
	pcr=$(printf '0%.0s' $(seq 64))
	while read -r _ d; do
		pcr=$(echo "$pcr$d" | xxd -r -p | sha)
	done <"$W/ev-$class"
	want=$(awk -v k="uki-$class:" '$1 == k {print $2}' "$W/pcrs")
	[ "$pcr" = "$want" ] || fail "$class: replay $pcr != computepcr7 $want"

	# Each event digest, built independently.
	ev() { awk -v n="$1" '$1 == n {print $2}' "$W/ev-$class"; }
	[ "$(ev SecureBoot)" = "$(var_digest $GLOBAL SecureBoot "$W/sb")" ] || fail "SecureBoot digest"
	[ "$(ev SecureBoot)" = ccfc4bb32888a345bc8aeadaba552b627d99348c767681ab3141f5b01e40a40e ] ||
		fail "SecureBoot=1 digest differs from the value every firmware log shows"
	[ "$(ev PK)" = "$(var_digest $GLOBAL PK "$W/pk.esl")" ] || fail "PK digest"
	[ "$(ev KEK)" = "$(var_digest $GLOBAL KEK "$W/kek.esl")" ] || fail "KEK digest"
	[ "$(ev db)" = "$(var_digest $IMGSEC db "$W/db.esl")" ] || fail "db digest"
	[ "$(ev dbx)" = "$(var_digest $IMGSEC dbx "$W/empty")" ] || fail "dbx (absent) digest"
	[ "$(ev separator)" = "$(printf '\0\0\0\0' | sha)" ] || fail "separator digest"
	[ "$(ev authority)" = "$(var_digest $IMGSEC db "$W/uki-$class.esd")" ] || fail "authority digest"
done
# The classes differ in the authority event only.
[ "$(head -6 "$W/ev-production")" = "$(head -6 "$W/ev-tpm")" ] || fail "shared events differ"
[ "$(tail -1 "$W/ev-production")" != "$(tail -1 "$W/ev-limited")" ] || fail "authority equal"

# JSON carries the same values.
expect_rc 0 trust computepcr7 snakeoil --json
for k in uki-production uki-limited uki-tpm; do
	v=$(awk -v k="$k:" '$1 == k {print $2}' "$W/pcrs")
	grep -q "\"$k\":\"$v\"" "$T/out" || fail "--json lacks $k"
done
expect_rc 0 trust computepcr7 snakeoil --json --events --class tpm
grep -q '"class":"tpm"' "$T/out" || fail "--json --events"

# dbx from a file changes only the dbx event (and the PCRs).
head -c 32 /dev/urandom >"$W/h.bin"
sbsiglist --owner "$(cat "$KS/uefi-db/guid")" --type sha256 --output "$W/dbx.esl" "$W/h.bin"
expect_rc 0 trust computepcr7 snakeoil --dbx "$W/dbx.esl" --events
[ "$(awk '$1 == "dbx" {print $2}' "$T/out")" = "$(var_digest $IMGSEC dbx "$W/dbx.esl")" ] ||
	fail "dbx digest with --dbx"
[ "$(awk '$1 == "db" {print $2}' "$T/out")" = "$(awk '$1 == "db" {print $2}' "$W/ev-production")" ] ||
	fail "db changed with --dbx"

# Bad inputs: one error line, exit codes.
head -c 100 /dev/urandom >"$W/junk"
expect_error 1 "junk: not an EFI signature list" trust computepcr7 snakeoil --dbx "$W/junk"
expect_error 1 "keyset 'nope' does not exist" trust computepcr7 nope
expect_error 2 "expected one KEYSET" trust computepcr7
expect_error 2 "class" trust computepcr7 snakeoil --events --class bogus
cp -r "$KS" "$KEYS/broken"
echo "not-a-guid" >"$KEYS/broken/uki-tpm/guid"
expect_error 1 "uki-tpm/guid: not a GUID" trust computepcr7 broken
cp "$KS/uki-tpm/guid" "$KEYS/broken/uki-tpm/guid"
echo garbage >"$KEYS/broken/uefi-kek/cert.pem"
expect_error 1 "uefi-kek/cert.pem: not a PEM certificate" trust computepcr7 broken
expect_rc 0 trust computepcr7 --help
grep -q "NAME HEXDIGEST" "$T/out" || fail "--help does not document --events"
echo "computepcr7 ok"
