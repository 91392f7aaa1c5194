# SPDX-License-Identifier: BSD-3-Clause
# Sourced by shell tests (bash): ending a process the test started, at its cleanup.

# tide_kill_reap PID: SIGKILL PID, a child of this shell, and reap it. Killed, a process
# still ends only once it leaves the kernel: one that does not within 10 s is not waited for.
tide_kill_reap() {
	local i
	kill -9 "$1" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$1" 2>/dev/null; then wait "$1" 2>/dev/null || true; fi
}
