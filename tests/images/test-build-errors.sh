#!/bin/bash
# test-build-errors.sh: what `trust image build` / images/build.sh and the
# hooks say when they cannot work: no mkosi, an unknown keyset or image, a
# keyset whose pcr7data cannot release anything, an unreachable package
# mirror. Each fails with exit 1 (a usage error of `trust image build`: 2)
# and names the cause; nothing is left in the output.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
B=$T/build
mkdir -p "$B"

# No mkosi on PATH (only what build.sh needs before it looks for mkosi).
mkdir -p "$T/bin"
for t in dirname sed id; do ln -s "$(command -v $t)" "$T/bin/$t"; done
expect_error 1 "mkosi is not installed \(run 'make deps'\)" \
	env PATH="$T/bin" BUILD="$B" TRUST="$TRUST" /bin/sh "$TOP/images/build.sh" snakeoil

command -v mkosi >/dev/null || skip "mkosi is not installed (make deps)"
[ "$(id -u)" = 0 ] || skip "image builds need root"

expect_error 2 "image build: --keyset KEYSET is required" trust image build
expect_error 2 "image build: no image 'nosuch' \(.*/images has os, install, provision\)" \
	trust image build --keyset snakeoil nosuch
expect_error 2 "keyset name '../x' must not start with '.'" trust image build --keyset ../x
expect_error 1 "keyset 'nosuch' does not exist" \
	env BUILD="$B" "$TRUST" image build --keyset nosuch
expect_error 1 "keyset 'nosuch' does not exist" \
	env BUILD="$B" TRUST="$TRUST" "$TOP/images/build.sh" nosuch
expect_error 1 "no image 'nosuch' \(images/nosuch/mkosi.conf\)" \
	env BUILD="$B" TRUST="$TRUST" "$TOP/images/build.sh" snakeoil default nosuch
expect_error 1 "nosuch: not built \(make\)" \
	env BUILD="$B" TRUST="$T/nosuch" "$TOP/images/build.sh" snakeoil

# The hook refuses a keyset whose pcr7data has no entry for its production
# PCR7: `trust setup` could never release anything on such a machine.
mkdir -p "$KEYS"
cp -R "$TOP/keysets/snakeoil" "$KEYS/bare"
rm -rf "$KEYS/bare/pcr7data/policy-2"/??
root=$T/root
mkdir -p "$root/usr/lib/modules/6.1.0-test/" "$root/boot"
: >"$root/usr/lib/modules/6.1.0-test/modules.dep"
: >"$root/boot/vmlinuz-6.1.0-test"
expect_error 1 "keyset 'bare': pcr7data has no valid entry for the production PCR7 [0-9a-f]{64}" \
	env BUILDROOT="$root" TRUST="$TRUST" TRUST_KEYSET=bare TRUST_OUTPUT="$T/result/provision" \
	"$TOP/images/provision/mkosi.finalize" final
[ ! -e "$T/result/provision" ] || fail "finalize left $T/result/provision behind"
[ -z "$(ls -A "$T/result" 2>/dev/null)" ] || fail "finalize left files in $T/result: $(ls -A "$T/result")"
expect_error 1 "TRUST_CLASS: 'root' is not production, tpm or limited" \
	env BUILDROOT="$root" TRUST="$TRUST" TRUST_KEYSET=snakeoil TRUST_CLASS=production,root \
	"$TOP/images/provision/mkosi.finalize" final
expect_error 1 "keyset name '../x' must not start with '.'" \
	env BUILDROOT="$root" TRUST="$TRUST" TRUST_KEYSET=../x "$TOP/images/provision/mkosi.finalize" final

# An unreachable mirror is reported as a download failure (fails at once:
# nothing listens on port 9).
cp -R "$TOP/keysets/snakeoil" "$KEYS/snakeoil"
expect_rc 1 env BUILD="$B" TRUST="$TRUST" TRUST_MKOSI_MIRROR=http://127.0.0.1:9/debian \
	TRUST_MKOSI_SEED=no TRUST_MKOSI_CACHE="$T/cache" "$TOP/images/build.sh" snakeoil default provision
grep -q "provision: package download failed (network or mirror" "$T/err" ||
	{ cat "$T/err"; fail "an unreachable mirror is not reported as a download failure"; }
[ ! -e "$B/images/snakeoil/provision" ] || fail "a failed build left build/images/snakeoil/provision"
# the same through `trust image build --output`: its log is where it says
expect_rc 1 env BUILD="$B" TRUST_MKOSI_MIRROR=http://127.0.0.1:9/debian TRUST_MKOSI_SEED=no \
	TRUST_MKOSI_CACHE="$T/cache" "$TRUST" image build --keyset snakeoil --output "$T/imgout" provision
grep -q "provision: package download failed (network or mirror; see $T/imgout/logs/provision.log)" "$T/err" ||
	{ cat "$T/err"; fail "image build --output: $(cat "$T/err")"; }
[ -s "$T/imgout/logs/provision.log" ] || fail "no log in --output"
[ ! -e "$T/imgout/provision" ] || fail "a failed build left $T/imgout/provision"
echo ok
