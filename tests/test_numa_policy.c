/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The NUMA socket choice and the verdict on a block's pages, without EAL or libnuma: the
 * machine is described by hand, one node or two (a second node faked), a node without
 * memory, distances.
 */

#include <errno.h>
#include <string.h>

#include "numa_policy.h"
#include "test_common.h"

/* @nodes nodes, each with memory; distances 10 local, 20 remote. */
static struct tide_numa_topo
topo(uint32_t nodes)
{
	struct tide_numa_topo t;

	memset(&t, 0, sizeof(t));
	t.nb_nodes = nodes;
	for (uint32_t a = 0; a < nodes; a++) {
		t.has_mem[a] = true;
		for (uint32_t b = 0; b < nodes; b++)
			t.distance[a][b] = a == b ? 10 : 20;
	}
	return t;
}

static void
test_one_node_one_pool(void)
{
	struct tide_numa_topo t = topo(1);
	int s[4];

	t.has_lcore[0] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 1);
	CU_ASSERT_EQUAL(s[0], 0);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 1, 0, -1), 0);
	/* A virtual device (socket not known), polled from node 0 or from nowhere known. */
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 1, -1, 0), 0);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 1, -1, -1), 0);
	/* A socket that does not exist: the first pool. */
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 1, 5, -1), 0);
}

static void
test_two_nodes_with_lcores_and_ports_get_a_pool_each(void)
{
	struct tide_numa_topo t = topo(2);
	int s[4];

	t.has_lcore[0] = t.has_lcore[1] = true;
	t.has_port[1] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 2);
	CU_ASSERT_EQUAL(s[0], 0);
	CU_ASSERT_EQUAL(s[1], 1);
	/* Each port and lcore to its own node's pool. */
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, 1, -1), 1);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, 0, -1), 0);
	/* A virtual device polled by an lcore of node 1: node 1's pool. */
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, -1, 1), 1);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, -1, -1), 0);
}

static void
test_a_node_with_only_a_port_gets_a_pool(void)
{
	struct tide_numa_topo t = topo(2);
	int s[4];

	/* All lcores on node 0, the NIC on node 1: its RX ring fills from node 1's memory. */
	t.has_lcore[0] = true;
	t.has_port[1] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 2);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, 1, 0), 1);
}

static void
test_a_node_without_lcores_or_ports_gets_no_pool(void)
{
	struct tide_numa_topo t = topo(2);
	int s[4];

	t.has_lcore[1] = true;
	t.has_port[1] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 1);
	CU_ASSERT_EQUAL(s[0], 1);
	/* Something on node 0 after all (a port probed later): node 1's pool, the only one. */
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 1, 0, -1), 1);
}

static void
test_a_node_without_memory_uses_the_nearest(void)
{
	struct tide_numa_topo t = topo(3);
	int s[4];

	/* Node 1 has lcores and a port but no hugepages; node 2 is nearer to it than 0. */
	t.has_mem[1] = false;
	t.has_lcore[1] = true;
	t.has_port[1] = true;
	t.distance[1][0] = 30;
	t.distance[1][2] = 15;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 1);
	CU_ASSERT_EQUAL(s[0], 2);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 1, 1, -1), 2);
	/* With node 0 in use too: node 1 still goes to the nearer node 2, which has a pool. */
	t.has_lcore[0] = true;
	t.has_lcore[2] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 2);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, 1, -1), 2);
	/* Distances not known: the lowest id among the pools. */
	memset(t.distance, 0, sizeof(t.distance));
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 2, 1, -1), 0);
}

static void
test_nothing_placed_or_no_memory(void)
{
	struct tide_numa_topo t = topo(2);
	int s[4];

	/* No lcore or port known: one pool, on the first node with memory. */
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 1);
	CU_ASSERT_EQUAL(s[0], 0);
	t.has_mem[0] = false;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 1);
	CU_ASSERT_EQUAL(s[0], 1);
	/* No memory anywhere: no pool, no answer. */
	t.has_mem[1] = false;
	t.has_lcore[0] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 4), 0);
	CU_ASSERT_EQUAL(tide_numa_socket_for(&t, s, 0, 0, -1), -1);
	/* The output is bounded. */
	t = topo(2);
	t.has_lcore[0] = t.has_lcore[1] = true;
	CU_ASSERT_EQUAL(tide_numa_pool_sockets(&t, s, 1), 1);
}

static void
test_block_verdicts(void)
{
	int on0[3] = { 0, 0, 0 }, mixed[3] = { 0, 1, 0 }, all1[2] = { 1, 1 };
	int unread[2] = { 0, -ENOENT };
	int node;

	CU_ASSERT_EQUAL(tide_numa_block_verdict(on0, 3, 0, &node), TIDE_NUMA_ON_NODE);
	CU_ASSERT_EQUAL(node, 0);
	CU_ASSERT_EQUAL(tide_numa_block_verdict(mixed, 3, 0, &node), TIDE_NUMA_OFF_NODE);
	CU_ASSERT_EQUAL(node, TIDE_NUMA_NODE_MIXED);
	CU_ASSERT_EQUAL(tide_numa_block_verdict(all1, 2, 0, &node), TIDE_NUMA_OFF_NODE);
	CU_ASSERT_EQUAL(node, 1);
	/* No node expected (SOCKET_ID_ANY): recorded, never off. */
	CU_ASSERT_EQUAL(tide_numa_block_verdict(all1, 2, -1, &node), TIDE_NUMA_ON_NODE);
	CU_ASSERT_EQUAL(node, 1);
	CU_ASSERT_EQUAL(tide_numa_block_verdict(mixed, 3, -1, &node), TIDE_NUMA_ON_NODE);
	CU_ASSERT_EQUAL(node, TIDE_NUMA_NODE_MIXED);
	CU_ASSERT_EQUAL(tide_numa_block_verdict(unread, 2, 0, &node), TIDE_NUMA_UNKNOWN);
	CU_ASSERT_EQUAL(node, -1);
	CU_ASSERT_EQUAL(tide_numa_block_verdict(on0, 0, 0, &node), TIDE_NUMA_UNKNOWN);
	CU_ASSERT_EQUAL(node, -1);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("numa_policy");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_one_node_one_pool);
	CU_ADD_TEST(s, test_two_nodes_with_lcores_and_ports_get_a_pool_each);
	CU_ADD_TEST(s, test_a_node_with_only_a_port_gets_a_pool);
	CU_ADD_TEST(s, test_a_node_without_lcores_or_ports_gets_no_pool);
	CU_ADD_TEST(s, test_a_node_without_memory_uses_the_nearest);
	CU_ADD_TEST(s, test_nothing_placed_or_no_memory);
	CU_ADD_TEST(s, test_block_verdicts);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "numa_policy", false, register_tests);
}
