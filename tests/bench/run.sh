#!/bin/bash
# run.sh: `make bench` figures (timings live here, never in pass/fail tests).
# Each section prints "name: median ms over N runs".
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
TRUST=$BUILD/trust
B=$(mktemp -d /tmp/trust-bench.XXXXXX)
trap 'rm -rf "$B"' EXIT
export HOME=$B/home XDG_DATA_HOME=$B/data XDG_CONFIG_HOME=$B/config XDG_STATE_HOME=$B/state
mkdir -p "$HOME" "$XDG_DATA_HOME"

# bench NAME RUNS CMD...: median wall time in ms.
bench() {
	local name=$1 runs=$2 i s e
	shift 2
	for ((i = 0; i < runs; i++)); do
		s=$(date +%s%N)
		"$@" >/dev/null
		e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | sort -n | awk -v n="$name" -v r="$runs" \
		'{a[NR] = $1} END {printf "%s: median %.2f ms over %d runs\n", n, a[int((NR + 1) / 2)] / 1000, r}'
}

# ---- PCR7 and policies (cmd-pcr7.c) ----
"$TRUST" keyset add snakeoil >/dev/null
REF=$TOP/tests/data/reference-signdata/policy-2
LIM=$(dirname "$(find "$REF" -name pcr_limited.bin | sort | head -n 1)")
cd "$B"
bench "computepcr7 snakeoil (3 classes)" 21 "$TRUST" computepcr7 snakeoil
bench "tpm-policy-gen" 21 "$TRUST" tpm-policy-gen --pcr7-production "$LIM/pcr_prod.bin" \
	--pcr7-tpm "$LIM/pcr_tpm.bin"
bench "pcr7data lookup (production, signature check)" 21 "$TRUST" pcr7data lookup \
	"$TOP/tests/data/reference-signdata" --pcr7 "$LIM/pcr_prod.bin"
for i in $(seq 5); do head -c 32 /dev/urandom >"p$i"; head -c 32 /dev/urandom >"t$i"; head -c 32 /dev/urandom >"l$i"; done
i=0
add_one() { i=$((i + 1)); "$TRUST" keyset pcr7data snakeoil --pcr7-prod "p$i" --pcr7-tpm "t$i" --pcr7-limited "l$i"; }
bench "keyset pcr7data (sign 2 policies, atomic tree swap)" 5 add_one

# ---- per-family scripts: every tests/bench/bench-*.sh prints its own figures ----
for b in "$TOP"/tests/bench/bench-*.sh; do
	[ -f "$b" ] || continue
	echo "# $(basename "$b")"
	BUILD=$BUILD TRUST=$TRUST bash "$b"
done
