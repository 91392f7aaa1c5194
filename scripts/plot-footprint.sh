#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run tide-bench footprint and plot receive rate and hugepage MB held over time for the
# fixed pool and the tidepool pool (gnuplot, PNG; the plot scripts/bench.sh draws too).
#   scripts/plot-footprint.sh [OUT.png] [tide-bench footprint options...]
# Defaults: docs/footprint.png; the figures go to OUT.csv beside it.
set -euo pipefail

out=${1:-}
shift || true
case "$out" in
-*) echo "plot-footprint: the first argument is OUT.png, not an option ('$out');" \
	"usage: $0 [OUT.png] [tide-bench footprint options...]" >&2; exit 2 ;;
esac
# OUT.png as the caller named it, from the caller's directory.
[ -z "$out" ] || out=$(realpath -m -- "$out")
cd "$(dirname "$0")/.."
out=${out:-docs/footprint.png}
series=$(mktemp /tmp/tide-footprint.XXXXXX)
trap 'rm -f "$series" "$series.csv" "$series.fixed" "$series.tide"' EXIT

command -v gnuplot >/dev/null || { echo "gnuplot missing: run scripts/setup.sh" >&2; exit 1; }
[ -x build/app/tide-bench/tide-bench ] || ./scripts/build.sh build >/dev/null
mkdir -p "$(dirname "$out")"
# tide-bench's own EAL arguments (no "--": it would take only those given); its errors (a
# bad option) go to stderr, for the reader. OUT.csv is replaced only by a run that worked:
# a refused option leaves the figures it holds as they were.
./build/app/tide-bench/tide-bench footprint --series "$series" "$@" | tee "$series.csv"
mv "$series.csv" "${out%.png}.csv"

# One file per variant of the first round, as gnuplot wants them.
for v in fixed tide; do
	awk -F, -v v="$v" 'NR > 1 && $1 == v && $2 == 0 { print $3, $4, $5 }' "$series" \
		>"$series.$v"
done
gnuplot -e "fixed='$series.fixed'; tide='$series.tide'; out='$out'" scripts/plot/footprint.gp
rm -f "$series.fixed" "$series.tide"
echo "plot: $out"
