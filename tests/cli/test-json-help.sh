#!/bin/bash
# test-json-help.sh: every command that takes --json lists it in its --help
# with the schema, and trust/man/json-schemas.txt has the command's section,
# which explains every "key" the help names (in its explanations, not only in
# its schema lines).
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
schemas=$TOP/trust/man/json-schemas.txt
[ -r "$schemas" ] || fail "no $schemas"

# check 'SECTION[;SECTION...]' CMD...: the help of trust CMD against the
# sections headed "trust SECTION" (a section runs to the next "trust " line)
check() {
	local sections=$1
	shift
	expect_rc 0 trust "$@"
	python3 - "$schemas" "$sections" "$T/out" <<'EOF' || fail "'trust $*' and $schemas disagree"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
help = open(sys.argv[3]).read()
assert "--json" in help, "the help does not list --json"
keys = set(re.findall(r'"([a-z0-9_-]+)"', help))
assert keys, "the help shows no JSON schema"
text = ""
for head in sys.argv[2].split(";"):
    start = lines.index("trust " + head)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("trust ")), len(lines))
    # the explanations, not the schema lines ({..., [..., "...)
    text += "\n".join(l for l in lines[start + 1:end] if re.match(r"\s+[a-z]", l))
missing = sorted(k for k in keys if not re.search(r"(?<![\w-])" + re.escape(k) + r"(?![\w-])", text))
assert not missing, "not explained: %s" % missing
EOF
}
check 'computepcr7 KEYSET [--dbx FILE] [--update FILE.auth]... --json;computepcr7 KEYSET [--dbx FILE] --events [--class CLASS] --json' \
	computepcr7 --help
check 'pcr7data lookup DIR --pcr7 HEX|FILE [--policy-version NNNN] --json' pcr7data --help
check 'eventlog [FILE] [--keyset KEYSET] [--pcr7 HEX] --json' eventlog --help
check 'keyset list --json' keyset list --help
check 'attest verify --keyset KEYSET --nonce HEX BUNDLE --json' attest verify --help
check 'keyset show NAME --json;keyset show NAME KEY [ITEM] --json' keyset show --help
check 'project list KEYSET --json' project list --help
check 'sudi list KEYSET PROJECT --json' sudi list --help
check 'efivars list VARS --json' efivars list --help
check 'verify efi --cert CERT --json IN' verify efi --help
check 'tpm status --json' tpm status --help
check 'tpm check-locked [--pcr7data DIR] [--admin-password-file F] --json' tpm check-locked --help
check 'vm list --json;vm info NAME --json' vm list --help
echo ok
