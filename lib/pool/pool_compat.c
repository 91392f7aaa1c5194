/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The DPDK calls the pool library makes that are not public API in DPDK 22.11, in one place.
 *
 * rte_mempool_event_callback_register() is how a mempool driver hears that a mempool is
 * being freed before its memory goes (RTE_MEMPOOL_EVENT_DESTROY; mlx5 does the same). 22.11
 * exports it as internal ABI, stable within that release only. The callbacks are a list of
 * this process: a secondary never calls the primary's.
 */

#define ALLOW_INTERNAL_API

#include <errno.h>

#include <rte_mempool.h>

#include "pool_private.h"

static void
pool_compat_event(enum rte_mempool_event event, struct rte_mempool *mp,
	void *arg __rte_unused)
{
	if (event == RTE_MEMPOOL_EVENT_DESTROY)
		pool_forget(mp);
}

int
pool_compat_watch_destroy(void)
{
	int ret = rte_mempool_event_callback_register(pool_compat_event, NULL);

	return ret == -EEXIST ? 0 : ret;
}
