#!/bin/bash
# test-error-lines.sh: a bad input file gives exactly the one expected line,
# byte for byte: the message a library call records, prefixed on its way up
# (errf_prefix), carries no garbage from an earlier or a freed message.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# expect_line RC LINE CMD...: CMD exits RC, stdout empty, stderr exactly LINE.
expect_line() {
	local rc=$1 line=$2
	shift 2
	expect_rc "$rc" "$@"
	[ ! -s "$T/out" ] || fail "'$*' printed on stdout: $(cat "$T/out")"
	[ "$(cat "$T/err")" = "$line" ] || fail "'$*': stderr is
$(cat -A "$T/err")
expected
$line"
}

expect_rc 0 trust keyset add snakeoil
# computepcr7 --dbx: ten zero bytes are no EFI_SIGNATURE_LIST
head -c 10 /dev/zero >"$T/dbx"
expect_line 1 "trust: keyset 'snakeoil': $T/dbx: not an EFI signature list: signature list 0: truncated header (10 bytes)" \
	trust computepcr7 snakeoil --dbx "$T/dbx"
: >"$T/empty"
expect_line 1 "trust: keyset 'snakeoil': $T/empty: empty dbx file" trust computepcr7 snakeoil --dbx "$T/empty"

# pcr7data lookup: malformed info.json files of the entry for the keyset's
# production PCR7
expect_rc 0 trust computepcr7 snakeoil
prod=$(sed -n 's/^uki-production: //p' "$T/out")
cp -R "$KEYS/snakeoil/pcr7data" "$T/tree"
expect_rc 0 trust pcr7data lookup "$T/tree" --pcr7 "$prod"
entry=$(sed -n 's/^dir: //p' "$T/out")
check_info() { # check_info CONTENT CAUSE
	printf '%s' "$1" >"$entry/info.json"
	expect_line 1 "trust: pcr7data lookup: $entry/info.json: $2" \
		trust pcr7data lookup "$T/tree" --pcr7 "$prod"
}
check_info '' "not a JSON object"
check_info '{"key":"snakeoil","key_type":' 'member "key_type" is not a valid string'
check_info '{"key":"snakeoil","key_type":"production","x":[1,2' 'member "x" is not a valid string'
check_info '{"key":"snake/oil","key_type":"production"}' "key 'snake/oil' is not a valid keyset name"
check_info '{"key":"snakeoil","key_type":"root"}' "unknown key_type 'root'"
echo ok
