#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock dpdk-testpmd, nobody's code here, with the tide plugin and nothing else changed:
#   -d librte_mempool_tide.so --mbuf-pool-ops-name=tide --total-num-mbufs=262144
# (about 512 MB of mbufs) on net_null and net_ring vdevs, against the same testpmd on
# ring_mp_mc. Three scenarios, each printing CSV rows (scenario,variant,metric,value,unit)
# and a summary:
#   footprint  hugepage MB the process maps at start and while forwarding (io, net_null)
#   rate       io forwarding Mpps, tide and ring_mp_mc in interleaved runs (two each a pair,
#              in the order tide ring ring tide), each pair's ratio and the median
#   load       many mbufs in flight (start tx_first into 64 net_ring queues), then drained:
#              the pool grows with no failed allocation and shrinks back afterwards,
#              read through the stock dpdk-telemetry.py (/tide/pool/info)
#
#   scripts/testpmd-elastic.sh [options] [footprint|rate|load|all]
#     --plugin PATH    the tide plugin (default: build*/drivers/mempool/tide/
#                      librte_mempool_tide.so.*, build/'s first, not a sanitized one)
#     --runs N         rate: tide/ring pairs, four runs each (1..100, default 3)
#     --seconds S      rate: seconds per run; footprint: seconds forwarding (1..3600,
#                      default 5)
#     --csv FILE       also append the CSV rows to FILE
#     --check          exit non-zero if a behaviour is wrong (for tests): a pool that does not
#                      start small, forward, grow under load or shrink back, or allocations
#                      that failed (speed is not checked: it is for benchmarks)
# Environment: TIDE_CHILD_PRELOAD is preloaded into testpmd (a sanitized plugin needs its
# runtime first).
set -euo pipefail

testpmd=/usr/bin/dpdk-testpmd
plugin=""
runs=3
seconds=5
csv=""
check=0
what=all
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) accepted="1..100" ;;
	--seconds) accepted="1..3600" ;;
	--plugin|--csv) accepted="a path" ;;
	*) accepted="" ;;
	esac
	[ -z "$accepted" ] || [ $# -ge 2 ] ||
		{ echo "$1: no value given; accepted: $accepted" >&2; exit 2; }
	case "$1" in
	--plugin) plugin=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--csv) csv=$2; shift 2 ;;
	--check) check=1; shift ;;
	footprint|rate|load|all) what=$1; shift ;;
	*) echo "usage: $0 [--plugin PATH] [--runs 1..100] [--seconds 1..3600] [--csv FILE]" \
		"[--check] [footprint|rate|load|all]" >&2; exit 2 ;;
	esac
done
# shellcheck source=scripts/num.sh
. "$(dirname "$0")/num.sh"
tide_num_check --runs "$runs" 1 100
tide_num_check --seconds "$seconds" 1 3600
runs=$((10#$runs))
seconds=$((10#$seconds))

# Paths as the caller gave them, from where it ran: this script works from the tree's top.
[ -z "$plugin" ] || plugin=$(realpath -m -- "$plugin")
[ -z "$csv" ] || csv=$(realpath -m -- "$csv")
cd "$(dirname "$0")/.."
[ -x "$testpmd" ] || { echo "$testpmd not found (apt-get install dpdk)" >&2; exit 1; }
if [ -z "$plugin" ]; then
	# build/'s, else another build's; not a sanitized one (it needs its runtime preloaded).
	for f in build/drivers/mempool/tide/librte_mempool_tide.so.*.*.* \
		build*/drivers/mempool/tide/librte_mempool_tide.so.*.*.*; do
		[ -f "$f" ] || continue
		! readelf -d "$f" 2>/dev/null | grep -q 'libasan' || continue
		plugin=$f
		break
	done
fi
[ -f "$plugin" ] || { echo "no tide plugin (build first, or --plugin PATH)" >&2; exit 1; }

# EAL refuses a -d plugin below a world-writable directory (/tmp): stage it, and the
# libraries it needs from its build, in a private directory (scripts/stage-plugin.sh).
stage=$(mktemp -d /run/tide-testpmd-XXXXXX)
failed=0
declare -A pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	# testpmd leaves its DPDK runtime directory behind: ours, by their prefix.
	rm -rf /var/run/dpdk/tpe-*-"$$"
	[ -n "${TIDE_KEEP_STAGE:-}" ] || rm -rf "$stage"
}
trap cleanup EXIT
. scripts/stage-plugin.sh
staged=$(tide_stage_plugin "$plugin" "$stage") ||
	{ echo "cannot copy the tide plugin $plugin to $stage" >&2; exit 1; }

row() {
	echo "$1"
	[ -z "$csv" ] || echo "$1" >>"$csv"
}

fail() {
	echo "testpmd-elastic: FAIL: $*" >&2
	failed=1
}

# Start testpmd NAME OPS EAL-AND-APP-ARGS...: interactive, commands through a FIFO.
tp_start() {
	local name=$1 ops=$2
	shift 2
	local -a plug=(--mbuf-pool-ops-name="$ops")
	[ "$ops" != tide ] || plug=(-d "$staged" --mbuf-pool-ops-name=tide)
	mkfifo "$stage/$name.in"
	# Line-buffered output (stdbuf): the log is read while testpmd runs.
	env ${TIDE_CHILD_PRELOAD:+LD_PRELOAD=$TIDE_CHILD_PRELOAD ASAN_OPTIONS=detect_leaks=0} \
		LD_LIBRARY_PATH="$stage" stdbuf -oL "$testpmd" -l 0-1 --no-pci --file-prefix "tpe-$name-$$" \
		--huge-unlink "${plug[@]}" "$@" <"$stage/$name.in" >"$stage/$name.log" 2>&1 &
	pids[$name]=$!
	eval "exec {fd_$name}>\"$stage/$name.in\""
	tp_wait_for "$name" "testpmd> " 60
}

tp_cmd() {
	local fd="fd_$1"
	echo "$2" >&"${!fd}"
}

# Wait until NAME's log shows TEXT (or SECONDS pass).
tp_wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qF -- "$2" "$stage/$1.log" && return 0
		kill -0 "${pids[$1]}" 2>/dev/null || { cat "$stage/$1.log" >&2; return 1; }
		sleep 0.1
	done
	echo "testpmd $1: no '$2' after $3 s" >&2
	return 1
}

tp_quit() {
	local fd="fd_$1" pid=${pids[$1]} i
	tp_cmd "$1" quit
	eval "exec ${!fd}>&-"
	# A testpmd that hangs at its exit (a pool's free, say) is a failure, not a wait.
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		wait "$pid" || true
		fail "testpmd $1 did not exit within 60 s of quit: killed"
	elif ! wait "$pid"; then
		fail "testpmd $1 exited with an error"
	fi
	unset "pids[$1]"
	rm -f "$stage/$1.in"
	rm -rf "/var/run/dpdk/tpe-$1-$$"
}

# Hugepage MB the process maps.
tp_mb() {
	awk '/^HugetlbPages:/ { printf "%d", $2 / 1024 }' "/proc/${pids[$1]}/status"
}

# A number from the pool's /tide/pool/info, read with the stock dpdk-telemetry.py; a query
# that failed (a loaded machine) is asked again, 5 times at most, 0.2 s apart.
tp_pool_once() {
	echo "/tide/pool/info,mb_pool_0" |
		timeout 10 dpdk-telemetry.py -f "tpe-$1-$$" 2>/dev/null |
		python3 -c 'import json,sys
t = sys.stdin.read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
print(j["/tide/pool/info"].get(sys.argv[1], -1))' "$2"
}

tp_pool() {
	local i v
	for ((i = 0; i < 5; i++)); do
		if v=$(tp_pool_once "$1" "$2") && [ -n "$v" ]; then
			echo "$v"
			return 0
		fi
		sleep 0.2
	done
	echo "testpmd-elastic: telemetry: /tide/pool/info of testpmd $1 did not answer 5" \
		"times" >&2
	return 1
}

common_args=(--vdev net_null0 --vdev net_null1 -- -i --total-num-mbufs=262144 --no-mlockall
	--no-flush-rx)

footprint() {
	local ops mb0 mb max i
	for ops in ring_mp_mc tide; do
		tp_start "fp_$ops" "$ops" "${common_args[@]}"
		mb0=$(tp_mb "fp_$ops")
		tp_go "fp_$ops"
		max=$mb0
		for ((i = 0; i < seconds * 5; i++)); do
			sleep 0.2
			mb=$(tp_mb "fp_$ops")
			[ "$mb" -le "$max" ] || max=$mb
		done
		tp_cmd "fp_$ops" stop
		row "footprint,$ops,start_mb,$mb0,MB"
		row "footprint,$ops,forwarding_max_mb,$max,MB"
		row "footprint,$ops,forwarding_end_mb,$mb,MB"
		tp_quit "fp_$ops"
		eval "fp_$ops=$max"
	done
	echo "footprint: ring_mp_mc holds ${fp_ring_mp_mc} MB forwarding, tide ${fp_tide} MB"
	[ "$check" -eq 0 ] || [ "$fp_tide" -lt $((fp_ring_mp_mc / 4)) ] ||
		fail "the tide pool held $fp_tide MB, not much less than ring_mp_mc's $fp_ring_mp_mc"
}

# Wait until NAME's log holds COUNT lines matching TEXT (or SECONDS pass).
tp_wait_count() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(grep -c -- "$2" "$stage/$1.log")" -lt "$3" ] || return 0
		sleep 0.1
	done
	echo "testpmd $1: fewer than $3 '$2' after $4 s" >&2
	return 1
}

# tp_go NAME [COMMAND]: COMMAND (default start) and wait until testpmd has begun it: its
# "packet forwarding - " lines one more. A command written to the FIFO is only queued: on a
# loaded machine testpmd may take it up late, and what is measured next would miss the run.
tp_go() {
	local n
	n=$(grep -c -- "packet forwarding - " "$stage/$1.log" || true)
	tp_cmd "$1" "${2:-start}"
	tp_wait_count "$1" "packet forwarding - " $((n + 1)) 60
}

# Mpps of one io run on the two net_null ports, as testpmd itself measures it: the sum of
# both ports' Tx-pps over the seconds between two "show port stats all" (a command line
# that is slow to answer on a busy machine does not count); in rate_mpps. Called in this
# shell, not in $(...): a subshell's fail() and its testpmd's pid would be lost there.
rate_mpps=
rate_run() {
	local name=$1 ops=$2
	tp_start "$name" "$ops" "${common_args[@]}"
	tp_go "$name"
	sleep 1
	tp_cmd "$name" "show port stats all"
	tp_wait_count "$name" "Tx-pps:" 2 120
	sleep "$seconds"
	tp_cmd "$name" "show port stats all"
	tp_wait_count "$name" "Tx-pps:" 4 120
	tp_cmd "$name" stop
	tp_quit "$name"
	rate_mpps=$(awk '/Tx-pps:/ { v[n++] = $2 }
		END { printf "%.2f", (v[n - 1] + v[n - 2]) / 1e6 }' "$stage/$name.log")
}

rate() {
	local i a b ratios=""
	for ((i = 1; i <= runs; i++)); do
		# Four runs a pair, tide ring ring tide (ring tide tide ring every other pair):
		# the machine's speed drifts within minutes, and in this order a steady drift
		# weighs on both sides alike.
		a=
		b=
		if [ $((i % 2)) -eq 1 ]; then
			rate_run "rt_t${i}a" tide; a=$rate_mpps
			rate_run "rt_r${i}a" ring_mp_mc; b=$rate_mpps
			rate_run "rt_r${i}b" ring_mp_mc; b="$b $rate_mpps"
			rate_run "rt_t${i}b" tide; a="$a $rate_mpps"
		else
			rate_run "rt_r${i}a" ring_mp_mc; b=$rate_mpps
			rate_run "rt_t${i}a" tide; a=$rate_mpps
			rate_run "rt_t${i}b" tide; a="$a $rate_mpps"
			rate_run "rt_r${i}b" ring_mp_mc; b="$b $rate_mpps"
		fi
		echo "rate: pair $i: tide $a, ring_mp_mc $b" >&2
		read -r a b r < <(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " ");
			split(b, y, " "); printf "%.2f %.2f %.3f\n", (x[1] + x[2]) / 2,
			(y[1] + y[2]) / 2, (x[1] + x[2]) / (y[1] + y[2]) }')
		row "rate,pair$i/tide,mpps,$a,Mpps"
		row "rate,pair$i/ring_mp_mc,mpps,$b,Mpps"
		row "rate,pair$i/tide:ring_mp_mc,ratio,$r,x"
		ratios="$ratios $r"
	done
	# The figure: the median pair, as tide-bench gives the median of its rounds.
	r=$(echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f", m }')
	row "rate,tide:ring_mp_mc,ratio,$r,x"
	echo "rate: tide : ring_mp_mc =$ratios, median $r (io on net_null, $seconds s runs)"
	# Speed is for benchmarks (this machine's speed moves by 1.5x): a test checks it forwards.
	[ "$check" -eq 0 ] || awk -v a="$a" 'BEGIN { exit !(a > 1) }' ||
		fail "testpmd on the tide pool forwarded $a Mpps"
}

load() {
	local name=ld mb_idle mb_peak=0 mb_after mb i t0 nombuf in_use in_use_idle in_use_peak=0
	tp_start "$name" tide --vdev net_null0 --vdev net_null1 --vdev net_ring0 \
		--vdev net_ring1 --vdev net_ring2 --vdev net_ring3 -- -i --total-num-mbufs=262144 \
		--no-mlockall --no-flush-rx --rxq=16 --txq=16
	tp_go "$name"
	sleep 2
	mb_idle=$(tp_mb "$name")
	in_use_idle=$(tp_pool "$name" in_use)
	# Load: 31 bursts of 32 into each of the 64 ring queues, forwarded round and round.
	tp_cmd "$name" stop
	tp_go "$name" "start tx_first 31"
	# The peak: at least 2 s of it, on until the pool holds the load (50000 mbufs in flight,
	# 100 MB more than idle) or for 30 s: a loaded machine gets there later.
	t0=$SECONDS
	for ((i = 0; ; i++)); do
		sleep 0.1
		[ $((SECONDS - t0)) -lt 30 ] || break
		mb=$(tp_mb "$name")
		[ "$mb" -le "$mb_peak" ] || mb_peak=$mb
		[ "$i" -ge 19 ] || continue
		# A telemetry query that failed (a loaded machine): the next one.
		in_use=$(tp_pool "$name" in_use) || continue
		[ "$in_use" -le "$in_use_peak" ] || in_use_peak=$in_use
		[ "$in_use_peak" -lt 50000 ] || [ "$mb_peak" -lt $((mb_idle + 100)) ] || break
	done
	# The load stops: the forwarding lcore drains the rings (rxonly) until what is in flight
	# is back to about what it was idle (for 30 s at most), then io again.
	tp_cmd "$name" stop
	tp_cmd "$name" "set fwd rxonly"
	tp_go "$name"
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt 30 ] &&
		[ "$(tp_pool "$name" in_use)" -gt $((in_use_idle + 2048)) ]; do
		sleep 0.1
	done
	tp_cmd "$name" stop
	tp_cmd "$name" "set fwd io"
	tp_go "$name"
	# The reaper gives the blocks back once they have been idle a while: 60 s at most.
	t0=$SECONDS
	while :; do
		sleep 0.1
		mb_after=$(tp_mb "$name")
		[ "$mb_after" -gt $((mb_idle + 16)) ] || break
		[ $((SECONDS - t0)) -lt 60 ] || break
	done
	local grows reaps fails drains
	grows=$(($(tp_pool "$name" grows_ahead) + $(tp_pool "$name" grows_sync)))
	reaps=$(tp_pool "$name" reaps)
	fails=$(tp_pool "$name" deq_refused)
	drains=$(tp_pool "$name" cache_drains)
	tp_cmd "$name" "show port stats all"
	tp_cmd "$name" stop
	tp_wait_for "$name" "Accumulated forward statistics for all ports" 60
	tp_quit "$name"
	nombuf=$(awk '/RX-nombuf:/ { n += $2 } END { print n + 0 }' "$stage/$name.log")
	row "load,tide,idle_mb,$mb_idle,MB"
	row "load,tide,loaded_peak_mb,$mb_peak,MB"
	row "load,tide,in_use_loaded,$in_use_peak,mbufs"
	row "load,tide,after_mb,$mb_after,MB"
	row "load,tide,grows,$grows,blocks"
	row "load,tide,reaps,$reaps,blocks"
	row "load,tide,deq_refused,$fails,dequeues"
	row "load,tide,cache_drains,$drains,caches"
	row "load,tide,rx_nombuf,$nombuf,packets"
	echo "load: ${mb_idle} MB forwarding -> ${mb_peak} MB with $in_use_peak mbufs in flight ->" \
		"${mb_after} MB after; $grows grows, $reaps reaps, $fails refused dequeues," \
		"rx_nombuf $nombuf"
	if [ "$check" -eq 1 ]; then
		[ "$in_use_peak" -ge 50000 ] || fail "only $in_use_peak mbufs in flight"
		[ "$mb_peak" -ge $((mb_idle + 100)) ] || fail "the pool did not grow under load"
		[ "$mb_after" -le $((mb_idle + 16)) ] || fail "the pool did not shrink back"
		[ "$fails" -eq 0 ] || fail "$fails allocations failed"
		[ "$nombuf" -eq 0 ] || fail "rx_nombuf $nombuf"
	fi
}

case "$what" in
footprint) footprint ;;
rate) rate ;;
load) load ;;
all) footprint; rate; load ;;
esac
exit $failed
