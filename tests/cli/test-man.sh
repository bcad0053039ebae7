#!/bin/bash
# test-man.sh: the man pages (trust/man/) render without a groff warning;
# the SYNOPSIS of exactly one family page names each command and its
# subcommands, and that page has every option their --help prints; trust(1)
# names every command and points to every page. Commands, subcommands and
# options are read from --help, so one added without documentation fails
# here. Broken copies of the pages and a trust that prints more in --help
# show that each check can fail.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
command -v groff >/dev/null || skip "groff is not installed (make deps)"
[ -z "${TRUST_SANITIZED:-}" ] || skip "the pages do not change under the sanitizers (checked in the plain round)"
MAN=$TOP/trust/man
# Only --help is asked for; should a command ever ignore it, it reaches no
# real TPM and probes no KVM.
export TRUST_TPM2_TCTI=swtpm:host=127.0.0.1,port=1 TRUST_VM_ACCEL=tcg

OPT='--[A-Za-z0-9][A-Za-z0-9-]*'

# collect_help TRUST OUT: OUT/commands lists the commands of `TRUST --help`;
# OUT/CMD.subs the subcommands of each, from `TRUST CMD --help`: usage lines
# "trust CMD SUB ...", and where the usage has a COMMAND or SUBCOMMAND
# placeholder also the indented list "  SUB ..."; OUT/CMD.opts every option
# that `TRUST CMD --help` and `TRUST CMD SUB --help` print; OUT/top.opts those
# of `TRUST --help`.
collect_help() {
	local bin=$1 out=$2 cmd sub
	rm -rf "$out"
	mkdir -p "$out"
	: >"$out/subs.tsv"
	: >"$out/opts.tsv"
	"$bin" --help >"$out/top.help" 2>&1 || { echo "'trust --help' failed"; return 1; }
	grep -oE -- "$OPT" "$out/top.help" | sort -u >"$out/top.opts"
	awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' "$out/top.help" >"$out/commands"
	[ -s "$out/commands" ] || { echo "no commands in 'trust --help'"; return 1; }
	while read -r cmd; do
		"$bin" "$cmd" --help >"$out/$cmd.help" 2>&1 ||
			{ echo "'trust $cmd --help' failed"; return 1; }
		{
			grep -oE "trust $cmd [a-z][a-z0-9-]*( |\$)" "$out/$cmd.help" | awk '{ print $3 }'
			if grep -qE "trust $cmd (SUB)?COMMAND" "$out/$cmd.help"; then
				grep -oE '^  [a-z][a-z0-9-]*( |$)' "$out/$cmd.help" | awk '{ print $1 }'
			fi
		} | sort -u >"$out/$cmd.subs"
		cp "$out/$cmd.help" "$out/$cmd.all"
		while read -r sub; do
			"$bin" "$cmd" "$sub" --help >>"$out/$cmd.all" 2>&1 ||
				{ echo "'trust $cmd $sub --help' failed"; return 1; }
		done <"$out/$cmd.subs"
		grep -oE -- "$OPT" "$out/$cmd.all" | sort -u >"$out/$cmd.opts"
		sed "s/^/$cmd\t/" "$out/$cmd.subs" >>"$out/subs.tsv"
		sed "s/^/$cmd\t/" "$out/$cmd.opts" >>"$out/opts.tsv"
	done <"$out/commands"
}

# page_facts PAGE: the facts the checks need about PAGE, once per distinct
# contents (groff is slow, and the broken copies change one page each):
# F.warn, groff's warnings for the PostScript and terminal devices; F.txt,
# the page as plain text, not hyphenated, so that no option is split at the
# end of a line; F.opts, the options it names; F.syn, "CMD" and "CMD SUB" for
# each "trust CMD [SUB]" in its SYNOPSIS; F.words, the words of its COMMANDS
# section. Sets FACTS to F.
page_facts() {
	local f dev sum
	read -r sum _ < <(md5sum "$1")
	f=$T/facts/$sum
	FACTS=$f
	if [ ! -e "$f.txt" ]; then
		mkdir -p "$T/facts"
		for dev in ps utf8; do
			groff -man -ww -z -t -T"$dev" "$1" 2>&1 >/dev/null | sed "s/^/-T$dev: /"
		done >"$f.warn"
		groff -man -t -Tascii -rHY=0 -P-c -P-b -P-o -P-u "$1" >"$f.tmp" 2>/dev/null || true
		grep -oE -- "$OPT" "$f.tmp" | sort -u >"$f.opts"
		section "$f.tmp" SYNOPSIS | grep -oE '(^|[^a-z0-9-])trust [a-z][a-z0-9-]*( [a-z][a-z0-9-]*)?' |
			sed 's/^.*trust //' | awk '{ print $1; print }' | sort -u >"$f.syn"
		section "$f.tmp" COMMANDS | grep -oE '[a-z][a-z0-9-]*' | sort -u >"$f.words"
		mv "$f.tmp" "$f.txt"
	fi
}

# section FILE HEADING: the lines of a rendered page under HEADING.
section() { awk -v h="$2" '$0 == h { f = 1; next } f && /^[A-Z]/ { exit } f' "$1"; }

# check_pages DIR HELP: prints each thing wrong with the pages in DIR against
# the --help texts collected in HELP, and fails if there is one.
check_pages() {
	local dir=$1 help=$2 bad=0 p f name top
	: >"$T/syn"
	: >"$T/opts"
	[ -f "$dir/trust.1" ] || { echo "$dir: no trust.1"; return 1; }
	page_facts "$dir/trust.1"
	top=$FACTS
	for p in "$dir"/*.[1-8]; do
		name=${p##*/}
		page_facts "$p"
		f=$FACTS
		if [ -s "$f.warn" ]; then
			sed "s/^/$name: groff /" "$f.warn"
			bad=1
		fi
		[ -s "$f.txt" ] || { echo "$name: renders as nothing"; bad=1; }
		[ "$name" != trust.1 ] || continue
		grep -qF "${name%.*}(${name##*.})" "$top.txt" ||
			{ echo "trust.1: does not point to ${name%.*}(${name##*.})"; bad=1; }
		sed "s/^/$name\t/" "$f.syn" >>"$T/syn"
		sed "s/^/$name\t/" "$f.opts" >>"$T/opts"
	done
	# trust(1): every command in COMMANDS, every option of `trust --help`;
	# each command: in one page's SYNOPSIS with its subcommands, its options
	# in that page.
	awk -F '\t' -v q="'" -v words="$top.words" -v topopts="$top.opts" -v syn="$T/syn" \
		-v opts="$T/opts" -v want_topopts="$help/top.opts" -v commands="$help/commands" \
		-v subs="$help/subs.tsv" -v want_opts="$help/opts.tsv" '
		function bad(m) { print m; failed = 1 }
		FILENAME == words { word[$0] = 1 }
		FILENAME == topopts { topopt[$0] = 1 }
		FILENAME == syn { named[$1, $2] = 1; if ($2 !~ / /) pages[$2] = pages[$2] " " $1 }
		FILENAME == opts { has[$1, $2] = 1 }
		FILENAME == want_topopts && !($0 in topopt) {
			bad("trust.1: no " q $0 q " (printed by " q "trust --help" q ")")
		}
		FILENAME == commands {
			if (!($0 in word))
				bad("trust.1: COMMANDS does not name " q $0 q)
			n = split(pages[$0], found, " ")
			if (n == 1)
				page[$0] = found[1]
			else
				bad(q "trust " $0 q ": " n " pages name it in their SYNOPSIS, expected 1")
		}
		FILENAME == subs && ($1 in page) && !((page[$1], $1 " " $2) in named) {
			bad(page[$1] ": SYNOPSIS does not name " q "trust " $1 " " $2 q)
		}
		FILENAME == want_opts && ($1 in page) && !((page[$1], $2) in has) {
			bad(page[$1] ": no " q $2 q " (printed by " q "trust " $1 " ... --help" q ")")
		}
		END { exit failed }
	' "$top.words" "$top.opts" "$T/syn" "$T/opts" "$help/top.opts" "$help/commands" \
		"$help/subs.tsv" "$help/opts.tsv" || bad=1
	return $bad
}

collect_help "$TRUST" "$T/help" >"$T/out" 2>&1 || fail "$(cat "$T/out")"
for f in commands vm.subs tpm.subs keyset.subs vm.opts; do
	[ -s "$T/help/$f" ] || fail "nothing read from --help into $f"
done
note "$(wc -l <"$T/help/commands") commands, $(cat "$T/help"/*.subs | wc -l) subcommands," \
	"$(cat "$T/help"/*.opts | wc -l) options from --help"
check_pages "$MAN" "$T/help" >"$T/out" 2>&1 || { cat "$T/out"; fail "the man pages are incomplete"; }

# The checks can fail. broken_copy PAGE SED-SCRIPT: a copy of the pages with
# one edited; expect_refused WHAT HELP LINE...: the checker refuses the copy
# with each LINE in its report.
broken_copy() {
	rm -rf "$T/man"
	cp -R "$MAN" "$T/man"
	[ -z "${1:-}" ] || sed -i "$2" "$T/man/$1"
	[ -z "${1:-}" ] || ! cmp -s "$MAN/$1" "$T/man/$1" || fail "broken_copy: '$2' left $1 as it was"
}
expect_refused() {
	local what=$1 help=$2 line
	shift 2
	if check_pages "$T/man" "$help" >"$T/out" 2>&1; then
		fail "the checker accepted $what"
	fi
	for line; do
		grep -qF -- "$line" "$T/out" || { cat "$T/out"; fail "$what: expected '$line'"; }
	done
}
broken_copy trust-vm.1 's/\\-\\-keep\\-on\\-failure/\\-\\-keep/g'
expect_refused "an option taken out" "$T/help" \
	"trust-vm.1: no '--keep-on-failure' (printed by 'trust vm ... --help')"
# shellcheck disable=SC2016 # a sed address, not a shell expansion
broken_copy trust-pcr7.1 '$a .XY'
expect_refused "a roff error" "$T/help" "trust-pcr7.1: groff -Tps:" "macro 'XY' not defined"
broken_copy trust.1 '/^\.SH COMMANDS/,/^\.SH OPTIONS/{/^\.B new\\-uuid$/d}'
expect_refused "a command left out of trust.1" "$T/help" "trust.1: COMMANDS does not name 'new-uuid'"
broken_copy trust-efi.1 '/^\\fBtrust uki build/d'
expect_refused "a command left out of its page" "$T/help" \
	"'trust uki': 0 pages name it in their SYNOPSIS, expected 1"
broken_copy
sed 's/^\.TH TRUST\\-VM 1/.TH TRUST\\-VM2 1/' "$MAN/trust-vm.1" >"$T/man/trust-vm2.1"
expect_refused "a page trust.1 does not point to" "$T/help" "trust.1: does not point to trust-vm2(1)" \
	"'trust vm': 2 pages name it in their SYNOPSIS, expected 1"

# A trust whose --help shows a new command, subcommand and options.
cat >"$T/trust-more" <<EOF
#!/bin/bash
case "\$*" in
--help) "$TRUST" --help | sed 's/^Commands:\$/&\n  frob             a command no page describes/' ;;
"frob --help") echo "Usage: trust frob [--frob-level N]" ;;
"vm --help") "$TRUST" vm --help && echo "  wobble NAME [--wobble-hard]  a subcommand no page describes" ;;
"vm wobble --help") echo "Usage: trust vm wobble NAME [--wobble-hard]" ;;
"computepcr7 --help") "$TRUST" computepcr7 --help && echo "  --frobnicate    an option no page describes" ;;
*) exec "$TRUST" "\$@" ;;
esac
EOF
chmod +x "$T/trust-more"
collect_help "$T/trust-more" "$T/help-more" >"$T/out" 2>&1 || fail "$(cat "$T/out")"
broken_copy
expect_refused "a trust with more in --help" "$T/help-more" \
	"trust.1: COMMANDS does not name 'frob'" \
	"'trust frob': 0 pages name it in their SYNOPSIS, expected 1" \
	"trust-vm.1: SYNOPSIS does not name 'trust vm wobble'" \
	"trust-vm.1: no '--wobble-hard'" \
	"trust-pcr7.1: no '--frobnicate'"
exit 0
