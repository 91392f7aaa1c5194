#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Install tidepool into a scratch directory, start the installed programs, build the README
# examples against the installed libtidepool.pc with pkg-config, as an application would,
# and run them.
#   test_install.sh BUILDDIR SOURCEDIR [SANITIZERS]
set -eu
build=$1
src=$2
# A sanitized tidepool needs a sanitized application (the runtime must load first).
san=""
case "${3:-none}" in none|"") ;; *) san="-fsanitize=$3" ;; esac
tmp=$(mktemp -d /tmp/tide-install.XXXXXX)
# The examples are plain DPDK programs: their runtime directory stays after they end.
trap 'rm -rf "$tmp" "/var/run/dpdk/tide-install-$$"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

meson install -C "$build" --destdir "$tmp" --no-rebuild >/dev/null
pc=$(find "$tmp" -name libtidepool.pc)
[ -n "$pc" ] || { echo "libtidepool.pc was not installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
libdir=$(dirname "$(dirname "$pc")")
# The scratch install is not at its prefix: relocate a copy of the .pc file there.
mkdir "$tmp/pc"
sed "s|^prefix=.*|prefix=$tmp$prefix|" "$pc" >"$tmp/pc/libtidepool.pc"
export PKG_CONFIG_PATH="$tmp/pc"
flags=$(pkg-config --cflags --libs libtidepool)
for ex in elastic_pool pipeline zctx_send; do
	# shellcheck disable=SC2086
	cc -Wall -Wextra -Werror $san "$src/examples/$ex.c" $flags -o "$tmp/$ex"
done
eal="-l 0 --no-pci --huge-unlink --file-prefix tide-install-$$ --log-level lib.eal:warning"
# The installed programs start where they were installed, with no LD_LIBRARY_PATH (and no
# ldconfig: meson install runs none): they find the libraries through their RUNPATH.
bin=$(dirname "$(find "$tmp" -type f -path '*/bin/tidepmd')")
env -u LD_LIBRARY_PATH "$bin/tidepmd" --help >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; echo "the installed tidepmd does not start"; exit 1; }
env -u LD_LIBRARY_PATH "$bin/tide-bench" --list >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; echo "the installed tide-bench does not start"; exit 1; }
grep -q '^pipeline' "$tmp/out" || { echo "the installed tide-bench lists no scenario"; exit 1; }
# shellcheck disable=SC2086
out=$(LD_LIBRARY_PATH=$libdir "$tmp/elastic_pool" $eal 2>&1)
echo "$out"
echo "$out" | grep -q "mbufs in use" || { echo "the example did not run"; exit 1; }
echo "$out" | grep -qv "^1 blocks" || { echo "the pool did not grow"; exit 1; }
# shellcheck disable=SC2086
out=$(LD_LIBRARY_PATH=$libdir "$tmp/pipeline" $eal --vdev net_null0 2>&1)
echo "$out"
echo "$out" | grep -q "through the exchange; 0 message(s) left" ||
	{ echo "the pipeline example did not run clean"; exit 1; }
# Without a port it says so, and fails.
# shellcheck disable=SC2086
if out=$(LD_LIBRARY_PATH=$libdir "$tmp/pipeline" $eal 2>&1); then
	echo "$out"; echo "the pipeline example ran without a port"; exit 1
fi
echo "$out" | grep -q "^no port 0: give one, e.g. --vdev net_null0$" ||
	{ echo "$out"; echo "the pipeline example did not say why it failed"; exit 1; }
# shellcheck disable=SC2086
out=$(LD_LIBRARY_PATH=$libdir "$tmp/zctx_send" $eal --vdev net_null0 2>&1)
echo "$out"
echo "$out" | grep -q "status 0, 262144 bytes sent" ||
	{ echo "the zctx example did not complete its send"; exit 1; }

# An application that names no tidepool symbol, built as the README says with the
# toolchain's defaults (Debian's gcc links --as-needed unless sanitizing: ask for it then),
# run with no LD_LIBRARY_PATH: linking libtidepool registers the tide ops, and the installed
# libraries are found through the RUNPATH libtidepool.pc records.
# shellcheck disable=SC2086
cc -Wall -Wextra -Werror $san ${san:+-Wl,--as-needed} "$src/examples/stock_pool.c" \
	$(pkg-config --cflags --libs libtidepool libdpdk) -o "$tmp/stock_pool"
readelf -d "$tmp/stock_pool" | grep -q "NEEDED.*librte_mempool_tide" ||
	{ echo "--as-needed dropped the tide driver library"; exit 1; }
# shellcheck disable=SC2086
out=$(env -u LD_LIBRARY_PATH "$tmp/stock_pool" $eal 2>&1)
echo "$out"
echo "$out" | grep -q "^all back: 0 in use, full 1" ||
	{ echo "the stock-API example did not run"; exit 1; }
echo "$out" | grep -q "^created: [0-9]* of 16384 mbufs populated, 0 in use" ||
	{ echo "the stock-API pool was not made elastic"; exit 1; }
