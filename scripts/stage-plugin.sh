# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Sourced by scripts and tests that load the tide plugin into a stock DPDK program with -d.
#
#   tide_stage_plugin PLUGIN DIR   copies PLUGIN (librte_mempool_tide.so.X.Y.Z of a build
#                                  tree) and the build's libraries it needs into DIR, under
#                                  their sonames, and prints the path to give -d; run the
#                                  program with LD_LIBRARY_PATH=DIR.
# EAL refuses a -d plugin below a world-writable directory such as /tmp: DIR must be
# private (mktemp -d under /run or $HOME).
# Fails (status 1, nothing printed) if a copy fails: call it as
# staged=$(tide_stage_plugin ...) || exit, or a failure shows only later, as EAL's.
tide_stage_plugin() {
	local plugin=$1 dir=$2 so f common
	so=$(basename "$plugin")
	cp "$plugin" "$dir/${so%.*.*}" || return 1
	# A build with fault injection keeps the fault sites in a library of their own.
	common=$(dirname "$plugin")/../../../lib/common
	for f in "$common"/libtide_common.so.*.*.*; do
		[ ! -f "$f" ] || cp "$f" "$dir/$(basename "${f%.*.*}")" || return 1
	done
	echo "$dir/${so%.*.*}"
}
