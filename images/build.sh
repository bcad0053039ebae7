#!/bin/sh
# images/build.sh KEYSET [PROJECT] [IMAGE...]: builds the images (default:
# os install provision) with mkosi 14 into $BUILD/images/KEYSET/<image>/,
# one progress line per image. `trust image build` runs it (and `make
# images KEYSET=... [PROJECT=...]` runs that).
#
# Environment: TRUST (the trust binary, required), BUILD (default build),
# TRUST_IMAGES_OUT (the output directory instead of $BUILD/images/KEYSET),
# TRUST_MKOSI_CACHE (mkosi's package cache, default $BUILD/mkosi-cache,
# shared by the images and kept between builds), TRUST_MKOSI_SEED=no to not
# seed that cache from the host's /var/cache/apt/archives,
# TRUST_IMAGES_FORCE=yes to rebuild images that are up to date,
# TRUST_MKOSI_MIRROR=URL for another Debian mirror than the configs' one,
# TRUST_MKOSI_KEEP=yes to keep mkosi's tree in $BUILD/mkosi/<image> (to rerun
# mb-hooks/finalize by hand).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
# the hooks: beside images/ in a checkout, PREFIX/lib/trust/mb-hooks when
# installed (this script is PREFIX/share/trust/images/build.sh)
hooks=$top/mb-hooks
[ -d "$hooks" ] || hooks=$top/../../lib/trust/mb-hooks
# trust's initramfs-tools integration (mb-hooks/initramfs-tools installs it
# into images that make Debian's initrd too)
initramfs_tools=$top/trust/initramfs-tools
[ -d "$initramfs_tools" ] || initramfs_tools=$top/../initramfs-tools
say() { printf 'images: %s\n' "$*"; }
die() { printf 'images: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: build.sh KEYSET [PROJECT] [IMAGE...]"
keyset=$1
project=${2:-default}
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
images=${*:-os install provision}
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
: "${TRUST:?TRUST must name the trust binary}"
case $TRUST in /*) ;; *) TRUST=$top/$TRUST ;; esac
[ -x "$TRUST" ] || die "$TRUST: not built (make)"

command -v mkosi >/dev/null 2>&1 || die "mkosi is not installed (run 'make deps')"
ver=$(mkosi --version 2>/dev/null | sed -n 's/^mkosi \([0-9]*\).*/\1/p')
[ "$ver" = 14 ] || die "mkosi ${ver:-?} found; this build drives mkosi 14 (Debian 12), see images/README.md for newer versions"
[ "$(id -u)" = 0 ] || die "mkosi needs root (debootstrap, nspawn): run as root"
for img in $images; do
	[ -f "$top/images/$img/mkosi.conf" ] || die "no image '$img' (images/$img/mkosi.conf)"
done

# The keyset: the user's own ($XDG_DATA_HOME), else the repository's
# (keysets/<name>, e.g. snakeoil) through a private XDG data dir.
XDG_DATA_HOME=${XDG_DATA_HOME:-${HOME:-/root}/.local/share}
export XDG_DATA_HOME
xdg_keys=$XDG_DATA_HOME/machine/trust/keys
if [ ! -d "$xdg_keys/$keyset" ]; then
	[ -d "$top/keysets/$keyset" ] || die "keyset '$keyset' does not exist (neither $xdg_keys/$keyset nor keysets/$keyset)"
	XDG_DATA_HOME=$build/images/.xdg-data
	mkdir -p "$XDG_DATA_HOME/machine/trust/keys"
	ln -sfn "$top/keysets/$keyset" "$XDG_DATA_HOME/machine/trust/keys/$keyset"
	export XDG_DATA_HOME
fi

cache=${TRUST_MKOSI_CACHE:-$build/mkosi-cache}
case $cache in /*) ;; *) cache=$top/$cache ;; esac
mkdir -p "$cache/debian~bookworm"
# The host's apt cache often already holds most of the packages (make deps
# installed the same kernel): hard links cost nothing and apt checks them.
if [ "${TRUST_MKOSI_SEED:-yes}" = yes ] && [ -d /var/cache/apt/archives ]; then
	find /var/cache/apt/archives -maxdepth 1 -name '*.deb' -exec ln -f -t "$cache/debian~bookworm" {} + 2>/dev/null || true
fi

out=${TRUST_IMAGES_OUT:-$build/images/$keyset}
case $out in /*) ;; *) out=$PWD/$out ;; esac
logs=$out/logs

# up_to_date IMAGE: its artifacts exist for this keyset and project and are
# newer than everything they are made from (configs, hooks, trust, keyset).
up_to_date() {
	[ -f "$out/$1/build-info" ] || return 1
	grep -qx "project=$project" "$out/$1/build-info" || return 1
	[ -z "$(find "$top/images/$1" "$top/images/initrd-lib.sh" "$top/images/build.sh" \
		"$hooks" "$initramfs_tools" "$TRUST" "$XDG_DATA_HOME/machine/trust/keys/$keyset/" \
		-newer "$out/$1/build-info" -print -quit 2>/dev/null)" ]
}
mkdir -p "$logs"
export TRUST TRUST_KEYSET="$keyset" TRUST_PROJECT="$project"
n=$(echo "$images" | wc -w)
i=0
total_start=$(date +%s)
for img in $images; do
	i=$((i + 1))
	log=$logs/$img.log
	mout=$build/mkosi/$img
	start=$(date +%s)
	if [ "${TRUST_IMAGES_FORCE:-no}" != yes ] && up_to_date "$img"; then
		say "[$i/$n] $img: up to date ($out/$img)"
		continue
	fi
	say "[$i/$n] $img: building (mkosi 14, log $log)"
	rm -rf "$mout"
	mkdir -p "$mout"
	# shellcheck disable=SC2016 # $1 $2 are the inner shell's arguments
	if ! (cd "$top/images/$img" && TRUST_OUTPUT=$out/$img unshare --mount --propagation private sh -c '
		mkdir -p /run/systemd/nspawn &&
		mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn &&
		exec mkosi --nspawn-keep-unit --cache "$1" --output-dir "$2" ${3:+--mirror "$3"} \
			--environment TRUST --environment TRUST_KEYSET --environment TRUST_PROJECT \
			--environment TRUST_OUTPUT --environment XDG_DATA_HOME -f build' sh "$cache" "$mout" "${TRUST_MKOSI_MIRROR:-}") \
		>"$log" 2>&1 </dev/null; then
		tail -n 25 "$log" | sed 's/^/    | /' >&2
		if grep -q -e 'Failed to fetch' -e "Couldn't download" -e 'Temporary failure resolving' \
			-e 'Could not resolve' -e 'Failure while downloading' -e 'Unable to fetch' \
			-e 'Failed getting release file' -e "Couldn't connect" "$log"; then
			die "[$i/$n] $img: package download failed (network or mirror; see $log)"
		fi
		die "[$i/$n] $img: build failed after $(($(date +%s) - start))s (see $log)"
	fi
	[ "${TRUST_MKOSI_KEEP:-no}" = yes ] || rm -rf "$mout"
	made=
	for f in "$out/$img"/uki-*.efi "$out/$img"/payload.img; do
		[ -f "$f" ] && made="$made ${f##*/}"
	done
	say "[$i/$n] $img: done in $(($(date +%s) - start))s:$made"
done
# the top-level vars.fd: replaced only when it changed (an up-to-date run
# leaves the images directory as it was)
vars=$out/$(echo "$images" | cut -d' ' -f1)/vars.fd
cmp -s "$vars" "$out/vars.fd" || { cp "$vars" "$out/vars.fd.tmp" && mv "$out/vars.fd.tmp" "$out/vars.fd"; }
say "all done in $(($(date +%s) - total_start))s: $out"
