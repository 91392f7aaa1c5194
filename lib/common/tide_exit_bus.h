/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_EXIT_BUS_H
#define TIDE_EXIT_BUS_H

/**
 * @file
 * @internal How a tidepool library hears of rte_eal_cleanup() (not installed; each library
 * builds tide_exit_bus.c in).
 *
 * rte_eal_cleanup() tells libraries nothing before it unmaps DPDK's memory, but it first
 * calls every bus's cleanup. A library's threads (the pools' control thread, zero-copy TX
 * send agents) would otherwise run on into that memory, where an application ended with
 * rte_eal_cleanup() alone without freeing its objects, as many do (an unmodified one with
 * the plugin cannot be changed). So each library registers a bus of its own, with no
 * devices, whose cleanup stops them. It does so as it is loaded (a constructor), as DPDK's
 * own buses do: EAL's bus list has no lock, and nothing else reads it then. It is moved to
 * the head of that list: its cleanup runs before the device buses close their ports, which
 * a send agent may be calling (buses loaded later, as plugins, go behind it).
 *
 * rte_bus_register() is internal ABI, stable within a DPDK release only, and struct rte_bus
 * is in a header Debian does not install (the driver SDK's bus_driver.h): the bus is laid
 * out here as DPDK 22.11 has it, and a registration checks that EAL reads it so.
 */

#include <sys/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @internal DPDK 22.11's struct rte_bus, field by field; what an exit bus leaves NULL as
 *  plain pointers. */
struct tide_exit_bus {
	TAILQ_ENTRY(tide_exit_bus) next;   /**< the bus list's links (RTE_TAILQ_ENTRY) */
	const char *name;
	int (*scan)(void);
	int (*probe)(void);
	void *(*find_device)(const void *start, void *cmp, const void *data);
	void *plug, *unplug, *parse, *devargs_parse, *dma_map, *dma_unmap;
	struct {
		int scan_mode;             /**< enum rte_bus_scan_mode */
	} conf;
	void *get_iommu_class, *dev_iterate, *hot_unplug_handler, *sigbus_handler;
	int (*cleanup)(void);
};

/**
 * @internal Register @p bus (zeroed static storage of the caller's, registered once, from a
 * constructor) as @p name, with @p cleanup to run in rte_eal_cleanup(), ahead of every bus
 * registered before it.
 *
 * @return 0; -ENOTSUP if this DPDK does not lay a bus out as 22.11 does (the bus is then
 *   not registered: @p cleanup will not run).
 */
int tide_exit_bus_register(struct tide_exit_bus *bus, const char *name, int (*cleanup)(void));

#ifdef __cplusplus
}
#endif

#endif /* TIDE_EXIT_BUS_H */
