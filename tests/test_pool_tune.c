/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * A running pool's limits (tide_pool_wall_set, tide_pool_reap_set): a lower wall stops
 * growth, a shorter idle threshold lets the reaper release sooner, bad values and pools
 * are refused with their errno; telemetry reports what is set.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "test_common.h"
#include "test_pool_util.h"
#include "tide_fault.h"
#include "tide_mempool.h"
#include "tide_pool.h"

#define MS (1000ull * 1000)

static void
test_a_lower_wall_stops_growth(void)
{
	struct rte_mempool *mp = make_pool("tt_wall", 2 * MB, 2 * MB, 64 * MB, 0,
		TIDE_POOL_F_NO_PREDICT);
	struct rte_mbuf **m = calloc(8192, sizeof(*m));
	unsigned int n = 0;
	char *tel;

	CU_ASSERT_EQUAL(tide_pool_wall_set(mp, 6 * MB), 0);
	CU_ASSERT_EQUAL(pstats(mp).wall_bytes, 6 * MB);
	while (n < 8192 && (m[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	CU_ASSERT(pstats(mp).bytes <= 6 * MB);
	CU_ASSERT(pstats(mp).wall_hits > 0);
	CU_ASSERT(n < 8192);
	/* Raised again (up to the wall it was created with): it grows. */
	CU_ASSERT_EQUAL(tide_pool_wall_set(mp, 64 * MB), 0);
	CU_ASSERT_PTR_NOT_NULL(m[n] = rte_pktmbuf_alloc(mp));
	if (m[n] != NULL)
		n++;
	CU_ASSERT(pstats(mp).bytes > 6 * MB);
	tel = telemetry_query("/tide/pool/info,tt_wall");
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "\"wall_bytes\":67108864"));
	free(tel);
	rte_pktmbuf_free_bulk(m, n);
	free(m);
	tide_pool_free(mp);
}

#ifdef TIDE_FAULT_INJECTION
static void
test_a_shorter_idle_threshold_reaps_sooner(void)
{
	struct tide_pool_stats st;
	struct tide_pool_params p;
	struct rte_mempool *mp;
	char *tel;

	tide_test_clock_fake();
	pool_params(&p, "tt_idle", 2 * MB, 2 * MB, 64 * MB, 0);
	p.reap_period_ms = 0;
	p.idle_ms = 1000;
	mp = make_pool_p(&p);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 3), 3);
	tide_test_clock_advance(20 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	CU_ASSERT_EQUAL(tide_pool_reap_set(mp, 25, 10), 0);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 3);
	tel = telemetry_query("/tide/pool/info,tt_idle");
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "\"reap_period_ms\":25"));
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "\"idle_ms\":10"));
	free(tel);
	/* One at a time: the other stays as it was. */
	CU_ASSERT_EQUAL(tide_pool_reap_set(mp, TIDE_POOL_UNCHANGED, 30), 0);
	tel = telemetry_query("/tide/pool/info,tt_idle");
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "\"reap_period_ms\":25"));
	CU_ASSERT_PTR_NOT_NULL(strstr(tel, "\"idle_ms\":30"));
	free(tel);
	/* The stats read them back (what an application restores after a pause). */
	CU_ASSERT_EQUAL(tide_pool_stats_get(mp, &st), 0);
	CU_ASSERT_EQUAL(st.reap_period_ms, 25);
	CU_ASSERT_EQUAL(st.idle_ms, 30);
	tide_pool_free(mp);
	tide_test_clock_real();
}
#endif

#ifdef TIDE_FAULT_INJECTION
static int
no_blocks_source(void *arg __rte_unused, size_t bytes __rte_unused,
	struct tide_pool_ext_block *blk __rte_unused)
{
	return -ENOMEM;
}

struct reap_call {
	struct rte_mempool *mp;
	int ret;
};

static void *
reap_main(void *arg)
{
	struct reap_call *c = arg;

	c->ret = tide_pool_reap(c->mp);
	return NULL;
}

struct alloc_call {
	struct rte_mempool *mp;
	struct rte_mbuf **m;
	unsigned int n;
	int ret;
	uint64_t yields; /* sched_yield() calls its thread made */
};

/* The alloc_call whose thread this is, if any: its yields are counted. */
static __thread struct alloc_call *yields_of;

/*
 * An allocation that waits for a pool's grow lock, held by someone that is not growing
 * (pool_grow_demand()), looks again and again and yields the CPU in between: runnable all
 * along, and counted nowhere. This program's definition, which comes before libc's for the
 * library's calls, counts the yields of an alloc_call's thread.
 */
int
sched_yield(void)
{
	if (yields_of != NULL)
		__atomic_fetch_add(&yields_of->yields, 1, __ATOMIC_RELAXED);
	return (int)syscall(SYS_sched_yield);
}

static void *
alloc_main(void *arg)
{
	struct alloc_call *c = arg;

	yields_of = c;
	c->ret = rte_pktmbuf_alloc_bulk(c->mp, c->m, c->n);
	yields_of = NULL;
	return NULL;
}

/* For tide_test_wait(): the allocation of @p arg looked for a lock more than once. */
static bool
alloc_yielded_twice(void *arg)
{
	return __atomic_load_n(&((struct alloc_call *)arg)->yields, __ATOMIC_RELAXED) >= 2;
}

/*
 * With a block source, a failing allocation gives up at once only while the pool is
 * growing (a block from the source may take long), not while the reaper (or anyone else
 * that is not growing) holds the pool's grow lock: it waits, then grows. Driven by the fake
 * clock (the reaper's idle threshold).
 */
static void
test_with_a_block_source_an_allocation_waits_for_the_reaper_then_grows(void)
{
	struct rte_mempool *mp;
	struct tide_pool_params p;
	struct block_hold r = { .event = TIDE_MEMPOOL_BLOCK_REMOVE };
	struct reap_call rc;
	struct alloc_call ac = { 0 };
	struct rte_mbuf **held;
	unsigned int n = 0, per_block;
	pthread_t tr, ta;

	tide_test_clock_fake();
	pool_params(&p, "tt_src_wait", 2 * MB, 2 * MB, 64 * MB, 0);
	p.reap_period_ms = 0;
	p.idle_ms = 10;
	p.flags = TIDE_POOL_F_NO_PREDICT;
	mp = make_pool_p(&p);
	CU_ASSERT_EQUAL_FATAL(tide_pool_grow(mp, 3), 3);
	CU_ASSERT_EQUAL_FATAL(tide_pool_block_source_set(mp, no_blocks_source, NULL), 0);
	/* The base and the first block out; the two newest free, idle, reapable. */
	per_block = (unsigned int)(pstats(mp).nb_objs / 4);
	held = calloc(pstats(mp).nb_objs, sizeof(*held));
	CU_ASSERT_PTR_NOT_NULL_FATAL(held);
	while (pstats(mp).nb_free > 2 * per_block + 4 && (held[n] = rte_pktmbuf_alloc(mp)) != NULL)
		n++;
	CU_ASSERT_EQUAL_FATAL(tide_mempool_block_event_register(mp, block_hold_cb, &r), 0);
	tide_pool_reap(mp);
	tide_test_clock_advance(30 * MS);
	r.armed = true;
	rc.mp = mp;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tr, NULL, reap_main, &rc), 0);
	CU_ASSERT_TRUE_FATAL(tide_test_wait(block_hold_entered, &r, 5000));
	/* The newest block is out of reach: more than the rest holds must grow the pool. */
	ac.mp = mp;
	ac.n = (unsigned int)pstats(mp).nb_free + 1;
	ac.m = calloc(ac.n, sizeof(*ac.m));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ac.m);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&ta, NULL, alloc_main, &ac), 0);
	/* Seen waiting for the lock the reaper holds, before it is let go (it must wait, not
	 * fail: checked below).
	 */
	CU_ASSERT_TRUE(tide_test_wait(alloc_yielded_twice, &ac, 10000));
	r.release = true;
	pthread_join(tr, NULL);
	pthread_join(ta, NULL);
	CU_ASSERT_EQUAL(rc.ret, 1);
	CU_ASSERT_EQUAL(ac.ret, 0);
	if (ac.ret == 0)
		rte_pktmbuf_free_bulk(ac.m, ac.n);
	rte_pktmbuf_free_bulk(held, n);
	CU_ASSERT_EQUAL(tide_mempool_block_event_unregister(mp, block_hold_cb, &r), 0);
	free(ac.m);
	free(held);
	tide_pool_free(mp);
	tide_test_clock_real();
}
#endif

#ifdef TIDE_FAULT_INJECTION
struct locked_call {
	struct rte_mempool *mp;
	int ret;
};

static void *
grow_one(void *arg)
{
	struct locked_call *c = arg;

	c->ret = tide_pool_grow(c->mp, 1);
	return NULL;
}

static void *
wall_lower(void *arg)
{
	struct locked_call *c = arg;

	c->ret = tide_pool_wall_set(c->mp, 8 * MB);
	return NULL;
}

/* For tide_test_wait(): the control thread ticked pool @p arg once at least. */
static bool
pool_ticked(void *arg)
{
	return pstats(arg).ticks > 0;
}

/*
 * A free that comes while a call that takes the pool's grow lock (a growth, a new wall)
 * has found the pool but not yet locked it waits for the call to finish: the free never
 * takes the grow lock, and would free the lock and the pool under it. The clock is stopped
 * before each pool is made, so that the control thread, after its first tick, holds
 * neither.
 */
static void
test_a_free_waits_for_a_grow_or_tuning_that_found_the_pool(void)
{
	struct locked_call g = { .ret = -1 }, w = { .ret = -1 };

	tide_test_clock_fake();
	g.mp = make_pool("tt_found_grow", 2 * MB, 2 * MB, 16 * MB, 0, TIDE_POOL_F_NO_PREDICT);
	w.mp = make_pool("tt_found_wall", 2 * MB, 2 * MB, 16 * MB, 0, TIDE_POOL_F_NO_PREDICT);
	CU_ASSERT_FATAL(tide_test_wait(pool_ticked, g.mp, 5000));
	CU_ASSERT_FATAL(tide_test_wait(pool_ticked, w.mp, 5000));
	CU_ASSERT(pool_free_waits_for_call(g.mp, grow_one, &g, TIDE_HOLD_POOL_FOUND,
		TIDE_HOLD_POOL_FREE_HELD));
	CU_ASSERT_EQUAL(g.ret, 1);
	CU_ASSERT(pool_free_waits_for_call(w.mp, wall_lower, &w, TIDE_HOLD_POOL_FOUND,
		TIDE_HOLD_POOL_FREE_HELD));
	CU_ASSERT_EQUAL(w.ret, 0);
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tt_found_grow"));
	CU_ASSERT_PTR_NULL(rte_mempool_lookup("tt_found_wall"));
	tide_test_clock_real();
}
#endif

static void
test_bad_limits_are_refused(void)
{
	struct rte_mempool *mp = make_pool("tt_bad", 4 * MB, 2 * MB, 64 * MB, 0, 0);
	struct rte_mempool *stock = rte_pktmbuf_pool_create("tt_stock", 1024, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);

	rte_errno = 0;
	CU_ASSERT_EQUAL(tide_pool_wall_set(mp, 2 * MB), -EINVAL); /* below the base */
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tide_pool_wall_set(mp, 128 * MB), -EINVAL); /* above its birth */
	CU_ASSERT_EQUAL(tide_pool_wall_set(NULL, 8 * MB), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_wall_set(stock, 8 * MB), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_reap_set(mp, 10, 0), -EINVAL);
	CU_ASSERT_EQUAL(tide_pool_reap_set(stock, 10, 10), -EINVAL);
	CU_ASSERT_EQUAL(pstats(mp).wall_bytes, 64 * MB);
	rte_mempool_free(stock);
	tide_pool_free(mp);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_tune");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_lower_wall_stops_growth);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_shorter_idle_threshold_reaps_sooner);
	CU_ADD_TEST(s, test_with_a_block_source_an_allocation_waits_for_the_reaper_then_grows);
	CU_ADD_TEST(s, test_a_free_waits_for_a_grow_or_tuning_that_found_the_pool);
#endif
	CU_ADD_TEST(s, test_bad_limits_are_refused);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_tune", true, register_tests);
}
