#!/bin/bash
# test-layers.sh: the include graph of trust/ points one way between layers
# and has no cycle (tests/tools/check-layers.sh); the checker itself catches a
# wrong-way include, a cycle, <tss2/...> outside the TPM2 store and library
# code that reads an error message back, in a copy of the tree.
. "$(dirname "$0")/../lib.sh"
[ -z "${TRUST_SANITIZED:-}" ] || skip "the include graph does not change under the sanitizers"
check=$TOP/tests/tools/check-layers.sh
"$check" "$TOP" >"$T/out" 2>&1 || { cat "$T/out"; fail "trust/ breaks the layer rules"; }
grep -q "includes point one way, no cycles" "$T/out" || fail "no summary line: $(cat "$T/out")"

# broken_copy SED-FILE SED-SCRIPT: a copy of trust/ with one file edited.
broken_copy() {
	rm -rf "$T/copy"
	mkdir -p "$T/copy"
	cp -R "$TOP/trust" "$T/copy/trust"
	sed -i "$2" "$T/copy/trust/$1"
}
expect_refused() {
	if "$check" "$T/copy" >"$T/out" 2>&1; then
		fail "checker accepted: $1"
	fi
	grep -q -- "$2" "$T/out" || fail "$1: expected '$2' in: $(cat "$T/out")"
}
broken_copy formats/pe.c '0,/^#include "/s//#include "keys\/keyset.h"\n#include "/'
expect_refused "formats including keys" 'formats/pe.c: #include "keys/keyset.h": formats/ must not depend on keys/'
broken_copy target/luks.c '0,/^#include "/s//#include "keys\/x509.h"\n#include "/'
expect_refused "target including key generation" 'target/luks.c: #include "keys/x509.h": target/ must not depend on keys/'
broken_copy target/luks.c '0,/^#include "/s//#include "machine\/qmp.h"\n#include "/'
expect_refused "target including machine" 'target/luks.c: #include "machine/qmp.h": target/ must not depend on machine/'
broken_copy base/dirlist.h 's/^#pragma once/#pragma once\n#include "base\/util.h"/'
sed -i 's/^#pragma once/#pragma once\n#include "base\/dirlist.h"/' "$T/copy/trust/base/util.h"
expect_refused "a cycle" 'cycle: base/'
broken_copy target/luks.c 's/^#include <\(libcryptsetup.h\)>/#include <tss2\/tss2_esys.h>\n#include <\1>/'
expect_refused "tss2 outside the store" 'target/luks.c: includes <tss2/...>'
# shellcheck disable=SC2016 # a sed address, not a shell expansion
broken_copy formats/pe.c '$a static const char *f(int r) { return err_msg(r); }'
expect_refused "err_msg in library code" 'formats/pe.c: calls err_msg()'
exit 0
