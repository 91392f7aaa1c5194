#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The soak program's own numbers (after EAL's arguments and --): SECONDS 1..604800 and
# --min-ops N, each refused with its name and range when it is not a number in range (a
# negative one is not wrapped to a huge one), and nothing else after them.
#   test_soak_args.sh SOAK_POOL
set -eu
soak=$1
out=$(mktemp /tmp/tide-soak-args.XXXXXX)
prefix=tide-soak-args-$$
trap 'rm -f "$out"; rm -rf "/var/run/dpdk/$prefix"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

# refused MESSAGE ARGS...: the soak exits 2 with MESSAGE for ARGS (after --).
refused() {
	msg=$1
	shift
	st=0
	"$soak" -l 0-1 --no-pci --no-huge -m 256 --file-prefix "$prefix" \
		--log-level lib.eal:error -- "$@" >"$out" 2>&1 || st=$?
	[ "$st" -eq 2 ] || fail "soak_pool -- $*: exit $st, not 2"
	grep -q -- "$msg" "$out" || fail "soak_pool -- $*: no '$msg'"
	echo "soak_pool -- $*: $(grep -m1 "^soak\|^usage" "$out")"
}
refused "^soak: SECONDS: '-1' is .*; accepted: 1\.\.604800" -1
refused "^soak: SECONDS: '0' is .*; accepted: 1\.\.604800" 0
refused "^soak: SECONDS: '604801' is .*; accepted: 1\.\.604800" 604801
refused "^soak: SECONDS: '10s' is .*; accepted: 1\.\.604800" 10s
refused "^soak: --min-ops: '1e8' is .*" 10 --min-ops 1e8
refused "^soak: --min-ops: '-5' is .*" 10 --min-ops -5
refused "^usage: soak_pool" 10 --min-ops
refused "^usage: soak_pool" 10 --other 5
refused "^usage: soak_pool"
echo ok
