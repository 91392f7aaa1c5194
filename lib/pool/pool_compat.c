/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The DPDK calls the pool library makes that are not public API in DPDK 22.11, in one place.
 *
 * rte_mempool_event_callback_register() is how a mempool driver hears that a mempool is
 * being freed before its memory goes (RTE_MEMPOOL_EVENT_DESTROY; mlx5 does the same). 22.11
 * exports it as internal ABI, stable within that release only. The callbacks are a list of
 * this process: a secondary never calls the primary's.
 *
 * rte_eal_cleanup() tells libraries nothing before it unmaps DPDK's memory: the library's
 * exit bus (tide_exit_bus.h) is how the control thread hears of it and stops.
 */

#define ALLOW_INTERNAL_API

#include <errno.h>

#include <rte_mempool.h>

#include "pool_private.h"
#include "tide_exit_bus.h"

static struct tide_exit_bus pool_exit_bus;
/* What registering it gave (at load, while nothing else reads EAL's bus list). */
static int pool_exit_bus_ret;

static int
pool_exit_bus_cleanup(void)
{
	pool_ctl_halt();
	return 0;
}

RTE_INIT(pool_exit_bus_init)
{
	pool_exit_bus_ret = tide_exit_bus_register(&pool_exit_bus, "tide_pool",
		pool_exit_bus_cleanup);
}

int
pool_compat_watch_eal_cleanup(void)
{
	if (pool_exit_bus_ret != 0)
		POOL_LOG(WARNING, "this DPDK's bus layout is not 22.11's: rte_eal_cleanup() with "
			"elastic pools left, or the message library initialised, may crash (free "
			"them, call tide_msg_fini(), before it)");
	return pool_exit_bus_ret;
}

static void
pool_compat_event(enum rte_mempool_event event, struct rte_mempool *mp,
	void *arg __rte_unused)
{
	if (event == RTE_MEMPOOL_EVENT_DESTROY)
		pool_forget(mp, 0);
}

int
pool_compat_watch_destroy(void)
{
	int ret = rte_mempool_event_callback_register(pool_compat_event, NULL);

	return ret == -EEXIST ? 0 : ret;
}
