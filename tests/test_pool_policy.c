/* SPDX-License-Identifier: BSD-3-Clause */

/* The growth and reap policies, without EAL, on a fake clock. */

#include <rte_common.h>

#include "pool_policy.h"
#include "reap_policy.h"
#include "test_common.h"

#define MS (1000ull * 1000)

static struct tide_grow_policy
policy(bool predictive)
{
	return (struct tide_grow_policy){
		.low_watermark = 500,
		.block_objs = 1000,
		.tick_ns = 1 * MS,
		.predictive = predictive,
	};
}

static uint32_t
tick(const struct tide_grow_policy *pol, struct tide_grow_state *st, uint64_t now,
	uint64_t nb_free, uint64_t nb_objs, uint32_t room)
{
	struct tide_grow_input in = {
		.now_ns = now, .nb_free = nb_free, .nb_objs = nb_objs, .room_blocks = room,
	};

	return tide_grow_decide(pol, st, &in);
}

static void
test_grows_one_block_below_the_watermark(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };

	CU_ASSERT_EQUAL(tick(&pol, &st, 0, 501, 1000, 10), 0);
	CU_ASSERT_EQUAL(tick(&pol, &st, 1 * MS, 500, 1000, 10), 0);
	CU_ASSERT_EQUAL(tick(&pol, &st, 2 * MS, 499, 1000, 10), 1);
	CU_ASSERT_EQUAL(tick(&pol, &st, 3 * MS, 0, 1000, 10), 1);
}

/* A queued request for more than the target: the free objects must reach it. */
static void
test_a_waiters_demand_raises_the_target(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };
	struct tide_grow_input in = {
		.now_ns = 0, .nb_free = 3000, .nb_objs = 3000, .room_blocks = 100,
		.demand = 5000,
	};

	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 2);
	/* Within the wall's room. */
	in.now_ns = 1 * MS;
	in.room_blocks = 1;
	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 1);
	/* Served: the watermark again. */
	in.now_ns = 2 * MS;
	in.room_blocks = 100;
	in.demand = 0;
	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 0);
}

static void
test_never_grows_past_the_wall(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };

	CU_ASSERT_EQUAL(tick(&pol, &st, 0, 0, 1000, 0), 0);
	pol.low_watermark = 5000;
	CU_ASSERT_EQUAL(tick(&pol, &st, 1 * MS, 0, 1000, 3), 3);
}

static void
test_a_burst_from_idle_is_met_at_its_first_tick(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state st = { 0 };
	uint32_t blocks;

	/* Idle: nothing taken, well above the watermark. */
	CU_ASSERT_EQUAL(tick(&pol, &st, 0, 4000, 4000, 100), 0);
	CU_ASSERT_EQUAL(tick(&pol, &st, 1 * MS, 4000, 4000, 100), 0);
	/* 3000 objects taken within one tick. Free (1000) is above the watermark, but the
	 * pool must be ready for that rise again, doubled for margin: a target of 6000 free,
	 * 5 blocks now.
	 */
	blocks = tick(&pol, &st, 2 * MS, 1000, 4000, 100);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), 6000);
	CU_ASSERT_EQUAL(blocks, 5);
	/* Without prediction the same burst waits for the watermark. */
	struct tide_grow_policy flat = policy(false);
	struct tide_grow_state st2 = { 0 };
	tick(&flat, &st2, 1 * MS, 4000, 4000, 100);
	CU_ASSERT_EQUAL(tick(&flat, &st2, 2 * MS, 1000, 4000, 100), 0);
}

static void
test_a_rise_held_for_two_ticks_is_carried_over_the_horizon(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state st = { 0 };

	tick(&pol, &st, 0, 100000, 100000, 100);
	tick(&pol, &st, 1 * MS, 99000, 100000, 100);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), 2000);
	/* Up again: 1 object/us for two ticks, over the 3 ms horizon: 3000, x2. */
	tick(&pol, &st, 2 * MS, 98000, 100000, 100);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), 6000);
}

static void
test_a_sustained_rate_is_met_over_the_whole_horizon(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state st = { 0 };
	uint64_t objs = 1000000;

	/* 1 object/us, sampled every ms; the horizon is the tick plus 2 ms (guessed block
	 * latency): the rise over a horizon is 3000.
	 */
	for (uint64_t t = 0; t <= 20; t++)
		tick(&pol, &st, t * MS, objs - t * 1000, objs, 100);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), 6000);
}

static void
test_a_swinging_load_is_met_at_its_swing_not_its_slope(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state st = { 0 };

	/* 2000 out, then back, every tick: the pool needs 2000 ready (x2), not the 2000/ms
	 * slope carried over a whole horizon.
	 */
	for (uint64_t t = 0; t <= 51; t++)
		tick(&pol, &st, t * MS, 100000 - (t % 2) * 2000, 100000, 100);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), 4000);
	/* Between swings the peak only decays a little. */
	tick(&pol, &st, 52 * MS, 100000, 100000, 100);
	CU_ASSERT(tide_grow_target(&pol, &st) < 4000 && tide_grow_target(&pol, &st) > 3900);
}

static void
test_the_target_decays_after_the_burst(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state st = { 0 };
	uint64_t t;
	double rise0;

	tick(&pol, &st, 0, 4000, 4000, 100);
	tick(&pol, &st, 1 * MS, 1000, 4000, 100);
	rise0 = st.rise;
	CU_ASSERT(tide_grow_target(&pol, &st) > pol.low_watermark);
	/* Steady afterwards: after one time constant the peak is about halved... */
	for (t = 2; t <= 201; t++)
		tick(&pol, &st, t * MS, 100000, 100000 + 3000, 100);
	CU_ASSERT(st.rise < rise0 * 0.5 && st.rise > rise0 * 0.3);
	/* ...and soon the target is back at the watermark, never below it. */
	for (; t < 3000; t++)
		tick(&pol, &st, t * MS, 100000, 100000 + 3000, 100);
	CU_ASSERT(st.rise < rise0 / 1000);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), pol.low_watermark);
}

static void
test_measured_grow_latency_sets_the_horizon(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state fast = { 0 }, slow = { 0 };
	uint64_t objs = 1000000;

	/* Adding a block takes 0.1 ms: the horizon is 1.1 ms; with samples a ms apart, the
	 * span covering it is 2 ms, a rise of 2000.
	 */
	tide_grow_record(&fast, 4, 4 * 100 * 1000);
	/* Adding a block takes 9 ms: the horizon is 10 ms, a rise of 10000. */
	tide_grow_record(&slow, 1, 9 * MS);
	for (uint64_t t = 0; t <= 30; t++) {
		tick(&pol, &fast, t * MS, objs - t * 1000, objs, 100);
		tick(&pol, &slow, t * MS, objs - t * 1000, objs, 100);
	}
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &fast), 4000);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &slow), 20000);
	/* A moving average: one fast measurement pulls it down a quarter of the way. */
	tide_grow_record(&slow, 1, 1 * MS);
	CU_ASSERT_EQUAL(slow.block_ns, 7 * MS);
}

static void
test_a_clock_that_stands_still_or_goes_back_is_harmless(void)
{
	struct tide_grow_policy pol = policy(true);
	struct tide_grow_state st = { 0 };

	tick(&pol, &st, 5 * MS, 4000, 4000, 100);
	/* 3900 taken with no time passing: still a rise of 3900, target 7800: 8 blocks. */
	CU_ASSERT_EQUAL(tick(&pol, &st, 5 * MS, 100, 4000, 100), 8);
	/* Time going back changes nothing more. */
	CU_ASSERT_EQUAL(tick(&pol, &st, 4 * MS, 100, 4000, 100), 8);
	CU_ASSERT_EQUAL(tide_grow_target(&pol, &st), 7800);
}

/* ---- back-off while growth fails (hugepages exhausted) ---- */

/*
 * One tick of a pool that always wants 3 blocks: if the policy says grow, the mechanism
 * tries and, while @p fail, fails. Returns the blocks decided.
 */
static uint32_t
tick_failing(const struct tide_grow_policy *pol, struct tide_grow_state *st, uint64_t now,
	uint64_t gen, bool fail)
{
	struct tide_grow_input in = {
		.now_ns = now, .nb_free = 0, .nb_objs = 1000, .room_blocks = 100, .mem_gen = gen,
	};
	uint32_t blocks = tide_grow_decide(pol, st, &in);

	if (blocks > 0 && fail)
		tide_grow_failed(pol, st, now, gen);
	else if (blocks > 0)
		tide_grow_succeeded(st);
	return blocks;
}

static void
test_failed_growth_backs_off_exponentially_up_to_a_bound(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };
	uint64_t tries[64], t;
	unsigned int n = 0;

	pol.low_watermark = 2500;
	/* 10 s of 1 ms ticks, every attempt failing: the attempts, not every tick. */
	for (t = 0; t < 10000; t++)
		if (tick_failing(&pol, &st, t * MS, 0, true) > 0 && n < RTE_DIM(tries))
			tries[n++] = t;
	/* At 0, then 2, 4, 8, ... 512 ticks later (10 attempts in about 1 s), then once a
	 * second: about 19 in 10 s, not 10000.
	 */
	CU_ASSERT(n >= 15 && n <= 21);
	CU_ASSERT_EQUAL(tries[0], 0);
	CU_ASSERT_EQUAL(tries[1] - tries[0], 2);
	CU_ASSERT_EQUAL(tries[2] - tries[1], 4);
	CU_ASSERT_EQUAL(tries[3] - tries[2], 8);
	for (unsigned int i = 1; i < n; i++)
		CU_ASSERT(tries[i] - tries[i - 1] <= TIDE_GROW_BACKOFF_MAX_NS / MS);
	CU_ASSERT_EQUAL(tries[n - 1] - tries[n - 2], TIDE_GROW_BACKOFF_MAX_NS / MS);
	CU_ASSERT_EQUAL(st.fails, n);
	CU_ASSERT(tide_grow_backoff_left(&st, (tries[n - 1] + 1) * MS) > 0);
	CU_ASSERT(tide_grow_backoff_left(&st, (tries[n - 1] + 1000) * MS) == 0);
}

static void
test_a_probe_at_the_end_of_a_wait_adds_one_block(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };

	pol.low_watermark = 2500;
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, 0, 0, true), 3);
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, 1 * MS, 0, true), 0);
	/* The wait is over: one block, to see whether memory is back. */
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, 2 * MS, 0, false), 1);
	/* It was: the policy grows as usual from the next tick. */
	CU_ASSERT_EQUAL(st.fails, 0);
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, 3 * MS, 0, false), 3);
}

static void
test_memory_given_back_ends_the_wait_at_the_next_tick(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };
	uint64_t t = 0;

	pol.low_watermark = 2500;
	/* Back off up to the bound. */
	for (; t < 3000; t++)
		tick_failing(&pol, &st, t * MS, 7, true);
	CU_ASSERT(tide_grow_backoff_left(&st, t * MS) > 0);
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, t * MS, 7, true), 0);
	/* A block was reaped somewhere in the process: try at once, as usual. */
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, ++t * MS, 8, false), 3);
	CU_ASSERT_EQUAL(st.fails, 0);
}

static void
test_a_growth_elsewhere_ends_the_backoff(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };
	uint64_t t = 0;

	pol.low_watermark = 2500;
	for (; t < 3000; t++)
		tick_failing(&pol, &st, t * MS, 0, true);
	CU_ASSERT(st.fails > 10);
	/* A failing allocation's own growth got a block: memory is back. */
	CU_ASSERT(tide_grow_succeeded(&st) > 10);
	CU_ASSERT_EQUAL(tide_grow_backoff_left(&st, t * MS), 0);
	CU_ASSERT_EQUAL(tick_failing(&pol, &st, t * MS, 0, false), 3);
	/* Nothing to end: 0 failures. */
	CU_ASSERT_EQUAL(tide_grow_succeeded(&st), 0);
}

static void
test_no_growth_needed_leaves_the_backoff_alone(void)
{
	struct tide_grow_policy pol = policy(false);
	struct tide_grow_state st = { 0 };
	struct tide_grow_input in = {
		.now_ns = 0, .nb_free = 0, .nb_objs = 1000, .room_blocks = 100,
	};

	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 1);
	tide_grow_failed(&pol, &st, 0, 0);
	/* Enough free objects (mbufs came back): no attempt, still backing off. */
	in.now_ns = 10 * MS;
	in.nb_free = 1000;
	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 0);
	CU_ASSERT_EQUAL(st.fails, 1);
	/* At the wall: nothing either. */
	in.nb_free = 0;
	in.room_blocks = 0;
	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 0);
	/* Needed again, the wait long over: a probe. */
	in.room_blocks = 100;
	CU_ASSERT_EQUAL(tide_grow_decide(&pol, &st, &in), 1);
}

/* ---- reaping ---- */

#define IDLE (500 * MS)

/* n blocks, all free and idle since t=0 unless set otherwise. */
static void
reap_blocks(struct tide_reap_block *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (struct tide_reap_block){ .all_free = true, .last_busy_ns = 0 };
}

static void
test_reap_releases_the_newest_when_the_last_two_are_idle(void)
{
	struct tide_reap_block b[4];

	reap_blocks(b, 4);
	CU_ASSERT_EQUAL(tide_reap_decide(b, 4, IDLE, IDLE, 1), 1);
	/* Idle one ns short of the threshold: nothing. */
	CU_ASSERT_EQUAL(tide_reap_decide(b, 4, IDLE - 1, IDLE, 1), 0);
}

static void
test_reap_keeps_one_empty_block_as_headroom(void)
{
	struct tide_reap_block b[4];

	/* The newest is idle but the one before it saw an allocation recently: keep both. */
	reap_blocks(b, 4);
	b[2].last_busy_ns = 10 * MS;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 4, IDLE + 5 * MS, IDLE, 8), 0);
	/* The one before has an object out: keep. */
	reap_blocks(b, 4);
	b[2].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 4, 10 * IDLE, IDLE, 8), 0);
	/* Walking down: with 3 idle blocks on top of a busy block 0, release two; block 1
	 * stays because block 0 before it is busy.
	 */
	reap_blocks(b, 4);
	b[0].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 4, 10 * IDLE, IDLE, 8), 2);
}

/*
 * A block with objects out but nothing taken from it for the idle threshold, the only
 * reason the idle headroom above it stays, ranks as old when the block below it is idle.
 */
static void
test_a_stale_block_under_the_headroom_is_demoted(void)
{
	struct tide_reap_block b[6];

	reap_blocks(b, 6);
	b[4].all_free = false;
	b[4].last_busy_ns = 10 * IDLE;
	b[4].last_alloc_ns = 0;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 6, 10 * IDLE, IDLE, 8), 0);
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 4);
	/* Something was taken from it within the threshold: in use, not held long. */
	b[4].last_alloc_ns = 10 * IDLE - IDLE + 1;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 0);
	b[4].last_alloc_ns = 10 * IDLE - IDLE;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 4);
	/* The block below it is stale too: still this one first (that one next). */
	b[3].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 4);
	/* Nothing idle under it: ranking it lower would free nothing. */
	b[1].all_free = false;
	b[2].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 0);
	b[1].all_free = true;
	b[2].all_free = true;
	b[3].all_free = true;
	/* The newest is not idle: it is not headroom. */
	b[5].last_busy_ns = 10 * IDLE;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 0);
	/* The newest itself is stale (an idle lcore's cache keeps a few of its mbufs since
	 * the end of a burst) with two idle blocks below it: it ranks as old. */
	reap_blocks(b, 6);
	b[5].all_free = false;
	b[5].last_busy_ns = 10 * IDLE;
	b[5].last_alloc_ns = 0;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 6, 10 * IDLE, IDLE, 8), 0);
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 5);
	/* The top three stale: newest first, one per decision. */
	b[3].all_free = false;
	b[4].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 5);
	/* Every block under it busy: nothing to gain. */
	b[1].all_free = false;
	b[2].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 0);
	/* Newest stale over the base and one block: nothing under it to release. */
	reap_blocks(b, 3);
	b[2].all_free = false;
	b[2].last_busy_ns = 10 * IDLE;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 3, 10 * IDLE, IDLE), 0);
	/* Already just above the base, or a base-only pool: nothing to do. */
	reap_blocks(b, 3);
	b[1].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 3, 10 * IDLE, IDLE), 0);
	CU_ASSERT_EQUAL(tide_reap_demote(b, 1, 10 * IDLE, IDLE), 0);
	/* A clock behind the last allocation is harmless. */
	reap_blocks(b, 6);
	b[4].all_free = false;
	b[4].last_alloc_ns = 20 * IDLE;
	CU_ASSERT_EQUAL(tide_reap_demote(b, 6, 10 * IDLE, IDLE), 0);
}

static void
test_reap_only_the_newest_never_a_middle_block(void)
{
	struct tide_reap_block b[5];

	/* Blocks 1 and 2 idle, but the newest (4) is busy: nothing, the idle ones are not
	 * on top.
	 */
	reap_blocks(b, 5);
	b[4].all_free = false;
	b[3].last_busy_ns = 10 * IDLE;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 5, 10 * IDLE, IDLE, 8), 0);
	/* The newest idle, the one before busy: nothing. */
	reap_blocks(b, 5);
	b[3].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 5, 10 * IDLE, IDLE, 8), 0);
}

static void
test_reap_never_releases_the_base(void)
{
	struct tide_reap_block b[3];

	reap_blocks(b, 3);
	CU_ASSERT_EQUAL(tide_reap_decide(b, 1, 10 * IDLE, IDLE, 8), 0);
	CU_ASSERT_EQUAL(tide_reap_decide(b, 2, 10 * IDLE, IDLE, 8), 1);
	/* All idle: back to the base, one per decision when max is 1, all at once with 8. */
	CU_ASSERT_EQUAL(tide_reap_decide(b, 3, 10 * IDLE, IDLE, 1), 1);
	CU_ASSERT_EQUAL(tide_reap_decide(b, 3, 10 * IDLE, IDLE, 8), 2);
	/* A busy base keeps block 1 (it is the headroom). */
	b[0].all_free = false;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 2, 10 * IDLE, IDLE, 8), 0);
}

static void
test_reap_ignores_a_clock_behind_the_samples(void)
{
	struct tide_reap_block b[3];

	reap_blocks(b, 3);
	b[2].last_busy_ns = 100 * IDLE;
	b[1].last_busy_ns = 100 * IDLE;
	CU_ASSERT_EQUAL(tide_reap_decide(b, 3, 50 * IDLE, IDLE, 8), 0);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_policy");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_reap_releases_the_newest_when_the_last_two_are_idle);
	CU_ADD_TEST(s, test_reap_keeps_one_empty_block_as_headroom);
	CU_ADD_TEST(s, test_reap_only_the_newest_never_a_middle_block);
	CU_ADD_TEST(s, test_a_stale_block_under_the_headroom_is_demoted);
	CU_ADD_TEST(s, test_reap_never_releases_the_base);
	CU_ADD_TEST(s, test_reap_ignores_a_clock_behind_the_samples);
	CU_ADD_TEST(s, test_grows_one_block_below_the_watermark);
	CU_ADD_TEST(s, test_a_waiters_demand_raises_the_target);
	CU_ADD_TEST(s, test_never_grows_past_the_wall);
	CU_ADD_TEST(s, test_a_burst_from_idle_is_met_at_its_first_tick);
	CU_ADD_TEST(s, test_a_rise_held_for_two_ticks_is_carried_over_the_horizon);
	CU_ADD_TEST(s, test_a_sustained_rate_is_met_over_the_whole_horizon);
	CU_ADD_TEST(s, test_a_swinging_load_is_met_at_its_swing_not_its_slope);
	CU_ADD_TEST(s, test_the_target_decays_after_the_burst);
	CU_ADD_TEST(s, test_measured_grow_latency_sets_the_horizon);
	CU_ADD_TEST(s, test_a_clock_that_stands_still_or_goes_back_is_harmless);
	CU_ADD_TEST(s, test_failed_growth_backs_off_exponentially_up_to_a_bound);
	CU_ADD_TEST(s, test_a_probe_at_the_end_of_a_wait_adds_one_block);
	CU_ADD_TEST(s, test_memory_given_back_ends_the_wait_at_the_next_tick);
	CU_ADD_TEST(s, test_a_growth_elsewhere_ends_the_backoff);
	CU_ADD_TEST(s, test_no_growth_needed_leaves_the_backoff_alone);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_policy", false, register_tests);
}
