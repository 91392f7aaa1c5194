/* SPDX-License-Identifier: BSD-3-Clause */
#include "pool_policy.h"

static uint64_t
grow_block_ns(const struct tide_grow_state *st)
{
	return st->block_ns != 0 ? st->block_ns : TIDE_GROW_LATENCY_GUESS_NS;
}

uint64_t
tide_grow_target(const struct tide_grow_policy *pol, const struct tide_grow_state *st)
{
	double horizon, need;

	if (!pol->predictive)
		return pol->low_watermark;
	/* Until the next tick and the first new block lands; later blocks follow it. */
	horizon = (double)pol->tick_ns + (double)grow_block_ns(st);
	need = st->rate * horizon * TIDE_GROW_MARGIN_PCT / 100.0;
	return need > (double)pol->low_watermark ? (uint64_t)need : pol->low_watermark;
}

/* Peak of the net allocation rate: jumps up at once, decays with TIDE_GROW_RATE_DECAY_NS. */
static void
grow_update_rate(struct tide_grow_state *st, const struct tide_grow_input *in)
{
	uint64_t in_use = in->nb_objs - (in->nb_free < in->nb_objs ? in->nb_free : in->nb_objs);
	uint64_t dt;
	double inst = 0;

	if (!st->started || in->now_ns <= st->last_ns) {
		st->started = true;
		st->last_ns = in->now_ns;
		st->last_in_use = in_use;
		return;
	}
	dt = in->now_ns - st->last_ns;
	if (in_use > st->last_in_use)
		inst = (double)(in_use - st->last_in_use) / (double)dt;
	st->rate *= (double)TIDE_GROW_RATE_DECAY_NS / (double)(TIDE_GROW_RATE_DECAY_NS + dt);
	if (inst > st->rate)
		st->rate = inst;
	st->last_ns = in->now_ns;
	st->last_in_use = in_use;
}

uint32_t
tide_grow_decide(const struct tide_grow_policy *pol, struct tide_grow_state *st,
	const struct tide_grow_input *in)
{
	uint64_t target, need;

	grow_update_rate(st, in);
	if (in->room_blocks == 0 || pol->block_objs == 0)
		return 0;
	target = tide_grow_target(pol, st);
	if (in->nb_free >= target)
		return 0;
	need = (target - in->nb_free + pol->block_objs - 1) / pol->block_objs;
	return need < in->room_blocks ? (uint32_t)need : in->room_blocks;
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
