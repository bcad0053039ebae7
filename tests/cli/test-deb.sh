#!/bin/bash
# test-deb.sh: `make deb` builds the Debian package with dpkg-buildpackage
# from a copy of the tree, and lintian finds no error in it. The package
# holds what a user needs (the binary, hooks, image configurations, the
# snakeoil keyset marked as test keys, man pages, completion, docs), its
# Depends come from dpkg-shlibdeps, and no private key but the snakeoil
# ones. Installed into a throw-away root with dpkg, its trust runs and
# installs the bundled snakeoil keyset into the user's data; purged, it
# leaves nothing behind but that user data.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ -z "${TRUST_SANITIZED:-}" ] || skip "the package is built and checked once, in the plain round"
command -v dpkg-buildpackage >/dev/null || skip "dpkg-dev is not installed (make deps)"
for tool in dh lintian; do
	command -v $tool >/dev/null || fail "$tool is not installed (debhelper, lintian: make deps)"
done

version=$(sed -n 's/^#define TRUST_VERSION "\(.*\)"/\1/p' "$TOP/trust/cli/version.h")
[ "$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)" = "$version" ] ||
	fail "debian/changelog is not at version $version (trust/cli/version.h)"

# --- build and lint ------------------------------------------------------------
make -s -C "$TOP" BUILD="$T/b" deb >"$T/make.log" 2>&1 || { tail -n 40 "$T/make.log"; fail "make deb failed"; }
deb=$T/b/deb/trust_${version}_amd64.deb
[ -s "$deb" ] || fail "make deb did not write $deb: $(ls "$T/b/deb")"
grep -q '^lintian is not installed' "$T/make.log" && fail "make deb did not run lintian"
# lintian's own lines (tag lines are "X: package...: tag"), errors made it fail
sed -n '/^[EWIP]: /p' "$T/make.log" >"$T/lintian"
grep '^E: ' "$T/lintian" && fail "lintian reports errors"
note "lintian: $(grep -c '^W: ' "$T/lintian" || true) warnings$(sed -n 's/^W: [^ ]* \(.*\)/; \1/p' "$T/lintian" | paste -sd ' ')"

# --- what the package says and holds -------------------------------------------------
dpkg-deb -f "$deb" Package Version Architecture Depends Recommends Conflicts >"$T/fields"
grep -qx "Version: $version" "$T/fields" || fail "version: $(cat "$T/fields")"
grep -qx 'Architecture: amd64' "$T/fields" || fail "architecture: $(cat "$T/fields")"
for lib in libssl3 libtss2-esys-3.0.2-0 libtss2-tctildr0 libcryptsetup12 libkeyutils1 libtss2-tcti-device0; do
	grep -q "^Depends:.*\b$lib\b" "$T/fields" || fail "Depends lacks $lib: $(grep ^Depends "$T/fields")"
done
for p in mkosi qemu-system-x86 swtpm libtss2-tcti-swtpm0 e2fsprogs ovmf systemd-boot-efi; do
	grep -q "^Recommends:.*\b$p\b" "$T/fields" || fail "Recommends lacks $p"
done
# p11-kit ships its own /usr/bin/trust and trust(1)
grep -q '^Conflicts:.*p11-kit' "$T/fields" || fail "no Conflicts with p11-kit"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/files"
for f in /usr/bin/trust /usr/lib/trust/mb-hooks/finalize /usr/lib/trust/mb-hooks/lib.sh \
	/usr/share/trust/images/os/mkosi.conf /usr/share/trust/images/os/init \
	/usr/share/trust/images/initrd-lib.sh /usr/share/trust/images/os/mkosi.finalize \
	/usr/share/trust/keysets/snakeoil/README.md /usr/share/trust/keysets/snakeoil/uefi-pk/cert.pem \
	/usr/share/man/man1/trust.1.gz /usr/share/man/man1/trust-vm.1.gz \
	/usr/share/man/man8/trust-target.8.gz /usr/share/bash-completion/completions/trust \
	/usr/share/doc/trust/copyright /usr/share/doc/trust/README.md.gz /usr/share/doc/trust/vm.md.gz \
	/usr/share/initramfs-tools/hooks/trust /usr/share/initramfs-tools/scripts/init-premount/trust \
	/usr/share/initramfs-tools/scripts/local-top/trust /usr/share/initramfs-tools/scripts/init-bottom/trust \
	/usr/lib/trust/mb-hooks/initramfs-tools \
	/usr/share/trust/initrd/trust-setup.service; do
	grep -qx -- "$f" "$T/files" || fail "the package lacks $f"
done
grep -q '^/usr/share/trust/images/README.md' "$T/files" && fail "documentation outside /usr/share/doc"
grep -q 'PUBLIC TEST KEYS, NEVER TRUST' "$TOP/keysets/snakeoil/README.md" || fail "snakeoil README unmarked"
mkdir "$T/x"
dpkg-deb -x "$deb" "$T/x"
keys=$(grep -rl 'PRIVATE KEY' "$T/x" | sed "s|^$T/x||" | sort)
[ -n "$keys" ] || fail "no snakeoil private keys in the package"
echo "$keys" | grep -v '^/usr/share/trust/keysets/snakeoil/.*privkey\.pem$' &&
	fail "private keys outside the snakeoil keyset"
cmp -s "$T/x/usr/bin/trust" "$TRUST" && note "(the package's binary is byte-identical to build/trust)"
file_mode() { stat -c %a "$T/x$1"; }
[ "$(file_mode /usr/bin/trust)" = 755 ] || fail "/usr/bin/trust mode $(file_mode /usr/bin/trust)"
[ -x "$T/x/usr/lib/trust/mb-hooks/finalize" ] || fail "the finalize hook is not executable"
[ -x "$T/x/usr/share/initramfs-tools/hooks/trust" ] || fail "the initramfs hook is not executable"
# initramfs hooks in a package: update-initramfs runs when it changes
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./triggers 2>/dev/null | grep -qx 'activate-noawait update-initramfs' ||
	fail "no update-initramfs trigger"

# --- install, use, purge: a throw-away root ------------------------------------------
R=$T/root
deb_install "$deb" "$R"
expect_rc 0 "$R/usr/bin/trust" --version
grep -q "$version" "$T/out" || fail "trust --version: $(cat "$T/out")"
# the installed binary finds the snakeoil keyset it came with
expect_rc 0 "$R/usr/bin/trust" keyset add snakeoil
expect_rc 0 "$R/usr/bin/trust" keyset list --json
grep -q '"snakeoil"' "$T/out" || fail "keyset list: $(cat "$T/out")"
cmp -s "$KEYS/snakeoil/uefi-pk/cert.pem" "$TOP/keysets/snakeoil/uefi-pk/cert.pem" ||
	fail "the installed snakeoil keyset is not the bundled one"
[ "$(stat -c %a "$KEYS/snakeoil/uefi-pk/privkey.pem")" = 600 ] || fail "installed keyset key not 0600"
# the installed image build finds the installed configurations...
expect_error 2 "no image 'nosuch' \($R/usr/share/trust/images has os, install, provision\)" \
	"$R/usr/bin/trust" image build --keyset snakeoil nosuch
# ...whose finalize step runs the installed hooks with the installed trust
# (here they refuse a keyset whose pcr7data opens nothing: mb-hooks/lib.sh)
cp -R "$KEYS/snakeoil" "$KEYS/bare"
rm -rf "$KEYS/bare/pcr7data/policy-2"/??
mkdir -p "$T/broot/usr/lib/modules/6.1.0-test" "$T/broot/boot"
: >"$T/broot/usr/lib/modules/6.1.0-test/modules.dep"
: >"$T/broot/boot/vmlinuz-6.1.0-test"
expect_error 1 "keyset 'bare': pcr7data has no valid entry for the production PCR7" \
	env BUILDROOT="$T/broot" TRUST="$R/usr/bin/trust" TRUST_KEYSET=bare TRUST_OUTPUT="$T/result" \
	"$R/usr/share/trust/images/provision/mkosi.finalize" final
# ...and mkosi runs from there (an unreachable mirror: it fails at once)
if command -v mkosi >/dev/null && [ "$(id -u)" = 0 ]; then
	expect_rc 1 env BUILD="$T/ib" TRUST_MKOSI_MIRROR=http://127.0.0.1:9/debian TRUST_MKOSI_SEED=no \
		"$R/usr/bin/trust" image build --keyset snakeoil provision
	grep -q "provision: package download failed" "$T/err" || { cat "$T/err"; fail "installed image build"; }
	grep -q "^images: \[1/1\] provision: building (mkosi 14, log $T/ib/images/snakeoil/logs/provision.log)" \
		"$T/out" || fail "installed image build: $(cat "$T/out")"
fi

deb_purge "$R"
[ -s "$KEYS/snakeoil/uefi-pk/cert.pem" ] || fail "purge took the user's keyset"
echo ok
