#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tidepmd and tide-bench as a careless user runs them:
#  - a bad number (not a number, negative, trailing garbage, overflow, out of range) is
#    refused at once, before EAL starts, with the option's name and the accepted range,
#    and never with a wrapped value;
#  - a file prefix in use by a running primary is reported as such, with its pid, also
#    after 130 other EAL arguments (none is dropped);
#  - a clean exit leaves no DPDK runtime directory behind;
#  - a forwarding lcore that fails fails the run, and a descriptor count a port would not
#    take is refused with the port's range, a start that fails says why (with -i
#    --auto-start too) and fails the run, and so does -i without a prompt; SIGTERM during
#    start-up ends it cleanly; a mode's slow set-up is not counted as the run's time; a
#    zctx lcore whose sends the agent refuses for good (not -EAGAIN) stops and fails the run;
#    --donors refused on a pool leaves no pool with the source of the donor manager it
#    frees (TIDE_TEST_FAULTS=1: a build with -Dfault_injection=true);
#  - no EAL arguments before "--" is no EAL arguments: the programs' defaults;
#  - -i with --tx-first is refused as testpmd refuses it, --auto-start without -i as doing
#    nothing; tide-bench without one scenario, or with an unknown option, says so, and an
#    unknown option (EAL arguments without "--" after them) says where they go; an empty
#    --filter is refused; --mode worker refuses the options a worker would not read, and
#    any other mode, without -i, those only other modes read (--trace, --hold-ms, --zctx-*,
#    --txpkts without --tx-first);
#  - more ports (10) or worker lcores (65) than tidepmd takes are refused at start, naming
#    the limit and the count (exit status 1);
#  - the README's tidepmd synopsis names every option tidepmd --help gives.
#   test_app_options.sh TIDEPMD TIDE_BENCH
set -eu
tidepmd=$1
bench=$2
out=$(mktemp /tmp/tide-options.XXXXXX)
prefix=tide-opt-$$
pid=
# Where EAL puts 2 MB hugepage files: the first hugetlbfs of 2 MB pages (setup.sh mounts one
# on /dev/hugepages, or on /dev/hugepages-2M where /dev/hugepages holds 1 GB pages).
huge=$(awk '$3 == "hugetlbfs" && $4 ~ /pagesize=2M/ { print $2; exit }' /proc/mounts)
huge=${huge:-/dev/hugepages}
cleanup() {
	[ -z "$pid" ] || kill -INT "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	rm -f "$out" "$out.opts" "$out.first" "$out.in"
	# What a run killed before its own clean-up would leave (the checks below fail then).
	rm -rf "/var/run/dpdk/$prefix-p" "$huge"/"$prefix-p"map_*
	rm -rf "/var/run/dpdk/$prefix-s" "$huge"/"$prefix-s"map_*
	rm -rf "/var/run/dpdk/$prefix-e" "$huge"/"$prefix-e"map_*
	rm -rf "/var/run/dpdk/$prefix-r" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$prefix-r"
	rm -rf "/var/run/dpdk/$prefix" "$huge"/"$prefix"map_*
	rm -rf "/var/run/dpdk/$prefix-b" "$huge"/"$prefix-b"map_*
}
trap cleanup EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

# A run stopped with SIGINT after its time, killed 10 s later should it not end; in this
# process group, where meson's timeout (and test.sh's stop) reach it.
tmo() {
	timeout --foreground -k 10 -s INT "$@"
}

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

# refused PROG OPTION VALUE RANGE [more arguments]: PROG refuses VALUE for OPTION, naming
# the option and RANGE ("accepted: 1..512").
refused() {
	prog=$1
	opt=$2
	val=$3
	range=$4
	shift 4
	if "$prog" "$@" "$opt" "$val" >"$out" 2>&1; then
		fail "$(basename "$prog") $opt $val was accepted"
	fi
	grep -q -- "$opt: '$val' is .*; accepted: $range" "$out" ||
		fail "$(basename "$prog") $opt $val: no message naming the option and $range"
	! grep -q "18446744073\|4294967295[^']" "$out" || fail "$opt $val: a wrapped value printed"
	! grep -q "^EAL:" "$out" || fail "$opt $val: EAL started before the check"
	echo "$(basename "$prog") $opt $val: $(head -1 "$out")"
}

# refused_with PROG MESSAGE ARGS...: PROG refuses ARGS with MESSAGE (a grep pattern) before
# EAL starts. ARGS carry EAL arguments without hugepages ($eal_pmd, $eal_bench) and a short
# run, so that a program that wrongly accepts them ends soon and leaves nothing behind.
eal_pmd="-l 0-1 --no-pci --no-huge -m 512 --file-prefix $prefix-r --vdev net_null0 \
--vdev net_null1"
eal_bench="-l 0-1 --no-pci --no-huge -m 512 --file-prefix $prefix-r"
refused_with() {
	prog=$1
	msg=$2
	shift 2
	if tmo 60 "$prog" "$@" </dev/null >"$out" 2>&1; then
		fail "$(basename "$prog") $*: accepted"
	fi
	grep -q -- "$msg" "$out" || fail "$(basename "$prog") $*: no message '$msg'"
	! grep -q "^EAL:" "$out" || fail "$(basename "$prog") $*: EAL started before the check"
	! grep -q "^scenario,variant" "$out" || fail "$(basename "$prog") $*: CSV header printed"
	head -1 "$out"
}

refused "$tidepmd" --duration abc "0..31536000"
refused "$tidepmd" --duration -1 "0..31536000"
refused "$tidepmd" --duration 5x "0..31536000"
refused "$tidepmd" --stats-period -5 "10..3600000"
refused "$tidepmd" --burst -1 "1..512"
refused "$tidepmd" --burst 99999999999999999999999 "1..512"
refused "$tidepmd" --rxd 0 "32..16384"
refused "$tidepmd" --rxd 100000 "32..16384"
refused "$tidepmd" --txd "" "32..16384"
refused "$tidepmd" --hold-ms 4294967295 "1..60000"
refused "$tidepmd" --pool-base -1 "2..65536"
refused "$tidepmd" --pool-wall 0 "2..1048576"
# -i has no stats loop to read --duration and --stats-period.
for o in --duration --stats-period; do
	# shellcheck disable=SC2086
	refused_with "$tidepmd" "^tidepmd: $o does not go with -i: the prompt runs until 'quit'" \
		$eal_pmd -- -i "$o" 100
done
# Nor does it send --tx-first's burst (testpmd: "--tx-first cannot be used on interactive
# mode"): the prompt has start tx_first.
for a in "" --auto-start; do
	printf 'quit\n' >"$out.in"
	# shellcheck disable=SC2086
	if tmo 60 "$tidepmd" $eal_pmd -- -i --tx-first $a <"$out.in" >"$out" 2>&1; then
		fail "-i --tx-first $a: accepted"
	fi
	grep -q "^tidepmd: --tx-first cannot be used on interactive mode: type 'start tx_first'" \
		"$out" || fail "-i --tx-first $a: no message"
	! grep -q "^EAL:" "$out" || fail "-i --tx-first $a: EAL started before the check"
done
rm -f "$out.in"
echo "tidepmd -i --tx-first: $(head -1 "$out")"
# --auto-start starts the prompt's forwarding: without -i it would do nothing.
# shellcheck disable=SC2086
refused_with "$tidepmd" "^tidepmd: --auto-start goes with -i" $eal_pmd -- --auto-start \
	--duration 1
# An option only other modes read would do nothing: refused (exit status 1) before EAL
# starts, naming it and the modes that read it; --txpkts goes with --tx-first in any mode,
# and -i takes them all ('set fwd' changes the mode there).
for c in "io --trace 5:100" "io --hold-ms 10" "txonly --hold-ms 10" "io --txpkts 512" \
		"bursty --txpkts 512" "io --zctx-sizes 64" "pipeline --zctx-buf-mb 8" \
		"io --zctx-threshold 0" "bursty --zctx-threshold 0"; do
	m=${c%% *}
	o=${c#* }
	o=${o%% *}
	case $o in
	--trace | --hold-ms) owner="--mode bursty" ;;
	--txpkts) owner="--mode txonly or --tx-first" ;;
	*) owner="--mode zctx" ;;
	esac
	rc=0
	# shellcheck disable=SC2086
	tmo 60 "$tidepmd" $eal_pmd -- --duration 1 --mode $c </dev/null >"$out" 2>&1 ||
		rc=$?
	[ "$rc" -eq 1 ] || fail "--mode $c: exit status $rc, want 1"
	grep -q -- "^tidepmd: $o goes with $owner: --mode $m does not read it" "$out" ||
		fail "--mode $c: no message naming $o and $owner"
	! grep -q "^EAL:" "$out" || fail "--mode $c: EAL started before the check"
done
echo "an option of another mode: $(head -1 "$out")"
# shellcheck disable=SC2086
tmo 60 "$tidepmd" $eal_pmd -- --mode io --tx-first --txpkts 128 --duration 1 \
	>"$out" 2>&1 || fail "--mode io --tx-first --txpkts 128: exit status $?"
grep -q "^tidepmd: tx_first: [1-9][0-9]* packets sent" "$out" ||
	fail "--mode io --tx-first --txpkts 128: nothing sent first"
# shellcheck disable=SC2086
printf 'quit\n' | tmo 60 "$tidepmd" $eal_pmd -- -i --mode io --trace 5:100 \
	--hold-ms 10 --txpkts 512 --zctx-sizes 64 --zctx-buf-mb 8 --zctx-threshold 0 \
	>"$out" 2>&1 || fail "-i --mode io with other modes' options: exit status $?"
echo "--mode io --tx-first --txpkts, and -i with other modes' options: taken"
# The library takes blocks of at most 4 GB, and no larger than the wall.
# shellcheck disable=SC2086
refused "$tidepmd" --pool-block 4097 "2..4096" $eal_pmd -- --duration 1
# shellcheck disable=SC2086
refused_with "$tidepmd" "^tidepmd: --pool-block (64 MB) is above --pool-wall (32 MB)" \
	$eal_pmd -- --duration 1 --pool-base 16 --pool-block 64 --pool-wall 32
refused "$tidepmd" --nb-cores 0 "1..64"
refused "$tidepmd" --rxq 17 "1..16"
refused "$tidepmd" --zctx-sizes 0 "1..1048576" --mode zctx
refused "$tidepmd" --zctx-threshold 1048577 "0..1048576, or adaptive" --mode zctx
refused "$tidepmd" --zctx-threshold adaptiv "0..1048576, or adaptive" --mode zctx
refused "$tidepmd" --mp-workers 0 "1..16" --mode pipeline
refused "$tidepmd" --mp-workers 17 "1..16" --mode pipeline
refused "$bench" --ms 0 "1..600000" fanout
refused "$bench" --rounds -3 "1..64" fanout
refused "$bench" --hold-ms 4294967295 "1..60000" footprint
refused "$bench" --cycles 0 "1..1000" footprint
refused "$bench" --inflight 16 "32..4096" pipeline
refused "$bench" --inflight 8192 "32..4096" pipeline
# Lists: no value, or an empty element, is refused, never skipped.
sizes_ok="accepted: 1 to 16 sizes of 1..1048576 bytes"
for v in "" "," ",,,"; do
	# shellcheck disable=SC2086
	refused_with "$tidepmd" "^tidepmd: --zctx-sizes: empty list '$v'; $sizes_ok" $eal_pmd -- \
		--mode zctx --duration 1 --zctx-sizes "$v"
done
for v in 64,,128 "64," ,64; do
	# shellcheck disable=SC2086
	refused_with "$tidepmd" \
		"^tidepmd: --zctx-sizes: element [0-9] of '$v' is empty; $sizes_ok" \
		$eal_pmd -- --mode zctx --duration 1 --zctx-sizes "$v"
done
for v in 1:100,,2:100 "1:100,"; do
	# shellcheck disable=SC2086
	refused_with "$tidepmd" "^tidepmd: --trace: element 2 of '$v' is empty; accepted: phases" \
		$eal_pmd -- --duration 1 --trace "$v"
done
# Decimal numbers only: strtod() alone takes hexadecimal floats and exponents.
for v in 1:0x10 0x1:100 1:1e3; do
	# shellcheck disable=SC2086
	refused_with "$tidepmd" "^tidepmd: --trace: phase $v: '[0-9a-fx]*' is not a number" \
		$eal_pmd -- --duration 1 --trace "$v"
done
# A value too long to repeat whole: its first 40 characters, then the reason and the range
# (the message used to end inside the value). A decimal past a double's range is out of
# range, not "not a number".
long=$(printf '1%.0s' $(seq 200))
# shellcheck disable=SC2086
refused_with "$tidepmd" "^tidepmd: --burst: '1\{40\}\.\.\.' is out of range; accepted: 1\.\.512$" \
	$eal_pmd -- --duration 1 --burst "$long"
nines=$(printf '9%.0s' $(seq 400))
# shellcheck disable=SC2086
refused_with "$tidepmd" "^tidepmd: --trace: phase $nines:100: '9\{40\}\.\.\.' is out of range" \
	$eal_pmd -- --duration 1 --trace "$nines:100"
# The delay line: peak rate x hold, checked together whatever the order.
held="packets in flight; accepted: at most 16777216 (peak Mpps x hold ms <= 16777)"
# shellcheck disable=SC2086
refused_with "$tidepmd" "^tidepmd: --trace and --hold-ms: a peak of 1000 Mpps held 60000 .*$held" \
	$eal_pmd -- --duration 2 --trace 1000:100 --hold-ms 60000
# shellcheck disable=SC2086
refused_with "$tidepmd" "^tidepmd: --trace and --hold-ms: a peak of 2 Mpps held 10000 ms .*$held" \
	$eal_pmd -- --duration 2 --hold-ms 10000 --trace 2:100
# tide-bench checks --trace and --sizes before EAL starts and before its CSV header.
for v in "1:100," 1:0x10; do
	# shellcheck disable=SC2086
	refused_with "$bench" "^tide-bench: --trace: .*'$v'\|^tide-bench: --trace: phase $v:" \
		$eal_bench -- footprint --rounds 1 --cycles 1 --trace "$v"
done
# shellcheck disable=SC2086
refused_with "$bench" "^tide-bench: --trace and --hold-ms: a peak of 1000 Mpps held 60000 .*$held" \
	$eal_bench -- footprint --rounds 1 --cycles 1 --trace 1000:100 --hold-ms 60000
# A run shorter than a few of footprint's samples (one every 10 ms) measures no footprint.
short="^tide-bench footprint: --trace over --cycles 1 lasts 5.000 ms, under the 50 ms of 5"
# shellcheck disable=SC2086
refused_with "$bench" "$short samples" $eal_bench -- footprint --rounds 1 --cycles 1 --trace 1:5
# --sizes: each size through the shared parser (no octal, blank, sign), no empty list or
# element (a run of no size measures nothing).
sizes_acc="accepted: sizes of 64, 128, ... 65536 bytes and mix"
# shellcheck disable=SC2086
refused_with "$bench" "^tide-bench: --sizes: empty list ''; $sizes_acc" \
	$eal_bench -- zctx --rounds 1 --ms 1 --sizes ""
# shellcheck disable=SC2086
refused_with "$bench" "^tide-bench: --sizes: element 2 of '64,' is empty; $sizes_acc" \
	$eal_bench -- zctx --rounds 1 --ms 1 --sizes "64,"
for v in 0100 " 64" +64 18446744073709551680; do
	# shellcheck disable=SC2086
	refused_with "$bench" "^tide-bench: --sizes: '$v' is .*; accepted: 64..65536, a power" \
		$eal_bench -- zctx --rounds 1 --ms 1 --sizes "$v"
done
# An option of another scenario is refused, not ignored.
for c in "zctx --trace 1:100" "fanout --sizes 64" "fwd --series /dev/null" "mempool --cycles 1" \
		"msg --hold-ms 5" "footprint --sizes 64" "msg --inflight 128"; do
	o=${c#* }
	o=${o%% *}
	owner=footprint
	[ "$o" != --sizes ] || owner=zctx
	[ "$o" != --inflight ] || owner=pipeline
	msg="^tide-bench: $o is not an option of scenario ${c%% *}, only of: $owner"
	# shellcheck disable=SC2086
	refused_with "$bench" "$msg" $eal_bench -- $c --rounds 1 --ms 1
done
# pipeline's --inflight is a power of 2 as well as in its range.
# shellcheck disable=SC2086
refused_with "$bench" "^tide-bench pipeline: --inflight 100 is not a power of 2 (32 to 4096)" \
	$eal_bench -- pipeline --rounds 1 --ms 1 --inflight 100
# footprint's durations are its trace's: --ms is refused there, not ignored.
timed="mempool fwd msg pipeline fanout zctx donor"
# shellcheck disable=SC2086
refused_with "$bench" "^tide-bench: --ms is not an option of scenario footprint, only of: $timed" \
	$eal_bench -- footprint --ms 5
# --help names every range the parser checks, --trace's and --zctx-sizes' included, and
# says where hexadecimal is taken.
"$tidepmd" --help >"$out" 2>&1 || fail "--help: exit status $?"
for want in "1\.\.32 phases of 0\.\.1000 Mpps for 0\.001\.\.86400000 ms" \
		"1\.\.16 sizes of 1\.\.1048576 bytes" \
		"hexadecimal (0x40); --trace takes decimal"; do
	grep -q "$want" "$out" || fail "--help: no '$want'"
done
echo "tidepmd --help: the ranges of --trace and --zctx-sizes, and hexadecimal"
refused "$tidepmd" --burst 0x201 "1..512"
if "$tidepmd" --trace 2:abc >"$out" 2>&1; then fail "--trace 2:abc accepted"; fi
grep -q "^tidepmd: --trace: phase 2:abc: 'abc' is not a number" "$out" || fail "--trace 2:abc"
# The README's synopsis names every option --help gives, and start tx_first's count.
readme=$(dirname "$0")/../README.md
synopsis=$(sed -n '/^    tidepmd \[EAL args --\]/,/^$/p' "$readme")
"$tidepmd" --help >"$out"
grep "^  -" "$out" | grep -o -- "--[a-z][a-z-]*" | sort -u >"$out.opts"
while read -r o; do
	echo "$synopsis" | grep -q -- "$o" || fail "README: the tidepmd synopsis lacks $o"
done <"$out.opts"
rm -f "$out.opts"
grep -q "^\`start \[tx_first \[N\]\]\` (N bursts, 1\.\.1024)" "$readme" ||
	fail "README: the prompt's start tx_first N is not given"
if "$tidepmd" --mode nosuch >"$out" 2>&1; then fail "--mode nosuch accepted"; fi
grep -q "unknown mode 'nosuch'" "$out" || fail "--mode nosuch: no message"
# Every mode --mode takes, as --help lists them.
for m in io macswap txonly rxonly bursty pipeline zctx worker; do
	grep -q "^  $m  " "$out" || fail "--mode nosuch: the modes listed lack $m"
done
# tide-bench runs one scenario; getopt's word on an unknown option gets a pointer to --help.
# bench_refused MESSAGE ARGS...: tide-bench -- ARGS is refused with MESSAGE.
bench_refused() {
	msg=$1
	shift
	if "$bench" -- "$@" >"$out" 2>&1; then fail "tide-bench -- $*: accepted"; fi
	grep -q "^tide-bench: $msg" "$out" || fail "tide-bench -- $*: no '$msg'"
	echo "tide-bench -- $*: $(grep "^tide-bench: " "$out")"
}
bench_refused "one scenario is expected, got 2: 'mempool', then 'fwd'" mempool fwd
bench_refused "no scenario given: one is expected" --quick
bench_refused "see --help (EAL arguments go first, then --)" mempool --bogus
bench_refused "--filter: '' names no variant" mempool --filter ""
bench_refused "--filter: '=' names no variant" mempool --filter =
# EAL arguments without "--" after them: the refusal says where they go.
if "$tidepmd" -l 0-1 --no-pci -i >"$out" 2>&1; then fail "tidepmd -l 0-1 without --"; fi
grep -q "^tidepmd: see --help (EAL arguments go first, then --)" "$out" ||
	fail "tidepmd -l 0-1 without --: no word on where EAL arguments go"
# A worker process takes its primary's settings: an option it would not read is refused.
for o in -i "--pool-wall 64" "--rxd 64" "--trace 1:10" --donors; do
	# shellcheck disable=SC2086
	if "$tidepmd" --mode worker $o >"$out" 2>&1; then fail "--mode worker $o accepted"; fi
	grep -q "^tidepmd: ${o%% *} does not go with --mode worker" "$out" ||
		fail "--mode worker $o: no message naming it"
done
echo "--mode worker: $(head -1 "$out")"
if "$tidepmd" --mode pipeline --mp-workers 2 --txq 2 --donors >"$out" 2>&1; then
	fail "--donors with --mp-workers accepted"
fi
grep -q "^tidepmd: --donors does not go with --mp-workers" "$out" ||
	fail "--donors with --mp-workers: no message"
if "$tidepmd" --mode io --mp-workers 2 --txq 2 >"$out" 2>&1; then fail "io --mp-workers"; fi
grep -q "^tidepmd: --mp-workers goes with --mode pipeline" "$out" || fail "io --mp-workers"
if "$tidepmd" --mode pipeline --mp-workers 2 >"$out" 2>&1; then fail "--mp-workers 2 --txq 1"; fi
grep -q "^tidepmd: --mp-workers 2 needs as many TX queues per port (--txq 1)" "$out" ||
	fail "--mp-workers 2 with one TX queue: no message"

# More ports or worker lcores than tidepmd takes (8, 64) are refused at start, naming the
# limit and the count, not left out without a word. (EAL has started: these are counted.)
vdevs=
for i in 0 1 2 3 4 5 6 7 8 9; do vdevs="$vdevs --vdev net_null$i"; done
rc=0
# shellcheck disable=SC2086
tmo 60 "$tidepmd" -l 0-1 --no-pci --no-huge -m 512 --file-prefix "$prefix-r" \
	$vdevs -- --mode io --duration 1 >"$out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "10 ports: exit status $rc, want 1"
grep -q "^tidepmd: 10 ports; tidepmd forwards on at most 8: give it fewer" "$out" ||
	fail "10 ports: no message naming the count and the limit"
! grep -q "^tidepmd: mode io" "$out" || fail "10 ports: the run started"
grep "^tidepmd: 10 ports" "$out"
# 65 worker lcores on one CPU; with --nb-cores the first N forward.
lcores="--lcores (0-65)@0 --no-pci --no-huge -m 512 --file-prefix $prefix-r --vdev net_null0 \
--vdev net_null1"
rc=0
# shellcheck disable=SC2086
tmo 60 "$tidepmd" $lcores -- --mode io --duration 1 >"$out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "65 worker lcores: exit status $rc, want 1"
grep -q "^tidepmd: 65 worker lcores; tidepmd forwards on at most 64: .*--nb-cores 1\.\.64" \
	"$out" || fail "65 worker lcores: no message naming the count and the limit"
! grep -q "^tidepmd: mode io" "$out" || fail "65 worker lcores: the run started"
grep "^tidepmd: 65 worker lcores" "$out"
# shellcheck disable=SC2086
tmo 60 "$tidepmd" $lcores -- --mode io --duration 1 --nb-cores 2 >"$out" 2>&1 ||
	fail "65 worker lcores, --nb-cores 2: exit status $?"
grep -q "^tidepmd: mode io on 2 forwarding lcore(s)" "$out" ||
	fail "65 worker lcores, --nb-cores 2: not on 2 forwarding lcores"

# A forwarding lcore that cannot allocate its delay lines ends the run, which exits 1: long
# before its --duration (600 s; under 60 s, whatever a loaded machine's delays).
if [ "${TIDE_TEST_FAULTS:-0}" = 1 ]; then
	# shellcheck disable=SC2086
	if TIDEPMD_TEST_FAULT=delay-line tmo 70 "$tidepmd" $eal_pmd -- \
			--duration 600 >"$out" 2>&1; then
		fail "a run whose forwarding lcore failed exited 0"
	fi
	grep -q "^tidepmd: forwarding lcore 1 failed" "$out" || fail "failed lcore: no message"
	grep -q "^tidepmd: done after [1-5]\?[0-9]\.[0-9] s" "$out" ||
		fail "failed lcore: the run went on"
	echo "tidepmd, lcore failed: $(grep "^tidepmd: forwarding lcore" "$out")"
	# At the prompt too, when the run was stopped before quit (a script piping commands).
	# shellcheck disable=SC2086
	if printf 'start\nstop\nquit\n' | TIDEPMD_TEST_FAULT=delay-line tmo 60 \
			"$tidepmd" $eal_pmd -- -i >"$out" 2>&1; then
		fail "-i: a session whose forwarding lcore failed exited 0"
	fi
	grep -q "^tidepmd: forwarding lcore 1 failed" "$out" || fail "-i failed lcore: no message"
	echo "tidepmd -i, lcore failed: non-zero exit"
	# A device that takes 64..4096 descriptors in multiples of 64 (net_null's limits
	# replaced: it, net_ring and the other vdevs tests use take any count): a count it
	# would not take is refused naming the option, the port, the count and the range.
	for o in "--rxd 100" "--rxd 8192" "--txd 32"; do
		# shellcheck disable=SC2086
		if TIDEPMD_TEST_FAULT=desc-lim tmo 60 "$tidepmd" $eal_pmd -- \
				--duration 1 $o >"$out" 2>&1; then
			fail "$o on a device of 64..4096 descriptors was accepted"
		fi
		lim="takes 64\.\.4096 descriptors per queue, a multiple of 64$"
		grep -q "^tidepmd: $o: port 0 (net_null) $lim" "$out" ||
			fail "$o: no message naming the port and its range"
		grep "^tidepmd: $o" "$out"
	done
	# shellcheck disable=SC2086
	TIDEPMD_TEST_FAULT=desc-lim tmo 60 "$tidepmd" $eal_pmd -- --duration 1 \
		--rxd 128 --txd 4096 >"$out" 2>&1 || fail "--rxd 128 --txd 4096 refused"
	# A start that fails (zctx without memory for its buffer) says why and fails the run,
	# with the prompt (-i --auto-start) as without it.
	for a in "--duration 1" "-i --auto-start"; do
		# shellcheck disable=SC2086
		if printf 'quit\n' | TIDEPMD_TEST_FAULT=zctx-buf tmo 60 "$tidepmd" \
				$eal_pmd -- --mode zctx $a >"$out" 2>&1; then
			fail "zctx $a without memory for its buffer: exit status 0"
		fi
		grep -q "^tidepmd: no memory for the 4 MB buffer zctx sends from" "$out" ||
			fail "zctx $a without memory for its buffer: no message"
		grep -q "^tidepmd: cannot start forwarding: Cannot allocate memory" "$out" ||
			fail "zctx $a: the failed start not reported (as ENOMEM)"
	done
	echo "tidepmd, a start without memory: $(grep "^tidepmd: cannot start" "$out")"
	# A mode's set-up is no forwarding time (zctx filling its buffer, 2 s longer with the
	# fault zctx-slow-fill): a run of 2 s forwards 2 s, its stats lines come every 0.5 s
	# from when the lcores start. (Counted from before the set-up, the run ended as it
	# began: no line before the end, "done after 2.0 s" for nothing forwarded.)
	# shellcheck disable=SC2086
	TIDEPMD_TEST_FAULT=zctx-slow-fill tmo 60 "$tidepmd" $eal_pmd -- --mode zctx \
		--duration 2 --stats-period 500 >"$out" 2>&1 || fail "zctx, slow set-up: exit $?"
	n=$(grep -cE "^tidepmd +[0-9]+\.[0-9]+s \| " "$out" || true)
	[ "$n" -ge 1 ] || fail "zctx, slow set-up: no stats line before the end: its time counted"
	grep -q "^tidepmd: done after 2\.[0-9] s: [1-9][0-9]* packets forwarded" "$out" ||
		fail "zctx, slow set-up: not 2 s of forwarding"
	echo "tidepmd, a slow set-up: $n stats line(s) before the end," \
		"$(grep "^tidepmd: done after" "$out")"
	# --donors, its block source refused on a pool after others took it (the fault
	# donor-source refuses it as on a pool past the last): the start fails, and every pool
	# given the source loses it again before the donor manager is freed, not kept pointing
	# at freed memory.
	rc=0
	# shellcheck disable=SC2086
	TIDEPMD_TEST_FAULT=donor-source tmo 60 "$tidepmd" $eal_pmd \
		--log-level tide.pool:info -- --donors --duration 1 >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "--donors, its source refused: exit status $rc, want 1"
	grep -q "^tidepmd: --donors: Device or resource busy" "$out" ||
		fail "--donors, its source refused: no message"
	src_set=$(sed -n 's/.*(): \(tidepmd_s[0-9]*\): a block source$/\1/p' "$out")
	[ -n "$src_set" ] || fail "--donors, its source refused: no pool was given the source"
	for p in $src_set; do
		grep -E ": $p: (no block source|freed after)" "$out" | head -1 |
			grep -q ": no block source$" ||
			fail "--donors, its source refused: $p kept the freed donor manager"
	done
	echo "tidepmd --donors, its source refused: $(echo "$src_set" | wc -w) pool(s) unset"
	# A zctx lcore whose sends the agent refuses for good (the fault zctx-stop stops the
	# agent after the lcore's first burst: -ESHUTDOWN) says so once and stops, and the run
	# fails as with other lcore failures, long before its --duration; only a full depth
	# (-EAGAIN) is retried. (The library logs each refusal: at critical, the lcore's own
	# line alone, however long it retried.)
	rc=0
	# shellcheck disable=SC2086
	TIDEPMD_TEST_FAULT=zctx-stop tmo 60 "$tidepmd" $eal_pmd \
		--log-level tide.zctx:critical -- --mode zctx --duration 20 >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "zctx, the agent stopped: exit status $rc, want 1"
	msg="^tidepmd: lcore 1: zctx: the send agent refused its sends: Cannot send after"
	[ "$(grep -c "$msg" "$out")" -eq 1 ] || fail "zctx, the agent stopped: not one line why"
	grep -q "^tidepmd: forwarding lcore 1 failed" "$out" ||
		fail "zctx, the agent stopped: the lcore's failure not reported"
	grep -q "^tidepmd: done after [0-9]\.[0-9] s" "$out" ||
		fail "zctx, the agent stopped: the run went on"
	# Every send the agent accepted (the first burst, 32) has its completion in the
	# summary: sent (tx) or cancelled by the stop (dropped), none discarded at the free.
	line=$(grep "^  packets " "$out")
	tx=$(echo "$line" | sed -n 's/.* tx \([0-9]*\),.*/\1/p')
	dropped=$(echo "$line" | sed -n 's/.* dropped \([0-9]*\),.*/\1/p')
	[ "$((tx + dropped))" -eq 32 ] ||
		fail "zctx, the agent stopped: tx $tx + dropped $dropped, want the 32 sent: $line"
	echo "tidepmd zctx, the agent stopped: $(grep "^tidepmd: lcore 1: zctx" "$out")"
	# No prompt (cmdline could not make one): said, and the run fails.
	# shellcheck disable=SC2086
	if TIDEPMD_TEST_FAULT=prompt tmo 60 "$tidepmd" $eal_pmd -- -i </dev/null \
			>"$out" 2>&1; then
		fail "-i without a prompt: exit status 0"
	fi
	grep -q "^tidepmd: cannot start the prompt" "$out" || fail "-i without a prompt: no message"
	echo "tidepmd -i without a prompt: non-zero exit"
	# A tidepmd that a signal interrupted while starting (exit status $1, file prefix $2;
	# $3 says which case): exit 0, says so, and leaves neither its runtime directory nor a
	# hugepage file behind.
	interrupted_cleanly() {
		[ "$1" -eq 0 ] || fail "$3: exit status $1"
		grep -q "^tidepmd: interrupted while starting: nothing forwarded" "$out" ||
			fail "$3: no message"
		[ ! -e "/var/run/dpdk/$2" ] || fail "$3: runtime directory left"
		! ls "$huge"/"$2"map_* >/dev/null 2>&1 || fail "$3: hugepage files left"
		echo "tidepmd, $3: $(grep "^tidepmd: interrupted" "$out")"
	}
	# SIGTERM during start-up (held there, its pool made, by the fault start-hold; no
	# --huge-unlink, as with --mp-workers): the start ends cleanly, and neither the runtime
	# directory nor a hugepage file is left behind.
	TIDEPMD_TEST_FAULT=start-hold "$tidepmd" -l 0-1 --no-pci --file-prefix "$prefix-s" \
		--vdev net_null0 --vdev net_null1 -- --duration 30 >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		! grep -q "^tidepmd: start-up held" "$out" || break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "^tidepmd: start-up held" "$out" || fail "start-up never held"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	pid=
	interrupted_cleanly "$rc" "$prefix-s" "SIGTERM during start-up"
	# SIGTERM before EAL has started (the fault eal-signal raises it just before
	# rte_eal_init()): taken by tidepmd's handler, not the default action that kills it.
	rc=0
	TIDEPMD_TEST_FAULT=eal-signal timeout 60 "$tidepmd" -l 0-1 --no-pci \
		--file-prefix "$prefix-e" --vdev net_null0 --vdev net_null1 -- --duration 30 \
		>"$out" 2>&1 || rc=$?
	interrupted_cleanly "$rc" "$prefix-e" "SIGTERM while EAL starts"
else
	echo "tidepmd, lcore failed and descriptor limits: not checked (a build without" \
		"-Dfault_injection=true)"
fi

# Nothing before "--" is no EAL arguments, as no "--" at all: the defaults (tidepmd's two
# net_null ports, -l 0-1, --no-pci), not EAL's (every CPU, every PCI device, no port).
# shellcheck disable=SC2086
tmo 60 "$tidepmd" -- --mode io --duration 1 >"$out" 2>&1 ||
	fail "tidepmd -- --mode io: exit status $?"
grep -q "^tidepmd: mode io on 1 forwarding lcore(s), 2 ports" "$out" ||
	fail "tidepmd -- --mode io: not on the default EAL arguments"
! grep -q "^EAL: Probe PCI" "$out" || fail "tidepmd -- --mode io: PCI probed"
printf 'show config fwd\nquit\n' | tmo 60 "$tidepmd" -- -i --mode io >"$out" 2>&1 ||
	fail "tidepmd -- -i: exit status $?"
grep -q "^io packet forwarding - ports=2 - cores=1" "$out" ||
	fail "tidepmd -- -i: not on the default EAL arguments"
# tide-bench's default lcores (-l 0-1 here) from a process that may run on CPU 0 only:
# the machine's first CPUs (its lcores poll each other), where EAL's own default would give
# it one lcore, and no machine/start row.
if [ "$(nproc --all)" -ge 2 ]; then
	taskset -c 0 "$bench" -- fanout --rounds 1 --ms 5 >"$out" 2>&1 ||
		fail "tide-bench -- fanout: exit status $?"
	grep -q "^fanout,machine/start,c2c_round_trip," "$out" ||
		fail "tide-bench -- fanout: not on its default EAL arguments (one lcore)"
	! grep -q "^EAL: Probe PCI" "$out" || fail "tide-bench -- fanout: PCI probed"
fi
echo "no EAL arguments before --: the programs' defaults"

# A file prefix in use: the second run says so and names the first one's pid.
eal="-l 0-1 --no-pci --huge-unlink --vdev net_null0 --vdev net_null1 --file-prefix $prefix"
# shellcheck disable=SC2086
"$tidepmd" $eal -- --mode io --duration 60 >"$out.first" 2>&1 &
pid=$!
# EAL's start comes first: a sanitized one on a loaded machine takes up to 30 s.
for _ in $(seq 600); do
	grep -q "^tidepmd: mode io" "$out.first" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "^tidepmd: mode io" "$out.first" ||
	{ cat "$out.first"; fail "the first run did not start"; }
# shellcheck disable=SC2086
if "$tidepmd" $eal -- --mode io --duration 1 >"$out" 2>&1; then
	fail "a second primary on the same file prefix started"
fi
grep -q "^tidepmd: cannot initialise EAL: file prefix '$prefix' is in use by process $pid" \
	"$out" || fail "the second run did not name the prefix and the first one's pid ($pid)"
grep -v "^EAL" "$out" | head -1
# However many EAL arguments come first, all reach EAL: the prefix after 130 others too.
many=$(for _ in $(seq 130); do printf -- '--log-level=lib.eal:notice '; done)
# shellcheck disable=SC2086
if "$tidepmd" $many $eal -- --mode io --duration 1 >"$out" 2>&1; then
	fail "with 130 EAL arguments first, a second primary on the same file prefix started"
fi
grep -q "^tidepmd: cannot initialise EAL: file prefix '$prefix' is in use by process $pid" \
	"$out" || fail "the EAL arguments past the 130th did not reach EAL"
echo "130 EAL arguments and more: all reach EAL"
kill -INT "$pid"
wait "$pid" || { cat "$out.first"; fail "the first run did not end cleanly on SIGINT"; }
pid=
rm -f "$out.first"

# A clean exit removes the runtime directory (tidepmd just now, and tide-bench).
for dir in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk"; do
	[ ! -e "$dir/$prefix" ] || fail "tidepmd left $dir/$prefix behind"
done
"$bench" -l 0-1 --no-pci --huge-unlink --file-prefix "$prefix-b" -- fanout --rounds 1 --ms 5 \
	>"$out" 2>&1 || fail "tide-bench fanout"
for dir in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk"; do
	[ ! -e "$dir/$prefix-b" ] || fail "tide-bench left $dir/$prefix-b behind"
done
# A reader that stops early (| head) ends a run without killing it: the pipeline scenario
# (a secondary of its own, so no --huge-unlink) still removes its runtime directory and
# hugepage files, and says that rows were lost.
"$bench" -l 0-1 --no-pci --base-virtaddr=0x200000000000 --file-prefix "$prefix-p" -- \
	pipeline --rounds 1 --ms 20 2>"$out" | head -1 >/dev/null
for dir in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk"; do
	[ ! -e "$dir/$prefix-p" ] || fail "tide-bench | head left $dir/$prefix-p behind"
done
! ls "$huge"/"$prefix-p"map_* >/dev/null 2>&1 ||
	fail "tide-bench | head left hugepage files behind"
grep -q "^tide-bench: not every row was written: Broken pipe" "$out" ||
	fail "tide-bench | head: no word about the rows it could not write"
# tidepmd, whose statistics go to a reader that left, ends as on SIGINT.
# shellcheck disable=SC2086
"$tidepmd" $eal -- --mode io --duration 60 --stats-period 100 2>"$out" | head -1 >/dev/null
for dir in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk"; do
	[ ! -e "$dir/$prefix" ] || fail "tidepmd | head left $dir/$prefix behind"
done
echo "runtime directories removed at exit"
echo ok
