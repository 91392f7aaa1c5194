/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "pool_private.h"
#include "tide_mempool.h"

/* Objects parked in the lcore caches (read without their lcores' help: a snapshot). */
static uint64_t
pool_cached(const struct rte_mempool *mp)
{
	uint64_t n = 0;

	if (mp->cache_size == 0)
		return 0;
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		n += __atomic_load_n(&mp->local_cache[i].len, __ATOMIC_RELAXED);
	return n;
}

int
pool_stats_locked(const struct tide_pool *tp, struct tide_pool_stats *st)
{
	struct tide_mempool_stats ms;
	uint32_t seq;
	uint64_t out;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = tide_mempool_stats_get(tp->mp, &ms);
	if (ret != 0)
		return ret;
	/* Blocks, bytes and the source's blocks as one snapshot (they change together). */
	do {
		seq = rte_seqlock_read_begin(&tp->blocks_sl);
		st->nb_blocks = tp->nb_blocks;
		st->bytes = __atomic_load_n(&tp->bytes, __ATOMIC_ACQUIRE);
		st->nb_ext_blocks = 0;
		for (uint32_t i = 0; i < RTE_MIN(tp->nb_blocks, tp->cap_blocks); i++)
			st->nb_ext_blocks += tp->blocks[i].ext;
	} while (rte_seqlock_read_retry(&tp->blocks_sl, seq));
	st->nb_objs = ms.nb_objs;
	st->nb_free = ms.nb_free;
	st->nb_cached = pool_cached(tp->mp);
	out = ms.nb_objs > ms.nb_free ? ms.nb_objs - ms.nb_free : 0;
	st->nb_cached = RTE_MIN(st->nb_cached, out);
	st->nb_in_use = out - st->nb_cached;
	st->grows_ahead = __atomic_load_n(&tp->grows_ahead, __ATOMIC_RELAXED);
	st->grows_sync = __atomic_load_n(&tp->grows_sync, __ATOMIC_RELAXED);
	st->grows_remote = __atomic_load_n(&tp->grows_remote, __ATOMIC_RELAXED);
	st->grows_ext = __atomic_load_n(&tp->grows_ext, __ATOMIC_RELAXED);
	st->grow_fails = __atomic_load_n(&tp->grow_fails, __ATOMIC_RELAXED);
	st->grow_backoff_ms = (uint32_t)RTE_MIN(tide_grow_backoff_left(&tp->grow_st,
		pool_now_ns()) / 1000000, (uint64_t)UINT32_MAX);
	st->wall_hits = __atomic_load_n(&tp->wall_hits, __ATOMIC_RELAXED);
	st->grow_waits = __atomic_load_n(&tp->grow_waits, __ATOMIC_RELAXED);
	st->deq_refused = ms.nb_deq_refused;
	st->lock_yields = ms.nb_lock_yields;
	st->target_free = __atomic_load_n(&tp->target_free, __ATOMIC_RELAXED);
	st->reaps = __atomic_load_n(&tp->reaps, __ATOMIC_RELAXED);
	st->reap_vetoes = __atomic_load_n(&tp->reap_vetoes, __ATOMIC_RELAXED);
	st->cache_drains = __atomic_load_n(&tp->cache_drains, __ATOMIC_RELAXED);
	st->demotes = __atomic_load_n(&tp->demotes, __ATOMIC_RELAXED);
	st->base_bytes = tp->base_bytes;
	st->block_bytes = tp->block_bytes;
	st->wall_bytes = tp->wall->limit;
	st->wall_held = __atomic_load_n(&tp->wall->held, __ATOMIC_RELAXED);
	st->waiting = __atomic_load_n(&tp->nb_waiting, __ATOMIC_RELAXED);
	st->waits_served = __atomic_load_n(&tp->waits_served, __ATOMIC_RELAXED);
	st->waits_timedout = __atomic_load_n(&tp->waits_timedout, __ATOMIC_RELAXED);
	st->waits_cancelled = __atomic_load_n(&tp->waits_cancelled, __ATOMIC_RELAXED);
	st->ticks = __atomic_load_n(&tp->ticks, __ATOMIC_ACQUIRE);
	st->node_misses = __atomic_load_n(&tp->node_misses, __ATOMIC_RELAXED);
	st->foreign_frees = ms.nb_foreign;
	st->double_frees = ms.nb_double;
	st->lock_recovered = ms.nb_lock_recovered;
	st->reap_period_ms = __atomic_load_n(&tp->params.reap_period_ms, __ATOMIC_RELAXED);
	st->idle_ms = __atomic_load_n(&tp->params.idle_ms, __ATOMIC_RELAXED);
	return 0;
}

/*
 * The pool's blocks as the primary last left them (a whole snapshot, from any process): the
 * first @p max in @p out; gives how many there are in all.
 */
uint32_t
pool_blocks_snapshot(const struct tide_pool *tp, struct pool_blk *out, uint32_t max)
{
	uint32_t n, sn;

	do {
		sn = rte_seqlock_read_begin(&tp->blocks_sl);
		n = tp->nb_blocks;
		memcpy(out, tp->blocks, RTE_MIN(n, max) * sizeof(*out));
	} while (rte_seqlock_read_retry(&tp->blocks_sl, sn));
	return n;
}

/* Milliseconds from @p then to @p now; 0 unless @p then is before @p now (a stamp taken
 * by another thread just after @p now was read).
 */
static uint64_t
pool_ms_since(uint64_t now, uint64_t then)
{
	return now > then ? (now - then) / 1000000 : 0;
}

struct tide_pool_block
pool_blk_view(const struct pool_blk *b, uint64_t now)
{
	return (struct tide_pool_block){
		.id = b->id,
		.bytes = b->bytes,
		.node = b->node,
		.off_node = b->off_node,
		.age_ms = pool_ms_since(now, b->born_ns),
		.idle_ms = pool_ms_since(now, b->last_busy_ns),
	};
}

/* Pinned, as tide_pool_stats_get(). */
int
tide_pool_block_list(const struct rte_mempool *mp, struct tide_pool_block *blk,
	unsigned int max)
{
	struct tide_pool *tp;
	struct pool_blk *snap;
	uint64_t now = pool_now_ns();
	uint32_t *pin = NULL;
	int ret;

	tp = mp == NULL || (blk == NULL && max > 0) ? NULL : pool_dir_pin(mp, NULL, &pin);
	if (tp == NULL)
		return POOL_REFUSE(ERR, EINVAL, "%p is not an elastic pool, or blk is NULL",
			(const void *)mp);
	TIDE_FAULT_HOLD(TIDE_HOLD_POOL_STATS_READ); /* tests: the pool's free comes meanwhile */
	snap = malloc(RTE_MAX(tp->cap_blocks, 1u) * sizeof(*snap));
	if (snap == NULL) {
		ret = POOL_REFUSE(ERR, ENOMEM, "%s: no memory for a snapshot of %u blocks",
			tp->name, tp->cap_blocks);
		goto out;
	}
	ret = (int)RTE_MIN(pool_blocks_snapshot(tp, snap, tp->cap_blocks), tp->cap_blocks);
	for (int i = 0; i < ret && (unsigned int)i < max; i++)
		blk[i] = pool_blk_view(&snap[i], now);
	free(snap);
out:
	pool_dir_unpin(pin);
	return ret;
}
