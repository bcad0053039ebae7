#!/bin/bash
# test-json-keyset.sh: `keyset list`, `keyset show`, `project list` and `sudi
# list` with --json print one JSON line that holds what the text output shows
# (rebuilt from the JSON and compared) and what the files hold; names and
# paths with '"' and '\' survive, a binary item comes as hex, a private key is
# withheld unless asked for by name, and a failing command prints nothing on
# stdout.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# every path below holds a quote and a backslash
export XDG_DATA_HOME=$T/'da"ta\dir'
KEYS=$XDG_DATA_HOME/machine/trust/keys
mkdir -p "$XDG_DATA_HOME"

# --- keyset list
expect_rc 0 trust keyset list --json
json_check 'assert j == [], j'
expect_rc 0 trust keyset add snakeoil
expect_rc 0 trust keyset add beta
mkdir "$KEYS/we\"ird\\name" # by hand: listed, though no command takes the name
json_text keyset list
expect_rc 0 trust keyset list --json
json_check 'assert [k["name"] for k in j] == text.splitlines() == ["beta", "snakeoil", args[0]]' \
	'we"ird\name'
rmdir "$KEYS/we\"ird\\name"
expect_rc 2 trust keyset list --json extra
no_stdout "keyset list --json extra"

# --- keyset show NAME: the overview, rebuilt as text
ks=$KEYS/snakeoil
overview='
assert j["keyset"] == args[0] and j["path"] == args[1]
lines = ["keyset %s (%s)" % (j["keyset"], j["path"])]
for d in j["dirs"]:
    assert d["path"] == j["path"] + "/" + d["name"]
    if not d["present"]:
        assert d["subdirs"] == d["files"] == []
        lines.append(d["name"] + "/ (missing)")
        continue
    lines.append(d["name"] + "/")
    lines += ["  " + s + "/" for s in d["subdirs"]] + ["  " + f for f in d["files"]]
assert lines == text.splitlines(), lines
'
json_text keyset show snakeoil
expect_rc 0 trust keyset show snakeoil --json
json_check "$overview"'
d = {d["name"]: d for d in j["dirs"]}
assert len(j["dirs"]) == 12 and all(x["present"] for x in j["dirs"])
assert d["manifest"]["subdirs"] == ["default"] and d["manifest"]["files"] == []
assert d["uefi-pk"]["files"] == ["cert.pem", "guid", "privkey.pem"]
assert d["pcr7data"]["subdirs"] == ["policy-2"]' snakeoil "$ks"
rm -rf "$KEYS/beta/uki-limited"
json_text keyset show beta
expect_rc 0 trust keyset show beta --json
json_check "$overview"'
assert [x["name"] for x in j["dirs"] if not x["present"]] == ["uki-limited"]' beta "$KEYS/beta"

# --- keyset show NAME KEY [ITEM]: items, rebuilt as text and read back as bytes
printf '\000\001\377ab' >"$ks/uefi-pk/blob.bin"
printf 'a\t"b"\\c \303\274\r\n' >"$ks/uefi-pk/we\"ird\\item"
items='
assert (j["keyset"], j["key"], j["path"]) == tuple(args[:3])
out = ""
for i in j["items"]:
    assert i["path"] == j["path"] + "/" + i["name"]
    if i["withheld"]:
        assert i["value"] is None and i["value_hex"] is None
        out += "%s\n(private key: \x27trust keyset show %s %s %s\x27)\n" % (
            i["path"], j["keyset"], j["key"], i["name"])
        continue
    data = open(i["path"], "rb").read()
    if i["value"] is not None:
        assert i["value_hex"] is None and i["value"].encode() == data
    else:
        assert i["value_hex"] == data.hex()
    out += i["path"] + "\n" + data.decode("latin-1") + ("" if data.endswith(b"\n") else "\n")
'
json_text keyset show snakeoil uefi-pk
expect_rc 0 trust keyset show snakeoil uefi-pk --json
json_check "$items"'
assert out.encode("latin-1") == open(sys.argv[2], "rb").read(), out
i = {i["name"]: i for i in j["items"]}
assert list(i) == ["blob.bin", "cert.pem", "guid", "privkey.pem", args[3]], list(i)
assert i["blob.bin"]["value_hex"] == "0001ff6162"
assert i[args[3]]["value"] == "a\t\"b\"\\c \u00fc\r\n"
assert i["privkey.pem"]["withheld"] and not i["cert.pem"]["withheld"]
assert i["guid"]["value"] == open(args[2] + "/guid").read()' snakeoil uefi-pk "$ks/uefi-pk" 'we"ird\item'
expect_rc 0 trust keyset show snakeoil uefi-pk privkey.pem --json
json_check "$items"'
assert len(j["items"]) == 1 and not j["items"][0]["withheld"]
assert j["items"][0]["value"].startswith("-----BEGIN PRIVATE KEY-----")' snakeoil uefi-pk "$ks/uefi-pk"
expect_rc 0 trust keyset show snakeoil manifest:default uuid --json
json_check "$items"'
assert [i["name"] for i in j["items"]] == ["uuid"]' snakeoil manifest:default "$ks/manifest/default"
expect_rc 0 trust keyset show snakeoil pcr7data --json
json_check "$items"'
assert j["items"] == []' snakeoil pcr7data "$ks/pcr7data"

# failures print nothing on stdout, in the middle of a listing too
head -c $((1024 * 1024 + 1)) /dev/zero >"$ks/uefi-pk/zz-big"
expect_error 1 "^trust: keyset 'snakeoil': .*zz-big" trust keyset show snakeoil uefi-pk --json
no_stdout "a failed keyset show KEY --json"
expect_error 1 "zz-big" trust keyset show snakeoil uefi-pk
no_stdout "a failed keyset show KEY"
rm -rf "$KEYS/beta/uki-tpm" && : >"$KEYS/beta/uki-tpm"
expect_error 1 "^trust: keyset 'beta': .*uki-tpm" trust keyset show beta --json
no_stdout "a failed keyset show --json"
expect_error 1 "keyset 'nosuch' does not exist" trust keyset show nosuch --json
no_stdout "keyset show nosuch --json"
expect_error 1 "has no item 'nosuch'" trust keyset show snakeoil uefi-pk nosuch --json
no_stdout "keyset show of a missing item"
expect_error 2 "exclude each other" trust keyset show snakeoil --json --path
expect_error 2 "exclude each other" trust keyset show snakeoil uefi-pk guid --json --value
no_stdout "keyset show --json --value"

# --- project list, sudi list
expect_rc 0 trust project add beta widget
json_text project list beta
expect_rc 0 trust project list beta --json
json_check 'assert [p["name"] for p in j] == text.splitlines() == ["default", "widget"], j'
expect_rc 0 trust project list --json beta
json_check 'assert [p["name"] for p in j] == ["default", "widget"], j'
expect_error 1 "keyset 'nosuch' does not exist" trust project list nosuch --json
no_stdout "project list nosuch --json"
expect_rc 2 trust project list --json
no_stdout "project list --json"

expect_rc 0 trust sudi list beta widget --json
json_check 'assert j == [], j'
expect_rc 0 trust sudi add beta widget m-1
expect_rc 0 trust sudi add beta widget
serial=$(cat "$T/out")
json_text sudi list beta widget
expect_rc 0 trust sudi list beta widget --json
json_check 'assert [s["name"] for s in j] == text.splitlines() == sorted(args), j' m-1 "$serial"
expect_error 1 "project 'nosuch' does not exist" trust sudi list beta nosuch --json
no_stdout "sudi list of a missing project"
expect_rc 2 trust sudi list beta --json
expect_rc 2 trust sudi list beta widget --jsn
echo ok
