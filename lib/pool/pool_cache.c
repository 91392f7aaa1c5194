/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What the lcore caches pin, and draining them without the application's help.
 *
 * An mbuf parked in an lcore's mempool cache is out of the driver's free lists: its block
 * cannot be reaped. Allocation takes from the top of a cache and freeing puts back on top,
 * so under a steady load the bottom of a cache (what was freed when the last burst ended)
 * can stay there forever and keep blocks that are otherwise idle. The application could
 * flush its caches (rte_mempool_cache_flush(), tide_pool_cache_flush()); a stock
 * application does not.
 *
 * The control thread may not touch another lcore's cache contents, but it may change the
 * cache's flush threshold: the owner reads it on every free, and every value is a valid
 * state of the cache algorithm (DPDK 22.11's put: a put of more than the threshold goes to
 * the driver and leaves the cache as it is; otherwise, if the cache would pass the
 * threshold, the whole cache goes to the driver first). The reaper drains the caches that
 * hold the only objects out of one of the two newest blocks (the reap candidates), and
 * restores their threshold once they hold none. While a cache drains, its threshold
 * alternates, a reap period each, between:
 *  - 0: frees bypass the cache and go to the driver, while allocations take from the cache
 *    until it is empty and then refill it from the driver, oldest blocks first. An lcore
 *    that allocates hands its parked mbufs back within a cache's worth of allocations; its
 *    cache then holds mbufs of the old blocks. (At 1, a free of one mbuf would flush the
 *    cache but keep that mbuf: one that an lcore allocates and frees in turn would stay in
 *    the cache for ever, and its block with it.)
 *  - its own threshold: frees fill the cache until it flushes itself whole. An lcore that
 *    only frees (a TX lcore freeing what another lcore received) hands its parked mbufs
 *    back so; at 0 its frees would all bypass the cache and leave it as it is for ever.
 * An lcore that neither allocates nor frees keeps what it holds: see README, Limits.
 *
 * Reading other lcores' caches is a snapshot without their help: racy, used only to decide.
 */

#include <string.h>

#include <rte_lcore.h>

#include "pool_private.h"
#include "tide_mempool.h"

/* Objects of [lo, hi) in lcore i's cache (a snapshot). */
static unsigned int
cache_held_in(const struct rte_mempool_cache *c, uintptr_t lo, uintptr_t hi)
{
	uint32_t len = RTE_MIN(__atomic_load_n(&c->len, __ATOMIC_RELAXED),
		(uint32_t)RTE_DIM(c->objs));
	unsigned int n = 0;

	for (uint32_t k = 0; k < len; k++)
		n += (uintptr_t)c->objs[k] - lo < hi - lo;
	return n;
}

/* Start draining lcore @p lcore's cache, or, if it drains already, move it to the other
 * threshold (see the file comment).
 */
static void
cache_drain_start(struct tide_pool *tp, unsigned int lcore)
{
	struct rte_mempool_cache *c = &tp->mp->local_cache[lcore];
	uint32_t thresh = __atomic_load_n(&c->flushthresh, __ATOMIC_RELAXED);

	if (tp->drain_thresh[lcore] != 0) {
		__atomic_store_n(&c->flushthresh, thresh == 0 ? tp->drain_thresh[lcore] : 0,
			__ATOMIC_RELAXED);
		return;
	}
	if (thresh == 0)
		return;
	tp->drain_thresh[lcore] = thresh;
	__atomic_store_n(&c->flushthresh, 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&tp->cache_drains, 1, __ATOMIC_RELAXED);
}

static void
cache_drain_stop(struct tide_pool *tp, unsigned int lcore)
{
	__atomic_store_n(&tp->mp->local_cache[lcore].flushthresh, tp->drain_thresh[lcore],
		__ATOMIC_RELAXED);
	tp->drain_thresh[lcore] = 0;
}

/*
 * After a reap: drain the caches that alone hold objects of a reap candidate (one of the
 * two newest blocks above the base); end the drain of caches that hold none. @info are
 * the driver's blocks, oldest first, as just sampled. Caller holds the grow lock.
 */
void
pool_cache_drain(struct tide_pool *tp, const struct tide_mempool_block_info *info,
	uint32_t nb)
{
	struct rte_mempool *mp = tp->mp;
	bool holds[RTE_MAX_LCORE] = { false }, drain[RTE_MAX_LCORE] = { false };
	uint32_t first = RTE_MAX(nb, 3u) - 2;

	if (mp->cache_size == 0)
		return;
	for (uint32_t b = first; b < nb; b++) {
		uintptr_t lo = (uintptr_t)info[b].addr, hi = lo + info[b].len;
		unsigned int out = info[b].nb_objs - info[b].nb_free, cached = 0;
		unsigned int by[RTE_MAX_LCORE];

		if (out == 0)
			continue;
		for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
			by[i] = cache_held_in(&mp->local_cache[i], lo, hi);
			cached += by[i];
			holds[i] |= by[i] != 0;
		}
		if (cached < out)
			continue; /* the application holds some: it is busy, not pinned */
		for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
			drain[i] |= by[i] != 0;
	}
	/* Once a pass for a cache that holds both candidates' mbufs: a second start would move
	 * its threshold back.
	 */
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++) {
		if (drain[i])
			cache_drain_start(tp, i);
		else if (tp->drain_thresh[i] != 0 && !holds[i])
			cache_drain_stop(tp, i);
	}
}

/* Give every draining cache its threshold back (the pool is going away). */
void
pool_cache_drain_end(struct tide_pool *tp)
{
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		if (tp->drain_thresh[i] != 0)
			cache_drain_stop(tp, i);
}
