#!/bin/bash
# test-initramfs.sh: Debian's own initrd. mkinitramfs (initramfs-tools, as
# update-initramfs runs it) with trust's hook and boot script builds an
# initrd holding trust with every library it loads, the TPM device TCTI,
# /pcr7data and /manifestCA.pem from /etc/trust; trust runs from that tree
# alone (chroot) and resolves the production PCR7 there. The boot script is
# in init-premount (before local-top's cryptroot) and powers off when setup
# fails, whatever the exit code. Without /etc/trust/pcr7data the hook adds
# nothing. The unit for systemd initrds passes `systemd-analyze verify`.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ -z "${TRUST_SANITIZED:-}" ] || skip "an initrd holds the plain binary (checked in the plain round)"
[ "$(id -u)" = 0 ] || skip "needs root (mkinitramfs reads the modules, chroot)"
for tool in mkinitramfs unmkinitramfs systemd-analyze unshare; do
	command -v $tool >/dev/null || skip "$tool is not installed (initramfs-tools, systemd)"
done
kver=$(ls /lib/modules 2>/dev/null | sort -V | tail -n 1)
[ -n "$kver" ] && [ -f "/lib/modules/$kver/modules.dep" ] || skip "no kernel modules in /lib/modules"
SRC=$TOP/trust/initramfs-tools

# --- the unit --------------------------------------------------------------------
V=$T/vroot
mkdir -p "$V/usr/bin" "$V/usr/lib/systemd/system"
cp "$TRUST" "$V/usr/bin/trust"
verify() { # verify UNIT-FILE: systemd-analyze's verdict, nothing printed
	cp "$1" "$V/usr/lib/systemd/system/trust-setup.service"
	systemd-analyze verify --man=no --root="$V" trust-setup.service >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]
}
verify "$TOP/trust/systemd/trust-setup.service" || fail "systemd-analyze verify: $(cat "$T/verify")"
for key in 'Before=cryptsetup-pre.target' 'FailureAction=poweroff' 'ExecStart=/usr/bin/trust setup' \
	'DefaultDependencies=no' 'ConditionPathExists=/etc/initrd-release'; do
	grep -qx "$key" "$TOP/trust/systemd/trust-setup.service" || fail "trust-setup.service lacks $key"
done
sed 's/^FailureAction=poweroff/FailureAction=explode/' "$TOP/trust/systemd/trust-setup.service" >"$T/bad.service"
verify "$T/bad.service" && fail "systemd-analyze verify took FailureAction=explode"

# --- the initrd ----------------------------------------------------------------------
conf=$T/conf
mkdir -p "$conf/hooks" "$conf/scripts/init-premount" "$conf/conf.d"
# only the modules listed (none): the test is about trust's part
printf 'MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\n' >"$conf/initramfs.conf"
: >"$conf/modules"
cp "$SRC/hooks/trust" "$conf/hooks/trust"
cp "$SRC/scripts/init-premount/trust" "$conf/scripts/init-premount/trust"
etc=$T/etc
mkdir -p "$etc"
cp -R "$TOP/keysets/snakeoil/pcr7data" "$etc/pcr7data"
cp "$TOP/keysets/snakeoil/manifest-ca/cert.pem" "$etc/manifestCA.pem"

TRUST_ETC=$etc TRUST_BIN=$TRUST mkinitramfs -d "$conf" -o "$T/initrd.img" "$kver" >"$T/mk.log" 2>&1 ||
	{ tail -n 20 "$T/mk.log"; fail "mkinitramfs failed"; }
unmkinitramfs "$T/initrd.img" "$T/x" || fail "unmkinitramfs failed"
R=$T/x
[ -d "$T/x/main" ] && R=$T/x/main # an early microcode archive comes first
[ -x "$R/usr/bin/trust" ] || fail "the initrd has no /usr/bin/trust"
cmp -s "$R/usr/bin/trust" "$TRUST" || fail "the initrd's trust is not the one given"
for lib in libtss2-esys.so.0 libtss2-tctildr.so.0 libtss2-tcti-device.so.0 libcryptsetup.so.12 \
	libcrypto.so.3 libkeyutils.so.1; do
	[ -n "$(find "$R/usr/lib" "$R/lib" -name "$lib" 2>/dev/null | head -n 1)" ] || fail "the initrd lacks $lib"
done
diff -r "$etc/pcr7data" "$R/pcr7data" >/dev/null || fail "/pcr7data is not /etc/trust/pcr7data"
cmp -s "$etc/manifestCA.pem" "$R/manifestCA.pem" || fail "/manifestCA.pem is not /etc/trust's"
grep -qx trust "$R/scripts/init-premount/ORDER" 2>/dev/null ||
	grep -q '/scripts/init-premount/trust' "$R/scripts/init-premount/ORDER" ||
	fail "init-premount/ORDER does not run trust: $(cat "$R/scripts/init-premount/ORDER" 2>/dev/null)"
# trust runs from the initrd's own tree, and finds the production entry
expect_rc 0 chroot "$R" /usr/bin/trust --version
expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust computepcr7 snakeoil --json
pcr=$(sed -n 's/.*"uki-production": *"\([0-9a-f]\{64\}\)".*/\1/p' "$T/out")
[ -n "$pcr" ] || fail "computepcr7 --json: $(cat "$T/out")"
expect_rc 0 chroot "$R" /usr/bin/trust pcr7data lookup /pcr7data --pcr7 "$pcr" --json
grep -q '"key_type":"production"' "$T/out" || fail "lookup in the initrd: $(cat "$T/out")"

# The boot script powers off when setup fails: run in the initrd's tree, in
# a PID namespace of its own, with poweroff replaced by a stub that says so
# (and a real poweroff in a PID namespace only ends that namespace).
for p in sbin/poweroff usr/sbin/poweroff bin/poweroff usr/bin/poweroff; do
	[ -e "$R/$p" ] && rm -f "$R/$p"
done
mkdir -p "$R/usr/sbin"
printf '#!/bin/sh\necho "POWEROFF $*"\nexit 0\n' >"$R/usr/sbin/poweroff"
printf '#!/bin/sh\nexit 0\n' >"$R/usr/sbin/sleep" # (its wait for the power to go)
chmod 755 "$R/usr/sbin/poweroff" "$R/usr/sbin/sleep"
mv "$R/usr/bin/trust" "$R/usr/bin/trust.real"
for rc in 1 3; do
	printf '#!/bin/sh\necho "trust $*"\nexit %s\n' "$rc" >"$R/usr/bin/trust"
	chmod 755 "$R/usr/bin/trust"
	expect_rc 0 timeout 60 unshare --pid --fork chroot "$R" /bin/sh -c \
		'PATH=/usr/sbin:/usr/bin:/sbin:/bin quiet=n; export quiet; /bin/sh /scripts/init-premount/trust' </dev/null
	grep -qx 'trust setup' "$T/out" || fail "the boot script did not run trust setup: $(cat "$T/out")"
	grep -qx 'POWEROFF -f' "$T/out" || fail "setup exit $rc: no power off: $(cat "$T/out" "$T/err")"
done
grep -q 'PCR7 could not be locked' "$T/out" "$T/err" || fail "exit 3 is not named: $(cat "$T/out" "$T/err")"
printf '#!/bin/sh\nexit 0\n' >"$R/usr/bin/trust"
expect_rc 0 timeout 60 unshare --pid --fork chroot "$R" /bin/sh -c \
	'PATH=/usr/sbin:/usr/bin:/sbin:/bin quiet=n; export quiet; /bin/sh /scripts/init-premount/trust && echo went-on' </dev/null
grep -qx went-on "$T/out" || fail "a successful setup did not go on: $(cat "$T/out")"
grep -q POWEROFF "$T/out" && fail "a successful setup powered off"

# --- a machine not set up for trust: nothing added ----------------------------------
TRUST_ETC=$T/none TRUST_BIN=$TRUST mkinitramfs -d "$conf" -o "$T/plain.img" "$kver" >"$T/mk2.log" 2>&1 ||
	{ tail -n 20 "$T/mk2.log"; fail "mkinitramfs without /etc/trust failed"; }
grep -q "trust: $T/none/pcr7data missing: trust setup is left out of the initrd" "$T/mk2.log" ||
	fail "the hook did not say why it added nothing: $(cat "$T/mk2.log")"
unmkinitramfs "$T/plain.img" "$T/y" || fail "unmkinitramfs failed"
[ -n "$(find "$T/y" -path '*/usr/bin/trust')" ] && fail "trust is in an initrd without /etc/trust"
echo ok
