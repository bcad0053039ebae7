#!/bin/bash
# bench-setup.sh: `trust setup` against the older tool's tpm2-tools sequence
# (tests/bench/oldtool.sh), on the same swtpm, each run in a fresh "boot"
# (swtpm restarted, firmware PCR7 events replayed, not timed). Prints the
# median wall time of 20 runs and the TPM commands each sends, counted by
# swtpm itself in one extra run with its log on (one SWTPM_IO_Read per
# command; the log is off while timing), and the ratios.
# The two kinds of run alternate, so that both see the same load on the
# machine. Goals: with its sessions salted and AES-128-CFB encrypted, setup
# median <= 30 ms and <= 36 TPM commands (issue 11), >= 40x faster than the
# older tool (issue 17; 30x before the sessions, issue 5).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export TRUST=$BUILD/trust
RUNS=${RUNS:-20}
. "$TOP/tests/lib.sh"
for tool in swtpm tpm2_pcrextend unshare keyctl; do
	command -v $tool >/dev/null || { echo "bench-setup: $tool missing, skipped"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "bench-setup: needs root, skipped"; exit 0; }

LOG=$T/swtpm-bench.log
# The TPM on its UNIX socket: tpm2-tss's swtpm TCTI opens a new connection for
# every command, and a TCP handshake on loopback is harness cost that neither
# a TPM device nor the older tool on one would pay. Both tools use the same.
bench_swtpm() {
	stop_swtpm
	rm -f "$T/tpm.sock" "$T/tpm.sock.ctrl"
	swtpm socket --tpm2 --tpmstate dir="$T/state" \
		--server type=unixio,path="$T/tpm.sock" --ctrl type=unixio,path="$T/tpm.sock.ctrl" \
		--flags not-need-init,startup-clear ${LOGGING:+--log file="$LOG",level=20} >/dev/null 2>&1 &
	SWTPM_PID=$!
	track_pid "$SWTPM_PID"
	for _ in $(seq 50); do
		[ -S "$T/tpm.sock" ] && [ -S "$T/tpm.sock.ctrl" ] && break
		sleep 0.05
	done
	export TRUST_TPM2_TCTI="swtpm:path=$T/tpm.sock" TPM2TOOLS_TCTI="swtpm:path=$T/tpm.sock"
	while read -r _ hex; do tpm2_pcrextend "7:sha256=$hex"; done <"$T/events"
}
tpm_commands() { grep -c SWTPM_IO_Read "$LOG" || true; }

mkdir -p "$T/state" "$T/id"
"$TRUST" keyset add bench >/dev/null
"$TRUST" computepcr7 bench --events --class production >"$T/events"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/id/key.pem" -out "$T/id/cert.pem" \
	-subj /CN=bench -days 30 2>/dev/null
PD=$KEYS/bench/pcr7data
ENTRY=$(grep -l '"production"' "$PD"/policy-2/*/*/info.json | head -1 | xargs dirname)
bench_swtpm
"$TRUST" provision --pcr7data "$PD" "$T/id/cert.pem" "$T/id/key.pem"

# swtpm_cpu: nanoseconds of CPU swtpm has used so far (all its threads)
swtpm_cpu() { cat /proc/"$SWTPM_PID"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }

# one_run KIND: times one setup (inside its namespace, only the command
# itself) and prints "usec commands", for trust also the CPU it and swtpm
# used ("trust_usec swtpm_usec": wall time varies with the machine's load,
# CPU time much less)
one_run() {
	local before cpu
	bench_swtpm
	before=$(tpm_commands)
	rm -rf "$T/out" && mkdir -p "$T/out"
	if [ "$1" = trust ]; then
		cpu=$(swtpm_cpu)
		# shellcheck disable=SC2016 # expanded by the inner shell
		unshare -m --propagation private keyctl session - bash -c '
			TIMEFORMAT="%6U %6S"
			s=$EPOCHREALTIME
			{ time TRUST_TPM2_STATS=1 "$TRUST" setup --pcr7data "$1" --manifest-ca "$2" \
				--secure-dir "$3" --keyring session 2>"$4"; } 2>"$5" || exit 1
			e=$EPOCHREALTIME
			echo $((${e/./} - ${s/./}))' _ "$PD" "$KEYS/bench/manifest-ca/cert.pem" "$T/out/sec" \
			"$T/stats" "$T/cpu" 2>/dev/null >"$T/t"
		awk -v s=$(($(swtpm_cpu) - cpu)) '{ printf "%d %d\n", ($1 + $2) * 1e6, s / 1000 }' \
			"$T/cpu" >"$T/cpu.us"
	else
		s=$EPOCHREALTIME
		"$TOP/tests/bench/oldtool.sh" setup "$ENTRY" "$PD/policy-2/pubkeys/luks-bench.pem" "$T/out"
		e=$EPOCHREALTIME
		echo $((${e/./} - ${s/./})) >"$T/t"
		: >"$T/cpu.us"
	fi
	echo "$(cat "$T/t") $(($(tpm_commands) - before)) $(cat "$T/cpu.us")"
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
LOGGING=1
# (one_run runs in this shell, never in $(...): it restarts swtpm)
one_run trust >"$T/count"
c_new=$(cut -d' ' -f2 "$T/count")
resent=$(sed -n 's/.*(\([0-9]*\) of them resent.*/\1/p' "$T/stats")
one_run old >"$T/count"
c_old=$(cut -d' ' -f2 "$T/count")
LOGGING=
: >"$T/trust.runs"
: >"$T/old.runs"
for ((i = 0; i < RUNS; i++)); do
	one_run trust >>"$T/trust.runs"
	one_run old >>"$T/old.runs"
done
t_new=$(cut -d' ' -f1 "$T/trust.runs" | median)
cpu_trust=$(cut -d' ' -f3 "$T/trust.runs" | median)
cpu_swtpm=$(cut -d' ' -f4 "$T/trust.runs" | median)
t_old=$(cut -d' ' -f1 "$T/old.runs" | median)
awk -v tn="$t_new" -v to="$t_old" -v cn="$c_new" -v co="$c_old" -v r="$RUNS" -v rs="${resent:-0}" \
	-v ct="$cpu_trust" -v cs="$cpu_swtpm" 'BEGIN {
	printf "setup (trust, ESAPI in process, salted AES-128-CFB sessions): median %.2f ms over %d runs, %d TPM commands (%d of them swtpm'"'"'s TPM_RC_RETRY resends; goal: <= 30 ms, <= 36 commands)\n", tn / 1000, r, cn, rs
	printf "setup CPU time (trust): median %.2f ms in trust, %.2f ms in swtpm\n", ct / 1000, cs / 1000
	printf "setup (older tool, tpm2-tools): median %.2f ms over %d runs, %d TPM commands\n", to / 1000, r, co
	printf "setup speed-up: %.1fx faster, %.1fx fewer TPM commands (goal: >= 40x)\n", to / tn, co / cn
}'

# check-locked after a setup: how long proving the lock costs the initrd
bench_swtpm
unshare -m --propagation private keyctl session - "$TRUST" setup --pcr7data "$PD" \
	--manifest-ca "$KEYS/bench/manifest-ca/cert.pem" --secure-dir "$T/out/sec2" \
	--keyring session >/dev/null 2>&1
for ((i = 0; i < RUNS; i++)); do
	s=$EPOCHREALTIME
	TRUST_TPM2_STATS=1 "$TRUST" tpm check-locked --pcr7data "$PD" >/dev/null 2>"$T/stats" ||
		{ echo "bench-setup: check-locked did not find the TPM locked"; exit 1; }
	e=$EPOCHREALTIME
	echo $((${e/./} - ${s/./}))
done >"$T/check.runs"
c_check=$(sed -n 's/.*tpm2: \([0-9]*\) TPM commands.*/\1/p' "$T/stats")
awk -v t="$(median <"$T/check.runs")" -v c="$c_check" -v r="$RUNS" 'BEGIN {
	printf "check-locked after setup: median %.2f ms over %d runs, %d TPM commands (5 indices, each refused)\n", t / 1000, r, c
}'
