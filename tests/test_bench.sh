#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tide-bench runs every scenario end to end (short, so this checks that it works and
# prints its CSV rows, not how fast anything is: timing belongs to the real runs).
#   test_bench.sh TIDE_BENCH
set -eu
bench=$1

check() {
	name=$1
	shift
	out=$("$bench" "$name" "$@" 2>/dev/null)
	echo "$out" | head -1 | grep -qx "scenario,variant,metric,value,unit" ||
		{ echo "$name: no CSV header"; echo "$out"; exit 1; }
	rows=$(echo "$out" | grep -c "^$name,")
	echo "$name: $rows rows"
	[ "$rows" -gt 2 ] || { echo "$out"; exit 1; }
}

check mempool --rounds 1 --ms 5 --filter bulk32
check fwd --rounds 1 --ms 50
check footprint --trace 1:200,0:400 --hold-ms 20 --cycles 1
check msg --rounds 1 --ms 20
check pipeline --rounds 1 --ms 50
check fanout --rounds 1 --ms 20
check zctx --rounds 1 --ms 20
"$bench" footprint --trace 1:200,0:400 --hold-ms 20 --cycles 1 --table 2>/dev/null |
	grep -q "^footprint .* tide:fixed .* mb_s" || { echo "no table"; exit 1; }
# A bad command line is refused, with the usage.
if "$bench" nosuchscenario >/dev/null 2>&1; then echo "unknown scenario accepted"; exit 1; fi
echo ok
