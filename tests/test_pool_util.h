/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_POOL_UTIL_H
#define TIDE_TEST_POOL_UTIL_H

/* Helpers shared by the elastic pool suites. */

#include <stdbool.h>
#include <stddef.h>

#include <rte_mempool.h>

#include "tide_pool.h"

#define MB (1ull << 20)

/** Create an elastic pool with the defaults but these sizes; CU_FAIL_FATAL on error. */
struct rte_mempool *make_pool(const char *name, size_t base, size_t block, size_t wall,
	unsigned int cache, uint32_t flags);

/** Like make_pool() with every parameter given. */
struct rte_mempool *make_pool_p(struct tide_pool_params *p);

/** The pool's counters (asserts the call succeeds). */
struct tide_pool_stats pstats(const struct rte_mempool *mp);

/** True if obj lies in the pool's block at position idx (oldest first). */
bool in_block(const struct rte_mempool *mp, unsigned int idx, const void *obj);

/** Leave exactly one mbuf out, in the block at position k (blocks before it full first,
 *  then freed): the mbuf. Needs a pool without cache. */
struct rte_mbuf *hold_one_in_block(struct rte_mempool *mp, unsigned int k);

/** Send a command to this process's telemetry socket, as dpdk-telemetry.py does; the reply
 *  (caller frees; empty on error). */
char *telemetry_query(const char *cmd);

#endif
