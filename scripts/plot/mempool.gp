# SPDX-License-Identifier: BSD-3-Clause
# The tide driver against the stock drivers by cache and bulk (tide-bench mempool ratios).
#   gnuplot -e "data='D'; out='O.png'" mempool.gp    (file: pattern tide:ring_mp_mc tide:stack)
set terminal pngcairo size 1200,560 font ",10" noenhanced
set output out
set title "tide-bench mempool: tide's alloc+free rate over each stock driver's " . \
	"(above 1: tide faster)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 2
set grid ytics
set ylabel "ratio (log scale)"
set xtics rotate by -40 left
set rmargin 12
set key top left
set arrow from graph 0, first 0.95 to graph 1, first 0.95 nohead dt 2 lc rgb "#c00000"
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#404040"
plot data using 2:xtic(1) title "tide : ring_mp_mc (target >= 0.95 with cache)", \
     "" using 3 title "tide : stack (target >= 1 without cache)"
