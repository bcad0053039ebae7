#!/bin/bash
# bench-images.sh: build time of each image for the snakeoil keyset, cold
# (empty package cache, nothing seeded from the host: every package is
# downloaded) and cached (same cache, second build). Prints one line per
# image. Builds into a temporary BUILD dir: build/images stays as it is.
# Called by tests/bench/run.sh; TRUST_BENCH_IMAGES=no skips it.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BIN=$BUILD/trust
if [ "${TRUST_BENCH_IMAGES:-yes}" = no ]; then
	echo "images: skipped (TRUST_BENCH_IMAGES=no)"
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v mkosi >/dev/null; then
	echo "images: skipped (needs root and mkosi)"
	exit 0
fi
W=$(mktemp -d /var/tmp/trust-bench-images.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/home"

# run LABEL: one forced build of the three images; keeps build.sh's
# per-image "done in Ns" lines in $W/LABEL.
run() {
	HOME=$W/home XDG_DATA_HOME=$W/data TRUST=$BIN BUILD=$W/build \
		TRUST_MKOSI_CACHE=$W/cache TRUST_MKOSI_SEED=no TRUST_IMAGES_FORCE=yes \
		"$TOP/images/build.sh" snakeoil default >"$W/$1" 2>&1 ||
		{ tail -n 30 "$W/$1" >&2; echo "images: $1 build failed" >&2; exit 1; }
}
secs() { sed -n "s/^images: \[[0-9]\/[0-9]\] $2: done in \([0-9]*\)s.*/\1/p" "$W/$1"; }

run cold
run cached
for img in os install provision; do
	printf 'images: %-9s build %4s s cold (downloads), %4s s cached\n' "$img" \
		"$(secs cold "$img")" "$(secs cached "$img")"
done
printf 'images: all three    %4s s cold, %4s s cached (package cache %s MiB)\n' \
	"$(sed -n 's/^images: all done in \([0-9]*\)s.*/\1/p' "$W/cold")" \
	"$(sed -n 's/^images: all done in \([0-9]*\)s.*/\1/p' "$W/cached")" \
	"$(du -sm "$W/cache" | cut -f1)"
