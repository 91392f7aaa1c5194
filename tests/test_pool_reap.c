/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The reaper under EAL: the reap rule on real blocks, hugepages back to the OS, back to
 * the base after traffic, never a block with an mbuf out (allocated, in an lcore cache,
 * in a NIC ring, referenced by a clone, a message in an exchange), and a stress with the
 * reaper at a millisecond period while 2 lcores and a non-EAL thread allocate and free.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_mempool.h"
#include "tide_msg.h"

/* A pool the tests reap by hand (no reaper thread), blocks of 2 MB, a short threshold. */
static struct rte_mempool *
manual_pool(const char *name, unsigned int cache, unsigned int idle_ms)
{
	struct tide_pool_params p;

	pool_params(&p, name, 2 * MB, 2 * MB, 128 * MB, cache);
	p.reap_period_ms = 0;
	p.idle_ms = idle_ms;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	return make_pool_p(&p);
}

static void
test_reap_rule_newest_only_and_headroom_kept(void)
{
	struct rte_mempool *mp;
	struct rte_mbuf *one;

	tide_test_clock_fake();
	mp = manual_pool("tr_rule", 0, 30);

	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 4), 4);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 5);
	/* Blocks just added count as busy: nothing before the threshold. */
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);

	/* One mbuf out in block 2. */
	one = hold_one_in_block(mp, 2);
	tide_test_clock_pass(40 * MS);
	/* Blocks 4 and 3 idle: 4 goes. Then 3 is newest but 2 before it is busy: 3 stays, the
	 * empty headroom.
	 */
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 1);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 4);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 4);

	/* The mbuf comes back: block 2 was busy in this interval, so not idle yet. */
	rte_pktmbuf_free(one);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	tide_test_clock_pass(40 * MS);
	/* All idle now: back down to the base, never below it. */
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 3);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	CU_ASSERT_EQUAL(pstats(mp).bytes, 2 * MB);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(pstats(mp).reaps, 4);
	tide_pool_free(mp);
	tide_test_clock_real();
}

static void
test_reap_gives_hugepages_back_to_the_os(void)
{
	struct rte_mempool *mp;
	long hp0, hp_grown, hp_reaped;

	tide_test_clock_fake();
	mp = manual_pool("tr_hp", 0, 10);
	hp0 = tide_test_hugepages_held();
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 6), 6);
	hp_grown = tide_test_hugepages_held();
	tide_test_clock_pass(20 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 6);
	hp_reaped = tide_test_hugepages_held();
	printf("\n    hugepages held %ld -> grown %ld -> reaped %ld ", hp0, hp_grown, hp_reaped);
	CU_ASSERT_EQUAL(hp_grown - hp0, 6);
	CU_ASSERT_EQUAL(hp_reaped, hp0);
	tide_pool_free(mp);
	tide_test_clock_real();
}

/* ---- back to the base after traffic stops and the lcores hand back their caches ---- */

struct burst_ctx {
	struct rte_mempool *mp;
	unsigned int n;
	volatile int phase; /* 1: hold n mbufs, 2: free them, 3: flush the cache and stop */
	volatile bool holding; /* the worker holds its n mbufs */
	volatile int done[RTE_MAX_LCORE];
};

static int
burst_lcore(void *arg)
{
	struct burst_ctx *c = arg;
	struct rte_mbuf **m = calloc(c->n, sizeof(*m));
	unsigned int lc = rte_lcore_id(), got = 0;

	while (c->phase < 2) {
		if (got < c->n && rte_pktmbuf_alloc_bulk(c->mp, &m[got], 32) == 0)
			got += 32;
		if (got >= c->n)
			c->holding = true;
	}
	rte_pktmbuf_free_bulk(m, got);
	/* Churn a little: the cache refills from the oldest blocks. */
	for (int i = 0; i < 1000; i++) {
		struct rte_mbuf *x[8];

		if (rte_pktmbuf_alloc_bulk(c->mp, x, 8) == 0)
			rte_pktmbuf_free_bulk(x, 8);
	}
	while (c->phase < 3)
		rte_pause();
	tide_pool_cache_flush(c->mp);
	c->done[lc] = 1;
	free(m);
	return 0;
}

static bool
back_to_base(void *arg)
{
	return pstats(arg).nb_blocks == 1;
}

static bool
worker_holding(void *arg)
{
	return ((struct burst_ctx *)arg)->holding;
}

static void
test_pool_returns_to_base_after_traffic_and_cache_flush(void)
{
	struct tide_pool_params p;
	struct burst_ctx c = { .n = 8192 };
	int worker = tide_test_worker_lcore();
	struct tide_pool_stats st;

	pool_params(&p, "tr_base", 2 * MB, 2 * MB, 128 * MB, 256);
	p.reap_period_ms = 5;
	p.idle_ms = 20;
	c.mp = make_pool_p(&p);
	CU_ASSERT_FATAL(worker >= 0);
	c.phase = 1;
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(burst_lcore, &c, worker), 0);
	CU_ASSERT_TRUE(tide_test_wait(worker_holding, &c, 20000));
	st = pstats(c.mp);
	CU_ASSERT(st.nb_blocks > 4);
	c.phase = 2;
	tide_test_sleep_us(100 * 1000);
	c.phase = 3;
	rte_eal_wait_lcore(worker);
	CU_ASSERT_TRUE(tide_test_wait(back_to_base, c.mp, 10000));
	st = pstats(c.mp);
	printf("\n    grew to %" PRIu64 " ahead + %" PRIu64 " sync, reaped %" PRIu64
		", now %u block(s), %" PRIu64 " MB ", st.grows_ahead, st.grows_sync, st.reaps,
		st.nb_blocks, st.bytes >> 20);
	CU_ASSERT_EQUAL(st.nb_blocks, 1);
	CU_ASSERT_EQUAL(st.bytes, 2 * MB);
	CU_ASSERT_EQUAL(st.nb_in_use, 0);
	tide_pool_free(c.mp);
}

/* ---- never while an mbuf of the block is out ---- */

/* Grow to 3 blocks and leave exactly one mbuf out, in the newest. */
static struct rte_mbuf *
one_out_in_newest(struct rte_mempool *mp)
{
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 2), 2);
	return hold_one_in_block(mp, 2);
}

/* After idling past the threshold, nothing may go: the newest block holds the mbuf. */
static void
expect_no_reap(struct rte_mempool *mp, const char *what)
{
	tide_test_clock_pass(30 * MS);
	if (tide_pool_reap(mp) != 0)
		printf("\n    reaped with an mbuf %s ", what);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 3);
}

static void
test_no_reap_while_an_mbuf_is_allocated(void)
{
	struct rte_mempool *mp;
	struct rte_mbuf *one;

	tide_test_clock_fake();
	mp = manual_pool("tr_out", 0, 10);
	one = one_out_in_newest(mp);
	expect_no_reap(mp, "allocated");
	rte_pktmbuf_free(one);
	tide_test_clock_pass(30 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0); /* this interval saw it out */
	tide_test_clock_pass(30 * MS);
	CU_ASSERT(tide_pool_reap(mp) >= 1);
	tide_pool_free(mp);
	tide_test_clock_real();
}

static void
test_no_reap_while_an_mbuf_is_in_an_lcore_cache(void)
{
	struct rte_mempool_cache *cache;
	struct rte_mempool *mp;
	struct rte_mbuf *one;

	tide_test_clock_fake();
	mp = manual_pool("tr_cache", 64, 10);
	one = one_out_in_newest(mp);
	cache = rte_mempool_default_cache(mp, rte_lcore_id());

	/* Freed on this lcore: it sits in the cache, out of the driver's lists. */
	rte_pktmbuf_free(one);
	CU_ASSERT(cache->len > 0);
	expect_no_reap(mp, "in a cache");
	tide_pool_cache_flush(mp);
	CU_ASSERT_EQUAL(cache->len, 0);
	tide_pool_reap(mp);
	tide_test_clock_pass(30 * MS);
	CU_ASSERT(tide_pool_reap(mp) >= 1);
	tide_pool_free(mp);
	tide_test_clock_real();
}

#ifdef TIDE_FAULT_INJECTION
/* A worker lcore's burst, then a light load that never reaches the bottom of its cache. */
struct light_ctx {
	struct rte_mempool *mp;
	volatile int phase; /* 0: burst, 1: light load, 2: stop */
	volatile bool burst_done;
	uint64_t light_ops;
};

static int
light_lcore(void *arg)
{
	struct light_ctx *c = arg;
	struct rte_mbuf *m[4096], *one;
	unsigned int got = 0;

	while (got < RTE_DIM(m) && rte_pktmbuf_alloc_bulk(c->mp, &m[got], 32) == 0)
		got += 32;
	/* Freed last, parked in this lcore's cache: mbufs of the newest blocks. */
	rte_pktmbuf_free_bulk(m, got);
	c->burst_done = true;
	while (c->phase < 2) {
		one = rte_pktmbuf_alloc(c->mp);
		if (one != NULL) {
			rte_pktmbuf_free(one);
			c->light_ops++;
		}
		rte_delay_us_block(20);
	}
	return 0;
}

/*
 * For the cache-drain tests, on the fake clock: a pool of @p base reaped only when asked
 * (idle after 10 ms, no prediction), worker lcore @p worker's cache of it in *@p cache and
 * that cache's flush threshold in *@p thresh.
 */
static struct rte_mempool *
drained_pool(const char *name, size_t base, int worker, struct rte_mempool_cache **cache,
	uint32_t *thresh)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;

	CU_ASSERT_FATAL(worker >= 0);
	pool_params(&p, name, base, 2 * MB, 128 * MB, 256);
	p.reap_period_ms = 0;
	p.idle_ms = 10;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	tide_test_clock_fake();
	mp = make_pool_p(&p);
	*cache = rte_mempool_default_cache(mp, worker);
	*thresh = (*cache)->flushthresh;
	return mp;
}

/*
 * The bottom of an lcore's cache, what it freed when its burst ended, stays there under a
 * light load and would keep otherwise idle blocks forever: the reaper makes that cache
 * hand them back (frees bypass it until it holds none of the candidates' mbufs), then
 * reaps down to the base and the one empty block the reap rule keeps while the base is in
 * use; the cache's flush threshold comes back. The application does nothing for it.
 * Driven by the fake clock.
 */
static void
test_a_cache_that_alone_pins_blocks_is_drained(void)
{
	struct tide_mempool_block_info bi;
	struct light_ctx c = { 0 };
	int worker = tide_test_worker_lcore();
	struct rte_mempool_cache *cache;
	uint32_t thresh;
	int rounds = 0;

	c.mp = drained_pool("tr_drain", 2 * MB, worker, &cache, &thresh);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(light_lcore, &c, worker), 0);
	while (!c.burst_done)
		rte_pause();
	CU_ASSERT(pstats(c.mp).nb_blocks >= 4);
	CU_ASSERT(cache->len > 0);
	while (pstats(c.mp).nb_blocks > 2 && rounds++ < 2000) {
		tide_test_clock_advance(11ull * 1000 * 1000);
		tide_pool_reap(c.mp);
		tide_test_sleep_us(1000); /* the worker's light load goes on */
	}
	/* A few more periods: the cache holds none of the headroom block's mbufs. */
	for (int i = 0; i < 5; i++) {
		tide_test_clock_advance(11ull * 1000 * 1000);
		tide_pool_reap(c.mp);
		tide_test_sleep_us(1000);
	}
	printf("\n    %d reaper rounds, %" PRIu64 " light ops, %" PRIu64 " cache drains, %u "
		"block(s) left ", rounds, c.light_ops, pstats(c.mp).cache_drains,
		pstats(c.mp).nb_blocks);
	CU_ASSERT_EQUAL(pstats(c.mp).nb_blocks, 2);
	CU_ASSERT(pstats(c.mp).cache_drains > 0);
	CU_ASSERT_EQUAL(tide_mempool_block_info(c.mp, 1, &bi), 0);
	CU_ASSERT_EQUAL(bi.nb_free, bi.nb_objs);
	CU_ASSERT_EQUAL(cache->flushthresh, thresh);
	c.phase = 2;
	rte_eal_wait_lcore(worker);
	tide_test_clock_real();
	rte_mempool_cache_flush(cache, c.mp);
	CU_ASSERT_EQUAL(pstats(c.mp).nb_in_use, 0);
	tide_pool_free(c.mp);
}
#endif

#ifdef TIDE_FAULT_INJECTION
/*
 * A cache that alone holds the mbufs out of both reap candidates (the two newest blocks above
 * the base) is drained as one that holds those of one: its threshold goes to 0 in the pass
 * that finds it, and back once it holds none. Driven by the fake clock.
 */
static void
test_a_cache_holding_both_candidates_mbufs_is_drained(void)
{
	int worker = tide_test_worker_lcore();
	struct tide_mempool_block_info bi[2];
	struct rte_mempool_cache *cache;
	struct rte_mempool *mp;
	void **objs, *two[2];
	unsigned int n;
	uint32_t thresh;

	mp = drained_pool("tr_both", 2 * MB, worker, &cache, &thresh);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 2), 2);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 0, &bi[0]), 0);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_info(mp, 1, &bi[1]), 0);
	/* Oldest first, past the caches: the base's, block 1's, and one of block 2. */
	n = bi[0].nb_objs + bi[1].nb_objs + 1;
	objs = calloc(n, sizeof(*objs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(objs);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_generic_get(mp, objs, n, NULL), 0);
	two[0] = objs[bi[0].nb_objs];
	two[1] = objs[n - 1];
	CU_ASSERT_FATAL(in_block(mp, 1, two[0]) && in_block(mp, 2, two[1]));
	rte_mempool_generic_put(mp, objs, n - 1 - bi[1].nb_objs, NULL);
	rte_mempool_generic_put(mp, &objs[bi[0].nb_objs + 1], bi[1].nb_objs - 1, NULL);
	/* The worker lcore's cache holds one of each (it runs nothing meanwhile). */
	rte_mempool_generic_put(mp, two, 2, cache);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(cache->flushthresh, 0);
	CU_ASSERT_EQUAL(pstats(mp).cache_drains, 1);
	rte_mempool_cache_flush(cache, mp);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(cache->flushthresh, thresh);
	CU_ASSERT_EQUAL(pstats(mp).nb_in_use, 0);
	tide_test_clock_real();
	free(objs);
	tide_pool_free(mp);
}

#endif

#ifdef TIDE_FAULT_INJECTION
/* A worker lcore that only frees what the main lcore allocated, a burst at a time. */
struct freer_ctx {
	struct rte_mempool *mp;
	struct rte_mbuf **m;
	unsigned int from, to;   /* the next burst frees m[from..to) */
	volatile unsigned int cmd; /* bumped by the main lcore: free the burst */
	volatile unsigned int done; /* set to cmd once freed */
	volatile bool stop;
};

static int
freer_lcore(void *arg)
{
	struct freer_ctx *c = arg;
	unsigned int seen = 0;

	while (!c->stop) {
		if (c->cmd == seen) {
			rte_pause();
			continue;
		}
		seen = c->cmd;
		/* Bursts of 32, as a TX lcore frees what its PMD sent. */
		for (unsigned int i = c->from; i < c->to; i += 32)
			rte_mempool_put_bulk(c->mp, (void **)&c->m[i], RTE_MIN(32u, c->to - i));
		c->done = seen;
	}
	return 0;
}

static void
freer_run(struct freer_ctx *c, unsigned int from, unsigned int to)
{
	c->from = from;
	c->to = to;
	c->cmd++;
	while (c->done != c->cmd)
		rte_pause();
}

/*
 * An lcore that only frees (never allocates), in bursts, ends up with mbufs of the newest
 * blocks in its cache: the reaper makes it hand them back as it goes on freeing, and the
 * cache gets its flush threshold back. Driven by the fake clock.
 */
static void
test_the_cache_of_an_lcore_that_only_frees_is_drained(void)
{
	unsigned int n = 0, reserve, next, total = 8192;
	struct freer_ctx c = { 0 };
	int worker = tide_test_worker_lcore();
	struct rte_mempool_cache *cache;
	uint32_t thresh;
	int rounds = 0;

	c.mp = drained_pool("tr_freer", 8 * MB, worker, &cache, &thresh);
	c.m = calloc(total, sizeof(*c.m));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.m);
	/* Allocated here, oldest blocks first: the base's, then 4 blocks above it. */
	while (n < total && pstats(c.mp).nb_blocks < 5 &&
			rte_pktmbuf_alloc_bulk(c.mp, &c.m[n], 32) == 0)
		n += 32;
	tide_pool_cache_flush(c.mp);
	CU_ASSERT_FATAL(pstats(c.mp).nb_blocks >= 5);
	/* The worker frees all but the base's first 1024, the newest last: its cache keeps the
	 * last of them, mbufs of the newest blocks.
	 */
	reserve = 1024;
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(freer_lcore, &c, worker), 0);
	freer_run(&c, reserve, n);
	CU_ASSERT(cache->len > 0);
	/* Then it only frees the base's mbufs, a burst a reaper period. */
	next = 0;
	while (pstats(c.mp).nb_blocks > 2 && rounds++ < 30) {
		tide_test_clock_advance(11ull * 1000 * 1000);
		tide_pool_reap(c.mp);
		freer_run(&c, next, next + 32);
		next += 32;
	}
	for (int i = 0; i < 3; i++) {
		tide_test_clock_advance(11ull * 1000 * 1000);
		tide_pool_reap(c.mp);
		freer_run(&c, next, next + 32);
		next += 32;
	}
	printf("\n    %d reaper rounds, %" PRIu64 " cache drains, cache len %u, %u block(s) "
		"left ", rounds, pstats(c.mp).cache_drains, cache->len, pstats(c.mp).nb_blocks);
	CU_ASSERT_EQUAL(pstats(c.mp).nb_blocks, 2);
	CU_ASSERT(pstats(c.mp).cache_drains > 0);
	CU_ASSERT_EQUAL(cache->flushthresh, thresh);
	c.stop = true;
	rte_eal_wait_lcore(worker);
	tide_test_clock_real();
	rte_mempool_put_bulk(c.mp, (void **)&c.m[next], reserve - next);
	rte_mempool_cache_flush(cache, c.mp);
	CU_ASSERT_EQUAL(pstats(c.mp).nb_in_use, 0);
	free(c.m);
	tide_pool_free(c.mp);
}
#endif

#ifdef TIDE_FAULT_INJECTION
/*
 * One mbuf held for long in block 3 of 6: without help the reap rule keeps blocks 3 to 5
 * (4 and 5 can only go after the blocks before them are idle). The reaper ranks block 3 as
 * old, just above the base, once nothing was taken from it for the threshold: the blocks
 * above go, and the pool holds the base, block 3 and one empty block of headroom. When the
 * mbuf comes back, the pool goes down to its base. Driven by the fake clock.
 */
static void
test_a_block_held_for_long_ranks_as_old(void)
{
	struct rte_mempool *mp;
	struct rte_mbuf *held;
	int rounds;

	tide_test_clock_fake();
	mp = manual_pool("tr_demote", 0, 10);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 5), 5);
	held = hold_one_in_block(mp, 3);
	for (rounds = 0; rounds < 20 && pstats(mp).nb_blocks > 3; rounds++) {
		tide_test_clock_advance(11ull * 1000 * 1000);
		tide_pool_reap(mp);
	}
	printf("\n    %d reaper rounds, %" PRIu64 " demotes, %u blocks ", rounds,
		pstats(mp).demotes, pstats(mp).nb_blocks);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 3);
	CU_ASSERT_EQUAL(pstats(mp).demotes, 1);
	CU_ASSERT_TRUE(in_block(mp, 1, held));
	/* New allocations fill the block ranked old first. */
	struct rte_mbuf *next = rte_pktmbuf_alloc(mp);
	struct rte_mbuf *all[1024];
	unsigned int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(next);
	CU_ASSERT_TRUE(in_block(mp, 0, next) || in_block(mp, 1, next));
	rte_pktmbuf_free(next);
	rte_pktmbuf_free(held);
	while (n < RTE_DIM(all) && (all[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	rte_pktmbuf_free_bulk(all, n);
	for (rounds = 0; rounds < 20 && pstats(mp).nb_blocks > 1; rounds++) {
		tide_test_clock_advance(11ull * 1000 * 1000);
		tide_pool_reap(mp);
	}
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	CU_ASSERT_EQUAL(pstats(mp).nb_in_use, 0);
	rte_mempool_audit(mp);
	tide_pool_free(mp);
	tide_test_clock_real();
}
#endif

static void
test_no_reap_while_an_mbuf_is_in_a_nic_ring(void)
{
	struct rte_ring *r = rte_ring_create("tr_txring", 64, SOCKET_ID_ANY,
		RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_eth_conf conf = { 0 };
	struct rte_mbuf *back, *one;
	struct rte_mempool *mp;
	int port;

	tide_test_clock_fake();
	mp = manual_pool("tr_ring", 0, 10);
	one = one_out_in_newest(mp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	port = rte_eth_from_ring(r);
	CU_ASSERT_FATAL(port >= 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, mp), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(rte_eth_dev_start(port), 0);
	/* The ring PMD's TX keeps the mbuf in its ring until something receives it. */
	CU_ASSERT_EQUAL(rte_eth_tx_burst(port, 0, &one, 1), 1);
	expect_no_reap(mp, "in a NIC ring");
	CU_ASSERT_EQUAL(rte_eth_rx_burst(port, 0, &back, 1), 1);
	CU_ASSERT_PTR_EQUAL(back, one);
	rte_pktmbuf_free(back);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_ring_free(r);
	tide_pool_free(mp);
	tide_test_clock_real();
}

static void
test_no_reap_while_a_clone_references_an_mbuf(void)
{
	struct rte_mempool *mp, *other;
	struct rte_mbuf *one, *clone;

	tide_test_clock_fake();
	mp = manual_pool("tr_clone", 0, 10);
	other = make_pool("tr_clone_o", 2 * MB, 2 * MB, 16 * MB, 0, 0);
	one = one_out_in_newest(mp);
	clone = rte_pktmbuf_clone(one, other);

	CU_ASSERT_PTR_NOT_NULL_FATAL(clone);
	/* The owner lets go; the clone still holds its data, so the mbuf stays out. */
	rte_pktmbuf_free(one);
	expect_no_reap(mp, "referenced by a clone");
	rte_pktmbuf_free(clone);
	tide_pool_reap(mp);
	tide_test_clock_pass(30 * MS);
	CU_ASSERT(tide_pool_reap(mp) >= 1);
	tide_pool_free(other);
	tide_pool_free(mp);
	tide_test_clock_real();
}

static void
test_no_reap_while_an_mbuf_is_a_message_in_an_exchange(void)
{
	struct tide_xchg_params xp = { .name = "tr_msg_x", .type = TIDE_XCHG_FIFO, .size = 16,
		.socket_id = SOCKET_ID_ANY };
	struct rte_mbuf *one, *back = NULL;
	struct rte_mempool *mp;
	struct tide_xchg *x;

	tide_test_clock_fake();
	mp = manual_pool("tr_msg", 0, 10);
	one = one_out_in_newest(mp);

	CU_ASSERT_EQUAL_FATAL(tide_msg_init(NULL), 0);
	x = tide_xchg_create(&xp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	/* Made a message and sent on: no stage holds it, the exchange does. */
	tide_msg_make(one, 1, 0);
	CU_ASSERT_EQUAL(tide_xchg_send_burst(x, &one, 1), 1);
	expect_no_reap(mp, "in an exchange");
	CU_ASSERT_EQUAL_FATAL(tide_xchg_recv_burst(x, &back, 1, 2), 1);
	expect_no_reap(mp, "held as a message");
	tide_msg_release(back);
	tide_pool_reap(mp);
	tide_test_clock_pass(30 * MS);
	CU_ASSERT(tide_pool_reap(mp) >= 1);
	tide_xchg_free(x);
	tide_pool_free(mp);
	tide_test_clock_real();
}

/* ---- stress: the reaper at 1 ms while 2 lcores and a thread allocate and free ---- */

/* The mempool's populated count equals the driver's objects. The control thread keeps
 * reaping (and a block being added is populated before it is published), so take a
 * reading between two identical readings of the first, and allow it a second to settle.
 */
static bool
populated_matches(struct rte_mempool *mp)
{
	for (int i = 0; i < 1000; i++) {
		unsigned int before = mp->populated_size;
		uint64_t objs = pstats(mp).nb_objs;

		if (mp->populated_size == before && objs == before)
			return true;
		tide_test_sleep_us(1000);
	}
	return false;
}

static void
test_stress_reaper_at_1ms_with_lcores_and_a_thread(void)
{
	struct pool_stress s = { .hold = 6144, .max_bulk = 128 };
	struct tide_pool_params p;
	struct tide_mempool_stats ms;
	struct tide_pool_stats st;

	pool_params(&p, "tr_stress", 2 * MB, 2 * MB, 512 * MB, 64);
	p.priv_size = 8;
	p.reap_period_ms = 1;
	p.idle_ms = 2;
	s.mp = make_pool_p(&p);
	pool_stress_run(&s, 2000ull * 1000 * 1000);

	st = pstats(s.mp);
	ms = mstats(s.mp);
	printf("\n    %" PRIu64 " ops; grew %" PRIu64 "+%" PRIu64 ", reaped %" PRIu64
		", %u blocks at the end ", s.ops, st.grows_ahead, st.grows_sync, st.reaps,
		st.nb_blocks);
	CU_ASSERT_EQUAL(s.dups, 0);
	CU_ASSERT_EQUAL(s.bad_owner, 0);
	CU_ASSERT_EQUAL(s.fails, 0);
	CU_ASSERT_EQUAL(ms.nb_foreign, 0);
	CU_ASSERT_EQUAL(ms.nb_double, 0);
	CU_ASSERT(st.reaps > 0);
	CU_ASSERT(st.grows_ahead + st.grows_sync > 0);
	CU_ASSERT_EQUAL(st.nb_free, st.nb_objs);
	CU_ASSERT_EQUAL(st.nb_in_use, 0);
	CU_ASSERT_TRUE(populated_matches(s.mp));
	CU_ASSERT_EQUAL(pool_stress_dirty(s.mp), 0);
	rte_mempool_audit(s.mp);
	tide_pool_free(s.mp);
}

/* ---- telemetry shows each block ---- */

static void
test_telemetry_shows_each_block(void)
{
	struct rte_mempool *mp = manual_pool("tr_tel", 0, 10);
	char *out;

	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 2), 2);
	out = telemetry_query("/tide/pool/info,tr_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"block_list\":{\"b1\":{\"bytes\":2097152,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"b3\":{"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"age_ms\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"idle_ms\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"out\":0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"reaps\":0"));
	if (strstr(out, "block_list") == NULL)
		printf("\n    %s ", out);
	free(out);
	tide_pool_free(mp);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_reap");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_reap_rule_newest_only_and_headroom_kept);
	CU_ADD_TEST(s, test_reap_gives_hugepages_back_to_the_os);
	CU_ADD_TEST(s, test_pool_returns_to_base_after_traffic_and_cache_flush);
	CU_ADD_TEST(s, test_no_reap_while_an_mbuf_is_allocated);
	CU_ADD_TEST(s, test_no_reap_while_an_mbuf_is_in_an_lcore_cache);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_cache_that_alone_pins_blocks_is_drained);
	CU_ADD_TEST(s, test_a_cache_holding_both_candidates_mbufs_is_drained);
	CU_ADD_TEST(s, test_the_cache_of_an_lcore_that_only_frees_is_drained);
	CU_ADD_TEST(s, test_a_block_held_for_long_ranks_as_old);
#endif
	CU_ADD_TEST(s, test_no_reap_while_an_mbuf_is_in_a_nic_ring);
	CU_ADD_TEST(s, test_no_reap_while_a_clone_references_an_mbuf);
	CU_ADD_TEST(s, test_no_reap_while_an_mbuf_is_a_message_in_an_exchange);
	CU_ADD_TEST(s, test_stress_reaper_at_1ms_with_lcores_and_a_thread);
	CU_ADD_TEST(s, test_telemetry_shows_each_block);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_reap", true, register_tests);
}
