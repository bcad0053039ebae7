# shellcheck shell=bash
# trust.bash: bash completion for trust. Commands, subcommands and options are
# read from the binary's own --help when TAB is pressed, so they follow the
# binary; names come from its list commands (keyset list, project list, vm list).
#
# Installed as $(PREFIX)/share/bash-completion/completions/trust. It needs
# bash 4.4 and nothing from the bash-completion package, runs trust only with
# --help and to list (keyset list, project list, vm list, keyset show --path),
# and never prints to the terminal.

# _trust_run ARGS...: the trust being completed, with ARGS, no stdin and its
# stderr dropped. Its stdout goes to _trust_out; fails when trust does.
_trust_run() {
	_trust_out=$(command "$_trust_bin" "$@" 2>/dev/null </dev/null)
}

# _trust_in WORD LIST...: is WORD one of LIST?
_trust_in() {
	local w=$1 x
	shift
	for x; do [[ $x == "$w" ]] && return 0; done
	return 1
}

# _trust_valid_name WORD: a keyset, project or VM name as name_validate()
# (trust/base/util.c) takes it, so list output that is not a name is never
# offered, and a typed word never reaches trust as an option.
_trust_valid_name() {
	local re='^[[:alnum:]_][[:alnum:]._-]*$'
	[[ $1 =~ $re ]]
}

# _trust_get_commands: the commands (into _trust_words) from the "Commands:"
# list of `trust --help`.
_trust_get_commands() {
	local line in=0 re='^  ([[:lower:]][[:lower:][:digit:]-]*)( |$)'
	_trust_words=()
	_trust_run --help || return 0
	while IFS= read -r line; do
		if [[ $line == Commands:* ]]; then
			in=1
		elif ((in)) && [[ $line =~ $re ]]; then
			_trust_words+=("${BASH_REMATCH[1]}")
		elif ((in)); then
			break
		fi
	done <<<"$_trust_out"
}

# _trust_get_subs CMD: CMD's subcommands (into _trust_subs, and its help into
# _trust_help) from `trust CMD --help`: the lower-case words after "trust CMD"
# on its usage lines and, when the usage is "trust CMD COMMAND", the words
# that start the two-space indented lines below it (`trust vm`).
_trust_get_subs() {
	local cmd=$1 line listed=0
	local re_usage='^(Usage:)?[[:space:]]*trust[[:space:]]+([^[:space:]]+)[[:space:]]+([[:alpha:]][[:alnum:]-]*)'
	local re_list='^  ([[:lower:]][[:lower:][:digit:]-]*)( |$)'
	_trust_subs=() _trust_help=""
	_trust_run "$cmd" --help || return 0
	_trust_help=$_trust_out
	while IFS= read -r line; do
		if [[ $line =~ $re_usage && ${BASH_REMATCH[2]} == "$cmd" ]]; then
			case ${BASH_REMATCH[3]} in
			COMMAND | SUBCOMMAND) listed=1 ;;
			[[:lower:]]*) _trust_in "${BASH_REMATCH[3]}" "${_trust_subs[@]}" ||
				_trust_subs+=("${BASH_REMATCH[3]}") ;;
			esac
		elif ((listed)) && [[ $line =~ $re_list ]]; then
			_trust_in "${BASH_REMATCH[1]}" "${_trust_subs[@]}" || _trust_subs+=("${BASH_REMATCH[1]}")
		fi
	done <<<"$_trust_help"
}

# _trust_scan OWNER TEXT: notes the options TEXT names as seen by OWNER (me,
# other or list) and the argument each is shown with: "--opt ARG" (one space;
# in an option list the description follows after two).
_trust_scan() {
	local owner=$1 s=$2 o rest arg
	local re_opt='(^|[^[:alnum:]-])(--?[[:alnum:]][[:alnum:]-]*)(.*)$'
	local re_arg='^ ([^][[:space:]|-][^][[:space:]]*)'
	while [[ $s =~ $re_opt ]]; do
		o=${BASH_REMATCH[2]} rest=${BASH_REMATCH[3]}
		s=$rest
		_trust_in "$o" "${_trust_seen[@]}" || _trust_seen+=("$o")
		_trust_owner[$o]="${_trust_owner[$o]-} $owner"
		if [[ $rest =~ $re_arg ]]; then
			arg=${BASH_REMATCH[1]}
			arg=${arg%...}
			[[ $owner == other && -n ${_trust_arg[$o]-} ]] || _trust_arg[$o]=$arg
		fi
	done
}

# _trust_get_options CMD [SUB]: the options of CMD SUB (into _trust_opts; the
# argument each takes into _trust_arg) from `trust CMD SUB --help`. Some
# subcommands print their family's help, so an option counts when a usage
# line of this (sub)command names it, or when the option list names it and
# no usage line of another one does (`volume check` has no --name, `vm start`
# no --project).
_trust_get_options() {
	local cmd=$1 sub=${2-} line owner="" first o
	local re_usage='^(Usage:)?[[:space:]]*trust[[:space:]]+([^[:space:]]+)(.*)$'
	local re_list='^  ([[:lower:]][[:lower:][:digit:]-]*)( |$)'
	local re_cont='^[[:space:]]+[-[]' re_optlist='^[[:space:]]{2,}(-[^[:space:]]*(, | [^[:space:]]+)?)+'
	_trust_opts=() _trust_seen=() _trust_arg=() _trust_owner=()
	if [[ -n $sub ]]; then
		_trust_run "$cmd" "$sub" --help || return 0
	else
		_trust_out=$_trust_help
	fi
	[[ -n $_trust_out ]] || return 0
	_trust_opts=(--help)
	while IFS= read -r line; do
		if [[ -z ${line//[[:space:]]/} ]]; then
			owner=""
			continue
		fi
		if [[ $line =~ $re_usage ]]; then
			first=${BASH_REMATCH[3]#"${BASH_REMATCH[3]%%[![:space:]]*}"}
			first=${first%%[[:space:]]*}
			owner=other
			if [[ ${BASH_REMATCH[2]} == "$cmd" ]]; then
				if [[ -n $sub ]]; then
					[[ $first == "$sub" ]] && owner=me
				elif ! _trust_in "$first" "${_trust_subs[@]}"; then
					owner=me
				fi
			fi
		elif [[ $line =~ $re_list ]] && _trust_in "${BASH_REMATCH[1]}" "${_trust_subs[@]}"; then
			owner=other
			[[ ${BASH_REMATCH[1]} == "$sub" ]] && owner=me
		elif [[ -n $owner && $line =~ $re_cont ]]; then
			: # a usage line continued
		else
			# Only the option list's left column: its descriptions
			# may mention other commands' options.
			owner=""
			[[ $line =~ $re_optlist ]] && _trust_scan list "${BASH_REMATCH[0]}"
			continue
		fi
		_trust_scan "$owner" "$line"
	done <<<"$_trust_out"
	for o in "${_trust_seen[@]}"; do
		case " ${_trust_owner[$o]} " in
		*" me "*) ;;
		*" other "*) continue ;;
		esac
		_trust_in "$o" "${_trust_opts[@]}" || _trust_opts+=("$o")
	done
}

# _trust_get_keysets: `trust keyset list`, one name a line.
_trust_get_keysets() {
	local line
	_trust_words=()
	_trust_run keyset list || return 0
	while IFS= read -r line; do
		_trust_valid_name "$line" && _trust_words+=("$line")
	done <<<"$_trust_out"
}

# _trust_get_projects KEYSET: `trust project list KEYSET`, one name a line.
_trust_get_projects() {
	local line
	_trust_words=()
	_trust_valid_name "$1" || return 0
	_trust_run project list "$1" || return 0
	while IFS= read -r line; do
		_trust_valid_name "$line" && _trust_words+=("$line")
	done <<<"$_trust_out"
}

# _trust_get_vms: the first column of `trust vm list` below its header line
# ("NAME STATE ..."); with no VM it prints nothing at all.
_trust_get_vms() {
	local name state
	_trust_words=()
	_trust_run vm list || return 0
	while read -r name state _; do
		[[ $name == NAME && $state == STATE ]] && continue
		_trust_valid_name "$name" && _trust_words+=("$name")
	done <<<"$_trust_out"
}

# _trust_get_entries KEYSET [KEY]: the key directories of a keyset (the first
# line of `trust keyset show KEYSET --path` is the keyset's directory, the
# others are in it; "manifest" stands for manifest:PROJECT), or the items of
# one of them (`trust keyset show KEYSET KEY --path`: a path a line).
_trust_get_entries() {
	local line dir="" name names=()
	_trust_words=()
	_trust_valid_name "$1" || return 0
	[[ $# == 1 ]] || [[ $2 =~ ^manifest:. ]] || _trust_valid_name "$2" || return 0
	_trust_run keyset show "$@" --path || return 0
	while IFS= read -r line; do
		[[ $line == /* ]] || continue
		if [[ $# == 2 ]]; then
			names+=("${line##*/}")
			continue
		elif [[ -z $dir ]]; then
			dir=$line
			continue
		fi
		name=${line#"$dir"/}
		[[ $name == "$line" || $name == */* || -z $name ]] && continue
		if [[ $name == manifest ]]; then
			_trust_get_projects "$1"
			names+=("${_trust_words[@]/#/manifest:}")
		else
			names+=("$name")
		fi
	done <<<"$_trust_out"
	_trust_words=("${names[@]}")
}

# _trust_add_words PREFIX WORD...: offers PREFIX+WORD for each WORD that
# completes the word at the cursor.
_trust_add_words() {
	local pre=$1 w
	shift
	for w; do
		[[ $pre$w == "$_trust_cur"* ]] && _trust_cand+=("$pre$w")
	done
}

# _trust_add_files PREFIX dirs|files: file (or directory) names after PREFIX
# ("", "--dbx=", "@"), as bash's own file completion finds them.
_trust_add_files() {
	local pre=$1 v=${_trust_cur#"$1"} f
	[[ $v == [\"\']* ]] && v=${v:1}
	compopt -o filenames 2>/dev/null
	while IFS= read -r f; do
		[[ -n $f ]] && _trust_cand+=("$pre$f")
	done < <(if [[ $2 == dirs ]]; then compgen -d -- "$v"; else compgen -f -- "$v"; fi)
}

# _trust_opt_value OPTION: the value given to OPTION ("--opt VALUE" or
# "--opt=VALUE") in the words before the cursor.
_trust_opt_value() {
	local i n=$((${#_trust_w[@]} - 1))
	for ((i = 2; i < n; i++)); do
		if [[ ${_trust_w[i]} == "$1" ]] && ((i + 1 < n)); then
			echo "${_trust_w[i + 1]}"
			return 0
		elif [[ ${_trust_w[i]} == "$1"=* ]]; then
			echo "${_trust_w[i]#*=}"
			return 0
		fi
	done
	return 1
}

# _trust_add_value CMD OPTION ARG PREFIX: the values of OPTION, which the help
# shows as "OPTION ARG": the lower-case words of ARG's a|b alternatives, file
# names for FILE, DIR and the like, keyset names, KEYSET:PROJECT pairs.
_trust_add_value() {
	local cmd=$1 opt=$2 arg=$3 pre=$4 alt ks k v
	case $opt in
	--keyset | --keysetname)
		[[ $cmd == initkeyset ]] && return 0 # names a new keyset
		_trust_get_keysets
		_trust_add_words "$pre" "${_trust_words[@]}"
		return 0
		;;
	--project)
		v=${_trust_cur#"$pre"}
		if [[ $cmd == image ]]; then # a project of the --keyset before it
			k=$(_trust_opt_value --keyset)
			_trust_valid_name "$k" || return 0
			_trust_get_projects "$k"
			_trust_add_words "$pre" "${_trust_words[@]}"
			return 0
		fi
		if [[ $v == *:* ]]; then
			ks=("${v%%:*}")
		else
			_trust_get_keysets
			ks=("${_trust_words[@]}")
		fi
		for k in "${ks[@]}"; do
			[[ $k == "${v%%:*}"* ]] || continue
			_trust_get_projects "$k"
			_trust_add_words "$pre$k:" "${_trust_words[@]}"
		done
		return 0
		;;
	--class) # computepcr7 shows CLASS, sign efi the classes
		[[ $arg == *\|* ]] || arg="production|tpm|limited"
		;;
	esac
	IFS='|' read -r -a alt <<<"$arg"
	for arg in "${alt[@]}"; do
		case $arg in
		[[:lower:]-]*) _trust_add_words "$pre" "$arg" ;;
		@*) [[ ${_trust_cur#"$pre"} == @* ]] && _trust_add_files "$pre@" files ;;
		DIR) _trust_add_files "$pre" dirs ;;
		FILE | F | KEY | CERT | OUT | IN | STUB | VMLINUZ | INITRD | ESL | VARS | OVMF_VARS | DEV | *.pem)
			_trust_add_files "$pre" files
			;;
		esac
	done
}

# _trust_add_positional CMD SUB N ARGS...: the Nth argument (from 1) after
# CMD [SUB] that is no option; ARGS are the ones before it. The help names
# them (NAME, KEYSET, IN) but not what they refer to, so they are listed here.
_trust_add_positional() {
	local cmd=$1 sub=$2 n=$3
	shift 3
	case "$cmd $sub:$n" in
	"keyset show:1" | "keyset path:1" | "keyset pcr7data:1" | "keyset rollout:1" | "project list:1" | \
		"project add:1" | "sudi add:1" | "sudi list:1" | "computepcr7 :1")
		_trust_get_keysets
		;;
	"keyset path:2" | "sudi add:2" | "sudi list:2")
		_trust_get_projects "$1"
		;;
	"keyset show:2")
		_trust_get_entries "$1"
		;;
	"keyset show:3")
		_trust_get_entries "$1" "$2"
		;;
	"vm start:1" | "vm stop:1" | "vm console:1" | "vm info:1" | "vm delete:1" | "vm attest:1")
		_trust_get_vms
		;;
	"image build:"*) # the images of images/README.md (IMAGE...)
		_trust_words=(os install provision)
		;;
	"sign efi:1" | "verify efi:1" | "efivars list:1" | "provision :1" | "provision :2" | \
		"keyset rollout:"[2-9] | "efivars apply:"* | "efivars sign-update:"* | "eventlog :1" | \
		"attest verify:1")
		_trust_add_files "" files
		return 0
		;;
	"pcr7data lookup:1")
		_trust_add_files "" dirs
		return 0
		;;
	*) return 0 ;;
	esac
	_trust_add_words "" "${_trust_words[@]}"
}

# _trust_split: the words up to the cursor, with what bash split off at
# COMP_WORDBREAKS (the ':' of KEYSET:PROJECT, '=' of --opt=value, '@' of
# @FILE) joined again, into _trust_w; the last one, up to the cursor, is
# _trust_cur.
_trust_split() {
	local line=${COMP_LINE:0:COMP_POINT} pos=0 i w sep
	_trust_w=()
	for ((i = 0; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]-}
		sep=0
		while ((pos < ${#line})) && [[ ${line:pos:1} == [[:space:]] ]]; do
			pos=$((pos + 1))
			sep=1
		done
		if ((i == COMP_CWORD)); then
			w=${line:pos}
		elif [[ ${line:pos:${#w}} == "$w" ]]; then
			pos=$((pos + ${#w}))
		else # not the line bash split: take its words as they are
			_trust_w=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
			_trust_cur=${COMP_WORDS[COMP_CWORD]-}
			return 0
		fi
		if ((i > 0 && sep == 0)); then
			_trust_w[${#_trust_w[@]} - 1]+=$w
		else
			_trust_w+=("$w")
		fi
	done
	_trust_cur=${_trust_w[${#_trust_w[@]} - 1]}
}

# _trust_complete: the completion itself (see _trust) into COMPREPLY.
_trust_complete() {
	local _trust_bin=${COMP_WORDS[0]-trust} _trust_out="" _trust_help="" _trust_cur=""
	local _trust_w=() _trust_cand=() _trust_words=() _trust_subs=() _trust_opts=() _trust_seen=()
	local -A _trust_arg=() _trust_owner=()
	local cmd sub="" start=2 cw cur i w opt="" args=() drop="" c
	COMPREPLY=()
	[[ $_trust_bin == \~/* ]] && _trust_bin=$HOME/${_trust_bin#\~/}
	_trust_split
	cw=$((${#_trust_w[@]} - 1)) cur=$_trust_cur
	((cw >= 1)) || return 0

	if ((cw == 1)); then
		if [[ $cur == -* ]]; then
			_trust_add_words "" --help --version
		else
			_trust_get_commands
			_trust_add_words "" "${_trust_words[@]}"
		fi
		start=0
	else
		cmd=${_trust_w[1]}
		[[ $cmd =~ ^[[:lower:]][[:lower:][:digit:]-]*$ ]] || return 0
		_trust_get_subs "$cmd"
		if ((${#_trust_subs[@]})); then
			if ((cw == 2)); then
				if [[ $cur == -* ]]; then
					_trust_add_words "" --help
				else
					_trust_add_words "" "${_trust_subs[@]}"
				fi
				start=0
			elif _trust_in "${_trust_w[2]}" "${_trust_subs[@]}"; then
				sub=${_trust_w[2]} start=3
			else
				start=0
			fi
		fi
	fi

	if ((start)); then
		# The options are read when a word needs them: one typed at the
		# cursor, or one before it (it may take an argument).
		for ((i = start; i <= cw; i++)); do
			if [[ ${_trust_w[i]} == -* ]]; then
				_trust_get_options "$cmd" "$sub"
				break
			fi
		done
		for ((i = start; i < cw; i++)); do
			w=${_trust_w[i]}
			if [[ -n $opt ]]; then
				opt=""
			elif [[ $w == -?* && $w != *=* && -n ${_trust_arg[$w]-} ]]; then
				opt=$w
			elif [[ $w != -* ]]; then
				args+=("$w")
			fi
		done
		if [[ -n $opt ]]; then
			_trust_add_value "$cmd" "$opt" "${_trust_arg[$opt]}" ""
		elif [[ $cur == --?*=* && -n ${_trust_arg[${cur%%=*}]-} ]]; then
			_trust_add_value "$cmd" "${cur%%=*}" "${_trust_arg[${cur%%=*}]}" "${cur%%=*}="
		elif [[ $cur == -* ]]; then
			_trust_add_words "" "${_trust_opts[@]}"
		else
			_trust_add_positional "$cmd" "$sub" $((${#args[@]} + 1)) "${args[@]}"
		fi
	fi

	# Bash replaces only its own word, $2, which may be the end of ours
	# (after ':' or '='): cut what comes before it off every candidate.
	# Without $2, what comes before the last COMP_WORDBREAKS character.
	if [[ $# -ge 2 && $cur == *"$2" ]]; then
		drop=${cur:0:${#cur}-${#2}}
	else
		for ((i = ${#cur} - 1; i >= 0; i--)); do
			c=${cur:i:1}
			if [[ $c != [[:space:]\"\'] && ${COMP_WORDBREAKS-} == *"$c"* ]]; then
				drop=${cur:0:i+1}
				break
			fi
		done
	fi
	for w in "${_trust_cand[@]}"; do
		COMPREPLY+=("${w:${#drop}}")
	done
}

# _trust CMD WORD PREV: what `complete -F` calls, with the user's shell
# settings that would change how words match (nocasematch, IFS) put aside.
_trust() {
	local IFS=$' \t\n' nocase=0
	if shopt -q nocasematch; then
		nocase=1
		shopt -u nocasematch
	fi
	_trust_complete "$@"
	((nocase == 0)) || shopt -s nocasematch
	return 0
}
complete -F _trust trust
