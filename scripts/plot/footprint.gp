# SPDX-License-Identifier: BSD-3-Clause
# Receive rate and hugepage MB held over time, fixed pool vs tidepool (tide-bench footprint),
# and the pool created the stock way with the tide ops when there is one.
#   gnuplot -e "fixed='F'; tide='T'; plugin='P'; out='O.png'" footprint.gp
#   (files: t_s mpps mb_held; plugin may be left out or '')
if (!exists("plugin")) plugin = ""
set terminal pngcairo size 1000,640 font ",10" noenhanced
set output out
set multiplot layout 2,1 title "tide-bench footprint: the same bursty trace, fixed pool vs tidepool"
set grid
set key top right
set ylabel "receive rate (Mpps)"
set format x ""
if (plugin ne "") {
	plot fixed using 1:2 with lines lw 2 title "fixed pool (ring_mp_mc, sized for the peak)", \
	     tide using 1:2 with lines lw 1 title "tidepool", \
	     plugin using 1:2 with lines lw 1 title "stock-created pool, tide ops"
} else {
	plot fixed using 1:2 with lines lw 2 title "fixed pool (ring_mp_mc, sized for the peak)", \
	     tide using 1:2 with lines lw 1 title "tidepool"
}
set format x "%g"
set xlabel "time (s)"
set ylabel "hugepage MB held"
if (plugin ne "") {
	plot fixed using 1:3 with lines lw 2 title "fixed pool", \
	     tide using 1:3 with lines lw 2 title "tidepool", \
	     plugin using 1:3 with lines lw 2 dt 2 title "stock-created pool, tide ops"
} else {
	plot fixed using 1:3 with lines lw 2 title "fixed pool", \
	     tide using 1:3 with lines lw 2 title "tidepool"
}
unset multiplot
