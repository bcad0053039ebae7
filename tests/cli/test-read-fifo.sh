#!/bin/bash
# test-read-fifo.sh: a FIFO or a device where trust reads a file (a planted
# pcr7data tree, a --pcr7 FILE, a certificate) is refused at once with one
# line naming it; trust never waits on it. Each run is bounded by timeout:
# a hang fails with 124.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

bounded() { timeout 20 "$TRUST" "$@"; }

expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust computepcr7 snakeoil
prod=$(sed -n 's/^uki-production: //p' "$T/out")
cp -R "$KEYS/snakeoil/pcr7data" "$T/tree"
expect_rc 0 trust pcr7data lookup "$T/tree" --pcr7 "$prod"
entry=$(sed -n 's/^dir: //p' "$T/out")
signed=$(sed -n 's/^signed_policy: //p' "$T/out")
[ -d "$entry" ] && [ -f "$signed" ] || fail "lookup: $(cat "$T/out")"

# a FIFO as the entry's info.json, then as its signed policy
mv "$entry/info.json" "$T/info.json"
mkfifo "$entry/info.json"
expect_error 1 "^trust: pcr7data lookup: $entry/info.json: not a regular file$" \
	bounded pcr7data lookup "$T/tree" --pcr7 "$prod"
rm "$entry/info.json"
mv "$T/info.json" "$entry/info.json"
mv "$signed" "$T/signed"
mkfifo "$signed"
expect_error 1 "^trust: pcr7data lookup: $signed: not a regular file$" \
	bounded pcr7data lookup "$T/tree" --pcr7 "$prod"
rm "$signed"
mv "$T/signed" "$signed"
expect_rc 0 trust pcr7data lookup "$T/tree" --pcr7 "$prod"

# --pcr7 FILE: a FIFO, a character device
mkfifo "$T/pcr7.fifo"
expect_error 1 "$T/pcr7.fifo: not a regular file" bounded pcr7data lookup "$T/tree" --pcr7 "$T/pcr7.fifo"
expect_error 1 "/dev/zero: not a regular file" bounded pcr7data lookup "$T/tree" --pcr7 /dev/zero

# a certificate
mkfifo "$T/cert.fifo"
expect_error 1 "$T/cert.fifo: not a regular file" bounded verify efi --cert "$T/cert.fifo" \
	"$T/pcr7.fifo"
echo ok
