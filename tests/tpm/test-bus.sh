#!/bin/bash
# What a bus sniffer sees: a TCP tap (socat) between trust and swtpm's data
# port records every byte both ways while trust runs provision, preinit,
# setup, admin-password, check-locked with the admin password and tpm
# load-key. None of the secrets they move (admin password, both LUKS
# passphrases, the SUDI key's PEM and DER, which holds the prime load-key
# sends wrapped, and the held key's auth value; the certificate too, read in
# the same sessions) nor any
# 16-byte run of one appears in a capture. The check proves it can fail: on
# a layout-3 machine owner-authorized reads with tpm2-tools (an HMAC session
# without parameter encryption) through the same tap show the admin password
# and the OS passphrase.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
. "$(dirname "$0")/layout3-lib.sh"
command -v socat >/dev/null || skip "socat is not installed (make deps)"
mkdir -p "$T/cap" "$T/secret"

# tap_start NAME: after a boot, puts a tap in front of swtpm: data port
# bytes go to $T/cap/NAME.cmd (to the TPM) and NAME.rsp (from it); trust and
# tpm2-tools are pointed at it. The control port is forwarded unrecorded.
tap_start() {
	local port
	port=$(free_port)
	socat -r "$T/cap/$1.cmd" -R "$T/cap/$1.rsp" \
		TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:"$SWTPM_PORT" 2>/dev/null &
	TAP_PIDS=$!
	socat TCP-LISTEN:$((port + 1)),bind=127.0.0.1,reuseaddr,fork \
		TCP:127.0.0.1:$((SWTPM_PORT + 1)) 2>/dev/null &
	TAP_PIDS="$TAP_PIDS $!"
	for p in $TAP_PIDS; do track_pid "$p"; done
	for _ in $(seq 50); do
		[ -n "$(ss -Hltn "sport = :$port")" ] && [ -n "$(ss -Hltn "sport = :$((port + 1))")" ] && break
		sleep 0.05
	done
	export TRUST_TPM2_TCTI="swtpm:host=127.0.0.1,port=$port" TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
}

# tap_stop: ends the tap (its listeners and any connection still open) and
# points everything at swtpm again.
tap_stop() {
	local p kids=
	sleep 0.2 # a forked connection writes its last record as the peer closes
	for p in $TAP_PIDS; do kids="$kids $(pgrep -P "$p" || true)"; done
	# shellcheck disable=SC2086 # lists of PIDs
	kill $TAP_PIDS $kids 2>/dev/null || true
	for p in $TAP_PIDS; do wait "$p" 2>/dev/null || true; done
	export TRUST_TPM2_TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT" TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT"
}

# hexline FILE: FILE's bytes as " xx" tokens on one line, so a fixed-string
# search can only match whole bytes.
hexline() { od -An -v -tx1 "$1" | tr -d '\n'; echo; }

# runs_of NAME: $T/secret/NAME's 16-byte runs (every offset), as hexline
# tokens, one per line, in $T/secret/NAME.runs.
runs_of() {
	hexline "$T/secret/$1" | awk '{
		if (NF < 16) { print; exit }
		for (i = 1; i + 15 <= NF; i++) {
			s = ""
			for (j = i; j < i + 16; j++) s = s " " $j
			print s
		}
	}' >"$T/secret/$1.runs"
	[ -s "$T/secret/$1.runs" ] || fail "secret $1 is empty"
}

# leaked CAPTURE: the names of the secrets with a 16-byte run in CAPTURE (both
# directions), one per line.
leaked() {
	local s
	[ -s "$T/cap/$1.cmd" ] && [ -s "$T/cap/$1.rsp" ] || fail "capture $1 is empty"
	{ hexline "$T/cap/$1.cmd"; hexline "$T/cap/$1.rsp"; } >"$T/cap/$1.hex"
	for s in "$T"/secret/*.runs; do
		grep -qF -f "$s" "$T/cap/$1.hex" && basename "$s" .runs
	done
	return 0
}

prod_keyset
openssl pkey -in "$T/id/key.pem" -outform DER -out "$T/secret/sudi-key.der" 2>/dev/null ||
	fail "key to DER"
cp "$T/id/key.pem" "$T/secret/sudi-key.pem"
# the private parts alone (the DER holds the public modulus too, which the
# held key's public area carries in clear)
for part in prime1 prime2 privateExponent; do
	openssl rsa -in "$T/id/key.pem" -noout -text 2>/dev/null |
		awk -v p="$part:" '$1 == p { on = 1; next } on && /^ / { gsub(/[ :]/, ""); printf "%s", $0; next } { on = 0 }' |
		sed 's/^00//' | xxd -r -p >"$T/secret/sudi-$part"
done
cp "$T/id/cert.pem" "$T/secret/certificate.pem"

# provision through the tap
tpm_boot prod production
tap_start provision
expect_rc 0 trust provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
tap_stop

# admin-password, then check-locked with it, through the tap
tpm_boot prod tpm
tap_start admin-password
expect_rc 0 trust tpm admin-password --pcr7data "$PD" --output "$T/secret/admin-password"
tap_stop
tap_start check-locked
expect_rc 0 trust tpm check-locked --pcr7data "$PD" --admin-password-file "$T/secret/admin-password"
[ "$(grep -c 'owner password: owner-authorized NV_Read' "$T/out")" = 4 ] ||
	fail "check-locked made no owner-authorized read: $(cat "$T/out")"
tap_stop

# what provision stored, read the oracle's way (not through the tap)
tpm_boot prod production
oracle_read 0x01500030 prod luks >"$T/secret/sbf-passphrase" || fail "oracle: sbf passphrase"
oracle_read 0x01500040 prod luks >"$T/secret/os-passphrase-provision" || fail "oracle: OS passphrase"

# preinit through the tap
tap_start preinit
cat >"$T/inside.sh" <<EOS
"$TRUST" preinit --pcr7data "$PD" --keyring session 2>"$T/p.err" || exit 1
keyctl pipe %user:machine:luks >"$T/secret/os-passphrase-preinit"
EOS
in_ns bash "$T/inside.sh" 2>/dev/null || { cat "$T/p.err"; fail "preinit"; }
tap_stop

# setup through the tap: it releases all it read (checked byte for byte)
tpm_boot prod production
tap_start setup
cat >"$T/inside.sh" <<EOS
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session \
	2>"$T/s.err" || exit 1
cmp -s "$T/sec/server.key" "$T/id/key.pem" || exit 2
cmp -s "$T/sec/server.crt" "$T/id/cert.pem" || exit 3
keyctl pipe %user:machine:luks | cmp -s - "$T/secret/os-passphrase-preinit" || exit 4
EOS
rc=0
in_ns bash "$T/inside.sh" 2>/dev/null || rc=$?
[ $rc = 0 ] || { cat "$T/s.err"; fail "setup through the tap failed ($rc)"; }
tap_stop

# load-key through the tap: the key goes to the TPM wrapped, its auth value
# only inside the wrapping and as an HMAC session's key
mkdir -p "$T/lk"
cp "$T/id/cert.pem" "$T/lk/server.crt"
cp "$T/id/key.pem" "$T/lk/server.key"
tap_start load-key
expect_rc 0 trust tpm load-key --secure-dir "$T/lk"
tap_stop
head -c 32 "$T/lk/server.tpm-auth" >"$T/secret/held-key-auth"

for s in sudi-key.pem sudi-key.der certificate.pem admin-password sbf-passphrase \
	os-passphrase-provision os-passphrase-preinit held-key-auth sudi-prime1 sudi-prime2 \
	sudi-privateExponent; do
	runs_of $s
done
for c in provision admin-password check-locked preinit setup load-key; do
	l=$(leaked $c)
	# load-key sends the modulus (in the DER) in the key's public area
	[ $c != load-key ] || l=$(echo "$l" | grep -vx sudi-key.der || true)
	[ -z "$l" ] || fail "$c: in clear on the bus: $(echo "$l" | tr '\n' ' ')"
	note "$c: $(($(wc -c <"$T/cap/$c.cmd") + $(wc -c <"$T/cap/$c.rsp"))) bytes on the bus, no secret"
done

# --- the check can fail: the older tool's owner read of a layout-3 index ----
to_layout3 "$T/secret/admin-password"
tap_start oracle
for idx in 0x01500001 0x01500040; do
	tpm2_nvread -C o -P "$(cat "$T/secret/admin-password")" $idx >"$T/oracle-$idx" 2>/dev/null ||
		fail "oracle: owner read of $idx"
done
tap_stop
cmp -s "$T/oracle-0x01500001" "$T/secret/admin-password" || fail "oracle: admin password"
cmp -s "$T/oracle-0x01500040" "$T/secret/os-passphrase-preinit" || fail "oracle: OS passphrase"
l=$(leaked oracle | tr '\n' ' ')
case " $l" in *" admin-password "*"os-passphrase-preinit "*) ;; *)
	fail "the tap did not see the unencrypted reads: '$l'" ;;
esac
exit 0
