#!/bin/bash
# Revoking signed policies with the EA policy version (spec tpm.md): the
# owner bumps NV 0x01500020 from 0001 to 0002 with the admin password (read
# by `trust tpm admin-password` in a tpm-signed boot). pcr7data signed for
# 0001 then opens nothing, not even in a production boot; pcr7data whose
# luks policy is signed for 0002 (signed here with openssl, an independent
# signer) releases the secrets again, preinit works with it, and a new machine
# is provisioned for 0002 directly (provision --policy-version), refusing a
# version its pcr7data is not signed for.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
provision_prod

# resign OUT VERSION: a copy of prod's pcr7data whose production entry's luks
# policy is signed for VERSION (tpm-policy-gen computes it, openssl signs).
resign() {
	local out=$1 version=$2 entry lim
	rm -rf "$out"
	cp -r "$PD" "$out"
	entry=$(entry_dir prod production)
	lim=$(entry_dir prod limited)
	"$TRUST" tpm-policy-gen --pcr7-production "$lim/pcr_prod.bin" --pcr7-tpm "$lim/pcr_tpm.bin" \
		--policy-version "$version" --luks-policy-file "$T/luks.$version" \
		--passwd-policy-file "$T/passwd.$version" >/dev/null || fail "tpm-policy-gen $version"
	openssl dgst -sha256 -sign "$KEYS/prod/tpmpol-luks/privkey.pem" \
		-out "$out/${entry#"$PD"/}/tpm_luks.policy.signed" "$T/luks.$version" ||
		fail "signing the $version luks policy"
}
resign "$T/pd2" 0002

# before the bump, pcr7data signed for 0002 is refused by setup (offline)
tpm_boot prod production
run_setup "$T/pd2"
nothing_released "0002 data, TPM at 0001" "pcr7data for PCR7 [0-9a-f]* is not signed for the TPM's policy version 0001: .*does not verify"

# the owner bumps the version (admin password from a tpm-signed boot)
tpm_boot prod tpm
expect_rc 0 trust tpm admin-password --pcr7data "$PD" --output "$T/admin"
admin_pw=$(cat "$T/admin")
printf 0002 | tpm2_nvwrite -C o -P "$admin_pw" -i- 0x01500020 || fail "bumping the policy version"
expect_rc 0 trust tpm status --json
grep -q '"policy_version":"0002"' "$T/out" || fail "status: $(cat "$T/out")"

# old pcr7data: revoked, and nothing is readable with it in a production boot
tpm_boot prod production
run_setup "$PD"
nothing_released "0001 data, TPM at 0002" "policy version is not 0001 \(revoked\): PolicyNV"
tpm_boot prod production # the refused setup locked PCR7
expect_rc 0 trust tpm check-locked --pcr7data "$PD"
grep -q "os-passphrase  refused  .*PolicyNV" "$T/out" || fail "check-locked: $(cat "$T/out")"

# pcr7data signed for yet another version: neither 0001 nor the TPM's
resign "$T/pd3" 0003
run_setup "$T/pd3"
nothing_released "0003 data, TPM at 0002" "signed neither for policy version 0001 nor for the TPM's 0002"

# re-signed pcr7data opens everything again; check-locked sees it readable
tpm_boot prod production
expect_rc 3 trust tpm check-locked --pcr7data "$T/pd2"
grep -q "os-passphrase  READABLE" "$T/out" || fail "check-locked with 0002 data: $(cat "$T/out")"
run_setup "$T/pd2"
released "0002 data, TPM at 0002"
tpm_boot prod production
expect_rc 0 in_ns "$TRUST" preinit --pcr7data "$T/pd2" --keyring session

# a new machine provisioned for 0002 directly
stop_swtpm
rm -rf "$SWTPM_STATE"
tpm_boot prod production
expect_error 1 "pcr7data for PCR7 [0-9a-f]* is not signed for policy version 0002: .*does not verify" \
	trust provision --pcr7data "$PD" --policy-version 0002 "$T/id/cert.pem" "$T/id/key.pem"
tpm_boot prod production # every refusal locks PCR7
expect_error 1 "policy version 0003" \
	trust provision --pcr7data "$T/pd2" --policy-version 0003 "$T/id/cert.pem" "$T/id/key.pem"
expect_rc 0 trust tpm status --json
grep -q '"policy_version":null' "$T/out" || fail "a refused provision wrote the TPM: $(cat "$T/out")"
tpm_boot prod production
expect_rc 0 trust provision --pcr7data "$T/pd2" --policy-version 0002 "$T/id/cert.pem" "$T/id/key.pem"
expect_rc 0 trust tpm status --json
grep -q '"policy_version":"0002"' "$T/out" || fail "status after provision: $(cat "$T/out")"
tpm_boot prod production
run_setup "$T/pd2"
released "provisioned for 0002"
expect_error 2 "needs 4 decimal digits, not '2'" trust provision --policy-version 2 a b

# the keyset's own way to re-sign: keyset pcr7data --policy-version re-signs
# the production entry (byte for byte what openssl made: PKCS#1 v1.5 is
# deterministic) and keeps the rest; again with the same version, nothing
lim=$(entry_dir prod limited)
prod_entry=$(entry_dir prod production)
cp "$lim/pcr_tpm.bin" "$lim/pcr_prod.bin" "$lim/pcr_limited.bin" "$T/"
for run in 1 2; do
	expect_rc 0 trust keyset pcr7data prod --pcr7-tpm "$T/pcr_tpm.bin" --pcr7-prod "$T/pcr_prod.bin" \
		--pcr7-limited "$T/pcr_limited.bin" --policy-version 0002
	want=1
	[ $run = 2 ] && want=0
	grep -q "^keyset 'prod': $want of 3 pcr7data entries added or re-signed" "$T/out" ||
		fail "keyset pcr7data run $run: $(cat "$T/out")"
done
cmp -s "$prod_entry/tpm_luks.policy.signed" "$T/pd2/${prod_entry#"$PD"/}/tpm_luks.policy.signed" ||
	fail "keyset pcr7data signed the 0002 policy differently from openssl"
tpm_boot prod production
run_setup "$PD"
released "keyset re-signed for 0002"
exit 0
