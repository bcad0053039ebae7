#!/bin/bash
# oldtool.sh: the older tool's way of reading the TPM (one tpm2-tools process
# per TPM operation, a fresh salted policy session per NV chunk), written from
# the sequence in spec tpm.md. Used as an independent oracle by tests/tpm and
# as the baseline of tests/bench/bench-setup.sh. Needs TPM2TOOLS_TCTI.
#
#   oldtool.sh read INDEX PUBKEY SIGNED_POLICY luks|passwd   (data on stdout)
#   oldtool.sh setup ENTRY_DIR PUBKEY OUTDIR    (cert, key, OS passphrase, extend)
#
# With a direct TCTI (swtpm, no resource manager) the transient objects that
# tpm2-tools leave loaded are flushed after each tool that loads one (rm_flush):
# on the kernel's /dev/tpmrm0 the resource manager sends those commands.
set -eu
W=$(mktemp -d /tmp/oldtool.XXXXXX)
trap 'rm -rf "$W"' EXIT

q() { "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }; }

# What /dev/tpmrm0 does when a tpm2-tools process exits: its transient
# objects go (their saved context files stay loadable).
rm_flush() { q tpm2_flushcontext -t; }

# read_piece INDEX MODE OFFSET SIZE SIGNED: one chunk through a new session
read_piece() {
	local idx=$1 mode=$2 off=$3 size=$4 sig=$5
	q tpm2_createprimary -C n -c "$W/prim.ctx"
	rm_flush
	q tpm2_startauthsession -S "$W/s.ctx" -c "$W/prim.ctx" --policy-session
	rm_flush
	q tpm2_policypcr -S "$W/s.ctx" -l sha256:7 -L "$W/pol"
	if [ "$mode" = luks ]; then
		tpm2_nvread -s 4 0x01500020 >"$W/ver" 2>"$W/err" || { cat "$W/err" >&2; return 1; }
		q tpm2_policynv -S "$W/s.ctx" -i- 0x01500020 eq -L "$W/pol" <"$W/ver"
	fi
	q tpm2_verifysignature -c "$W/key.ctx" -f rsassa -g sha256 -m "$W/pol" -s "$sig" -t "$W/ticket"
	rm_flush
	q tpm2_policyauthorize -S "$W/s.ctx" -i "$W/pol" -n "$W/key.name" -t "$W/ticket"
	tpm2_nvread --auth=session:"$W/s.ctx" -s "$size" --offset "$off" "$idx" 2>"$W/err" ||
		{ cat "$W/err" >&2; tpm2_flushcontext "$W/s.ctx" >/dev/null 2>&1 || true; return 1; }
	q tpm2_flushcontext "$W/s.ctx"
}

read_secret() {
	local idx=$1 pub=$2 sig=$3 mode=$4 bufsize len off=0 n
	bufsize=$(tpm2_getcap properties-fixed | sed -n '/TPM2_PT_NV_BUFFER_MAX:/,/raw:/s/.*raw: *//p')
	len=$(tpm2_nvreadpublic "$idx" | sed -n 's/^ *size: *//p')
	[ -n "$len" ] || { echo "oldtool: $idx not defined" >&2; return 1; }
	q tpm2_loadexternal -C o -G rsa -u "$pub" -c "$W/key.ctx" -n "$W/key.name"
	rm_flush
	while [ "$len" -gt 0 ]; do
		n=$len
		[ "$n" -le $((bufsize)) ] || n=$((bufsize))
		read_piece "$idx" "$mode" "$off" "$n" "$sig" || return 1
		off=$((off + n))
		len=$((len - n))
	done
}

case ${1:-} in
read)
	read_secret "$2" "$3" "$4" "$5"
	;;
setup)
	entry=$2 pub=$3 out=$4
	read_secret 0x01500021 "$pub" "$entry/tpm_luks.policy.signed" luks >"$out/server.crt"
	read_secret 0x01500022 "$pub" "$entry/tpm_luks.policy.signed" luks >"$out/server.key"
	read_secret 0x01500040 "$pub" "$entry/tpm_luks.policy.signed" luks >"$out/passphrase"
	q tpm2_pcrextend 7:sha256=b7135cbb321a66fa848b07288bd008b89bd5b7496c4569c5e1a4efd5f7c8e0a7
	;;
*)
	echo "usage: oldtool.sh read|setup ..." >&2
	exit 2
	;;
esac
