# shellcheck shell=bash
# test-efivars.sh: `trust efivars enroll` writes PK, KEK and db into an OVMF
# vars file exactly as the spec lays them out (the expected records are
# rebuilt here in shell from the keyset's certs and guids, independently of
# the C code), the db bytes are the ones `computepcr7` measures, re-enrolling
# replaces rather than duplicates, and `efivars list` shows them; with --json
# the same (the text is rebuilt from the JSON), a name with '"' and '\'
# escaped, and nothing on stdout when the store is broken.
. "$(dirname "$0")/../lib.sh"

template=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -r "$template" ] || skip "no OVMF vars template at $template (make deps)"

expect_rc 0 trust keyset add snakeoil
ks=$KEYS/snakeoil
expect_rc 0 trust efivars enroll --keyset snakeoil --output "$T/vars.fd"
[ "$(stat -c %s "$T/vars.fd")" = "$(stat -c %s "$template")" ] || fail "vars file size changed"

le() { # VALUE BYTES
	local i s=
	for ((i = 0; i < $2; i++)); do s+=$(printf '\\x%02x' $((($1 >> (8 * i)) & 0xff))); done
	printf '%b' "$s"
}
guid() { # text GUID in EFI byte order
	local h=${1//-/}
	printf '%b' "$(echo "${h:6:2}${h:4:2}${h:2:2}${h:0:2}${h:10:2}${h:8:2}${h:14:2}${h:12:2}${h:16:16}" |
		sed 's/../\\x&/g')"
}
esl() { # KEYDIR: one EFI_SIGNATURE_LIST with the key's cert, owned by its guid
	openssl x509 -in "$ks/$1/cert.pem" -outform DER -out "$T/$1.der"
	local n
	n=$(stat -c %s "$T/$1.der")
	guid a5c059a1-94e4-4aa7-87b5-ab155c2bf072
	le $((28 + 16 + n)) 4; le 0 4; le $((16 + n)) 4
	guid "$(cat "$ks/$1/guid")"
	cat "$T/$1.der"
}
record() { # NAME VENDOR DATAFILE: record header, UTF-16LE name + NUL, data
	local name=$1 n=${#1} size c
	size=$(stat -c %s "$3")
	printf '\xaa\x55\x3f\x00'; le $((0x27)) 4
	head -c 28 /dev/zero # MonotonicCount, TimeStamp, PubKeyIndex
	le $((2 * (n + 1))) 4; le "$size" 4
	guid "$2"
	for ((c = 0; c < n; c++)); do printf '%s\0' "${name:c:1}"; done
	printf '\0\0'
	cat "$3"
	# pad to the next 4-byte boundary with erased flash
	head -c $(((4 - (60 + 2 * (n + 1) + size) % 4) % 4)) /dev/zero | tr '\0' '\377'
}
# in_store RECORDS: the template with the records of file RECORDS at the
# start of its (empty) variable store
in_store() {
	head -c $((0x64)) "$template"
	cat "$1"
	tail -c +$((0x64 + $(stat -c %s "$1") + 1)) "$template"
}
global=8be4df61-93ca-11d2-aa0d-00e098032b8c
imagesec=d719b2cb-3d3a-4596-a3bc-dad00e67656f
esl uefi-pk >"$T/pk.esl"
esl uefi-kek >"$T/kek.esl"
{ esl uefi-db; esl uki-production; esl uki-tpm; esl uki-limited; } >"$T/db.esl"
{ record PK $global "$T/pk.esl"; record KEK $global "$T/kek.esl"; record db $imagesec "$T/db.esl"; } >"$T/records"
len=$(stat -c %s "$T/records")
cmp -s <(tail -c +$((0x64 + 1)) "$T/vars.fd" | head -c "$len") "$T/records" ||
	fail "the records at 0x64 are not PK, KEK, db as the spec lays them out"
# the rest of the store is still erased; the headers before it unchanged
tail -c +$((0x64 + len + 1)) "$T/vars.fd" | head -c 4096 | cmp -s - <(head -c 4096 /dev/zero | tr '\0' '\377') ||
	fail "bytes after the records are not erased"
cmp -s <(head -c $((0x64)) "$T/vars.fd") <(head -c $((0x64)) "$template") || fail "headers changed"
cmp -s <(tail -c +$((0x40000 + 1)) "$T/vars.fd") <(tail -c +$((0x40000 + 1)) "$template") ||
	fail "the fault-tolerant-write area changed"

# the db computepcr7 measures is the db enrolled
expect_rc 0 trust computepcr7 snakeoil --events --class production
want=$(awk '$1 == "db" { print $2 }' "$T/out")
got=$({ guid $imagesec; le 2 8; le "$(stat -c %s "$T/db.esl")" 8; printf 'd\0b\0'; cat "$T/db.esl"; } |
	sha256sum | cut -d' ' -f1)
[ -n "$want" ] && [ "$want" = "$got" ] || fail "db event digest $want, enrolled db hashes to $got"

# list
expect_rc 0 trust efivars list "$T/vars.fd"
cp "$T/out" "$T/list"
grep -Eq "^PK +$global attributes 0x27 size $(stat -c %s "$T/pk.esl")\$" "$T/list" || fail "list: PK line: $(cat "$T/list")"
grep -Eq "^db +$imagesec attributes 0x27 size $(stat -c %s "$T/db.esl")\$" "$T/list" || fail "list: db line"
for k in uefi-pk uefi-kek uefi-db uki-production uki-tpm uki-limited; do
	grep -q "owner $(cat "$ks/$k/guid")  .*CN=" "$T/list" || fail "list: no entry owned by $k's guid"
done
[ "$(grep -c 'x509 ' "$T/list")" = 6 ] || fail "list: expected 6 certificates"
# list --json: the text output rebuilt from the JSON
as_text='
lines = []
for v in j:
    lines.append("%-16s %s attributes 0x%02x size %d" % (v["name"], v["guid"], v["attributes"], v["size"]))
    for e in v.get("entries", []):
        if e["type"] == "x509":
            lines.append("  x509   owner %s  %s" % (e["owner"], e["subject"]))
        elif e["type"] == "sha256":
            lines.append("  sha256 owner %s  %s" % (e["owner"], e["hash"]))
        else:
            lines.append("  type %s owner %s  %d bytes" % (e["signature_type"], e["owner"], e["size"]))
assert lines == text.splitlines(), lines
'
json_text efivars list "$T/vars.fd"
expect_rc 0 trust efivars list --json "$T/vars.fd"
json_check "$as_text"'
assert [v["name"] for v in j] == ["PK", "KEK", "db"] and j[0]["attributes"] == 0x27, j
assert [e["owner"] for e in j[2]["entries"]] == args, j[2]' \
	"$(cat "$ks/uefi-db/guid")" "$(cat "$ks/uki-production/guid")" "$(cat "$ks/uki-tpm/guid")" \
	"$(cat "$ks/uki-limited/guid")"
# a variable whose name has a quote and a backslash, in the template's empty store
printf 'x' >"$T/one"
record 'a"b\c' $global "$T/one" >"$T/rec"
in_store "$T/rec" >"$T/odd.fd"
json_text efivars list "$T/odd.fd"
expect_rc 0 trust efivars list "$T/odd.fd" --json
json_check "$as_text"'
assert [(v["name"], v["size"], "entries" in v) for v in j] == [(args[0], 1, False)], j' 'a"b\c'

# re-enrolling into our own output: old records deleted (state 0x3c), one of each valid
expect_rc 0 trust efivars enroll --keyset snakeoil --template "$T/vars.fd" --output "$T/vars2.fd"
[ "$(od -An -tx1 -j $((0x66)) -N1 "$T/vars2.fd" | tr -d ' ')" = 3c ] || fail "old PK record not marked deleted"
cmp -s <(tail -c +$((0x64 + len + 1)) "$T/vars2.fd" | head -c "$len") "$T/records" ||
	fail "re-enrolled records differ"
expect_rc 0 trust efivars list "$T/vars2.fd"
cmp -s "$T/out" "$T/list" || fail "list after re-enrolling differs"

# dbx from a file: validated, enrolled after db
printf 'x%.0s' $(seq 32) >"$T/hash"
{ guid c1c41626-504c-4092-aca9-41f936934328; le $((28 + 48)) 4; le 0 4; le 48 4
  guid 11111111-2222-3333-4444-555555555555; head -c 32 /dev/zero; } >"$T/dbx.esl"
expect_rc 0 trust efivars enroll --keyset snakeoil --dbx "$T/dbx.esl" --output "$T/vars3.fd"
expect_rc 0 trust efivars list "$T/vars3.fd"
grep -q "^dbx .* size 76\$" "$T/out" || fail "dbx not listed: $(cat "$T/out")"
grep -q "sha256 owner 11111111-2222-3333-4444-555555555555  0000" "$T/out" || fail "dbx entry not listed"
head -c 30 "$T/dbx.esl" >"$T/bad.esl"
expect_error 1 "bad.esl" trust efivars enroll --keyset snakeoil --dbx "$T/bad.esl" --output "$T/x.fd"
# and an entry of a type list does not know (EFI_CERT_SHA1), in JSON too
{ cat "$T/dbx.esl"; guid 826ca512-cf10-4ac9-b187-be01496631bd; le $((28 + 36)) 4; le 0 4; le 36 4
  guid 66666666-7777-8888-9999-000000000000; printf 'y%.0s' $(seq 20); } >"$T/dbx2.esl"
expect_rc 0 trust efivars enroll --keyset snakeoil --dbx "$T/dbx2.esl" --output "$T/vars4.fd"
json_text efivars list "$T/vars4.fd"
expect_rc 0 trust efivars list --json "$T/vars4.fd"
json_check "$as_text"'
dbx = j[-1]
assert dbx["name"] == "dbx" and dbx["entries"] == [
    {"type": "sha256", "owner": "11111111-2222-3333-4444-555555555555", "hash": "00" * 32},
    {"type": "other", "owner": "66666666-7777-8888-9999-000000000000",
     "signature_type": "826ca512-cf10-4ac9-b187-be01496631bd", "size": 20}], dbx'

# a template with Microsoft's keys and dbx: ours replace them, and the dbx
# goes (computepcr7 without --dbx predicts none)
ms=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
if [ -r "$ms" ]; then
	json_text efivars list "$ms"
	grep -q '^dbx ' "$T/out" || fail "the MS template has no dbx?"
	expect_rc 0 trust efivars list --json "$ms"
	json_check "$as_text"
	expect_rc 0 trust efivars enroll --keyset snakeoil --template "$ms" --output "$T/vars-ms.fd"
	expect_rc 0 trust efivars list "$T/vars-ms.fd"
	grep -q '^dbx ' "$T/out" && fail "the template's dbx survived enrolling"
	grep -q 'Microsoft' "$T/out" && fail "Microsoft certs survived enrolling"
	[ "$(grep -c 'x509 ' "$T/out")" = 6 ] || fail "expected our 6 certificates: $(cat "$T/out")"
fi

# errors: one line, no output
expect_error 1 "vars-full.fd: variable store full" trust efivars enroll --keyset snakeoil \
	--template "$TOP/tests/data/efi/vars-full.fd" --output "$T/x.fd"
expect_error 1 "keyset 'nope' does not exist" trust efivars enroll --keyset nope --output "$T/x.fd"
expect_error 1 "pk.esl: no firmware volume signature" trust efivars list "$T/pk.esl"
expect_error 1 "pk.esl: no firmware volume signature" trust efivars list --json "$T/pk.esl"
no_stdout "efivars list --json of a file that is no vars file"
# a broken signature list after a good variable: nothing printed
{ record PK $global "$T/pk.esl"; record db $imagesec "$T/bad.esl"; } >"$T/rec"
in_store "$T/rec" >"$T/bad.fd"
expect_error 1 "bad.fd: db: " trust efivars list --json "$T/bad.fd"
no_stdout "efivars list --json with a broken db"
[ -e "$T/x.fd" ] && fail "a failed enroll left output"
expect_rc 2 trust efivars enroll --keyset snakeoil
expect_rc 2 trust efivars list
expect_rc 2 trust efivars frob
echo ok
