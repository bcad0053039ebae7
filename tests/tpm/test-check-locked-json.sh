#!/bin/bash
# test-check-locked-json.sh: `tpm check-locked --json` on one provisioned
# TPM says what the text lines say (rebuilt from the JSON and compared), with
# the same exit status: in a production boot the four luks indices are
# readable (exit 3), after extend-pcr7 every read is refused (exit 0); an
# unreachable TPM prints nothing on stdout.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tpm-lib.sh"

prod_keyset
provision_prod # ends in a fresh production boot

as_text='
verdict = lambda i: "READABLE" if i["readable"] else "refused" if i["defined"] else "absent"
lines = ["0x%08x %-14s %-8s %s" % (int(i["index"], 16), i["role"], verdict(i), i["answers"])
         for i in j["indices"]]
if j["locked"]:
    lines.append("locked: the TPM refused every read")
else:
    lines.append("READABLE: %d of trust\x27s indices can be read in this boot" % j["readable_count"])
assert lines == text.splitlines(), lines
assert [(i["index"], i["role"], i["defined"]) for i in j["indices"]] == [
    ("0x01500001", "admin-password", True), ("0x01500021", "certificate", True),
    ("0x01500022", "private-key", True), ("0x01500030", "sbf-passphrase", True),
    ("0x01500040", "os-passphrase", True)], j
readable = [i["role"] for i in j["indices"] if i["readable"]]
assert j["readable_count"] == len(readable) and j["locked"] == (not readable), j
assert readable == args, readable
'

# production boot: the luks indices are readable until PCR7 is extended
expect_rc 3 trust tpm check-locked --pcr7data "$PD"
cp "$T/out" "$T/text"
expect_rc 3 trust tpm check-locked --pcr7data "$PD" --json
json_check "$as_text" certificate private-key sbf-passphrase os-passphrase

# locked
expect_rc 0 trust extend-pcr7
json_text tpm check-locked --pcr7data "$PD"
expect_rc 0 trust tpm check-locked --json --pcr7data "$PD"
json_check "$as_text"
[ ! -s "$T/err" ] || fail "check-locked --json wrote on stderr: $(cat "$T/err")"

stop_swtpm
expect_error 1 "tpm check-locked: TPM .*cannot open" trust tpm check-locked --pcr7data "$PD" --json
no_stdout "check-locked --json without a TPM"
expect_rc 2 trust tpm check-locked --json extra
no_stdout "check-locked --json with an extra argument"
exit 0
