/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_BENCH_H
#define TIDE_BENCH_H

/*
 * tide-bench: tidepool against the stock DPDK alternative, in the same run.
 *
 * Every scenario runs its variants in interleaved rounds (A, B, A, B...; the order turns
 * every round) because this machine's speed changes without warning, and reports the
 * median of the rounds and the ratios between variants. Output: one CSV row per
 * measurement, "scenario,variant,metric,value,unit", or a table with --table.
 *
 * A scenario is one file and one entry in main.c's table; "tide-bench --list" names them
 * all, so scripts/bench.sh runs a new one without being told. A scenario takes its
 * durations from bench_rounds() and bench_ms(), so --quick shortens it too.
 */

#include <stdbool.h>
#include <stdint.h>

#include "tide_app_trace.h"

#define BENCH_MAX_ROUNDS 64

/* pipeline's --inflight: a power of 2 between these (a burst is 32 packets). */
#define BENCH_INFLIGHT_MIN 32u
#define BENCH_INFLIGHT_MAX 4096u

/* Options that only some scenarios read (bench_scenario.opts); the others refuse them. */
#define BENCH_OPT_TRACE   (1u << 0) /* --trace */
#define BENCH_OPT_HOLD_MS (1u << 1) /* --hold-ms */
#define BENCH_OPT_CYCLES  (1u << 2) /* --cycles */
#define BENCH_OPT_SERIES  (1u << 3) /* --series */
#define BENCH_OPT_SIZES   (1u << 4) /* --sizes */
#define BENCH_OPT_INFLIGHT (1u << 5) /* --inflight */
#define BENCH_OPT_MS      (1u << 6) /* --ms: every scenario that times measurements */

struct bench_opts {
	unsigned int rounds; /* interleaved rounds per variant (0: the scenario's default) */
	unsigned int ms;     /* duration of one measurement (0: the scenario's default) */
	bool quick;          /* defaults for a short run: fewer rounds, shorter measurements */
	bool table;
	const char *filter;  /* run only variants whose name contains this (NULL: all) */
	unsigned int given;  /* BENCH_OPT_* on the command line */
	const char *trace_arg; /* footprint: --trace as given (NULL: none) */
	struct tide_app_trace trace; /* footprint: its rate phases, parsed before EAL */
	unsigned int hold_ms; /* footprint: how long each packet is held */
	unsigned int cycles; /* footprint: trace cycles per run */
	const char *series;  /* file for time series (NULL: none) */
	const char *sizes_arg; /* zctx: --sizes as given, "16384,65536" (NULL: none) */
	uint32_t sizes;      /* zctx: the sizes to run, parsed before EAL (the scenario's bits) */
	unsigned int inflight; /* pipeline: packets on their way between the stages at most
				* (0: the scenario's default) */
};

/** o->rounds, or @p dflt when the command line left it out (a third of it with --quick). */
unsigned int bench_rounds(const struct bench_opts *o, unsigned int dflt);

/** o->ms, or @p dflt when the command line left it out (half of it with --quick). */
unsigned int bench_ms(const struct bench_opts *o, unsigned int dflt);

/** True when the variant named @p v is selected by --filter. */
bool bench_selected(const struct bench_opts *o, const char *v);

struct bench_scenario {
	const char *name;
	const char *help;
	const char *filter;  /* what --filter matches in it, for --help */
	unsigned int opts;   /* BENCH_OPT_* it reads */
	/* Before EAL starts: check and parse its options into o (NULL: none to check).
	 * 0, or -1 after printing why.
	 */
	int (*check)(struct bench_opts *o);
	int (*run)(const struct bench_opts *o);
};

/** Record one measurement of the running scenario. */
void bench_emit(const char *variant, const char *metric, double value, const char *unit);

/** Median of n values (reorders them). */
double bench_median(double *v, unsigned int n);

/** Whether a round measured both sides of a ratio (both above 0). */
bool bench_ratio_valid(double a, double b);

/**
 * Median over n (<= BENCH_MAX_ROUNDS) rounds of a[r] / b[r], each round's ratio of two
 * measurements taken back to back; rounds where either side measured nothing (0) are left
 * out, and NaN (printed "nan": no figure, a target not met) when every round is.
 */
double bench_median_ratio(const double *a, const double *b, unsigned int n);

/**
 * The worse of a higher-is-better target's figure so far, @p worst, and ratio @p v: the
 * lower, or NaN when either is NaN (a ratio with no figure misses its target, whatever the
 * other rows say). Start from INFINITY, and note apart whether any row ran.
 */
double bench_worst(double worst, double v);

/** Run fn on every lcore (main included) at once; returns when all are done. */
int bench_on_all_lcores(int (*fn)(void *), void *arg);

/**
 * True once SIGINT or SIGTERM asked the run to end: measurements and round loops end early,
 * so that the scenario frees what it made and EAL's clean-up removes the hugepage files and
 * the runtime directory (pipeline runs without --huge-unlink); the run then fails.
 */
bool bench_stopped(void);

/** Time in ns (monotonic). */
uint64_t bench_now_ns(void);

/**
 * Emit the row machine/@p when, c2c_round_trip: a cache line's round trip between the main
 * lcore and the first worker, in ns (nothing with one lcore, or in a secondary).
 */
void bench_machine_probe(const char *when);

/**
 * A cache line's round trip between the main lcore and the first worker, in ns, over
 * @p trips trips (both lcores must be idle); 0 with one lcore or in a secondary.
 */
double bench_machine_c2c(unsigned int trips);

/** Trips of a probe taken between two measurements (about a millisecond in the slow state). */
#define BENCH_C2C_QUICK_TRIPS 2000

/** Round trips under this (ns) are the machine's fast state, the others its slow one. */
#define BENCH_C2C_FAST_NS 250

/** The machine's state over a measurement, from the probes just before and after it. */
enum bench_state { BENCH_FAST, BENCH_SLOW, BENCH_MIXED };

/**
 * The state over the measurement just taken: @p *probe holds the probe taken before it
 * (bench_machine_c2c(BENCH_C2C_QUICK_TRIPS), or this function's last); a probe now, after
 * it, replaces it and serves the next measurement as its probe before.
 */
enum bench_state bench_machine_state_after(double *probe);

/**
 * Emit @p v's ratio (@p metric: a[r] / b[r], the median over rounds) once per state of
 * the machine: "v/fast" over the rounds where both measurements ran in the fast state
 * (sa[r] and sb[r]), "v/slow" where both ran in the slow one, with the number of rounds of
 * each ("rounds"); rounds where the state changed count in neither. A state without rounds
 * emits nothing.
 */
void bench_emit_ratio_by_state(const char *v, const char *metric, const double *a,
	const double *b, const enum bench_state *sa, const enum bench_state *sb, unsigned int n);

extern const struct bench_scenario bench_mempool;
extern const struct bench_scenario bench_fwd;
extern const struct bench_scenario bench_footprint;
extern const struct bench_scenario bench_msg;
extern const struct bench_scenario bench_pipeline;
extern const struct bench_scenario bench_fanout;
extern const struct bench_scenario bench_zctx;
extern const struct bench_scenario bench_donor;

#endif
