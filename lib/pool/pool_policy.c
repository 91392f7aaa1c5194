/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>

#include "pool_policy.h"

static uint64_t
grow_block_ns(const struct tide_grow_state *st)
{
	return st->block_ns != 0 ? st->block_ns : TIDE_GROW_LATENCY_GUESS_NS;
}

/* How long the pool must last on what it has: until the next tick and the first new
 * block lands (later blocks follow it).
 */
static uint64_t
grow_horizon_ns(const struct tide_grow_policy *pol, const struct tide_grow_state *st)
{
	return pol->tick_ns + grow_block_ns(st);
}

uint64_t
tide_grow_target(const struct tide_grow_policy *pol, const struct tide_grow_state *st)
{
	double need;

	if (!pol->predictive)
		return pol->low_watermark;
	need = st->rise * TIDE_GROW_MARGIN_PCT / 100.0;
	return need > (double)pol->low_watermark ? (uint64_t)need : pol->low_watermark;
}

/*
 * Record a sample, then the rise of objects out over the last horizon: now minus the
 * lowest value among the samples of that horizon and the one just before it (so the
 * span covers at least a horizon), or a trend carried over the horizon when there is
 * one. Keep its peak; let the peak decay.
 */
static void
grow_update_rise(const struct tide_grow_policy *pol, struct tide_grow_state *st,
	const struct tide_grow_input *in)
{
	uint64_t in_use = in->nb_objs - (in->nb_free < in->nb_objs ? in->nb_free : in->nb_objs);
	uint64_t h = grow_horizon_ns(pol, st), since = in->now_ns > h ? in->now_ns - h : 0;
	uint64_t low = in_use, dt = 0;
	double rise;
	uint32_t prev = (st->head + TIDE_GROW_HISTORY - 1) % TIDE_GROW_HISTORY;

	if (st->count > 0 && in->now_ns > st->t_ns[prev])
		dt = in->now_ns - st->t_ns[prev];
	for (uint32_t k = 0; k < st->count; k++) {
		uint32_t i = (st->head + TIDE_GROW_HISTORY - 1 - k) % TIDE_GROW_HISTORY;

		if (st->in_use[i] < low)
			low = st->in_use[i];
		if (st->t_ns[i] <= since)
			break;
	}
	rise = (double)(in_use - low);
	/* A rise confirmed over the last two ticks is a trend: carry it over the horizon
	 * (a burst from idle is met before the window has filled).
	 */
	if (st->count >= 2) {
		uint32_t p2 = (st->head + TIDE_GROW_HISTORY - 2) % TIDE_GROW_HISTORY;

		if (in_use > st->in_use[prev] && st->in_use[prev] > st->in_use[p2] &&
				in->now_ns > st->t_ns[p2]) {
			double trend = (double)(in_use - st->in_use[p2]) /
				(double)(in->now_ns - st->t_ns[p2]) * (double)h;

			if (trend > rise)
				rise = trend;
		}
	}
	st->t_ns[st->head] = in->now_ns;
	st->in_use[st->head] = in_use;
	st->head = (st->head + 1) % TIDE_GROW_HISTORY;
	if (st->count < TIDE_GROW_HISTORY)
		st->count++;
	st->rise *= (double)TIDE_GROW_RATE_DECAY_NS / (double)(TIDE_GROW_RATE_DECAY_NS + dt);
	if (rise > st->rise)
		st->rise = rise;
}

/*
 * Whether a back-off holds growth now. Memory that may have come back ends it; at the end
 * of a wait the next attempt is a probe.
 */
static bool
grow_backing_off(struct tide_grow_state *st, const struct tide_grow_input *in, bool *probe)
{
	*probe = false;
	if (st->fails == 0)
		return false;
	if (in->mem_gen != st->fail_gen) {
		st->fails = 0;
		return false;
	}
	if (in->now_ns < st->retry_ns)
		return true;
	*probe = true;
	return false;
}

uint32_t
tide_grow_decide(const struct tide_grow_policy *pol, struct tide_grow_state *st,
	const struct tide_grow_input *in)
{
	uint64_t target, need;
	bool probe;

	grow_update_rise(pol, st, in);
	if (in->room_blocks == 0 || pol->block_objs == 0)
		return 0;
	target = tide_grow_target(pol, st);
	if (in->demand > target)
		target = in->demand;
	if (in->nb_free >= target || grow_backing_off(st, in, &probe))
		return 0;
	if (probe)
		return 1;
	need = (target - in->nb_free + pol->block_objs - 1) / pol->block_objs;
	return need < in->room_blocks ? (uint32_t)need : in->room_blocks;
}

uint64_t
tide_grow_failed(const struct tide_grow_policy *pol, struct tide_grow_state *st,
	uint64_t now_ns, uint64_t mem_gen)
{
	uint64_t wait = TIDE_GROW_BACKOFF_MAX_NS, tick = pol->tick_ns != 0 ? pol->tick_ns : 1;

	if (st->fails < UINT32_MAX)
		st->fails++;
	/* 2 ticks after the first failure, doubling, up to the bound. */
	if (st->fails < 63 && tick <= TIDE_GROW_BACKOFF_MAX_NS >> st->fails)
		wait = tick << st->fails;
	st->retry_ns = now_ns + wait;
	st->fail_gen = mem_gen;
	return wait;
}

uint32_t
tide_grow_succeeded(struct tide_grow_state *st)
{
	uint32_t fails = st->fails;

	st->fails = 0;
	return fails;
}

uint64_t
tide_grow_backoff_left(const struct tide_grow_state *st, uint64_t now_ns)
{
	return st->fails != 0 && now_ns < st->retry_ns ? st->retry_ns - now_ns : 0;
}

void
tide_grow_record(struct tide_grow_state *st, uint32_t blocks, uint64_t ns)
{
	uint64_t per;

	if (blocks == 0)
		return;
	per = ns / blocks;
	st->block_ns = st->block_ns == 0 ? per : (st->block_ns * 3 + per) / 4;
}
