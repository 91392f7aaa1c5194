/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Elastic pools under EAL: hugepages taken at creation and per block, growth block by
 * block, oldest-first allocation, the wall, growth ahead of need, mbuf initialisation,
 * bad parameters, hugepage exhaustion, telemetry, and a stress with growth running.
 */

#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_pool.h"
#include "tide_shared_mz.h"


static void
test_create_takes_only_the_base_hugepages(void)
{
	long before = tide_test_hugepages_held(), after;
	struct rte_mempool *mp;
	struct tide_pool_stats st;

	mp = make_pool("tp_base", 8 * MB, 4 * MB, 256 * MB, 256, 0);
	after = tide_test_hugepages_held();
	st = pstats(mp);
	printf("\n    base 8 MB: hugepages held %ld -> %ld ", before, after);
	CU_ASSERT_EQUAL(st.nb_blocks, 1);
	CU_ASSERT_EQUAL(st.bytes, 8 * MB);
	/* 4 pages of base, plus at most the mempool header (per-lcore caches: ~1 MB). */
	CU_ASSERT(after - before >= 4);
	CU_ASSERT(after - before <= 4 + 2);
	CU_ASSERT(st.nb_objs > 0);
	CU_ASSERT_EQUAL(st.nb_free, st.nb_objs);
	tide_pool_free(mp);
	CU_ASSERT_EQUAL(tide_test_hugepages_held(), before);
}

static void
test_allocating_past_the_base_grows_block_by_block(void)
{
	long hp0 = tide_test_hugepages_held(), hp_base;
	struct rte_mempool *mp;
	struct tide_pool_stats st;
	struct rte_mbuf **m;
	unsigned int got = 0, k, per_block;

	/* Sync growth only: a low watermark of one object and no prediction. */
	struct tide_pool_params p;
	pool_params(&p, "tp_steps", 4 * MB, 4 * MB, 64 * MB, 0);
	p.low_watermark = 1;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	mp = tide_pool_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	hp_base = tide_test_hugepages_held();
	st = pstats(mp);
	per_block = st.nb_objs;
	m = calloc(per_block * 6, sizeof(*m));
	for (k = 1; k <= 5; k++) {
		/* Take what k blocks hold; the control thread may add block k+1 as they run
		 * dry, and the next allocation must add it if it has not.
		 */
		while (got < k * per_block)
			CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, &m[got++], 1), 0);
		st = pstats(mp);
		CU_ASSERT(st.nb_blocks == k || st.nb_blocks == k + 1);
		m[got] = rte_pktmbuf_alloc(mp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[got]);
		got++;
		st = pstats(mp);
		CU_ASSERT_EQUAL(st.nb_blocks, k + 1);
		CU_ASSERT_EQUAL(st.nb_objs, (k + 1) * per_block);
		CU_ASSERT_EQUAL(st.bytes, (k + 1) * 4 * MB);
		/* Each block took exactly its own two hugepages. */
		CU_ASSERT_EQUAL(tide_test_hugepages_held() - hp_base, (long)k * 2);
	}
	st = pstats(mp);
	printf("\n    %u mbufs per 4 MB block; %" PRIu64 " sync grows, %" PRIu64
		" ahead; hugepages held %ld -> %ld ", per_block, st.grows_sync, st.grows_ahead,
		hp0, tide_test_hugepages_held());
	CU_ASSERT_EQUAL(st.grows_sync + st.grows_ahead, 5);
	CU_ASSERT_EQUAL(st.nb_in_use, got);
	rte_pktmbuf_free_bulk(m, got);
	CU_ASSERT_EQUAL(pstats(mp).nb_free, pstats(mp).nb_objs);
	free(m);
	tide_pool_free(mp);
	CU_ASSERT_EQUAL(tide_test_hugepages_held(), hp0);
}

static void
test_allocation_prefers_the_oldest_block(void)
{
	struct rte_mempool *mp = make_pool("tp_oldest", 2 * MB, 2 * MB, 64 * MB, 0,
		TIDE_POOL_F_NO_PREDICT);
	struct tide_mempool_block_info base;
	struct rte_mbuf **m;
	unsigned int i, n;

	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 3), 3);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 0, &base), 0);
	n = base.nb_objs;
	m = calloc(n * 2, sizeof(*m));
	/* Scatter: take from all blocks, free in random order, then take the base's worth. */
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n * 2), 0);
	for (i = 0; i < n * 2; i++) {
		unsigned int j = rte_rand_max(n * 2);
		struct rte_mbuf *t = m[i];

		m[i] = m[j];
		m[j] = t;
	}
	rte_pktmbuf_free_bulk(m, n * 2);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_TRUE(in_block(mp, 0, m[i]));
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	tide_pool_free(mp);
}

static void
test_the_wall_stops_growth_and_the_pool_keeps_serving(void)
{
	struct rte_mempool *mp = make_pool("tp_wall", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	struct tide_pool_stats st;
	struct rte_mbuf **m, *extra;
	unsigned int got = 0, cap = 8192;
	const char *line;
	char *log;

	m = calloc(cap, sizeof(*m));
	tide_test_log_begin();
	while (got < cap && (m[got] = rte_pktmbuf_alloc(mp)) != NULL)
		got++;
	for (int i = 0; i < 100; i++)
		CU_ASSERT_PTR_NULL(rte_pktmbuf_alloc(mp));
	log = tide_test_log_end();
	/* Said in the log, once a second at most. */
	line = strstr(log, "tp_wall: at its wall");
	CU_ASSERT_PTR_NOT_NULL(line);
	if (line != NULL && strstr(line + 1, "tp_wall: at its wall") != NULL)
		CU_ASSERT_PTR_NULL(strstr(strstr(line + 1, "tp_wall: at its wall") + 1,
			"tp_wall: at its wall"));
	free(log);
	st = pstats(mp);
	CU_ASSERT(st.wall_hits > 100);
	CU_ASSERT(got < cap);
	CU_ASSERT_EQUAL(st.nb_blocks, 4);
	CU_ASSERT_EQUAL(st.bytes, 8 * MB);
	CU_ASSERT_EQUAL(st.nb_in_use, got);
	CU_ASSERT(st.deq_refused >= 1);
	CU_ASSERT(st.wall_hits >= 1);
	CU_ASSERT_PTR_NULL(rte_pktmbuf_alloc(mp));
	CU_ASSERT(pstats(mp).deq_refused > st.deq_refused);
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 1), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	/* Again at once: the pool's wall line waits a second, the call's own does not. */
	tide_test_log_debug(true);
	TIDE_TEST_REFUSED_LOGGED(tide_pool_grow(mp, 1), ENOSPC, "tide_pool_grow");
	tide_test_log_debug(false);
	/* What comes back is served again. */
	rte_pktmbuf_free(m[--got]);
	extra = rte_pktmbuf_alloc(mp);
	CU_ASSERT_PTR_NOT_NULL(extra);
	rte_pktmbuf_free(extra);
	rte_pktmbuf_free_bulk(m, got);
	CU_ASSERT_EQUAL(pstats(mp).nb_free, pstats(mp).nb_objs);
	free(m);
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
/*
 * No sync growth: only the control thread may grow, and it grows ahead of need: a consumer
 * takes 500 mbufs between two ticks, and the pool never runs dry. Driven by the fake
 * clock, a tick per step: what the control thread does at each tick, not how fast.
 */
static void
test_the_control_thread_grows_ahead_at_each_tick(void)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;
	struct tide_pool_stats st;
	unsigned int got = 0, n = 20000, failed = 0;
	struct rte_mbuf **m = calloc(n, sizeof(*m));

	tide_test_clock_fake();
	pool_params(&p, "tp_ahead_fake", 2 * MB, 2 * MB, 128 * MB, 0);
	p.low_watermark = 2000;
	p.reap_period_ms = 0;
	p.flags = TIDE_POOL_F_NO_SYNC_GROW;
	mp = make_pool_p(&p);
	pool_advance(mp, 1 * MS);
	while (got < n) {
		if (rte_pktmbuf_alloc_bulk(mp, &m[got], 500) != 0)
			failed++;
		else
			got += 500;
		pool_advance(mp, 1 * MS);
		if (failed > 0)
			break;
	}
	st = pstats(mp);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_EQUAL(st.deq_refused, 0);
	CU_ASSERT(st.nb_blocks > 20);
	CU_ASSERT_EQUAL(st.grows_ahead, st.nb_blocks - 1);
	CU_ASSERT_EQUAL(st.grows_sync, 0);
	CU_ASSERT(st.nb_free >= 2000);
	rte_pktmbuf_free_bulk(m, got);
	free(m);
	tide_pool_free(mp);
	tide_test_clock_real();
}
#endif

/*
 * One step of a consumer that goes by the control thread's ticks, not by the clock: with
 * fault injection a millisecond of the injected clock and the tick it brings; without it,
 * two ticks of the real clock (the second one begun after the step's allocations).
 */
static void
pool_step_a_tick(const struct rte_mempool *mp)
{
#ifdef TIDE_FAULT_INJECTION
	pool_advance(mp, 1 * MS);
#else
	pool_wait_ticks(mp, 2);
#endif
}

/*
 * No sync growth: only the control thread may grow, and it keeps a steady consumer (40
 * mbufs a tick, one by one, 20000 in all: 40k mbufs/s at the 1 ms tick) supplied. The pool
 * never runs dry, and at every step it has already grown back over the low watermark
 * (four blocks): growth ahead of need. The consumer waits for the ticks, so a busy
 * machine's scheduler (a control thread kept off the CPU) only slows the test down.
 */
static void
test_growth_ahead_of_need_before_the_pool_runs_dry(void)
{
	unsigned int n = 20000, per_tick = 40, got = 0, failed = 0, i;
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	uint64_t min_free = UINT64_MAX;
	struct tide_pool_params p;
	struct tide_pool_stats st;
	struct rte_mempool *mp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	tide_test_clock_fake();
	pool_params(&p, "tp_ahead", 2 * MB, 2 * MB, 128 * MB, 0);
	p.low_watermark = 4000;
	p.reap_period_ms = 0;
	p.flags = TIDE_POOL_F_NO_SYNC_GROW;
	mp = make_pool_p(&p);
	pool_step_a_tick(mp);
	while (got < n && failed == 0) {
		min_free = RTE_MIN(min_free, pstats(mp).nb_free);
		for (i = 0; i < per_tick && got < n; i++) {
			m[got] = rte_pktmbuf_alloc(mp);
			if (m[got] == NULL)
				failed++;
			else
				got++;
		}
		pool_step_a_tick(mp);
	}
	st = pstats(mp);
	printf("\n    40 mbufs a tick for %u ticks: %u failed, %u blocks, %" PRIu64 " grown ahead, "
		"at least %" PRIu64 " free at each tick ", n / per_tick, failed, st.nb_blocks,
		st.grows_ahead, min_free);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_EQUAL(st.deq_refused, 0);
	CU_ASSERT(min_free >= p.low_watermark);
	CU_ASSERT(st.nb_blocks > 20);
	CU_ASSERT_EQUAL(st.grows_ahead, st.nb_blocks - 1);
	CU_ASSERT_EQUAL(st.grows_sync, 0);
	rte_pktmbuf_free_bulk(m, got);
	free(m);
	tide_pool_free(mp);
	tide_test_clock_real();
}

static void
test_mbufs_of_a_new_block_are_initialised(void)
{
	struct rte_mempool *mp;
	struct tide_mempool_block_info bi;
	struct tide_pool_params p;
	struct rte_mbuf **m;
	unsigned int i, n, seen = 0;

	tide_pool_params_init(&p, "tp_init");
	p.base_bytes = 2 * MB;
	p.block_bytes = 2 * MB;
	p.priv_size = 64;
	p.data_room_size = 4096;
	p.cache_size = 0;
	mp = tide_pool_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 1), 1);
	CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 1, &bi), 0);
	n = pstats(mp).nb_objs;
	m = calloc(n, sizeof(*m));
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	for (i = 0; i < n; i++) {
		if (!in_block(mp, 1, m[i]))
			continue;
		seen++;
		CU_ASSERT_PTR_EQUAL(m[i]->pool, mp);
		CU_ASSERT_EQUAL(m[i]->buf_iova, rte_mempool_virt2iova(m[i]) + sizeof(**m) + 64);
		CU_ASSERT_EQUAL(m[i]->buf_iova, rte_mem_virt2iova(m[i]->buf_addr));
		CU_ASSERT_EQUAL(m[i]->buf_len, 4096);
		CU_ASSERT_EQUAL(m[i]->priv_size, 64);
		CU_ASSERT_EQUAL(m[i]->data_off, RTE_PKTMBUF_HEADROOM);
		CU_ASSERT_EQUAL(m[i]->nb_segs, 1);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(m[i]), 1);
		CU_ASSERT_EQUAL(m[i]->port, RTE_MBUF_PORT_INVALID);
		CU_ASSERT_EQUAL(rte_mbuf_check(m[i], 1, NULL), 0);
	}
	CU_ASSERT_EQUAL(seen, bi.nb_objs);
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	tide_pool_free(mp);
}

/*
 * An elastic pool's blocks are its library's: the driver's calls that would add, remove or
 * move one behind its back are refused, logged, and the pool's record of its blocks stays
 * the driver's (its reaper still works: before, a block removed so made every reap fail
 * with -EIO).
 */
static void
test_driver_calls_leave_an_elastic_pools_blocks_alone(void)
{
	struct rte_mempool *mp = make_pool("tp_owned", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	const struct rte_memzone *mz = rte_memzone_reserve_aligned("tp_owned_mz", 2 * MB,
		SOCKET_ID_ANY, 0, RTE_CACHE_LINE_SIZE);
	struct tide_mempool_block_info bi;
	unsigned int n;
	void **objs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 1), 1);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 1, &bi), 0);
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_remove(mp, bi.id, 0), EPERM,
		"tide_mempool_block_remove");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_move(mp, bi.id, 0), EPERM,
		"tide_mempool_block_move");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_block_add(mp, mz->addr, mz->len, NULL, NULL,
		NULL, NULL), EPERM, "tide_mempool_block_add");
	TIDE_TEST_REFUSED_LOGGED(tide_mempool_grow_cb_set(mp, NULL, NULL), EPERM,
		"tide_mempool_grow_cb_set");
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 2);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 2);
	/* Its growth inside an allocation that finds it short is still the library's. */
	n = (unsigned int)mstats(mp).nb_free + 1;
	objs = calloc(n, sizeof(*objs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(objs);
	CU_ASSERT_EQUAL(rte_mempool_get_bulk(mp, objs, n), 0);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 3);
	rte_mempool_put_bulk(mp, objs, n);
	free(objs);
	CU_ASSERT(tide_pool_reap(mp) >= 0);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, tide_mempool_block_count(mp));
	tide_pool_free(mp);
	/* Its mempool freed, the name is free for a stock tide mempool the driver's calls
	 * may change at will.
	 */
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_owned"));
	rte_memzone_free(mz);
}

/*
 * On 4 KB pages (the suite's pool_nohuge run, --no-huge) a block of one page holds no mbuf
 * of a large data room: such a pool could never grow, and is refused at its creation
 * (ENOBUFS, logged) rather than made. On hugepages every block holds one: nothing to try.
 */
static void
test_a_block_that_holds_no_mbuf_is_refused_at_creation(void)
{
	struct tide_pool_params p;

	if (rte_eal_has_hugepages()) {
		printf("(hugepages: every block holds an mbuf; the pool_nohuge run tries it) ");
		return;
	}
	pool_params(&p, "tp_tiny_blk", 256 * 1024, 4096, 1024 * 1024, 0);
	p.data_room_size = 8192;
	TIDE_TEST_REFUSED_LOGGED(tide_pool_create(&p), ENOBUFS, "pool_watermark_check");
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_tiny_blk"));
	/* A block of three pages holds one. */
	p.block_bytes = 3 * 4096;
	p.base_bytes = 64 * 1024;
	CU_ASSERT_PTR_NOT_NULL(make_pool_p(&p));
	CU_ASSERT_EQUAL(tide_pool_grow(rte_mempool_lookup("tp_tiny_blk"), 1), 1);
	tide_pool_free(rte_mempool_lookup("tp_tiny_blk"));
}

/* What tide_pool_stats_get() says of the sizes: base and block rounded up to whole
 * hugepages (of the base block's memory), the wall as given.
 */
static void
test_stats_give_the_sizes_the_pool_has(void)
{
	struct rte_mempool *mp = make_pool("tp_sizes", 3 * MB, 3 * MB, 16 * MB, 0, 0);
	struct tide_mempool_block_info bi;
	const struct rte_memseg_list *msl;
	struct tide_pool_stats st = pstats(mp);
	uint64_t pg;

	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi), 0);
	msl = rte_mem_virt2memseg_list(bi.addr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msl);
	pg = msl->page_sz;
	CU_ASSERT_EQUAL(st.base_bytes, RTE_ALIGN_CEIL(3 * MB, pg));
	CU_ASSERT_EQUAL(st.block_bytes, RTE_ALIGN_CEIL(3 * MB, pg));
	CU_ASSERT_EQUAL(st.wall_bytes, 16 * MB);
	CU_ASSERT_EQUAL(st.bytes, st.base_bytes);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 1), 1);
	CU_ASSERT_EQUAL(pstats(mp).bytes, st.base_bytes + st.block_bytes);
	tide_pool_free(mp);
}

static void *
create_pool(const void *p)
{
	return tide_pool_create(p);
}

static void
test_bad_parameters_are_refused_with_a_log_line(void)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;

	expect_refused(create_pool, NULL, EINVAL, "NULL");
	tide_pool_params_init(&p, NULL);
	expect_refused(create_pool, &p, EINVAL, "NULL name");
	tide_pool_params_init(&p, "a_name_that_is_much_too_long_for_dpdk");
	expect_refused(create_pool, &p, ENAMETOOLONG, "long name");
	tide_pool_params_init(&p, "tp_bad");
	p.block_bytes = 0;
	expect_refused(create_pool, &p, EINVAL, "zero block");
	tide_pool_params_init(&p, "tp_bad");
	p.block_bytes = p.wall_bytes + 1;
	expect_refused(create_pool, &p, EINVAL, "block over the wall");
	tide_pool_params_init(&p, "tp_bad");
	p.block_bytes = 8ull << 30;
	p.wall_bytes = 16ull << 30;
	expect_refused(create_pool, &p, EINVAL, "oversized block");
	tide_pool_params_init(&p, "tp_bad");
	p.wall_bytes = p.base_bytes - 1;
	p.block_bytes = MB;
	expect_refused(create_pool, &p, EINVAL, "wall below base");
	/* Under the wall as given, over it once a whole number of (2 MB) hugepages: the pool
	 * could never grow.
	 */
	pool_params(&p, "tp_bad", 2 * MB, 3 * MB, 3 * MB, 0);
	expect_refused(create_pool, &p, EINVAL, "block over the wall after rounding");
	/* As tide_pool_reap_set() refuses it. */
	tide_pool_params_init(&p, "tp_bad");
	p.idle_ms = 0;
	expect_refused(create_pool, &p, EINVAL, "an idle threshold of 0");
	/* A low watermark the wall cannot keep free with a block to spare: the pool would
	 * grow to its wall at once and never give a block back.
	 */
	pool_params(&p, "tp_bad", 2 * MB, 2 * MB, 8 * MB, 0);
	p.low_watermark = UINT_MAX;
	expect_refused(create_pool, &p, EINVAL, "a low watermark past the wall");
	p.low_watermark = 4000; /* 4 blocks of under 1000 mbufs */
	expect_refused(create_pool, &p, EINVAL, "a low watermark the wall just holds");
	p.low_watermark = 1000; /* a block to spare */
	mp = tide_pool_create(&p);
	CU_ASSERT_PTR_NOT_NULL(mp);
	tide_pool_free(mp);
	tide_pool_params_init(&p, "tp_bad");
	p.socket_id = 77;
	expect_refused(create_pool, &p, EINVAL, "unknown socket");
	tide_pool_params_init(&p, "tp_bad");
	p.priv_size = 3;
	expect_refused(create_pool, &p, EINVAL, "unaligned private size");
	tide_pool_params_init(&p, "tp_bad");
	p.cache_size = RTE_MEMPOOL_CACHE_MAX_SIZE + 1;
	expect_refused(create_pool, &p, EINVAL, "cache too big");
	tide_pool_params_init(&p, "tp_bad");
	p.data_room_size = 16;
	expect_refused(create_pool, &p, EINVAL, "data room below headroom");
	tide_pool_params_init(&p, "tp_bad");
	p.flags = TIDE_POOL_F_ALL + 1;
	expect_refused(create_pool, &p, EINVAL, "unknown flags");

	mp = make_pool("tp_dup", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	tide_pool_params_init(&p, "tp_dup");
	expect_refused(create_pool, &p, EEXIST, "duplicate");
	CU_ASSERT_EQUAL(tide_pool_stats_get(NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_grow(NULL, 1), -EINVAL);
	CU_ASSERT_FALSE(tide_pool_is_elastic(NULL));
	tide_pool_free(NULL);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
static void
test_exhausted_hugepages_fail_growth_not_the_pool(void)
{
	struct rte_mempool *mp = make_pool("tp_nohp", 2 * MB, 2 * MB, 64 * MB, 0, 0);
	struct tide_pool_stats st;
	struct rte_mbuf **m;
	unsigned int n, got = 0;
	char *log;

	n = pstats(mp).nb_objs;
	m = calloc(n * 2, sizeof(*m));
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 1000000);
	tide_test_log_begin();
	while (got < n * 2 && (m[got] = rte_pktmbuf_alloc(mp)) != NULL)
		got++;
	log = tide_test_log_end();
	st = pstats(mp);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_EQUAL(st.nb_blocks, 1);
	CU_ASSERT(st.grow_fails >= 1);
	CU_ASSERT(st.deq_refused >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot add a block"));
	free(log);
	/* Still serving: a freed mbuf is allocated again, intact. */
	rte_pktmbuf_free(m[--got]);
	m[got] = rte_pktmbuf_alloc(mp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[got]);
	CU_ASSERT_EQUAL(rte_mbuf_check(m[got], 1, NULL), 0);
	got++;
	/* Hugepages back: growth resumes. */
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	m[got] = rte_pktmbuf_alloc(mp);
	CU_ASSERT_PTR_NOT_NULL(m[got]);
	if (m[got] != NULL)
		got++;
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 2);
	rte_pktmbuf_free_bulk(m, got);
	free(m);
	tide_pool_free(mp);
}
#endif

#ifdef TIDE_FAULT_INJECTION
/* The errors of tide_pool_create() and tide_pool_grow() that tide_pool.h lists, each from
 * the cause it names (the bad parameters have their own test).
 */
static void
test_each_documented_error_of_creation_and_growth(void)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;

	pool_params(&p, "tp_errno", 2 * MB, 2 * MB, 16 * MB, 0);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 1);
	expect_refused(create_pool, &p, ENOMEM, "no hugepages for the base");
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	/* No other pool exists: creating this one must start the control thread. */
	tide_fault_pvt_arm(TIDE_FAULT_CTL_THREAD, 0, 1);
	expect_refused(create_pool, &p, EAGAIN, "no control thread");
	tide_fault_pvt_arm(TIDE_FAULT_CTL_THREAD, 0, 0);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_errno"));
	/* Nothing of the failed attempts is left: the same pool is created now. */
	mp = make_pool_p(&p);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 1);
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 1), -ENOMEM);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 0), 0);
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 1), 1);
	CU_ASSERT_EQUAL(tide_pool_reap(NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	tide_pool_free(mp);
	/* No memory for the pool's record, then for its block tables: ENOMEM, logged. */
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 1);
	expect_refused(create_pool, &p, ENOMEM, "no memory for the record");
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 1, 1);
	expect_refused(create_pool, &p, ENOMEM, "no memory for the block tables");
	tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_errno"));
}
#endif

#ifdef TIDE_FAULT_INJECTION
static unsigned int
count_lines(const char *log, const char *what)
{
	unsigned int n = 0;

	for (const char *p = log; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* Tick @p mp by 10 ms steps until its control thread has failed to grow once more. */
static void
until_next_grow_failure(struct rte_mempool *mp)
{
	uint64_t fails = pstats(mp).grow_fails;

	for (int i = 0; i < 300 && pstats(mp).grow_fails == fails; i++)
		pool_advance(mp, 10 * MS);
	CU_ASSERT(pstats(mp).grow_fails > fails);
}

/*
 * Hugepages exhausted: the control thread's attempts slow down (2 ticks, 4, 8, ... up to
 * a second apart) instead of one per tick, every one counted, one log line a second; when
 * hugepages are back it grows again at its next probe, at most a second later, or at its
 * next tick once a block is given back in the process. Driven by the fake clock: a tick
 * per 10 ms step, whatever the machine's speed.
 */
static void
test_growth_backs_off_while_hugepages_are_exhausted(void)
{
	struct rte_mempool *mp, *other;
	struct rte_mbuf **m;
	struct tide_pool_params p;
	struct tide_pool_stats st;
	unsigned int steps, n;
	char *log;

	tide_test_clock_fake();
	/* A pool with a block it can give back later (reaped by hand). */
	pool_params(&p, "tp_boff_o", 2 * MB, 2 * MB, 16 * MB, 0);
	p.reap_period_ms = 0;
	p.idle_ms = 1;
	other = make_pool_p(&p);
	CU_ASSERT_EQUAL(tide_pool_grow(other, 1), 1);
	/* One that wants 3 blocks at once, grown by the control thread alone. */
	pool_params(&p, "tp_boff", 2 * MB, 2 * MB, 64 * MB, 0);
	p.low_watermark = 2500;
	p.reap_period_ms = 0;
	p.flags = TIDE_POOL_F_NO_SYNC_GROW | TIDE_POOL_F_NO_PREDICT;
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 1, UINT32_MAX); /* the base passes */
	tide_test_log_begin();
	mp = make_pool_p(&p);
	for (steps = 0; steps < 300; steps++)
		pool_advance(mp, 10 * MS);
	log = tide_test_log_end();
	st = pstats(mp);
	printf("\n    3 s of 10 ms ticks without hugepages: %" PRIu64 " attempts, %u log "
		"line(s), next in %u ms ", st.grow_fails, count_lines(log, "cannot add a block"),
		st.grow_backoff_ms);
	/* One attempt per tick would be 300. */
	CU_ASSERT(st.grow_fails >= 5 && st.grow_fails <= 20);
	CU_ASSERT_EQUAL(st.nb_blocks, 1);
	CU_ASSERT(st.grow_backoff_ms > 0 && st.grow_backoff_ms <= TIDE_POOL_GROW_BACKOFF_MAX_MS);
	CU_ASSERT(count_lines(log, "cannot add a block") >= 1);
	CU_ASSERT(count_lines(log, "cannot add a block") <= 4);
	free(log);

	/* Hugepages back, nothing given back in the process: the probe a second after the
	 * last failure grows it.
	 */
	until_next_grow_failure(mp);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	for (steps = 0; steps < 300 && pstats(mp).nb_blocks == 1; steps++)
		pool_advance(mp, 10 * MS);
	printf("grew again %u ms after hugepages came back ", steps * 10);
	CU_ASSERT(steps >= 90 && steps <= 101);
	/* The probe added one block; the next tick adds what the watermark still needs. */
	pool_advance(mp, 10 * MS);
	CU_ASSERT(pstats(mp).nb_free >= 2500);
	CU_ASSERT_EQUAL(pstats(mp).grow_backoff_ms, 0);

	/* Short of mbufs again, without hugepages: back off to the bound again. */
	n = 2000;
	m = calloc(n, sizeof(*m));
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, UINT32_MAX);
	for (steps = 0; steps < 300; steps++)
		pool_advance(mp, 10 * MS);
	until_next_grow_failure(mp);
	CU_ASSERT(pstats(mp).grow_backoff_ms > 500);
	/* Another pool gives a block back: the next tick grows, the wait notwithstanding. */
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	n = pstats(mp).nb_blocks;
	CU_ASSERT_EQUAL(tide_pool_reap(other), 1);
	pool_advance(mp, 10 * MS);
	CU_ASSERT(pstats(mp).nb_blocks > n);
	rte_pktmbuf_free_bulk(m, 2000);
	free(m);
	tide_pool_free(mp);
	tide_pool_free(other);
	tide_test_clock_real();
}
#endif

#ifdef TIDE_FAULT_INJECTION
/* For tide_test_wait(): the control thread ticked pool @p arg once at least. */
static bool
pool_ticked(void *arg)
{
	return pstats(arg).ticks > 0;
}

/*
 * A growth ahead of need that adds a block and then fails for want of hugepages backs off:
 * the next tick does not try again at once. Driven by the fake clock.
 */
static void
test_a_partial_growth_that_failed_backs_off(void)
{
	struct rte_mempool *mp;
	struct tide_pool_params p;
	struct tide_pool_stats st;

	tide_test_clock_fake();
	pool_params(&p, "tp_boff_part", 2 * MB, 2 * MB, 64 * MB, 0);
	p.low_watermark = 2500; /* 3 blocks at once */
	p.reap_period_ms = 0;
	p.flags = TIDE_POOL_F_NO_SYNC_GROW | TIDE_POOL_F_NO_PREDICT;
	/* The base and the first block ahead pass, then hugepages run out. */
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 2, UINT32_MAX);
	mp = make_pool_p(&p);
	/* Its first tick comes at the creation's time (a new pool is due at once); moving the
	 * clock first would let a tick there and one past the back-off both try.
	 */
	CU_ASSERT(tide_test_wait(pool_ticked, mp, 5000));
	st = pstats(mp);
	CU_ASSERT_EQUAL(st.nb_blocks, 2);
	CU_ASSERT_EQUAL(st.grow_fails, 1);
	CU_ASSERT(st.grow_backoff_ms > 0);
	/* Within the back-off (2 ticks): no attempt. */
	pool_advance(mp, 1 * MS);
	CU_ASSERT_EQUAL(pstats(mp).grow_fails, 1);
	tide_fault_pvt_arm(TIDE_FAULT_MEMZONE, 0, 0);
	tide_pool_free(mp);
	tide_test_clock_real();
}
#endif

/*
 * A pointer that is no elastic pool is refused without being read (it may point anywhere:
 * here at a page no one may read), and the stats the call would have filled are zero.
 */
static void
test_a_pointer_that_is_no_pool_is_refused_unread(void)
{
	struct rte_mempool *bogus = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		0);
	struct rte_mempool *stock = rte_pktmbuf_pool_create("tp_stock", 63, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct tide_pool_stats st, zero = { 0 };
	struct tide_pool_block blk[1];

	CU_ASSERT_FATAL(bogus != MAP_FAILED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stock);
	memset(&st, 0xa5, sizeof(st));
	CU_ASSERT_EQUAL(tide_pool_stats_get(stock, &st), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(&st, &zero, sizeof(st)), 0);
	memset(&st, 0xa5, sizeof(st));
	CU_ASSERT_EQUAL(tide_pool_stats_get(bogus, &st), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(memcmp(&st, &zero, sizeof(st)), 0);
	CU_ASSERT_EQUAL(tide_pool_block_list(bogus, blk, 1), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_wait_cancel(bogus, 1), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_alloc_async(bogus, (struct rte_mbuf **)blk, 1, 0, NULL, NULL,
		NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_grow(bogus, 1), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_reap(bogus), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_wall_set(bogus, 8 * MB), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_reap_set(bogus, 10, 10), -EINVAL);
	CU_ASSERT_FALSE(tide_pool_is_elastic(bogus));
	tide_pool_free(bogus);
	tide_pool_free(stock); /* left alone */
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup("tp_stock"), stock);
	rte_mempool_free(stock);
	munmap(bogus, 4096);
}

/* ENOSPC: the directory of pools holds TIDE_POOL_MAX_POOLS; a freed pool makes room. */
static void
test_the_directory_refuses_a_pool_past_its_size(void)
{
	struct rte_mempool **mp = calloc(TIDE_POOL_MAX_POOLS + 1, sizeof(*mp));
	struct tide_pool_params p;
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	for (; n <= TIDE_POOL_MAX_POOLS; n++) {
		snprintf(name, sizeof(name), "tp_dir%u", n);
		pool_params(&p, name, 2 * MB, 2 * MB, 2 * MB, 0);
		mp[n] = tide_pool_create(&p);
		if (mp[n] == NULL)
			break;
	}
	CU_ASSERT_EQUAL(n, TIDE_POOL_MAX_POOLS);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup(name));
	if (n > 0) {
		tide_pool_free(mp[--n]);
		mp[n] = tide_pool_create(&p);
		CU_ASSERT_PTR_NOT_NULL(mp[n]);
		if (mp[n] != NULL)
			n++;
	}
	while (n > 0)
		tide_pool_free(mp[--n]);
	free(mp);
}

/* ---- telemetry, through the same socket dpdk-telemetry.py uses ---- */

static void
test_telemetry_lists_and_describes_pools(void)
{
	struct rte_mempool *mp = make_pool("tp_tel", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	char *out;

	out = telemetry_query("/tide/pool/list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"/tide/pool/list\":[\"tp_tel\"]"));
	free(out);
	out = telemetry_query("/tide/pool/info,tp_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"tp_tel\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"bytes\":2097152,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"grows_sync\":0,"));
	free(out);
	tide_pool_free(mp);
}

/* Frees the driver dropped (a pointer no block owns, an mbuf freed twice) show in the info,
 * and so does where each block's memory lies.
 */
static void
test_telemetry_info_shows_bad_frees_and_block_memory(void)
{
	struct rte_mempool *mp = make_pool("tp_telbad_free", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	uint64_t outside[16] = { 0 };
	struct tide_mempool_block_info bi;
	void *p = &outside[4], *obj;
	char want[128], *out;

	rte_mempool_ops_enqueue_bulk(mp, &p, 1);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	rte_mempool_put(mp, obj);
	/* Every mbuf of the block free: one more free of a member is a double free. */
	rte_mempool_ops_enqueue_bulk(mp, &obj, 1);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi), 0);
	out = telemetry_query("/tide/pool/info,tp_telbad_free");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"foreign_frees\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"double_frees\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"lock_recovered\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks_unlisted\":0,"));
	snprintf(want, sizeof(want), "\"addr\":%" PRIuPTR ",\"len\":%zu}", (uintptr_t)bi.addr,
		bi.len);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	free(out);
	CU_ASSERT_EQUAL(pstats(mp).foreign_frees, 1);
	CU_ASSERT_EQUAL(pstats(mp).double_frees, 1);
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
/* A block stamped after the time the answer read is 0 ms old and idle, not 2^64 ns. */
static void
test_telemetry_info_ages_a_block_stamped_ahead_as_zero(void)
{
	struct rte_mempool *mp;
	char *out;

	tide_test_clock_fake();
	tide_test_clock_advance(3600 * 1000 * MS);
	mp = make_pool("tp_telahead", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	tide_test_clock_real();
	out = telemetry_query("/tide/pool/info,tp_telahead");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"bytes\":2097152,\"age_ms\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"idle_ms\":0,\"node\":"));
	free(out);
	tide_pool_free(mp);
}
#endif

/*
 * Blocks past what one answer holds are counted, not listed, and the list stays: 22.11
 * telemetry would drop a list of 130 blocks whole (past its 16 KB).
 */
static void
test_telemetry_info_counts_the_blocks_it_leaves_out(void)
{
	struct rte_mempool *mp = make_pool("tp_telmany", 2 * MB, 2 * MB, 260 * MB, 0, 0);
	char *out;

	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 129), 129);
	out = telemetry_query("/tide/pool/info,tp_telmany");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks\":130,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks_unlisted\":66,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"block_list\":{\"b1\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"b64\":"));
	CU_ASSERT_PTR_NULL(strstr(out, "\"b65\":"));
	free(out);
	tide_pool_free(mp);
}

/* A request telemetry cannot answer: {"error": reason}, as a client shows it. */
static void
expect_tel_error(const char *cmd, const char *reason)
{
	char *out = telemetry_query(cmd), want[256], name[64];
	const char *got = out != NULL ? out : "(no reply)";

	snprintf(name, sizeof(name), "%s", cmd);
	name[strcspn(name, ",")] = '\0';
	snprintf(want, sizeof(want), "{\"%s\":{\"error\":\"%s\"}}", name, reason);
	if (strcmp(got, want) != 0)
		printf("\n    %s: %s, expected %s ", cmd, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(out);
}

static void
test_telemetry_answers_a_bad_request_with_a_reason(void)
{
	struct rte_mempool *mp = make_pool("tp_telbad", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	char reason[64];

	expect_tel_error("/tide/pool/info,nosuchpool", "no elastic pool named nosuchpool");
	expect_tel_error("/tide/pool/info", "missing parameter: a pool name (/tide/pool/list "
		"lists them)");
	expect_tel_error("/tide/pool/info,", "missing parameter: a pool name (/tide/pool/list "
		"lists them)");
	snprintf(reason, sizeof(reason), "pool name longer than %d characters",
		(int)RTE_MEMPOOL_NAMESIZE - 1);
	expect_tel_error("/tide/pool/info,a_name_that_is_much_too_long_for_dpdk", reason);
	expect_tel_error("/tide/pool/list,tp_telbad", "this command takes no parameters");
	/* A mempool that is not elastic is not an elastic pool either. */
	expect_tel_error("/tide/pool/info,MP_nothing", "no elastic pool named MP_nothing");
	tide_pool_free(mp);
}

/*
 * A pool whose counters the driver will not give is answered with a reason, not with
 * counters read from nowhere, and tide_pool_stats_get() fails. The driver refuses a mempool
 * whose ops are not its own: the test points the mempool at other ops for a moment (nothing
 * allocates from it meanwhile, and the driver's control calls refuse it too).
 */
static void
test_telemetry_info_answers_an_error_when_the_driver_refuses_its_counters(void)
{
	struct rte_mempool *mp = make_pool("tp_telrefused", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	int32_t tide_ops = mp->ops_index;
	struct tide_pool_stats st;
	char *out;

	CU_ASSERT_FATAL(rte_mempool_ops_table.num_ops > 1);
	mp->ops_index = (tide_ops + 1) % (int32_t)rte_mempool_ops_table.num_ops;
	expect_tel_error("/tide/pool/info,tp_telrefused",
		"tp_telrefused: its counters could not be read: Invalid argument");
	memset(&st, 0xa5, sizeof(st));
	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_pool_stats_get(mp, &st), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(st.nb_objs, 0);
	CU_ASSERT_EQUAL(st.nb_blocks, 0);
	mp->ops_index = tide_ops;
	out = telemetry_query("/tide/pool/info,tp_telrefused");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"tp_telrefused\""));
	free(out);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
static void
tel_free_pool(void *mp)
{
	tide_pool_free(mp);
}

/* A pool freed while /tide/pool/info reads it is freed only once the answer is made. */
static void
test_telemetry_info_keeps_the_pool_until_it_answered(void)
{
	struct rte_mempool *mp = make_pool("tp_telfree", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	char *out;

	CU_ASSERT(telemetry_free_waits_for_reader("/tide/pool/info,tp_telfree",
		TIDE_HOLD_POOL_TEL_READ, NULL, TIDE_HOLD_POOL_FREE_WAITS, tel_free_pool, mp, &out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"name\":\"tp_telfree\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"blocks\":1,"));
	free(out);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_telfree"));
}

struct stats_read {
	struct rte_mempool *mp;
	struct tide_pool_stats st;
	struct tide_pool_block blk[4];
	int ret;
};

static void *
stats_read_stats(void *arg)
{
	struct stats_read *r = arg;

	r->ret = tide_pool_stats_get(r->mp, &r->st);
	return NULL;
}

static void *
stats_read_blocks(void *arg)
{
	struct stats_read *r = arg;

	r->ret = tide_pool_block_list(r->mp, r->blk, RTE_DIM(r->blk));
	return NULL;
}

/*
 * A pool freed while tide_pool_stats_get() or tide_pool_block_list() reads it (any thread,
 * any process may) is freed only once the read is done: the free waits for the reader's
 * pin, as for telemetry's.
 */
static void
test_a_free_waits_for_a_stats_reader(void)
{
	struct stats_read s = { .ret = -1 }, b = { .ret = -1 };

	s.mp = make_pool("tp_statsfree", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	b.mp = make_pool("tp_blocksfree", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	CU_ASSERT(pool_free_waits_for_call(s.mp, stats_read_stats, &s,
		TIDE_HOLD_POOL_STATS_READ, TIDE_HOLD_POOL_FREE_WAITS));
	CU_ASSERT_EQUAL(s.ret, 0);
	CU_ASSERT_EQUAL(s.st.nb_blocks, 1);
	CU_ASSERT_EQUAL(s.st.bytes, 2 * MB);
	CU_ASSERT(pool_free_waits_for_call(b.mp, stats_read_blocks, &b,
		TIDE_HOLD_POOL_STATS_READ, TIDE_HOLD_POOL_FREE_WAITS));
	CU_ASSERT_EQUAL(b.ret, 1);
	CU_ASSERT_EQUAL(b.blk[0].bytes, 2 * MB);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_statsfree"));
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_blocksfree"));
}

struct second_free {
	struct rte_mempool *mp;
	int err; /* the rte_errno its tide_pool_free() left */
};

static void *
free_pool_too(void *arg)
{
	struct second_free *f = arg;

	rte_errno = 0;
	tide_pool_free(f->mp);
	f->err = rte_errno;
	return NULL;
}

/*
 * Two tide_pool_free() calls on one pool at once: one frees it, the other is refused and
 * leaves the freed mempool alone (it used to free it a second time). The second call is
 * held once it has found and checked the pool; the first frees it meanwhile; a pool made
 * after it (here at the freed mempool's address) must come through whole.
 */
static void
test_two_frees_of_one_pool_at_once_free_it_once(void)
{
	struct second_free f = { .err = -1 };
	struct rte_mempool *after;
	pthread_t t;

	f.mp = make_pool("tp_freetwice", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	tide_fault_pvt_hold_arm(TIDE_HOLD_POOL_FREE_CHECKED);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, free_pool_too, &f), 0);
	CU_ASSERT_FATAL(tide_fault_pvt_hold_wait(TIDE_HOLD_POOL_FREE_CHECKED, 5000));
	tide_pool_free(f.mp);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_freetwice"));
	after = make_pool("tp_freetwice2", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	if (after != f.mp)
		printf("(the new pool is not where the freed one was) ");
	tide_test_log_begin();
	tide_fault_pvt_hold_release(TIDE_HOLD_POOL_FREE_CHECKED);
	pthread_join(t, NULL);
	rte_errno = f.err;
	CU_ASSERT(tide_test_log_refused("pool_free", EINVAL, "the second tide_pool_free()"));
	CU_ASSERT_PTR_EQUAL(rte_mempool_lookup("tp_freetwice2"), after);
	CU_ASSERT_TRUE(tide_pool_is_elastic(after));
	CU_ASSERT_EQUAL(pstats(after).nb_blocks, 1);
	tide_pool_free(after);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_freetwice2"));
}
#endif

#ifdef TIDE_FAULT_INJECTION
struct grow_wait_arg {
	struct rte_mempool *mp;
	void *obj;
	int ret;
	int done;
};

static void *
grow_three_blocks(void *arg)
{
	struct grow_wait_arg *g = arg;

	g->ret = tide_pool_grow(g->mp, 3);
	__atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *
take_one(void *arg)
{
	struct grow_wait_arg *t = arg;

	t->ret = rte_mempool_get(t->mp, &t->obj);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* For tide_test_wait(): an allocation of pool @p arg waited for a growth under way. */
static bool
grow_waited(void *arg)
{
	return pstats(arg).grow_waits != 0;
}

/* For tide_test_wait(): the thread of @p arg (a struct grow_wait_arg) returned. */
static bool
grow_wait_done(void *arg)
{
	return __atomic_load_n(&((struct grow_wait_arg *)arg)->done, __ATOMIC_ACQUIRE) != 0;
}

/*
 * An allocation that finds the pool empty while another thread adds several blocks waits
 * only until an mbuf is free, not for the rest of that growth: the grower is held after its
 * first block (its grow lock held), the pool emptied again, and the allocation, waiting,
 * gets the mbuf freed meanwhile.
 */
static void
test_an_allocation_waits_for_a_growth_only_until_its_mbufs_are_free(void)
{
	struct rte_mempool *mp;
	struct grow_wait_arg g = { 0 }, t = { 0 };
	struct tide_pool_stats st;
	unsigned int n0, n1;
	void **held;
	pthread_t grower, taker;

	/* The control thread ticks a new pool at once, then a tick later: with the clock
	 * stopped before the pool is made, its first tick is its last, and it is over before
	 * the pool is emptied (a tick then would grow a block of its own).
	 */
	tide_test_clock_fake();
	mp = make_pool("tp_growwait", 2 * MB, 2 * MB, 16 * MB, 0, TIDE_POOL_F_NO_PREDICT);
	CU_ASSERT_FATAL(tide_test_wait(pool_ticked, mp, 5000));
	g.mp = t.mp = mp;
	st = pstats(mp);
	CU_ASSERT_EQUAL_FATAL(st.nb_blocks, 1); /* that tick found the base enough */
	n0 = (unsigned int)st.nb_free;
	held = calloc(4 * n0, sizeof(*held));
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_bulk(mp, held, n0), 0);
	tide_fault_pvt_hold_arm(TIDE_HOLD_POOL_GROWN);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&grower, NULL, grow_three_blocks, &g), 0);
	CU_ASSERT_FATAL(tide_fault_pvt_hold_wait(TIDE_HOLD_POOL_GROWN, 5000));
	n1 = (unsigned int)pstats(mp).nb_free;
	CU_ASSERT(n1 > 0 && n1 <= 3 * n0);
	CU_ASSERT_EQUAL(rte_mempool_get_bulk(mp, &held[n0], n1), 0);
	CU_ASSERT_EQUAL(pstats(mp).grow_waits, 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&taker, NULL, take_one, &t), 0);
	CU_ASSERT(tide_test_wait(grow_waited, mp, 5000));
	rte_mempool_put(mp, held[0]);
	CU_ASSERT(tide_test_wait(grow_wait_done, &t, 5000));
	CU_ASSERT_EQUAL(t.ret, 0);
	CU_ASSERT_PTR_EQUAL(t.obj, held[0]);
	/* All that while, the growth stayed where it was held. */
	CU_ASSERT_FALSE(grow_wait_done(&g));
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 2);
	tide_fault_pvt_hold_release(TIDE_HOLD_POOL_GROWN);
	pthread_join(grower, NULL);
	pthread_join(taker, NULL);
	CU_ASSERT_EQUAL(g.ret, 3);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 4);
	held[0] = t.obj;
	rte_mempool_put_bulk(mp, held, n0 + n1);
	tide_test_clock_real();
	free(held);
	tide_pool_free(mp);
}
#endif

static void
tel_race_pool_cycle(void *arg __rte_unused)
{
	struct tide_pool_params p;

	pool_params(&p, "tp_telrace", 2 * MB, 2 * MB, 8 * MB, 0);
	tide_pool_free(tide_pool_create(&p));
}

/*
 * /tide/pool/info asked over and over while another thread creates and frees the pool. A
 * second pool stays all along: freeing the last one would stop the control thread in each
 * cycle, and the cycles would be too slow to race.
 */
static void
test_telemetry_info_races_pool_create_and_free(void)
{
	struct rte_mempool *keep = make_pool("tp_telkeep", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	unsigned int seen = telemetry_race("/tide/pool/info,tp_telrace", "tp_telrace",
		tel_race_pool_cycle, 2000);

	printf("\n    %u answers described the pool ", seen);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tp_telrace"));
	tide_pool_free(keep);
}

/* ---- usable as any pktmbuf pool: RX queue on a vdev ---- */

static void
test_pool_feeds_an_rx_queue(void)
{
	struct rte_mempool *mp = make_pool("tp_rxq", 2 * MB, 2 * MB, 32 * MB, 256, 0);
	struct rte_eth_conf conf = { 0 };
	struct rte_mbuf *pkts[32];
	uint16_t port, n, i;

	CU_ASSERT_EQUAL_FATAL(rte_vdev_init("net_null_tp", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_get_port_by_name("net_null_tp", &port), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_rx_queue_setup(port, 0, 512, 0, NULL, mp), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_tx_queue_setup(port, 0, 512, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_start(port), 0);
	n = rte_eth_rx_burst(port, 0, pkts, 32);
	CU_ASSERT(n > 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_PTR_EQUAL(pkts[i]->pool, mp);
	CU_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, pkts, n), n);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_vdev_uninit("net_null_tp");
	tide_pool_free(mp);
}

/* ---- stress: 2 lcores + a non-EAL thread alloc/free random bulks while growth runs ---- */

static void
test_stress_two_lcores_and_a_thread_lose_and_duplicate_nothing(void)
{
	struct pool_stress s = { .hold = 4096, .max_bulk = 256 };
	struct tide_pool_params p;
	struct tide_pool_stats st;

	pool_params(&p, "tp_stress", 2 * MB, 2 * MB, 256 * MB, 128);
	p.priv_size = 8;
	p.reap_period_ms = 0; /* growth only: the reaper has its own stress */
	s.mp = make_pool_p(&p);
	pool_stress_run(&s, 2000ull * 1000 * 1000);
	st = pstats(s.mp);
	printf("\n    %" PRIu64 " ops, %u blocks, %" PRIu64 " grown ahead, %" PRIu64
		" sync, %" PRIu64 " failed bulks ", s.ops, st.nb_blocks, st.grows_ahead,
		st.grows_sync, s.fails);
	CU_ASSERT_EQUAL(s.dups, 0);
	CU_ASSERT_EQUAL(s.bad_owner, 0);
	CU_ASSERT_EQUAL(s.fails, 0);
	CU_ASSERT(st.nb_blocks > 1);
	CU_ASSERT_EQUAL(st.nb_free, st.nb_objs);
	CU_ASSERT_EQUAL(st.nb_in_use, 0);
	CU_ASSERT_EQUAL(pool_stress_dirty(s.mp), 0);
	CU_ASSERT_EQUAL(s.mp->populated_size, st.nb_objs);
	rte_mempool_audit(s.mp);
	tide_pool_free(s.mp);
}

/*
 * Bad input to the control calls is refused with rte_errno set and a log line of the call's
 * own; a plain miss (a request no longer queued, a set that does not exist) at DEBUG.
 */
static void
test_bad_input_to_control_calls_is_logged(void)
{
	struct rte_mempool *mp = make_pool("tp_badlog", 2 * MB, 2 * MB, 8 * MB, 0, 0);
	struct tide_pool_block blk;
	struct tide_pool_stats st;
	struct rte_mbuf *m[1];

	TIDE_TEST_REFUSED_LOGGED(tide_pool_stats_get(NULL, &st), EINVAL, "tide_pool_stats_get");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_stats_get(mp, NULL), EINVAL, "tide_pool_stats_get");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_block_list(NULL, &blk, 1), EINVAL,
		"tide_pool_block_list");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_alloc_async(mp, m, 1, 0, NULL, NULL, NULL), EINVAL,
		"tide_pool_alloc_async");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_wait_cancel(NULL, 1), EINVAL,
		"tide_pool_wait_cancel");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_set_lookup(NULL), ENOENT, "tide_pool_set_lookup");
	TIDE_TEST_REFUSED_LOGGED(tide_pool_for_port(NULL, 0), EINVAL, "tide_pool_for_port");
	TIDE_TEST_REFUSED_LOGGED(tide_mp_death_cb_register(NULL, NULL), EINVAL,
		"tide_mp_death_cb_register");
	TIDE_TEST_REFUSED_LOGGED(tide_mp_peers(NULL, 1), EINVAL, "tide_mp_peers");
	TIDE_TEST_REFUSED_LOGGED(tide_mp_stats_get(NULL), EINVAL, "tide_mp_stats_get");
	TIDE_TEST_MISS_LOGGED(tide_pool_wait_cancel(mp, 12345), ENOENT, "tide_pool_wait_cancel");
	TIDE_TEST_MISS_LOGGED(tide_pool_set_lookup("tp_no_such_set"), ENOENT,
		"tide_pool_set_lookup");
	TIDE_TEST_MISS_LOGGED(tide_mp_death_cb_unregister(NULL, NULL), ENOENT,
		"tide_mp_death_cb_unregister");
	CU_ASSERT_EQUAL(pstats(mp).nb_in_use, 0);
	tide_pool_free(mp);
}

/*
 * The shared zones the pool and zctx directories live in (tide_shared_mz.h): made zeroed
 * with the maker's stamp after their bytes; found again with that stamp; refused (EPROTO,
 * neither remade nor zeroed) with another stamp or a larger layout, another build's.
 */
static void
test_a_shared_zone_of_another_stamp_or_size_is_refused(void)
{
	const struct rte_memzone *mz, *again;
	unsigned char *b;

	mz = tide_shared_mz("tp_smz", 100, 0x1234, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	b = mz->addr;
	CU_ASSERT_EQUAL(b[0], 0);
	CU_ASSERT_EQUAL(b[99], 0);
	CU_ASSERT_EQUAL(*tide_shared_mz_stamp(mz, 100), 0x1234);
	b[0] = 42;
	again = tide_shared_mz("tp_smz", 100, 0x1234, false);
	CU_ASSERT_PTR_EQUAL(again, mz);
	CU_ASSERT_PTR_EQUAL(tide_shared_mz("tp_smz", 100, 0x1234, true), mz);
	CU_ASSERT_EQUAL(b[0], 42); /* found, not zeroed again */
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tide_shared_mz("tp_smz", 100, 0x1235, false));
	CU_ASSERT_EQUAL(rte_errno, EPROTO);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tide_shared_mz("tp_smz", 100, 0x1235, true));
	CU_ASSERT_EQUAL(rte_errno, EPROTO);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tide_shared_mz("tp_smz", 8192, 0x1234, false));
	CU_ASSERT_EQUAL(rte_errno, EPROTO);
	CU_ASSERT_EQUAL(b[0], 42);
	CU_ASSERT_EQUAL(*tide_shared_mz_stamp(mz, 100), 0x1234);
	CU_ASSERT_EQUAL(rte_memzone_free(mz), 0);
	CU_ASSERT_PTR_NULL(tide_shared_mz("tp_smz", 100, 0x1234, false));
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_create_takes_only_the_base_hugepages);
	CU_ADD_TEST(s, test_allocating_past_the_base_grows_block_by_block);
	CU_ADD_TEST(s, test_allocation_prefers_the_oldest_block);
	CU_ADD_TEST(s, test_the_wall_stops_growth_and_the_pool_keeps_serving);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_the_control_thread_grows_ahead_at_each_tick);
#endif
	CU_ADD_TEST(s, test_growth_ahead_of_need_before_the_pool_runs_dry);
	CU_ADD_TEST(s, test_mbufs_of_a_new_block_are_initialised);
	CU_ADD_TEST(s, test_bad_parameters_are_refused_with_a_log_line);
	CU_ADD_TEST(s, test_bad_input_to_control_calls_is_logged);
	CU_ADD_TEST(s, test_driver_calls_leave_an_elastic_pools_blocks_alone);
	CU_ADD_TEST(s, test_a_block_that_holds_no_mbuf_is_refused_at_creation);
	CU_ADD_TEST(s, test_stats_give_the_sizes_the_pool_has);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_exhausted_hugepages_fail_growth_not_the_pool);
	CU_ADD_TEST(s, test_each_documented_error_of_creation_and_growth);
	CU_ADD_TEST(s, test_growth_backs_off_while_hugepages_are_exhausted);
	CU_ADD_TEST(s, test_a_partial_growth_that_failed_backs_off);
#endif
	CU_ADD_TEST(s, test_a_pointer_that_is_no_pool_is_refused_unread);
	CU_ADD_TEST(s, test_the_directory_refuses_a_pool_past_its_size);
	CU_ADD_TEST(s, test_telemetry_lists_and_describes_pools);
	CU_ADD_TEST(s, test_telemetry_answers_a_bad_request_with_a_reason);
	CU_ADD_TEST(s, test_telemetry_info_answers_an_error_when_the_driver_refuses_its_counters);
	CU_ADD_TEST(s, test_telemetry_info_shows_bad_frees_and_block_memory);
	CU_ADD_TEST(s, test_telemetry_info_counts_the_blocks_it_leaves_out);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_telemetry_info_ages_a_block_stamped_ahead_as_zero);
#endif
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_telemetry_info_keeps_the_pool_until_it_answered);
	CU_ADD_TEST(s, test_a_free_waits_for_a_stats_reader);
	CU_ADD_TEST(s, test_two_frees_of_one_pool_at_once_free_it_once);
	CU_ADD_TEST(s, test_an_allocation_waits_for_a_growth_only_until_its_mbufs_are_free);
#endif
	CU_ADD_TEST(s, test_telemetry_info_races_pool_create_and_free);
	CU_ADD_TEST(s, test_pool_feeds_an_rx_queue);
	CU_ADD_TEST(s, test_stress_two_lcores_and_a_thread_lose_and_duplicate_nothing);
	CU_ADD_TEST(s, test_a_shared_zone_of_another_stamp_or_size_is_refused);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool", true, register_tests);
}
