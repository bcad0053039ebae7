#!/bin/bash
# demo.sh: the README's main job (`make demo`, after `make deps` and the
# build). Installs the bundled snakeoil keyset, builds its images, launches
# a VM (provision + install), boots it once (an attestation: `trust vm
# attest`) and prints what the guest's initrd did: the SUDI cert it
# released, the LUKS volume it opened, PCR7 locked; and the verdict on the
# TPM quote the OS made for a fresh nonce. Each step says what it does; when a piece is missing the demo
# stops there and says what is missing (exit 1), it never pretends.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
TRUST=${TRUST:-$BUILD/trust}
KEYSET=snakeoil
PROJECT=default
VM=${TRUST_DEMO_VM:-demo}
IMAGES=$BUILD/images/$KEYSET
BOOT_TIMEOUT=${TRUST_DEMO_TIMEOUT:-900}
t0=$(date +%s)

step() { printf '\n== %s\n' "$*"; }
stop_here() {
	printf '\ndemo: stopped: %s\n' "$*" >&2
	exit 1
}

[ -x "$TRUST" ] || stop_here "no $TRUST: the build failed (run make)"

step "keyset '$KEYSET' (public test keys, never for production)"
if "$TRUST" keyset show "$KEYSET" >/dev/null 2>&1; then
	echo "already installed"
else
	"$TRUST" keyset add "$KEYSET" || stop_here "'trust keyset add $KEYSET' failed"
fi

step "images for '$KEYSET' (make images: provision, install, os)"
outputs="vars.fd provision/uki-production.efi install/uki-production.efi os/payload.img"
# images/build.sh rebuilds only what is older than its sources (configs,
# hooks, the trust binary, the keyset); TRUST_DEMO_REBUILD=yes forces it.
[ "${TRUST_DEMO_REBUILD:-no}" = no ] || export TRUST_IMAGES_FORCE=yes
make -s images KEYSET="$KEYSET" PROJECT="$PROJECT" ||
	stop_here "'make images KEYSET=$KEYSET' failed (logs: $IMAGES/logs/)"
for f in $outputs; do
	[ -s "$IMAGES/$f" ] || stop_here "the images build did not produce $IMAGES/$f"
done

step "launch vm '$VM' (provision, then install)"
if "$TRUST" vm info "$VM" >/dev/null 2>&1; then
	echo "replacing the previous demo vm '$VM'"
	"$TRUST" vm delete "$VM" >/dev/null || stop_here "cannot delete the previous vm '$VM'"
fi
"$TRUST" vm launch "$VM" --project "$KEYSET:$PROJECT" --images "$IMAGES" ||
	stop_here "'trust vm launch' failed (the phase and console tail are above)"

step "boot vm '$VM' once, and have it prove what it booted (trust vm attest)"
dir=$("$TRUST" vm info "$VM" | sed -n 's/^dir: *//p')
log=$dir/console.log
from=$(stat -c %s "$log")
# attest boots the VM with a fresh nonce, verifies the bundle its OS prints
# (a TPM quote bound to its SUDI) against the keyset, and stops it
attest_rc=0
"$TRUST" vm attest "$VM" --timeout "$BOOT_TIMEOUT" >"$dir/demo-attest.out" 2>&1 || attest_rc=$?
status=$(tail -c +"$((from + 1))" "$log" | tr -d '\r' | grep -a -m1 -E 'TRUST STATUS:|XXX FAIL XXX')
[ -n "$status" ] || {
	cat "$dir/demo-attest.out" >&2
	stop_here "the OS printed no status line within ${BOOT_TIMEOUT}s (console: $log)"
}
case $status in *"XXX FAIL XXX"*)
	tail -c +"$((from + 1))" "$log" | tail -n 20 >&2
	stop_here "the OS failed: ${status#*XXX FAIL XXX }" ;;
esac

# TRUST STATUS: cert="<subject>" volume=opened pcr7=locked luks-key=dropped luks-read=refused eventlog=match
cert=$(printf '%s' "$status" | sed -n 's/.*cert="\([^"]*\)".*/\1/p')
field() { printf '%s' "$status" | sed -n "s/.* $1=\([a-z-]*\).*/\1/p"; }
serial=$("$TRUST" vm info "$VM" | sed -n 's/^serial: *//p')
step "what the guest's initrd did (trust setup)"
printf '  SUDI cert released:  %s\n' "${cert:-none}"
printf '  VM serial:           %s\n' "$serial"
printf '  LUKS volume:         %s\n' "$(field volume)"
printf '  PCR7:                %s\n' "$(field pcr7)"
printf '  LUKS key in keyring: %s\n' "$(field luks-key)"
printf '  LUKS index read after setup: %s by the TPM\n' "$(field luks-read)"
printf '  firmware event log vs keyset: %s\n' "$(field eventlog)"
printf '  attestation:         %s\n' "$(tail -n 1 "$dir/demo-attest.out" | sed 's/^trust: //')"
printf '  console log:         %s\n' "$log"
printf '  total time:          %ss\n' "$(($(date +%s) - t0))"
if [ "$(field volume)" != opened ] || [ "$(field pcr7)" != locked ] || [ -z "$cert" ] ||
	[ "$cert" = none ] || [ "$(field luks-read)" != refused ]; then
	stop_here "the guest did not release everything: $status"
fi
[ "$attest_rc" = 0 ] || stop_here "the VM's attestation failed: $(cat "$dir/demo-attest.out")"
echo
echo "demo: done. 'trust vm start $VM --console' boots it again; 'trust vm delete $VM' removes it."
