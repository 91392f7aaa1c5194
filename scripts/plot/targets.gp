# SPDX-License-Identifier: BSD-3-Clause
# Every benchmark target, as measured over target (above 1: met), from scripts/bench.sh.
#   gnuplot -e "data='D'; out='O.png'" targets.gp    (file: "label score", score >= 1 met)
set terminal pngcairo size 1200,600 font ",10" noenhanced
set output out
set title "tidepool's benchmark targets: measured against target (1 = the target; above: met)"
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set logscale y 2
set ylabel "score (log scale)"
set xtics rotate by -35 left
set rmargin 16
set bmargin 13
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "#c00000"
plot data using 0:2:($2 >= 1 ? 0x2e8b57 : 0xc00000):xtic(1) with boxes lc rgb variable notitle
