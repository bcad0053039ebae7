# shellcheck shell=sh
# mb-hooks/lib.sh: helpers shared by the mkosi hooks (sourced, POSIX sh).
#
# Configuration comes from the environment:
#   TRUST_KEYSET   keyset name (required)
#   TRUST_PROJECT  project inside the keyset (default: default)
#   TRUST_CLASS    production|tpm|limited, or a comma list of them
#                  (default: production); one signed UKI per class
#   TRUST          the trust binary (default: `trust` from PATH)
#   TRUST_OUTPUT   where the artifacts go (default: $OUTPUTDIR/trust)
#   TRUST_STUB     systemd-stub (default: Debian 12's linuxx64.efi.stub)
#   TRUST_IMAGE_BINARY  the trust put into the image (default: $TRUST)

MB_HOOKS=${MB_HOOKS:-$(cd "$(dirname "$0")" && pwd)}

msg() { printf '%s: %s\n' "${MB_NAME:-mb-hooks}" "$*" >&2; }
die() { msg "$*"; exit 1; }

# need_env VAR: fails naming VAR when it is unset or empty.
need_env() {
	eval "_v=\${$1:-}"
	# shellcheck disable=SC2154 # _v is set by the eval above
	[ -n "$_v" ] || die "$1 is not set (see mb-hooks/lib.sh)"
}

# trust_setup_env: validates the configuration and sets TRUST, TRUST_PROJECT,
# TRUST_CLASSES (space separated), KEYSET_DIR. Names and paths are trust's:
# `trust keyset path` applies its naming rule and prints where the keyset
# lives, or its one error line.
trust_setup_env() {
	need_env TRUST_KEYSET
	TRUST_PROJECT=${TRUST_PROJECT:-default}
	TRUST_CLASSES=
	_old_ifs=$IFS
	IFS=,
	for _c in ${TRUST_CLASS:-production}; do
		case $_c in
		production | tpm | limited) TRUST_CLASSES="$TRUST_CLASSES $_c" ;;
		*) IFS=$_old_ifs; die "TRUST_CLASS: '$_c' is not production, tpm or limited" ;;
		esac
	done
	IFS=$_old_ifs
	TRUST_CLASSES=${TRUST_CLASSES# }
	if [ -z "${TRUST:-}" ]; then
		TRUST=$(command -v trust) || die "no trust binary: set TRUST or put trust in PATH"
	fi
	[ -x "$TRUST" ] || die "$TRUST: not an executable"
	_out=$("$TRUST" keyset path "$TRUST_KEYSET" "$TRUST_PROJECT" 2>&1) || die "${_out#trust: }"
	KEYSET_DIR=$_out
	[ -f "$KEYSET_DIR/manifest-ca/cert.pem" ] ||
		die "keyset '$TRUST_KEYSET': manifest-ca/cert.pem: missing"
	[ -d "$KEYSET_DIR/pcr7data" ] || die "keyset '$TRUST_KEYSET': pcr7data: missing"
	export TRUST TRUST_KEYSET TRUST_PROJECT
}

# kernel_version ROOT: the single kernel version installed in ROOT.
kernel_version() {
	_n=0
	for _d in "$1"/usr/lib/modules/*; do
		[ -f "$_d/modules.dep" ] || continue
		_kv=${_d##*/}
		_n=$((_n + 1))
	done
	[ "$_n" = 1 ] || die "$1: expected one kernel in /usr/lib/modules, found $_n"
	echo "$_kv"
}

# copy_into DEST SRC_ROOT PATH: copies ROOT/PATH to DEST/PATH (dereferenced,
# so a soname symlink becomes the file itself), creating the directories.
copy_into() {
	_dst=$1/${3#/}
	[ -e "$_dst" ] && return 0
	mkdir -p "${_dst%/*}"
	cp -L --preserve=mode "$2/${3#/}" "$_dst" || die "$2$3: cannot copy"
}

# libs_of ROOT PATH: the shared objects PATH needs, resolved inside ROOT
# (chroot ldd), one absolute path a line; fails on an unresolved library.
libs_of() {
	_out=$(chroot "$1" /usr/bin/ldd "$2" 2>&1) || {
		case $_out in
		*"not a dynamic executable"*) return 0 ;;
		esac
		die "$1: ldd $2 failed: $_out"
	}
	case $_out in
	*"not found"*) die "$1: $2 needs a library the image lacks: $(echo "$_out" | grep 'not found' | head -n1)" ;;
	esac
	echo "$_out" | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'
}

# copy_binary DEST ROOT PATH: copies an executable and its libraries.
copy_binary() {
	copy_into "$1" "$2" "$3"
	for _lib in $(libs_of "$2" "$3"); do
		copy_into "$1" "$2" "$_lib"
	done
}

# merged_usr DEST: the Debian 12 merged-/usr symlinks.
merged_usr() {
	mkdir -p "$1/usr/bin" "$1/usr/sbin" "$1/usr/lib" "$1/usr/lib64"
	for _d in bin sbin lib lib64; do
		[ -e "$1/$_d" ] || ln -s "usr/$_d" "$1/$_d"
	done
}

# mkcpio DIR OUT: a zstd-compressed newc archive of DIR (owner root), atomic.
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
		zstd -q -T0 -12 >"$2.tmp" || die "$2: cannot write the cpio archive"
	mv -f "$2.tmp" "$2"
}

# pcr7_of CLASS: the keyset's predicted PCR7 for a UKI signed for CLASS,
# lower-case hex (trust computepcr7).
pcr7_of() {
	_all=$("$TRUST" computepcr7 "$TRUST_KEYSET") || die "trust computepcr7 $TRUST_KEYSET failed"
	_v=$(echo "$_all" | sed -n "s/^uki-$1: \([0-9a-f]\{64\}\)\$/\1/p")
	[ -n "$_v" ] || die "trust computepcr7 $TRUST_KEYSET: no uki-$1 value"
	echo "$_v"
}

# pcr7data_check DIR HEX: DIR resolves HEX to a production entry, as
# `trust setup` will require on the target.
pcr7data_check() {
	_r=$("$TRUST" pcr7data lookup "$1" --pcr7 "$2" 2>&1) ||
		die "keyset '$TRUST_KEYSET': pcr7data has no valid entry for the production PCR7 $2 ($_r); add it with 'trust keyset pcr7data'"
	echo "$_r" | grep -qx 'key_type: production' ||
		die "keyset '$TRUST_KEYSET': pcr7data: PCR7 $2 is not a production entry"
}
