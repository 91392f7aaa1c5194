/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Block events (tide_mempool.h): once per block added and removed, in order, before the
 * block's objects can be taken and before its memory goes; a late registration replays
 * what exists; a veto keeps the block until a retry; unregistering while events fire is
 * safe; a mempool's final events when it is freed; the threads they run on. Then a
 * registry of "DMA-mapped" ranges kept by a callback, checked against every mbuf handed
 * out while an elastic pool grows and reaps at a millisecond under 2 lcores and a thread.
 */

#define _GNU_SOURCE /* pthread_getname_np */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_rwlock.h>

#include "test_common.h"
#include "test_mempool_util.h"
#include "test_pool_util.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_pool.h"

#define OBJ_SIZE 128
#define BLOCK_LEN (2u << 20)
#define MAX_EV 256

static struct rte_mempool *
empty_tide_pool(const char *name)
{
	struct rte_mempool *mp = raw_tide_pool(name, 1u << 20, OBJ_SIZE, 0);

	/* Its pool data now, so that callbacks may register before the first block. */
	CU_ASSERT_EQUAL_FATAL(tide_mempool_grow_cb_set(mp, NULL, NULL), 0);
	return mp;
}

static int64_t
add_block(struct rte_mempool *mp)
{
	return raw_add_mz_block(mp, BLOCK_LEN, NULL);
}

/* ---- a log of the events a callback saw ---- */

struct ev {
	const struct rte_mempool *mp;
	enum tide_mempool_block_event event;
	struct tide_mempool_block_desc blk;
	bool was_live;        /* the block was in the driver's live list during the call */
	pthread_t thread;
};

struct ev_log {
	pthread_mutex_t lock;
	struct ev ev[MAX_EV];
	unsigned int n;
	uint64_t veto_id;     /* REMOVE of this block is refused (0: none) */
	int veto_ret;
};

static void
log_init(struct ev_log *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->veto_ret = -EBUSY;
}

static bool
live_in_driver(struct rte_mempool *mp, uint64_t id)
{
	struct tide_mempool_block_info bi;

	for (unsigned int i = 0; tide_mempool_block_info(mp, i, &bi) == 0; i++)
		if (bi.id == id)
			return true;
	return false;
}

static int
log_cb(struct rte_mempool *mp, enum tide_mempool_block_event event,
	const struct tide_mempool_block_desc *blk, void *arg)
{
	struct ev_log *l = arg;
	bool live = live_in_driver(mp, blk->id);
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	if (l->n < MAX_EV)
		l->ev[l->n++] = (struct ev){ .mp = mp, .event = event, .blk = *blk,
			.was_live = live, .thread = pthread_self() };
	if (event == TIDE_MEMPOOL_BLOCK_REMOVE && blk->id == l->veto_id)
		ret = l->veto_ret;
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* Event i of the log is @event of block @id with @flags. */
static void
expect_ev(struct ev_log *l, unsigned int i, enum tide_mempool_block_event event, uint64_t id,
	uint32_t flags)
{
	CU_ASSERT_FATAL(i < l->n);
	if (l->ev[i].event != event || l->ev[i].blk.id != id || l->ev[i].blk.flags != flags)
		printf("\n    event %u: %s of block %" PRIu64 " flags %#x, expected %s of %"
			PRIu64 " flags %#x ", i, l->ev[i].event == TIDE_MEMPOOL_BLOCK_ADD ? "ADD" :
			"REMOVE", l->ev[i].blk.id, l->ev[i].blk.flags,
			event == TIDE_MEMPOOL_BLOCK_ADD ? "ADD" : "REMOVE", id, flags);
	CU_ASSERT_EQUAL(l->ev[i].event, event);
	CU_ASSERT_EQUAL(l->ev[i].blk.id, id);
	CU_ASSERT_EQUAL(l->ev[i].blk.flags, flags);
}

/*
 * Once per block, in order: ADD after population and before dequeue can take from it,
 * REMOVE before the memory goes and after dequeue can no longer reach it, and the final
 * REMOVEs when the mempool is freed.
 */
static void
test_events_fire_once_per_block_in_order(void)
{
	struct rte_mempool *mp = empty_tide_pool("tev_order");
	struct tide_mempool_block_info bi;
	struct ev_log l;
	int64_t id[4];

	log_init(&l);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, log_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 0);
	for (int i = 0; i < 3; i++)
		id[i] = add_block(mp);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	for (unsigned int i = 0; i < 3; i++) {
		expect_ev(&l, i, TIDE_MEMPOOL_BLOCK_ADD, (uint64_t)id[i], 0);
		CU_ASSERT_FALSE(l.ev[i].was_live);
		CU_ASSERT_TRUE(pthread_equal(l.ev[i].thread, pthread_self()));
		CU_ASSERT_EQUAL(tide_mempool_block_info(mp, i, &bi), 0);
		CU_ASSERT_PTR_EQUAL(l.ev[i].blk.addr, bi.addr);
		CU_ASSERT_EQUAL(l.ev[i].blk.len, bi.len);
		CU_ASSERT_EQUAL(l.ev[i].blk.nb_objs, bi.nb_objs);
		CU_ASSERT_EQUAL(l.ev[i].blk.iova, rte_mem_virt2iova(bi.addr));
		/* One 2 MB page: one IOVA-contiguous run. */
		CU_ASSERT_TRUE(l.ev[i].blk.iova_contig);
	}
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id[1], 0), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	expect_ev(&l, 3, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id[1], 0);
	CU_ASSERT_FALSE(l.ev[3].was_live);
	/* A refused removal (an object out) tells nobody. */
	void *obj;
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get(mp, &obj), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id[0], 0), -EBUSY);
	rte_mempool_put(mp, obj);
	CU_ASSERT_EQUAL(l.n, 4);
	id[3] = add_block(mp);
	CU_ASSERT_EQUAL_FATAL(l.n, 5);
	expect_ev(&l, 4, TIDE_MEMPOOL_BLOCK_ADD, (uint64_t)id[3], 0);
	/* Freed: every block goes, newest first, and cannot be kept. */
	l.veto_id = (uint64_t)id[2];
	rte_mempool_free(mp);
	CU_ASSERT_EQUAL_FATAL(l.n, 8);
	expect_ev(&l, 5, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id[3], TIDE_MEMPOOL_BLOCK_F_FINAL);
	expect_ev(&l, 6, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id[2], TIDE_MEMPOOL_BLOCK_F_FINAL);
	expect_ev(&l, 7, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id[0], TIDE_MEMPOOL_BLOCK_F_FINAL);
	/* Its registration ended with it. */
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, log_cb, &l), -ENOENT);
}

/* Registering late replays the blocks that exist, oldest first, then events follow. */
static void
test_a_late_registration_replays_the_blocks(void)
{
	struct rte_mempool *a = empty_tide_pool("tev_late_a"), *b = empty_tide_pool("tev_late_b");
	struct ev_log l, all;
	int64_t ia[3], ib;

	for (int i = 0; i < 3; i++)
		ia[i] = add_block(a);
	ib = add_block(b);
	CU_ASSERT_EQUAL(tide_mempool_block_remove(a, (uint64_t)ia[1], 0), 0);
	log_init(&l);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(a, log_cb, &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	expect_ev(&l, 0, TIDE_MEMPOOL_BLOCK_ADD, (uint64_t)ia[0], TIDE_MEMPOOL_BLOCK_F_REPLAY);
	expect_ev(&l, 1, TIDE_MEMPOOL_BLOCK_ADD, (uint64_t)ia[2], TIDE_MEMPOOL_BLOCK_F_REPLAY);
	CU_ASSERT_TRUE(l.ev[0].was_live);
	ia[1] = add_block(a);
	add_block(b); /* not a's: not told */
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	expect_ev(&l, 2, TIDE_MEMPOOL_BLOCK_ADD, (uint64_t)ia[1], 0);
	/* For every tide mempool: both pools' blocks, and only tide mempools'. */
	log_init(&all);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(NULL, log_cb, &all), 0);
	CU_ASSERT_EQUAL(all.n, 5);
	for (unsigned int i = 0; i < all.n; i++) {
		CU_ASSERT(all.ev[i].mp == a || all.ev[i].mp == b);
		CU_ASSERT_EQUAL(all.ev[i].blk.flags, TIDE_MEMPOOL_BLOCK_F_REPLAY);
		if (i > 0 && all.ev[i].mp == all.ev[i - 1].mp)
			CU_ASSERT(all.ev[i].blk.id > all.ev[i - 1].blk.id);
		if (all.ev[i].mp == b && all.ev[i].blk.id == (uint64_t)ib)
			CU_ASSERT(i == 0 || all.ev[i - 1].mp != b);
	}
	/* Unregistered: told nothing more. */
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(a, log_cb, &l), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(NULL, log_cb, &all), 0);
	add_block(a);
	CU_ASSERT_EQUAL(l.n, 3);
	CU_ASSERT_EQUAL(all.n, 5);
	rte_mempool_free(a);
	rte_mempool_free(b);
	CU_ASSERT_EQUAL(l.n, 3);
	CU_ASSERT_EQUAL(all.n, 5);
}

/*
 * A callback that cannot let a block go yet vetoes: the block stays, allocations take
 * from it, callbacks that had let it go get it back (RESTORED), and a retry removes it.
 */
static void
test_a_veto_keeps_the_block_until_a_retry(void)
{
	struct rte_mempool *mp = empty_tide_pool("tev_veto");
	struct ev_log first, second;
	void *objs[64];
	int64_t id0, id1;
	unsigned int n;

	id0 = add_block(mp);
	id1 = add_block(mp);
	log_init(&first);
	log_init(&second);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, log_cb, &first), 0);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, log_cb, &second), 0);
	second.veto_id = (uint64_t)id1;
	n = first.n;
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id1, 0), -EAGAIN);
	CU_ASSERT_EQUAL(rte_errno, EAGAIN);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 2);
	CU_ASSERT_TRUE(live_in_driver(mp, (uint64_t)id1));
	CU_ASSERT_EQUAL_FATAL(first.n, n + 2);
	expect_ev(&first, n, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id1, 0);
	expect_ev(&first, n + 1, TIDE_MEMPOOL_BLOCK_ADD, (uint64_t)id1,
		TIDE_MEMPOOL_BLOCK_F_RESTORED);
	CU_ASSERT_EQUAL(second.n, n + 1);
	/* It serves again, in its old place: the oldest block first, then it. */
	{
		struct tide_mempool_block_info bi;
		unsigned int total;

		CU_ASSERT_EQUAL(tide_mempool_block_info(mp, 1, &bi), 0);
		CU_ASSERT_EQUAL(bi.id, (uint64_t)id1);
		total = (unsigned int)tide_mempool_block_capacity(mp, BLOCK_LEN);
		CU_ASSERT(total > 64);
	}
	CU_ASSERT_EQUAL(rte_mempool_get_bulk(mp, objs, RTE_DIM(objs)), 0);
	rte_mempool_put_bulk(mp, objs, RTE_DIM(objs));
	/* The retry, once the callback can let it go. */
	second.veto_id = 0;
	CU_ASSERT_EQUAL(tide_mempool_block_remove(mp, (uint64_t)id1, 0), 0);
	expect_ev(&first, n + 2, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id1, 0);
	expect_ev(&second, n + 1, TIDE_MEMPOOL_BLOCK_REMOVE, (uint64_t)id1, 0);
	CU_ASSERT_EQUAL(tide_mempool_block_count(mp), 1);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, log_cb, &first), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, log_cb, &second), 0);
	(void)id0;
	rte_mempool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
/* The reaper of an elastic pool meets a veto: the block stays, is counted, and the next
 * period's reaper releases it once the callback lets it go. Driven by the fake clock.
 */
static void
test_the_reaper_retries_a_vetoed_block(void)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;
	struct ev_log l;
	uint64_t newest;
	unsigned int n;

	tide_test_clock_fake();
	pool_params(&p, "tev_reap", 2 * MB, 2 * MB, 64 * MB, 0);
	p.reap_period_ms = 0;
	p.idle_ms = 10;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	mp = make_pool_p(&p);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 2), 2);
	log_init(&l);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, log_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 3);
	newest = l.ev[2].blk.id;
	l.veto_id = newest;
	tide_test_clock_pass(20 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 3);
	CU_ASSERT_EQUAL(pstats(mp).reap_vetoes, 1);
	CU_ASSERT_TRUE(live_in_driver(mp, newest));
	n = l.n;
	expect_ev(&l, n - 1, TIDE_MEMPOOL_BLOCK_REMOVE, newest, 0);
	l.veto_id = 0;
	tide_test_clock_pass(20 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 2);
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	expect_ev(&l, n, TIDE_MEMPOOL_BLOCK_REMOVE, newest, 0);
	expect_ev(&l, n + 1, TIDE_MEMPOOL_BLOCK_REMOVE, newest - 1, 0);
	tide_pool_free(mp);
	expect_ev(&l, n + 2, TIDE_MEMPOOL_BLOCK_REMOVE, newest - 2, TIDE_MEMPOOL_BLOCK_F_FINAL);
	tide_test_clock_real();
}
#endif

/*
 * Pools created the stock way (rte_pktmbuf_pool_create_by_ops with the tide ops): an
 * adopted pool's base is told once, whole, before the creation returns, and its growth
 * after; a pool populated whole is told of each chunk it was populated with.
 */
static void
test_stock_created_pools_tell_their_blocks(void)
{
	unsigned int n = 8192, adds;
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	struct rte_mempool *mp;
	struct ev_log l;

	log_init(&l);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(NULL, log_cb, &l), 0);
	tide_test_use_profiles("tev_adopt base=2M block=2M reap=0\ntev_fixed fixed\n");
	mp = rte_pktmbuf_pool_create_by_ops("tev_adopt", n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY, TIDE_MEMPOOL_OPS_NAME);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	expect_ev(&l, 0, TIDE_MEMPOOL_BLOCK_ADD, 1, 0);
	CU_ASSERT_PTR_EQUAL(l.ev[0].mp, mp);
	CU_ASSERT_EQUAL(l.ev[0].blk.nb_objs, pstats(mp).nb_objs);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	adds = l.n;
	CU_ASSERT_EQUAL(adds, pstats(mp).nb_blocks);
	for (unsigned int i = 1; i < adds; i++)
		expect_ev(&l, i, TIDE_MEMPOOL_BLOCK_ADD, i + 1, 0);
	rte_pktmbuf_free_bulk(m, n);
	rte_mempool_free(mp);
	CU_ASSERT_EQUAL(l.n, 2 * adds);
	for (unsigned int i = adds; i < l.n; i++)
		expect_ev(&l, i, TIDE_MEMPOOL_BLOCK_REMOVE, 2 * adds - i,
			TIDE_MEMPOOL_BLOCK_F_FINAL);

	log_init(&l);
	mp = rte_pktmbuf_pool_create_by_ops("tev_fixed", n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY, TIDE_MEMPOOL_OPS_NAME);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
	CU_ASSERT(l.n >= 1);
	CU_ASSERT_EQUAL(l.n, tide_mempool_block_count(mp));
	adds = 0;
	for (unsigned int i = 0; i < l.n; i++)
		adds += l.ev[i].blk.nb_objs;
	CU_ASSERT_EQUAL(adds, n);
	rte_mempool_free(mp);
	tide_test_use_profiles(NULL);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(NULL, log_cb, &l), 0);
	free(m);
}

/*
 * A pool filled with rte_mempool_populate_anon(): at its free each block gets one final
 * REMOVE, and nothing says a populate failed. DPDK's anonymous chunk asks calc_mem_size()
 * its length as it is freed, after its objects left the pool; in IOVA-as-VA mode the
 * pool is then one chunk, and the driver took that for a populate that had failed (a
 * second REMOVE per block and a NOTICE). The suite runs this test in both modes.
 */
static void
test_an_anonymous_pool_freed_tells_each_block_once(void)
{
	const char *want = getenv("TIDE_TEST_IOVA");
	unsigned int adds, removes = 0;
	struct rte_mempool *mp;
	struct ev_log l;
	char *log;

	printf("(IOVA as %s) ", rte_eal_iova_mode() == RTE_IOVA_VA ? "VA" : "PA");
	if (want != NULL && strcmp(want, "va") == 0)
		CU_ASSERT_EQUAL_FATAL(rte_eal_iova_mode(), RTE_IOVA_VA);
	/* With no block callback registered yet (in a process of its own, as the VA run is,
	 * the driver's watch of mempool events is its own): no false NOTICE either.
	 */
	mp = raw_tide_pool("tev_anon0", 512, OBJ_SIZE, 0);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_populate_anon(mp), 512);
	tide_test_log_begin();
	rte_mempool_free(mp);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NULL(strstr(log, "failed populate"));
	free(log);

	mp = raw_tide_pool("tev_anon", 512, OBJ_SIZE, 0);
	log_init(&l);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(NULL, log_cb, &l), 0);
	CU_ASSERT_EQUAL_FATAL(rte_mempool_populate_anon(mp), 512);
	CU_ASSERT_FATAL(2 * l.n <= MAX_EV); /* one chunk a page in IOVA-PA */
	adds = l.n;
	CU_ASSERT(adds >= 1);
	CU_ASSERT_EQUAL(adds, tide_mempool_block_count(mp));
	tide_test_log_begin();
	rte_mempool_free(mp);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NULL(strstr(log, "failed populate"));
	CU_ASSERT_EQUAL(l.n, 2 * adds);
	for (unsigned int i = adds; i < l.n; i++) {
		unsigned int told = 0;

		CU_ASSERT_EQUAL(l.ev[i].event, TIDE_MEMPOOL_BLOCK_REMOVE);
		CU_ASSERT_EQUAL(l.ev[i].blk.flags, TIDE_MEMPOOL_BLOCK_F_FINAL);
		for (unsigned int j = adds; j < l.n; j++)
			told += l.ev[j].blk.id == l.ev[i].blk.id;
		CU_ASSERT_EQUAL(told, 1);
		removes++;
	}
	CU_ASSERT_EQUAL(removes, adds);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(NULL, log_cb, &l), 0);
	free(log);
}

/* ---- which thread: the caller of tide_pool_grow(), a failing allocation, tide-ctl ---- */

static void
ev_thread_name(const struct ev *e, char *name, size_t len)
{
	name[0] = '\0';
	pthread_getname_np(e->thread, name, len);
}

static void
test_events_run_on_the_thread_that_adds_the_block(void)
{
	struct tide_pool_params p;
	struct rte_mempool *mp;
	struct rte_mbuf **m;
	struct ev_log l;
	unsigned int n, i, k, more;
	char name[32];

	pool_params(&p, "tev_thread", 2 * MB, 2 * MB, 64 * MB, 0);
	p.reap_period_ms = 0;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	mp = make_pool_p(&p);
	log_init(&l);
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, log_cb, &l), 0);
	/* tide_pool_grow(): this thread. */
	CU_ASSERT_EQUAL(tide_pool_grow(mp, 1), 1);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_TRUE(pthread_equal(l.ev[1].thread, pthread_self()));
	/* A failing allocation grows on its own thread (this one too). */
	n = (unsigned int)pstats(mp).nb_objs;
	m = calloc(2 * n, sizeof(*m));
	k = l.n;
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n + 1), 0);
	CU_ASSERT(pstats(mp).grows_sync >= 1);
	for (i = k; i < l.n && !pthread_equal(l.ev[i].thread, pthread_self()); i++)
		;
	CU_ASSERT(i < l.n);
	/* Below the watermark (half a block free): the control thread grows ahead, on its
	 * own thread.
	 */
	k = l.n;
	n++;
	more = (unsigned int)pstats(mp).nb_free - 10;
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, &m[n], more), 0);
	n += more;
	for (i = 0; i < 2000 && l.n == k; i++)
		tide_test_sleep_us(10 * 1000);
	CU_ASSERT_FATAL(l.n > k);
	ev_thread_name(&l.ev[k], name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "tide-ctl");
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	tide_mempool_block_event_unregister(mp, log_cb, &l);
	tide_pool_free(mp);
}

/* ---- registration errors ---- */

static int
nop_cb(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event event __rte_unused,
	const struct tide_mempool_block_desc *blk __rte_unused, void *arg __rte_unused)
{
	return 0;
}

static int deadlk_ret;
/* What each call the callback must not make returned: add, remove, move, walk. */
static int deadlk_rets[4];

static void
count_obj(struct rte_mempool *mp __rte_unused, void *arg __rte_unused, void *obj __rte_unused,
	unsigned int i __rte_unused)
{
}

static int
register_inside_cb(struct rte_mempool *mp, enum tide_mempool_block_event event,
	const struct tide_mempool_block_desc *blk, void *arg __rte_unused)
{
	deadlk_ret = tide_mempool_block_event_register(mp, nop_cb, NULL);
	if (event == TIDE_MEMPOOL_BLOCK_ADD) {
		deadlk_rets[0] = (int)tide_mempool_block_add(mp, blk->addr, blk->len, NULL, NULL,
			NULL, NULL);
		deadlk_rets[1] = tide_mempool_block_remove(mp, blk->id, 0);
		deadlk_rets[2] = tide_mempool_block_move(mp, blk->id, 0);
		deadlk_rets[3] = tide_mempool_obj_iter(mp, count_obj, NULL);
	}
	return 0;
}

static void
test_registration_errors(void)
{
	struct rte_mempool *mp = empty_tide_pool("tev_err"), *ring;
	uintptr_t i;

	ring = rte_mempool_create("tev_ring", 1023, OBJ_SIZE, 0, 0, NULL, NULL, NULL, NULL,
		SOCKET_ID_ANY, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(mp, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(ring, nop_cb, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, nop_cb, NULL), -ENOENT);
	CU_ASSERT_EQUAL(rte_errno, ENOENT);
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(mp, nop_cb, NULL), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(mp, nop_cb, NULL), -EEXIST);
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	/* Another argument, or all pools, is another registration. */
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(NULL, nop_cb, NULL), 0);
	for (i = 1; i <= TIDE_MEMPOOL_BLOCK_EVENT_MAX - 2; i++)
		CU_ASSERT_EQUAL(tide_mempool_block_event_register(mp, nop_cb, (void *)i), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(mp, nop_cb, (void *)i), -ENOSPC);
	CU_ASSERT_EQUAL(rte_errno, ENOSPC);
	for (i = 1; i <= TIDE_MEMPOOL_BLOCK_EVENT_MAX - 2; i++)
		CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, nop_cb, (void *)i), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(NULL, nop_cb, NULL), 0);
	/* From inside a callback: refused, not a deadlock. */
	CU_ASSERT_EQUAL(tide_mempool_block_event_register(mp, register_inside_cb, NULL), 0);
	add_block(mp);
	CU_ASSERT_EQUAL(deadlk_ret, -EDEADLK);
	for (i = 0; i < RTE_DIM(deadlk_rets); i++)
		CU_ASSERT_EQUAL(deadlk_rets[i], -EDEADLK);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, register_inside_cb, NULL), 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, nop_cb, NULL), 0);
	rte_mempool_free(ring);
	rte_mempool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
static unsigned int replayed;

static int
count_cb(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event event __rte_unused,
	const struct tide_mempool_block_desc *blk __rte_unused, void *arg __rte_unused)
{
	replayed++;
	return 0;
}

/*
 * A registration for every pool whose replay runs out of memory at any pool's blocks fails
 * having told the callback nothing: an ADD it heard would never get its REMOVE (the
 * registration is gone). Then, memory back, it replays them all.
 */
static void
test_a_replay_out_of_memory_tells_nothing(void)
{
	struct rte_mempool *a = empty_tide_pool("tev_oom_a"), *b = empty_tide_pool("tev_oom_b");
	unsigned int skip;
	int ret = -ENOMEM;

	CU_ASSERT_FATAL(add_block(a) > 0 && add_block(b) > 0);
	for (skip = 0; skip < 64 && ret != 0; skip++) {
		replayed = 0;
		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, skip, 1);
		ret = tide_mempool_block_event_register(NULL, count_cb, NULL);
		tide_fault_pvt_arm(TIDE_FAULT_MALLOC, 0, 0);
		if (ret != 0) {
			CU_ASSERT_EQUAL(ret, -ENOMEM);
			CU_ASSERT_EQUAL(replayed, 0);
		}
	}
	CU_ASSERT(skip >= 2); /* it failed at both pools at least */
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT(replayed >= 2);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(NULL, count_cb, NULL), 0);
	rte_mempool_free(a);
	rte_mempool_free(b);
}
#endif

/* ---- unregistering while events fire ---- */

#define LISTENER_MAGIC 0x6c697374656e6572ull

/* A callback's state on the heap: freed right after its unregistration returns, so that
 * a call after that is a use after free (ASan) and a wrong magic here.
 */
struct listener {
	uint64_t magic;
	uint64_t calls;
	bool self_unregister; /* unregisters itself from inside its first call */
	struct rte_mempool *mp;
};

static uint64_t late_calls;

static int
listener_cb(struct rte_mempool *mp __rte_unused, enum tide_mempool_block_event event
	__rte_unused, const struct tide_mempool_block_desc *blk, void *arg)
{
	struct listener *li = arg;

	if (__atomic_load_n(&li->magic, __ATOMIC_ACQUIRE) != LISTENER_MAGIC)
		__atomic_fetch_add(&late_calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&li->calls, 1, __ATOMIC_RELAXED);
	/* From an event of the churning thread (a replay runs before it is registered). */
	if (li->self_unregister && (blk->flags & TIDE_MEMPOOL_BLOCK_F_REPLAY) == 0) {
		li->self_unregister = false;
		tide_mempool_block_event_unregister(li->mp, listener_cb, li);
	}
	return 0;
}

struct churn_blocks {
	struct rte_mempool *mp;
	volatile bool stop;
	uint64_t adds, removes;
};

static void *
churn_blocks_main(void *arg)
{
	struct churn_blocks *c = arg;
	struct tide_mempool_block_info bi;

	while (!c->stop) {
		unsigned int n = tide_mempool_block_count(c->mp);

		if (n < 6) {
			if (add_block(c->mp) > 0)
				c->adds++;
		} else if (tide_mempool_block_info(c->mp, n - 1, &bi) == 0 &&
				tide_mempool_block_remove(c->mp, bi.id, 0) == 0) {
			c->removes++;
		}
	}
	return NULL;
}

static void
test_unregistering_while_events_fire_is_safe(void)
{
	struct churn_blocks c = { .mp = empty_tide_pool("tev_unreg") };
	uint64_t t0 = tide_test_now_ns(), rounds = 0, selfs = 0;
	pthread_t th;

	late_calls = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, churn_blocks_main, &c), 0);
	while (tide_test_now_ns() - t0 < 1000 * MS || rounds < 200) {
		struct listener *li = calloc(1, sizeof(*li));
		bool all = rounds % 3 == 0;

		li->magic = LISTENER_MAGIC;
		li->mp = all ? NULL : c.mp;
		li->self_unregister = rounds % 2 == 0;
		CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(li->mp, listener_cb, li),
			0);
		tide_test_sleep_us(rte_rand_max(2000));
		/* Gone already if it unregistered itself; else now, maybe mid-event. */
		if (tide_mempool_block_event_unregister(li->mp, listener_cb, li) == -ENOENT)
			selfs++;
		/* Nothing may call it from now on. */
		__atomic_store_n(&li->magic, 0, __ATOMIC_RELEASE);
		free(li);
		rounds++;
		if (tide_test_now_ns() - t0 > 20000 * MS)
			break;
	}
	c.stop = true;
	pthread_join(th, NULL);
	printf("\n    %" PRIu64 " registrations, %" PRIu64 " unregistered themselves, %"
		PRIu64 " blocks added and %" PRIu64 " removed meanwhile ", rounds, selfs, c.adds,
		c.removes);
	CU_ASSERT_EQUAL(late_calls, 0);
	CU_ASSERT(selfs > 0);
	CU_ASSERT(c.adds > 10 && c.removes > 10);
	rte_mempool_free(c.mp);
}

/* ---- a registry of DMA-mapped ranges, as a PMD would keep it ---- */

#define DMA_MAX 4096

struct dma_range {
	const struct rte_mempool *mp;
	uint64_t id;
	uintptr_t lo, hi;
};

static struct {
	rte_rwlock_t lock;
	struct dma_range r[DMA_MAX];
	unsigned int n;
	uint64_t last_add[4];     /* per pool slot: newest id added (order check) */
	const struct rte_mempool *pools[4];
	uint64_t adds, removes;
	uint64_t errors;          /* an ADD twice, a REMOVE of what was not added, ids out of
				   * order, no IOVA */
} dma;

static unsigned int
dma_pool_slot(const struct rte_mempool *mp)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(dma.pools) && dma.pools[i] != NULL; i++)
		if (dma.pools[i] == mp)
			return i;
	if (i < RTE_DIM(dma.pools))
		dma.pools[i] = mp;
	return i;
}

static int
dma_find(const struct rte_mempool *mp, uint64_t id)
{
	for (unsigned int i = 0; i < dma.n; i++)
		if (dma.r[i].mp == mp && dma.r[i].id == id)
			return (int)i;
	return -1;
}

static int
dma_cb(struct rte_mempool *mp, enum tide_mempool_block_event event,
	const struct tide_mempool_block_desc *blk, void *arg __rte_unused)
{
	unsigned int slot;
	int i;

	rte_rwlock_write_lock(&dma.lock);
	slot = dma_pool_slot(mp);
	i = dma_find(mp, blk->id);
	if (event == TIDE_MEMPOOL_BLOCK_ADD) {
		if (i >= 0 || dma.n == DMA_MAX || blk->iova == RTE_BAD_IOVA)
			dma.errors++;
		else
			dma.r[dma.n++] = (struct dma_range){ .mp = mp, .id = blk->id,
				.lo = (uintptr_t)blk->addr, .hi = (uintptr_t)blk->addr + blk->len };
		/* New blocks come in id order (a replay or a restore re-adds older ones). */
		if (blk->flags == 0 && slot < RTE_DIM(dma.pools)) {
			if (blk->id <= dma.last_add[slot])
				dma.errors++;
			dma.last_add[slot] = blk->id;
		}
		dma.adds++;
	} else {
		if (i < 0)
			dma.errors++;
		else
			dma.r[i] = dma.r[--dma.n];
		dma.removes++;
	}
	rte_rwlock_write_unlock(&dma.lock);
	return 0;
}

/* Whether mbuf @m lies, whole, in a registered range of its pool. */
static bool
dma_mapped(const struct rte_mbuf *m, void *arg __rte_unused)
{
	uintptr_t lo = (uintptr_t)m, hi = (uintptr_t)m->buf_addr + m->buf_len;
	bool ok = false;

	rte_rwlock_read_lock(&dma.lock);
	for (unsigned int i = 0; i < dma.n && !ok; i++)
		ok = dma.r[i].mp == m->pool && lo >= dma.r[i].lo && hi <= dma.r[i].hi;
	rte_rwlock_read_unlock(&dma.lock);
	return ok;
}

/*
 * Whether the registry holds exactly the pool's live blocks (ids and ranges) and has seen
 * every block the pool ever added and released. The control thread goes on growing and
 * reaping: between an event and the change it announces the two differ, so the caller
 * polls; a missed or doubled event leaves them apart for good.
 */
static bool
dma_settled(void *arg)
{
	struct rte_mempool *mp = arg;
	struct tide_pool_stats st = pstats(mp);
	struct tide_mempool_block_info bi;
	unsigned int i, n = 0;
	bool ok;
	int k;

	rte_rwlock_read_lock(&dma.lock);
	ok = dma.adds == 1 + st.grows_ahead + st.grows_sync && dma.removes == st.reaps;
	for (i = 0; ok && tide_mempool_block_info(mp, i, &bi) == 0; i++) {
		k = dma_find(mp, bi.id);
		ok = k >= 0 && dma.r[k].lo == (uintptr_t)bi.addr &&
			dma.r[k].hi == (uintptr_t)bi.addr + bi.len;
	}
	for (unsigned int j = 0; j < dma.n; j++)
		n += dma.r[j].mp == mp;
	rte_rwlock_read_unlock(&dma.lock);
	return ok && n == i;
}

/*
 * The registry follows an elastic pool that grows (ahead and inside failing allocations)
 * and reaps every millisecond under 2 lcores and a non-EAL thread: every mbuf handed out
 * lies in a registered range, no range outlives its block, every block is told once.
 */
static void
test_no_mbuf_is_handed_out_from_an_unregistered_range(void)
{
	struct pool_stress s = { .hold = 6144, .max_bulk = 128, .check = dma_mapped };
	struct tide_pool_params p;
	struct tide_pool_stats st;

	memset(&dma, 0, sizeof(dma));
	rte_rwlock_init(&dma.lock);
	pool_params(&p, "tev_dma", 2 * MB, 2 * MB, 256 * MB, 64);
	p.priv_size = 8;
	p.reap_period_ms = 1;
	p.idle_ms = 2;
	s.mp = make_pool_p(&p);
	/* Registered late: the base is replayed. */
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(NULL, dma_cb, NULL), 0);
	CU_ASSERT_EQUAL(dma.n, 1);
	pool_stress_run(&s, 2000 * MS);
	/* Every block told once, each range registered exactly while its block lives. */
	CU_ASSERT_TRUE(tide_test_wait(dma_settled, s.mp, 10000));
	st = pstats(s.mp);
	printf("\n    %" PRIu64 " ops, %" PRIu64 " mbufs outside the registry; %" PRIu64
		" ADD and %" PRIu64 " REMOVE events; grew %" PRIu64 "+%" PRIu64 ", reaped %"
		PRIu64 " ", s.ops, s.check_fails, dma.adds, dma.removes, st.grows_ahead,
		st.grows_sync, st.reaps);
	CU_ASSERT_EQUAL(s.check_fails, 0);
	CU_ASSERT_EQUAL(s.dups, 0);
	CU_ASSERT_EQUAL(dma.errors, 0);
	CU_ASSERT(st.reaps > 0);
	CU_ASSERT(st.grows_ahead + st.grows_sync > 0);
	tide_pool_free(s.mp);
	/* Gone with its blocks. */
	CU_ASSERT_EQUAL(dma.n, 0);
	CU_ASSERT_EQUAL(dma.errors, 0);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(NULL, dma_cb, NULL), 0);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("mempool_events");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_events_fire_once_per_block_in_order);
	CU_ADD_TEST(s, test_a_late_registration_replays_the_blocks);
	CU_ADD_TEST(s, test_a_veto_keeps_the_block_until_a_retry);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_the_reaper_retries_a_vetoed_block);
#endif
	CU_ADD_TEST(s, test_stock_created_pools_tell_their_blocks);
	CU_ADD_TEST(s, test_an_anonymous_pool_freed_tells_each_block_once);
	CU_ADD_TEST(s, test_events_run_on_the_thread_that_adds_the_block);
	CU_ADD_TEST(s, test_registration_errors);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_replay_out_of_memory_tells_nothing);
#endif
	CU_ADD_TEST(s, test_unregistering_while_events_fire_is_safe);
	CU_ADD_TEST(s, test_no_mbuf_is_handed_out_from_an_unregistered_range);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "mempool_events", true, register_tests);
}
