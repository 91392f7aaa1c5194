#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Configure (once) and build a meson build directory.
#   scripts/build.sh [builddir] [meson options...]      default builddir: build
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build}
shift || true

if [ -f "$dir/build.ninja" ]; then
	[ $# -eq 0 ] || meson configure "$dir" "$@" >/dev/null
else
	meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir"
