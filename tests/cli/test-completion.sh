#!/bin/bash
# test-completion.sh: trust/completion/trust.bash driven the way bash drives
# it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT, then the function that
# `complete -p trust` names): commands, subcommands, every option each --help
# prints, option values, keyset, project and VM names, file names; nothing on
# stderr, nothing run but --help and list commands; and copies of the script
# that lose an option are caught.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
[ -z "${TRUST_SANITIZED:-}" ] || skip "the script does not change under the sanitizers (checked in the plain round)"

SCRIPT=$TOP/trust/completion/trust.bash
[ -f "$SCRIPT" ] || fail "no $SCRIPT"
mkdir -p "$T/bin" "$T/files/dir"
ln -s "$TRUST" "$T/bin/trust"
PATH=$T/bin:$PATH
: >"$T/files/dbx.esl"
: >"$T/files/dir/a.pem"

# shellcheck source=../../trust/completion/trust.bash
. "$SCRIPT"
spec=$(complete -p trust) || fail "the script registers no completion for trust"
FN=$(echo "$spec" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$FN" ] || fail "no function in '$spec'"

# comp LINE [WORD0]: completes LINE, the cursor at its end, into GOT (sorted,
# one space between). Words split as bash splits them: at blanks, and ':',
# '=' and '@' are words of their own; bash's own word ($2) starts after the
# last blank, ':' or '='. WORD0 replaces "trust" as the command word.
comp() {
	local line=$1 w="" ch i rc=0
	[ $# -lt 2 ] || line=$2${line#trust}
	COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		ch=${line:i:1}
		case $ch in
		[[:space:]]) [ -z "$w" ] || COMP_WORDS+=("$w"); w="" ;;
		[:=@]) [ -z "$w" ] || COMP_WORDS+=("$w"); COMP_WORDS+=("$ch"); w="" ;;
		*) w+=$ch ;;
		esac
	done
	if [ -n "$w" ]; then
		COMP_WORDS+=("$w")
	elif [[ $line == *[[:space:]] ]]; then
		COMP_WORDS+=("")
	fi
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line COMP_POINT=${#line}
	COMPREPLY=()
	"$FN" "${COMP_WORDS[0]}" "${line##*[[:space:]:=]}" "${COMP_WORDS[COMP_CWORD-1]}" \
		2>"$T/cerr" || rc=$?
	[ ! -s "$T/cerr" ] || fail "completing '$line' printed: $(cat "$T/cerr")"
	[ $rc = 0 ] || fail "completing '$line' returned $rc"
	sorted "${COMPREPLY[@]}"
	GOT=$SORTED
}
# sorted WORD...: the words in order, one space between, into SORTED (in
# bash: a completion is a few words, a sort process per TAB adds up).
sorted() {
	local a=("$@") i j t
	for ((i = 1; i < ${#a[@]}; i++)); do
		t=${a[i]}
		for ((j = i - 1; j >= 0; j--)); do
			[[ ${a[j]} > $t ]] || break
			a[j + 1]=${a[j]}
		done
		a[j + 1]=$t
	done
	SORTED="${a[*]}"
}
# expect LINE WORD...: LINE completes to exactly these words.
expect() {
	local line=$1 want
	shift
	comp "$line"
	sorted "$@"
	want=$SORTED
	[ "$GOT" = "$want" ] || fail "'$line<TAB>' offers '$GOT', expected '$want'"
}
# offers LINE WORD...: LINE offers at least these words.
offers() {
	local line=$1 x
	shift
	comp "$line"
	for x; do
		case " $GOT " in *" $x "*) ;; *) fail "'$line<TAB>' offers '$GOT', not '$x'" ;; esac
	done
}

# Commands: every one `trust --help` lists, from nothing and by prefix.
cmds=$(trust --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -l)" -ge 19 ] || fail "trust --help lists only: $cmds"
# shellcheck disable=SC2086 # one command a word
expect "trust " $cmds
expect "trust key" keyset
expect "trust tpm" tpm tpm-policy-gen
expect "trust --" --help --version

# Subcommands, as each family's --help shows them; each answers --help.
expect "trust keyset " add list show pcr7data rollout path import-key
expect "trust vm " launch start stop console list info attest delete
expect "trust vm l" launch list
expect "trust tpm " status admin-password check-locked load-key
expect "trust tpm load-key --" --handle --help --secure-dir
expect "trust volume " open check
expect "trust efivars " apply enroll list sign-update
expect "trust project " add list
expect "trust sudi " add list
expect "trust sign " efi
expect "trust verify " efi
expect "trust uki " build
expect "trust pcr7data " lookup
expect "trust attest " quote verify
expect "trust computepcr7 --j" --json
paths=()
declare -A FAMILY
for c in $cmds; do
	paths+=("$c")
	case $c in computepcr7 | eventlog | new-uuid | initkeyset | tpm-policy-gen | provision | preinit | setup | extend-pcr7)
		continue ;; # their words are arguments, not subcommands
	esac
	comp "trust $c "
	[ -n "$GOT" ] || fail "'trust $c <TAB>' offers no subcommand"
	FAMILY[$c]=1
	for s in $GOT; do
		expect_rc 0 trust "$c" "$s" --help
		paths+=("$c $s")
	done
done
[ ${#paths[@]} -ge 45 ] || fail "only ${#paths[@]} commands and subcommands: ${paths[*]}"

# check_options PATH...: prints a line for each option that the --help of a
# PATH ("keyset add") prints and the completion does not offer where it
# belongs, or that it offers for a PATH whose help does not print it; fails
# if there is one. The script reads the help itself; these checks read it
# their own (simpler) way, and a few are written out by hand.
declare -A OFFERED
offered() { # PATH: the options offered after "trust PATH --", cached
	if [ -z "${OFFERED[$1]-}" ]; then
		comp "trust $1 --"
		OFFERED[$1]=" $GOT "
	fi
	OPTS=${OFFERED[$1]}
}
help_opts() { grep -oE -- '(^|[^[:alnum:]-])--[[:alnum:]][[:alnum:]-]*' | sed 's/^[^-]*//' | sort -u; }
check_options() {
	local p c s bad=0 o q named own found has lacks printed
	OFFERED=()
	for p in "$@"; do
		c=${p%% *} s=${p#"$c"}
		s=${s# }
		# shellcheck disable=SC2086 # PATH is one or two words
		trust $p --help >"$T/help" 2>&1 || { echo "$p: --help failed"; bad=1; continue; }
		printed=" $(help_opts <"$T/help" | paste -sd' ') "
		# (a) nothing the help does not print (--help always works)
		offered "$p"
		for o in $OPTS; do
			case "$printed--help " in *" $o "*) ;; *)
				echo "$p: offers $o, which its --help does not print"; bad=1 ;;
			esac
		done
		# (b) every option it prints is offered for it or for a
		# (sub)command its usage names (some subcommands share a help)
		named=$(LC_ALL=C grep -oE '^(Usage:)? *trust [a-z][a-z0-9-]*' "$T/help" | sed 's/.*trust //' | paste -sd' ')
		for o in $printed; do
			found=0
			for q in "${paths[@]}"; do
				case " $c $named " in *" ${q%% *} "*) ;; *) continue ;; esac
				offered "$q"
				case $OPTS in *" $o "*) found=1 ;; esac
			done
			[ $found = 1 ] || { echo "$p: --help prints $o, completion never offers it"; bad=1; }
		done
		# (c) the options on its own usage lines are offered for it
		own=""
		if [ -n "$s" ]; then
			own=$(LC_ALL=C grep -E "^(Usage:)? *trust $c $s( |\$)|^  $s( |\$)" "$T/help" || true)
		elif [ -z "${FAMILY[$c]-}" ]; then
			own=$(LC_ALL=C grep -E "^(Usage:)? *trust $c( |\$)" "$T/help" || true)
		fi
		offered "$p"
		for o in $(echo "$own" | help_opts); do
			case $OPTS in *" $o "*) ;; *)
				echo "$p: its usage line shows $o, completion does not offer it"; bad=1 ;;
			esac
		done
	done
	# (d) by hand: a subcommand that shares its family's help gets its
	# own options, and the usage lines continued are read
	for has in "vm start: --console | --project --serial --images --timeout" \
		"volume check: --label --wait | --name" "keyset add: --generate --org | --keysetname" \
		"initkeyset: --keysetname --generate |" "keyset: --help | --org --path --pcr7-tpm" \
		"vm: --help | --project --json --timeout" "tpm: --help | --json --pcr7data --output" \
		"vm launch: --keep-on-failure --timeout --project |" "uki build: --cmdline --output |" \
		"tpm-policy-gen: --passwd-policy-file --authorize |"; do
		p=${has%%:*} lacks=${has#*|} has=${has#*: }
		has=${has%|*}
		offered "$p"
		for o in $has; do
			case $OPTS in *" $o "*) ;; *) echo "$p: does not offer $o"; bad=1 ;; esac
		done
		for o in $lacks; do
			case $OPTS in *" $o "*) echo "$p: offers $o, which is not its own"; bad=1 ;; esac
		done
	done
	return $bad
}
check_options "${paths[@]}" >"$T/problems" || { cat "$T/problems"; fail "options do not match the help"; }
[ ! -s "$T/problems" ] || fail "check_options printed: $(cat "$T/problems")"
note "options of ${#paths[@]} commands and subcommands match their --help"

# make install puts the script where bash-completion looks for it.
make -n -s -C "$TOP" install DESTDIR="$T/dest" PREFIX=/usr >"$T/install" ||
	fail "make -n install: $(cat "$T/install")"
grep -q "trust/completion/trust.bash .*$T/dest/usr/share/bash-completion/completions/trust" \
	<(tr -d '\\\n' <"$T/install") || fail "make install does not install the completion: $(cat "$T/install")"

# Option values: classes, literal alternatives, files and directories.
expect "trust computepcr7 k --class " production tpm limited
expect "trust sign efi --class t" tpm
expect "trust tpm admin-password --keyring " user session
expect "trust volume open --keyring s" session
expect "trust provision --disk a" any
expect "trust computepcr7 k --dbx $T/files/d" "$T/files/dbx.esl" "$T/files/dir"
expect "trust computepcr7 k --dbx=$T/files/d" "$T/files/dbx.esl" "$T/files/dir"
expect "trust efivars apply $T/files/d" "$T/files/dbx.esl" "$T/files/dir"
expect "trust eventlog $T/files/d" "$T/files/dbx.esl" "$T/files/dir"
expect "trust keyset rollout k $T/files/d" "$T/files/dbx.esl" "$T/files/dir"
expect "trust uki build --cmdline @$T/files/d" "@$T/files/dbx.esl" "@$T/files/dir"
expect "trust uki build --cmdline x" # TEXT: nothing to offer
expect "trust pcr7data lookup $T/files/" "$T/files/dir"
expect "trust tpm check-locked --pcr7data $T/files/" "$T/files/dir"
expect "trust verify efi --cert $T/files/dir/" "$T/files/dir/a.pem"
expect "trust verify efi --cert $T/files/dir/a.pem $T/files/db" "$T/files/dbx.esl"
expect "trust vm stop x --timeout " # SEC: nothing to offer

# Names, while there are none: nothing offered, nothing printed.
expect "trust keyset show "
expect "trust vm info "
expect "trust vm launch x --project "
expect "trust sign efi --keyset "

# Two keysets (alpha generated, snakeoil installed) and a project.
expect_rc 0 trust keyset add alpha
expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust project add alpha web
expect "trust keyset show " alpha snakeoil
expect "trust keyset show a" alpha
expect "trust keyset pcr7data s" snakeoil
expect "trust keyset rollout " alpha snakeoil
expect "trust eventlog --keyset " alpha snakeoil
expect "trust attest verify --keyset " alpha snakeoil
expect "trust efivars sign-update --keyset " alpha snakeoil
expect "trust computepcr7 " alpha snakeoil
expect "trust computepcr7 --json " alpha snakeoil
expect "trust computepcr7 --dbx $T/files/dbx.esl " alpha snakeoil
expect "trust sign efi --keyset " alpha snakeoil
expect "trust efivars enroll --keyset=s" snakeoil # bash keeps "--keyset="
expect "trust new-uuid --keysetname a" alpha
expect "trust initkeyset --keysetname " # a new keyset: no names
expect "trust keyset add " # ditto
expect "trust project list " alpha snakeoil
expect "trust sudi list alpha " default web
expect "trust sudi add snakeoil " default
expect "trust keyset path alpha w" web
expect "trust project list nosuch"
expect "trust sudi list nosuch " # project list fails: nothing, silently
offers "trust keyset show alpha " manifest:default manifest:web uefi-pk uki-production
expect "trust keyset show alpha uefi-pk " cert.pem guid privkey.pem
# KEYSET:PROJECT: bash replaces only the part after ':'
expect "trust vm launch x --project " alpha:default alpha:web snakeoil:default
expect "trust vm launch x --project s" snakeoil:default
expect "trust vm launch x --project alpha:" default web
expect "trust vm launch x --project alpha:w" web
expect "trust vm launch x --project nosuch:"
# image build: a plain project of the keyset named before it; the images
expect "trust image build --keyset alpha --project " default web
expect "trust image build --keyset=alpha --project w" web
expect "trust image build --project " # no keyset yet: nothing
expect "trust image build --keyset " alpha snakeoil
expect "trust image " build
expect "trust image build --keyset alpha " install os provision
expect "trust image build --keyset alpha os p" provision

# VMs: state directories as `trust vm launch` leaves them (test-vm.sh).
VMS=$XDG_STATE_HOME/machine/trust/vms
for n in vm1 vm2; do
	mkdir -p "$VMS/$n"
	printf 'name=%s\nkeyset=alpha\nproject=web\nserial=s-1\nimages=/i\ncreated=2024-01-01T00:00:00Z\naccel=tcg\n' \
		"$n" >"$VMS/$n/vm.conf"
done
expect_rc 0 trust vm list
grep -q '^vm2 ' "$T/out" || fail "vm list does not list vm2: $(cat "$T/out")"
expect "trust vm info " vm1 vm2
expect "trust vm start v" vm1 vm2
expect "trust vm attest " vm1 vm2
expect "trust vm delete vm2" vm2
expect "trust vm info vm1 --" --help --json
expect "trust vm stop --timeout 5 " vm1 vm2
expect "trust vm launch " # a new VM: no names
# the user's IFS and nocasematch change nothing (trust's words have a case)
IFS=: expect "trust vm info " vm1 vm2
shopt -s nocasematch
expect "trust KEY"
expect "trust vm INFO "
shopt -u nocasematch
# a list command that fails: nothing offered, nothing printed
mkdir -p "$VMS/broken"
echo garbage >"$VMS/broken/vm.conf"
expect_rc 1 trust vm list
expect "trust vm info "
rm -rf "$VMS/broken"
HOME=relative XDG_DATA_HOME=relative expect_rc 1 trust keyset list
HOME=relative XDG_DATA_HOME=relative expect "trust keyset show "
HOME=relative XDG_DATA_HOME=relative expect "trust vm launch x --project "
# no trust to run at all
for l in "trust " "trust keyset show " "trust keyset add --" "trust vm launch x --project "; do
	comp "$l" "$T/nosuch/trust"
	[ -z "$GOT" ] || fail "with no trust binary, '$l' offers '$GOT'"
done

# The completion runs trust only with --help and the list commands.
cat >"$T/logtrust" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T/calls"
exec "$TRUST" "\$@"
EOF
chmod +x "$T/logtrust"
for l in "trust " "trust vm info " "trust vm launch x --project " "trust keyset show alpha " \
	"trust keyset show alpha uefi-pk " "trust sudi add alpha " "trust provision --" \
	"trust vm stop v" "trust sign efi --keyset "; do
	comp "$l" "$T/logtrust"
	[ -n "$GOT" ] || fail "through a wrapper, '$l' offers nothing"
done
bad=$(grep -Ev -- '(^| )--help$|^keyset list$|^project list [a-z]+$|^vm list$|^keyset show [a-z]+( uefi-pk)? --path$' \
	"$T/calls" || true)
[ -z "$bad" ] || fail "completion ran: $bad"

# Copies of the script that lose options are caught: one without --generate,
# one that reads no continued usage line, one that gives a subcommand its
# family's options.
check_copy() ( # FILE: check_options with FILE sourced in place of the script
	# shellcheck source=/dev/null # a copy of the script
	. "$1"
	check_options "keyset add" "vm launch" "vm start"
)
mutant() { # NAME SED-SCRIPT: a copy edited by SED-SCRIPT fails check_copy
	sed "$2" "$SCRIPT" >"$T/mutant.bash"
	cmp -s "$SCRIPT" "$T/mutant.bash" && fail "mutant $1: the edit changed nothing"
	check_copy "$T/mutant.bash" >"$T/problems" && fail "mutant $1 passed the option checks"
	note "mutant $1 caught: $(head -n1 "$T/problems")"
}
# shellcheck disable=SC2016 # sed scripts, not shell expansions
{
	mutant "without --generate" '/_trust_in "\$o" "\${_trust_opts\[@\]}" ||/i [[ $o == --generate ]] \&\& continue'
	mutant "without continued usage lines" 's/: # a usage line continued/owner=""; continue/'
	mutant "family options everywhere" 's/\*" other "\*) continue ;;/*" other "*) ;;/'
}
echo ok
