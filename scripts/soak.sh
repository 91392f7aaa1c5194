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

# shellcheck source=scripts/num.sh
. scripts/num.sh
[ $# -le 1 ] || { echo "usage: $0 [SECONDS] (1..604800, default 60)" >&2; exit 2; }
secs=${1-60}
tide_num_check "$0: SECONDS" "$secs" 1 604800
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
