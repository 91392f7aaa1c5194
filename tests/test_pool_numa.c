/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * NUMA under EAL on this machine (one node): blocks reserved on the pool's socket and their
 * pages read back on it, reported per block; nodes that do not exist refused; one pool per
 * socket with lcores or ports, each port's and lcore's pool found by socket, an RX queue
 * fed from its node's pool; a block that lands on another node counted and logged (fault
 * injection fakes the node read back).
 */

#include <numa.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_fault.h"
#include "tide_pool.h"

static void
test_blocks_are_reserved_and_read_back_on_the_pool_socket(void)
{
	struct tide_pool_block blk[8];
	struct tide_pool_params p;
	struct rte_mempool *mp, *any;
	char *out;
	int n;

	pool_params(&p, "tn_node0", 2 * MB, 4 * MB, 64 * MB, 0);
	p.socket_id = 0;
	mp = make_pool_p(&p);
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 2), 2);
	n = tide_pool_block_list(mp, blk, RTE_DIM(blk));
	CU_ASSERT_EQUAL_FATAL(n, 3);
	for (int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(blk[i].node, 0);
		CU_ASSERT_FALSE(blk[i].off_node);
		CU_ASSERT_EQUAL(blk[i].bytes, i == 0 ? 2 * MB : 4 * MB);
		CU_ASSERT(i == 0 || blk[i].id > blk[i - 1].id);
	}
	CU_ASSERT_EQUAL(pstats(mp).node_misses, 0);
	/* Fewer entries than blocks: the count still says how many there are. */
	CU_ASSERT_EQUAL(tide_pool_block_list(mp, blk, 1), 3);
	CU_ASSERT_EQUAL(tide_pool_block_list(mp, NULL, 0), 3);
	CU_ASSERT_EQUAL(tide_pool_block_list(mp, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_block_list(NULL, blk, 1), -EINVAL);
	out = telemetry_query("/tide/pool/info,tn_node0");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"node\":0,\"off_node\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"node_misses\":0"));
	free(out);
	/* Any socket: the node is recorded, never a miss. */
	pool_params(&p, "tn_any", 2 * MB, 2 * MB, 16 * MB, 0);
	any = make_pool_p(&p);
	CU_ASSERT_EQUAL(tide_pool_block_list(any, blk, RTE_DIM(blk)), 1);
	CU_ASSERT_EQUAL(blk[0].node, 0);
	CU_ASSERT_FALSE(blk[0].off_node);
	tide_pool_free(any);
	tide_pool_free(mp);
}

static void *
create_pool(const void *p)
{
	return tide_pool_create(p);
}

static void
test_a_node_that_does_not_exist_is_refused(void)
{
	struct tide_pool_params p;
	int beyond = numa_available() < 0 ? 1 : numa_max_node() + 1;

	printf("\n    %u socket(s) in DPDK, numa_max_node() %d ", rte_socket_count(),
		numa_available() < 0 ? 0 : numa_max_node());
	pool_params(&p, "tn_none", 2 * MB, 2 * MB, 16 * MB, 0);
	p.socket_id = beyond;
	expect_refused(create_pool, &p, EINVAL, "the node past numa_max_node()");
	p.socket_id = (int)rte_socket_count();
	expect_refused(create_pool, &p, EINVAL, "the socket past rte_socket_count()");
	p.socket_id = RTE_MAX_NUMA_NODES;
	expect_refused(create_pool, &p, EINVAL, "RTE_MAX_NUMA_NODES");
	p.socket_id = -5;
	expect_refused(create_pool, &p, EINVAL, "a negative socket");
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tn_none"));
}

static void *
create_per_socket(const void *p)
{
	return tide_pool_create_per_socket(p);
}

/*
 * One pool per socket that has lcores or ports (here socket 0), each port's RX queue fed
 * from the pool of its port's socket (a net_null vdev: its socket is not known, so the
 * calling lcore's), every lcore's pool its socket's.
 */
static void
test_one_pool_per_socket_with_lcores_or_ports(void)
{
	struct rte_eth_conf conf = { 0 };
	struct tide_pool_per_socket *ps;
	struct tide_pool_params p;
	struct rte_mbuf *m[32];
	uint16_t port;
	unsigned int lc;

	CU_ASSERT_EQUAL_FATAL(rte_vdev_init("net_null_numa", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_get_port_by_name("net_null_numa", &port), 0);
	pool_params(&p, "tn_ps", 2 * MB, 2 * MB, 32 * MB, 64);
	ps = tide_pool_create_per_socket(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
	CU_ASSERT_EQUAL(ps->nb_pools, 1);
	CU_ASSERT_EQUAL(ps->socket[0], 0);
	CU_ASSERT_STRING_EQUAL(ps->pools[0]->name, "tn_ps_s0");
	CU_ASSERT_EQUAL(ps->pools[0]->socket_id, 0);
	CU_ASSERT_TRUE(tide_pool_is_elastic(ps->pools[0]));
	CU_ASSERT_PTR_EQUAL(ps->first, ps->pools[0]);
	CU_ASSERT_PTR_EQUAL(ps->by_socket[0], ps->pools[0]);
	CU_ASSERT_PTR_EQUAL(tide_pool_for_socket(ps, 0), ps->pools[0]);
	CU_ASSERT_PTR_EQUAL(tide_pool_for_socket(ps, SOCKET_ID_ANY), ps->pools[0]);
	CU_ASSERT_PTR_EQUAL(tide_pool_for_socket(ps, RTE_MAX_NUMA_NODES), ps->pools[0]);
	RTE_LCORE_FOREACH(lc)
		CU_ASSERT_PTR_EQUAL(tide_pool_for_lcore(ps, lc), ps->pools[0]);
	/* A thread that is not an EAL lcore (rte_lcore_id() is LCORE_ID_ANY): the first pool. */
	CU_ASSERT_PTR_EQUAL(tide_pool_for_lcore(ps, LCORE_ID_ANY), ps->first);
	CU_ASSERT_PTR_EQUAL(tide_pool_for_lcore(ps, RTE_MAX_LCORE), ps->first);
	CU_ASSERT_PTR_EQUAL(tide_pool_for_port(ps, port), ps->pools[0]);
	CU_ASSERT_PTR_NULL(tide_pool_for_port(ps, RTE_MAX_ETHPORTS - 1));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tide_pool_for_port(NULL, port));

	/* The port's RX queue takes its mbufs from its socket's pool. */
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_rx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port),
		NULL, tide_pool_for_port(ps, port)), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_tx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port),
		NULL), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_start(port), 0);
	CU_ASSERT_EQUAL(rte_eth_rx_burst(port, 0, m, RTE_DIM(m)), RTE_DIM(m));
	CU_ASSERT_PTR_EQUAL(m[0]->pool, ps->pools[0]);
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_vdev_uninit("net_null_numa");
	/* A socket's pool is theirs: freed alone, tide_pool_for_lcore() would give a freed one. */
	rte_errno = 0;
	tide_pool_free(ps->pools[0]);
	CU_ASSERT_EQUAL(rte_errno, EBUSY);
	CU_ASSERT_TRUE(tide_pool_is_elastic(ps->pools[0]));
	m[0] = rte_pktmbuf_alloc(tide_pool_for_lcore(ps, rte_lcore_id()));
	CU_ASSERT_PTR_NOT_NULL(m[0]);
	rte_pktmbuf_free(m[0]);
	tide_pool_per_socket_free(ps);
	tide_pool_per_socket_free(NULL);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tn_ps_s0"));

	expect_refused(create_per_socket, NULL, EINVAL, "NULL");
	tide_pool_params_init(&p, "a_name_too_long_for_s0_xx");
	expect_refused(create_per_socket, &p, ENAMETOOLONG, "long name");
}

/*
 * Per-socket pools freed twice: the second free is refused (EINVAL, logged) without reading
 * the freed handle, and a pool made in between, made as the socket's pool was so that
 * DPDK's heap may well give it that pool's memory (the handle's stale pointer would then
 * name it), survives. Any other pointer is refused alike.
 */
static void
test_per_socket_pools_freed_twice_are_refused_the_second_time(void)
{
	struct tide_pool_per_socket *ps;
	struct tide_pool_params p;
	struct rte_mempool *old, *mp;

	pool_params(&p, "tn_twice", 2 * MB, 2 * MB, 8 * MB, 0);
	ps = tide_pool_create_per_socket(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
	old = ps->pools[0];
	tide_pool_per_socket_free(ps);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tn_twice_s0"));
	pool_params(&p, "tn_after_s0", 2 * MB, 2 * MB, 8 * MB, 0);
	p.socket_id = 0;
	mp = make_pool_p(&p);
	if (mp != old)
		printf("(the new pool is not where the socket's was) ");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_per_socket_free(ps), EINVAL,
		"tide_pool_per_socket_free");
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup("tn_after_s0"), mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	tide_pool_free(mp);
	TIDE_TEST_REFUSED_LOGGED(tide_pool_per_socket_free((struct tide_pool_per_socket *)&p),
		EINVAL, "tide_pool_per_socket_free");
}

#ifdef TIDE_FAULT_INJECTION
/* A block whose pages are read back on another node: counted, logged, reported. */
static void
test_a_block_on_another_node_is_counted_and_logged(void)
{
	struct tide_pool_block blk[4];
	struct tide_pool_params p;
	struct rte_mempool *mp;
	char *log, *out;

	pool_params(&p, "tn_miss", 2 * MB, 2 * MB, 16 * MB, 0);
	p.socket_id = 0;
	mp = make_pool_p(&p);
	tide_fault_pvt_arm(TIDE_FAULT_NUMA, 0, 1);
	tide_test_log_begin();
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 1), 1);
	log = tide_test_log_end();
	tide_fault_pvt_arm(TIDE_FAULT_NUMA, 0, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "landed on node 1, not on socket 0"));
	CU_ASSERT_EQUAL(pstats(mp).node_misses, 1);
	CU_ASSERT_EQUAL(tide_pool_block_list(mp, blk, RTE_DIM(blk)), 2);
	CU_ASSERT_EQUAL(blk[0].node, 0);
	CU_ASSERT_FALSE(blk[0].off_node);
	CU_ASSERT_EQUAL(blk[1].node, 1);
	CU_ASSERT_TRUE(blk[1].off_node);
	out = telemetry_query("/tide/pool/info,tn_miss");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"node\":1,\"off_node\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"node_misses\":1"));
	free(out);
	/* The next block is where it belongs again; the pool serves from both. */
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 1), 1);
	CU_ASSERT_EQUAL(pstats(mp).node_misses, 1);
	free(log);
	tide_pool_free(mp);
}

/*
 * A node without hugepages (its memseg lists exist all the same: DPDK makes them for every
 * socket and page size): a pool there is refused at its creation, EINVAL and logged, not
 * made to fail at its first block; per-socket pools give no socket its own pool then, and
 * with no socket left that has hugepages, ENOMEM. A pool on any socket is made as before.
 */
static void
test_a_socket_whose_node_has_no_hugepages_gets_no_pool(void)
{
	struct tide_pool_params p;
	struct rte_mempool *any;
	char *log;

	pool_params(&p, "tn_nopages", 2 * MB, 2 * MB, 16 * MB, 0);
	p.socket_id = 0;
	tide_fault_pvt_arm(TIDE_FAULT_NODE_PAGES, 0, UINT32_MAX);
	expect_refused(create_pool, &p, EINVAL, "a node without hugepages");
	tide_test_log_begin();
	CU_ASSERT_PTR_NULL(tide_pool_create(&p));
	log = tide_test_log_end();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "tn_nopages: socket 0 has no hugepages"));
	free(log);
	expect_refused(create_per_socket, &p, ENOMEM, "no node with hugepages");
	p.socket_id = SOCKET_ID_ANY;
	any = tide_pool_create(&p);
	tide_fault_pvt_arm(TIDE_FAULT_NODE_PAGES, 0, 0);
	CU_ASSERT_PTR_NOT_NULL(any);
	tide_pool_free(any);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tn_nopages"));
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tn_nopages_s0"));
}
#endif

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_numa");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_blocks_are_reserved_and_read_back_on_the_pool_socket);
	CU_ADD_TEST(s, test_a_node_that_does_not_exist_is_refused);
	CU_ADD_TEST(s, test_one_pool_per_socket_with_lcores_or_ports);
	CU_ADD_TEST(s, test_per_socket_pools_freed_twice_are_refused_the_second_time);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_block_on_another_node_is_counted_and_logged);
	CU_ADD_TEST(s, test_a_socket_whose_node_has_no_hugepages_gets_no_pool);
#endif
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_numa", true, register_tests);
}
