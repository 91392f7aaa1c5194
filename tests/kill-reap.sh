# SPDX-License-Identifier: BSD-3-Clause
# Sourced by shell tests (bash): ending a process the test started, at its cleanup.

# tide_is_child PID: PID is still a child of this shell (running, or ended and not yet
# reaped), not a process that took the number of one bash has reaped already.
tide_is_child() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st#* }
	[ "${st%% *}" = "$BASHPID" ]
}

# tide_kill_reap PID: SIGKILL PID, a child of this shell, and reap it. Killed, a process
# still ends only once it leaves the kernel: one that does not within 10 s is not waited for.
tide_kill_reap() {
	local i
	if ! tide_is_child "$1"; then
		wait "$1" 2>/dev/null || true # ended and reaped: its number may be another's now
		return 0
	fi
	kill -9 "$1" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$1" 2>/dev/null; then wait "$1" 2>/dev/null || true; fi
}
