#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tidepmd across processes, and stock DPDK tools reading it, as a user runs them:
#  - a primary tidepmd --mode pipeline --mp-workers 2 receives and classifies; secondary
#    tidepmds (--mode worker) run stage 2 and transmit, each lcore on a TX queue of its own;
#    the primary's totals count what they sent; a third worker finds no TX queue left;
#  - dpdk-proc-info (with the plugin, -d) reads the elastic pool and the ports;
#  - dpdk-dumpcap and dpdk-pdump, which do not load tidepool at all, capture the packets of
#    a tidepmd primary (their pools' drivers have the same index in the primary: the tide
#    ops are registered after every stock driver); they detach while its forwarding is
#    stopped at its prompt (DPDK 22.11's pdump race, below);
#  - a worker killed with SIGKILL: the primary gives its TX queue back and a new worker
#    takes it; at the end the workers leave with the primary's run and no message is left;
#  - a worker whose process exits slowly after its lcores left: the primary's stop waits for
#    it and says so, and the run's summary is dated when the workers left; a second SIGINT
#    cuts that wait short, naming the worker it leaves;
#  - a worker that does not leave at the primary's stop (stopped): the primary keeps the
#    exchange it may read and refuses a new start until it is gone; SIGTERM while the
#    prompt waits for such a worker cuts that wait short, naming it, and ends the prompt
#    then, without more input; the totals
#    since launch keep what an earlier run's workers sent;
#  - a worker with no pipeline to work for, and --mode worker in a primary, are refused;
#  - the primary prints the command that starts its workers, with its file prefix (the one
#    it chose itself too) and lcores of their own: run as printed, a worker works; a worker
#    on an lcore id the primary or another worker runs is refused, naming both, and the
#    run goes on.
# No process the test started is waited for without a bound: one that does not end in time
# is named, where its threads wait is shown (with gdb, if installed), it is killed and the
# test fails with every log, well before meson's timeout.
#   test_tidepmd_mp.sh TIDEPMD PLUGIN PCAP_TOOL
set -euo pipefail
tidepmd=$1
plugin=$2
pcap_tool=$3
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/stage-plugin.sh"

prefix=tide-tpmd-mp-$$
tmp=  # made once the trap that removes it is set
hugedir=$(awk '$3 == "hugetlbfs" { print $2; exit }' /proc/mounts)
declare -a pids=() # started and not yet waited for (forget)
own=  # the file prefix a primary chose itself (tidepmd-<pid>)
# gone PID: PID has ended (a zombie not yet waited for counts as ended).
gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "${st%% *}" = Z ]
}

# forget PID: PID was waited for: out of pids, since its number may now be another
# process's.
forget() {
	local p
	local -a kept=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || kept+=("$p")
	done
	pids=("${kept[@]}")
}

# ours PID: PID is a process this script started (its parent is the script). bash reaps an
# ended background job by itself, keeping its status for wait: a pid still in pids may
# already be another process's.
ours() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st#* }
	[ "${st%% *}" = "$$" ]
}

cleanup() {
	local p i
	local -a live=()
	for p in "${pids[@]}"; do
		if ours "$p"; then live+=("$p"); fi
	done
	for p in "${live[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	# SIGKILLed, a process still ends only once it leaves the kernel: do not hang on one that
	# never does (it is named; its files may be left).
	for p in "${live[@]}"; do
		for ((i = 0; i < 100; i++)); do
			gone "$p" && break
			sleep 0.1
		done
		gone "$p" || echo "cleanup: process $p did not end 10 s after SIGKILL" >&2
	done
	for p in "${pids[@]}"; do
		if gone "$p"; then wait "$p" 2>/dev/null || true; fi
	done
	# The primary ran without --huge-unlink (its secondaries map its files).
	rm -f "$hugedir/${prefix}"map_* "$hugedir/${prefix}-io"map_*
	rm -f "$hugedir/${prefix}-cap"map_* "$hugedir/${prefix}-st"map_* \
		"$hugedir/${prefix}-sl"map_* "$hugedir/${prefix}-sc"map_* \
		"$hugedir/${prefix}-lc"map_*
	rm -rf "/var/run/dpdk/$prefix" "/var/run/dpdk/$prefix-io" "/var/run/dpdk/$prefix-x" \
		"/var/run/dpdk/$prefix-cap" "/var/run/dpdk/$prefix-st" "/var/run/dpdk/$prefix-sl" \
		"/var/run/dpdk/$prefix-sc" "/var/run/dpdk/$prefix-lc" "$tmp"
	if [ -n "$own" ]; then
		rm -f "$hugedir/${own}"map_*
		rm -rf "/var/run/dpdk/$own"
	fi
}
trap cleanup EXIT
tmp=$(mktemp -d /run/tide-tpmd-mp.XXXXXX)
staged=$(tide_stage_plugin "$plugin" "$tmp")

# stacks PID: every thread's stack of PID, a process of ours that hangs (with gdb only).
stacks() {
	command -v gdb >/dev/null || return 0
	echo "---- stacks of $1"
	timeout 60 gdb -batch -nx -p "$1" -ex "thread apply all bt" 2>&1 |
		grep -E "^Thread|^#" | head -n 300
}

fail() {
	local f
	for f in "$tmp"/*.log; do
		echo "---- $(basename "$f")"
		tail -n 40 "$f"
	done
	echo "FAIL: $*"
	exit 1
}

# show_threads PID NAME [gdb]: where each thread of PID is, in the kernel and, with gdb (at
# most 30 s: it takes a while on a DPDK process), in the program: what a hung DPDK process
# waits for (an IPC reply, a lock, another process).
show_threads() {
	local t st
	[ -d "/proc/$1" ] || return 0
	echo "---- $2 (pid $1): threads"
	for t in /proc/"$1"/task/*; do
		st=$(sed 's/.*) //' "$t/stat" 2>/dev/null) || true
		echo "$(cat "$t/comm" 2>/dev/null) $(basename "$t"): state ${st%% *}," \
			"wchan $(cat "$t/wchan" 2>/dev/null), syscall $(cut -d' ' -f1 "$t/syscall" \
			2>/dev/null)"
		sed 's/^/    /' "$t/stack" 2>/dev/null || true
	done
	if [ "${3:-}" = gdb ] && command -v gdb >/dev/null; then
		timeout 30 gdb -p "$1" -batch -nx -ex "thread apply all bt" 2>&1 |
			grep -E '^(Thread|#)' || true
	fi
}

# reap PID NAME SECONDS: wait for PID, a process this test started, at most SECONDS; return
# its exit status. A process still there then has hung: say which, show where its threads are
# (and, in the kernel, those of the test's other processes still running: the primary it
# waits for), kill it and fail with every log.
reap() {
	local pid=$1 name=$2 secs=$3 i p rc=0
	for ((i = 0; i < secs * 10; i++)); do
		gone "$pid" && break
		sleep 0.1
	done
	if ! gone "$pid"; then
		echo "$name (pid $pid) has not ended within $secs s: it hangs"
		show_threads "$pid" "$name" gdb
		for p in "${pids[@]}"; do
			[ "$p" = "$pid" ] || gone "$p" ||
				show_threads "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"
		done
		kill -9 "$pid" 2>/dev/null || true
		fail "$name (pid $pid) hung: not ended within $secs s, killed"
	fi
	wait "$pid" || rc=$?
	forget "$pid"
	return "$rc"
}

# freeze PID NAME: stop PID (SIGSTOP) and wait until every thread of it is stopped. kill
# returns once the signal is queued; the group stop begins only when one of its threads runs
# again, and until then its other threads go on (a worker lcore could still see its primary's
# stop and leave): what follows must find it stopped.
freeze() {
	local t st i all seen
	kill -STOP "$1"
	for ((i = 0; i < 300; i++)); do
		all=1
		seen=0
		for t in /proc/"$1"/task/*; do
			st=$(sed 's/.*) //' "$t/stat" 2>/dev/null) || continue
			seen=$((seen + 1))
			[ "${st%% *}" = T ] || all=0
		done
		gone "$1" && fail "$2 (pid $1): ended instead of stopping"
		[ "$all" = 1 ] && [ "$seen" -gt 0 ] && return 0
		sleep 0.1
	done
	show_threads "$1" "$2"
	fail "$2 (pid $1): not stopped 30 s after SIGSTOP"
}

# freeze_unlocked PID NAME: freeze PID, a secondary, where it holds no lock on the hugepage
# directory. A secondary syncing its memory map with the primary's (DPDK's mp_malloc_sync)
# holds that directory's flock, and a primary freeing hugepages meanwhile (a reap) waits for
# it inside rte_memzone_free(), its pool's lock held: stopped then, the secondary stops its
# primary's reaper and every call that waits for it (tide_pool_reap_set() at a stop), a
# DPDK 22.11 wait the stacks of a failed run showed. These sections are about a stopped
# worker, not a stopped memory sync: stopped inside one, it goes on a moment and stops again.
freeze_unlocked() {
	local try ino
	ino=$(stat -c %i "$hugedir")
	for ((try = 0; try < 20; try++)); do
		freeze "$1" "$2"
		awk -v p="$1" -v i="$ino" '$2 == "FLOCK" && $5 == p && $6 ~ ":" i "$" { f = 1 }
			END { exit !f }' /proc/locks || return 0
		echo "$2 (pid $1): stopped in a memory sync (hugepage directory locked); again"
		kill -CONT "$1"
		sleep 0.2
	done
	fail "$2 (pid $1): stopped in a memory sync 20 times in a row"
}

# wait_count FILE PATTERN N SECONDS: until FILE has N lines matching PATTERN (grep -E).
wait_count() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(grep -cE "$2" "$1")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# run NAME SECONDS COMMAND...: COMMAND to its end, as reap bounds it, output in NAME.log;
# returns its exit status.
run() {
	local name=$1 secs=$2
	shift 2
	"$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	reap "$!" "$name" "$secs"
}

# wait_for FILE TEXT SECONDS: until FILE has a line matching TEXT (a grep -E pattern).
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$(basename "$1"): no '$2' within $3 s"
}

# reap_period PREFIX: the reap period of the pool tidepmd_s0 of the primary of PREFIX, as
# its telemetry says.
reap_period() {
	python3 - "/var/run/dpdk/$1/dpdk_telemetry.v2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(sys.argv[1])
s.recv(4096)
s.send(b"/tide/pool/info,tidepmd_s0")
print(json.loads(s.recv(65536).decode())["/tide/pool/info"]["reap_period_ms"])
PY
}

# start NAME EAL-AND-APP-ARGS...: tidepmd in the background, output in NAME.log.
start() {
	local name=$1
	shift
	"$tidepmd" "$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
}

worker_eal() {
	echo "--lcores $1 --no-pci --file-prefix $prefix --proc-type=secondary"
}

# ---- the primary and its workers ----
# The workers map the primary's memory at its addresses: --base-virtaddr keeps them clear of
# where libraries land (EAL's default base is inside ASan's shadow in a sanitized build).
start primary --lcores 0@0,1@1 --no-pci --file-prefix "$prefix" --vdev net_null0 \
	--vdev net_null1 --base-virtaddr=0x200000000000 -- --mode pipeline --mp-workers 2 --txq 2 \
	--stats-period 250
wait_for "$tmp/primary.log" "worker lcores 0/2" 60
# How to start the workers: its prefix, and lcores after its own (0 and 1) on the CPU it
# leaves idle (its main lcore's, 0; lcore 1 receives).
hint="  tidepmd --proc-type=secondary --file-prefix $prefix --no-pci --lcores 2@0,3@0,4@0"
hint="$hint -- --mode worker"
grep -qxF -- "$hint" "$tmp/primary.log" || fail "the primary did not print '$hint'"

# shellcheck disable=SC2046
start w1 $(worker_eal 4@0,5@0) -- --mode worker --stats-period 250
wait_for "$tmp/w1.log" "worker lcore 5 sends on TX queue 0" 60
# shellcheck disable=SC2046
start w2 $(worker_eal 6@1,7@1) -- --mode worker --stats-period 250
wait_for "$tmp/w2.log" "worker lcore 7 sends on TX queue 1" 60
wait_for "$tmp/primary.log" "worker lcores 2/2" 30
wait_for "$tmp/w1.log" "sent [1-9][0-9]* " 30
wait_for "$tmp/w2.log" "sent [1-9][0-9]* " 30

# A third worker: no TX queue left for it.
# shellcheck disable=SC2046
if run w3 60 "$tidepmd" $(worker_eal 8@0,9@0) -- --mode worker; then
	fail "a third worker ran with both TX queues taken"
fi
grep -q "every TX queue the primary gave its workers (--mp-workers 2) is taken" "$tmp/w3.log" ||
	fail "the third worker was not told why it cannot run"
echo "2 workers forwarding, the third refused: no TX queue left"

# ended_by_primary NAME STATUS [LOG]: STATUS is a stock tool's end by SIGKILL that the
# primary logged (in LOG, default primary.log). DPDK 22.11 can leave a secondary that ends
# while the primary grows or reaps stuck in its own rte_eal_cleanup() for good, holding the
# hugepage directory lock; the primary then ends it and says so (lib/pool/pool_unstick.c),
# once its work is done.
ended_by_primary() {
	[ "$2" -eq 137 ] &&
		grep -q "process [0-9]* ($1) exited its IPC channel" "$tmp/${3:-primary.log}" &&
		echo "$1: its cleanup stuck (DPDK 22.11), ended by the primary" >&2
}

# stock NAME LOG COMMAND...: run a stock tool (process name NAME) to its end (or to that
# end), output in LOG.log.
stock() {
	local name=$1 log=$2 rc=0
	shift 2
	run "$log" 60 "$@" || rc=$?
	[ "$rc" -eq 0 ] || ended_by_primary "$name" "$rc"
}

# ---- stock tools on the running primary ----
# dpdk-proc-info on the primary with the plugin. A sanitized plugin needs its runtime loaded
# first (TIDE_CHILD_PRELOAD).
# shellcheck disable=SC2206
proc_info=(env ${TIDE_CHILD_PRELOAD:+LD_PRELOAD=$TIDE_CHILD_PRELOAD ASAN_OPTIONS=detect_leaks=0}
	LD_LIBRARY_PATH="$tmp" dpdk-proc-info --file-prefix "$prefix" -d "$staged" --)
stock dpdk-proc-info proc-info "${proc_info[@]}" --show-mempool --stats ||
	fail "dpdk-proc-info failed"
grep -A 14 "mempool <tidepmd_s0>" "$tmp/proc-info.log" | grep -q "ops_name: <tide>" ||
	fail "dpdk-proc-info does not show the elastic pool"
grep -q "NIC statistics for port 0" "$tmp/proc-info.log" ||
	fail "dpdk-proc-info shows no port statistics"
populated=$(grep -A 8 "mempool <tidepmd_s0>" "$tmp/proc-info.log" |
	sed -n 's/^ *populated_size=\([0-9]*\)/\1/p')
stock dpdk-proc-info proc-info-pool "${proc_info[@]}" --show-mempool=tidepmd_s0 ||
	fail "dpdk-proc-info failed"
in_use=$(sed -n 's/.*Count: avail ([0-9]*), in use (\([0-9]*\)).*/\1/p' \
	"$tmp/proc-info-pool.log")
# In use: what is out of the pool, within what it holds (not counted against its wall).
[ -n "$in_use" ] && [ -n "$populated" ] && [ "$in_use" -le "$populated" ] ||
	fail "dpdk-proc-info: in use '$in_use' for a pool holding '$populated' objects"
echo "dpdk-proc-info: tidepmd_s0 holds $populated objects, $in_use in use"

# ---- a worker killed: its TX queue is given back, a new worker takes it ----
kill -9 "$pid_w1"
reap "$pid_w1" "worker 1 (SIGKILL)" 30 || true
wait_for "$tmp/primary.log" "worker process $pid_w1 is gone: TX queue 0 is free again" 30
# shellcheck disable=SC2046
start w4 $(worker_eal 4@0,5@0) -- --mode worker --stats-period 250
wait_for "$tmp/w4.log" "worker lcore 5 sends on TX queue 0" 60
wait_for "$tmp/w4.log" "sent [1-9][0-9]* " 30
echo "worker $pid_w1 killed: its TX queue given back and taken by a new worker"

# ---- the primary's run ends: the workers leave, nothing is left behind ----
kill -INT "$pid_primary"
# Past the primary's own 60 s wait for workers that left to exit (app/tidepmd/mp.c).
reap "$pid_primary" "the primary" 90 || fail "the primary failed"
reap "$pid_w2" "worker 2" 30 || fail "worker 2 failed"
reap "$pid_w4" "worker 4" 30 || fail "worker 4 failed"
for w in w2 w4; do
	grep -q "leaves: the primary's run is over" "$tmp/$w.log" || fail "$w did not leave"
done
grep -q "^tidepmd: no message left behind" "$tmp/primary.log" || fail "messages left behind"
read -r rx tx < <(sed -n 's/^  packets *rx \([0-9]*\), tx \([0-9]*\),.*/\1 \2/p' \
	"$tmp/primary.log")
# The primary's own lcore only receives: what was sent, its workers sent.
grep -qE "^  lcores +1: rx [1-9][0-9]* tx 0$" "$tmp/primary.log" ||
	fail "the primary's lcore should receive only"
[ "$tx" -gt 0 ] || fail "the primary counts nothing its workers sent"
echo "primary: rx $rx, tx $tx (all sent by the workers)"

# ---- stock capture tools on a primary's elastic pool ----
# Once the pipeline primary and its workers are gone: beside their three lcores polling the
# 2 CPUs, the tools ended 0.3 to 115 s after SIGINT and the section took up to 268 s (meson
# allows the whole test 300 s); alone with the capture primary, it takes a few seconds.
# DPDK 22.11's pdump removes its callbacks without waiting for the data path to leave them,
# and the tool frees its capture pool as soon as the primary answers: a forwarding lcore
# still copying a packet then takes an mbuf from freed memory and the primary dies with
# SIGSEGV (here in one run of this test in 38; fixed upstream in DPDK 25.11, "pdump: fix races in
# callbacks"). So the tools capture while a primary forwards and detach while it is stopped,
# at its prompt.
mkfifo "$tmp/cap.in"
"$tidepmd" --lcores 0@0,1@1 --no-pci --file-prefix "$prefix-cap" --vdev net_null0 \
	--vdev net_null1 --base-virtaddr=0x200000000000 -- -i --mode io <"$tmp/cap.in" \
	>"$tmp/cap.log" 2>&1 &
pids+=($!)
pid_cap=$!
exec {cap_in}>"$tmp/cap.in"
wait_for "$tmp/cap.log" "^tidepmd> " 60
stops=0

# capture NAME FILE BYTES COMMAND...: COMMAND, a capture tool writing FILE, in the background
# while the primary forwards; once FILE has BYTES, forwarding stops, then the tool is ended
# (SIGINT) and must end well.
capture() {
	local name=$1 file=$2 bytes=$3 tool i rc=0
	shift 3
	echo start >&"$cap_in"
	"$@" >"$tmp/$name.log" 2>&1 &
	tool=$!
	pids+=($tool)
	# The tool's own EAL start comes first: a sanitized one on a loaded machine takes up to
	# 30 s.
	for ((i = 0; i < 1200; i++)); do
		[ "$(stat -c %s "$file" 2>/dev/null || echo 0)" -gt "$bytes" ] && break
		gone "$tool" && break # ended early: its status and its file say how, below
		sleep 0.1
	done
	[ "$i" -lt 1200 ] || fail "$name: $(basename "$file") has not $bytes bytes after 120 s"
	stops=$((stops + 1))
	echo stop >&"$cap_in"
	wait_count "$tmp/cap.log" '^Done\.$' "$stops" 30 ||
		fail "the capture primary did not stop forwarding"
	# (Already gone only if the primary ended it; ended_by_primary tells.)
	kill -INT "$tool" 2>/dev/null || true
	reap "$tool" "$name" 60 || rc=$?
	[ "$rc" -eq 0 ] || ended_by_primary "$name" "$rc" cap.log || fail "$name failed"
}

capture dpdk-dumpcap "$tmp/cap.pcapng" 40000 dpdk-dumpcap --file-prefix="$prefix-cap" \
	-i net_null0 -q -w "$tmp/cap.pcapng"
n=$(python3 "$pcap_tool" count "$tmp/cap.pcapng")
[ "$n" -ge 100 ] || fail "dpdk-dumpcap captured $n packets, want 100"
echo "dpdk-dumpcap: $n packets captured from port 0"

capture dpdk-pdump "$tmp/rx.pcap" 100000 dpdk-pdump --file-prefix "$prefix-cap" -- \
	--pdump "port=0,queue=*,rx-dev=$tmp/rx.pcap"
n=$(python3 "$pcap_tool" count "$tmp/rx.pcap")
rm -f "$tmp/rx.pcap"
[ "$n" -gt 0 ] || fail "dpdk-pdump captured nothing"
echo "dpdk-pdump: $n packets captured from port 0"
echo quit >&"$cap_in"
exec {cap_in}>&-
reap "$pid_cap" "the capture primary" 60 || fail "the capture primary failed"

# ---- the workers' command, as a primary that chose its own file prefix prints it ----
start own --lcores 0@0,1@1 --no-pci --vdev net_null0 --vdev net_null1 \
	--base-virtaddr=0x200000000000 -- --mode pipeline --mp-workers 1 --stats-period 250
own=tidepmd-$pid_own
wait_for "$tmp/own.log" "worker lcores 0/1" 60
cmd=$(sed -n 's/^  tidepmd \(--proc-type=secondary .* --mode worker\)$/\1/p' "$tmp/own.log")
[[ "$cmd" == *"--file-prefix $own "* ]] ||
	fail "the workers' command does not name the prefix $own: '$cmd'"
# shellcheck disable=SC2086
start wown $cmd --stats-period 250
wait_for "$tmp/wown.log" "worker lcore 3 sends on TX queue 0" 60
wait_for "$tmp/wown.log" "sent [1-9][0-9]* " 30
kill -INT "$pid_own"
reap "$pid_own" "the primary of its own prefix" 90 ||
	fail "the primary of its own prefix failed"
reap "$pid_wown" "the worker started as printed" 30 ||
	fail "the worker started as printed failed"
echo "workers' command as printed: tidepmd $cmd: it worked"

# ---- a worker on lcore ids another tidepmd runs ----
# Each lcore id has a cache of its own in every mempool, used without a lock: a worker on
# an id the primary or another worker runs would corrupt the pool. It is refused before
# any of its lcores starts, naming the lcore and the process that has it (exit status 1;
# or 137 if the primary ended it stuck in DPDK 22.11's exit race, ended_by_primary), and
# the primary and its worker go on, then end cleanly.
start lc --lcores 0@0,1@1 --no-pci --file-prefix "$prefix-lc" --vdev net_null0 \
	--vdev net_null1 --base-virtaddr=0x200000000000 -- --mode pipeline --mp-workers 1 \
	--stats-period 250
wait_for "$tmp/lc.log" "worker lcores 0/1" 60
# refused_lcore NAME LCORE OWNER EAL-ARGS...: a worker on EAL-ARGS is refused for LCORE,
# which the process OWNER has (OWNER: a grep pattern).
refused_lcore() {
	local name=$1 lcore=$2 owner=$3 rc=0
	shift 3
	run "$name" 60 "$tidepmd" "$@" --no-pci --file-prefix "$prefix-lc" \
		--proc-type=secondary -- --mode worker || rc=$?
	[ "$rc" -eq 1 ] || ended_by_primary tidepmd "$rc" lc.log ||
		fail "$name: a worker on lcore $lcore of $owner: exit status $rc, want 1"
	grep -q "^tidepmd: lcore $lcore is $owner: two processes on one lcore id would share" \
		"$tmp/$name.log" || fail "$name: not refused naming lcore $lcore and $owner"
	! grep -q "sends on TX queue" "$tmp/$name.log" || fail "$name: an lcore of it ran"
	grep "^tidepmd: lcore" "$tmp/$name.log"
}
refused_lcore lc-primary 0 "the primary tidepmd's (pid $pid_lc)" -l 0-1
start wlc --lcores 2@0,3@0 --no-pci --file-prefix "$prefix-lc" --proc-type=secondary -- \
	--mode worker --stats-period 250
wait_for "$tmp/wlc.log" "worker lcore 3 sends on TX queue 0" 60
refused_lcore lc-worker 3 "worker process $pid_wlc's" --lcores 4@0,3@0
# The refusals touched neither: the worker still sends, the primary's run goes on.
sent=$(grep -c "^tidepmd worker $pid_wlc " "$tmp/wlc.log")
wait_for "$tmp/wlc.log" "sent [1-9][0-9]* " 30
wait_count "$tmp/wlc.log" "^tidepmd worker $pid_wlc " $((sent + 1)) 30 ||
	fail "the worker beside the refused ones stopped reporting"
gone "$pid_lc" && fail "the primary ended after a worker on its lcores was refused"
kill -INT "$pid_lc"
reap "$pid_lc" "the primary of the refused workers" 90 ||
	fail "the primary of the refused workers failed"
reap "$pid_wlc" "the worker beside the refused ones" 30 ||
	fail "the worker beside the refused ones failed"
grep -q "leaves: the primary's run is over" "$tmp/wlc.log" ||
	fail "the worker beside the refused ones did not leave with the run"
grep -q "^tidepmd: no message left behind" "$tmp/lc.log" ||
	fail "the primary of the refused workers: messages left behind"
echo "workers on lcore ids of the primary and of another worker: refused, the run went on"

# ---- a worker that exits slowly ----
# A worker whose lcores have left is exiting: the primary's stop waits for its process to be
# gone before freeing the pools, and says so after 5 s. Here the worker's main thread blocks
# on its full stdout (a pipe of one page nobody reads) once its lcores have left. The run's
# summary dates its end when the workers left, not after that wait.
# slow_worker NAME: primary NAME (pipeline, one worker process) and a worker whose stdout
# is a pipe of one page nobody reads, full before it returns: the worker's next line blocks
# its main thread. Sets slow_out (the pipe's read end) and slow_pid (the worker's pid).
slow_worker() {
	local name=$1 i queued
	mkfifo "$tmp/$name.out"
	exec {slow_out}<>"$tmp/$name.out"
	# F_SETPIPE_SZ (1031): one page, full within a second of 10 ms stats lines.
	python3 -c 'import fcntl, sys; fcntl.fcntl(int(sys.argv[1]), 1031, 4096)' "$slow_out"
	start "$name" --lcores 0@0,1@1 --no-pci --file-prefix "$prefix-$name" \
		--vdev net_null0 --vdev net_null1 --base-virtaddr=0x200000000000 -- \
		--mode pipeline --mp-workers 1 --stats-period 250
	wait_for "$tmp/$name.log" "worker lcores 0/1" 60
	"$tidepmd" --lcores 2@0,3@0 --no-pci --file-prefix "$prefix-$name" \
		--proc-type=secondary -- --mode worker --stats-period 10 >"$tmp/$name.out" \
		2>"$tmp/w$name.log" &
	pids+=($!)
	slow_pid=$!
	wait_for "$tmp/$name.log" "worker lcores 1/1" 60
	# The pipe full (a line no longer fits).
	for ((i = 0; i < 600; i++)); do
		queued=$(python3 -c 'import array, fcntl, sys, termios
b = array.array("i", [0]); fcntl.ioctl(int(sys.argv[1]), termios.FIONREAD, b); print(b[0])' \
			"$slow_out")
		[ "$queued" -ge 3800 ] && break
		gone "$slow_pid" && fail "the slow worker ($name) ended while it was to forward"
		sleep 0.1
	done
	[ "$i" -lt 600 ] ||
		fail "the slow worker's stdout ($name): $queued bytes queued after 60 s, want 3800"
}

slow_worker sl
sl_out=$slow_out
pid_wsl=$slow_pid
kill -INT "$pid_sl"
wait_for "$tmp/sl.log" "^tidepmd: the workers left, their processes are still exiting after 5 s" 60
# Meanwhile the pools do not reap (a block freed while a worker is in rte_eal_cleanup()
# meets DPDK 22.11's race, and the primary would end the worker).
period=$(reap_period "$prefix-sl") || fail "the slow worker's primary: no telemetry"
[ "$period" = 0 ] || fail "the pool reaps (every $period ms) while a worker exits"
cat <&"$sl_out" >"$tmp/wsl.out.log" &
pids+=($!)
pid_cat=$!
reap "$pid_wsl" "the slow worker" 60 || fail "the slow worker failed"
reap "$pid_sl" "the slow worker's primary" 60 || fail "the slow worker's primary failed"
kill "$pid_cat"
wait "$pid_cat" 2>/dev/null || true
forget "$pid_cat"
exec {sl_out}>&-
grep -qE "^tidepmd: the worker processes exited [0-9.]+ s after their lcores left" \
	"$tmp/sl.log" || fail "the slow worker: no word when its process exited"
grep -q "^tidepmd: worker $pid_wsl leaves: " "$tmp/wsl.out.log" ||
	fail "the slow worker did not say it leaves"
# Its stamp and the last stats line's before the stop (tenths of a second).
last=$(sed -n 's/^tidepmd *\([0-9]*\)\.\([0-9]\)[0-9]s | .*/\1\2/p' "$tmp/sl.log" | tail -1)
done_at=$(sed -n 's/^tidepmd: done after \([0-9]*\)\.\([0-9]\) s:.*/\1\2/p' "$tmp/sl.log")
[ -n "$last" ] && [ -n "$done_at" ] || fail "the slow worker's primary: no stats line or summary"
# The stop came within a stats period of the last line; the wait for the worker was 5 s more.
[ "$done_at" -le $((10#$last + 25)) ] ||
	fail "the summary counts the wait for the exiting worker: done after $done_at tenths," \
		"the last stats line at $last"
echo "a worker that exited slowly: waited for, said so, the run dated at its leave"

# ---- a second signal ends the wait for an exiting worker ----
# The stop's wait for a worker process whose lcores left (up to 60 s) is cut short by a
# SIGINT past the one that ended the run: the primary names the process it leaves and
# ends at once (the worker, blocked on its stdout as above, exits once that is read).
slow_worker sc
sc_out=$slow_out
pid_wsc=$slow_pid
kill -INT "$pid_sc"
wait_for "$tmp/sc.log" "^tidepmd: the workers left, their processes are still exiting after 5 s" 60
kill -INT "$pid_sc"
reap "$pid_sc" "the primary signalled twice" 20 || fail "the primary signalled twice failed"
grep -qE "^tidepmd: a signal cut short the wait for the worker processes [0-9.]+ s after their \
lcores left: process\(es\) $pid_wsc still exiting$" "$tmp/sc.log" ||
	fail "a second SIGINT: the wait for the exiting worker not cut short, or not said"
! grep -q "^tidepmd: the worker processes exited" "$tmp/sc.log" ||
	fail "a second SIGINT: the primary waited for the worker all the same"
grep -q "^tidepmd: done after" "$tmp/sc.log" || fail "a second SIGINT: no summary"
cat <&"$sc_out" >/dev/null &
pids+=($!)
pid_cat=$!
reap "$pid_wsc" "the slow worker (second signal)" 60 || true
kill "$pid_cat"
wait "$pid_cat" 2>/dev/null || true
forget "$pid_cat"
exec {sc_out}>&-
echo "a second SIGINT while the primary waited for an exiting worker: cut short, said so"

# ---- a worker that does not leave ----
# A worker stopped (SIGSTOP) cannot leave at its primary's stop: the primary keeps the
# exchange the worker may still read, and refuses a pipeline start (which would wipe the
# TX queue's slot the worker holds) until it is gone; killed, it gives its TX queue back
# and a start works again.
mkfifo "$tmp/st.in"
"$tidepmd" --lcores 0@0,1@1 --no-pci --file-prefix "$prefix-st" --vdev net_null0 \
	--vdev net_null1 --base-virtaddr=0x200000000000 -- -i --auto-start --mode pipeline \
	--mp-workers 1 <"$tmp/st.in" >"$tmp/st.log" 2>&1 &
pids+=($!)
pid_st=$!
exec {st_in}>"$tmp/st.in"
wait_for "$tmp/st.log" "^tidepmd> " 60
st_eal="--no-pci --file-prefix $prefix-st --proc-type=secondary"
# shellcheck disable=SC2086
start ws --lcores 2@0,3@0 $st_eal -- --mode worker --stats-period 250
wait_for "$tmp/ws.log" "sent [1-9][0-9]* " 60
freeze_unlocked "$pid_ws" "the stopped worker"
echo stop >&"$st_in"
wait_for "$tmp/st.log" "^Done\.$" 30
echo start >&"$st_in"
wait_for "$tmp/st.log" "^Cannot start forwarding: Device or resource busy" 30
grep -q "^tidepmd: 1 worker lcore(s) did not leave within 5 s" "$tmp/st.log" ||
	fail "the stopped worker: no word that it did not leave"
grep -q "^tidepmd: pipeline: the exchange is kept for the worker(s) still there" \
	"$tmp/st.log" || fail "the stopped worker: its exchange not kept"
grep -q "^tidepmd: 1 worker lcore(s) of the last pipeline run still there" "$tmp/st.log" ||
	fail "a start beside the stopped worker: no word why it was refused"
# Nor does another mode start: its lcores would transmit on the TX queue the worker holds.
echo "set fwd io" >&"$st_in"
echo start >&"$st_in"
wait_count "$tmp/st.log" "^Cannot start forwarding: Device or resource busy" 2 30 ||
	fail "an io start beside the stopped worker: not refused within 30 s"
! grep -q "^io packet forwarding - " "$tmp/st.log" ||
	fail "io forwarding started beside the stopped worker's TX queue"
echo "set fwd pipeline" >&"$st_in"
# The stop gave up on the worker: its pool reaps again, at the period it had.
echo "show pool" >&"$st_in"
wait_for "$tmp/st.log" "the reaper looks every [0-9]+ ms" 30
grep -qE "the reaper looks every [1-9][0-9]* ms" "$tmp/st.log" ||
	fail "the pool still does not reap after a stop that gave up on its worker"
kill -9 "$pid_ws"
reap "$pid_ws" "the stopped worker (SIGKILL)" 30 || true
wait_for "$tmp/st.log" "worker process $pid_ws is gone: TX queue 0 is free again" 30
echo start >&"$st_in"
wait_for "$tmp/st.log" "^pipeline packet forwarding - " 30
grep -q "^tidepmd: no message left behind" "$tmp/st.log" ||
	fail "the kept exchange, freed at the next start: messages left behind"
echo "a worker that did not leave: exchange kept, start refused until it was gone, then run"
# SIGTERM while a command runs (a stop waiting for another stopped worker) ends the prompt
# as at once, with no more input coming.
# shellcheck disable=SC2086
start ws2 --lcores 4@0,5@0 $st_eal -- --mode worker --stats-period 250
wait_for "$tmp/ws2.log" "sent [1-9][0-9]* " 60
freeze_unlocked "$pid_ws2" "the second stopped worker"
echo stop >&"$st_in"
wait_count "$tmp/st.log" "^Telling cores to stop" 2 30 || true
kill -TERM "$pid_st"
for ((i = 0; i < 300; i++)); do
	grep -q "^tidepmd: a signal ends the prompt$" "$tmp/st.log" && break
	sleep 0.1
done
if [ "$i" -ge 300 ]; then
	stacks "$pid_st"
	fail "SIGTERM during a command: the prompt still waits for input"
fi
# The SIGTERM came while the stop waited for the stopped worker's lcore to leave: that wait
# ended then, naming the worker, not 5 s later.
grep -q "^tidepmd: a signal cut short the wait for the workers: 1 worker lcore(s) had not \
left (process(es) $pid_ws2)$" "$tmp/st.log" ||
	fail "SIGTERM during a stop's wait for a worker: the wait not cut short, or not said"
[ "$(grep -c "^tidepmd: 1 worker lcore(s) did not leave within 5 s" "$tmp/st.log")" -eq 1 ] ||
	fail "SIGTERM during a stop's wait for a worker: it waited the 5 s all the same"
# The rest of the exit frees memory, which each attached secondary is asked to sync: the
# stopped one would hold every request until EAL's timeout (5 s each).
kill -9 "$pid_ws2"
reap "$pid_ws2" "the second stopped worker (SIGKILL)" 30 || true
reap "$pid_st" "the primary of the stopped worker" 60 ||
	fail "the primary of the stopped worker failed"
exec {st_in}>&-
echo "SIGTERM while the prompt ran a command: tidepmd ended without more input"
# The totals since launch keep what the first run's worker sent: the last stop's count
# them and what the ports sent in the second run (less a burst the stopped worker may not
# have published).
since=$(sed -n 's/^  tidepmd (since launch): rx [0-9]*, tx \([0-9]*\),.*/\1/p' "$tmp/st.log")
first=$(echo "$since" | head -1)
last=$(echo "$since" | tail -1)
ports=$(sed -n 's/^  TX-packets: \([0-9]*\) .*/\1/p' "$tmp/st.log" | tail -1)
[ "$first" -gt 0 ] || fail "the first run: its worker's TX not counted"
[ "$last" -ge $((first + ports - 1024)) ] ||
	fail "the totals lost the first run's worker TX: tx $last, the first run $first," \
		"the second run's ports $ports"
echo "totals since launch: tx $first after the first run, $last after the second"

# ---- refusals ----
# shellcheck disable=SC2046
if run x 60 "$tidepmd" --lcores 0@0,1@1 --no-pci --file-prefix "$prefix-x" --huge-unlink \
		--vdev net_null0 --vdev net_null1 -- --mode worker; then
	fail "--mode worker ran in a primary"
fi
grep -q "runs in a secondary process" "$tmp/x.log" || fail "--mode worker in a primary: no why"
start io --lcores 0@0,1@1 --no-pci --file-prefix "$prefix-io" --vdev net_null0 \
	--vdev net_null1 --base-virtaddr=0x200000000000 -- --mode io --stats-period 250
# Its first stats line, whatever its stamp (past 1 s on a loaded machine): it runs.
wait_for "$tmp/io.log" "^tidepmd +[0-9]+\.[0-9]+s" 60
if run y 60 "$tidepmd" --lcores 4@0,5@0 --no-pci --file-prefix "$prefix-io" \
		--proc-type=secondary -- --mode worker; then
	fail "a worker ran beside a primary with no pipeline"
fi
grep -q "no primary tidepmd to work for" "$tmp/y.log" || fail "no pipeline: no why"
kill -INT "$pid_io"
reap "$pid_io" "the io primary" 60 || fail "the io primary failed"
echo "refused: --mode worker in a primary, a worker with no pipeline to work for"
