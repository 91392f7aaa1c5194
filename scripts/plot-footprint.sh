#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run tide-bench footprint and plot receive rate and hugepage MB held over time for the
# fixed pool and the tidepool pool (gnuplot, PNG).
#   scripts/plot-footprint.sh [OUT.png] [tide-bench footprint options...]
# Defaults: docs/footprint.png; the figures go to OUT.csv beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/footprint.png}
shift || true
series=$(mktemp /tmp/tide-footprint.XXXXXX)
trap 'rm -f "$series"' EXIT

command -v gnuplot >/dev/null || { echo "gnuplot missing: run scripts/setup.sh" >&2; exit 1; }
[ -x build/app/tide-bench/tide-bench ] || ./scripts/build.sh build >/dev/null
mkdir -p "$(dirname "$out")"
./build/app/tide-bench/tide-bench footprint --series "$series" "$@" 2>/dev/null \
	| tee "${out%.png}.csv"

# One file per variant of the first round, as gnuplot wants them.
for v in fixed tide; do
	awk -F, -v v="$v" 'NR > 1 && $1 == v && $2 == 0 { print $3, $4, $5 }' "$series" \
		>"$series.$v"
done
gnuplot <<GP
set terminal pngcairo size 1000,640 font ",10" noenhanced
set output "$out"
set multiplot layout 2,1 title "tide-bench footprint: the same bursty trace, fixed pool vs tidepool"
set grid
set key top right
set ylabel "receive rate (Mpps)"
set format x ""
plot "$series.fixed" using 1:2 with lines lw 2 title "fixed pool (ring_mp_mc, sized for the peak)", \
     "$series.tide" using 1:2 with lines lw 1 title "tidepool"
set format x "%g"
set xlabel "time (s)"
set ylabel "hugepage MB held"
plot "$series.fixed" using 1:3 with lines lw 2 title "fixed pool", \
     "$series.tide" using 1:3 with lines lw 2 title "tidepool"
unset multiplot
GP
rm -f "$series.fixed" "$series.tide"
echo "plot: $out"
