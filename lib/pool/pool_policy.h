/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_POOL_POLICY_H
#define TIDE_POOL_POLICY_H

/**
 * @file
 * Growth policy of an elastic pool: decides, never acts (internal, not installed).
 *
 * The control thread calls tide_grow_decide() every tick with the time and the pool's
 * counts; it answers how many blocks to add now. No clock reads, no DPDK calls: tests
 * drive it with a fake clock.
 *
 * The policy keeps the driver's free objects above a target: the largest of the objects a
 * queued request waits for (the input's demand), the low watermark and, times a margin,
 * the most the objects out have risen within one horizon
 * (one tick plus the measured time to add one block: how long the pool must last on what
 * it has). That rise is measured over the recent samples and held as a peak that decays
 * (time constant TIDE_GROW_RATE_DECAY_NS): a burst from idle raises the target at its
 * first tick, and once the rise has held for two ticks the trend is carried over the
 * whole horizon; a sustained rate keeps the target at rate x horizon, and a load that
 * swings up and down keeps it at the swing, not at the swing's slope extrapolated.
 *
 * Back-off: when adding a block fails for want of memory (hugepages exhausted), the
 * mechanism says so (tide_grow_failed()) and the policy waits before the next attempt,
 * twice as long after each failure in a row (2 ticks, 4, 8, ...) up to
 * TIDE_GROW_BACKOFF_MAX_NS; the attempt at the end of a wait (a probe) adds one block.
 * The wait ends early, at the next tick, when the input's mem_gen moved (memory was given
 * back in the process: a block reaped, a pool freed), and for good when a block is added
 * by any path, a failing allocation's growth included (tide_grow_succeeded()).
 */

#include <stdbool.h>
#include <stdint.h>

/** Time constant of the allocation-rate peak's decay, in ns. */
#define TIDE_GROW_RATE_DECAY_NS (200ull * 1000 * 1000)
/** Grow latency assumed before one has been measured: per block, in ns. */
#define TIDE_GROW_LATENCY_GUESS_NS (2ull * 1000 * 1000)
/** Safety factor on the predicted consumption, in percent. */
#define TIDE_GROW_MARGIN_PCT 200
/** Samples the policy keeps (ticks). */
#define TIDE_GROW_HISTORY 32
/** Longest wait between two growth attempts while they keep failing, in ns. */
#define TIDE_GROW_BACKOFF_MAX_NS (1000ull * 1000 * 1000)

/** Configuration, set at pool creation; read-only afterwards. */
struct tide_grow_policy {
	uint64_t low_watermark; /**< objects: grow while fewer are free */
	uint32_t block_objs;    /**< objects one block adds */
	uint64_t tick_ns;       /**< ns between two decisions */
	bool predictive;        /**< also grow ahead of the measured rate */
};

/** What the policy remembers between ticks; written only by the functions below. */
struct tide_grow_state {
	uint64_t t_ns[TIDE_GROW_HISTORY];   /**< sample times, ns, a ring */
	uint64_t in_use[TIDE_GROW_HISTORY]; /**< objects out of the free lists then */
	uint32_t head;        /**< next slot of the ring */
	uint32_t count;       /**< samples in the ring */
	double rise;          /**< peak rise of objects out within a horizon; decays */
	uint64_t block_ns;    /**< measured time to add one block, ns (0: none yet) */
	uint32_t fails;       /**< growths failed in a row (0: not backing off) */
	uint64_t retry_ns;    /**< while fails > 0: no attempt before this time, ns */
	uint64_t fail_gen;    /**< the input's mem_gen at the last failure */
};

/** Counts at one tick. */
struct tide_grow_input {
	uint64_t now_ns;      /**< monotonic time, ns */
	uint64_t nb_free;     /**< objects in the driver's free lists */
	uint64_t nb_objs;     /**< objects in the pool's blocks */
	uint32_t room_blocks; /**< blocks the wall still allows */
	uint64_t mem_gen;     /**< moves whenever memory comes back (a block given back, a
			       *   pool freed): ends a wait */
	uint64_t demand;      /**< objects a queued request waits for (the head waiter's): the
			       *   free objects must reach it (0: none waits) */
};

/**
 * Decide how many blocks to add now.
 *
 * @return
 *   Blocks to add, at most in->room_blocks.
 */
uint32_t tide_grow_decide(const struct tide_grow_policy *pol, struct tide_grow_state *st,
	const struct tide_grow_input *in);

/**
 * Record how long adding @p blocks blocks took (a moving average per block).
 */
void tide_grow_record(struct tide_grow_state *st, uint32_t blocks, uint64_t ns);

/**
 * A growth failed at @p now_ns for want of memory (not at the wall), with the memory
 * generation @p mem_gen of that moment: back off.
 *
 * @return
 *   How long until the next attempt, ns.
 */
uint64_t tide_grow_failed(const struct tide_grow_policy *pol, struct tide_grow_state *st,
	uint64_t now_ns, uint64_t mem_gen);

/**
 * A block was added (by the control thread, a failing allocation, a user call): end any
 * back-off.
 *
 * @return
 *   The failures in a row that this success ends (0 if none).
 */
uint32_t tide_grow_succeeded(struct tide_grow_state *st);

/**
 * How long the current back-off still lasts at @p now_ns, ns (0: none, or it is over).
 */
uint64_t tide_grow_backoff_left(const struct tide_grow_state *st, uint64_t now_ns);

/**
 * The free-object target decisions work to, from the current state, without a queued
 * request's demand (tide_grow_decide() works to the larger of the two): for stats and tests.
 */
uint64_t tide_grow_target(const struct tide_grow_policy *pol, const struct tide_grow_state *st);

#endif /* TIDE_POOL_POLICY_H */
