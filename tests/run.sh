#!/bin/bash
# run.sh: runs the test suites and ends with one line "N passed, N failed,
# N skipped". Unit, CLI and TPM suites run twice (plain, then ASan+UBSan);
# fuzz, VM and image suites once. TESTS selects suites.
#
# Two lanes run side by side: the host lane (unit, CLI and TPM tests, plain
# then ASan) and the boot lane (images, then the VM tests that boot them).
# Each lane is mostly one busy core: QEMU's TCG and mkosi on one side, swtpm
# and our own binaries on the other. The fuzzers and the few long host tests
# in DEFERRED go last, to whichever lane is free first (each is claimed
# once), so the lanes end together. TEST_LANES=1 runs them one after the
# other. At the end: the wall time and the ten slowest tests.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
TESTS=${TESTS:-unit cli tpm fuzz vm images}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
TEST_LANES=${TEST_LANES:-2}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/results*
rm -rf "$LOGDIR/claims" && mkdir -p "$LOGDIR/claims"
START=$(date +%s)

# run_one LABEL TIMEOUT CMD...: runs one test file with its output in a log,
# and records "PASS|FAIL|SKIP SECONDS LABEL" in the lane's results file.
run_one() {
	local label=$1 limit=$2 log rc start secs
	shift 2
	log=$LOGDIR/$(echo "$label" | tr '/ ' '__').log
	start=$(date +%s)
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) echo "PASS $secs $label" >>"$RESULTS"
	   printf 'PASS %-48s %4ss\n' "$label" $secs ;;
	77) echo "SKIP $secs $label" >>"$RESULTS"
	   printf 'SKIP %-48s %s\n' "$label" "$(grep -m1 '^SKIP' "$log" || tail -n1 "$log")" ;;
	*) echo "FAIL $secs $label" >>"$RESULTS"
	   [ $rc = 124 ] && echo "TIMEOUT after ${limit}s" >>"$log"
	   echo "$log" >>"$RESULTS.failed"
	   printf 'FAIL %-48s (exit %s, %ss)\n' "$label" $rc $secs ;;
	esac
}

suite_in() { case " $TESTS " in *" $1 "*) return 0 ;; esac; return 1; }

# Host tests that run after both rounds instead (plain round only), with the
# fuzzers, in whichever lane is free: the package build and lint, and
# Debian's initrd.
DEFERRED="cli/test-deb cli/test-initramfs"
deferred() { case " $DEFERRED " in *" $1 "*) return 0 ;; esac; return 1; }

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
	# TRUST_ROUND: a test may run in one round of make check only (it says
	# which, and why); run on its own it always runs
	export TRUST=$trust TOP BUILD TRUST_ROUND=$variant
	if suite_in unit; then
		for t in "$unitdir"/test-*; do
			[ -x "$t" ] && run_one "$variant unit/$(basename "$t")" 300 "$t"
		done
	fi
	for s in cli tpm; do
		suite_in $s || continue
		for t in tests/"$s"/test-*.sh; do
			[ -f "$t" ] || continue
			[ "$variant" = plain ] && deferred "$s/$(basename "$t" .sh)" && continue
			run_one "$variant $s/$(basename "$t" .sh)" 900 bash "$t"
		done
	done
}

# claim JOB: true for the one lane that takes JOB (mkdir is atomic)
claim() { mkdir "$LOGDIR/claims/$(echo "$1" | tr '/ ' '__')" 2>/dev/null; }

# the deferred host tests (plain) and the fuzzers, each run by the first lane
# that claims it (both lanes end here)
run_deferred() {
	local t s
	plain_env
	for t in $DEFERRED; do
		s=${t%%/*}
		suite_in "$s" && [ -f "tests/$t.sh" ] && claim "$t" || continue
		run_one "plain $t" 900 bash "tests/$t.sh"
	done
	suite_in fuzz || return 0
	for f in "$BUILD"/fuzz/fuzz-*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		claim "fuzz/$name" || continue
		corpus=$BUILD/fuzz-corpus/$name
		mkdir -p "$corpus"
		seeds=tests/fuzz/corpus/$name
		[ -d "$seeds" ] || seeds=
		run_one "fuzz/$name" $((FUZZ_SECONDS + 120)) "$f" -max_total_time="$FUZZ_SECONDS" \
			-rss_limit_mb=2048 -timeout=10 "$corpus" ${seeds:+"$seeds"}
	done
}

plain_env() {
	export TRUST=$BUILD/trust TOP BUILD TRUST_ROUND=plain
	unset TRUST_SANITIZED ASAN_OPTIONS UBSAN_OPTIONS
}

host_lane() {
	RESULTS=$LOGDIR/results-host.txt
	: >"$RESULTS"
	run_round plain
	run_round asan
	run_deferred
}

boot_lane() {
	RESULTS=$LOGDIR/results-boot.txt
	: >"$RESULTS"
	plain_env
	# the machine test-package launches is copied for the VM tests that only
	# need one (tests/vm/vm-common.sh, vm_launch_or_copy)
	export TRUST_TEST_SHARED=$LOGDIR/shared
	rm -rf "$TRUST_TEST_SHARED" && mkdir -p "$TRUST_TEST_SHARED"
	# test-package first: it builds the images with the package's trust (the
	# images suite then finds them up to date) and keeps the machine it
	# launched for test-vm-provisioned, which the other VM tests copy
	for s in images vm; do # the VM suite boots the images the images suite built
		suite_in $s || continue
		for t in $(printf "%s\n" tests/"$s"/test-*.sh |
			awk '/test-package|test-vm-provisioned/ { print; next } { rest = rest $0 "\n" } END { printf "%s", rest }'); do
			run_one "$s/$(basename "$t" .sh)" 1800 bash "$t"
		done
	done
	rm -rf "$TRUST_TEST_SHARED"
	run_deferred
}

if [ "$TEST_LANES" = 1 ]; then
	host_lane
	boot_lane
else
	host_lane &
	host=$!
	boot_lane &
	boot=$!
	# an interrupted run takes both lanes (and their tests) with it
	trap 'kill -TERM $host $boot 2>/dev/null; wait; exit 130' INT TERM
	wait $host $boot
fi

cat "$LOGDIR"/results-*.txt >"$LOGDIR/results.txt"
pass=$(grep -c '^PASS' "$LOGDIR/results.txt")
fail=$(grep -c '^FAIL' "$LOGDIR/results.txt")
skip=$(grep -c '^SKIP' "$LOGDIR/results.txt")
cat "$LOGDIR"/results-*.txt.failed 2>/dev/null | while read -r log; do
	printf '\n--- %s (last 40 lines)\n' "$log"
	tail -n 40 "$log" | sed 's/^/    | /'
done
rm -f "$LOGDIR"/results-*.txt.failed
wall=$(($(date +%s) - START))
printf '\nwall time: %dm%02ds (%d lanes); slowest tests:\n' $((wall / 60)) $((wall % 60)) "$TEST_LANES"
sort -k2,2nr "$LOGDIR/results.txt" | head -n 10 | awk '{ printf "  %5ss  %s\n", $2, substr($0, index($0, $3)) }'
[ "$fail" -gt 0 ] && printf 'failed: %s\n' "$(awk '$1 == "FAIL" { print substr($0, index($0, $3)) }' "$LOGDIR/results.txt" | paste -sd' ')"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
