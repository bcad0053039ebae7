#!/bin/bash
# test-keyset-valgrind.sh: keyset add (of the bundled keyset), project add,
# sudi add, keyset show and list (and their error paths) run clean under
# valgrind --leak-check=full. The keyset they work on is generated outside
# valgrind: its eleven RSA keys took three of make check's thirty minutes
# there; key generation is checked for leaks and undefined behaviour in the
# ASan round (test-keyset-add, test-keyset-profiles). Skipped in the ASan
# round, whose binary valgrind cannot run.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

[ -z "${TRUST_SANITIZED:-}" ] || skip "valgrind does not run ASan binaries (covered by the plain round)"
command -v valgrind >/dev/null || skip "valgrind is not installed (make deps)"

# 99 marks a valgrind finding, so it differs from the command's own exit 1.
vg() { valgrind -q --leak-check=full --error-exitcode=99 --log-file="$T/vg.log" "$TRUST" "$@"; }
vg_ok() {
	expect_rc "$1" vg "${@:2}"
	[ ! -s "$T/vg.log" ] || { cat "$T/vg.log"; fail "valgrind reports on '${*:2}'"; }
}

expect_rc 0 trust keyset add --org "Valgrind Org" vg
[ -f "$KEYS/vg/uki-tpm/cert.pem" ] || fail "keyset add made no keyset"
vg_ok 0 project add vg widget
vg_ok 0 sudi add vg widget
vg_ok 0 sudi add vg widget m1
vg_ok 0 keyset add snakeoil
vg_ok 0 keyset show vg uefi-pk
vg_ok 0 keyset list
# error paths free what they took too
vg_ok 1 keyset add vg
vg_ok 1 sudi add vg nosuch
vg_ok 1 sudi add vg widget m1
vg_ok 2 keyset add ../x
echo garbage >"$KEYS/vg/sudi-ca/privkey.pem"
vg_ok 1 sudi add vg widget
echo garbage >"$KEYS/vg/manifest-ca/cert.pem"
vg_ok 1 project add vg other
echo ok
