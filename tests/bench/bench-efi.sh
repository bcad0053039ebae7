#!/bin/bash
# bench-efi.sh: EFI figures for `make bench` (run by tests/bench/run.sh).
# `trust sign efi` against sbsign on the same ~50 MB PE (a UKI), both timed
# here in one run and the ratios printed; `efivars enroll` and `uki build`;
# signed variable updates (`efivars sign-update` next to efitools'
# sign-efi-sig-list, `efivars apply`) and `eventlog` on a real OVMF log;
# signing with the uki-production key in a SoftHSM2 token next to the file
# key (a small PE, so the key's part shows).
# Files live in /dev/shm when it exists so that the disk (and our fsync,
# which sbsign does not do) does not drown the signing itself; CPU time
# (user+sys) is printed next to wall time because the machine may be shared.
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
tmpdir=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && tmpdir=/dev/shm
B=$(mktemp -d "$tmpdir/trust-bench-efi.XXXXXX")
trap 'rm -rf "$B"' EXIT
export HOME=$B/home XDG_DATA_HOME=$B/data XDG_CONFIG_HOME=$B/config XDG_STATE_HOME=$B/state
mkdir -p "$HOME" "$XDG_DATA_HOME"
cd "$B"

# median_ms RUNS CMD...: "WALL CPU", the median wall and CPU (user+sys)
# times of CMD in ms
median_ms() {
	local runs=$1 i TIMEFORMAT='%R %U %S'
	shift
	for ((i = 0; i < runs; i++)); do
		{ time "$@" >/dev/null 2>&1; } 2>&1
	done >"$B/times"
	echo "$(awk '{ print $1 * 1000 }' "$B/times" | sort -n | awk '{a[NR] = $1} END {printf "%.0f", a[int((NR + 1) / 2)]}')" \
		"$(awk '{ print ($2 + $3) * 1000 }' "$B/times" | sort -n | awk '{a[NR] = $1} END {printf "%.0f", a[int((NR + 1) / 2)]}')"
}

"$TRUST" keyset add snakeoil >/dev/null
key=$XDG_DATA_HOME/machine/trust/keys/snakeoil/uki-production/privkey.pem
cert=$XDG_DATA_HOME/machine/trust/keys/snakeoil/uki-production/cert.pem

# ~50 MB PE: the stub, an 8 MB "kernel" and a 42 MB initrd of random bytes
head -c $((8 << 20)) /dev/urandom >kernel
head -c $((42 << 20)) /dev/urandom >initrd
printf 'ID=bench\n' >os-release
build() { "$TRUST" uki build --stub "$stub" --kernel kernel --initrd initrd --cmdline x \
	--os-release os-release --output uki.efi; }
build >/dev/null || { echo "bench-efi: uki build failed" >&2; exit 1; }
read -r t_build c_build < <(median_ms 5 build)
size=$(stat -c %s uki.efi)

ours() { "$TRUST" sign efi --key "$key" --cert "$cert" --output ours.efi uki.efi; }
theirs() { sbsign --key "$key" --cert "$cert" --output theirs.efi uki.efi; }
ours >/dev/null 2>&1 && theirs >/dev/null 2>&1 # warm the page cache
read -r t_ours c_ours < <(median_ms 7 ours)
read -r t_theirs c_theirs < <(median_ms 7 theirs)
sbverify --cert "$cert" ours.efi >/dev/null 2>&1 || { echo "bench-efi: sbverify rejects our signature" >&2; exit 1; }

enroll() { rm -f vars.fd; "$TRUST" efivars enroll --keyset snakeoil --output vars.fd; }
read -r t_enroll c_enroll < <(median_ms 11 enroll)

ks=$XDG_DATA_HOME/machine/trust/keys/snakeoil
upd() { "$TRUST" efivars sign-update --keyset snakeoil --var dbx --append --output dbx.auth \
	"$ks/uki-limited/cert.pem"; }
read -r t_upd c_upd < <(median_ms 11 upd)
t_efitools=
if command -v sign-efi-sig-list >/dev/null; then
	cert-to-efi-sig-list "$ks/uki-limited/cert.pem" limited.esl >/dev/null
	efitools() { sign-efi-sig-list -a -k "$ks/uefi-kek/privkey.pem" -c "$ks/uefi-kek/cert.pem" \
		dbx limited.esl efitools.auth; }
	read -r t_efitools c_efitools < <(median_ms 11 efitools)
fi
apply() { cp vars.fd applied.fd; "$TRUST" efivars apply dbx.auth --vars applied.fd; }
read -r t_apply c_apply < <(median_ms 11 apply)
evlog=$TOP/tests/data/eventlog/production.bin
evlog_cmd() { "$TRUST" eventlog "$evlog" --keyset snakeoil --pcr7 "$(cat "${evlog%.bin}.pcr7")"; }
read -r t_evlog c_evlog < <(median_ms 11 evlog_cmd)

# the same key in a PKCS#11 token (SoftHSM2) against the file: the stub alone,
# so that hashing does not hide the signature
t_hsm=
softhsm=/usr/lib/softhsm/libsofthsm2.so
if command -v softhsm2-util >/dev/null && [ -r "$softhsm" ]; then
	mkdir -p "$B/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$B/tokens" >"$B/softhsm2.conf"
	export SOFTHSM2_CONF=$B/softhsm2.conf TRUST_PKCS11_PIN=1234
	softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678 >/dev/null
	"$TRUST" keyset add hsm >/dev/null
	# the same key, as a file and then (import-key) in the token
	sign() { "$TRUST" sign efi --keyset hsm --class production --output "$1" "$stub"; }
	read -r t_file c_file < <(median_ms 11 sign f.efi)
	"$TRUST" keyset import-key hsm uki-production "pkcs11:token=bench?module-path=$softhsm" >/dev/null
	read -r t_hsm c_hsm < <(median_ms 11 sign h.efi)
	sbverify --cert "$XDG_DATA_HOME/machine/trust/keys/hsm/uki-production/cert.pem" h.efi \
		>/dev/null 2>&1 ||
		{ echo "bench-efi: sbverify rejects the token's signature" >&2; exit 1; }
fi

mb=$((size >> 20))
echo "(files in $tmpdir)"
printf 'uki build (%d MB UKI): median %s ms wall, %s ms CPU over 5 runs\n' $mb "$t_build" "$c_build"
printf 'trust sign efi (%d MB PE): median %s ms wall, %s ms CPU over 7 runs\n' $mb "$t_ours" "$c_ours"
printf 'sbsign         (%d MB PE): median %s ms wall, %s ms CPU over 7 runs\n' $mb "$t_theirs" "$c_theirs"
awk -v a="$t_ours" -v b="$t_theirs" -v x="$c_ours" -v y="$c_theirs" 'BEGIN {
	printf "trust sign efi / sbsign: %.2f wall, %.2f CPU (below 1 is faster)\n", a / b, (y > 0 ? x / y : 0) }'
printf 'efivars enroll (OVMF_VARS_4M, snakeoil): median %s ms wall, %s ms CPU over 11 runs\n' "$t_enroll" "$c_enroll"
printf 'efivars sign-update (dbx append, one cert): median %s ms wall, %s ms CPU over 11 runs\n' "$t_upd" "$c_upd"
if [ -n "$t_efitools" ]; then
	printf 'sign-efi-sig-list (efitools, the same):      median %s ms wall, %s ms CPU over 11 runs\n' \
		"$t_efitools" "$c_efitools"
fi
printf 'efivars apply (dbx append to OVMF_VARS_4M):  median %s ms wall, %s ms CPU over 11 runs\n' "$t_apply" "$c_apply"
printf 'eventlog (OVMF log, %d bytes, --keyset --pcr7): median %s ms wall, %s ms CPU over 11 runs\n' \
	"$(stat -c %s "$evlog")" "$t_evlog" "$c_evlog"
if [ -n "$t_hsm" ]; then
	stubkb=$(($(stat -c %s "$stub") >> 10))
	printf 'sign efi, file key    (%d KB stub): median %s ms wall, %s ms CPU over 11 runs\n' \
		"$stubkb" "$t_file" "$c_file"
	printf 'sign efi, SoftHSM key (%d KB stub): median %s ms wall, %s ms CPU over 11 runs\n' \
		"$stubkb" "$t_hsm" "$c_hsm"
	awk -v a="$t_hsm" -v b="$t_file" 'BEGIN { printf "SoftHSM key / file key: %.2f wall\n", a / b }'
fi
