#!/bin/bash
# test-keyset-atomic.sh: a keyset, project or SUDI appears whole or not at
# all. `keyset add` (and project/sudi add) are killed with SIGKILL at random
# moments; afterwards there is no partial keyset, and the next command
# removes the temp dirs the killed runs left.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# A complete keyset, for its list of files.
expect_rc 0 trust keyset add ref
# Names and modes; pcr7data names hold the keyset's own PCR7 values and
# name, so those parts are masked (and the <h[0:2]> dirs dropped: two of the
# three values may share one).
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P %m\n') |
		sed -E '\#^pcr7data/policy-2/[0-9a-f]{2} #d;
			s#^(pcr7data/policy-2)/[0-9a-f]{2}#\1/HH#; s#/[0-9a-f]{62}#/HASH#;
			s#/(luks|tpmpass)-[^/ ]+\.pem #/\1-KEYSET.pem #' | sort
}
want=$(listing "$KEYS/ref")
[ -n "$want" ] || fail "reference keyset is empty"

# How long one run takes, to spread the kills over all of it.
start=$(date +%s%N)
expect_rc 0 trust keyset add ref2
span_ms=$((($(date +%s%N) - start) / 1000000 + 50))
# kills spread over 130% of it, so some runs finish and must be whole
note "keyset add takes ~${span_ms} ms; killing at random moments within it"

RUNS=${ATOMIC_RUNS:-24}
whole=0 absent=0 tmp_seen=0
for i in $(seq "$RUNS"); do
	"$TRUST" keyset add "k$i" >/dev/null 2>&1 &
	pid=$!
	delay=$(((RANDOM * 32768 + RANDOM) % (span_ms * 13 / 10)))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ -e "$KEYS/k$i" ]; then
		[ "$(listing "$KEYS/k$i")" = "$want" ] || fail "run $i (killed after ${delay} ms) left a partial keyset:
$(listing "$KEYS/k$i")"
		whole=$((whole + 1))
	else
		absent=$((absent + 1))
	fi
	if find "$KEYS" -maxdepth 1 -name '.tmp-*' | grep -q .; then tmp_seen=$((tmp_seen + 1)); fi
	# the keyset list never shows a temp dir
	expect_rc 0 trust keyset list
	grep -q tmp "$T/out" && fail "keyset list shows a temp dir: $(cat "$T/out")"
done
note "$RUNS kills: $whole keysets whole, $absent absent; temp dirs left by $tmp_seen runs"
[ $absent -gt 0 ] || fail "no run was killed before the rename: the kill timing is not exercising anything"

# The next mutating command removes every leftover temp dir.
expect_rc 0 trust keyset add after
! find "$KEYS" -maxdepth 1 -name '.tmp-*' | grep -q . || fail "temp dirs after the next command: $(ls -A "$KEYS")"
[ "$(listing "$KEYS/after")" = "$want" ] || fail "keyset after the kills is not whole"

# The same for project add and sudi add (their temp dirs sit in manifest/ and sudi/).
pwant=$(listing "$KEYS/ref/manifest/default")
for i in $(seq 8); do
	"$TRUST" project add ref "p$i" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ -e "$KEYS/ref/manifest/p$i" ]; then
		[ "$(listing "$KEYS/ref/manifest/p$i")" = "$pwant" ] || fail "partial project p$i"
	fi
	"$TRUST" sudi add ref default "s$i" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ -e "$KEYS/ref/manifest/default/sudi/s$i" ]; then
		[ "$(ls "$KEYS/ref/manifest/default/sudi/s$i" | tr '\n' ' ')" = "cert.pem privkey.pem " ] ||
			fail "partial SUDI s$i"
	fi
done
expect_rc 0 trust project list ref
grep -q tmp "$T/out" && fail "project list shows a temp dir"
expect_rc 0 trust project add ref final
expect_rc 0 trust sudi add ref default final
! find "$KEYS" -name '.tmp-*' | grep -q . || fail "temp dirs after the next commands: $(find "$KEYS" -name '.tmp-*')"
echo ok
