# shellcheck shell=bash
# test-eventlog.sh: `trust eventlog` on event logs of real OVMF boots
# (tests/data/eventlog, made by capture.sh there: each class, and production
# after a dbx update), against what the guest read and against tpm2_eventlog
# (tpm2-tools, an independent parser):
# - the replayed PCR7 is the guest's, every replayed PCR of the sha256 bank
#   and every PCR7 event (number, type, digest) is tpm2_eventlog's;
# - --keyset names the class that booted, and for the others the first
#   event that differs and why; --update predicts the post-update boot;
# - --pcr7 with another value and a forged event data are mismatches (1);
# - truncated and corrupt logs get one line naming the offset (2).
. "$(dirname "$0")/../lib.sh"
command -v tpm2_eventlog >/dev/null || skip "tpm2_eventlog is not installed (tpm2-tools; make deps)"
D=$TOP/tests/data/eventlog
expect_rc 0 trust keyset add snakeoil

# tpm2_eventlog's view: "NUM PCR TYPE SHA256" per event, and "pcrN HEX" lines
oracle() {
	tpm2_eventlog "$1" 2>/dev/null | awk '
		/^- EventNum:/ { num = $3 }
		/^  PCRIndex:/ { pcr = $2 }
		/^  EventType:/ { type = $2 }
		/AlgorithmId: sha256/ { want = 1; next }
		want && /Digest:/ { gsub(/"/, "", $2); print num, pcr, type, $2; want = 0 }
		/^pcrs:/ { inpcrs = 1 }
		inpcrs && /^  [a-z0-9]+:$/ { bank = $1 }
		inpcrs && bank == "sha256:" && /^    [0-9]+ *:/ { sub(/^0x/, "", $3); print "pcr" $1, $3 }'
}

for f in production tpm limited production-dbx; do
	log=$D/$f.bin
	guest=$(cat "$D/$f.pcr7")
	expect_rc 0 trust eventlog "$log" --pcr7 "$guest" --json
	cp "$T/out" "$T/$f.json"
	python3 - "$T/$f.json" "$guest" <<'EOF' >"$T/ours" || fail "$f: --json is not what it should be"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["pcr7"] == sys.argv[2] and j["checked_pcr7"] == sys.argv[2] and j["replay_matches"] is True
assert j["match"] is None and j["difference"] is None and j["keyset"] is None
for e in j["events"]:
    print(e["index"], e["pcr"], e["type"], e["digest"])
for n, v in sorted(j["pcrs"].items(), key=lambda x: int(x[0])):
    print("pcr" + n, v)
EOF
	oracle "$log" >"$T/oracle.all"
	grep -E '^[0-9]+ 7 ' "$T/oracle.all" | grep -v ' EV_NO_ACTION ' >"$T/oracle"
	grep '^pcr' "$T/oracle.all" >>"$T/oracle"
	diff "$T/oracle" "$T/ours" >"$T/diff" || fail "$f: trust and tpm2_eventlog disagree: $(cat "$T/diff")"
	[ "$(grep -c '^pcr' "$T/ours")" -ge 8 ] || fail "$f: only $(grep -c '^pcr' "$T/ours") PCRs replayed"
	note "$f: PCR7 $guest, $(grep -vc '^pcr' "$T/ours") PCR7 events and $(grep -c '^pcr' "$T/ours") PCRs as tpm2_eventlog"
done

# --- against the keyset --------------------------------------------------------------
for c in production tpm limited; do
	expect_rc 0 trust eventlog "$D/$c.bin" --keyset snakeoil
	grep -qx "keyset 'snakeoil': a $c boot" "$T/out" || fail "$c: $(tail -n 1 "$T/out")"
	expect_rc 0 trust eventlog "$D/$c.bin" --keyset snakeoil --json
	grep -q "\"match\":\"$c\",\"difference\":null}" "$T/out" || fail "$c --json: $(cat "$T/out")"
done
expect_rc 1 trust eventlog "$D/production-dbx.bin" --keyset snakeoil
grep -q "first difference, event #8 (dbx): dbx: the firmware holds 1 entry the keyset does not predict: x509 .*CN=UKI Limited$" \
	"$T/out" || fail "dbx difference: $(tail -n 1 "$T/out")"
expect_rc 1 trust eventlog "$D/production-dbx.bin" --keyset snakeoil --json
grep -q '"match":null,"difference":{"event":8,"name":"dbx","why":"dbx: the firmware holds 1 entry' "$T/out" ||
	fail "dbx difference --json: $(cat "$T/out")"
expect_rc 0 trust eventlog "$D/production-dbx.bin" --keyset snakeoil --update "$D/dbx-revoke-limited.auth"
grep -qx "keyset 'snakeoil': a production boot" "$T/out" || fail "--update: $(tail -n 1 "$T/out")"
# another keyset: nothing of it, said per variable
expect_rc 0 trust keyset add other
expect_rc 1 trust eventlog "$D/production.bin" --keyset other
grep -q "first difference, event #5 (PK): PK: the firmware holds 1 entry the keyset does not predict: x509 .*OU=snakeoil/CN=UEFI PK; it lacks 1 the keyset predicts: x509 .*OU=other/CN=UEFI PK" \
	"$T/out" || fail "other keyset: $(tail -n 1 "$T/out")"

# --- mismatches --------------------------------------------------------------------------
expect_rc 1 trust eventlog "$D/production.bin" --pcr7 "$(cat "$D/tpm.pcr7")"
grep -q "PCR7 given: the log does NOT replay to it" "$T/out" || fail "--pcr7 mismatch: $(cat "$T/out")"
# a forged dbx value whose digest was left as it was: the data no longer hash
# to the digest, the keyset comparison says so rather than believe the data
cp "$D/production-dbx.bin" "$T/forged.bin"
off=$(grep -abo 'UKI Limited' "$T/forged.bin" | tail -n 1 | cut -d: -f1) # db's, then dbx's
printf 'X' | dd of="$T/forged.bin" bs=1 seek="$off" conv=notrunc status=none
expect_rc 1 trust eventlog "$T/forged.bin" --keyset snakeoil --update "$D/dbx-revoke-limited.auth"
grep -A1 ' dbx ' "$T/out" | grep -q 'FORGED: the data below do not hash to the digest' || fail "forged: $(cat "$T/out")"
grep -q '^1 PCR7 event with data that do not hash to the digest' "$T/out" || fail "forged: $(cat "$T/out")"
expect_rc 1 trust eventlog "$T/forged.bin" --json
grep -q '"name":"dbx","digest":"[0-9a-f]*","data_matches_digest":false' "$T/out" || fail "forged --json: $(cat "$T/out")"
grep -q '"forged_events":1,' "$T/out" || fail "forged --json: $(cat "$T/out")"
# forged and different from the keyset: the explanation says so too
expect_rc 1 trust eventlog "$T/forged.bin" --keyset snakeoil
grep -q "(dbx): dbx: the event's digest is not the SHA-256 of its data" "$T/out" || fail "forged: $(tail -n 1 "$T/out")"

# --- malformed logs -------------------------------------------------------------------------
head -c 100 "$D/production.bin" >"$T/short.bin"
expect_error 2 "short.bin: offset 89: truncated digest" trust eventlog "$T/short.bin"
head -c 40 "$D/production.bin" >"$T/spec.bin"
expect_error 2 "spec.bin: offset 28: the Spec ID event's size [0-9]+ runs past the log" trust eventlog "$T/spec.bin"
size=$(stat -c %s "$D/production.bin")
head -c $((size - 7)) "$D/production.bin" >"$T/cut.bin"
expect_error 2 "cut.bin: offset [0-9]+: event data of [0-9]+ bytes runs past the log" trust eventlog "$T/cut.bin"
no_stdout "a truncated log"
{ head -c 32 "$D/production.bin"; printf 'Spec ID Event02\0'; tail -c +49 "$D/production.bin"; } >"$T/sig.bin"
expect_error 2 "sig.bin: offset 32: no \"Spec ID Event03\" signature" trust eventlog "$T/sig.bin"
expect_error 2 "nothing.bin: No such file" trust eventlog "$T/nothing.bin"
expect_error 2 "--pcr7 'xyz': expected 64 hex digits" trust eventlog "$D/production.bin" --pcr7 xyz
expect_error 2 "--dbx and --update need --keyset" trust eventlog "$D/production.bin" --update x.auth
