#!/bin/bash
# attest quote/verify on swtpm with real firmware event logs replayed into
# PCRs 0-7 (tests/data/eventlog: OVMF boots of snakeoil UKIs): a production
# boot after setup verifies, event log included; a tpm or limited boot, or a
# production boot whose setup never locked, is named as such; a replayed
# nonce, another keyset's SUDI, a flipped byte in the quote, the AK or the
# binding signature each fail their own check; malformed bundles exit 2.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
LOGS=$TOP/tests/data/eventlog
DIGESTS=$TOP/tests/tools/eventlog-digests.py

# log_boot CLASS: a "reboot" into the snakeoil OS of that class: swtpm
# restarted, then every sha256 extend of the real OVMF log of that class.
log_boot() {
	local pcr hex specs=()
	stop_swtpm
	start_swtpm "$SWTPM_STATE"
	while read -r pcr hex _; do
		specs+=("$pcr:sha256=$hex")
	done < <(python3 "$DIGESTS" "$LOGS/$1.bin")
	tpm2_pcrextend "${specs[@]}" >/dev/null || fail "replaying the $1 log"
	[ "$(pcr7_hex)" = "$(cat "$LOGS/$1.pcr7")" ] || fail "$1 log replays PCR7 to $(pcr7_hex)"
}

# the machine: a snakeoil SUDI provisioned in a production boot
trust keyset add snakeoil >/dev/null 2>"$T/err" || { cat "$T/err"; fail "keyset add snakeoil"; }
PD=$KEYS/snakeoil/pcr7data
CA=$KEYS/snakeoil/manifest-ca/cert.pem
serial=$(trust sudi add snakeoil default m-attest-1) || fail "sudi add"
[ "$serial" = m-attest-1 ] || fail "sudi add printed '$serial'"
SUDI=$KEYS/snakeoil/manifest/default/sudi/m-attest-1
product=$(cat "$KEYS/snakeoil/manifest/default/uuid")
log_boot production
expect_rc 0 trust provision --pcr7data "$PD" "$SUDI/cert.pem" "$SUDI/privkey.pem"

N1=00112233445566778899aabbccddeeff
N2=ffeeddccbbaa99887766554433221100

# quote_after_setup NONCE OUT: setup, then attest quote, in one namespace (the
# private tmpfs holds the SUDI key only there); $T/q.rc, $T/q.err
quote_after_setup() {
	cat >"$T/inside.sh" <<EOS
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session \
	>"$T/s.out" 2>"$T/s.err"
echo \$? >"$T/s.rc"
rc=0
"$TRUST" attest quote --nonce $1 --secure-dir "$T/sec" --eventlog "$LOGS/production.bin" \
	--output "$2" 2>"$T/q.err" || rc=\$?
echo \$rc >"$T/q.rc"
EOS
	in_ns bash "$T/inside.sh"
}

# verified: a production boot after setup, with its event log
log_boot production
quote_after_setup $N1 "$T/good.json"
[ "$(cat "$T/s.rc")" = 0 ] || fail "setup: $(cat "$T/s.err")"
[ "$(cat "$T/q.rc")" = 0 ] || fail "attest quote: $(cat "$T/q.err")"
[ ! -s "$T/q.err" ] || fail "attest quote printed: $(cat "$T/q.err")"
expect_rc 0 trust attest verify --keyset snakeoil --nonce $N1 "$T/good.json"
grep -qx "$T/good.json: verified: serial m-attest-1, product $product, boot class production (PCR7 locked by setup)" \
	"$T/out" || fail "verify said: $(cat "$T/out")"
expect_rc 0 trust attest verify --keyset snakeoil --nonce $N1 "$T/good.json" --json
json_check "
assert j['verified'] is True and j['failed'] is None and j['why'] is None, j
assert j['serial'] == 'm-attest-1' and j['product'] == args[0], j
assert j['class'] == 'production' and j['locked'] is True, j
assert set(j['checks'].values()) == {'ok'}, j['checks']
assert list(j['checks']) == ['sudi-cert', 'quote', 'nonce', 'ak', 'binding', 'quote-signature',
                             'pcr-digest', 'pcr7', 'eventlog'], j['checks']
" "$product"

# the bundle, read independently: the quote's signature verifies with the AK
# (openssl), its PCR digest is over the listed values, the SUDI cert is the
# provisioned one
python3 - "$T/good.json" "$T" <<'PY' || fail "bundle fields"
import base64, hashlib, json, sys
b = json.load(open(sys.argv[1]))
t = sys.argv[2]
assert b['version'] == 1 and b['pcr_bank'] == 'sha256'
open(t + '/sudi.der', 'wb').write(base64.b64decode(b['sudi_cert'], validate=True))
quote = base64.b64decode(b['quote'], validate=True)
open(t + '/quote.bin', 'wb').write(quote)
pcrs = b''.join(bytes.fromhex(b['pcr%d' % i]) for i in range(8))
assert quote.endswith(hashlib.sha256(pcrs).digest()), 'pcr digest'
assert quote[:4] == b'\xff\x54\x43\x47', 'magic'
ak = base64.b64decode(b['ak_public'], validate=True)
x, y = ak[-66:-34], ak[-32:]
assert ak[-68:-66] == b'\x00\x20' and ak[-34:-32] == b'\x00\x20', 'AK point sizes'
sig = base64.b64decode(b['quote_signature'], validate=True)
r, s = sig[6:38], sig[40:72]
def der_int(v):
    v = v.lstrip(b'\x00')
    if not v or v[0] & 0x80:
        v = b'\x00' + v
    return b'\x02' + bytes([len(v)]) + v
body = der_int(r) + der_int(s)
open(t + '/quote.sig', 'wb').write(b'\x30' + bytes([len(body)]) + body)
spki = bytes.fromhex('3059301306072a8648ce3d020106082a8648ce3d030107034200') + b'\x04' + x + y
open(t + '/ak.der', 'wb').write(spki)
open(t + '/log.bin', 'wb').write(base64.b64decode(b['eventlog'], validate=True))
PY
openssl dgst -sha256 -verify "$T/ak.der" -keyform DER -signature "$T/quote.sig" "$T/quote.bin" \
	>/dev/null || fail "openssl: the quote's signature does not verify with the AK"
cmp -s "$T/log.bin" "$LOGS/production.bin" || fail "the bundle's event log is not the machine's"
openssl x509 -inform DER -in "$T/sudi.der" | cmp -s - "$SUDI/cert.pem" ||
	fail "the bundle's SUDI certificate is not the provisioned one"

# expect_check CHECK PATTERN NONCE BUNDLE [KEYSET]: verify fails (exit 1) with
# CHECK named and PATTERN in its line
expect_check() {
	expect_error 1 "^trust: attest verify: $4: $1: .*$2" \
		trust attest verify --keyset "${5:-snakeoil}" --nonce "$3" "$4"
}

# a replayed bundle: asked with another nonce
expect_check nonce "is for nonce $N1, not $N2" $N2 "$T/good.json"

# mutate FIELD OFFSET OUT: the good bundle with one byte of base64 FIELD
# flipped (negative OFFSET counts from the end)
mutate() {
	python3 - "$T/good.json" "$1" "$2" "$3" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
raw = bytearray(base64.b64decode(b[sys.argv[2]]))
raw[int(sys.argv[3])] ^= 0x01
b[sys.argv[2]] = base64.b64encode(bytes(raw)).decode()
open(sys.argv[4], 'w').write(json.dumps(b))
PY
}
# the quote's clock (after magic, type, the 34-byte signer and the nonce)
mutate quote $((4 + 2 + 2 + 34 + 2 + 16 + 3)) "$T/bad-quote.json"
expect_check quote-signature "does not verify with the attestation key" $N1 "$T/bad-quote.json"
# the quote's PCR digest
mutate quote -1 "$T/bad-digest.json"
expect_check quote-signature "does not verify" $N1 "$T/bad-digest.json"
# a PCR value listed
python3 - "$T/good.json" "$T/bad-pcr.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
b['pcr3'] = 'f' + b['pcr3'][1:] if b['pcr3'][0] != 'f' else '0' + b['pcr3'][1:]
open(sys.argv[2], 'w').write(json.dumps(b))
PY
expect_check pcr-digest "not the ones quoted" $N1 "$T/bad-pcr.json"
# the AK's public point
mutate ak_public -1 "$T/bad-ak.json"
expect_check binding "did not vouch for this attestation key" $N1 "$T/bad-ak.json"
# the AK's attributes: restricted cleared (byte 6 of TPMT_PUBLIC: bits 16-23)
mutate ak_public 5 "$T/bad-attr.json"
expect_check ak "must be restricted" $N1 "$T/bad-attr.json"
# the binding signature
mutate binding_signature 10 "$T/bad-binding.json"
expect_check binding "binding signature does not verify" $N1 "$T/bad-binding.json"
# the event log: the digest of the first PCR4 event changed (the boot
# application: its data are not the hash input), then the data of the PCR7
# separator (firmware hashes those)
offset_of() { # HEX: where those bytes are in the production log
	python3 -c "import sys; print(open(sys.argv[1], 'rb').read().index(bytes.fromhex(sys.argv[2])))" \
		"$LOGS/production.bin" "$1"
}
pcr4=$(python3 "$DIGESTS" "$LOGS/production.bin" | awk '$1 == 4 && !n++ { print $2 }')
mutate eventlog "$(offset_of "$pcr4")" "$T/bad-log.json"
expect_check eventlog "replays PCR4 to [0-9a-f]{64}, the quote says .*: the log is not this boot's" \
	$N1 "$T/bad-log.json"
sep7=$(python3 "$DIGESTS" "$LOGS/production.bin" | awk '$1 == 7 && $3 == "0x00000004" && !n++ { print $4 }')
[ -n "$sep7" ] || fail "no PCR7 separator in the production log"
mutate eventlog "$sep7" "$T/bad-data.json"
expect_check eventlog "PCR7, EV_SEPARATOR\): its data do not hash to its digest" $N1 "$T/bad-data.json"

# another keyset's SUDI on the same machine, same boot: its certificate does
# not chain to snakeoil's sudi CA
trust keyset add other >/dev/null 2>"$T/err" || { cat "$T/err"; fail "keyset add other"; }
trust sudi add other default m-other >/dev/null || fail "sudi add other"
mkdir -p "$T/other"
cp "$KEYS/other/manifest/default/sudi/m-other/cert.pem" "$T/other/server.crt"
cp "$KEYS/other/manifest/default/sudi/m-other/privkey.pem" "$T/other/server.key"
expect_rc 0 trust attest quote --nonce $N1 --secure-dir "$T/other" --eventlog /nonexistent \
	--output "$T/other.json"
expect_check sudi-cert "m-other.*does not chain to the keyset's sudi CA" $N1 "$T/other.json"
grep -q '"eventlog"' "$T/other.json" && fail "a missing event log file gave an eventlog member"

# the classes: whoever holds a copy of the SUDI key still cannot pass a tpm
# or limited boot, or a production boot that skipped setup, for production
mkdir -p "$T/copied"
cp "$SUDI/cert.pem" "$T/copied/server.crt"
cp "$SUDI/privkey.pem" "$T/copied/server.key"
for class in tpm limited; do
	log_boot $class
	run_setup "$PD" # refuses and locks
	nothing_released "$class boot" "only a production-signed OS"
	expect_rc 0 trust attest quote --nonce $N1 --secure-dir "$T/copied" \
		--eventlog "$LOGS/$class.bin" --output "$T/$class.json"
	expect_check pcr7 "PCR7 is the $class value of keyset 'snakeoil' \(after setup's lock\)" \
		$N1 "$T/$class.json"
	expect_rc 1 trust attest verify --keyset snakeoil --nonce $N1 "$T/$class.json" --json
	json_check "
assert j['verified'] is False and j['failed'] == 'pcr7' and j['class'] == args[0], j
assert j['locked'] is True and j['checks']['binding'] == 'ok', j
assert j['checks']['pcr7'] == 'failed' and j['checks']['eventlog'] == 'not-run', j
" $class
done
log_boot production
expect_rc 0 trust attest quote --nonce $N1 --secure-dir "$T/copied" --output "$T/unlocked.json"
expect_check pcr7 "is the production value of keyset 'snakeoil' without setup's lock extend" \
	$N1 "$T/unlocked.json"
# judged against another keyset, the SUDI check fails first
expect_check sudi-cert "does not chain" $N1 "$T/unlocked.json" other

# malformed bundles: one line, exit 2
printf 'not json' >"$T/m1.json"
expect_error 2 "^trust: attest verify: $T/m1.json: not an attestation bundle: not a JSON object$" \
	trust attest verify --keyset snakeoil --nonce $N1 "$T/m1.json"
python3 -c "
import json, sys
b = json.load(open(sys.argv[1])); del b['quote']
open(sys.argv[2], 'w').write(json.dumps(b))" "$T/good.json" "$T/m2.json"
expect_error 2 'not an attestation bundle: no "quote"$' \
	trust attest verify --keyset snakeoil --nonce $N1 "$T/m2.json"
sed 's/"version":1/"version":2/' "$T/good.json" >"$T/m3.json"
expect_error 2 'bundle version 2, this trust reads version 1$' \
	trust attest verify --keyset snakeoil --nonce $N1 "$T/m3.json"
sed 's/"pcr_bank":"sha256"/"pcr_bank":"sha256","pcr0":"00"/' "$T/good.json" >"$T/m4.json"
expect_error 2 'duplicate member "pcr0"$' \
	trust attest verify --keyset snakeoil --nonce $N1 "$T/m4.json"
head -c 300 "$T/good.json" >"$T/m5.json"
expect_error 2 'not an attestation bundle' trust attest verify --keyset snakeoil --nonce $N1 "$T/m5.json"
sed 's/"quote":"/"quote":"!/' "$T/good.json" >"$T/m6.json"
expect_error 2 '"quote" is not base64' trust attest verify --keyset snakeoil --nonce $N1 "$T/m6.json"

# usage: bad nonces, no keyset
expect_error 2 "expected 16 to 64 hex digits" trust attest quote --nonce abc
expect_error 2 "expected 16 to 64 hex digits" trust attest verify --keyset snakeoil --nonce 0011 "$T/good.json"
expect_error 2 "keyset and --nonce are required" trust attest verify --nonce $N1 "$T/good.json"
expect_error 1 "keyset 'nosuch' does not exist" trust attest verify --keyset nosuch --nonce $N1 "$T/good.json"
# quote: a missing SUDI key writes nothing
expect_error 1 "$T/none/server.crt" trust attest quote --nonce $N1 --secure-dir "$T/none" --output "$T/none.json"
[ ! -e "$T/none.json" ] || fail "a failed quote wrote its output"
exit 0
