#!/bin/bash
# check-layers.sh: reads the #include lines of trust/ and fails on an include
# that points the wrong way between layers, on a cycle between modules, on
# <tss2/...> outside the TPM2 store, and on library code that reads an error
# message back (err_msg: only the command layer prints messages).
#
# Layers (README "Layout"):  cli -> machine, target, keys -> formats -> base
#   machine may use keys (a VM gets a SUDI cert) and target (a VM's TPM
#   and disk are prepared on the host with the target's own store and LUKS
#   code); target uses neither keys (the initrd links no key generation) nor
#   machine; keys uses no target.
# A module is a .c/.h pair (and its -internal.h); module A depends on B when A.c or A.h includes B.h.
set -eu
cd "${1:-$(dirname "$0")/../..}/trust"

allowed() { # allowed FROM TO: may a file of layer FROM include a header of TO?
	[ "$1" = "$2" ] && return 0
	case "$1:$2" in
	*:base) return 0 ;;
	formats:*) return 1 ;;
	keys:formats | target:formats | machine:formats | machine:keys | machine:target) return 0 ;;
	cli:*) return 0 ;;
	esac
	return 1
}

bad=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in */*.c */*.h; do
	from_layer=${f%%/*}
	mod=${f%.*}
	mod=${mod%-internal} # a module's private header is part of it
	while IFS= read -r inc; do
		to_layer=${inc%%/*}
		case $inc in */*) ;; *)
			echo "$f: #include \"$inc\" does not name its layer (write \"<layer>/$inc\")"
			bad=1; continue ;;
		esac
		[ -e "$inc" ] || { echo "$f: #include \"$inc\": no such header"; bad=1; continue; }
		if ! allowed "$from_layer" "$to_layer"; then
			echo "$f: #include \"$inc\": $from_layer/ must not depend on $to_layer/"
			bad=1
		fi
		to=${inc%.h}
		to=${to%-internal}
		[ "$to" = "$mod" ] || echo "$mod $to" >>"$edges"
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	if grep -q '^[[:space:]]*#[[:space:]]*include[[:space:]]*<tss2/' "$f"; then
		case $f in target/tpm2*) ;; *)
			echo "$f: includes <tss2/...>: only the TPM2 store (target/tpm2*) talks to tpm2-tss"
			bad=1 ;;
		esac
	fi
	case $f in cli/* | base/error.[ch]) ;; *)
		if grep -n '\berr_msg[[:space:]]*(' "$f" | grep -v '^\([0-9]*\):[[:space:]]*/\?\*' >/dev/null; then
			echo "$f: calls err_msg(): library code adds to a message (errf_prefix) or copies it (err_copy), never formats from it"
			bad=1
		fi ;;
	esac
done

# Cycles: depth-first search over the module graph.
cycles=$(sort -u "$edges" | awk '
	{ adj[$1] = adj[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
	function visit(n,    i, k, parts, p) {
		state[n] = 1; stack[++depth] = n
		k = split(adj[n], parts, " ")
		for (i = 1; i <= k; i++) {
			p = parts[i]
			if (state[p] == 1) {
				line = p
				for (j = depth; j >= 1 && stack[j] != p; j--) line = stack[j] " -> " line
				print "cycle: " p " -> " line
			} else if (state[p] == 0)
				visit(p)
		}
		depth--; state[n] = 2
	}
	END { for (n in nodes) state[n] = 0; for (n in nodes) if (state[n] == 0) visit(n) }')
if [ -n "$cycles" ]; then
	echo "$cycles"
	bad=1
fi
files=(*/*.c)
[ $bad = 0 ] && echo "layers: ${#files[@]} C files, includes point one way, no cycles"
exit $bad
