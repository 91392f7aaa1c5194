/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include <rte_memzone.h>

#include "test_common.h"
#include "test_mempool_util.h"
#include "tide_mempool.h"

struct rte_mempool *
raw_tide_pool(const char *name, unsigned int max_objs, unsigned int obj_size,
	unsigned int cache)
{
	struct rte_mempool *mp;

	mp = rte_mempool_create_empty(name, max_objs, obj_size, cache, 0, SOCKET_ID_ANY, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL), 0);
	return mp;
}

void
raw_mz_free(struct rte_mempool_memhdr *mh __rte_unused, void *opaque)
{
	rte_memzone_free(opaque);
}

int64_t
raw_add_mz_block(struct rte_mempool *mp, size_t len, rte_mempool_obj_cb_t *init)
{
	static unsigned int seq;
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;
	int64_t id;

	snprintf(name, sizeof(name), "raw_blk_%u", __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	mz = rte_memzone_reserve_aligned(name, len, SOCKET_ID_ANY, 0, RTE_CACHE_LINE_SIZE);
	if (mz == NULL)
		return -ENOMEM;
	id = tide_mempool_block_add(mp, mz->addr, mz->len, init, NULL, raw_mz_free,
		(void *)(uintptr_t)mz);
	if (id < 0)
		rte_memzone_free(mz);
	return id;
}
