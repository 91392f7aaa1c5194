/* SPDX-License-Identifier: BSD-3-Clause */

/* A library's exit bus (tide_exit_bus.h). */

#define ALLOW_INTERNAL_API

#include <errno.h>

#include <rte_bus.h>
#include <rte_common.h>

#include "tide_exit_bus.h"

void rte_bus_register(struct rte_bus *bus);   /* 22.11, INTERNAL */
int rte_bus_unregister(struct rte_bus *bus);  /* 22.11, INTERNAL */

/* EAL's bus list, as the head a bus's first link points back to (RTE_TAILQ_HEAD). */
TAILQ_HEAD(exit_bus_list, tide_exit_bus);

static int
exit_bus_none(void)
{
	return 0;
}

static void *
exit_bus_find(const void *start __rte_unused, void *cmp __rte_unused,
	const void *data __rte_unused)
{
	return NULL;
}

static int
exit_bus_is(const struct rte_bus *bus, const void *data)
{
	return (const void *)bus == data ? 0 : 1;
}

static int
exit_bus_any(const struct rte_bus *bus __rte_unused, const void *data __rte_unused)
{
	return 0;
}

int
tide_exit_bus_register(struct tide_exit_bus *bus, const char *name, int (*cleanup)(void))
{
	const struct rte_bus *me = (const struct rte_bus *)bus;
	struct tide_exit_bus *first;
	struct exit_bus_list *list;

	bus->name = name;
	bus->scan = exit_bus_none;
	bus->probe = exit_bus_none;
	bus->find_device = exit_bus_find;
	bus->cleanup = cleanup;
	rte_bus_register((struct rte_bus *)bus);
	/* Listed, with its name where EAL reads it: the layout is the one this DPDK has. */
	if (rte_bus_find(NULL, exit_bus_is, me) != me || rte_bus_name(me) != name) {
		rte_bus_unregister((struct rte_bus *)bus);
		return -ENOTSUP;
	}
	/* First in the list: the first bus's back link is the list head's first pointer. */
	first = (struct tide_exit_bus *)rte_bus_find(NULL, exit_bus_any, NULL);
	if (first != bus) {
		list = (struct exit_bus_list *)(void *)first->next.tqe_prev;
		TAILQ_REMOVE(list, bus, next);
		TAILQ_INSERT_HEAD(list, bus, next);
	}
	return 0;
}
