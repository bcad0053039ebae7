#!/bin/bash
# test-keyset-help.sh: every keyset-family command answers --help on stdout
# with exit 0 and describes its syntax.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

check_help() { # PATTERN CMD...
	local pat=$1
	shift
	expect_rc 0 trust "$@"
	grep -q "$pat" "$T/out" || { cat "$T/out"; fail "'$*' does not show '$pat'"; }
	[ ! -s "$T/err" ] || fail "'$*' wrote to stderr"
}
check_help 'trust initkeyset --keysetname NAME \[--org ORG\]' initkeyset --help
check_help 'trust keyset add \[--org ORG\]... \[--pkcs11 URI\] NAME' keyset --help
check_help 'trust keyset add \[--org ORG\]... \[--pkcs11 URI\] NAME' keyset add --help
check_help 'Usage: trust keyset list \[--json\]' keyset list --help
check_help 'trust keyset show NAME \[KEY \[ITEM\]\] \[--path|--value|--json\]' keyset show --help
check_help 'trust project add KEYSET PROJECT' project --help
check_help 'trust project list KEYSET \[--json\]' project add --help
check_help 'trust sudi add KEYSET PROJECT \[SERIAL\]' sudi --help
check_help 'trust sudi list KEYSET PROJECT \[--json\]' sudi list --help
check_help 'trust new-uuid --keysetname NAME' new-uuid --help
# help never creates anything
[ -z "$(find "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" -mindepth 1)" ] || fail "--help wrote files"
echo ok
