#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run every tide-bench scenario (each measures tidepool and its stock DPDK baselines in the
# same process), check every figure against config/bench-targets.txt, draw the plots with
# gnuplot and write a markdown summary, all into one results folder.
#
#   scripts/bench.sh [--quick | --tiny] [--out DIR] [--only NAME,...] [--repeat N]
#                    [--docs] [--testpmd] [--soak SECONDS] [--bench PATH]
#                    [--args "TIDE-BENCH OPTIONS"] [-- EAL ARGUMENTS]
#
#   --quick    a short run: every scenario's --quick (a third of the rounds, half the time)
#   --tiny     seconds per scenario, to check the runner itself (figures meaningless)
#   --out DIR  the results folder (default: bench-out/<date>-<commit>)
#   --only     run these scenarios only (names from "tide-bench --list")
#   --repeat N run the scenarios N times over (1..9; each run in run<K>/): the targets
#              table gives every run's figure and says a target is met when it is met in
#              every run; plots, CSVs and the other tables come from the last run
#   --docs     also write docs/benchmarks.md and its plots and CSVs (docs/bench/), if every
#              run succeeded
#   --testpmd  also run stock dpdk-testpmd with the tide plugin against ring_mp_mc
#              (scripts/testpmd-elastic.sh, 3 interleaved rate pairs of 4 runs), in every
#              run: CSV testpmd.csv
#   --soak S   also soak an elastic pool for S seconds (1..604800) under ASan
#              (scripts/soak.sh)
#   --bench    the tide-bench to run (default: build ./build if needed and use its)
#   --args     more tide-bench options for every scenario, e.g. "--rounds 15" (a scenario
#              refuses another's options: --only it with them)
#   -- ...     EAL arguments for tide-bench, e.g. -- -l 0-3 -a 0000:3b:00.0 (default: its
#              own, "-l 0-N --no-pci --huge-unlink")
#
# Scenarios come from "tide-bench --list": a new one runs here without a change to this
# script; its targets are lines of config/bench-targets.txt.
set -euo pipefail
# shellcheck source=scripts/num.sh
. "$(dirname "$0")/num.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
targets_file=$root/config/bench-targets.txt
mode=full
out=
only=
docs=0
repeat=1
testpmd=0
soak=0
bench=
extra=
eal=()
command_line="scripts/bench.sh $*"

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
usage() {
	sed -n '/^#   scripts\/bench.sh/,/^# Scenarios/p' "$0" | sed 's/^# \{0,1\}//' | sed '$d'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) mode=quick ;;
	--tiny) mode=tiny ;;
	--out) out=${2:?--out needs a folder}; shift ;;
	--only) only=${2:?--only needs names}; shift ;;
	--docs) docs=1 ;;
	--repeat) repeat=${2-}; shift $(($# > 1))
		tide_num_check --repeat "$repeat" 1 9 ;;
	--testpmd) testpmd=1 ;;
	--soak) soak=${2-}; shift $(($# > 1))
		tide_num_check --soak "$soak" 1 604800 ;; # soak.sh's own range (a week)
	--bench) bench=${2:?--bench needs a path}; shift ;;
	--args) extra=${2?--args needs options}; shift ;;
	--) shift; eal=("$@"); break ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

command -v gnuplot >/dev/null || die "gnuplot missing: run scripts/setup.sh (gnuplot-nox)"
if [ -z "$bench" ]; then
	echo "bench: building ./build"
	"$root/scripts/build.sh" build >/dev/null
	bench=$root/build/app/tide-bench/tide-bench
fi
bench=$(cd "$(dirname "$bench")" && pwd)/$(basename "$bench")
[ -x "$bench" ] || die "no tide-bench at $bench"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
out=${out:-$root/bench-out/$(date +%Y%m%d-%H%M%S)-${commit%% *}}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# footprint's own options: tide-bench refuses them for every other scenario.
fp_args=()
ms_args=()
case $mode in
full)
	mode_args=()
	mode_what="full: every scenario's own rounds and durations"
	;;
quick)
	mode_args=(--quick)
	mode_what="quick: every scenario's --quick (a third of its rounds, half its durations)"
	;;
tiny)
	mode_args=(--quick --rounds 1)
	ms_args=(--ms 10) # footprint's durations are its trace's
	fp_args=(--cycles 1 --trace "2:200,0:800" --hold-ms 20)
	mode_what="tiny: one round of 10 ms per measurement"
	;;
esac
read -r -a extra_args <<<"$extra"

mapfile -t all < <("$bench" --list | cut -f1)
[ ${#all[@]} -gt 0 ] || die "$bench --list named no scenario"
scenarios=()
for s in "${all[@]}"; do
	[ -z "$only" ] || [[ ",$only," == *",$s,"* ]] || continue
	scenarios+=("$s")
done
for s in ${only//,/ }; do
	[[ " ${all[*]} " == *" $s "* ]] || die "no scenario '$s' (tide-bench --list)"
done

elapsed() { local s=$(($(date +%s) - start)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# Stock testpmd with the plugin into run folder $1 (its rows become scenario "testpmd",
# variant "<its scenario>/<variant>"); $2: the run's number.
run_testpmd() {
	local dir=$1 r=$2 build plugin_so t0 status=ok
	build=$(dirname "$(dirname "$(dirname "$bench")")")
	plugin_so=$(find "$build/drivers/mempool/tide" -maxdepth 1 \
		-name 'librte_mempool_tide.so.*.*.*' 2>/dev/null | head -1)
	printf 'bench: stock dpdk-testpmd with the tide plugin%s (elapsed %s)\n' \
		"$([ "$repeat" -eq 1 ] || echo ", run $r of $repeat")" "$(elapsed)"
	t0=$(date +%s)
	: >"$dir/testpmd.raw"
	if [ -z "$plugin_so" ]; then
		# Not another build's plugin (testpmd-elastic.sh's default) in this one's name.
		status="failed (no plugin in $build/drivers/mempool/tide)"
	elif ! "$root/scripts/testpmd-elastic.sh" --runs 3 --plugin "$plugin_so" \
			--csv "$dir/testpmd.raw" all >"$dir/testpmd.log" 2>&1; then
		status="failed (see ${rel}testpmd.log)"
	fi
	{
		echo "scenario,variant,metric,value,unit"
		awk -F, '{ print "testpmd," $1 "/" $2 "," $3 "," $4 "," $5 }' "$dir/testpmd.raw"
	} >"$dir/testpmd.csv"
	rm -f "$dir/testpmd.raw"
	printf 'testpmd\t%s\t%s\t%s\t%s\t%s\n' "$status" $(($(date +%s) - t0)) \
		$(($(wc -l <"$dir/testpmd.csv") - 1)) "$r" "$dir/testpmd.csv" >>"$out/runs.txt"
}

# ---- run ----
# Each run of the scenarios goes into its own folder (the results folder itself with one
# run); runs.txt: scenario, status, seconds, rows, run, its CSV.
start=$(date +%s)
: >"$out/runs.txt"
n=${#scenarios[@]}
echo "bench: $mode run of $n scenario(s), $repeat time(s), into $out"
for ((r = 1; r <= repeat; r++)); do
	rel=
	[ "$repeat" -eq 1 ] || rel=run$r/
	dir=$out/${rel%/}
	mkdir -p "$dir"
	for i in "${!scenarios[@]}"; do
		s=${scenarios[$i]}
		printf 'bench: [%d/%d] %s%s (elapsed %s)\n' $((i + 1)) "$n" "$s" \
			"$([ "$repeat" -eq 1 ] || echo ", run $r of $repeat")" "$(elapsed)"
		cmd=("$bench")
		[ ${#eal[@]} -eq 0 ] || cmd+=("${eal[@]}" --)
		cmd+=("$s" "${mode_args[@]}" "${extra_args[@]}")
		[ "$s" != footprint ] || cmd+=("${fp_args[@]}" --series "$dir/$s-series.csv")
		[ "$s" = footprint ] || cmd+=("${ms_args[@]}")
		t0=$(date +%s)
		status=ok
		"${cmd[@]}" >"$dir/$s.csv" 2>"$dir/$s.log" ||
			status="failed (exit $?, see $rel$s.log)"
		rows=$(grep -c "^$s," "$dir/$s.csv" || true)
		[ "$status" != ok ] || [ "$rows" -gt 0 ] || status="no rows (see $rel$s.log)"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$status" $(($(date +%s) - t0)) \
			"$rows" "$r" "$dir/$s.csv" >>"$out/runs.txt"
		printf 'bench:        %s: %s, %s rows in %ss\n' "$s" "$status" "$rows" \
			$(($(date +%s) - t0))
		# Why, where tide-bench said (an option it refused, say).
		[ "$status" = ok ] || grep -m1 "^tide-bench: " "$dir/$s.log" | sed 's/^/bench:          /' ||
			true
	done
	[ "$testpmd" = 0 ] || run_testpmd "$dir" "$r"
done
# The last run is the one the plots, CSVs and tables other than the targets' show.
[ "$testpmd" = 0 ] || scenarios+=(testpmd)
if [ "$repeat" -gt 1 ]; then
	for s in "${scenarios[@]}"; do
		cp "$out/run$repeat/$s.csv" "$out/$s.csv"
		[ ! -s "$out/run$repeat/$s-series.csv" ] ||
			cp "$out/run$repeat/$s-series.csv" "$out/$s-series.csv"
	done
fi
if [ "$soak" != 0 ]; then
	echo "bench: soak for $soak s under ASan (elapsed $(elapsed))"
	t0=$(date +%s)
	status=ok
	"$root/scripts/soak.sh" "$soak" >"$out/soak.log" 2>&1 || status="failed (see soak.log)"
	printf 'soak\t%s\t%s\t%s\t-\t-\n' "$status" $(($(date +%s) - t0)) \
		"$(grep -c '^soak:' "$out/soak.log")" >>"$out/runs.txt"
fi
[ -s "$out/footprint-series.csv" ] || rm -f "$out/footprint-series.csv"

# ---- targets ----
# One line per target: scenario variant metric op target worst rows failing score what (worst
# "-": no row, or a row with no figure).
eval_targets() {
	awk -v OFS='\t' '
	function glob_re(g,   r, i, c) {
		r = "^"
		for (i = 1; i <= length(g); i++) {
			c = substr(g, i, 1)
			if (c == "*") r = r ".*"
			else if (c == "?") r = r "."
			else if (index("\\^$.[]|()+{}", c)) r = r "\\" c
			else r = r c
		}
		return r "$"
	}
	BEGIN { num = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$" }
	FNR == NR {
		if ($0 ~ /^[ \t]*(#|$)/ || NF < 5) next
		t = ++nt
		sc[t] = $1; va[t] = $2; re[t] = glob_re($2); me[t] = $3; op[t] = $4; tg[t] = $5
		w = ""
		for (i = 6; i <= NF; i++) w = w (i > 6 ? " " : "") $i
		what[t] = w
		next
	}
	FNR == 1 { next }
	{
		split($0, f, ",")
		for (t = 1; t <= nt; t++) {
			if (f[1] != sc[t] || f[3] != me[t] || f[2] !~ re[t]) continue
			n[t]++
			# Not a number ("nan": a ratio with no figure) misses every target: mawk
			# would read it as NaN, which passes any comparison.
			if (f[4] !~ num) {
				nofig[t] = 1
				bad[t]++
				continue
			}
			v = f[4] + 0
			ok = op[t] == ">=" ? v >= tg[t] : op[t] == "<=" ? v <= tg[t] : v == tg[t]
			if (!seen[t]++ || (op[t] == ">=" && v < worst[t]) ||
					(op[t] == "<=" && v > worst[t]) || (op[t] == "==" && !ok))
				worst[t] = v
			if (!ok) bad[t]++
		}
	}
	END {
		for (t = 1; t <= nt; t++) {
			score = 0
			if (nofig[t]) worst[t] = "-"
			else if (n[t] && op[t] == ">=")
				score = tg[t] > 0 ? worst[t] / tg[t] : (bad[t] ? 0.5 : 1)
			else if (n[t] && op[t] == "<=") score = worst[t] > 0 ? tg[t] / worst[t] : 2
			else if (n[t] && op[t] == "==") score = bad[t] ? 0.5 : 1
			print sc[t], va[t], me[t], op[t], tg[t], (n[t] ? worst[t] : "-"), n[t] + 0,
				bad[t] + 0, score, what[t]
		}
	}' "$targets_file" "$@"
}
# The CSVs of run $1.
run_csvs() {
	local r=$1 s f
	for s in "${scenarios[@]}"; do
		f=$out/$s.csv
		[ "$repeat" -eq 1 ] || f=$out/run$r/$s.csv
		[ ! -s "$f" ] || echo "$f"
	done
}
targets_runs=()
for ((r = 1; r <= repeat; r++)); do
	mapfile -t csvs < <(run_csvs "$r")
	f=$out/targets-run$r.tsv
	[ "$repeat" -gt 1 ] || f=$out/targets.tsv
	eval_targets "${csvs[@]}" >"$f"
	targets_runs+=("$f")
done
# The last run's: the plots and the other tables.
[ "$repeat" -eq 1 ] || cp "$out/targets-run$repeat.tsv" "$out/targets.tsv"

# The summary's targets table from each run's eval_targets lines (one file a run), then the
# count of targets met: with one run, its figure and how many of a line's rows missed; with
# several, a column a run (bold where missed), met when met in every run (a run that did not
# measure it does not meet it). Sets met.
targets_table() {
	local table
	table=$(awk -F'\t' -v runs=$# '
	FNR == 1 { f++ }
	{
		k = FNR; nk = k > nk ? k : nk
		line[k] = sprintf("| %s | `%s` %s |", $1, $2, $3)
		tail[k] = sprintf(" %s %s |", $4, $5); what[k] = $10
		c = $7 == 0 || $6 == "-" ? "-" : sprintf("%.4g", $6)
		if (runs == 1 && $7 > 1 && c != "-") c = c " (worst of " $7 ")"
		cell[k, f] = runs > 1 && $8 > 0 ? "**" c "**" : c
		if ($7 > 0) measured[k]++
		if ($7 > 0 && $8 == 0) { good[k]++; good_run[f]++ }
		rows[k] = $7; missed_rows[k] = $8
	}
	END {
		printf "| scenario | figure |"
		for (r = 1; r <= runs; r++) printf (runs == 1 ? " measured |" : " run %d |"), r
		printf " target | met | what |\n|---|---|"
		for (r = 1; r <= runs; r++) printf "---:|"
		print "---|---|---|"
		for (k = 1; k <= nk; k++) {
			met = !measured[k] ? "not measured" : good[k] == runs ? "yes" : runs == 1 ? \
				"**no** (" missed_rows[k] " of " rows[k] ")" : \
				"**no** (" runs - good[k] " of " runs " runs)"
			printf "%s", line[k]
			for (r = 1; r <= runs; r++) printf " %s |", cell[k, r]
			printf "%s %s | %s |\n", tail[k], met, what[k]
			all += good[k] == runs
		}
		printf "\n%d of %d targets met", all, nk
		if (runs > 1) {
			printf " in every run (per run: "
			for (r = 1; r <= runs; r++) printf "%s%d", (r > 1 ? " / " : ""), good_run[r]
			printf ")"
		}
		print "."
	}' "$@")
	echo "$table"
	met=$(echo "$table" | awk 'END { print $1 }')
}

# ---- plots ----
plots=()
plot() {
	local name=$1 script=$2
	shift 2
	if gnuplot -e "$*; out='$out/$name.png'" "$root/scripts/plot/$script" \
			>"$out/$name.plot.log" 2>&1 && [ -s "$out/$name.png" ]; then
		plots+=("$name")
		rm -f "$out/$name.plot.log"
	else
		echo "bench: plot $name failed (see $name.plot.log)"
		rm -f "$out/$name.png"
	fi
}
d=$out/plotdata
mkdir -p "$d"
if [ -s "$out/footprint-series.csv" ]; then
	for v in fixed tide plugin; do
		awk -F, -v v="$v" 'NR > 1 && $1 == v && $2 == 0 { print $3, $4, $5 }' \
			"$out/footprint-series.csv" >"$d/footprint-$v.dat"
	done
	plugin=
	[ ! -s "$d/footprint-plugin.dat" ] || plugin=$d/footprint-plugin.dat
	[ -s "$d/footprint-tide.dat" ] && [ -s "$d/footprint-fixed.dat" ] &&
		plot footprint footprint.gp "fixed='$d/footprint-fixed.dat';" \
			"tide='$d/footprint-tide.dat'; plugin='$plugin'"
fi
if [ -s "$out/mempool.csv" ]; then
	awk -F, '$3 == "ratio" && $2 ~ /^tide:(ring_mp_mc|stack)\// {
		split($2, a, "/"); drv = a[1]; p = substr($2, length(drv) + 2)
		if (!(p in seen)) { seen[p] = 1; order[++n] = p }
		val[drv, p] = $4
	}
	END { for (i = 1; i <= n; i++) print order[i], val["tide:ring_mp_mc", order[i]] + 0,
		val["tide:stack", order[i]] + 0 }' "$out/mempool.csv" >"$d/mempool.dat"
	[ -s "$d/mempool.dat" ] && plot mempool mempool.gp "data='$d/mempool.dat'"
fi
if [ -s "$out/zctx.csv" ]; then
	for p in null afp; do
		awk -F, -v p="$p" '$3 == "tput" && $2 ~ ("^" p "/(zc|copy|adaptive)/[0-9]+$") {
			split($2, a, "/")
			if (!(a[3] in seen)) { seen[a[3]] = 1; order[++n] = a[3] }
			val[a[2], a[3]] = $4
		}
		END { for (i = 1; i <= n; i++) print order[i], val["zc", order[i]] + 0,
			val["copy", order[i]] + 0, val["adaptive", order[i]] + 0 }' \
			"$out/zctx.csv" >"$d/zctx-$p.dat"
	done
	afp=
	[ -s "$d/zctx-afp.dat" ] && afp=$d/zctx-afp.dat
	[ -s "$d/zctx-null.dat" ] && plot zctx zctx.gp "null='$d/zctx-null.dat'; afp='$afp'"
fi
if [ -s "$out/pipeline.csv" ] && [ -s "$out/msg.csv" ]; then
	awk -F, '$3 == "rate" { print $2, $4 }' "$out/pipeline.csv" >"$d/pipeline.dat"
	awk -F, '$3 == "cost" && $2 ~ /\/(1lcore|2lcores)$/ {
		split($2, a, "/"); if (!(a[1] in seen)) { seen[a[1]] = 1; order[++n] = a[1] }
		val[a[1], a[2]] = $4
	}
	END { for (i = 1; i <= n; i++) print order[i], val[order[i], "1lcore"] + 0,
		val[order[i], "2lcores"] + 0 }' "$out/msg.csv" >"$d/msg.dat"
	[ -s "$d/pipeline.dat" ] && [ -s "$d/msg.dat" ] &&
		plot refs refs.gp "pipe='$d/pipeline.dat'; msg='$d/msg.dat'"
fi
awk -F'\t' '$7 > 0 { print $1 ":" $2 "(" $3 ")", $9 }' "$out/targets.tsv" >"$d/targets.dat"
[ -s "$d/targets.dat" ] && plot targets targets.gp "data='$d/targets.dat'"

# ---- summary ----
hp_kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
hp_total=$(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
dpdk=$(pkg-config --modversion libdpdk 2>/dev/null || echo unknown)
{
	echo "# tidepool benchmarks"
	echo
	echo "Written by \`scripts/bench.sh\`; every figure below comes from the run it describes."
	[ "$mode" != tiny ] ||
		echo "This was a **--tiny** run, to check the runner: its figures mean nothing."
	echo
	echo "| | |"
	echo "|---|---|"
	printf '| machine | %s, %s CPUs online, hugepages of %s MB (%s reserved) |\n' \
		"${cpu:-unknown CPU}" "$(nproc)" $((hp_kb / 1024)) "$hp_total"
	echo "| system | Linux $(uname -r), DPDK $dpdk |"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| commit | $commit |"
	echo "| command | \`$command_line\` |"
	echo "| run | $mode_what; $n scenario(s) in $(elapsed) |"
	echo
	echo "Each scenario runs tidepool and the stock DPDK alternative in the same process, in"
	echo "interleaved rounds, and reports medians and ratios (\`tide-bench --help\`)."
	echo
	echo "## Targets"
	echo
	if [ "$repeat" -eq 1 ]; then
		echo "From \`config/bench-targets.txt\`; where a line covers several rows, the worst is"
		echo "shown."
	else
		echo "From \`config/bench-targets.txt\`, in each of the $repeat runs (where a line covers"
		echo "several rows, the worst; in bold where the target is missed). A target is met when"
		echo "it is met in every run."
	fi
	echo
	targets_table "${targets_runs[@]}"
	echo
	# What follows the targets is one run's: the last (every run's CSVs stay in the
	# results folder).
	last=
	[ "$repeat" -eq 1 ] || last=" (run $repeat of $repeat)"
	if [ -s "$out/mempool.csv" ] && grep -q '^mempool,noise:' "$out/mempool.csv"; then
		echo "Noise floor of the mempool ratios$last: tide against a second tide pool,"
		echo "measured the same way in the same run (tide:tide_aa), ranged over its rows:"
		echo
		awk -F, '$2 ~ /^noise:/ { r[$2] = r[$2] (r[$2] == "" ? "" : " to ") $4 }
			END { for (k in r) printf "- `%s`: %s\n", k, r[k] }' "$out/mempool.csv" | sort
		echo
	fi
	if [ -s "$out/fwd.csv" ] && grep -q '^fwd,ring_mp_mc_aa:ring_mp_mc,ratio,' "$out/fwd.csv"; then
		echo "Noise floor of the fwd ratio$last: a second ring_mp_mc pool against the first,"
		awk -F, '$2 == "ring_mp_mc_aa:ring_mp_mc" && $3 == "ratio" {
			printf "measured the same way in the same run: %s.\n", $4 }' "$out/fwd.csv"
		echo
	fi
	echo "## Plots$last"
	echo
	for p in "${plots[@]}"; do
		echo "![$p]($p.png)"
		echo
	done
	echo "## Scenarios"
	echo
	echo "c2c: a cache line's round trip between the first two lcores when the scenario"
	echo "started and ended (tide-bench's machine rows). On a VM it moves by several times"
	echo "within minutes, and every figure that crosses cores moves with it. \"changed\": more"
	echo "than twice as long at one end as at the other, so the scenario's rounds ran on two"
	echo "machines, as it were: its medians mix both. msg and pipeline also probe it around"
	echo "every measurement and give their cross-lcore ratios per state (rows ending in"
	echo "/fast: every probe under 250 ns; /slow: every probe from 250 ns up; with the rounds"
	echo "of each)."
	echo
	echo "| scenario | result | seconds | rows | c2c ns, start / end | what it measures |"
	echo "|---|---|---:|---:|---:|---|"
	while IFS=$'\t' read -r s status secs rows r csv; do
		c2c=$(awk -F, '$2 ~ /^machine\// && $3 == "c2c_round_trip" {
			printf "%s%.0f", sep, $4; sep = " / "
			lo = lo == "" || $4 < lo ? $4 : lo; hi = $4 > hi ? $4 : hi }
			END { if (lo > 0 && hi > 2 * lo) printf " (changed)" }' \
			"$csv" 2>/dev/null || true)
		help=$("$bench" --list | awk -F'\t' -v s="$s" '$1 == s { print $2 }')
		[ "$s" != testpmd ] || help="stock dpdk-testpmd, tide plugin vs ring_mp_mc"
		[ "$s" != soak ] || help="ASan soak of an elastic pool (see Soak)"
		link="[$s]($s.csv)"
		[ "$s" != soak ] || link=soak
		# Runs before the last: their CSVs stay in the results folder only.
		[ "$repeat" -eq 1 ] || [ "$r" = - ] || [ "$r" -eq "$repeat" ] || link="$s, run $r"
		[ "$repeat" -eq 1 ] || [ "$r" != "$repeat" ] || link="$link, run $r"
		echo "| $link | $status | $secs | $rows | ${c2c:--} | $help |"
	done <"$out/runs.txt"
	echo
	if [ -s "$out/soak.log" ]; then
		echo "## Soak"
		echo
		echo "\`scripts/soak.sh $soak\` (ASan/UBSan build): an elastic pool reaped every"
		echo "millisecond while two lcores and a non-EAL thread allocate and free random bursts,"
		echo "every mbuf tagged with its holder."
		echo
		echo '```'
		grep '^soak:' "$out/soak.log" || echo "soak: no result (see soak.log)"
		echo '```'
		echo
	fi
	echo "## Every ratio$last"
	echo
	echo 'Rate ratios (`ratio`): higher is better for the first named; cost and time'
	echo 'ratios (`cost_ratio`, `time_ratio`, `*_cost`): lower is better for it.'
	echo
	echo "| scenario | variant | metric | value |"
	echo "|---|---|---|---:|"
	for c in "${csvs[@]}"; do
		awk -F, 'NR > 1 && $5 == "x" {
			printf "| %s | `%s` | %s | %s |\n", $1, $2, $3, $4
		}' "$c"
	done
} >"$out/summary.md"
rm -rf "$d"

failed=$(awk -F'\t' '$2 != "ok"' "$out/runs.txt" | wc -l)
if [ "$docs" = 1 ] && [ "$failed" -ne 0 ]; then
	# Figures from a partial run would replace the last whole one's: keep those.
	echo "bench: $failed run(s) failed: docs/benchmarks.md and docs/bench/ left as they were"
elif [ "$docs" = 1 ]; then
	rm -rf "$root/docs/bench"
	mkdir -p "$root/docs/bench"
	for p in "${plots[@]}"; do cp "$out/$p.png" "$root/docs/bench/"; done
	cp "${csvs[@]}" "$root/docs/bench/"
	[ ! -s "$out/footprint-series.csv" ] || cp "$out/footprint-series.csv" "$root/docs/bench/"
	sed -e 's|(\([a-z_-]*\)\.png)|(bench/\1.png)|; s|(\([a-z_-]*\)\.csv)|(bench/\1.csv)|' \
		"$out/summary.md" >"$root/docs/benchmarks.md"
	echo "bench: wrote docs/benchmarks.md and docs/bench/"
fi
every=
[ "$repeat" -eq 1 ] || every=" in every run"
ran=$(awk -F'\t' '$5 != "-" && $2 == "ok"' "$out/runs.txt" | wc -l)
echo "bench: done in $(elapsed): $ran of $((${#scenarios[@]} * repeat)) scenario" \
	"run(s) ran, $met of $(wc -l <"$out/targets.tsv") targets met$every; summary:" \
	"$out/summary.md"
[ "$failed" -eq 0 ]
