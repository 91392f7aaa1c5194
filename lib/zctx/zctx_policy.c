/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "zctx_policy.h"

/* Smallest size of class k: the threshold that sends class k and above zero-copy. */
static uint32_t
zcp_class_low(unsigned int k)
{
	return k == 0 ? 0 : (64u << (k - 1)) + 1;
}

void
tide_zcp_init(struct tide_zcp_state *st, uint32_t fixed_threshold)
{
	memset(st, 0, sizeof(*st));
	st->fixed = fixed_threshold;
	st->zc_class = TIDE_ZCP_DEFAULT_CLASS;
	st->eff_class = st->zc_class;
	st->mix.left = TIDE_ZCP_MIX_FIRST;
}

void
tide_zcp_restart(struct tide_zcp_state *st, uint32_t fixed_threshold)
{
	/* A trial takes seven stamps after the current one: skip them all. */
	uint8_t epoch = (uint8_t)(st->mix.epoch + 8);

	tide_zcp_init(st, fixed_threshold);
	st->mix.epoch = epoch;
}

/*
 * What a send of the class costs on @p path, per byte. The base path's average is what
 * its sends measure; the other path's, once an exploring run has been paired with the
 * base sends just before it, is the base path's average times the paired ratio: both
 * paths then stand measured at the same moment, whatever the machine's speed did since.
 */
static double
zcp_est(const struct tide_zcp_class *c, enum tide_zcp_path path, enum tide_zcp_path base)
{
	if (path == base || c->zc_copy <= 0)
		return c->cpb[path];
	return base == TIDE_ZCP_COPY ? c->cpb[base] * c->zc_copy : c->cpb[base] / c->zc_copy;
}

/* How much dearer the other path is than the base one (1 if unknown). */
static double
zcp_other_ratio(const struct tide_zcp_class *c, enum tide_zcp_path base)
{
	return c->cpb[base] > 0 ? zcp_est(c, !base, base) / c->cpb[base] : 1;
}

/*
 * Sends of the class between two explorations of the other path: TIDE_ZCP_EXPLORE times
 * how much dearer that path is, so exploring never costs more than 1/TIDE_ZCP_EXPLORE.
 */
static uint32_t
zcp_explore_period(double ratio)
{
	if (!(ratio > 1))
		return TIDE_ZCP_EXPLORE;
	if (ratio > TIDE_ZCP_EXPLORE_MAX / TIDE_ZCP_EXPLORE)
		return TIDE_ZCP_EXPLORE_MAX;
	return (uint32_t)(TIDE_ZCP_EXPLORE * ratio);
}

/* True if @p now is within @p tol (a fraction) of @p ref. */
static bool
zcp_steady(double now, double ref, double tol)
{
	return now <= ref * (1 + tol) && now >= ref * (1 - tol);
}

/*
 * Schedule the class's next exploring run. The run just made (if any) either confirmed
 * the base path (the other path measured what it did the time before, and is not cheaper
 * by more than TIDE_ZCP_CONFIRM) and the next one comes twice as late, up to
 * 2^TIDE_ZCP_BACKOFF_MAX; or the other path changed, and exploring is back to its base
 * pace. A switch of paths costs dozens of sends' worth of cold caches: confirming what is
 * known at the base pace would cost more than its share, most of all where the two paths
 * cost about the same and either would do.
 */
static void
zcp_schedule(struct tide_zcp_class *c, enum tide_zcp_path base)
{
	double ratio = zcp_other_ratio(c, base);
	uint32_t period = zcp_explore_period(ratio);

	if (ratio > 1 - TIDE_ZCP_CONFIRM && !c->moved) {
		if (c->backoff < TIDE_ZCP_BACKOFF_MAX)
			c->backoff++;
	} else {
		c->backoff = 0;
	}
	c->ref = c->slow[base];
	/* Paths far apart (the other over twice as dear): a short run is enough. */
	c->exploring = period < TIDE_ZCP_FAR * TIDE_ZCP_EXPLORE ? TIDE_ZCP_EXPLORE_RUN :
		TIDE_ZCP_EXPLORE_RUN_FAR;
	/* Counted from the run's end (the decide fast path looks at until alone). */
	c->next_until = (period * c->exploring) << c->backoff;
	c->until = 0;
}

enum tide_zcp_path
tide_zcp_decide_slow(struct tide_zcp_class *c, enum tide_zcp_path base, bool hold)
{
	if (!tide_zcp_warm(c))
		return c->samples[TIDE_ZCP_COPY] < TIDE_ZCP_WARMUP ? TIDE_ZCP_COPY : TIDE_ZCP_ZC;
	if (c->exploring == 0) {
		if (hold)
			return base; /* the trial's windows measure the paths it sets */
		if (c->until > 0) {
			c->until--;
			return base;
		}
		zcp_schedule(c, base);
	}
	if (--c->exploring == 0)
		c->until = c->next_until;
	return base == TIDE_ZCP_COPY ? TIDE_ZCP_ZC : TIDE_ZCP_COPY;
}

/*
 * A class whose last run moved the paired ratio by over TIDE_ZCP_DRIFT may no longer be on
 * the cheaper path: it goes back to exploring at the base pace. One whose base path's cost
 * moved by over TIDE_ZCP_BASE_DRIFT since its last exploring run was scheduled (by its
 * slow average: the machine's own speed moves the short ones by tens of percent) explores
 * again within a run's length: the other path's estimate is the base path's cost times a
 * ratio paired before the move, and says nothing of what the move did to it.
 */
static void
zcp_check_drift(struct tide_zcp_state *st)
{
	for (unsigned int k = 0; k < TIDE_ZCP_CLASSES; k++) {
		struct tide_zcp_class *c = &st->cls[k];
		bool drift = !zcp_steady(c->slow[tide_zcp_base_in_force(st, k)], c->ref,
			TIDE_ZCP_BASE_DRIFT);

		if (c->exploring > 0 || (!drift && !c->moved))
			continue;
		c->until >>= c->backoff;
		c->backoff = 0;
		if (drift && c->until > TIDE_ZCP_EXPLORE_RUN)
			c->until = TIDE_ZCP_EXPLORE_RUN;
	}
}

/*
 * Choose the boundary: the expected cost of the recent mix if classes from j on went
 * zero-copy is what classes below j cost copied plus what the others cost zero-copy.
 * Running sums give every j in one pass. A move must save TIDE_ZCP_HYSTERESIS of what
 * the classes it switches cost now (not of the whole mix, where the big sizes would
 * drown the small ones); of the moves that do, the cheapest, nearest first on ties.
 */
static void
zcp_choose(struct tide_zcp_state *st)
{
	double a[TIDE_ZCP_CLASSES + 1], b[TIDE_ZCP_CLASSES + 1], cost[TIDE_ZCP_CLASSES + 1];
	double below = 0, above = 0;
	unsigned int cur = st->zc_class, best = cur, k;

	/* a[k], b[k]: what classes below k cost copied, zero-copy (prefix sums). */
	a[0] = b[0] = 0;
	for (k = 0; k < TIDE_ZCP_CLASSES; k++) {
		const struct tide_zcp_class *c = &st->cls[k];
		enum tide_zcp_path base = tide_zcp_base_in_force(st, k);
		double w = tide_zcp_warm(c) ? c->weight * tide_zcp_class_size(k) : 0;

		a[k + 1] = a[k] + w * zcp_est(c, TIDE_ZCP_COPY, base);
		b[k + 1] = b[k] + w * zcp_est(c, TIDE_ZCP_ZC, base);
	}
	for (k = 0; k <= TIDE_ZCP_CLASSES; k++) {
		below = a[k];
		above = b[TIDE_ZCP_CLASSES] - b[k];
		cost[k] = below + above;
	}
	for (unsigned int d = 1; d <= TIDE_ZCP_CLASSES; d++) {
		unsigned int cand[2] = { cur - d, cur + d };

		for (unsigned int i = 0; i < 2; i++) {
			unsigned int j = cand[i];
			double now;

			if (j > TIDE_ZCP_CLASSES) /* below 0 wraps */
				continue;
			/* Classes between j and cur: copied now if j < cur, zero-copy if not. */
			now = j < cur ? a[cur] - a[j] : b[j] - b[cur];
			if (cost[cur] - cost[j] > now * TIDE_ZCP_HYSTERESIS &&
					cost[j] < cost[best] * (1 - 1e-9))
				best = j;
		}
	}
	/*
	 * Copying part of a mix costs the rest of it in ways no class's own costs show (the
	 * pool's and the CPU's caches: on net_null a mix of 64 B to 64 KB that copied its
	 * sends up to 512 B ran 2% slower than all zero-copy, each copied send measured
	 * cheaper). A split must be worth more than that: TIDE_ZCP_SPLIT_GAIN of the whole
	 * mix's cost, TIDE_ZCP_SPLIT_ENTER to replace a choice that splits nothing. Where a
	 * trial put all zero-copy in force, the split stays what the next trial tries: only
	 * trials bring it back.
	 */
	if (!st->mix.all_zc && best != 0 && tide_zcp_mix_splits(st, best) &&
			cost[0] - cost[best] < cost[0] * (tide_zcp_mix_splits(st, cur) ?
				TIDE_ZCP_SPLIT_GAIN : TIDE_ZCP_SPLIT_ENTER))
		best = 0;
	st->zc_class = best;
	tide_zcp_mix_chosen(st);
}

/*
 * Whether the ratio moving from @p est to @p x could change a decision: not while both
 * say the same path is over TIDE_ZCP_FAR times dearer. (A far path is explored in short
 * runs, whose few settled samples scatter more than TIDE_ZCP_DRIFT.)
 */
static bool
zcp_matters(double x, double est)
{
	return !((x > TIDE_ZCP_FAR && est > TIDE_ZCP_FAR) ||
		 (x < 1 / TIDE_ZCP_FAR && est < 1 / TIDE_ZCP_FAR));
}

/*
 * A run of sends on path @p q has just ended. If it was short (an exploring run, or the
 * warm-up's) and came right after settled sends of the other path, its mean over what
 * those sends measured last is one paired sample of the ratio of the two paths' costs,
 * free of whatever the machine's speed does between runs. Either way the sends on q are
 * now what the next run pairs with.
 */
static void
zcp_pair(struct tide_zcp_class *c, enum tide_zcp_path q)
{
	if (c->run_n[q] > 0 && c->streak <= TIDE_ZCP_PAIR_MAX && c->pair_ref > 0) {
		double mean = c->run_sum[q] / c->run_n[q];
		double x = q == TIDE_ZCP_ZC ? mean / c->pair_ref : c->pair_ref / mean;

		/*
		 * Within TIDE_ZCP_DRIFT of the estimate: noise, averaged out. Beyond: the
		 * paths may have changed; a second run that agrees (the next one, which comes
		 * at the base pace) says they did, and the estimate starts again from the two.
		 * One run alone may have been paired with a stall.
		 */
		bool off = c->zc_copy > 0 && !zcp_steady(x, c->zc_copy, TIDE_ZCP_DRIFT) &&
			zcp_matters(x, c->zc_copy);

		if (c->zc_copy <= 0)
			c->zc_copy = x;
		else if (off && c->pending > 0 && zcp_steady(x, c->pending, TIDE_ZCP_DRIFT))
			c->zc_copy = (x + c->pending) / 2;
		else if (!off)
			c->zc_copy += (x - c->zc_copy) * TIDE_ZCP_PAIR_WEIGHT;
		c->pending = off ? x : 0;
		c->moved = off;
	}
	c->pair_ref = c->run_n[q] > 0 ? c->recent[q] : 0;
}

/* @p avg moved toward @p x by 1 / 2^shift (a constant: a multiplication, not a division);
 * the first value is taken whole.
 */
static inline void
zcp_ewma(double *avg, double x, bool first, unsigned int shift)
{
	if (first)
		*avg = x;
	else
		*avg += (x - *avg) * (1.0 / (double)(1u << shift));
}

void
tide_zcp_record_sample(struct tide_zcp_state *st, struct tide_zcp_class *c,
	enum tide_zcp_path path, uint32_t sends, uint64_t bytes, uint64_t cycles)
{
	uint32_t n = c->unsampled + sends; /* the sends this sample stands for */
	uint64_t total = bytes;
	bool settled;
	double cpb;

	c->weight += n;
	st->decay += n;
	if (st->decay >= TIDE_ZCP_DECAY) {
		st->decay = 0;
		for (unsigned int k = 0; k < TIDE_ZCP_CLASSES; k++)
			st->cls[k].weight /= 2;
	}
	/* Settled: none of the sends the sample stands for is among the first
	 * TIDE_ZCP_SETTLE of the streak (a burst reported at once may straddle the line: it
	 * is left out).
	 */
	if (c->last == path) {
		/* Added-up sends are of the last record's path: they count with a sample of
		 * it (of another path, they are dropped).
		 */
		settled = c->streak >= TIDE_ZCP_SETTLE;
		c->streak += n;
		cycles += c->acc_cycles;
		total += c->acc_bytes;
	} else {
		zcp_pair(c, (enum tide_zcp_path)c->last);
		c->last = (uint8_t)path;
		c->streak = sends;
		settled = false;
		c->run_sum[path] = 0;
		c->run_n[path] = 0;
	}
	c->unsampled = 0;
	c->acc_cycles = 0;
	c->acc_bytes = 0;
	cpb = (double)cycles / (double)(total != 0 ? total : 1);
	if (c->samples[path] == 0 || (settled && !c->settled[path])) {
		/* The first sample, replaced by the first settled one. */
		c->cpb[path] = cpb;
		c->settled[path] = settled;
	} else if (settled) {
		if (cpb > c->cpb[path] * TIDE_ZCP_CLAMP)
			cpb = c->cpb[path] * TIDE_ZCP_CLAMP;
		if (c->streak > TIDE_ZCP_LONG_STREAK)
			zcp_ewma(&c->cpb[path], cpb, false, TIDE_ZCP_EWMA_SHIFT_LONG);
		else
			zcp_ewma(&c->cpb[path], cpb, false, TIDE_ZCP_EWMA_SHIFT);
	}
	if (settled) {
		c->run_sum[path] += cpb;
		c->run_n[path]++;
		zcp_ewma(&c->recent[path], cpb, c->run_n[path] == 1, TIDE_ZCP_RECENT_SHIFT);
		zcp_ewma(&c->slow[path], cpb, c->slow[path] == 0, TIDE_ZCP_SLOW_SHIFT);
	}
	c->samples[path] = c->samples[path] > UINT32_MAX - sends ? UINT32_MAX :
		c->samples[path] + sends;
	if (++st->records >= TIDE_ZCP_RECHOOSE) {
		st->records = 0;
		zcp_choose(st);
		zcp_check_drift(st);
	}
}

uint32_t
tide_zcp_threshold(const struct tide_zcp_state *st)
{
	unsigned int k = tide_zcp_mix_in_force(st);

	if (st->fixed != TIDE_ZCP_ADAPTIVE)
		return st->fixed;
	return k >= TIDE_ZCP_CLASSES ? UINT32_MAX : zcp_class_low(k);
}
