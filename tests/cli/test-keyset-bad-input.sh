#!/bin/bash
# test-keyset-bad-input.sh: bad names, existing and unknown objects, corrupt
# CA files and an unwritable data dir each give one error line naming the
# object and the cause, exit 1 or 2, and write nothing.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add prod
long=$(printf 'k%.0s' $(seq 300))
bad_names=("../x" "a/b" "" ".x" "$long" $'\xff\xfeab')
snap() { tree_snapshot "$T/data"; tree_snapshot "$XDG_CONFIG_HOME"; }
unchanged() { [ "$(snap)" = "$before" ] || fail "$1 wrote something"; }
no_tmp() { ! find "$T" -name '.tmp-*' | grep -q . || fail "temp dirs left: $(find "$T" -name '.tmp-*')"; }

before=$(snap)
for n in "${bad_names[@]}"; do
	expect_error 2 "^trust: keyset name" trust keyset add "$n"
	expect_error 2 "^trust: keyset name" trust initkeyset --keysetname "$n"
	expect_error 2 "^trust: keyset name" trust keyset show "$n"
	expect_error 2 "^trust: keyset name" trust project add "$n" p
	expect_error 2 "^trust: keyset name" trust project list "$n"
	expect_error 2 "^trust: keyset name" trust sudi add "$n" default
	expect_error 2 "^trust: keyset name" trust new-uuid --keysetname "$n"
	expect_error 2 "^trust: project name" trust project add prod "$n"
	expect_error 2 "^trust: project name" trust sudi add prod "$n"
	expect_error 2 "^trust: project name" trust sudi list prod "$n"
	expect_error 2 "^trust: serial name" trust sudi add prod default "$n"
	unchanged "bad name '$n'"
done
# each cause is named
expect_error 2 "keyset name '../x' must not start with '.'" trust keyset add ../x
expect_error 2 "keyset name 'a/b' must not contain '/'" trust keyset add a/b
expect_error 2 "keyset name is empty" trust keyset add ""
expect_error 2 "keyset name is longer than 128 bytes" trust keyset add "$long"
expect_error 2 "keyset name has a character outside .* \(byte 0xff\)" trust keyset add $'\xff\xfeab'
expect_error 2 "keyset name '-x' must not start with '-'" trust keyset add -- -x
expect_error 2 "bad option '-x'" trust keyset add -x
expect_error 2 "bad option '--bogus'" trust keyset add --bogus x
expect_error 2 "bad option '--org' or missing argument" trust keyset add x --org
# organizations
expect_error 2 "organization is empty" trust keyset add --org "" x
expect_error 2 "organization is not valid UTF-8" trust keyset add --org $'Acme \xff' x
expect_error 2 "organization is longer than 64 characters" trust keyset add --org "$long" x
expect_error 2 "organization contains a control character" trust keyset add --org $'a\nb' x
unchanged "bad organization"

# existing keyset / project / SUDI
expect_error 1 "keyset 'prod' already exists" trust keyset add prod
expect_error 1 "keyset 'prod' already exists" trust initkeyset --keysetname prod
expect_error 1 "keyset 'prod': project 'default' already exists" trust project add prod default
unchanged "existing objects"

# unknown keyset / project
for c in "project add nosuch p" "project list nosuch" "sudi add nosuch default" \
	"sudi list nosuch default" "keyset show nosuch" "new-uuid --keysetname nosuch"; do
	# shellcheck disable=SC2086
	expect_error 1 "keyset 'nosuch' does not exist" trust $c
done
expect_error 1 "keyset 'prod': project 'nosuch' does not exist" trust sudi add prod nosuch
expect_error 1 "keyset 'prod': project 'nosuch' does not exist" trust sudi list prod nosuch
expect_error 1 "keyset 'prod': project 'nosuch' does not exist" trust keyset show prod manifest:nosuch
unchanged "unknown objects"

# corrupt CA files: each command that needs a CA names the keyset and the file
corrupt() { # KEYSET CA FILE HOW
	rm -rf "${KEYS:?}/$1"
	cp -a "$KEYS/prod" "$KEYS/$1"
	local f=$KEYS/$1/$2/$3
	case $4 in
	garbage) echo "this is not PEM" >"$f" ;;
	truncated) head -c 300 "$KEYS/prod/$2/$3" >"$f" ;;
	empty) : >"$f" ;;
	missing) rm -f "$f" ;;
	foreign) cp "$KEYS/prod/uefi-db/$3" "$f" ;; # a valid key/cert of another identity
	esac
}
for how in garbage truncated empty missing; do
	corrupt broken sudi-ca cert.pem $how
	before=$(snap)
	expect_error 1 "keyset 'broken': .*/broken/sudi-ca/cert.pem: " trust sudi add broken default
	unchanged "sudi add with a $how sudi-ca cert"
	corrupt broken sudi-ca privkey.pem $how
	before=$(snap)
	expect_error 1 "keyset 'broken': .*/broken/sudi-ca/privkey.pem: " trust sudi add broken default
	unchanged "sudi add with a $how sudi-ca key"
	corrupt broken manifest-ca cert.pem $how
	before=$(snap)
	expect_error 1 "keyset 'broken': .*/broken/manifest-ca/cert.pem: " trust project add broken p
	expect_error 1 "keyset 'broken': .*/broken/manifest-ca/cert.pem: " trust new-uuid --keysetname broken
	unchanged "project add with a $how manifest-ca cert"
	corrupt broken manifest-ca privkey.pem $how
	before=$(snap)
	expect_error 1 "keyset 'broken': .*/broken/manifest-ca/privkey.pem: " trust project add broken p
	expect_error 1 "keyset 'broken': .*/broken/manifest-ca/privkey.pem: " trust new-uuid --keysetname broken
	unchanged "project add with a $how manifest-ca key"
done
corrupt broken sudi-ca cert.pem garbage
expect_error 1 "sudi-ca/cert.pem: not a PEM certificate" trust sudi add broken default
corrupt broken sudi-ca privkey.pem garbage
expect_error 1 "sudi-ca/privkey.pem: not a PEM private key" trust sudi add broken default
corrupt broken sudi-ca privkey.pem foreign
expect_error 1 "sudi-ca/privkey.pem: does not belong to .*sudi-ca/cert.pem" trust sudi add broken default
corrupt broken sudi-ca cert.pem foreign
expect_error 1 "sudi-ca/cert.pem: not a CA certificate" trust sudi add broken default
corrupt broken manifest-ca privkey.pem foreign
expect_error 1 "manifest-ca/privkey.pem: does not belong to" trust project add broken p
rm -rf "${KEYS:?}/broken"
no_tmp

# unwritable data dir. We run as root, so permission bits do not stop us:
# point XDG_DATA_HOME below a regular file instead (ENOTDIR for anyone).
: >"$T/afile"
before=$(snap)
XDG_DATA_HOME=$T/afile/data expect_error 1 "keyset 'x': .*afile.*: Not a directory" trust keyset add x
XDG_DATA_HOME=$T/afile/data expect_error 1 "keyset 'snakeoil': .*afile.*: Not a directory" trust keyset add snakeoil
XDG_CONFIG_HOME=$T/afile/config expect_error 1 "afile.*: Not a directory" trust new-uuid --keysetname prod
unchanged "an unwritable data dir"
[ "$(stat -c %s "$T/afile")" = 0 ] || fail "afile was written"
# a keys root that is a file
mkdir -p "$T/d2/machine/trust" && : >"$T/d2/machine/trust/keys"
XDG_DATA_HOME=$T/d2 expect_error 1 "keyset 'x': .*keys: " trust keyset add x
[ "$(stat -c %s "$T/d2/machine/trust/keys")" = 0 ] || fail "keys file was written"
# relative XDG_DATA_HOME is ignored (XDG spec), HOME is used
HOME=$T/home XDG_DATA_HOME=relative expect_rc 0 trust keyset list
no_tmp

# usage errors
expect_rc 2 trust keyset
expect_rc 2 trust keyset frob
expect_rc 2 trust keyset add
expect_rc 2 trust keyset add a b
expect_rc 2 trust keyset add --bogus x
expect_rc 2 trust initkeyset
expect_rc 2 trust initkeyset --keysetname a b
expect_rc 2 trust keyset list extra
expect_rc 2 trust keyset show
expect_rc 2 trust keyset show prod uefi-pk cert.pem extra
expect_error 2 "unknown KEY 'nokey'" trust keyset show prod nokey
expect_error 2 "needs a project" trust keyset show prod manifest
expect_rc 2 trust keyset show prod uefi-pk --path --value
expect_rc 2 trust keyset show prod uefi-pk --value
expect_rc 2 trust project
expect_rc 2 trust project add prod
expect_rc 2 trust project list
expect_rc 2 trust sudi
expect_rc 2 trust sudi add prod
expect_rc 2 trust sudi add prod default a b
expect_rc 2 trust sudi list prod
echo ok
