#!/bin/bash
# NV layout 4 (spec tpm.md): after provision the four secret indices carry
# neither ownerread nor authread and the layout index reads 00000004; with the
# admin password (from `trust tpm admin-password`) the owner's reads of them
# fail, by tpm2-tools' account and by check-locked's (password from a file or
# from the keyring). A layout-3 machine (rewritten the older tool's way) still
# runs setup and preinit, `tpm status` says the owner can read its secrets,
# check-locked finds them READABLE with the password, and re-provisioning
# moves it to layout 4.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
. "$(dirname "$0")/layout3-lib.sh"

secrets="0x01500001 0x01500022 0x01500030 0x01500040"
luks_secrets="private-key sbf-passphrase os-passphrase"

prod_keyset
provision_prod

# --- layout 4, as tpm2-tools sees it -----------------------------------------
attrs() { tpm2_nvreadpublic "$1" | sed -n 's/^ *friendly: *\(.*write.*\)/\1/p'; }
for idx in 0x01500001 0x01500022 0x01500030; do
	[ "$(attrs $idx)" = "ownerwrite|policyread|written" ] || fail "$idx: $(attrs $idx)"
done
[ "$(attrs 0x01500040)" = "ownerwrite|policywrite|policyread|written" ] ||
	fail "0x01500040: $(attrs 0x01500040)"
tpm2_nvreadpublic 0x01500021 | grep -q 'friendly: ownerwrite|ownerread|policyread|written$' ||
	fail "the certificate index changed: $(tpm2_nvreadpublic 0x01500021)"
tpm2_nvreadpublic 0x01500020 | grep -q "value: 0x20060002" || fail "0x01500020 attributes changed"
[ "$(tpm2_nvread -s 8 0x01500002)" = 00000004 ] || fail "layout index: $(tpm2_nvread -s 8 0x01500002)"
expect_rc 0 trust tpm status
grep -q '^layout version: 00000004$' "$T/out" || fail "status: $(cat "$T/out")"
! grep -q '^owner:' "$T/out" || fail "layout 4 status warns: $(cat "$T/out")"
expect_rc 0 trust tpm status --json
grep -q '"owner_reads_secrets":false}$' "$T/out" || fail "status --json: $(cat "$T/out")"

# --- a tpm-class boot with the admin password: the owner reads no secret -----
tpm_boot prod tpm
expect_rc 0 trust tpm admin-password --pcr7data "$PD" --output "$T/pw"
pw=$(cat "$T/pw")
[ "$(tpm2_nvread -C o -P "$pw" -s 8 0x01500002)" = 00000004 ] || fail "the password is not the owner's"
for idx in $secrets; do
	if tpm2_nvread -C o -P "$pw" -s 1 "$idx" >/dev/null 2>"$T/err"; then
		fail "the owner read $idx"
	fi
	grep -q "0x149" "$T/err" || fail "$idx: owner read failed otherwise: $(cat "$T/err")"
done
tpm2_nvread -C o -P "$pw" -s 16 0x01500021 >/dev/null || fail "the owner cannot read the certificate"

# verdict ROLE: refused|READABLE from the last check-locked output
verdict() { awk -v r="$1" '$2 == r { print $3 }' "$T/out"; }
expect_rc 0 trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/pw"
for role in admin-password $luks_secrets; do
	[ "$(verdict "$role")" = refused ] || fail "layout 4: $role: $(cat "$T/out")"
	grep "$role" "$T/out" | grep -q 'owner password: owner-authorized NV_Read of 0x015000[0-9]*: .*(0x149)' ||
		fail "layout 4: $role: no owner-authorized read: $(cat "$T/out")"
done
! grep certificate "$T/out" | grep -q 'owner password' || fail "the certificate was probed as a secret"
# a newline after the password is dropped; a wrong one fails the check
printf '%s\n' "$pw" >"$T/pw-nl"
expect_rc 0 trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/pw-nl"
printf 'x%.0s' $(seq 32) >"$T/pw-wrong"
expect_error 1 "the admin password is not the TPM owner's: owner-authorized NV_Read of 0x01500001" \
	trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/pw-wrong"
expect_error 1 "$T/none: No such file" \
	trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/none"
: >"$T/pw-empty"
expect_error 1 "$T/pw-empty: empty" \
	trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/pw-empty"

# the password from the keyring, as admin-password leaves it
tpm_boot prod tpm
cat >"$T/inside.sh" <<EOS
"$TRUST" tpm admin-password --pcr7data "$PD" --keyring session 2>"$T/k.err" || exit 1
rc=0
"$TRUST" tpm check-locked --pcr7data "$PD" >"$T/out" 2>"$T/err" || rc=\$?
echo \$rc >"$T/c.rc"
EOS
in_ns bash "$T/inside.sh" || { cat "$T/k.err"; fail "admin-password --keyring session"; }
[ "$(cat "$T/c.rc")" = 0 ] || fail "check-locked with the keyring's password: $(cat "$T/out" "$T/err")"
[ "$(grep -c 'owner password: owner-authorized NV_Read' "$T/out")" = 4 ] ||
	fail "check-locked did not use the keyring's password: $(cat "$T/out")"
# no password at hand: no owner-authorized read
expect_rc 0 trust tpm check-locked --pcr7data "$PD"
! grep -q 'owner password' "$T/out" || fail "owner reads without a password: $(cat "$T/out")"

# --- a layout-3 machine -------------------------------------------------------
to_layout3 "$T/pw"
[ "$(tpm2_nvread -s 8 0x01500002)" = 00000003 ] || fail "not layout 3"
tpm2_nvread -C o -P "$pw" 0x01500030 >"$T/sbf3" || fail "layout 3: the owner cannot read"
[ "$(wc -c <"$T/sbf3")" = 40 ] || fail "layout 3: sbf passphrase"
expect_rc 0 trust tpm status
grep -q '^layout version: 00000003$' "$T/out" || fail "status: $(cat "$T/out")"
grep -q '^owner: the TPM owner (admin password) can read 4 secret indices (NV layout 3); re-provisioning moves them to layout 4' \
	"$T/out" || fail "layout 3 status: $(cat "$T/out")"
expect_rc 0 trust tpm status --json
grep -q '"owner_reads_secrets":true}$' "$T/out" || fail "status --json: $(cat "$T/out")"

# readers keep working: preinit, then setup releases what preinit wrote
cat >"$T/inside.sh" <<EOS
"$TRUST" preinit --pcr7data "$PD" --keyring session 2>"$T/p.err" || exit 1
keyctl pipe %user:machine:luks >"$T/os3"
EOS
in_ns bash "$T/inside.sh" || { cat "$T/p.err"; fail "preinit on layout 3"; }
tpm_boot prod production
run_setup "$PD"
released "setup on layout 3"
tpm2_nvread -C o -P "$pw" 0x01500040 | cmp -s - "$T/os3" || fail "layout 3: preinit's passphrase"
# PCR7 is locked now, yet the owner reads the secrets: check-locked says so
expect_rc 3 trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/pw"
for role in admin-password $luks_secrets; do
	[ "$(verdict "$role")" = READABLE ] || fail "layout 3: $role: $(cat "$T/out")"
done
[ "$(verdict certificate)" = refused ] || fail "layout 3: certificate: $(cat "$T/out")"
grep -q '^READABLE: 4 of' "$T/out" || fail "layout 3 summary: $(cat "$T/out")"

# re-provisioning fixes it
provision_prod
expect_rc 0 trust tpm status
grep -q '^layout version: 00000004$' "$T/out" || fail "re-provisioned: $(cat "$T/out")"
! grep -q '^owner:' "$T/out" || fail "re-provisioned status warns: $(cat "$T/out")"
exit 0
