#!/bin/bash
# Fail closed: once setup, preinit, tpm admin-password or provision has
# opened the TPM, every way out leaves PCR7 locked (tpm2_pcrread and the
# older tool's reads are the oracles) and releases nothing; a lock whose
# read-back is not SHA256(PCR7 || lock digest), here because PCR7 was
# extended from outside while trust was stopped, is exit 3 (power off).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
provision_prod # checks that provision locked PCR7 at its end

# locked_now WHY BEFORE: PCR7 is BEFORE locked, no longer the boot's value
locked_now() {
	local now
	now=$(pcr7_hex)
	[ "$now" != "$2" ] || fail "$1: PCR7 is still the boot's value"
	[ "$now" = "$(pcr7_locked "$2")" ] || fail "$1: PCR7 $now is not the locked value"
}

# --- setup in a production boot: a manifest CA that does not exist
tpm_boot prod production
prod=$(pcr7_hex)
oracle_read 0x01500040 prod luks >/dev/null || fail "the OS passphrase is not readable before setup"
good_ca=$CA
CA=/nonexistent/manifestCA.pem
run_setup "$PD"
CA=$good_ca
nothing_released "missing manifest CA" "/nonexistent/manifestCA.pem: No such file"
locked_now "missing manifest CA" "$prod"
! oracle_read 0x01500040 prod luks >/dev/null 2>&1 || fail "missing manifest CA: secrets still readable"

# --- setup: pcr7data that does not exist, and pcr7data with no entry for PCR7
tpm_boot prod production
run_setup "$T/none"
nothing_released "no pcr7data" "pcr7data '$T/none': does not exist"
locked_now "no pcr7data" "$prod"
cp -a "$PD" "$T/pd-noprod"
rm -r "$(entry_dir prod production | sed "s|^$PD|$T/pd-noprod|")"
tpm_boot prod production
run_setup "$T/pd-noprod"
nothing_released "no pcr7data entry" "PCR7 $prod does not match any signed policy"
locked_now "no pcr7data entry" "$prod"

# --- preinit refused (tpm-signed boot): locked, nothing in the keyring
tpm_boot prod tpm
tpm_pcr7=$(pcr7_hex)
cat >"$T/inside.sh" <<EOS
rc=0
"$TRUST" preinit --pcr7data "$PD" --keyring session 2>"$T/p.err" || rc=\$?
echo \$rc >"$T/p.rc"
keyctl search @s user machine:luks >"$T/p.key" 2>/dev/null || true
EOS
in_ns bash "$T/inside.sh" 2>/dev/null
[ "$(cat "$T/p.rc")" = 1 ] || fail "preinit in a tpm boot exited $(cat "$T/p.rc"): $(cat "$T/p.err")"
[ ! -s "$T/p.key" ] || fail "preinit in a tpm boot added a key"
locked_now "preinit in a tpm boot" "$tpm_pcr7"

# --- tpm admin-password --output EXISTING in a tpm boot
tpm_boot prod tpm
oracle_read 0x01500001 prod passwd >"$T/admin" || fail "the admin password is not readable"
echo keep >"$T/exists"
expect_error 1 "$T/exists: already exists" \
	trust tpm admin-password --pcr7data "$PD" --output "$T/exists"
[ "$(cat "$T/exists")" = keep ] || fail "existing file changed"
locked_now "admin-password --output EXISTING" "$tpm_pcr7"
! oracle_read 0x01500001 prod passwd >/dev/null 2>&1 || fail "admin password still readable"

# --- provision refused after the TPM was opened (tpm-signed image): locked,
# and the TPM was not taken (the admin password still owns it)
tpm_boot prod tpm
expect_error 1 "is the 'tpm' value of keyset 'prod': provision from a production-signed image" \
	trust provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
locked_now "refused provision" "$tpm_pcr7"
tpm2_nvread -C o -P "$(cat "$T/admin")" -s 8 0x01500002 >/dev/null ||
	fail "a refused provision changed the owner"

# --- the lock reads back wrong: PCR7 is extended from outside while setup is
# stopped before its read-back (the last command) or before its extend (the
# one before): exit 3, nothing released.
setup_cmd="\"$TRUST\" setup --pcr7data \"$PD\" --manifest-ca \"$CA\" --secure-dir \"$T/sec\" --keyring session"
tpm_boot prod production
cat >"$T/inside.sh" <<EOS
TRUST_TPM2_STATS=1 $setup_cmd 2>"$T/err" >/dev/null
EOS
in_ns bash "$T/inside.sh" 2>/dev/null || { cat "$T/err"; fail "setup"; }
total=$(sed -n 's/^trust: tpm2: \([0-9]*\) TPM commands.*/\1/p' "$T/err")
[ -n "$total" ] || fail "setup command count: $(cat "$T/err")"
note "setup sends $total TPM commands"
for n in "$total" $((total - 1)); do
	tpm_boot prod production
	cat >"$T/inside.sh" <<EOS
TRUST_TPM2_PAUSE_AT=$n $setup_cmd >/dev/null 2>"$T/m.err" &
pid=\$!
state=
for _ in \$(seq 200); do
	state=\$(awk '{print \$3}' /proc/\$pid/stat 2>/dev/null || echo gone)
	[ "\$state" = T ] && break
	sleep 0.02
done
[ "\$state" = T ] || exit 9
tpm2_pcrextend "7:sha256=$(head -c 32 /dev/urandom | xxd -p -c 64)"
kill -CONT \$pid
rc=0
wait \$pid || rc=\$?
echo \$rc >"$T/m.rc"
ls -A "$T/sec" >"$T/m.files" 2>/dev/null || true
keyctl search @s user machine:luks >"$T/m.key" 2>/dev/null || true
EOS
	in_ns bash "$T/inside.sh" 2>/dev/null || fail "PCR7 moved at command $n: setup never paused"
	[ "$(cat "$T/m.rc")" = 3 ] || fail "PCR7 moved at command $n: exit $(cat "$T/m.rc"): $(cat "$T/m.err")"
	[ "$(wc -l <"$T/m.err")" = 1 ] || fail "PCR7 moved at command $n: $(cat "$T/m.err")"
	grep -q "PCR7 could not be locked.*power off: PCR7 reads [0-9a-f]\{64\} after the extend, not" \
		"$T/m.err" || fail "PCR7 moved at command $n: $(cat "$T/m.err")"
	[ ! -s "$T/m.files" ] || fail "PCR7 moved at command $n: released $(cat "$T/m.files")"
	[ ! -s "$T/m.key" ] || fail "PCR7 moved at command $n: key released"
done
exit 0
