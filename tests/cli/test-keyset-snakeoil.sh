#!/bin/bash
# test-keyset-snakeoil.sh: `keyset add snakeoil` installs the committed public
# test keyset (keysets/snakeoil) instead of generating one, with modes fixed.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

src=$TOP/keysets/snakeoil
[ -f "$src/uefi-pk/cert.pem" ] || fail "no committed snakeoil keyset at $src"
grep -q 'PUBLIC TEST KEYS' "$src/README.md" || fail "keysets/snakeoil/README.md does not say public test keys"
openssl x509 -in "$src/uefi-db/cert.pem" -noout -subject | grep -q 'PUBLIC TEST KEYS, NEVER TRUST' ||
	fail "snakeoil certs are not marked as test keys"

# Found next to the executable (build/trust and build/asan/trust in the tree).
unset TRUST_SNAKEOIL_DIR
expect_rc 0 trust keyset add snakeoil
ks=$KEYS/snakeoil
# identical content: every committed file, byte for byte
(cd "$src" && find . -type f | sort) >"$T/src.list"
(cd "$ks" && find . -type f | sort) >"$T/ks.list"
diff "$T/src.list" "$T/ks.list" >/dev/null || fail "installed files differ: $(diff "$T/src.list" "$T/ks.list")"
while read -r f; do cmp -s "$src/$f" "$ks/$f" || fail "$f differs from the committed copy"; done <"$T/src.list"
# git keeps no modes: they are set on installation
find "$ks" -name privkey.pem | while read -r f; do [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f")"; done
find "$ks" -type f ! -name privkey.pem | while read -r f; do [ "$(stat -c %a "$f")" = 640 ] || fail "$f mode $(stat -c %a "$f")"; done
find "$ks" -type d | while read -r f; do [ "$(stat -c %a "$f")" = 750 ] || fail "$f mode $(stat -c %a "$f")"; done
# empty dirs git dropped are there
[ -d "$ks/pcr7data" ] && [ -d "$ks/manifest/default/sudi" ] || fail "pcr7data/ or sudi/ missing"
# and it works as a keyset
expect_rc 0 trust sudi add snakeoil default vm1
openssl verify -purpose sslserver -CAfile "$ks/sudi-ca/cert.pem" "$ks/manifest/default/sudi/vm1/cert.pem" >/dev/null ||
	fail "SUDI from snakeoil does not verify"
openssl verify -CAfile "$ks/uefi-pk/cert.pem" "$ks/uefi-kek/cert.pem" >/dev/null || fail "snakeoil KEK"
expect_error 1 "keyset 'snakeoil' already exists" trust keyset add snakeoil
expect_error 2 "cannot be used for the bundled snakeoil" trust keyset add --org X snakeoil

# $TRUST_SNAKEOIL_DIR wins; an incomplete source is refused whole
rm -rf "$ks"
mkdir -p "$T/so" && cp -r "$src/." "$T/so/" && rm "$T/so/uki-tpm/privkey.pem"
TRUST_SNAKEOIL_DIR=$T/so expect_error 1 "keyset 'snakeoil': .*/so is incomplete \(no uki-tpm/privkey.pem\)" trust keyset add snakeoil
[ ! -e "$ks" ] || fail "incomplete source left a keyset"
! find "$KEYS" -maxdepth 1 -name '.tmp-*' | grep -q . || fail "temp dir left"
TRUST_SNAKEOIL_DIR=$T/nowhere expect_error 1 "TRUST_SNAKEOIL_DIR=.*nowhere holds no keyset" trust keyset add snakeoil
# a symlink in the source is refused, not followed
cp "$src/uki-tpm/privkey.pem" "$T/so/uki-tpm/privkey.pem"
ln -s /etc/passwd "$T/so/uki-tpm/extra"
TRUST_SNAKEOIL_DIR=$T/so expect_error 1 "keyset 'snakeoil': .*extra: not a regular file or directory" trust keyset add snakeoil
[ ! -e "$ks" ] || fail "refused source left a keyset"
rm "$T/so/uki-tpm/extra"
TRUST_SNAKEOIL_DIR=$T/so expect_rc 0 trust keyset add snakeoil
cmp -s "$T/so/uefi-pk/cert.pem" "$ks/uefi-pk/cert.pem" || fail "TRUST_SNAKEOIL_DIR copy not used"

# An installed binary finds $(PREFIX)/share/trust/keysets/snakeoil.
rm -rf "$ks"
mkdir -p "$T/prefix/bin" "$T/prefix/share/trust/keysets"
cp "$TRUST" "$T/prefix/bin/trust"
cp -r "$src" "$T/prefix/share/trust/keysets/"
echo "installed copy" >"$T/prefix/share/trust/keysets/snakeoil/marker"
expect_rc 0 "$T/prefix/bin/trust" keyset add snakeoil
[ "$(cat "$ks/marker")" = "installed copy" ] || fail "installed binary did not use share/trust/keysets/snakeoil"

# --generate makes fresh keys even under that name
rm -rf "$ks"
expect_rc 0 trust keyset add --generate snakeoil
cmp -s "$src/uefi-pk/cert.pem" "$ks/uefi-pk/cert.pem" && fail "--generate installed the committed copy"
openssl x509 -in "$ks/uefi-pk/cert.pem" -noout -subject | grep -q 'OU = snakeoil' || fail "generated snakeoil OU"
echo ok
