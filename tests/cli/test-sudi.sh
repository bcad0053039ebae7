#!/bin/bash
# test-sudi.sh: `sudi add/list` issue per-machine SUDI certs by sudi-ca with
# the profile of keysets.md, usable as TLS server and client certs.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add --org "Acme Corp" prod
expect_rc 0 trust keyset add other
ks=$KEYS/prod
puuid=$(cat "$ks/manifest/default/uuid")
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
ext() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | tr -s ' \n' ' ' | sed 's/ $//'; }
skid_of_key() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha1 -r | cut -c1-40 | tr a-f A-F | sed 's/../&:/g; s/:$//'; }

expect_rc 0 trust sudi add prod default
serial=$(cat "$T/out")
echo "$serial" | grep -Eq "$uuid_re" || fail "sudi add did not print a fresh uuid serial: $serial"
expect_rc 0 trust sudi add prod default machine-01
[ "$(cat "$T/out")" = machine-01 ] || fail "sudi add SERIAL printed $(cat "$T/out")"

for s in "$serial" machine-01; do
	d=$ks/manifest/default/sudi/$s c=$d/cert.pem
	[ "$(ls "$d" | tr '\n' ' ')" = "cert.pem privkey.pem " ] || fail "sudi dir holds: $(ls "$d")"
	[ "$(stat -c %a "$d/privkey.pem")" = 600 ] || fail "SUDI privkey mode"
	[ "$(stat -c %a "$c")" = 640 ] || fail "SUDI cert mode"
	openssl pkey -in "$d/privkey.pem" -noout -text | grep -q 'Private-Key: (2048 bit' || fail "SUDI key not RSA 2048"
	# subject: CN=<serial>, serialNumber=PID:<product uuid> SN:<serial>
	sub=$(openssl x509 -in "$c" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	[ "$sub" = "serialNumber=PID:$puuid SN:$s,CN=$s" ] || fail "SUDI subject: $sub"
	iss=$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
	[ "$iss" = "CN=SUDI rootCA,OU=prod,O=Acme Corp" ] || fail "SUDI issuer: $iss"
	[ "$(openssl x509 -in "$c" -noout -enddate)" = "notAfter=Dec 31 23:00:00 2099 GMT" ] || fail "SUDI notAfter"
	[ "$(ext "$c" keyUsage)" = "X509v3 Key Usage: critical Digital Signature, Key Encipherment, Data Encipherment" ] ||
		fail "SUDI KU: $(ext "$c" keyUsage)"
	[ "$(ext "$c" extendedKeyUsage)" = "X509v3 Extended Key Usage: TLS Web Server Authentication, TLS Web Client Authentication" ] ||
		fail "SUDI EKU: $(ext "$c" extendedKeyUsage)"
	[ -z "$(ext "$c" basicConstraints)" ] || fail "SUDI is a CA"
	[ "$(ext "$c" subjectKeyIdentifier)" = "X509v3 Subject Key Identifier: $(skid_of_key "$c")" ] || fail "SUDI SKID"
	[ "$(ext "$c" authorityKeyIdentifier)" = "X509v3 Authority Key Identifier: $(skid_of_key "$ks/sudi-ca/cert.pem")" ] ||
		fail "SUDI AKID"
	for purpose in sslserver sslclient; do
		openssl verify -purpose $purpose -CAfile "$ks/sudi-ca/cert.pem" "$c" >/dev/null ||
			fail "SUDI $s does not verify by sudi-ca for $purpose"
	done
	openssl verify -purpose sslserver -CAfile "$ks/manifest-ca/cert.pem" "$c" >/dev/null 2>&1 &&
		fail "SUDI verifies by manifest-ca"
	openssl verify -purpose sslserver -CAfile "$KEYS/other/sudi-ca/cert.pem" "$c" >/dev/null 2>&1 &&
		fail "SUDI verifies by another keyset's sudi-ca"
done
# distinct keys
[ "$(openssl x509 -in "$ks/manifest/default/sudi/$serial/cert.pem" -noout -pubkey)" != \
	"$(openssl x509 -in "$ks/manifest/default/sudi/machine-01/cert.pem" -noout -pubkey)" ] || fail "SUDIs share a key"

expect_rc 0 trust sudi list prod default
[ "$(cat "$T/out")" = "$(printf '%s\n' "$serial" machine-01 | sort)" ] || fail "sudi list: $(cat "$T/out")"

# an existing serial is refused and left alone
before=$(tree_snapshot "$ks")
sum=$(sha256sum "$ks/manifest/default/sudi/machine-01/cert.pem")
expect_error 1 "SUDI 'machine-01' already exists" trust sudi add prod default machine-01
[ "$(tree_snapshot "$ks")" = "$before" ] || fail "a refused sudi add changed the keyset"
[ "$(sha256sum "$ks/manifest/default/sudi/machine-01/cert.pem")" = "$sum" ] || fail "existing SUDI replaced"

# a SUDI of another project carries that project's uuid
expect_rc 0 trust project add prod widget
expect_rc 0 trust sudi add prod widget w1
wuuid=$(cat "$ks/manifest/widget/uuid")
openssl x509 -in "$ks/manifest/widget/sudi/w1/cert.pem" -noout -subject -nameopt RFC2253 |
	grep -qx "subject=serialNumber=PID:$wuuid SN:w1,CN=w1" || fail "widget SUDI subject"
expect_rc 0 trust sudi list prod widget
[ "$(cat "$T/out")" = w1 ] || fail "sudi list widget: $(cat "$T/out")"

# a serial longer than a CN may be (64) is a usage error
expect_error 2 "serial is longer than 64" trust sudi add prod default "$(printf 'a%.0s' $(seq 65))"
echo ok
