#!/bin/bash
# Who gets what: a tpm-admin-signed OS reads the admin password (through the
# passwd policy) and it is the owner password, but no luks index; a
# limited-signed OS reads nothing; pcr7data signed by another keyset opens
# nothing; after the policy version in NV is bumped, nothing opens either.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
keyset_with_pcr7data other

provision_prod

# tpm-admin-signed OS
tpm_boot prod tpm
oracle_read 0x01500001 prod passwd >"$T/admin" || fail "passwd policy does not open 0x01500001"
grep -Eq '^[A-Za-z0-9]{32}$' "$T/admin" || fail "admin password is not 32 alphanumerics"
# it is the owner password (ownerread of an authread index proves it) ...
tpm2_nvread -C o -P "$(cat "$T/admin")" -s 8 0x01500002 >"$T/layout" || fail "admin password is not owner's"
[ "$(cat "$T/layout")" = 00000004 ] || fail "layout version $(cat "$T/layout")"
! tpm2_nvread -C o -P wrong-password -s 8 0x01500002 >/dev/null 2>&1 || fail "owner has no password"
# ... and neither the luks policy nor the passwd policy opens a luks index
for idx in 0x01500021 0x01500022 0x01500030 0x01500040; do
	! oracle_read $idx prod passwd >/dev/null 2>&1 || fail "passwd policy opens $idx"
	! oracle_read $idx prod luks >/dev/null 2>&1 || fail "luks policy opens $idx in a tpm boot"
done
run_setup "$PD"
nothing_released "tpm boot" "is the 'tpm' value of keyset 'prod'"

# limited-signed OS: no policy at all
tpm_boot prod limited
for idx in 0x01500001 0x01500021 0x01500040; do
	! oracle_read $idx prod passwd >/dev/null 2>&1 || fail "limited boot: passwd policy opens $idx"
	! oracle_read $idx prod luks >/dev/null 2>&1 || fail "limited boot: luks policy opens $idx"
done
run_setup "$PD"
nothing_released "limited boot" "is the 'limited' value of keyset 'prod'"

# another keyset's pcr7data, booted with that keyset's production UKI: its
# signatures are valid, but the indices are bound to prod's policy keys
tpm_boot other production
run_setup "$KEYS/other/pcr7data"
nothing_released "foreign keyset" "NV_Read of 0x01500021: .*(0x99d|policy)"
tpm_boot other production # the refused setup locked PCR7
! oracle_read 0x01500040 other luks >/dev/null 2>&1 || fail "other keyset's luks policy opens 0x01500040"

# prod's pcr7data under the other keyset's firmware: PCR7 is unknown there
run_setup "$PD"
nothing_released "foreign PCR7" "does not match any signed policy"

# policy version bumped (by the owner, with the admin password): revoked
tpm_boot prod production
printf 0002 | tpm2_nvwrite -C o -P "$(cat "$T/admin")" -i- 0x01500020 || fail "bumping the policy version"
run_setup "$PD"
nothing_released "policy version bumped" "policy version is not 0001 \(revoked\): PolicyNV"
tpm_boot prod production # the refused setup locked PCR7
! oracle_read 0x01500040 prod luks >/dev/null 2>&1 || fail "bumped version: old signed policy still opens"
exit 0
