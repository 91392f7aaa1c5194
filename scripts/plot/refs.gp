# SPDX-License-Identifier: BSD-3-Clause
# The exchange and the message against their references (tide-bench pipeline and msg).
#   gnuplot -e "pipe='P'; msg='M'; out='O.png'" refs.gp
#   (files: "variant Mpps" and "variant ns_1lcore ns_2lcores")
set terminal pngcairo size 1000,720 font ",10" noenhanced
set output out
set multiplot layout 2,1 title "tide-bench pipeline and msg against their references"
set style fill solid 0.8 border -1
set grid ytics
set key top right
set title "pipeline: packets through RX -> classify -> exchange -> workers -> TX (higher is better)"
set ylabel "Mpps"
set boxwidth 0.6
set yrange [0:*]
plot pipe using 0:2:xtic(1) with boxes notitle, \
     pipe using 0:2:(sprintf("%.2f", $2)) with labels offset 0,0.7 notitle
set title "msg: make + send + receive + unmake per packet (lower is better)"
set ylabel "ns per packet (log scale)"
set logscale y
set yrange [*:*]
set key top left
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.9
plot msg using 2:xtic(1) title "one lcore", "" using 3 title "two lcores"
unset multiplot
