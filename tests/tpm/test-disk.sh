#!/bin/bash
# provision --disk on a loop device: a GPT with 'pbf' (ext4 holding a copy of
# pcr7data) and 'sbf' (LUKS2) whose header opens with the passphrase read
# back from NV 0x01500030 (cryptsetup --test-passphrase needs no
# device-mapper); a disk with a partition table is refused without --wipe.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
for tool in losetup sfdisk cryptsetup mkfs.ext4 debugfs; do
	command -v $tool >/dev/null || skip "$tool is not installed"
done

prod_keyset

truncate -s 400M "$T/disk.img"
LOOP=$(losetup -f -P --show "$T/disk.img") || skip "no loop device available"
on_exit "losetup -d $LOOP"

tpm_boot prod production
before=$(pcr7_hex)
expect_rc 0 trust provision --disk "$LOOP" --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
[ ! -s "$T/err" ] || fail "provision --disk printed: $(cat "$T/err")"
[ "$(pcr7_hex)" = "$(pcr7_locked "$before")" ] || fail "provision --disk did not lock PCR7"

sfdisk --dump "$LOOP" >"$T/table"
grep -q '^label: gpt' "$T/table" || fail "no GPT: $(cat "$T/table")"
grep -Eiq "${LOOP}p1 : start= *8192, size= *131072, type=01A3E19F-9FEA-ED47-92C2-E75639FF5601,.*name=\"pbf\"" \
	"$T/table" || fail "pbf partition: $(cat "$T/table")"
grep -Eiq "${LOOP}p2 : start= *139264, size= *524288, type=01A3E19F-9FEA-ED47-92C2-E75639FF5602,.*name=\"sbf\"" \
	"$T/table" || fail "sbf partition: $(cat "$T/table")"

# pbf: ext4 with pcr7data, file for file (read with debugfs, no mount needed)
debugfs -R "rdump /pcr7data $T" "${LOOP}p1" 2>/dev/null || fail "pbf: cannot read pcr7data"
diff -r "$PD" "$T/pcr7data" || fail "pbf: pcr7data differs"

# sbf: LUKS2, opened by the passphrase in NV 0x01500030 and by nothing else
cryptsetup isLuks --type luks2 "${LOOP}p2" || fail "sbf is not LUKS2"
tpm_boot prod production
oracle_read 0x01500030 prod luks >"$T/sbf-pass" || fail "oracle read of 0x01500030"
grep -Eq '^[A-Za-z0-9]{40}$' "$T/sbf-pass" || fail "sbf passphrase: $(cat "$T/sbf-pass")"
cryptsetup open --test-passphrase --key-file "$T/sbf-pass" "${LOOP}p2" ||
	fail "the sbf passphrase in NV does not open the sbf"
printf 'wrong-passphrase' >"$T/wrong"
! cryptsetup open --test-passphrase --key-file "$T/wrong" "${LOOP}p2" 2>/dev/null ||
	fail "a wrong passphrase opens the sbf"

# a disk with a partition table needs --wipe
tpm_boot prod production
expect_error 1 "disk $LOOP: holds a partition table \(--wipe to overwrite it\)" \
	trust provision --disk "$LOOP" --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
expect_error 2 "--wipe needs --disk" trust provision --wipe --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
tpm_boot prod production # the refusal locked PCR7
expect_rc 0 trust provision --disk "$LOOP" --wipe --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
tpm_boot prod production
oracle_read 0x01500030 prod luks >"$T/sbf-pass2" || fail "oracle read of 0x01500030 after --wipe"
! cmp -s "$T/sbf-pass" "$T/sbf-pass2" || fail "re-provisioning kept the sbf passphrase"
cryptsetup open --test-passphrase --key-file "$T/sbf-pass2" "${LOOP}p2" ||
	fail "after --wipe: the new passphrase does not open the sbf"

# a disk in use (here: its pbf mounted, in a namespace of its own) is never
# taken, even with --wipe
mkdir -p "$T/mnt"
cat >"$T/inside.sh" <<EOS
mount -o ro "${LOOP}p1" "$T/mnt" || exit 9
rc=0
"$TRUST" provision --disk "$LOOP" --wipe --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem" \
	2>"$T/busy.err" || rc=\$?
umount "$T/mnt"
exit \$rc
EOS
rc=0
unshare -m --propagation private bash "$T/inside.sh" || rc=$?
[ $rc = 1 ] || fail "provision on a mounted disk exited $rc: $(cat "$T/busy.err")"
grep -q "disk $LOOP: in use (mounted or held)" "$T/busy.err" || fail "busy disk: $(cat "$T/busy.err")"
cryptsetup open --test-passphrase --key-file "$T/sbf-pass2" "${LOOP}p2" ||
	fail "a refused provision changed the disk"

# setup without --pcr7data and without /pcr7data finds the pbf partition by
# its GPT type and mounts it (in a throw-away root, see test-defaults.sh).
# Other disks of this host with a pbf partition would make the pick
# ambiguous, so then this part is left out.
pbfs=0
for d in /sys/block/*; do
	sfdisk --dump "/dev/${d##*/}" 2>/dev/null | grep -qi "type=01A3E19F-9FEA-ED47-92C2-E75639FF5601" &&
		pbfs=$((pbfs + 1))
done
if [ "$pbfs" != 1 ]; then
	note "$pbfs disks with a pbf partition here: pbf discovery not checked"
	exit 0
fi
target_root
tpm_boot prod production
cat >"$T/inside.sh" <<EOS
set -e
$(target_mounts)
rc=0
chroot "$R" /usr/bin/keyctl session - /usr/bin/env TRUST_TPM2_TCTI="$TRUST_TPM2_TCTI" \
	ASAN_OPTIONS="\${ASAN_OPTIONS:-}" /bin/sh -c '
	/trust setup --keyring session || exit \$?
	cp /priv/factory/secure/server.key "$T/pbf-server.key"
	findmnt -n -o SOURCE,FSTYPE,OPTIONS --mountpoint /factory/pbf >"$T/pbf-mnt"' \
	>/dev/null 2>"$T/pbf.err" || rc=\$?
exit \$rc
EOS
rc=0
unshare -m --propagation private bash "$T/inside.sh" || rc=$?
[ $rc = 0 ] || fail "setup from the pbf partition exited $rc: $(cat "$T/pbf.err")"
cmp -s "$T/pbf-server.key" "$T/id/key.pem" || fail "setup from the pbf partition: key differs"
grep -Eq "^${LOOP}p1 +ext4 +ro," "$T/pbf-mnt" || fail "pbf mount: $(cat "$T/pbf-mnt")"
exit 0
