#!/bin/bash
# A firmware key update that bricks nothing (issue 13): a dbx update
# revoking uki-limited changes every class's PCR7. Before the rollout a
# machine booted with the update opens nothing (its PCR7 has no signed
# policy); `keyset rollout` adds entries for the post-update values next to
# the old ones, so it unlocks before and after the update, and the tpm class
# still reads the admin password; the refused limited class gets no entry.
# Then the policy-version bump (rollout --policy-version 0002 re-signs the
# post-update entries) revokes the pre-update signatures: the old PCR7 opens
# nothing any more, the new one does. PCR7 is replayed from
# `computepcr7 --update --events`, as firmware would measure it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
provision_prod
expect_rc 0 trust efivars sign-update --keyset prod --var dbx --append \
	--output "$T/revoke.auth" "$KEYS/prod/uki-limited/cert.pem"

# tpm_boot_updated CLASS: a reboot after the firmware applied revoke.auth
tpm_boot_updated() {
	pcr7_replay "$SWTPM_STATE" prod --update "$T/revoke.auth" --class "$1"
}

# --- before the rollout: the updated machine opens nothing ---------------------------
tpm_boot_updated production
new_prod=$(pcr7_hex)
run_setup "$PD"
nothing_released "updated firmware, no rollout" "PCR7 $new_prod does not match any signed policy"

# --- rollout ----------------------------------------------------------------------------
entries_before=$(find "$PD" -name info.json | wc -l)
expect_rc 0 trust keyset rollout prod "$T/revoke.auth"
grep -qx "uki-production: $new_prod" "$T/out" || fail "rollout printed $(cat "$T/out"), PCR7 is $new_prod"
grep -qx 'uki-limited: refused (dbx holds its certificate)' "$T/out" || fail "rollout: $(cat "$T/out")"
grep -q "^keyset 'prod': 2 pcr7data entries added" "$T/out" || fail "rollout: $(cat "$T/out")"
[ "$(find "$PD" -name info.json | wc -l)" = $((entries_before + 2)) ] || fail "rollout did not add 2 entries"
expect_rc 0 trust pcr7data lookup "$PD" --pcr7 "$new_prod" --json
grep -q '"key_type":"production"' "$T/out" || fail "lookup of the new value: $(cat "$T/out")"
# again: nothing new
expect_rc 0 trust keyset rollout prod "$T/revoke.auth"
grep -q "^keyset 'prod': 0 pcr7data entries added" "$T/out" || fail "second rollout: $(cat "$T/out")"

# after the update: released; before it: still released
tpm_boot_updated production
run_setup "$PD"
released "updated firmware after the rollout"
tpm_boot prod production
run_setup "$PD"
released "old firmware after the rollout"
# the tpm class after the update still reads the admin password
tpm_boot_updated tpm
expect_rc 0 trust tpm admin-password --pcr7data "$PD" --output "$T/admin"
admin_pw=$(cat "$T/admin")

# --- revoke the pre-update signatures ---------------------------------------------------
printf 0002 | tpm2_nvwrite -C o -P "$admin_pw" -i- 0x01500020 || fail "bumping the policy version"
expect_rc 0 trust keyset rollout prod "$T/revoke.auth" --policy-version 0002
grep -q "^keyset 'prod': 1 pcr7data entries added or re-signed" "$T/out" ||
	fail "rollout --policy-version 0002: $(cat "$T/out")"
tpm_boot prod production
run_setup "$PD"
nothing_released "old firmware after the bump" "policy version is not 0001 \(revoked\)"
tpm_boot_updated production
run_setup "$PD"
released "updated firmware after the bump"
echo ok
