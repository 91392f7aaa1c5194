/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TIDE_NUMA_POLICY_H
#define TIDE_NUMA_POLICY_H

/**
 * @file
 * Which NUMA socket's pool serves a port or an lcore, and whether a block's pages landed
 * where they should: decides, never acts (internal, not installed).
 *
 * The caller describes the machine (struct tide_numa_topo: which nodes have hugepage
 * memory, which have lcores or ports, their distances); the functions answer which
 * sockets need a pool of their own, which pool a device or lcore on a socket uses, and
 * the verdict on a block from the nodes its pages are on. No libnuma, EAL or clock calls:
 * tests describe one node, two, or a node without memory.
 *
 * A pool serves a socket that has lcores or ports and hugepage memory. A socket with
 * lcores or ports but no hugepage memory (a memory-less node) uses the nearest socket that
 * has a pool; a device whose socket is not known (SOCKET_ID_ANY: a virtual device) uses
 * the pool of the lcore that polls it, or the first pool.
 */

#include <stdbool.h>
#include <stdint.h>

/** Most NUMA nodes described (as DPDK 22.11's RTE_MAX_NUMA_NODES in Debian). */
#define TIDE_NUMA_MAX_NODES 32

/** The machine, as the choice sees it. */
struct tide_numa_topo {
	uint32_t nb_nodes;                   /**< nodes 0..nb_nodes-1 are described */
	bool has_mem[TIDE_NUMA_MAX_NODES];   /**< hugepage memory can be reserved there */
	bool has_lcore[TIDE_NUMA_MAX_NODES]; /**< an lcore of the application runs there */
	bool has_port[TIDE_NUMA_MAX_NODES];  /**< a port's device is attached there */
	/** numa_distance() between nodes (10 local, larger farther); 0: not known */
	uint8_t distance[TIDE_NUMA_MAX_NODES][TIDE_NUMA_MAX_NODES];
};

/**
 * The sockets that get a pool of their own, ascending: those with lcores or ports and
 * hugepage memory, plus, for a socket with lcores or ports but no memory, the nearest
 * socket with memory; at least one socket with memory when any has.
 *
 * @return
 *   How many were written to @p out (at most @p max); 0 if no node has memory.
 */
uint32_t tide_numa_pool_sockets(const struct tide_numa_topo *t, int *out, uint32_t max);

/**
 * The socket whose pool serves a device or lcore on @p socket, given the sockets that
 * have pools (@p pools, @p nb_pools, as tide_numa_pool_sockets() gave them): its own if
 * it has one, else the nearest (by distance; the lowest id among equals or when distances
 * are not known); for @p socket < 0 (not known) or out of range, @p fallback's pool by
 * the same rule, and for a @p fallback < 0 too, the first pool.
 *
 * @return
 *   A socket from @p pools, or -1 if @p nb_pools is 0.
 */
int tide_numa_socket_for(const struct tide_numa_topo *t, const int *pools, uint32_t nb_pools,
	int socket, int fallback);

/** Verdict on a block's pages. */
enum tide_numa_verdict {
	TIDE_NUMA_ON_NODE,    /**< every page on the expected node (or no node expected) */
	TIDE_NUMA_OFF_NODE,   /**< at least one page on another node */
	TIDE_NUMA_UNKNOWN,    /**< a page's node could not be read */
};

/** Block node: its pages are on several nodes. */
#define TIDE_NUMA_NODE_MIXED (-2)

/**
 * Judge a block from the node of each of its pages (as move_pages(2) reports them with
 * nodes = NULL: a node id, or a negative errno).
 *
 * @param status
 *   @p n entries.
 * @param expected
 *   The node the block was reserved on, or < 0 for none.
 * @param node
 *   Set to the block's node: the node all its pages are on, TIDE_NUMA_NODE_MIXED, or -1
 *   when one could not be read (or @p n is 0).
 */
enum tide_numa_verdict tide_numa_block_verdict(const int *status, uint32_t n, int expected,
	int *node);

#endif /* TIDE_NUMA_POLICY_H */
