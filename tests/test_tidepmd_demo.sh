#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tidepmd with no arguments, the demo a new user runs first, for 20 s then Ctrl-C: the pool
# grows during at least two bursts and is reaped back to its base after at least two, no
# packet waits for an mbuf (rx_nombuf 0 on every line), and the summary agrees with the
# per-second lines (peak and mean MB held, grows, reaps, packets, drops) and accounts for
# every packet received (sent, dropped, or held at the stop and freed).
# The 20 s count from its start line: EAL's start before it takes 5 to 30 s for a sanitized
# build on a loaded machine.
#   test_tidepmd_demo.sh TIDEPMD
set -eu
tidepmd=$1
. "$(dirname "$0")/kill-reap.sh"
out=$(mktemp /tmp/tide-tpmd-demo.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		tide_kill_reap "$pid"
		# Its own file prefix, with --huge-unlink: killed, it leaves its runtime directory.
		rm -rf "/var/run/dpdk/tidepmd-$pid"
	fi
	rm -f "$out"
}
trap cleanup EXIT

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

"$tidepmd" >"$out" 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do
	grep -q "^tidepmd: mode " "$out" && break
	kill -0 "$pid" 2>/dev/null || fail "tidepmd ended before its start line"
	sleep 0.1
done
grep -q "^tidepmd: mode " "$out" || fail "no start line within 60 s"
grep -q "^tidepmd: mode bursty on 1 forwarding lcore(s), 2 ports" "$out" ||
	fail "the default is not the bursty demo"
sleep 20
kill -INT "$pid" 2>/dev/null || true # one that ended meanwhile: its status says why
for ((i = 0; i < 600; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ "$i" -lt 600 ] || fail "tidepmd did not end within 60 s of SIGINT"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || fail "exit status $rc"
grep "^tidepmd " "$out" | cut -c1-150

# From the lines: time, tx rate, held MB, blocks, grows, reaps, drops, rx_nombuf.
lines=$(awk '/^tidepmd +[0-9.]+s/ && / blocks,/ {
	t = $2; sub("s", "", t)
	for (i = 1; i < NF; i++) {
		if ($i == "tx" && $(i + 2) == "Mpps") tx = $(i + 1)
		if ($i == "held" && $(i + 2) == "MB") mb = $(i + 1)
		if ($i == "blocks,") bl = $(i - 1)
		if ($i == "grows") gr = $(i + 1)
		if ($i == "reaps") re = $(i + 1)
		if ($i == "drops") dr = $(i + 1)
		if ($i == "rx_nombuf") nb = $(i + 1)
	}
	print t, tx, mb, bl, gr, re, dr, nb
}' "$out")
[ -n "$lines" ] || fail "no stats line"
facts=$(echo "$lines" | awk '
	BEGIN { prev_t = 0; prev_bl = 1 }
	{
		if ($4 > 1 && prev_bl == 1) grew++
		if ($4 == 1 && prev_bl > 1) { back++; if ($3 != 16) bad_base++ }
		if ($8 != 0) nombuf++
		if ($3 > peak) peak = $3
		mbs += $3 * ($1 - prev_t)
		pkts += $2 * 1e6 * ($1 - prev_t)
		prev_t = $1; prev_bl = $4; grows = $5; reaps = $6; drops = $7
	}
	END { printf "%d %d %d %d %.1f %.2f %.0f %d %d %d %.2f\n", grew, back, bad_base + 0,
		nombuf + 0, peak, mbs / prev_t, pkts, grows, reaps, drops, prev_t }')
set -- $facts
grew=$1 back=$2 bad_base=$3 nombuf_lines=$4 peak=$5 mean=$6 pkts=$7 grows=$8 reaps=$9
shift 9
drops=$1 secs=$2
echo "lines: grew $grew times, back to base $back times, peak $peak MB, mean $mean MB," \
	"~$pkts packets, grows $grows, reaps $reaps, drops $drops, $secs s"
[ "$grew" -ge 2 ] || fail "the pool grew in $grew burst(s), want 2"
[ "$back" -ge 2 ] || fail "the pool went back to its base $back time(s), want 2"
[ "$bad_base" -eq 0 ] || fail "back to 1 block but not to the 16 MB base"
[ "$nombuf_lines" -eq 0 ] || fail "rx_nombuf on $nombuf_lines line(s)"

# The summary, from the same samples.
s_peak=$(sed -n 's/^  pool held *peak \([0-9.]*\) MB, mean \([0-9.]*\) MB.*/\1/p' "$out")
s_mean=$(sed -n 's/^  pool held *peak \([0-9.]*\) MB, mean \([0-9.]*\) MB.*/\2/p' "$out")
s_grows=$(sed -n 's/^  pool blocks *grows \([0-9]*\) .*/\1/p' "$out")
s_reaps=$(sed -n 's/^  pool blocks .*, reaps \([0-9]*\),.*/\1/p' "$out")
n='\([0-9]*\)'
pat="^  packets *rx $n, tx $n, dropped $n, rx_nombuf $n, freed at stop $n\$"
packets=$(sed -n "s/$pat/\1 \2 \3 \4 \5/p" "$out")
s_rx=$(echo "$packets" | awk '{ print $1 }')
s_tx=$(echo "$packets" | awk '{ print $2 }')
s_drops=$(echo "$packets" | awk '{ print $3 }')
s_nombuf=$(echo "$packets" | awk '{ print $4 }')
s_freed=$(echo "$packets" | awk '{ print $5 }')
s_secs=$(sed -n 's/^tidepmd: done after \([0-9.]*\) s:.*/\1/p' "$out")
grep -q "^  fixed pool  a stock pool sized for this peak holds $s_peak MB" "$out" ||
	fail "no comparison with a fixed pool sized for the peak"
echo "summary: peak $s_peak MB, mean $s_mean MB, tx $s_tx, grows $s_grows, reaps $s_reaps," \
	"drops $s_drops, rx_nombuf $s_nombuf, $s_secs s"
[ "$s_nombuf" = 0 ] || fail "summary: rx_nombuf $s_nombuf"
[ -n "$s_rx" ] && [ "$s_rx" -eq $((s_tx + s_drops + s_freed)) ] ||
	fail "summary: rx $s_rx is not tx $s_tx + dropped $s_drops + freed at stop $s_freed"
[ "$s_grows" = "$grows" ] && [ "$s_reaps" = "$reaps" ] && [ "$s_drops" = "$drops" ] ||
	fail "summary's grows/reaps/drops differ from the last line's"
awk -v a="$s_peak" -v b="$peak" -v c="$s_mean" -v d="$mean" -v e="$s_tx" -v f="$pkts" \
	-v g="$s_secs" -v h="$secs" 'function off(x, y, tol) { return x - y > tol || y - x > tol }
	BEGIN { exit off(a, b, 0.05) || off(c, d, 0.02 * d + 0.1) || off(e, f, 0.02 * f + 1000) ||
		off(g, h, 0.1) }' ||
	fail "the summary's peak, mean, packets or time disagree with the lines"
echo ok
