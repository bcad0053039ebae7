#!/bin/bash
# preinit (the installer's first step) replaces the OS passphrase: the new one
# is in the keyring and in NV 0x01500040, the old one is gone, PCR7 is locked
# afterwards; outside a production boot it changes nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset

provision_prod
oracle_read 0x01500040 prod luks >"$T/old" || fail "oracle read of the old passphrase"

# run_preinit: preinit in its own namespace/keyring; $T/p.rc, $T/p.err, $T/p.key
run_preinit() {
	cat >"$T/inside.sh" <<EOS
rc=0
"$TRUST" preinit --pcr7data "$PD" --keyring session >"$T/p.out" 2>"$T/p.err" || rc=\$?
echo \$rc >"$T/p.rc"
keyctl print %user:machine:luks >"$T/p.key" 2>/dev/null || : >"$T/p.key"
EOS
	in_ns bash "$T/inside.sh" 2>/dev/null
}

# not in a tpm-admin boot
tpm_boot prod tpm
run_preinit
[ "$(cat "$T/p.rc")" = 1 ] || fail "preinit in a tpm boot exited $(cat "$T/p.rc")"
grep -q "is the 'tpm' value of keyset 'prod'" "$T/p.err" || fail "preinit in a tpm boot: $(cat "$T/p.err")"
[ ! -s "$T/p.key" ] || fail "preinit in a tpm boot added a key"

tpm_boot prod production
production_pcr7=$(pcr7_hex)
run_preinit
[ "$(cat "$T/p.rc")" = 0 ] || fail "preinit exited $(cat "$T/p.rc"): $(cat "$T/p.err")"
[ ! -s "$T/p.err" ] || fail "preinit printed: $(cat "$T/p.err")"
printf '%s' "$(cat "$T/p.key")" >"$T/new"
grep -Eq '^[A-Za-z0-9]{40}$' "$T/new" || fail "new passphrase: $(cat "$T/new")"
! cmp -s "$T/new" "$T/old" || fail "preinit kept the old passphrase"
[ "$(pcr7_hex)" != "$production_pcr7" ] || fail "preinit did not extend PCR7"
! oracle_read 0x01500040 prod luks >/dev/null 2>&1 || fail "secrets readable after preinit"

# next boot: the TPM holds the new passphrase; setup releases it
tpm_boot prod production
oracle_read 0x01500040 prod luks >"$T/now" || fail "oracle read after preinit"
cmp -s "$T/now" "$T/new" || fail "NV 0x01500040 is not the keyring's passphrase"
cat >"$T/inside.sh" <<EOS
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$KEYS/prod/manifest-ca/cert.pem" \
	--secure-dir "$T/sec" --keyring session 2>"$T/s.err" || exit 1
printf '%s' "\$(keyctl print %user:machine:luks)" | cmp -s - "$T/new" || exit 2
cmp -s "$T/sec/server.crt" "$T/id/cert.pem" || exit 3
EOS
rc=0
in_ns bash "$T/inside.sh" 2>/dev/null || rc=$?
[ $rc = 0 ] || fail "setup after preinit: $rc $(cat "$T/s.err")"
exit 0
