#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Set up this machine, build tidepool four times and run every test suite on two builds:
#   build-test  release, warnings are errors, fault injection compiled in
#   build-plain release without fault injection, warnings are errors (built, not run: the
#               build demo.sh and an install make, which must compile)
#   build-portable  the same for DPDK's own -march (-Dmachine=default), without the tests
#               (built, not run)
#   build-asan  the same as build-test with AddressSanitizer and UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."

# A run that ends early (a failed suite, Ctrl-C, a CI's SIGTERM) takes its tests along and
# leaves no hugepage files or runtime directories of theirs behind (setup.sh --clean).
child=
# shellcheck disable=SC2317 # (run by the traps)
stop_child() {
	[ -z "$child" ] || { kill -TERM -- "-$child" 2>/dev/null || true; wait "$child" || true; }
	exit "$1"
}
trap 'stop_child 130' INT
trap 'stop_child 143' TERM
trap 'stop_child 129' HUP # (a closed terminal: the tests are in a session of their own)
trap './scripts/setup.sh --clean >/dev/null || echo "test: setup.sh --clean failed" >&2' EXIT
# Run a command, in a process group of its own, as the child a signal stops with every test
# it started (in the foreground it would outlive this shell).
run() {
	setsid "$@" &
	child=$!
	wait "$child"
	child=
}

./scripts/setup.sh

common=(-Dwerror=true -Dfault_injection=true)

echo "== release build"
./scripts/build.sh build-test "${common[@]}" >/dev/null
run meson test -C build-test --print-errorlogs

echo "== release build without fault injection (what demo.sh and an install build)"
./scripts/build.sh build-plain -Dwerror=true >/dev/null

echo "== portable build (-Dmachine=default: DPDK's own -march; built, not run)"
./scripts/build.sh build-portable -Dwerror=true -Dmachine=default -Dtests=false >/dev/null

echo "== ASan/UBSan build"
./scripts/build.sh build-asan "${common[@]}" -Db_sanitize=address,undefined \
	-Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run meson test -C build-asan --print-errorlogs

echo "== all tests passed on both builds"
