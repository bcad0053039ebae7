#!/bin/bash
# bench-efi.sh: EFI figures for `make bench` (run by tests/bench/run.sh).
# `trust sign efi` against sbsign on the same ~50 MB PE (a UKI), both timed
# here in one run and the ratio printed; `efivars enroll` and `uki build`.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
TRUST=${TRUST:-$BUILD/trust}
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
if [ ! -r "$stub" ] || ! command -v sbsign >/dev/null; then
	echo "bench-efi: skipped (needs systemd-boot-efi and sbsigntool: make deps)"
	exit 0
fi
B=$(mktemp -d /tmp/trust-bench-efi.XXXXXX)
trap 'rm -rf "$B"' EXIT
export HOME=$B/home XDG_DATA_HOME=$B/data XDG_CONFIG_HOME=$B/config XDG_STATE_HOME=$B/state
mkdir -p "$HOME" "$XDG_DATA_HOME"
cd "$B"

# median_ms RUNS CMD...: median wall time of CMD in ms (printed with 2 decimals)
median_ms() {
	local runs=$1 i s e
	shift
	for ((i = 0; i < runs; i++)); do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | sort -n | awk '{a[NR] = $1} END {printf "%.2f\n", a[int((NR + 1) / 2)] / 1000}'
}

"$TRUST" keyset add snakeoil >/dev/null
key=$XDG_DATA_HOME/machine/trust/keys/snakeoil/uki-production/privkey.pem
cert=$XDG_DATA_HOME/machine/trust/keys/snakeoil/uki-production/cert.pem

# ~50 MB PE: the stub, an 8 MB "kernel" and a 42 MB initrd of random bytes
head -c $((8 << 20)) /dev/urandom >kernel
head -c $((42 << 20)) /dev/urandom >initrd
build() { "$TRUST" uki build --stub "$stub" --kernel kernel --initrd initrd --cmdline x \
	--os-release /dev/null --output uki.efi; }
t_build=$(median_ms 5 build)
size=$(stat -c %s uki.efi)

ours() { "$TRUST" sign efi --key "$key" --cert "$cert" --output ours.efi uki.efi; }
theirs() { sbsign --key "$key" --cert "$cert" --output theirs.efi uki.efi; }
ours >/dev/null 2>&1 && theirs >/dev/null 2>&1 # warm the page cache
t_ours=$(median_ms 7 ours)
t_theirs=$(median_ms 7 theirs)
sbverify --cert "$cert" ours.efi >/dev/null 2>&1 || { echo "bench-efi: sbverify rejects our signature" >&2; exit 1; }

enroll() { rm -f vars.fd; "$TRUST" efivars enroll --keyset snakeoil --output vars.fd; }
t_enroll=$(median_ms 11 enroll)

printf 'uki build (%d MB UKI): median %s ms over 5 runs\n' $((size >> 20)) "$t_build"
printf 'trust sign efi (%d MB PE): median %s ms over 7 runs\n' $((size >> 20)) "$t_ours"
printf 'sbsign         (%d MB PE): median %s ms over 7 runs\n' $((size >> 20)) "$t_theirs"
awk -v a="$t_ours" -v b="$t_theirs" 'BEGIN {printf "trust sign efi / sbsign: %.2f (below 1 is faster)\n", a / b}'
printf 'efivars enroll (OVMF_VARS_4M, snakeoil): median %s ms over 11 runs\n' "$t_enroll"
