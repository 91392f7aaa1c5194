/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The DPDK calls the pool library makes that are not public API in DPDK 22.11, in one place.
 *
 * rte_mempool_event_callback_register() is how a mempool driver hears that a mempool is
 * being freed before its memory goes (RTE_MEMPOOL_EVENT_DESTROY; mlx5 does the same). 22.11
 * exports it as internal ABI, stable within that release only. The callbacks are a list of
 * this process: a secondary never calls the primary's.
 *
 * rte_eal_cleanup() tells libraries nothing before it unmaps DPDK's memory, but it first
 * calls every bus's cleanup. A bus of the library's own, with no devices, is how the control
 * thread hears of it and stops, where an application that never freed its pools (many end
 * with rte_eal_cleanup() alone) would otherwise crash in its exit. rte_bus_register() is
 * internal ABI too, and struct rte_bus is in a header Debian does not install (the driver
 * SDK's bus_driver.h): the bus is laid out here as 22.11 has it.
 */

#define ALLOW_INTERNAL_API

#include <errno.h>

#include <rte_bus.h>
#include <rte_mempool.h>

#include "pool_private.h"

/* DPDK 22.11's struct rte_bus, field by field; what this bus leaves NULL as plain pointers. */
struct pool_exit_bus {
	struct pool_exit_bus *next;        /* the bus list's links (RTE_TAILQ_ENTRY) */
	struct pool_exit_bus **prev;
	const char *name;
	int (*scan)(void);
	int (*probe)(void);
	void *(*find_device)(const void *start, void *cmp, const void *data);
	void *plug, *unplug, *parse, *devargs_parse, *dma_map, *dma_unmap;
	struct {
		int scan_mode;             /* enum rte_bus_scan_mode */
	} conf;
	void *get_iommu_class, *dev_iterate, *hot_unplug_handler, *sigbus_handler;
	int (*cleanup)(void);
};

void rte_bus_register(struct rte_bus *bus); /* 22.11, INTERNAL */

static int
pool_exit_bus_none(void)
{
	return 0;
}

static void *
pool_exit_bus_find(const void *start __rte_unused, void *cmp __rte_unused,
	const void *data __rte_unused)
{
	return NULL;
}

static int
pool_exit_bus_cleanup(void)
{
	pool_ctl_halt();
	return 0;
}

static struct pool_exit_bus pool_exit_bus = {
	.name = "tide_pool",
	.scan = pool_exit_bus_none,
	.probe = pool_exit_bus_none,
	.find_device = pool_exit_bus_find,
	.cleanup = pool_exit_bus_cleanup,
};

static int
pool_exit_bus_is(const struct rte_bus *bus, const void *data)
{
	return (const void *)bus == data ? 0 : 1;
}

int
pool_compat_watch_eal_cleanup(void)
{
	const struct rte_bus *me = (const struct rte_bus *)&pool_exit_bus;

	rte_bus_register((struct rte_bus *)&pool_exit_bus);
	/* Listed, with its name where EAL reads it: the layout is the one this DPDK has. */
	if (rte_bus_find(NULL, pool_exit_bus_is, me) != me ||
			rte_bus_name(me) != pool_exit_bus.name) {
		POOL_LOG(WARNING, "this DPDK's bus layout is not 22.11's: rte_eal_cleanup() with "
			"elastic pools left may crash (free them before it)");
		return -ENOTSUP;
	}
	return 0;
}

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
