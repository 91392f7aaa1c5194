#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tide-bench runs every scenario end to end (short, so this checks that it works and
# prints its CSV rows, not how fast anything is: timing belongs to the real runs).
#   test_bench.sh TIDE_BENCH
set -eu
bench=$1
# Where EAL puts 2 MB hugepage files: the first hugetlbfs of 2 MB pages (setup.sh mounts one
# on /dev/hugepages, or on /dev/hugepages-2M where /dev/hugepages holds 1 GB pages).
huge=$(awk '$3 == "hugetlbfs" && $4 ~ /pagesize=2M/ { print $2; exit }' /proc/mounts)
huge=${huge:-/dev/hugepages}
# What a run that crashed leaves: the killed mempool run's and the pipeline run's (no
# --huge-unlink: its worker process maps the primary's hugepage files) runtime directories
# and hugepage files.
pid=
worker=
sig_log=
trap '[ -z "$pid" ] || { kill -9 "$pid"; wait "$pid" || true; } 2>/dev/null
	[ -z "$worker" ] || kill -9 "$worker" 2>/dev/null || true
	rm -rf "/var/run/dpdk/tbkill$$" "/var/run/dpdk/tide-bench-pin-$$" "/var/run/dpdk/tbmain$$" \
	"/var/run/dpdk/tbsig$$" "$huge"/tide-bench-pin-$$map_* "$huge"/tbsig$$map_*
	[ -z "$sig_log" ] || rm -f "$sig_log"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

check() {
	name=$1
	shift
	out=$("$bench" "$name" "$@" 2>/dev/null)
	echo "$out" | head -1 | grep -qx "scenario,variant,metric,value,unit" ||
		{ echo "$name: no CSV header"; echo "$out"; exit 1; }
	rows=$(echo "$out" | grep "^$name," | grep -vc "^$name,machine/" || true)
	echo "$name: $rows rows"
	[ "$rows" -gt 2 ] || { echo "$out"; exit 1; }
	# The machine's state, before and after: a cache line's round trip between two lcores.
	for when in start end; do
		echo "$out" | grep -Eq "^$name,machine/$when,c2c_round_trip,[0-9.e+]+,ns$" ||
			{ echo "$name: no machine/$when row"; echo "$out"; exit 1; }
	done
}

check mempool --rounds 1 --ms 5 --filter bulk32
# The mempool scenario's profile (its tide pools fixed) is no file of its own: a run
# killed in the middle leaves nothing behind in /tmp.
prefix=tbkill$$
before=$(ls /tmp | grep '^tide-bench-profile' || true)
"$bench" -l 0-1 --no-pci --huge-unlink --file-prefix "$prefix" -- mempool --ms 60000 \
	--filter cache256/bulk8/pipe >/dev/null 2>&1 &
pid=$!
# Until it holds its profile, 30 s at most.
i=0
while [ $i -lt 300 ] && ! ls -l /proc/$pid/fd 2>/dev/null | grep -q tide-bench-profile; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid || true
pid=
rm -rf "/var/run/dpdk/$prefix"
after=$(ls /tmp | grep '^tide-bench-profile' || true)
for f in $after; do
	echo "$before" | grep -qx "$f" && continue
	rm -f "/tmp/$f"
	echo "mempool: a killed run left /tmp/$f"
	exit 1
done
[ $i -lt 300 ] || { echo "mempool: no profile seen open in 30 s"; exit 1; }
# The noise floor: tide against a second tide pool, per row and ranged per cache setting.
out=$("$bench" mempool --rounds 1 --ms 5 --filter cache256/bulk32/pipe 2>/dev/null)
for r in tide:tide_aa/cache256/bulk32/pipe,ratio noise:cache256:tide:tide_aa,low \
	noise:cache256:tide:tide_aa,high tide:ring_mp_mc/cache256/bulk32/pipe,alloc_cost \
	tide:ring_mp_mc/cache256/bulk32/pipe,free_cost; do
	echo "$out" | grep -Eq "^mempool,$r,[0-9.e+]+,x$" ||
		{ echo "mempool: no $r row"; echo "$out"; exit 1; }
done
# Each side of the pipe is timed inside its mempool calls: a cost above zero per driver.
for r in tide ring_mp_mc stack; do
	for m in alloc_ns free_ns; do
		echo "$out" | grep -Eq "^mempool,$r/cache256/bulk32/pipe,$m,[0-9.e+]*[1-9][0-9.e+]*,ns/obj$" ||
			{ echo "mempool: no $r $m row above zero"; echo "$out"; exit 1; }
	done
done
check fwd --rounds 1 --ms 50
# A main lcore that is not the lowest: each worker forwards on a queue of its own (lcore 0's
# was queue -1, out of bounds: SIGSEGV).
status=0
out=$("$bench" -l 0-1 --main-lcore 1 --no-pci --huge-unlink --file-prefix "tbmain$$" -- \
	fwd --rounds 1 --ms 5 2>&1) || status=$?
rm -rf "/var/run/dpdk/tbmain$$"
echo "$out" | grep -Eq "^fwd,tide,fwd,[0-9.e+]*[1-9][0-9.e+]*,Mpps$" && [ "$status" -eq 0 ] ||
	{ echo "fwd --main-lcore 1: exit status $status, or no tide rate above 0"; echo "$out";
	exit 1; }
# fwd's noise floor: a second stock pool against the first.
out=$("$bench" fwd --rounds 2 --ms 20 2>/dev/null) || { echo "fwd: exit status $?"; exit 1; }
echo "$out" | grep -Eq "^fwd,ring_mp_mc_aa:ring_mp_mc,ratio,[0-9.e+]+,x$" ||
	{ echo "fwd: no ring_mp_mc_aa:ring_mp_mc row"; exit 1; }
# Cross-lcore ratios per state of the machine: a ratio and its rounds for each state seen,
# the rounds of both states at most the run's (rounds where the state changed count in
# neither), and some state seen in 8 rounds.
states() {
	name=$1 v=$2 metric=$3
	out=$("$bench" "$name" --rounds 8 --ms 20 2>/dev/null)
	seen=0
	for s in fast slow; do
		echo "$out" | grep -q "^$name,$v/$s," || continue
		echo "$out" | grep -Eq "^$name,$v/$s,$metric,[0-9.e+]+,x$" ||
			{ echo "$name: no $v/$s $metric"; echo "$out"; exit 1; }
		n=$(echo "$out" | sed -n "s|^$name,$v/$s,rounds,\([0-9]*\),\$|\1|p")
		[ -n "$n" ] && [ "$n" -ge 1 ] ||
			{ echo "$name: no $v/$s rounds"; echo "$out"; exit 1; }
		seen=$((seen + n))
	done
	[ "$seen" -ge 1 ] && [ "$seen" -le 8 ] ||
		{ echo "$name: $seen rounds by state of 8"; echo "$out"; exit 1; }
}
states msg msg:ring/2lcores cost_ratio
states pipeline tide_xchg:ring ratio
states pipeline tide_xchg:event_sw ratio
check footprint --trace 1:200,0:400 --hold-ms 20 --cycles 1
check msg --rounds 1 --ms 20
check pipeline --rounds 1 --ms 50
# The pipeline's stage 2 in a secondary tide-bench as well as in a thread; the floor with
# the classification; priorities served over stock rings, one a level; both stages on one
# lcore, with the classification's share and the exchange's apart.
out=$("$bench" pipeline --rounds 1 --ms 50 2>/dev/null)
for r in tide_xchg_process:tide_xchg tide_xchg:ring_classify tide_xchg_1lcore:ring_1lcore \
		ring_classify_1lcore:ring_1lcore tide_xchg_1lcore:ring_classify_1lcore \
		ring_prio:ring tide_xchg:ring_prio ring_prio_1lcore:ring_1lcore \
		tide_xchg_1lcore:ring_prio_1lcore; do
	echo "$out" | grep -Eq "^pipeline,$r,ratio,[0-9.e+]+,x$" ||
		{ echo "pipeline: no $r row"; echo "$out"; exit 1; }
done
# While stage 2 runs in a thread, on the CPU the worker process is pinned to, that process
# sleeps: it wakes when told to work and every 100 ms to see that the primary is there,
# never every millisecond (each look took that CPU from the thread variants: 6-12%).
t0=$(date +%s%N)
out=$("$bench" pipeline --rounds 2 --ms 50 --filter tide_xchg 2>/dev/null)
ms=$((($(date +%s%N) - t0) / 1000000))
looks=$(echo "$out" | sed -n 's/^pipeline,tide_xchg_process,idle_looks,\([0-9]*\),looks$/\1/p')
[ -n "$looks" ] && [ "$looks" -le $((ms / 100 + 20)) ] ||
	{ echo "pipeline: the idle worker process looked ${looks:-?} times in $ms ms"; echo "$out";
	exit 1; }
echo "pipeline: the idle worker process looked $looks times in $ms ms"
# SIGINT or SIGTERM in the middle of a long measurement: the run ends soon, says so, fails,
# and leaves neither hugepage files (pipeline runs without --huge-unlink) nor its runtime
# directory; the worker process is gone with it.
sig_log=$(mktemp)
# worker_started: wait (30 s at most) until the run in $sig_log has its worker process.
worker_started() {
	i=0
	while [ $i -lt 300 ] && ! grep -q "^pipeline,tide_xchg_process,worker_cpu," "$sig_log"
	do
		sleep 0.1
		i=$((i + 1))
	done
}
for sig in INT TERM; do
	"$bench" -l 0-1 --no-pci --base-virtaddr=0x200000000000 --file-prefix "tbsig$$" -- \
		pipeline --rounds 1 --ms 60000 >"$sig_log" 2>&1 &
	pid=$!
	worker_started
	sleep 0.2
	kill -"$sig" $pid
	i=0
	while [ $i -lt 200 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	status=0
	kill -0 $pid 2>/dev/null && { echo "pipeline: still running 20 s after SIG$sig";
		cat "$sig_log"; exit 1; }
	wait $pid || status=$?
	pid=
	grep -q "^tide-bench: interrupted" "$sig_log" && [ "$status" -eq 1 ] ||
		{ echo "pipeline, SIG$sig: exit status $status"; cat "$sig_log"; exit 1; }
	left=$(ls -d "$huge"/tbsig$$map_* /var/run/dpdk/tbsig$$ 2>/dev/null || true)
	[ -z "$left" ] || { echo "pipeline, SIG$sig: left $left"; exit 1; }
	echo "pipeline: SIG$sig ended the run after $((i / 10)) s, nothing left"
done
# The primary killed in the middle of a round: its worker process, receiving, goes too, within
# a few seconds, not left spinning on its CPU. What the primary leaves (killed: no clean-up)
# is removed here.
"$bench" -l 0-1 --no-pci --base-virtaddr=0x200000000000 --file-prefix "tbsig$$" -- \
	pipeline --rounds 1 --ms 60000 --filter =tide_xchg_process >"$sig_log" 2>&1 &
pid=$!
worker_started
worker=$(cat /proc/$pid/task/*/children | tr -d " ")
[ -n "$worker" ] || { echo "pipeline: no worker process"; cat "$sig_log"; exit 1; }
sleep 0.5
kill -9 $pid
wait $pid || true
pid=
# Gone, or a zombie no one reaps (a container's init may not).
i=0
while [ $i -lt 50 ] && [ -e "/proc/$worker" ] && ! grep -q '^State:.*Z' "/proc/$worker/status"
do
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 50 ] || { echo "pipeline: the worker process outlived its killed primary by 5 s";
	exit 1; }
worker=
rm -rf "/var/run/dpdk/tbsig$$" "$huge"/tbsig$$map_*
echo "pipeline: the worker process went with its killed primary in $((i / 10)) s"
# --inflight sets the depth: the smallest and the largest run, every ratio still there.
for d in 32 4096; do
	out=$("$bench" pipeline --rounds 1 --ms 20 --inflight $d 2>/dev/null)
	for r in tide_xchg:ring tide_xchg:ring_prio; do
		echo "$out" | grep -Eq "^pipeline,$r,ratio,[0-9.e+]+,x$" ||
			{ echo "pipeline --inflight $d: no $r row"; echo "$out"; exit 1; }
	done
done
# The worker process runs on the worker lcore's CPU, also where --lcores maps lcore 100 to
# CPU 1 (the physical core's id of a CPU 100, mostly none, is no CPU to pin to). EAL
# arguments given replace tide-bench's own: the base address a sanitized build's
# secondary needs is given again.
# A failing run is reported with what it said, not ended by set -e unseen.
err=$(mktemp)
status=0
out=$("$bench" --lcores 0@0,100@1 --no-pci --base-virtaddr=0x200000000000 \
	--file-prefix "tide-bench-pin-$$" -- pipeline --rounds 1 --ms 20 \
	--filter =tide_xchg_process 2>"$err") || status=$?
if [ "$status" -ne 0 ] ||
		! echo "$out" | grep -q "^pipeline,tide_xchg_process,worker_cpu,1,cpu$"; then
	echo "pipeline --lcores 0@0,100@1 (exit $status): the worker process is not on CPU 1"
	echo "$out"; cat "$err"; rm -f "$err"; exit 1
fi
rm -f "$err"
# --filter runs the variants it names only, and the ratios between those only.
out=$("$bench" pipeline --rounds 1 --ms 20 --filter ring 2>/dev/null)
echo "$out" | grep -q "^pipeline,ring_classify:ring,ratio," ||
	{ echo "pipeline --filter ring: no ring_classify:ring row"; echo "$out"; exit 1; }
if echo "$out" | grep -q "^pipeline,[a-z_:]*\(xchg\|event_sw\)"; then
	echo "pipeline --filter ring ran other variants"; echo "$out"; exit 1
fi
# --filter in the other scenarios too: only the variants it names run, and a ratio only
# when both of its variants ran. filtered SCENARIO FILTER PATTERN ARGS...: every row but the
# machine's names a variant PATTERN (a grep -E pattern) matches, and some row does.
filtered() {
	name=$1 filter=$2 want=$3
	shift 3
	out=$("$bench" "$name" --filter "$filter" "$@" 2>/dev/null) ||
		{ echo "$name --filter $filter: exit status $?"; echo "$out"; exit 1; }
	rows=$(echo "$out" | grep "^$name," | grep -v "^$name,machine/" || true)
	[ -n "$rows" ] || { echo "$name --filter $filter: no row"; echo "$out"; exit 1; }
	if echo "$rows" | grep -Ev "^$name,($want)," >/dev/null; then
		echo "$name --filter $filter ran other variants"; echo "$out"; exit 1
	fi
	echo "$name --filter $filter: $(echo "$rows" | cut -d, -f2 | sort -u | tr '\n' ' ')"
}
filtered fwd =tide "tide" --rounds 1 --ms 5
filtered fwd ring "ring_mp_mc|ring_mp_mc_aa|ring_mp_mc_aa:ring_mp_mc" --rounds 1 --ms 5
filtered msg 1lcore "[a-z_]+/1lcore|[a-z_]+:ring/1lcore" --rounds 1 --ms 5
filtered fanout =copy "copy" --rounds 1 --ms 5
filtered fanout o "proxy|clone|copy|proxy:clone" --rounds 1 --ms 5
filtered footprint =tide "tide" --trace 1:50,0:50 --hold-ms 5 --cycles 1
# mempool's key is the pattern without the driver, exactly too: every driver runs it.
filtered mempool =cache256/bulk32/pipe \
	"[a-z_:]+/cache256/bulk32/pipe|noise:cache256:[a-z_:]+|target:cache:[^,]+" --rounds 1 --ms 5
# --help says what --filter matches in every scenario.
for s in $("$bench" --list | cut -f1); do
	"$bench" --help | grep -A1 "^  $s " | grep -q "^ *filter: [a-z]" ||
		{ echo "--help: no --filter keys for $s"; exit 1; }
done
# A filter that runs nothing is a mistake: said, and exit status 1, in every scenario.
for c in "mempool --rounds 1 --ms 1" "fwd --rounds 1 --ms 1" "msg --rounds 1 --ms 1" \
		"fanout --rounds 1 --ms 1" "footprint --trace 1:50,0:50 --hold-ms 5 --cycles 1" \
		"pipeline --rounds 1 --ms 1"; do
	err=$(mktemp)
	status=0
	# shellcheck disable=SC2086
	"$bench" $c --filter =nosuch >/dev/null 2>"$err" || status=$?
	msg="^tide-bench: --filter =nosuch ran no variant of scenario ${c%% *}: none is named"
	if [ "$status" -ne 1 ] || ! grep -q "$msg" "$err"; then
		echo "${c%% *} --filter =nosuch: exit status $status"; cat "$err"; rm -f "$err"
		exit 1
	fi
	rm -f "$err"
done
echo "--filter =nosuch: refused by every scenario"
check fanout --rounds 1 --ms 20
check zctx --rounds 1 --ms 20
check donor --rounds 1 --ms 20
# --sizes runs those sizes only.
out=$("$bench" zctx --rounds 1 --ms 20 --sizes 128,32768 2>/dev/null)
sizes=$(echo "$out" | sed -n 's|^zctx,[a-z]*/zc/\([0-9]*\),tput,.*|\1|p' | sort -u | tr '\n' ' ')
[ "$sizes" = "128 32768 " ] || { echo "--sizes 128,32768 ran: $sizes"; exit 1; }
if "$bench" zctx --sizes 1000 >/dev/null 2>&1; then echo "--sizes 1000 accepted"; exit 1; fi
if "$bench" zctx --sizes mixed >/dev/null 2>&1; then echo "--sizes mixed accepted"; exit 1; fi
# --sizes mix: the sizes in turn, each variant, with adaptive against the better path.
out=$("$bench" zctx --rounds 1 --ms 20 --sizes mix,64 --filter null 2>/dev/null)
for v in zc/mix,tput copy/mix,tput adaptive/mix,tput adaptive:best/mix,ratio zc/64,tput; do
	echo "$out" | grep -q "^zctx,null/$v," ||
		{ echo "--sizes mix,64: no null/$v"; echo "$out"; exit 1; }
done
out=$("$bench" footprint --trace 1:200,0:400 --hold-ms 20 --cycles 1 --table 2>/dev/null) ||
	{ echo "footprint --table: exit status $?"; exit 1; }
echo "$out" | grep -q "^footprint .* tide:fixed .* mb_s" || { echo "no table"; exit 1; }
# --list names every scenario, one a line, with what it measures; --quick shortens one.
for s in mempool fwd footprint msg pipeline fanout zctx; do
	"$bench" --list | grep -q "^$s	[a-z]" ||
		{ "$bench" --list; echo "--list: no $s"; exit 1; }
done
check fanout --quick --ms 10
# A bad command line is refused, with the usage.
if "$bench" nosuchscenario >/dev/null 2>&1; then echo "unknown scenario accepted"; exit 1; fi
echo ok
