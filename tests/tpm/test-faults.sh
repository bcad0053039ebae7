#!/bin/bash
# The TPM disappears before each TPM command of provision and of setup in
# turn (every point, not a sample): each run ends with one clear error line
# and exit 3 (PCR7 could not be locked: power off, since the TPM was opened
# and the lock needs it), leaves nothing behind (tmpfs files, keyring
# entries), and a run after the TPM is back succeeds.
#
# Mechanism: TRUST_TPM2_PAUSE_AT=N makes trust stop itself (SIGSTOP) just
# before sending its Nth TPM command; the test then kills swtpm for real and
# lets trust continue (SIGCONT), so the command meets a vanished TPM.
. "$(dirname "$0")/../lib.sh"
# In make check the ASan round runs every fault point, and checks each error
# path for leaks and undefined behaviour too; the plain round leaves it out
# (its seven minutes for both rounds did not fit the half hour).
[ "${TRUST_ROUND:-}" != plain ] || skip "run in the ASan round of make check (run alone, it runs)"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset

# paused_run N CMD...: runs CMD with the TPM killed before its Nth command;
# leaves the exit code in $T/f.rc and stderr in $T/f.err.
paused_run() {
	local n=$1 pid state rc=0
	shift
	TRUST_TPM2_PAUSE_AT=$n "$@" >"$T/f.out" 2>"$T/f.err" &
	pid=$!
	for _ in $(seq 200); do
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
		[ "$state" = T ] && break
		if [ "$state" = gone ] || [ "$state" = Z ]; then break; fi
		sleep 0.02
	done
	[ "$state" = T ] || { wait $pid || true; cat "$T/f.err"; fail "command $n: trust never paused"; }
	stop_swtpm
	kill -CONT $pid
	wait $pid || rc=$?
	echo $rc >"$T/f.rc"
}

one_clear_error() {
	[ "$(wc -l <"$T/f.err")" = 1 ] || { cat "$T/f.err"; fail "$1: expected one error line"; }
	grep -q "TPM not reachable" "$T/f.err" || { cat "$T/f.err"; fail "$1: unclear error"; }
	grep -q "PCR7 could not be locked.*power off" "$T/f.err" ||
		{ cat "$T/f.err"; fail "$1: does not say power off"; }
}

# --- provision: count its TPM commands on a good run first
tpm_boot prod production
TRUST_TPM2_STATS=1 "$TRUST" provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem" 2>"$T/err" ||
	{ cat "$T/err"; fail "provision"; }
total=$(sed -n 's/^trust: tpm2: \([0-9]*\) TPM commands.*/\1/p' "$T/err")
if [ -z "$total" ] || [ "$total" -le 10 ]; then fail "provision command count: $(cat "$T/err")"; fi
note "provision sends $total TPM commands"
for n in $(seq 1 "$total"); do
	tpm_boot prod production
	paused_run "$n" "$TRUST" provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
	[ "$(cat "$T/f.rc")" = 3 ] || { cat "$T/f.err"; fail "provision, TPM gone at $n: exit $(cat "$T/f.rc")"; }
	one_clear_error "provision, TPM gone at $n"
	tpm_boot prod production
	expect_rc 0 trust provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"
	tpm_boot prod production # provision locked PCR7
	oracle_read 0x01500022 prod luks >"$T/k" || fail "provision re-run after fault $n: key unreadable"
	cmp -s "$T/k" "$T/id/key.pem" || fail "provision re-run after fault $n: key differs"
done

# --- setup
SEC=$T/sec
setup_cmd=("$TRUST" setup --pcr7data "$PD" --manifest-ca "$CA" --secure-dir "$SEC" --keyring session)
tpm_boot prod production
oracle_read 0x01500040 prod luks >"$T/pass" || fail "oracle read of the OS passphrase"
tpm_boot prod production
export -f paused_run stop_swtpm
cat >"$T/count.sh" <<EOS
TRUST_TPM2_STATS=1 ${setup_cmd[*]} 2>"$T/err" >/dev/null
EOS
in_ns bash "$T/count.sh" 2>/dev/null || { cat "$T/err"; fail "setup"; }
total=$(sed -n 's/^trust: tpm2: \([0-9]*\) TPM commands.*/\1/p' "$T/err")
if [ -z "$total" ] || [ "$total" -le 10 ]; then fail "setup command count: $(cat "$T/err")"; fi
note "setup sends $total TPM commands"

for n in $(seq 1 "$total"); do
	tpm_boot prod production
	# trust runs in its own namespace and keyring; the check of what it left
	# is made there too, before the namespace goes away
	cat >"$T/inside.sh" <<EOS
T=$T SWTPM_PID=$SWTPM_PID
fail() { echo "FAIL: \$*" >&2; exit 1; }
$(declare -f paused_run stop_swtpm)
paused_run $n ${setup_cmd[*]}
ls -A "$SEC" >"$T/f.files" 2>/dev/null || true
findmnt --mountpoint "$SEC" >"$T/f.mnt" 2>/dev/null || true
keyctl search @s user machine:luks >"$T/f.key" 2>/dev/null || true
EOS
	in_ns bash "$T/inside.sh" 2>/dev/null || fail "setup, TPM gone at $n: harness failed"
	rc=$(cat "$T/f.rc")
	[ "$rc" = 3 ] || { cat "$T/f.err"; fail "setup, TPM gone at $n: exit $rc, not 3"; }
	one_clear_error "setup, TPM gone at $n"
	[ ! -s "$T/f.files" ] || fail "setup, TPM gone at $n: left $(cat "$T/f.files")"
	[ ! -s "$T/f.mnt" ] || fail "setup, TPM gone at $n: left a mount"
	[ ! -s "$T/f.key" ] || fail "setup, TPM gone at $n: left a keyring entry"

	# the TPM is back (a new boot): setup works and releases the same secrets
	tpm_boot prod production
	cat >"$T/inside.sh" <<EOS
${setup_cmd[*]} 2>"$T/err" || exit 1
cmp -s "$SEC/server.key" "$T/id/key.pem" || exit 2
printf '%s' "\$(keyctl print %user:machine:luks)" | cmp -s - "$T/pass" || exit 3
EOS
	rc=0
	in_ns bash "$T/inside.sh" 2>/dev/null || rc=$?
	[ $rc = 0 ] || { cat "$T/err"; fail "setup re-run after fault $n: failed ($rc)"; }
done
exit 0
