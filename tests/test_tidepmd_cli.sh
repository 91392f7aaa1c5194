#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tidepmd's prompt (-i), typed to as a user would: start, show port stats, set fwd macswap
# (refused while forwarding runs, as testpmd's configuration commands: the run goes on in io
# mode), show pool, a bad command and bad values, show port stats again, stop, set fwd
# macswap (taken now), quit. Forwarding must go on across the bad command: the port
# statistics taken after it count more packets than those taken just before it, and the
# throughput between the two is not zero. Then show pool and show pool NAME once more
# without telemetry (the public API's view), and set burst in the modes whose own loops
# take it. At a terminal (a pty), Ctrl-C clears the line and Ctrl-D ends the prompt. zctx
# whose agent is busy at a stop keeps it, refuses a start while it is busy, then starts
# again (TIDE_TEST_FAULTS=1: a build with -Dfault_injection=true).
# The sessions whose checks need forwarding time type through a FIFO, each command once the
# last one is done: a pipe written on its own clock would hand the commands over back to
# back once EAL has started (5 to 30 s for a sanitized build on a loaded machine).
#   test_tidepmd_cli.sh TIDEPMD
set -eu
tidepmd=$1
. "$(dirname "$0")/kill-reap.sh"
tmp=$(mktemp -d /tmp/tide-tpmd-cli.XXXXXX)
out=$tmp/out
pid=     # the session's tidepmd, while it runs
prefix=

cleanup() {
	if [ -n "$pid" ]; then
		tide_kill_reap "$pid"
		# --huge-unlink: killed, it leaves its runtime directory only.
		[ -z "$prefix" ] || rm -rf "/var/run/dpdk/$prefix"
	fi
	rm -rf "$tmp"
	# Prefixes of the runs below that need no session (--huge-unlink: a runtime directory
	# is all a killed one leaves).
	for p in nt t z zq; do
		rm -rf "/var/run/dpdk/tide-cli-$p-$$"
	done
}
trap cleanup EXIT
# A command written after tidepmd died: the write fails (and the test says so) instead of
# SIGPIPE ending the shell without its cleanup.
trap '' PIPE

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

# tidepmd on two null ports, prompt in io mode: prompt PREFIX [EAL args...], input on
# stdin, output in $out.
prompt() {
	prefix=$1
	shift
	"$tidepmd" -l 0-1 --no-pci --huge-unlink --vdev net_null0 --vdev net_null1 "$@" \
		--file-prefix "$prefix" -- -i --mode io >"$out" 2>&1
}

# wait_for TEXT SECONDS: until $out has a line matching TEXT (a grep -E pattern), while the
# session's tidepmd runs.
wait_for() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -qE -- "$1" "$out" && return 0
		kill -0 "$pid" 2>/dev/null || fail "tidepmd ended before '$1'"
		sleep 0.1
	done
	fail "no '$1' within $2 s"
}

# The prompts $out holds: one per command done, and the one waiting for the next.
prompts() {
	grep -o "tidepmd> " "$out" | wc -l
}

# session PREFIX [EAL args...]: as prompt, in the background (its own pid in $pid: not a
# subshell's), typed to through a FIFO (fd $in), once it is up.
session() {
	prefix=$1
	shift
	rm -f "$tmp/in"
	mkfifo "$tmp/in"
	"$tidepmd" -l 0-1 --no-pci --huge-unlink --vdev net_null0 --vdev net_null1 "$@" \
		--file-prefix "$prefix" -- -i --mode io <"$tmp/in" >"$out" 2>&1 &
	pid=$!
	exec {in}>"$tmp/in"
	wait_for "^tidepmd> " 60
}

# cmd CMD: CMD at the prompt, and wait until it is done (the next prompt).
cmd() {
	local n i
	n=$(prompts)
	kill -0 "$pid" 2>/dev/null || fail "tidepmd ended before '$1'"
	echo "$1" >&"$in" || fail "tidepmd ended before '$1'"
	for ((i = 0; i < 600; i++)); do
		[ "$(prompts)" -le "$n" ] || return 0
		kill -0 "$pid" 2>/dev/null || fail "tidepmd ended at '$1'"
		sleep 0.1
	done
	fail "'$1' not done within 60 s"
}

# quit: the last command, then the session's exit status (bounded: a tidepmd that does not
# end is killed and fails the test).
quit() {
	local i rc=0
	echo quit >&"$in" || fail "tidepmd ended before quit"
	exec {in}>&-
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$i" -lt 600 ] || fail "tidepmd did not end within 60 s of quit"
	wait "$pid" || rc=$?
	pid=
	return "$rc"
}

session "tide-cli-$$"
cmd "start"
# Its lcore forwards (start returns once it is launched): give it a second.
wait_for "^Logical Core 1 .* forwards packets on 2 streams" 60
sleep 1
for c in "show port stats all" "set fwd macswap" "show pool" "show pool no_such_pool" \
		"show xchg" "show port stats all" "bogus command" "set burst 0" \
		"set fwd nosuchmode" "set pool reap 20" "set pool idle 40" "set pool wall 0x200" \
		"set pool wall 64" "set pool wall 1" "set pool wall 100000" "set pool wall 8" \
		"help" "show pool" "show port stats 7" "clear port stats x"; do
	cmd "$c"
done
sleep 1
cmd "show port stats all"
cmd "show config fwd"
cmd "stop"
cmd "set fwd macswap"
cmd "show config fwd"
quit || fail "exit status $?"

grep -q "^tidepmd> " "$out" || fail "no prompt"
grep -q "^Logical Core 1 .* forwards packets on 2 streams" "$out" || fail "start said nothing"
# Port 0's counters at the three shows: after start, before and after the bad command.
rx=$(sed -n 's/^  RX-packets: \([0-9]*\) *RX-missed.*/\1/p' "$out")
set -- $rx
[ $# -eq 6 ] || fail "want 3 x 2 ports of statistics, got: $rx"
first=$1
before=$3
after=$5
pps=$(sed -n 's/^  Rx-pps: *\([0-9]*\) .*/\1/p' "$out" | sed -n 5p)
echo "port 0 RX-packets: $first after start, $before before the bad command, $after after it;" \
	"Rx-pps across it: $pps"
[ "$first" -gt 0 ] || fail "nothing forwarded after start"
[ "$after" -gt "$before" ] || fail "forwarding stopped across the bad command"
[ "$pps" -gt 0 ] || fail "no throughput across the bad command"
# set fwd while forwarding runs: refused, the run untouched (one stop, its statistics since
# the start); once stopped: taken.
grep -q "^set fwd macswap: io forwarding runs: stop forwarding first (nothing changed)$" \
	"$out" || fail "set fwd macswap while forwarding runs: not refused"
! grep -q "^Forwarding restarted" "$out" || fail "set fwd restarted the run"
[ "$(grep -c "^Set macswap packet forwarding mode" "$out")" -eq 1 ] ||
	fail "set fwd macswap: not taken exactly once (after the stop)"
# (The start shows the configuration too.)
[ "$(grep -c "^io packet forwarding - ports=2 - cores=1 - streams=2" "$out")" -eq 2 ] ||
	fail "show config fwd while forwarding runs: not the io run started"
grep -q "^macswap packet forwarding - ports=2 - cores=1 - streams=2" "$out" ||
	fail "show config fwd after the stop: not macswap"
[ "$(grep -c "Accumulated forward statistics for all ports" "$out")" -eq 1 ] ||
	fail "not one stop's statistics for the one run"
grep -q "######## Pool tidepmd_s0 ####" "$out" || fail "show pool showed no pool"
grep -q "^  held: .* MB in [0-9]* blocks" "$out" || fail "show pool: no held MB"
grep -q "^  grows: " "$out" && grep -q "^  reaps: " "$out" || fail "show pool: no grows/reaps"
grep -q "^  block .* age ms .* in use .* idle ms" "$out" || fail "show pool: no block table"
grep -q "^  b1 " "$out" || fail "show pool: no base block"
dropped="^  dropped: [0-9]* foreign frees, [0-9]* double frees; driver lock recovered [0-9]* times"
grep -q "$dropped" "$out" || fail "show pool: no dropped frees"
grep -q "^  listed:  [0-9]* blocks, [0-9]* not listed" "$out" ||
	fail "show pool: no unlisted blocks"
grep -q "No elastic pool named 'no_such_pool'" "$out" || fail "show pool NAME: no answer"
grep -q "No exchange" "$out" || fail "show xchg: no answer"
grep -q "^Command not found" "$out" || fail "a bad command got no feedback"
grep -q "^Bad argument: set burst: '0' is out of range; accepted: 1..512" "$out" ||
	fail "a bad value got no feedback"
grep -q "^Bad argument: set fwd: unknown mode 'nosuchmode'" "$out" ||
	fail "an unknown mode got no feedback"
grep -q "^Invalid port 7: give 'all' or one of the 2 ports: 0 1$" "$out" ||
	fail "a port that is not one: no list of the ports there are"
grep -q "^Invalid port x: 'x' is not a number" "$out" || fail "a port that is no number: no why"
grep -q "^Pool tidepmd_s0: reap set to 20 ms" "$out" || fail "set pool reap refused"
grep -q "^Pool tidepmd_s0: idle set to 40 ms" "$out" || fail "set pool idle refused"
grep -q "^Pool tidepmd_s0: wall set to 64 MB" "$out" || fail "set pool wall refused"
grep -q "^Bad argument: set pool wall (MB): '1' is out of range" "$out" ||
	fail "a wall below the range got no feedback"
# The pool takes walls from its base (16 MB) to the wall it was created with (512 MB): the
# refusal says so at the prompt, before the library's bare "Invalid argument".
wall_range="set pool wall (MB): '%s' is out of range; accepted: 16\.\.512$"
for w in 100000 8; do
	# shellcheck disable=SC2059
	grep -q "^Bad argument: $(printf "$wall_range" "$w")" "$out" ||
		fail "set pool wall $w: no refusal naming the pool's range (16..512)"
done
! grep -q "set pool wall [0-9]*: Invalid argument" "$out" ||
	fail "set pool wall: the library refused what the prompt let through"
grep -q "^Pool tidepmd_s0: wall set to 512 MB" "$out" || fail "set pool wall 0x200 refused"
# help gives the ranges the commands check.
grep -q "^  start tx_first \[N\] .*1\.\.1024" "$out" || fail "help: no range for tx_first N"
grep -q "^  set pool wall MB .*from its base to --pool-wall" "$out" ||
	fail "help: no range for set pool wall"
grep -q "^  set pool idle MS .*1\.\.3600000" "$out" || fail "help: no range for set pool idle"
grep -q "^  set pool reap MS .*0\.\.3600000" "$out" || fail "help: no range for set pool reap"
grep -q "wall 64.0 MB)" "$out" || fail "show pool: the new wall is not shown"
grep -q "the reaper looks every 20 ms and gives back blocks idle 40 ms" "$out" ||
	fail "show pool: the new reap period and idle threshold are not shown"
grep -q "Accumulated forward statistics for all ports" "$out" || fail "stop said nothing"

# Without telemetry show pool reads the public API: the reaper as set, the dropped frees, and
# show pool NAME finds the same pools.
printf '%s\n' "set pool reap 30" "set pool idle 70" "show pool" "show pool tidepmd_s0" \
	"show pool no_such_pool" quit |
	prompt "tide-cli-nt-$$" --no-telemetry || fail "exit status $? (--no-telemetry)"
grep -q "######## Pool tidepmd_s0 ####" "$out" || fail "show pool (no telemetry) showed no pool"
grep -q "reaper:  looks every 30 ms and gives back blocks idle 70 ms" "$out" ||
	fail "show pool (no telemetry): the reap period and idle threshold set are not shown"
grep -q "(no telemetry: ages unknown)" "$out" ||
	fail "show pool (no telemetry): not the API's view"
grep -q "$dropped" "$out" || fail "show pool (no telemetry): no dropped frees"
[ "$(grep -c "######## Pool tidepmd_s0 ####" "$out")" -eq 2 ] &&
	! grep -q "No elastic pool named 'tidepmd_s0'" "$out" ||
	fail "show pool tidepmd_s0 (no telemetry): not the pool show pool lists"
grep -q "No elastic pool named 'no_such_pool'" "$out" ||
	fail "show pool no_such_pool (no telemetry): no answer"

# set burst in pipeline, whose stages receive that many at a time: on net_null ports, which
# fill every receive, what each port received is a multiple of it (509: of no other burst).
# bursty makes its delay lines at start: a burst set while it runs waits for the next.
session "tide-cli-b-$$"
cmd "set fwd pipeline"
cmd "set burst 509"
cmd "start"
wait_for "^pipeline packet forwarding - " 60
sleep 1
for c in "stop" "set fwd bursty" "start" "set burst 7" "show config fwd" "stop"; do
	cmd "$c"
done
quit || fail "exit status $? (burst)"
rx=$(sed -n '/^  ---* Forward statistics for port/{n;s/^  RX-packets: \([0-9]*\) .*/\1/p}' \
	"$out" | head -2)
[ "$(echo "$rx" | wc -l)" -eq 2 ] || fail "set burst 509: no forward statistics per port"
for n in $rx; do
	[ "$n" -gt 0 ] && [ $((n % 509)) -eq 0 ] ||
		fail "pipeline after set burst 509: a port received $n, not bursts of 509"
done
grep -q "^bursty mode receives bursts of 7 from the next start" "$out" ||
	fail "set burst while bursty runs: not told when it applies"
grep -q "^bursty packet forwarding - .* - burst=7" "$out" || fail "show config fwd: not burst=7"
echo "set burst 509: pipeline received $(echo "$rx" | tr '\n' ' ')on the two ports;" \
	"bursty told it applies from the next start"

# At a terminal (a pty), as README says: Ctrl-C clears the line being typed and the prompt
# goes on (librte_cmdline turns the terminal's signal keys off); Ctrl-D on an empty line
# stops forwarding and ends it, exit status 0.
python3 - "$tidepmd" "tide-cli-t-$$" "$out" <<'EOF' || fail "at a terminal: see above"
import os, pty, select, signal, sys, time

tidepmd, prefix, log = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(tidepmd, [tidepmd, "-l", "0-1", "--no-pci", "--huge-unlink", "--vdev",
                       "net_null0", "--vdev", "net_null1", "--file-prefix", prefix, "--",
                       "-i", "--mode", "io"])
out = b""


def until(text, secs):
    """Read the terminal until it shows text (after what it showed so far), or secs."""
    global out
    start, end = len(out), time.time() + secs
    while time.time() < end:
        if text.encode() in out[start:]:
            return True
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return text.encode() in out[start:]


def drain(secs):
    """Read what the terminal shows for secs."""
    until("\0", secs)


def done(msg):
    open(log, "wb").write(out)
    if os.waitpid(pid, os.WNOHANG) == (0, 0):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    sys.exit(msg)


if not until("tidepmd> ", 60):
    done("FAIL: at a terminal: no prompt")
os.write(fd, b"start\r")
if not until("tidepmd> ", 60):
    done("FAIL: at a terminal: start not done")
os.write(fd, b"sta\x03")
time.sleep(1)
if os.waitpid(pid, os.WNOHANG) != (0, 0):
    done("FAIL: at a terminal: Ctrl-C ended the prompt")
# What Ctrl-C cleared does not come before the next command.
os.write(fd, b"show config fwd\r")
if not until("io packet forwarding - ports=2", 30):
    done("FAIL: at a terminal: the line before Ctrl-C was not cleared")
os.write(fd, b"\x04")
end, got = time.time() + 60, 0
while time.time() < end and got == 0:
    drain(0.2)
    got, status = os.waitpid(pid, os.WNOHANG)
if got == 0:
    done("FAIL: at a terminal: Ctrl-D on an empty line did not end the prompt in 60 s")
drain(0.5)
open(log, "wb").write(out)
if status != 0 or b"Accumulated forward statistics" not in out:
    sys.exit("FAIL: at a terminal: Ctrl-D: exit status %d, forwarding stopped: %s" %
             (status, b"Accumulated forward statistics" in out))
EOF
echo "at a terminal: Ctrl-C cleared the line, the prompt went on; Ctrl-D ended it"

# zctx whose send agent cannot be freed at a stop, sends still in flight (fault zctx-busy:
# its first 4 frees fail; a stop tries twice, the second time with its ports stopped):
# the agent and the buffer those sends point into are kept, a start is refused while they
# are, and the next start frees them and runs (not "File exists": an agent left behind).
if [ "${TIDE_TEST_FAULTS:-0}" = 1 ]; then
	{
		echo "set fwd zctx"
		echo "start"
		echo "stop"
		echo "start"
		echo "start"
		echo "stop"
		echo "quit"
	} | TIDEPMD_TEST_FAULT=zctx-busy "$tidepmd" -l 0-1 --no-pci --huge-unlink \
		--vdev net_null0 --vdev net_null1 --file-prefix "tide-cli-z-$$" -- -i --mode io \
		>"$out" 2>&1 || fail "exit status $? (zctx busy)"
	grep -q "^tidepmd: zctx: the send agent still has sends in flight: it and its buffer are" \
		"$out" || fail "zctx busy at the stop: not kept"
	grep -q "^Cannot start forwarding: Device or resource busy" "$out" &&
		grep -q "^tidepmd: zctx: the send agent of the last run still has sends in flight" \
		"$out" || fail "zctx busy: a start not refused, or not told why"
	[ "$(grep -c "^zctx packet forwarding - " "$out")" -eq 2 ] ||
		fail "zctx: the start after the agent could be freed did not run"
	! grep -q "File exists" "$out" || fail "zctx: an agent left behind at the stop"
	echo "zctx busy at the stop: agent and buffer kept, a start refused, then freed and run"
	# Kept at the stop, then the quit: freed at exit (its ports stopped and started, then
	# once closed), before the pools its sends use; the exit is clean.
	printf 'set fwd zctx\nstart\nstop\nquit\n' | TIDEPMD_TEST_FAULT=zctx-busy "$tidepmd" \
		-l 0-1 --no-pci --huge-unlink --vdev net_null0 --vdev net_null1 \
		--file-prefix "tide-cli-zq-$$" -- -i --mode io >"$out" 2>&1 ||
		fail "exit status $? (zctx kept at the quit)"
	grep -q "^tidepmd: zctx: the send agent still has sends in flight: it and its buffer are" \
		"$out" || fail "zctx busy at the stop before the quit: not kept"
	grep -q "^tidepmd: zctx: the send agent kept from the last run is freed, its sends" \
		"$out" || fail "zctx: the agent kept at the quit not freed at exit"
	echo "zctx busy at the stop, then quit: the kept agent freed at exit"
else
	echo "zctx busy at a stop: not checked (a build without" \
		"-Dfault_injection=true)"
fi
echo ok
