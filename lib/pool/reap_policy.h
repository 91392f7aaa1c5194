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
 * No clock reads, no DPDK calls: the caller passes the time and what it sampled.
 */

#include <stdbool.h>
#include <stdint.h>

/** What the reaper knows of one block, from its samples. */
struct tide_reap_block {
	bool all_free;         /**< no object of the block was out at the last sample */
	uint64_t last_busy_ns; /**< last time an object of it was seen out, or when it was
				*   added: ns, same clock as now_ns */
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

#endif /* TIDE_REAP_POLICY_H */
