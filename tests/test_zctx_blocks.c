/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The send agent follows the blocks of tide mempools through block events
 * (lib/zctx/zctx_blocks.c): a payload in a block holds the block until its completion (a
 * removal meanwhile is vetoed, and succeeds once the send completed), in DPDK's heap and
 * in external memory, a payload is cut where a block starts, and following starts with the
 * first instance and ends with the last.
 */

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_common.h"
#include "test_mempool_util.h"
#include "test_pool_util.h"
#include "test_zctx_util.h"
#include "tide_mempool.h"
#include "tide_zctx.h"

#define OBJ_SIZE 2048
#define BLOCK_LEN (2u << 20)
#define PAYLOAD 1400

static struct tide_zctx_cache_stats
cstats(void)
{
	struct tide_zctx_cache_stats cs;

	CU_ASSERT_EQUAL(tide_zctx_cache_stats_get(&cs), 0);
	return cs;
}

/* Send @p len bytes at @p buf zero-copy and take the packet off the wire, unfreed: the
 * send stays in flight until the packet is freed.
 */
static struct rte_mbuf *
send_and_hold(struct tide_zctx *z, struct ring_port *rp, const void *buf, size_t len)
{
	struct rte_mbuf *pkt;

	CU_ASSERT_EQUAL_FATAL(send_one(z, rp->port, 1, buf, len), 0);
	while (ring_drain(rp, &pkt, 1) == 0)
		;
	CU_ASSERT(pkt_is(pkt, buf, (uint32_t)len));
	return pkt;
}

static void
complete(struct tide_zctx *z, struct rte_mbuf *pkt)
{
	struct tide_zctx_cpl cpl;

	rte_pktmbuf_free(pkt);
	CU_ASSERT_EQUAL(poll_n(z, &cpl, 1), 1);
	CU_ASSERT_EQUAL(cpl.status, 0);
}

static void
test_a_send_in_flight_holds_its_block(void)
{
	struct tide_zctx_cache_stats c0, c;
	struct rte_mempool *mp;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	void *obj;
	int64_t id;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zb_hold", 1024) == 0);
	z = zctx_make("zbhold", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	c0 = cstats();
	mp = raw_tide_pool("zb_hold", 1u << 16, OBJ_SIZE, 0);
	id = raw_add_mz_block(mp, BLOCK_LEN, NULL);
	CU_ASSERT_FATAL(id > 0);
	c = cstats();
	CU_ASSERT_EQUAL(c.blocks, c0.blocks + 1);

	CU_ASSERT_FATAL(rte_mempool_get(mp, &obj) == 0);
	memset(obj, 0x33, PAYLOAD);
	pkt = send_and_hold(z, &rp, obj, PAYLOAD);
	CU_ASSERT_EQUAL(rte_pktmbuf_iova(pkt->next), rte_mem_virt2iova(obj));
	c = cstats();
	CU_ASSERT_EQUAL(c.block_holds, c0.block_holds + 1);
	CU_ASSERT_EQUAL(c.blocks_in_use, c0.blocks_in_use + 1);

	/* The object goes back before the completion (against the contract): every object
	 * of the block is free, yet the NIC may still read it. The removal is vetoed. */
	rte_mempool_put(mp, obj);
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	c = cstats();
	CU_ASSERT_EQUAL(c.block_vetoes, c0.block_vetoes + 1);
	CU_ASSERT(pkt_is(pkt, obj, PAYLOAD)); /* the memory is still the block's */

	complete(z, pkt);
	c = cstats();
	CU_ASSERT_EQUAL(c.blocks_in_use, c0.blocks_in_use);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), 0);
	c = cstats();
	CU_ASSERT_EQUAL(c.blocks, c0.blocks);

	/* A block added while the instance exists, then the mempool freed with it. */
	CU_ASSERT_FATAL(raw_add_mz_block(mp, BLOCK_LEN, NULL) > 0);
	CU_ASSERT_EQUAL(cstats().blocks, c0.blocks + 1);
	rte_mempool_free(mp);
	CU_ASSERT_EQUAL(cstats().blocks, c0.blocks);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

/* ---- External memory: a 2 MB window of anonymous memory registered with DPDK. */

#define EXT_PAGES (BLOCK_LEN / 4096)
#define EXT_IOVA_BASE 0x7e0000000000ull

struct ext_mem {
	uint8_t *map;           /* the mmap()ed region (twice the length, to align) */
	uint8_t *addr;          /* 2 MB aligned */
	rte_iova_t iova[EXT_PAGES];
	bool freed;
};

/* Register 2 MB with DPDK, page i at IO address EXT_IOVA_BASE + i pages (what a driver
 * of such memory would have found). */
static int
ext_open(struct ext_mem *e)
{
	memset(e, 0, sizeof(*e));
	e->map = mmap(NULL, 2 * BLOCK_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		-1, 0);
	if (e->map == MAP_FAILED)
		return -1;
	e->addr = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)e->map, BLOCK_LEN);
	memset(e->addr, 0, BLOCK_LEN); /* present */
	for (unsigned int i = 0; i < EXT_PAGES; i++)
		e->iova[i] = EXT_IOVA_BASE + (rte_iova_t)i * 4096;
	return rte_extmem_register(e->addr, BLOCK_LEN, e->iova, EXT_PAGES, 4096);
}

static void
ext_free_cb(struct rte_mempool_memhdr *mh __rte_unused, void *opaque)
{
	struct ext_mem *e = opaque;

	rte_extmem_unregister(e->addr, BLOCK_LEN);
	munmap(e->map, 2 * BLOCK_LEN);
	e->freed = true;
}

/*
 * External memory (as a donor's or a block source's): 2 MB registered with DPDK, its
 * second half a block. A payload in the block is sent from the block's IO addresses; one
 * that starts before the block and runs into it is cut at the block's start, and its part
 * in the block holds the block.
 */
static void
test_a_payload_running_into_an_external_block_holds_it(void)
{
	const size_t half = BLOCK_LEN / 2;
	struct tide_zctx_cache_stats c0, c;
	struct rte_mbuf *pkt;
	struct ring_port rp;
	struct tide_zctx *z;
	struct rte_mempool *mp;
	struct ext_mem e;
	uint8_t *blk, *p;
	int64_t id;
	void *obj;

	CU_ASSERT_FATAL(ring_port_open(&rp, "zb_ext", 1024) == 0);
	z = zctx_make("zbext", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	c0 = cstats();
	mp = raw_tide_pool("zb_ext", 1u << 16, OBJ_SIZE, 0);
	CU_ASSERT_FATAL(ext_open(&e) == 0);
	blk = e.addr + half;
	id = tide_mempool_block_add(mp, blk, half, NULL, NULL, ext_free_cb, &e);
	CU_ASSERT_FATAL(id > 0);
	CU_ASSERT_EQUAL(cstats().blocks, c0.blocks + 1);

	/* An object of the block: the packet carries its IO address in the block. */
	CU_ASSERT_FATAL(rte_mempool_get(mp, &obj) == 0);
	memset(obj, 0x44, PAYLOAD);
	pkt = send_and_hold(z, &rp, obj, PAYLOAD);
	CU_ASSERT_EQUAL(rte_pktmbuf_iova(pkt->next),
		EXT_IOVA_BASE + (rte_iova_t)((uint8_t *)obj - e.addr));
	complete(z, pkt);
	rte_mempool_put(mp, obj);

	/* From 700 bytes before the block into it (the block's own first bytes, read
	 * only): two pieces, the second holds the block. */
	p = blk - 700;
	memset(p, 0x55, 700);
	pkt = send_and_hold(z, &rp, p, PAYLOAD);
	c = cstats();
	CU_ASSERT_EQUAL(c.block_holds, c0.block_holds + 2);
	CU_ASSERT_EQUAL(c.blocks_in_use, c0.blocks_in_use + 1);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), -EAGAIN);
	CU_ASSERT(!e.freed);
	complete(z, pkt);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id, 0), 0);
	CU_ASSERT(e.freed);
	CU_ASSERT_EQUAL(cstats().blocks, c0.blocks);
	rte_mempool_free(mp);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	ring_port_close(&rp);
}

static void
test_following_lasts_as_long_as_an_instance(void)
{
	struct rte_mempool *mp = raw_tide_pool("zb_life", 1u << 16, OBJ_SIZE, 0);
	struct ring_port rp;
	struct tide_zctx *z;

	CU_ASSERT_FATAL(raw_add_mz_block(mp, BLOCK_LEN, NULL) > 0);
	CU_ASSERT_EQUAL(cstats().blocks, 0); /* no instance: nothing followed */
	CU_ASSERT_FATAL(ring_port_open(&rp, "zb_life", 1024) == 0);
	z = zctx_make("zblife", rp.port, 0, 0, 8);
	CU_ASSERT_FATAL(z != NULL);
	/* The block that existed is replayed (with the instance's own pool's). */
	CU_ASSERT(cstats().blocks >= 1);
	CU_ASSERT_EQUAL(tide_zctx_free(z), 0);
	CU_ASSERT_EQUAL(cstats().blocks, 0);
	ring_port_close(&rp);
	rte_mempool_free(mp);
}

static int
register_tests(void)
{
	CU_pSuite s = CU_add_suite("zctx_blocks", zctx_suite_init, zctx_suite_fini);

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_send_in_flight_holds_its_block);
	CU_ADD_TEST(s, test_a_payload_running_into_an_external_block_holds_it);
	CU_ADD_TEST(s, test_following_lasts_as_long_as_an_instance);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "zctx_blocks", true, register_tests);
}
