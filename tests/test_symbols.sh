#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Install tidepool into a scratch directory and check what its shared objects export:
#  - every dynamic symbol is a tidepool name declared in the installed headers (a name
#    only a comment mentions does not count: the headers are compiled);
#  - names with _pvt_ (what the installed inline fast path calls) are in the version
#    map's INTERNAL node, every other one in TIDEPOOL_0;
#  - every function the installed headers declare is exported by one of the libraries (a
#    version map that forgot a function).
#   test_symbols.sh BUILDDIR
set -eu
build=$1
tmp=$(mktemp -d /tmp/tide-symbols.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
fail=0
bad() { echo "symbols: $*"; fail=1; }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild >/dev/null
inc=$(find "$tmp/root" -type d -path '*/include/tidepool' | head -n 1)
[ -n "$inc" ] || { echo "symbols: no include/tidepool installed"; exit 1; }
libs=$(find "$tmp/root" -name 'lib*.so.*' -type f | sort)
[ -n "$libs" ] || { echo "symbols: no shared object installed"; exit 1; }

# Every installed header, as an application includes them (the _pvt ones come through
# the public ones). Fault injection's header declares its functions only when asked to.
{
	for h in "$inc"/*.h; do
		case "$h" in *_pvt.h) ;; *) echo "#include \"$(basename "$h")\"" ;; esac
	done
} >"$tmp/all.c"
cflags="-I$inc $(pkg-config --cflags libdpdk) -DALLOW_EXPERIMENTAL_API -DTIDE_FAULT_INJECTION"
# shellcheck disable=SC2086
cc $cflags -c "$tmp/all.c" -o "$tmp/all.o" -aux-info "$tmp/aux.txt" ||
	{ echo "symbols: the installed headers do not compile"; exit 1; }
# The functions they declare (not inline): "/* .../include/tidepool/x.h:12:NC */ extern
# int tide_x (int);": the first name followed by a parameter list (" (" not followed by
# "*", which opens a declarator: "extern t (*tide_y (void));" returns a pointer).
grep -F "$inc/" "$tmp/aux.txt" | sed 's|^/\*[^*]*\*/ ||' | grep '^extern ' |
	perl -ne 'print "$1\n" if /^extern .*?[ *(]([A-Za-z_]\w*) \((?!\*)/' |
	sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || { echo "symbols: found no declaration in the headers"; exit 1; }

: >"$tmp/exported"
for lib in $libs; do
	name=$(basename "$lib")
	nm -D --defined-only "$lib" | awk '$2 != "A" { print $2, $3 }' >"$tmp/syms"
	[ -s "$tmp/syms" ] || bad "$name exports nothing"
	while read -r kind sym; do
		base=${sym%%@*}
		node=${sym##*@}
		[ "$node" != "$sym" ] || node=""
		echo "$base" >>"$tmp/exported"
		case "$base" in
		tide_*) ;;
		*) bad "$name exports $base: not a tidepool name"; continue ;;
		esac
		case "$base" in
		*_pvt_*) want=INTERNAL ;;
		*) want=TIDEPOOL_0 ;;
		esac
		[ "$node" = "$want" ] || bad "$name exports $base in node '$node', not $want"
		if grep -qx "$base" "$tmp/declared"; then
			continue
		fi
		# Not a declared function: a variable the headers declare, or nothing.
		printf '#include "all.c"\nconst void *tide_symbols_check = &%s;\n' "$base" \
			>"$tmp/var.c"
		# shellcheck disable=SC2086
		cc $cflags -I"$tmp" -c "$tmp/var.c" -o "$tmp/var.o" 2>/dev/null ||
			bad "$name exports $base ($kind), which no installed header declares"
	done <"$tmp/syms"
done

# The converse: what the headers declare, some library exports.
while read -r fn; do
	grep -qx "$fn" "$tmp/exported" || bad "$fn is declared in $inc but exported by none"
done <"$tmp/declared"

echo "symbols: $(wc -l <"$tmp/exported") exported by $(echo "$libs" | wc -l) libraries," \
	"$(wc -l <"$tmp/declared") functions declared"
[ "$fail" -eq 0 ] || { echo "symbols: FAILED"; exit 1; }
