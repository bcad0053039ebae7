#!/bin/bash
# test-names.sh: one naming rule for keysets, projects, serials and VMs.
# ':' separates KEYSET:PROJECT (`vm launch --project`, `keyset show NAME
# manifest:PROJECT`), so no name may hold one: every command that takes a
# name refuses it with the same words, and creates nothing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add prod
snap() { tree_snapshot "$T/data"; tree_snapshot "$T/config"; tree_snapshot "$T/state"; }
before=$(snap)
refused() { # refused RC WHAT CMD...: "WHAT name 'a:b' must not contain ':'"
	local rc=$1 what=$2
	shift 2
	expect_error "$rc" "$what name 'a:b' must not contain ':'$" "$@"
}
refused 2 keyset trust keyset add a:b
refused 2 keyset trust initkeyset --keysetname a:b
refused 2 keyset trust keyset show a:b
refused 2 keyset trust keyset path a:b
refused 2 keyset trust new-uuid --keysetname a:b
refused 2 project trust project add prod a:b
refused 2 project trust keyset path prod a:b
refused 2 project trust keyset show prod manifest:a:b
refused 2 project trust sudi add prod a:b
refused 2 serial trust sudi add prod default a:b
refused 1 vm trust vm launch a:b --project prod:default
refused 1 serial trust vm launch x --project prod:default --serial a:b
refused 1 vm trust vm info a:b
# and a keyset or project with ':' cannot be named in --project at all
expect_error 2 "--project 'a:b:default': expected KEYSET:PROJECT" trust vm launch x --project a:b:default
[ "$(snap)" = "$before" ] || fail "a refused name created something"

# names as they were still work, and the vm names a keyset that exists
expect_rc 0 trust project add prod p-1.x_y
expect_rc 0 trust sudi add prod p-1.x_y SN-0001.a_b
expect_rc 0 trust keyset path prod p-1.x_y
[ "$(cat "$T/out")" = "$KEYS/prod" ] || fail "keyset path: $(cat "$T/out")"
echo ok
