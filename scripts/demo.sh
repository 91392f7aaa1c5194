#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Set up this machine, build tidepool and run the tidepmd demo on its default vdevs
# (two net_null ports, no NIC needed). Stop it with Ctrl-C.
#   scripts/demo.sh [tidepmd arguments]     e.g. scripts/demo.sh --duration 10
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh build >/dev/null
exec ./build/app/tidepmd/tidepmd "$@"
