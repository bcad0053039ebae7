#!/bin/bash
# test-keyset-profiles.sh: every certificate of a new keyset matches the
# profile of keysets.md (subject, issuer, validity, KeyUsage/EKU, CA flag,
# SKID/AKID, serial), checked with openssl x509 and openssl verify.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

expect_rc 0 trust keyset add --org "Acme Corp" --org "Acme Labs" prod
expect_rc 0 trust keyset add other
ks=$KEYS/prod

# x509 FIELD CERT: one field of a cert, RFC 2253 names (so "CN=..,OU=..,O=..").
subj() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253,-esc_msb,sep_comma_plus | sed 's/^subject=//'; }
issuer() { openssl x509 -in "$1" -noout -issuer -nameopt RFC2253,-esc_msb,sep_comma_plus | sed 's/^issuer=//'; }
# rfc2253 lists the last RDN first: our order O.., OU, CN reads "CN=..,OU=..,O=Acme Labs,O=Acme Corp"
rdn() { echo "CN=$1,OU=prod,O=Acme Labs,O=Acme Corp"; }
ext() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | tr -s ' \n' ' ' | sed 's/ $//'; }
skid_of_key() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha1 -r | cut -c1-40 | tr a-f A-F | sed 's/../&:/g; s/:$//'; }
epoch() { date -u -d "$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)" +%s; }
plus_years() { date -u -d "$(date -u -d "@$1" '+%Y-%m-%d %H:%M:%S') UTC + $2 years" +%s; }

serials=
check() { # DIR CN ISSUER-CN YEARS|sudi CA(yes/no) KU EKU
	local d=$1 cn=$2 icn=$3 years=$4 ca=$5 ku=$6 eku=$7 c=$ks/$1/cert.pem nb na want
	[ "$(subj "$c")" = "$(rdn "$cn")" ] || fail "$d subject: $(subj "$c")"
	[ "$(issuer "$c")" = "$(rdn "$icn")" ] || fail "$d issuer: $(issuer "$c")"
	openssl x509 -in "$c" -noout -text | grep -q 'Signature Algorithm: sha256WithRSAEncryption' ||
		fail "$d: not sha256WithRSAEncryption"
	openssl x509 -in "$c" -noout -text | grep -q 'Public-Key: (2048 bit)' || fail "$d: not RSA 2048"
	openssl x509 -in "$c" -noout -text | grep -q 'Version: 3 (0x2)' || fail "$d: not X.509 v3"
	nb=$(epoch "$c" startdate) na=$(epoch "$c" enddate)
	now=$(date +%s)
	[ $((now - nb)) -ge 0 ] && [ $((now - nb)) -lt 600 ] || fail "$d notBefore is not now: $nb"
	if [ "$years" = sudi ]; then
		[ "$(openssl x509 -in "$c" -noout -enddate)" = "notAfter=Dec 31 23:00:00 2099 GMT" ] ||
			fail "$d notAfter: $(openssl x509 -in "$c" -noout -enddate)"
	else
		want=$(plus_years "$nb" "$years")
		[ "$na" = "$want" ] || fail "$d notAfter $na, want notBefore + $years y = $want"
	fi
	if [ "$ca" = yes ]; then
		[ "$(ext "$c" basicConstraints)" = "X509v3 Basic Constraints: critical CA:TRUE" ] ||
			fail "$d basicConstraints: $(ext "$c" basicConstraints)"
	else
		[ -z "$(ext "$c" basicConstraints)" ] || fail "$d must not be a CA: $(ext "$c" basicConstraints)"
	fi
	if [ -n "$ku" ]; then
		[ "$(ext "$c" keyUsage)" = "X509v3 Key Usage: critical $ku" ] || fail "$d keyUsage: $(ext "$c" keyUsage)"
	else
		[ -z "$(ext "$c" keyUsage)" ] || fail "$d has keyUsage: $(ext "$c" keyUsage)"
	fi
	if [ -n "$eku" ]; then
		[ "$(ext "$c" extendedKeyUsage)" = "X509v3 Extended Key Usage: $eku" ] ||
			fail "$d EKU: $(ext "$c" extendedKeyUsage)"
	else
		[ -z "$(ext "$c" extendedKeyUsage)" ] || fail "$d has EKU: $(ext "$c" extendedKeyUsage)"
	fi
	# SKID: SHA-1 of the DER SubjectPublicKeyInfo
	[ "$(ext "$c" subjectKeyIdentifier)" = "X509v3 Subject Key Identifier: $(skid_of_key "$c")" ] ||
		fail "$d SKID $(ext "$c" subjectKeyIdentifier) is not SHA-1(SPKI) $(skid_of_key "$c")"
	if [ "$cn" = "$icn" ]; then
		[ -z "$(ext "$c" authorityKeyIdentifier)" ] || fail "$d: self-signed with an AKID"
		openssl verify -CAfile "$c" "$c" >/dev/null || fail "$d: self-signature does not verify"
	fi
	# 128 random bits: at most 16 bytes, practically never below 9
	s=$(openssl x509 -in "$c" -noout -serial | cut -d= -f2)
	[ ${#s} -le 32 ] && [ ${#s} -ge 18 ] || fail "$d serial $s is not a 128-bit random number"
	serials="$serials $s"
}

check manifest-ca "Manifest rootCA" "Manifest rootCA" 25 yes "" ""
check sudi-ca "SUDI rootCA" "SUDI rootCA" sudi yes "" ""
check uefi-pk "UEFI PK" "UEFI PK" 50 yes "" ""
check uefi-kek "UEFI KEK" "UEFI PK" 50 no "Digital Signature" ""
for k in "uefi-db:UEFI DB" "uki-production:UKI Production" "uki-tpm:UKI TPM" \
	"uki-limited:UKI Limited" "tpmpol-admin:TPM EAPolicy Admin" "tpmpol-luks:TPM EAPolicy LUKS"; do
	check "${k%%:*}" "${k#*:}" "${k#*:}" 25 no "Digital Signature" "Code Signing"
done
[ "$(tr ' ' '\n' <<<"${serials# }" | sort -u | wc -l)" = 10 ] || fail "serials repeat: $serials"

# The 50-year PK needs GeneralizedTime (RFC 5280 4.1.2.5: from 2050 on).
openssl asn1parse -in "$ks/uefi-pk/cert.pem" | grep -q GENERALIZEDTIME || fail "PK notAfter is not GeneralizedTime"

# KEK is issued by PK: AKID = PK's SKID, verifies by PK, not by another keyset's PK.
[ "$(ext "$ks/uefi-kek/cert.pem" authorityKeyIdentifier)" = \
	"X509v3 Authority Key Identifier: $(skid_of_key "$ks/uefi-pk/cert.pem")" ] ||
	fail "KEK AKID: $(ext "$ks/uefi-kek/cert.pem" authorityKeyIdentifier)"
openssl verify -CAfile "$ks/uefi-pk/cert.pem" "$ks/uefi-kek/cert.pem" >/dev/null || fail "KEK does not verify by PK"
openssl verify -CAfile "$KEYS/other/uefi-pk/cert.pem" "$ks/uefi-kek/cert.pem" >/dev/null 2>&1 &&
	fail "KEK verifies by another keyset's PK"
openssl verify -CAfile "$ks/uefi-kek/cert.pem" "$ks/uefi-db/cert.pem" >/dev/null 2>&1 &&
	fail "db verifies by KEK (db is self-signed)"

# Project default: CN 'manifest PRODUCT:<uuid>', issued by manifest-ca, 20 y.
p=$ks/manifest/default/cert.pem
uuid=$(cat "$ks/manifest/default/uuid")
[ "$(subj "$p")" = "CN=manifest PRODUCT:$uuid" ] || fail "project subject: $(subj "$p")"
[ "$(issuer "$p")" = "$(rdn "Manifest rootCA")" ] || fail "project issuer: $(issuer "$p")"
[ "$(ext "$p" keyUsage)" = "X509v3 Key Usage: critical Digital Signature" ] || fail "project KU"
[ "$(ext "$p" extendedKeyUsage)" = "X509v3 Extended Key Usage: Code Signing" ] || fail "project EKU"
[ "$(ext "$p" subjectKeyIdentifier)" = "X509v3 Subject Key Identifier: $(skid_of_key "$p")" ] || fail "project SKID"
[ "$(ext "$p" authorityKeyIdentifier)" = \
	"X509v3 Authority Key Identifier: $(skid_of_key "$ks/manifest-ca/cert.pem")" ] || fail "project AKID"
[ "$(epoch "$p" enddate)" = "$(plus_years "$(epoch "$p" startdate)" 20)" ] || fail "project validity is not 20 y"
openssl verify -CAfile "$ks/manifest-ca/cert.pem" "$p" >/dev/null || fail "project cert does not verify by manifest-ca"
openssl verify -CAfile "$KEYS/other/manifest-ca/cert.pem" "$p" >/dev/null 2>&1 &&
	fail "project cert verifies by another manifest-ca"
echo ok
