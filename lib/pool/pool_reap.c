/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The reaper's mechanism: sample every block through the driver (was any object of it out
 * since the last sample?), let the reap policy decide, and remove the newest blocks it
 * names. The driver removes a block only if, under the lock every allocation takes, all
 * its objects are free and none was out since the sample: an allocation racing with the
 * reaper wins, and the block stays. Nor does the reaper take the pool's free objects
 * under the growth target, which would only make the control thread grow again, nor under
 * what the head waiter needs. Callers hold the pool's grow lock.
 */

#include <string.h>

#include "pool_private.h"
#include "tide_mempool.h"

/* Refresh each block's last-busy time and build the policy's view. */
static int
reap_sample(struct tide_pool *tp, uint64_t now)
{
	int ret = 0;

	rte_seqlock_write_lock(&tp->blocks_sl);
	for (uint32_t i = 0; i < tp->nb_blocks; i++) {
		struct tide_mempool_block_info *bi = &tp->block_info[i];
		struct pool_blk *b = &tp->blocks[i];

		if (tide_mempool_block_sample(tp->mp, i, bi) != 0 || bi->id != b->id) {
			POOL_LOG(ERR, "%s: block %u is not the driver's block %u", tp->name,
				(unsigned int)b->id, i);
			ret = -EIO;
			break;
		}
		if (bi->nb_low < bi->nb_objs)
			b->last_busy_ns = now;
		/* Its free count fell below the last sample's: something was taken from it. */
		if (bi->nb_low < b->prev_free)
			b->last_alloc_ns = now;
		b->prev_free = bi->nb_free;
		tp->reap_view[i] = (struct tide_reap_block){
			.all_free = bi->nb_free == bi->nb_objs,
			.last_busy_ns = b->last_busy_ns,
			.last_alloc_ns = b->last_alloc_ns,
		};
	}
	rte_seqlock_write_unlock(&tp->blocks_sl);
	return ret;
}

/*
 * Release the newest block: -EBUSY when an allocation got there first, -ENOSPC when the
 * free objects left would fall under the growth target (the control thread would only
 * grow the block back) or under what the head waiter needs (it waits for them).
 */
static int
reap_newest(struct tide_pool *tp)
{
	struct pool_blk *b = &tp->blocks[tp->nb_blocks - 1];
	struct tide_mempool_block_info bi;
	struct tide_mempool_stats st;
	uint64_t keep;
	int ret;

	if (tide_mempool_block_info(tp->mp, tp->nb_blocks - 1, &bi) != 0 ||
			tide_mempool_stats_get(tp->mp, &st) != 0)
		return -EIO;
	keep = RTE_MAX(__atomic_load_n(&tp->target_free, __ATOMIC_RELAXED),
		pool_waiters_demand(tp));
	if (st.nb_free < bi.nb_objs + keep)
		return -ENOSPC;
	ret = tide_mempool_pvt_block_remove(tp->mp, b->id, TIDE_MEMPOOL_RM_UNTOUCHED);
	if (ret == -EAGAIN) {
		/* A block event callback cannot let it go yet: the next period tries again. */
		__atomic_fetch_add(&tp->reap_vetoes, 1, __ATOMIC_RELAXED);
		POOL_LOG(DEBUG, "%s: block %" PRIu64 " kept: its removal was vetoed", tp->name,
			b->id);
	}
	if (ret < 0)
		return ret;
	/* The driver freed the memzone: its hugepages are back with the OS. */
	pool_wall_give(tp->wall, b->bytes);
	pool_mem_back();
	/* Blocks and bytes change together: a stats reader sees both or neither. */
	rte_seqlock_write_lock(&tp->blocks_sl);
	__atomic_store_n(&tp->bytes, tp->bytes - b->bytes, __ATOMIC_RELEASE);
	tp->nb_blocks--;
	rte_seqlock_write_unlock(&tp->blocks_sl);
	__atomic_fetch_add(&tp->reaps, 1, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Rank block p as old (position 1, just above the base), in the driver and here: the
 * policy found it keeps the idle blocks above it for a few long-held objects.
 */
static int
reap_demote(struct tide_pool *tp, uint32_t p)
{
	struct tide_reap_block v = tp->reap_view[p];
	struct tide_mempool_block_info bi = tp->block_info[p];
	struct pool_blk b = tp->blocks[p];
	int ret;

	ret = tide_mempool_pvt_block_move(tp->mp, b.id, 1);
	if (ret < 0)
		return ret;
	rte_seqlock_write_lock(&tp->blocks_sl);
	memmove(&tp->blocks[2], &tp->blocks[1], (p - 1) * sizeof(b));
	memmove(&tp->reap_view[2], &tp->reap_view[1], (p - 1) * sizeof(v));
	memmove(&tp->block_info[2], &tp->block_info[1], (p - 1) * sizeof(bi));
	tp->blocks[1] = b;
	tp->reap_view[1] = v;
	tp->block_info[1] = bi;
	rte_seqlock_write_unlock(&tp->blocks_sl);
	__atomic_fetch_add(&tp->demotes, 1, __ATOMIC_RELAXED);
	POOL_LOG(DEBUG, "%s: block %" PRIu64 " ranked as old (%u objects held long)", tp->name,
		b.id, bi.nb_objs - bi.nb_free);
	return 0;
}

int
pool_reap_locked(struct tide_pool *tp, uint64_t now)
{
	uint32_t k, p;
	int ret, done = 0;

	ret = reap_sample(tp, now);
	if (ret < 0)
		return pool_error(-ret);
	k = tide_reap_decide(tp->reap_view, tp->nb_blocks, now, tp->idle_ns, POOL_REAP_MAX);
	if (k == 0) {
		p = tide_reap_demote(tp->reap_view, tp->nb_blocks, now, tp->idle_ns);
		if (p != 0 && reap_demote(tp, p) == 0)
			k = tide_reap_decide(tp->reap_view, tp->nb_blocks, now, tp->idle_ns,
				POOL_REAP_MAX);
	}
	while (done < (int)k && reap_newest(tp) == 0)
		done++;
	pool_cache_drain(tp, tp->block_info, tp->nb_blocks);
	if (done > 0)
		POOL_LOG(DEBUG, "%s: released %d block(s), holding %" PRIu64 " bytes", tp->name,
			done, tp->bytes);
	return done;
}
