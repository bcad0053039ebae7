#!/bin/bash
# setup in a production-signed boot: cert, key and OS passphrase come out
# byte-exact (checked against the files provisioned and the older tool's way
# of reading), into a private tmpfs and a keyring; PCR7 is then locked, so a
# second setup in the same boot gets nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
SEC=$T/priv/factory/secure

provision_prod
[ ! -s "$T/err" ] || { cat "$T/err"; fail "provision printed on stderr"; }

# what provision stored, seen by the status command and by tpm2-tools
expect_rc 0 trust tpm status --json
grep -q '"layout_version":"00000004"' "$T/out" || fail "layout version: $(cat "$T/out")"
grep -q '"policy_version":"0001"' "$T/out" || fail "policy version: $(cat "$T/out")"
grep -q "\"0x01500021\",\"role\":\"certificate\",\"defined\":true,\"size\":$(stat -c %s "$T/id/cert.pem")," \
	"$T/out" || fail "certificate index: $(cat "$T/out")"
grep -q "\"0x01500022\",\"role\":\"private-key\",\"defined\":true,\"size\":$(stat -c %s "$T/id/key.pem")," \
	"$T/out" || fail "key index: $(cat "$T/out")"
tpm2_nvreadpublic 0x01500040 | grep -q "ownerwrite|policywrite|policyread|written" ||
	fail "0x01500040 attributes: $(tpm2_nvreadpublic 0x01500040)"
tpm2_nvreadpublic 0x01500020 | grep -q "value: 0x20060002" || fail "0x01500020 attributes"
expect_rc 0 trust tpm status
grep -q "0x01500001 admin-password *32 bytes" "$T/out" || fail "status: $(cat "$T/out")"

# the older tool's reads agree with what trust wrote (independent oracle)
oracle_read 0x01500021 prod luks >"$T/oracle-cert" || fail "oracle cannot read the certificate"
cmp -s "$T/oracle-cert" "$T/id/cert.pem" || fail "certificate in NV differs"
oracle_read 0x01500040 prod luks >"$T/oracle-pass" || fail "oracle cannot read the OS passphrase"
[ "$(wc -c <"$T/oracle-pass")" = 40 ] || fail "OS passphrase is not 40 bytes"
grep -Eq '^[A-Za-z0-9]{40}$' "$T/oracle-pass" || fail "OS passphrase is not 40 alphanumerics"

# setup, in a mount namespace and session keyring of its own
tpm_boot prod production
cat >"$T/inside.sh" <<EOS
set -eu
rc=0
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$SEC" --keyring session \
	>"$T/setup.out" 2>"$T/setup.err" || rc=\$?
echo \$rc >"$T/setup.rc"
[ \$rc = 0 ] || exit 0
cp "$SEC/server.crt" "$SEC/server.key" "$SEC/manifestCA.pem" "$T/"
stat -c '%n %a %U' "$SEC" "$SEC"/* >"$T/modes"
findmnt -n -o FSTYPE,PROPAGATION --mountpoint "$SEC" >"$T/mnt"
keyctl print %user:machine:luks >"$T/keyring-pass"
keyctl rdescribe %user:machine:luks >"$T/keyring-desc"
rc=0
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/second" --keyring session \
	>"$T/second.out" 2>"$T/second.err" || rc=\$?
echo \$rc >"$T/second.rc"
EOS
in_ns bash "$T/inside.sh" || fail "namespace script failed"
[ "$(cat "$T/setup.rc")" = 0 ] || { cat "$T/setup.err"; fail "setup exited $(cat "$T/setup.rc")"; }
[ ! -s "$T/setup.err" ] || { cat "$T/setup.err"; fail "setup printed on stderr"; }
cmp -s "$T/server.crt" "$T/id/cert.pem" || fail "server.crt differs from the provisioned cert"
cmp -s "$T/server.key" "$T/id/key.pem" || fail "server.key differs from the provisioned key"
cmp -s "$T/manifestCA.pem" "$CA" || fail "manifestCA.pem differs"
printf '%s' "$(cat "$T/keyring-pass")" | cmp -s - "$T/oracle-pass" ||
	fail "keyring passphrase differs from NV 0x01500040"
grep -q "^$SEC 700 root$" "$T/modes" || fail "secure dir mode: $(cat "$T/modes")"
[ "$(grep -c ' 600 root$' "$T/modes")" = 3 ] || fail "file modes: $(cat "$T/modes")"
grep -q "^tmpfs *private$" "$T/mnt" || fail "secure dir mount: $(cat "$T/mnt")"
grep -q "^user;0;0;3f3f0000;machine:luks$" "$T/keyring-desc" ||
	fail "keyring entry: $(cat "$T/keyring-desc")"

# PCR7 is locked: the second setup of this boot got nothing
[ "$(cat "$T/second.rc")" = 1 ] || fail "second setup exited $(cat "$T/second.rc")"
[ "$(wc -l <"$T/second.err")" = 1 ] || fail "second setup: $(cat "$T/second.err")"
grep -q "does not match any signed policy" "$T/second.err" || fail "second setup: $(cat "$T/second.err")"
[ ! -e "$T/second" ] || [ -z "$(ls -A "$T/second")" ] || fail "second setup left files"

# the host's view: no mount and no file leaked out of the namespace
[ -z "$(ls -A "$SEC" 2>/dev/null)" ] || fail "secure dir not empty outside the namespace"
! findmnt --mountpoint "$SEC" >/dev/null || fail "tmpfs visible outside the namespace"
! keyctl search @u user machine:luks >/dev/null 2>&1 || fail "key leaked into the user keyring"
exit 0
