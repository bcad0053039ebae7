#!/bin/bash
# test-pcr7data.sh: tpm-policy-gen and pcr7data lookup on the deployed
# reference data (signatures checked with openssl), the committed snakeoil
# pcr7data, `keyset pcr7data`, and bad inputs that must leave nothing behind.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
REF=$TOP/tests/data/reference-signdata
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1

swapname() { # swapname FILE: the pair-swapped hex entry name of a PCR7 file
	local h
	h=$(xxd -p -c 64 "$1" | sed 's/\(..\)\(..\)/\2\1/g')
	echo "${h:0:2}/${h:2}"
}
verify() { # verify PUBKEY SIG DATA
	openssl dgst -sha256 -verify "$1" -signature "$2" "$3" >/dev/null 2>&1
}

# --- reference data: every limited entry ---
n=0
for lim in "$REF"/policy-2/*/*/pcr_limited.bin; do
	d=$(dirname "$lim")
	key=$(sed 's/.*"key":"\([^"]*\)".*/\1/' "$d/info.json")
	rm -f luks_policy.out passwd_policy.out
	expect_rc 0 trust tpm-policy-gen --pcr7-production "$d/pcr_prod.bin" --pcr7-tpm "$d/pcr_tpm.bin"
	[ "$(stat -c %s luks_policy.out) $(stat -c %s passwd_policy.out)" = "32 32" ] ||
		fail "policy files are not 32 bytes"
	prod=$REF/policy-2/$(swapname "$d/pcr_prod.bin")
	tpm=$REF/policy-2/$(swapname "$d/pcr_tpm.bin")
	verify "$REF/policy-2/pubkeys/luks-$key.pem" "$prod/tpm_luks.policy.signed" luks_policy.out ||
		fail "$d: luks policy does not verify"
	verify "$REF/policy-2/pubkeys/tpmpass-$key.pem" "$tpm/tpm_passwd.policy.signed" passwd_policy.out ||
		fail "$d: passwd policy does not verify"
	# The policy version is part of the luks digest.
	expect_rc 0 trust tpm-policy-gen --pcr7-production "$d/pcr_prod.bin" --pcr7-tpm "$d/pcr_tpm.bin" \
		--policy-version 0002 --luks-policy-file l2 --passwd-policy-file p2
	! verify "$REF/policy-2/pubkeys/luks-$key.pem" "$prod/tpm_luks.policy.signed" l2 ||
		fail "version 0002 verifies"
	cmp -s p2 passwd_policy.out || fail "passwd policy depends on the version"

	for f in pcr_prod pcr_tpm pcr_limited; do
		expect_rc 0 trust pcr7data lookup "$REF" --pcr7 "$d/$f.bin"
		case $f in
		pcr_prod) want=production ;; pcr_tpm) want=tpm ;; *) want=limited ;;
		esac
		grep -qx "key_type: $want" "$T/out" || fail "$d/$f: $(cat "$T/out")"
		grep -qx "key: $key" "$T/out" || fail "$d/$f: key"
	done
	n=$((n + 1))
done
[ $n = 6 ] || fail "expected 6 limited entries, saw $n"
# sample1: the passwd policy byte for byte.
expect_rc 0 trust tpm-policy-gen --pcr7-production "$REF/sample1/pcr7-prod.bin" \
	--pcr7-tpm "$REF/sample1/pcr7-tpm.bin" --luks-policy-file s1l --passwd-policy-file s1p
cmp s1p "$REF/sample1/passwd.policy" || fail "sample1 passwd.policy differs"
# hex form of --pcr7, and JSON
h=$(xxd -p -c 64 "$d/pcr_prod.bin")
expect_rc 0 trust pcr7data lookup "$REF" --pcr7 "$h" --json
grep -q '"key_type":"production"' "$T/out" || fail "lookup --json: $(cat "$T/out")"

# The two production entries without a limited sibling (5e/, e4/): the
# fixture notes call them unswapped, but their signed luks policy verifies
# only when the name is read pair-swapped like every other entry, so lookup
# finds them through the same rule.
for e in 5e/e430c50df6c3c605236031f32631bad8c8b496a9d4211f08ce25517aa57d68 \
	e4/a3d2faaa3e925e33b60f660508f9e6c83a645a63a62037995dfeda417dca71; do
	v=$(echo "$e" | tr -d / | sed "s/\(..\)\(..\)/\2\1/g")
	expect_rc 0 trust pcr7data lookup "$REF" --pcr7 "$v"
	grep -qx "key_type: production" "$T/out" || fail "lone entry $e: $(cat "$T/out")"
	expect_rc 1 trust pcr7data lookup "$REF" --pcr7 "$(echo "$e" | tr -d /)"
done

# --- bad inputs to tpm-policy-gen: nothing written ---
mkdir "$W/bad" && cd "$W/bad" || exit 1
head -c 31 /dev/urandom >short
head -c 33 /dev/urandom >long
head -c 32 /dev/urandom >ok
expect_error 1 "short: not a 32-byte PCR7 value" trust tpm-policy-gen --pcr7-production short --pcr7-tpm ok
expect_error 1 "long: not a 32-byte PCR7 value" trust tpm-policy-gen --pcr7-production ok --pcr7-tpm long
expect_error 1 "missing" trust tpm-policy-gen --pcr7-production ok --pcr7-tpm missing
expect_error 2 "4 decimal digits" trust tpm-policy-gen --pcr7-production ok --pcr7-tpm ok --policy-version 01
expect_error 2 "4 decimal digits" trust tpm-policy-gen --pcr7-production ok --pcr7-tpm ok --policy-version 00a1
expect_error 2 "required" trust tpm-policy-gen --pcr7-production ok
[ "$(ls)" = "$(printf 'long\nok\nshort')" ] || fail "bad input left files: $(ls)"
cd "$W" || exit 1

# --- the committed snakeoil pcr7data holds its own predicted values ---
trust keyset add snakeoil >/dev/null
expect_rc 0 trust computepcr7 snakeoil
while read -r k v; do
	expect_rc 0 trust pcr7data lookup "$KEYS/snakeoil/pcr7data" --pcr7 "$v"
	grep -qx "key: snakeoil" "$T/out" || fail "snakeoil $k"
	case $k in uki-production:) want=production ;; uki-tpm:) want=tpm ;; *) want=limited ;; esac
	grep -qx "key_type: $want" "$T/out" ||
		fail "committed snakeoil pcr7data is stale for $k (see keysets/snakeoil/README.md)"
	echo "$v" | xxd -r -p >"so-${k%:}.bin"
done < <(trust computepcr7 snakeoil)

# --- keyset add writes pcr7data for its own values; keyset pcr7data adds more ---
trust keyset add ks1 >/dev/null
P=$KEYS/ks1/pcr7data/policy-2
for f in luks-ks1.pem tpmpass-ks1.pem; do [ -f "$P/pubkeys/$f" ] || fail "pubkeys/$f missing"; done
trust computepcr7 ks1 >ks1.pcrs
while read -r k v; do
	expect_rc 0 trust pcr7data lookup "$KEYS/ks1/pcr7data" --pcr7 "$v"
	grep -qx "key: ks1" "$T/out" || fail "ks1 $k"
done <ks1.pcrs
[ "$(grep -l '"key_type":"password"' "$P"/*/*/info.json | wc -l)" = 1 ] ||
	fail "the tpm entry is not written as \"password\""
# pubkeys are the keyset's policy keys
openssl x509 -in "$KEYS/ks1/tpmpol-luks/cert.pem" -pubkey -noout | cmp - "$P/pubkeys/luks-ks1.pem" ||
	fail "luks pubkey is not tpmpol-luks"

head -c 32 /dev/urandom >m-prod
head -c 32 /dev/urandom >m-tpm
head -c 32 /dev/urandom >m-lim
before=$(tree_snapshot "$KEYS/ks1")
# bad inputs first: nothing may change
expect_error 1 "short: not a 32-byte PCR7 value" trust keyset pcr7data ks1 --pcr7-tpm bad/short \
	--pcr7-prod m-prod --pcr7-limited m-lim
expect_error 1 "keyset 'nope' does not exist" trust keyset pcr7data nope --pcr7-tpm m-tpm \
	--pcr7-prod m-prod --pcr7-limited m-lim
expect_error 2 "required" trust keyset pcr7data ks1 --pcr7-tpm m-tpm --pcr7-prod m-prod
expect_error 2 "4 decimal digits" trust keyset pcr7data ks1 --pcr7-tpm m-tpm --pcr7-prod m-prod \
	--pcr7-limited m-lim --policy-version 1
expect_error 1 "must differ" trust keyset pcr7data ks1 --pcr7-tpm m-tpm --pcr7-prod m-tpm \
	--pcr7-limited m-lim
# a given policy digest must be the one computed from the values
expect_error 1 "does not match the policy computed" trust keyset pcr7data ks1 --pcr7-tpm m-tpm \
	--pcr7-prod m-prod --pcr7-limited m-lim --luksPolicy "$REF/sample1/luks.policy"
cp -r "$KEYS/ks1" "$KEYS/ks2"
rm "$KEYS/ks2/tpmpol-admin/privkey.pem"
before2=$(tree_snapshot "$KEYS/ks2")
expect_error 1 "tpmpol-admin/privkey.pem" trust keyset pcr7data ks2 --pcr7-tpm m-tpm \
	--pcr7-prod m-prod --pcr7-limited m-lim
[ "$before2" = "$(tree_snapshot "$KEYS/ks2")" ] || fail "missing policy key: ks2 changed"
# a conflicting entry (the value belongs to another class) is refused
awk '$1 == "uki-production:" {print $2}' ks1.pcrs | xxd -r -p >ks1-prod.bin
expect_error 1 "already has an entry" trust keyset pcr7data ks1 --pcr7-tpm ks1-prod.bin \
	--pcr7-prod m-prod --pcr7-limited m-lim
[ "$before" = "$(tree_snapshot "$KEYS/ks1")" ] || fail "a failed keyset pcr7data changed the keyset"

# now for real, with matching precomputed policies
expect_rc 0 trust tpm-policy-gen --pcr7-production m-prod --pcr7-tpm m-tpm
expect_rc 0 trust keyset pcr7data ks1 --pcr7-tpm m-tpm --pcr7-prod m-prod --pcr7-limited m-lim \
	--luksPolicy luks_policy.out --passwdPolicy passwd_policy.out
grep -q "3 of 3" "$T/out" || fail "$(cat "$T/out")"
for f in m-prod m-tpm m-lim; do
	expect_rc 0 trust pcr7data lookup "$KEYS/ks1/pcr7data" --pcr7 $f
done
d=$P/$(swapname m-prod)
verify "$P/pubkeys/luks-ks1.pem" "$d/tpm_luks.policy.signed" luks_policy.out || fail "new luks sig"
verify <(openssl x509 -in "$KEYS/ks1/tpmpol-admin/cert.pem" -pubkey -noout) \
	"$P/$(swapname m-tpm)/tpm_passwd.policy.signed" passwd_policy.out || fail "new passwd sig"
cmp "$P/$(swapname m-lim)/pcr_prod.bin" m-prod || fail "pcr_prod.bin"
# the predicted entries are still there
while read -r k v; do
	expect_rc 0 trust pcr7data lookup "$KEYS/ks1/pcr7data" --pcr7 "$v"
done <ks1.pcrs
# adding the same set again keeps everything
expect_rc 0 trust keyset pcr7data ks1 --pcr7-tpm m-tpm --pcr7-prod m-prod --pcr7-limited m-lim
grep -q "0 of 3" "$T/out" || fail "re-adding: $(cat "$T/out")"
[ -z "$(find "$KEYS/ks1/pcr7data" -maxdepth 1 -name '.tmp*')" ] || fail "temporary directory left behind"

# --- lookup refuses tampered trees ---
cp -r "$KEYS/ks1/pcr7data" t1
echo '{"key":"ks1","key_type":' >"t1/policy-2/$(swapname m-prod)/info.json"
expect_error 1 "info.json" trust pcr7data lookup t1 --pcr7 m-prod
cp -r "$KEYS/ks1/pcr7data" t2
openssl dgst -sha256 -sign "$KEYS/ks1/tpmpol-admin/privkey.pem" -out \
	"t2/policy-2/$(swapname m-prod)/tpm_luks.policy.signed" luks_policy.out
expect_error 1 "signature does not verify" trust pcr7data lookup t2 --pcr7 m-prod
cp -r "$KEYS/ks1/pcr7data" t3
echo '{"key":"../../x","key_type":"production"}' >"t3/policy-2/$(swapname m-prod)/info.json"
expect_error 1 "not a valid keyset name" trust pcr7data lookup t3 --pcr7 m-prod
cp -r "$KEYS/ks1/pcr7data" t4
rm "t4/policy-2/pubkeys/tpmpass-ks1.pem"
expect_error 1 "tpmpass-ks1.pem" trust pcr7data lookup t4 --pcr7 m-tpm
expect_error 1 "does not match any signed policy" trust pcr7data lookup "$KEYS/ks1/pcr7data" \
	--pcr7 bad/ok
expect_error 2 "neither 64 hex digits nor a file" trust pcr7data lookup "$REF" --pcr7 xyz
echo "pcr7data ok"
