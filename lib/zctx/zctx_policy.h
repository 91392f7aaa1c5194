/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_ZCTX_POLICY_H
#define TIDE_ZCTX_POLICY_H

/**
 * @file
 * Copy-or-zero-copy policy of the send agent: decides, never acts (internal, not installed).
 *
 * The agent asks tide_zcp_decide() which path a send of n bytes takes, measures what the
 * send cost (TSC cycles, its shares of the submissions staged with it, of the TX burst
 * and of the release included) and reports it with tide_zcp_record_run_at(), the sends of
 * a retiring pass that share a size class and a path in one report. No clock reads,
 * no DPDK calls: tests drive it with made-up costs.
 *
 * Sizes fall into power-of-two classes. Per class and path the policy keeps a moving
 * average of cycles per byte. One threshold splits the sizes: below it copy, from it on
 * zero-copy; it is the class boundary that minimises the expected cost of the recent mix
 * of sizes (ties: the boundary nearest the current one). Until a class has
 * TIDE_ZCP_WARMUP samples of each path its sends measure copy, then zero-copy; afterwards
 * one send in TIDE_ZCP_EXPLORE (times how much dearer the other path is) of the class
 * takes the other path, so that a change of costs is noticed while exploring costs at
 * most 1/TIDE_ZCP_EXPLORE. Exploring sends go in long runs (TIDE_ZCP_EXPLORE_RUN): on
 * the agent a path costs over twice its due for its first few dozen sends after a change
 * (its mbufs, its pool cache, the payload lines of the CPU cache it uses), and a short
 * run would make whichever path is not chosen look dearer than it is, so a class would
 * stay on the path it started on; for the same reason the first TIDE_ZCP_SETTLE sends
 * after a class changes path do not move its average. The boundary moves only for an
 * expected gain of TIDE_ZCP_HYSTERESIS. A fixed threshold turns all of this off.
 *
 * The machine's speed moves by tens of percent from one millisecond to the next, more
 * than the two paths differ at small sizes, so the other path's cost is not compared as
 * last measured: each exploring run is paired with the base sends just before it, and
 * the ratio of the two (averaged over runs) times the base path's current average is the
 * other path's cost. Runs that confirm the choice come twice as late each time, up to
 * 2^TIDE_ZCP_BACKOFF_MAX; a run off the ratio by TIDE_ZCP_DRIFT brings the base pace
 * back, and a base path whose slow average moved by TIDE_ZCP_BASE_DRIFT a run soon.
 *
 * A class's costs are measured among the other sizes' sends, but not what its path does to
 * them: on net_null, copying the 64 B sends of a mix of 64 B to 64 KB cost the mix up to
 * 9% of its rate while each copied send measured cheaper than zero-copy. So a threshold that
 * splits the recent mix (classes on both sides) is tried as a whole against sending all
 * of it zero-copy, in trials of three windows of decisions (the choice, the other, the
 * choice again, each after TIDE_ZCP_MIX_SETTLE decisions left out), every decision
 * stamped with its window (tide_zcp_epoch()) and every report with its stamp. A window's
 * cost is the recent mix's expected cycles at that window's cost per byte of each class,
 * so the windows need not hold the same sizes; the other wins when it costs
 * TIDE_ZCP_MIX_GAIN less than the mean of the choice's two windows in two trials in a
 * row. Trials that confirm the choice come twice as late each time, up to
 * 2^TIDE_ZCP_MIX_BACKOFF_MAX; per-class exploring waits while a trial runs. A trial's
 * windows are short, and the machine's speed moves them by more than a few percent: a
 * split whose costs per class say it saves less than TIDE_ZCP_SPLIT_GAIN of the whole
 * mix's cost is not kept at all (all zero-copy instead, no trial needed), and one that
 * saves less than TIDE_ZCP_SPLIT_ENTER does not replace all zero-copy.
 *
 * The agent reports what each retiring pass completed (zctx_reports.h): one report per
 * class, path and stamp, however the pass's sends of a mix alternate between classes.
 */

#include <stdbool.h>
#include <stdint.h>

/** Size classes: class k holds sizes up to 64 << k bytes (class 0: 0..64). */
#define TIDE_ZCP_CLASSES 15
/** Sampled sends of each path a class needs before the threshold uses it (more than
 *  TIDE_ZCP_SETTLE: some of them settled). */
#define TIDE_ZCP_WARMUP 64
/** One send in this many (per class) takes the path the threshold does not choose, times
 *  how much dearer that path is (at most one in TIDE_ZCP_EXPLORE_MAX).
 */
#define TIDE_ZCP_EXPLORE 64
#define TIDE_ZCP_EXPLORE_MAX 4096
/** Consecutive sends of a class that explore the other path together, TIDE_ZCP_SETTLE of
 *  them to warm it; fewer when that path is over twice as dear (the decision is clear,
 *  and a run costs more). */
#define TIDE_ZCP_EXPLORE_RUN 128
#define TIDE_ZCP_EXPLORE_RUN_FAR 80
/** An exploring run that finds the other path as dear as before and not cheaper than the
 *  base path by more than this (a fraction) confirms the base path: the next run comes
 *  twice as late, up to 2^TIDE_ZCP_BACKOFF_MAX times. */
#define TIDE_ZCP_CONFIRM 0.05
#define TIDE_ZCP_BACKOFF_MAX 5
/** A paired exploring run whose ratio of the two paths' costs is this far (a fraction)
 *  from the estimate brings exploring back to its base pace; if the next run agrees, the
 *  paths changed and the estimate restarts from the two. */
#define TIDE_ZCP_DRIFT 0.3
/** Paths this many times apart or more are far apart: their ratio moving within that
 *  changes no decision, and is not a change of the paths. */
#define TIDE_ZCP_FAR 2.0
/** A base path whose slow average moves by this much (a fraction) between two exploring
 *  runs sends its class back to exploring, the next run within TIDE_ZCP_EXPLORE_RUN
 *  sends. */
#define TIDE_ZCP_BASE_DRIFT 0.5
/** Weight of a sample in a path's slow average: 1 / 2^TIDE_ZCP_SLOW_SHIFT. */
#define TIDE_ZCP_SLOW_SHIFT 8
/** Runs of sends at most this long are paired with the other path's sends just before
 *  them (exploring runs and the warm-up); a paired run moves the ratio of the two paths'
 *  costs by this weight. */
#define TIDE_ZCP_PAIR_MAX 192
#define TIDE_ZCP_PAIR_WEIGHT 0.25
/** Weight of a sample in a path's short average (what the next run pairs with):
 *  1 / 2^TIDE_ZCP_RECENT_SHIFT. */
#define TIDE_ZCP_RECENT_SHIFT 4
/** Sends of a class after it changes path that its averages leave out, with any sample
 *  that holds one of them: cold ones (1 KB sends on net_null cost 2-3 times their due
 *  for some 40 sends after a change). */
#define TIDE_ZCP_SETTLE 48
/** The boundary moves only if the classes it switches are expected to cost this much
 *  less (a fraction of what they cost now). */
#define TIDE_ZCP_HYSTERESIS 0.05
/** Weight of a new sample in the moving average: 1 / 2^TIDE_ZCP_EWMA_SHIFT, and
 *  1 / 2^TIDE_ZCP_EWMA_SHIFT_LONG past TIDE_ZCP_LONG_STREAK samples in a row on one
 *  path: an exploring run learns fast, while the chosen path, sampled by every send, is
 *  not thrown off by a stall of a few dozen sends (a pool growing, the agent preempted).
 */
#define TIDE_ZCP_EWMA_SHIFT 3
#define TIDE_ZCP_EWMA_SHIFT_LONG 6
#define TIDE_ZCP_LONG_STREAK 64
/** Past TIDE_ZCP_LONG_STREAK sends in a row on one path, a sample stands for this many
 *  sends or more. */
#define TIDE_ZCP_SAMPLE_EVERY 16
/** A sample above this many times the average counts as this many times the average. */
#define TIDE_ZCP_CLAMP 1.5
/** Sampled records between two threshold choices. */
#define TIDE_ZCP_RECHOOSE 64
/** Records (sampled or not) after which class weights are halved (the mix is a recent
 *  one). */
#define TIDE_ZCP_DECAY 4096
/** First zero-copy class before anything is measured (sizes above 2 KB). */
#define TIDE_ZCP_DEFAULT_CLASS 6
/** Decisions of a trial window measured, and decisions before each window left out (the
 *  paths' caches warm after the change). */
#define TIDE_ZCP_MIX_WINDOW 1024
#define TIDE_ZCP_MIX_SETTLE 256
/** Decisions between two trials at the base pace, and before the first one. */
#define TIDE_ZCP_MIX_PERIOD (64u * 1024)
#define TIDE_ZCP_MIX_FIRST (8u * 1024)
#define TIDE_ZCP_MIX_BACKOFF_MAX 4
/** Decisions a trial waits for its last window's reports before it gives up: more than
 *  the most sends an agent has outstanding (a report comes that many decisions late). */
#define TIDE_ZCP_MIX_EVAL_MAX (80u * 1024)
/** The other choice must cost this much less (a fraction) than the one in force. */
#define TIDE_ZCP_MIX_GAIN 0.03
/** A threshold that splits the recent mix must be expected to save this much (a fraction)
 *  of what the whole mix costs all zero-copy to stay in force, and TIDE_ZCP_SPLIT_ENTER
 *  to replace all zero-copy. */
#define TIDE_ZCP_SPLIT_GAIN 0.03
#define TIDE_ZCP_SPLIT_ENTER 0.045
/** tide_zcp_init() value for an adaptive threshold. */
#define TIDE_ZCP_ADAPTIVE UINT32_MAX

/** The two paths. */
enum tide_zcp_path {
	TIDE_ZCP_COPY = 0, /**< copy into pool mbufs */
	TIDE_ZCP_ZC = 1,   /**< attach the memory as external buffers */
};

/** What the policy knows about one size class; written only by the functions below. */
struct tide_zcp_class {
	double cpb[2];       /**< moving average of cycles per byte, per path */
	uint32_t samples[2]; /**< sends sampled so far, per path (saturates) */
	uint32_t until;      /**< decisions before the next exploring run (0 while one runs) */
	uint32_t exploring;  /**< sends left in the current exploring run */
	uint32_t next_until; /**< until, once the current exploring run ends */
	uint32_t streak;     /**< sends in a row on the path of the last record */
	uint32_t unsampled;  /**< of those, counted since the last sampled one */
	uint64_t acc_cycles; /**< what those cost, cycles */
	uint64_t acc_bytes;  /**< and their bytes */
	uint32_t backoff;    /**< exploring runs come 2^backoff times later (confirmed) */
	double slow[2];      /**< slow average of a path's settled samples */
	double ref;          /**< base path's slow average when the current run was scheduled */
	double run_sum[2];   /**< settled samples of the last run of sends on a path: sum */
	uint32_t run_n[2];   /**< and how many */
	double recent[2];    /**< short average of a path's latest settled samples */
	double pair_ref;     /**< recent[] of the path before the current run (0: none) */
	double zc_copy;      /**< paired ratio: zero-copy's cost over copy's (0: none yet) */
	double pending;      /**< that run's ratio, waiting for a second run to agree (0: none) */
	bool moved;          /**< the last paired run was over TIDE_ZCP_DRIFT off zc_copy */
	uint8_t last;        /**< path of the last record */
	bool settled[2];     /**< the average holds a settled sample (not only cold ones) */
	double weight;       /**< recent sends of the class (decays) */
};

/** Phases of a trial of the whole mix. */
enum tide_zcp_mix_phase {
	TIDE_ZCP_MIX_IDLE = 0, /**< no trial: counting down to the next */
	TIDE_ZCP_MIX_WARM_A,   /**< settling on the choice, then window 0 */
	TIDE_ZCP_MIX_A,
	TIDE_ZCP_MIX_WARM_B,   /**< settling on the other, then window 1 */
	TIDE_ZCP_MIX_B,
	TIDE_ZCP_MIX_WARM_A2,  /**< back on the choice, then window 2 */
	TIDE_ZCP_MIX_A2,
	TIDE_ZCP_MIX_EVAL,     /**< waiting for the last window's reports */
};

/** A trial of the whole mix: the split threshold against all zero-copy. */
struct tide_zcp_mix {
	uint32_t left;       /**< decisions before the next phase */
	uint8_t phase;       /**< enum tide_zcp_mix_phase */
	uint8_t epoch;       /**< stamp of the decisions made now */
	uint8_t win_epoch[3]; /**< stamps of the three windows' decisions */
	uint32_t win_class[3]; /**< the class boundary each window sends by */
	bool all_zc;         /**< all zero-copy is in force over the split threshold */
	bool pending;        /**< the trial just before found the other cheaper */
	uint32_t backoff;    /**< trials come 2^backoff times later (confirmed) */
	uint32_t split;      /**< the split threshold's class when the trial began */
	uint64_t trials;     /**< trials evaluated */
	uint64_t switches;   /**< of those, switches between the two */
	double last_ratio;   /**< the last trial's cost of the other over the choice */
	uint64_t cycles[3][TIDE_ZCP_CLASSES]; /**< per window and class: reported cycles */
	uint64_t bytes[3][TIDE_ZCP_CLASSES];  /**< and bytes */
};

/** The policy's state; written only by the functions below. */
struct tide_zcp_state {
	struct tide_zcp_class cls[TIDE_ZCP_CLASSES];
	uint32_t fixed;      /**< TIDE_ZCP_ADAPTIVE, or the fixed threshold in bytes */
	uint32_t zc_class;   /**< adaptive: classes from this one on go zero-copy by their
			      *   own costs (TIDE_ZCP_CLASSES: none) */
	uint32_t eff_class;  /**< what decisions use now: zc_class, 0 (all zero-copy over
			      *   it), or a trial's other */
	struct tide_zcp_mix mix;
	uint32_t records;    /**< records since the last threshold choice */
	uint32_t decay;      /**< records since the last weight decay */
};

/** Start afresh with a fixed threshold (bytes) or TIDE_ZCP_ADAPTIVE. */
void tide_zcp_init(struct tide_zcp_state *st, uint32_t fixed_threshold);

/** tide_zcp_init() of a state in use, whose reports of sends decided before may still
 *  come: their stamps never match a window of the new state's. */
void tide_zcp_restart(struct tide_zcp_state *st, uint32_t fixed_threshold);

/** True while the policy learns (an adaptive threshold): only then are costs reported. */
static inline bool
tide_zcp_learning(const struct tide_zcp_state *st)
{
	return st->fixed == TIDE_ZCP_ADAPTIVE;
}

/** The class of a size. */
static inline unsigned int
tide_zcp_class_of(uint32_t bytes)
{
	/* Class k holds (64 << (k - 1), 64 << k]: k = bits of (bytes - 1) - 6. */
	unsigned int k = bytes <= 64 ? 0 : 32 - (unsigned int)__builtin_clz(bytes - 1) - 6;

	return k < TIDE_ZCP_CLASSES - 1 ? k : TIDE_ZCP_CLASSES - 1;
}

/** @internal A representative size of class @p k, for costs per send. */
static inline double
tide_zcp_class_size(unsigned int k)
{
	return k == 0 ? 48.0 : 48.0 * (double)(1u << k);
}

/** @internal True once class @p c has TIDE_ZCP_WARMUP samples of each path. */
static inline bool
tide_zcp_warm(const struct tide_zcp_class *c)
{
	return c->samples[TIDE_ZCP_COPY] >= TIDE_ZCP_WARMUP &&
		c->samples[TIDE_ZCP_ZC] >= TIDE_ZCP_WARMUP;
}

/** @internal The path class @p k takes where classes from @p zc_class on go zero-copy. */
static inline enum tide_zcp_path
tide_zcp_path_of(unsigned int k, unsigned int zc_class)
{
	return k < zc_class ? TIDE_ZCP_COPY : TIDE_ZCP_ZC;
}

/** @internal The path the threshold gives class @p k (adaptive). */
static inline enum tide_zcp_path
tide_zcp_base(const struct tide_zcp_state *st, unsigned int k)
{
	return tide_zcp_path_of(k, st->eff_class);
}

/** @internal tide_zcp_decide() off its fast path: warm-up, exploring, scheduling; no new
 *  exploring run starts while @p hold (a trial of the mix runs). */
enum tide_zcp_path tide_zcp_decide_slow(struct tide_zcp_class *c, enum tide_zcp_path base,
	bool hold);

/** @internal The mix trial's next phase: its countdown of decisions reached 0. */
void tide_zcp_mix_step(struct tide_zcp_state *st);

/** @internal The class boundary in force outside trials: the choice by the classes' own
 *  costs, or 0 where all zero-copy won a trial against it. */
static inline unsigned int
tide_zcp_mix_in_force(const struct tide_zcp_state *st)
{
	return st->mix.all_zc ? 0 : st->zc_class;
}

/** @internal The path class @p k takes outside trials: what its costs are read against. */
static inline enum tide_zcp_path
tide_zcp_base_in_force(const struct tide_zcp_state *st, unsigned int k)
{
	return tide_zcp_path_of(k, tide_zcp_mix_in_force(st));
}

/** @internal True if classes below @p boundary going copied and the others zero-copy
 *  sends some of the recent mix (warm classes sent lately) each way. */
bool tide_zcp_mix_splits(const struct tide_zcp_state *st, unsigned int boundary);

/** @internal The classes' own choice (zc_class) was made again. */
void tide_zcp_mix_chosen(struct tide_zcp_state *st);

/** @internal A report of sends decided under stamp @p epoch, while a trial runs. */
void tide_zcp_mix_record(struct tide_zcp_state *st, uint8_t epoch, unsigned int k,
	enum tide_zcp_path path, uint64_t bytes, uint64_t cycles);

/** The stamp of the decisions made now: a report of sends carries the stamp their
 *  decisions had (tide_zcp_record_run_at()). */
static inline uint8_t
tide_zcp_epoch(const struct tide_zcp_state *st)
{
	return st->mix.epoch;
}

/**
 * The path a send of @p bytes takes. Inline: most sends of a warm class only count down
 * to the next exploring run (a countdown, not a division: this runs for every send).
 */
static inline enum tide_zcp_path
tide_zcp_decide(struct tide_zcp_state *st, uint32_t bytes)
{
	unsigned int k;
	struct tide_zcp_class *c;
	enum tide_zcp_path base;

	if (!tide_zcp_learning(st))
		return bytes < st->fixed ? TIDE_ZCP_COPY : TIDE_ZCP_ZC;
	if (--st->mix.left == 0)
		tide_zcp_mix_step(st);
	k = tide_zcp_class_of(bytes);
	c = &st->cls[k];
	base = tide_zcp_base(st, k);
	/* until is 0 while a class warms up and while it explores. */
	if (c->until > 1) {
		c->until--;
		return base;
	}
	return tide_zcp_decide_slow(c, base, st->mix.phase != TIDE_ZCP_MIX_IDLE);
}

/** @internal tide_zcp_record_run() for sends that make a sample. */
void tide_zcp_record_sample(struct tide_zcp_state *st, struct tide_zcp_class *c,
	enum tide_zcp_path path, uint32_t sends, uint64_t bytes, uint64_t cycles);

/**
 * Report what a run of @p sends sends of size class @p k, decided under stamp @p epoch
 * (tide_zcp_epoch() at their decisions), one after another on @p path, cost: @p bytes
 * and @p cycles in all. They count as that many sends in a row (in the run's length, the
 * warm-up, the class's weight) and make one sample, whose cost per byte
 * is theirs together. Deep in a run of one path (the chosen one, mostly) samples of fewer
 * than TIDE_ZCP_SAMPLE_EVERY sends are only added up into the next one, which keeps the
 * policy's cost per send a small fraction of a small send's: a cost that comes every few
 * sends (a TX burst's, a pool cache refill's) counts whole, whichever send it fell on. The
 * agent reports a retiring pass this way, one report per class and path of its sends
 * (tide_zcp_reports_record()). A fixed threshold learns nothing (tide_zcp_init() starts
 * afresh).
 */
static inline void
tide_zcp_record_run_at(struct tide_zcp_state *st, uint8_t epoch, unsigned int k,
	enum tide_zcp_path path, uint32_t sends, uint64_t bytes, uint64_t cycles)
{
	struct tide_zcp_class *c;

	if (!tide_zcp_learning(st))
		return;
	if (st->mix.phase != TIDE_ZCP_MIX_IDLE)
		tide_zcp_mix_record(st, epoch, k, path, bytes, cycles);
	c = &st->cls[k];
	if (c->last == path && c->streak >= TIDE_ZCP_LONG_STREAK &&
			c->unsampled + sends < TIDE_ZCP_SAMPLE_EVERY) {
		c->unsampled += sends;
		c->acc_cycles += cycles;
		c->acc_bytes += bytes;
		return;
	}
	tide_zcp_record_sample(st, c, path, sends, bytes, cycles);
}

/** tide_zcp_record_run_at() of sends decided just now (nothing between their decisions
 *  and this report). */
static inline void
tide_zcp_record_run(struct tide_zcp_state *st, unsigned int k, enum tide_zcp_path path,
	uint32_t sends, uint64_t bytes, uint64_t cycles)
{
	tide_zcp_record_run_at(st, tide_zcp_epoch(st), k, path, sends, bytes, cycles);
}

/** Report what one send of @p bytes cost on @p path, in cycles: tide_zcp_record_run() of
 *  one send.
 */
static inline void
tide_zcp_record(struct tide_zcp_state *st, uint32_t bytes, enum tide_zcp_path path,
	uint64_t cycles)
{
	tide_zcp_record_run(st, tide_zcp_class_of(bytes), path, 1, bytes, cycles);
}

/** The threshold in force outside trials, bytes: payloads shorter than this are copied
 *  (UINT32_MAX: all). */
uint32_t tide_zcp_threshold(const struct tide_zcp_state *st);

#endif /* TIDE_ZCTX_POLICY_H */
