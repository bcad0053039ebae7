#!/bin/bash
# run.sh: runs the test suites and ends with one line "N passed, N failed,
# N skipped". Unit, CLI and TPM suites run twice (plain, then ASan+UBSan);
# fuzz, VM and image suites once. TESTS selects suites.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
TESTS=${TESTS:-unit cli tpm fuzz vm images}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0
failed_names=()

# run_one LABEL TIMEOUT CMD...: runs one test file with its output in a log.
run_one() {
	local label=$1 limit=$2 log rc start
	shift 2
	log=$LOGDIR/$(echo "$label" | tr '/ ' '__').log
	start=$(date +%s)
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS %-48s %3ss\n' "$label" $(($(date +%s) - start)) ;;
	77) skip=$((skip + 1)); printf 'SKIP %-48s %s\n' "$label" "$(grep -m1 '^SKIP' "$log" || tail -n1 "$log")" ;;
	*) fail=$((fail + 1)); failed_names+=("$label")
	   [ $rc = 124 ] && echo "TIMEOUT after ${limit}s" >>"$log"
	   printf 'FAIL %-48s (exit %s)\n' "$label" $rc
	   tail -n 40 "$log" | sed 's/^/    | /' ;;
	esac
}

suite_in() { case " $TESTS " in *" $1 "*) return 0 ;; esac; return 1; }

run_round() {
	local variant=$1 trust unitdir
	if [ "$variant" = asan ]; then
		trust=$BUILD/asan/trust unitdir=$BUILD/asan/tests
		export TRUST_SANITIZED=1
		export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
		export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	else
		trust=$BUILD/trust unitdir=$BUILD/tests
		unset TRUST_SANITIZED ASAN_OPTIONS UBSAN_OPTIONS
	fi
	export TRUST=$trust TOP BUILD
	if suite_in unit; then
		for t in "$unitdir"/test-*; do
			[ -x "$t" ] && run_one "$variant unit/$(basename "$t")" 300 "$t"
		done
	fi
	for s in cli tpm; do
		suite_in $s || continue
		for t in tests/"$s"/test-*.sh; do
			[ -f "$t" ] && run_one "$variant $s/$(basename "$t" .sh)" 900 bash "$t"
		done
	done
}

run_round plain
run_round asan

export TRUST=$BUILD/trust
unset TRUST_SANITIZED ASAN_OPTIONS UBSAN_OPTIONS
if suite_in fuzz; then
	for f in "$BUILD"/fuzz/fuzz-*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus=$BUILD/fuzz-corpus/$name
		mkdir -p "$corpus"
		seeds=tests/fuzz/corpus/$name
		[ -d "$seeds" ] || seeds=
		run_one "fuzz/$name" $((FUZZ_SECONDS + 120)) "$f" -max_total_time="$FUZZ_SECONDS" \
			-rss_limit_mb=2048 -timeout=10 "$corpus" ${seeds:+"$seeds"}
	done
fi
for s in images vm; do # the VM suite boots the images the images suite built
	suite_in $s || continue
	for t in tests/"$s"/test-*.sh; do
		[ -f "$t" ] && run_one "$s/$(basename "$t" .sh)" 1800 bash "$t"
	done
done

[ $fail -gt 0 ] && printf 'failed: %s\n' "${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
