#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Soak an elastic pool under AddressSanitizer/UndefinedBehaviorSanitizer: two lcores and a
# non-EAL thread allocate and free random bursts while the pool grows, hits its wall and
# is reaped every millisecond; every mbuf carries an owner tag (tests/soak_pool.c). Fails
# on an mbuf handed out twice or freed by a non-holder, an mbuf not back at the end,
# inconsistent pool counters, or fewer than 1e8 allocations and frees a minute.
#   scripts/soak.sh [SECONDS]        default 60, at most a week (604800)
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -le 1 ] || { echo "usage: $0 [SECONDS] (1..604800, default 60)" >&2; exit 2; }
secs=${1-60}
# Decimal with no leading zero: bash arithmetic reads "010" as octal and refuses "08". The
# length is checked before the value so that bash's 64-bit arithmetic cannot wrap.
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
	echo "$0: SECONDS: '$secs' is not a decimal number (no sign, blank or leading zero);" \
		"accepted: 1..604800" >&2
	exit 2
elif ((${#secs} > 6 || 10#$secs > 604800)); then
	echo "$0: SECONDS: '$secs' is out of range; accepted: 1..604800" >&2
	exit 2
fi
secs=$((10#$secs))

./scripts/setup.sh >/dev/null
# The same ASan/UBSan build as scripts/test.sh.
./scripts/build.sh build-asan -Dwerror=true -Dfault_injection=true \
	-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
min_ops=$((secs * 100000000 / 60))
exec ./build-asan/tests/soak_pool -l 0-1 --no-pci --file-prefix "tide-soak-$$" --huge-unlink \
	--log-level lib.eal:warning -- "$secs" --min-ops "$min_ops"
