#!/bin/bash
# test-vm-sudi-wipe.sh: a failed `trust vm launch` overwrites the file that
# carried the VM's SUDI private key before it removes it, also with
# --keep-on-failure (which keeps everything else): the provisioning image's
# data disk (--in-guest), or the key file the host-side launch provisions
# from. A stand-in `swtpm` on PATH, run in the VM's directory while the key
# is there, copies the key out (what the guest or the host-side provisioning
# would read) and keeps a hard link to its file (its blocks, as someone
# reading the file system later would), then fails: the provision phase
# fails at once, no QEMU runs.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
for tool in mkfs.vfat mmd mcopy openssl; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (make deps)"
done

VMS=$XDG_STATE_HOME/machine/trust/vms
SPY=$T/spy
mkdir -p "$T/bin" "$SPY"
cat >"$T/bin/swtpm" <<'EOS'
#!/bin/sh
n=$(find "$SPY" -name "disk*.img" | wc -l)
if [ -e trust-data.img ]; then
	mcopy -n -i trust-data.img ::/privkey.pem "$SPY/key$n.pem"
	ln trust-data.img "$SPY/disk$n.img"
else
	cp sudi/privkey.pem "$SPY/key$n.pem"
	ln sudi/privkey.pem "$SPY/disk$n.img"
fi
exit 1
EOS
chmod 755 "$T/bin/swtpm"
export SPY PATH=$T/bin:$PATH TRUST_VM_ACCEL=tcg

expect_rc 0 trust keyset add snakeoil
img=$T/images
mkdir -p "$img/provision" "$img/install"
head -c 4096 /dev/urandom >"$img/provision/uki-production.efi"
head -c 4096 /dev/urandom >"$img/install/uki-production.efi"
head -c 65536 /dev/zero >"$img/vars.fd"
mkdir -p "$img/os"
head -c 1048576 /dev/zero >"$img/os/payload.img"
printf '%064d\n' 0 >"$img/os/pcr7-production.txt"

# key_left WHERE KEY: fails if a line of KEY's PEM body is in a file below
# WHERE. The sparse 8 GiB os.img is not read but must hold no data at all
# (nothing booted, so nothing wrote it).
key_left() {
	local hits
	sed '/^-----/d' "$2" >"$T/key-lines"
	[ -s "$T/key-lines" ] || fail "no key captured in $2"
	hits=$(grep -rlaF --exclude=os.img -f "$T/key-lines" "$1" 2>/dev/null || true)
	[ -z "$hits" ] || fail "SUDI key material left in: $hits"
	hits=$(grep -rlaF --exclude=os.img "PRIVATE KEY" "$1" 2>/dev/null || true)
	[ -z "$hits" ] || fail "a private key left in: $hits"
	hits=$(find "$1" -name os.img -not -size 0 -exec sh -c '[ "$(stat -c %b "$1")" != 0 ]' sh {} \; -print)
	[ -z "$hits" ] || fail "os.img holds data: $hits"
}
# wiped DISK: the hard link to the key disk holds zeros only.
wiped() {
	[ -s "$1" ] || fail "$1: the stand-in swtpm saw no key disk"
	[ "$(tr -d '\0' <"$1" | wc -c)" = 0 ] || fail "the SUDI disk was removed without being overwritten"
}

n=0
for mode in --in-guest --host; do
	opt=
	[ "$mode" = --in-guest ] && opt=--in-guest
	# --- without --keep-on-failure: nothing is left, the key was overwritten --
	# shellcheck disable=SC2086 # $opt: no option, or one word
	expect_rc 1 trust vm launch x --project snakeoil:default --images "$img" $opt
	grep -q "^trust: vm 'x': provision failed: " "$T/err" || fail "$mode: $(cat "$T/err")"
	openssl pkey -in "$SPY/key$n.pem" -noout || fail "$mode: the stand-in did not find the SUDI key"
	wiped "$SPY/disk$n.img"
	[ -z "$(ls -A "$VMS")" ] || fail "$mode: left in $VMS: $(ls -A "$VMS")"
	n=$((n + 1))

	# --- with --keep-on-failure: kept for inspection, but not the key -------
	# shellcheck disable=SC2086
	expect_rc 1 trust vm launch x --project snakeoil:default --images "$img" --keep-on-failure $opt
	grep -q "kept for inspection" "$T/err" || fail "$mode: $(cat "$T/err")"
	[ -f "$VMS/x/vm.conf" ] || fail "$mode: --keep-on-failure kept nothing"
	[ ! -e "$VMS/x/trust-data.img" ] || fail "$mode: the SUDI disk was kept"
	[ ! -e "$VMS/x/sudi" ] || fail "$mode: the SUDI key directory was kept"
	[ ! -e "$VMS/x/boot.img" ] || fail "$mode: the phase's boot disk was kept"
	wiped "$SPY/disk$n.img"
	key_left "$VMS" "$SPY/key$n.pem"
	key_left "$VMS" "$SPY/key$((n - 1)).pem"
	# the key the stand-in saw is the one of the certificate issued for the VM
	[ "$(openssl x509 -in "$VMS/x/sudi-cert.pem" -noout -pubkey)" = \
		"$(openssl pkey -in "$SPY/key$n.pem" -pubout)" ] || fail "$mode: captured key is not the VM's SUDI key"
	expect_rc 0 trust vm delete x
	n=$((n + 1))
done
echo ok
