#!/bin/bash
# test-keyset-xdg.sh: keysets live in $XDG_DATA_HOME and new-uuid output in
# $XDG_CONFIG_HOME, falling back to ~/.local/share and ~/.config; nothing
# is written anywhere else (the test's HOME is a temp dir, never the real one).
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

case $HOME in "$T"/*) ;; *) fail "lib.sh did not give the test a private HOME" ;; esac

expect_rc 0 trust keyset add viaxdg
[ -d "$XDG_DATA_HOME/machine/trust/keys/viaxdg" ] || fail "keyset not in \$XDG_DATA_HOME"
expect_rc 0 trust new-uuid --keysetname viaxdg
[ -f "$XDG_CONFIG_HOME/machine/trust/manifest/uuid" ] || fail "new-uuid not in \$XDG_CONFIG_HOME"
[ -z "$(ls -A "$HOME")" ] || fail "HOME was written: $(ls -A "$HOME")"

# unset: the XDG defaults below HOME
(
	unset XDG_DATA_HOME XDG_CONFIG_HOME
	expect_rc 0 trust keyset add viahome
	[ -f "$HOME/.local/share/machine/trust/keys/viahome/uefi-pk/cert.pem" ] || fail "keyset not in ~/.local/share"
	expect_rc 0 trust keyset list
	[ "$(cat "$T/out")" = viahome ] || fail "list without XDG_DATA_HOME: $(cat "$T/out")"
	expect_rc 0 trust new-uuid --keysetname viahome
	[ "$(cat "$T/out")" = "$HOME/.config/machine/trust/manifest" ] || fail "new-uuid without XDG_CONFIG_HOME: $(cat "$T/out")"
	# relative values are ignored, as the XDG spec says
	XDG_DATA_HOME=rel expect_rc 0 trust keyset list
	[ "$(cat "$T/out")" = viahome ] || fail "relative XDG_DATA_HOME was used"
	[ ! -e rel ] || fail "relative XDG_DATA_HOME created ./rel"
	# no HOME and no XDG: one clear line, nothing written
	unset HOME
	# shellcheck disable=SC2016 # the literal text of the message
	expect_error 1 'neither \$XDG_DATA_HOME nor \$HOME is set' trust keyset add nohome
	# shellcheck disable=SC2016
	expect_error 1 'neither \$XDG_DATA_HOME nor \$HOME is set' trust keyset list
)
[ ! -e "$XDG_DATA_HOME/machine/trust/keys/viahome" ] || fail "unset XDG_DATA_HOME still used it"
echo ok
