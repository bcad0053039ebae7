#!/bin/bash
# test-initramfs.sh: Debian's own initrd. mkinitramfs (initramfs-tools, as
# update-initramfs runs it) with trust's hook and boot script builds an
# initrd holding trust with every library it loads, the TPM device TCTI,
# /pcr7data and /manifestCA.pem from /etc/trust; trust runs from that tree
# alone (chroot) and resolves the production PCR7 there. The boot scripts:
# init-premount (before local-top's cryptroot) runs setup, check-locked and
# load-key, and powers off when setup or check-locked fails, whatever the
# exit code, and before setup when the command line has no panic= (a later
# failure would open a root shell); local-top opens the volume that
# /etc/trust/initramfs.conf names with `trust volume open` and powers off
# on a refusal; init-bottom has nothing to hand over without setup's tmpfs
# (tests/vm/test-debian-initrd.sh boots all three). Without
# /etc/trust/pcr7data the hook adds nothing. The unit for systemd initrds passes `systemd-analyze verify`.
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
for s in init-premount local-top init-bottom; do
	mkdir -p "$conf/scripts/$s"
	cp "$SRC/scripts/$s/trust" "$conf/scripts/$s/trust"
done
etc=$T/etc
mkdir -p "$etc"
cp -R "$TOP/keysets/snakeoil/pcr7data" "$etc/pcr7data"
cp "$TOP/keysets/snakeoil/manifest-ca/cert.pem" "$etc/manifestCA.pem"
printf 'TRUST_VOLUME_LABEL=trust-os\nTRUST_VOLUME_NAME=root-vol\n' >"$etc/initramfs.conf"

echo "console=ttyS0 quiet" >"$T/cmdline"
TRUST_ETC=$etc TRUST_BIN=$TRUST TRUST_CMDLINE=$T/cmdline mkinitramfs -d "$conf" -o "$T/initrd.img" "$kver" \
	>"$T/mk.log" 2>&1 || { tail -n 20 "$T/mk.log"; fail "mkinitramfs failed"; }
grep -q "trust: warning: $T/cmdline has no panic=" "$T/mk.log" ||
	fail "the hook did not warn of a command line without panic=: $(cat "$T/mk.log")"
echo "console=ttyS0 quiet panic=-1" >"$T/cmdline"
TRUST_ETC=$etc TRUST_BIN=$TRUST TRUST_CMDLINE=$T/cmdline mkinitramfs -d "$conf" -o "$T/initrd.img" "$kver" \
	>"$T/mk.log" 2>&1 || { tail -n 20 "$T/mk.log"; fail "mkinitramfs failed"; }
grep -q 'panic=' "$T/mk.log" && fail "the hook warned with panic= on the command line: $(cat "$T/mk.log")"
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
for s in init-premount local-top init-bottom; do
	grep -q "/scripts/$s/trust" "$R/scripts/$s/ORDER" ||
		fail "$s/ORDER does not run trust: $(cat "$R/scripts/$s/ORDER" 2>/dev/null)"
done
cmp -s "$etc/initramfs.conf" "$R/etc/trust/initramfs.conf" || fail "/etc/trust/initramfs.conf is not copied"
# trust runs from the initrd's own tree, and finds the production entry
expect_rc 0 chroot "$R" /usr/bin/trust --version
expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust computepcr7 snakeoil --json
pcr=$(sed -n 's/.*"uki-production": *"\([0-9a-f]\{64\}\)".*/\1/p' "$T/out")
[ -n "$pcr" ] || fail "computepcr7 --json: $(cat "$T/out")"
expect_rc 0 chroot "$R" /usr/bin/trust pcr7data lookup /pcr7data --pcr7 "$pcr" --json
grep -q '"key_type":"production"' "$T/out" || fail "lookup in the initrd: $(cat "$T/out")"

# The boot scripts, run in the initrd's tree, in a PID namespace of its
# own, with poweroff replaced by a stub that says so (a real poweroff in a
# PID namespace only ends that namespace) and trust by one that prints its
# arguments and exits with the code in /rc.SUBCOMMAND (default 0).
for p in sbin/poweroff usr/sbin/poweroff bin/poweroff usr/bin/poweroff; do
	[ -e "$R/$p" ] && rm -f "$R/$p"
done
mkdir -p "$R/usr/sbin"
printf '#!/bin/sh\necho "POWEROFF $*"\nexit 0\n' >"$R/usr/sbin/poweroff"
printf '#!/bin/sh\nexit 0\n' >"$R/usr/sbin/sleep" # (its wait for the power to go)
mv "$R/usr/bin/trust" "$R/usr/bin/trust.real"
cat >"$R/usr/bin/trust" <<'EOF2'
#!/bin/sh
echo "trust $*"
sub=$1
[ "$1" = tpm ] || [ "$1" = volume ] && sub=$1-$2
[ -f "/rc.$sub" ] && exit "$(cat "/rc.$sub")"
exit 0
EOF2
chmod 755 "$R/usr/sbin/poweroff" "$R/usr/sbin/sleep" "$R/usr/bin/trust"
# boot_script STAGE [CMDLINE VARIABLES]: runs scripts/STAGE/trust as
# initramfs-tools' init does (quiet, as on a quiet kernel command line);
# its last line of output is "exit CODE"
boot_script() {
	expect_rc 0 timeout 60 unshare --pid --fork chroot "$R" /bin/sh -c \
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin quiet=y ${2:-}; export quiet panic; /bin/sh /scripts/$1/trust; echo \"exit \$?\"" </dev/null
}
# rcs SETUP CHECK-LOCKED LOAD-KEY VOLUME-OPEN: the stub's exit codes
rcs() {
	echo "$1" >"$R/rc.setup"
	echo "$2" >"$R/rc.tpm-check-locked"
	echo "$3" >"$R/rc.tpm-load-key"
	echo "$4" >"$R/rc.volume-open"
}

# init-premount: without panic= (a later failure would open a root shell)
# nothing is released
rcs 0 0 0 0
boot_script init-premount
grep -q '^trust setup' "$T/out" && fail "setup ran without panic= on the command line"
grep -qx 'POWEROFF -f' "$T/out" || fail "no power off without panic=: $(cat "$T/out")"
grep -q 'no panic=' "$T/out" || fail "the power off without panic= is not explained: $(cat "$T/out")"
grep -qx "exit 1" "$T/out" || fail "init-premount without panic= did not end in failure: $(cat "$T/out")"
# setup, then check-locked, then load-key; any failure but load-key's powers off
rm -rf "$R/run/trust"
boot_script init-premount panic=-1
# (check-locked's answer is kept for the OS's status line, load-key's too)
[ "$(cat "$T/out" "$R/run/trust/check-locked" "$R/run/trust/load-key" | grep '^trust ' | tr '\n' ';')" = \
	"trust setup;trust tpm check-locked;trust tpm load-key;" ] ||
	fail "init-premount ran: $(cat "$T/out" "$R/run/trust/"*)"
grep -qx "exit 0" "$T/out" || fail "a successful setup did not go on: $(cat "$T/out")"
grep -q POWEROFF "$T/out" && fail "a successful setup powered off"
for case in "1 0 0:setup failed (exit 1)" "3 0 0:PCR7 could not be locked" \
	"0 2 0:check-locked (exit 2)"; do
	# shellcheck disable=SC2086 # three codes
	rcs ${case%%:*} 0
	boot_script init-premount panic=-1
	grep -qx 'POWEROFF -f' "$T/out" || fail "${case%%:*}: no power off: $(cat "$T/out" "$T/err")"
	grep -q "^trust: .*${case#*:}.*: powering off" "$T/out" || fail "${case%%:*}: not named: $(cat "$T/out")"
	grep -qx "exit 1" "$T/out" || fail "${case%%:*}: the boot script did not end in failure: $(cat "$T/out")"
done
rcs 0 0 1 0
boot_script init-premount panic=-1
grep -qx "exit 0" "$T/out" && ! grep -q POWEROFF "$T/out" || fail "a SUDI key the TPM cannot hold stopped the boot"
grep -q 'stays in /priv/factory/secure/server.key' "$T/out" || fail "load-key's failure is not said: $(cat "$T/out")"

# local-top: the volume of /etc/trust/initramfs.conf, through trust volume
# open; a refusal powers off; without a label it does nothing
rcs 0 0 0 0
boot_script local-top
grep -qx 'trust volume open --label trust-os --name root-vol --wait 10' "$T/out" ||
	fail "local-top ran: $(cat "$T/out")"
grep -qx "exit 0" "$T/out" || fail "an opened volume did not go on"
rcs 0 0 0 1
boot_script local-top
grep -qx 'POWEROFF -f' "$T/out" && grep -qx "exit 1" "$T/out" &&
	grep -q "^trust: volume open (exit 1): volume 'trust-os' refused: powering off" "$T/out" ||
	fail "a refused volume did not power off: $(cat "$T/out")"
mv "$R/etc/trust/initramfs.conf" "$T/initramfs.conf.saved"
boot_script local-top
[ "$(cat "$T/out")" = "exit 0" ] || fail "local-top without a volume did: $(cat "$T/out")"
mv "$T/initramfs.conf.saved" "$R/etc/trust/initramfs.conf"
# init-bottom: nothing to hand over without setup's private tmpfs
boot_script init-bottom rootmnt=/root
[ "$(cat "$T/out")" = "exit 0" ] || fail "init-bottom without /priv/factory/secure did: $(cat "$T/out")"

# --- a machine not set up for trust: nothing added ----------------------------------
TRUST_ETC=$T/none TRUST_BIN=$TRUST mkinitramfs -d "$conf" -o "$T/plain.img" "$kver" >"$T/mk2.log" 2>&1 ||
	{ tail -n 20 "$T/mk2.log"; fail "mkinitramfs without /etc/trust failed"; }
grep -q "trust: $T/none/pcr7data missing: trust setup is left out of the initrd" "$T/mk2.log" ||
	fail "the hook did not say why it added nothing: $(cat "$T/mk2.log")"
unmkinitramfs "$T/plain.img" "$T/y" || fail "unmkinitramfs failed"
[ -n "$(find "$T/y" -path '*/usr/bin/trust')" ] && fail "trust is in an initrd without /etc/trust"
echo ok
