#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tidepmd's forwarding modes as a user runs them: every mode forwards (txonly sends,
# rxonly receives) on two net_null ports and on a net_ring pair, with 2 forwarding lcores
# (3 lcores on the 2 CPUs) and 2 queues per port, each lcore doing its share; macswap and
# io checked on the packets themselves (net_pcap files in, files out). On net_null ports
# every packet received is accounted for: sent, dropped or freed at the stop. --burst sets
# the receives of every mode that receives. Without EAL arguments it runs on the CPUs it
# may run on.
#   test_tidepmd.sh TIDEPMD PCAP_TOOL
set -eu
tidepmd=$1
pcap_tool=$2
tmp=$(mktemp -d /tmp/tide-tidepmd.XXXXXX)
# A tidepmd that crashed (--huge-unlink) leaves its runtime directory.
trap 'rm -rf "$tmp" "/var/run/dpdk/tide-tpmd-$$"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
out=$tmp/out
eal="--lcores 0@0,1@0,2@1 --no-pci --huge-unlink --file-prefix tide-tpmd-$$"

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

# The summary's "lcores" line: "<lcore>: rx N tx N" per forwarding lcore.
lcore_counts() {
	sed -n 's/^  lcores *//p' "$out" | tr '|' '\n' |
		sed -n 's/^ *\([0-9]*\): rx \([0-9]*\) tx \([0-9]*\).*/\1 \2 \3/p'
}

# run VDEVS MODE [options]: 2 s of MODE; checks the run ended cleanly and what moved.
run() {
	vdevs=$1
	mode=$2
	shift 2
	# shellcheck disable=SC2086
	"$tidepmd" $eal $vdevs -- --mode "$mode" --nb-cores 2 --rxq 2 --txq 2 --duration 2 \
		"$@" >"$out" 2>&1 || fail "$mode: exit status $?"
	grep -q "^tidepmd: done after" "$out" || fail "$mode: no summary"
	grep -q "mode $mode on 2 forwarding lcore(s), 2 ports" "$out" ||
		fail "$mode: not on 2 forwarding lcores"
	n='\([0-9]*\)'
	pat="^  packets *rx $n, tx $n, dropped $n,.*, freed at stop $n\$"
	set -- $(sed -n "s/$pat/\1 \2 \3 \4/p" "$out")
	rx=$1
	tx=$2
	dropped=$3
	freed=$4
	case $mode in
	txonly) [ "$tx" -gt 0 ] || fail "$mode sent nothing" ;;
	rxonly) [ "$rx" -gt 0 ] || fail "$mode received nothing" ;;
	zctx) [ "$tx" -gt 0 ] || fail "$mode completed no send" ;;
	*) [ "$rx" -gt 0 ] && [ "$tx" -gt 0 ] || fail "$mode forwarded nothing (rx $rx tx $tx)" ;;
	esac
	# net_null ports bring packets from nowhere and send them nowhere: what was received
	# was sent, dropped, or held (bursty) or waiting (pipeline) at the stop, and freed.
	case $mode:$vdevs in
	io:*net_null* | macswap:*net_null* | bursty:*net_null* | pipeline:*net_null*)
		[ "$rx" -eq $((tx + dropped + freed)) ] ||
			fail "$mode: rx $rx is not tx $tx + dropped $dropped + freed at stop $freed"
		;;
	esac
	# Each of the two lcores did its share (pipeline: the first receives, the second sends).
	n=0
	for c in $(lcore_counts | awk '{ printf "%.0f\n", $2 + $3 }'); do
		[ "$c" -gt 0 ] || fail "$mode: a forwarding lcore did nothing"
		n=$((n + 1))
	done
	[ "$n" -eq 2 ] || fail "$mode: $n lcore(s) in the summary, want 2"
	echo "$mode on $(echo "$vdevs" | sed 's/--vdev //g; s/ .*//'): rx $rx tx $tx;" \
		"per lcore: $(lcore_counts | awk '{ printf "%.0f ", $2 + $3 }')"
}

modes="io macswap txonly rxonly bursty pipeline zctx"
for mode in $modes; do
	run "--vdev net_null0 --vdev net_null1" "$mode"
done
# A net_ring port sends to itself: --tx-first puts packets in every queue, which then
# go round the ports (txonly fills the rings, rxonly drains what tx-first put there).
for mode in $modes; do
	run "--vdev net_ring0 --vdev net_ring1" "$mode" --tx-first
done

# On the packets: what port 0 receives leaves port 1, addresses swapped (macswap) or
# untouched (io); in pipeline by the worker stage, which swaps them as macswap does.
check_pcap() {
	mode=$1
	swapped=$2
	"$pcap_tool" write "$tmp/in0.pcap" 100 02:00:00:00:00:0a 02:00:00:00:00:0b
	"$pcap_tool" write "$tmp/in1.pcap" 50 02:00:00:00:00:1a 02:00:00:00:00:1b
	rm -f "$tmp/out0.pcap" "$tmp/out1.pcap"
	"$tidepmd" -l 0-1 --no-pci --huge-unlink --file-prefix "tide-tpmd-$$" \
		--vdev "net_pcap0,rx_pcap=$tmp/in0.pcap,tx_pcap=$tmp/out0.pcap" \
		--vdev "net_pcap1,rx_pcap=$tmp/in1.pcap,tx_pcap=$tmp/out1.pcap" \
		-- --mode "$mode" --duration 1 >"$out" 2>&1 || fail "$mode on pcap: exit status"
	got1=$("$pcap_tool" macs "$tmp/out1.pcap" | sort | uniq -c | awk '{ print $1, $2, $3 }')
	got0=$("$pcap_tool" macs "$tmp/out0.pcap" | sort | uniq -c | awk '{ print $1, $2, $3 }')
	if [ "$swapped" = 1 ]; then
		want1="100 02:00:00:00:00:0b 02:00:00:00:00:0a"
		want0="50 02:00:00:00:00:1b 02:00:00:00:00:1a"
	else
		want1="100 02:00:00:00:00:0a 02:00:00:00:00:0b"
		want0="50 02:00:00:00:00:1a 02:00:00:00:00:1b"
	fi
	[ "$got1" = "$want1" ] || fail "$mode: port 1 sent '$got1', want '$want1' (count src dst)"
	[ "$got0" = "$want0" ] || fail "$mode: port 0 sent '$got0', want '$want0' (count src dst)"
	echo "$mode on net_pcap: $got1 | $got0 (count src dst)"
}
check_pcap macswap 1
check_pcap io 0
check_pcap pipeline 1

# txonly's packets (as --tx-first sends them: one burst per queue, then rxonly): UDP
# from each port's address to its peer's, --txpkts long.
"$pcap_tool" write "$tmp/in0.pcap" 1 02:00:00:00:00:0a 02:00:00:00:00:0b
"$tidepmd" -l 0-1 --no-pci --huge-unlink --file-prefix "tide-tpmd-$$" \
	--vdev "net_pcap0,rx_pcap=$tmp/in0.pcap,tx_pcap=$tmp/out0.pcap" \
	--vdev "net_pcap1,rx_pcap=$tmp/in0.pcap,tx_pcap=$tmp/out1.pcap" \
	-- --mode rxonly --tx-first --txpkts 128 --duration 1 >"$out" 2>&1 ||
	fail "tx-first on pcap"
"$pcap_tool" macs "$tmp/out0.pcap" >"$tmp/frames0"
"$pcap_tool" macs "$tmp/out1.pcap" >"$tmp/frames1"
first=$(head -1 "$tmp/frames0")
peer=$(head -1 "$tmp/frames1")
[ "$(wc -l <"$tmp/frames0")" -eq 32 ] ||
	fail "tx-first sent $(wc -l <"$tmp/frames0") frames, want 32"
[ "$(echo "$first" | awk '{ print $1 }')" = "$(echo "$peer" | awk '{ print $2 }')" ] &&
	[ "$(echo "$first" | awk '{ print $3 }')" = 128 ] ||
	fail "txonly frames: port 0 '$first', port 1 '$peer' (src dst len)"
echo "txonly frames on net_pcap: port 0 sends '$first' (src dst len)"

# --burst: the modes that receive take that many at a time (zctx: of what comes back); a
# net_null port fills every receive, so what they received is a multiple of it (509: of no
# other burst).
for mode in io bursty pipeline zctx; do
	# shellcheck disable=SC2086
	"$tidepmd" $eal --vdev net_null0 --vdev net_null1 -- --mode "$mode" --nb-cores 2 \
		--duration 1 --burst 509 >"$out" 2>&1 || fail "$mode --burst 509: exit status $?"
	rx=$(sed -n 's/^  packets *rx \([0-9]*\),.*/\1/p' "$out")
	[ -n "$rx" ] && [ "$rx" -gt 0 ] && [ $((rx % 509)) -eq 0 ] ||
		fail "$mode --burst 509: received '$rx', not bursts of 509"
	echo "$mode --burst 509: rx $rx = $((rx / 509)) x 509"
done

# With no EAL arguments, lcores on the CPUs tidepmd may run on, two on one where it may run
# on one (taskset): every thread of the process then runs on that CPU.
cpu=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' | tail -n 1 | sed 's/.*-//')
taskset -c "$cpu" "$tidepmd" -- --mode io --duration 3 >"$out" 2>&1 &
tpid=$!
i=0
until grep -q "^tidepmd: mode io on 1 forwarding lcore(s)" "$out"; do
	i=$((i + 1))
	if [ "$i" -gt 600 ] || ! kill -0 "$tpid" 2>/dev/null; then
		wait "$tpid" || true
		fail "the defaults on CPU $cpu: no start line"
	fi
	sleep 0.1
done
elsewhere=$(cat /proc/"$tpid"/task/*/status | sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' |
	grep -vx "$cpu" || true)
wait "$tpid" || fail "the defaults on CPU $cpu: exit status $?"
[ -z "$elsewhere" ] || fail "the defaults on CPU $cpu: threads allowed on CPUs $elsewhere"
echo "the defaults on CPU $cpu alone: every thread there"

# The pipeline leaves no message behind.
"$tidepmd" -l 0-1 --no-pci --huge-unlink --vdev net_null0 --vdev net_null1 \
	--file-prefix "tide-tpmd-$$" -- --mode pipeline --duration 1 >"$out" 2>&1 ||
	fail "pipeline: exit status"
grep -q "no message left behind" "$out" || fail "the pipeline left messages behind"

# --donors: past a 64 MB --socket-limit the bursty pool grows on donor blocks, and gives
# them back (the last line: no donor left, holding nothing).
"$tidepmd" -l 0-1 --no-pci --huge-unlink --socket-limit=64 --vdev net_null0 \
	--vdev net_null1 --file-prefix "tide-tpmd-$$" -- --donors --duration 4 \
	--trace 1:1000,0:3000 --hold-ms 40 >"$out" 2>&1 || fail "--donors: exit status"
from=$(sed -n 's/.*; \([0-9]*\) from donors).*/\1/p' "$out")
[ -n "$from" ] && [ "$from" -gt 0 ] || fail "--donors: no block from donors"
grep -q "end |.* donors 0 holding 0 MB" "$out" || fail "--donors: donors left at the end"
echo "--donors under --socket-limit=64: $from blocks from donors, all given back"
echo ok
