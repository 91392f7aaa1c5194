#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The numbers of scripts/soak.sh (SECONDS), scripts/testpmd-elastic.sh (--runs,
# --seconds) and scripts/bench.sh (--repeat, --soak): a leading zero (octal to bash
# arithmetic: "010" is eight, "08" an error), a sign, a blank, an overflow or a value out of
# range is refused before any work, with exit status 2 and a message naming the option and
# the accepted range. scripts/plot-footprint.sh leaves its OUT.csv as it was when
# tide-bench refuses an option.
# The scripts run from a copy of scripts/ whose setup.sh, build.sh and stage-plugin.sh only
# say they were reached: a number let through does no work here, it is only seen.
#   test_script_args.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d /tmp/tide-script-args.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
out=$tmp/out
mkdir "$tmp/scripts"
cp "$src/scripts/soak.sh" "$src/scripts/testpmd-elastic.sh" "$src/scripts/num.sh" \
	"$src/scripts/bench.sh" "$tmp/scripts/"
for s in setup.sh build.sh stage-plugin.sh; do
	printf '#!/bin/sh\necho "reached %s" >&2\nexit 97\n' "$s" >"$tmp/scripts/$s"
	chmod +x "$tmp/scripts/$s"
done

fail() {
	cat "$out"
	echo "FAIL: $*"
	exit 1
}

# refused WHAT RANGE SCRIPT ARGS...: SCRIPT exits 2 naming WHAT, the value and RANGE.
refused() {
	what=$1
	range=$2
	script=$3
	shift 3
	st=0
	"$tmp/scripts/$script" "$@" >"$out" 2>&1 </dev/null || st=$?
	set -- "$script" "$@"
	[ "$st" -eq 2 ] || fail "$*: exit status $st, not 2"
	grep -q -- "$what .*; accepted: $range\$" "$out" ||
		fail "$*: no message naming $what and $range"
	! grep -q "^reached" "$out" || fail "$*: went on to the work"
	echo "$*: $(head -1 "$out")"
}

for v in 010 08 09 0 00 -1 +5 " 5" "5 " "" abc 1e3 0x10 604801 99999999999999999999; do
	refused "SECONDS: '$v'" 1..604800 soak.sh "$v"
done
st=0
"$tmp/scripts/soak.sh" 5 6 >"$out" 2>&1 || st=$?
[ "$st" -eq 2 ] && grep -q "^usage: " "$out" || fail "soak.sh 5 6: a second argument taken"
# A good number gets through to the work (here the stub of setup.sh).
for v in 1 604800; do
	st=0
	"$tmp/scripts/soak.sh" $v >"$out" 2>&1 || st=$?
	[ "$st" -eq 97 ] && grep -q "^reached setup.sh" "$out" || fail "soak.sh $v: refused"
done

for v in 010 08 0 00 -1 +3 " 3" "" x 101 99999999999999999999; do
	refused "--runs: '$v'" 1..100 testpmd-elastic.sh --plugin /nonexistent --runs "$v" rate
done
for v in 010 08 0 -5 3601 18446744073709551617; do
	refused "--seconds: '$v'" 1..3600 testpmd-elastic.sh --plugin /nonexistent --seconds "$v"
done
for o in --runs --seconds; do
	st=0
	"$tmp/scripts/testpmd-elastic.sh" "$o" >"$out" 2>&1 || st=$?
	[ "$st" -eq 2 ] && grep -q -- "^$o: no value given" "$out" || fail "$o without a value"
done
# Good numbers get as far as looking for testpmd and the plugin (not found: status 1).
st=0
"$tmp/scripts/testpmd-elastic.sh" --plugin /nonexistent --runs 100 --seconds 3600 rate \
	>"$out" 2>&1 || st=$?
[ "$st" -eq 1 ] && grep -q "not found\|no tide plugin" "$out" ||
	fail "testpmd-elastic.sh --runs 100 --seconds 3600: refused"
for v in 0 10 01 -1 "" x 99999999999999999999; do
	refused "--repeat: '$v'" 1..9 bench.sh --repeat "$v"
done
for v in 0 604801 08; do
	refused "--soak: '$v'" 1..604800 bench.sh --soak "$v"
done
# A count left out is an empty one, refused with the range (bash's ${2:?} gave none).
refused "--repeat: ''" 1..9 bench.sh --repeat
refused "--soak: ''" 1..604800 bench.sh --soak

# plot-footprint.sh OUT.png with an option tide-bench refuses: OUT.csv keeps its figures
# (tee used to empty it before the refusal; the default is docs/footprint.csv). tide-bench
# and gnuplot are stubs: the first refuses, as the real one does a bad number.
cp "$src/scripts/plot-footprint.sh" "$tmp/scripts/"
mkdir -p "$tmp/build/app/tide-bench" "$tmp/bin"
printf '#!/bin/sh\necho "tide-bench: --cycles: out of range" >&2\nexit 1\n' \
	>"$tmp/build/app/tide-bench/tide-bench"
printf '#!/bin/sh\necho "reached gnuplot" >&2\n' >"$tmp/bin/gnuplot"
chmod +x "$tmp/build/app/tide-bench/tide-bench" "$tmp/bin/gnuplot"
echo "figures" >"$tmp/fp.csv"
st=0
PATH="$tmp/bin:$PATH" "$tmp/scripts/plot-footprint.sh" "$tmp/fp.png" --cycles 0 >"$out" 2>&1 ||
	st=$?
[ "$st" -ne 0 ] || fail "plot-footprint.sh: a refused option let through"
grep -qx figures "$tmp/fp.csv" || fail "plot-footprint.sh: a refused option emptied OUT.csv"
! grep -q "^reached gnuplot" "$out" || fail "plot-footprint.sh: plotted after a refusal"
echo "soak.sh, testpmd-elastic.sh, bench.sh and plot-footprint.sh: every bad number refused" \
	"before any work"
