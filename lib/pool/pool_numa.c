/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * NUMA with libnuma: which nodes exist, the machine as the socket choice sees it
 * (numa_policy.h decides), the node a block's pages are really on, and a pool per socket.
 *
 * DPDK's socket ids are the kernel's NUMA node ids on Linux. A node exists when DPDK found
 * it and libnuma's numa_max_node() covers it; without NUMA support in the kernel there is
 * node 0 only. A block's node is read with move_pages(2) and nodes = NULL (a query that
 * moves nothing), one entry per hugepage, after the block was populated.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <numa.h>
#include <numaif.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "numa_policy.h"
#include "pool_private.h"
#include "tide_socket.h"

bool
pool_numa_node_exists(int socket)
{
	if (socket == SOCKET_ID_ANY)
		return true;
	if (!tide_socket_known(socket))
		return false;
	return numa_available() < 0 ? socket == 0 : socket <= numa_max_node();
}

/*
 * Whether node @p socket has hugepages of @p page_sz (sysfs). DPDK makes its memseg lists
 * for every socket and page size whether the node has pages or not, so a list says nothing;
 * a pool there would fail at its first block. True when it cannot be told (no NUMA, no
 * sysfs): DPDK's allocation has the last word then.
 */
bool
pool_numa_node_has_pages(int socket, size_t page_sz)
{
	char path[128];
	unsigned long nr;
	bool has = true;
	FILE *f;

	if (TIDE_FAULT(TIDE_FAULT_NODE_PAGES))
		return false;
	if (socket < 0 || numa_available() < 0)
		return true;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/"
		"hugepages-%zukB/nr_hugepages", socket, page_sz >> 10);
	f = fopen(path, "re");
	if (f == NULL)
		return true;
	if (fscanf(f, "%lu", &nr) == 1)
		has = nr > 0;
	fclose(f);
	return has;
}

void
pool_numa_topo(struct tide_numa_topo *t)
{
	bool numa = numa_available() >= 0;
	unsigned int lc, i;
	uint16_t port;
	int s;

	memset(t, 0, sizeof(*t));
	t->nb_nodes = numa ? (uint32_t)RTE_MIN(numa_max_node() + 1, TIDE_NUMA_MAX_NODES) : 1;
	for (i = 0; i < rte_socket_count(); i++) {
		s = rte_socket_id_by_idx(i);
		if (s >= 0 && (uint32_t)s < t->nb_nodes && pool_page_size(s) != 0)
			t->has_mem[s] = true;
	}
	RTE_LCORE_FOREACH(lc) {
		s = (int)rte_lcore_to_socket_id(lc);
		if (s >= 0 && (uint32_t)s < t->nb_nodes)
			t->has_lcore[s] = true;
	}
	RTE_ETH_FOREACH_DEV(port) {
		s = rte_eth_dev_socket_id(port);
		if (s >= 0 && (uint32_t)s < t->nb_nodes)
			t->has_port[s] = true;
	}
	for (uint32_t a = 0; numa && a < t->nb_nodes; a++)
		for (uint32_t b = 0; b < t->nb_nodes; b++)
			t->distance[a][b] = (uint8_t)RTE_MIN(RTE_MAX(numa_distance((int)a,
				(int)b), 0), UINT8_MAX);
}

/* The node of each page of [addr, addr + len) into status[] (n pages of page_sz). */
static void
pool_numa_query(const void *addr, uint32_t n, size_t page_sz, int *status)
{
	void **pages = malloc(n * sizeof(*pages));
	uintptr_t va = RTE_ALIGN_FLOOR((uintptr_t)addr, page_sz);
	uint32_t i;

	if (pages == NULL) {
		for (i = 0; i < n; i++)
			status[i] = -ENOMEM;
		return;
	}
	for (i = 0; i < n; i++)
		pages[i] = (void *)(va + i * page_sz);
	if (move_pages(0, n, pages, NULL, status, 0) != 0) {
		int err = errno;

		for (i = 0; i < n; i++)
			status[i] = -err;
	}
	free(pages);
}

int
pool_numa_check(struct tide_pool *tp, const void *addr, size_t len, bool *off_node)
{
	uintptr_t lo = RTE_ALIGN_FLOOR((uintptr_t)addr, tp->page_sz);
	uint32_t n = (uint32_t)((RTE_ALIGN_CEIL((uintptr_t)addr + len, tp->page_sz) - lo) /
		tp->page_sz);
	int expected = tp->params.socket_id, node, *status;
	enum tide_numa_verdict v;

	*off_node = false;
	if (numa_available() < 0)
		return 0; /* one node: 0 */
	status = malloc(RTE_MAX(n, 1u) * sizeof(*status));
	if (status == NULL)
		return -1;
	pool_numa_query(addr, n, tp->page_sz, status);
	if (TIDE_FAULT(TIDE_FAULT_NUMA))
		for (uint32_t i = 0; i < n; i++)
			status[i] = expected >= 0 ? expected + 1 : 1;
	v = tide_numa_block_verdict(status, n, expected, &node);
	if (v == TIDE_NUMA_UNKNOWN)
		POOL_LOG(DEBUG, "%s: the node of a block's pages cannot be read: %s", tp->name,
			strerror(-status[0]));
	free(status);
	if (v == TIDE_NUMA_OFF_NODE) {
		*off_node = true;
		__atomic_fetch_add(&tp->node_misses, 1, __ATOMIC_RELAXED);
		POOL_LOG(WARNING, "%s: a block of %zu bytes landed on node %d%s, not on socket %d: "
			"its mbufs cost remote memory accesses", tp->name, len,
			node == TIDE_NUMA_NODE_MIXED ? -1 : node,
			node == TIDE_NUMA_NODE_MIXED ? " (pages on several nodes)" : "", expected);
	}
	return node;
}

/* ---- a pool per socket ---- */

/*
 * The per-socket pools this process made and has not freed: a handle given to
 * tide_pool_per_socket_free() is found here before it is read, so a second free, or any
 * other pointer, is refused without reading freed memory or freeing pools made since at
 * the addresses its stale pointers hold. Only the primary makes them.
 */
struct ps_entry {
	TAILQ_ENTRY(ps_entry) next;
	const struct tide_pool_per_socket *ps;
};
static TAILQ_HEAD(, ps_entry) ps_made = TAILQ_HEAD_INITIALIZER(ps_made);
static pthread_mutex_t ps_made_lock = PTHREAD_MUTEX_INITIALIZER;

static void
ps_made_add(struct ps_entry *e, const struct tide_pool_per_socket *ps)
{
	e->ps = ps;
	pthread_mutex_lock(&ps_made_lock);
	TAILQ_INSERT_TAIL(&ps_made, e, next);
	pthread_mutex_unlock(&ps_made_lock);
}

/* Take @p ps out of the list; false if it is not there. */
static bool
ps_made_take(const struct tide_pool_per_socket *ps)
{
	struct ps_entry *e;

	pthread_mutex_lock(&ps_made_lock);
	TAILQ_FOREACH(e, &ps_made, next)
		if (e->ps == ps) {
			TAILQ_REMOVE(&ps_made, e, next);
			break;
		}
	pthread_mutex_unlock(&ps_made_lock);
	if (e == NULL)
		return false;
	free(e);
	return true;
}

/* Free the pools of @p ps and @p ps itself (a primary's). */
static void
per_socket_destroy(struct tide_pool_per_socket *ps)
{
	for (unsigned int k = 0; k < ps->nb_pools; k++)
		pool_free(ps->pools[k], true);
	rte_free(ps);
}

struct tide_pool_per_socket *
tide_pool_create_per_socket(const struct tide_pool_params *p)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct tide_pool_per_socket *ps;
	struct tide_pool_params cp;
	struct tide_numa_topo topo;
	struct ps_entry *e;
	int socks[TIDE_NUMA_MAX_NODES];
	uint32_t n, k;
	int err;

	err = pool_params_caller_check(p);
	if (err != 0) {
		/* Before anything is reserved: a secondary could not free it (see
		 * tide_pool_per_socket_free()).
		 */
		rte_errno = err;
		return NULL;
	}
	/* "_s<socket>": room for two digits. */
	if (strnlen(p->name, RTE_MEMPOOL_NAMESIZE) + 4 >= RTE_MEMPOOL_NAMESIZE) {
		POOL_LOG(ERR, "%s: name longer than %d chars", p->name,
			(int)RTE_MEMPOOL_NAMESIZE - 5);
		rte_errno = ENAMETOOLONG;
		return NULL;
	}
	pool_numa_topo(&topo);
	n = tide_numa_pool_sockets(&topo, socks, RTE_MIN(RTE_DIM(socks),
		(size_t)RTE_MAX_NUMA_NODES));
	e = n == 0 ? NULL : malloc(sizeof(*e));
	ps = e == NULL ? NULL : rte_zmalloc("tide_pool_per_socket", sizeof(*ps), 0);
	if (ps == NULL) {
		POOL_LOG(ERR, "%s: %s", p->name, n == 0 ? "no socket has hugepage memory" :
			"no memory");
		free(e);
		rte_errno = ENOMEM;
		return NULL;
	}
	for (k = 0; k < n; k++) {
		cp = *p;
		snprintf(name, sizeof(name), "%s_s%d", p->name, socks[k]);
		cp.name = name;
		cp.socket_id = socks[k];
		ps->pools[k] = tide_pool_create(&cp);
		if (ps->pools[k] == NULL) {
			err = rte_errno;
			POOL_LOG(ERR, "%s: cannot make the pool of socket %d: %s", p->name,
				socks[k], rte_strerror(err));
			per_socket_destroy(ps);
			free(e);
			rte_errno = err;
			return NULL;
		}
		pool_member_set(ps->pools[k], POOL_MEMBER_SOCKET);
		ps->socket[k] = socks[k];
		ps->nb_pools++;
	}
	for (int s = 0; s < RTE_MAX_NUMA_NODES && (uint32_t)s < topo.nb_nodes; s++) {
		int home = tide_numa_socket_for(&topo, socks, n, s, -1);

		for (k = 0; k < n; k++)
			if (socks[k] == home)
				ps->by_socket[s] = ps->pools[k];
	}
	ps->first = ps->pools[0];
	ps_made_add(e, ps);
	POOL_LOG(INFO, "%s: %u pool(s), one per socket with lcores or ports", p->name, n);
	return ps;
}

void
tide_pool_per_socket_free(struct tide_pool_per_socket *ps)
{
	char what[32];

	if (ps == NULL || pool_free_refused_in_callback("per-socket pools"))
		return;
	/* A secondary made none: it can tell a handle from anything else no better than by
	 * reading it, and refuses anyway.
	 */
	snprintf(what, sizeof(what), "%p", (void *)ps);
	if (pool_secondary_refuses_free("per-socket pools", what))
		return;
	if (!ps_made_take(ps)) {
		POOL_REFUSE(ERR, EINVAL, "%p: not per-socket pools of this process (freed "
			"already?): left alone", (void *)ps);
		return;
	}
	per_socket_destroy(ps);
}

struct rte_mempool *
tide_pool_for_port(const struct tide_pool_per_socket *ps, uint16_t port_id)
{
	int s;

	if (ps == NULL || !rte_eth_dev_is_valid_port(port_id)) {
		POOL_REFUSE(ERR, EINVAL, "%s, port %u", ps == NULL ? "ps is NULL" : "not a port",
			port_id);
		return NULL;
	}
	s = rte_eth_dev_socket_id(port_id);
	if (s < 0)
		s = (int)rte_socket_id();
	return tide_pool_for_socket(ps, s);
}
