/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_TEST_MEMPOOL_UTIL_H
#define TIDE_TEST_MEMPOOL_UTIL_H

/* Helpers for suites that drive the tide mempool driver itself (blocks added by hand). */

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

/** A tide mempool with no object yet (rte_mempool_create_empty() and the tide ops): up
 *  to @p max_objs objects of @p obj_size bytes; CU_FAIL_FATAL on error. */
struct rte_mempool *raw_tide_pool(const char *name, unsigned int max_objs,
	unsigned int obj_size, unsigned int cache);

/** Reserve a memzone of @p len bytes and add it to @p mp as a block (@p init per object,
 *  may be NULL; the memzone freed with the block): the block id or a negative errno. */
int64_t raw_add_mz_block(struct rte_mempool *mp, size_t len, rte_mempool_obj_cb_t *init);

/** A block free callback for a memzone given as @p opaque: frees it. */
void raw_mz_free(struct rte_mempool_memhdr *mh, void *opaque);

#endif
