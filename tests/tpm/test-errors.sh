#!/bin/bash
# Bad input and bad situations: one error line, the right exit code, nothing
# written to the TPM (but PCR7 locked once the TPM was opened, see
# test-fail-closed.sh); extend-pcr7 extends with the documented digest.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset

# usage
expect_error 2 "expected CERT and KEY" trust provision "$T/id/cert.pem"
expect_error 2 "unexpected argument 'x'" trust setup x
expect_error 2 "expected 'status'" trust tpm
expect_error 2 "unknown option" trust setup --disk /dev/null
expect_error 2 "keyring 'x': expected 'user' or 'session'" trust preinit --keyring x
expect_error 2 "unexpected argument 'x'" trust extend-pcr7 x
for c in provision preinit setup extend-pcr7 "tpm status"; do
	# shellcheck disable=SC2086
	expect_rc 0 trust $c --help
	grep -q "^Usage: trust $c" "$T/out" || fail "$c --help: $(head -1 "$T/out")"
done
for c in setup preinit provision "tpm admin-password"; do
	# shellcheck disable=SC2086
	expect_rc 0 trust $c --help
	grep -q "^3 the PCR7 lock failed (extend or read-back): " "$T/out" ||
		fail "$c --help documents no exit code 3"
	grep -q "MUST power off" "$T/out" || fail "$c --help does not say power off"
	grep -q "PCR7 locked," "$T/out" || fail "$c --help: exit 1 does not say PCR7 is locked"
done

# no TPM at all
TRUST_TPM2_TCTI="swtpm:host=127.0.0.1,port=1" expect_error 1 "TPM 'swtpm:host=127.0.0.1,port=1': cannot open" \
	trust setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session
TRUST_TPM2_TCTI="swtpm:host=127.0.0.1,port=1" expect_error 1 "cannot open" trust tpm status

tpm_boot prod production
prod_pcr7=$(pcr7_hex)
# bad identity: nothing is written to the TPM; PCR7 is locked all the same
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -out "$T/other.crt" -subj /CN=o \
	2>/dev/null
expect_error 1 "other.key: is not the key of .*cert.pem" \
	trust provision --pcr7data "$PD" "$T/id/cert.pem" "$T/other.key"
[ "$(pcr7_hex)" = "$(pcr7_locked "$prod_pcr7")" ] || fail "a refused provision left PCR7 unlocked"
expect_error 1 "nothing.pem: No such file" trust provision --pcr7data "$PD" "$T/nothing.pem" "$T/id/key.pem"
expect_error 1 "key.pem: not a PEM certificate" trust provision --pcr7data "$PD" "$T/id/key.pem" "$T/id/key.pem"
expect_error 1 "pcr7data '$T/none': does not exist" trust provision --pcr7data "$T/none" "$T/id/cert.pem" "$T/id/key.pem"
expect_rc 0 trust tpm status
grep -q "0x01500021 certificate *not defined" "$T/out" || fail "a refused provision touched the TPM"

# provisioning from a tpm-admin image is refused
tpm_boot prod tpm
expect_error 1 "is the 'tpm' value of keyset 'prod': provision from a production-signed image" \
	trust provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
expect_rc 0 trust tpm status
grep -q "0x01500021 certificate *not defined" "$T/out" || fail "a refused provision touched the TPM"

# setup: a missing manifest CA fails, and PCR7 is locked all the same
provision_prod
before=$(pcr7_hex)
expect_error 1 "nothing.pem: No such file" \
	trust setup --pcr7data "$PD" --manifest-ca "$T/nothing.pem" --secure-dir "$T/sec" --keyring session
[ "$(pcr7_hex)" = "$(pcr7_locked "$before")" ] || fail "a refused setup left PCR7 unlocked"

# a signed policy that does not verify is reported before the TPM is asked
tpm_boot prod production
before=$(pcr7_hex)
cp -a "$PD" "$T/pd-bad"
sig=$(ls "$T"/pd-bad/policy-2/*/*/tpm_luks.policy.signed)
# (the byte's complement: writing a fixed value missed when it was there already)
b=$(od -An -tu1 -j100 -N1 "$sig" | tr -d ' ')
# shellcheck disable=SC2059 # the format is the octal escape of the byte
printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$sig" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_error 1 "tpm_luks.policy.signed: .*does not verify with" \
	trust setup --pcr7data "$T/pd-bad" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session
[ "$(pcr7_hex)" = "$(pcr7_locked "$before")" ] || fail "a setup refused by pcr7data left PCR7 unlocked"

# extend-pcr7: PCR7 = SHA256(PCR7 || SHA256("atomix\n"))
tpm_boot prod production
before=$(pcr7_hex)
lock=$(printf 'atomix\n' | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$lock" = b7135cbb321a66fa848b07288bd008b89bd5b7496c4569c5e1a4efd5f7c8e0a7 ] || fail "lock digest"
want=$(printf '%s%s' "$before" "$lock" | xxd -r -p | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$want" = "$(pcr7_locked "$before")" ] || fail "pcr7_locked disagrees"
expect_rc 0 trust extend-pcr7
[ "$(pcr7_hex)" = "$want" ] || fail "extend-pcr7: PCR7 $(pcr7_hex), want $want"
exit 0
