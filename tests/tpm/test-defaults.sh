#!/bin/bash
# setup with no options, as the initrd runs it: pcr7data from /pcr7data, the
# manifest CA from /manifestCA.pem, the tmpfs on /priv/factory/secure. Runs in
# a throw-away root (a chroot inside a private mount namespace) so the host's
# / is never touched.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
command -v chroot >/dev/null || skip "chroot is not installed"

prod_keyset

provision_prod

# the root (target_root), with prod's pcr7data on /pcr7data
target_root
mkdir -p "$R/pcr7data"
tpm_boot prod production
cat >"$T/inside.sh" <<EOS
set -e
$(target_mounts)
mount --bind -o ro "$PD" "$R/pcr7data"
rc=0
chroot "$R" /usr/bin/keyctl session - /usr/bin/env TRUST_TPM2_TCTI="$TRUST_TPM2_TCTI" \
	ASAN_OPTIONS="\${ASAN_OPTIONS:-}" /bin/sh -c '
	/trust setup --keyring session || exit \$?
	cp /priv/factory/secure/server.crt /priv/factory/secure/server.key \
		/priv/factory/secure/manifestCA.pem "$T/"
	stat -c "%n %a" /priv/factory/secure >"$T/mode"
	keyctl print %user:machine:luks >"$T/pass"' >"$T/d.out" 2>"$T/d.err" || rc=\$?
echo \$rc >"$T/d.rc"
EOS
unshare -m --propagation private bash "$T/inside.sh" || fail "namespace script failed"
[ "$(cat "$T/d.rc")" = 0 ] || fail "setup without options exited $(cat "$T/d.rc"): $(cat "$T/d.err")"
grep -v "^Joined session keyring" "$T/d.err" | grep -q . && fail "setup printed: $(cat "$T/d.err")"
cmp -s "$T/server.crt" "$T/id/cert.pem" || fail "server.crt differs"
cmp -s "$T/server.key" "$T/id/key.pem" || fail "server.key differs"
cmp -s "$T/manifestCA.pem" "$KEYS/prod/manifest-ca/cert.pem" || fail "manifestCA.pem differs"
[ "$(cat "$T/mode")" = "/priv/factory/secure 700" ] || fail "secure dir: $(cat "$T/mode")"
grep -Eq '^[A-Za-z0-9]{40}$' "$T/pass" || fail "keyring passphrase: $(cat "$T/pass")"
[ -z "$(ls -A "$R/priv/factory/secure")" ] || fail "files visible outside the namespace"
exit 0
