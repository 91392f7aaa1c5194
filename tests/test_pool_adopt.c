/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Adoption under EAL: pools an application creates through the stock API with the tide
 * ops start at their profile's base, grow block by block under demand, reap back to their
 * base when idle, show in telemetry, and answer the stock queries (avail, in use, full)
 * right at every step; each creation path is adopted or populated whole as documented; bad
 * profile lines are reported and ignored; a freed pool leaves the library.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "test_common.h"
#include "test_helper_run.h"
#include "test_pool_util.h"
#include "tide_mempool.h"
#include "tide_pool.h"

#define MS (1000ull * 1000)

static struct rte_mempool *
stock_pool(const char *name, unsigned int n, unsigned int cache)
{
	return rte_pktmbuf_pool_create_by_ops(name, n, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY, TIDE_MEMPOOL_OPS_NAME);
}

/* The stock queries agree with @p out mbufs allocated. */
static void
assert_stock_counts(const struct rte_mempool *mp, unsigned int out)
{
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), out);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), mp->size - out);
	CU_ASSERT_EQUAL(rte_mempool_full(mp), out == 0);
	CU_ASSERT_EQUAL(rte_mempool_empty(mp), out == mp->size);
}

/* An mbuf is initialised as rte_pktmbuf_init() leaves it, whichever block it came from. */
static bool
mbuf_fresh(const struct rte_mempool *mp, const struct rte_mbuf *m)
{
	const struct rte_pktmbuf_pool_private *priv = rte_mempool_get_priv((void *)(uintptr_t)mp);
	size_t hdr = sizeof(*m) + priv->mbuf_priv_size;

	return m->pool == mp && m->buf_addr == RTE_PTR_ADD(m, hdr) &&
		m->buf_iova == rte_mempool_virt2iova(m) + hdr &&
		m->buf_len == priv->mbuf_data_room_size &&
		m->data_off == RTE_MIN(RTE_PKTMBUF_HEADROOM, m->buf_len) &&
		m->priv_size == priv->mbuf_priv_size && m->nb_segs == 1 && m->next == NULL &&
		rte_mbuf_refcnt_read(m) == 1 && m->port == RTE_MBUF_PORT_INVALID &&
		m->data_len == 0 && m->pkt_len == 0;
}

/* Hugepage MB this process holds (other processes on the machine do not move it). */
static long
hugepage_mb(void)
{
	return tide_test_hugepages_held() * 2;
}

static void
test_a_stock_pool_starts_at_its_base(void)
{
	long mb0 = hugepage_mb(), used;
	struct rte_mempool *mp;
	struct tide_pool_stats st;

	tide_test_use_profiles("ta_base base=4M block=2M\n");
	mp = stock_pool("ta_base", 65536, 256); /* ~150 MB of mbufs asked for */
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	used = hugepage_mb() - mb0;
	printf("\n    65536 mbufs asked, %u populated, %ld MB of hugepages taken ",
		mp->populated_size, used);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT(mp->populated_size < mp->size / 8);
	CU_ASSERT_EQUAL(tide_pool_stats_get(mp, &st), 0);
	CU_ASSERT_EQUAL(st.nb_blocks, 1);
	CU_ASSERT_EQUAL(st.bytes, 4 * MB);
	CU_ASSERT_EQUAL(st.nb_objs, mp->populated_size);
	/* The base and the mempool's own header (its lcore caches): never the 150 MB. */
	CU_ASSERT(used <= 4 + 4);
	assert_stock_counts(mp, 0);
	rte_mempool_free(mp);
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(hugepage_mb(), mb0);
	tide_test_use_profiles(NULL);
}

static void
test_a_stock_pool_grows_block_by_block_under_demand(void)
{
	unsigned int n = 16384, held = 0, i, blocks = 1, grew = 0;
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	struct tide_pool_stats st;
	struct rte_mempool *mp;

	tide_test_use_profiles("ta_grow base=2M block=2M\n");
	mp = stock_pool("ta_grow", n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	while (held < n) {
		unsigned int k = RTE_MIN(500u, n - held);

		CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, &m[held], k), 0);
		held += k;
		assert_stock_counts(mp, held);
		st = pstats(mp);
		CU_ASSERT(st.nb_objs >= held);
		CU_ASSERT(st.nb_blocks >= blocks);
		if (st.nb_blocks > blocks)
			grew++;
		blocks = st.nb_blocks;
	}
	printf("\n    %u mbufs in %u blocks, %u steps grew it ", held, blocks, grew);
	CU_ASSERT(grew >= 5);
	CU_ASSERT(blocks > 5);
	for (i = 0; i < n; i++)
		if (!mbuf_fresh(mp, m[i]))
			break;
	CU_ASSERT_EQUAL(i, n);
	/* The size asked for is the wall. */
	CU_ASSERT_EQUAL(mp->populated_size, n);
	CU_ASSERT_PTR_NULL(rte_pktmbuf_alloc(mp));
	st = pstats(mp);
	CU_ASSERT(st.wall_hits > 0 || st.deq_refused > 0);
	rte_pktmbuf_free_bulk(m, n);
	assert_stock_counts(mp, 0);
	rte_mempool_audit(mp);
	rte_mempool_free(mp);
	free(m);
	tide_test_use_profiles(NULL);
}

#ifdef TIDE_FAULT_INJECTION
/*
 * Driven by the fake clock: the control thread does not reap (reap=0); tide_pool_reap()
 * decides on the time the test sets, never on how long the machine took.
 */
static void
test_a_stock_pool_reaps_back_to_its_base_when_idle(void)
{
	unsigned int n = 16384;
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	struct rte_mempool *mp;
	long mb0, mb_grown;
	int k, reaped = 0;

	tide_test_use_profiles("ta_reap base=2M block=2M reap=0 idle=100\n");
	tide_test_clock_fake();
	mp = stock_pool("ta_reap", n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	mb0 = hugepage_mb();
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	mb_grown = hugepage_mb();
	CU_ASSERT(pstats(mp).nb_blocks > 5);
	rte_pktmbuf_free_bulk(m, n);
	assert_stock_counts(mp, 0);

	/* Just used: nothing is idle yet, however often the reaper looks. */
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	tide_test_clock_advance(99 * MS);
	CU_ASSERT_EQUAL(tide_pool_reap(mp), 0);
	/* Idle for the threshold: back down to the base, never below it. */
	tide_test_clock_advance(1 * MS);
	while ((k = tide_pool_reap(mp)) > 0)
		reaped += k;
	printf("\n    reaped %d blocks, hugepages mapped %ld -> %ld -> %ld MB ", reaped, mb0,
		mb_grown, hugepage_mb());
	CU_ASSERT_EQUAL(pstats(mp).nb_blocks, 1);
	CU_ASSERT_EQUAL(pstats(mp).bytes, 2 * MB);
	CU_ASSERT(mb_grown - mb0 >= 2 * reaped);
	CU_ASSERT_EQUAL(hugepage_mb(), mb0);
	CU_ASSERT_EQUAL(mp->populated_size, pstats(mp).nb_objs);
	/* Every block went by its run in the object list, the first one added after the base
	 * (whose objects DPDK's populate listed) as well: none walked the whole list.
	 */
	CU_ASSERT_EQUAL(mstats(mp).nb_list_walks, 0);
	assert_stock_counts(mp, 0);
	rte_mempool_audit(mp);

	/* And it grows again. */
	CU_ASSERT_EQUAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	assert_stock_counts(mp, n);
	rte_pktmbuf_free_bulk(m, n);
	rte_mempool_free(mp);
	tide_test_clock_real();
	free(m);
	tide_test_use_profiles(NULL);
}
#endif

static bool
back_to_one_block(void *arg)
{
	return pstats(arg).nb_blocks == 1;
}

/* End to end on the real clock: the control thread's reaper brings it back by itself. */
static void
test_the_control_thread_reaps_a_stock_pool(void)
{
	unsigned int n = 8192;
	struct rte_mbuf **m = calloc(n, sizeof(*m));
	struct rte_mempool *mp;

	tide_test_use_profiles("ta_ctl base=2M block=2M reap=5 idle=20\n");
	mp = stock_pool("ta_ctl", n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, n), 0);
	CU_ASSERT(pstats(mp).nb_blocks > 2);
	rte_pktmbuf_free_bulk(m, n);
	CU_ASSERT_TRUE(tide_test_wait(back_to_one_block, mp, 10000));
	CU_ASSERT(pstats(mp).reaps > 0);
	rte_mempool_free(mp);
	free(m);
	tide_test_use_profiles(NULL);
}

/* A number in a telemetry JSON reply: the value after "key": */
static long long
json_number(const char *json, const char *key)
{
	return tide_test_number_after(json, "\"%s\":", key);
}

static void
test_a_stock_pool_shows_in_telemetry(void)
{
	struct rte_mbuf *m[100];
	struct rte_mempool *mp;
	char *list, *info, *stock;

	tide_test_use_profiles(NULL);
	mp = stock_pool("ta_tel", 32768, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, RTE_DIM(m)), 0);
	list = telemetry_query("/tide/pool/list");
	info = telemetry_query("/tide/pool/info,ta_tel");
	stock = telemetry_query("/mempool/info,ta_tel");
	CU_ASSERT_PTR_NOT_NULL(strstr(list, "\"ta_tel\""));
	CU_ASSERT_EQUAL(json_number(info, "in_use"), (long long)RTE_DIM(m));
	CU_ASSERT_EQUAL(json_number(info, "blocks"), 1);
	/* DPDK's own view (22.11's /mempool/info has sizes, no counts): what is populated. */
	CU_ASSERT_EQUAL(json_number(stock, "size"), 32768);
	CU_ASSERT_EQUAL(json_number(stock, "populated_size"), json_number(info, "objs"));
	CU_ASSERT(json_number(stock, "populated_size") < 32768);
	free(list);
	free(info);
	free(stock);
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	rte_mempool_free(mp);
}

/* A profile may ask for blocks up to 1 TB; an adopted pool's are capped at 4 GB, the most
 * tide_pool_create() takes, and the pool is still adopted.
 */
static void
test_a_profile_block_above_4g_is_capped(void)
{
	struct rte_mempool *mp;
	char *info;

	tide_test_use_profiles("ta_huge base=2M block=8G\n");
	mp = stock_pool("ta_huge", 2048, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	info = telemetry_query("/tide/pool/info,ta_huge");
	CU_ASSERT_EQUAL(json_number(info, "block_bytes"), 4ll << 30);
	CU_ASSERT_EQUAL(json_number(info, "blocks"), 1);
	free(info);
	rte_mempool_free(mp);
	tide_test_use_profiles(NULL);
}

/* ---- every stock creation path ---- */

static void
generic_init(struct rte_mempool *mp __rte_unused, void *arg __rte_unused, void *obj,
	unsigned int i __rte_unused)
{
	memset(obj, 0xab, 64);
}

static void
set_tide_ops(struct rte_mempool *mp, void *arg __rte_unused)
{
	CU_ASSERT_EQUAL(rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL), 0);
}

/* Grow an adopted pool to its wall and check every mbuf, then give them back. */
static void
use_it_all(struct rte_mempool *mp)
{
	struct rte_mbuf **m = calloc(mp->size, sizeof(*m));
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_alloc_bulk(mp, m, mp->size), 0);
	for (i = 0; i < mp->size && mbuf_fresh(mp, m[i]); i++)
		;
	CU_ASSERT_EQUAL(i, mp->size);
	assert_stock_counts(mp, mp->size);
	rte_pktmbuf_free_bulk(m, mp->size);
	assert_stock_counts(mp, 0);
	free(m);
}

/* A pktmbuf mempool created empty with the tide ops, initialised, not yet populated. */
static struct rte_mempool *
empty_pktmbuf_pool(const char *name, unsigned int n)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
	};
	struct rte_mempool *mp;

	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) +
		priv.mbuf_data_room_size, 0, sizeof(priv), SOCKET_ID_ANY, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_EQUAL(rte_mempool_set_ops_byname(mp, TIDE_MEMPOOL_OPS_NAME, NULL), 0);
	rte_pktmbuf_pool_init(mp, &priv);
	return mp;
}

static void
test_each_stock_creation_path(void)
{
	struct rte_mempool *mp;
	char *log;

	tide_test_use_profiles("ta_path_* base=2M block=2M priv\n");

	/* rte_pktmbuf_pool_create_by_ops */
	mp = stock_pool("ta_path_ops", 8192, 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	use_it_all(mp);
	rte_mempool_free(mp);

	/* rte_pktmbuf_pool_create, the ops chosen as --mbuf-pool-ops-name does */
	CU_ASSERT_EQUAL(rte_mbuf_set_user_mempool_ops(TIDE_MEMPOOL_OPS_NAME), 0);
	mp = rte_pktmbuf_pool_create("ta_path_user", 8192, 32, 8, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	CU_ASSERT_EQUAL(rte_mbuf_set_user_mempool_ops("ring_mp_mc"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT(mp->populated_size < mp->size);
	use_it_all(mp);
	rte_mempool_free(mp);

	/* rte_mempool_create_empty + ops + pktmbuf init + populate_default + obj_iter */
	mp = empty_pktmbuf_pool("ta_path_empty", 8192);
	CU_ASSERT_EQUAL(rte_mempool_populate_default(mp), 8192);
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT(mp->populated_size < mp->size);
	use_it_all(mp);
	rte_mempool_free(mp);

	/* rte_mempool_create with an object constructor the driver cannot know: whole */
	tide_test_log_begin();
	mp = rte_mempool_create("ta_path_generic", 8192, 200, 0, 0, set_tide_ops, NULL,
		generic_init, NULL, SOCKET_ID_ANY, 0);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_mempool_is_tide(mp));
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(mp->populated_size, mp->size);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "ta_path_generic: not a plain pktmbuf pool"));
	free(log);
	rte_mempool_free(mp);

	/* a private area in its mbufs, no priv in its profile: whole, said why */
	tide_test_use_profiles("ta_path_* base=2M block=2M\n");
	CU_ASSERT_EQUAL(rte_mbuf_set_user_mempool_ops(TIDE_MEMPOOL_OPS_NAME), 0);
	tide_test_log_begin();
	mp = rte_pktmbuf_pool_create("ta_path_priv", 8192, 32, 8, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	log = tide_test_log_end();
	CU_ASSERT_EQUAL(rte_mbuf_set_user_mempool_ops("ring_mp_mc"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(mp->populated_size, mp->size);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "ta_path_priv: its mbufs have a private area of 8 "
		"bytes"));
	free(log);
	rte_mempool_free(mp);

	/* a profile that says fixed: whole */
	tide_test_use_profiles("ta_path_fixed fixed\n");
	mp = stock_pool("ta_path_fixed", 8192, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(mp->populated_size, mp->size);
	rte_mempool_free(mp);

	/* smaller than its base: whole, nothing to adopt */
	tide_test_use_profiles(NULL);
	mp = stock_pool("ta_path_small", 256, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_FALSE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(mp->populated_size, mp->size);
	assert_stock_counts(mp, 0);
	rte_mempool_free(mp);
}

static void
base_mz_free(struct rte_mempool_memhdr *mh __rte_unused, void *mz)
{
	rte_memzone_free(mz);
}

/* Pointers the driver dropped as no block's object. */
static uint64_t
foreign_puts(const struct rte_mempool *mp)
{
	return mstats(mp).nb_foreign;
}

/*
 * In IOVA-as-PA mode populate_default hands an adopted pool's base memzone over one run of
 * physically contiguous pages at a time, and the first run may be shorter than the base
 * block's header and free ring (the memzone starts near a page's end, the next page is not
 * the next one physically). Its objects start past both all the same: every one is listed,
 * initialised and handed out whole, none lies in the ring.
 */
static void
test_an_adopted_base_whose_first_chunk_cannot_hold_the_header(void)
{
	const size_t small = 4096;
	char name[RTE_MEMZONE_NAMESIZE];
	const struct rte_memzone *mz;
	size_t min_chunk, align;
	struct rte_mempool *mp;
	ssize_t base;
	int r1, r2;

	tide_test_use_profiles("ta_chunk base=4M block=2M\n");
	mp = empty_pktmbuf_pool("ta_chunk", 16384);
	/* What populate_default does, its memzone's runs made by hand: the driver's data once,
	 * the plan, the base.
	 */
	CU_ASSERT_EQUAL_FATAL(rte_mempool_get_ops(mp->ops_index)->alloc(mp), 0);
	mp->flags |= RTE_MEMPOOL_F_POOL_CREATED;
	base = rte_mempool_get_ops(mp->ops_index)->calc_mem_size(mp, mp->size, 21, &min_chunk,
		&align);
	CU_ASSERT_FATAL(base > 0 && (size_t)base < 16384 * mp->elt_size);
	CU_ASSERT_FATAL(tide_mempool_block_capacity(mp, (size_t)base) * sizeof(void *) > small);
	snprintf(name, sizeof(name), RTE_MEMPOOL_MZ_FORMAT "_0", mp->name);
	mz = rte_memzone_reserve_aligned(name, (size_t)base, SOCKET_ID_ANY, 0, align);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mz);
	r1 = rte_mempool_populate_iova(mp, mz->addr, rte_mem_virt2iova(mz->addr), small,
		base_mz_free, (void *)(uintptr_t)mz);
	CU_ASSERT_EQUAL(r1, 0); /* no room past the header: DPDK lists nothing */
	r2 = rte_mempool_populate_iova(mp, RTE_PTR_ADD(mz->addr, small),
		rte_mem_virt2iova(RTE_PTR_ADD(mz->addr, small)), mz->len - small,
		r1 == 0 ? base_mz_free : NULL, (void *)(uintptr_t)mz);
	CU_ASSERT_EQUAL(r2, (int)mp->size); /* the adopter took the rest */
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL), mp->populated_size);
	CU_ASSERT_EQUAL(foreign_puts(mp), 0);
	use_it_all(mp);
	CU_ASSERT_EQUAL(foreign_puts(mp), 0);
	rte_mempool_free(mp);
	CU_ASSERT_PTR_NULL(rte_memzone_lookup(name));
	tide_test_use_profiles(NULL);
}

/*
 * A pool populated whole (its objects' constructor is not known to the adopter) that
 * rte_mempool_populate_default() cannot fill: DPDK frees every chunk it had populated, and
 * with them the blocks' memory, without a word to the driver. The pool's next calls must
 * not read that memory: the stock counts say it is empty, the blocks are forgotten (each
 * block event callback told of each with a last REMOVE), and the pool can be populated
 * again and freed. A process of its own under --socket-limit, so that running out of
 * hugepages is its own.
 */
static void
test_a_whole_pool_that_populate_default_cannot_fill_forgets_its_freed_blocks(void)
{
	char prefix[64], *text;
	struct tide_run r;

	snprintf(prefix, sizeof(prefix), "%s-pf", tide_test_file_prefix());
	tide_run_helper_eal(&r, prefix,
		(const char *[]){ "-l", "0", "--socket-limit=48", "--huge-unlink", NULL }, false,
		(char *[]){ "popfail", "ta_popfail", "40000", NULL });
	CU_ASSERT_EQUAL(tide_run_end(&r), 0);
	text = tide_run_output(&r);
	tide_test_rm_runtime(prefix);
	CU_ASSERT(tide_run_value(text, "populate") < 0 && text != NULL &&
		strstr(text, "populate=-") != NULL);
	CU_ASSERT(tide_run_value(text, "adds") > 1); /* some memzone was populated first */
	CU_ASSERT_EQUAL(tide_run_value(text, "avail"), 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "stats"), 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "blocks"), 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "objs"), 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "removes"), tide_run_value(text, "adds"));
	CU_ASSERT_EQUAL(tide_run_value(text, "final"), tide_run_value(text, "adds"));
	CU_ASSERT_EQUAL(tide_run_value(text, "anon"), 40000);
	CU_ASSERT_EQUAL(tide_run_value(text, "taken"), 40000);
	CU_ASSERT_EQUAL(tide_run_value(text, "avail_after"), 40000);
	CU_ASSERT(tide_run_value(text, "adds_end") > 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "removes_end"), tide_run_value(text, "adds_end"));
	if (CU_get_number_of_failures() != 0)
		printf("\n%s\n", text != NULL ? text : "(no output)");
	free(text);
}

/* A profile wall below the size asked for caps the pool there. */
static void
test_a_profile_wall_caps_the_pool(void)
{
	unsigned int n = 16384, got = 0;
	struct rte_mbuf *m;
	struct rte_mbuf **all = calloc(n, sizeof(*all));
	struct rte_mempool *mp;

	tide_test_use_profiles("ta_wall base=2M block=2M wall=25%\n");
	mp = stock_pool("ta_wall", n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	while ((m = rte_pktmbuf_alloc(mp)) != NULL)
		all[got++] = m;
	printf("\n    wall 25%% of %u: %u mbufs, %" PRIu64 " bytes ", n, got, pstats(mp).bytes);
	CU_ASSERT(got >= n / 4);
	CU_ASSERT(got < n / 4 + 1000); /* a 2 MB block holds under 1000 mbufs */
	CU_ASSERT(pstats(mp).wall_hits > 0);
	assert_stock_counts(mp, got);
	rte_pktmbuf_free_bulk(all, got);
	rte_mempool_free(mp);
	free(all);
	tide_test_use_profiles(NULL);
}

static void
test_a_bad_profile_line_is_reported_and_ignored(void)
{
	const char *path;
	struct rte_mempool *mp;
	char *log, want[128];

	path = tide_test_use_profiles("ta_bad base=zz\n"
		"ta_bad base=2M block=2M bogus=1\n"
		"ta_bad base=6M block=2M\n");
	tide_test_log_begin();
	mp = stock_pool("ta_bad", 16384, 0);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT_EQUAL(pstats(mp).bytes, 6 * MB);
	snprintf(want, sizeof(want), "%s:1: bad size", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
	snprintf(want, sizeof(want), "%s:2: unknown key", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "line ignored"));
	free(log);
	rte_mempool_free(mp);

	/* A profile file that cannot be read: a warning, the defaults, a working pool. */
	setenv("TIDE_POOL_PROFILES", "/nonexistent/tide.conf", 1);
	tide_test_log_begin();
	mp = stock_pool("ta_bad2", 16384, 0);
	log = tide_test_log_end();
	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	CU_ASSERT_TRUE(tide_pool_is_elastic(mp));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "cannot read pool profiles /nonexistent/tide.conf"));
	free(log);
	rte_mempool_free(mp);
	tide_test_use_profiles(NULL);
}

/*
 * An application that ends with rte_eal_cleanup() and never freed its pools (many do; an
 * unmodified one with the plugin cannot be changed): the control thread stops before DPDK
 * unmaps their memory, says so, and the process ends cleanly (it crashed in that memory).
 */
static void
test_an_exit_that_did_not_free_its_pools_is_clean(void)
{
	char prefix[64], *text;
	int code;

	snprintf(prefix, sizeof(prefix), "%s-leave", tide_test_file_prefix());
	text = tide_run_primary_to_end(prefix, (const char *[]){ "--lcores=2@0,3@1",
		"--huge-unlink", NULL }, (char *[]){ "leave", "ta_leave", NULL }, &code);
	CU_ASSERT_EQUAL(code, 0);
	CU_ASSERT_EQUAL(tide_run_value(text, "pools"), 2);
	CU_ASSERT_EQUAL(tide_run_value(text, "cleaned"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "rte_eal_cleanup() with 2 elastic pool(s) not "
		"freed: their control thread stops"));
	if (code != 0)
		printf("\n    exit %d: %s ", code, text);
	free(text);
}

static int
register_tests(void)
{
	CU_pSuite s = tide_test_suite("pool_adopt");

	if (s == NULL)
		return -1;
	CU_ADD_TEST(s, test_a_stock_pool_starts_at_its_base);
	CU_ADD_TEST(s, test_an_exit_that_did_not_free_its_pools_is_clean);
	CU_ADD_TEST(s, test_a_stock_pool_grows_block_by_block_under_demand);
#ifdef TIDE_FAULT_INJECTION
	CU_ADD_TEST(s, test_a_stock_pool_reaps_back_to_its_base_when_idle);
#endif
	CU_ADD_TEST(s, test_the_control_thread_reaps_a_stock_pool);
	CU_ADD_TEST(s, test_a_stock_pool_shows_in_telemetry);
	CU_ADD_TEST(s, test_a_profile_block_above_4g_is_capped);
	CU_ADD_TEST(s, test_each_stock_creation_path);
	CU_ADD_TEST(s, test_a_profile_wall_caps_the_pool);
	CU_ADD_TEST(s, test_an_adopted_base_whose_first_chunk_cannot_hold_the_header);
	CU_ADD_TEST(s, test_a_whole_pool_that_populate_default_cannot_fill_forgets_its_freed_blocks);
	CU_ADD_TEST(s, test_a_bad_profile_line_is_reported_and_ignored);
	return 0;
}

int
main(int argc, char **argv)
{
	return tide_test_main(argc, argv, "pool_adopt", true, register_tests);
}
