# shellcheck shell=bash
# tpm-lib.sh: sourced by tests/tpm/test-*.sh after lib.sh. Emulates firmware
# by replaying `trust computepcr7 --events` into swtpm's PCR7 (tpm2-tools are
# the test's oracle, never the product's), runs setup in its own mount
# namespace and session keyring, and reads the TPM the older tool's way
# (tests/bench/oldtool.sh) to check what trust wrote and released.
for tool in swtpm tpm2_pcrextend tpm2_pcrread tpm2_nvread unshare keyctl openssl; do
	command -v $tool >/dev/null || skip "$tool is not installed (make deps)"
done
[ "$(id -u)" = 0 ] || skip "needs root (mount namespaces, keyrings, loop devices)"
OLDTOOL=$TOP/tests/bench/oldtool.sh
SWTPM_STATE=$T/swtpm-state

# keyset_with_pcr7data NAME: a fresh keyset whose pcr7data holds its values.
keyset_with_pcr7data() {
	trust keyset add "$1" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "keyset add $1"; }
	[ -d "$KEYS/$1/pcr7data/policy-2/pubkeys" ] || skip "keyset add wrote no pcr7data yet"
}

# tpm_boot KEYSET CLASS: a "reboot" (swtpm restarted on its state, PCRs
# reset) into an OS signed by uki-CLASS of KEYSET: the firmware's PCR7 events
# are replayed and the result must equal computepcr7's prediction.
tpm_boot() {
	local ks=$1 class=$2 want got
	pcr7_replay "$SWTPM_STATE" "$ks" --class "$class"
	want=$("$TRUST" computepcr7 "$ks" | sed -n "s/^uki-$class: //p")
	got=$(pcr7_hex)
	[ "$want" = "$got" ] || fail "PCR7 after replay $got, computepcr7 says $want"
}

pcr7_hex() {
	tpm2_pcrread sha256:7 -o "$T/pcr7.bin" >/dev/null
	od -An -tx1 -v "$T/pcr7.bin" | tr -d ' \n'
}

# prod_keyset: the keyset "prod" with its pcr7data ($PD) and manifest CA
# ($CA), and a machine identity in $T/id to provision.
prod_keyset() {
	keyset_with_pcr7data prod
	make_identity
	PD=$KEYS/prod/pcr7data
	# shellcheck disable=SC2034 # used by the tests
	CA=$KEYS/prod/manifest-ca/cert.pem
}

# provision_prod: a production boot of prod, `trust provision` of $T/id
# (which must leave PCR7 locked), then a new production boot.
provision_prod() {
	local before
	tpm_boot prod production
	before=$(pcr7_hex)
	expect_rc 0 trust provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
	[ "$(pcr7_hex)" = "$(pcr7_locked "$before")" ] || fail "provision did not lock PCR7"
	tpm_boot prod production
}

# pcr7_locked HEX: PCR7 after the lock, SHA256(HEX || SHA256("atomix\n")).
pcr7_locked() {
	printf '%s%s' "$1" b7135cbb321a66fa848b07288bd008b89bd5b7496c4569c5e1a4efd5f7c8e0a7 |
		xxd -r -p | openssl dgst -sha256 -r | cut -d' ' -f1
}

# identity: a machine certificate and key to provision
make_identity() {
	mkdir -p "$T/id"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/id/key.pem" -out "$T/id/cert.pem" \
		-subj "/CN=machine-$RANDOM" -days 30 2>/dev/null || fail "openssl req"
}

# entry_dir KEYSET CLASS: the keyset's pcr7data directory for that class
entry_dir() {
	local d type=$2
	[ "$type" = tpm ] && type='(tpm|password)' # the deployed data says "password"
	for d in "$KEYS/$1"/pcr7data/policy-2/*/*/; do
		grep -Eq "\"key_type\": *\"$type\"" "$d/info.json" 2>/dev/null && { echo "${d%/}"; return 0; }
	done
	fail "no $2 entry in $1's pcr7data"
}

# oracle_read INDEX KEYSET luks|passwd: read an index the older tool's way
# with KEYSET's signed policy for the current boot class.
oracle_read() {
	local idx=$1 ks=$2 mode=$3 entry pub sig
	if [ "$mode" = luks ]; then
		entry=$(entry_dir "$ks" production)
		pub=$KEYS/$ks/pcr7data/policy-2/pubkeys/luks-$ks.pem sig=$entry/tpm_luks.policy.signed
	else
		entry=$(entry_dir "$ks" tpm)
		pub=$KEYS/$ks/pcr7data/policy-2/pubkeys/tpmpass-$ks.pem sig=$entry/tpm_passwd.policy.signed
	fi
	"$OLDTOOL" read "$idx" "$pub" "$sig" "$mode"
}

# run_setup PCR7DATA: setup in its own namespace and session keyring, with
# $CA; leaves $T/s.rc, $T/s.err, $T/s.files (what the tmpfs held), $T/s.crt
# (the released certificate, if any), $T/s.key (the keyring key, if any) and
# $SETUP_PCR7 (PCR7 before).
run_setup() {
	rm -f "$T/s.crt"
	SETUP_PCR7=$(pcr7_hex)
	cat >"$T/inside.sh" <<EOS
rc=0
"$TRUST" setup --pcr7data "$1" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session \
	>"$T/s.out" 2>"$T/s.err" || rc=\$?
echo \$rc >"$T/s.rc"
ls -A "$T/sec" >"$T/s.files" 2>/dev/null || true
cp "$T/sec/server.crt" "$T/s.crt" 2>/dev/null || true
keyctl search @s user machine:luks >"$T/s.key" 2>/dev/null || true
EOS
	in_ns bash "$T/inside.sh" 2>/dev/null
}

# nothing_released WHY PATTERN: the last run_setup failed cleanly with PATTERN
# and left PCR7 locked
nothing_released() {
	[ "$(cat "$T/s.rc")" = 1 ] || fail "$1: setup exited $(cat "$T/s.rc")"
	[ "$(wc -l <"$T/s.err")" = 1 ] || fail "$1: $(cat "$T/s.err")"
	grep -Eq "$2" "$T/s.err" || fail "$1: $(cat "$T/s.err")"
	[ ! -s "$T/s.files" ] || fail "$1: files released: $(cat "$T/s.files")"
	[ ! -s "$T/s.key" ] || fail "$1: key released"
	[ "$(pcr7_hex)" = "$(pcr7_locked "$SETUP_PCR7")" ] || fail "$1: PCR7 not locked"
}

# released WHY: the last run_setup released the provisioned certificate
# ($T/id/cert.pem) and put the OS passphrase in the keyring
released() {
	[ "$(cat "$T/s.rc")" = 0 ] || fail "$1: setup exited $(cat "$T/s.rc"): $(cat "$T/s.err")"
	cmp -s "$T/s.crt" "$T/id/cert.pem" || fail "$1: released certificate differs"
	[ -s "$T/s.key" ] || fail "$1: no machine:luks key"
}

# target_root: $R, a throw-away root to run trust in as an initrd does (a
# chroot inside a private mount namespace, so the host's / is never touched):
# /trust, prod's CA as /manifestCA.pem, and mount points that target_mounts
# fills with the host's /usr and /etc (read-only), /dev, /sys, /proc and $T.
target_root() {
	R=$T/root
	mkdir -p "$R/usr" "$R/etc" "$R/dev" "$R/sys" "$R/proc" "$R$T"
	for l in bin sbin lib lib64 lib32 libx32; do
		[ -L "/$l" ] && ln -s "$(readlink "/$l")" "$R/$l"
	done
	cp "$TRUST" "$R/trust"
	cp "$KEYS/prod/manifest-ca/cert.pem" "$R/manifestCA.pem"
}

# target_mounts: the mount commands that assemble $R (for a script run under
# unshare -m).
target_mounts() {
	cat <<EOS
mount --rbind -o ro /usr "$R/usr"
mount --bind -o ro /etc "$R/etc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t proc proc "$R/proc"
mount --bind "$T" "$R$T"
EOS
}

# in_ns CMD...: run CMD in a private mount namespace and a new session keyring
in_ns() { unshare -m --propagation private keyctl session - "$@"; }
