/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * tide-bench [EAL args --] SCENARIO [--rounds N] [--ms MS] [--quick] [--filter STR] [--table]
 * tide-bench --list
 *
 * Without EAL arguments it runs on "-l 0-N --no-pci --huge-unlink" with its own --file-prefix.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "bench.h"
#include "tide_app.h"
#include "tide_app_opt.h"

#define BENCH_MAX_ROWS 4096

struct bench_row {
	char variant[96];
	char metric[32];
	char unit[16];
	double value;
};

static const struct bench_scenario *const bench_scenarios[] = {
	&bench_mempool,
	&bench_fwd,
	&bench_footprint,
	&bench_msg,
	&bench_pipeline,
	&bench_fanout,
	&bench_zctx,
	&bench_donor,
};

static const struct bench_scenario *bench_current;
static struct bench_row bench_rows[BENCH_MAX_ROWS];
static unsigned int bench_nb_rows;
static bool bench_table;
static bool bench_matched; /* bench_selected() said yes to some variant */
static int bench_write_err; /* the first failed write of a row (EPIPE: the reader left) */

void
bench_emit(const char *variant, const char *metric, double value, const char *unit)
{
	struct bench_row *r;

	/* Six digits: bench.sh compares these with the targets (a ratio of 1.1001 is not 1.1). */
	if (!bench_table && (printf("%s,%s,%s,%.6g,%s\n", bench_current->name, variant, metric,
			value, unit) < 0 || fflush(stdout) != 0) && bench_write_err == 0)
		bench_write_err = errno;
	if (bench_nb_rows == BENCH_MAX_ROWS)
		return;
	r = &bench_rows[bench_nb_rows++];
	snprintf(r->variant, sizeof(r->variant), "%s", variant);
	snprintf(r->metric, sizeof(r->metric), "%s", metric);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	r->value = value;
}

void
bench_emit_ratio_by_state(const char *v, const char *metric, const double *a,
	const double *b, const enum bench_state *sa, const enum bench_state *sb, unsigned int n)
{
	static const char *const name_of[2] = { "fast", "slow" };
	double q[2][BENCH_MAX_ROUNDS];
	unsigned int nq[2] = { 0, 0 };
	char name[64];

	n = RTE_MIN(n, (unsigned int)BENCH_MAX_ROUNDS);
	for (unsigned int r = 0; r < n; r++)
		if (sa[r] == sb[r] && sa[r] != BENCH_MIXED && bench_ratio_valid(a[r], b[r])) {
			unsigned int s = sa[r] == BENCH_FAST ? 0 : 1;

			q[s][nq[s]++] = a[r] / b[r];
		}
	for (unsigned int s = 0; s < 2; s++) {
		if (nq[s] == 0)
			continue;
		snprintf(name, sizeof(name), "%s/%s", v, name_of[s]);
		bench_emit(name, metric, bench_median(q[s], nq[s]), "x");
		bench_emit(name, "rounds", nq[s], "");
	}
}

int
bench_on_all_lcores(int (*fn)(void *), void *arg)
{
	int ret = rte_eal_mp_remote_launch(fn, arg, CALL_MAIN);

	rte_eal_mp_wait_lcore();
	return ret;
}

unsigned int
bench_rounds(const struct bench_opts *o, unsigned int dflt)
{
	if (o->rounds != 0)
		return o->rounds;
	return o->quick ? RTE_MAX(1u, (dflt + 2) / 3) : dflt;
}

unsigned int
bench_ms(const struct bench_opts *o, unsigned int dflt)
{
	if (o->ms != 0)
		return o->ms;
	return o->quick ? RTE_MAX(1u, dflt / 2) : dflt;
}

bool
bench_selected(const struct bench_opts *o, const char *v)
{
	bool yes;

	if (o->filter != NULL && o->filter[0] == '=')
		yes = strcmp(v, o->filter + 1) == 0;
	else
		yes = o->filter == NULL || strstr(v, o->filter) != NULL;
	bench_matched |= yes;
	return yes;
}

bool
bench_stopped(void)
{
	return tide_app_signal_count() != 0;
}

uint64_t
bench_now_ns(void)
{
	return tide_app_now_ns();
}

static void
bench_print_table(void)
{
	printf("%-12s %-44s %-10s %12s %s\n", "scenario", "variant", "metric", "value",
		"unit");
	for (unsigned int i = 0; i < bench_nb_rows; i++)
		printf("%-12s %-44s %-10s %12.4g %s\n", bench_current->name,
			bench_rows[i].variant, bench_rows[i].metric, bench_rows[i].value,
			bench_rows[i].unit);
}

static void
bench_usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [EAL args --] SCENARIO [--rounds N] [--ms MS] [--quick] "
		"[--filter STR] [--table]\n"
		"       %s --list\n"
		"  --rounds N    interleaved rounds per variant, 1..%d (default: the scenario's)\n"
		"  --ms MS       one measurement, 1..600000 ms (default: the scenario's; not "
		"footprint)\n"
		"  --quick       a short run: a third of the rounds, half the time (footprint: "
		"one cycle)\n"
		"  --filter STR  only variants whose key contains STR (=STR: is STR); one that\n"
		"                runs none is an error. A scenario's keys are below (filter:)\n"
		"  --table       a table instead of CSV rows\n"
		"  --series FILE time series (footprint)\n"
		"  --list        the scenarios, one a line: name, tab, what it measures\n"
		"  -h, --help    this text\n"
		"       footprint: [--trace MPPS:MS,...] [--hold-ms MS] [--cycles N] "
		"[--series FILE]\n"
		"         --trace: up to %u phases of 0..1000 Mpps for 0.001..86400000 ms\n"
		"         --hold-ms 1..60000, --cycles 1..1000, peak Mpps x hold ms <= %u,\n"
		"         the trace x --cycles 50 ms at least (5 samples)\n"
		"       zctx: [--sizes BYTES,...] (of 64, 128, ... 65536, or mix)\n"
		"       pipeline: [--inflight N] packets between the stages at most, a power\n"
		"         of 2 from %u to %u (default 1024)\n"
		"       (another scenario refuses these options)\n"
		"  Whole numbers may be written in hexadecimal (0x...).\n"
		"  SIGINT or SIGTERM ends a run early, its memory freed (exit status 1).\n"
		"scenarios:\n", prog, prog, BENCH_MAX_ROUNDS, TIDE_APP_TRACE_MAX_PHASES,
		TIDE_APP_HOLD_MAX_PKTS / 1000, BENCH_INFLIGHT_MIN, BENCH_INFLIGHT_MAX);
	for (unsigned int i = 0; i < RTE_DIM(bench_scenarios); i++)
		fprintf(f, "  %-10s %s\n  %-10s filter: %s\n", bench_scenarios[i]->name,
			bench_scenarios[i]->help, "", bench_scenarios[i]->filter);
}

static void
bench_list(void)
{
	for (unsigned int i = 0; i < RTE_DIM(bench_scenarios); i++)
		printf("%s\t%s\n", bench_scenarios[i]->name, bench_scenarios[i]->help);
}

/* Indexed by the bit of their BENCH_OPT_*. */
static const char *const bench_opt_names[] = {
	"--trace", "--hold-ms", "--cycles", "--series", "--sizes", "--inflight", "--ms",
};

/*
 * An option of another scenario is refused: a run given --sizes that measures footprint
 * is a mistake, and a silent one would be taken for a measurement of what was asked.
 */
static int
bench_opts_owned(const struct bench_opts *o)
{
	unsigned int stray = o->given & ~bench_current->opts;

	RTE_BUILD_BUG_ON(BENCH_OPT_MS != 1u << (RTE_DIM(bench_opt_names) - 1));
	for (unsigned int b = 0; b < RTE_DIM(bench_opt_names); b++) {
		if ((stray & (1u << b)) == 0)
			continue;
		fprintf(stderr, "tide-bench: %s is not an option of scenario %s, only of:",
			bench_opt_names[b], bench_current->name);
		for (unsigned int i = 0; i < RTE_DIM(bench_scenarios); i++)
			if (bench_scenarios[i]->opts & (1u << b))
				fprintf(stderr, " %s", bench_scenarios[i]->name);
		fprintf(stderr, "\n");
		return -1;
	}
	return 0;
}

/* 0 to run a scenario, 1 when done (--help, --list), -1 on a bad command line. */
static int
bench_parse(int argc, char **argv, struct bench_opts *o, const char **scenario)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "ms", required_argument, NULL, 'm' },
		{ "quick", no_argument, NULL, 'q' },
		{ "table", no_argument, NULL, 't' },
		{ "filter", required_argument, NULL, 'f' },
		{ "trace", required_argument, NULL, 'T' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "series", required_argument, NULL, 's' },
		{ "sizes", required_argument, NULL, 'S' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret = 0;

	*o = (struct bench_opts){ .hold_ms = 50, .cycles = 2 };
	optind = 1;
	while (ret == 0 && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			ret = tide_app_opt_uint("--rounds", optarg, 1, BENCH_MAX_ROUNDS,
				&o->rounds);
			break;
		case 'm':
			ret = tide_app_opt_uint("--ms", optarg, 1, 600000, &o->ms);
			o->given |= BENCH_OPT_MS;
			break;
		case 'q': o->quick = true; break;
		case 't': o->table = true; break;
		case 'f':
			o->filter = optarg;
			/* "" or "=" would match every variant or none: a slip, not a choice. */
			if (optarg[0] == '\0' || strcmp(optarg, "=") == 0) {
				fprintf(stderr, "tide-bench: --filter: '%s' names no variant "
					"(STR, or =NAME)\n", optarg);
				ret = -1;
			}
			break;
		case 'T':
			o->trace_arg = optarg;
			o->given |= BENCH_OPT_TRACE;
			break;
		case 'H':
			ret = tide_app_opt_uint("--hold-ms", optarg, 1, 60000, &o->hold_ms);
			o->given |= BENCH_OPT_HOLD_MS;
			break;
		case 'c':
			ret = tide_app_opt_uint("--cycles", optarg, 1, 1000, &o->cycles);
			o->given |= BENCH_OPT_CYCLES;
			break;
		case 's':
			o->series = optarg;
			o->given |= BENCH_OPT_SERIES;
			break;
		case 'S':
			o->sizes_arg = optarg;
			o->given |= BENCH_OPT_SIZES;
			break;
		case 'i':
			ret = tide_app_opt_uint("--inflight", optarg, BENCH_INFLIGHT_MIN,
				BENCH_INFLIGHT_MAX, &o->inflight);
			o->given |= BENCH_OPT_INFLIGHT;
			break;
		case 'l': bench_list(); return 1;
		case 'h': bench_usage(stdout, argv[0]); return 1;
		default:
			/* getopt said which option. */
			fprintf(stderr, "tide-bench: see --help (EAL arguments go first, then "
				"--)\n");
			ret = -1;
		}
	}
	if (ret != 0)
		return -1;
	if (o->quick && (o->given & BENCH_OPT_CYCLES) == 0)
		o->cycles = 1;
	if (optind == argc) {
		fprintf(stderr, "tide-bench: no scenario given: one is expected (tide-bench "
			"--list names them)\n");
		bench_usage(stderr, argv[0]);
		return -1;
	}
	if (optind < argc - 1) {
		fprintf(stderr, "tide-bench: one scenario is expected, got %d: '%s', then '%s' "
			"(a run measures one scenario; scripts/bench.sh runs them all)\n",
			argc - optind, argv[optind], argv[optind + 1]);
		bench_usage(stderr, argv[0]);
		return -1;
	}
	*scenario = argv[optind];
	for (unsigned int i = 0; i < RTE_DIM(bench_scenarios); i++)
		if (strcmp(bench_scenarios[i]->name, *scenario) == 0)
			bench_current = bench_scenarios[i];
	if (bench_current == NULL) {
		fprintf(stderr, "tide-bench: unknown scenario '%s'\n", *scenario);
		bench_usage(stderr, argv[0]);
		return -1;
	}
	if (bench_opts_owned(o) != 0)
		return -1;
	if (bench_current->check != NULL && bench_current->check(o) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *name = NULL;
	struct bench_opts o;
	char defaults[128];
	char **args;
	int nargs, ret;

	/* A reader that stops early (tide-bench ... | head, grep -q) must not kill the run
	 * before it frees its hugepages and runtime directory: writes fail instead, and the
	 * run ends as usual, with status 1. SIGINT and SIGTERM end it early the same way
	 * (bench_stopped()), not killed with its hugepage files and runtime directory left.
	 */
	tide_app_signals();
	signal(SIGPIPE, SIG_IGN);
	/* Check the command line before EAL starts: a bad one does not wait for it. */
	tide_app_args(argc, argv, "tide-bench", &nargs, &args);
	ret = bench_parse(nargs, args, &o, &name);
	if (ret != 0)
		return ret < 0 ? 1 : 0;
	/* pipeline starts a secondary of its own: it maps this process's hugepage files, at
	 * this process's addresses (kept clear of ASan's shadow, which covers EAL's default).
	 * Lcores on the machine's first CPUs, whatever affinity the shell handed down: its
	 * lcores poll each other, and two on one CPU would wait out each other's time slices.
	 */
	snprintf(defaults, sizeof(defaults), "%s --no-pci %s", tide_app_lcores(4, 1, false),
		strcmp(name, "pipeline") == 0 ? "--base-virtaddr=0x200000000000" : "--huge-unlink");
	if (tide_app_eal_init(defaults) < 0)
		return 1;
	bench_table = o.table;
	/* (A secondary is a scenario's helper process: its primary prints the rows.) */
	if (!bench_table && rte_eal_process_type() == RTE_PROC_PRIMARY)
		printf("scenario,variant,metric,value,unit\n");
	bench_machine_probe("start");
	ret = bench_current->run(&o) == 0 ? 0 : 1;
	/* A filter that ran nothing is a mistake (a typo), not an empty measurement. */
	if (ret == 0 && o.filter != NULL && !bench_matched &&
			rte_eal_process_type() == RTE_PROC_PRIMARY) {
		bool exact = o.filter[0] == '=';

		fprintf(stderr, "tide-bench: --filter %s ran no variant of scenario %s: none %s "
			"'%s' (or none that does could run here); the rows of a run without "
			"--filter name them\n", o.filter, bench_current->name,
			exact ? "is named" : "has a name containing", o.filter + exact);
		ret = 1;
	}
	if (bench_stopped() && rte_eal_process_type() == RTE_PROC_PRIMARY) {
		fprintf(stderr, "tide-bench: interrupted: scenario %s did not finish, its rows "
			"are not figures\n", bench_current->name);
		ret = 1;
	}
	bench_machine_probe("end");
	if (bench_table)
		bench_print_table();
	tide_app_eal_cleanup();
	if (bench_write_err == 0 && fflush(stdout) != 0)
		bench_write_err = errno;
	if (bench_write_err != 0) {
		fprintf(stderr, "tide-bench: not every row was written: %s\n",
			strerror(bench_write_err));
		ret = 1;
	}
	return ret;
}
