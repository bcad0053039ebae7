#!/bin/bash
# test-basics.sh: --help, --version and exit codes of the dispatcher.
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust --help
grep -q '^Usage: trust COMMAND' "$T/out" || fail "--help prints no usage"
for c in keyset computepcr7 sign setup vm; do
	grep -q "^  $c " "$T/out" || fail "--help does not list $c"
done
expect_rc 0 trust --version
grep -Eq '^trust [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "bad --version: $(cat "$T/out")"
expect_error 2 "'frobnicate' is not a command" trust frobnicate
expect_rc 2 trust
echo ok
