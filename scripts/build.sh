#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Configure (once) and build a meson build directory.
#   scripts/build.sh [builddir] [meson options...]      default builddir: build
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build}
shift || true

# Quiet callers send stdout away: a failure's output goes to stderr, so it is always seen.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
	if ! "$@" >"$log" 2>&1; then
		echo "build.sh: failed: $*" >&2
		tail -n 60 "$log" >&2
		exit 1
	fi
	cat "$log"
}

if [ -f "$dir/build.ninja" ]; then
	[ $# -eq 0 ] || run meson configure "$dir" "$@" >/dev/null
else
	run meson setup "$dir" "$@" >/dev/null
fi
run ninja -C "$dir"
