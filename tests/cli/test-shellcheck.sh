#!/bin/bash
# test-shellcheck.sh: every shell script of the project (tests, mb-hooks,
# image inits, vm/, .ci/run) passes shellcheck with the settings of
# .shellcheckrc (`make shellcheck`).
. "$(dirname "$0")/../lib.sh"
command -v shellcheck >/dev/null || skip "shellcheck is not installed (make deps)"
[ -z "${TRUST_SANITIZED:-}" ] || skip "scripts do not change under the sanitizers (checked in the plain round)"
make -s -C "$TOP" shellcheck >"$T/sc" 2>&1 || { cat "$T/sc"; fail "shellcheck found problems"; }
exit 0
