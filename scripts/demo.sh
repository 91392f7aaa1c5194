#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Set up this machine, build tidepool and run the tidepmd demo on its default vdevs
# (two net_null ports, no NIC needed): bursts of traffic make the elastic pool grow, and it
# gives the memory back between them; the stats line shows MB held, grows and reaps. Stop
# it with Ctrl-C for the summary (peak and mean MB against a fixed pool sized for the peak).
#   scripts/demo.sh [tidepmd arguments]     e.g. scripts/demo.sh --duration 20
#                                                scripts/demo.sh -i (the prompt; try help)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh build >/dev/null
exec ./build/app/tidepmd/tidepmd "$@"
