#!/bin/bash
# test-signed-policy.sh: the whole chain with a real TPM (swtpm; tpm2-tools as
# the oracle, tests only): `keyset pcr7data` signs the luks policy of the
# TPM's current PCR7, the TPM accepts that signature (VerifySignature ticket),
# PolicyAuthorize with the NV index's authPolicy from `tpm-policy-gen
# --authorize` releases the index; after PCR7 changes, it does not.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
command -v tpm2_verifysignature >/dev/null || skip "tpm2-tools is not installed"
start_swtpm "$T/swtpm"
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1

trust keyset add ks >/dev/null
openssl x509 -in "$KEYS/ks/tpmpol-luks/cert.pem" -pubkey -noout >luks.pem

# The version index and a secret under PolicyAuthorize(tpmpol-luks).
tpm2_nvdefine 0x01500020 -C o -s 4 -a "ownerwrite|ownerread|authread" >/dev/null
printf '0001' | tpm2_nvwrite 0x01500020 -C o -i -
expect_rc 0 trust tpm-policy-gen --authorize luks.pem
awk '$1 == "policy:" {print $2}' "$T/out" | xxd -r -p >authpol.bin
tpm2_nvdefine 0x01500030 -C o -s 8 -a "ownerwrite|ownerread|policyread" -L authpol.bin >/dev/null
printf 'secret12' | tpm2_nvwrite 0x01500030 -C o -i -

# Measured values of "this machine": the production one is the TPM's PCR7.
tpm2_pcrextend "7:sha256=$(head -c 32 /dev/urandom | xxd -p -c 64)"
tpm2_pcrread sha256:7 -o prod.bin >/dev/null
head -c 32 /dev/urandom >tpm.bin
head -c 32 /dev/urandom >lim.bin
expect_rc 0 trust keyset pcr7data ks --pcr7-prod prod.bin --pcr7-tpm tpm.bin --pcr7-limited lim.bin

# read_secret: what `setup` does, step by step with tpm2-tools.
read_secret() {
	local sig
	tpm2_pcrread sha256:7 -o now.bin >/dev/null
	expect_rc 0 trust pcr7data lookup "$KEYS/ks/pcr7data" --pcr7 now.bin
	grep -qx "key_type: production" "$T/out" || return 1
	sig=$(awk '$1 == "signed_policy:" {print $2}' "$T/out")
	expect_rc 0 trust tpm-policy-gen --pcr7-production now.bin --pcr7-tpm now.bin
	tpm2_loadexternal -C o -G rsa -u luks.pem -c luks.ctx -n luks.name >/dev/null
	tpm2_verifysignature -c luks.ctx -g sha256 -m luks_policy.out -s "$sig" -f rsassa \
		-t ticket.bin >/dev/null || return 1
	tpm2_flushcontext -t >/dev/null 2>&1 || true
	tpm2_startauthsession --policy-session -S s.ctx
	tpm2_policypcr -S s.ctx -l sha256:7 >/dev/null &&
		printf '0001' | tpm2_policynv -S s.ctx -i- 0x01500020 eq >/dev/null &&
		tpm2_policyauthorize -S s.ctx -i luks_policy.out -n luks.name -t ticket.bin >/dev/null &&
		tpm2_nvread 0x01500030 -P session:s.ctx -s 8 -o got.bin 2>/dev/null
	local rc=$?
	tpm2_flushcontext s.ctx 2>/dev/null || true
	return $rc
}
read_secret || fail "the signed luks policy did not release the index"
[ "$(cat got.bin)" = secret12 ] || fail "read back '$(cat got.bin)'"

# A signature by another key is refused by the TPM (and by lookup).
sigfile=$(trust pcr7data lookup "$KEYS/ks/pcr7data" --pcr7 prod.bin | awk '$1 == "signed_policy:" {print $2}')
cp "$sigfile" good.sig
openssl dgst -sha256 -sign "$KEYS/ks/tpmpol-admin/privkey.pem" -out "$sigfile" luks_policy.out
if tpm2_verifysignature -c luks.ctx -g sha256 -m luks_policy.out -s "$sigfile" -f rsassa \
	-t t2.bin >/dev/null 2>&1; then
	fail "TPM accepted a signature by tpmpol-admin"
fi
expect_error 1 "signature does not verify" trust pcr7data lookup "$KEYS/ks/pcr7data" --pcr7 prod.bin
cp good.sig "$sigfile"

# Once PCR7 moves on (as setup does), nothing matches and nothing is released.
tpm2_pcrextend "7:sha256=$(head -c 32 /dev/urandom | xxd -p -c 64)"
tpm2_pcrread sha256:7 -o now.bin >/dev/null
expect_error 1 "does not match any signed policy" trust pcr7data lookup "$KEYS/ks/pcr7data" --pcr7 now.bin
# Even with the old (valid) ticket, PolicyPCR now yields another digest.
tpm2_startauthsession --policy-session -S s.ctx
tpm2_policypcr -S s.ctx -l sha256:7 >/dev/null
printf '0001' | tpm2_policynv -S s.ctx -i- 0x01500020 eq >/dev/null
if tpm2_policyauthorize -S s.ctx -i luks_policy.out -n luks.name -t ticket.bin >/dev/null 2>&1 &&
	tpm2_nvread 0x01500030 -P session:s.ctx -s 8 >/dev/null 2>&1; then
	fail "index released after PCR7 changed"
fi
tpm2_flushcontext s.ctx 2>/dev/null || true
echo "signed policy ok"
