#!/bin/bash
# test-volume.sh: `trust volume open|check` on image files, with the key in
# a private session keyring: the installer's volume (cryptsetup luksFormat,
# the peer) passes and keeps the key under check; forged cipher_null
# headers, LUKS1 and another passphrase are refused with one line, open
# drops the key even when it refuses, and the passphrase is never printed.
# Opening for real needs device-mapper: the VM test (tests/vm/test-disk-swap.sh).
if [ -z "${TRUST_TEST_SESSION:-}" ]; then # a session keyring of our own
	command -v keyctl >/dev/null || { echo "SKIP: keyctl is not installed (make deps)"; exit 77; }
	TRUST_TEST_SESSION=1 exec keyctl session - bash "$0" "$@" 2>&1
fi
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
command -v cryptsetup >/dev/null || skip "cryptsetup is not installed (make deps)"
command -v python3 >/dev/null || skip "python3 is not installed (mkosi needs it: make deps)"

pass=0123456789abcdefghijABCDEFGHIJ0123456789
printf %s "$pass" >"$T/pass"
# volume IMG [luksFormat options]: the installer's way (images/install/init)
volume() {
	local img=$1
	shift
	truncate -s 32M "$img"
	cryptsetup luksFormat --batch-mode --label trust-os --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file "$T/pass" "$@" "$img" >/dev/null ||
		fail "cryptsetup luksFormat $* failed"
}
key_in() { keyctl padd user machine:luks @s <"$1" >/dev/null || fail "keyctl padd failed"; }
has_key() { keyctl search @s user machine:luks >/dev/null 2>&1; }
no_secret() { ! grep -qF "$pass" "$T/out" "$T/err" || fail "the passphrase was printed"; }

# --- usage -----------------------------------------------------------------------
expect_rc 0 trust volume --help
grep -q '^Usage: trust volume open' "$T/out" || fail "volume --help shows no usage"
grep -q '^Exit status: 0 opened' "$T/out" || fail "volume --help shows no exit status"
expect_rc 0 trust volume open --help
expect_error 2 "expected 'open' or 'check'" trust volume
expect_error 2 "unknown subcommand 'mount'" trust volume mount
expect_error 2 "exclude each other" trust volume open --label a --device b
expect_error 2 "expected seconds" trust volume open --wait 601
expect_error 2 "check' opens nothing" trust volume check --name x
expect_error 2 "device-mapper name has a character" trust volume open --name 'a b'
expect_error 2 "unexpected argument 'x'" trust volume check x
expect_error 2 "keyring 'x'" trust volume check --keyring x

# --- the installer's volume: accepted, check keeps the key -----------------------
volume "$T/genuine.img"
expect_error 1 "volume check: keyring: no key machine:luks in the session keyring" \
	trust volume check --device "$T/genuine.img" --keyring session
key_in "$T/pass"
expect_rc 0 trust volume check --device "$T/genuine.img" --keyring session
grep -q "genuine.img: LUKS2, aes-xts-plain64, the passphrase opens it" "$T/out" ||
	fail "check: $(cat "$T/out")"
no_secret
has_key || fail "check dropped the key"

# --- another passphrase (the attacker's own aes-xts volume) ----------------------
printf 'attacker' >"$T/other"
truncate -s 32M "$T/other.img"
cryptsetup luksFormat --batch-mode --label trust-os --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file "$T/other" "$T/other.img" >/dev/null || fail "luksFormat failed"
expect_error 1 "other.img: the passphrase opens no keyslot" \
	trust volume check --device "$T/other.img" --keyring session
no_secret
# open refuses it before device-mapper is touched, and drops the key anyway
expect_error 1 "volume open: .*other.img: the passphrase opens no keyslot" \
	trust volume open --device "$T/other.img" --keyring session
has_key && fail "open left machine:luks in the keyring after a refusal"

# --- forged cipher_null headers (tests/vm/luks2-forge.py) ------------------------
key_in "$T/pass"
volume "$T/null.img"
python3 "$TOP/tests/vm/luks2-forge.py" null "$T/null.img" || fail "luks2-forge.py null failed"
cryptsetup luksDump "$T/null.img" >"$T/dump" || fail "the forged header does not load"
grep -q 'cipher_null-ecb' "$T/dump" || fail "forge made no cipher_null: $(cat "$T/dump")"
expect_error 1 "null.img: its data segment uses cipher_null-ecb .*only aes-xts-plain64 with a 512-bit key" \
	trust volume check --device "$T/null.img" --keyring session
no_secret

# --- LUKS1, a plain file ---------------------------------------------------------
volume "$T/luks1.img" --type luks1
expect_error 1 "luks1.img: LUKS1, not LUKS2" trust volume check --device "$T/luks1.img" --keyring session
truncate -s 8M "$T/empty.img"
expect_error 1 "empty.img: not a LUKS volume" trust volume check --device "$T/empty.img" --keyring session

# --- the label search over this machine's block devices --------------------------
expect_error 1 "no LUKS2 volume labelled no-such-label-$$ \(waited 0 s\)" \
	trust volume check --label "no-such-label-$$" --wait 0 --keyring session
has_key || fail "check dropped the key"
echo ok
