# shellcheck shell=bash
# lib.sh: sourced by every shell test. Gives a private XDG home under a temp
# dir, helpers to assert exit codes and error lines, swtpm on loopback, and a
# cleanup trap that also kills every process the test started (by PID).
set -eu
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TRUST=${TRUST:-$TOP/build/trust}
case $TRUST in /*) ;; *) TRUST=$TOP/$TRUST ;; esac
[ -x "$TRUST" ] || { echo "no trust binary at $TRUST (run make)" >&2; exit 1; }

T=$(mktemp -d /tmp/trust-test.XXXXXX)
export HOME=$T/home XDG_DATA_HOME=$T/data XDG_CONFIG_HOME=$T/config \
	XDG_STATE_HOME=$T/state XDG_CACHE_HOME=$T/cache
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME"
# shellcheck disable=SC2034 # used by the tests that source this file
KEYS=$XDG_DATA_HOME/machine/trust/keys

_cleanups=()
_pids=()
on_exit() { _cleanups+=("$*"); }
track_pid() { _pids+=("$1"); }
# _ours PID: PID is still a child of this shell. A tracked process that ended
# long ago left its number free: by now it may be another test's QEMU (the
# host and boot lanes run side by side), which a blind kill would hit.
_ours() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) } # after "pid (comm) ": state ppid ...
	[ "${s#* }" != "$s" ] && s=${s#* } && [ "${s%% *}" = "$$" ]
}
_run_cleanups() {
	local rc=$? i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
	for p in "${_pids[@]}"; do
		_ours "$p" && kill "$p" 2>/dev/null
	done
	for p in "${_pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do _ours "$p" || break; sleep 0.2; done
		_ours "$p" && kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
	exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "# $*"; }

# expect_rc RC CMD...: runs CMD, keeps stdout in $T/out and stderr in $T/err,
# and fails unless it exits with RC.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
		fail "'$*' exited $rc, expected $want"
	fi
}
trust() { "$TRUST" "$@"; }

# expect_error RC PATTERN CMD...: CMD fails with RC and prints exactly one line
# on stderr that matches the extended regex PATTERN.
expect_error() {
	local want=$1 pat=$2
	shift 2
	expect_rc "$want" "$@"
	[ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "'$*': expected one error line"; }
	grep -Eq -- "$pat" "$T/err" || { cat "$T/err"; fail "'$*': error does not match /$pat/"; }
}

# json_check CODE [ARG...]: the last command's stdout ($T/out) is one JSON
# document on one line; CODE (Python) asserts on j (the document), text
# ($T/text if there is one: the same command's text output) and args.
json_check() {
	local code=$1
	shift
	command -v python3 >/dev/null || skip "python3 is not installed"
	[ -e "$T/text" ] || : >"$T/text"
	python3 -c "import json, sys
raw = open(sys.argv[1]).read()
assert raw.endswith('\n') and raw.count('\n') == 1, 'not one line'
j = json.loads(raw)
text = open(sys.argv[2], errors='surrogateescape').read()
args = sys.argv[3:]
$code" "$T/out" "$T/text" "$@" || fail "JSON check failed on: $(cat "$T/out")"
}
# json_text CMD...: runs trust CMD, keeps its text output in $T/text.
json_text() { expect_rc 0 trust "$@"; cp "$T/out" "$T/text"; }
# no_stdout WHAT: the last command printed nothing on stdout.
no_stdout() { [ ! -s "$T/out" ] || fail "$1 printed on stdout: $(cat "$T/out")"; }

# part_start DUMP NAME, part_size DUMP NAME: the first sector and the length
# in 512-byte sectors of the GPT partition named NAME in DUMP, the output of
# `sfdisk -d DISK` (nothing when there is no such partition)
part_start() { sed -n "/name=\"$2\"/s/.*start= *\([0-9]*\),.*/\1/p" "$1"; }
part_size() { sed -n "/name=\"$2\"/s/.*size= *\([0-9]*\),.*/\1/p" "$1"; }

# deb_install DEB ROOT: ROOT made a throw-away root with an empty dpkg
# database, its file list kept, then DEB installed into it (dpkg --root; the
# host provides the dependencies). deb_purge ROOT: purges trust from ROOT
# and fails unless ROOT then holds exactly the files it held before.
_deb_files() { find "$1" -path "$1/var/lib/dpkg" -prune -o -print | sort; }
deb_install() {
	mkdir -p "$2/var/lib/dpkg/info" "$2/var/lib/dpkg/updates" "$2/var/lib/dpkg/triggers"
	: >"$2/var/lib/dpkg/status"
	_deb_files "$2" >"$T/deb-root-before"
	dpkg --root="$2" --force-depends -i "$1" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i $1 failed"; }
}
deb_purge() {
	dpkg --root="$1" --force-depends --purge trust >>"$T/dpkg.log" 2>&1 ||
		{ cat "$T/dpkg.log"; fail "dpkg --purge failed"; }
	_deb_files "$1" >"$T/deb-root-after"
	diff "$T/deb-root-before" "$T/deb-root-after" >"$T/deb-left" || fail "the purge left: $(cat "$T/deb-left")"
}

# tree_snapshot DIR: a listing that changes when anything below DIR changes.
tree_snapshot() { (cd "$1" 2>/dev/null && find . -printf '%p %s %m\n' | sort) || true; }

# softhsm_token LABEL: a fresh SoftHSM2 token LABEL (user PIN 1234) in $T,
# for PKCS#11 keyset keys; exports SOFTHSM2_CONF and TRUST_PKCS11_PIN and sets
# P11_MODULE and P11_URI (the token, with its module-path).
softhsm_token() {
	local mod
	command -v softhsm2-util >/dev/null || skip "softhsm2 is not installed (make deps)"
	for mod in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
		[ -r "$mod" ] && P11_MODULE=$mod && break
	done
	[ -n "${P11_MODULE:-}" ] || skip "no libsofthsm2.so"
	mkdir -p "$T/softhsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$T/softhsm/tokens" >"$T/softhsm/softhsm2.conf"
	export SOFTHSM2_CONF=$T/softhsm/softhsm2.conf TRUST_PKCS11_PIN=1234
	softhsm2-util --init-token --free --label "$1" --pin 1234 --so-pin 5678 >/dev/null ||
		fail "softhsm2-util --init-token $1"
	# shellcheck disable=SC2034 # for the tests
	P11_URI="pkcs11:token=$1?module-path=$P11_MODULE"
}

# auth_cms FILE NAME: the signed variable update FILE of the image security
# database variable NAME (db, dbx) taken apart (spec lifecycle.md):
# $T/sd.der (the bare SignedData), $T/data.esl, $T/msg (the bytes it signs:
# NAME in UTF-16LE, the variable's GUID, its attributes, the EFI_TIME and
# the data) and $T/ci.der, the SignedData wrapped in a ContentInfo for
# `openssl cms -verify -inform DER -in $T/ci.der -content $T/msg`.
auth_cms() {
	local f=$1 name=$2 hdr sd n i
	hdr=$(od -An -tx1 -j16 -N4 "$f" | tr -d ' \n')
	sd=$((0x${hdr:6:2}${hdr:4:2}${hdr:2:2}${hdr:0:2} - 24))
	tail -c +41 "$f" | head -c "$sd" >"$T/sd.der"
	tail -c +$((41 + sd)) "$f" >"$T/data.esl"
	{
		for ((i = 0; i < ${#name}; i++)); do printf '%s\0' "${name:$i:1}"; done
		printf '\xcb\xb2\x19\xd7\x3a\x3d\x96\x45\xa3\xbc\xda\xd0\x0e\x67\x65\x6f\x67\0\0\0'
		head -c 16 "$f"
		cat "$T/data.esl"
	} >"$T/msg"
	n=$(stat -c %s "$T/sd.der")
	be16() { printf '%b' "\\x$(printf %02x $(($1 >> 8)))\\x$(printf %02x $(($1 & 255)))"; }
	{
		printf '\x30\x82'
		be16 $((n + 15))
		printf '\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x82'
		be16 "$n"
		cat "$T/sd.der"
	} >"$T/ci.der"
}

# free_port: a TCP port on 127.0.0.1 with the next one free as well, below the
# ephemeral range (32768+) where TIME_WAIT client sockets make bind() fail.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % 22000))
		if ! (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null &&
			! (echo >/dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null; then
			echo $p
			return 0
		fi
	done
	return 1
}

# start_swtpm [STATEDIR]: starts swtpm on loopback, exports TRUST_TPM2_TCTI,
# SWTPM_PORT, SWTPM_PID and TPM2TOOLS_TCTI (tpm2-tools is a test oracle only).
start_swtpm() {
	local dir=${1:-$T/swtpm} port
	command -v swtpm >/dev/null || skip "swtpm is not installed (make deps)"
	mkdir -p "$dir"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		swtpm socket --tpm2 --tpmstate dir="$dir" \
			--server type=tcp,port="$port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear >"$T/swtpm.log" 2>&1 &
		SWTPM_PID=$!
		track_pid $SWTPM_PID
		for _ in $(seq 50); do
			if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				export SWTPM_PORT=$port SWTPM_PID
				export TRUST_TPM2_TCTI="swtpm:host=127.0.0.1,port=$port"
				export TPM2TOOLS_TCTI=$TRUST_TPM2_TCTI
				return 0
			fi
			kill -0 $SWTPM_PID 2>/dev/null || break
			sleep 0.1
		done
		kill $SWTPM_PID 2>/dev/null || true
	done
	fail "swtpm did not start: $(cat "$T/swtpm.log")"
}

stop_swtpm() {
	[ -n "${SWTPM_PID:-}" ] || return 0
	kill "$SWTPM_PID" 2>/dev/null || true
	wait "$SWTPM_PID" 2>/dev/null || true
	SWTPM_PID=
}

# pcr7_replay STATEDIR KEYSET [COMPUTEPCR7 ARGS...]: a "boot" of the TPM in
# STATEDIR: swtpm restarted (PCRs reset), then the firmware's PCR7 events as
# `computepcr7 KEYSET --events ARGS` lists them (e.g. --class production,
# --update F) extended one by one, as OVMF measures them.
pcr7_replay() {
	local dir=$1 ks=$2 name hex
	shift 2
	stop_swtpm
	start_swtpm "$dir"
	"$TRUST" computepcr7 "$ks" --events "$@" >"$T/events" 2>"$T/events.err" ||
		fail "computepcr7 $ks --events $*: $(cat "$T/events.err")"
	[ -s "$T/events" ] || fail "computepcr7 $ks --events $* printed nothing"
	while read -r name hex; do
		tpm2_pcrextend "7:sha256=$hex" >/dev/null || fail "replaying $name"
	done <"$T/events"
}
