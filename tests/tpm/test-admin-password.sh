#!/bin/bash
# trust tpm admin-password and trust tpm check-locked, per boot class:
# - tpm-admin-signed boot: check-locked finds the admin password READABLE and
#   every luks index refused by the TPM; admin-password hands out exactly what
#   the older tool's reading gives (0600 file, keyring or a pipe), then PCR7 is
#   locked: check-locked refuses everything, a second read gets nothing;
# - production boot: the luks indices are readable until setup, then locked;
#   admin-password is refused;
# - limited boot: everything refused;
# - an admin index that holds something else than the owner password is not
#   handed out; an existing --output file is refused, and PCR7 is locked all
#   the same (test-fail-closed.sh); an unreachable TPM is refused.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
# before provisioning: nothing to read, every index absent
tpm_boot prod production
expect_rc 0 trust tpm check-locked --pcr7data "$PD"
[ "$(grep -c ' absent   not defined$' "$T/out")" = 5 ] || fail "unprovisioned TPM: $(cat "$T/out")"
provision_prod

# verdict ROLE: refused|READABLE from the last check-locked output
verdict() { awk -v r="$1" '$2 == r { print $3 }' "$T/out"; }
luks_roles="certificate private-key sbf-passphrase os-passphrase"

# --- tpm-admin-signed boot ----------------------------------------------------
tpm_boot prod tpm
oracle_read 0x01500001 prod passwd >"$T/admin" || fail "oracle cannot read the admin password"
expect_rc 3 trust tpm check-locked --pcr7data "$PD"
[ "$(verdict admin-password)" = READABLE ] || fail "tpm boot: admin password not readable: $(cat "$T/out")"
for role in $luks_roles; do
	[ "$(verdict "$role")" = refused ] || fail "tpm boot: $role not refused: $(cat "$T/out")"
	# the TPM itself refused: the policy step and the NV_Read answered
	grep "$role" "$T/out" | grep -q 'NV_Read of 0x015000[0-9a-f]*: .*(0x' ||
		fail "tpm boot: $role: no NV_Read answer: $(cat "$T/out")"
done
grep -q '^READABLE: 1 of' "$T/out" || fail "summary: $(cat "$T/out")"
[ "$(pcr7_hex)" = "$("$TRUST" computepcr7 prod | sed -n 's/^uki-tpm: //p')" ] ||
	fail "check-locked changed PCR7"

before=$(pcr7_hex)
expect_rc 0 trust tpm admin-password --pcr7data "$PD" --output "$T/pw"
cmp -s "$T/pw" "$T/admin" || fail "admin-password wrote something else than NV 0x01500001 holds"
[ "$(stat -c %a "$T/pw")" = 600 ] || fail "password file mode $(stat -c %a "$T/pw")"
if [ -s "$T/out" ] || [ -s "$T/err" ]; then fail "admin-password printed: $(cat "$T/out" "$T/err")"; fi
[ "$(pcr7_hex)" != "$before" ] || fail "PCR7 not extended after the admin password was read"
expect_rc 0 trust tpm check-locked --pcr7data "$PD"
for role in admin-password $luks_roles; do
	[ "$(verdict "$role")" = refused ] || fail "after admin-password: $role: $(cat "$T/out")"
done
grep -q '^locked: ' "$T/out" || fail "summary: $(cat "$T/out")"
expect_error 1 "does not match any signed policy" trust tpm admin-password --pcr7data "$PD" \
	--output "$T/pw2"
[ ! -e "$T/pw2" ] || fail "a refused read left $T/pw2"

# keyring and pipe delivery
tpm_boot prod tpm
cat >"$T/inside.sh" <<EOS
"$TRUST" tpm admin-password --pcr7data "$PD" --keyring session 2>"$T/k.err" || exit 1
keyctl pipe %user:machine:tpm-admin >"$T/k.pw"
keyctl rdescribe %user:machine:tpm-admin >"$T/k.desc"
EOS
in_ns bash "$T/inside.sh" || { cat "$T/k.err"; fail "admin-password --keyring session failed"; }
cmp -s "$T/k.pw" "$T/admin" || fail "keyring holds something else than NV 0x01500001"
grep -q '^user;0;0;3f3f0000;machine:tpm-admin$' "$T/k.desc" || fail "key: $(cat "$T/k.desc")"
tpm_boot prod tpm
"$TRUST" tpm admin-password --pcr7data "$PD" --output - | cat >"$T/p.pw" ||
	fail "admin-password --output - failed"
cmp -s "$T/p.pw" "$T/admin" || fail "--output - gave something else"
expect_error 2 "exclude each other" trust tpm admin-password --keyring user --output "$T/x"

# an existing output file: refused, nothing written, PCR7 locked all the same
tpm_boot prod tpm
before=$(pcr7_hex)
echo keep >"$T/exists"
expect_error 1 "$T/exists: already exists" trust tpm admin-password --pcr7data "$PD" \
	--output "$T/exists"
[ "$(cat "$T/exists")" = keep ] || fail "existing file changed"
[ "$(pcr7_hex)" = "$(pcr7_locked "$before")" ] || fail "PCR7 not locked after a refused read"

# an admin index holding another password: read, locked, but not handed out
printf 'x%.0s' $(seq 32) | tpm2_nvwrite -C o -P "$(cat "$T/admin")" -i- 0x01500001 ||
	fail "overwriting the admin index"
tpm_boot prod tpm
expect_error 1 "0x01500001: it is not the TPM owner's password" \
	trust tpm admin-password --pcr7data "$PD" --output "$T/bad"
[ ! -e "$T/bad" ] || fail "a wrong admin password was written out"
[ "$(pcr7_hex)" != "$("$TRUST" computepcr7 prod | sed -n 's/^uki-tpm: //p')" ] ||
	fail "PCR7 not locked after reading a wrong admin password"
tpm_boot prod tpm
admin_pw=$(cat "$T/admin")
tpm2_nvwrite -C o -P "$admin_pw" -i- 0x01500001 <"$T/admin" ||
	fail "restoring the admin index"

# --- production boot: readable until setup, then locked ----------------------
tpm_boot prod production
expect_rc 3 trust tpm check-locked --pcr7data "$PD"
for role in $luks_roles; do
	[ "$(verdict "$role")" = READABLE ] || fail "production boot: $role: $(cat "$T/out")"
done
[ "$(verdict admin-password)" = refused ] || fail "production boot: admin password readable"
expect_error 1 "is the 'production' value of keyset 'prod': only a tpm-signed OS reads the admin password" \
	trust tpm admin-password --pcr7data "$PD" --output "$T/prod-pw"
[ ! -e "$T/prod-pw" ] || fail "production boot wrote an admin password"
tpm_boot prod production # the refusal locked PCR7
cat >"$T/inside.sh" <<EOS
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session \
	2>"$T/s.err" || exit 1
rc=0
"$TRUST" tpm check-locked --pcr7data "$PD" >"$T/out" 2>"$T/err" || rc=\$?
echo \$rc >"$T/c.rc"
EOS
in_ns bash "$T/inside.sh" || { cat "$T/s.err"; fail "setup failed"; }
[ "$(cat "$T/c.rc")" = 0 ] || fail "after setup check-locked exited $(cat "$T/c.rc"): $(cat "$T/out" "$T/err")"
for role in admin-password $luks_roles; do
	[ "$(verdict "$role")" = refused ] || fail "after setup: $role: $(cat "$T/out")"
done

# --- limited boot: nothing ----------------------------------------------------
tpm_boot prod limited
expect_rc 0 trust tpm check-locked --pcr7data "$PD"
expect_error 1 "is the 'limited' value of keyset 'prod'" \
	trust tpm admin-password --pcr7data "$PD" --output "$T/lim-pw"

# --- no TPM -------------------------------------------------------------------
stop_swtpm
expect_error 1 "tpm check-locked: TPM .*cannot open" trust tpm check-locked --pcr7data "$PD"
expect_error 2 "unknown subcommand 'nope'" trust tpm nope
exit 0
