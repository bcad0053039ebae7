# shellcheck shell=bash
# test-vm.sh: `trust vm` argument checking, errors and the empty state,
# without booting anything (the VM suites in tests/vm boot real QEMU).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

VMS=$XDG_STATE_HOME/machine/trust/vms
expect_rc 0 trust vm --help
grep -q "launch NAME --project KEYSET:PROJECT" "$T/out" || fail "vm --help lacks launch"
expect_rc 2 trust vm
expect_error 2 "'frob' is not a vm command" trust vm frob
expect_error 2 "expected one NAME" trust vm launch --project a:b
expect_error 2 "--project KEYSET:PROJECT is required" trust vm launch x
expect_error 2 "--project 'ab': expected KEYSET:PROJECT" trust vm launch x --project ab
expect_error 2 "--project 'a:b:c': expected KEYSET:PROJECT" trust vm launch x --project a:b:c
expect_error 2 "--timeout 'x'" trust vm launch x --project a:b --timeout x
expect_error 2 "expected a NAME" trust vm start
expect_error 2 "unknown option '--bogus'" trust vm start x --bogus
expect_error 2 "expected one NAME" trust vm delete a b
expect_error 2 "unexpected argument 'x'" trust vm list x
# options are whole arguments, spelled in full, taken in order
expect_error 2 "unknown option '--con'" trust vm start x --con
expect_error 2 "unknown option '--timeout=5'" trust vm stop x --timeout=5
expect_error 2 "unknown option '--'" trust vm info -- x
expect_error 2 "unknown option '-'" trust vm delete -
expect_error 2 "unknown option '-hh'" trust vm info -hh
expect_error 2 "unexpected argument '--js'" trust vm list --js
expect_error 2 "--timeout needs SEC" trust vm stop x --timeout
expect_error 2 "--timeout '--help': expected seconds" trust vm stop x --timeout --help
expect_error 2 "expected one NAME" trust vm info a b --help
expect_error 2 "unknown option '--bogus'" trust vm console --bogus --help
expect_rc 0 trust vm console --help --bogus
grep -q "^Usage: trust vm COMMAND" "$T/out" || fail "vm console --help: $(cat "$T/out")"

# empty state
expect_rc 0 trust vm list
[ ! -s "$T/out" ] || fail "vm list printed something with no VMs: $(cat "$T/out")"
expect_rc 0 trust vm list --json
[ "$(cat "$T/out")" = "[]" ] || fail "vm list --json: $(cat "$T/out")"
for c in start stop console info delete; do
	expect_error 1 "vm 'nope' does not exist" trust vm $c nope
done

# bad names, unknown keyset, missing images: one line, nothing created
expect_error 1 "vm name '../x' must not contain '/'|vm name .* must not start with '.'" \
	trust vm launch ../x --project a:b
expect_error 1 "keyset 'nokeys' does not exist" trust vm launch x --project nokeys:default
expect_rc 0 trust keyset add snakeoil
# (from an empty directory: the default build/images/KEYSET is relative to
# the working directory, and a checkout may hold built images)
mkdir -p "$T/cwd"
(cd "$T/cwd" && expect_error 1 "images directory build/images/snakeoil: No such file or directory \(build it" \
	trust vm launch x --project snakeoil:default)
mkdir -p "$T/img"
expect_error 1 "provisioning image $T/img/provision/uki-production.efi: No such file or directory" \
	trust vm launch x --project snakeoil:default --images "$T/img" --in-guest
mkdir -p "$T/img/provision" "$T/img/install"
: >"$T/img/provision/uki-production.efi"
: >"$T/img/install/uki-production.efi"
expect_error 1 "enrolled OVMF vars $T/img/vars.fd: No such file or directory" \
	trust vm launch x --project snakeoil:default --images "$T/img" --in-guest
# the host-side launch (the default) needs no boot images, but the payload
rm -r "$T/img/provision" "$T/img/install"
expect_error 1 "enrolled OVMF vars $T/img/vars.fd: No such file or directory" \
	trust vm launch x --project snakeoil:default --images "$T/img"
: >"$T/img/vars.fd"
expect_error 1 "the host-side launch installs the images' OS payload: OS payload disk $T/img/os/payload.img: No such file or directory" \
	trust vm launch x --project snakeoil:default --images "$T/img"
[ -z "$(ls -A "$VMS" 2>/dev/null)" ] || fail "a failed launch left $(ls -A "$VMS")"

# a stale temporary directory of a dead launch is cleared
mkdir -p "$VMS/.tmp-x-999999-abcdef"
expect_rc 0 trust vm list
[ ! -e "$VMS/.tmp-x-999999-abcdef" ] || fail "stale temporary directory kept"

# a state directory made by hand with a broken vm.conf is reported, not trusted
mkdir -p "$VMS/broken"
echo "garbage" >"$VMS/broken/vm.conf"
expect_error 1 "vm.conf: line without '='" trust vm info broken
# every key is required: a missing one is named, never shown as "(null)"
conf='name=broken\nkeyset=k\nproject=p\nserial=s-1\nimages=/i\ncreated=2024-01-01T00:00:00Z\naccel=tcg\n'
for key in keyset project serial images created accel; do
	# shellcheck disable=SC2059 # $conf is the format: it holds the \n
	printf "$conf" | grep -v "^$key=" >"$VMS/broken/vm.conf"
	for c in "info broken" "info broken --json" "list" "list --json" "start broken"; do
		# shellcheck disable=SC2086 # c is a command line
		expect_error 1 "^trust: vm 'broken': .*/broken/vm.conf: '$key' is missing$" trust vm $c
		no_stdout "vm $c with a broken vm.conf"
	done
done
printf 'name=broken\nkeyset=k\nproject=p\nserial=\nimages=/i\ncreated=\naccel=\n' >"$VMS/broken/vm.conf"
expect_error 1 "vm.conf: serial name is empty" trust vm info broken
# shellcheck disable=SC2059
printf "$conf" >"$VMS/broken/vm.conf"
expect_rc 0 trust vm info broken
! grep -q "(null)" "$T/out" || fail "vm info printed (null): $(cat "$T/out")"
echo 1 >"$VMS/broken/qemu.pid" # pid 1 is never a VM's QEMU
expect_rc 0 trust vm info broken --json
grep -q '"state":"stopped"' "$T/out" || fail "pid 1 taken for a running VM: $(cat "$T/out")"
expect_rc 0 trust vm delete broken
[ ! -e "$VMS/broken" ] || fail "delete kept the directory"
echo ok
