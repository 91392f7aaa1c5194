/* SPDX-License-Identifier: BSD-3-Clause */
#include "numa_policy.h"

static bool
numa_needs_pool(const struct tide_numa_topo *t, uint32_t s)
{
	return t->has_lcore[s] || t->has_port[s];
}

/* The socket with memory nearest to @s (itself if it has memory), or -1. */
static int
numa_nearest_mem(const struct tide_numa_topo *t, uint32_t s)
{
	int best = -1;
	unsigned int best_d = UINT32_MAX;

	if (s < t->nb_nodes && t->has_mem[s])
		return (int)s;
	for (uint32_t m = 0; m < t->nb_nodes; m++) {
		unsigned int d = s < t->nb_nodes && t->distance[s][m] != 0 ?
			t->distance[s][m] : UINT32_MAX - 1;

		if (t->has_mem[m] && d < best_d) {
			best = (int)m;
			best_d = d;
		}
	}
	return best;
}

uint32_t
tide_numa_pool_sockets(const struct tide_numa_topo *t, int *out, uint32_t max)
{
	bool pool[TIDE_NUMA_MAX_NODES] = { false };
	uint32_t nodes = t->nb_nodes < TIDE_NUMA_MAX_NODES ? t->nb_nodes : TIDE_NUMA_MAX_NODES;
	uint32_t n = 0, s;
	bool any = false;
	int m;

	for (s = 0; s < nodes; s++) {
		if (!numa_needs_pool(t, s))
			continue;
		m = numa_nearest_mem(t, s);
		if (m >= 0)
			pool[m] = any = true;
	}
	if (!any) {
		/* Nothing placed (no lcore, no port known): one pool, on the first memory. */
		m = numa_nearest_mem(t, 0);
		if (m < 0)
			return 0;
		pool[m] = true;
	}
	for (s = 0; s < nodes && n < max; s++)
		if (pool[s])
			out[n++] = (int)s;
	return n;
}

static bool
numa_in(const int *pools, uint32_t nb, int s)
{
	for (uint32_t i = 0; i < nb; i++)
		if (pools[i] == s)
			return true;
	return false;
}

/* The pool socket nearest to @s (a valid node), lowest id among equals. */
static int
numa_nearest_pool(const struct tide_numa_topo *t, const int *pools, uint32_t nb, int s)
{
	int best = pools[0];
	unsigned int best_d = UINT32_MAX;

	if (numa_in(pools, nb, s))
		return s;
	for (uint32_t i = 0; i < nb; i++) {
		int p = pools[i];
		unsigned int d = p >= 0 && (uint32_t)p < t->nb_nodes && t->distance[s][p] != 0 ?
			t->distance[s][p] : UINT32_MAX - 1;

		if (d < best_d || (d == best_d && p < best)) {
			best = p;
			best_d = d;
		}
	}
	return best;
}

int
tide_numa_socket_for(const struct tide_numa_topo *t, const int *pools, uint32_t nb_pools,
	int socket, int fallback)
{
	if (nb_pools == 0)
		return -1;
	if (socket >= 0 && (uint32_t)socket < t->nb_nodes && socket < TIDE_NUMA_MAX_NODES)
		return numa_nearest_pool(t, pools, nb_pools, socket);
	if (fallback >= 0 && (uint32_t)fallback < t->nb_nodes && fallback < TIDE_NUMA_MAX_NODES)
		return numa_nearest_pool(t, pools, nb_pools, fallback);
	return pools[0];
}

enum tide_numa_verdict
tide_numa_block_verdict(const int *status, uint32_t n, int expected, int *node)
{
	enum tide_numa_verdict v = TIDE_NUMA_ON_NODE;

	*node = -1;
	if (n == 0)
		return TIDE_NUMA_UNKNOWN;
	for (uint32_t i = 0; i < n; i++) {
		if (status[i] < 0) {
			*node = -1;
			return TIDE_NUMA_UNKNOWN;
		}
		if (i == 0)
			*node = status[0];
		else if (status[i] != *node)
			*node = TIDE_NUMA_NODE_MIXED;
		if (expected >= 0 && status[i] != expected)
			v = TIDE_NUMA_OFF_NODE;
	}
	return v;
}
