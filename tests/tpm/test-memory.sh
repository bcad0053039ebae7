#!/bin/bash
# Secrets do not outlive the commands that handle them. provision, setup,
# preinit, tpm admin-password, attest quote and tpm load-key run under
# tests/tools/memscan, which stops
# each in exit_group (its last syscall) and dumps its memory: the dump must
# hold none of the OS and sbf passphrases, the admin password, the machine
# key's PEM lines and its RSA private values (big-endian as in DER,
# little-endian as in OpenSSL's BIGNUMs). Each was non-dumpable with no core
# limit at that point; a command that cannot make itself so refuses to run.
# Controls show each check can fail: the same scan of setup and admin-password
# stopped while they write the secrets out finds them, an unhardened command
# keeps /proc/PID owned by its user and its core limit, and the pcr7data path
# (in argv) is found in every dump.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"
MEMSCAN=${BUILD:-$TOP/build}/tools/memscan
[ -x "$MEMSCAN" ] || fail "no $MEMSCAN (run make)"
if [ -n "${TRUST_SANITIZED:-}" ]; then
	# LeakSanitizer ptraces the process itself, which memscan already does;
	# ASan makes its own core limit 0, which would hide ours; and its
	# allocator ignores the M_PERTURB that process_harden() sets, so it is
	# asked for the same overwriting of freed blocks.
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0:disable_coredump=0"
	export ASAN_OPTIONS="$ASAN_OPTIONS:max_free_fill_size=67108864:free_fill_byte=165"
fi

hexof() { od -An -v -tx1 | tr -d ' \n'; }
needle_str() { printf '%s %s\n' "$1" "$(printf '%s' "$2" | hexof)"; }
needle_file() { printf '%s %s\n' "$1" "$(hexof <"$2")"; }
# pem_needles LABEL FILE: each base64 line of a PEM body
pem_needles() {
	local n=0 line
	while IFS= read -r line; do
		case $line in -----* | '') continue ;; esac
		n=$((n + 1))
		needle_str "$1-line$n" "$line"
	done <"$2"
}
# rsa_needles LABEL FILE: 32 bytes of each private value of an RSA key, its
# high ones big-endian and its low ones little-endian
rsa_needles() {
	openssl rsa -in "$2" -text -noout 2>/dev/null | awk -v l="$1" '
		/^[a-zA-Z]/ { field = $1; sub(/:$/, "", field); next }
		field ~ /^(privateExponent|prime1|prime2|exponent1|exponent2|coefficient)$/ {
			gsub(/[ :]/, ""); hex[field] = hex[field] $0 }
		END {
			for (f in hex) {
				h = hex[f]; sub(/^(00)+/, "", h); t = substr(h, length(h) - 63); le = ""
				for (i = length(t) - 1; i >= 1; i -= 2) le = le substr(t, i, 2)
				print l "-" f "-be " substr(h, 1, 64); print l "-" f "-le " le
			}
		}'
}
# ec_needles LABEL FILE: the private scalar of a P-256 key, big- and
# little-endian (32 bytes either way)
ec_needles() {
	local h le='' i
	h=$(openssl ec -in "$2" -text -noout 2>/dev/null | awk '/^priv:/ { f = 1; next }
		/^[a-zA-Z]/ { f = 0 } f { gsub(/[ :]/, ""); h = h $0 } END { print h }')
	[ ${#h} = 66 ] && h=${h#00}
	while [ ${#h} -lt 64 ]; do h=0$h; done
	[ ${#h} = 64 ] || fail "$2: no P-256 private scalar"
	for ((i = 62; i >= 0; i -= 2)); do le+=${h:$i:2}; done
	printf '%s-be %s\n%s-le %s\n' "$1" "$h" "$1" "$le"
}

# scan NAME EXPECT_RC CMD...: CMD under memscan, stopped in exit_group; leaves
# $T/NAME.rep (the report) and $T/NAME.dump
scan() {
	local name=$1 want=$2 rc=0
	shift 2
	rm -f "$T/$name.dump"
	"$MEMSCAN" --dump "$T/$name.dump" --report "$T/$name.rep" -- "$@" >"$T/$name.out" \
		2>"$T/$name.err" || rc=$?
	[ "$rc" = "$want" ] ||
		fail "$name exited $rc, expected $want: $(cat "$T/$name.err" "$T/$name.rep")"
	grep -q '^stopped in exit' "$T/$name.rep" || fail "$name: not stopped: $(cat "$T/$name.rep")"
	grep -q '^core-limit 0 0$' "$T/$name.rep" || fail "$name: can dump core: $(cat "$T/$name.rep")"
}

# clean NAME [CONTROL]: the dump of NAME holds no needle but the controls,
# and it holds CONTROL (default control-pcr7data: an argument it was given)
clean() {
	"$MEMSCAN" --search "$T/$1.dump" "$T/needles" >"$T/$1.found" ||
		fail "$1: searching the dump failed"
	rm -f "$T/$1.dump"
	grep -q '^searched [1-9][0-9]* regions [1-9]' "$T/$1.found" || fail "$1: $(cat "$T/$1.found")"
	grep -q "^found ${2:-control-pcr7data} " "$T/$1.found" || fail "$1: the control is not in the dump"
	if grep '^found ' "$T/$1.found" | grep -v '^found control-' >"$T/$1.leaks"; then
		fail "$1: secrets in memory at exit (needle, mapping):" \
			"$(cut -d' ' -f2,4 "$T/$1.leaks" | sort -u | tr '\n' ' ')"
	fi
	note "$1: the control only; $(grep '^dumped' "$T/$1.rep")"
}

prod_keyset
needle_str control-pcr7data "$PD" >"$T/needles"
pem_needles key-pem "$T/id/key.pem" >>"$T/needles"
rsa_needles key "$T/id/key.pem" >>"$T/needles"
[ "$(grep -c '^key-.*-[bl]e ' "$T/needles")" = 12 ] || fail "RSA needles: $(cat "$T/needles")"

# provision of an EC key: OpenSSL's decoders free copies of its scalar in
# blocks small enough for glibc's per-thread cache; trust's OpenSSL allocator
# wipes them
tpm_boot prod production
mkdir -p "$T/ec"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ec/key.pem" \
	-out "$T/ec/cert.pem" -subj "/CN=machine-ec" -days 30 2>/dev/null || fail "openssl req (EC)"
scan provision-ec 0 "$TRUST" provision --pcr7data "$PD" "$T/ec/cert.pem" "$T/ec/key.pem"
cp "$T/needles" "$T/needles.rsa"
{
	ec_needles ec "$T/ec/key.pem"
	pem_needles ec-pem "$T/ec/key.pem"
} >>"$T/needles"
clean provision-ec
mv "$T/needles.rsa" "$T/needles"
stop_swtpm
rm -rf "$SWTPM_STATE" # a TPM nobody took yet, for the next provision

# provision: the key file, and the passphrases and admin password it makes
# (known once it has run)
tpm_boot prod production
scan provision 0 "$TRUST" provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
tpm_boot prod production # provision locked PCR7: a new boot reads the secrets
oracle_read 0x01500040 prod luks >"$T/os-pass" || fail "oracle: OS passphrase"
oracle_read 0x01500030 prod luks >"$T/sbf-pass" || fail "oracle: sbf passphrase"
tpm_boot prod tpm
oracle_read 0x01500001 prod passwd >"$T/admin" || fail "oracle: admin password"
[ "$(wc -c <"$T/admin")" = 32 ] || fail "admin password: $(wc -c <"$T/admin") bytes"
{
	needle_file os-pass "$T/os-pass"
	needle_file sbf-pass "$T/sbf-pass"
	needle_file admin "$T/admin"
} >>"$T/needles"
clean provision

# setup: certificate, key and OS passphrase released, none kept
tpm_boot prod production
in_ns "$MEMSCAN" --dump "$T/setup.dump" --report "$T/setup.rep" -- "$TRUST" setup \
	--pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$T/sec" --keyring session \
	>/dev/null 2>"$T/setup.err" || fail "setup: $(cat "$T/setup.err" "$T/setup.rep")"
grep -q '^exit 0$' "$T/setup.rep" || fail "setup: $(cat "$T/setup.rep")"
grep -q '^core-limit 0 0$' "$T/setup.rep" || fail "setup: can dump core: $(cat "$T/setup.rep")"
clean setup
# control: stopped in its first fsync (writing server.crt), setup holds them
tpm_boot prod production
in_ns "$MEMSCAN" --stop-at fsync --dump "$T/setup-at-work.dump" \
	--report "$T/setup-at-work.rep" -- "$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" \
	--secure-dir "$T/sec" --keyring session >/dev/null 2>&1 ||
	fail "setup (control): $(cat "$T/setup-at-work.rep")"
grep -q '^stopped in fsync$' "$T/setup-at-work.rep" || fail "control: $(cat "$T/setup-at-work.rep")"
"$MEMSCAN" --search "$T/setup-at-work.dump" "$T/needles" >"$T/setup-at-work.found"
rm -f "$T/setup-at-work.dump"
for want in os-pass key-pem-line1 key-pem-line20; do
	grep -q "^found $want " "$T/setup-at-work.found" ||
		fail "control: setup at work holds no $want: $(cat "$T/setup-at-work.found")"
done

# preinit: the new OS passphrase, known once it has run
tpm_boot prod production
in_ns "$MEMSCAN" --dump "$T/preinit.dump" --report "$T/preinit.rep" -- "$TRUST" preinit \
	--pcr7data "$PD" --keyring session >/dev/null 2>"$T/preinit.err" ||
	fail "preinit: $(cat "$T/preinit.err" "$T/preinit.rep")"
grep -q '^core-limit 0 0$' "$T/preinit.rep" || fail "preinit: can dump core"
tpm_boot prod production
oracle_read 0x01500040 prod luks >"$T/os-pass2" || fail "oracle: new OS passphrase"
! cmp -s "$T/os-pass" "$T/os-pass2" || fail "preinit wrote no new OS passphrase"
needle_file os-pass-new "$T/os-pass2" >>"$T/needles"
clean preinit

# tpm admin-password (to a file); control: stopped in the fsync of that file
tpm_boot prod tpm
scan admin-password 0 "$TRUST" tpm admin-password --pcr7data "$PD" --output "$T/pw"
cmp -s "$T/pw" "$T/admin" || fail "admin-password wrote something else"
clean admin-password
tpm_boot prod tpm
"$MEMSCAN" --stop-at fsync --dump "$T/admin-at-work.dump" --report "$T/admin-at-work.rep" -- \
	"$TRUST" tpm admin-password --pcr7data "$PD" --output "$T/pw2" ||
	fail "admin-password (control): $(cat "$T/admin-at-work.rep")"
"$MEMSCAN" --search "$T/admin-at-work.dump" "$T/needles" >"$T/admin-at-work.found"
rm -f "$T/admin-at-work.dump"
grep -q '^found admin ' "$T/admin-at-work.found" ||
	fail "control: admin-password at work holds no password: $(cat "$T/admin-at-work.found")"

# tpm check-locked (reads one byte of each readable index): hardened as well
tpm_boot prod tpm
scan check-locked 3 "$TRUST" tpm check-locked --pcr7data "$PD"

# attest quote signs with the machine key (as setup released it): the key is
# gone from its memory at exit
mkdir -p "$T/attest-sec"
cp "$T/id/cert.pem" "$T/attest-sec/server.crt"
cp "$T/id/key.pem" "$T/attest-sec/server.key"
needle_str control-secure-dir "$T/attest-sec" >>"$T/needles"
scan attest 0 "$TRUST" attest quote --nonce 00112233445566778899aabbccddeeff \
	--secure-dir "$T/attest-sec" --eventlog /nonexistent --output "$T/bundle.json"
grep -q '"quote_signature"' "$T/bundle.json" || fail "attest quote wrote no bundle"
clean attest control-secure-dir

# tpm load-key wraps the machine key for the TPM and derives the key's auth
# value: neither is in its memory at exit
mkdir -p "$T/lk-sec"
cp "$T/id/cert.pem" "$T/lk-sec/server.crt"
cp "$T/id/key.pem" "$T/lk-sec/server.key"
needle_str control-lk-dir "$T/lk-sec" >>"$T/needles"
scan load-key 0 "$TRUST" tpm load-key --secure-dir "$T/lk-sec"
[ ! -e "$T/lk-sec/server.key" ] || fail "load-key left server.key"
needle_str held-key-auth "$(head -c 32 "$T/lk-sec/server.tpm-auth")" >>"$T/needles"
clean load-key control-lk-dir

# Non-dumpable: /proc/PID/mem belongs to root, not to the process's user. As
# nobody (a copy of trust outside $T, which is root's only); an unhardened
# command is the control.
U=$(mktemp -d /tmp/trust-memory.XXXXXX)
on_exit "rm -rf '$U'"
chmod 755 "$U"
cp "$TRUST" "$U/trust"
tpm_boot prod production
"$MEMSCAN" --uid 65534 --report "$T/nobody.rep" -- "$U/trust" extend-pcr7 ||
	fail "extend-pcr7 as nobody: $(cat "$T/nobody.rep")"
grep -q '^uid 65534 proc-owner 0$' "$T/nobody.rep" ||
	fail "extend-pcr7 is dumpable: $(cat "$T/nobody.rep")"
grep -q '^core-limit 0 0$' "$T/nobody.rep" || fail "extend-pcr7 dumps core: $(cat "$T/nobody.rep")"
"$MEMSCAN" --uid 65534 --report "$T/control.rep" -- "$U/trust" verify --help >/dev/null ||
	fail "verify --help as nobody: $(cat "$T/control.rep")"
grep -q '^uid 65534 proc-owner 65534$' "$T/control.rep" || fail "control: $(cat "$T/control.rep")"
grep -q '^core-limit unlimited unlimited$' "$T/control.rep" ||
	fail "control: $(cat "$T/control.rep")"

# Fail closed: hardening the kernel refuses (seccomp) stops the command before
# it touches the TPM.
tpm_boot prod production
before=$(pcr7_hex)
for what in dumpable core; do
	rc=0
	"$MEMSCAN" --deny "$what" --report "$T/deny.rep" -- "$TRUST" extend-pcr7 >"$T/out" \
		2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || fail "extend-pcr7 with $what denied exited $rc: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "deny $what: $(cat "$T/err")"
	case $what in
	dumpable) pat='cannot make the process non-dumpable \(PR_SET_DUMPABLE\)' ;;
	core) pat='cannot disable core dumps \(RLIMIT_CORE 0\)' ;;
	esac
	grep -Eq "^trust: extend-pcr7: $pat: Operation not permitted$" "$T/err" ||
		fail "deny $what: $(cat "$T/err")"
	[ "$(pcr7_hex)" = "$before" ] || fail "extend-pcr7 extended PCR7 although $what was denied"
done
exit 0
