#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# scripts/bench.sh end to end, in its --tiny mode (seconds per scenario: this checks the
# runner, not the figures): every scenario tide-bench lists runs and leaves its CSV, the
# plots are valid PNG images with data drawn in them, and the summary names the machine,
# the date, the commit and every target of config/bench-targets.txt; with --repeat, every
# run's figures; --docs after a run that failed keeps the docs it would have replaced.
#   test_bench_sh.sh SOURCE_DIR TIDE_BENCH CHECK_PNG
set -eu
src=$1
bench=$2
check_png=$3
tmp=$(mktemp -d /tmp/tide-bench-sh.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# dash runs no EXIT trap when a signal ends it (meson's timeout: TERM): exit instead.
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP
out=$tmp/results

fail() {
	echo "FAIL: $*"
	exit 1
}

"$src/scripts/bench.sh" --tiny --out "$out" --bench "$bench" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; for l in "$out"/*.log; do echo "== $l"; tail -5 "$l"; done;
	fail "bench.sh --tiny: exit status"; }
cat "$tmp/log"
n=$("$bench" --list | wc -l)
[ "$n" -ge 7 ] || fail "tide-bench --list names $n scenarios"
grep -q "^bench: \[$n/$n\] " "$tmp/log" || fail "no progress line for scenario $n of $n"
for s in $("$bench" --list | cut -f1); do
	head -1 "$out/$s.csv" | grep -qx "scenario,variant,metric,value,unit" ||
		fail "$s.csv: no CSV header"
	rows=$(grep -c "^$s," "$out/$s.csv" || true)
	[ "$rows" -ge 3 ] || fail "$s.csv: $rows rows"
done
for p in footprint mempool zctx refs targets; do
	[ -s "$out/$p.png" ] || fail "no plot $p.png"
done
"$check_png" "$out"/*.png || fail "a plot is not a valid PNG with data"
sum=$out/summary.md
grep -q "^| machine | .*, [0-9]* CPUs online, hugepages of [0-9]* MB" "$sum" ||
	fail "summary: machine"
grep -q "^| date | 20" "$sum" || fail "summary: date"
grep -q "^| commit | " "$sum" || fail "summary: commit"
grep -q "^| command | \`scripts/bench.sh --tiny" "$sum" || fail "summary: command"
targets=$(grep -cv '^[[:space:]]*\(#\|$\)' "$src/config/bench-targets.txt")
rows=$(sed -n '/^## Targets/,/^## Plots/p' "$sum" | grep -c '^| [a-z]* | `' || true)
[ "$rows" -eq "$targets" ] || fail "summary: $rows target rows, config has $targets"
grep -q "^[0-9]* of $targets targets met\.$" "$sum" || fail "summary: no count of targets met"
for p in footprint mempool zctx refs targets; do
	grep -q "^!\[$p\]($p.png)" "$sum" || fail "summary: no $p plot"
done
# --repeat: every run in its own folder, each run's figure for every target, a target
# met only when met in every run; the last run's CSVs are the ones at the top.
rep=$tmp/repeat
"$src/scripts/bench.sh" --tiny --repeat 2 --only fwd,msg --out "$rep" --bench "$bench" \
	>"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "bench.sh --repeat 2: exit status"; }
grep -q "^bench: \[2/2\] msg, run 2 of 2 " "$tmp/log" || fail "--repeat: no progress line"
for r in 1 2; do
	for s in fwd msg; do
		[ "$(grep -c "^$s," "$rep/run$r/$s.csv" || true)" -ge 3 ] ||
			fail "--repeat: run$r/$s.csv"
	done
done
cmp -s "$rep/run2/fwd.csv" "$rep/fwd.csv" || fail "--repeat: fwd.csv is not the last run's"
sum=$rep/summary.md
grep -q '^| scenario | figure | run 1 | run 2 | target | met | what |$' "$sum" ||
	fail "--repeat: no column per run"
rows=$(sed -n '/^## Targets/,/^## Plots/p' "$sum" | grep -c '^| [a-z]* | `' || true)
[ "$rows" -eq "$targets" ] || fail "--repeat: $rows target rows, config has $targets"
grep -q '^| fwd | `tide:ring_mp_mc` ratio | \**[0-9.]*\** | \**[0-9.]*\** | >= ' "$sum" ||
	fail "--repeat: no figure of each run for fwd"
grep -q "^[0-9]* of $targets targets met in every run (per run: [0-9]* / [0-9]*)\.\$" "$sum" ||
	fail "--repeat: no count of targets met in every run"
grep -q '^| fwd, run 1 | ok |' "$sum" || fail "--repeat: run 1 not in the scenario table"
if "$src/scripts/bench.sh" --tiny --repeat 0 --out "$tmp/x" --bench "$bench" \
		>"$tmp/log" 2>&1; then
	fail "--repeat 0 accepted"
fi
grep -q -- "^--repeat: '0' is out of range; accepted: 1..9$" "$tmp/log" ||
	fail "--repeat 0: no message"
# A figure that is no number (a ratio printed "nan" or "-nan": no round measured both sides)
# meets no target and shows as no figure. A stub tide-bench with one scenario gives it.
cat >"$tmp/stub" <<'EOF'
#!/bin/sh
[ "$1" != --list ] || { printf 'fwd\tio forwarding\n'; exit 0; }
echo "scenario,variant,metric,value,unit"
echo "fwd,tide:ring_mp_mc,ratio,nan,x"
echo "fwd,tide:ring_mp_mc,ratio,-nan,x"
EOF
chmod +x "$tmp/stub"
"$src/scripts/bench.sh" --tiny --out "$tmp/nan" --bench "$tmp/stub" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; fail "bench.sh with a nan figure: exit status"; }
grep -q '^| fwd | `tide:ring_mp_mc` ratio | - | >= 0.98 | \*\*no\*\* (2 of 2) |' \
	"$tmp/nan/summary.md" || { cat "$tmp/nan/summary.md"; fail "a nan figure met its target"; }
grep -q "^0 of $targets targets met\.$" "$tmp/nan/summary.md" || fail "nan: count of targets met"
# A scenario that does not exist is refused before anything runs.
if "$src/scripts/bench.sh" --tiny --only nosuch --out "$tmp/x" --bench "$bench" \
		>"$tmp/log" 2>&1; then
	fail "--only nosuch accepted"
fi
grep -q "no scenario 'nosuch'" "$tmp/log" || fail "--only nosuch: no message"
# --docs after a run that failed (tide-bench refused an option given through --args): the
# failure and tide-bench's reason on the console, the docs of the last whole run kept. On a
# copy of the scripts, whose docs/ is the test's.
mkdir -p "$tmp/root/docs/bench"
cp -r "$src/scripts" "$src/config" "$tmp/root/"
echo "the last whole run" >"$tmp/root/docs/benchmarks.md"
echo "its plot" >"$tmp/root/docs/bench/mempool.png"
if "$tmp/root/scripts/bench.sh" --tiny --docs --only mempool --out "$tmp/x" \
		--bench "$bench" --args "--rounds 65" >"$tmp/log" 2>&1; then
	fail "--docs with a run that failed: exit status 0"
fi
grep -q "^bench: *mempool: failed" "$tmp/log" || fail "--docs: no word of the failed run"
grep -q "^bench: *tide-bench: --rounds: '65' is out of range" "$tmp/log" ||
	fail "--docs: tide-bench's reason not on the console"
grep -q "^bench: 1 run(s) failed: docs/benchmarks.md and docs/bench/ left as they were" \
	"$tmp/log" || fail "--docs: no word that the docs were kept"
grep -qx "the last whole run" "$tmp/root/docs/benchmarks.md" ||
	fail "--docs: a failed run rewrote docs/benchmarks.md"
[ -s "$tmp/root/docs/bench/mempool.png" ] || fail "--docs: a failed run removed docs/bench/"
echo ok
