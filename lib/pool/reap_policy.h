/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_REAP_POLICY_H
#define TIDE_REAP_POLICY_H

/**
 * @file
 * Reap policy of an elastic pool: decides, never acts (internal, not installed).
 *
 * The rule (seed 001, FIG. 6): release only the newest block, only when it has no object
 * out and has seen no allocation for the idle threshold, and the block before it is idle
 * the same way; never the base block. One empty block therefore always stays as
 * headroom for the next burst: the pool recently needed it. Applied again after each
 * release, the rule walks the pool back down to its base once everything is idle.
 *
 * "Newest" is the block's rank in the pool's age order, which is also the order dequeue
 * prefers (oldest first). A block that keeps everything above it only because a few of its
 * objects are held for long is ranked as old (tide_reap_demote()): the idle blocks above
 * it can then go, and allocations fill it first.
 *
 * No clock reads, no DPDK calls: the caller passes the time and what it sampled.
 */

#include <stdbool.h>
#include <stdint.h>

/** What the reaper knows of one block, from its samples. */
struct tide_reap_block {
	bool all_free;         /**< no object of the block was out at the last sample */
	uint64_t last_busy_ns; /**< last time an object of it was seen out, or when it was
				*   added: ns, same clock as now_ns */
	uint64_t last_alloc_ns; /**< last time an object was taken from it (its free count
				 *   fell below the previous sample's), or when it was added */
};

/**
 * Decide how many of the newest blocks to release now.
 *
 * @param blocks
 *   The pool's blocks, oldest (the base) first.
 * @param n
 *   Number of blocks.
 * @param now_ns
 *   Current time.
 * @param idle_ns
 *   Idle threshold: a block is idle when all_free and now - last_busy >= idle_ns.
 * @param max
 *   Most blocks to release in one decision.
 * @return
 *   k: release blocks n-1 down to n-k. Never the base block.
 */
uint32_t tide_reap_decide(const struct tide_reap_block *blocks, uint32_t n, uint64_t now_ns,
	uint64_t idle_ns, uint32_t max);

/**
 * Decide whether a block should rank as old: when nothing can be released because the
 * newest block that is not idle is stale (objects out, none taken from it for the idle
 * threshold: a few long-held mbufs, such as what an idle lcore's cache keeps after a
 * burst) and, with it ranked lower, two idle blocks would be on top. Ranked just above the base, it no longer keeps
 * the idle blocks, and new allocations fill it first. Several stale blocks on top rank as
 * old one per decision, newest first, until idle blocks are on top. Call it when
 * tide_reap_decide() answered 0.
 *
 * @return
 *   The index of the block to move to position 1, or 0 for none.
 */
uint32_t tide_reap_demote(const struct tide_reap_block *blocks, uint32_t n, uint64_t now_ns,
	uint64_t idle_ns);

#endif /* TIDE_REAP_POLICY_H */
