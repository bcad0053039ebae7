# shellcheck shell=bash
# layout3-lib.sh: sourced (after tpm-lib.sh) by the tests that need a machine
# provisioned by the previous trust, NV layout 3 (spec tpm.md): to_layout3
# rewrites what `trust provision` stored, the older tool's way (tpm2-tools
# with the owner password), so the owner can read the secrets again.

# to_layout3 ADMIN_PASSWORD_FILE: on a TPM provisioned from prod ($PD), reads
# the secrets through their policies (a production boot), then re-defines the
# four indices layout 4 changed with ownerread, the same size, policy and
# content, and writes "00000003" to the layout index. Leaves a production boot.
to_layout3() {
	local pw idx attrs hex bin i
	pw=$(cat "$1")
	tpm_boot prod production
	cp "$1" "$T/l3-0x01500001"
	for idx in 0x01500022 0x01500030 0x01500040; do
		oracle_read $idx prod luks >"$T/l3-$idx" || fail "layout 3: reading $idx"
	done
	for idx in 0x01500001 0x01500022 0x01500030 0x01500040; do
		hex=$(tpm2_nvreadpublic $idx | sed -n 's/^ *authorization policy: *//p')
		[ ${#hex} = 64 ] || fail "layout 3: $idx has no policy digest: '$hex'"
		bin=
		for ((i = 0; i < 64; i += 2)); do bin+="\\x${hex:i:2}"; done
		printf '%b' "$bin" >"$T/l3-policy"
		attrs="ownerwrite|ownerread|policyread"
		[ $idx = 0x01500040 ] && attrs="$attrs|policywrite"
		tpm2_nvundefine -C o -P "$pw" $idx >/dev/null || fail "layout 3: undefine $idx"
		tpm2_nvdefine -C o -P "$pw" -s "$(wc -c <"$T/l3-$idx")" -a "$attrs" -L "$T/l3-policy" \
			$idx >/dev/null || fail "layout 3: define $idx"
		tpm2_nvwrite -C o -P "$pw" -i "$T/l3-$idx" $idx || fail "layout 3: write $idx"
	done
	printf 00000003 | tpm2_nvwrite -C o -P "$pw" -i- 0x01500002 || fail "layout 3: layout index"
	rm -f "$T"/l3-*
}
