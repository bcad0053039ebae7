#!/bin/bash
# bench-keyset.sh: wall time of `trust keyset add` (11 RSA-2048 keys and
# certs), `project add` and `sudi add`; median of a few runs.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
RUNS=${BENCH_RUNS:-5}

# median_ms CMD-TEMPLATE: runs the command RUNS times ({} = run number) and
# prints the median wall time in ms.
median_ms() {
	local i s e times=()
	for i in $(seq "$RUNS"); do
		s=$(date +%s%N)
		# shellcheck disable=SC2086 # the command line is split on purpose
		"$TRUST" ${1//\{\}/$i} >/dev/null || fail "'$1' failed"
		e=$(date +%s%N)
		times+=($(((e - s) / 1000000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}
echo "keyset add: $(median_ms 'keyset add bench{}') ms (median of $RUNS; 11 RSA-2048 keys)"
# CPU time is steadier than wall time on a loaded machine.
TIMEFORMAT='%U %S'
cpu=$({ time "$TRUST" keyset add benchcpu >/dev/null; } 2>&1 | awk '{printf "%d", ($1 + $2) * 1000}')
echo "keyset add CPU: $cpu ms (user+sys, one run)"
echo "project add: $(median_ms 'project add bench1 p{}') ms (median of $RUNS)"
echo "sudi add: $(median_ms 'sudi add bench1 default s{}') ms (median of $RUNS)"
start=$(date +%s%N); "$TRUST" keyset add snakeoil >/dev/null || fail "snakeoil install failed"
echo "keyset add snakeoil (copy): $((($(date +%s%N) - start) / 1000000)) ms"
