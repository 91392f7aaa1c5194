#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# tidepmd as a user runs it: the default io mode forwards; the bursty mode makes the pool
# grow during a burst and shrink back to its base afterwards, with no mbuf missing.
#   test_tidepmd.sh TIDEPMD
set -eu
tidepmd=$1
out=$(mktemp /tmp/tide-tidepmd.XXXXXX)
trap 'rm -f "$out"' EXIT

"$tidepmd" --duration 2 >"$out" 2>&1
grep -q "packets forwarded" "$out" || { cat "$out"; echo "io mode did not run"; exit 1; }
mpps=$(sed -n 's/.*forwarded, \([0-9.]*\) Mpps average/\1/p' "$out")
echo "io: $mpps Mpps"
awk -v m="$mpps" 'BEGIN { exit !(m > 1) }' || { echo "io mode forwarded nothing"; exit 1; }

# 0.3 s bursts at 2 Mpps held 50 ms (100k mbufs), then 2.7 s idle: grow, then reap.
"$tidepmd" --mode bursty --trace 2:300,0:2700 --hold-ms 50 --duration 3 \
	--stats-period 100 >"$out" 2>&1
grep "^tidepmd " "$out" | head -40
max=$(awk '/^tidepmd / && / blocks / { for (i = 1; i < NF; i++) if ($(i + 1) == "blocks") \
	{ if ($i > m) m = $i } } END { print m + 0 }' "$out")
last=$(awk '/^tidepmd / && / blocks / { for (i = 1; i < NF; i++) if ($(i + 1) == "blocks") \
	b = $i } END { print b + 0 }' "$out")
nombuf=$(awk '/^tidepmd / && /rx_nombuf/ { n = $NF } END { print n + 0 }' "$out")
echo "bursty: grew to $max blocks, ended with $last, rx_nombuf $nombuf"
[ "$max" -gt 8 ] || { echo "the pool did not grow during the burst"; exit 1; }
[ "$last" -eq 1 ] || { echo "the pool did not shrink back to its base"; exit 1; }
[ "$nombuf" -eq 0 ] || { echo "packets were lost for want of an mbuf"; exit 1; }

# The pipeline mode forwards through the exchange and leaves no message behind.
"$tidepmd" --mode pipeline --duration 2 >"$out" 2>&1
grep "^tidepmd " "$out" | head -5
grep -q "no message left behind" "$out" || { cat "$out"; echo "pipeline left messages"; exit 1; }
pmpps=$(sed -n 's/.*forwarded, \([0-9.]*\) Mpps average/\1/p' "$out")
echo "pipeline: $pmpps Mpps"
awk -v m="$pmpps" 'BEGIN { exit !(m > 0.1) }' || { echo "the pipeline forwarded nothing"; exit 1; }

# The zctx mode sends from a malloc'd buffer through the send agent.
"$tidepmd" --mode zctx --duration 2 >"$out" 2>&1
grep "^tidepmd " "$out" | head -3
grep -q "zctx .* Gbps" "$out" || { cat "$out"; echo "zctx mode printed no stats"; exit 1; }
grep -q "packets forwarded" "$out" || { cat "$out"; echo "zctx mode did not finish"; exit 1; }
