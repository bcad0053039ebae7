#!/bin/bash
# tpm load-key on swtpm: after setup in a production boot, the SUDI key moves
# into the TPM at 0x81000100 and server.key is wiped. The TPM's key has the
# certificate's public key, is usable only with the auth value load-key left
# in server.tpm-auth, and no command gives its private part back (Duplicate
# is refused). An openssl s_server holding it through the tpm2 provider
# (behind tpm2-abrmd, the resource manager an OS has in /dev/tpmrm0) and an
# s_client with another SUDI of the keyset authenticate each other against
# the SUDI CA. A second run changes nothing; another key at the handle, or a
# key provision did not set the owner policy for, is refused with nothing
# removed; attest quote signs with the held key; a re-provision removes it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
for tool in tpm2_readpublic tpm2_getcap tpm2_duplicate tpm2-abrmd dbus-run-session; do
	command -v $tool >/dev/null || skip "$tool is not installed (make deps)"
done
[ -e "$(openssl version -m | sed 's/^MODULESDIR: "\(.*\)"$/\1/')/tpm2.so" ] ||
	skip "the tpm2-openssl provider is not installed (make deps)"
ldconfig -p | grep -q 'libtss2-tcti-tabrmd\.so\.0 ' ||
	skip "tpm2-abrmd's TCTI is not installed (libtss2-tcti-tabrmd0, make deps)"

keyset_with_pcr7data prod
PD=$KEYS/prod/pcr7data
CA=$KEYS/prod/manifest-ca/cert.pem
SUDI_CA=$KEYS/prod/sudi-ca/cert.pem
for m in m-1 m-2 client-1; do
	trust sudi add prod default $m >/dev/null 2>"$T/err" || { cat "$T/err"; fail "sudi add $m"; }
done
M1=$KEYS/prod/manifest/default/sudi/m-1
M2=$KEYS/prod/manifest/default/sudi/m-2
CL=$KEYS/prod/manifest/default/sudi/client-1
tpm_boot prod production
expect_rc 0 trust provision --pcr7data "$PD" "$M1/cert.pem" "$M1/privkey.pem"

# persistent: the owner's persistent handles, one per line
persistent() { tpm2_getcap handles-persistent | sed 's/^- //'; }
[ -z "$(persistent)" ] || fail "provision left persistent objects: $(persistent)"

# setup, then load-key twice (the second run finds no server.key), then once
# more with the PEM put back (a later boot's setup releases it again), and an
# attest quote, all in one namespace where setup's tmpfs is
N=00112233445566778899aabbccddeeff
tpm_boot prod production
cat >"$T/inside.sh" <<EOS
"$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session \
	>/dev/null 2>"$T/s.err" || exit 10
for run in 1 2 3; do
	[ \$run = 3 ] && cp "$M1/privkey.pem" "$T/sec/server.key"
	rc=0
	TRUST_TPM2_STATS=1 "$TRUST" tpm load-key --secure-dir "$T/sec" >"$T/lk\$run.out" 2>"$T/lk\$run.err" || rc=\$?
	echo \$rc >"$T/lk\$run.rc"
	ls -A "$T/sec" >"$T/lk\$run.files"
done
cp "$T/sec/server.tpm-auth" "$T/auth"
stat -c %a "$T/sec/server.tpm-auth" >"$T/auth.mode"
"$TRUST" attest quote --nonce $N --secure-dir "$T/sec" --eventlog /nonexistent \
	--output "$T/quote.json" 2>"$T/q.err" || exit 11
EOS
rc=0
in_ns bash "$T/inside.sh" 2>/dev/null || rc=$?
[ $rc = 0 ] || fail "setup/attest in the namespace ($rc): $(cat "$T/s.err" "$T/q.err" 2>/dev/null)"
for run in 1 2 3; do
	[ "$(cat "$T/lk$run.rc")" = 0 ] || fail "load-key run $run: $(cat "$T/lk$run.err")"
	grep -qx 'manifestCA.pem server.crt server.tpm-auth' <(tr '\n' ' ' <"$T/lk$run.files" | sed 's/ $//') ||
		fail "run $run left: $(cat "$T/lk$run.files")"
done
grep -q "^0x81000100: the TPM holds the key of $T/sec/server.crt now$" "$T/lk1.out" ||
	fail "run 1 said: $(cat "$T/lk1.out")"
grep -q "^$T/sec/server.key: wiped and removed$" "$T/lk1.out" || fail "run 1: $(cat "$T/lk1.out")"
for run in 2 3; do
	grep -q "^0x81000100: the TPM held the key of $T/sec/server.crt already: no change$" \
		"$T/lk$run.out" || fail "run $run said: $(cat "$T/lk$run.out")"
done
grep -q "server.key: wiped and removed" "$T/lk3.out" || fail "run 3 kept the PEM: $(cat "$T/lk3.out")"
! grep -q "wiped" "$T/lk2.out" || fail "run 2 had a PEM to wipe"
note "load-key: $(grep -o '[0-9]* TPM commands' "$T/lk1.err") (import), $(grep -o '[0-9]* TPM commands' "$T/lk2.err") (held already)"
[ "$(cat "$T/auth.mode")" = 600 ] || fail "server.tpm-auth is mode $(cat "$T/auth.mode")"
grep -Eqx '[0-9a-f]{32}' "$T/auth" || fail "server.tpm-auth: $(cat "$T/auth")"
[ "$(persistent)" = 0x81000100 ] || fail "persistent handles: $(persistent)"

# the attestation bundle's binding was signed by the TPM-held key
expect_rc 0 trust attest verify --keyset prod --nonce $N "$T/quote.json"
grep -q "verified: serial m-1, .* boot class production (PCR7 locked by setup)" "$T/out" ||
	fail "attest verify: $(cat "$T/out")"

# the TPM's key: the certificate's public key, the held key's attributes, no
# policy (so no Duplicate can be authorized)
tpm2_readpublic -c 0x81000100 -f pem -o "$T/held.pub.pem" >"$T/held.txt" || fail "ReadPublic"
openssl x509 -in "$M1/cert.pem" -pubkey -noout >"$T/cert.pub.pem"
cmp -s <(openssl pkey -pubin -in "$T/held.pub.pem" -outform DER) \
	<(openssl pkey -pubin -in "$T/cert.pub.pem" -outform DER) || fail "the TPM's key is not m-1's"
grep -q 'value: userwithauth|noda|decrypt|sign$' "$T/held.txt" || fail "attributes: $(cat "$T/held.txt")"
! grep -q '^authorization policy: [0-9a-f]' "$T/held.txt" || fail "the key has a policy"

# nothing gives the private part back: Duplicate (to no new parent, no
# wrapper: the plain sensitive area) needs the key's policy, which is empty
tpm2_startauthsession -S "$T/dup.ctx" --policy-session >/dev/null || fail "startauthsession"
tpm2_policycommandcode -S "$T/dup.ctx" TPM2_CC_Duplicate >/dev/null || fail "policycommandcode"
if tpm2_duplicate -C null -c 0x81000100 -G null -p session:"$T/dup.ctx" -r "$T/dup.priv" \
	-s "$T/dup.seed" >/dev/null 2>"$T/dup.err"; then
	fail "TPM2_Duplicate of the held key succeeded"
fi
tpm2_flushcontext "$T/dup.ctx" >/dev/null 2>&1 || true
grep -Eqi 'policy|auth' "$T/dup.err" || fail "Duplicate failed for another reason: $(cat "$T/dup.err")"

# only with its auth value: a signature with it verifies, one without fails
head -c 32 /dev/urandom >"$T/msg"
provider_sign() {
	TPM2OPENSSL_TCTI="$TRUST_TPM2_TCTI" openssl pkeyutl -provider tpm2 -provider default \
		-propquery '?provider=tpm2' -sign -inkey "handle:0x81000100?pass" -passin "$1" \
		-in "$T/msg" -out "$T/sig" -pkeyopt digest:sha256
}
provider_sign file:"$T/auth" >/dev/null 2>&1 || fail "signing with the held key and its auth value"
openssl pkeyutl -verify -pubin -inkey "$T/cert.pub.pem" -in "$T/msg" -sigfile "$T/sig" \
	-pkeyopt digest:sha256 >/dev/null || fail "the held key's signature does not verify"
rm -f "$T/sig"
if provider_sign pass: >/dev/null 2>&1; then fail "the held key signed without its auth value"; fi

# mutual TLS: s_server with the held key (tpm2 provider through tpm2-abrmd),
# s_client with client-1's file key; both verify against the SUDI CA
port=$(free_port)
cat >"$T/tls.sh" <<EOS
tpm2-abrmd --session --allow-root --tcti="$TRUST_TPM2_TCTI" >"$T/abrmd.log" 2>&1 &
ab=\$!
# (a busy 2-core machine can take seconds to start it: up to 30 s)
for _ in \$(seq 300); do
	TPM2TOOLS_TCTI=tabrmd:bus_type=session tpm2_getcap properties-fixed >/dev/null 2>&1 &&
		echo ready >"$T/abrmd.ready" && break
	sleep 0.1
done
TPM2OPENSSL_TCTI=tabrmd:bus_type=session timeout 60 openssl s_server -www \
	-provider tpm2 -provider default -propquery '?provider=tpm2' -accept 127.0.0.1:$port \
	-naccept 1 -key 'handle:0x81000100?pass' -pass file:"$T/auth" -cert "$M1/cert.pem" \
	-CAfile "$SUDI_CA" -Verify 1 -verify_return_error </dev/null >"$T/srv.out" 2>&1 &
sp=\$!
for _ in \$(seq 300); do
	[ -n "\$(ss -Hltn "sport = :$port")" ] && break
	sleep 0.1
done
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -connect 127.0.0.1:$port \
	-cert "$CL/cert.pem" -key "$CL/privkey.pem" -CAfile "$SUDI_CA" -verify_return_error \
	-verify_hostname m-1 -ign_eof >"$T/cl.out" 2>&1
echo \$? >"$T/cl.rc"
wait \$sp
kill \$ab
wait \$ab
EOS
timeout 120 dbus-run-session -- bash "$T/tls.sh" 2>/dev/null
[ -f "$T/abrmd.ready" ] || fail "tpm2-abrmd did not answer within 30 s: $(tail -5 "$T/abrmd.log")"
[ "$(cat "$T/cl.rc")" = 0 ] || fail "s_client: $(tail -5 "$T/cl.out") / s_server: $(tail -5 "$T/srv.out")"
grep -q '^Verification: OK$' "$T/cl.out" || fail "s_client did not verify the server"
grep -q '^subject=CN = m-1, serialNumber = PID:' "$T/cl.out" || fail "server cert: $(grep subject "$T/cl.out")"
grep -q 'Peer signature type: RSA-PSS' "$T/cl.out" || fail "no CertificateVerify by the held key"
# s_server's page shows the client certificate it verified
grep -q '^Client certificate$' "$T/cl.out" && grep -q 'Subject: CN=client-1/serialNumber=PID:' "$T/cl.out" ||
	fail "s_server saw no client certificate: $(grep -i client "$T/cl.out" | head -3)"

# another key where m-1's is: refused, nothing removed or written
mkdir -p "$T/other"
cp "$M2/cert.pem" "$T/other/server.crt"
cp "$M2/privkey.pem" "$T/other/server.key"
expect_error 1 'persistent handle 0x81000100 holds another object \(name 000b' \
	trust tpm load-key --secure-dir "$T/other"
cmp -s "$T/other/server.key" "$M2/privkey.pem" || fail "the refused key's PEM was touched"
[ ! -e "$T/other/server.tpm-auth" ] || fail "a refused run wrote server.tpm-auth"

# a free handle, but a key the owner policy is not for: the TPM refuses
expect_error 1 "the TPM owner's policy does not let this key be made persistent" \
	trust tpm load-key --secure-dir "$T/other" --handle 0x81000101
cmp -s "$T/other/server.key" "$M2/privkey.pem" || fail "the refused key's PEM was touched"
[ "$(persistent)" = 0x81000100 ] || fail "persistent handles now: $(persistent)"

# bad input: one line, exit 1 or 2, nothing removed
cp "$M1/cert.pem" "$T/other/server.crt"
expect_error 1 "server.key: is not the key of .*server.crt" trust tpm load-key --secure-dir "$T/other"
cmp -s "$T/other/server.key" "$M2/privkey.pem" || fail "a mismatched PEM was touched"
mkdir -p "$T/empty"
cp "$M1/cert.pem" "$T/empty/server.crt"
expect_error 1 "server.key: no such file, and no server.tpm-auth" trust tpm load-key --secure-dir "$T/empty"
expect_error 2 "--handle needs a persistent handle" trust tpm load-key --handle 0x01500001
expect_error 2 "--handle needs a persistent handle" trust tpm load-key --handle 0x81800000
expect_error 2 "--handle needs a persistent handle" trust tpm load-key --handle 81000100

# a re-provision (TPM2_Clear) removes the held key
tpm_boot prod production
expect_rc 0 trust provision --pcr7data "$PD" "$M2/cert.pem" "$M2/privkey.pem"
[ -z "$(persistent)" ] || fail "re-provision left: $(persistent)"
exit 0
