# SPDX-License-Identifier: BSD-3-Clause
# Zero-copy vs copy vs adaptive TX throughput by payload size, per port (tide-bench zctx).
#   gnuplot -e "null='N'; afp='A'; out='O.png'" zctx.gp    (files: size zc copy adaptive)
set terminal pngcairo size 1000,720 font ",10" noenhanced
set output out
set multiplot layout 2,1 title "tide-bench zctx: payload throughput from malloc'd memory"
set grid
set key top left
set logscale x 2
set format x "%.0f"
set ylabel "Gbps"
set title "net_null"
plot null using 1:2 with linespoints lw 2 title "zero-copy", \
     null using 1:3 with linespoints lw 2 title "copy", \
     null using 1:4 with linespoints lw 2 dt 2 title "adaptive"
set title "net_af_packet on a veth pair"
set xlabel "payload bytes per send"
if (afp ne "") {
plot afp using 1:2 with linespoints lw 2 title "zero-copy", \
     afp using 1:3 with linespoints lw 2 title "copy", \
     afp using 1:4 with linespoints lw 2 dt 2 title "adaptive"
}
unset multiplot
