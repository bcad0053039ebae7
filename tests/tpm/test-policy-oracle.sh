#!/bin/bash
# test-policy-oracle.sh: the offline policy math of `trust tpm-policy-gen`
# against a real TPM (swtpm; tpm2-tools as the oracle, tests only): trial
# sessions over many PCR7 values and policy versions, a real policy session
# that must satisfy the luks policy, and PolicyAuthorize/key names of
# LoadExternal'ed keys.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
command -v tpm2_startauthsession >/dev/null || skip "tpm2-tools is not installed"
start_swtpm "$T/swtpm"
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1
ROUNDS=${ROUNDS:-10}

tpm2_nvdefine 0x01500020 -C o -s 4 -a "ownerwrite|ownerread|authread" >/dev/null

n=0
for ver in 0001 0002 0815 9999; do
	printf '%s' "$ver" | tpm2_nvwrite 0x01500020 -C o -i - >/dev/null
	for _ in $(seq "$ROUNDS"); do
		# Move PCR7 to a new random value; the policy uses whatever PCR7 is.
		tpm2_pcrextend "7:sha256=$(head -c 32 /dev/urandom | xxd -p -c 64)"
		tpm2_pcrread sha256:7 -o pcr7.bin >/dev/null
		[ "$(stat -c %s pcr7.bin)" = 32 ] || fail "pcrread did not give 32 bytes"
		rm -f luks_policy.out passwd_policy.out
		expect_rc 0 trust tpm-policy-gen --pcr7-production pcr7.bin --pcr7-tpm pcr7.bin \
			--policy-version "$ver"

		tpm2_startauthsession -S trial.ctx
		tpm2_policypcr -S trial.ctx -l sha256:7 -L tpm-passwd.bin >/dev/null
		cmp -s tpm-passwd.bin passwd_policy.out ||
			fail "passwd policy differs from the TPM's (version $ver, PCR7 $(xxd -p -c 64 pcr7.bin))"
		printf '%s' "$ver" | tpm2_policynv -S trial.ctx -i- 0x01500020 eq -L tpm-luks.bin >/dev/null
		tpm2_flushcontext trial.ctx
		cmp -s tpm-luks.bin luks_policy.out ||
			fail "luks policy differs from the TPM's (version $ver, PCR7 $(xxd -p -c 64 pcr7.bin))"
		n=$((n + 1))
	done

	# A real policy session: the TPM checks PCR7 and the NV contents, and its
	# digest must be the one we computed.
	tpm2_startauthsession --policy-session -S real.ctx
	tpm2_policypcr -S real.ctx -l sha256:7 >/dev/null
	printf '%s' "$ver" | tpm2_policynv -S real.ctx -i- 0x01500020 eq -L real.bin >/dev/null
	tpm2_flushcontext real.ctx
	cmp -s real.bin luks_policy.out || fail "real session digest differs (version $ver)"
	# ... and a wrong version in NV fails PolicyNV.
	tpm2_startauthsession --policy-session -S real.ctx
	if printf '%s' "0000" | tpm2_policynv -S real.ctx -i- 0x01500020 eq 2>/dev/null; then
		fail "PolicyNV accepted a wrong version"
	fi
	tpm2_flushcontext real.ctx
done
note "$n trial digests equal"

# PolicyAuthorize: key names as LoadExternal (owner hierarchy) makes them.
trust keyset add snakeoil >/dev/null
REF=$TOP/tests/data/reference-signdata/policy-2/pubkeys
openssl x509 -in "$KEYS/snakeoil/tpmpol-luks/cert.pem" -pubkey -noout >so-luks.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out fresh.key 2>/dev/null
openssl pkey -in fresh.key -pubout -out fresh.pem
for pub in so-luks.pem fresh.pem "$REF/luks-dev.pem" "$REF/tpmpass-release.pem"; do
	tpm2_loadexternal -C o -G rsa -u "$pub" -c key.ctx -n key.name >/dev/null
	expect_rc 0 trust tpm-policy-gen --authorize "$pub"
	want_name=$(xxd -p -c 64 key.name)
	[ "$(awk '$1 == "name:" {print $2}' "$T/out")" = "$want_name" ] ||
		fail "$pub: key name $(cat "$T/out") != TPM's $want_name"
	tpm2_startauthsession -S trial.ctx
	: >empty.policy
	tpm2_policyauthorize -S trial.ctx -L auth.bin -n key.name -i empty.policy >/dev/null
	tpm2_flushcontext trial.ctx
	tpm2_flushcontext -t >/dev/null 2>&1 || true
	[ "$(awk '$1 == "policy:" {print $2}' "$T/out")" = "$(xxd -p -c 64 auth.bin)" ] ||
		fail "$pub: PolicyAuthorize digest differs from the TPM's"
done
echo "policy oracle ok"
